#!/bin/sh
# End to end with a real Postfix (needs root, postfix, swaks; skipped without).
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
exec "$PYTHON3" "$TM_SRCDIR/tests/lib/run_dir.py" "$TM_SRCDIR/tests/e2e"
