step "a" {
  uses    = "exec"
  command = "true" # ERROR: Incorrect attribute value type
}
