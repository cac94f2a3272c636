# RokE on Ganeti: each RokE appliance is a Ganeti instance; its physical
# host is evacuated, the appliance re-imaged and upgraded, the host's Rok
# packages and endpoint files updated, and the guests migrated back. The
# master's host goes first, then the others, one at a time.

locals {
  rapi = local.ganeti ? {
    host          = var.ganeti.rapi_host
    port          = var.ganeti.rapi_port
    user          = var.ganeti.rapi_user
    password      = var.rapi_password
    ca_file       = var.ganeti.ca_file
    pinned_sha256 = var.ganeti.pinned_sha256
  } : null

  # Which instance is each member's appliance (found by its address), and
  # which host it runs on.
  instances = local.ganeti ? step.instances.outputs.instances : []
  appliance = {
    for m in step.members.outputs.members : m.name => [for i in local.instances : i if contains(i.nic_ips, m.address)][0]
    if local.ganeti
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
  when        = local.ganeti

  rapi = local.rapi
}

module "master_ganeti" {
  source     = "../lib/ganeti-host"
  when       = local.ganeti
  depends_on = [step.pin_master]

  node                 = local.master
  host                 = local.appliance[local.master].pnode
  appliance            = local.appliance[local.master].name
  guests               = local.guests[local.master]
  upgrade_cluster      = true
  release              = var.release
  check_interval       = var.gate_check_interval
  rok_version          = var.ganeti.rok_version
  os                   = var.ganeti.os
  image_id             = var.ganeti.image_id
  roke_password        = var.roke_password
  rapi                 = local.rapi
  env_files            = var.env_files
  appliance_connection = var.nodes
  host_connection      = var.ganeti.hosts
}

group "slaves_ganeti" {
  for_each   = local.slaves
  when       = local.ganeti
  depends_on = [module.gateway]

  rolling {
    batch        = 1
    max_failures = var.slave_max_failures
  }

  module "host" {
    source = "../lib/ganeti-host"

    node                 = each.value
    host                 = local.appliance[each.value].pnode
    appliance            = local.appliance[each.value].name
    guests               = local.guests[each.value]
    release              = var.release
    check_interval       = var.gate_check_interval
    rok_version          = var.ganeti.rok_version
    os                   = var.ganeti.os
    image_id             = var.ganeti.image_id
    roke_password        = var.roke_password
    rapi                 = local.rapi
    env_files            = var.env_files
    appliance_connection = var.nodes
    host_connection      = var.ganeti.hosts
  }
}
