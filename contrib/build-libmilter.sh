#!/bin/sh
# build-libmilter.sh: builds libmilter from Debian's own sendmail source
# package, but with one thread per MTA connection instead of Debian's
# worker pool, and installs it (static library and headers) under PREFIX.
# Then: ./configure --with-milter=PREFIX && make
#
#	contrib/build-libmilter.sh [PREFIX]	(default /usr/local/lib/threatmilter-libmilter)
#
# Why: Debian builds libmilter with _FFR_WORKERS_POOL (since 8.14.3-4,
# 2008). The pool wakes an idle worker with a condition signal but counts a
# signalled worker as idle until it actually runs, so a burst of new
# connections can signal the same worker twice. The second connection then
# waits, unanswered, until some worker finishes what it is doing or the
# pool's 10 s timed wait ends. A filter whose end-of-message callback waits
# for network lookups (threatmilter, OpenDKIM) keeps workers busy, so the
# wait is real: bench/milter.py measured new connections waiting up to
# 1.4-3.5 s with Debian's library and at most 5 ms with this build (see
# README, "Performance"). Nothing else changes: same source, same version,
# same protocol; only the -D_FFR_WORKERS_POOL=1 of debian/build is left out.
#
# Needs: network access to a Debian mirror (the source package), gcc, ar.
# MIRROR and SUITE override the mirror and the release (from /etc/os-release).
set -eu

prefix=${1:-/usr/local/lib/threatmilter-libmilter}
mirror=${MIRROR:-http://deb.debian.org/debian}
suite=${SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# apt-get source with a private source list: the system's lists and
# sources stay untouched.
mkdir -p "$work/lists/partial" "$work/src"
echo "deb-src $mirror $suite main" >"$work/sources.list"
apt_opts="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists=$work/lists -o APT::Sandbox::User=root"
# shellcheck disable=SC2086
apt-get -q $apt_opts update >/dev/null
# the version of the installed libmilter, so headers and library agree
version=$(dpkg-query -W -f '${source:Version}' libmilter-dev 2>/dev/null || true)
# shellcheck disable=SC2086
(cd "$work/src" && apt-get -q $apt_opts source --download-only \
	"sendmail${version:+=$version}" >/dev/null)
tar -xzf "$work"/src/sendmail_*.orig.tar.gz -C "$work/src"
top=$(ls -d "$work"/src/sendmail-*/)

# sm_os.h is chosen per system by sendmail's own build; Linux's is fixed.
mkdir -p "$work/inc" "$work/obj"
cp "$top/include/sm/os/sm_os_linux.h" "$work/inc/sm_os.h"
# the defines Debian uses (debian/build/site.config.m4.in), minus the pool
cflags="-O2 -fPIC -pthread -D_REENTRANT -DNOT_SENDMAIL -Dsm_snprintf=snprintf
	-DNETINET -DNETINET6 -DSM_CONF_POLL=1 -I$work/inc -I$top/include -I$top/sendmail
	-I$top/libmilter -w"
for src in main engine listener worker handler comm smfi signal sm_gethost monitor; do
	# shellcheck disable=SC2086
	gcc $cflags -c "$top/libmilter/$src.c" -o "$work/obj/$src.o"
done
for src in errstring strl; do
	# shellcheck disable=SC2086
	gcc $cflags -c "$top/libsm/$src.c" -o "$work/obj/$src.o"
done
if nm "$work/obj/worker.o" | grep -q mi_start_session; then
	echo "build-libmilter: the worker pool is still compiled in" >&2
	exit 1
fi

mkdir -p "$prefix/lib" "$prefix/include/libmilter"
rm -f "$prefix/lib/libmilter.a"
ar rcs "$prefix/lib/libmilter.a" "$work"/obj/*.o
cp "$top/include/libmilter/mfapi.h" "$top/include/libmilter/mfdef.h" \
	"$prefix/include/libmilter/"
echo "libmilter without the worker pool: $prefix"
echo "now: ./configure --with-milter=$prefix && make"
