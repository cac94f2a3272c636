playbook {
  name = "errors"
  from = "0.10"
  to   = "0.11.0"
}

variable "gate_check_interval" {
  type    = string
  default = "1s"
}
