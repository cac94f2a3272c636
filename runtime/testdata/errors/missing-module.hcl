module "m" {
  source = "./does-not-exist" # ERROR: Module not found
}
