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
