# The playbook upgrades from 0.10 to 0.11.0 and nothing else: a cluster
# outside its from is refused before anything changes, and one already on
# its to has nothing to do.

variables {
  gate_check_interval = "100ms"
}

case "from_0_9_refused" {
  description = "A cluster on 0.9 is not this playbook's to upgrade."

  simulator {
    nodes   = 3
    release = "0.9.5"
  }

  expect {
    outcome = "refused"
  }

  assert {
    condition     = cluster.releases == cluster.before.releases && cluster.candidates_restored
    error_message = "Nothing may change on a refused cluster: releases ${join(",", cluster.releases)}, candidates ${join(",", cluster.master_candidates)}."
  }
  assert {
    condition     = length(cluster.once_commands) == 0
    error_message = "No once-command may run on a refused cluster: ${jsonencode(cluster.once_commands)}."
  }
}

case "already_upgraded" {
  description = "A cluster already on 0.11.0: nothing to upgrade."

  simulator {
    nodes   = 3
    release = "0.11.0"
  }

  expect {
    outcome = "nothing_to_do"
  }

  assert {
    condition     = length(cluster.once_commands) == 0 && cluster.candidates_restored
    error_message = "Nothing may run on a cluster already on ${playbook.to}: ${jsonencode(cluster.once_commands)}."
  }
}
