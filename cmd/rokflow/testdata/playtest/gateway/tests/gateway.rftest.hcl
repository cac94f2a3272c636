case "migrate" {
  simulator {
    nodes = 1
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
