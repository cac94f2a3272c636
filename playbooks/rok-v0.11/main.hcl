# The Rok v0.11 upgrade, for Rok appliances and for RokE on Ganeti.
# README.md beside this file maps every line of the upgrade note to the
# step that carries it out.
#
# The procedure every release shares is in ../lib: node-upgrade (BOOT
# disk, upgrade-cluster, upgrade-node), gateway-migrate, ganeti-cluster
# and ganeti-host. What only v0.11 needs is here: the OpenStore endpoint
# rewrite, filled into the after_boot hook of every node's upgrade (and on
# Ganeti the hosts' tcp: to http:, in ganeti-host's after_host_packages),
# and enable-etcd-auth once every node runs v0.11.

playbook {
  name             = "rok-v0.11"
  from             = "0.10"
  to               = "0.11.0"
  description      = "Upgrade a Rok cluster to v0.11: master first, slaves rolling, then etcd auth."
  requires_rokflow = ">= 0.1"

  # Where the cluster stands, read before anything changes: a member not
  # on 0.10 or 0.11 refuses the run, a member already on 0.11 is skipped
  # (upgrades below), and a cluster wholly on 0.11 has nothing to do.
  release {
    nodes = step.members.outputs.releases
  }
}

locals {
  ganeti  = var.platform == "ganeti"
  master  = step.members.outputs.master
  slaves  = step.members.outputs.slaves
  offline = [for m in step.members.outputs.members : m.name if m.state != "online"]

  # The members still to be upgraded, as the release facts say (one that
  # boots the new release before its upgrade-node counts): on a cluster
  # already on 0.11 nothing changes, and there is nothing to check.
  pending = [for name, r in step.members.outputs.releases : name if r == "" ? true : !release_at_least(r, playbook.to)]
}

# Find the master node of the cluster: rok-cluster-ctl member-list.
step "members" {
  uses        = "rok.member_list"
  description = "Find the master and the members, and the release each runs."
  on          = var.seed_node
  connection  = connection.nodes
}

# Only the master may be master capable while nodes run mixed releases, or
# the cluster could fail over to a node on the old release.
step "pin_master" {
  uses        = "rok.config_set"
  description = "rok-config set cluster.master_candidates=$(hostname).$${ROK_CLUSTERNAME} on the master."
  on          = local.master
  connection  = connection.nodes

  # Should the upgrade fail, putting the candidates back at once would
  # re-open the failover the pin prevents. The undo waits until the member
  # list, read again then, shows every member on one release; until then
  # it stays owed, and the run says so.
  undo {
    step   = step.restore_candidates
    when   = length(distinct(values(step.members.outputs.versions))) == 1
    reason = "members run mixed releases (${join(", ", [for name, v in step.members.outputs.versions : "${name} ${v}"])}): the master stays the only master candidate, so that the cluster cannot fail over to a node on the old release"
  }

  key   = "cluster.master_candidates"
  value = local.master

  precondition {
    condition     = length(local.offline) == 0
    error_message = "Every member must be online before the upgrade starts; offline: ${join(", ", local.offline)}."
  }
  precondition {
    condition     = can(regex("\\.${var.cluster_name}$", local.master))
    error_message = "The master's member name must be <hostname>.${var.cluster_name}."
  }
}

module "master" {
  source     = "../lib/node-upgrade"
  when       = !local.ganeti
  upgrades   = local.master
  depends_on = [step.pin_master]

  node            = local.master
  release         = playbook.to
  upgrade_cluster = true
  check_interval  = var.gate_check_interval
  connection      = var.nodes

  # v0.11 daemons take http:// endpoints with roles: rewrite them on the
  # new BOOT disk before upgrade-cluster and upgrade-node start them.
  hook "after_boot" {
    step "openstore_endpoints" {
      uses        = "rok.openstore_endpoints"
      description = "v0.11 daemons take http:// endpoints with roles; --bind-http became --controller-listen role=slave."
      on          = local.master
      connection  = connection.nodes

      env_files = var.env_files
    }
  }
}

module "gateway" {
  source     = "../lib/gateway-migrate"
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
    source = "../lib/node-upgrade"

    node           = each.value
    release        = playbook.to
    check_interval = var.gate_check_interval
    connection     = var.nodes

    hook "after_boot" {
      step "openstore_endpoints" {
        uses        = "rok.openstore_endpoints"
        description = "v0.11 daemons take http:// endpoints with roles; --bind-http became --controller-listen role=slave."
        on          = each.value
        connection  = connection.nodes

        env_files = var.env_files
      }
    }
  }
}

# After every node runs v0.11.0: SSL authentication and RBAC in etcd.
step "enable_etcd_auth" {
  uses        = "rok.enable_etcd_auth"
  description = "Once every node is on the new release."
  on          = local.master
  connection  = connection.nodes
  depends_on  = [module.gateway, group.slaves, group.slaves_ganeti]

  release = playbook.to
}

step "check_etcd_auth" {
  uses        = "etcd.auth_check"
  description = "Prove that etcd refuses anonymous clients and admits the cluster's certificate."
  when        = length(local.pending) > 0
  depends_on  = [step.enable_etcd_auth]

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

output "master" {
  value = local.master
}

output "previous_candidates" {
  value = step.pin_master.outputs.previous
}
