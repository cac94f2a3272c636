playbook {
  name = "modules"
}

module "near" {
  source = "./child"
  who    = "world"
}

group "team" {
  for_each = ["ana", "bo"]

  module "far" {
    source = "../shared/lib"
    node   = each.value
  }
}
