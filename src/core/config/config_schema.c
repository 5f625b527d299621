/* config_schema.c: the main configuration's keys and their words
 * (config_schema.h). */
#include "config/config_schema.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <syslog.h>
#include <glib.h>

#define OFF(field) offsetof(struct tm_config, field)

const struct key_def config_schema[] = {
	{ "Socket", T_SOCKET, OFF(socket), "inet:8895@127.0.0.1", 0, KEY_RESTART },
	{ "SocketMode", T_MODE, OFF(socket_mode), "0660", 0, KEY_RESTART },
	{ "SocketGroup", T_STRING, OFF(socket_group), NULL, 0, KEY_RESTART },
	{ "MetricsSocket", T_LISTEN, OFF(metrics_socket), NULL, 0, KEY_RESTART },
	{ "UserID", T_STRING, OFF(user_id), NULL, 0, KEY_RESTART },
	{ "PidFile", T_PATH, OFF(pid_file), NULL, 0, KEY_RESTART },
	{ "UMask", T_MODE, OFF(umask), "007", 0, KEY_RESTART },
	{ "Background", T_BOOL, OFF(background), "yes", 0, KEY_RESTART },
	{ "Syslog", T_BOOL, OFF(syslog), "yes", 0, KEY_RESTART },
	{ "SyslogFacility", T_FACILITY, OFF(syslog_facility), "mail", 0, KEY_RESTART },
	{ "LogWhy", T_BOOL, OFF(log_why), "no", 0, 0 },
	{ "LogLevel", T_LOG_LEVEL, OFF(log_level), "info", 0, KEY_RESTART },
	{ "SoftwareHeader", T_BOOL, OFF(software_header), "no", 0, 0 },
	{ "TmpDir", T_PATH, OFF(tmp_dir), "/tmp", 0, 0 },
	{ "SampleMemoryLimit", T_SIZE, OFF(sample_memory_limit), "1M", 0, 0 },
	{ "IgnoreAuthenticatedClients", T_BOOL, OFF(ignore_authenticated_clients), "no", 0, 0 },
	{ "MilterTimeout", T_DURATION_S, OFF(milter_timeout_s), "300s", 0, KEY_RESTART },
	{ "MaxMessageSize", T_SIZE, OFF(max_message_size), "25M", 0, KEY_NOT_ZERO },
	{ "MaxURLs", T_UNSIGNED, OFF(max_urls), "1000", 0, 0 },
	{ "MaxMimeDepth", T_UNSIGNED, OFF(max_mime_depth), "32", 0, KEY_NOT_ZERO },
	{ "MaxReportedDepth", T_UNSIGNED, OFF(max_reported_depth), "3", 0, 0 },
	{ "MaxIndicators", T_UNSIGNED, OFF(max_indicators), "1000", 0, 0 },
	{ "InternalHosts", T_NETLIST, OFF(internal_hosts), NULL, 0, 0 },
	{ "ExcludeURLs", T_EXCLUSION_LIST, OFF(exclusions), NULL, 0, 0 },
	{ "ExcludeIPs", T_EXCLUSION_LIST, OFF(exclusions), NULL, 0, 0 },
	{ "ExcludeExtensions", T_EXCLUSION_LIST, OFF(exclusions), NULL, 0, 0 },
	{ "ScanDeadline", T_DURATION_MS, OFF(scan_deadline_ms), "10s", 0, 0 },
	{ "ReportSandboxWait", T_DURATION_S, OFF(report_sandbox_wait_s), "0s", 0, 0 },
	{ "AlertCommand", T_PATH, OFF(alert_command), NULL, 0, 0 },
	{ "CACertFile", T_PATH, OFF(ca_cert_file), NULL, 0,
	  KEY_RESTART | KEY_READ_FILE },
	{ "IntegrationsDir", T_PATH, OFF(integrations_dir), NULL, 0, 0 },
	{ "CacheBackend", T_STRING, OFF(cache_backend), "memory", 0, KEY_RESTART },
	{ "RedisServer", T_STRING, OFF(redis_server), NULL, 0, KEY_RESTART },
	{ "RedisTimeout", T_DURATION_MS, OFF(redis_timeout_ms), "50ms", 0, KEY_RESTART },
	{ "On-Malicious", T_ACTION, 0, "quarantine", EVENT_MALICIOUS, 0 },
	{ "On-Suspicious", T_ACTION, 0, "tag", EVENT_SUSPICIOUS, 0 },
	{ "On-Clean", T_ACTION, 0, "accept", EVENT_CLEAN, 0 },
	{ "On-Unknown", T_ACTION, 0, "accept", EVENT_UNKNOWN, 0 },
	{ "On-ProviderError", T_ACTION, 0, "accept", EVENT_PROVIDER_ERROR, 0 },
	{ "On-Timeout", T_ACTION, 0, "accept", EVENT_TIMEOUT, 0 },
	{ "On-InternalError", T_ACTION, 0, "accept", EVENT_INTERNAL_ERROR, 0 },
	{ "On-TooLarge", T_ACTION, 0, "accept", EVENT_TOO_LARGE, 0 },
	{ "On-Limit", T_ACTION, 0, "tag", EVENT_LIMIT, 0 },
	{ "RejectMessage", T_REPLY_TEXT, OFF(reject_message),
	  "5.7.1 Message rejected: %v content detected", 0, 0 },
	{ "HeaderPrefix", T_FIELD_PREFIX, OFF(header_prefix), "X-Threat-", 0, 0 },
	{ "SubjectTag", T_HEADER_TEXT, OFF(subject_tag), NULL, 0, 0 },
	{ "ReportHostname", T_HEADER_TEXT, OFF(report_hostname), NULL, 0, 0 },
	{ "Mode", T_MODE_NAME, OFF(mode), "inline", 0, 0 },
	{ "ReportRecipients", T_STRLIST, OFF(report_recipients), NULL, 0, 0 },
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

const size_t config_schema_len = G_N_ELEMENTS(config_schema);

const struct key_def *config_schema_find(const char *key)
{
	for (size_t i = 0; i < config_schema_len; i++)
		if (g_ascii_strcasecmp(config_schema[i].name, key) == 0)
			return &config_schema[i];
	return NULL;
}

const struct value_names *config_value_names(enum value_type type)
{
	static const struct value_names facilities = { facility_names, facility_values,
						       G_N_ELEMENTS(facility_names) };
	static const struct value_names levels = { level_names, level_values,
						   G_N_ELEMENTS(level_names) };
	static const struct value_names actions = { action_names, NULL,
						    G_N_ELEMENTS(action_names) };
	static const struct value_names modes = { mode_names, NULL, G_N_ELEMENTS(mode_names) };

	switch (type) {
	case T_FACILITY: return &facilities;
	case T_LOG_LEVEL: return &levels;
	case T_ACTION: return &actions;
	case T_MODE_NAME: return &modes;
	default: return NULL;
	}
}

const char *config_value_word(enum value_type type, int stored)
{
	const struct value_names *vn = config_value_names(type);

	for (size_t i = 0; vn != NULL && i < vn->count; i++)
		if ((vn->values != NULL ? vn->values[i] : (int)i) == stored)
			return vn->names[i];
	return NULL;
}

const char *action_name(enum tm_action action)
{
	return (unsigned)action < G_N_ELEMENTS(action_names) ? action_names[action] : "accept";
}

const char *config_key_name(unsigned index)
{
	return index < config_schema_len ? config_schema[index].name : NULL;
}

const char *event_key(enum tm_event event)
{
	for (size_t i = 0; i < config_schema_len; i++)
		if (config_schema[i].type == T_ACTION && config_schema[i].event == (int)event)
			return config_schema[i].name;
	return "On-Unknown";
}


bool config_type_is_text(enum value_type type)
{
	switch (type) {
	case T_STRING: case T_PATH: case T_SOCKET: case T_LISTEN: case T_REPLY_TEXT:
	case T_FIELD_PREFIX: case T_HEADER_TEXT:
		return true;
	default:
		return false;
	}
}

/* The value of def in cfg as `-e Key` prints it (g_free). */
static char *printed_value(const struct tm_config *cfg, const struct key_def *def)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	config_print_value(cfg, def->name, f);
	fclose(f);
	return text;
}

unsigned config_restart_changes(const struct tm_config *running, const struct tm_config *loaded,
				void (*changed)(const char *key, void *arg), void *arg)
{
	unsigned count = 0;

	for (size_t i = 0; i < config_schema_len; i++) {
		const struct key_def *def = &config_schema[i];

		if (!(def->flags & KEY_RESTART))
			continue;
		char *a = printed_value(running, def);
		char *b = printed_value(loaded, def);

		if (a == NULL || b == NULL || strcmp(a, b) != 0) {
			changed(def->name, arg);
			count++;
		}
		free(a);
		free(b);
	}
	return count;
}
