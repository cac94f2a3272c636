# ganeti-cluster: where RokE runs on a Ganeti cluster, for an upgrade.
#
# Builds the RAPI object every Ganeti step of an upgrade takes, reads the
# cluster's instances, and finds each RokE appliance among them by its
# address (the member list's), the Ganeti host it runs on, and the guest
# instances that share that host: what ../ganeti-host takes per host.
#
# Called with enabled = false (a Rok appliance cluster), it reads nothing
# and every map is empty, so a playbook can call it unconditionally and
# choose its path with when.

variable "enabled" {
  type        = bool
  default     = true
  description = "RokE runs on this Ganeti cluster; false reads nothing (a Rok appliance cluster)."
}

variable "ganeti" {
  type = object({
    rapi_host     = string
    rapi_port     = optional(number, 5080)
    rapi_user     = string
    ca_file       = optional(string)
    pinned_sha256 = optional(string)
  })
  default     = null
  nullable    = true
  description = "The Ganeti RAPI: host, port, user, and how to trust its certificate (ca_file or pinned_sha256). Required when enabled."
}

variable "rapi_password" {
  type        = string
  default     = ""
  sensitive   = true
  description = "The RAPI user's password (RAPI_PASSWORD)."
}

variable "members" {
  type = list(object({
    name    = string
    address = string
  }))
  description = "The Rok cluster's members, as rok.member_list lists them (step.members.outputs.members): each RokE appliance is found by its address."
}

locals {
  rapi = var.enabled && var.ganeti != null ? {
    host          = var.ganeti.rapi_host
    port          = var.ganeti.rapi_port
    user          = var.ganeti.rapi_user
    password      = var.rapi_password
    ca_file       = var.ganeti.ca_file
    pinned_sha256 = var.ganeti.pinned_sha256
  } : null

  instances = var.enabled ? step.instances.outputs.instances : []
  # Each member's appliance instance: the one with the member's address.
  appliance = {
    for m in var.members : m.name => [for i in local.instances : i if contains(i.nic_ips, m.address)][0]
    if var.enabled
  }
  appliances = [for name, i in local.appliance : i.name]
  guests = {
    for name, i in local.appliance : name => [
      for g in local.instances : g.name if g.pnode == i.pnode && !contains(local.appliances, g.name)
    ]
  }
}

# Find the current RokE master and its IP address, and where every
# appliance and guest instance runs.
step "instances" {
  uses        = "ganeti.instances"
  description = "Where every RokE appliance and guest instance runs."
  when        = var.enabled

  rapi = local.rapi

  precondition {
    condition     = var.ganeti != null
    error_message = "RokE on Ganeti needs the Ganeti RAPI: set the ganeti variable (rapi_host, rapi_user, …)."
  }
}

output "rapi" {
  description = "The RAPI object the ganeti.* steps take (its password is sensitive); null when not enabled."
  value       = local.rapi
}

output "instances" {
  description = "Every instance of the Ganeti cluster (ganeti.instances)."
  value       = local.instances
}

output "appliance" {
  description = "Each member's RokE appliance instance (name, pnode, nic_ips, …), keyed by member name."
  value       = local.appliance
}

output "guests" {
  description = "For each member, the guest instances on its appliance's host, other than appliances."
  value       = local.guests
}
