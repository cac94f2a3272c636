#!/usr/bin/env bash
# Checks what make dist built (make dist-check; CI runs it): every tarball
# holds the binary and the documents and no test data, SHA256SUMS covers
# every file and matches, each .deb has the right fields and files owned by
# root, the binaries are static builds for their architecture carrying the
# version, the .deb's binary is the tarball's, and the binary for this
# machine runs `version`.
#
# Environment: VERSION (default: read from the amd64 tarball's name), ARCHS
# (default "amd64 arm64"), DIST_DIR (default dist), GO.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${DIST_DIR:-dist}
ARCHS=${ARCHS:-amd64 arm64}
GO=${GO:-go}

fail() {
	echo "check-dist: $*" >&2
	exit 1
}

if [ -z "${VERSION:-}" ]; then
	shopt -s nullglob
	found=("$OUT"/rokflow_*_linux_amd64.tar.gz)
	shopt -u nullglob
	[ ${#found[@]} -eq 1 ] || fail "want one $OUT/rokflow_*_linux_amd64.tar.gz, found ${#found[@]}"
	VERSION=${found[0]#"$OUT"/rokflow_}
	VERSION=${VERSION%_linux_amd64.tar.gz}
fi
deb_version=${VERSION//-/\~}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The checksums cover exactly the release files, and match.
want_files=()
for arch in $ARCHS; do
	want_files+=("rokflow_${VERSION}_linux_${arch}.tar.gz" "rokflow_${deb_version}_${arch}.deb")
done
listed=$(awk '{print $2}' "$OUT/SHA256SUMS" | sort)
wanted=$(printf '%s\n' "${want_files[@]}" | sort)
[ "$listed" = "$wanted" ] || fail "SHA256SUMS lists:"$'\n'"$listed"$'\n'"want:"$'\n'"$wanted"
(cd "$OUT" && sha256sum --quiet --strict -c SHA256SUMS) || fail "SHA256SUMS does not match"

here=$("$GO" env GOARCH)
ran=false
for arch in $ARCHS; do
	name=rokflow_${VERSION}_linux_${arch}
	tgz=$OUT/$name.tar.gz
	deb=$OUT/rokflow_${deb_version}_${arch}.deb

	# The tarball: one directory with the binary and the documents.
	tar -tzf "$tgz" >"$work/list"
	for f in rokflow rokflow-sim README.md docs/plan-json.md docs/events-json.md examples/README.md \
		playbooks/rok-v0.11/main.hcl playbooks/lib/node-upgrade/main.hcl; do
		grep -qx "$name/$f" "$work/list" || fail "$tgz lacks $name/$f"
	done
	if grep -v "^$name/" "$work/list" | grep -q .; then
		fail "$tgz has entries outside $name/"
	fi
	if grep -q testdata "$work/list"; then
		fail "$tgz ships test data"
	fi
	for prog in rokflow rokflow-sim; do
		tar -tvzf "$tgz" "$name/$prog" | grep -q '^-rwxr-xr-x 0/0 ' || fail "$tgz: $prog is not an executable owned by root"
	done
	mkdir -p "$work/$arch"
	tar -C "$work/$arch" -xzf "$tgz"
	bin=$work/$arch/$name/rokflow

	# The binary: built for linux/ARCH, static, with the version.
	"$GO" version -m "$bin" >"$work/buildinfo"
	for want in "GOOS=linux" "GOARCH=$arch" "CGO_ENABLED=0"; do
		grep -q -- "$want" "$work/buildinfo" || fail "$bin: build info lacks $want"
	done
	# (-trimpath leaves -ldflags out of the build info.)
	grep -aqF -- "$VERSION" "$bin" || fail "$bin does not carry the version $VERSION"

	# The .deb: its fields, its files, its binary the tarball's.
	dpkg-deb --info "$deb" >"$work/info"
	for want in "Package: rokflow" "Version: $deb_version" "Architecture: $arch"; do
		grep -qx " $want" "$work/info" || fail "$deb: dpkg-deb --info lacks $want"
	done
	dpkg-deb --contents "$deb" >"$work/contents"
	for f in usr/bin/rokflow usr/bin/rokflow-sim usr/share/doc/rokflow/README.md usr/share/doc/rokflow/docs/plan-json.md \
		usr/share/rokflow/playbooks/rok-v0.11/main.hcl; do
		grep -q " \./$f\$" "$work/contents" || fail "$deb lacks /$f"
	done
	if awk '{print $2}' "$work/contents" | grep -qv '^root/root$'; then
		fail "$deb has files not owned by root"
	fi
	grep -q '^-rwxr-xr-x root/root .* \./usr/bin/rokflow$' "$work/contents" || fail "$deb: /usr/bin/rokflow is not executable"
	dpkg-deb -x "$deb" "$work/deb-$arch"
	grep -q '^-rwxr-xr-x root/root .* \./usr/bin/rokflow-sim$' "$work/contents" || fail "$deb: /usr/bin/rokflow-sim is not executable"
	cmp -s "$bin" "$work/deb-$arch/usr/bin/rokflow" || fail "$deb: its binary is not the tarball's"
	cmp -s "$bin-sim" "$work/deb-$arch/usr/bin/rokflow-sim" || fail "$deb: its rokflow-sim is not the tarball's"

	# The binary for this machine runs.
	if [ "$arch" = "$here" ]; then
		out=$("$bin" version)
		case $out in
		"rokflow $VERSION "*) ;;
		*) fail "$bin version printed: $out" ;;
		esac
		echo "check-dist: $out"
		out=$("$bin-sim" version)
		[ "$out" = "rokflow-sim $VERSION" ] || fail "$bin-sim version printed: $out"
		ran=true
	fi
	echo "check-dist: $name.tar.gz and rokflow_${deb_version}_${arch}.deb are right"
done
$ran || echo "check-dist: no binary for this machine ($here) to run"
