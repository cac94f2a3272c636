step "a" {
  uses    = "exec"
  command = ["echo", self.outputs.stdout] # ERROR: Invalid self reference
}
