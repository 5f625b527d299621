#!/bin/sh
# build-libmilter.sh: builds libmilter from Debian's own sendmail source
# package, but with one thread per MTA connection instead of Debian's
# worker pool, and installs it (static library and headers) under PREFIX.
# `make` runs it (configure's default, README "Busy sites"); by hand:
#
#	contrib/build-libmilter.sh [--source DIR] [PREFIX]
#		(default PREFIX /usr/local/lib/threatmilter-libmilter), then
#		./configure --with-milter=PREFIX && make
#	contrib/build-libmilter.sh --fetch DIR
#		only downloads the source package (sendmail_*.dsc and its
#		tarballs) into DIR, for a build without network later
#		(--source DIR, ./configure --with-sendmail-source=DIR, the
#		Debian package)
#	contrib/build-libmilter.sh --print-sources
#		prints the deb-src lines that would be used, and stops
#
# Why: Debian builds libmilter with _FFR_WORKERS_POOL (since 8.14.3-5,
# 2008). The pool's controller counts a worker it has signalled as idle
# until that worker runs, so two events close together can be handed to
# one worker; the second session then waits, unanswered, until a worker
# comes back from whatever callback it is in. threatmilter's end of
# message waits for its lookups (up to ScanDeadline), so that wait is a
# whole ScanDeadline: through Postfix, replies after 2 x ScanDeadline
# (README, "Busy sites"). Nothing else changes: the same source package
# and version as the installed libmilter, Debian's patches applied
# (dpkg-source -x), Debian's defines but -D_FFR_WORKERS_POOL=1.
#
# --source DIR: no network; DIR holds sendmail_*.dsc with its tarballs
# (dpkg-source checks them against the .dsc). Without it the source
# package is downloaded into a temporary directory.
#
# Needs: gcc, ar, dpkg-source (dpkg-dev); to download, apt-get and
# network access to the Debian archive the machine already uses. The
# source package comes from the machine's own apt sources:
# every "deb" entry of /etc/apt/sources.list, sources.list.d/*.list and
# deb822 sources.list.d/*.sources whose suite is the release (SUITE, from
# /etc/os-release) or one of its -updates/-security suites (not backports) and which has
# the component main, turned into a "deb-src URI SUITE main" line (same
# URI, suite and Signed-By). So a local mirror, an apt proxy or an offline
# repository is used as configured, and no host is named here.
#	MIRROR=URI	use this archive instead (deb-src URI SUITE main)
#	SUITE=NAME	the release (default VERSION_CODENAME of /etc/os-release)
#	APT_ETC=DIR	where the apt sources are read (default /etc/apt)
#	CC, AR, LIBMILTER_CFLAGS	compiler, archiver, extra flags
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

# fetch_source DIR: downloads the source package into DIR through a
# private source list; the system's lists and sources stay untouched.
# apt checks the files against the signed Sources index.
fetch_source() {
	dest=$1 state=$(mktemp -d)
	mkdir -p "$dest" "$state/lists/partial"
	deb_src_lines >"$state/sources.list"
	if [ ! -s "$state/sources.list" ]; then
		echo "build-libmilter: no apt source for $suite with the component main in" \
			"${APT_ETC:-/etc/apt}; set MIRROR=URI of a Debian archive" >&2
		rm -rf "$state"
		return 1
	fi
	apt_opts="-o Dir::Etc::SourceList=$state/sources.list -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists=$state/lists -o Dir::Cache=$state/cache"
	[ "$(id -u)" = 0 ] && apt_opts="$apt_opts -o APT::Sandbox::User=root"
	# the version of the installed libmilter, so headers and library agree
	version=$(dpkg-query -W -f '${source:Version}' libmilter-dev 2>/dev/null || true)
	# shellcheck disable=SC2086
	if ! apt-get -q $apt_opts update >/dev/null ||
	   ! (cd "$dest" && apt-get -q $apt_opts source --download-only \
		"sendmail${version:+=$version}" >/dev/null); then
		echo "build-libmilter: could not download the sendmail source package;" \
			"without network: contrib/build-libmilter.sh --fetch DIR elsewhere," \
			"then --source DIR (./configure --with-sendmail-source=DIR)" >&2
		rm -rf "$state"
		return 1
	fi
	rm -rf "$state"
}

case ${1:-} in
--print-sources)
	deb_src_lines
	exit 0 ;;
--fetch)
	[ -n "${2:-}" ] || { echo "usage: $0 --fetch DIR" >&2; exit 2; }
	fetch_source "$2"
	ls "$2"/sendmail_*.dsc
	exit 0 ;;
esac
source_dir=
if [ "${1:-}" = "--source" ]; then
	source_dir=$(cd "${2:?--source DIR}" && pwd)
	shift 2
fi
prefix=${1:-/usr/local/lib/threatmilter-libmilter}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "$source_dir" ]; then
	source_dir=$work/download
	fetch_source "$source_dir"
fi
dsc=$(ls "$source_dir"/sendmail_*.dsc 2>/dev/null | sort -V | tail -1)
if [ -z "$dsc" ]; then
	echo "build-libmilter: no sendmail_*.dsc in $source_dir" >&2
	exit 1
fi
# unpacks and applies Debian's patches (two are libmilter's own); the
# tarballs are checked against the .dsc (its signature only when a
# keyring for it is installed: the .dsc itself came through apt)
if ! dpkg-source --no-copy -x "$dsc" "$work/src" >"$work/dpkg-source.log" 2>&1; then
	cat "$work/dpkg-source.log" >&2
	exit 1
fi
top=$work/src

# sm_os.h is chosen per system by sendmail's own build; Linux's is fixed.
mkdir -p "$work/inc" "$work/obj"
cp "$top/include/sm/os/sm_os_linux.h" "$work/inc/sm_os.h"
# the defines Debian uses (debian/build/site.config.m4.in), minus the pool
cflags="-O2 -fPIC -pthread -D_REENTRANT -DNOT_SENDMAIL -Dsm_snprintf=snprintf
	-DNETINET -DNETINET6 -DSM_CONF_POLL=1 -I$work/inc -I$top/include -I$top/sendmail
	-I$top/libmilter -w ${LIBMILTER_CFLAGS:-}"
for src in main engine listener worker handler comm smfi signal sm_gethost monitor; do
	# shellcheck disable=SC2086
	${CC:-gcc} $cflags -c "$top/libmilter/$src.c" -o "$work/obj/$src.o"
done
for src in errstring strl; do
	# shellcheck disable=SC2086
	${CC:-gcc} $cflags -c "$top/libsm/$src.c" -o "$work/obj/$src.o"
done
if nm "$work/obj/worker.o" | grep -q mi_start_session; then
	echo "build-libmilter: the worker pool is still compiled in" >&2
	exit 1
fi

mkdir -p "$prefix/lib" "$prefix/include/libmilter" "$prefix/share"
rm -f "$prefix/lib/libmilter.a"
${AR:-ar} rcs "$prefix/lib/libmilter.a" "$work"/obj/*.o
cp "$top/include/libmilter/mfapi.h" "$top/include/libmilter/mfdef.h" \
	"$prefix/include/libmilter/"
# what went in, for the copyright file of a binary that links it
cp "$top/LICENSE" "$prefix/share/LICENSE"
basename "$dsc" .dsc | sed 's/^sendmail_/sendmail /' >"$prefix/share/SOURCE"
echo "libmilter without the worker pool: $prefix ($(cat "$prefix/share/SOURCE"))"
