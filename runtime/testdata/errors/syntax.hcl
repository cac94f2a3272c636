step "a" {
  uses = "exec"
  command = ["true"
} # ERROR: Missing item separator
