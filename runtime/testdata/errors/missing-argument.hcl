step "a" { # ERROR: Missing required argument
  uses = "exec"
}
