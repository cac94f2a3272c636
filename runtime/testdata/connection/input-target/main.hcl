# The target comes from an input: unknown at validate, checked at plan.
variable "node" {
  type = string
}

step "members" {
  uses = "rok.member_list"
  on   = var.node
}
