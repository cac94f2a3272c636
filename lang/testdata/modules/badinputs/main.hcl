module "near" {
  source = "../root/child"
  whom   = "world"
}
