package sim

// The fixed scripts rokflow's SSH transport (steps/transport/ssh) runs as
// `sh -c SCRIPT NAME ARG...` for ReadFile, WriteFile, Glob and the kill of
// a cancelled command. The simulator runs exactly these texts, each
// implemented in Go (shell.go), and refuses every other script. They are
// copied verbatim; TestTransportFiles drives the real transport against the
// simulator, so a change on either side shows up there.

const tsCheckPath = `chk() {
	m=$(LC_ALL=C stat -L -c %a -- "$1" 2>&1) && return 0
	case $m in *': No such file or directory') exit 66;; esac
	printf '%s\n' "$m" >&2
	exit 1
}
`

const tsReadScript = tsCheckPath + `chk "$1"
printf '%s\n' "$m" && exec cat -- "$1"
`

const tsWriteScript = tsCheckPath + `p=$1
if [ -L "$p" ]; then p=$(readlink -f -- "$p" && echo .) || exit 1; p=${p%??}; fi
case $p in */*) d=${p%/*}; d=${d:-/};; *) d=.;; esac
b=${p##*/}
chk "$d"
if [ -e "$p" ] && [ ! -f "$p" ]; then printf '%s: not a regular file\n' "$p" >&2; exit 1; fi
t=$(mktemp -- "$d/.$b.rokflow-tmp-XXXXXXXX") || exit 1
trap 'rm -f -- "$t"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; trap 'exit 143' TERM
cat >"$t" || exit 1
s=$(wc -c <"$t") || exit 1
if [ "$s" -ne "$3" ]; then printf '%s: %s of %s bytes arrived; the file is left as it was\n' "$p" "$s" "$3" >&2; exit 1; fi
if [ -e "$p" ]; then
	o=$(stat -L -c %u:%g -- "$p") && n=$(stat -c %u:%g -- "$t") && a=$(stat -L -c %a -- "$p") || exit 1
	if [ "$o" != "$n" ]; then chown -- "$o" "$t" || exit 1; fi
	chmod -- "$a" "$t" || exit 1
else
	chmod -- "$2" "$t" || exit 1
fi
sync -- "$t" 2>/dev/null || sync
mv -f -- "$t" "$p" || exit 1
trap - EXIT
sync -- "$d" 2>/dev/null || sync
`

const tsExistsScript = `[ -e "$1" ] || [ -L "$1" ]`

const tsListScript = `unset GLOBIGNORE; set +f
for d; do
	if [ -d "$d" ]; then
		for f in "$d"/* "$d"/.*; do
			n=${f##*/}
			case $n in .|..) continue;; esac
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$n"; fi
		done
	fi
	printf '/\0'
done
`

const tsKillScript = `kill -s KILL -- "-$1"`

// pidReport is how the transport starts every command line: the shell
// prints its pid on stderr, so that a cancelled command's process group can
// be killed from a second session (host.go). The simulator answers with
// the pid it gave the command.
const pidReport = `printf 'rokflow-pid:%s\n' "$$" >&2; `
