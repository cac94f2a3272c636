# node-upgrade: bring one Rok appliance node to a new release.
#
# The BOOT disk swap comes first (an operator gate whose completion check
# sees the node back on the new release, or, on Ganeti, a reinstall done by
# the caller), then the OpenStore endpoints are rewritten for the new
# daemons, then upgrade-cluster (master only) and upgrade-node.

variable "node" {
  type        = string
  description = "Member name of the node, <hostname>.<cluster> as rok-cluster-ctl member-list shows it."
}

variable "release" {
  type        = string
  default     = "0.11.0"
  description = "The release to upgrade to; selects rok-cluster-upgrade-v<release>."
}

variable "upgrade_cluster" {
  type        = bool
  default     = false
  description = "Run upgrade-cluster before upgrade-node. Only for the master, and only once per cluster."
}

variable "boot_disk" {
  type        = string
  default     = "manual"
  description = "How the new BOOT disk arrives: \"manual\" (an operator swaps it) or \"reinstalled\" (the caller re-imaged the node, as on Ganeti)."

  validation {
    condition     = contains(["manual", "reinstalled"], var.boot_disk)
    error_message = "The boot_disk must be \"manual\" or \"reinstalled\"."
  }
}

variable "version_pattern" {
  type        = string
  default     = "^0\\.11"
  description = "Regular expression the rok-base package version must match once the node runs the new BOOT disk."
}

variable "check_interval" {
  type        = string
  default     = "10s"
  description = "How often the BOOT-disk gate checks whether the node is back on the new release."
}

variable "env_files" {
  type        = list(string)
  default     = []
  description = "Environment files holding OpenStore endpoints (OPENSTORE_CONTROLLER=…) to rewrite beside /etc/rok/daemons.conf."
}

variable "connection" {
  type = object({
    transport     = string
    user          = optional(string, "root")
    port          = optional(number, 22)
    identity_file = optional(string)
    known_hosts   = optional(string)
    addresses     = optional(map(string), {})
  })
  description = "How to reach the node."
}

connection "node" {
  transport     = var.connection.transport
  user          = var.connection.user
  port          = var.connection.port
  identity_file = var.connection.identity_file
  known_hosts   = var.connection.known_hosts
  addresses     = var.connection.addresses
}

step "swap_boot_disk" {
  uses        = "manual"
  description = "The new appliance image is on the BOOT disk."
  when        = var.boot_disk == "manual"
  on          = var.node
  connection  = connection.node

  instructions = <<-EOT
    Power off ${var.node}, replace its BOOT disk with the Rok ${var.release} appliance image, and power it on.
    The gate completes by itself once the node answers with rok-base matching ${var.version_pattern}.
  EOT

  check {
    command       = ["dpkg-query", "--show", "--showformat=$${Version}", "rok-base"]
    expect_stdout = var.version_pattern
    interval      = var.check_interval
    timeout       = "2h"
  }
}

step "wait_reinstalled" {
  uses        = "wait"
  description = "The re-imaged node is back and runs the new release."
  when        = var.boot_disk == "reinstalled"
  on          = var.node
  connection  = connection.node

  command       = ["dpkg-query", "--show", "--showformat=$${Version}", "rok-base"]
  expect_stdout = var.version_pattern
  interval      = var.check_interval
  timeout       = "30m"
}

step "openstore_endpoints" {
  uses        = "rok.openstore_endpoints"
  description = "v0.11 daemons take http:// endpoints with roles; --bind-http became --controller-listen role=slave."
  on          = var.node
  connection  = connection.node
  depends_on  = [step.swap_boot_disk, step.wait_reinstalled]

  env_files = var.env_files
}

step "upgrade_cluster" {
  uses        = "rok.upgrade_cluster"
  description = "Upgrade the cluster's shared state; on the master only."
  when        = var.upgrade_cluster
  on          = var.node
  connection  = connection.node
  depends_on  = [step.openstore_endpoints]

  release = var.release
}

step "upgrade_node" {
  uses       = "rok.upgrade_node"
  on         = var.node
  connection = connection.node
  depends_on = [step.upgrade_cluster]

  release = var.release
}

output "node" {
  value = var.node
}

output "upgraded" {
  value = step.upgrade_node.outputs.stdout
}
