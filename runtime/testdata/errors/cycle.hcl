step "a" { # ERROR: Dependency cycle
  uses    = "exec"
  command = ["echo", step.b.outputs.stdout]
}

step "b" {
  uses       = "exec"
  command    = ["true"]
  depends_on = [step.a]
}
