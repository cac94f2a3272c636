#!/usr/bin/env bash
# The main job: the Rok v0.11 upgrade, end to end, against the built-in
# simulator: a Rok appliance cluster, then RokE on a Ganeti cluster. For
# each: start the simulator, show the plan (with discovery), run the whole
# upgrade unattended, show the final cluster, stop the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
ROKFLOW=${ROKFLOW:-./bin/rokflow}
PLAYBOOK=playbooks/rok-v0.11
BASE=${DEMO_DIR:-.rokflow/demo}

running=()
cleanup() {
	for d in "${running[@]}"; do "$ROKFLOW" sim stop --dir "$d" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

banner() { printf '\n\033[1m== %s ==\033[0m\n\n' "$*"; }
[ -n "${NO_COLOR:-}" ] && banner() { printf '\n== %s ==\n\n' "$*"; }

demo() {
	local platform=$1
	shift
	local dir=$BASE/$platform
	banner "Rok v0.11 upgrade on a simulated $platform cluster"
	"$ROKFLOW" sim start --dir "$dir" --reset --platform "$platform" --auto-operator "$@"
	running+=("$dir")
	set -a
	# shellcheck disable=SC1091
	. "$dir/sim.env"
	set +a

	banner "The cluster before"
	"$ROKFLOW" sim status --dir "$dir"

	banner "The plan (read-only steps ran to discover the cluster)"
	"$ROKFLOW" plan "$PLAYBOOK" --var-file "$dir/sim.vars.hcl" --discover

	banner "The upgrade"
	"$ROKFLOW" apply "$PLAYBOOK" --var-file "$dir/sim.vars.hcl" --state "file://$dir/state" --auto-approve

	banner "The cluster after"
	"$ROKFLOW" sim status --dir "$dir"
	"$ROKFLOW" sim stop --dir "$dir"
	running=()
}

demo appliance --nodes 3
demo ganeti --hosts 3 --guests 2
banner "Both upgrades completed"
