step "x" {
  uses = "exec"
}

module "again" {
  source = "./"
}
