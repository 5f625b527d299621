#!/bin/sh
# threatmilterctl against the mock providers.
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
exec "$PYTHON3" "$TM_SRCDIR/tests/lib/run_dir.py" "$TM_SRCDIR/tests/ctl"
