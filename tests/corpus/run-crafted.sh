#!/bin/sh
# Every corpus case must give exactly its expected facts: the crafted edge
# cases, the replayed public bug reports (bugreports/) and this project's
# own variants of each bug class (variants/). The shared cases are copied
# into tests/corpus/ so this runs without ../shared; when ../shared has a
# set, that one is used (it may be newer or larger).
set -u
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
out=$(mktemp -d) || exit 99
trap 'rm -rf "$out"' EXIT
total_passed=0 total_failed=0
run_dir() {
	label=$1 dir=$2
	passed=0 failed=0
	for eml in "$dir"/*.eml; do
		[ -e "$eml" ] || continue
		name=$(basename "$eml" .eml)
		if ! "$TM_BINARY" scan --no-lookups -c "$TM_SRCDIR/tests/corpus/scan.conf" "$eml" >"$out/$name.json" 2>"$out/$name.err"; then
			echo "FAIL $label/$name: scan exited non-zero: $(cat "$out/$name.err")"
			failed=$((failed + 1))
			continue
		fi
		if diff_text=$("$PYTHON3" "$TM_SRCDIR/tests/corpus/compare_facts.py" "$dir/$name.json" "$out/$name.json"); then
			passed=$((passed + 1))
		else
			echo "FAIL $label/$name:"
			echo "$diff_text" | sed 's/^/    /'
			failed=$((failed + 1))
		fi
	done
	echo "$label corpus: $passed passed, $failed failed"
	if [ "$passed" -eq 0 ]; then
		echo "FAIL $label: no case ran"
		failed=$((failed + 1))
	fi
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
}
for set in crafted bugreports; do
	dir="$TM_SRCDIR/tests/corpus/$set"
	if [ -n "${SHARED_DIR:-}" ] && [ -d "$SHARED_DIR/corpus/$set" ]; then
		dir="$SHARED_DIR/corpus/$set"
	fi
	run_dir "$set" "$dir"
done
run_dir variants "$TM_SRCDIR/tests/corpus/variants"
echo "all corpus cases: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
