/* integration_write.c: rendering an integration file in place, writing it
 * atomically, printing it with masked secrets. */
#include "config/integration_write.h"

#include <errno.h>
#include <string.h>
#include <glib.h>

#include "config/integration_schema.h"
#include "config/kvfile.h"
#include "config/kvfile_write.h"
#include "providers/registry.h"
#include "util/fileio.h"

#define INTEGRATION_FILE_MODE 0640
#define VALUE_COLUMN 24		/* values aligned with tabs, as the examples */

static void append_setting(GString *out, const char *key, const char *value)
{
	size_t col = strlen(key);

	g_string_append(out, key);
	do {
		g_string_append_c(out, '\t');
		col = (col / 8 + 1) * 8;
	} while (col < VALUE_COLUMN);
	g_string_append_printf(out, "%s\n", value);
}

/* Whether the key belongs in the file when it is not there yet. */
static bool worth_writing(const struct integration *in, const struct integration_key *k,
			  const char *value, bool new_file)
{
	bool applies = integration_key_applies(k, in->type);
	char *def;
	bool differs;

	if (value == NULL)
		return false;
	if (new_file && (k->flags & IKEY_ALWAYS_WRITTEN) && applies)
		return true;
	def = integration_key_default(k, in->type);
	differs = def == NULL || strcmp(def, value) != 0;
	g_free(def);
	return differs;
}

/* Whether the old text of a value means what `value` says ("20" and
 * "20s", "VirusTotal" and "virustotal"): then the old spelling stays. */
static bool same_value(const struct integration *in, const struct integration_key *k,
		       const char *old, size_t old_len, const char *value)
{
	char *text = g_strndup(old, old_len), *canonical = NULL;
	char err[256];
	bool same = strcmp(text, value) == 0;

	if (!same && k->kind != IKEY_KEY_FILE && k->kind != IKEY_SECRET) {
		struct integration *scratch = integration_new(in->type, NULL);

		if (integration_set_value(scratch, k, text, NULL, err, sizeof(err)))
			canonical = integration_get_value(scratch, k);
		same = g_strcmp0(canonical, value) == 0;
		g_free(canonical);
		integration_free(scratch);
	}
	secret_free(text);
	return same;
}

/* One line of the old file: replaced, dropped or kept. */
static void render_line(const struct integration *in, const char *line, size_t len,
			GHashTable *done, GString *out)
{
	struct kv_line kv;
	const struct integration_key *k = NULL;
	char *key, *value;

	kvfile_split_line(line, len, &kv);
	if (kv.key != NULL) {
		key = g_strndup(kv.key, kv.key_len);
		k = integration_schema_find(key);
		g_free(key);
	}
	if (k == NULL) {
		g_string_append_len(out, line, (gssize)len);
		g_string_append_c(out, '\n');
		return;
	}
	if (g_hash_table_contains(done, k->name))
		return;		/* a repeated key: the file had an error */
	g_hash_table_add(done, (gpointer)k->name);
	value = integration_get_value(in, k);
	if (value == NULL)
		return;
	if (kv.value_len > 0 && same_value(in, k, kv.value, kv.value_len, value)) {
		g_string_append_len(out, line, (gssize)len);	/* as it was written */
	} else {
		/* indentation, key and separator kept; new value; the rest
		 * of the line (blanks, comment) kept */
		const char *before = kv.value_len > 0 ? kv.value : kv.key + kv.key_len;
		const char *after = kv.value_len > 0 ? kv.value + kv.value_len : before;

		g_string_append_len(out, line, before - line);
		if (kv.value_len == 0)
			g_string_append_c(out, '\t');
		g_string_append(out, value);
		g_string_append_len(out, after, (gssize)(line + len - after));
	}
	g_string_append_c(out, '\n');
	secret_free(value);
}

char *integration_render(const struct integration *in, const char *old_text)
{
	GString *out = g_string_new(NULL);
	GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);
	const struct integration_key *k;
	bool new_file = old_text == NULL || *old_text == '\0';

	if (new_file) {
		g_string_append_printf(out, "# %s (%s): keys and defaults in threatmilter.conf(5)\n",
				       in->name, in->type->display_name);
		old_text = "";
	}
	for (const char *p = old_text; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		render_line(in, p, len, done, out);
		p += len + (eol ? 1 : 0);
	}
	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		if (g_hash_table_contains(done, k->name))
			continue;
		char *value = integration_get_value(in, k);

		if (worth_writing(in, k, value, new_file))
			append_setting(out, k->name, value);
		secret_free(value);
	}
	g_hash_table_unref(done);
	return g_string_free(out, FALSE);
}

bool integration_write_file(const struct integration *in, const char *path,
			    atomic_check_fn check, void *userdata, char *err, size_t errlen)
{
	gchar *old = fileio_read_all(path, NULL, NULL, err, errlen);
	bool ok;

	if (old == NULL && errno != ENOENT)
		return false;
	char *text = integration_render(in, old);
	ok = integration_check_written(in, text, path, err, errlen) &&
	     atomic_replace(path, text, strlen(text), INTEGRATION_FILE_MODE, check, userdata,
			    err, errlen);
	secret_free(text);
	secret_free(old);
	return ok;
}

/* The first key whose value `parsed` does not hold as `in` does; NULL
 * when every one reads back. With parsed NULL (the text did not load):
 * the first key whose value holds a newline, which split its line. */
static const struct integration_key *first_difference(const struct integration *in,
						      const struct integration *parsed)
{
	const struct integration_key *k;

	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		char *want = integration_get_value(in, k);
		char *got = parsed ? integration_get_value(parsed, k) : NULL;
		bool same = parsed ? g_strcmp0(want, got) == 0
				   : want == NULL || strchr(want, '\n') == NULL;

		secret_free(want);
		secret_free(got);
		if (!same)
			return k;
	}
	return NULL;
}

bool integration_check_written(const struct integration *in, const char *text,
			       const char *path, char *err, size_t errlen)
{
	struct integration *parsed = integration_parse(path, text, strlen(text), err, errlen);
	const struct integration_key *k = first_difference(in, parsed);
	bool loaded = parsed != NULL;

	integration_free(parsed);
	if (k != NULL) {
		char *value = integration_get_value(in, k);
		const char *why = value ? kvfile_value_unwritable(value) : NULL;

		snprintf(err, errlen, "%s: %s: %s", path, k->name,
			 why ? why : "the value would not read back as written");
		secret_free(value);
	}
	return loaded && k == NULL;
}

/* Where the password of the URL whose "://" is at `sep` starts and how
 * long it is: what follows the first ':' of "user:password@", up to the
 * last '@' before a blank or quote (generous: a password holding '/' or
 * '@' unencoded is masked whole, never shown in part). False if none. */
static bool url_password(const char *sep, const char **start, size_t *len)
{
	const char *auth = sep + 3;
	const char *at = g_strrstr_len(auth, (gssize)strcspn(auth, " \t\r\n\"'<>"), "@");
	const char *colon;

	if (at == NULL)
		return false;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL)
		return false;
	*start = colon + 1;
	*len = (size_t)(at - *start);
	return true;
}

char *url_mask_passwords(const char *text)
{
	GString *out = g_string_new(NULL);
	const char *p = text, *sep;

	while ((sep = strstr(p, "://")) != NULL) {
		const char *pass;
		size_t len;

		if (!url_password(sep, &pass, &len)) {
			g_string_append_len(out, p, sep + 3 - p);
			p = sep + 3;
			continue;
		}
		/* all of it: unlike an API key's last four characters,
		 * part of a password narrows the guess */
		g_string_append_len(out, p, pass - p);
		g_string_append(out, "****");
		p = pass + len;
	}
	g_string_append(out, p);
	return g_string_free(out, FALSE);
}

char *integration_shown_value(const struct integration *in, const struct integration_key *key)
{
	char *value = integration_display_value(in, key);
	char *masked;

	if (value == NULL || strstr(value, "://") == NULL)
		return value;
	masked = url_mask_passwords(value);
	secret_free(value);
	return masked;
}

void integration_print(const struct integration *in, FILE *out)
{
	const struct integration_key *k;

	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		char *value = integration_shown_value(in, k);
		char *def = integration_key_default(k, in->type);
		bool shown = value != NULL &&
			     (integration_key_applies(k, in->type) || g_strcmp0(def, value) != 0);

		if (shown) {
			GString *line = g_string_new(NULL);

			append_setting(line, k->name, value);
			fputs(line->str, out);
			g_string_free(line, TRUE);
		}
		g_free(value);
		g_free(def);
	}
}
