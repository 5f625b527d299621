/* registry.h: the provider types threatmilter knows, one capability table
 * entry per type.
 *
 * Everything the rest of threatmilter may ask about a type is in its
 * struct provider_type: which indicator kinds it answers, whether it takes
 * the file itself, its admin actions, how it is asked, its default API root,
 * the rate-limit header it sends, the Test Connection call, the seed's
 * form defaults. The lookup planner (lookup/plan.c), the integration
 * loader (config/integrations.c), `threatmilter test` and the ctl read this
 * table and nothing else; a type's functions (providers/<name>.c) are
 * reached through .ops. How to add a provider: ARCHITECTURE.md. */
#ifndef TM_PROVIDERS_REGISTRY_H
#define TM_PROVIDERS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "lookup/lookup.h"

struct provider_http_ops;
struct provider_dns_ops;
struct provider_job_ops;
struct provider_session_ops;
struct provider_action;

/* How a type is asked: its tables by concern (provider.h), NULL where it
 * has none: http or dns for one-shot lookups, job for sandboxes (with a
 * session beside it for FortiSandbox). All NULL: no lookups. */
struct provider_ops {
	const struct provider_http_ops *http;
	const struct provider_dns_ops *dns;
	const struct provider_job_ops *job;
	const struct provider_session_ops *session;
};

/* What a type can take. The integration loader refuses a toggle a type
 * cannot serve (URLs: CAP_URL or CAP_DOMAIN; SenderIP: CAP_IP;
 * Attachments: CAP_HASH; UploadPEFiles/UploadOtherFiles: CAP_UPLOAD). */
enum provider_capability {
	CAP_URL = 1 << 0,	/* INDICATOR_URL, the whole URL */
	CAP_IP = 1 << 1,	/* INDICATOR_IP */
	CAP_HASH = 1 << 2,	/* INDICATOR_HASH */
	CAP_UPLOAD = 1 << 3,	/* takes the attachment bytes themselves */
	CAP_DOMAIN = 1 << 4,	/* INDICATOR_DOMAIN (a URL's host) */
	CAP_EMAIL = 1 << 5,	/* INDICATOR_EMAIL (From:, Reply-To:) */
};

/* Test Connection (the form's button, `threatmilter test`): one cheap
 * lookup that proves the key, and which answers to it count as success. */
struct provider_test {
	enum indicator_kind kind;
	const char *indicator;
	bool (*ok)(const struct lookup *lookup);	/* NULL: not testable yet */
};

struct provider_type {
	const char *name;		/* "virustotal", as in `Type` */
	const char *display_name;	/* "VirusTotal" */
	const char *default_api_url;	/* NULL: the admin must give one */
	unsigned capabilities;		/* CAP_* */
	bool needs_key;
	bool needs_password;
	bool needs_company_id;		/* CompanyID (IRONSCALES) */
	/* seed defaults for the form's toggles */
	bool default_urls, default_sender_ip, default_attachments;
	unsigned default_detection_threshold;
	const char *default_rate_limit;	/* NULL: none */
	/* A header naming the seconds until the provider's quota returns,
	 * read from error answers when Retry-After is absent (OPSWAT:
	 * "X-RateLimit-Reset-In"); NULL: none. */
	const char *rate_limit_reset_header;
	/* Non-NULL: a configuration without any integration gets one of
	 * this type under this name (Spamhaus ZEN, no key: "spamhaus-zen"). */
	const char *default_integration_name;
	const char *default_integration_description;
	struct provider_test test;
	/* Admin operations (threatmilterctl), NULL-terminated; NULL: the
	 * generic "ping" for a type with lookups, else none. */
	const struct provider_action *const *actions;
	/* How to ask it (providers/<name>.c): a DNS table (APIURL is a zone,
	 * DNSServers apply), else an HTTP(S) API (APIURL is its root) with
	 * an HTTP or job table; all NULL: no lookups (IRONSCALES). */
	struct provider_ops ops;
};

/* The type named name (case-insensitive), or NULL. */
const struct provider_type *provider_type_find(const char *name);
/* NULL-terminated walk: for (i = 0; (t = provider_type_at(i)); i++) */
const struct provider_type *provider_type_at(unsigned index);
/* The capability bit of an indicator kind (CAP_URL for INDICATOR_URL...). */
unsigned provider_kind_capability(enum indicator_kind kind);
/* Whether integrations of type t can look up indicators of this kind:
 * the type has lookups (provider_asks) and its table lists the kind. False
 * for a NULL type. The lookup planner's only question. */
bool provider_supports(const struct provider_type *t, enum indicator_kind kind);
/* Whether t has lookups: a table to ask it by (ops.http, .dns or .job).
 * False for a NULL type. */
bool provider_asks(const struct provider_type *t);
/* Whether this version implements the type: it has lookups or admin
 * actions (IRONSCALES). An integration of a type that is not implemented
 * may exist only with Status inactive (the daemon's loader and the ctl). */
bool provider_implemented(const struct provider_type *t);
/* Whether t takes the attachment bytes (CAP_UPLOAD and implemented). */
bool provider_uploads(const struct provider_type *t);
/* The type whose default integration an empty configuration gets (the
 * one entry with default_integration_name), or NULL. */
const struct provider_type *provider_type_default(void);
/* The action of t named name, or NULL. */
const struct provider_action *provider_action_find(const struct provider_type *t,
						   const char *name);

#endif
