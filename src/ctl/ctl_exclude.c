/* ctl_exclude.c: `threatmilterctl exclude list|add|remove
 * urls|ips|extensions VALUE...`, the seed's "Advanced Settings"
 * (../shared/seeds/000_*.txt: URLs, IP Addresses, Attachments).
 *
 * The lists are threatmilter.conf's ExcludeURLs, ExcludeIPs and
 * ExcludeExtensions. Where the configuration holds a list inline, the
 * key's line is rewritten in place (its comment kept; a new key is
 * appended); where it says "file:PATH", that file gets the entries, one
 * per line, its comments kept. Entries are checked by the daemon's own
 * functions (analysis/exclude.h: domain, URL prefix, IP/CIDR v4/v6,
 * extension), and the new file is loaded by the daemon's loader before
 * it replaces the old one (atomic_replace()). */
#include "ctl/ctl.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/exclude.h"
#include "config/atomicfile.h"
#include "config/config.h"
#include "config/dataset.h"
#include "config/integration_write.h"
#include "config/kvfile.h"
#include "config/kvfile_write.h"
#include "util/fileio.h"

static void exclude_usage(FILE *out)
{
	fputs("usage: threatmilterctl [-c FILE] exclude list [urls|ips|extensions]\n"
	      "       threatmilterctl [-c FILE] exclude add|remove urls|ips|extensions VALUE... "
	      "[--no-reload]\n"
	      "  urls: domains (example.com and its subdomains) or URL prefixes "
	      "(https://host/path/)\n"
	      "  ips: addresses or CIDR ranges, IPv4 and IPv6\n"
	      "  extensions: file extensions (pdf, .docx)\n", out);
}

/* The entries of one list as the daemon reads them: char * values. */
static GPtrArray *current_entries(const struct ctl *ctl, const struct exclusion_list *kind,
				  char *err, size_t errlen)
{
	const struct ctl_setting *s = ctl_setting(ctl, kind->key);
	GPtrArray *values = g_ptr_array_new_with_free_func(g_free);

	if (s == NULL)
		return values;
	GPtrArray *entries = dataset_load(s->value, ctl->conf_dir, ctl->config_path, s->line,
					  err, errlen);
	if (entries == NULL) {
		g_ptr_array_unref(values);
		return NULL;
	}
	for (guint i = 0; i < entries->len; i++)
		g_ptr_array_add(values, g_strdup(((struct dataset_entry *)
						  g_ptr_array_index(entries, i))->value));
	g_ptr_array_unref(entries);
	return values;
}

static int index_of(GPtrArray *values, const char *value)
{
	for (guint i = 0; i < values->len; i++)
		if (g_ascii_strcasecmp(g_ptr_array_index(values, i), value) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------ writing */

struct check {
	const char *path;			/* the real file, for messages */
	const struct exclusion_list *kind;	/* a list file: its kind; NULL: main file */
	const struct exclusion_list *list;	/* the list changed */
	GPtrArray *expected;			/* its entries once written */
	const char *base_dir;			/* the configuration's directory */
};

struct key_search {
	const char *key;
	char *value;
	unsigned line;
};

static bool find_key(const char *key, const char *value, const char *file, unsigned line,
		     void *userdata, char *err, size_t errlen)
{
	struct key_search *s = userdata;

	(void)file, (void)err, (void)errlen;
	if (g_ascii_strcasecmp(key, s->key) == 0) {
		g_free(s->value);
		s->value = g_strdup(value);
		s->line = line;
	}
	return true;
}

static int by_value(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The round trip: the entries of the list in the new file `tmp`, read
 * as the daemon reads them, are exactly c->expected (an entry the file
 * cannot hold, kvfile_write.h, would be cut or lost). */
static bool reads_back(const struct check *c, const char *tmp, char *err, size_t errlen)
{
	struct key_search s = { c->list->key, NULL, 0 };
	char *value = c->kind ? g_strconcat("file:", tmp, NULL) : NULL;
	GPtrArray *got = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *want = g_ptr_array_new();
	bool same;

	if (value == NULL && kvfile_read(tmp, find_key, &s, err, errlen))
		value = g_steal_pointer(&s.value);
	GPtrArray *entries = value ? dataset_load(value, c->base_dir, tmp, s.line, err, errlen)
				   : NULL;
	for (guint i = 0; entries != NULL && i < entries->len; i++)
		g_ptr_array_add(got, g_strdup(((struct dataset_entry *)
					       g_ptr_array_index(entries, i))->value));
	for (guint i = 0; i < c->expected->len; i++)
		g_ptr_array_add(want, g_ptr_array_index(c->expected, i));
	g_ptr_array_sort(got, by_value);
	g_ptr_array_sort(want, by_value);
	same = got->len == want->len;
	for (guint i = 0; same && i < got->len; i++)
		same = strcmp(g_ptr_array_index(got, i), g_ptr_array_index(want, i)) == 0;
	if (!same)
		snprintf(err, errlen, "%s: %s: the entries would not read back as written",
			 tmp, c->list->key);
	if (entries != NULL)
		g_ptr_array_unref(entries);
	g_ptr_array_unref(got);
	g_ptr_array_unref(want);
	g_free(value);
	g_free(s.value);
	return same;
}

/* "tmp:3: ..." -> "path:3: ..." */
static void rename_in_message(const char *tmp, const char *path, char *err, size_t errlen)
{
	gchar **parts = g_strsplit(err, tmp, -1);
	char *named = g_strjoinv(path, parts);

	snprintf(err, errlen, "%s (nothing written)", named);
	g_free(named);
	g_strfreev(parts);
}

/* atomic_check_fn: the main file through config_load(), a list file
 * through dataset_load() and the kind's exclusions_add_*(), as the daemon
 * reads them. */
static bool check_new_file(const char *tmp, void *userdata, char *err, size_t errlen)
{
	const struct check *c = userdata;
	bool ok = true;

	if (c->kind == NULL) {
		struct tm_config *cfg = config_load(tmp, err, errlen);

		ok = cfg != NULL;
		config_unref(cfg);
	} else {
		char *value = g_strconcat("file:", tmp, NULL);
		char inner[512];
		GPtrArray *entries = dataset_load(value, NULL, tmp, 0, err, errlen);
		struct exclusions *scratch = exclusions_new();

		for (guint i = 0; entries != NULL && i < entries->len && ok; i++) {
			const struct dataset_entry *e = g_ptr_array_index(entries, i);

			ok = c->kind->add(scratch, e->value, inner, sizeof(inner));
			if (!ok)
				snprintf(err, errlen, "%s:%u: %s: %s", tmp, e->line, c->kind->key,
					 inner);
		}
		ok = ok && entries != NULL;
		if (entries != NULL)
			g_ptr_array_unref(entries);
		exclusions_free(scratch);
		g_free(value);
	}
	if (ok)
		ok = reads_back(c, tmp, err, errlen);
	if (!ok)
		rename_in_message(tmp, c->path, err, errlen);
	return ok;
}

/* Replaces `path` with `text`, keeping its mode (0640 for a new file). */
static bool replace_file(const char *path, const char *text, struct check *c)
{
	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0640;
	char err[1024];

	if (!atomic_replace(path, text, strlen(text), mode, check_new_file, c, err,
			    sizeof(err))) {
		ctl_error("%s", err);
		return false;
	}
	return true;
}

/* Whether `line` of a list file holds one of `removed`. */
static bool holds_removed(const char *line, size_t len, GPtrArray *removed)
{
	const char *hash = kvfile_comment_start(line, len);
	char *entry = g_strndup(line, hash ? (size_t)(hash - line) : len);
	bool found = index_of(removed, g_strstrip(entry)) >= 0;

	g_free(entry);
	return found;
}

/* The text of the file at path, "" when it does not exist yet; NULL,
 * with the error printed, when it cannot be read (a FIFO or a device is
 * refused, never waited on: fileio_open_regular). */
static char *current_text(const char *path)
{
	char err[1024];
	char *text = fileio_read_all(path, NULL, NULL, err, sizeof(err));

	if (text == NULL && errno == ENOENT)
		return g_strdup("");
	if (text == NULL)
		ctl_error("%s (nothing written)", err);
	return text;
}

/* A file: list: added entries appended, removed ones' lines dropped. */
static bool write_list_file(const char *path, GPtrArray *added, GPtrArray *removed,
			    struct check *c)
{
	gchar *old = current_text(path);
	GString *out;
	bool ok;

	if (old == NULL)
		return false;
	out = g_string_new(NULL);
	for (const char *p = old; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (!holds_removed(p, len, removed)) {
			g_string_append_len(out, p, (gssize)len);
			g_string_append_c(out, '\n');
		}
		p += len + (eol ? 1 : 0);
	}
	for (guint i = 0; i < added->len; i++)
		g_string_append_printf(out, "%s\n", (char *)g_ptr_array_index(added, i));
	ok = replace_file(path, out->str, c);
	g_string_free(out, TRUE);
	g_free(old);
	return ok;
}

/* An inline list: the key's line gets the new value (dropped when the
 * list is empty), or a new line is appended. */
static bool write_inline(const struct ctl *ctl, const struct exclusion_list *kind,
			 GPtrArray *values, struct check *c)
{
	const struct ctl_setting *s = ctl_setting(ctl, kind->key);
	gchar *old = current_text(ctl->config_path);
	GString *out;
	unsigned n = 0;
	bool ok;

	if (old == NULL)
		return false;
	out = g_string_new(NULL);
	g_ptr_array_add(values, NULL);
	char *joined = g_strjoinv(", ", (gchar **)values->pdata);
	g_ptr_array_remove_index(values, values->len - 1);
	for (const char *p = old; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		struct kv_line kv;

		if (s == NULL || ++n != s->line) {
			g_string_append_len(out, p, (gssize)len);
			g_string_append_c(out, '\n');
		} else if (values->len > 0) {
			kvfile_split_line(p, len, &kv);
			const char *after = kv.value_len ? kv.value + kv.value_len : kv.key + kv.key_len;

			g_string_append_len(out, p, kv.value_len ? kv.value - p : after - p);
			g_string_append_printf(out, "%s%s", kv.value_len ? "" : "\t", joined);
			g_string_append_len(out, after, (gssize)(p + len - after));
			g_string_append_c(out, '\n');
		}
		p += len + (eol ? 1 : 0);
	}
	if (s == NULL && values->len > 0)
		g_string_append_printf(out, "%s\t%s\n", kind->key, joined);
	ok = replace_file(ctl->config_path, out->str, c);
	g_string_free(out, TRUE);
	g_free(old);
	g_free(joined);
	return ok;
}

/* ------------------------------------------------------------ commands */

static int cmd_list(const struct ctl *ctl, const struct exclusion_list *only)
{
	char err[1024];

	for (size_t i = 0; i < EXCLUSION_LISTS; i++) {
		if (only != NULL && only != &exclusion_lists[i])
			continue;
		GPtrArray *values = current_entries(ctl, &exclusion_lists[i], err, sizeof(err));

		if (values == NULL) {
			ctl_error("%s: %s", exclusion_lists[i].key, err);
			return CTL_FAIL;
		}
		for (guint v = 0; v < values->len; v++) {
			/* a URL prefix may hold user:password@ */
			char *shown = url_mask_passwords(g_ptr_array_index(values, v));

			printf(only ? "%s%s\n" : "%-12s%s\n", only ? "" : exclusion_lists[i].word,
			       shown);
			g_free(shown);
		}
		g_ptr_array_unref(values);
	}
	return CTL_OK;
}

/* Checks the VALUEs and sorts them into `changed`; false after a message. */
static bool take_values(const struct exclusion_list *kind, bool adding, GPtrArray *values,
			char **args, int count, bool inline_list, GPtrArray *changed)
{
	struct exclusions *scratch = exclusions_new();
	char err[512];
	bool ok = true;

	for (int i = 0; i < count && ok; i++) {
		const char *v = args[i], *why = kvfile_value_unwritable(v);

		if (adding && why == NULL && strpbrk(v, " ") != NULL)
			why = "an entry has no blanks";
		if (adding && (why != NULL || !kind->add(scratch, v, err, sizeof(err)))) {
			/* the entry is not quoted: it may hold a control character */
			ctl_error("%s: %s (nothing written)", kind->key, why ? why : err);
			ok = false;
		} else if (adding && inline_list && strchr(v, ',') != NULL) {
			ctl_error("%s: \"%s\" holds a comma, which an inline list cannot; use a "
				  "file: list (nothing written)", kind->key, v);
			ok = false;
		} else if (adding && index_of(values, v) >= 0) {
			char *shown = url_mask_passwords(v);

			printf("%s: %s is already there\n", kind->key, shown);
			g_free(shown);
		} else if (!adding && index_of(values, v) < 0) {
			ctl_error("%s: %s is not in the list (nothing written)", kind->key, v);
			ok = false;
		} else if (index_of(changed, v) < 0) {
			g_ptr_array_add(changed, g_strdup(v));
		}
	}
	exclusions_free(scratch);
	return ok;
}

static int cmd_change(struct ctl *ctl, bool adding, const struct exclusion_list *kind,
		      char **args, int count)
{
	const struct ctl_setting *s = ctl_setting(ctl, kind->key);
	bool is_file = s != NULL && g_str_has_prefix(s->value, "file:");
	GPtrArray *changed = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *none = g_ptr_array_new();
	char err[1024];
	int rc = CTL_FAIL;
	GPtrArray *values = current_entries(ctl, kind, err, sizeof(err));

	if (values == NULL) {
		ctl_error("%s: %s", kind->key, err);
	} else if (take_values(kind, adding, values, args, count, !is_file, changed)) {
		char *list_path = is_file ? ctl_resolve(ctl, s->value + 5) : NULL;
		struct check c = { is_file ? list_path : ctl->config_path, is_file ? kind : NULL,
				   kind, values, ctl->conf_dir };
		bool ok = true;

		for (guint i = 0; i < changed->len; i++) {
			char *v = g_ptr_array_index(changed, i);
			int at = index_of(values, v);

			if (adding)
				g_ptr_array_add(values, g_strdup(v));
			else if (at >= 0)
				g_ptr_array_remove_index(values, (guint)at);
		}
		if (changed->len > 0)
			ok = is_file ? write_list_file(list_path, adding ? changed : none,
						       adding ? none : changed, &c)
				     : write_inline(ctl, kind, values, &c);
		if (ok && changed->len > 0)
			printf("%s %u %s %s %s (%s)\n", adding ? "added" : "removed", changed->len,
			       changed->len == 1 ? "entry" : "entries", adding ? "to" : "from",
			       kind->key, is_file ? list_path : ctl->config_path);
		rc = !ok ? CTL_FAIL : changed->len > 0 ? ctl_reload(ctl) : CTL_OK;
		g_free(list_path);
	}
	if (values != NULL)
		g_ptr_array_unref(values);
	g_ptr_array_unref(changed);
	g_ptr_array_unref(none);
	return rc;
}

int ctl_exclude_main(struct ctl *ctl, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;
	const struct exclusion_list *kind = argc > 2 ? exclusion_list_find(argv[2]) : NULL;

	/* --help anywhere (exclude add --help): no entry starts with '-' */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			exclude_usage(stdout);
			return CTL_OK;
		}
	if (verb != NULL && strcmp(verb, "list") == 0 && argc <= 3 && (argc == 2 || kind))
		return cmd_list(ctl, kind);
	if (verb != NULL && (strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0) &&
	    kind != NULL && argc > 3)
		return cmd_change(ctl, strcmp(verb, "add") == 0, kind, argv + 3, argc - 3);
	exclude_usage(stderr);
	return CTL_USAGE;
}
