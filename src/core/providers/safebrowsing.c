/* safebrowsing.c: Google Safe Browsing v4 Lookup API
 * (../shared/providers/google-safe-browsing.md).
 *
 * One POST {root}/threatMatches:find?key=KEY asks about up to 500 URLs.
 * A URL reduced to its host (HideURLParameters) is sent as http://<host>/.
 *
 * How an answer becomes a verdict: every match whose threat.url is the
 * string we sent counts for that lookup; MALWARE and SOCIAL_ENGINEERING
 * make it malicious, UNWANTED_SOFTWARE and POTENTIALLY_HARMFUL_APPLICATION
 * suspicious (the worst match wins, details list the threat types). No
 * match is "not listed" (clean): Google does not vouch for URLs, it only
 * says they are not on its lists. `{}` means nothing matched. */
#include <autoconfig.h>
#include "providers/provider.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#include <cjson/cJSON.h>

#define MAX_URLS_PER_REQUEST 500

/* The URL sent for a lookup (g_malloc'd), NULL for kinds we cannot ask. */
static char *sent_url(const struct lookup *lookup)
{
	switch (lookup->kind) {
	case INDICATOR_URL:
		return g_strdup(lookup->indicator);
	case INDICATOR_DOMAIN:
		if (strchr(lookup->indicator, ':') != NULL)	/* IPv6 literal */
			return g_strdup_printf("http://[%s]/", lookup->indicator);
		return g_strdup_printf("http://%s/", lookup->indicator);
	case INDICATOR_IP:
	case INDICATOR_HASH:
	case INDICATOR_EMAIL:
		break;
	}
	return NULL;
}

static cJSON *string_array(const char *const *values, size_t n)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(array, cJSON_CreateString(values[i]));
	return array;
}

static void safebrowsing_build_request(const struct integration *in,
				       struct lookup *const *batch, size_t n,
				       struct http_request *req)
{
	static const char *const threat_types[] = {
		"MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE",
		"POTENTIALLY_HARMFUL_APPLICATION",
	};
	static const char *const platform_types[] = { "ANY_PLATFORM" };
	static const char *const entry_types[] = { "URL" };
	cJSON *body = cJSON_CreateObject();
	cJSON *client = cJSON_AddObjectToObject(body, "client");
	cJSON *info = cJSON_AddObjectToObject(body, "threatInfo");
	cJSON *entries;
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char root[1024];
	char *key = provider_uri_escape(in->api_key ? in->api_key : "");
	char *text;

	cJSON_AddStringToObject(client, "clientId", "threatmilter");
	cJSON_AddStringToObject(client, "clientVersion", PACKAGE_VERSION);
	cJSON_AddItemToObject(info, "threatTypes",
			      string_array(threat_types, G_N_ELEMENTS(threat_types)));
	cJSON_AddItemToObject(info, "platformTypes",
			      string_array(platform_types, G_N_ELEMENTS(platform_types)));
	cJSON_AddItemToObject(info, "threatEntryTypes",
			      string_array(entry_types, G_N_ELEMENTS(entry_types)));
	entries = cJSON_AddArrayToObject(info, "threatEntries");
	for (size_t i = 0; i < n; i++) {
		char *url = sent_url(batch[i]);

		/* a URL and its host form may coincide: ask once */
		if (url == NULL || !g_hash_table_add(seen, url))
			continue;
		cJSON *entry = cJSON_CreateObject();
		cJSON_AddStringToObject(entry, "url", url);
		cJSON_AddItemToArray(entries, entry);
	}
	g_hash_table_destroy(seen);

	/* ":find" belongs to the path (gRPC transcoding): never %3A */
	provider_api_root(in, root, sizeof(root));
	g_string_printf(req->url, "%s/threatMatches:find?key=%s", root, key);
	g_free(key);
	req->method = "POST";
	text = cJSON_PrintUnformatted(body);
	req->body = g_string_new(text);
	cJSON_free(text);
	cJSON_Delete(body);
	g_ptr_array_add(req->headers, g_strdup("Content-Type: application/json"));
	http_request_json_headers(req, NULL, NULL);
}

/* A protobuf Duration, "300s" or "300.000s", in whole seconds (at least
 * 1: a listing must never be cached for longer than Google says, and 0
 * would mean "no hint"). 0 when it is not a duration. */
static unsigned parse_duration(const char *text)
{
	char *end = NULL;
	double seconds = g_ascii_strtod(text, &end);

	if (end == text || strcmp(end, "s") != 0 || !isfinite(seconds) || seconds < 0)
		return 0;
	if (seconds >= UINT_MAX)
		return UINT_MAX;
	return seconds < 1 ? 1 : (unsigned)seconds;
}

/* What the matches say about one URL. */
struct listing {
	enum lookup_status worst;
	GString *types;		/* threat types, first seen first, no repeats */
	unsigned ttl_s;		/* the shortest cacheDuration, 0 = none */
};

static void listing_free(gpointer data)
{
	struct listing *listing = data;

	g_string_free(listing->types, TRUE);
	g_free(listing);
}

static bool has_type(const GString *types, const char *type)
{
	gchar **list = g_strsplit(types->str, ",", -1);
	bool found = g_strv_contains((const gchar *const *)list, type);

	g_strfreev(list);
	return found;
}

/* Folds one element of matches[] into the table; false when it is not a
 * match we can read (then nothing in the answer can be trusted). */
static bool add_match(GHashTable *listings, const cJSON *match)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(match, "threatType");
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(match, "threat"), "url");
	const cJSON *duration = cJSON_GetObjectItemCaseSensitive(match, "cacheDuration");
	struct listing *listing;

	if (!cJSON_IsString(type) || !cJSON_IsString(url))
		return false;
	enum lookup_status status = provider_google_threat_status(type->valuestring);
	if (status == LOOKUP_ERROR)
		return false;
	listing = g_hash_table_lookup(listings, url->valuestring);
	if (listing == NULL) {
		listing = g_new0(struct listing, 1);
		listing->worst = LOOKUP_CLEAN;
		listing->types = g_string_new(NULL);
		g_hash_table_insert(listings, g_strdup(url->valuestring), listing);
	}
	if (status < listing->worst)
		listing->worst = status;
	if (!has_type(listing->types, type->valuestring))
		g_string_append_printf(listing->types, "%s%s", listing->types->len ? "," : "",
				       type->valuestring);
	if (cJSON_IsString(duration)) {
		unsigned ttl = parse_duration(duration->valuestring);

		if (ttl > 0 && (listing->ttl_s == 0 || ttl < listing->ttl_s))
			listing->ttl_s = ttl;
	}
	return true;
}

static enum answer_class safebrowsing_verdict(const struct integration *in,
					      struct lookup *const *batch, size_t n,
					      const cJSON *json)
{
	(void)in;
	/* nothing listed is {}: no "matches" at all */
	const cJSON *matches = cJSON_GetObjectItemCaseSensitive(json, "matches");
	GHashTable *listings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, listing_free);
	const cJSON *match;
	bool readable = matches == NULL || cJSON_IsArray(matches);

	if (cJSON_IsArray(matches)) {
		cJSON_ArrayForEach(match, matches) {
			if (!add_match(listings, match)) {
				readable = false;
				break;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		char *url = sent_url(batch[i]);
		const struct listing *listing = url ? g_hash_table_lookup(listings, url) : NULL;

		if (url == NULL)
			provider_set_result(batch[i], LOOKUP_SKIPPED, "not supported");
		else if (!readable)
			provider_fail(batch[i], LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
		else if (listing == NULL)
			provider_set_result(batch[i], LOOKUP_CLEAN, "not listed");
		else {
			provider_set_result(batch[i], listing->worst, "%s", listing->types->str);
			batch[i]->result.ttl_s = listing->ttl_s;
		}
		g_free(url);
	}
	g_hash_table_destroy(listings);
	return readable ? ANSWER_DECIDED : ANSWER_TRANSIENT;
}

const struct provider_http_ops safebrowsing_http = {
	.max_batch = MAX_URLS_PER_REQUEST,
	.build_request = safebrowsing_build_request,
	.error_response = provider_google_failure,
	.json_verdict = safebrowsing_verdict,
};
