# The playbook block and the inputs live in one file ...
playbook {
  name = "multi"
  from = "0.10"
  to   = "0.11.0"
}

variable "seed_node" {
  type = string
}
