# ... the steps in another ...
step "members" {
  uses = "rok.member_list"
  on   = var.seed_node
}

group "slaves" {
  for_each   = ["a", "b"]
  depends_on = [step.members]

  step "upgrade" {
    uses = "exec"
    on   = each.value
  }
}
