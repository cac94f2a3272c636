#!/usr/bin/env bash
# CI: run the ganeti kinds against the real Ganeti lab (make test-ganeti)
# when this machine can host it; otherwise say why not and succeed.
#
# The lab (../shared/labs/ganeti, see its README.md) runs a 2-node Ganeti 3.0
# cluster on this machine: it needs root, Debian's apt (setup.sh installs
# ganeti, openssh-server, socat, curl, jq, fping, iproute2 ... itself, with
# package scripts kept from starting daemons), network and mount namespaces
# it may mount tmpfs/sysfs in, a writable /var/lib, and the loopback port
# ROKGNT_RAPI_PORT (5080). A failing lab test fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=${SHARED:-../shared}
LAB=$SHARED/labs/ganeti
PORT=${ROKGNT_RAPI_PORT:-5080}

skip() {
  echo "ci: Ganeti lab not run: $*"
  exit 0
}

[[ -x $LAB/setup.sh && -x $LAB/teardown.sh ]] || skip "no lab scripts at $LAB (set SHARED to the shared checkout)"
[[ $(id -u) == 0 ]] || skip "it needs root (running as uid $(id -u))"
[[ $(uname -s) == Linux ]] || skip "it needs Linux namespaces (this is $(uname -s))"
command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1 ||
  skip "it needs a Debian-family system with apt-get (setup.sh installs Debian's ganeti package)"

# Tools setup.sh and teardown.sh use without installing them, and make.
need=()
for p in make openssl mount util-linux iproute2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]} > 0)); then
  echo "ci: installing ${need[*]} for the Ganeti lab"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || skip "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${need[@]}" || skip "could not install ${need[*]}"
fi
# setup.sh installs the rest itself; make sure the archive has Ganeti.
if ! dpkg-query -W -f='${Status}' ganeti 2>/dev/null | grep -q 'install ok installed'; then
  if [[ -z $(apt-cache policy ganeti 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)') ]]; then
    apt-get update -q >/dev/null 2>&1 || true
    [[ -n $(apt-cache policy ganeti 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)') ]] ||
      skip "the apt sources offer no ganeti package"
  fi
fi

# Namespaces: the lab makes a named network namespace and a persistent mount
# namespace, and mounts tmpfs and sysfs inside. Try the same in a throw-away
# pair of namespaces (they vanish with the probe process).
probe=$(mktemp -d)
ok=1
why=$(unshare --mount --net --propagation private sh -ec \
  "mount -t tmpfs rokgnt-probe '$probe'; mount -t sysfs rokgnt-probe /sys; ip link set lo up" 2>&1) || ok=0
rmdir "$probe" 2>/dev/null || true
if ((!ok)); then
  skip "this machine cannot create and mount in network/mount namespaces (${why:-unshare failed}); it needs CAP_SYS_ADMIN and CAP_NET_ADMIN, e.g. a VM or a privileged container"
fi
if [[ ! -d /var/lib || ! -w /var/lib ]]; then
  skip "/var/lib is not writable"
fi

# The RAPI forwarder listens on 127.0.0.1:$PORT; something else there would
# make setup.sh fail (a lab already up is fine: setup.sh reuses it).
if [[ ! -e ${ROKGNT_DIR:-/var/lib/rokgnt}/run/fwd-host.pid ]] &&
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  skip "127.0.0.1:$PORT is taken by another program (set ROKGNT_RAPI_PORT)"
fi

echo "ci: running the Ganeti lab tests (make test-ganeti)"
exec make test-ganeti SHARED="$SHARED"
