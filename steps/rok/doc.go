// Package rok holds the step kinds that act on Rok appliance nodes: the
// discovery kinds (rok.member_list, rok.config_get,
// rok.gateway_showmigrations), the configuration kind rok.config_set, the
// once-only upgrade scripts (rok.upgrade_cluster, rok.upgrade_node,
// rok.enable_etcd_auth) and Gateway migration (rok.gateway_migrate), and the
// OpenStore endpoint rewrite (rok.openstore_endpoints).
//
// Every kind runs on the host named by the step's `on` argument and reaches
// it only through steps.Host: commands as argv (never through a shell),
// files through ReadFile/WriteFile. The parsers of the tools' outputs
// (member-list tables and JSON, rok-config listings, Django's
// showmigrations) are exported so tests and the simulator can share them.
//
// The package does not know how hosts are reached (transports), nor how
// OpenStore endpoints are parsed (internal/openstore), nor anything about
// etcd or Ganeti (steps/etcd, steps/ganeti). Kinds are not registered here:
// steps/builtin wires Kinds() into the registry.
package rok
