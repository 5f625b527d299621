/* webrisk.c: Google Web Risk v1 uris.search
 * (../shared/providers/google-web-risk.md).
 *
 * One GET {root}/uris:search?threatTypes=...&uri=<URL>&key=KEY per URL
 * (threatTypes repeated, the URL percent-encoded as a query value). A URL
 * reduced to its host (HideURLParameters) is sent as http://<host>/.
 *
 * How an answer becomes a verdict: {"threat":{"threatTypes":[...]}} lists
 * every requested list the URL is on; MALWARE and SOCIAL_ENGINEERING make
 * it malicious, UNWANTED_SOFTWARE suspicious, as for Safe Browsing.
 * `{}` is "not listed" (clean). expireTime bounds the cache. */
#include "providers/provider.h"

#include <limits.h>
#include <string.h>
#include <cjson/cJSON.h>

static char *sent_url(const struct lookup *lookup)
{
	if (lookup->kind == INDICATOR_URL)
		return g_strdup(lookup->indicator);
	if (strchr(lookup->indicator, ':') != NULL)	/* IPv6 literal */
		return g_strdup_printf("http://[%s]/", lookup->indicator);
	return g_strdup_printf("http://%s/", lookup->indicator);
}

static void webrisk_build_request(const struct integration *in,
				  struct lookup *const *batch, size_t n,
				  struct http_request *req)
{
	char root[1024];
	char *url = sent_url(batch[0]);
	char *uri = provider_uri_escape(url);
	char *key = provider_uri_escape(in->api_key ? in->api_key : "");

	(void)n;
	provider_api_root(in, root, sizeof(root));
	g_string_printf(req->url, "%s/uris:search"
			"?threatTypes=MALWARE&threatTypes=SOCIAL_ENGINEERING"
			"&threatTypes=UNWANTED_SOFTWARE&uri=%s&key=%s", root, uri, key);
	http_request_json_headers(req, NULL, NULL);
	g_free(key);
	g_free(uri);
	g_free(url);
}

/* Seconds from now to an RFC 3339 expireTime, at least 1 (an expired
 * listing must not be cached; 0 would mean "no hint"); 0 when the time
 * cannot be read. */
static unsigned seconds_until(const char *stamp)
{
	GDateTime *expire = g_date_time_new_from_iso8601(stamp, NULL);
	GDateTime *now;
	GTimeSpan left;

	if (expire == NULL)
		return 0;
	now = g_date_time_new_now_utc();
	left = g_date_time_difference(expire, now) / G_TIME_SPAN_SECOND;
	g_date_time_unref(now);
	g_date_time_unref(expire);
	if (left < 1)
		return 1;
	return left > UINT_MAX ? UINT_MAX : (unsigned)left;
}

static enum answer_class webrisk_verdict(const struct integration *in,
					 struct lookup *const *batch, size_t n,
					 const cJSON *json)
{
	struct lookup *lookup = batch[0];

	(void)in;
	(void)n;	const cJSON *threat = cJSON_GetObjectItemCaseSensitive(json, "threat");
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(threat, "threatTypes");
	const cJSON *expire = cJSON_GetObjectItemCaseSensitive(threat, "expireTime");
	enum answer_class class = ANSWER_DECIDED;

	if (threat == NULL) {
		/* nothing listed is {} */
		provider_set_result(lookup, LOOKUP_CLEAN, "not listed");
		return ANSWER_DECIDED;
	}
	if (!cJSON_IsObject(threat) || !cJSON_IsArray(types)) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
		return ANSWER_TRANSIENT;
	}

	enum lookup_status worst = LOOKUP_CLEAN;
	GPtrArray *names = g_ptr_array_new();
	const cJSON *type;

	cJSON_ArrayForEach(type, types) {
		enum lookup_status status = cJSON_IsString(type)
			? provider_google_threat_status(type->valuestring) : LOOKUP_ERROR;

		if (status == LOOKUP_ERROR) {
			class = ANSWER_TRANSIENT;
			break;
		}
		if (status < worst)
			worst = status;
		if (!g_ptr_array_find_with_equal_func(names, type->valuestring, g_str_equal, NULL))
			g_ptr_array_add(names, type->valuestring);
	}
	if (class != ANSWER_DECIDED) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
	} else if (names->len == 0) {
		provider_set_result(lookup, LOOKUP_CLEAN, "not listed");
	} else {
		g_ptr_array_add(names, NULL);
		char *joined = g_strjoinv(",", (char **)names->pdata);

		provider_set_result(lookup, worst, "%s", joined);
		lookup->result.ttl_s = cJSON_IsString(expire) ? seconds_until(expire->valuestring) : 0;
		g_free(joined);
	}
	g_ptr_array_free(names, TRUE);
	return class;
}

const struct provider_http_ops webrisk_http = {
	.build_request = webrisk_build_request,
	.error_response = provider_google_failure,
	.json_verdict = webrisk_verdict,
};
