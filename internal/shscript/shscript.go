package shscript

// NotFound is the exit status the scripts use for "no such file or
// directory" (EX_NOINPUT), told from other failures by stat's message in
// the C locale.
const NotFound = 66

// checkPath stats $1 (following links) into $m, exiting with NotFound when
// it does not exist and 1 with stat's message for any other failure.
const checkPath = `chk() {
	m=$(LC_ALL=C stat -L -c %a -- "$1" 2>&1) && return 0
	case $m in *': No such file or directory') exit 66;; esac
	printf '%s\n' "$m" >&2
	exit 1
}
`

// Read prints the permission bits of $1 in octal on a line, then its
// contents.
const Read = checkPath + `chk "$1"
printf '%s\n' "$m" && exec cat -- "$1"
`

// Write replaces $1 with its standard input atomically: a temporary
// file beside the target (mktemp, mode 0600 until it is complete), the
// target's owner and mode (or mode $2 for a new file), sync, rename over the
// target, sync of the directory. $3 is the size of the data: a connection
// that drops while it is sent ends the command's input early, and a short
// file must never replace the target. A symbolic link is kept and the file it
// points to replaced. The temporary file is removed on any failure.
const Write = checkPath + `p=$1
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

// Exists succeeds when $1 exists (a dangling symbolic link counts, as
// with lstat).
const Exists = `[ -e "$1" ] || [ -L "$1" ]`

// List prints the names in each directory given, each followed by a
// NUL, and "/" NUL after each directory (no name can be "/"). What is not a
// readable directory lists as empty. Only the fixed patterns * and .* are
// expanded, the directory being quoted; the pattern the caller asked for is
// matched in Go.
const List = `unset GLOBIGNORE; set +f
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

// Kill kills the process group $1 (the kill of a cancelled command, run in
// a second session).
const Kill = `kill -s KILL -- "-$1"`

// PIDReport starts every command line the transport runs: the shell prints
// its pid on stderr, so that a cancelled command's process group can be
// killed from a second session.
const PIDReport = `printf 'rokflow-pid:%s\n' "$$" >&2; `
