module "a" {
  source = "./lib/a"
}
