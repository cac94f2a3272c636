playbook {
  name = "single"
}

step "hello" {
  uses    = "exec"
  command = ["echo", "hello"]
}
