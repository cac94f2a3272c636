step "a" {
  uses    = "exec"
  command = ["true"]
  timeout = "soon" # ERROR: Invalid timeout
}
