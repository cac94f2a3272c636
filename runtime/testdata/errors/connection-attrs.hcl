# A connection block has a schema (rokflow steps connection): a misspelt
# attribute is an error with the nearest name, not a setting quietly
# ignored while the step runs elsewhere.
connection "nodes" {
  trasnport = "ssh"  # ERROR: Unsupported argument
  usr       = "root" # ERROR: Unsupported argument
}

step "members" {
  uses       = "rok.member_list"
  on         = "rok1.prod"
  connection = connection.nodes
}

# A kind that talks to a service has no host to connect to.
step "probe" {
  uses       = "http.get"
  url        = "https://rok1.prod/healthz"
  connection = connection.nodes # ERROR: Step kind has no target host
}
