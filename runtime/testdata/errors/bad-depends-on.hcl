variable "x" {
  default = 1
}

step "a" {
  uses       = "exec"
  command    = ["true"]
  depends_on = [var.x] # ERROR: Invalid depends_on reference
}
