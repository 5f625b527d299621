#!/bin/sh
# Runs each fuzz target for SECONDS (default 60) seeded with the test
# corpus; prints executions and crashes per target and exits non-zero if
# any target crashed. A crash input is left in build-fuzz/crashes/ and
# must become a regression test (tests/fuzz/regressions/).
# Usage: run.sh SRCDIR [SECONDS]
set -u
# A GLib/GMime CRITICAL is a bug of ours (bad arguments reached a library)
# even where the library recovers: a crash here.
G_DEBUG=fatal-criticals
export G_DEBUG
srcdir=${1:-.}
seconds=${2:-60}
out=${FUZZ_BUILD_DIR:-$srcdir/build-fuzz}
mkdir -p "$out/crashes"
status=0
passed=0
failed=0
run_target() {
	target=$1; shift
	work="$out/corpus-$target"
	mkdir -p "$work"
	log="$out/$target.log"
	"$out/$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
		-timeout=10 -artifact_prefix="$out/crashes/$target-" -print_final_stats=1 \
		"$work" "$@" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	crashes=$(ls "$out/crashes/" 2>/dev/null | grep -c "^$target-" || true)
	echo "fuzz $target: ${seconds}s, ${execs:-0} executions, $crashes crashes (exit $rc)"
	if [ "$rc" -ne 0 ]; then
		status=1
		failed=$((failed + 1))
		tail -40 "$log"
	else
		passed=$((passed + 1))
	fi
}
# Regression inputs first: every former crash must still pass.
for target in fuzz_analyze fuzz_urls fuzz_config fuzz_html_diff; do
	[ -x "$out/$target" ] || continue
	if [ -d "$srcdir/tests/fuzz/regressions/$target" ]; then
		"$out/$target" "$srcdir/tests/fuzz/regressions/$target"/* >/dev/null 2>&1 || {
			echo "fuzz $target: a regression input crashes"; status=1
			failed=$((failed + 1)); }
	fi
done
run_target fuzz_analyze "$srcdir/tests/corpus/crafted" "$srcdir/tests/corpus/bugreports" \
	"$srcdir/tests/corpus/variants"
run_target fuzz_urls "$srcdir/tests/corpus/crafted" "$srcdir/tests/fuzz/seeds/html" \
	"$srcdir/tests/fuzz/seeds/urls"
if [ -x "$out/fuzz_html_diff" ]; then
	# differences with gumbo found now are listed, not fatal (see
	# note_difference() in fuzz_html_diff.c); crashes and sanitizer
	# errors are
	diffs="$out/fuzz_html_diff.differences"
	rm -f "$diffs"
	TM_FUZZ_DIFF_LOG="$diffs" run_target fuzz_html_diff "$srcdir/tests/fuzz/seeds/html"
	if [ -s "$diffs" ]; then
		echo "fuzz fuzz_html_diff: $(sort -u "$diffs" | wc -l) input(s) where gumbo" \
			"finds a link the tokenizer misses (base64, one per line, in $diffs)"
	fi
fi
run_target fuzz_config "$srcdir/conf" "$srcdir/tests/data/config"
echo "$passed passed, $failed failed"
exit $status
