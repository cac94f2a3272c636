case "migrate" {
  simulator {
    nodes = 1

    # Every command waits 50ms on the node, so that a kill just after the
    # migration's start lands before the migration runs: --crash finds it
    # in doubt even on a busy machine.
    faults {
      slow = { "rok1.sim" = "50ms" }
    }
  }

  assert {
    condition     = alltrue([for c in cluster.once_commands : c.ok == 1]) && length(cluster.once_commands) == 1
    error_message = "gateway-migrate must take effect exactly once: ${jsonencode(cluster.once_commands)}."
  }
  assert {
    condition     = alltrue([for s in values(cluster.node[cluster.master].services) : s == "active"])
    error_message = "Every service must run again: ${jsonencode(cluster.node[cluster.master].services)}."
  }
}
