#!/bin/sh
# Command-line behaviour of the threatmilter binary (see test_cli.py).
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
exec "$PYTHON3" "$TM_SRCDIR/tests/cli/test_cli.py"
