#!/bin/sh
# Milter-protocol scenarios against the real binary.
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
exec "$PYTHON3" "$TM_SRCDIR/tests/lib/run_dir.py" "$TM_SRCDIR/tests/milter"
