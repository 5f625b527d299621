#!/bin/sh
# `make install` / `make uninstall` and an administrator's configuration
# (issue 18, fault 4): installs into a DESTDIR twice with an edited
# threatmilter.conf in between; the edit survives both the second install
# and `make uninstall`, the new sample goes beside it, integration files
# are 0640. Run from make check (TM_BINARY names the build tree) or as
#	tests/pkg/test-install.sh [BUILDDIR]
# Ends with "N passed, N failed"; exits non-zero if anything failed.
set -u
build=${1:-$(dirname "${TM_BINARY:-./threatmilter}")}
build=$(cd "$build" && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest" "$dest.log"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
check() {	# check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
mk() { make -s -C "$build" "$@" DESTDIR="$dest" >"$dest.log" 2>&1 || { cat "$dest.log"; return 1; }; }

sysconf=$(sed -n 's/^sysconfdir = //p' "$build/Makefile" | sed "s|\${prefix}|$(sed -n 's/^prefix = //p' "$build/Makefile")|")
conf="$dest$sysconf/threatmilter/threatmilter.conf"
idir="$dest$sysconf/threatmilter/integrations.d"

check "first make install" mk install
check "threatmilter.conf installed" test -f "$conf"
check "no .dist on a first install" test ! -e "$conf.dist"
modes=$(stat -c '%a' "$idir"/*.example | sort -u)
check "integration examples installed 0640 (they take API keys)" test "$modes" = 640
check "threatmilter.conf not executable, readable" test "$(stat -c '%a' "$conf")" = 644

printf 'Socket local:/run/edited.sock\n' >>"$conf"
cp "$idir/spamhaus.conf.example" "$idir/spamhaus.conf"
check "second make install" mk install
check "edited threatmilter.conf kept by make install" grep -q '^Socket local:/run/edited.sock' "$conf"
check "the new sample beside it as threatmilter.conf.dist" test -f "$conf.dist"
check "the administrator's integration file kept" test -f "$idir/spamhaus.conf"
rm -f "$idir/spamhaus.conf"
check "third make install (unchanged edit)" mk install
check "edited threatmilter.conf kept again" grep -q '^Socket local:/run/edited.sock' "$conf"

check "make uninstall" mk uninstall
check "edited threatmilter.conf kept by make uninstall" grep -q '^Socket local:/run/edited.sock' "$conf"
check "threatmilter.conf.dist removed" test ! -e "$conf.dist"
check "binaries removed" test -z "$(find "$dest" -name 'threatmilter*' -path '*sbin*')"
check "integration examples removed" test -z "$(find "$dest" -name '*.example')"

rm -f "$conf"
check "install + uninstall of an unedited configuration" mk install
check "(make uninstall)" mk uninstall
left=$(find "$dest" -type f)
check "an unedited configuration leaves no file behind" test -z "$left"
[ -n "$left" ] && echo "$left"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
