variable "who" {
  type = string
}

variable "times" {
  type    = number
  default = 1
}

step "greet" {
  uses = "exec"
}

output "greeting" {
  value = step.greet.outputs.stdout
}
