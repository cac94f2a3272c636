# A next release, for tests only: the upgrade from Rok 0.11 to 0.12.0 as
# the simulator models it (rokflow sim start --release 0.11.0 --upgrade-to
# 0.12.0), built from ../../lib as a real release's playbook would be.
# What 0.12 adds: its daemons read composer map version 4 only, so every
# node's daemons.conf says map-version = 4, and the daemons are restarted,
# between its new BOOT disk and upgrade-node (node-upgrade's and
# ganeti-host's after_boot hook); and once every node runs 0.12, finalize
# on the master switches the cluster to the new map format. No
# enable-etcd-auth: 0.11 enabled etcd auth, and it stays on (checked).

playbook {
  name             = "rok-v0.12"
  from             = "0.11"
  to               = "0.12.0"
  description      = "Upgrade a Rok cluster from 0.11 to 0.12: master first, slaves rolling, then finalize. For tests."
  requires_rokflow = ">= 0.1"

  # A member on 0.12 is skipped; the cluster as a whole is on 0.12.0 only
  # once it is finalized (its composer map version is 4), and on 0.11
  # until then, so that a new run after the last upgrade-node finalizes.
  release {
    nodes   = step.members.outputs.releases
    cluster = step.map_version.outputs.value == local.map_version ? playbook.to : playbook.from
  }
}

locals {
  ganeti  = var.platform == "ganeti"
  master  = step.members.outputs.master
  slaves  = step.members.outputs.slaves
  offline = [for m in step.members.outputs.members : m.name if m.state != "online"]

  # What is left to do, as the release facts say: members not yet on 0.12
  # (one that boots 0.12 before its upgrade-node counts), or the finalize.
  pending  = [for name, r in step.members.outputs.releases : name if r == "" ? true : !release_at_least(r, playbook.to)]
  upgraded = length(local.pending) == 0 && step.map_version.outputs.value == local.map_version

  # The composer map version of Rok 0.12.
  map_version = "4"
}

step "members" {
  uses        = "rok.member_list"
  description = "Find the master and the members, and the release each runs."
  on          = var.seed_node
  connection  = connection.nodes
}

step "map_version" {
  uses        = "rok.config_get"
  description = "The cluster's composer map version: 4 once finalize has run."
  on          = var.seed_node
  connection  = connection.nodes

  key = "composer.map_version"
}

step "pin_master" {
  uses        = "rok.config_set"
  description = "Only the master may be master capable while nodes run mixed releases."
  on          = local.master
  connection  = connection.nodes

  undo {
    step   = step.restore_candidates
    when   = length(distinct(values(step.members.outputs.versions))) == 1
    reason = "members run mixed releases (${join(", ", [for name, v in step.members.outputs.versions : "${name} ${v}"])}): the master stays the only master candidate"
  }

  key   = "cluster.master_candidates"
  value = local.master

  precondition {
    condition     = length(local.offline) == 0
    error_message = "Every member must be online before the upgrade starts; offline: ${join(", ", local.offline)}."
  }
}

module "master" {
  source     = "../../lib/node-upgrade"
  when       = !local.ganeti
  upgrades   = local.master
  depends_on = [step.pin_master]

  node            = local.master
  release         = playbook.to
  upgrade_cluster = true
  check_interval  = var.gate_check_interval
  connection      = var.nodes

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

module "gateway" {
  source     = "../../lib/gateway-migrate"
  depends_on = [module.master, module.master_ganeti]

  node       = local.master
  connection = var.nodes
}

group "slaves" {
  for_each   = local.slaves
  when       = !local.ganeti
  upgrades   = each.value
  depends_on = [module.gateway]

  rolling {
    batch        = var.slave_batch
    max_failures = var.slave_max_failures
  }

  module "node" {
    source = "../../lib/node-upgrade"

    node           = each.value
    release        = playbook.to
    check_interval = var.gate_check_interval
    connection     = var.nodes

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

# Once every node runs 0.12: the cluster switches to the new map format.
step "finalize" {
  uses        = "exec"
  description = "rok-cluster-upgrade-v0.12.0 finalize, once every node is on 0.12, on the master."
  on          = local.master
  connection  = connection.nodes
  once        = true
  depends_on  = [group.slaves, group.slaves_ganeti]

  command = ["rok-cluster-upgrade-v${playbook.to}", "finalize"]
}

step "check_finalized" {
  uses        = "rok.config_get"
  description = "The cluster reads and writes composer map version 4."
  when        = !local.upgraded
  on          = local.master
  connection  = connection.nodes
  depends_on  = [step.finalize]

  key = "composer.map_version"

  postcondition {
    condition     = self.outputs.value == local.map_version
    error_message = "After finalize the cluster's composer map version is ${self.outputs.value}, not ${local.map_version}."
  }
}

# 0.11 enabled etcd auth; 0.12 keeps it on.
step "check_etcd_auth" {
  uses        = "etcd.auth_check"
  description = "Prove that etcd still refuses anonymous clients and admits the cluster's certificate."
  when        = !local.upgraded
  depends_on  = [step.check_finalized]

  etcd = {
    endpoints = var.etcd.endpoints
    ca_file   = var.etcd.ca_file
  }
  anonymous_key = "/rok/"
  as = {
    cert_file = var.etcd.cert_file
    key_file  = var.etcd.key_file
  }
}

step "restore_candidates" {
  uses        = "rok.config_set"
  description = "Put back the master candidates recorded before the pin."
  when        = var.restore_candidates && step.pin_master.outputs.previous != ""
  on          = local.master
  connection  = connection.nodes
  depends_on  = [step.check_etcd_auth]

  key   = "cluster.master_candidates"
  value = step.pin_master.outputs.previous
}
