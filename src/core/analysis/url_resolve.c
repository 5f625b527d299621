/* url_resolve.c: relative references against a base (WHATWG URL §4.4:
 * "special relative or authority", "relative", "relative slash" and
 * "path" states for the http, https and ftp schemes). */
#include "analysis/url_resolve.h"

#include <string.h>
#include <glib.h>

/* ref without leading/trailing C0 controls and spaces and without any
 * TAB, LF or CR (the URL parser's first steps). */
static char *strip_ref(const char *ref)
{
	size_t len = strlen(ref);
	GString *s;

	while (len > 0 && (unsigned char)*ref <= 0x20) {
		ref++;
		len--;
	}
	while (len > 0 && (unsigned char)ref[len - 1] <= 0x20)
		len--;
	if (strcspn(ref, "\t\n\r") >= len)
		return g_strndup(ref, len);	/* the common case: one copy */
	s = g_string_sized_new(len);
	for (size_t i = 0; i < len; i++)
		if (ref[i] != '\t' && ref[i] != '\n' && ref[i] != '\r')
			g_string_append_c(s, ref[i]);
	return g_string_free(s, FALSE);
}

/* Length of the scheme before ':' (RFC 3986: ALPHA *( ALPHA / DIGIT /
 * "+" / "-" / "." )), 0 if there is none. */
static size_t scheme_length(const char *s)
{
	size_t i = 0;

	if (!g_ascii_isalpha(s[0]))
		return 0;
	while (g_ascii_isalnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

static bool is_web_scheme(const char *s, size_t len)
{
	return (len == 4 && g_ascii_strncasecmp(s, "http", 4) == 0) ||
	       (len == 5 && g_ascii_strncasecmp(s, "https", 5) == 0) ||
	       (len == 3 && g_ascii_strncasecmp(s, "ftp", 3) == 0);
}

static bool is_slash(char c)
{
	return c == '/' || c == '\\';
}

bool url_is_absolute_web(const char *ref)
{
	char *s = strip_ref(ref);
	size_t n = scheme_length(s);
	bool web = n > 0 && is_web_scheme(s, n);

	g_free(s);
	return web;
}

/* Resolves a relative reference (no scheme, not "//") against base. */
static char *resolve_relative(const char *ref, const char *base)
{
	size_t scheme_len = scheme_length(base);
	const char *auth = base + scheme_len + 1;

	while (is_slash(*auth))
		auth++;
	const char *path = auth + strcspn(auth, "/\\?#");
	const char *query = path + strcspn(path, "?#");
	const char *fragment = query + strcspn(query, "#");
	GString *out = g_string_new(NULL);

	g_string_append_len(out, base, (gssize)scheme_len);
	g_string_append(out, "://");
	g_string_append_len(out, auth, path - auth);
	if (is_slash(ref[0])) {
		g_string_append(out, ref);
	} else if (ref[0] == '?') {
		g_string_append_len(out, path, query - path);
		g_string_append(out, ref);
	} else if (ref[0] == '#' || ref[0] == '\0') {
		g_string_append_len(out, path, fragment - path);
		g_string_append(out, ref);
	} else {
		const char *last = NULL;

		for (const char *q = path; q < query; q++)
			if (is_slash(*q))
				last = q;
		if (last != NULL)
			g_string_append_len(out, path, last + 1 - path);
		else
			g_string_append_c(out, '/');
		g_string_append(out, ref);
	}
	return g_string_free(out, FALSE);
}

char *url_resolve(const char *ref, const char *base)
{
	char *s = strip_ref(ref);
	size_t n = scheme_length(s);
	char *out = NULL;
	size_t base_scheme = base ? scheme_length(base) : 0;

	if (n > 0) {
		/* "https:path" with an https base is relative (§4.4 scheme state) */
		if (base_scheme == n && is_web_scheme(s, n) && g_ascii_strncasecmp(s, base, n) == 0 &&
		    !is_slash(s[n + 1]))
			out = resolve_relative(s + n + 1, base);
		else
			out = g_strdup(s);
	} else if (is_slash(s[0]) && is_slash(s[1])) {
		if (base_scheme > 0)
			out = g_strdup_printf("%.*s:%s", (int)base_scheme, base, s);
		else
			out = g_strconcat("http:", s, NULL);
	} else if (base_scheme > 0) {
		out = resolve_relative(s, base);
	}
	g_free(s);
	return out;
}
