# Planned once element after element and once in shares side by side:
# both plans must be the same (see TestPlanSharesMatchSequential).
playbook {
  name = "parallel"
}

variable "nodes" {
  type = list(string)
}

connection "nodes" {
  transport = "ssh"
}

step "discover" {
  uses    = "exec"
  command = ["hostname"]
}

step "per_node" {
  uses       = "exec"
  for_each   = toset(var.nodes)
  on         = each.value
  connection = connection.nodes
  when       = each.key != "node-9"
  command    = each.key == "node-11" ? [] : ["echo", each.key, step.discover.outputs.stdout]
}

group "g" {
  for_each   = var.nodes
  depends_on = [step.discover]

  rolling {
    batch = 7
  }

  step "a" {
    uses       = "exec"
    on         = each.value
    connection = connection.nodes
    command    = ["echo", each.key, step.discover.outputs.stdout]
  }

  step "b" {
    uses       = "exec"
    on         = each.value
    connection = connection.nodes
    when       = each.value != "node-3"
    depends_on = [step.a]
    command    = ["echo", each.value]
  }

  module "m" {
    source = "./mod"
    node   = each.value
  }

  step "c" {
    uses       = "exec"
    on         = each.value
    connection = connection.nodes
    command    = each.value == "node-5" ? [] : ["echo", step.a.outputs.stdout, module.m.said]
  }
}

step "after" {
  uses    = "exec"
  command = ["echo", "${length(group.g)} nodes", group.g["node-1"].a.outputs.stdout, step.per_node["node-2"].outputs.stdout]
}
