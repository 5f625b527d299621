#!/bin/sh
# One default configuration path everywhere (issue 18, faults 5 and 9):
# the man pages and the systemd unit are generated at make time with this
# build's sysconfdir and sbindir (the man pages printed a literal
# "${prefix}" and the unit named /usr/sbin for a /usr/local build), and the
# generated unit passes `systemd-analyze verify` (skipped without systemd).
# Run from make check (TM_BINARY names the build tree) or as
#	tests/pkg/test-paths.sh [BUILDDIR]
# Ends with "N passed, N failed"; exits non-zero if anything failed.
set -u
build=${1:-$(dirname "${TM_BINARY:-./threatmilter}")}
build=$(cd "$build" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# This build's directories, as make expands them
cat >"$work/print.mk" <<'MK'
include Makefile
print-paths:
	@echo "sysconfdir=$(sysconfdir)"; echo "sbindir=$(sbindir)"
MK
eval "$(make -s -C "$build" -f "$work/print.mk" print-paths)"
conf="$sysconfdir/threatmilter/threatmilter.conf"
case $conf in /*) ok "sysconfdir expands to an absolute path ($conf)" ;;
	*) fail "sysconfdir does not expand: $conf" ;; esac

for f in man/threatmilter.8 man/threatmilter.conf.5 contrib/threatmilter.service; do
	if [ ! -f "$build/$f" ]; then
		fail "$f not generated"; continue
	fi
	if grep -n -e '\${' -e '@[a-zA-Z_]*@' "$build/$f" >"$work/left"; then
		fail "$f keeps unexpanded variables:"; sed 's/^/     /' "$work/left"
	else
		ok "$f: no \${prefix} or @var@ left"
	fi
	if grep -q -F "$conf" "$build/$f"; then
		ok "$f names $conf"
	else
		fail "$f does not name $conf"
	fi
done
unit=$build/contrib/threatmilter.service
if grep -q "^ExecStart=$sbindir/threatmilter -f -c $conf\$" "$unit"; then
	ok "the unit starts $sbindir/threatmilter with $conf"
else
	fail "the unit's ExecStart:"; grep '^Exec' "$unit" | sed 's/^/     /'
fi
if grep -q -F "$conf" "$build/man/threatmilter.8" &&
   "$build/threatmilter" -h 2>&1 | grep -q -F "$conf"; then
	ok "threatmilter -h and threatmilter(8) agree on $conf"
elif "$build/threatmilter" -h 2>&1 | grep -q 'threatmilter.conf'; then
	fail "threatmilter -h names another configuration path than $conf:"
	"$build/threatmilter" -h 2>&1 | grep 'threatmilter.conf' | sed 's/^/     /'
else
	ok "threatmilter -h names no configuration path (nothing to disagree)"
fi

# systemd-analyze verify needs the executables to exist: the installed
# path is replaced by the build's binary; warnings count as failures.
if command -v systemd-analyze >/dev/null; then
	sed "s|$sbindir/threatmilter|$build/threatmilter|g" "$unit" >"$work/threatmilter.service"
	if systemd-analyze verify --man=no "$work/threatmilter.service" >"$work/out" 2>&1 &&
	   [ ! -s "$work/out" ]; then
		ok "systemd-analyze verify: no error, no warning"
	else
		fail "systemd-analyze verify:"; sed 's/^/     /' "$work/out"
	fi
else
	echo "skip systemd-analyze verify: no systemd-analyze (apt-get install systemd)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
