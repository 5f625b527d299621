/* config.c: the main configuration file, one table-driven schema.
 *
 * Every key is a row of config_schema (config_schema.h) with its type,
 * where it is stored and its default; here that table sets the defaults,
 * parses the file and prints `-e Key`. Lists go through dataset_load(); integrations are read
 * from IntegrationsDir by integrations.c. Nothing is read anywhere else,
 * so a reload (a new config_load) really reloads everything. */
#include "config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/addresses.h"
#include "cache/redis_settings.h"
#include "config/config_schema.h"
#include "config/config_text.h"
#include "config/dataset.h"
#include "config/integrations.h"
#include "config/kvfile.h"
#include "config/values.h"
#include "metrics/endpoint.h"
#include "util/sockspec.h"

/* ------------------------------------------------------------ parsing */

/* What a value of this type looks like, for the error that refuses one:
 * the administrator must see what to write. */
static const char *expected_form(enum value_type type)
{
	switch (type) {
	case T_BOOL: return "yes or no";
	case T_UNSIGNED: return "a whole number, 0 or more";
	case T_SIZE: return "bytes, or a number with K, M or G: 25M";
	case T_DURATION_S: return "whole seconds: 30, 30s, 5m or 1h";
	case T_DURATION_MS: return "more than 0: 500ms, 10s, 1m; a bare number is seconds";
	case T_MODE: return "an octal mode: 0660";
	case T_FACILITY: return "mail, daemon, user or local0 to local7";
	case T_MODE_NAME: return "inline or report";
	default: return "see threatmilter.conf(5)";
	}
}

/* The number types, one row each: what the file may write (the parser of
 * values.h and its range), how that becomes the stored number, and how
 * `-e Key` prints the stored number back. */
struct number_type {
	enum value_type type;
	bool (*parse)(const char *text, unsigned long long min, unsigned long long max,
		      unsigned long long *out);
	unsigned long long min, max;	/* what parse accepts */
	unsigned long long unit;	/* stored = parsed / unit; a remainder is refused */
	bool wide;			/* stored as size_t, otherwise as unsigned */
	const char *suffix;		/* -e prints the stored number, then this */
};

static const struct number_type number_types[] = {
	{ T_UNSIGNED, value_parse_uint, 0, UINT_MAX, 1, false, "" },
	{ T_SIZE, value_parse_size, 0, SIZE_MAX, 1, true, "" },
	/* whole seconds: "1500ms" would be cut to 1 s */
	{ T_DURATION_S, value_parse_duration_ms, 0, UINT_MAX * 1000ULL, 1000, false, "s" },
	{ T_DURATION_MS, value_parse_duration_ms, 1, UINT_MAX, 1, false, "ms" },
};

/* The row of a number type; NULL for any other type. */
static const struct number_type *number_type_of(enum value_type type)
{
	for (size_t i = 0; i < G_N_ELEMENTS(number_types); i++)
		if (number_types[i].type == type)
			return &number_types[i];
	return NULL;
}

/* Parses value into the field; false (field untouched) when it is not a
 * number of the row's kind and range. */
static bool set_number(const struct number_type *nt, char *field, const char *value)
{
	unsigned long long n;

	if (!nt->parse(value, nt->min, nt->max, &n) || n % nt->unit != 0)
		return false;
	if (nt->wide)
		*(size_t *)(void *)field = (size_t)(n / nt->unit);
	else
		*(unsigned *)(void *)field = (unsigned)(n / nt->unit);
	return true;
}

static unsigned long long stored_number(const struct number_type *nt, const char *field)
{
	if (nt->wide)
		return *(const size_t *)(const void *)field;
	return *(const unsigned *)(const void *)field;
}

static bool parse_mode(const char *v, unsigned *out)
{
	char *end;

	if (*v == '\0' || strspn(v, "01234567") != strlen(v) || strlen(v) > 4)
		return false;
	*out = (unsigned)strtoul(v, &end, 8);
	return true;
}

struct load_state {
	struct tm_config *cfg;
	GHashTable *seen;	/* lower-case key -> line */
	char *dir;		/* the config file's directory */
};

static char *resolve_path(const struct load_state *st, const char *value)
{
	if (value[0] == '/' || st->dir == NULL)
		return g_strdup(value);
	return g_build_filename(st->dir, value, NULL);
}

static void remember_list_entry(struct tm_config *cfg, const char *key, const char *value)
{
	GPtrArray *entries = g_hash_table_lookup(cfg->list_entries, key);

	if (entries == NULL) {
		entries = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(cfg->list_entries, (gpointer)key, entries);
	}
	g_ptr_array_add(entries, g_strdup(value));
}

/* A ReportRecipients entry: an address (local@domain) or a domain, both
 * as analysis/addresses.h takes a plain address; why gets the reason. */
static bool report_recipient_ok(const char *entry, char *why, size_t len)
{
	char *probe = strchr(entry, '@') != NULL ? g_strdup(entry)
						 : g_strconcat("postmaster@", entry, NULL);
	char *normal = address_normalize(probe);
	bool ok = normal != NULL;

	if (!ok)
		snprintf(why, len, "'%s' is neither an address (local@domain) nor a domain", entry);
	g_free(probe);
	g_free(normal);
	return ok;
}

static bool set_list(const struct key_def *def, const struct load_state *st,
		     const char *value, const char *file, unsigned line, char *err, size_t errlen)
{
	struct tm_config *cfg = st->cfg;
	char inner[512];
	GPtrArray *entries = dataset_load(value, st->dir, file, line, inner, sizeof(inner));

	if (entries == NULL) {
		snprintf(err, errlen, "%s: %s", def->name, inner);	/* kvfile adds file:line */
		return false;
	}
	for (guint i = 0; i < entries->len; i++) {
		const struct dataset_entry *e = g_ptr_array_index(entries, i);
		bool ok = true;

		inner[0] = '\0';
		switch (def->type) {
		case T_NETLIST:
			ok = net_list_add(cfg->internal_hosts, e->value, inner, sizeof(inner));
			break;
		case T_EXCLUSION_LIST:
			ok = exclusion_list_find(def->name)->add(cfg->exclusions, e->value,
								 inner, sizeof(inner));
			break;
		case T_STRLIST:
			ok = report_recipient_ok(e->value, inner, sizeof(inner));
			if (ok)
				g_ptr_array_add(cfg->report_recipients, g_strdup(e->value));
			break;
		default:
			break;
		}
		if (!ok) {
			/* an entry from a list file is located in that file */
			if (strcmp(e->file, file) != 0 || e->line != line)
				snprintf(err, errlen, "%s: %s:%u: %s", def->name, e->file, e->line, inner);
			else
				snprintf(err, errlen, "%s: %s", def->name, inner);
			g_ptr_array_unref(entries);
			return false;
		}
		remember_list_entry(cfg, def->name, e->value);
	}
	g_ptr_array_unref(entries);
	return true;
}

/* A path another library opens (KEY_READ_FILE): stat() only, which
 * never blocks, unlike an open() of a FIFO. */
static bool regular_file(const struct key_def *def, const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "%s: %s: %s", def->name, path, g_strerror(errno));
		return false;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: %s: not a regular file", def->name, path);
		return false;
	}
	return true;
}

/* Stores one value; err gets the reason (no file:line) on failure. One
 * case per value type of the schema (about 100 lines for it: one switch
 * over the types reads clearer than a table of small functions). */
static bool set_value(const struct key_def *def, struct load_state *st, const char *value,
		      const char *file, unsigned line, char *err, size_t errlen)
{
	struct tm_config *cfg = st->cfg;
	char *field = (char *)cfg + def->offset;
	const struct value_names *action_words = config_value_names(T_ACTION);
	const struct value_names *mode_words = config_value_names(T_MODE_NAME);
	int index;

	switch (def->type) {
	case T_STRING:
	case T_PATH:
	case T_REPLY_TEXT:
	case T_FIELD_PREFIX:
	case T_HEADER_TEXT: {
		char **slot = (char **)(void *)field;

		if (!config_text_check(def->type, def->name, value, err, errlen))
			return false;
		g_free(*slot);
		*slot = NULL;
		if (g_ascii_strcasecmp(value, "none") == 0 && def->type == T_PATH)
			return true;
		*slot = def->type == T_PATH ? resolve_path(st, value) : g_strdup(value);
		return (def->flags & KEY_READ_FILE) == 0 || regular_file(def, *slot, err, errlen);
	}
	case T_SOCKET: {
		struct sock_spec spec;
		char **slot = (char **)(void *)field;

		if (!sock_spec_parse(value, &spec, err, errlen))
			return false;
		g_free(*slot);
		*slot = g_strdup(value);
		return true;
	}
	case T_LISTEN: {
		struct sock_spec spec;
		char **slot = (char **)(void *)field;
		bool off = g_ascii_strcasecmp(value, "none") == 0;

		if (!off && !metrics_endpoint_parse(value, &spec, err, errlen))
			return false;
		g_free(*slot);
		*slot = off ? NULL : g_strdup(value);
		return true;
	}
	case T_BOOL:
		if (!value_parse_bool(value, (bool *)(void *)field))
			break;
		return true;
	case T_UNSIGNED:
	case T_SIZE:
	case T_DURATION_S:
	case T_DURATION_MS:
		if (!set_number(number_type_of(def->type), field, value))
			break;
		if ((def->flags & KEY_NOT_ZERO) &&
		    stored_number(number_type_of(def->type), field) == 0) {
			snprintf(err, errlen, "%s: must be more than 0 (0 is not a limit: there is no "
				 "unbounded setting)", def->name);
			return false;
		}
		return true;
	case T_MODE:
		if (!parse_mode(value, (unsigned *)(void *)field))
			break;
		return true;
	case T_FACILITY:
	case T_LOG_LEVEL: {
		const struct value_names *vn = config_value_names(def->type);

		if ((index = value_parse_enum(value, vn->names, vn->count)) < 0) {
			if (def->type == T_FACILITY)
				break;
			snprintf(err, errlen, "%s: bad level '%s' (error, warning, notice, info or "
				 "debug)", def->name, value);
			return false;
		}
		*(int *)(void *)field = vn->values[index];
		return true;
	}
	case T_ACTION:
		if ((index = value_parse_enum(value, action_words->names, action_words->count)) < 0) {
			snprintf(err, errlen, "%s: bad action '%s' (accept, tag, quarantine, reject, "
				 "tempfail or discard)", def->name, value);
			return false;
		}
		cfg->on[def->event] = (enum tm_action)index;
		return true;
	case T_MODE_NAME:
		if ((index = value_parse_enum(value, mode_words->names, mode_words->count)) < 0)
			break;
		cfg->mode = (enum tm_mode)index;
		return true;
	case T_NETLIST:
	case T_EXCLUSION_LIST:
	case T_STRLIST:
		return set_list(def, st, value, file, line, err, errlen);
	}
	snprintf(err, errlen, "%s: bad value '%s' (%s)", def->name, value, expected_form(def->type));
	return false;
}

static bool on_setting(const char *key, const char *value, const char *file, unsigned line,
		       void *userdata, char *err, size_t errlen)
{
	struct load_state *st = userdata;
	const struct key_def *def = config_schema_find(key);

	if (def == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return false;
	}
	char *lower = g_ascii_strdown(def->name, -1);
	gpointer previous = g_hash_table_lookup(st->seen, lower);
	if (previous != NULL) {
		snprintf(err, errlen, "%s given twice (first on line %u)", def->name,
			 GPOINTER_TO_UINT(previous));
		g_free(lower);
		return false;
	}
	g_hash_table_insert(st->seen, lower, GUINT_TO_POINTER(line));
	if (*value == '\0') {
		snprintf(err, errlen, "%s: value missing", def->name);
		return false;
	}
	if (!set_value(def, st, value, file, line, err, errlen))
		return false;
	g_hash_table_replace(st->cfg->origins, (gpointer)def->name,
			     g_strdup_printf("%s:%u", file, line));
	return true;
}

const char *config_key_origin(const struct tm_config *cfg, const char *key)
{
	return cfg->origins != NULL ? g_hash_table_lookup(cfg->origins, key) : NULL;
}

/* ------------------------------------------------------------ lifecycle */

static struct tm_config *config_new_defaults(void)
{
	struct tm_config *cfg = g_new0(struct tm_config, 1);
	struct load_state st = { .cfg = cfg };
	char err[256], host[256];

	cfg->refcount = 1;
	cfg->internal_hosts = net_list_new();
	cfg->exclusions = exclusions_new();
	cfg->report_recipients = g_ptr_array_new_with_free_func(g_free);
	/* keys are the schema's static names */
	cfg->list_entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
						  (GDestroyNotify)g_ptr_array_unref);
	cfg->integrations = g_ptr_array_new_with_free_func((GDestroyNotify)integration_free);
	cfg->origins = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	for (size_t i = 0; i < config_schema_len; i++) {
		if (config_schema[i].default_value != NULL &&
		    !set_value(&config_schema[i], &st, config_schema[i].default_value, "defaults", 0, err,
			       sizeof(err)))
			g_error("bad default for %s: %s", config_schema[i].name, err);
	}
	if (gethostname(host, sizeof(host)) != 0)
		g_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	cfg->report_hostname = g_strdup(host);
	return cfg;
}

struct tm_config *config_defaults(void)
{
	struct tm_config *cfg = config_new_defaults();

	g_ptr_array_add(cfg->integrations, integration_default_spamhaus());
	return cfg;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	const struct integration *x = *(struct integration *const *)a;
	const struct integration *y = *(struct integration *const *)b;

	return strcmp(x->name, y->name);
}

struct tm_config *config_load(const char *path, char *err, size_t errlen)
{
	struct tm_config *cfg = config_new_defaults();
	struct load_state st = {
		.cfg = cfg,
		.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.dir = g_path_get_dirname(path),
	};
	bool ok = kvfile_read(path, on_setting, &st, err, errlen);

	cfg->path = g_strdup(path);
	if (ok && !redis_settings_check_config(cfg, err, errlen))
		ok = false;	/* CacheBackend, RedisServer (redis_settings.h) */
	if (ok) {
		bool explicit_dir = cfg->integrations_dir != NULL;
		if (!explicit_dir)
			cfg->integrations_dir = g_build_filename(st.dir, "integrations.d", NULL);
		GPtrArray *list = integrations_load_dir(cfg->integrations_dir, !explicit_dir, err,
							errlen);
		if (list == NULL) {
			/* a missing directory is the main file's error */
			if (g_str_has_prefix(err, "IntegrationsDir")) {
				char *inner = g_strdup(err);
				snprintf(err, errlen, "%s: %s", path, inner);
				g_free(inner);
			}
			ok = false;
		} else {
			g_ptr_array_unref(cfg->integrations);
			cfg->integrations = list;
			g_ptr_array_sort(cfg->integrations, by_name);
		}
	}
	g_hash_table_unref(st.seen);
	g_free(st.dir);
	if (!ok) {
		config_unref(cfg);
		return NULL;
	}
	return cfg;
}

struct tm_config *config_ref(struct tm_config *cfg)
{
	if (cfg != NULL)
		g_atomic_int_inc(&cfg->refcount);
	return cfg;
}

void config_unref(struct tm_config *cfg)
{
	if (cfg == NULL || !g_atomic_int_dec_and_test(&cfg->refcount))
		return;
	for (size_t i = 0; i < config_schema_len; i++) {
		if (config_type_is_text(config_schema[i].type))
			g_free(*(char **)(void *)((char *)cfg + config_schema[i].offset));
	}
	g_free(cfg->path);
	net_list_free(cfg->internal_hosts);
	exclusions_free(cfg->exclusions);
	g_ptr_array_unref(cfg->report_recipients);
	g_hash_table_unref(cfg->list_entries);
	g_hash_table_unref(cfg->origins);
	g_ptr_array_unref(cfg->integrations);
	g_free(cfg);
}

/* ------------------------------------------------------------ -e Key */

bool config_print_value(const struct tm_config *cfg, const char *key, FILE *out)
{
	const struct key_def *def = config_schema_find(key);
	const char *field;

	if (def == NULL)
		return false;
	field = (const char *)cfg + def->offset;
	switch (def->type) {
	case T_STRING:
	case T_PATH:
	case T_SOCKET:
	case T_LISTEN:
	case T_REPLY_TEXT:
	case T_FIELD_PREFIX:
	case T_HEADER_TEXT: {
		const char *s = *(char *const *)(const void *)field;
		fprintf(out, "%s\n", s ? s : "none");
		break;
	}
	case T_BOOL:
		fprintf(out, "%s\n", value_format_bool(*(const bool *)(const void *)field));
		break;
	case T_UNSIGNED:
	case T_SIZE:
	case T_DURATION_S:
	case T_DURATION_MS: {
		const struct number_type *nt = number_type_of(def->type);

		fprintf(out, "%llu%s\n", stored_number(nt, field), nt->suffix);
		break;
	}
	case T_MODE:
		fprintf(out, "%04o\n", *(const unsigned *)(const void *)field);
		break;
	case T_FACILITY:
	case T_LOG_LEVEL: {
		const char *word = config_value_word(def->type, *(const int *)(const void *)field);

		if (word != NULL)
			fprintf(out, "%s\n", word);
		break;
	}
	case T_ACTION:
		fprintf(out, "%s\n", action_name(cfg->on[def->event]));
		break;
	case T_MODE_NAME:
		fprintf(out, "%s\n", config_value_word(T_MODE_NAME, (int)cfg->mode));
		break;
	case T_NETLIST:
	case T_EXCLUSION_LIST:
	case T_STRLIST: {
		/* one entry per line, as the key's list files are written;
		 * nothing at all for an empty list */
		const GPtrArray *entries = g_hash_table_lookup(cfg->list_entries, def->name);

		for (guint i = 0; entries != NULL && i < entries->len; i++)
			fprintf(out, "%s\n", (const char *)g_ptr_array_index(entries, i));
		break;
	}
	}
	return true;
}
