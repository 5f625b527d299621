/* integrations.c: reading integration files (one per integration in
 * integrations.d/) through the schema table of integration_schema.c, and
 * the rules that need the whole integration. */
#include "config/integrations.h"

#include <stdio.h>
#include <string.h>

#include "config/integration_schema.h"
#include "config/kvfile.h"
#include "config/urlcheck.h"
#include "providers/registry.h"
#include "util/fileio.h"
#include "util/log.h"

/* Values are kept as text first: their meaning depends on Type, which
 * may come after them in the file. */
struct raw_integration {
	GHashTable *values;	/* schema name -> value */
	GHashTable *lines;	/* schema name -> line */
};

static bool collect(const char *key, const char *value, const char *file, unsigned line,
		    void *userdata, char *err, size_t errlen)
{
	struct raw_integration *raw = userdata;
	const struct integration_key *def = integration_schema_find(key);

	(void)file;
	if (def == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return false;
	}
	if (g_hash_table_contains(raw->values, def->name)) {
		snprintf(err, errlen, "%s given twice (first on line %u)", def->name,
			 GPOINTER_TO_UINT(g_hash_table_lookup(raw->lines, def->name)));
		return false;
	}
	g_hash_table_insert(raw->values, (gpointer)def->name, g_strdup(value));
	g_hash_table_insert(raw->lines, (gpointer)def->name, GUINT_TO_POINTER(line));
	return true;
}

void integration_free(struct integration *in)
{
	if (in == NULL)
		return;
	integration_clear_values(in);	/* every key's value, secrets wiped */
	g_free(in->file);
	if (in->warnings != NULL)
		g_ptr_array_unref(in->warnings);
	g_free(in);
}

struct integration *integration_default_spamhaus(void)
{
	/* the type that declares a default integration (registry.h) */
	const struct provider_type *type = provider_type_default();
	struct integration *in = integration_new(type, type->default_integration_name);

	in->description = g_strdup(type->default_integration_description);
	in->file = g_strdup("(embedded defaults)");
	return in;
}

/* Whether the type does anything yet: lookups (providers/<type>.c) or,
 * like IRONSCALES, admin actions only; a type with neither is known to
 * the form but must not be active yet (issue 18, 7). */

/* `key`: where the secret came from; `required`: how to ask for it. */
static bool check_secret(const char *secret, bool needed, const char *key, const char *required,
			 const struct provider_type *t, char *err, size_t errlen)
{
	if (needed && (secret == NULL || *secret == '\0')) {
		snprintf(err, errlen, "%s is required for %s", required, t->display_name);
		return false;
	}
	if (secret_is_placeholder(secret)) {
		snprintf(err, errlen, "%s: the placeholder of an example file is still there; "
			 "set the real value or Status inactive", key);
		return false;
	}
	return true;
}

/* CompanyID: digits only (it goes into request paths), whether or not
 * the integration is active; required by an active integration of a type
 * that needs it (IRONSCALES, ../shared/providers/ironscales.md §2). */
static bool check_company_id(const struct integration *in, char *err, size_t errlen)
{
	const char *id = in->company_id;

	if (id != NULL && (*id == '\0' || strspn(id, "0123456789") != strlen(id) ||
			   strlen(id) > 18)) {
		snprintf(err, errlen, "CompanyID: '%s' is not a company id (digits)", id);
		return false;
	}
	if (id == NULL && in->active && in->type->needs_company_id) {
		snprintf(err, errlen, "CompanyID is required for %s", in->type->display_name);
		return false;
	}
	return true;
}

bool integration_check(const struct integration *in, const char **key, char *err, size_t errlen)
{
	const struct provider_type *t = in->type;
	const struct integration_key *k;
	char why[256];

	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		if ((k->flags & IKEY_TOGGLE) && !integration_key_applies(k, t) &&
		    *(const bool *)(const void *)((const char *)in + k->offset)) {
			*key = k->name;
			snprintf(err, errlen, "%s: %s cannot look up what %s enables", k->name,
				 t->display_name, k->name);
			return false;
		}
	}
	*key = "APIURL";
	if (in->api_url == NULL || *in->api_url == '\0') {
		snprintf(err, errlen, "APIURL is required for %s (no default address)",
			 t->display_name);
		return false;
	}
	/* an HTTP(S) API root, except the DNS zone of a DNS type */
	if (t->ops.dns == NULL && !urlcheck(in->api_url, urlcheck_api_schemes, why, sizeof(why))) {
		snprintf(err, errlen, "APIURL: %s", why);
		return false;
	}
	*key = "CompanyID";
	if (!check_company_id(in, err, errlen))
		return false;
	if (!in->active)
		return true;
	*key = "Type";
	if (!provider_implemented(t)) {
		snprintf(err, errlen, "Type: lookups of type %s (%s) are not implemented yet; set "
			 "Status inactive until they are", t->name, t->display_name);
		return false;
	}
	*key = in->api_key_file != NULL ? "APIKeyFile" : "APIKey";
	if (!check_secret(in->api_key, t->needs_key, *key, "APIKey (or APIKeyFile)", t, err,
			  errlen))
		return false;
	*key = "APIPassword";
	return check_secret(in->api_password, t->needs_password, *key, *key, t, err, errlen);
}

static unsigned line_of(const struct raw_integration *raw, const char *key)
{
	return key ? GPOINTER_TO_UINT(g_hash_table_lookup(raw->lines, key)) : 0;
}

/* The values of the file, in schema order, on top of the type's
 * defaults. On error: the message and the key it is about. */
static struct integration *apply_raw(const char *path, struct raw_integration *raw,
				     const char **bad_key, char *msg, size_t msglen)
{
	struct integration scratch = { 0 };
	const struct integration_key *k;
	struct integration *in;
	char *dir;

	*bad_key = "Type";
	if (!integration_set_value(&scratch, integration_schema_find("Type"),
				   g_hash_table_lookup(raw->values, "Type"), NULL, msg, msglen))
		return NULL;
	in = integration_new(scratch.type, NULL);
	in->file = g_strdup(path);
	if (g_hash_table_contains(raw->values, "APIKey") &&
	    g_hash_table_contains(raw->values, "APIKeyFile")) {
		*bad_key = "APIKeyFile";
		snprintf(msg, msglen, "APIKeyFile: give APIKey or APIKeyFile, not both");
		integration_free(in);
		return NULL;
	}
	dir = g_path_get_dirname(path);
	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		const char *value = g_hash_table_lookup(raw->values, k->name);

		if (value == NULL || k->kind == IKEY_TYPE)
			continue;
		*bad_key = k->name;
		if (!integration_set_value(in, k, value, dir, msg, msglen)) {
			integration_free(in);
			in = NULL;
			break;
		}
	}
	g_free(dir);
	return in;
}

/* ANY.RUN's bylink and public make a submitted mail readable by others
 * (../shared/providers/anyrun.md §3.1): only when set, and -n says so. */
static void warn_public_privacy(struct integration *in)
{
	if (integration_key_applies(integration_schema_find("Privacy"), in->type) &&
	    (in->privacy == PRIVACY_BYLINK || in->privacy == PRIVACY_PUBLIC))
		g_ptr_array_add(in->warnings,
				g_strdup_printf("integration %s: Privacy %s: submitted mail content "
						"is visible to %s (owner or byteam keep it private)",
						in->name, integration_privacy_names[in->privacy],
						in->privacy == PRIVACY_PUBLIC ? "everyone"
									      : "anyone with the link"));
}

struct integration *integration_parse(const char *path, const char *text, size_t len,
				      char *err, size_t errlen)
{
	struct raw_integration raw = {
		.values = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
						(GDestroyNotify)secret_free),
		.lines = g_hash_table_new(g_str_hash, g_str_equal),
	};
	struct integration *in = NULL;
	const char *bad_key = NULL;
	const struct integration_key *k;
	char msg[512];

	if (!kvfile_parse(path, text, len, collect, &raw, err, errlen))
		goto out;
	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		if ((k->flags & IKEY_REQUIRED) && !g_hash_table_contains(raw.values, k->name)) {
			snprintf(err, errlen, "%s: %s is required", path, k->name);
			goto out;
		}
	}
	in = apply_raw(path, &raw, &bad_key, msg, sizeof(msg));
	if (in == NULL || !integration_check(in, &bad_key, msg, sizeof(msg))) {
		/* messages never quote APIKey or APIPassword values */
		unsigned line = line_of(&raw, bad_key);

		if (line == 0 && bad_key != NULL && strcmp(bad_key, "Type") == 0)
			line = line_of(&raw, "Type");
		if (line > 0)
			snprintf(err, errlen, "%s:%u: %s", path, line, msg);
		else
			snprintf(err, errlen, "%s: %s", path, msg);
		integration_free(in);
		in = NULL;
	}
	if (in != NULL)
		warn_public_privacy(in);
out:
	g_hash_table_unref(raw.values);
	g_hash_table_unref(raw.lines);
	return in;
}

struct integration *integration_load_file(const char *path, char *err, size_t errlen)
{
	gsize len = 0;
	char *text = fileio_read_all(path, &len, NULL, err, errlen);
	struct integration *in;

	if (text == NULL)
		return NULL;
	in = integration_parse(path, text, len, err, errlen);
	secret_free(text);
	if (in == NULL)
		return NULL;
	if ((in->api_key != NULL && in->api_key_file == NULL) || in->api_password != NULL)
		integration_warn_if_exposed(in, "file", path);
	for (guint i = 0; i < in->warnings->len; i++)
		log_msg(LOG_WARNING, "%s", (const char *)g_ptr_array_index(in->warnings, i));
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
