#!/bin/sh
# The benchmarks, one after the other, in one run so the figures compare.
# Run as root after the README's first command; starts and stops
# everything it needs on 127.0.0.1 (mock providers, a private Postfix, an
# smtp-sink, the null and body filters, threatmilter).
# First issue 19's table: through Postfix, bench/real20k.eml, the null
# filter, the body filter, threatmilter cached and cold (against a filter
# that sleeps 100 ms), interleaved over rounds (bench/postfix.py
# --interleave).
#   QUICK=1 bench/run.sh      fewer messages and rounds, small messages
#                             elsewhere, unix socket only
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x threatmilter ] || { echo "build first (README)" >&2; exit 2; }
BENCH_SUMMARY=$(mktemp /tmp/tm-bench.XXXXXX)
export BENCH_SUMMARY
trap 'rm -f "$BENCH_SUMMARY"' EXIT
echo "machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)," \
	"$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
# which libmilter threatmilter got: the figures differ (README, "Busy sites")
lib=$(ldd ./threatmilter | awk '/libmilter/ {print $3}')
if [ -n "$lib" ] && nm -D "$lib" | grep -q mi_pool_controller_init; then
	echo "libmilter: $lib (worker pool)"
else
	echo "libmilter: ${lib:-linked statically} (one thread per connection)"
fi
# A benchmark that fails is named and the others still run; the exit
# status says whether all ran.
failed=
part() {
	echo
	"$@" || failed="$failed
  $*"
}
if [ "${QUICK:-0}" = 1 ]; then
	part python3 bench/postfix.py --interleave --rounds 2 --messages 300 --cold-sessions 20
else
	part python3 bench/postfix.py --interleave
fi
part python3 bench/extract.py
part python3 bench/lookups.py
part python3 bench/milter.py
part python3 bench/calls.py
part python3 bench/memory.py
if [ "${QUICK:-0}" = 1 ]; then
	part python3 bench/postfix.py --quick --messages 500
else
	part python3 bench/postfix.py --sessions 20,100
fi
echo
echo "== summary: absolute figures and ratios =="
python3 bench/summary.py "$BENCH_SUMMARY"
if [ -n "$failed" ]; then
	echo "failed:$failed" >&2
	exit 1
fi
