variable "n" {
  default = 1
}

step "a" {
  uses    = "exec"
  command = ["true"]

  precondition {
    condition     = var.n > 2 # ERROR: Precondition failed
    error_message = "n must be above 2."
  }
}
