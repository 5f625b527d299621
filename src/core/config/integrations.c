/* integrations.c: one file per integration in integrations.d/, with the
 * fields of the seed's "New integration" form. */
#include "config/integrations.h"

#include <stdio.h>
#include <string.h>

#include "config/values.h"
#include "config/kvfile.h"
#include "util/netaddr.h"
#include "providers/registry.h"
#include "engine/ratelimit.h"

/* Values are kept as text first: their meaning depends on Type, which
 * may come after them in the file. */
struct raw_integration {
	GHashTable *values;	/* lower-case key -> value */
	GHashTable *lines;	/* lower-case key -> line */
};

static const char *const known_keys[] = {
	"Name", "Type", "Description", "APIURL", "APIKey", "APIKeyFile", "APIPassword", "Tags",
	"Proxy", "URLs", "HideURLParameters", "SenderIP", "Attachments", "UploadPEFiles",
	"UploadOtherFiles", "Status", "DetectionThreshold", "Cache", "CacheHours",
	"CacheMaxHits", "CacheMaxEntries", "VerifySSL", "Timeout", "MaxInFlight", "RateLimit",
	"DNSServers", "Created",
};

static const char *canonical_key(const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(known_keys); i++)
		if (g_ascii_strcasecmp(known_keys[i], key) == 0)
			return known_keys[i];
	return NULL;
}

static bool collect(const char *key, const char *value, const char *file, unsigned line,
		    void *userdata, char *err, size_t errlen)
{
	struct raw_integration *raw = userdata;
	const char *canon = canonical_key(key);

	(void)file;
	if (canon == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return false;
	}
	if (g_hash_table_contains(raw->values, canon)) {
		snprintf(err, errlen, "%s given twice (first on line %u)", canon,
			 GPOINTER_TO_UINT(g_hash_table_lookup(raw->lines, canon)));
		return false;
	}
	g_hash_table_insert(raw->values, (gpointer)canon, g_strdup(value));
	g_hash_table_insert(raw->lines, (gpointer)canon, GUINT_TO_POINTER(line));
	return true;
}

void integration_free(struct integration *in)
{
	if (in == NULL)
		return;
	g_free(in->file);
	g_free(in->name);
	g_free(in->description);
	g_free(in->api_url);
	if (in->api_key != NULL) {
		/* do not leave the key in freed memory */
		memset(in->api_key, 0, strlen(in->api_key));
		g_free(in->api_key);
	}
	if (in->api_password != NULL) {
		memset(in->api_password, 0, strlen(in->api_password));
		g_free(in->api_password);
	}
	if (in->tags != NULL)
		g_ptr_array_unref(in->tags);
	g_free(in->proxy);
	g_free(in->rate_limit);
	g_free(in->dns_servers);
	g_free(in->created);
	g_free(in);
}

static struct integration *integration_with_type_defaults(const struct provider_type *type)
{
	struct integration *in = g_new0(struct integration, 1);

	in->type = type;
	in->tags = g_ptr_array_new_with_free_func(g_free);
	in->active = true;
	in->urls = type->default_urls;
	in->sender_ip = type->default_sender_ip;
	in->attachments = type->default_attachments;
	in->detection_threshold = type->default_detection_threshold;
	in->cache = true;
	in->cache_hours = 24;
	in->cache_max_hits = 100;
	in->cache_max_entries = 100000;
	in->verify_ssl = true;
	in->timeout_ms = 5000;
	in->max_in_flight = 16;
	in->api_url = g_strdup(type->default_api_url);
	in->rate_limit = g_strdup(type->default_rate_limit);
	return in;
}

struct integration *integration_default_spamhaus(void)
{
	struct integration *in = integration_with_type_defaults(provider_type_find("spamhaus"));

	in->name = g_strdup("spamhaus-zen");
	in->description = g_strdup("Spamhaus ZEN and DBL, public mirror (embedded default)");
	in->file = g_strdup("(embedded defaults)");
	return in;
}

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

/* Parses the text values into in. On error: message and the line. */
static bool apply_values(struct integration *in, struct raw_integration *raw, char *err,
			 size_t errlen, unsigned *err_line)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, raw->values);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const char *key = k, *value = v;
		bool *flag = NULL;
		unsigned *number = NULL;
		unsigned long long n;

		*err_line = GPOINTER_TO_UINT(g_hash_table_lookup(raw->lines, key));
		if (strcmp(key, "Name") == 0 || strcmp(key, "Type") == 0 ||
		    strcmp(key, "APIKeyFile") == 0)
			continue;	/* handled by the caller */
		if (strcmp(key, "Description") == 0) {
			g_free(in->description);
			in->description = g_strdup(value);
		} else if (strcmp(key, "APIURL") == 0) {
			g_free(in->api_url);
			in->api_url = g_strdup(value);
		} else if (strcmp(key, "APIKey") == 0) {
			in->api_key = g_strdup(value);
		} else if (strcmp(key, "APIPassword") == 0) {
			in->api_password = g_strdup(value);
		} else if (strcmp(key, "Tags") == 0) {
			gchar **tags = g_strsplit(value, ",", -1);
			for (int i = 0; tags[i]; i++) {
				g_strstrip(tags[i]);
				if (*tags[i])
					g_ptr_array_add(in->tags, g_strdup(tags[i]));
			}
			g_strfreev(tags);
		} else if (strcmp(key, "Proxy") == 0) {
			g_free(in->proxy);
			in->proxy = g_ascii_strcasecmp(value, "default") == 0 ? NULL : g_strdup(value);
		} else if (strcmp(key, "Status") == 0) {
			if (g_ascii_strcasecmp(value, "active") == 0) {
				in->active = true;
			} else if (g_ascii_strcasecmp(value, "inactive") == 0) {
				in->active = false;
			} else {
				snprintf(err, errlen, "Status: '%s' is neither active nor inactive", value);
				return false;
			}
		} else if (strcmp(key, "Timeout") == 0) {
			if (!value_parse_duration_ms(value, 1, 600000, &n)) {
				snprintf(err, errlen, "Timeout: bad duration '%s' (e.g. 5s, 800ms)", value);
				return false;
			}
			in->timeout_ms = (unsigned)n;
		} else if (strcmp(key, "RateLimit") == 0) {
			char why[256];

			if (g_ascii_strcasecmp(value, "none") != 0 &&
			    !ratelimit_spec_valid(value, why, sizeof(why))) {
				snprintf(err, errlen, "RateLimit: %s", why);
				return false;
			}
			g_free(in->rate_limit);
			in->rate_limit = g_ascii_strcasecmp(value, "none") == 0 ? NULL : g_strdup(value);
		} else if (strcmp(key, "DNSServers") == 0) {
			if (!valid_dns_servers(value, err, errlen))
				return false;
			in->dns_servers = g_strdup(value);
		} else if (strcmp(key, "Created") == 0) {
			in->created = g_strdup(value);
		} else {
			if (strcmp(key, "URLs") == 0) flag = &in->urls;
			else if (strcmp(key, "HideURLParameters") == 0) flag = &in->hide_url_parameters;
			else if (strcmp(key, "SenderIP") == 0) flag = &in->sender_ip;
			else if (strcmp(key, "Attachments") == 0) flag = &in->attachments;
			else if (strcmp(key, "UploadPEFiles") == 0) flag = &in->upload_pe_files;
			else if (strcmp(key, "UploadOtherFiles") == 0) flag = &in->upload_other_files;
			else if (strcmp(key, "Cache") == 0) flag = &in->cache;
			else if (strcmp(key, "VerifySSL") == 0) flag = &in->verify_ssl;
			else if (strcmp(key, "DetectionThreshold") == 0) number = &in->detection_threshold;
			else if (strcmp(key, "CacheHours") == 0) number = &in->cache_hours;
			else if (strcmp(key, "CacheMaxHits") == 0) number = &in->cache_max_hits;
			else if (strcmp(key, "CacheMaxEntries") == 0) number = &in->cache_max_entries;
			else if (strcmp(key, "MaxInFlight") == 0) number = &in->max_in_flight;
			if (flag != NULL && !value_parse_bool(value, flag)) {
				snprintf(err, errlen, "%s: '%s' is not yes or no", key, value);
				return false;
			}
			if (number != NULL) {
				char *end;

				if (!g_ascii_isdigit(*value) ||
				    (n = g_ascii_strtoull(value, &end, 10)) > 100000000 || *end) {
					snprintf(err, errlen, "%s: '%s' is not a number", key, value);
					return false;
				}
				*number = (unsigned)n;
			}
		}
	}
	return true;
}

/* Rules that need the whole file. */
static bool check_integration(struct integration *in, struct raw_integration *raw,
			      char *err, size_t errlen, unsigned *err_line)
{
	const struct provider_type *t = in->type;
	static const struct { const char *key; unsigned cap; } toggles[] = {
		{ "URLs", CAP_URL | CAP_DOMAIN }, { "SenderIP", CAP_IP },
		{ "Attachments", CAP_HASH }, { "UploadPEFiles", CAP_UPLOAD },
		{ "UploadOtherFiles", CAP_UPLOAD },
	};
	bool on[] = { in->urls, in->sender_ip, in->attachments, in->upload_pe_files,
		      in->upload_other_files };

	for (size_t i = 0; i < G_N_ELEMENTS(toggles); i++) {
		if (on[i] && !(t->capabilities & toggles[i].cap)) {
			*err_line = GPOINTER_TO_UINT(g_hash_table_lookup(raw->lines, toggles[i].key));
			snprintf(err, errlen, "%s: %s cannot look up what %s enables", toggles[i].key,
				 t->display_name, toggles[i].key);
			return false;
		}
	}
	if (in->api_url == NULL || *in->api_url == '\0') {
		*err_line = 0;
		snprintf(err, errlen, "APIURL is required for %s (no default address)",
			 t->display_name);
		return false;
	}
	if (in->active && t->needs_key && (in->api_key == NULL || *in->api_key == '\0')) {
		*err_line = 0;
		snprintf(err, errlen, "APIKey (or APIKeyFile) is required for %s", t->display_name);
		return false;
	}
	if (in->active && t->needs_password &&
	    (in->api_password == NULL || *in->api_password == '\0')) {
		*err_line = 0;
		snprintf(err, errlen, "APIPassword is required for %s", t->display_name);
		return false;
	}
	if (in->dns_servers != NULL && t->ops != NULL && strcmp(t->name, "spamhaus") != 0) {
		*err_line = GPOINTER_TO_UINT(g_hash_table_lookup(raw->lines, "DNSServers"));
		snprintf(err, errlen, "DNSServers: only for DNS providers (spamhaus)");
		return false;
	}
	return true;
}

static char *read_key_file(const char *path, const char *base_dir, char *err, size_t errlen)
{
	char *full = path[0] == '/' ? g_strdup(path) : g_build_filename(base_dir, path, NULL);
	gchar *contents = NULL;
	GError *error = NULL;

	if (!g_file_get_contents(full, &contents, NULL, &error)) {
		snprintf(err, errlen, "APIKeyFile: %s", error->message);
		g_error_free(error);
		g_free(full);
		return NULL;
	}
	g_free(full);
	g_strstrip(contents);
	if (*contents == '\0') {
		snprintf(err, errlen, "APIKeyFile: the file is empty");
		g_free(contents);
		return NULL;
	}
	return contents;
}

struct integration *integration_load_file(const char *path, char *err, size_t errlen)
{
	struct raw_integration raw = {
		.values = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free),
		.lines = g_hash_table_new(g_str_hash, g_str_equal),
	};
	struct integration *in = NULL;
	char msg[512];
	unsigned line = 0;

	if (!kvfile_read(path, collect, &raw, err, errlen))
		goto out;
	const char *name = g_hash_table_lookup(raw.values, "Name");
	const char *type_name = g_hash_table_lookup(raw.values, "Type");
	if (name == NULL || type_name == NULL) {
		snprintf(err, errlen, "%s: %s is required", path, name == NULL ? "Name" : "Type");
		goto out;
	}
	if (!valid_name(name)) {
		snprintf(err, errlen, "%s:%u: Name: '%s' may only contain letters, digits, '.', '_'"
			 " and '-'", path, GPOINTER_TO_UINT(g_hash_table_lookup(raw.lines, "Name")), name);
		goto out;
	}
	const struct provider_type *type = provider_type_find(type_name);
	if (type == NULL) {
		GString *known = g_string_new(NULL);
		const struct provider_type *t;

		for (unsigned i = 0; (t = provider_type_at(i)) != NULL; i++)
			g_string_append_printf(known, "%s%s", i ? ", " : "", t->name);
		snprintf(err, errlen, "%s:%u: Type: unknown provider type '%s' (known: %s)", path,
			 GPOINTER_TO_UINT(g_hash_table_lookup(raw.lines, "Type")), type_name,
			 known->str);
		g_string_free(known, TRUE);
		goto out;
	}
	in = integration_with_type_defaults(type);
	in->file = g_strdup(path);
	in->name = g_strdup(name);
	if (!apply_values(in, &raw, msg, sizeof(msg), &line))
		goto fail;
	const char *key_file = g_hash_table_lookup(raw.values, "APIKeyFile");
	if (key_file != NULL) {
		line = GPOINTER_TO_UINT(g_hash_table_lookup(raw.lines, "APIKeyFile"));
		if (in->api_key != NULL) {
			snprintf(msg, sizeof(msg), "APIKeyFile: give APIKey or APIKeyFile, not both");
			goto fail;
		}
		char *dir = g_path_get_dirname(path);
		in->api_key = read_key_file(key_file, dir, msg, sizeof(msg));
		g_free(dir);
		if (in->api_key == NULL)
			goto fail;
	}
	if (!check_integration(in, &raw, msg, sizeof(msg), &line))
		goto fail;
	goto out;
fail:
	/* messages never quote APIKey or APIPassword values */
	if (line > 0)
		snprintf(err, errlen, "%s:%u: %s", path, line, msg);
	else
		snprintf(err, errlen, "%s: %s", path, msg);
	integration_free(in);
	in = NULL;
out:
	g_hash_table_unref(raw.values);
	g_hash_table_unref(raw.lines);
	return in;
}

/* g_ptr_array_sort passes pointers to the elements */
static gint by_file_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *integrations_load_dir(const char *dir, bool missing_ok, char *err, size_t errlen)
{
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)integration_free);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GError *error = NULL;
	GDir *d = g_dir_open(dir, 0, &error);
	const char *entry;

	if (d == NULL) {
		g_ptr_array_unref(names);
		if (missing_ok && g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			g_error_free(error);
			return list;
		}
		snprintf(err, errlen, "IntegrationsDir %s: %s", dir, error->message);
		g_error_free(error);
		g_ptr_array_unref(list);
		return NULL;
	}
	while ((entry = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(entry, ".conf") && entry[0] != '.')
			g_ptr_array_add(names, g_strdup(entry));
	g_dir_close(d);
	g_ptr_array_sort(names, by_file_name);
	for (guint i = 0; i < names->len; i++) {
		char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
		struct integration *in = integration_load_file(path, err, errlen);

		g_free(path);
		if (in == NULL)
			goto fail;
		for (guint k = 0; k < list->len; k++) {
			const struct integration *other = g_ptr_array_index(list, k);

			if (strcmp(other->name, in->name) == 0) {
				snprintf(err, errlen, "%s: Name '%s' is already used by %s", in->file,
					 in->name, other->file);
				integration_free(in);
				goto fail;
			}
		}
		g_ptr_array_add(list, in);
	}
	g_ptr_array_unref(names);
	return list;
fail:
	g_ptr_array_unref(names);
	g_ptr_array_unref(list);
	return NULL;
}
