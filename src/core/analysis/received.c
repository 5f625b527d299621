/* received.c: the sender IP from the Received headers
 * (../shared/corpus/README.md, "sender_ip").
 *
 * Only the `from` clause is read: the `by` clause names our own side of
 * the hop. Its first word, the from-name, is the client's HELO (or the
 * reverse name) and is never read as a clause keyword, so a client
 * saying `HELO by` cannot end the clause. After it the clause runs to the
 * first `by`, `with`, `id`, `for` or `via` word outside parentheses, or
 * to the `;` before the date.
 *
 * Each MTA writes the peer address it saw in its own position:
 *   Postfix    from HELO (RDNS [IP]) by ...   (RDNS may be "unknown")
 *   Sendmail   from HELO (user@RDNS [IP] (may be forged)) by ...
 *   Gmail      from HELO (rdns. [IP]) by ...
 *   Exim       from RDNS ([IP]:port helo=HELO ident=X) by ...
 *              from [IP] (port=N helo=HELO) by ...
 *   qmail      from RDNS (HELO helo) (user@IP) by ...
 *   Exchange   from HELO (IP) by HOST (IP) with Microsoft SMTP Server ...
 *   M365       from HELO (rdns [IP]) by X.outlook.com (IP) with ...
 *   gateways   from 203.0.113.19 by 10.200.5.141 with SMTP
 * So the IP is taken, in order, from: the last parenthesised group whose
 * first token is a [literal] or a bare IP, or whose second token is a
 * [literal]; else a [literal] standing alone after the from-name; else
 * the from-name itself when it is an address. Text the client chose is
 * skipped: a `(HELO ...)`/`(EHLO ...)` group, and everything from
 * `helo=` or `ident=` on inside a group. */
#include "analysis/received.h"

#include <string.h>
#include <glib.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

static bool has_prefix_ci(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && g_ascii_strncasecmp(p, prefix, n) == 0;
}

/* The end of a balanced "(...)" starting at p: the position after its
 * ')', or end when it is not closed. */
static const char *group_end(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return end;
}

/* The end of a word: the next blank, '(' or ';'. */
static const char *word_end(const char *p, const char *end)
{
	while (p < end && !is_blank(*p) && *p != '(' && *p != ';')
		p++;
	return p;
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

/* "[IP]" or "[IP]:port" (Exim); "IPv6:" inside is accepted. */
static bool parse_literal(const char *p, const char *end, struct net_addr *out)
{
	const char *close;

	if (p >= end || *p != '[')
		return false;
	close = memchr(p, ']', (size_t)(end - p));
	if (close == NULL)
		return false;
	if (close + 1 < end && close[1] != ':')
		return false;
	return net_addr_parse_len(p + 1, (size_t)(close - p - 1), out);
}

/* A bare address, with qmail's "remoteinfo@" in front if any. */
static bool parse_bare(const char *p, const char *end, struct net_addr *out)
{
	for (const char *q = end; q > p; q--) {
		if (q[-1] == '@') {
			p = q;
			break;
		}
	}
	return p < end && net_addr_parse_len(p, (size_t)(end - p), out);
}

/* The peer address recorded in one parenthesised group [p, end) (the
 * parentheses excluded): a [literal] or bare IP as its first token, or a
 * [literal] as its second token after one word. */
static bool group_peer(const char *p, const char *end, struct net_addr *out)
{
	p = skip_blanks(p, end);
	if ((has_prefix_ci(p, end, "HELO") || has_prefix_ci(p, end, "EHLO")) &&
	    (p + 4 == end || is_blank(p[4])))
		return false;
	for (int token = 0; token < 2; token++) {
		const char *stop;

		p = skip_blanks(p, end);
		if (p >= end || *p == '(')
			return false;
		if (has_prefix_ci(p, end, "helo=") || has_prefix_ci(p, end, "ident="))
			return false;
		stop = word_end(p, end);
		if (parse_literal(p, stop, out))
			return true;
		if (token == 0 && parse_bare(p, stop, out))
			return true;
		p = stop;
	}
	return false;
}

/* The from-name itself as an address: "203.0.113.19" or "[IP]". */
static bool name_peer(const char *p, const char *end, struct net_addr *out)
{
	return parse_literal(p, end, out) || (p < end && net_addr_parse_len(p, (size_t)(end - p), out));
}

bool received_from_ip(const char *value, struct net_addr *out)
{
	const char *p, *end, *name, *name_end;
	bool have_group = false, have_alone = false;
	struct net_addr group_addr, alone_addr, addr;

	if (value == NULL)
		return false;
	end = value + strlen(value);
	p = skip_blanks(value, end);
	if (!has_prefix_ci(p, end, "from") || p + 4 >= end || !is_blank(p[4]))
		return false;
	name = skip_blanks(p + 4, end);
	name_end = *name == '(' ? name : word_end(name, end);
	p = name_end;
	for (;;) {
		p = skip_blanks(p, end);
		if (p >= end || *p == ';')
			break;
		if (*p == '(') {
			const char *close = group_end(p, end);
			const char *inner_end = close > p + 1 && close[-1] == ')' ? close - 1 : close;

			if (group_peer(p + 1, inner_end, &addr)) {
				group_addr = addr;
				have_group = true;
			}
			p = close;
			continue;
		}
		const char *stop = word_end(p, end);

		if (stop == p)
			stop = p + 1;	/* a lone ')' */
		if (is_clause_keyword(p, (size_t)(stop - p)))
			break;
		if (!have_alone && parse_literal(p, stop, &addr)) {
			alone_addr = addr;
			have_alone = true;
		}
		p = stop;
	}
	if (have_group)
		*out = group_addr;
	else if (have_alone)
		*out = alone_addr;
	else
		return name_peer(name, name_end, out);
	return true;
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
