# ganeti-host: upgrade one RokE appliance and the Ganeti host it runs on.
#
# The guest instances leave the host, the RokE appliance instance is
# re-imaged with the new release (its new BOOT disk), the appliance is
# upgraded like any node, the host gets the new Rok packages and http://
# endpoints, an operator confirms, and the guests come back. Once the
# evacuation succeeded, migrating back is owed: it is the evacuation's undo,
# run after a failure only while the host can still serve its guests.

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

variable "upgrade_cluster" {
  type        = bool
  default     = false
  description = "This appliance is the RokE master: run upgrade-cluster on it."
}

variable "release" {
  type    = string
  default = "0.11.0"
}

variable "rok_version" {
  type        = string
  description = "The Debian version of the RokE image and host packages, such as 0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b."
}

variable "os" {
  type        = string
  default     = "snf-image+default"
  description = "The Ganeti OS definition that re-installs the appliance."
}

variable "image_id" {
  type        = string
  description = "The appliance image snf-image writes (img_id)."
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

variable "check_interval" {
  type    = string
  default = "10s"
}

variable "env_files" {
  type    = list(string)
  default = []
}

variable "host_files" {
  type        = list(string)
  default     = ["/usr/bin/*kvm*", "/etc/ganeti/rok/rok.conf", "/etc/default/snf-image"]
  description = "Files on the host whose OpenStore endpoints change from tcp: to http:."
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
  # The release series being installed (0.11 for 0.11.0): an image such as
  # 0.11~rc1 belongs to it, though dpkg sorts it before 0.11.0.
  series = join(".", slice(split(".", var.release), 0, min(2, length(split(".", var.release)))))
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

module "appliance" {
  source     = "../node-upgrade"
  depends_on = [step.reinstall]

  node            = var.node
  release         = var.release
  upgrade_cluster = var.upgrade_cluster
  boot_disk       = "reinstalled"
  check_interval  = var.check_interval
  env_files       = var.env_files
  connection      = var.appliance_connection
}

step "packages" {
  uses        = "apt"
  description = "The host's Rok packages must match the appliance so guests can connect."
  on          = var.host
  connection  = connection.host
  depends_on  = [module.appliance]

  packages     = ["rok-common", "rok-base"]
  dpkg_options = ["--force-confdef", "--force-confold"]
}

step "host_endpoints" {
  uses        = "file.replace"
  description = "sed -i 's/tcp:/http:/g' on the host's KVM wrappers and Rok configuration."
  on          = var.host
  connection  = connection.host
  depends_on  = [step.packages]

  paths       = var.host_files
  pattern     = "tcp:"
  replacement = "http:"
}

step "confirm_return" {
  uses        = "manual"
  description = "The operator confirms before guests return to the host."
  depends_on  = [step.host_endpoints]

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
