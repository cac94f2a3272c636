step "a" {
  uses     = "exec"
  for_each = 3 # ERROR: Invalid for_each collection
  command  = ["true"]
}
