# The gates of this playbook, as rokflow approve lists them without inputs
# (gates_test.go): a for_each over a variable is known only at run time, a
# literal one is the same in every run.

variable "keys" {
  type = list(string)
}

variable "nodes" {
  type = list(string)
}

step "gate" {
  uses         = "manual"
  for_each     = var.keys
  instructions = "Check ${each.key}."
}

step "fixed" {
  uses         = "manual"
  for_each     = ["b", "a"]
  instructions = "Check ${each.key}."
}

step "work" {
  uses    = "exec"
  command = ["true"]
}

group "g" {
  for_each = var.nodes

  module "node" {
    source = "./node"
    name   = each.key

    hook "after_swap" {
      step "confirm" {
        uses         = "manual"
        instructions = "Confirm ${each.key} is back."
      }
    }
  }
}
