/* redis_settings.c: CacheBackend, RedisServer and RedisTimeout (see
 * redis_settings.h). */
#include "cache/redis_settings.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "config/config.h"
#include "util/fileio.h"

#define DEFAULT_PORT 6379
#define DEFAULT_PREFIX "threatmilter:"
#define MAX_PASSWORD 512

void redis_settings_clear(struct redis_settings *s)
{
	if (s->password != NULL)
		memset(s->password, 0, strlen(s->password));
	g_free(s->password);
	g_free(s->host);
	g_free(s->unix_path);
	g_free(s->prefix);
	memset(s, 0, sizeof(*s));
}

void redis_settings_copy(struct redis_settings *dst, const struct redis_settings *src)
{
	*dst = *src;
	dst->host = g_strdup(src->host);
	dst->unix_path = g_strdup(src->unix_path);
	dst->password = g_strdup(src->password);
	dst->prefix = g_strdup(src->prefix);
}

static bool numeric_host(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* host[:port], [v6]:port or unix:/path */
static bool parse_address(const char *a, struct redis_settings *out, char *err, size_t errlen)
{
	const char *colon;
	char *host;

	if (g_str_has_prefix(a, "unix:")) {
		if (a[5] != '/') {
			snprintf(err, errlen, "RedisServer: unix: needs an absolute path");
			return false;
		}
		out->unix_path = g_strdup(a + 5);
		return true;
	}
	if (a[0] == '[') {
		const char *close = strchr(a, ']');

		if (close == NULL) {
			snprintf(err, errlen, "RedisServer: '%s': missing ]", a);
			return false;
		}
		host = g_strndup(a + 1, (gsize)(close - a - 1));
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL) {
			g_free(host);
			snprintf(err, errlen, "RedisServer: '%s': expected [address]:port", a);
			return false;
		}
	} else {
		colon = strrchr(a, ':');
		if (colon != NULL && strchr(a, ':') != colon)
			colon = NULL;	/* a bare IPv6 address */
		host = colon ? g_strndup(a, (gsize)(colon - a)) : g_strdup(a);
	}
	out->port = DEFAULT_PORT;
	if (colon != NULL) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (end == colon + 1 || *end != '\0' || port < 1 || port > 65535) {
			g_free(host);
			snprintf(err, errlen, "RedisServer: '%s': bad port", a);
			return false;
		}
		out->port = (int)port;
	}
	if (strcmp(host, "localhost") == 0) {
		g_free(host);
		host = g_strdup("127.0.0.1");
	}
	if (!numeric_host(host)) {
		snprintf(err, errlen, "RedisServer: '%s': a numeric address, localhost or "
			 "unix:/path (a name would be resolved with a blocking call)", host);
		g_free(host);
		return false;
	}
	out->host = host;
	return true;
}

static bool read_password(const char *path, struct redis_settings *out, char *err, size_t errlen)
{
	char *what = g_strconcat("RedisServer: password-file ", path, NULL);
	gsize len = 0;
	char *text = fileio_read_all(path, &len, what, err, errlen);

	g_free(what);
	if (text == NULL)
		return false;
	/* one line; the trailing newline is not part of it */
	char *nl = strpbrk(text, "\r\n");
	if (nl != NULL)
		*nl = '\0';
	if (text[0] == '\0' || strlen(text) > MAX_PASSWORD) {
		memset(text, 0, len);
		g_free(text);
		snprintf(err, errlen, "RedisServer: password-file %s: empty or longer than %d "
			 "bytes", path, MAX_PASSWORD);
		return false;
	}
	out->password = g_strdup(text);
	memset(text, 0, len);
	g_free(text);
	return true;
}

/* One "name=value" word after the address. */
static bool parse_option(const char *word, struct redis_settings *out, char *err, size_t errlen)
{
	const char *eq = strchr(word, '=');
	const char *v = eq ? eq + 1 : "";
	size_t n = eq ? (size_t)(eq - word) : strlen(word);

	if (eq != NULL && n == 2 && strncmp(word, "db", 2) == 0) {
		char *end;
		unsigned long db = strtoul(v, &end, 10);

		if (*v == '\0' || *end != '\0' || db > 1000000) {
			snprintf(err, errlen, "RedisServer: db=%s: not a database number", v);
			return false;
		}
		out->db = (unsigned)db;
		return true;
	}
	if (eq != NULL && n == 6 && strncmp(word, "prefix", 6) == 0 && *v != '\0') {
		g_free(out->prefix);
		out->prefix = g_strdup(v);
		return true;
	}
	if (eq != NULL && n == 13 && strncmp(word, "password-file", 13) == 0 && v[0] == '/')
		return read_password(v, out, err, errlen);
	snprintf(err, errlen, "RedisServer: '%.*s': expected db=N, prefix=STRING or "
		 "password-file=/absolute/path", (int)n, word);
	return false;
}

bool redis_settings_parse(const char *value, unsigned timeout_ms, struct redis_settings *out,
			  char *err, size_t errlen)
{
	char **words = g_strsplit_set(value ? value : "", " \t", -1);
	bool ok = true, have_address = false;

	memset(out, 0, sizeof(*out));
	out->prefix = g_strdup(DEFAULT_PREFIX);
	out->timeout_ms = timeout_ms;
	for (char **w = words; ok && *w != NULL; w++) {
		if (**w == '\0')
			continue;
		if (!have_address) {
			ok = parse_address(*w, out, err, errlen);
			have_address = true;
		} else {
			ok = parse_option(*w, out, err, errlen);
		}
	}
	g_strfreev(words);
	if (ok && !have_address) {
		snprintf(err, errlen, "RedisServer: missing (CacheBackend redis needs it)");
		ok = false;
	}
	if (!ok)
		redis_settings_clear(out);
	return ok;
}

void redis_settings_describe(const struct redis_settings *s, char *buf, size_t len)
{
	if (s->unix_path != NULL)
		snprintf(buf, len, "unix:%s db %u", s->unix_path, s->db);
	else if (strchr(s->host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d db %u", s->host, s->port, s->db);
	else
		snprintf(buf, len, "%s:%d db %u", s->host, s->port, s->db);
}

bool redis_settings_wanted(const struct tm_config *cfg)
{
	return cfg->cache_backend != NULL && g_ascii_strcasecmp(cfg->cache_backend, "redis") == 0;
}

bool redis_settings_check_config(const struct tm_config *cfg, char *err, size_t errlen)
{
	struct redis_settings s;
	char inner[512];
	bool ok = true;

	if (cfg->cache_backend != NULL && g_ascii_strcasecmp(cfg->cache_backend, "memory") != 0 &&
	    !redis_settings_wanted(cfg)) {
		snprintf(inner, sizeof(inner), "CacheBackend: bad value '%s' (memory or redis)",
			 cfg->cache_backend);
		ok = false;
	} else if (redis_settings_wanted(cfg)) {
		ok = redis_settings_parse(cfg->redis_server, cfg->redis_timeout_ms, &s, inner,
					  sizeof(inner));
		if (ok)
			redis_settings_clear(&s);
	}
	if (!ok)
		snprintf(err, errlen, "%s: %s", cfg->path ? cfg->path : "defaults", inner);
	return ok;
}
