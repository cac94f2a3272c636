variable "node" {
  type = string
}

step "upgrade" {
  uses = "exec"
  on   = var.node
}
