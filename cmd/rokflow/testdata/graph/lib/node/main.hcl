# One node's upgrade: a gate for the BOOT disk swap, the caller's steps,
# then the upgrade, which must not run twice.

variable "node" {
  type = string
}

step "swap" {
  uses         = "manual"
  instructions = "Swap the BOOT disk of ${var.node}."
}

hook "after_swap" {
  depends_on = [step.swap]
}

step "upgrade" {
  uses       = "exec"
  once       = true
  command    = ["echo", "upgrade", var.node]
  depends_on = [hook.after_swap, step.swap]
}
