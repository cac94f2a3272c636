# A step runs only where its on and its connection say, never on this
# machine in another host's place.
connection "ssh" {
  transport = "ssh"
}

connection "here" {
  transport = "local"
}

step "no_connection" {
  uses    = "exec"
  on      = "db1" # ERROR: Remote target without a connection
  command = ["true"]
}

step "local_for_remote" {
  uses       = "exec"
  on         = "db2"
  connection = connection.here # ERROR: Local connection for a remote target
  command    = ["true"]
}

step "ssh_without_host" {
  uses       = "exec"
  connection = connection.ssh # ERROR: SSH connection without a host
  command    = ["true"]
}

# This machine: no on, "local", "localhost" and loopback addresses run
# here without a connection or with transport "local"; "localhost" over
# SSH is a login to this machine, as asked.
step "here_by_default" {
  uses    = "exec"
  command = ["true"]
}

step "here_by_name" {
  for_each   = toset(["local", "localhost", "127.0.0.1", "::1"])
  uses       = "exec"
  on         = each.value
  connection = connection.here
  command    = ["true"]
}

step "loopback_without_connection" {
  uses    = "exec"
  on      = "127.0.0.2"
  command = ["true"]
}

step "this_machine_over_ssh" {
  uses       = "exec"
  on         = "localhost"
  connection = connection.ssh
  command    = ["true"]
}

step "remote_over_ssh" {
  uses       = "exec"
  on         = "db3"
  connection = connection.ssh
  command    = ["true"]
}

# A kind without a host is not checked for one.
step "service" {
  uses = "http.get"
  url  = "https://db1/healthz"
}
