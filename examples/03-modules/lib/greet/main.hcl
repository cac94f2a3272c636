# A module is a directory of blocks with inputs (variables) and outputs,
# and hooks: places where its caller may put steps of its own.

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

# Between the greeting and the farewell, the caller may add steps.
hook "chat" {
  description = "After the greeting, before the farewell."
  depends_on  = [step.greet]
}

step "bye" {
  uses       = "exec"
  command    = ["echo", "bye", var.who]
  depends_on = [hook.chat]
}

output "greeting" {
  value = step.greet.outputs.stdout
}
