step "a" {
  uses    = "exec"
  command = ["true"]
}

step "b" {
  uses    = "exec"
  command = ["echo", step.a.outputs.stdot] # ERROR: Unsupported attribute
}
