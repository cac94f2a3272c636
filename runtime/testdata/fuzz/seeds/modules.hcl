# A seed for FuzzPlan calling the module the harness writes at ./lib/m.
variable "hosts" {
  type    = list(string)
  default = ["h1", "h2"]
}

module "first" {
  source = "./lib/m"
  host   = var.hosts[0]
}

group "rest" {
  for_each   = toset(var.hosts)
  depends_on = [module.first]

  module "each" {
    source = "./lib/m"
    host   = each.value
    count  = 2
  }
}

step "after" {
  uses       = "exec"
  command    = ["echo", module.first.said]
  depends_on = [group.rest]
}
