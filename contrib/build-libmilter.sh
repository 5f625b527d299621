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
# Needs: network access to the Debian archive the machine already uses,
# gcc, ar. The source package comes from the machine's own apt sources:
# every "deb" entry of /etc/apt/sources.list, sources.list.d/*.list and
# deb822 sources.list.d/*.sources whose suite is the release (SUITE, from
# /etc/os-release) or one of its -updates/-security suites (not backports) and which has
# the component main, turned into a "deb-src URI SUITE main" line (same
# URI, suite and Signed-By). So a local mirror, an apt proxy or an offline
# repository is used as configured, and no host is named here.
#	MIRROR=URI	use this archive instead (deb-src URI SUITE main)
#	SUITE=NAME	the release (default VERSION_CODENAME of /etc/os-release)
#	APT_ETC=DIR	where the apt sources are read (default /etc/apt)
#	contrib/build-libmilter.sh --print-sources
#			prints the deb-src lines that would be used, and stops
set -eu

# apt_source_entries ETC SUITE: prints "URI SUITE SIGNED-BY" (SIGNED-BY
# "-" when none, or when it is an inline key) for every enabled deb or
# deb-src entry in ETC's source lists with the component main and the
# suite SUITE, SUITE-* or SUITE/* (not backports: the release's own
# versions only).
apt_source_entries() {
	etc=$1 release=$2
	{
	for f in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '
		{ sub(/#.*/, "") }
		$1 != "deb" && $1 != "deb-src" { next }
		{
			signed = "-"; i = 2
			if ($2 ~ /^\[/) {	# [ option=value ... ]
				for (; i <= NF; i++) {
					o = $i; gsub(/[\[\]]/, "", o)
					if (o ~ /^signed-by=/) { sub(/^signed-by=/, "", o); signed = o }
					if ($i ~ /\]$/) { i++; break }
				}
			}
			uri = $i; suite = $(i + 1)
			for (j = i + 2; j <= NF; j++)
				if ($j == "main") print uri, suite, signed
		}' "$f"
	done
	for f in "$etc"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: paragraphs of "Field: value", continuation lines start
		# with a blank (an inline Signed-By key spans several lines).
		awk '
		function flush(   nu, ns, u, s, k, hasmain, types) {
			if (enabled != "no" && (" " f["types"] " ") ~ / deb(-src)? /) {
				hasmain = (" " f["components"] " ") ~ / main /
				nu = split(f["uris"], u, " "); ns = split(f["suites"], s, " ")
				if (hasmain)
					for (a = 1; a <= nu; a++)
						for (b = 1; b <= ns; b++)
							print u[a], s[b], (signed == "" ? "-" : signed)
			}
			delete f; enabled = ""; signed = ""; last = ""
		}
		/^#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ { if (last == "signed-by") signed = "-"; next }
		{
			name = tolower(substr($0, 1, index($0, ":") - 1))
			value = substr($0, index($0, ":") + 1)
			gsub(/^[ \t]+|[ \t]+$/, "", value); gsub(/[ \t]+/, " ", value)
			f[name] = value; last = name
			if (name == "enabled") enabled = tolower(value)
			if (name == "signed-by") signed = (value == "" ? "-" : value)
		}
		END { flush() }' "$f"
	done
	} | awk -v r="$release" '$2 !~ /-backports/ &&
		($2 == r || index($2, r "-") == 1 || index($2, r "/") == 1)'
}

# deb_src_lines: the private source list, one "deb-src" line per entry
deb_src_lines() {
	if [ -n "${MIRROR:-}" ]; then
		echo "deb-src $MIRROR $suite main"
		return
	fi
	apt_source_entries "${APT_ETC:-/etc/apt}" "$suite" | awk '
		!seen[$1 " " $2]++ {
			if ($3 == "-") print "deb-src", $1, $2, "main"
			else print "deb-src [signed-by=" $3 "]", $1, $2, "main"
		}'
}

suite=${SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
if [ "${1:-}" = "--print-sources" ]; then
	deb_src_lines
	exit 0
fi
prefix=${1:-/usr/local/lib/threatmilter-libmilter}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# apt-get source with a private source list: the system's lists and
# sources stay untouched.
mkdir -p "$work/lists/partial" "$work/src"
deb_src_lines >"$work/sources.list"
if [ ! -s "$work/sources.list" ]; then
	echo "build-libmilter: no apt source for $suite with the component main in" \
		"${APT_ETC:-/etc/apt}; set MIRROR=URI of a Debian archive" >&2
	exit 1
fi
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
