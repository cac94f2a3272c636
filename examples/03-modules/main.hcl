# Steps are shared between playbooks as modules: a local directory named by
# source, called with inputs, read through module.NAME.OUTPUT. A module can
# also run once per element of a group. Where a module declares a hook, its
# caller can put steps of its own in the middle of the module's: they are
# the caller's (its variables, locals, each), run at the hook's place.

playbook {
  name        = "modules"
  description = "Reusing steps with modules, and adding to them through hooks."
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

    # Runs after this element's greeting, before its farewell:
    # group.team["ana"].module.hello.hook.chat.step.ask
    hook "chat" {
      step "ask" {
        uses    = "exec"
        command = ["echo", "how are you, ${each.value}?"]
      }
    }
  }
}

step "after" {
  uses    = "exec"
  command = ["echo", "first said:", module.first.greeting]
}
