# Connection values are typed and checked as soon as they are known; a
# value from a variable is checked with the variable's value.
variable "transport" {
  type    = string
  default = "shh"
}

connection "nodes" {
  transport = var.transport # ERROR: Invalid transport
  port      = "twenty-two"  # ERROR: Incorrect attribute value type
  sudo      = "yes"         # ERROR: Incorrect attribute value type
}

connection "hosts" {
  port = 70000 # ERROR: Invalid port
}

# Optional settings passed through as null take their defaults.
variable "optional" {
  type = object({
    transport = optional(string)
    port      = optional(number)
    user      = optional(string)
  })
  default = {}
}

connection "defaults" {
  transport = var.optional.transport
  port      = var.optional.port
  user      = var.optional.user
}

step "members" {
  uses       = "rok.member_list"
  on         = "rok1.prod"
  connection = connection.defaults
}
