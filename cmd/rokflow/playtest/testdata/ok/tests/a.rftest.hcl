variables {
  gate_check_interval = "100ms"
  slave_max_failures  = 1
}

case "defaults" {
  simulator {}
}

case "everything" {
  description = "Every attribute a case has."
  timeout     = "2m"

  simulator {
    platform          = "ganeti"
    hosts             = 4
    guests            = 3
    cluster           = "lab"
    master_candidates = ["roke1.lab"]
    release           = "0.10.2"
    upgrade_to        = ["0.11.0-2"]
    auto_operator     = false
    operator_delay    = "1s"
    job_delay         = "100ms"

    faults {
      fail_upgrade_node = ["roke3.lab"]
      no_power_on       = ["roke4.lab"]
      slow              = { "roke2.lab" = "250ms" }
      fail_job {
        op     = "reinstall"
        target = "roke2.gnt.lab"
        times  = 1
      }
    }
  }

  variables {
    slave_max_failures = 0
  }

  expect {
    failed_at = ["group.slaves[*].module.node.step.upgrade_node"]
  }

  assert {
    condition     = cluster.etcd_auth
    error_message = "etcd auth"
  }
  assert {
    condition = run.outcome == "failed"
  }
}
