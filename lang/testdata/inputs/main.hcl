# Variables of every shape BindInputs handles.

variable "name" {
  type = string
}

variable "replicas" {
  type    = number
  default = 3

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 7
    error_message = "Between 1 and 7 replicas."
  }
}

variable "enabled" {
  type    = bool
  default = false
}

variable "nodes" {
  type    = list(string)
  default = []
}

variable "labels" {
  type    = map(string)
  default = {}
}

variable "etcd" {
  type = object({
    endpoints = list(string)
    port      = optional(number, 2379)
  })
  default = {
    endpoints = ["https://rok1:2379"]
  }
}

variable "environment" {
  type    = string
  default = "production"

  validation {
    condition     = contains(["production", "staging"], var.environment)
    error_message = "The environment must be production or staging."
  }
}

variable "comment" {
  type     = string
  default  = "none"
  nullable = true
}

variable "owner" {
  type    = string
  default = "ops"
}

variable "password" {
  type      = string
  default   = "a-long-default-password"
  sensitive = true

  validation {
    condition     = length(var.password) >= 12
    error_message = "The password is too short."
  }
}

variable "token" {
  type      = string
  default   = "a-long-default-token"
  sensitive = true

  validation {
    condition     = length(var.token) >= 12
    error_message = "The token ${var.token} is too short."
  }

  validation {
    condition     = !startswith(var.token, "plain")
    error_message = "The token must not start with plain; got ${var.token}."
  }
}

variable "pin" {
  type      = number
  default   = 1234
  sensitive = true

  validation {
    condition     = var.pin > 999
    error_message = "The pin has four digits."
  }
}

variable "secrets" {
  type      = list(string)
  default   = []
  sensitive = true
}
