# gateway-migrate: apply the Rok Gateway's store migrations with its
# gunicorn process and the Rok daemons stopped, then start them again.

variable "node" {
  type        = string
  description = "Member name of the node that runs the Gateway (the master)."
}

variable "gateway_services" {
  type        = list(string)
  default     = ["rok-gw-gunicorn"]
  description = "Services of the Gateway's gunicorn process."
}

variable "daemon_services" {
  type        = list(string)
  default     = ["rok-daemons"]
  description = "Services of the Rok daemons that must be stopped during the migration."
}

variable "connection" {
  type = object({
    transport     = string
    user          = optional(string, "root")
    port          = optional(number, 22)
    identity_file = optional(string)
    known_hosts   = optional(string)
    addresses     = optional(map(string), {})
  })
  description = "How to reach the node."
}

connection "node" {
  transport     = var.connection.transport
  user          = var.connection.user
  port          = var.connection.port
  identity_file = var.connection.identity_file
  known_hosts   = var.connection.known_hosts
  addresses     = var.connection.addresses
}

step "pending" {
  uses        = "rok.gateway_showmigrations"
  description = "rok-gw-manage showmigrations: what migrate will apply."
  on          = var.node
  connection  = connection.node
}

step "stop_gateway" {
  uses       = "service"
  for_each   = var.gateway_services
  on         = var.node
  connection = connection.node
  depends_on = [step.pending]

  name   = each.value
  action = "stop"
}

step "stop_daemons" {
  uses       = "service"
  for_each   = var.daemon_services
  on         = var.node
  connection = connection.node
  depends_on = [step.stop_gateway]

  name   = each.value
  action = "stop"
}

step "migrate" {
  uses        = "rok.gateway_migrate"
  description = "rok-gw-manage migrate, with gunicorn and the daemons stopped."
  on          = var.node
  connection  = connection.node
  depends_on  = [step.stop_daemons]
}

step "start_daemons" {
  uses       = "service"
  for_each   = var.daemon_services
  on         = var.node
  connection = connection.node
  depends_on = [step.migrate]

  name   = each.value
  action = "start"
}

step "start_gateway" {
  uses       = "service"
  for_each   = var.gateway_services
  on         = var.node
  connection = connection.node
  depends_on = [step.start_daemons]

  name   = each.value
  action = "start"
}

output "applied" {
  value = step.migrate.outputs.applied
}
