connection "nodes" {
  transport     = var.nodes.transport
  user          = var.nodes.user
  port          = var.nodes.port
  identity_file = var.nodes.identity_file
  known_hosts   = var.nodes.known_hosts
  addresses     = var.nodes.addresses
}

# The Ganeti hosts under RokE (platform = "ganeti"), for the steps of this
# playbook that run on them; ganeti-host has its own.
connection "hosts" {
  transport     = var.ganeti != null ? var.ganeti.hosts.transport : "ssh"
  user          = var.ganeti != null ? var.ganeti.hosts.user : "root"
  port          = var.ganeti != null ? var.ganeti.hosts.port : 22
  identity_file = var.ganeti != null ? var.ganeti.hosts.identity_file : null
  known_hosts   = var.ganeti != null ? var.ganeti.hosts.known_hosts : null
  addresses     = var.ganeti != null ? var.ganeti.hosts.addresses : {}
}
