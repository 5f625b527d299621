/* config.c: the main configuration file, one table-driven schema.
 *
 * Every key is a row of `schema` with its type, where it is stored and
 * its default; the same table sets the defaults, parses the file and
 * prints `-e Key`. Lists go through dataset_load(); integrations are read
 * from IntegrationsDir by integrations.c. Nothing is read anywhere else,
 * so a reload (a new config_load) really reloads everything. */
#include "config/config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "analysis/addresses.h"
#include "cache/redis_settings.h"
#include "config/dataset.h"
#include "config/integrations.h"
#include "config/kvfile.h"
#include "config/values.h"
#include "metrics/endpoint.h"
#include "util/sockspec.h"

enum value_type {
	T_STRING,	/* char * (NULL when "none" or unset) */
	T_BOOL,
	T_UNSIGNED,
	T_SIZE,		/* bytes, K/M/G suffixes */
	T_DURATION_S,	/* stored in seconds */
	T_DURATION_MS,	/* stored in milliseconds */
	T_MODE,		/* octal */
	T_FACILITY,
	T_LOG_LEVEL,	/* a LOG_* priority */
	T_ACTION,	/* index: the event */
	T_MODE_NAME,	/* inline | report */
	T_NETLIST,	/* InternalHosts */
	T_EXCLUDE_URLS,
	T_EXCLUDE_IPS,
	T_EXCLUDE_EXTENSIONS,
	T_STRLIST,	/* ReportRecipients */
	T_PATH,		/* char *, relative to the config file's directory */
	T_SOCKET,	/* char *, checked by util/sockspec.h */
	T_LISTEN,	/* char *, checked by metrics/endpoint.h; NULL: "none", off */
};

struct key_def {
	const char *name;
	enum value_type type;
	size_t offset;
	const char *default_value;	/* as it would be written in the file; NULL = unset */
	int event;			/* T_ACTION only */
};

#define OFF(field) offsetof(struct tm_config, field)

static const struct key_def schema[] = {
	{ "Socket", T_SOCKET, OFF(socket), "inet:8895@127.0.0.1", 0 },
	{ "SocketMode", T_MODE, OFF(socket_mode), "0660", 0 },
	{ "SocketGroup", T_STRING, OFF(socket_group), NULL, 0 },
	{ "MetricsSocket", T_LISTEN, OFF(metrics_socket), NULL, 0 },
	{ "UserID", T_STRING, OFF(user_id), NULL, 0 },
	{ "PidFile", T_PATH, OFF(pid_file), NULL, 0 },
	{ "UMask", T_MODE, OFF(umask), "007", 0 },
	{ "Background", T_BOOL, OFF(background), "yes", 0 },
	{ "Syslog", T_BOOL, OFF(syslog), "yes", 0 },
	{ "SyslogFacility", T_FACILITY, OFF(syslog_facility), "mail", 0 },
	{ "LogWhy", T_BOOL, OFF(log_why), "no", 0 },
	{ "LogLevel", T_LOG_LEVEL, OFF(log_level), "info", 0 },
	{ "SoftwareHeader", T_BOOL, OFF(software_header), "no", 0 },
	{ "TmpDir", T_PATH, OFF(tmp_dir), "/tmp", 0 },
	{ "SampleMemoryLimit", T_SIZE, OFF(sample_memory_limit), "1M", 0 },
	{ "IgnoreAuthenticatedClients", T_BOOL, OFF(ignore_authenticated_clients), "no", 0 },
	{ "MilterTimeout", T_DURATION_S, OFF(milter_timeout_s), "300s", 0 },
	{ "MaxMessageSize", T_SIZE, OFF(max_message_size), "25M", 0 },
	{ "MaxURLs", T_UNSIGNED, OFF(max_urls), "1000", 0 },
	{ "MaxMimeDepth", T_UNSIGNED, OFF(max_mime_depth), "32", 0 },
	{ "MaxReportedDepth", T_UNSIGNED, OFF(max_reported_depth), "3", 0 },
	{ "MaxIndicators", T_UNSIGNED, OFF(max_indicators), "1000", 0 },
	{ "InternalHosts", T_NETLIST, OFF(internal_hosts), NULL, 0 },
	{ "ExcludeURLs", T_EXCLUDE_URLS, OFF(exclusions), NULL, 0 },
	{ "ExcludeIPs", T_EXCLUDE_IPS, OFF(exclusions), NULL, 0 },
	{ "ExcludeExtensions", T_EXCLUDE_EXTENSIONS, OFF(exclusions), NULL, 0 },
	{ "ScanDeadline", T_DURATION_MS, OFF(scan_deadline_ms), "10s", 0 },
	{ "ReportSandboxWait", T_DURATION_S, OFF(report_sandbox_wait_s), "0s", 0 },
	{ "AlertCommand", T_PATH, OFF(alert_command), NULL, 0 },
	{ "CACertFile", T_PATH, OFF(ca_cert_file), NULL, 0 },
	{ "IntegrationsDir", T_PATH, OFF(integrations_dir), NULL, 0 },
	{ "CacheBackend", T_STRING, OFF(cache_backend), "memory", 0 },
	{ "RedisServer", T_STRING, OFF(redis_server), NULL, 0 },
	{ "RedisTimeout", T_DURATION_MS, OFF(redis_timeout_ms), "50ms", 0 },
	{ "On-Malicious", T_ACTION, 0, "quarantine", EVENT_MALICIOUS },
	{ "On-Suspicious", T_ACTION, 0, "tag", EVENT_SUSPICIOUS },
	{ "On-Clean", T_ACTION, 0, "accept", EVENT_CLEAN },
	{ "On-Unknown", T_ACTION, 0, "accept", EVENT_UNKNOWN },
	{ "On-ProviderError", T_ACTION, 0, "accept", EVENT_PROVIDER_ERROR },
	{ "On-Timeout", T_ACTION, 0, "accept", EVENT_TIMEOUT },
	{ "On-InternalError", T_ACTION, 0, "accept", EVENT_INTERNAL_ERROR },
	{ "On-TooLarge", T_ACTION, 0, "accept", EVENT_TOO_LARGE },
	{ "On-Limit", T_ACTION, 0, "tag", EVENT_LIMIT },
	{ "RejectMessage", T_STRING, OFF(reject_message),
	  "5.7.1 Message rejected: %v content detected", 0 },
	{ "HeaderPrefix", T_STRING, OFF(header_prefix), "X-Threat-", 0 },
	{ "SubjectTag", T_STRING, OFF(subject_tag), NULL, 0 },
	{ "ReportHostname", T_STRING, OFF(report_hostname), NULL, 0 },
	{ "Mode", T_MODE_NAME, OFF(mode), "inline", 0 },
	{ "ReportRecipients", T_STRLIST, OFF(report_recipients), NULL, 0 },
};

static const char *const action_names[] = {
	[ACTION_ACCEPT] = "accept", [ACTION_TAG] = "tag", [ACTION_QUARANTINE] = "quarantine",
	[ACTION_REJECT] = "reject", [ACTION_TEMPFAIL] = "tempfail", [ACTION_DISCARD] = "discard",
};

/* Parallel arrays: the names value_parse_enum() reads, the values stored. */
static const char *const facility_names[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3", "local4", "local5",
	"local6", "local7",
};
static const int facility_values[] = {
	LOG_MAIL, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
	LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7,
};
static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };
static const int level_values[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
static const char *const mode_names[] = { [MODE_INLINE] = "inline", [MODE_REPORT] = "report" };

G_STATIC_ASSERT(G_N_ELEMENTS(facility_names) == G_N_ELEMENTS(facility_values));
G_STATIC_ASSERT(G_N_ELEMENTS(level_names) == G_N_ELEMENTS(level_values));

const char *action_name(enum tm_action action)
{
	return (unsigned)action < G_N_ELEMENTS(action_names) ? action_names[action] : "accept";
}

const char *config_key_name(unsigned index)
{
	return index < G_N_ELEMENTS(schema) ? schema[index].name : NULL;
}

const char *event_key(enum tm_event event)
{
	for (size_t i = 0; i < G_N_ELEMENTS(schema); i++)
		if (schema[i].type == T_ACTION && schema[i].event == (int)event)
			return schema[i].name;
	return "On-Unknown";
}

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
		case T_EXCLUDE_URLS:
			ok = exclusions_add_url(cfg->exclusions, e->value, inner, sizeof(inner));
			break;
		case T_EXCLUDE_IPS:
			ok = exclusions_add_ip(cfg->exclusions, e->value, inner, sizeof(inner));
			break;
		case T_EXCLUDE_EXTENSIONS:
			ok = exclusions_add_extension(cfg->exclusions, e->value, inner, sizeof(inner));
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

/* Stores one value; err gets the reason (no file:line) on failure. One
 * case per value type of the schema (about 95 lines for it). */
static bool set_value(const struct key_def *def, struct load_state *st, const char *value,
		      const char *file, unsigned line, char *err, size_t errlen)
{
	struct tm_config *cfg = st->cfg;
	char *field = (char *)cfg + def->offset;
	unsigned long long n;
	int index;

	switch (def->type) {
	case T_STRING:
	case T_PATH: {
		char **slot = (char **)(void *)field;

		g_free(*slot);
		*slot = NULL;
		if (g_ascii_strcasecmp(value, "none") == 0 && def->type == T_PATH)
			return true;
		*slot = def->type == T_PATH ? resolve_path(st, value) : g_strdup(value);
		return true;
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
		if (!value_parse_uint(value, 0, UINT_MAX, &n))
			break;
		*(unsigned *)(void *)field = (unsigned)n;
		return true;
	case T_SIZE:
		if (!value_parse_size(value, 0, SIZE_MAX, &n))
			break;
		*(size_t *)(void *)field = (size_t)n;
		return true;
	case T_DURATION_S:
		/* whole seconds: "1500ms" would be cut to 1 s */
		if (!value_parse_duration_ms(value, 0, UINT_MAX * 1000ULL, &n) || n % 1000 != 0)
			break;
		*(unsigned *)(void *)field = (unsigned)(n / 1000);
		return true;
	case T_DURATION_MS:
		if (!value_parse_duration_ms(value, 1, UINT_MAX, &n))
			break;
		*(unsigned *)(void *)field = (unsigned)n;
		return true;
	case T_MODE:
		if (!parse_mode(value, (unsigned *)(void *)field))
			break;
		return true;
	case T_FACILITY:
		if ((index = value_parse_enum(value, facility_names, G_N_ELEMENTS(facility_names))) < 0)
			break;
		*(int *)(void *)field = facility_values[index];
		return true;
	case T_LOG_LEVEL:
		if ((index = value_parse_enum(value, level_names, G_N_ELEMENTS(level_names))) < 0) {
			snprintf(err, errlen, "%s: bad level '%s' (error, warning, notice, info or "
				 "debug)", def->name, value);
			return false;
		}
		*(int *)(void *)field = level_values[index];
		return true;
	case T_ACTION:
		if ((index = value_parse_enum(value, action_names, G_N_ELEMENTS(action_names))) < 0) {
			snprintf(err, errlen, "%s: bad action '%s' (accept, tag, quarantine, reject, "
				 "tempfail or discard)", def->name, value);
			return false;
		}
		cfg->on[def->event] = (enum tm_action)index;
		return true;
	case T_MODE_NAME:
		if ((index = value_parse_enum(value, mode_names, G_N_ELEMENTS(mode_names))) < 0)
			break;
		cfg->mode = (enum tm_mode)index;
		return true;
	case T_NETLIST:
	case T_EXCLUDE_URLS:
	case T_EXCLUDE_IPS:
	case T_EXCLUDE_EXTENSIONS:
	case T_STRLIST:
		return set_list(def, st, value, file, line, err, errlen);
	}
	snprintf(err, errlen, "%s: bad value '%s' (%s)", def->name, value, expected_form(def->type));
	return false;
}

static const struct key_def *find_key(const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(schema); i++)
		if (g_ascii_strcasecmp(schema[i].name, key) == 0)
			return &schema[i];
	return NULL;
}

static bool on_setting(const char *key, const char *value, const char *file, unsigned line,
		       void *userdata, char *err, size_t errlen)
{
	struct load_state *st = userdata;
	const struct key_def *def = find_key(key);

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
	for (size_t i = 0; i < G_N_ELEMENTS(schema); i++) {
		if (schema[i].default_value != NULL &&
		    !set_value(&schema[i], &st, schema[i].default_value, "defaults", 0, err,
			       sizeof(err)))
			g_error("bad default for %s: %s", schema[i].name, err);
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
	for (size_t i = 0; i < G_N_ELEMENTS(schema); i++) {
		if (schema[i].type == T_STRING || schema[i].type == T_PATH ||
		    schema[i].type == T_SOCKET || schema[i].type == T_LISTEN)
			g_free(*(char **)(void *)((char *)cfg + schema[i].offset));
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
	const struct key_def *def = find_key(key);
	const char *field;

	if (def == NULL)
		return false;
	field = (const char *)cfg + def->offset;
	switch (def->type) {
	case T_STRING:
	case T_PATH:
	case T_SOCKET:
	case T_LISTEN: {
		const char *s = *(char *const *)(const void *)field;
		fprintf(out, "%s\n", s ? s : "none");
		break;
	}
	case T_BOOL:
		fprintf(out, "%s\n", *(const bool *)(const void *)field ? "yes" : "no");
		break;
	case T_UNSIGNED:
		fprintf(out, "%u\n", *(const unsigned *)(const void *)field);
		break;
	case T_SIZE:
		fprintf(out, "%zu\n", *(const size_t *)(const void *)field);
		break;
	case T_DURATION_S:
		fprintf(out, "%us\n", *(const unsigned *)(const void *)field);
		break;
	case T_DURATION_MS:
		fprintf(out, "%ums\n", *(const unsigned *)(const void *)field);
		break;
	case T_MODE:
		fprintf(out, "%04o\n", *(const unsigned *)(const void *)field);
		break;
	case T_FACILITY:
	case T_LOG_LEVEL: {
		const char *const *names = def->type == T_FACILITY ? facility_names : level_names;
		const int *values = def->type == T_FACILITY ? facility_values : level_values;
		size_t count = def->type == T_FACILITY ? G_N_ELEMENTS(facility_names)
						       : G_N_ELEMENTS(level_names);

		for (size_t i = 0; i < count; i++)
			if (values[i] == *(const int *)(const void *)field)
				fprintf(out, "%s\n", names[i]);
		break;
	}
	case T_ACTION:
		fprintf(out, "%s\n", action_name(cfg->on[def->event]));
		break;
	case T_MODE_NAME:
		fprintf(out, "%s\n", mode_names[cfg->mode]);
		break;
	case T_NETLIST:
	case T_EXCLUDE_URLS:
	case T_EXCLUDE_IPS:
	case T_EXCLUDE_EXTENSIONS:
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
