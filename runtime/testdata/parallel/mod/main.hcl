variable "node" {
  type = string
}

step "say" {
  uses    = "exec"
  on      = var.node
  command = ["echo", "hello", var.node]
}

step "per" {
  uses     = "exec"
  on       = var.node
  for_each = ["x", "y"]
  command  = ["echo", each.value, var.node]
}

output "said" {
  value = step.say.outputs.stdout
}
