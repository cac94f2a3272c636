step "a" {
  uses    = "exec"
  command = ["echo", each.key] # ERROR: each outside for_each
}
