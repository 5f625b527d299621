/* config.h: the configuration snapshot (threatmilter.conf(5)).
 *
 * A snapshot is built completely by config_load() (main file, integration
 * files, every list) and never modified afterwards; the daemon swaps whole
 * snapshots on reload and frees the old one when the last message using it
 * finishes (config_ref/config_unref).
 *
 * Loading has no side effects outside the snapshot: the few process-wide
 * settings it describes (syslog facility, LogLevel) are applied by the
 * daemon at start and reload (log_open_syslog(), log_set_level() in
 * util/log.h, which keep their own process state). Other state outside
 * the snapshot: the engine's per-integration state (engine thread only)
 * and the daemon's signal plumbing. The integration files' schema lives
 * in integration_schema.h; this header needs none of it. */
#ifndef TM_CONFIG_H
#define TM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <glib.h>

#include "analysis/exclude.h"
#include "util/netaddr.h"

enum tm_action {
	ACTION_ACCEPT,
	ACTION_TAG,
	ACTION_QUARANTINE,
	ACTION_REJECT,
	ACTION_TEMPFAIL,
	ACTION_DISCARD,
};

/* The On-<Event> keys. */
enum tm_event {
	EVENT_MALICIOUS,
	EVENT_SUSPICIOUS,
	EVENT_CLEAN,
	EVENT_UNKNOWN,
	EVENT_PROVIDER_ERROR,
	EVENT_TIMEOUT,
	EVENT_INTERNAL_ERROR,
	EVENT_TOO_LARGE,
	EVENT_LIMIT,		/* an analysis or planning limit was hit */
	EVENT_COUNT
};

enum tm_mode {
	MODE_INLINE,	/* judge the message itself */
	MODE_REPORT,	/* abuse mailbox: judge the reported inner messages */
};

struct tm_config {
	char *path;			/* NULL for the embedded defaults */
	int refcount;

	/* daemon */
	char *socket;			/* Socket */
	unsigned socket_mode;		/* SocketMode (octal) */
	char *socket_group;		/* SocketGroup */
	char *metrics_socket;		/* MetricsSocket; NULL: no metrics endpoint */
	char *user_id;			/* UserID user[:group] */
	char *pid_file;			/* PidFile */
	unsigned umask;			/* UMask (octal) */
	bool background;		/* Background */
	bool syslog;			/* Syslog */
	int syslog_facility;		/* SyslogFacility, a LOG_* value */
	bool log_why;			/* LogWhy */
	int log_level;			/* LogLevel: LOG_ERR..LOG_DEBUG, for log_set_level() */
	bool software_header;		/* SoftwareHeader */
	char *tmp_dir;			/* TmpDir */
	size_t sample_memory_limit;	/* SampleMemoryLimit, bytes: larger uploads spill to TmpDir */
	bool ignore_authenticated_clients; /* IgnoreAuthenticatedClients */
	unsigned milter_timeout_s;	/* MilterTimeout (smfi_settimeout) */

	/* analysis */
	size_t max_message_size;	/* MaxMessageSize, bytes */
	unsigned max_urls;		/* MaxURLs */
	unsigned max_mime_depth;	/* MaxMimeDepth: nesting of multiparts */
	unsigned max_reported_depth;	/* MaxReportedDepth: messages in messages */
	unsigned max_indicators;	/* MaxIndicators: asked per message, all together */
	struct net_list *internal_hosts; /* InternalHosts */
	struct exclusions *exclusions;	/* ExcludeURLs, ExcludeIPs, ExcludeExtensions */

	/* lookups */
	unsigned scan_deadline_ms;	/* ScanDeadline */
	unsigned report_sandbox_wait_s; /* ReportSandboxWait, s: abuse-mailbox messages, 0 = SandboxWait */
	char *alert_command;		/* AlertCommand: run when a job ends malicious after delivery */
	char *ca_cert_file;		/* CACertFile: CA bundle for TLS; NULL = system */
	char *integrations_dir;		/* IntegrationsDir */
	char *cache_backend;		/* CacheBackend memory|redis */
	char *redis_server;		/* RedisServer (cache/redis_settings.h) */
	unsigned redis_timeout_ms;	/* RedisTimeout */
	GPtrArray *integrations;	/* struct integration *, sorted by name */

	/* actions and headers */
	enum tm_action on[EVENT_COUNT];	/* On-Malicious ... On-Limit */
	char *reject_message;		/* RejectMessage, "%v" = verdict */
	char *header_prefix;		/* HeaderPrefix, default "X-Threat-" */
	char *subject_tag;		/* SubjectTag, "" = none */
	char *report_hostname;		/* ReportHostname in X-Threat-Scanned */
	enum tm_mode mode;		/* Mode inline|report */
	GPtrArray *report_recipients;	/* ReportRecipients: char * */

	/* Every list key's entries as accepted (inline or from file:), in
	 * order: canonical name -> GPtrArray of char *. Only for `-e`. */
	GHashTable *list_entries;
	/* Where each key given in the file was set: canonical name ->
	 * "file:line" (owned). Defaults have none. */
	GHashTable *origins;
};

/* "file:line" where the configuration file set `key` (its canonical
 * name, e.g. "UserID"), owned by cfg; NULL for a key left at its
 * default. For errors found after loading (the daemon's preflight: a
 * UserID naming no user, a missing TmpDir...), which must name the line
 * like the loader's own errors do. */
const char *config_key_origin(const struct tm_config *cfg, const char *key);

/* Loads and validates `path` and everything it refers to. On any error
 * returns NULL and writes "file:line: message" into err. */
struct tm_config *config_load(const char *path, char *err, size_t errlen);
/* The embedded defaults: what runs with no configuration file. */
struct tm_config *config_defaults(void);
struct tm_config *config_ref(struct tm_config *cfg);
void config_unref(struct tm_config *cfg);

/* `-e Key`: prints the effective value of one key (case-insensitive) in
 * the form the file would take. Returns false for an unknown key. */
bool config_print_value(const struct tm_config *cfg, const char *key,
			FILE *out);

/* The keys of threatmilter.conf in file order: for (i = 0;
 * (name = config_key_name(i)); i++). Static strings; NULL past the end. */
const char *config_key_name(unsigned index);

/* The value syntax (booleans, sizes, durations) is config/values.h. */

const char *action_name(enum tm_action action);
const char *event_key(enum tm_event event);	/* "On-Malicious" ... */

#endif
