variable "name" {
  type = string
}

step "other" {
  uses    = "exec"
  command = ["echo", var.name]
}

step "swap" {
  uses         = "manual"
  instructions = "Swap the disk of ${var.name}."
  depends_on   = [step.other]
}

# A caller's steps come after the swap.
hook "after_swap" {
  depends_on = [step.swap]
}
