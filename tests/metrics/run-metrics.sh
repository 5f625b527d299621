#!/bin/sh
# The MetricsSocket endpoint against the real binary and the mocks.
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
exec "$PYTHON3" "$TM_SRCDIR/tests/lib/run_dir.py" "$TM_SRCDIR/tests/metrics"
