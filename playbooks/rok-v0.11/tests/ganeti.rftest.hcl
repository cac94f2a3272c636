# The v0.11 upgrade of RokE on Ganeti: each host's guests leave, its RokE
# appliance is re-imaged and upgraded, the host's Rok packages follow, and
# the guests come back.

variables {
  gate_check_interval = "100ms"
}

case "ganeti" {
  description = "Three Ganeti hosts with two guests each."

  simulator {
    platform = "ganeti"
    hosts    = 3
    guests   = 2
    release  = "0.10.2"
  }

  assert {
    condition     = cluster.release == playbook.to && cluster.etcd_auth && cluster.candidates_restored
    error_message = "Every appliance must be on ${playbook.to}, etcd auth on and the candidates restored."
  }
  assert {
    condition     = cluster.instances_home
    error_message = "Every instance must be back on its host: ${join("; ", cluster.instances_away)}."
  }
  assert {
    condition     = alltrue([for i in cluster.instances : i.status == "running" && (i.kind != "guest" || i.io == "ok")])
    error_message = "Every instance must run, and every guest reach its disks."
  }
  assert {
    condition     = alltrue([for h in cluster.hosts : h.compatible && release_at_least(release(h.rok_base), "0.11")])
    error_message = "Every host's Rok packages must match its upgraded appliance."
  }
  assert {
    condition     = alltrue([for c in cluster.once_commands : c.ok == 1])
    error_message = "Each once-command must take effect exactly once: ${jsonencode(cluster.once_commands)}."
  }
}
