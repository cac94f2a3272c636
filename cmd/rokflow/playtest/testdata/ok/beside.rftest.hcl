case "beside" {
  simulator {
    nodes = 1
  }

  expect {
    outcome = "refused"
  }
}
