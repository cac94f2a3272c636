# The inputs of rok-v0.11 that a 0.12 upgrade needs, under the same names,
# so that the simulator's sim.vars.hcl serves both.

variable "platform" {
  type        = string
  default     = "appliance"
  description = "Where Rok runs: \"appliance\" or \"ganeti\" (RokE on a Ganeti cluster)."

  validation {
    condition     = contains(["appliance", "ganeti"], var.platform)
    error_message = "The platform must be \"appliance\" or \"ganeti\"."
  }
}

variable "cluster_name" {
  type        = string
  description = "The Rok cluster name (ROK_CLUSTERNAME)."
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
  description = "Put cluster.master_candidates back once the cluster is finalized."
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
  description = "How to reach the Rok (or RokE) appliances."
}

variable "etcd" {
  type = object({
    endpoints = list(string)
    ca_file   = string
    cert_file = string
    key_file  = string
  })
  description = "The cluster's etcd and a client certificate, to prove that etcd auth stayed on."
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
  description = "The Ganeti cluster under RokE (platform = \"ganeti\" only); rok_version defaults to 0.12.0-1, image_id to roke-<rok_version>."
}

variable "rapi_password" {
  type        = string
  default     = ""
  sensitive   = true
  description = "The Ganeti RAPI user's password."
}

variable "roke_password" {
  type        = string
  default     = ""
  sensitive   = true
  description = "The RokE appliances' root password, given to the re-installed image."
}
