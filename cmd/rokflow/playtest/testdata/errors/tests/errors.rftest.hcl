# Every mistake a test file can hold, each marked on the line its error
# points at.

variables {
  gate_check_intervall = "1s" # ERROR: Undeclared variable
}

case "bad outcome" { # ERROR: Invalid case name
  simulator {
    platform       = "aplliance"      # ERROR: Unknown platform
    release        = "not a version!" # ERROR: Invalid release
    operator_delay = "soon"           # ERROR: Invalid duration
    nodez          = 3                # ERROR: Unsupported argument
    nodes          = "three"          # ERROR: Incorrect value type
    faults {
      slow = { "rok1.sim" = "fast" } # ERROR: Invalid duration
    }
  }
  expect {
    outcome   = "suceeded"                 # ERROR: Unknown outcome
    failed_at = ["step.ok", "group.x[\"a"] # ERROR: Invalid step address
  }
  assert { # ERROR: Missing required argument
    error_message = "an assertion without a condition"
  }
}

case "twice" {
  simulator {}
  simulator {} # ERROR: Duplicate simulator block
}

case "twice" { # ERROR: Duplicate case
  simulator {}
}

case "nosim" { # ERROR: Missing simulator block
}
