#!/bin/bash
# A private Postfix instance on 127.0.0.1 and an SMTP sink behind it, for
# the end-to-end tests and the benchmarks. Needs root, Debian's postfix
# package (postfix, postconf, postqueue, postsuper, smtp-sink) and bash.
#
# As a library:
#	. tests/e2e/postfix-harness.sh
#	sink_start && pf_start || exit 1
#	trap pf_cleanup EXIT
#	swaks --server 127.0.0.1:$TM_PF_PORT --to a@example.com ...
#	sink_wait_count 1 30
# As a command (the state lives in $TM_PF_DIR/harness.env):
#	eval "$(tests/e2e/postfix-harness.sh start)"	# prints the exports
#	tests/e2e/postfix-harness.sh status [DIR]
#	tests/e2e/postfix-harness.sh stop [DIR]	# stops all, removes DIR
#
# Mail flows:  client -> smtpd 127.0.0.1:$TM_PF_PORT [-> $TM_PF_MILTER]
#	-> queue -> smtp client -> smtp-sink 127.0.0.1:$TM_SINK_PORT, which
#	writes each message to a file in $TM_SINK_DIR.
#
# Settings (environment, read by pf_init / sink_start):
#	TM_PF_DIR	instance directory (default: a new mktemp directory,
#			removed by pf_cleanup); must be reachable by the
#			postfix user (not under a mode-700 directory such as
#			/root)
#	TM_PF_PORT	smtpd port (default: a free port)
#	TM_SINK_PORT	sink port (default: a free port; SINK_PORT is honoured)
#	TM_PF_MILTER	smtpd_milters and non_smtpd_milters, e.g.
#			unix:/run/x.sock or inet:127.0.0.1:8890 (default none)
#	TM_PF_BACKOFF	queue_run_delay and minimal_backoff_time (default 5s)
#	TM_PF_RELAY_DOMAINS  relay_domains (default: the test domains below)
#	TM_PF_MAIN_EXTRA  "name = value" lines applied last with postconf -e
#			(they replace the harness's own values)
#	TM_PF_KEEP=1	pf_cleanup / stop leave the directory for inspection
#
# Postfix's -c and alternate_config_directories: the check that a
# non-default configuration directory is listed in the default main.cf
# only applies to unprivileged callers (postfix, postqueue and postdrop
# run by a non-root user). Everything here runs as root, so /etc/postfix
# is neither read for this nor changed; the system instance is not touched
# (it may be stopped, running, or absent).
#
# Every wait is bounded; every function returns non-zero on failure and
# says why on stderr.

# ---------------------------------------------------------------- helpers

_tm_err() { echo "postfix-harness: $*" >&2; }

_tm_now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# tm_port_in_use PORT: true if anything uses PORT locally (any TCP state)
tm_port_in_use() {
	[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}

# tm_free_port [EXCLUDED...]: prints a free TCP port below Linux's
# ephemeral range (so an outgoing connection cannot take it meanwhile)
tm_free_port() {
	local port tries=0 x taken
	while [ $tries -lt 200 ]; do
		tries=$((tries + 1))
		port=$((20000 + RANDOM % 12000))
		taken=
		for x in "$@"; do [ "$x" = "$port" ] && taken=1; done
		[ -n "$taken" ] && continue
		tm_port_in_use "$port" && continue
		echo "$port"
		return 0
	done
	_tm_err "no free port found"
	return 1
}

# tm_wait_smtp PORT TIMEOUT_S: waits for a 220 greeting on 127.0.0.1:PORT
tm_wait_smtp() {
	local port=$1 deadline=$(($(_tm_now_ms) + $2 * 1000)) fd line
	while [ "$(_tm_now_ms)" -lt "$deadline" ]; do
		# (the group keeps the 2>/dev/null from sticking to the shell)
		if { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
			line=
			read -r -t 2 -u "$fd" line
			{ printf 'QUIT\r\n' >&"$fd"; } 2>/dev/null
			exec {fd}>&-
			case $line in 220*) return 0 ;; esac
		fi
		sleep 0.1
	done
	_tm_err "nothing answers SMTP on 127.0.0.1:$port after $2 s"
	return 1
}

# tm_wait_port_closed PORT TIMEOUT_S
tm_wait_port_closed() {
	local deadline=$(($(_tm_now_ms) + $2 * 1000))
	while [ "$(_tm_now_ms)" -lt "$deadline" ]; do
		[ -z "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	_tm_err "port $1 still listening after $2 s"
	return 1
}

# tm_wait_pid_gone PID TIMEOUT_S
tm_wait_pid_gone() {
	local deadline=$(($(_tm_now_ms) + $2 * 1000))
	while [ "$(_tm_now_ms)" -lt "$deadline" ]; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------- state

# _tm_save_state: what a later "stop"/"status" in another process needs
_tm_save_state() {
	[ -d "$TM_PF_DIR" ] || return 0
	{
		echo "TM_PF_DIR=$TM_PF_DIR"
		echo "TM_PF_PORT=$TM_PF_PORT"
		echo "TM_SINK_PORT=$TM_SINK_PORT"
		echo "TM_SINK_PID=${TM_SINK_PID:-}"
		echo "TM_PF_CREATED=${TM_PF_CREATED:-0}"
	} >"$TM_PF_DIR/harness.env"
}

# pf_load_state DIR: reads what pf_init/sink_start saved in DIR
pf_load_state() {
	local f="$1/harness.env" key value
	[ -f "$f" ] || { _tm_err "no harness state in $1"; return 1; }
	while IFS='=' read -r key value; do
		case $key in
		TM_PF_DIR | TM_PF_PORT | TM_SINK_PORT | TM_SINK_PID | TM_PF_CREATED)
			printf -v "$key" '%s' "$value"
			export "${key?}" ;;
		esac
	done <"$f"
	_tm_set_paths
}

_tm_set_paths() {
	export TM_PF_ETC="$TM_PF_DIR/etc"
	export TM_PF_QUEUE="$TM_PF_DIR/queue"
	export TM_PF_DATA="$TM_PF_DIR/data"
	export TM_SINK_DIR="$TM_PF_DIR/sink"
	export TM_PF_LOG="$TM_PF_DIR/maillog"
}

# ---------------------------------------------------------------- instance

# pf_init: picks the directory and ports, writes main.cf and master.cf and
# the queue. Called by pf_start and sink_start; idempotent.
pf_init() {
	[ -n "${_TM_INIT_DONE:-}" ] && [ -d "${TM_PF_DIR:-/nonexistent}" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		_tm_err "must run as root (Postfix's master and smtp-sink -u)"
		return 1
	fi
	local cmd
	for cmd in postfix postconf postqueue postsuper smtp-sink ss; do
		command -v "$cmd" >/dev/null 2>&1 ||
			[ -x "/usr/sbin/$cmd" ] ||
			{ _tm_err "$cmd not found"; return 1; }
	done
	export PATH="$PATH:/usr/sbin:/sbin"
	if [ -z "${TM_PF_DIR:-}" ]; then
		TM_PF_DIR=$(mktemp -d /tmp/tm-postfix.XXXXXX) || return 1
		TM_PF_CREATED=1
	else
		mkdir -p "$TM_PF_DIR" || return 1
		TM_PF_DIR=$(cd "$TM_PF_DIR" && pwd) || return 1
		TM_PF_CREATED=0	# the caller's: pf_cleanup empties it only
	fi
	export TM_PF_DIR TM_PF_CREATED
	# smtp-sink runs as postfix and writes below this directory
	chmod 755 "$TM_PF_DIR" || return 1
	if ! runuser -u postfix -- test -x "$TM_PF_DIR" 2>/dev/null; then
		_tm_err "$TM_PF_DIR is not reachable by the postfix user"
		return 1
	fi
	_tm_set_paths
	TM_SINK_PORT=${TM_SINK_PORT:-${SINK_PORT:-}}
	[ -n "$TM_SINK_PORT" ] || TM_SINK_PORT=$(tm_free_port) || return 1
	[ -n "${TM_PF_PORT:-}" ] || TM_PF_PORT=$(tm_free_port "$TM_SINK_PORT") || return 1
	export TM_PF_PORT TM_SINK_PORT
	_tm_write_config || return 1
	_tm_make_queue || return 1
	_tm_save_state
	_TM_INIT_DONE=1
}

_tm_write_config() {
	local etc=$TM_PF_ETC backoff=${TM_PF_BACKOFF:-5s}
	local domains=${TM_PF_RELAY_DOMAINS:-example.com, example.net, example.org, corp.example, tm-test.invalid}
	mkdir -p "$etc" || return 1
	# Written whole every time: pf_init is the only writer, pf_postconf
	# changes single parameters afterwards.
	cat >"$etc/main.cf" <<EOF
# Private test instance written by tests/e2e/postfix-harness.sh.
compatibility_level = 3.6
queue_directory = $TM_PF_QUEUE
data_directory = $TM_PF_DATA
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-tmtest
maillog_file = $TM_PF_LOG
maillog_file_prefixes = $TM_PF_DIR

# Network: loopback only, IPv4 only, no DNS anywhere.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.tm-test.invalid
mydomain = tm-test.invalid
myorigin = \$myhostname
mynetworks = 127.0.0.0/8
# (smtp_dns_support_level replaces the deprecated disable_dns_lookups)
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_authorized_xforward_hosts = 127.0.0.0/8

# Routing: nothing is local; everything goes to the sink. Clients in
# mynetworks (all that can reach 127.0.0.1) may relay to any domain;
# relay_domains names the test domains for restrictions that ask.
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in the test instance
alias_maps =
alias_database =
relay_domains = $domains
relayhost = [127.0.0.1]:$TM_SINK_PORT
default_transport = smtp
relay_transport = smtp
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
append_dot_mydomain = no
biff = no
notify_classes =
smtputf8_enable = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_banner = \$myhostname ESMTP Postfix (threatmilter test instance)

# Milters.
smtpd_milters = ${TM_PF_MILTER:-}
non_smtpd_milters = ${TM_PF_MILTER:-}
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s

# Throughput: no artificial delays or per-client limits.
in_flow_delay = 0
default_process_limit = 150
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000

# Retries: a deferred message comes back within seconds.
queue_run_delay = $backoff
minimal_backoff_time = $backoff
maximal_backoff_time = $backoff
smtp_connect_timeout = 5s
delay_warning_time = 0h
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
EOF
	if [ -n "${TM_PF_MAIN_EXTRA:-}" ]; then
		_tm_main_extra "$etc" || return 1
	fi
	# No chroot (column 5 "n"): the private queue is not a chroot jail.
	cat >"$etc/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$TM_PF_PORT inet n   -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	_tm_backdate_config || return 1
	# postconf reports unknown or malformed parameters on stderr
	local warnings
	warnings=$(postconf -c "$etc" -n 2>&1 >/dev/null)
	if [ -n "$warnings" ]; then
		_tm_err "main.cf: $warnings"
		return 1
	fi
}

# _tm_main_extra ETC: applies $TM_PF_MAIN_EXTRA ("name = value" lines;
# a line starting with white space continues the one before) with
# postconf -e, which replaces a parameter in place rather than adding a
# second, warned-about definition
_tm_main_extra() {
	local line param=
	local -a params=()
	while IFS= read -r line; do
		case $line in
		'' | '#'*) continue ;;
		[[:space:]]*) param="$param $line" ;;
		*)
			[ -n "$param" ] && params+=("$param")
			param=$line ;;
		esac
	done <<<"$TM_PF_MAIN_EXTRA"
	[ -n "$param" ] && params+=("$param")
	[ ${#params[@]} -eq 0 ] || postconf -c "$1" -e "${params[@]}"
}

# Postfix programs refuse to read a main.cf changed within the last
# second or two: they poll it every 0.3 s until it is old enough (against
# reading a half-written file), which made every start and reload right
# after a change 2 s slower. Our files are written whole, so we date them
# back instead.
_tm_backdate_config() {
	touch -d "@$(($(date +%s) - 10))" "$TM_PF_ETC/main.cf" "$TM_PF_ETC/master.cf"
}

# The queue as Debian's package lays it out; "postfix start" runs
# post-install create-missing too, which would fill any gap.
_tm_make_queue() {
	local q=$TM_PF_QUEUE d
	mkdir -p "$q" "$q/pid" "$TM_PF_DATA" || return 1
	chown root:root "$q" "$q/pid" && chmod 755 "$q" "$q/pid" || return 1
	for d in active bounce corrupt defer deferred flush hold incoming \
		 private saved trace; do
		mkdir -p "$q/$d" && chown postfix:root "$q/$d" &&
			chmod 700 "$q/$d" || return 1
	done
	mkdir -p "$q/maildrop" "$q/public" || return 1
	chown postfix:postdrop "$q/maildrop" "$q/public" || return 1
	chmod 1730 "$q/maildrop" && chmod 2710 "$q/public" || return 1
	chown postfix:postfix "$TM_PF_DATA" && chmod 700 "$TM_PF_DATA"
}

# _tm_master_pid: prints the running master's pid, fails if none
_tm_master_pid() {
	local pid
	[ -f "$TM_PF_QUEUE/pid/master.pid" ] || return 1
	read -r pid <"$TM_PF_QUEUE/pid/master.pid" || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

# _tm_instance_pids: every process of this instance, found by the
# MAIL_CONFIG every Postfix daemon inherits from its master
_tm_instance_pids() {
	local env p
	for env in /proc/[0-9]*/environ; do
		p=${env#/proc/}; p=${p%/environ}
		[ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
		grep -qzxF "MAIL_CONFIG=$TM_PF_ETC" "$env" 2>/dev/null && echo "$p"
	done
}

# pf_start: starts the instance, returns once smtpd answers on 127.0.0.1
pf_start() {
	pf_init || return 1
	if _tm_master_pid >/dev/null; then
		_tm_err "instance in $TM_PF_DIR already running"
		return 1
	fi
	if [ -n "$(ss -Hltn "( sport = :$TM_PF_PORT )")" ]; then
		_tm_err "port $TM_PF_PORT is taken"
		return 1
	fi
	# postfix start daemonizes master; its output goes to a file so that
	# no caller's pipe stays open behind it
	if ! postfix -c "$TM_PF_ETC" start >"$TM_PF_DIR/postfix-start.out" 2>&1; then
		_tm_err "postfix start failed:"
		cat "$TM_PF_DIR/postfix-start.out" >&2
		[ -f "$TM_PF_LOG" ] && tail -20 "$TM_PF_LOG" >&2
		return 1
	fi
	tm_wait_smtp "$TM_PF_PORT" "${TM_PF_START_TIMEOUT:-20}" || {
		[ -f "$TM_PF_LOG" ] && tail -20 "$TM_PF_LOG" >&2
		return 1
	}
}

# pf_stop: stops the instance and every process it left behind
pf_stop() {
	[ -n "${TM_PF_ETC:-}" ] && [ -f "$TM_PF_ETC/main.cf" ] || return 0
	local pid left
	pid=$(_tm_master_pid)
	if [ -n "$pid" ]; then
		# "abort" sends master the same SIGTERM as "stop" does; master
		# terminates its children and exits about 1.2 s later. stop
		# would look again only after whole seconds (so 2 s); we poll,
		# and kill the process group after 5 s as stop would.
		timeout 15 postfix -c "$TM_PF_ETC" abort >>"$TM_PF_DIR/postfix-start.out" 2>&1
		tm_wait_pid_gone "$pid" 5 || kill -KILL -- "-$pid" "$pid" 2>/dev/null
	fi
	left=$(_tm_instance_pids)
	if [ -n "$left" ]; then
		# shellcheck disable=SC2086
		kill -TERM $left 2>/dev/null
		sleep 0.5
		left=$(_tm_instance_pids)
		# shellcheck disable=SC2086
		[ -n "$left" ] && kill -KILL $left 2>/dev/null
	fi
	[ -n "${TM_PF_PORT:-}" ] && tm_wait_port_closed "$TM_PF_PORT" 5
}

# pf_restart: stop + start (takes the new main.cf for sure)
pf_restart() { pf_stop && pf_start; }

# pf_reload: "postfix reload", returns once master has re-read main.cf
# and the old idle smtpd processes had time to exit
pf_reload() {
	local before deadline
	before=$(grep -c 'reload -- version' "$TM_PF_LOG" 2>/dev/null)
	postfix -c "$TM_PF_ETC" reload >>"$TM_PF_DIR/postfix-start.out" 2>&1 || return 1
	deadline=$(($(_tm_now_ms) + 10000))
	while [ "$(_tm_now_ms)" -lt "$deadline" ]; do
		if [ "$(grep -c 'reload -- version' "$TM_PF_LOG" 2>/dev/null)" -gt "${before:-0}" ]; then
			# children notice the closed status pipe at once; the sleep
			# covers an old smtpd that was mid-accept
			sleep 0.3
			return 0
		fi
		sleep 0.05
	done
	_tm_err "no reload seen in $TM_PF_LOG"
	return 1
}

# pf_postconf NAME=VALUE...: changes main.cf (takes effect on pf_reload)
pf_postconf() { postconf -c "$TM_PF_ETC" -e "$@" && _tm_backdate_config; }

# pf_set_milter SPEC: smtpd_milters and non_smtpd_milters = SPEC ("" for
# none), applied at once
pf_set_milter() {
	TM_PF_MILTER=$1
	pf_postconf "smtpd_milters = $1" "non_smtpd_milters = $1" || return 1
	if _tm_master_pid >/dev/null; then pf_reload; fi
}

pf_status() {
	local pid
	echo "dir:  ${TM_PF_DIR:-none}"
	if pid=$(_tm_master_pid); then
		echo "postfix: running (master $pid), smtpd 127.0.0.1:$TM_PF_PORT, milter '$(postconf -c "$TM_PF_ETC" -h smtpd_milters)'"
	else
		echo "postfix: stopped"
	fi
	if sink_running; then
		echo "sink: running (pid $TM_SINK_PID) on 127.0.0.1:$TM_SINK_PORT, $(sink_count) messages in $TM_SINK_DIR"
	else
		echo "sink: stopped"
	fi
	echo "queue: $(pf_queue_count) active/incoming/deferred/maildrop, $(pf_hold_count) on hold"
	pf_running
}

pf_running() { _tm_master_pid >/dev/null; }

# pf_log: prints the path of the instance's log file
pf_log() { echo "$TM_PF_LOG"; }

# pf_flush: asks the queue manager to retry every deferred message now
pf_flush() { postqueue -c "$TM_PF_ETC" -f; }

# pf_queue_json: the queue, one JSON object per message (postqueue -j)
pf_queue_json() { postqueue -c "$TM_PF_ETC" -j; }

# pf_sendmail ARGS...: Postfix's sendmail(1) into this instance (the
# non-SMTP path, through non_smtpd_milters); the message on stdin
pf_sendmail() { sendmail -C "$TM_PF_ETC" "$@"; }

# pf_queue_count [QUEUE...]: messages in those queue directories
# (default: every queue a message passes through, not hold)
pf_queue_count() {
	local q n=0 d
	[ $# -gt 0 ] || set -- incoming active deferred maildrop
	for q in "$@"; do
		d="$TM_PF_QUEUE/$q"
		[ -d "$d" ] || continue
		n=$((n + $(find "$d" -type f | wc -l)))
	done
	echo "$n"
}

pf_hold_count() { pf_queue_count hold; }

# pf_release_all: moves every held message back to the queue
pf_release_all() { postsuper -c "$TM_PF_ETC" -H ALL; }

# pf_wait_queue_empty TIMEOUT_S: waits until no message is in transit
# (held messages do not count: see pf_hold_count)
pf_wait_queue_empty() {
	local deadline=$(($(_tm_now_ms) + $1 * 1000))
	while [ "$(_tm_now_ms)" -lt "$deadline" ]; do
		[ "$(pf_queue_count)" -eq 0 ] && return 0
		sleep 0.1
	done
	_tm_err "queue not empty after $1 s: $(pf_queue_count) messages"
	return 1
}

# ---------------------------------------------------------------- sink

sink_running() {
	[ -n "${TM_SINK_PID:-}" ] && kill -0 "$TM_SINK_PID" 2>/dev/null &&
		[ "$(cat "/proc/$TM_SINK_PID/comm" 2>/dev/null)" = smtp-sink ]
}

# sink_start: smtp-sink on 127.0.0.1:$TM_SINK_PORT, one file per message
# in $TM_SINK_DIR
sink_start() {
	pf_init || return 1
	if sink_running; then
		_tm_err "sink already running (pid $TM_SINK_PID)"
		return 1
	fi
	mkdir -p "$TM_SINK_DIR" && chown postfix "$TM_SINK_DIR" || return 1
	# -u: it drops root after binding; -d: one file per transaction,
	# named from the template plus a random hex suffix
	smtp-sink -u postfix -4 -h sink.tm-test.invalid -m 512 \
		-d "$TM_SINK_DIR/msg." "127.0.0.1:$TM_SINK_PORT" 512 \
		</dev/null >"$TM_PF_DIR/sink.out" 2>&1 &
	TM_SINK_PID=$!
	export TM_SINK_PID
	_tm_save_state
	if ! tm_wait_smtp "$TM_SINK_PORT" 10; then
		cat "$TM_PF_DIR/sink.out" >&2
		sink_stop
		return 1
	fi
}

sink_stop() {
	[ -n "${TM_SINK_PID:-}" ] || return 0
	if sink_running; then
		kill -TERM "$TM_SINK_PID" 2>/dev/null
		tm_wait_pid_gone "$TM_SINK_PID" 5 || kill -KILL "$TM_SINK_PID" 2>/dev/null
		tm_wait_pid_gone "$TM_SINK_PID" 2
	fi
	wait "$TM_SINK_PID" 2>/dev/null
	TM_SINK_PID=
	_tm_save_state
	[ -n "${TM_SINK_PORT:-}" ] && tm_wait_port_closed "$TM_SINK_PORT" 5
}

# sink_files: the complete messages, oldest first. smtp-sink creates the
# file at MAIL FROM and closes it after "."; the files it still holds open
# are transactions in progress and are left out. (Listed before looking
# at the open ones, so that a file cannot finish unnoticed in between.)
sink_files() {
	local files open f
	[ -d "${TM_SINK_DIR:-}" ] || return 0
	files=$(ls -1tr "$TM_SINK_DIR" 2>/dev/null)
	[ -n "$files" ] || return 0
	open=
	if [ -n "${TM_SINK_PID:-}" ] && [ -d "/proc/$TM_SINK_PID/fd" ]; then
		open=$(find "/proc/$TM_SINK_PID/fd" -mindepth 1 -maxdepth 1 \
			-lname "$TM_SINK_DIR/*" -printf '%l\n' 2>/dev/null)
	fi
	while IFS= read -r f; do
		[ -n "$open" ] && grep -qxF "$TM_SINK_DIR/$f" <<<"$open" && continue
		echo "$TM_SINK_DIR/$f"
	done <<<"$files"
}

sink_count() { sink_files | grep -c .; }

# sink_wait_count N TIMEOUT_S: waits until the sink holds at least N
# complete messages
sink_wait_count() {
	local deadline=$(($(_tm_now_ms) + $2 * 1000)) n
	while [ "$(_tm_now_ms)" -lt "$deadline" ]; do
		n=$(sink_count)
		[ "$n" -ge "$1" ] && return 0
		sleep 0.1
	done
	_tm_err "sink has $(sink_count) messages, expected $1, after $2 s"
	return 1
}

# sink_grep PATTERN: the complete messages that contain PATTERN (fixed
# string), one path a line
sink_grep() {
	local f
	sink_files | while IFS= read -r f; do
		grep -qF -- "$1" "$f" && echo "$f"
	done
}

# sink_clear: forgets the messages received so far
sink_clear() {
	[ -d "${TM_SINK_DIR:-}" ] && find "$TM_SINK_DIR" -mindepth 1 -delete
	return 0
}

# ---------------------------------------------------------------- all

# pf_cleanup: stops Postfix and the sink, removes the directory the
# harness created (kept with TM_PF_KEEP=1). For "trap pf_cleanup EXIT".
pf_cleanup() {
	[ -n "${TM_PF_DIR:-}" ] || return 0
	pf_stop
	sink_stop
	if [ "${TM_PF_KEEP:-0}" = 1 ]; then
		_tm_err "kept $TM_PF_DIR"
	elif [ "${TM_PF_CREATED:-0}" = 1 ]; then
		rm -rf "$TM_PF_DIR"
	else
		rm -rf "$TM_PF_ETC" "$TM_PF_QUEUE" "$TM_PF_DATA" "$TM_SINK_DIR" \
			"$TM_PF_LOG" "$TM_PF_DIR/harness.env" \
			"$TM_PF_DIR/postfix-start.out" "$TM_PF_DIR/sink.out"
	fi
	_TM_INIT_DONE=
	unset TM_PF_DIR TM_PF_CREATED TM_PF_ETC TM_PF_QUEUE TM_PF_DATA \
		TM_SINK_DIR TM_PF_LOG
	return 0
}

# ---------------------------------------------------------------- CLI

_tm_cli() {
	local cmd=${1:-} dir=${2:-${TM_PF_DIR:-}}
	case $cmd in
	start)
		[ -n "${2:-}" ] && TM_PF_DIR=$2
		sink_start || { pf_cleanup; return 1; }
		pf_start || { pf_cleanup; return 1; }
		echo "export TM_PF_DIR='$TM_PF_DIR' TM_PF_PORT=$TM_PF_PORT TM_SINK_PORT=$TM_SINK_PORT"
		;;
	stop | status | flush | queue | log)
		[ -n "$dir" ] || { _tm_err "$cmd: give the directory or set TM_PF_DIR"; return 2; }
		pf_load_state "$dir" || return 1
		case $cmd in
		stop) pf_cleanup ;;
		status) pf_status ;;
		flush) pf_flush ;;
		queue) pf_queue_json ;;
		log) pf_log ;;
		esac
		;;
	*)
		echo "usage: $0 start [DIR] | stop|status|flush|queue|log [DIR]" >&2
		return 2
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	_tm_cli "$@"
	exit $?
fi
