/* integrations.h: one integration = one instance of a provider type,
 * described by one file in integrations.d/ with the fields of the seed's
 * "New integration" form (../shared/seeds/000_*.txt, "Creating New
 * Integration"). Two VirusTotal keys are two files.
 *
 * Which keys exist, their types, defaults (per provider type where the
 * seed's form differs) and which types use them: integration_schema.h.
 * Writing a file back and printing with masked secrets:
 * integration_write.h. */
#ifndef TM_INTEGRATIONS_H
#define TM_INTEGRATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct provider_type;

struct integration {
	char *file;			/* where it was read from; NULL for a new one */
	char *name;			/* Name (unique, [A-Za-z0-9._-]) */
	const struct provider_type *type; /* Type */
	char *description;		/* Description */
	char *api_url;			/* APIURL, default from the type */
	char *api_key;			/* APIKey or the content of APIKeyFile */
	char *api_key_file;		/* APIKeyFile as written, or NULL */
	char *api_password;		/* APIPassword (IBM X-Force, FortiSandbox) */
	GPtrArray *tags;		/* Tags: char * */
	char *proxy;			/* Proxy: NULL for "default" (none) */
	bool urls;			/* URLs */
	bool hide_url_parameters;	/* HideURLParameters */
	bool domains;			/* Domains (APIVoid: the hosts of URLs too) */
	bool email_addresses;		/* EmailAddresses (From:, Reply-To:) */
	bool sender_ip;			/* SenderIP */
	bool attachments;		/* Attachments */
	bool upload_pe_files;		/* UploadPEFiles */
	bool upload_other_files;	/* UploadOtherFiles */
	bool submit_urls;		/* SubmitURLs (FortiSandbox) */
	bool active;			/* Status active|inactive */
	unsigned detection_threshold;	/* DetectionThreshold */
	unsigned malicious_threshold;	/* MaliciousThreshold (APIVoid, Cyber X-Ray), 0 = rule of the type */
	int api_version;		/* APIVersion (APIVoid): enum integration_api_version */
	int privacy;			/* Privacy (ANY.RUN): enum integration_privacy */
	char *company_id;		/* CompanyID (IRONSCALES): digits, NULL = unset */
	bool is_partner;		/* IsPartner (IRONSCALES): ask for the partner scopes */
	bool cache;			/* Cache */
	unsigned cache_hours;		/* CacheHours */
	unsigned cache_max_hits;	/* CacheMaxHits */
	unsigned cache_max_entries;	/* CacheMaxEntries */
	bool verify_ssl;		/* VerifySSL, default yes */
	unsigned timeout_ms;		/* Timeout */
	unsigned max_in_flight;		/* MaxInFlight */
	char *rate_limit;		/* RateLimit, e.g. "4/minute,500/day"; NULL = none */
	char *dns_servers;		/* DNSServers (DNS providers) */
	unsigned sandbox_wait_ms;	/* SandboxWait (upload types), 0 = do not wait */
	unsigned job_timeout_ms;	/* JobTimeout (upload types) */
	unsigned poll_interval_ms;	/* PollInterval (upload types) */
	size_t max_upload_size;		/* MaxUploadSize, bytes (upload types) */
	char *created;			/* Created (ISO 8601) */
	GPtrArray *warnings;		/* char *: what -n should say (unsafe key file...) */
};

/* Who may see an ANY.RUN task (../shared/providers/anyrun.md §3.1,
 * opt_privacy_type). A mail's content must not become public: owner by
 * default; bylink and public only when set, with a warning. */
enum integration_privacy {
	PRIVACY_OWNER,
	PRIVACY_BYTEAM,
	PRIVACY_BYLINK,
	PRIVACY_PUBLIC,
};

enum integration_api_version {
	API_VERSION_AUTO,	/* from APIURL */
	API_VERSION_V1,
	API_VERSION_V2,
};

/* Reads every *.conf in dir (sorted by file name). Names must be unique.
 * NULL with "file:line: message" in err on any error. A missing dir is
 * an empty list only when missing_ok. Warnings are logged (LOG_WARNING)
 * and kept in each integration's `warnings`. */
GPtrArray *integrations_load_dir(const char *dir, bool missing_ok,
				 char *err, size_t errlen);
/* Reads one integration file; NULL with "file:line: message" in err. The
 * same rules as the daemon: unknown or repeated keys, bad values, keys
 * the type cannot use, missing credentials, an ACTIVE integration of a
 * type whose lookups are not implemented yet or with a placeholder key
 * copied from an example. Messages never quote a secret. */
struct integration *integration_load_file(const char *path,
					  char *err, size_t errlen);
/* The same rules over `text` (len bytes) as if it were the file `path`:
 * messages name path, a relative APIKeyFile is taken from its directory.
 * For threatmilterctl, to refuse a change before anything is written.
 * Does not look at path's permissions and logs nothing. */
struct integration *integration_parse(const char *path, const char *text, size_t len,
				      char *err, size_t errlen);
/* A new integration of `type` named `name` with the built-in defaults of
 * the type (the seed's form: API URL, toggles, Status active); Created is
 * left unset (the caller stamps it). Never NULL. */
struct integration *integration_new(const struct provider_type *type,
				    const char *name);
/* The whole-integration rules integration_load_file() applies after the
 * single values (toggles the type cannot use, credentials, types not
 * implemented, placeholders). On error: the message (no file: prefix)
 * and in *key the schema name of the key it is about (NULL: the file). */
bool integration_check(const struct integration *in, const char **key,
		       char *err, size_t errlen);
void integration_free(struct integration *integration);
/* The integration the embedded defaults enable: Spamhaus ZEN, no key. */
struct integration *integration_default_spamhaus(void);

#endif
