/* dataset.c: inline comma lists and file: lists. */
#include "config/dataset.h"

#include <stdio.h>
#include <string.h>

#include "config/kvfile.h"
#include "util/fileio.h"

static void entry_free(gpointer data)
{
	struct dataset_entry *e = data;

	g_free(e->value);
	g_free(e->file);
	g_free(e);
}

static void add_entry(GPtrArray *out, const char *start, size_t len, const char *file,
		      unsigned line)
{
	char *value = g_strndup(start, len);

	g_strstrip(value);
	if (*value == '\0') {
		g_free(value);
		return;
	}
	struct dataset_entry *e = g_new0(struct dataset_entry, 1);
	e->value = value;
	e->file = g_strdup(file);
	e->line = line;
	g_ptr_array_add(out, e);
}

static bool load_file(const char *path, GPtrArray *out, char *err, size_t errlen)
{
	gsize len = 0;
	char *contents = fileio_read_all(path, &len, "list file", err, errlen);

	if (contents == NULL)
		return false;
	const char *p = contents, *end = contents + len;
	unsigned n = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol ? eol : end;
		/* a '#' inside an entry (a URL fragment) is not a comment:
		 * "https://example.com/app#/admin" must not become ".../app" */
		const char *hash = kvfile_comment_start(p, (size_t)(stop - p));

		n++;
		add_entry(out, p, (size_t)((hash ? hash : stop) - p), path, n);
		p = eol ? eol + 1 : end;
	}
	g_free(contents);
	return true;
}

GPtrArray *dataset_load(const char *value, const char *base_dir, const char *file,
			unsigned line, char *err, size_t errlen)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(entry_free);

	if (g_str_has_prefix(value, "file:")) {
		const char *name = value + 5;
		/* relative to the configuration file (as APIKeyFile is), not
		 * to whichever directory the daemon was started from */
		char *path = name[0] == '/' || base_dir == NULL
			     ? g_strdup(name) : g_build_filename(base_dir, name, NULL);
		bool ok = load_file(path, out, err, errlen);

		g_free(path);
		if (!ok) {
			g_ptr_array_unref(out);
			return NULL;
		}
		return out;
	}
	const char *p = value;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		add_entry(out, p, len, file, line);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	for (guint i = 0; i < out->len; i++) {
		const struct dataset_entry *e = g_ptr_array_index(out, i);

		/* "a.example, file:more.txt" would otherwise be read as an
		 * entry named "file:more.txt" and fail with a puzzling message */
		if (g_str_has_prefix(e->value, "file:")) {
			snprintf(err, errlen, "\"%s\": a file: list must be the whole value, "
				 "not one entry of an inline list", e->value);
			g_ptr_array_unref(out);
			return NULL;
		}
	}
	return out;
}
