#!/bin/bash
# The Debian package end to end (issue 18, "Debian package"): builds it
# with dpkg-buildpackage from a copy of this tree, runs lintian (no error
# allowed), installs it with apt-get, starts the daemon FROM THE PACKAGE
# as its systemd unit would (ExecStartPre, ExecStart; no systemd is
# needed) with the packaged configuration and user, against a private
# Postfix (tests/e2e/postfix-harness.sh) and a mock Spamhaus, sends a mail,
# checks the verdict header at the sink, purges the package and checks
# that nothing is left but the system user (Debian Policy does not make it
# go). Needs root, apt, dpkg-dev, debhelper, lintian, postfix, swaks;
# refuses to run when threatmilter is already installed (it would purge
# it). Takes about a minute.
#	tests/pkg/test-package.sh [SRCDIR]
# Ends with "N passed, N failed"; exits non-zero if anything failed.
set -u
src=$(cd "${1:-${TM_SRCDIR:-$(dirname "$0")/../..}}" && pwd)
PYTHON3=${PYTHON3:-python3}
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
check() {	# check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

for tool in dpkg-buildpackage dh lintian apt-get swaks; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool missing (contrib/install-deps.sh installs it)"; finish
	fi
done
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/postfix ]; then
	echo "skip: needs root and postfix"; finish
fi
if dpkg-query -W -f '${Status}' threatmilter 2>/dev/null | grep -q installed; then
	echo "refused: the threatmilter package is installed here; this test would purge it"
	failed=1; finish
fi

work=$(mktemp -d)
chmod 755 "$work"
daemon_pid= dns_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	[ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null
	declare -F pf_cleanup >/dev/null && pf_cleanup
	if dpkg-query -W -f '${Status}' threatmilter 2>/dev/null | grep -q installed; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q threatmilter >/dev/null 2>&1
	fi
	[ "${TM_KEEP:-}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

# ------------------------------------------------------------ build
t=$(now)
mkdir "$work/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$src" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -) |
		tar -xf - -C "$work/src"
else
	cp -a "$src/." "$work/src/"
fi
# the README's step before the build (which has no network): Debian's
# sendmail source, for the libmilter without the worker pool
if [ ! -d "$work/src/libmilter-source" ]; then
	if [ -d "$src/libmilter-source" ]; then
		cp -a "$src/libmilter-source" "$work/src/"
	else
		sh "$work/src/contrib/build-libmilter.sh" --fetch "$work/src/libmilter-source" >/dev/null
	fi
fi
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1)
rc=$?
deb=$(ls "$work"/threatmilter_*_amd64.deb 2>/dev/null | head -1)
if [ $rc -eq 0 ] && [ -n "$deb" ]; then
	ok "dpkg-buildpackage -us -uc -b: $(basename "$deb") ($(took "$t") s)"
else
	fail "dpkg-buildpackage (exit $rc):"; tail -30 "$work/build.log"; finish
fi
# libmilter without the worker pool, linked statically (README, "Busy sites")
check "Built-Using names the sendmail source package" \
	sh -c "dpkg-deb -f '$deb' Built-Using | grep -q '^sendmail (= '"

lintian --pedantic -I "$work"/threatmilter_*_amd64.changes >"$work/lintian.log" 2>&1
sed 's/^/     lintian: /' "$work/lintian.log" | grep -v 'root privileges'
check "lintian: no error" test "$(grep -c '^E:' "$work/lintian.log")" = 0

# ------------------------------------------------------------ install
t=$(now)
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"$deb" >"$work/install.log" 2>&1; then
	ok "apt-get install ./$(basename "$deb") ($(took "$t") s)"
else
	fail "apt-get install:"; tail -20 "$work/install.log"; finish
fi
check "binaries in /usr/sbin" test -x /usr/sbin/threatmilter -a -x /usr/sbin/threatmilterctl
check "threatmilter does not load Debian's libmilter (worker pool)" \
	sh -c "! ldd /usr/sbin/threatmilter | grep -q libmilter"
check "/etc/threatmilter/threatmilter.conf is a conffile" \
	sh -c "dpkg-query -W -f '\${Conffiles}' threatmilter | grep -q ' /etc/threatmilter/threatmilter.conf '"
check "integration examples under /usr/share/doc/threatmilter/examples" \
	test -f /usr/share/doc/threatmilter/examples/spamhaus.conf.example
check "man pages installed" test -f /usr/share/man/man8/threatmilter.8.gz -a \
	-f /usr/share/man/man5/threatmilter.conf.5.gz
check "system user threatmilter" sh -c 'getent passwd threatmilter | grep -q ":/nonexistent:/usr/sbin/nologin$"'
check "integrations.d is root:threatmilter 0750 (API keys)" \
	test "$(stat -c '%U:%G %a' /etc/threatmilter/integrations.d)" = "root:threatmilter 750"
check "/run/threatmilter by tmpfiles.d: threatmilter:threatmilter 0750" \
	test "$(stat -c '%U:%G %a' /run/threatmilter 2>&1)" = "threatmilter:threatmilter 750"
check "/var/spool/postfix/threatmilter by tmpfiles.d: threatmilter:postfix 0750" \
	test "$(stat -c '%U:%G %a' /var/spool/postfix/threatmilter 2>&1)" = "threatmilter:postfix 750"
check "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/threatmilter.service
check "the unit is not started (no threatmilter process)" \
	sh -c '! pgrep -u threatmilter >/dev/null'
unit=/lib/systemd/system/threatmilter.service
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" >"$work/verify.log" 2>&1
	vrc=$?
	check "systemd-analyze verify $unit: no error, no warning" \
		test "$vrc" -eq 0 -a ! -s "$work/verify.log" || cat "$work/verify.log"
fi

# ------------------------------------------------------------ run
# The administrator's first integration: Spamhaus from the examples, here
# asking the mock DNS server instead of a resolver on the network.
"$PYTHON3" "$src/tests/mock/mock_dns.py" --port 0 --ports-file "$work/dns.ports" \
	>"$work/dns.log" 2>&1 &
dns_pid=$!
for _ in $(seq 100); do [ -s "$work/dns.ports" ] && break; sleep 0.1; done
dns_port=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dns"])' "$work/dns.ports")
integration=/etc/threatmilter/integrations.d/spamhaus.conf
install -m 0640 -o root -g threatmilter \
	/usr/share/doc/threatmilter/examples/spamhaus.conf.example "$integration"
echo "DNSServers 127.0.0.1:$dns_port" >>"$integration"

# As the unit: ExecStartPre, then ExecStart in the foreground, as root
# (the daemon drops to UserID threatmilter itself).
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
check "ExecStartPre ($pre) accepts the packaged configuration" $pre
$start >"$work/daemon.log" 2>&1 &
daemon_pid=$!
sock=/var/spool/postfix/threatmilter/threatmilter.sock
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
check "ExecStart ($start) opens $sock" test -S "$sock" || cat "$work/daemon.log"
check "the socket is threatmilter:postfix 0660" \
	test "$(stat -c '%U:%G %a' "$sock" 2>&1)" = "threatmilter:postfix 660"
check "the daemon runs as threatmilter" \
	test "$(ps -o user= -p "$daemon_pid" 2>/dev/null | tr -d ' ')" = threatmilter
check "PidFile /run/threatmilter/threatmilter.pid holds its pid" \
	test "$(cat /run/threatmilter/threatmilter.pid 2>/dev/null)" = "$daemon_pid"

# Postfix, as the README's snippet says (no chroot in the private instance,
# so the socket's full path; a chrooted smtpd says unix:/threatmilter/...)
. "$src/tests/e2e/postfix-harness.sh"
export TM_PF_MILTER="unix:$sock" TM_PF_BACKOFF=1s \
	TM_PF_MAIN_EXTRA="milter_default_action = tempfail"
if sink_start && pf_start; then
	ok "private Postfix with smtpd_milters = unix:$sock"
else
	fail "private Postfix did not start"; finish
fi
t=$(now)
cat >"$work/mail.eml" <<'MAIL'
Received: from origin.example (origin.example [192.0.2.10])
	by relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000
From: alice@example.net
To: bob@example.com
Subject: package test
MIME-Version: 1.0
Content-Type: text/plain

Please check http://www.suspicious-login.example/account today.
MAIL
swaks --server "127.0.0.1:$TM_PF_PORT" --from alice@example.net --to bob@example.com \
	--data "@$work/mail.eml" --timeout 60 >"$work/swaks.log" 2>&1
check "Postfix accepts the mail (250 after DATA)" grep -q '^<-  250 .*queued as' "$work/swaks.log" ||
	tail -5 "$work/swaks.log"
if sink_wait_count 1 30; then
	msg=$(ls "$TM_SINK_DIR"/* | head -1)
	ok "the mail reaches the sink ($(took "$t") s after sending)"
	grep -i '^X-Threat' "$msg" | sed 's/^/     /'
	check "verdict header at the sink: X-Threat-Verdict: suspicious" \
		grep -q -i '^X-Threat-Verdict: suspicious' "$msg"
	check "the verdict comes from the packaged integration (spamhaus-zen)" \
		grep -q -i '^X-Threat-Report: spamhaus-zen ' "$msg"
else
	fail "no mail at the sink"; tail -5 "$work/daemon.log"
fi

# Stop as the unit would (KillSignal=SIGTERM)
kill -TERM "$daemon_pid"
for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops the daemon" sh -c "! kill -0 $daemon_pid 2>/dev/null"
daemon_pid=
pf_cleanup
# the administrator's integration file (an API key) is left for purge

# ------------------------------------------------------------ purge
t=$(now)
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q threatmilter >"$work/purge.log" 2>&1; then
	ok "apt-get purge threatmilter ($(took "$t") s)"
else
	fail "apt-get purge:"; tail -20 "$work/purge.log"
fi
check "no package left (dpkg)" sh -c '! dpkg-query -W -f "\${Status}" threatmilter 2>/dev/null | grep -q installed'
left=
for p in /etc/threatmilter /usr/sbin/threatmilter /usr/sbin/threatmilterctl "$unit" \
	/usr/lib/tmpfiles.d/threatmilter.conf /usr/share/doc/threatmilter \
	/usr/share/man/man8/threatmilter.8.gz /usr/share/man/man5/threatmilter.conf.5.gz \
	/etc/systemd/system/multi-user.target.wants/threatmilter.service \
	/run/threatmilter /var/spool/postfix/threatmilter; do
	[ -e "$p" ] || [ -L "$p" ] && left="$left $p"
done
left="$left $(find /var/lib/systemd/deb-systemd-helper-enabled -name 'threatmilter*' 2>/dev/null)"
left=$(echo $left)
check "nothing left after purge${left:+:$left}" test -z "$left"
check "purge removed the administrator's integration file (its API key)" \
	test ! -e "$integration"
if getent passwd threatmilter >/dev/null; then
	echo "     the system user threatmilter stays (Debian Policy does not require removing it; files it owned may remain)"
fi
finish
