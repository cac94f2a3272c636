name    = "x"
comment = null
owner   = null
