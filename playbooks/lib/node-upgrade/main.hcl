# node-upgrade: bring one Rok appliance node to a new release, any release.
#
# The new BOOT disk arrives first: an operator swaps it, at a gate whose
# completion check sees the node answer with a rok-base of the new
# release. Then upgrade-cluster (on the master only) and upgrade-node,
# both from the release's own script, rok-cluster-upgrade-v<release>.
# (RokE appliances on Ganeti are re-imaged instead: ../ganeti-host runs
# the same procedure, with the same hooks, around the re-image.)
#
# What a release needs beyond that goes into the module's hooks: fill one
# with `hook "NAME" { step "…" { … } }` in the module call. The steps are
# the caller's (its variables, locals, connections and each), run at the
# hook's place for this node.
#
#   after_boot           The node runs the new BOOT disk and answers on the
#                        new release; nothing else has run on it yet. For
#                        what the new release's daemons need before they
#                        can start: configuration they read in a new form
#                        (endpoints in a new syntax, a new map format),
#                        then a restart.
#   before_upgrade_node  After upgrade-cluster (on the master; on a slave
#                        right after after_boot), before upgrade-node: for
#                        what needs the cluster's shared state upgraded.
#   after_upgrade_node   upgrade-node succeeded: the node runs the new
#                        release. For per-node checks or changes; the
#                        module, and so the next node of a rolling group,
#                        waits for them.
#
# Nothing here names a release: release is an input (a playbook passes its
# own, playbook.to), and the check that the new BOOT disk is in derives
# from its series: for 1.2.0 it accepts rok-base 1.2.0-1, 1.2.3-1 and the
# pre-release 1.2~rc1, not 1.20 or 1.1.

variable "node" {
  type        = string
  description = "Member name of the node, <hostname>.<cluster> as rok-cluster-ctl member-list shows it."
}

variable "release" {
  type        = string
  description = "The release to upgrade to, such as 1.2.0 (a playbook passes playbook.to); selects rok-cluster-upgrade-v<release>."

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+(\\.[0-9]+)*$", var.release))
    error_message = "The release must be a release number such as 1.2.0, without a leading v."
  }
}

variable "upgrade_cluster" {
  type        = bool
  default     = false
  description = "Run upgrade-cluster before upgrade-node. Only for the master, and only once per cluster."
}

variable "version_pattern" {
  type        = string
  default     = null
  nullable    = true
  description = "Regular expression the rok-base package version must match once the node runs the new BOOT disk; by default the release's series: ^1\\.2([.~+-]|$) for 1.2.0."
}

variable "check_interval" {
  type        = string
  default     = "10s"
  description = "How often the BOOT-disk gate checks whether the node is back on the new release."
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

locals {
  # The release series (1.2 for 1.2.0): a BOOT disk of 1.2~rc1 belongs to
  # it, though dpkg sorts it before 1.2.0.
  series          = join(".", slice(split(".", var.release), 0, 2))
  version_pattern = var.version_pattern != null ? var.version_pattern : "^${replace(local.series, ".", "\\.")}([.~+-]|$)"
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
  on          = var.node
  connection  = connection.node

  instructions = <<-EOT
    Power off ${var.node}, replace its BOOT disk with the Rok ${var.release} appliance image, and power it on.
    The gate completes by itself once the node answers with rok-base matching ${local.version_pattern}.
  EOT

  check {
    command       = ["dpkg-query", "--show", "--showformat=$${Version}", "rok-base"]
    expect_stdout = local.version_pattern
    interval      = var.check_interval
    timeout       = "2h"
  }
}

hook "after_boot" {
  description = "The node runs the new BOOT disk; before anything else runs on it."
  depends_on  = [step.swap_boot_disk]
}

step "upgrade_cluster" {
  uses        = "rok.upgrade_cluster"
  description = "Upgrade the cluster's shared state; on the master only."
  when        = var.upgrade_cluster
  on          = var.node
  connection  = connection.node
  depends_on  = [hook.after_boot]

  release = var.release
}

hook "before_upgrade_node" {
  description = "The cluster's shared state is upgraded; upgrade-node has not run."
  depends_on  = [step.upgrade_cluster]
}

step "upgrade_node" {
  uses       = "rok.upgrade_node"
  on         = var.node
  connection = connection.node
  depends_on = [hook.before_upgrade_node]

  release = var.release
}

hook "after_upgrade_node" {
  description = "The node is upgraded."
  depends_on  = [step.upgrade_node]
}

output "node" {
  value = var.node
}

output "upgraded" {
  value = step.upgrade_node.outputs.stdout
}
