/* html_charref.c: character references per the WHATWG tokenizer
 * (§13.2.5.72 to §13.2.5.80 of the HTML standard). */
#include "analysis/html_charref.h"

#include <string.h>

/* Longest name in the table, ';' included ("CounterClockwiseContourIntegral;"). */
#define ENTITY_NAME_MAX 32

/* Numeric references 0x80..0x9F name Windows-1252 characters (§13.2.5.80). */
static const gunichar c1_replacements[32] = {
	0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
	0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
};

static int entity_cmp(const char *name, size_t len, const char *entry)
{
	size_t elen = strlen(entry);
	int c = memcmp(name, entry, MIN(len, elen));

	if (c != 0)
		return c;
	return len < elen ? -1 : len > elen ? 1 : 0;
}

static const struct html_entity *entity_find(const char *name, size_t len)
{
	size_t lo = 0, hi = html_entities_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = entity_cmp(name, len, html_entities[mid].name);

		if (c == 0)
			return &html_entities[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void append_code_point(GString *out, guint64 v)
{
	if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		v = 0xFFFD;
	else if (v >= 0x80 && v <= 0x9F)
		v = c1_replacements[v - 0x80];
	g_string_append_unichar(out, (gunichar)v);
}

/* "&#..." at s: bytes consumed (0 if no digit follows, then it is text). */
static size_t numeric_ref(GString *out, const char *s, size_t len)
{
	size_t i = 2;
	bool hex = i < len && (s[i] == 'x' || s[i] == 'X');
	guint64 v = 0;
	size_t digits = 0;

	if (hex)
		i++;
	for (; i < len && (hex ? g_ascii_isxdigit(s[i]) : g_ascii_isdigit(s[i])); i++, digits++) {
		if (v <= 0x10FFFF)
			v = v * (hex ? 16 : 10) + (guint64)(hex ? g_ascii_xdigit_value(s[i])
							      : g_ascii_digit_value(s[i]));
	}
	if (digits == 0)
		return 0;
	if (i < len && s[i] == ';')
		i++;
	append_code_point(out, v);
	return i;
}

/* "&name" at s: bytes consumed (0 when no name matches or the attribute
 * rule keeps it as written). */
static size_t named_ref(GString *out, const char *s, size_t len, bool in_attribute)
{
	size_t run = 0;

	while (1 + run < len && run < ENTITY_NAME_MAX && g_ascii_isalnum(s[1 + run]))
		run++;
	if (run == 0)
		return 0;
	if (1 + run < len && s[1 + run] == ';') {
		const struct html_entity *e = entity_find(s + 1, run + 1);

		if (e != NULL) {
			g_string_append(out, e->value);
			return run + 2;
		}
	}
	/* Without ';' only the legacy names match: the longest one wins. */
	for (size_t n = run; n >= 2; n--) {
		const struct html_entity *e = entity_find(s + 1, n);

		if (e == NULL)
			continue;
		if (in_attribute && 1 + n < len && (s[1 + n] == '=' || g_ascii_isalnum(s[1 + n])))
			return 0;
		g_string_append(out, e->value);
		return n + 1;
	}
	return 0;
}

void html_decode_append(GString *out, const char *s, size_t len, bool in_attribute)
{
	size_t i = 0;

	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t used;

		if (amp == NULL) {
			g_string_append_len(out, s + i, (gssize)(len - i));
			return;
		}
		g_string_append_len(out, s + i, amp - (s + i));
		i = (size_t)(amp - s);
		if (i + 1 < len && s[i + 1] == '#')
			used = numeric_ref(out, s + i, len - i);
		else
			used = named_ref(out, s + i, len - i, in_attribute);
		if (used == 0) {
			g_string_append_c(out, '&');
			used = 1;
		}
		i += used;
	}
}
