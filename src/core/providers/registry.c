/* registry.c: the provider types threatmilter knows, with the defaults of
 * the seed's "New integration" form (which toggles start enabled, which
 * API root is filled in).
 *
 * Deviation from the seed, on purpose: the seed's Zen SpamHaus form only
 * has "Sender IP"; threatmilter also asks Spamhaus DBL about the domains
 * of URLs (the same zone family, same key), so URLs starts enabled too. */
#include "providers/registry.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <glib.h>

#include "providers/anyrun.h"
#include "providers/provider.h"

/* A type with lookups and no actions of its own answers the generic
 * "ping" (its Test Connection call run synchronously, sync_runner.c). */
static const struct provider_action *const ping_only[] = { &provider_action_ping, NULL };

/* The Test Connection calls (a verdict proves the key; for the permanent
 * test points, only "listed" does). */
#define TEST_IP_ANY { INDICATOR_IP, "8.8.8.8", provider_test_decided }

static const struct provider_type provider_types[] = {
	{
		.name = "spamhaus", .display_name = "Zen SpamHaus",
		.default_api_url = "zen.spamhaus.org",
		/* URLs are asked as their domains (DBL) */
		.capabilities = CAP_IP | CAP_DOMAIN,
		.default_urls = true, .default_sender_ip = true,
		.default_integration_name = "spamhaus-zen",
		.default_integration_description =
			"Spamhaus ZEN and DBL, public mirror (embedded default)",
		/* 127.0.0.2 is Spamhaus's permanent test point: it must be listed */
		.test = { INDICATOR_IP, "127.0.0.2", provider_test_listed },
		.ops = { .dns = &spamhaus_dns },
	},
	{
		.name = "virustotal", .display_name = "VirusTotal",
		.default_api_url = "https://www.virustotal.com/api/v3",
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_IP | CAP_HASH | CAP_UPLOAD,
		.needs_key = true,
		.default_urls = true, .default_attachments = true,
		.default_detection_threshold = 1,
		.default_rate_limit = "4/minute,500/day",	/* a free public key */
		.test = TEST_IP_ANY,
		.ops = { .http = &virustotal_http, .job = &virustotal_job },
	},
	{
		.name = "safebrowsing", .display_name = "Google Safe Browsing",
		.default_api_url = "https://safebrowsing.googleapis.com/v4",
		/* a domain (HideURLParameters) is asked as http://domain/ */
		.capabilities = CAP_URL | CAP_DOMAIN,
		.needs_key = true,
		.default_urls = true,
		/* Google keeps the test URL listed: a working key must see it */
		.test = { INDICATOR_URL,
			  "http://testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/MALWARE/URL/",
			  provider_test_listed },
		.ops = { .http = &safebrowsing_http },
	},
	{
		.name = "webrisk", .display_name = "Google Web Risk",
		.default_api_url = "https://webrisk.googleapis.com/v1",
		/* a domain (HideURLParameters) is asked as http://domain/ */
		.capabilities = CAP_URL | CAP_DOMAIN,
		.needs_key = true,
		.default_urls = true,
		/* Google's own example URL is kept listed as MALWARE */
		.test = { INDICATOR_URL, "http://testsafebrowsing.appspot.com/s/malware.html",
			  provider_test_listed },
		.ops = { .http = &webrisk_http },
	},
	{
		.name = "xforce", .display_name = "IBM X-Force",
		.default_api_url = "https://api.xforce.ibmcloud.com",
		/* a URL's host goes to /url/{domain} */
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_IP | CAP_HASH,
		.needs_key = true, .needs_password = true,
		.default_urls = true, .default_sender_ip = true, .default_attachments = true,
		/* scores 1..10; the document's (and XSOAR's) line for "malicious" */
		.default_detection_threshold = 7,
		/* 8.8.8.8 always has a report (score 1) */
		.test = TEST_IP_ANY,
		.ops = { .http = &xforce_http },
	},
	{
		.name = "metadefender", .display_name = "OPSWAT MetaDefender",
		.default_api_url = "https://api.metadefender.com/v4",
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_IP | CAP_HASH | CAP_UPLOAD,
		.needs_key = true,
		.default_urls = true, .default_sender_ip = true,
		/* reputation sources that must list an IP/URL/domain for
		 * "malicious" (fewer: suspicious); the document's cut-off */
		.default_detection_threshold = 3,
		/* without Retry-After, OPSWAT says when the quota returns here */
		.rate_limit_reset_header = "X-RateLimit-Reset-In",
		/* costs one reputation lookup */
		.test = TEST_IP_ANY,
		.ops = { .http = &metadefender_http, .job = &metadefender_job },
	},
	{
		.name = "vmray", .display_name = "VMRay",
		.default_api_url = "https://cloud.vmray.com",
		/* hash lookups; URLs (or their domains, HideURLParameters)
		 * and unknown files are submitted as analyses (vmray.md §1) */
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_HASH | CAP_UPLOAD,
		.needs_key = true,
		.default_urls = true, .default_attachments = true,
		/* no lookup: its own ping, GET /rest/analysis?_limit=1 (§6) */
		.actions = vmray_actions,
		.ops = { .job = &vmray_job },
	},
	{
		.name = "anyrun", .display_name = "ANY.RUN",
		/* the seed's form; the API root is it without "/analysis" */
		.default_api_url = "https://api.any.run/v1/analysis",
		/* URLs (a domain, HideURLParameters, as http://domain/) and
		 * the file itself; no hash lookup in the sandbox API
		 * (anyrun.md §1): Attachments means "upload", off by default */
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_UPLOAD,
		.needs_key = true,
		.default_urls = true,
		/* the task history (anyrun.md §6): costs no analysis */
		.test = { INDICATOR_URL, ANYRUN_TEST_INDICATOR, provider_test_decided },
		.ops = { .http = &anyrun_http, .job = &anyrun_job },
	},
	{
		.name = "fortisandbox", .display_name = "FortiSandbox",
		.default_api_url = NULL,	/* the admin's appliance */
		/* a domain (HideURLParameters) is rated as http://domain/ */
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_HASH | CAP_UPLOAD,
		/* APIKey: the user name, or the login token without
		 * APIPassword (fortisandbox.md §2) */
		.needs_key = true,
		.default_urls = true, .default_attachments = true,
		/* login and logout, no analysis (fortisandbox.md §6) */
		.actions = fortisandbox_actions,
		.ops = { .job = &fortisandbox_job, .session = &fortisandbox_session },
	},
	{
		.name = "cyberxray", .display_name = "Cyber X-Ray",
		.default_api_url = "https://reputation.roksit.com/api/query/",
		/* a URL is asked as its host (cyber-xray.md §1, unverified) */
		.capabilities = CAP_DOMAIN | CAP_URL,
		.needs_key = true,
		.default_urls = true,
		/* the document's Test Connection: GET <root>example.com (§6) */
		.test = { INDICATOR_DOMAIN, "example.com", provider_test_decided },
		.ops = { .http = &cyberxray_http, .job = &cyberxray_job },
	},
	{
		.name = "apivoid", .display_name = "APIVoid",
		.default_api_url = "https://endpoint.apivoid.com",
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_IP | CAP_EMAIL,
		.needs_key = true,
		/* URL reputation costs 5 credits a URL: off; the domains of
		 * URLs (1 credit, the Domains key), the sender IP and the
		 * addresses (EmailAddresses) are on */
		.default_sender_ip = true,
		/* blacklist detections at or above it: suspicious (apivoid.c) */
		.default_detection_threshold = 1,
		/* v1: "?stats", free; v2: one IP lookup (apivoid.md §5) */
		.test = { INDICATOR_IP, "stats", provider_test_decided },
		.actions = apivoid_actions,
		.ops = { .http = &apivoid_http },
	},
	{
		.name = "ironscales", .display_name = "IRONSCALES",
		.default_api_url = "https://members.ironscales.com/",
		.capabilities = 0,	/* admin actions only, no indicator lookups */
		.needs_key = true,	/* the seed's "API Token" */
		.needs_company_id = true,
		/* its own ping (token exchange + open incidents), not a lookup */
		.actions = ironscales_actions,
	},
};

const struct provider_type *provider_type_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(provider_types) / sizeof(provider_types[0]); i++) {
		if (strcasecmp(provider_types[i].name, name) == 0)
			return &provider_types[i];
	}
	return NULL;
}

const struct provider_type *provider_type_at(unsigned index)
{
	if (index >= sizeof(provider_types) / sizeof(provider_types[0]))
		return NULL;
	return &provider_types[index];
}

unsigned provider_kind_capability(enum indicator_kind kind)
{
	switch (kind) {
	case INDICATOR_URL: return CAP_URL;
	case INDICATOR_DOMAIN: return CAP_DOMAIN;
	case INDICATOR_IP: return CAP_IP;
	case INDICATOR_HASH: return CAP_HASH;
	case INDICATOR_EMAIL: return CAP_EMAIL;
	}
	return 0;
}

bool provider_asks(const struct provider_type *t)
{
	return t != NULL && (t->ops.http != NULL || t->ops.dns != NULL || t->ops.job != NULL);
}

bool provider_implemented(const struct provider_type *t)
{
	return provider_asks(t) || (t != NULL && t->actions != NULL);
}

bool provider_supports(const struct provider_type *t, enum indicator_kind kind)
{
	return provider_asks(t) && (t->capabilities & provider_kind_capability(kind)) != 0;
}

bool provider_uploads(const struct provider_type *t)
{
	return provider_asks(t) && (t->capabilities & CAP_UPLOAD) != 0;
}

const struct provider_type *provider_type_default(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(provider_types); i++)
		if (provider_types[i].default_integration_name != NULL)
			return &provider_types[i];
	return NULL;
}

const struct provider_action *provider_action_find(const struct provider_type *t,
						   const char *name)
{
	const struct provider_action *const *actions;

	if (t == NULL || name == NULL)
		return NULL;
	actions = t->actions != NULL ? t->actions : provider_asks(t) ? ping_only : NULL;
	for (size_t i = 0; actions != NULL && actions[i] != NULL; i++)
		if (strcmp(actions[i]->name, name) == 0)
			return actions[i];
	return NULL;
}
