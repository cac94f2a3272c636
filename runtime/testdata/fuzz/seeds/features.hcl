# A seed for FuzzPlan that touches most planner features with the exec and
# shell kinds, so mutations reach deep into planning.
playbook {
  name = "seed"
  from = "0.10"
  to   = "0.11.0"
}

variable "nodes" {
  type    = map(object({ role = string, port = optional(number, 22) }))
  default = { a = { role = "master" }, b = { role = "slave" } }
}

variable "secret" {
  type      = string
  default   = "s3cr3t"
  sensitive = true
}

locals {
  masters = [for k, v in var.nodes : k if v.role == "master"]
  banner  = "${playbook.name}: ${length(var.nodes)} nodes"
}

connection "ssh" {
  transport = "ssh"
  user      = "root"
  port      = 22
}

step "discover" {
  uses       = "exec"
  on         = local.masters[0]
  connection = connection.ssh
  command    = ["rok-cluster-ctl", "member-list"]
  timeout    = "30s"

  retry {
    attempts  = 3
    delay     = "1s"
    max_delay = "10s"
  }

  postcondition {
    condition     = self.outputs.exit_status == 0
    error_message = "member-list failed"
  }
}

step "pin" {
  uses  = "shell"
  on    = step.discover.outputs.stdout
  once  = true
  undo  = step.unpin
  script = "rok-config set cluster.master_candidates=$1"
  args  = [step.discover.outputs.lines[0]]
  env   = { TOKEN = var.secret }
}

step "unpin" {
  uses    = "exec"
  command = ["rok-config", "unset", "cluster.master_candidates"]
  when    = false
}

step "per_node" {
  uses     = "exec"
  for_each = var.nodes
  on       = each.key
  command  = ["echo", each.value.role, tostring(each.value.port)]

  precondition {
    condition     = each.value.port > 0
    error_message = "bad port for ${each.key}"
  }
}

group "slaves" {
  for_each   = { for k, v in var.nodes : k => v if v.role == "slave" }
  depends_on = [step.pin, step.per_node]
  when       = length(var.nodes) > 1

  rolling {
    batch        = 1
    max_failures = 0
    pause        = "5s"
  }

  step "upgrade" {
    uses    = "exec"
    on      = each.key
    command = ["upgrade-node", step.per_node[each.key].outputs.stdout]
  }

  step "check" {
    uses       = "exec"
    on         = each.key
    depends_on = [step.upgrade]
    command    = ["rok-version"]
  }
}

step "finalize" {
  uses       = "exec"
  depends_on = [group.slaves]
  command    = ["enable-etcd-auth", jsonencode(group.slaves)]
}

output "master" {
  value = step.discover.outputs.stdout
}

output "token" {
  value     = var.secret
  sensitive = true
}
