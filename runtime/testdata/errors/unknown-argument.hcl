step "a" {
  uses    = "exec"
  command = ["true"]
  comand  = ["x"] # ERROR: Unsupported argument
}
