# The v0.11 upgrade of Rok appliance clusters (rokflow test playbooks/rok-v0.11).
# Each case runs against a simulated cluster of its own; the simulated
# field operator swaps each BOOT disk when its gate polls for it.

variables {
  # The simulated operator is quick: poll the BOOT-disk gates often.
  gate_check_interval = "100ms"
}

case "appliance" {
  description = "Three appliances: master first, slaves rolling, then etcd auth."

  simulator {
    platform   = "appliance"
    nodes      = 3
    release    = "0.10.2"
    upgrade_to = ["0.11.0"]
  }

  expect {
    outcome = "succeeded"
  }

  assert {
    condition     = cluster.release == playbook.to
    error_message = "Every node must be on ${playbook.to}: ${join(", ", [for n in cluster.nodes : "${n.name} ${n.release}"])}."
  }
  assert {
    condition     = cluster.etcd_auth
    error_message = "etcd auth must be on after the upgrade."
  }
  assert {
    condition     = cluster.candidates_restored
    error_message = "The master candidates must be back to ${join(",", cluster.before.master_candidates)}, not ${join(",", cluster.master_candidates)}."
  }
  assert {
    condition     = cluster.master == cluster.before.master && cluster.error == ""
    error_message = "The master must stay ${cluster.before.master} and the cluster healthy (${cluster.error})."
  }
  assert {
    condition     = alltrue([for c in cluster.once_commands : c.ok == 1]) && length(cluster.once_commands) == length(cluster.nodes) + 3
    error_message = "upgrade-node once on every node and upgrade-cluster, gateway-migrate and enable-etcd-auth once on the master: ${jsonencode(cluster.once_commands)}."
  }
  assert {
    condition     = alltrue(flatten([for n in cluster.nodes : [for f, scheme in n.endpoints : scheme == "http"]]))
    error_message = "Every OpenStore endpoint must be http:// after the upgrade."
  }
}

case "appliance_single" {
  description = "A single appliance: the master's path alone, no rolling group."

  simulator {
    nodes   = 1
    release = "0.10.2"
  }

  assert {
    condition     = cluster.release == playbook.to && cluster.etcd_auth && cluster.candidates_restored
    error_message = "The appliance must end on ${playbook.to} with etcd auth on and its candidates restored."
  }
  assert {
    condition     = length(cluster.ran_twice) == 0
    error_message = "A once-command took effect twice: ${join(", ", cluster.ran_twice)}."
  }
}

case "failing_slave" {
  description = "The second slave's upgrade-node fails: the rolling group stops there and the pin stays."

  simulator {
    nodes   = 4
    release = "0.10.2"

    faults {
      fail_upgrade_node = ["rok3.sim"]
    }
  }

  variables {
    slave_max_failures = 0
  }

  expect {
    outcome   = "failed"
    failed_at = ["group.slaves[\"rok3.sim\"].module.node.step.upgrade_node"]
  }

  assert {
    condition     = cluster.master_candidates == [cluster.master] && contains(run.undos_held, "step.pin_master")
    error_message = "While members run mixed releases the pin must stay, reported held: candidates ${join(",", cluster.master_candidates)}, held ${jsonencode(run.undos_held)}."
  }
  assert {
    condition     = cluster.node["rok4.sim"].release == cluster.before.node["rok4.sim"].release && cluster.node["rok4.sim"].boot == cluster.before.node["rok4.sim"].boot
    error_message = "The slave after the failed one must not be touched."
  }
  assert {
    condition     = cluster.node["rok2.sim"].release == playbook.to
    error_message = "The slave before the failed one must be upgraded."
  }
  assert {
    condition     = !cluster.etcd_auth
    error_message = "etcd auth must stay off while a slave failed."
  }
  assert {
    condition     = length(cluster.ran_twice) == 0
    error_message = "A once-command took effect twice: ${join(", ", cluster.ran_twice)}."
  }
}
