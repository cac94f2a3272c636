connection "nodes" {
  transport     = var.nodes.transport
  user          = var.nodes.user
  port          = var.nodes.port
  identity_file = var.nodes.identity_file
  known_hosts   = var.nodes.known_hosts
  addresses     = var.nodes.addresses
}
