variable "pw" {
  default   = "hunter2"
  sensitive = true
}

step "a" {
  uses     = "exec"
  for_each = [var.pw, "x"] # ERROR: Sensitive for_each
  command  = ["true"]
}

step "b" {
  uses    = "exec"
  command = ["true", tonumber(var.pw)] # ERROR: Invalid function argument
}
