variable "x" {
  default = 1
}

variable "x" { # ERROR: Duplicate variable
  default = 2
}

step "a" {
  uses    = "exec"
  command = ["true"]
}

step "a" { # ERROR: Duplicate step
  uses    = "exec"
  command = ["true"]
}
