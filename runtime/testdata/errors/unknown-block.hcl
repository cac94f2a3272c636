stpe "a" { # ERROR: Unsupported block type
  uses = "exec"
}
