# A small playbook with every mark rokflow graph draws: a read-only
# discovery whose list is known only at run time (a deferred group), a
# gate, once-steps, a branch the plan skips, a conditional step, a module
# call with a hook, and element keys that DOT and Mermaid must escape.
# Many of its dependencies are implied by longer paths.

playbook {
  name = "graph \"demo\""
}

variable "platform" {
  type    = string
  default = "appliance"
}

step "discover" {
  uses    = "wait"
  command = ["echo", "node1 node2"]
}

step "pin" {
  uses       = "exec"
  command    = ["echo", "pin"]
  depends_on = [step.discover]
}

step "checks" {
  uses       = "exec"
  for_each   = toset(["a\"b\\c", "x#<y>&z`", "end", "café"])
  command    = ["echo", each.key]
  depends_on = [step.pin, step.discover]
}

step "ganeti_only" {
  uses       = "exec"
  when       = var.platform == "ganeti"
  command    = ["echo", "ganeti"]
  depends_on = [step.checks]
}

module "master" {
  source     = "./lib/node"
  node       = "master"
  depends_on = [step.ganeti_only, step.checks, step.pin]

  hook "after_swap" {
    step "rewrite" {
      uses    = "exec"
      command = ["echo", "rewrite the master"]
    }
  }
}

group "slaves" {
  for_each   = toset(split(" ", trimspace(step.discover.outputs.stdout)))
  depends_on = [module.master, step.pin]

  rolling {
    batch = 1
  }

  module "node" {
    source = "./lib/node"
    node   = each.value

    hook "after_swap" {
      step "rewrite" {
        uses    = "exec"
        command = ["echo", "rewrite", each.value]
      }
    }
  }
}

step "finish" {
  uses       = "exec"
  when       = trimspace(step.discover.outputs.stdout) != ""
  command    = ["echo", "done"]
  depends_on = [group.slaves, module.master, step.pin]
}
