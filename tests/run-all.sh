#!/bin/sh
# The whole test suite, as CI runs it and as the README's second command
# says: build with -Werror and run `make check` (unit, corpus, CLI), the
# same under ASan/UBSan through `make distcheck`, the fuzzers, and the
# mock-server and Postfix-harness self-tests, and the Debian package
# (tests/pkg/test-package.sh). Ends with one line
# "N passed, N failed, N skipped" summed over every suite; exits non-zero
# if anything failed.
#   FUZZ_SECONDS  seconds per fuzz target (default 60; 0 skips fuzzing)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
logs="$top/test-logs"
rm -rf "$logs"; mkdir -p "$logs"
PYTHON3=${PYTHON3:-python3}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {	# name command...: runs a suite, its output into a log
	name=$1; shift
	echo "==> $name"
	"$@" >"$logs/$name.log" 2>&1
	rc=$?
	tail -3 "$logs/$name.log" | sed 's/^/    /'
	echo ":test-result: $([ $rc -eq 0 ] && echo PASS || echo FAIL)" >"$logs/$name.trs"
	return $rc
}

build() {
	[ -x configure ] || autoreconf -fi || return 1
	./configure --enable-werror --quiet || return 1
	make -j"$jobs"
}

if ! run_suite build build; then
	cat "$logs/build.log"
	echo "0 passed, 1 failed"
	exit 1
fi

run_suite make-check make -j"$jobs" check
# make check's own logs: one per test program, with the case counts
check_logs=$(find tests -name '*.log' ! -name 'test-suite.log' ! -path '*/fuzz/*' | sort)
for log in $check_logs; do
	cp "$log" "$logs/check-$(echo "$log" | tr / _)"
	[ -f "${log%.log}.trs" ] && cp "${log%.log}.trs" "$logs/check-$(echo "${log%.log}" | tr / _).trs"
done
rm -f "$logs/make-check.log" "$logs/make-check.trs"

# The sanitizer build: distcheck builds the tarball out of tree with
# ASan/UBSan and runs the whole check suite there.
run_suite distcheck-asan-ubsan make distcheck \
	DISTCHECK_CONFIGURE_FLAGS="--enable-werror --enable-sanitizers"

if [ "$FUZZ_SECONDS" -gt 0 ]; then
	run_suite fuzz-build make fuzz && \
		run_suite fuzz tests/fuzz/run.sh "$top" "$FUZZ_SECONDS"
fi

if [ -f tests/mock/test_mocks.py ]; then
	run_suite mock-servers "$PYTHON3" tests/mock/test_mocks.py
fi
if [ -f tests/e2e/test-harness.sh ]; then
	run_suite postfix-harness sh tests/e2e/test-harness.sh
fi
# The Debian package: build, lintian, install, one mail through Postfix
# from the packaged daemon, purge (about a minute).
if [ -f tests/pkg/test-package.sh ]; then
	run_suite debian-package bash tests/pkg/test-package.sh "$top"
fi

echo "==> summary"
"$PYTHON3" tests/summarize.py "$logs"/*.log
