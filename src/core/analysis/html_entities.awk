# html_entities.awk: turns html_entities.tsv (name<TAB>U+hex code points,
# sorted bytewise by name) into the C table html_charref.c searches.
# Plain POSIX awk, run with LC_ALL=C by the Makefile rule; a line out of
# order or malformed stops the build.
#
# Usage: LC_ALL=C awk -f html_entities.awk html_entities.tsv > html_entities_table.c

function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}

function hexval(s,    i, d, v) {
	v = 0
	for (i = 1; i <= length(s); i++) {
		d = index("0123456789ABCDEF", substr(s, i, 1))
		if (d == 0)
			fail("bad code point U+" s)
		v = v * 16 + d - 1
	}
	return v
}

# One byte of a C string literal: printable ASCII as itself, the rest
# (and '"', '\', '?') as a three-digit octal escape.
function cbyte(b) {
	if (b >= 32 && b < 127 && b != 34 && b != 92 && b != 63)
		return sprintf("%c", b)
	return sprintf("\\%03o", b)
}

# The UTF-8 bytes of one code point, as C literal text.
function utf8(cp) {
	if (cp < 128)
		return cbyte(cp)
	if (cp < 2048)
		return cbyte(192 + int(cp / 64)) cbyte(128 + cp % 64)
	if (cp < 65536)
		return cbyte(224 + int(cp / 4096)) cbyte(128 + int(cp / 64) % 64) \
			cbyte(128 + cp % 64)
	if (cp < 1114112)
		return cbyte(240 + int(cp / 262144)) cbyte(128 + int(cp / 4096) % 64) \
			cbyte(128 + int(cp / 64) % 64) cbyte(128 + cp % 64)
	fail("code point out of range")
}

BEGIN {
	FS = "\t"
	count = 0
	print "/* html_entities_table.c: GENERATED at build time by html_entities.awk"
	print " * from html_entities.tsv (the WHATWG named character references, written"
	print " * by gen_html_entities.py); do not edit. */"
	print "#include \"analysis/html_charref.h\""
	print ""
	print "const struct html_entity html_entities[] = {"
}

/^#/ || /^$/ { next }

{
	if (NF != 2 || $1 !~ /^[A-Za-z0-9]+;?$/)
		fail("expected name<TAB>code points")
	if (count > 0 && !(prev < $1))
		fail("\"" $1 "\" is not after \"" prev "\" (the table must be sorted)")
	n = split($2, points, " ")
	if (n < 1 || n > 2)
		fail("expected one or two code points")
	value = ""
	for (i = 1; i <= n; i++) {
		if (points[i] !~ /^U\+[0-9A-F]+$/)
			fail("bad code point " points[i])
		value = value utf8(hexval(substr(points[i], 3)))
	}
	printf "\t{ \"%s\", \"%s\" },\n", $1, value
	prev = $1
	count++
}

END {
	if (failed)
		exit 1
	print "};"
	print ""
	printf "const size_t html_entities_count = %d;\n", count
}
