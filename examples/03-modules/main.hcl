# Steps are shared between playbooks as modules: a local directory named by
# source, called with inputs, read through module.NAME.OUTPUT. A module can
# also run once per element of a group.

playbook {
  name        = "modules"
  description = "Reusing steps with modules."
}

module "first" {
  source = "./lib/greet"
  who    = "world"
}

group "team" {
  for_each   = ["ana", "bo"]
  depends_on = [module.first]

  module "hello" {
    source = "./lib/greet"
    who    = each.value
    times  = 2
  }
}

step "after" {
  uses    = "exec"
  command = ["echo", "first said:", module.first.greeting]
}
