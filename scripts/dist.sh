#!/usr/bin/env bash
# Builds rokflow's release files in dist/ (make dist). For each of $ARCHS,
# on linux:
#   rokflow_VERSION_linux_ARCH.tar.gz  the binaries rokflow and rokflow-sim
#                                      (the simulator), README.md, docs/,
#                                      examples/ and playbooks/ (lib and the
#                                      shipped playbooks) in one directory
#   rokflow_DEBVERSION_ARCH.deb        /usr/bin/rokflow and /usr/bin/rokflow-sim,
#                                      the same documents in
#                                      /usr/share/doc/rokflow, the playbooks
#                                      in /usr/share/rokflow/playbooks
# and SHA256SUMS over them. The binaries are static (CGO_ENABLED=0). The
# files are reproducible: the same commit gives the same bytes (times are
# the commit's, owners root, entries sorted).
#
# Environment: VERSION (required; make passes RELEASE+commit), LDFLAGS,
# ARCHS (default "amd64 arm64"), GO, DIST_DIR (default dist),
# DEB_MAINTAINER, SOURCE_DATE_EPOCH (default: the commit's time).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

GO=${GO:-go}
ARCHS=${ARCHS:-amd64 arm64}
: "${VERSION:?VERSION is not set (run make dist)}"
LDFLAGS=${LDFLAGS:-"-s -w -X main.Version=$VERSION"}
OUT=${DIST_DIR:-dist}
MAINTAINER=${DEB_MAINTAINER:-rokflow maintainers <maintainers@rokflow.invalid>}

case $VERSION in
[0-9]*) ;;
*)
	echo "dist: VERSION $VERSION must start with a digit" >&2
	exit 2
	;;
esac
case $VERSION in
*[!0-9A-Za-z.+~-]*)
	echo "dist: VERSION $VERSION may hold only letters, digits and . + ~ -" >&2
	exit 2
	;;
esac
# A Debian version's last hyphen would start a Debian revision: hyphens
# become tildes, which sort before what they follow (0.2.0~rc1 < 0.2.0, a
# dirty tree's build before the clean one's).
deb_version=${VERSION//-/\~}

for tool in git tar gzip dpkg-deb sha256sum; do
	if ! command -v "$tool" >/dev/null; then
		echo "dist: $tool is needed (on Debian: apt-get install dpkg coreutils tar gzip git)" >&2
		exit 1
	fi
done

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The documents shipped: tracked files only, never test data.
mapfile -t docs < <(git ls-files -- README.md LICENSE 'docs/*.md')
mapfile -t examples < <(git ls-files -- examples)
mapfile -t playbooks < <(git ls-files -- playbooks | grep -v '^playbooks/testdata/')

# copy FILE… DEST: copies files to DEST keeping their paths.
copy() {
	local dest=${*: -1}
	local f
	for f in "${@:1:$#-1}"; do
		install -D -m 0644 -- "$f" "$dest/$f"
	done
}

# settle sets every time in a tree to SOURCE_DATE_EPOCH.
settle() {
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

rm -rf "$OUT"
mkdir -p "$OUT"
for arch in $ARCHS; do
	name=rokflow_${VERSION}_linux_${arch}
	stage=$work/$name
	echo "dist: building linux/$arch"
	for prog in rokflow rokflow-sim; do
		CGO_ENABLED=0 GOOS=linux GOARCH=$arch "$GO" build -trimpath -ldflags "$LDFLAGS" -o "$stage/$prog" "./cmd/$prog"
		chmod 0755 "$stage/$prog"
	done
	copy "${docs[@]}" "${examples[@]}" "${playbooks[@]}" "$stage"
	settle "$stage"
	tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --format=gnu -cf - "$name" |
		gzip -9 -n >"$OUT/$name.tar.gz"

	root=$work/deb-$arch
	install -D -m 0755 "$stage/rokflow" "$root/usr/bin/rokflow"
	install -D -m 0755 "$stage/rokflow-sim" "$root/usr/bin/rokflow-sim"
	(cd "$stage" && copy "${docs[@]}" "${examples[@]}" "$root/usr/share/doc/rokflow")
	(cd "$stage/playbooks" && copy "${playbooks[@]#playbooks/}" "$root/usr/share/rokflow/playbooks")
	mkdir -p "$root/DEBIAN"
	cat >"$root/DEBIAN/control" <<EOF
Package: rokflow
Version: $deb_version
Architecture: $arch
Maintainer: $MAINTAINER
Installed-Size: $(du -s --apparent-size --block-size=1024 "$root/usr" | cut -f1)
Section: admin
Priority: optional
Homepage: https://github.com/rokflow/rokflow
Description: declarative upgrade playbooks for clusters
 rokflow runs cluster upgrades written as declarative HCL playbooks: it
 validates a playbook, shows a plan of what will happen on which node, and
 runs it step by step, journaling every transition so that an interrupted
 upgrade resumes where it stopped.
 .
 The shipped playbooks and their modules are in /usr/share/rokflow/playbooks.
EOF
	settle "$root"
	dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/rokflow_${deb_version}_${arch}.deb" >/dev/null
done

(cd "$OUT" && sha256sum -- *.tar.gz *.deb >SHA256SUMS)
echo "dist: in $OUT/:"
(cd "$OUT" && ls -l -- *.tar.gz *.deb SHA256SUMS | awk '{printf "  %-48s %9d bytes\n", $NF, $5}')
