#!/bin/sh
# The benchmarks, one after the other, in one run so the figures compare.
# Run as root after the README's first command; starts and stops
# everything it needs on 127.0.0.1 (mock providers, a private Postfix, an
# smtp-sink, the null filter, threatmilter).
#   QUICK=1 bench/run.sh      small message, unix socket only
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x threatmilter ] || { echo "build first (README)" >&2; exit 2; }
BENCH_SUMMARY=$(mktemp /tmp/tm-bench.XXXXXX)
export BENCH_SUMMARY
trap 'rm -f "$BENCH_SUMMARY"' EXIT
echo "machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)," \
	"$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
# which libmilter threatmilter got: the figures differ (README, "Busy sites")
lib=$(ldd ./threatmilter | awk '/libmilter/ {print $3}')
if [ -n "$lib" ] && nm -D "$lib" | grep -q mi_pool_controller_init; then
	echo "libmilter: $lib (worker pool)"
else
	echo "libmilter: ${lib:-linked statically} (one thread per connection)"
fi
echo
python3 bench/extract.py
echo
python3 bench/lookups.py
echo
python3 bench/milter.py
echo
python3 bench/calls.py
echo
python3 bench/memory.py
echo
if [ "${QUICK:-0}" = 1 ]; then
	python3 bench/postfix.py --quick --messages 500
else
	python3 bench/postfix.py --sessions 20,100
fi
echo
echo "== summary: absolute figures and ratios =="
python3 bench/summary.py "$BENCH_SUMMARY"
