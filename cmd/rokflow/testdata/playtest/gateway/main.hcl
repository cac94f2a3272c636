# A small playbook against the simulator, for the crash test of `rokflow
# test` in make test: the Rok Gateway's store migration on the master, a
# once step between four service steps.

playbook {
  name = "gateway-migrate"
}

# What the simulator's var-file and secrets set; only nodes and seed_node
# are used.
variable "platform" {
  type = string
}
variable "cluster_name" {
  type = string
}
variable "seed_node" {
  type = string
}
variable "gate_check_interval" {
  type = string
}
variable "etcd" {
  type = any
}
variable "rapi_password" {
  type      = string
  sensitive = true
}
variable "roke_password" {
  type      = string
  sensitive = true
}
variable "nodes" {
  type = object({
    transport     = string
    user          = string
    identity_file = string
    known_hosts   = string
    addresses     = map(string)
  })
}

connection "nodes" {
  transport     = var.nodes.transport
  user          = var.nodes.user
  identity_file = var.nodes.identity_file
  known_hosts   = var.nodes.known_hosts
  addresses     = var.nodes.addresses
}

step "members" {
  uses       = "rok.member_list"
  on         = var.seed_node
  connection = connection.nodes
}

# What lib/gateway-migrate does, written out so that the playbook can be
# copied anywhere.
step "stop_gateway" {
  uses       = "service"
  on         = step.members.outputs.master
  connection = connection.nodes

  name   = "rok-gw-gunicorn"
  action = "stop"
}

step "stop_daemons" {
  uses       = "service"
  on         = step.members.outputs.master
  connection = connection.nodes
  depends_on = [step.stop_gateway]

  name   = "rok-daemons"
  action = "stop"
}

step "migrate" {
  uses       = "rok.gateway_migrate"
  on         = step.members.outputs.master
  connection = connection.nodes
  depends_on = [step.stop_daemons]
}

step "start_daemons" {
  uses       = "service"
  on         = step.members.outputs.master
  connection = connection.nodes
  depends_on = [step.migrate]

  name   = "rok-daemons"
  action = "start"
}

step "start_gateway" {
  uses       = "service"
  on         = step.members.outputs.master
  connection = connection.nodes
  depends_on = [step.start_daemons]

  name   = "rok-gw-gunicorn"
  action = "start"
}
