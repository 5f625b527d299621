#!/bin/sh
# Every crafted corpus message must give exactly its expected facts.
# The corpus is copied into tests/corpus/crafted so this runs without
# ../shared; when ../shared has a newer or larger set, that one is used.
set -u
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
dir="$TM_SRCDIR/tests/corpus/crafted"
if [ -n "${SHARED_DIR:-}" ] && [ -d "$SHARED_DIR/corpus/crafted" ]; then
	dir="$SHARED_DIR/corpus/crafted"
fi
out=$(mktemp -d) || exit 99
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
for eml in "$dir"/*.eml; do
	name=$(basename "$eml" .eml)
	if ! "$TM_BINARY" scan --no-lookups -c "$TM_SRCDIR/tests/corpus/scan.conf" "$eml" >"$out/$name.json" 2>"$out/$name.err"; then
		echo "FAIL $name: scan exited non-zero: $(cat "$out/$name.err")"
		failed=$((failed + 1))
		continue
	fi
	if diff_text=$("$PYTHON3" "$TM_SRCDIR/tests/corpus/compare_facts.py" "$dir/$name.json" "$out/$name.json"); then
		passed=$((passed + 1))
	else
		echo "FAIL $name:"
		echo "$diff_text" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "crafted corpus: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
