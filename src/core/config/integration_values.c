/* integration_values.c: reading, storing and formatting one value of an
 * integration file by its schema row (integration_schema.h), and a new
 * integration at the defaults of its type. */
#include "config/integration_schema.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <glib.h>

#include "config/urlcheck.h"
#include "config/values.h"
#include "engine/ratelimit.h"
#include "providers/registry.h"
#include "util/fileio.h"
#include "util/netaddr.h"

#define OFF(field) offsetof(struct integration, field)

/* ------------------------------------------------------------ validators */

static bool valid_name(const char *name)
{
	if (*name == '\0' || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

static bool valid_dns_servers(const char *value, char *err, size_t errlen)
{
	gchar **servers = g_strsplit(value, ",", -1);
	bool ok = true;

	for (int i = 0; servers[i] && ok; i++) {
		char *s = g_strstrip(servers[i]);
		struct net_addr addr;
		const char *colon = strrchr(s, ':');

		/* "1.2.3.4", "1.2.3.4:5353", "[::1]:5353", "::1" */
		if (net_addr_parse(s, &addr))
			continue;
		if (colon != NULL && colon[1] != '\0' && strspn(colon + 1, "0123456789") ==
		    strlen(colon + 1) && net_addr_parse_len(s, (size_t)(colon - s), &addr))
			continue;
		snprintf(err, errlen, "DNSServers: '%s' is not IP[:port]", s);
		ok = false;
	}
	g_strfreev(servers);
	return ok;
}

/* Every comma separated item must be a limit: "4/minute,,x" or "," would
 * otherwise leave fewer limits than written, or none (unlimited). */
static bool valid_rate_limit(const char *value, char *err, size_t errlen)
{
	gchar **items = g_strsplit(value, ",", -1);
	char why[256];
	bool ok = true;

	for (int i = 0; items[i] && ok; i++) {
		if (*g_strstrip(items[i]) == '\0') {
			snprintf(err, errlen, "RateLimit: empty item in '%s' (N/period, comma "
				 "separated, or none)", value);
			ok = false;
		}
	}
	if (ok && !ratelimit_spec_valid(value, why, sizeof(why))) {
		snprintf(err, errlen, "RateLimit: %s", why);
		ok = false;
	}
	g_strfreev(items);
	return ok;
}

/* A secret readable by other users, or writable by the group, is warned
 * about (OpenDKIM's RequireSafeKeys idea); group-readable is the
 * documented setup (0640 root:threatmilter). */
void integration_warn_if_exposed(struct integration *in, const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || (st.st_mode & 0027) == 0)
		return;
	g_ptr_array_add(in->warnings,
			g_strdup_printf("%s: %s %s is mode %04o, readable or writable by other "
					"users: make it 0640 (owner root, group of the daemon)",
					in->name ? in->name : "integration", what, path,
					(unsigned)(st.st_mode & 07777)));
}

static char *read_key_file(struct integration *in, const char *path, const char *base_dir,
			   char *err, size_t errlen)
{
	char *full = path[0] == '/' || base_dir == NULL ? g_strdup(path)
							 : g_build_filename(base_dir, path, NULL);
	char *contents = fileio_read_all(full, NULL, "APIKeyFile", err, errlen);

	if (contents == NULL) {
		g_free(full);
		return NULL;
	}
	integration_warn_if_exposed(in, "APIKeyFile", full);
	g_free(full);
	g_strstrip(contents);
	if (*contents == '\0' || strchr(contents, '\n') != NULL) {
		snprintf(err, errlen, "APIKeyFile: the file must hold the key alone on one line");
		secret_free(contents);
		return NULL;
	}
	return contents;
}

/* ------------------------------------------------------------ set / get */

#define FIELD(in, key, ctype) ((ctype *)(void *)((char *)(in) + (key)->offset))
#define CFIELD(in, key, ctype) ((const ctype *)(const void *)((const char *)(in) + (key)->offset))

static void replace_text(char **slot, char *value, bool secret)
{
	if (secret)
		secret_free(*slot);
	else
		g_free(*slot);
	*slot = value;
}

void integration_clear_values(struct integration *in)
{
	const struct integration_key *key;

	for (unsigned i = 0; (key = integration_schema_at(i)) != NULL; i++) {
		switch (key->kind) {
		case IKEY_NAME:
		case IKEY_TEXT:
		case IKEY_KEY_FILE:
		case IKEY_PROXY:
		case IKEY_RATE_LIMIT:
		case IKEY_DNS_SERVERS:
			replace_text(FIELD(in, key, char *), NULL, false);
			break;
		case IKEY_SECRET:
			replace_text(FIELD(in, key, char *), NULL, true);
			break;
		case IKEY_TAGS:
			g_clear_pointer(FIELD(in, key, GPtrArray *), g_ptr_array_unref);
			break;
		case IKEY_TYPE:
		case IKEY_BOOL:
		case IKEY_STATUS:
		case IKEY_UINT:
		case IKEY_DURATION:
		case IKEY_SIZE:
		case IKEY_ENUM:
			break;	/* nothing allocated */
		}
	}
}

static GPtrArray *parse_tags(const char *value)
{
	GPtrArray *tags = g_ptr_array_new_with_free_func(g_free);
	gchar **items = g_strsplit(value, ",", -1);

	for (int i = 0; items[i]; i++) {
		g_strstrip(items[i]);
		if (*items[i])
			g_ptr_array_add(tags, g_strdup(items[i]));
	}
	g_strfreev(items);
	return tags;
}

/* The number kinds: true when `value` parsed into *n; otherwise err
 * names the key, the kind and its range in the kind's own syntax. */
static bool parse_number(const struct integration_key *key, const char *value,
			 unsigned long long *n, char *err, size_t errlen)
{
	static const struct {
		enum integration_key_kind kind;
		bool (*parse)(const char *, unsigned long long, unsigned long long,
			      unsigned long long *);
		char *(*format)(unsigned long long);
		const char *what, *syntax;
	} kinds[] = {
		{ IKEY_DURATION, value_parse_duration_ms, value_format_duration_ms, "duration",
		  "e.g. 5s, 800ms, 2m; a bare number is seconds" },
		{ IKEY_SIZE, value_parse_size, value_format_size, "size", "bytes, or with K, M, G" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (kinds[i].kind != key->kind)
			continue;
		if (kinds[i].parse(value, key->min, key->max, n))
			return true;
		char *lo = kinds[i].format(key->min), *hi = kinds[i].format(key->max);

		snprintf(err, errlen, "%s: '%s' is not a %s from %s to %s (%s)", key->name, value,
			 kinds[i].what, lo, hi, kinds[i].syntax);
		g_free(lo);
		g_free(hi);
		return false;
	}
	if (value_parse_uint(value, key->min, key->max, n))
		return true;
	snprintf(err, errlen, "%s: '%s' is not a number from %llu to %llu", key->name, value,
		 key->min, key->max);
	return false;
}

static bool store_type(struct integration *in, const char *value, char *err, size_t errlen)
{
	const struct provider_type *type = provider_type_find(value), *t;
	GString *known;

	if (type != NULL) {
		in->type = type;
		return true;
	}
	known = g_string_new(NULL);
	for (unsigned i = 0; (t = provider_type_at(i)) != NULL; i++)
		g_string_append_printf(known, "%s%s", i ? ", " : "", t->name);
	snprintf(err, errlen, "Type: unknown provider type '%s' (known: %s)", value, known->str);
	g_string_free(known, TRUE);
	return false;
}

static bool store_key_file(struct integration *in, const char *value, const char *base_dir,
			   char *err, size_t errlen)
{
	char *secret = read_key_file(in, value, base_dir, err, errlen);

	if (secret == NULL)
		return false;
	replace_text(&in->api_key, secret, true);
	replace_text(&in->api_key_file, g_strdup(value), false);
	return true;
}

/* Stores without asking whether the type uses the key (defaults). One
 * case per value kind of the schema, so that a kind's parsing is in one
 * place; that is why it is longer than most functions. */
static bool store_value(struct integration *in, const struct integration_key *key,
			const char *value, const char *base_dir, char *err, size_t errlen)
{
	unsigned long long n;
	bool flag;
	int index;

	switch (key->kind) {
	case IKEY_NAME:
		if (!valid_name(value)) {
			snprintf(err, errlen, "Name: '%s' may only contain letters, digits, '.', '_'"
				 " and '-' (at most 64)", value);
			return false;
		}
		replace_text(&in->name, g_strdup(value), false);
		return true;
	case IKEY_TYPE:
		return store_type(in, value, err, errlen);
	case IKEY_TEXT:
		replace_text(FIELD(in, key, char *), g_strdup(value), false);
		return true;
	case IKEY_SECRET:
		replace_text(FIELD(in, key, char *), g_strdup(value), true);
		if (key->offset == OFF(api_key))
			replace_text(&in->api_key_file, NULL, false);
		return true;
	case IKEY_KEY_FILE:
		return store_key_file(in, value, base_dir, err, errlen);
	case IKEY_PROXY: {
		bool none = g_ascii_strcasecmp(value, "default") == 0;
		char why[256];

		/* what libcurl takes as CURLOPT_PROXY, scheme written out */
		if (!none && !urlcheck(value, urlcheck_proxy_schemes, why, sizeof(why))) {
			snprintf(err, errlen, "%s: %s", key->name, why);
			return false;
		}
		replace_text(FIELD(in, key, char *), none ? NULL : g_strdup(value), false);
		return true;
	}
	case IKEY_TAGS:
		if (in->tags != NULL)
			g_ptr_array_unref(in->tags);
		in->tags = parse_tags(value);
		return true;
	case IKEY_BOOL:
		if (!value_parse_bool(value, &flag)) {
			snprintf(err, errlen, "%s: '%s' is not yes or no", key->name, value);
			return false;
		}
		*FIELD(in, key, bool) = flag;
		return true;
	case IKEY_STATUS:
		if ((index = value_parse_enum(value, (const char *const[]){ "inactive", "active" },
					      2)) < 0) {
			snprintf(err, errlen, "Status: '%s' is neither active nor inactive", value);
			return false;
		}
		*FIELD(in, key, bool) = index == 1;
		return true;
	case IKEY_UINT:
	case IKEY_DURATION:
		if (!parse_number(key, value, &n, err, errlen))
			return false;
		*FIELD(in, key, unsigned) = (unsigned)n;
		return true;
	case IKEY_SIZE:
		if (!parse_number(key, value, &n, err, errlen))
			return false;
		*FIELD(in, key, size_t) = (size_t)n;
		return true;
	case IKEY_ENUM:
		if ((index = value_parse_enum(value, key->names, key->name_count)) < 0) {
			char *names = g_strjoinv(", ", (gchar **)key->names);

			snprintf(err, errlen, "%s: '%s' is not one of %s", key->name, value, names);
			g_free(names);
			return false;
		}
		*FIELD(in, key, int) = index;
		return true;
	case IKEY_RATE_LIMIT:
		if (g_ascii_strcasecmp(value, "none") != 0 && !valid_rate_limit(value, err, errlen))
			return false;
		replace_text(FIELD(in, key, char *), g_ascii_strcasecmp(value, "none") == 0
			     ? NULL : g_strdup(value), false);
		return true;
	case IKEY_DNS_SERVERS:
		if (!valid_dns_servers(value, err, errlen))
			return false;
		replace_text(FIELD(in, key, char *), g_strdup(value), false);
		return true;
	}
	return false;
}

static char *users_of(const struct integration_key *key)
{
	GString *users = g_string_new(NULL);
	const struct provider_type *t;

	for (unsigned i = 0; (t = provider_type_at(i)) != NULL; i++)
		if (integration_key_applies(key, t))
			g_string_append_printf(users, "%s%s", users->len ? ", " : "", t->name);
	return g_string_free(users, FALSE);
}

bool integration_set_value(struct integration *in, const struct integration_key *key,
			   const char *value, const char *base_dir, char *err, size_t errlen)
{
	bool flag;

	if (!integration_key_applies(key, in->type)) {
		/* "URLs no" is fine for any type; a toggle turned on, or a key
		 * the type never reads, is a mistake worth stopping for */
		if (key->flags & IKEY_TOGGLE) {
			if (!value_parse_bool(value, &flag)) {
				snprintf(err, errlen, "%s: '%s' is not yes or no", key->name, value);
				return false;
			}
			if (flag) {
				snprintf(err, errlen, "%s: %s cannot look up what %s enables",
					 key->name, in->type->display_name, key->name);
				return false;
			}
		} else {
			char *users = users_of(key);

			snprintf(err, errlen, "%s: not used by %s (only by: %s)", key->name,
				 in->type->display_name, users);
			g_free(users);
			return false;
		}
	}
	return store_value(in, key, value, base_dir, err, errlen);
}

struct integration *integration_new(const struct provider_type *type, const char *name)
{
	struct integration *in = g_new0(struct integration, 1);
	const struct integration_key *key;
	char err[256];

	in->type = type;
	in->name = g_strdup(name);
	in->tags = g_ptr_array_new_with_free_func(g_free);
	in->warnings = g_ptr_array_new_with_free_func(g_free);
	for (unsigned i = 0; (key = integration_schema_at(i)) != NULL; i++) {
		char *text = key->kind == IKEY_NAME || key->kind == IKEY_TYPE
			     ? NULL : integration_key_default(key, type);

		/* a default the parser refuses is a bug in the table */
		if (text != NULL && !store_value(in, key, text, NULL, err, sizeof(err)))
			g_error("built-in default of %s for %s: %s", key->name, type->name, err);
		g_free(text);
	}
	return in;
}

char *integration_get_value(const struct integration *in, const struct integration_key *key)
{
	switch (key->kind) {
	case IKEY_NAME:
	case IKEY_TEXT:
	case IKEY_SECRET:
	case IKEY_KEY_FILE:
	case IKEY_DNS_SERVERS:
		if (key->offset == OFF(api_key) && in->api_key_file != NULL)
			return NULL;	/* the key comes from APIKeyFile */
		return g_strdup(*CFIELD(in, key, char *));
	case IKEY_TYPE:
		return in->type ? g_strdup(in->type->name) : NULL;
	case IKEY_PROXY:
	case IKEY_RATE_LIMIT: {
		const char *s = *CFIELD(in, key, char *);

		return g_strdup(s ? s : key->kind == IKEY_PROXY ? "default" : "none");
	}
	case IKEY_TAGS:
		if (in->tags == NULL || in->tags->len == 0)
			return NULL;
		g_ptr_array_add(in->tags, NULL);	/* a NULL-terminated view */
		char *joined = g_strjoinv(", ", (gchar **)in->tags->pdata);
		g_ptr_array_remove_index(in->tags, in->tags->len - 1);
		return joined;
	case IKEY_BOOL:
		return g_strdup(value_format_bool(*CFIELD(in, key, bool)));
	case IKEY_STATUS:
		return g_strdup(*CFIELD(in, key, bool) ? "active" : "inactive");
	case IKEY_UINT:
		return g_strdup_printf("%u", *CFIELD(in, key, unsigned));
	case IKEY_DURATION:
		return value_format_duration_ms(*CFIELD(in, key, unsigned));
	case IKEY_SIZE:
		return value_format_size(*CFIELD(in, key, size_t));
	case IKEY_ENUM: {
		int index = *CFIELD(in, key, int);

		return index >= 0 && (unsigned)index < key->name_count
		       ? g_strdup(key->names[index]) : NULL;
	}
	}
	return NULL;
}

char *integration_display_value(const struct integration *in, const struct integration_key *key)
{
	char *value = integration_get_value(in, key);

	if (value != NULL && (key->flags & IKEY_SECRET_VALUE)) {
		char *masked = secret_mask(value);

		secret_free(value);
		return masked;
	}
	return value;
}
