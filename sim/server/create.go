package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rokflow/rokflow/sim"
	"github.com/rokflow/rokflow/sim/internal/release"
)

// newState builds the cluster a Spec describes; ports and files are
// filled in by the server.
func newState(spec sim.Spec) *state {
	st := &state{
		Schema:   stateSchema,
		Created:  time.Now().UTC(),
		Spec:     spec,
		Counters: map[string]map[string]*sim.Counter{},
		NextTask: 1,
	}
	from := release.Upstream(spec.FromVersion)
	count := spec.Nodes
	prefix := "rok"
	if spec.Platform == sim.PlatformGaneti {
		count, prefix = spec.Hosts, "roke"
	}
	var names []string
	for i := 1; i <= count; i++ {
		n := &node{
			Name:      fmt.Sprintf("%s%d.%s", prefix, i, spec.Cluster),
			Kind:      kindAppliance,
			Hostname:  fmt.Sprintf("%s%d", prefix, i),
			Address:   fmt.Sprintf("10.0.0.%d", 10+i),
			On:        true,
			Boot:      spec.FromVersion,
			NodeState: from,
			Packages:  map[string]string{"rok-base": spec.FromVersion, "rok-common": spec.FromVersion, "rok-gateway": spec.FromVersion},
			Services:  map[string]string{"rok-daemons": svcActive, "rok-gw-gunicorn": svcActive, "ssh": svcActive},
		}
		st.Nodes = append(st.Nodes, n)
		names = append(names, n.Name)
	}
	master := st.Nodes[spec.Master]
	candidates := names
	if spec.Candidates != nil {
		candidates = spec.Candidates
	}
	st.Cluster = cluster{
		Name:        spec.Cluster,
		Master:      master.Name,
		SharedState: from,
		Config: map[string]string{
			"cluster.name":                 spec.Cluster,
			"cluster.master_candidates":    strings.Join(candidates, ","),
			"cluster.shared_state_version": from,
			"composer.map_version":         strconv.Itoa(release.ProfileOf(release.SeriesOf(spec.FromVersion)).MapVersion),
			"gw.task_gc.all.cronspec":      "0 3 * * *",
			"gw.task_gc.success.max_age":   "7d",
		},
		Migrations: release.KnownMigrations(release.SeriesOf(spec.FromVersion)),
		EtcdAuth:   release.EtcdAuthFrom(release.SeriesOf(spec.FromVersion)),
	}
	if spec.Platform == sim.PlatformGaneti {
		addGaneti(st)
	}
	st.event("", "cluster %s created: %d members, master %s, Rok %s", spec.Cluster, count, master.Name, from)
	return st
}

// nodeRoot is where a node's file system lives on disk.
func nodeRoot(dir, name string) string { return filepath.Join(dir, "nodes", name, "root") }

// writeNodeFiles creates a node's initial file system.
func writeNodeFiles(dir string, st *state, n *node) error {
	root := nodeRoot(dir, n.Name)
	for _, d := range []string{"root", "tmp", "run/systemd/system", "var/log", "etc/rok", "etc/default"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	files := map[string]string{
		"/etc/hostname": n.Hostname + "\n",
		"/etc/passwd":   "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nrok:x:999:999:Rok:/var/lib/rok:/usr/sbin/nologin\n",
		"/etc/group":    "root:x:0:\ndaemon:x:1:\nrok:x:999:\n",
	}
	master := st.node(st.Cluster.Master)
	switch n.Kind {
	case kindAppliance:
		files["/etc/rok/daemons.conf"] = daemonsConf(master.Address, n.Address)
		files["/etc/default/rok"] = envFile(st.Cluster.Name, master.Address)
		addEndpointForms(st, n, files)
	case kindHost:
		app := st.node(applianceOn(st, n.Name))
		files["/etc/ganeti/rok/rok.conf"] = rokConf(app.Address)
		files["/etc/default/snf-image"] = snfImageDefaults(app.Address)
		files["/etc/ganeti/ganeti.conf"] = "# managed by Ganeti; do not edit\n"
	}
	ser := release.SeriesOf(st.Spec.FromVersion)
	for p, content := range files {
		if err := writeStarting(root, ser, p, content, 0o644); err != nil {
			return err
		}
	}
	if n.Kind == kindHost {
		app := st.node(applianceOn(st, n.Name))
		for p, content := range map[string]string{
			"/usr/bin/kvm":          kvmWrapper(app.Address),
			"/usr/bin/qemu-kvm-rok": qemuRokWrapper(app.Address),
			"/usr/bin/kvm-ok":       kvmOK,
		} {
			if err := writeStarting(root, ser, p, content, 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeStarting writes a node's initial file in the form of the series
// the cluster starts at (startingFile).
func writeStarting(root, ser, p, content string, mode os.FileMode) error {
	content, err := startingFile(ser, p, content)
	if err != nil {
		return err
	}
	return writeInitial(root, p, content, mode)
}

func writeInitial(root, p, content string, mode os.FileMode) error {
	full := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		return err
	}
	return os.Chmod(full, mode)
}

func daemonsConf(master, self string) string {
	return fmt.Sprintf(`# /etc/rok/daemons.conf: the options of the Rok daemons, one [daemon.N]
# section each; keys are the daemons' long command-line options.

[openstored.0]
listen = tcp://%[2]s:8080

[composerd.0]
map-version = 3
openstore-controller = tcp://%[1]s:8080

[hasherd.0]
openstore-controller = tcp://%[1]s:8080

[external-controller.0]
bind-http = tcp://%[2]s:9090
`, master, self)
}

func envFile(cluster, master string) string {
	return fmt.Sprintf(`# Environment of the Rok daemons and tools (EnvironmentFile= of the rok units).
ROK_CLUSTERNAME=%s
OPENSTORE_CONTROLLER=tcp://%s:8080
ROK_LOG_LEVEL=info
`, cluster, master)
}

func rokConf(appliance string) string {
	return fmt.Sprintf(`# Rok ExtStorage provider for Ganeti: where guest disks are served from
# (the RokE appliance running on this host).
[rok]
openstore_controller = tcp://%s:8080
timeout = 30
`, appliance)
}

func kvmWrapper(appliance string) string {
	return fmt.Sprintf(`#!/bin/sh
# Ganeti's kvm_path: QEMU with the guests' disks served by the local RokE
# appliance through the Rok block driver.
exec /usr/bin/qemu-system-x86_64 -enable-kvm \
    -object rok-openstore,id=rok0,controller=tcp://%s:8080 "$@"
`, appliance)
}

func qemuRokWrapper(appliance string) string {
	return fmt.Sprintf(`#!/bin/sh
# Rok-aware QEMU for snf-image helper VMs.
ROK_OPENSTORE=tcp://%s:8080
export ROK_OPENSTORE
exec /usr/lib/rok/qemu-rok "$@"
`, appliance)
}

const kvmOK = `#!/bin/sh
# kvm-ok: check whether this host can run KVM guests.
if [ -e /dev/kvm ]; then
	echo "INFO: /dev/kvm exists"
	echo "KVM acceleration can be used"
	exit 0
fi
echo "INFO: /dev/kvm does not exist"
exit 1
`

func snfImageDefaults(appliance string) string {
	return fmt.Sprintf(`# snf-image defaults. Uncomment a line to override the default.
# IMAGE_DIR="/var/lib/snf-image"
# IMAGE_DEBUG="no"
# VERSION_CHECK="yes"
# HELPER_DIR="/var/lib/snf-image/helper"
# HELPER_SIZE="600"
# HELPER_SOFT_TIMEOUT="120"
# HELPER_HARD_TIMEOUT="15"
# HELPER_USER="nobody"
# HELPER_MEMORY="512"
# PROGRESS_MONITOR=""
# UNATTEND="no"

# Rok: images come from the OpenStore of the local RokE appliance.
ROK_OPENSTORE="tcp://%s:8080"
`, appliance)
}
