# Which undo instance reverses which element must be clear when the playbook
# is compiled, never guessed when the run fails.
variable "guests" {
  type    = list(string)
  default = ["g1", "g2"]
}

variable "others" {
  type    = list(string)
  default = ["g3"]
}

step "evacuate" {
  uses     = "exec"
  for_each = var.guests
  command  = ["echo", "evacuate", each.key]
  undo     = step.migrate_back # ERROR: Undo over another collection
}

step "migrate_back" {
  uses     = "exec"
  for_each = var.others
  command  = ["echo", "migrate back", each.key]
}

step "pin" {
  uses    = "exec"
  command = ["echo", "pin"]
  undo    = step.migrate_back[each.key] # ERROR: each.key without for_each
}

step "pin_each" {
  uses     = "exec"
  for_each = var.guests
  command  = ["echo", "pin", each.key]
  undo     = step.unpin[*] # ERROR: Undo step has no for_each
}

step "unpin" {
  uses    = "exec"
  command = ["echo", "unpin"]
}

group "hosts" {
  for_each = ["h1"]

  step "stop" {
    uses    = "exec"
    command = ["echo", "stop", each.key]
    undo    = step.strat # ERROR: Unknown undo step
  }

  step "start" {
    uses    = "exec"
    command = ["echo", "start", each.key]
  }
}

step "cordon" {
  uses    = "exec"
  command = ["echo", "cordon"]

  undo {
    step   = step.unpin
    when   = step.prob.outputs.exit_code == 0 # ERROR: Reference to undeclared step
    reason = "the probe says no: ${self.outputs.stdout}" # ERROR: Invalid self reference
  }
}
