#!/bin/sh
# All phishing_pot samples (../shared/corpus/phishing_pot, real phishing)
# must scan without error, each giving one valid JSON object. Skipped (77)
# when ../shared is not beside the source tree.
set -u
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
dir="${SHARED_DIR:-}/corpus/phishing_pot"
if [ -z "${SHARED_DIR:-}" ] || [ ! -d "$dir" ]; then
	echo "SKIP: $dir not found"
	exit 77
fi
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT
count=$(ls "$dir"/*.eml | wc -l)
if ! "$TM_BINARY" scan --no-lookups -c "$TM_SRCDIR/tests/corpus/scan.conf" "$dir"/*.eml >"$out"; then
	echo "FAIL: scan exited non-zero"
	exit 1
fi
"$PYTHON3" "$TM_SRCDIR/tests/corpus/check_scan_output.py" "$count" "$out"
