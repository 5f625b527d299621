/* html.c: URLs in an HTML part, with a tolerant scanner (no DOM): mail
 * HTML is often broken on purpose, and a parser that gives up is a hole.
 *
 * Attribute values of href= and src= are links; the visible text is
 * collected (entities decoded, inline tags joined, block tags as a space)
 * and searched for bare URLs like plain text. */
#include "analysis/html.h"

#include <string.h>
#include <glib.h>

#include "analysis/url_normalize.h"
#include "analysis/urls.h"

/* Tags that do not break the text flow: "<span>ht</span>tp://" stays one word. */
static const char *const inline_tags[] = {
	"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "em", "font", "i", "kbd", "label",
	"mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "tt", "u",
	"var", "wbr", "o:p",
};

static bool is_inline_tag(const char *name, size_t len)
{
	for (size_t i = 0; i < G_N_ELEMENTS(inline_tags); i++)
		if (strlen(inline_tags[i]) == len && g_ascii_strncasecmp(name, inline_tags[i], len) == 0)
			return true;
	return false;
}

static const struct {
	const char *name;
	gunichar ch;
} named_entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", ' ' }, { "sol", '/' }, { "colon", ':' }, { "period", '.' }, { "quest", '?' },
	{ "equals", '=' }, { "num", '#' }, { "percnt", '%' }, { "commat", '@' },
};

/* Appends s[0..len) to out with character references decoded. */
static void append_decoded(GString *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		if (s[i] != '&') {
			g_string_append_c(out, s[i++]);
			continue;
		}
		const char *semi = memchr(s + i, ';', MIN(len - i, 12));
		gunichar ch = 0;

		if (semi != NULL && i + 1 < len && s[i + 1] == '#') {
			const char *num = s + i + 2;
			bool hex = num < semi && (*num == 'x' || *num == 'X');
			char *end;
			char buf[16];
			size_t n = (size_t)(semi - num) - (hex ? 1 : 0);

			if (n > 0 && n < sizeof(buf)) {
				memcpy(buf, num + (hex ? 1 : 0), n);
				buf[n] = '\0';
				guint64 v = g_ascii_strtoull(buf, &end, hex ? 16 : 10);
				if (*end == '\0' && v > 0 && v <= 0x10ffff)
					ch = (gunichar)v;
			}
		} else if (semi != NULL) {
			size_t n = (size_t)(semi - s - i - 1);

			for (size_t k = 0; k < G_N_ELEMENTS(named_entities); k++)
				if (strlen(named_entities[k].name) == n &&
				    strncmp(s + i + 1, named_entities[k].name, n) == 0)
					ch = named_entities[k].ch;
		}
		if (ch == 0 || !g_unichar_validate(ch)) {
			g_string_append_c(out, s[i++]);
			continue;
		}
		char utf8[8];
		int ulen = g_unichar_to_utf8(ch, utf8);
		g_string_append_len(out, utf8, ulen);
		i = (size_t)(semi - s) + 1;
	}
}

static void add_link(const char *value, size_t len, struct url_set *out)
{
	GString *decoded = g_string_new(NULL);

	append_decoded(decoded, value, len);
	char *url = url_normalize(decoded->str, decoded->len);
	if (url != NULL)
		url_set_add(out, url);
	g_free(url);
	g_string_free(decoded, TRUE);
}

static const char *find_ci(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p++)
		if (g_ascii_strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* Reads the attributes of a tag from p (after its name) to its '>';
 * adds href/src values. Returns the position after the tag. */
static const char *scan_attributes(const char *p, const char *end, struct url_set *out)
{
	while (p < end && *p != '>') {
		if (g_ascii_isspace(*p) || *p == '/') {
			p++;
			continue;
		}
		const char *name = p;
		while (p < end && !g_ascii_isspace(*p) && *p != '=' && *p != '>' && *p != '/')
			p++;
		size_t name_len = (size_t)(p - name);
		while (p < end && g_ascii_isspace(*p))
			p++;
		if (p >= end || *p != '=')
			continue;
		p++;
		while (p < end && g_ascii_isspace(*p))
			p++;
		const char *value, *value_end;
		if (p < end && (*p == '"' || *p == '\'')) {
			char quote = *p++;

			value = p;
			value_end = memchr(p, quote, (size_t)(end - p));
			if (value_end == NULL)
				value_end = end;
			p = value_end < end ? value_end + 1 : end;
		} else {
			value = p;
			while (p < end && !g_ascii_isspace(*p) && *p != '>')
				p++;
			value_end = p;
		}
		if ((name_len == 4 && g_ascii_strncasecmp(name, "href", 4) == 0) ||
		    (name_len == 3 && g_ascii_strncasecmp(name, "src", 3) == 0))
			add_link(value, (size_t)(value_end - value), out);
	}
	return p < end ? p + 1 : end;
}

void urls_from_html(const char *html, size_t len, struct url_set *out)
{
	const char *p = html, *end = html + len;
	GString *text = g_string_sized_new(len);

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		const char *stop = lt ? lt : end;

		append_decoded(text, p, (size_t)(stop - p));
		if (lt == NULL)
			break;
		p = lt + 1;
		if (end - p >= 3 && strncmp(p, "!--", 3) == 0) {
			const char *close = find_ci(p + 3, end, "-->");
			p = close ? close + 3 : end;
			continue;
		}
		if (p < end && (*p == '!' || *p == '?')) {
			const char *gt = memchr(p, '>', (size_t)(end - p));
			p = gt ? gt + 1 : end;
			continue;
		}
		bool closing = p < end && *p == '/';
		if (closing)
			p++;
		const char *name = p;
		while (p < end && (g_ascii_isalnum(*p) || *p == ':' || *p == '-'))
			p++;
		size_t name_len = (size_t)(p - name);
		if (name_len == 0) {
			/* "a < b": not a tag */
			g_string_append_c(text, '<');
			p = name - (closing ? 1 : 0);
			continue;
		}
		if (!is_inline_tag(name, name_len))
			g_string_append_c(text, ' ');
		p = scan_attributes(p, end, out);
		if (!closing && ((name_len == 6 && g_ascii_strncasecmp(name, "script", 6) == 0) ||
				 (name_len == 5 && g_ascii_strncasecmp(name, "style", 5) == 0))) {
			const char *close = find_ci(p, end, name_len == 6 ? "</script" : "</style");
			p = close ? close : end;
		}
	}
	urls_from_text(text->str, text->len, out);
	g_string_free(text, TRUE);
}
