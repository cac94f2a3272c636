# A manual step is a gate: the run waits for an operator (rokflow approve,
# or an answer on the terminal) or for its completion check to pass. A once
# step is never re-run after a crash without the operator's word. undo
# names the step that reverses a step once it succeeded; the run owes it
# if something later fails. An undo block may say when the undo is safe:
# until then a failed run holds it back, says why, and keeps it owed.

playbook {
  name        = "gates"
  description = "Gates, once-steps and paired compensation."
}

variable "node" {
  type    = string
  default = "local"
}

# A read-only step: after a failure it is read again before the undo's
# condition is evaluated.
step "release" {
  uses    = "wait"
  command = ["echo", "0.11"]
}

step "pin" {
  uses    = "exec"
  command = ["echo", "pin", var.node]

  undo {
    step   = step.unpin
    when   = trimspace(step.release.outputs.stdout) == "0.11"
    reason = "${var.node} runs ${trimspace(step.release.outputs.stdout)}, not 0.11 yet"
  }
}

step "swap_disk" {
  uses       = "manual"
  depends_on = [step.pin]

  instructions = <<-EOT
    Power off ${var.node}, replace its BOOT disk, and power it on.
  EOT

  check {
    command       = ["true"]
    expect_stdout = ""
    interval      = "5s"
    timeout       = "1h"
  }
}

step "migrate_schema" {
  uses       = "exec"
  once       = true
  command    = ["echo", "migrate the shared schema"]
  depends_on = [step.swap_disk]
}

step "unpin" {
  uses       = "exec"
  command    = ["echo", "unpin", var.node]
  depends_on = [step.migrate_schema]
}
