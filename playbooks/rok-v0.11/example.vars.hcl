# A small cluster: three Rok appliances, and for platform = "ganeti" the
# Ganeti cluster under them. Secrets come from the environment:
#   ROKFLOW_VAR_rapi_password=… ROKFLOW_VAR_roke_password=… rokflow plan …

cluster_name = "prod"
seed_node    = "rok1.prod"

nodes = {
  user        = "root"
  known_hosts = "~/.ssh/known_hosts"
}

etcd = {
  endpoints = ["https://rok1.prod:2379", "https://rok2.prod:2379", "https://rok3.prod:2379"]
  ca_file   = "/etc/rok/etcd/ca.crt"
  cert_file = "/etc/rok/etcd/client.crt"
  key_file  = "/etc/rok/etcd/client.key"
}

ganeti = {
  rapi_host = "ganeti.prod"
  rapi_user = "rok-upgrade"
  ca_file   = "/etc/rok/ganeti-rapi.pem"
}
