# No playbook block: the playbook is named after its directory.
step "only" {
  uses = "exec"
}
