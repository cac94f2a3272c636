# ganeti-host: upgrade one Ganeti host under RokE and the RokE appliance
# it runs, to any release.
#
# The guest instances leave the host, the RokE appliance instance is
# re-imaged with the new release (its new BOOT disk), the appliance is
# upgraded as ../node-upgrade upgrades a Rok appliance (upgrade-cluster on
# the master, upgrade-node), the host gets the new Rok packages, an
# operator confirms, and the guests come back. Once the evacuation
# succeeded, migrating back is owed: it is the evacuation's undo, run after
# a failure only while the host can still serve its guests (and the undo
# must be declared beside the evacuation, which is why this is one module
# and not an evacuate and a return around a node-upgrade call).
#
# Hooks: the appliance's are node-upgrade's, at the same places, so that a
# release fills them alike on appliances and on RokE; one more is the
# host's. Fill one with `hook "NAME" { step "…" { … } }` in the module
# call; the steps are the caller's, run at the hook's place.
#
#   after_boot           The appliance is re-imaged and answers on the new
#                        release; nothing else has run on it yet (as in
#                        node-upgrade).
#   before_upgrade_node  After upgrade-cluster (on the master), before
#                        upgrade-node (as in node-upgrade).
#   after_upgrade_node   The appliance is upgraded (as in node-upgrade).
#   after_host_packages  The host has the new Rok packages; its guests are
#                        still away. For the release's changes on the host
#                        (files whose endpoint syntax changed) before the
#                        operator lets the guests return.
#
# Nothing here names a release: release, rok_version and image_id are
# inputs.

variable "node" {
  type        = string
  description = "Member name of the RokE appliance, as member-list shows it."
}

variable "host" {
  type        = string
  description = "The Ganeti node (physical host) the appliance runs on."
}

variable "appliance" {
  type        = string
  description = "The Ganeti instance name of the RokE appliance."
}

variable "guests" {
  type        = list(string)
  description = "The guest instances whose primary node is the host, other than the appliance."
}

variable "release" {
  type        = string
  description = "The release the host and its appliance are upgraded to, such as 1.2.0 (a playbook passes playbook.to)."

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+(\\.[0-9]+)*$", var.release))
    error_message = "The release must be a release number such as 1.2.0, without a leading v."
  }
}

variable "upgrade_cluster" {
  type        = bool
  default     = false
  description = "This appliance is the RokE master: run upgrade-cluster on it."
}

variable "version_pattern" {
  type        = string
  default     = null
  nullable    = true
  description = "Regular expression the appliance's rok-base version matches once it is re-imaged; by default the release's series, as in node-upgrade."
}

variable "check_interval" {
  type        = string
  default     = "10s"
  description = "How often to check whether the re-imaged appliance is back on the new release."
}

variable "rok_version" {
  type        = string
  description = "The Debian version of the RokE image and of the host's Rok packages (the release's image, such as 1.2.0-1)."
}

variable "os" {
  type        = string
  default     = "snf-image+default"
  description = "The Ganeti OS definition that re-installs the appliance."
}

variable "image_id" {
  type        = string
  description = "The appliance image snf-image writes (img_id), such as roke-<rok_version>."
}

variable "roke_password" {
  type        = string
  sensitive   = true
  description = "The RokE appliance's root password, given to the image (img_passwd)."
}

variable "rapi" {
  type = object({
    host                 = string
    port                 = optional(number, 5080)
    user                 = optional(string)
    password             = optional(string)
    ca_file              = optional(string)
    pinned_sha256        = optional(string)
    insecure_skip_verify = optional(bool, false)
  })
  description = "The Ganeti RAPI endpoint and its credentials; the password should come from a sensitive variable."
}

variable "appliance_connection" {
  type = object({
    transport     = string
    user          = optional(string, "root")
    port          = optional(number, 22)
    identity_file = optional(string)
    known_hosts   = optional(string)
    addresses     = optional(map(string), {})
  })
}

variable "host_connection" {
  type = object({
    transport     = string
    user          = optional(string, "root")
    port          = optional(number, 22)
    identity_file = optional(string)
    known_hosts   = optional(string)
    addresses     = optional(map(string), {})
  })
}

connection "appliance" {
  transport     = var.appliance_connection.transport
  user          = var.appliance_connection.user
  port          = var.appliance_connection.port
  identity_file = var.appliance_connection.identity_file
  known_hosts   = var.appliance_connection.known_hosts
  addresses     = var.appliance_connection.addresses
}

connection "host" {
  transport     = var.host_connection.transport
  user          = var.host_connection.user
  port          = var.host_connection.port
  identity_file = var.host_connection.identity_file
  known_hosts   = var.host_connection.known_hosts
  addresses     = var.host_connection.addresses
}

# The appliance as the Rok cluster sees it: read as the host's upgrade
# begins, and read again after a failure to decide whether the guests may
# come back.
step "appliance_state" {
  uses        = "rok.member_list"
  description = "Whether the RokE appliance is online, and on which release."
  on          = var.node
  connection  = connection.appliance
  timeout     = "2m"
}

locals {
  # The release series being installed (1.2 for 1.2.0): an image such as
  # 1.2~rc1 belongs to it, though dpkg sorts it before 1.2.0.
  series          = join(".", slice(split(".", var.release), 0, 2))
  version_pattern = var.version_pattern != null ? var.version_pattern : "^${replace(local.series, ".", "\\.")}([.~+-]|$)"
}

step "evacuate" {
  uses        = "ganeti.instance_migrate"
  description = "Move the guests off the host so the appliance can be re-imaged."
  for_each    = var.guests

  # A guest reaches its disks through the host's RokE appliance. After a
  # failure, guests go back only while the appliance is online and not yet
  # re-imaged (the host's Rok packages and endpoints still match it);
  # otherwise they would stall, and migrating them back stays owed.
  undo {
    step   = step.migrate_back
    when   = length([for m in step.appliance_state.outputs.members : m if m.name == var.node && m.state == "online" && !release_at_least(release(m.version), local.series)]) == 1
    reason = "the RokE appliance ${var.appliance} on ${var.host} is ${join(", ", [for m in step.appliance_state.outputs.members : "${m.state} on Rok ${m.version}" if m.name == var.node])}, so the host cannot serve guests until its upgrade is finished: they stay where the evacuation put them"
  }

  rapi           = var.rapi
  instance       = each.value
  mode           = "live"
  allow_failover = false
}

step "reinstall" {
  uses        = "ganeti.instance_reinstall"
  description = "Re-install the RokE appliance with the new image: its new BOOT disk."
  depends_on  = [step.evacuate]

  rapi     = var.rapi
  instance = var.appliance
  os       = var.os
  start    = true
  osparams = {
    img_id         = var.image_id
    img_format     = "diskdump"
    img_passwd     = var.roke_password
    img_properties = jsonencode({ ROK_VERSION = var.rok_version })
  }
}

step "wait_reinstalled" {
  uses        = "wait"
  description = "The re-imaged appliance is back and runs the new release."
  on          = var.node
  connection  = connection.appliance
  depends_on  = [step.reinstall]
  timeout     = "30m"

  command       = ["dpkg-query", "--show", "--showformat=$${Version}", "rok-base"]
  expect_stdout = local.version_pattern
  interval      = var.check_interval
}

hook "after_boot" {
  description = "The appliance runs the new image; before anything else runs on it."
  depends_on  = [step.wait_reinstalled]
}

step "upgrade_cluster" {
  uses        = "rok.upgrade_cluster"
  description = "Upgrade the cluster's shared state; on the RokE master only."
  when        = var.upgrade_cluster
  on          = var.node
  connection  = connection.appliance
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
  connection = connection.appliance
  depends_on = [hook.before_upgrade_node]

  release = var.release
}

hook "after_upgrade_node" {
  description = "The appliance is upgraded."
  depends_on  = [step.upgrade_node]
}

step "packages" {
  uses        = "apt"
  description = "The host's Rok packages must match the appliance so guests can connect."
  on          = var.host
  connection  = connection.host
  depends_on  = [hook.after_upgrade_node]

  packages     = ["rok-common", "rok-base"]
  dpkg_options = ["--force-confdef", "--force-confold"]
}

hook "after_host_packages" {
  description = "The host has the new Rok packages; its guests are still away."
  depends_on  = [step.packages]
}

step "confirm_return" {
  uses        = "manual"
  description = "The operator confirms before guests return to the host."
  depends_on  = [hook.after_host_packages]

  instructions = <<-EOT
    The RokE appliance ${var.appliance} and the host ${var.host} are upgraded.
    Check the host, then approve to migrate its guest instances back.
  EOT
}

step "migrate_back" {
  uses        = "ganeti.instance_migrate"
  description = "Bring the guests back to their upgraded host."
  for_each    = var.guests
  depends_on  = [step.confirm_return]

  rapi        = var.rapi
  instance    = each.value
  mode        = "live"
  target_node = var.host
}

output "host" {
  value = var.host
}
