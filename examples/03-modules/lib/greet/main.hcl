# A module is a directory of blocks with inputs (variables) and outputs.

variable "who" {
  type = string
}

variable "times" {
  type    = number
  default = 1
}

step "greet" {
  uses    = "exec"
  command = ["echo", "hello", var.who, "x${var.times}"]
}

output "greeting" {
  value = step.greet.outputs.stdout
}
