variable "platform" { # ERROR: Invalid value for variable
  default = "vms"

  validation {
    condition     = contains(["appliance", "ganeti"], var.platform)
    error_message = "The platform must be appliance or ganeti."
  }
}
