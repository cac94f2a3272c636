variable "node" {
  type = string
}

connection "node" {
  transport = "ssh"
  user      = "u-${var.node}"
}

step "say" {
  uses       = "exec"
  on         = var.node
  connection = connection.node
  command    = ["echo", "hello", var.node]
}

step "per" {
  uses       = "exec"
  on         = var.node
  connection = connection.node
  for_each   = ["x", "y"]
  command    = ["echo", each.value, var.node]
}

output "said" {
  value = step.say.outputs.stdout
}
