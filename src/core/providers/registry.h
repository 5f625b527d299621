/* registry.h: the provider types threatmilter knows.
 *
 * For now a table of static facts per type (name, default API root,
 * which indicators it can take, the seed's default toggles); the lookup
 * engine adds the request/answer functions to the same struct. */
#ifndef TM_PROVIDERS_REGISTRY_H
#define TM_PROVIDERS_REGISTRY_H

#include <stdbool.h>

struct provider_ops;

enum provider_capability {
	CAP_URL = 1 << 0,
	CAP_IP = 1 << 1,
	CAP_HASH = 1 << 2,
	CAP_UPLOAD = 1 << 3,	/* can take the file itself */
	CAP_DOMAIN = 1 << 4,
};

struct provider_type {
	const char *name;		/* "virustotal", as in `Type` */
	const char *display_name;	/* "VirusTotal" */
	const char *default_api_url;	/* NULL: the admin must give one */
	unsigned capabilities;
	bool needs_key;
	bool needs_password;
	/* seed defaults for the form's toggles */
	bool default_urls, default_sender_ip, default_attachments;
	unsigned default_detection_threshold;
	const char *default_rate_limit;	/* NULL: none */
	/* How to ask it (providers/<name>.c); NULL: no lookups implemented. */
	const struct provider_ops *ops;
};

const struct provider_type *provider_type_find(const char *name);
/* NULL-terminated walk: for (i = 0; (t = provider_type_at(i)); i++) */
const struct provider_type *provider_type_at(unsigned index);

#endif
