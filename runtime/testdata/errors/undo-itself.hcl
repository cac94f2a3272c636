# A step cannot be its own undo: it would run again to "reverse" itself.
step "pin" {
  uses    = "exec"
  command = ["echo", "pin"]
  undo    = step.pin # ERROR: Step undoes itself
}

group "nodes" {
  for_each = ["a", "b"]

  step "drain" {
    uses    = "exec"
    command = ["echo", "drain", each.key]

    undo {
      step   = step.drain # ERROR: Step undoes itself
      when   = true
      reason = "never"
    }
  }
}
