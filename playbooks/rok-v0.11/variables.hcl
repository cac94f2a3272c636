variable "platform" {
  type        = string
  default     = "appliance"
  description = "Where Rok runs: \"appliance\" (Rok appliances) or \"ganeti\" (RokE appliances on a Ganeti cluster)."

  validation {
    condition     = contains(["appliance", "ganeti"], var.platform)
    error_message = "The platform must be \"appliance\" or \"ganeti\"."
  }
}

variable "cluster_name" {
  type        = string
  description = "The Rok cluster name (ROK_CLUSTERNAME); member names are <hostname>.<cluster_name>."
}

variable "seed_node" {
  type        = string
  description = "Any member of the cluster, to ask for the member list."
}

variable "gate_check_interval" {
  type        = string
  default     = "10s"
  description = "How often a BOOT-disk gate checks whether its node is back on the new release."
}

variable "restore_candidates" {
  type        = bool
  default     = true
  description = "Put cluster.master_candidates back to its value before the upgrade once every node is on the new release."
}

variable "slave_batch" {
  type        = number
  default     = 1
  description = "How many slave nodes to upgrade at once."
}

variable "slave_max_failures" {
  type        = number
  default     = 0
  description = "How many slave nodes may fail before the rolling upgrade stops."
}

variable "env_files" {
  type        = list(string)
  default     = ["/etc/default/rok"]
  description = "Environment files on each node that set OpenStore endpoints such as OPENSTORE_CONTROLLER."
}

variable "host_files" {
  type        = list(string)
  default     = ["/usr/bin/*kvm*", "/etc/ganeti/rok/rok.conf", "/etc/default/snf-image"]
  description = "Files on each Ganeti host whose OpenStore endpoints change from tcp: to http: (platform = \"ganeti\")."
}

variable "nodes" {
  type = object({
    transport     = optional(string, "ssh")
    user          = optional(string, "root")
    port          = optional(number, 22)
    identity_file = optional(string)
    known_hosts   = optional(string)
    addresses     = optional(map(string), {})
  })
  default     = {}
  description = "How to reach the Rok (or RokE) appliances. addresses maps member names to host[:port] when DNS does not."
}

variable "etcd" {
  type = object({
    endpoints = list(string)
    ca_file   = string
    cert_file = string
    key_file  = string
  })
  description = "The cluster's etcd and a client certificate, to prove that auth is on after enable-etcd-auth."
}

variable "ganeti" {
  type = object({
    rapi_host     = string
    rapi_port     = optional(number, 5080)
    rapi_user     = string
    ca_file       = optional(string)
    pinned_sha256 = optional(string)
    rok_version   = optional(string)
    os            = optional(string, "snf-image+default")
    image_id      = optional(string)
    hosts = optional(object({
      transport     = optional(string, "ssh")
      user          = optional(string, "root")
      port          = optional(number, 22)
      identity_file = optional(string)
      known_hosts   = optional(string)
      addresses     = optional(map(string), {})
    }), {})
  })
  default     = null
  nullable    = true
  description = "The Ganeti cluster under RokE (platform = \"ganeti\" only). rok_version, the RokE image's version, defaults to v0.11.0's build (0.11~rc1-22-gfc01058-1~6ad14b3~1.gbp6ad14b), and image_id to roke-<rok_version>."
}

variable "rapi_password" {
  type        = string
  default     = ""
  sensitive   = true
  description = "The Ganeti RAPI user's password (RAPI_PASSWORD)."
}

variable "roke_password" {
  type        = string
  default     = ""
  sensitive   = true
  description = "The RokE appliances' root password (ROKE_PASSWORD), given to the re-installed image."
}
