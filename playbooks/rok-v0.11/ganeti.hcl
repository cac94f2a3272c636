# RokE on Ganeti: each RokE appliance is a Ganeti instance; its physical
# host is evacuated, the appliance re-imaged and upgraded, the host's Rok
# packages and endpoint files updated, and the guests migrated back. The
# master's host goes first, then the others, one at a time.

locals {
  # The RokE image of v0.11.0: the note's --rok-version, and the image
  # snf-image writes. The one place this playbook names a build.
  rok_version = var.ganeti != null ? coalesce(var.ganeti.rok_version, "0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b") : null
  image_id    = var.ganeti != null ? coalesce(var.ganeti.image_id, "roke-${local.rok_version}") : null
}

# Find the current RokE master and its IP address, and where every
# appliance and guest instance runs.
module "ganeti" {
  source = "../lib/ganeti-cluster"

  enabled       = local.ganeti
  ganeti        = var.ganeti
  rapi_password = var.rapi_password
  members       = step.members.outputs.members
}

module "master_ganeti" {
  source     = "../lib/ganeti-host"
  when       = local.ganeti
  upgrades   = local.master
  depends_on = [step.pin_master]

  node                 = local.master
  host                 = module.ganeti.appliance[local.master].pnode
  appliance            = module.ganeti.appliance[local.master].name
  guests               = module.ganeti.guests[local.master]
  upgrade_cluster      = true
  release              = playbook.to
  check_interval       = var.gate_check_interval
  rok_version          = local.rok_version
  os                   = var.ganeti.os
  image_id             = local.image_id
  roke_password        = var.roke_password
  rapi                 = module.ganeti.rapi
  appliance_connection = var.nodes
  host_connection      = var.ganeti.hosts

  # 3. Login on the RokE master and run the steps of Upgrade the master
  # node: ganeti-host does, with v0.11's endpoints as on any appliance.
  hook "after_boot" {
    step "openstore_endpoints" {
      uses        = "rok.openstore_endpoints"
      description = "v0.11 daemons take http:// endpoints with roles; --bind-http became --controller-listen role=slave."
      on          = local.master
      connection  = connection.nodes

      env_files = var.env_files
    }
  }

  # 4. sed -i 's/tcp:/http:/g' on the host's files.
  hook "after_host_packages" {
    step "host_endpoints" {
      uses        = "file.replace"
      description = "sed -i 's/tcp:/http:/g' on the host's KVM wrappers and Rok configuration."
      on          = module.ganeti.appliance[local.master].pnode
      connection  = connection.hosts

      paths       = var.host_files
      pattern     = "tcp:"
      replacement = "http:"
    }
  }
}

group "slaves_ganeti" {
  for_each   = local.slaves
  when       = local.ganeti
  upgrades   = each.value
  depends_on = [module.gateway]

  rolling {
    batch        = 1
    max_failures = var.slave_max_failures
  }

  module "host" {
    source = "../lib/ganeti-host"

    node                 = each.value
    host                 = module.ganeti.appliance[each.value].pnode
    appliance            = module.ganeti.appliance[each.value].name
    guests               = module.ganeti.guests[each.value]
    release              = playbook.to
    check_interval       = var.gate_check_interval
    rok_version          = local.rok_version
    os                   = var.ganeti.os
    image_id             = local.image_id
    roke_password        = var.roke_password
    rapi                 = module.ganeti.rapi
    appliance_connection = var.nodes
    host_connection      = var.ganeti.hosts

    hook "after_boot" {
      step "openstore_endpoints" {
        uses        = "rok.openstore_endpoints"
        description = "v0.11 daemons take http:// endpoints with roles; --bind-http became --controller-listen role=slave."
        on          = each.value
        connection  = connection.nodes

        env_files = var.env_files
      }
    }

    hook "after_host_packages" {
      step "host_endpoints" {
        uses        = "file.replace"
        description = "sed -i 's/tcp:/http:/g' on the host's KVM wrappers and Rok configuration."
        on          = module.ganeti.appliance[each.value].pnode
        connection  = connection.hosts

        paths       = var.host_files
        pattern     = "tcp:"
        replacement = "http:"
      }
    }
  }
}
