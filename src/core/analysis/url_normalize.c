/* url_normalize.c: one candidate URL to its normalised form, or NULL.
 *
 * Why not curl_url() (libcurl 7.88, Debian 12) or GUri: both are RFC 3986
 * parsers, not browser ones. curl_url accepts 999.1.2.3 and 502.234 as
 * host names, rejects "https:host" and backslashes, and fails to give an
 * IDN host in punycode; GUri has no IPv4 number forms and no host
 * percent-decoding check. The browser-leniency pass would be most of this
 * file anyway, so the WHATWG host rules are implemented here directly. */
#include "analysis/url_normalize.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

/* Characters that hide inside URLs without being part of them. */
static size_t invisible_char_len(const unsigned char *p, size_t left)
{
	if (left >= 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x8b && p[2] <= 0x8d)
		return 3;	/* U+200B..U+200D */
	if (left >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0xa0)
		return 3;	/* U+2060 word joiner */
	if (left >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 3;	/* U+FEFF */
	if (left >= 2 && p[0] == 0xc2 && p[1] == 0xad)
		return 2;	/* U+00AD soft hyphen */
	return 0;
}

/* Ideographic and full-width dots that browsers read as '.'. */
static size_t unicode_dot_len(const unsigned char *p, size_t left)
{
	if (left >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x82)
		return 3;	/* U+3002 */
	if (left >= 3 && p[0] == 0xef && p[1] == 0xbc && p[2] == 0x8e)
		return 3;	/* U+FF0E */
	if (left >= 3 && p[0] == 0xef && p[1] == 0xbd && p[2] == 0xa1)
		return 3;	/* U+FF61 */
	return 0;
}

/* The candidate without TAB/CR/LF, invisible characters and surrounding
 * blanks. */
static GString *clean_copy(const char *raw, size_t len)
{
	GString *s = g_string_sized_new(len);
	const unsigned char *p = (const unsigned char *)raw;

	for (size_t i = 0; i < len;) {
		size_t skip = invisible_char_len(p + i, len - i);

		if (skip > 0) {
			i += skip;
			continue;
		}
		if (p[i] != '\t' && p[i] != '\r' && p[i] != '\n' && p[i] != '\0')
			g_string_append_c(s, (char)p[i]);
		i++;
	}
	size_t lead = 0;
	while (lead < s->len && (unsigned char)s->str[lead] <= 0x20)
		lead++;
	g_string_erase(s, 0, (gssize)lead);
	while (s->len > 0 && (unsigned char)s->str[s->len - 1] <= 0x20)
		g_string_truncate(s, s->len - 1);
	return s;
}

/* One part of a numeric IPv4 host: decimal, 0-prefixed octal or 0x hex. */
static bool ipv4_part(const char *s, size_t len, unsigned long long *out)
{
	int base = 10;
	char buf[32];
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
		if (len == 0) {
			*out = 0;	/* "0x" alone is 0 (WHATWG IPv4 number parser) */
			return true;
		}
	} else if (len > 1 && s[0] == '0') {
		base = 8;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (base == 16 ? !g_ascii_isxdigit(buf[i])
			       : !(buf[i] >= '0' && buf[i] <= (base == 8 ? '7' : '9')))
			return false;
	}
	*out = strtoull(buf, &end, base);
	return *end == '\0' && *out <= 0xffffffffULL;
}

/* inet_aton's forms: a, a.b, a.b.c, a.b.c.d with the last part filling
 * the remaining bytes (3232235777, 0xC0A80101, 0300.0250.1.1, 192.168.257). */
static bool numeric_ipv4(const char *host, char *out, size_t outlen)
{
	unsigned long long parts[4];
	int n = 0;
	const char *p = host;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 4 || !ipv4_part(p, len, &parts[n]))
			return false;
		n++;
		if (dot == NULL)
			break;
		p = dot + 1;
		if (*p == '\0')
			break;	/* trailing dot: "1.2.3.4." */
	}
	unsigned long long value = 0;
	for (int i = 0; i < n - 1; i++) {
		if (parts[i] > 255)
			return false;
		value |= parts[i] << (8 * (3 - i));
	}
	unsigned long long last_max = 0xffffffffULL >> (8 * (n - 1));
	if (parts[n - 1] > last_max)
		return false;
	value |= parts[n - 1];
	g_snprintf(out, outlen, "%llu.%llu.%llu.%llu", (value >> 24) & 255, (value >> 16) & 255,
		   (value >> 8) & 255, value & 255);
	return true;
}

static bool valid_hostname(const char *host)
{
	if (*host == '\0' || *host == '.' || strstr(host, "..") != NULL || strlen(host) > 253)
		return false;
	for (const char *p = host; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
			return false;
	return strchr(host, '.') != NULL;
}

/* WHATWG "ends in a number": the last label (a trailing dot ignored) is
 * all digits, or "0x" followed by hex digits only. Such a host must be a
 * valid IPv4 address or the URL is no URL (502.234, 999.1.2.3). */
static bool ends_in_number(const char *host)
{
	size_t len = strlen(host);
	const char *label;

	if (len > 0 && host[len - 1] == '.')
		len--;
	label = host + len;
	while (label > host && label[-1] != '.')
		label--;
	size_t n = (size_t)(host + len - label);
	if (n == 0)
		return false;
	if (n >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
		for (size_t i = 2; i < n; i++)
			if (!g_ascii_isxdigit(label[i]))
				return false;
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isdigit(label[i]))
			return false;
	return true;
}

/* The host with %XX escapes decoded (WHATWG host parser step 4) and the
 * ideographic/full-width dots read as '.'. */
static GString *decoded_host(const char *raw, size_t len)
{
	GString *h = g_string_sized_new(len);
	const unsigned char *p = (const unsigned char *)raw;

	for (size_t i = 0; i < len;) {
		size_t dot = unicode_dot_len(p + i, len - i);

		if (dot > 0) {
			g_string_append_c(h, '.');
			i += dot;
		} else if (p[i] == '%' && i + 2 < len && g_ascii_isxdigit(p[i + 1]) &&
			   g_ascii_isxdigit(p[i + 2])) {
			g_string_append_c(h, (char)(g_ascii_xdigit_value(p[i + 1]) * 16 +
						    g_ascii_xdigit_value(p[i + 2])));
			i += 3;
		} else {
			g_string_append_c(h, (char)p[i]);
			i++;
		}
	}
	return h;
}

/* Only printable ASCII (no blank, control or non-ASCII byte): what
 * clean_copy() and decoded_host() keep as it is but for '%'. */
static bool is_plain(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* Lower-case ASCII host in punycode or a dotted quad, or NULL. */
static char *normalize_host(const char *raw, size_t len)
{
	/* no escape and no ideographic dot: nothing to decode */
	GString *h = is_plain(raw, len) && !memchr(raw, '%', len) ? g_string_new_len(raw, (gssize)len)
								    : decoded_host(raw, len);
	char quad[16];

	while (h->len > 0 && h->str[h->len - 1] == '.')
		g_string_truncate(h, h->len - 1);
	if (h->len == 0 || memchr(h->str, '\0', h->len) != NULL ||
	    !g_utf8_validate(h->str, (gssize)h->len, NULL)) {
		g_string_free(h, TRUE);
		return NULL;
	}
	char *lower;

	if (is_ascii(h->str, h->len)) {
		/* No IDNA to do: g_hostname_to_ascii() would only lower-case
		 * it, as g_ascii_strdown() does in the C locale (this program
		 * sets no other), at five times the instructions. */
		lower = g_ascii_strdown(h->str, (gssize)h->len);
	} else {
		char *ascii = g_hostname_to_ascii(h->str);

		lower = ascii ? g_ascii_strdown(ascii, -1) : NULL;
		g_free(ascii);
	}
	g_string_free(h, TRUE);
	if (lower == NULL)
		return NULL;
	if (ends_in_number(lower)) {
		bool ok = numeric_ipv4(lower, quad, sizeof(quad));

		g_free(lower);
		return ok ? g_strdup(quad) : NULL;
	}
	if (!valid_hostname(lower)) {
		g_free(lower);
		return NULL;
	}
	return lower;
}

static bool is_dot_segment(const char *s, size_t len, int dots)
{
	if (dots == 1)
		return (len == 1 && s[0] == '.') || (len == 3 && g_ascii_strncasecmp(s, "%2e", 3) == 0);
	if (len == 2)
		return s[0] == '.' && s[1] == '.';
	if (len == 4)
		return g_ascii_strncasecmp(s, ".%2e", 4) == 0 || g_ascii_strncasecmp(s, "%2e.", 4) == 0;
	return len == 6 && g_ascii_strncasecmp(s, "%2e%2e", 6) == 0;
}

/* Removes "." and ".." segments from the path that starts at
 * out->str[start] (a '/') and ends at the query, fragment or end (WHATWG
 * path state: "%2e" counts as '.'). */
static void remove_dot_segments(GString *out, size_t start)
{
	size_t path_end = start + strcspn(out->str + start, "?#");
	const char *p = out->str + start;
	const char *end = out->str + path_end;

	/* Most paths have no '.' and no "%2e": nothing to remove then. */
	if (p < end && !memchr(p, '.', (size_t)(end - p)) && !memchr(p, '%', (size_t)(end - p)))
		return;
	GString *path = g_string_new(NULL);

	while (p < end) {
		const char *seg = p + 1;
		const char *seg_end = memchr(seg, '/', (size_t)(end - seg));
		bool last = seg_end == NULL;
		size_t seg_len;

		if (last)
			seg_end = end;
		seg_len = (size_t)(seg_end - seg);
		if (is_dot_segment(seg, seg_len, 2)) {
			char *slash = strrchr(path->str, '/');

			g_string_truncate(path, slash ? (size_t)(slash - path->str) : 0);
			if (last)
				g_string_append_c(path, '/');
		} else if (is_dot_segment(seg, seg_len, 1)) {
			if (last)
				g_string_append_c(path, '/');
		} else {
			g_string_append_c(path, '/');
			g_string_append_len(path, seg, (gssize)seg_len);
		}
		p = seg_end;
	}
	if (path->len == 0)
		g_string_append_c(path, '/');
	g_string_erase(out, (gssize)start, (gssize)(path_end - start));
	g_string_insert_len(out, (gssize)start, path->str, (gssize)path->len);
	g_string_free(path, TRUE);
}

static bool scheme_is(const char *s, size_t len, const char *name)
{
	return len == strlen(name) && g_ascii_strncasecmp(s, name, len) == 0;
}

/* The browser leniencies before the scheme: "//host" and "www.host"
 * get "http:"/"http://" in front. False when "www." is a word, not a
 * host (no dot follows it). */
static bool add_implied_scheme(GString *s)
{
	if (g_str_has_prefix(s->str, "//")) {
		g_string_prepend(s, "http:");
	} else if (g_ascii_strncasecmp(s->str, "www.", 4) == 0) {
		size_t host_len = strcspn(s->str + 4, "/\\?#:");

		if (memchr(s->str + 4, '.', host_len) == NULL)
			return false;
		g_string_prepend(s, "http://");
	}
	return true;
}

/* The scheme at the start of p: its length, or 0 when there is none or
 * it is not one we look up (mailto:, tel:, data:, javascript:, cid:...). */
static size_t web_scheme_len(const char *p)
{
	const char *colon = strchr(p, ':');

	if (colon == NULL || colon == p)
		return 0;
	for (const char *q = p; q < colon; q++)
		if (!g_ascii_isalnum(*q) && *q != '+' && *q != '.' && *q != '-')
			return 0;
	size_t len = (size_t)(colon - p);
	if (!scheme_is(p, len, "http") && !scheme_is(p, len, "https") && !scheme_is(p, len, "ftp"))
		return 0;
	return len;
}

/* The host of hostport..auth_end, normalised: an IPv6 literal in
 * canonical "[...]" form, anything else by normalize_host(). *port is
 * set after a ':' that follows the host. NULL when not a valid host. */
static char *parse_host(const char *hostport, const char *auth_end, const char **port)
{
	*port = NULL;
	if (*hostport != '[') {
		const char *pc = memchr(hostport, ':', (size_t)(auth_end - hostport));
		const char *host_end = pc ? pc : auth_end;

		if (pc != NULL)
			*port = pc + 1;
		return normalize_host(hostport, (size_t)(host_end - hostport));
	}

	const char *close = memchr(hostport, ']', (size_t)(auth_end - hostport));
	char v6[64], text[INET6_ADDRSTRLEN];
	unsigned char bytes[16];
	size_t v6len;

	if (close == NULL)
		return NULL;
	v6len = (size_t)(close - hostport - 1);
	if (v6len == 0 || v6len >= sizeof(v6))
		return NULL;
	memcpy(v6, hostport + 1, v6len);
	v6[v6len] = '\0';
	if (inet_pton(AF_INET6, v6, bytes) != 1 ||
	    inet_ntop(AF_INET6, bytes, text, sizeof(text)) == NULL)
		return NULL;
	if (close + 1 < auth_end) {
		if (close[1] != ':')
			return NULL;
		*port = close + 2;
	}
	return g_strdup_printf("[%s]", text);
}

/* Appends ":port" unless it is the scheme's default. False when port..
 * auth_end is not a port number (empty, not digits, over 65535). */
static bool append_port(GString *out, const char *port, const char *auth_end,
			const char *scheme, size_t scheme_len)
{
	size_t plen = (size_t)(auth_end - port);
	char digits[8];
	unsigned long n;

	if (plen == 0 || plen > 5 || strspn(port, "0123456789") < plen)
		return false;
	memcpy(digits, port, plen);
	digits[plen] = '\0';
	n = strtoul(digits, NULL, 10);
	if (n > 65535)
		return false;
	bool is_default = (n == 80 && scheme_is(scheme, scheme_len, "http")) ||
			  (n == 443 && scheme_is(scheme, scheme_len, "https")) ||
			  (n == 21 && scheme_is(scheme, scheme_len, "ftp"));
	if (!is_default)
		g_string_append_printf(out, ":%lu", n);
	return true;
}

/* Appends the path, query and fragment from p: backslashes read as '/'
 * until the query, as browsers do; spaces as %20; dot segments removed. */
static void append_path(GString *out, const char *p)
{
	size_t path_start = out->len;
	bool in_query = false;

	if (*p != '/' && *p != '\\')
		g_string_append_c(out, '/');
	for (const char *q = p; *q; q++) {
		if (*q == '?' || *q == '#')
			in_query = true;
		if (*q == ' ')
			g_string_append(out, "%20");
		else if (*q == '\\' && !in_query)
			g_string_append_c(out, '/');
		else
			g_string_append_c(out, *q);
	}
	remove_dot_segments(out, path_start);
}

/* Whether raw (len bytes, long) has a scheme we do not look up, judged
 * from its first bytes: data: and javascript: links carry whole images
 * and scripts, cleaned to no purpose. A cleaned prefix is the start of
 * the cleaned whole but for its last 2 characters (an invisible
 * character cut in two), so a ':' before them decides as the whole
 * would (add_implied_scheme, web_scheme_len). */
static bool other_scheme(const char *raw, size_t len)
{
	GString *head = clean_copy(raw, MIN(len, 32));
	const char *colon = memchr(head->str, ':', head->len);
	bool other = colon != NULL && head->len >= 8 && (size_t)(colon - head->str) + 2 < head->len &&
		     !g_str_has_prefix(head->str, "//") &&
		     g_ascii_strncasecmp(head->str, "www.", 4) != 0 && web_scheme_len(head->str) == 0;

	g_string_free(head, TRUE);
	return other;
}

char *url_normalize(const char *raw, size_t len)
{
	if (len > 256 && other_scheme(raw, len))
		return NULL;

	/* no blank, control or invisible character: nothing to clean */
	GString *s = is_plain(raw, len) ? g_string_new_len(raw, (gssize)len) : clean_copy(raw, len);
	GString *out = NULL;
	char *host = NULL;
	size_t scheme_len;

	if (!add_implied_scheme(s) || (scheme_len = web_scheme_len(s->str)) == 0)
		goto fail;

	/* "http://", "http:\\\\" and other slash mixtures all mean "//";
	 * so does none at all ("http:host", WHATWG special authority
	 * ignore slashes state) */
	const char *scheme = s->str;
	const char *p = scheme + scheme_len + 1;
	while (*p == '/' || *p == '\\')
		p++;

	const char *auth_end = p + strcspn(p, "/\\?#");
	const char *at = NULL;
	for (const char *q = p; q < auth_end; q++)
		if (*q == '@')
			at = q;
	const char *port;

	host = parse_host(at ? at + 1 : p, auth_end, &port);
	if (host == NULL)
		goto fail;

	out = g_string_sized_new(s->len + 16);
	for (size_t i = 0; i < scheme_len; i++)
		g_string_append_c(out, g_ascii_tolower(scheme[i]));
	g_string_append(out, "://");
	if (at != NULL) {
		for (const char *q = p; q <= at; q++) {
			if (*q == ' ')
				g_string_append(out, "%20");
			else
				g_string_append_c(out, *q);
		}
	}
	g_string_append(out, host);
	if (port != NULL && port < auth_end &&
	    !append_port(out, port, auth_end, scheme, scheme_len))
		goto fail;
	append_path(out, auth_end);
	g_free(host);
	g_string_free(s, TRUE);
	return g_string_free(out, FALSE);
fail:
	g_free(host);
	if (out != NULL)
		g_string_free(out, TRUE);
	g_string_free(s, TRUE);
	return NULL;
}

char *url_host(const char *url)
{
	const char *p = strstr(url, "://");
	const char *end, *at, *start;

	if (p == NULL)
		return NULL;
	p += 3;
	end = p + strcspn(p, "/?#");
	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	start = at ? at + 1 : p;
	if (*start == '[') {
		const char *close = memchr(start, ']', (size_t)(end - start));

		if (close == NULL)
			return NULL;
		return g_strndup(start + 1, (size_t)(close - start - 1));
	}
	const char *colon = memchr(start, ':', (size_t)(end - start));
	if (colon != NULL)
		end = colon;
	if (end == start)
		return NULL;
	return g_strndup(start, (size_t)(end - start));
}
