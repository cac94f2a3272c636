name     = "from-hcl-file"
replicas = 5
nodes    = ["rok1", "rok2"]
labels = {
  zone = "a"
}
