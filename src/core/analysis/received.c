/* received.c: the sender IP from the Received headers.
 *
 * Only the `from` clause of a header is read: the `by` clause names our
 * own side of the hop and often carries an address too. The clause ends
 * at the first `by`, `with`, `id`, `for` or `via` word outside
 * parentheses, or at the `;` before the date.
 *
 * Header styles seen in the wild:
 *   Postfix/Gmail  from host (host [198.51.100.23]) by ...
 *   Sendmail       from host ([198.51.100.23] (may be forged)) by ...
 *   Exim           from [198.51.100.23] (port=51234 helo=host) by ...
 *   IPv6           from host (host [IPv6:2001:db8::1]) by ...
 *   Exchange       from EXCH01.corp.example (10.1.2.3) by EXCH02 ...
 * A [bracketed] literal is what the receiving MTA saw, so the last one
 * wins; a bare IP in parentheses (Exchange) is used only when there is
 * none. */
#include "analysis/received.h"

#include <string.h>
#include <glib.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A word that starts the next clause of a Received header. */
static bool is_clause_keyword(const char *word, size_t len)
{
	static const char *const keywords[] = { "by", "with", "id", "for", "via" };

	for (size_t i = 0; i < G_N_ELEMENTS(keywords); i++) {
		if (len == strlen(keywords[i]) && g_ascii_strncasecmp(word, keywords[i], len) == 0)
			return true;
	}
	return false;
}

/* Finds the `from` clause: [*start, *end). False if the header has none. */
static bool from_clause(const char *value, const char **start, const char **end)
{
	const char *p = value;
	int depth = 0;

	while (is_blank(*p))
		p++;
	if (g_ascii_strncasecmp(p, "from", 4) != 0 || !is_blank(p[4]))
		return false;
	p += 4;
	*start = p;
	while (*p != '\0') {
		if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (depth > 0)
				depth--;
		} else if (depth == 0 && *p == ';') {
			break;
		} else if (depth == 0 && is_blank(p[-1]) && g_ascii_isalpha(*p)) {
			const char *word = p;

			while (g_ascii_isalpha(*p))
				p++;
			if ((*p == '\0' || is_blank(*p)) && is_clause_keyword(word, (size_t)(p - word))) {
				p = word;
				break;
			}
			continue;
		}
		p++;
	}
	*end = p;
	return true;
}

bool received_from_ip(const char *value, struct net_addr *out)
{
	const char *start, *end;
	bool found_bracketed = false, found_bare = false;
	struct net_addr bracketed, bare;

	if (value == NULL || !from_clause(value, &start, &end))
		return false;

	for (const char *p = start; p < end; p++) {
		if (*p == '[') {
			const char *close = memchr(p, ']', (size_t)(end - p));
			struct net_addr addr;

			if (close == NULL)
				break;
			if (net_addr_parse_len(p + 1, (size_t)(close - p - 1), &addr)) {
				bracketed = addr;
				found_bracketed = true;
			}
			p = close;
		} else if (*p == '(') {
			/* Exchange: "(10.1.2.3)" with only an address inside. */
			const char *q = p + 1;
			const char *close;
			struct net_addr addr;

			while (q < end && is_blank(*q))
				q++;
			close = q;
			while (close < end && *close != ')' && *close != '(' && !is_blank(*close))
				close++;
			const char *after = close;
			while (after < end && is_blank(*after))
				after++;
			if (after < end && *after == ')' && close > q &&
			    net_addr_parse_len(q, (size_t)(close - q), &addr)) {
				bare = addr;
				found_bare = true;
			}
		}
	}
	if (found_bracketed)
		*out = bracketed;
	else if (found_bare)
		*out = bare;
	return found_bracketed || found_bare;
}

char *received_sender_ip(const char *const *values, size_t count, const struct net_list *trusted)
{
	for (size_t i = 0; i < count; i++) {
		struct net_addr addr;
		char text[NET_ADDR_TEXT_MAX];

		if (!received_from_ip(values[i], &addr))
			continue;
		if (net_addr_is_private(&addr) || net_list_match(trusted, &addr) != NULL)
			continue;
		return g_strdup(net_addr_format(&addr, text, sizeof(text)));
	}
	return NULL;
}
