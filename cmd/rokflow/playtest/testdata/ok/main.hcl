playbook {
  name = "ok"
  from = "0.10"
  to   = "0.11.0"
}

variable "gate_check_interval" {
  type    = string
  default = "1s"
}

variable "slave_max_failures" {
  type    = number
  default = 1
}
