#!/bin/sh
# The shared Redis cache (issue 15) against a real redis-server started by
# the tests on a free loopback port, and the real binary.
: "${TM_BINARY:?}" "${TM_SRCDIR:?}" "${PYTHON3:=python3}"
exec "$PYTHON3" "$TM_SRCDIR/tests/lib/run_dir.py" "$TM_SRCDIR/tests/redis"
