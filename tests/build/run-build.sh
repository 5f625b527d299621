#!/bin/sh
# Build-system checks that need no build (see test_dependency_minimums.py).
: "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
exec "$PYTHON3" "$TM_SRCDIR/tests/build/test_dependency_minimums.py"
