name     = "x"
replicas = "many"
