#!/bin/sh
# threatmilterctl against temporary configurations, the mock providers and
# a running daemon (tests/ctl/test_ctl_*.py).
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
exec "$PYTHON3" "$TM_SRCDIR/tests/lib/run_dir.py" "$TM_SRCDIR/tests/ctl"
