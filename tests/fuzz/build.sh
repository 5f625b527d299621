#!/bin/sh
# Builds the libFuzzer targets with clang, ASan and UBSan into
# build-fuzz/ (beside the source tree's top).
# Usage: build.sh SRCDIR [BUILDDIR]  (BUILDDIR holds configure's autoconfig.h)
set -eu
srcdir=${1:-.}
builddir=${2:-$srcdir}
out=${FUZZ_BUILD_DIR:-$srcdir/build-fuzz}
mkdir -p "$out"
CC=${FUZZ_CC:-clang}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
pkgs="gmime-3.0 libcurl libcares libcjson hiredis libcrypto"
cflags="$(pkg-config --cflags $pkgs) -D_GNU_SOURCE -I$builddir -I$srcdir/src/core -I$srcdir/src -DSYSCONFDIR=\"/etc\""
libs="$(pkg-config --libs $pkgs) -lpthread"
# Every core source except the daemon's own files (main, libmilter glue):
# the fuzzers link the same code the daemon runs.
# The entity table is generated at build time into BUILDDIR (make builds
# it first: the fuzz target depends on it).
core="$(find "$srcdir/src/core" "$srcdir/src/cli" -name '*.c' ! -name html_entities_table.c | sort)
$builddir/src/core/analysis/html_entities_table.c"
for target in fuzz_analyze fuzz_urls fuzz_config; do
	echo "  FUZZ     $out/$target"
	# shellcheck disable=SC2086
	$CC $flags $cflags -o "$out/$target" "$srcdir/tests/fuzz/$target.c" $core $libs
done
# The differential HTML target needs gumbo (libgumbo-dev), a test-only
# dependency: without it the target is skipped.
if pkg-config --exists gumbo; then
	echo "  FUZZ     $out/fuzz_html_diff"
	# shellcheck disable=SC2086
	$CC $flags $cflags $(pkg-config --cflags gumbo) -o "$out/fuzz_html_diff" \
		"$srcdir/tests/fuzz/fuzz_html_diff.c" $core $libs $(pkg-config --libs gumbo)
else
	rm -f "$out/fuzz_html_diff"
	echo "  SKIP     fuzz_html_diff (no gumbo)"
fi
