module "near" {
  source = "../root/child"
  times  = 2
}

module "nowhere" {
  source = "./does-not-exist"
}

module "remote" {
  source = "github.com/rokflow/modules"
}
