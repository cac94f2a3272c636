# A playbook test beside the playbook: not playbook code (lang.Load leaves
# it out). Its blocks would be errors in a playbook.
case "smoke" {
  simulator {
    nodes = 1
  }
}
