step "a" {
  uses    = "exce" # ERROR: Unknown step kind
  command = ["true"]
}
