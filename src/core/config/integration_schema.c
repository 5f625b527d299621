/* integration_schema.c: the keys of an integration file, one row each
 * (see integration_schema.h), and the parse/format/default of every
 * value type. */
#include "config/integration_schema.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "config/values.h"
#include "providers/registry.h"

#define OFF(field) offsetof(struct integration, field)
#define SECOND 1000ULL
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define MIB (1024ULL * 1024)
#define NUMBER_MAX 100000000ULL

static const char *const api_version_names[] = {
	[API_VERSION_AUTO] = "auto", [API_VERSION_V1] = "v1", [API_VERSION_V2] = "v2",
};

const char *const integration_privacy_names[] = {
	[PRIVACY_OWNER] = "owner", [PRIVACY_BYTEAM] = "byteam",
	[PRIVACY_BYLINK] = "bylink", [PRIVACY_PUBLIC] = "public",
};
#define PRIVACY_NAMES (PRIVACY_PUBLIC + 1)

/* Keep the order: it is the order of a new file and of the man page. */
static const struct integration_key schema[] = {
	{ "Name", IKEY_NAME, OFF(name), NULL, 0, 0, NULL, 0, 0, NULL,
	  IKEY_INSTANCE | IKEY_ALWAYS_WRITTEN | IKEY_REQUIRED,
	  "name of the integration, unique; letters, digits, '.', '_' and '-' (at most 64)" },
	{ "Type", IKEY_TYPE, OFF(type), NULL, 0, 0, NULL, 0, 0, NULL,
	  IKEY_INSTANCE | IKEY_ALWAYS_WRITTEN | IKEY_REQUIRED,
	  "provider type (see PROVIDER TYPES)" },
	{ "Description", IKEY_TEXT, OFF(description), NULL, 0, 0, NULL, 0, 0, NULL,
	  IKEY_INSTANCE, "free text shown by threatmilterctl" },
	{ "APIURL", IKEY_TEXT, OFF(api_url), NULL, 0, 0, NULL, 0, 0, NULL,
	  IKEY_ALWAYS_WRITTEN,
	  "API root of the provider (for spamhaus: the DNS zone); the default depends on the "
	  "type, FortiSandbox has none (the appliance's address)" },
	{ "APIKey", IKEY_SECRET, OFF(api_key), NULL, 0, 0, NULL, 0, 0, NULL,
	  IKEY_INSTANCE | IKEY_SECRET_VALUE,
	  "the API key (FortiSandbox: the user name, or the login token when APIPassword is not "
	  "given; Spamhaus: an optional DQS key); "
	  "required for an active integration of a type that needs one" },
	{ "APIKeyFile", IKEY_KEY_FILE, OFF(api_key_file), NULL, 0, 0, NULL, 0, 0, NULL,
	  IKEY_INSTANCE,
	  "file holding the API key instead of APIKey (relative to the integration file); "
	  "keep it mode 0640 root:threatmilter, a file others can read is warned about" },
	{ "APIPassword", IKEY_SECRET, OFF(api_password), NULL, 0, 0, NULL, 0, 0,
	  "xforce,fortisandbox", IKEY_INSTANCE | IKEY_SECRET_VALUE,
	  "the API password (IBM X-Force) or the user's password (FortiSandbox)" },
	{ "APIVersion", IKEY_ENUM, OFF(api_version), "auto", 0, 0, api_version_names,
	  G_N_ELEMENTS(api_version_names), 0, "apivoid", 0,
	  "auto, v1 or v2: which API generation to speak; auto chooses by APIURL" },
	/* ../shared/providers/anyrun.md §3.1: opt_privacy_type */
	{ "Privacy", IKEY_ENUM, OFF(privacy), "owner", 0, 0, integration_privacy_names,
	  PRIVACY_NAMES, 0, "anyrun", 0,
	  "who may see a submitted task: owner (default) or byteam; bylink (anyone with the "
	  "link) and public publish the customer's mail and are warned about" },
	/* ../shared/providers/ironscales.md §2: "Company ID", "Is Partner" */
	{ "CompanyID", IKEY_TEXT, OFF(company_id), NULL, 0, 0, NULL, 0, 0, "ironscales",
	  IKEY_INSTANCE,
	  "the company id of the API token (the seed's Company ID; for a partner, the managed "
	  "company's id), digits; required for an active IRONSCALES integration" },
	{ "IsPartner", IKEY_BOOL, OFF(is_partner), "no", 0, 0, NULL, 0, 0, "ironscales", 0,
	  "the token is a partner's (the seed's Is Partner): ask for the partner scopes; the "
	  "paths keep CompanyID" },
	{ "Tags", IKEY_TAGS, OFF(tags), NULL, 0, 0, NULL, 0, 0, NULL, IKEY_INSTANCE,
	  "comma separated labels to filter integrations by (threatmilterctl --tag)" },
	{ "Proxy", IKEY_PROXY, OFF(proxy), "default", 0, 0, NULL, 0, 0, NULL, 0,
	  "proxy URL for this integration's requests (http://host:port, socks5h://...); "
	  "default: none" },
	{ "URLs", IKEY_BOOL, OFF(urls), NULL, 0, 0, NULL, 0, CAP_URL | CAP_DOMAIN, NULL,
	  IKEY_TOGGLE | IKEY_ALWAYS_WRITTEN,
	  "look up the URLs (or their domains) of a message; default per type, yes where the "
	  "type can" },
	{ "HideURLParameters", IKEY_BOOL, OFF(hide_url_parameters), "no", 0, 0, NULL, 0,
	  CAP_URL, NULL, IKEY_TOGGLE,
	  "send only the domain of each URL, never its path or parameters" },
	{ "Domains", IKEY_BOOL, OFF(domains), "yes", 0, 0, NULL, 0, 0, "apivoid", IKEY_TOGGLE,
	  "also look up the host of each URL as a domain (APIVoid domain reputation, 1 credit), "
	  "besides the URL itself when URLs is on" },
	{ "EmailAddresses", IKEY_BOOL, OFF(email_addresses), "yes", 0, 0, NULL, 0, CAP_EMAIL,
	  NULL, IKEY_TOGGLE,
	  "look up the From: and Reply-To: addresses of a message (APIVoid e-mail verification)" },
	{ "SenderIP", IKEY_BOOL, OFF(sender_ip), NULL, 0, 0, NULL, 0, CAP_IP, NULL,
	  IKEY_TOGGLE | IKEY_ALWAYS_WRITTEN,
	  "look up the sending server's address; default per type" },
	{ "Attachments", IKEY_BOOL, OFF(attachments), NULL, 0, 0, NULL, 0,
	  CAP_HASH | CAP_UPLOAD, NULL, IKEY_TOGGLE | IKEY_ALWAYS_WRITTEN,
	  "look up attachments by hash (sandboxes: submit them); default per type, off for "
	  "ANY.RUN and OPSWAT as in the seed's form" },
	{ "UploadPEFiles", IKEY_BOOL, OFF(upload_pe_files), "no", 0, 0, NULL, 0, CAP_UPLOAD,
	  NULL, IKEY_TOGGLE,
	  "upload Windows executables the provider does not know (sends message content)" },
	{ "UploadOtherFiles", IKEY_BOOL, OFF(upload_other_files), "no", 0, 0, NULL, 0,
	  CAP_UPLOAD, NULL, IKEY_TOGGLE,
	  "upload other attachments the provider does not know (sends message content)" },
	{ "SubmitURLs", IKEY_BOOL, OFF(submit_urls), "no", 0, 0, NULL, 0, 0, "fortisandbox",
	  IKEY_TOGGLE,
	  "submit URLs the appliance has not rated yet for analysis (the message gets pending, "
	  "a later one the verdict); off: URL ratings only" },
	{ "Status", IKEY_STATUS, OFF(active), "active", 0, 0, NULL, 0, 0, NULL,
	  IKEY_INSTANCE | IKEY_ALWAYS_WRITTEN,
	  "active or inactive; an inactive integration is read and checked but never asked" },
	{ "DetectionThreshold", IKEY_UINT, OFF(detection_threshold), NULL, 0, NUMBER_MAX, NULL,
	  0, 0, NULL, 0,
	  "detections (engines, sources) or score at which an answer counts as malicious; "
	  "default per type (VirusTotal 1, X-Force 7 on its 1-10 scale, OPSWAT 3, others 0 = "
	  "the type's own rule)" },
	{ "MaliciousThreshold", IKEY_UINT, OFF(malicious_threshold), "0", 0, NUMBER_MAX, NULL,
	  0, 0, "apivoid,cyberxray", 0,
	  "second, higher threshold: at or above it malicious, between DetectionThreshold and "
	  "it suspicious; 0 = the type's own rule" },
	{ "Cache", IKEY_BOOL, OFF(cache), "yes", 0, 0, NULL, 0, 0, NULL, 0,
	  "remember answers to save API quota" },
	{ "CacheHours", IKEY_UINT, OFF(cache_hours), "24", 0, NUMBER_MAX, NULL, 0, 0, NULL, 0,
	  "hours an answer is reused (the seed's X hours); Spamhaus 1" },
	{ "CacheMaxHits", IKEY_UINT, OFF(cache_max_hits), "100", 0, NUMBER_MAX, NULL, 0, 0, NULL,
	  0, "times an answer is reused before it is asked again (the seed's Y times)" },
	{ "CacheMaxEntries", IKEY_UINT, OFF(cache_max_entries), "100000", 0, NUMBER_MAX, NULL,
	  0, 0, NULL, 0, "answers kept for this integration; the oldest go first" },
	{ "VerifySSL", IKEY_BOOL, OFF(verify_ssl), "yes", 0, 0, NULL, 0, 0, NULL, 0,
	  "check the provider's TLS certificate and host name" },
	{ "Timeout", IKEY_DURATION, OFF(timeout_ms), "5s", 1, 10 * MINUTE, NULL, 0, 0, NULL, 0,
	  "longest wait for one answer (1ms to 10m), within ScanDeadline" },
	{ "MaxInFlight", IKEY_UINT, OFF(max_in_flight), "16", 1, NUMBER_MAX, NULL, 0, 0, NULL, 0,
	  "requests open at once; more wait their turn" },
	{ "RateLimit", IKEY_RATE_LIMIT, OFF(rate_limit), NULL, 0, 0, NULL, 0, 0, NULL, 0,
	  "requests allowed, N/second, N/minute, N/hour or N/day, comma separated, or none; "
	  "VirusTotal defaults to a free key's 4/minute,500/day" },
	{ "DNSServers", IKEY_DNS_SERVERS, OFF(dns_servers), NULL, 0, 0, NULL, 0, 0, "spamhaus",
	  0, "resolvers to ask, IP[:port] comma separated; default: /etc/resolv.conf" },
	{ "SandboxWait", IKEY_DURATION, OFF(sandbox_wait_ms), "0", 0, HOUR, NULL, 0, CAP_UPLOAD,
	  NULL, 0,
	  "how long a message may wait for a submitted file's verdict once submitted; 0 = do "
	  "not wait for the analysis (the message gets pending, a later one the cached "
	  "verdict; the upload itself counts against ScanDeadline)" },
	{ "JobTimeout", IKEY_DURATION, OFF(job_timeout_ms), "10m", SECOND, 24 * HOUR, NULL, 0,
	  CAP_UPLOAD, NULL, 0,
	  "a submission that has not finished by then ends as an error, never clean" },
	/* the engine's poll schedule of every upload type starts here
	 * (engine/jobs.c); 15s is ANY.RUN's (anyrun.md §4: every 10-15 s),
	 * the other types' defaults are in type_defaults below */
	{ "PollInterval", IKEY_DURATION, OFF(poll_interval_ms), "15s", SECOND, HOUR, NULL, 0,
	  CAP_UPLOAD, NULL, 0,
	  "first pause between two questions about a submission, doubled after each up to "
	  "the type's cap (never below PollInterval itself); FortiSandbox 30s, OPSWAT 5s, "
	  "VMRay 5s, VirusTotal 1m" },
	{ "MaxUploadSize", IKEY_SIZE, OFF(max_upload_size), "32M", 1, 1024 * MIB, NULL, 0,
	  CAP_UPLOAD, NULL, 0,
	  "larger attachments are never uploaded (the log says so); FortiSandbox 19M" },
	{ "Created", IKEY_TEXT, OFF(created), NULL, 0, 0, NULL, 0, 0, NULL, IKEY_INSTANCE,
	  "creation date, ISO 8601 (the page's Date Created; threatmilterctl sets it)" },
};

/* Defaults that are a fact of one provider type and not in the registry's
 * form defaults (the provider documents under ../shared/providers/). */
static const struct {
	const char *type, *key, *value;
} type_defaults[] = {
	/* fortisandbox.md §3.3: the JSON upload takes files < 20 MB, whether
	 * MB is 10^6 or 2^20 bytes (fortisandbox.h FSA_JSON_UPLOAD_MAX) */
	{ "fortisandbox", "MaxUploadSize", "19M" },
	{ "fortisandbox", "PollInterval", "30s" },	/* fortisandbox.md §4: XSOAR polls every 30 s */
	{ "metadefender", "PollInterval", "5s" },	/* opswat-metadefender.md §4: every 2-10 s */
	/* the seed: ANY.RUN's Attachments toggle itself means "upload the
	 * original file" (it has no hash lookup, anyrun.md §1) and is off by
	 * default; once turned on, both kinds of file go */
	{ "anyrun", "UploadPEFiles", "yes" },
	{ "anyrun", "UploadOtherFiles", "yes" },
	{ "vmray", "PollInterval", "5s" },		/* vmray.md §4: VMRay's kit polls every 5 s */
	/* virustotal.md §3.5: POST /files to 32 MB, above through
	 * /files/upload_url to 650 MB; §4: every poll costs one of a free
	 * key's 4 requests a minute */
	{ "virustotal", "MaxUploadSize", "650M" },
	{ "virustotal", "PollInterval", "1m" },
	/* spamhaus-zen.md, answers: "TTLs are short (60 s to some minutes);
	 * cache <= TTL". A day-old "not listed" misses a fresh listing. */
	{ "spamhaus", "CacheHours", "1" },
};

const struct integration_key *integration_schema_at(unsigned index)
{
	return index < G_N_ELEMENTS(schema) ? &schema[index] : NULL;
}

const struct integration_key *integration_schema_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < G_N_ELEMENTS(schema); i++)
		if (g_ascii_strcasecmp(schema[i].name, name) == 0)
			return &schema[i];
	return NULL;
}

static bool in_list(const char *list, const char *word)
{
	gchar **items = g_strsplit(list, ",", -1);
	bool found = g_strv_contains((const gchar *const *)items, word);

	g_strfreev(items);
	return found;
}

bool integration_key_applies(const struct integration_key *key, const struct provider_type *type)
{
	if (type == NULL)
		return true;
	if (key->types != NULL)
		return in_list(key->types, type->name);
	return key->caps == 0 || (type->capabilities & key->caps) != 0;
}

char *integration_key_default(const struct integration_key *key, const struct provider_type *type)
{
	for (size_t i = 0; type != NULL && i < G_N_ELEMENTS(type_defaults); i++)
		if (strcmp(type_defaults[i].type, type->name) == 0 &&
		    strcmp(type_defaults[i].key, key->name) == 0)
			return g_strdup(type_defaults[i].value);
	/* a toggle on by default is on only for the types that can use it */
	if (type != NULL && (key->flags & IKEY_TOGGLE) && key->default_text != NULL &&
	    !integration_key_applies(key, type))
		return g_strdup("no");
	if (type != NULL) {
		/* the seed's form defaults, held by the registry */
		if (key->offset == OFF(api_url))
			return g_strdup(type->default_api_url);
		if (key->offset == OFF(urls))
			return g_strdup(value_format_bool(type->default_urls));
		if (key->offset == OFF(sender_ip))
			return g_strdup(value_format_bool(type->default_sender_ip));
		if (key->offset == OFF(attachments))
			return g_strdup(value_format_bool(type->default_attachments));
		if (key->offset == OFF(detection_threshold))
			return g_strdup_printf("%u", type->default_detection_threshold);
		if (key->offset == OFF(rate_limit))
			return g_strdup(type->default_rate_limit ? type->default_rate_limit : "none");
	}
	return g_strdup(key->default_text);
}

/* ------------------------------------------------------------ secrets */

char *secret_mask(const char *secret)
{
	size_t len;

	if (secret == NULL)
		return NULL;
	len = strlen(secret);
	if (len < 12)
		return g_strdup("****");
	return g_strdup_printf("****%s", secret + len - 4);
}

void secret_free(char *secret)
{
	if (secret != NULL) {
		memset(secret, 0, strlen(secret));
		g_free(secret);
	}
}

bool secret_is_placeholder(const char *secret)
{
	static const char *const words[] = { "changeme", "change-me", "change_me", "replace",
					     "your-", "your_", "yourapikey", "placeholder" };
	char *lower;
	bool found = false;

	if (secret == NULL || *secret == '\0')
		return false;
	if (secret[0] == '<' || strspn(secret, "xX*.") == strlen(secret))
		return true;
	lower = g_ascii_strdown(secret, -1);
	for (size_t i = 0; i < G_N_ELEMENTS(words) && !found; i++)
		found = strstr(lower, words[i]) != NULL;
	g_free(lower);
	return found;
}
