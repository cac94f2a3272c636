# A connection is evaluated once per module instance, for every step that
# uses it: it may refer only to variables and the playbook.
variable "user" {
  type    = string
  default = "root"
}

step "find" {
  uses    = "exec"
  command = ["hostname"]
}

connection "ssh" {
  transport = "ssh"
  user      = var.user
  port      = step.find.outputs.exit_status # ERROR: Invalid reference in a connection
}

group "g" {
  for_each = ["a", "b"]

  step "s" {
    uses       = "exec"
    on         = each.value
    connection = connection.ssh
    command    = ["true"]
  }
}
