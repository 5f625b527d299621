#!/bin/sh
# contrib/build-libmilter.sh takes its deb-src entries from the machine's
# own apt sources (issue 20). No network: the script runs with
# --print-sources on sample one-line (.list) and deb822 (.sources) files.
# Ends with "N passed, N failed"; exits non-zero if anything failed.
set -u
top=${TM_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
script="$top/contrib/build-libmilter.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# check NAME EXPECTED-FILE: compares $work/out with the expected lines
check() {
	if diff -u "$2" "$work/out" >"$work/diff"; then
		passed=$((passed + 1)); echo "ok   $1"
	else
		failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/     /' "$work/diff"
	fi
}
run() {	# run APT_ETC [VAR=VALUE...]: the script's lines into $work/out
	etc=$1; shift
	env -u MIRROR APT_ETC="$etc" SUITE=bookworm "$@" sh "$script" --print-sources \
		>"$work/out" 2>"$work/err"
}

# 1. one-line format: options, comments, other suites and components
e=$work/list; mkdir -p "$e/sources.list.d"
cat >"$e/sources.list" <<'LIST'
# a site mirror and a security proxy
deb http://apt.example.org/debian bookworm main contrib non-free-firmware
deb [arch=amd64 signed-by=/usr/share/keyrings/site.gpg] http://10.0.0.5:3142/debian-security bookworm-security main
deb-src http://apt.example.org/debian bookworm main
#deb http://old.example.org/debian bookworm main
deb http://apt.example.org/debian bullseye main
deb http://apt.example.org/debian bookworm-backports main
deb http://other.example.org/debian bookworm contrib
deb [ trusted=yes ] file:/srv/offline bookworm/updates main   # offline copy
LIST
cat >"$e/sources.list.d/thirdparty.list" <<'LIST'
deb https://packages.example.net/apt stable main
LIST
cat >"$work/want" <<'W'
deb-src http://apt.example.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/site.gpg] http://10.0.0.5:3142/debian-security bookworm-security main
deb-src file:/srv/offline bookworm/updates main
W
run "$e"; check "one-line sources.list: URIs, suites, signed-by kept" "$work/want"

# 2. deb822: several URIs and suites, Enabled: no, inline key, comments
e=$work/deb822; mkdir -p "$e/sources.list.d"
cat >"$e/sources.list.d/debian.sources" <<'SRC'
# the release and its updates
Types: deb
URIs: http://apt.example.org/debian http://apt2.example.org/debian
Suites: bookworm bookworm-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://apt.example.org/debian-security
Suites: bookworm-security
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOOHwPIJlgPu6JDcKw/NZJPR8lsD3K87ZM18gzyQZJD+w
 -----END PGP PUBLIC KEY BLOCK-----

Types: deb
URIs: http://disabled.example.org/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: http://apt.example.org/debian
Suites: bookworm
Components: contrib
SRC
cat >"$e/sources.list.d/vendor.sources" <<'SRC'
Types: deb
URIs: https://vendor.example.com/apt
Suites: nodistro
Components: main
SRC
cat >"$work/want" <<'W'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt.example.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt.example.org/debian bookworm-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt2.example.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://apt2.example.org/debian bookworm-updates main
deb-src http://apt.example.org/debian-security bookworm-security main
W
run "$e"; check "deb822 .sources: cross product, Enabled: no, inline key" "$work/want"

# 3. both formats together, and the same URI and suite only once
cp "$work/list/sources.list" "$e/sources.list"
run "$e"
lines=$(grep -c '^deb-src' "$work/out")
dups=$(awk '{ k = $(NF-2) " " $(NF-1) } seen[k]++' "$work/out" | wc -l)
if [ "$lines" -eq 7 ] && [ "$dups" -eq 0 ]; then
	passed=$((passed + 1)); echo "ok   both formats, no duplicate URI and suite"
else
	failed=$((failed + 1)); echo "FAIL both formats: $lines lines, $dups duplicates"; cat "$work/out"
fi

# 4. MIRROR overrides the configured sources
printf 'deb-src http://local.example/debian bookworm main\n' >"$work/want"
run "$e" MIRROR=http://local.example/debian
check "MIRROR overrides the configured sources" "$work/want"

# 5. nothing usable: the build stops and says what to set
e=$work/none; mkdir -p "$e/sources.list.d"
cp "$work/list/sources.list.d/thirdparty.list" "$e/sources.list.d/"
if env -u MIRROR APT_ETC="$e" SUITE=bookworm sh "$script" "$work/prefix" \
	>"$work/out" 2>"$work/err"; then
	failed=$((failed + 1)); echo "FAIL no usable source: the build went on"
elif grep -q 'set MIRROR=' "$work/err" && [ ! -e "$work/prefix" ]; then
	passed=$((passed + 1)); echo "ok   no usable source: stops, names MIRROR"
else
	failed=$((failed + 1)); echo "FAIL no usable source:"; cat "$work/err"
fi

# 6. the repository names no archive host (issue 20)
if command -v git >/dev/null && git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	if git -C "$top" grep -n -i -I -e 'deb\.debian\.org' -e 'ftp\.[a-z][a-z]\.debian' \
		-e 'mirror\.' -- . >"$work/out"; then
		failed=$((failed + 1)); echo "FAIL an archive host is named:"; cat "$work/out"
	else
		passed=$((passed + 1)); echo "ok   no archive host named in the repository"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
