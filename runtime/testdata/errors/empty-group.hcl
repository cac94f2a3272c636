group "g" { # ERROR: Empty group
  for_each = ["a"]
}
