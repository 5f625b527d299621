/* integrations.h: one integration = one instance of a provider type,
 * described by one file in integrations.d/ with the fields of the seed's
 * "New integration" form. Two VirusTotal keys are two files. */
#ifndef TM_INTEGRATIONS_H
#define TM_INTEGRATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct provider_type;

struct integration {
	char *file;			/* where it was read from */
	char *name;			/* Name (unique, [A-Za-z0-9._-]) */
	const struct provider_type *type; /* Type */
	char *description;		/* Description */
	char *api_url;			/* APIURL, default from the type */
	char *api_key;			/* APIKey or the content of APIKeyFile */
	char *api_password;		/* APIPassword (IBM X-Force) */
	GPtrArray *tags;		/* Tags: char * */
	char *proxy;			/* Proxy: NULL for "default" (none) */
	bool urls;			/* URLs */
	bool hide_url_parameters;	/* HideURLParameters */
	bool sender_ip;			/* SenderIP */
	bool attachments;		/* Attachments */
	bool upload_pe_files;		/* UploadPEFiles */
	bool upload_other_files;	/* UploadOtherFiles */
	bool active;			/* Status active|inactive */
	unsigned detection_threshold;	/* DetectionThreshold */
	bool cache;			/* Cache */
	unsigned cache_hours;		/* CacheHours */
	unsigned cache_max_hits;	/* CacheMaxHits */
	unsigned cache_max_entries;	/* CacheMaxEntries */
	bool verify_ssl;		/* VerifySSL, default yes */
	unsigned timeout_ms;		/* Timeout */
	unsigned max_in_flight;		/* MaxInFlight */
	char *rate_limit;		/* RateLimit, e.g. "4/minute,500/day" */
	char *dns_servers;		/* DNSServers (DNS providers) */
	char *created;			/* Created (ISO 8601) */
};

/* Reads every *.conf in dir (sorted by file name). Names must be unique.
 * NULL with "file:line: message" in err on any error. A missing dir is
 * an empty list only when missing_ok. */
GPtrArray *integrations_load_dir(const char *dir, bool missing_ok,
				 char *err, size_t errlen);
struct integration *integration_load_file(const char *path,
					  char *err, size_t errlen);
void integration_free(struct integration *integration);
/* The integration the embedded defaults enable: Spamhaus ZEN, no key. */
struct integration *integration_default_spamhaus(void);

#endif
