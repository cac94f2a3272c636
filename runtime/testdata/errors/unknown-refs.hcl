variable "node" {
  type    = string
  default = "a"
}

step "a" {
  uses    = "exec"
  command = ["echo", var.nod] # ERROR: Reference to undeclared input variable
}

step "b" {
  uses    = "exec"
  command = ["echo", step.c.outputs.stdout] # ERROR: Reference to undeclared step
}

step "d" {
  uses    = "exec"
  command = ["echo", local.x] # ERROR: Reference to undeclared local value
}

step "e" {
  uses    = "exec"
  command = ["echo", nodes.y] # ERROR: Unknown reference
}
