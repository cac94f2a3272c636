# Variables have types, defaults and validation rules. Give values with
# --var, --var-file or ROKFLOW_VAR_<name>:
#
#   rokflow plan examples/01-variables --var environment=staging
#
# A sensitive value is shown as (sensitive) in plans, events and errors,
# and so is everything computed from it.

playbook {
  name        = "variables"
  description = "Typed inputs, validation, locals and sensitive values."
}

variable "environment" {
  type        = string
  default     = "production"
  description = "Where this runs."

  validation {
    condition     = contains(["production", "staging"], var.environment)
    error_message = "The environment must be production or staging."
  }
}

variable "replicas" {
  type    = number
  default = 3

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 7
    error_message = "Between 1 and 7 replicas."
  }
}

variable "api_token" {
  type      = string
  default   = "change-me"
  sensitive = true
}

locals {
  banner = "${upper(var.environment)} with ${var.replicas} replicas"
}

step "announce" {
  uses    = "exec"
  command = ["echo", local.banner]
}

step "call_api" {
  uses        = "exec"
  description = "The token is passed in the environment and masked in the plan."
  command     = ["printenv", "API_TOKEN"]
  env = {
    API_TOKEN = var.api_token
  }
  depends_on = [step.announce]
}

output "banner" {
  value = local.banner
}
