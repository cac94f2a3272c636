# A group runs its steps once per element of a collection, in rolling
# batches: two nodes at a time here, stopping as soon as more than one node
# has failed. Inside the group, each.key and each.value name the element
# and step.NAME refers to the element's own steps.

playbook {
  name        = "rolling"
  description = "for_each and rolling groups."
}

variable "nodes" {
  type = map(string)
  default = {
    node1 = "10.0.0.11"
    node2 = "10.0.0.12"
    node3 = "10.0.0.13"
    node4 = "10.0.0.14"
    node5 = "10.0.0.15"
  }
}

step "preflight" {
  uses     = "exec"
  for_each = var.nodes
  command  = ["echo", "checking", each.key, each.value]
}

group "upgrade" {
  for_each   = var.nodes
  depends_on = [step.preflight]

  rolling {
    batch        = 2
    max_failures = 1
    pause        = "30s"
  }

  step "drain" {
    uses    = "exec"
    command = ["echo", "drain", each.key]
  }

  step "upgrade" {
    uses    = "exec"
    command = ["echo", "upgrade", each.key, "after", step.drain.outputs.stdout]

    retry {
      attempts = 3
      delay    = "10s"
    }
  }

  step "undrain" {
    uses       = "exec"
    command    = ["echo", "undrain", each.key]
    depends_on = [step.upgrade]
  }
}

step "report" {
  uses       = "exec"
  command    = ["echo", "all nodes upgraded"]
  depends_on = [group.upgrade]
}
