#!/bin/bash
# Self-test of the private-Postfix harness (postfix-harness.sh) and of the
# null milter (bench/null-milter.c), as root:
#   1. builds the null milter with -Werror;
#   2. sink + Postfix without a milter: 3 mails by swaks and 20 by
#      smtp-source all reach the sink, header and body intact;
#   3. the same path through the null milter on a UNIX socket, then on
#      inet:127.0.0.1:PORT;
#   4. with the milter killed, Postfix answers 4xx (milter_default_action =
#      tempfail) so the client keeps the message; after the milter is back
#      the same message goes through;
#   5. with the sink down, mail waits in the deferred queue; pf_flush,
#      postsuper -h / pf_hold_count / pf_release_all work on it.
# Ends with "N passed, N failed"; exits non-zero on any failure. Everything
# is stopped and removed at exit, whatever happened (TM_PF_KEEP=1 keeps
# the instance directory for inspection).

# shellcheck source-path=SCRIPTDIR disable=SC2317
# (SC2317: the functions below run through check and the traps)
# run-all.sh runs this with sh: the harness is a bash library
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
started=${EPOCHREALTIME/./}
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: one test case, passing if COMMAND succeeds
check() {
	local desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
		return 1
	fi
}

finish() {
	local elapsed=$(((${EPOCHREALTIME/./} - started) / 1000))
	echo "# $((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000))) s"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ]; then
	echo "# the harness needs root (Postfix's master, smtp-sink -u)"
	not_ok "running as root"
	finish
fi
for cmd in postfix smtp-sink smtp-source swaks cc setpriv; do
	if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
		not_ok "$cmd is installed"
		finish
	fi
done
export PATH="$PATH:/usr/sbin:/sbin"

. "$here/postfix-harness.sh"

work=$(mktemp -d /tmp/tm-harness-test.XXXXXX) || exit 1
chmod 755 "$work"
# milter sockets live here, owned by the user the milter runs as
mkdir "$work/milter" && chown postfix:postfix "$work/milter"
milter_pid=
token="tm$$x$RANDOM"	# tells this run's messages from any other

cleanup() {
	local rc=$?
	[ -n "$milter_pid" ] && kill -KILL "$milter_pid" 2>/dev/null
	if [ "$failed" -gt 0 ] && [ -n "${TM_PF_LOG:-}" ] && [ -f "$TM_PF_LOG" ]; then
		echo "# last lines of $TM_PF_LOG:"
		tail -25 "$TM_PF_LOG" | sed 's/^/#   /'
	fi
	pf_cleanup
	[ "${TM_PF_KEEP:-0}" = 1 ] || rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# milter_start SPEC: the null milter as user postfix on SPEC, verbose
# (one line per accepted message in $work/milter.log); waits until it
# listens
milter_start() {
	local deadline=$(($(_tm_now_ms) + 5000))
	: >"$work/milter.log"
	setpriv --reuid=postfix --regid=postfix --clear-groups -- \
		"$work/null-milter" -v -p "$1" >>"$work/milter.log" 2>&1 </dev/null &
	milter_pid=$!
	# not a job of ours any more: its killing is not reported on stderr
	disown "$milter_pid"
	while [ "$(_tm_now_ms)" -lt "$deadline" ]; do
		grep -q '^null-milter: listening on' "$work/milter.log" && return 0
		kill -0 "$milter_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$work/milter.log"
	return 1
}

# milter_kill: a crash, not a clean stop: libmilter takes up to 5 s to
# exit on SIGTERM, its socket still accepting meanwhile
milter_kill() {
	kill -KILL "$milter_pid" 2>/dev/null
	tm_wait_pid_gone "$milter_pid" 5 || return 1
	milter_pid=
}

milter_accepted() { grep -c '^null-milter: accepted' "$work/milter.log"; }

# send NAME [swaks options]: one message whose header X-TM-Test and body
# carry NAME and this run's token; swaks' transcript in $work/NAME.swaks
send() {
	local name=$1
	shift
	swaks --server "127.0.0.1:$TM_PF_PORT" --from "sender@example.net" \
		--to "rcpt@example.com" --header "X-TM-Test: $name-$token" \
		--body "body of $name-$token" "$@" >"$work/$name.swaks" 2>&1
}

# delivered NAME: the sink holds exactly one message with NAME's header,
# and it has NAME's body
delivered() {
	local files
	files=$(sink_grep "X-TM-Test: $1-$token")
	[ "$(grep -c . <<<"$files")" -eq 1 ] &&
		grep -qxF "body of $1-$token" "$files"
}

# source_mails N: smtp-source sends N messages over 4 sessions
source_mails() {
	smtp-source -s 4 -m "$1" -c -f "source-$token@example.net" \
		-t rcpt@corp.example -S "smtp-source $token" \
		"127.0.0.1:$TM_PF_PORT" >>"$work/smtp-source.out" 2>&1
}

# wait_deferred N TIMEOUT_S: N messages wait in the deferred queue
wait_deferred() {
	local deadline=$(($(_tm_now_ms) + $2 * 1000))
	while [ "$(_tm_now_ms)" -lt "$deadline" ]; do
		[ "$(pf_queue_count deferred)" -eq "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# refused_4xx NAME: swaks failed to send NAME, on a 451 from Postfix
refused_4xx() {
	! send "$1" && grep -q '^<\*\* 451 4\.7\.1' "$work/$1.swaks"
}

# only_loopback: every listening socket of the instance and the sink is
# on 127.0.0.1
only_loopback() {
	local pids pid lines
	pids="$(_tm_instance_pids) ${TM_SINK_PID:-}"
	lines=$(ss -Hltunp 2>/dev/null)
	local found=0
	for pid in $pids; do
		while read -r _ _ _ _ local_addr _; do
			[ -n "$local_addr" ] || continue
			found=$((found + 1))
			case $local_addr in
			127.0.0.1:*) ;;
			*) echo "# pid $pid listens on $local_addr"; return 1 ;;
			esac
		done < <(grep "pid=$pid," <<<"$lines")
	done
	[ "$found" -ge 2 ]
}

# ------------------------------------------------------------ build
check "null-milter builds with -Werror" \
	cc -std=gnu11 -O2 -Wall -Wextra -Wshadow -Wpointer-arith -Wformat=2 \
	-Wmissing-prototypes -Wstrict-prototypes -Werror \
	-o "$work/null-milter" "$top/bench/null-milter.c" -lmilter -lpthread
[ -x "$work/null-milter" ] || finish

# ------------------------------------------------------------ no milter
unset TM_PF_DIR TM_PF_PORT TM_SINK_PORT TM_PF_MILTER
check "sink starts" sink_start || finish
check "postfix starts and answers on 127.0.0.1" pf_start || finish
check "postfix check finds nothing wrong" \
	test -z "$(postfix -c "$TM_PF_ETC" check 2>&1)"
check "nothing listens beyond 127.0.0.1" only_loopback
check "no milter configured" test -z "$(postconf -c "$TM_PF_ETC" -h smtpd_milters)"

for i in 1 2 3; do
	check "swaks mail $i accepted" send "plain$i"
done
check "smtp-source sends 20 mails" source_mails 20
check "the sink receives all 23" sink_wait_count 23 30
check "the queue drains" pf_wait_queue_empty 10
check "exactly 23 in the sink" test "$(sink_count)" -eq 23
for i in 1 2 3; do
	check "swaks mail $i arrives with its header and body" delivered "plain$i"
done
check "20 smtp-source mails arrive" \
	test "$(sink_grep "X-Mail-Args: <source-$token@example.net>" | grep -c .)" -eq 20
check "mail went through the instance (its Received header)" \
	test -n "$(sink_grep "by mx.tm-test.invalid (Postfix) with ESMTP")"
check "pf_queue_json runs" pf_queue_json
check "nothing on hold" test "$(pf_hold_count)" -eq 0

# ------------------------------------------------------------ unix milter
sock="$work/milter/null.sock"
check "null milter listens on unix:$sock" milter_start "unix:$sock"
check "postfix switches to the unix milter" pf_set_milter "unix:$sock"
for i in 1 2 3; do
	check "swaks mail $i through the unix milter" send "unix$i"
done
check "smtp-source sends 10 through the unix milter" source_mails 10
check "the sink receives them" sink_wait_count 36 30
for i in 1 2 3; do
	check "unix-milter mail $i arrives intact" delivered "unix$i"
done
check "the milter accepted all 13" test "$(milter_accepted)" -eq 13
check "the unix milter is killed" milter_kill
check "with the unix milter down, mail is refused with 4xx" refused_4xx unixdown

# ------------------------------------------------------------ inet milter
mport=$(tm_free_port "$TM_PF_PORT" "$TM_SINK_PORT")
check "null milter listens on inet:$mport@127.0.0.1" milter_start "inet:$mport@127.0.0.1"
check "it set TCP_NODELAY on its listening socket" \
	grep -q 'TCP_NODELAY set on the listening socket' "$work/milter.log"
check "postfix switches to the inet milter" pf_set_milter "inet:127.0.0.1:$mport"
for i in 1 2 3; do
	check "swaks mail $i through the inet milter" send "inet$i"
done
check "smtp-source sends 10 through the inet milter" source_mails 10
check "the sink receives them" sink_wait_count 49 30
check "inet-milter mail arrives intact" delivered inet1
check "the milter accepted all 13" test "$(milter_accepted)" -eq 13

# ------------------------------------------------------------ milter down
check "the inet milter is killed" milter_kill
if send down; then
	not_ok "with the milter down, swaks fails"
else
	ok "with the milter down, swaks fails (exit $?)"
fi
check "... on a 4xx reply: the client keeps the message" \
	grep -q '^<\*\* 451 4.7.1 Service unavailable' "$work/down.swaks"
check "postfix logged the milter failure" \
	grep -qi "milter.* inet:127.0.0.1:$mport.*refused" "$TM_PF_LOG"
check "the refused mail was not queued" pf_wait_queue_empty 10
check "... nor delivered" test -z "$(sink_grep "X-TM-Test: down-$token")"
check "the sink still has 49" test "$(sink_count)" -eq 49
check "the milter restarts on the same port" milter_start "inet:$mport@127.0.0.1"
check "the resent mail is accepted" send down
check "... and delivered" sink_wait_count 50 15
check "... intact" delivered down
check "the milter saw it" test "$(milter_accepted)" -eq 1

# ------------------------------------------------------------ queue
# With the sink down, mail waits in the deferred queue; one message is
# put on hold meanwhile. pf_flush delivers the other, pf_release_all and
# another pf_flush the held one.
milter_kill
check "postfix back to no milter" pf_set_milter ""
check "the sink stops" sink_stop
check "a mail for the stopped sink is accepted" send deferred
check "a second one too" send held
check "both wait in the deferred queue" wait_deferred 2 15
held_id=$(sed -n 's/^<-  250 2\.0\.0 Ok: queued as \([0-9A-F]*\).*/\1/p' "$work/held.swaks")
check "the second one goes on hold" postsuper -c "$TM_PF_ETC" -h "$held_id"
check "pf_hold_count counts it" test "$(pf_hold_count)" -eq 1
check "pf_queue_json shows it on hold" grep -q '"queue_name": *"hold"' <(pf_queue_json)
check "the sink restarts on its port" sink_start
check "pf_flush" pf_flush
check "the deferred mail arrives" sink_wait_count 51 15
check "... intact" delivered deferred
check "the held one stays" test "$(pf_hold_count)" -eq 1
check "pf_release_all" pf_release_all
check "pf_flush again" pf_flush
check "the released mail arrives" sink_wait_count 52 15
check "... intact" delivered held
check "nothing left on hold" test "$(pf_hold_count)" -eq 0
check "the queue is empty" pf_wait_queue_empty 5

# ------------------------------------------------------------ teardown
sink_pid=$TM_SINK_PID
check "postfix stops" pf_stop
check "no process of the instance is left" test -z "$(_tm_instance_pids)"
check "the smtpd port is closed" tm_wait_port_closed "$TM_PF_PORT" 1
check "the sink stops" sink_stop
check "the sink process is gone" test ! -d "/proc/$sink_pid"
dir=$TM_PF_DIR
pf_cleanup
if [ "${TM_PF_KEEP:-0}" = 1 ]; then
	ok "instance directory kept (TM_PF_KEEP=1)"
else
	check "the instance directory is removed" test ! -e "$dir"
fi
finish
