name  = "x"
nodez = ["rok1"]
