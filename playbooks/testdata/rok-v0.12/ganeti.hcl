# RokE on Ganeti: as in rok-v0.11, through ../../lib/ganeti-cluster and
# ganeti-host, whose after_boot hook takes the same map-version rewrite
# as an appliance's.

locals {
  # The RokE image of 0.12.0 and the image snf-image writes.
  rok_version = var.ganeti != null ? coalesce(var.ganeti.rok_version, "0.12.0-1") : null
  image_id    = var.ganeti != null ? coalesce(var.ganeti.image_id, "roke-${local.rok_version}") : null
}

module "ganeti" {
  source = "../../lib/ganeti-cluster"

  enabled       = local.ganeti
  ganeti        = var.ganeti
  rapi_password = var.rapi_password
  members       = step.members.outputs.members
}

module "master_ganeti" {
  source     = "../../lib/ganeti-host"
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

  hook "after_boot" {
    step "map_version" {
      uses        = "file.replace"
      description = "Rok 0.12 daemons read composer map version 4 only."
      on          = local.master
      connection  = connection.nodes

      paths       = ["/etc/rok/daemons.conf"]
      regex       = true
      pattern     = "(?m)^([ \t]*map-version[ \t]*=[ \t]*)3[ \t]*$"
      replacement = "$${1}${local.map_version}"
      must_match  = true
    }
    step "restart_daemons" {
      uses       = "service"
      on         = local.master
      connection = connection.nodes
      depends_on = [step.map_version]

      name   = "rok-daemons"
      action = "restart"
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
    source = "../../lib/ganeti-host"

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
      step "map_version" {
        uses        = "file.replace"
        description = "Rok 0.12 daemons read composer map version 4 only."
        on          = each.value
        connection  = connection.nodes

        paths       = ["/etc/rok/daemons.conf"]
        regex       = true
        pattern     = "(?m)^([ \t]*map-version[ \t]*=[ \t]*)3[ \t]*$"
        replacement = "$${1}${local.map_version}"
        must_match  = true
      }
      step "restart_daemons" {
        uses       = "service"
        on         = each.value
        connection = connection.nodes
        depends_on = [step.map_version]

        name   = "rok-daemons"
        action = "restart"
      }
    }
  }
}
