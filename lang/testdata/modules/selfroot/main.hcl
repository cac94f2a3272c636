playbook {
  name = "selfroot"
}

module "me" {
  source = "./"
}
