/* registry.c: the provider types threatmilter knows, with the defaults of
 * the seed's "New integration" form (which toggles start enabled, which
 * API root is filled in).
 *
 * Deviation from the seed, on purpose: the seed's Zen SpamHaus form only
 * has "Sender IP"; threatmilter also asks Spamhaus DBL about the domains
 * of URLs (the same zone family, same key), so URLs starts enabled too. */
#include "providers/registry.h"

#include <stddef.h>
#include <strings.h>

#include "providers/provider.h"

static const struct provider_type provider_types[] = {
	{
		.name = "spamhaus", .display_name = "Zen SpamHaus",
		.default_api_url = "zen.spamhaus.org",
		.capabilities = CAP_IP | CAP_URL | CAP_DOMAIN,
		.default_urls = true, .default_sender_ip = true,
		.ops = &spamhaus_ops,
	},
	{
		.name = "virustotal", .display_name = "VirusTotal",
		.default_api_url = "https://www.virustotal.com/api/v3",
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_IP | CAP_HASH | CAP_UPLOAD,
		.needs_key = true,
		.default_urls = true, .default_attachments = true,
		.default_detection_threshold = 1,
		.default_rate_limit = "4/minute,500/day",	/* a free public key */
		.ops = &virustotal_ops,
	},
	{
		.name = "safebrowsing", .display_name = "Google Safe Browsing",
		.default_api_url = "https://safebrowsing.googleapis.com/v4",
		.capabilities = CAP_URL,
		.needs_key = true,
		.default_urls = true,
		.ops = &safebrowsing_ops,
	},
	{
		.name = "webrisk", .display_name = "Google Web Risk",
		.default_api_url = "https://webrisk.googleapis.com/v1",
		.capabilities = CAP_URL,
		.needs_key = true,
		.default_urls = true,
		.ops = &webrisk_ops,
	},
	{
		.name = "xforce", .display_name = "IBM X-Force",
		.default_api_url = "https://api.xforce.ibmcloud.com",
		.capabilities = CAP_URL | CAP_IP | CAP_HASH,
		.needs_key = true, .needs_password = true,
		.default_urls = true, .default_sender_ip = true, .default_attachments = true,
		/* scores 1..10; the document's (and XSOAR's) line for "malicious" */
		.default_detection_threshold = 7,
		.ops = &xforce_ops,
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
		.ops = &metadefender_ops,
	},
	{
		.name = "vmray", .display_name = "VMRay",
		.default_api_url = "https://cloud.vmray.com",
		.capabilities = CAP_URL | CAP_HASH | CAP_UPLOAD,
		.needs_key = true,
		.default_urls = true, .default_attachments = true,
	},
	{
		.name = "anyrun", .display_name = "ANY.RUN",
		.default_api_url = "https://api.any.run/v1/analysis",
		.capabilities = CAP_URL | CAP_UPLOAD,
		.needs_key = true,
		.default_urls = true,
	},
	{
		.name = "fortisandbox", .display_name = "FortiSandbox",
		.default_api_url = NULL,	/* the admin's appliance */
		.capabilities = CAP_URL | CAP_HASH | CAP_UPLOAD,
		.needs_key = true, .needs_password = true,
		.default_urls = true, .default_attachments = true,
	},
	{
		.name = "cyberxray", .display_name = "Cyber X-Ray",
		.default_api_url = "https://reputation.roksit.com/api/query/",
		.capabilities = CAP_DOMAIN | CAP_URL,
		.needs_key = true,
		.default_urls = true,
	},
	{
		.name = "apivoid", .display_name = "APIVoid",
		.default_api_url = "https://endpoint.apivoid.com",
		.capabilities = CAP_URL | CAP_DOMAIN | CAP_IP,
		.needs_key = true,
	},
	{
		.name = "ironscales", .display_name = "IRONSCALES",
		.default_api_url = "https://members.ironscales.com/",
		.capabilities = 0,	/* admin actions only, no indicator lookups */
		.needs_key = true,
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
