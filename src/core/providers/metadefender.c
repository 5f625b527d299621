/* metadefender.c: OPSWAT MetaDefender Cloud API v4
 * (../shared/providers/opswat-metadefender.md).
 *
 * Lookups: GET /hash/{hash}, /ip/{ip}, /url/{URL, wholly percent-encoded},
 * /domain/{fqdn}; the key in an `apikey` header. Uploads (POST /file, then
 * polling) are not made: an inline milter cannot wait minutes, and the
 * submit-and-poll job interface they need does not exist yet.
 *
 * How an answer becomes a verdict:
 *   hash: scan_results.scan_all_result_i, OPSWAT's code table:
 *     1 infected, 8 block-listed                       -> malicious
 *     2 suspicious, 4 cleaned, 22 PUA                  -> suspicious
 *     0 no threat, 7 allow-listed                      -> clean
 *     anything else (failed, not scanned, archive
 *     trouble, 255 in progress, ...)                   -> unknown
 *     details "Infected 31/38" (scan_all_result_a, detected / engines)
 *   IP, URL, domain: lookup_results.detected_by, the reputation sources
 *   that list it:
 *     >= DetectionThreshold (else 3)                   -> malicious
 *     1 .. threshold-1                                 -> suspicious
 *     0                                                -> clean, or
 *     unknown when no source has an entry (status 5 everywhere)
 *   404 (hash not found), and Core's 200 {"<HASH>": "Not Found"} -> unknown
 *   401 key refused; 403 not in the licence (that request only); 429 the
 *   quota of that API family. */
#include "providers/provider.h"

#include <string.h>
#include <cjson/cJSON.h>

/* The cut-off OPSWAT's documentation and TheHive's analyzer use. */
#define DEFAULT_THRESHOLD 3
/* lookup_results.sources[].status: the source has no entry for it */
#define SOURCE_NO_ENTRY 5

static void metadefender_build_request(const struct integration *in,
				       struct lookup *const *batch, size_t n,
				       struct http_request *req)
{
	static const char *const endpoint[] = {
		[INDICATOR_URL] = "url", [INDICATOR_DOMAIN] = "domain",
		[INDICATOR_IP] = "ip", [INDICATOR_HASH] = "hash",
	};
	const struct lookup *lookup = batch[0];
	/* one path segment: a URL's ':' '/' '?' '#' must all be encoded */
	char *segment = provider_uri_escape(lookup->indicator);

	(void)n;
	provider_set_url(req, in, endpoint[lookup->kind], segment);
	g_free(segment);
	http_request_json_headers(req, "apikey", in->api_key);
}

static enum answer_class metadefender_error(const struct integration *in,
					    struct lookup *const *batch, size_t n,
					    const struct http_response *resp)
{
	struct lookup *lookup = batch[0];
	enum answer_class class;
	char *code = NULL, *text = NULL;

	(void)in;
	switch (resp->status) {
	case 404:
		provider_set_result(lookup, LOOKUP_UNKNOWN, "not found");
		return ANSWER_DECIDED;
	case 403:
		/* the endpoint is not in this key's licence: a fact about the
		 * request, not a refused key */
		provider_set_result(lookup, LOOKUP_ERROR, "HTTP 403: not in the licence");
		return ANSWER_PERMANENT;
	case 429:
		provider_set_result(lookup, LOOKUP_RATE_LIMITED, "HTTP 429: API limit reached");
		return ANSWER_QUOTA;
	default:
		break;
	}
	class = provider_http_failure(batch, n, resp);
	/* {"error":{"code":..,"messages":["..."]}}: the first message */
	if (resp->status == 400 && provider_error_envelope(resp, &code, &text) && text != NULL)
		provider_fail(lookup, lookup->result.status, lookup->result.error, "HTTP 400: %.120s",
			      text);
	g_free(code);
	g_free(text);
	return class;
}

static enum lookup_status file_status(int code)
{
	switch (code) {
	case 1: case 8:
		return LOOKUP_MALICIOUS;
	case 2: case 4: case 22:
		return LOOKUP_SUSPICIOUS;
	case 0: case 7:
		return LOOKUP_CLEAN;
	default:
		return LOOKUP_UNKNOWN;
	}
}

static int int_item(const cJSON *object, const char *name, int fallback)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	return cJSON_IsNumber(item) ? item->valueint : fallback;
}

static enum answer_class hash_verdict(struct lookup *lookup, const cJSON *json)
{
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(json, "scan_results");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(results, "scan_all_result_i");

	if (!cJSON_IsNumber(code)) {
		/* MetaDefender Core (and API v2/v3) say "not found" this way */
		const cJSON *only = json->child;

		if (only != NULL && only->next == NULL && cJSON_IsString(only) &&
		    g_ascii_strcasecmp(only->valuestring, "Not Found") == 0) {
			provider_set_result(lookup, LOOKUP_UNKNOWN, "not found");
			return ANSWER_DECIDED;
		}
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
		return ANSWER_TRANSIENT;
	}
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(results, "scan_all_result_a");
	char *text = cJSON_IsString(name) ? provider_printable(name->valuestring, 60) : NULL;
	int detected = int_item(results, "total_detected_avs", -1);
	int engines = int_item(results, "total_avs", -1);

	if (text == NULL)
		text = g_strdup_printf("result %d", code->valueint);
	if (detected >= 0 && engines > 0)
		provider_set_result(lookup, file_status(code->valueint), "%s %d/%d", text, detected,
				    engines);
	else
		provider_set_result(lookup, file_status(code->valueint), "%s", text);
	g_free(text);
	return ANSWER_DECIDED;
}

static enum answer_class reputation_verdict(const struct integration *in, struct lookup *lookup,
					    const cJSON *json)
{
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(json, "lookup_results");
	const cJSON *detected = cJSON_GetObjectItemCaseSensitive(results, "detected_by");
	const cJSON *sources = cJSON_GetObjectItemCaseSensitive(results, "sources");
	unsigned threshold = in->detection_threshold > 0 ? in->detection_threshold
							 : DEFAULT_THRESHOLD;
	const cJSON *source;
	int with_entry = 0;

	if (!cJSON_IsNumber(detected) || detected->valuedouble < 0) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
		return ANSWER_TRANSIENT;
	}
	cJSON_ArrayForEach(source, sources)
		if (int_item(source, "status", SOURCE_NO_ENTRY) != SOURCE_NO_ENTRY)
			with_entry++;
	int count = detected->valueint;
	if (count >= (int)threshold)
		provider_set_result(lookup, LOOKUP_MALICIOUS, "detected by %d", count);
	else if (count > 0)
		provider_set_result(lookup, LOOKUP_SUSPICIOUS, "detected by %d", count);
	else if (with_entry > 0)
		provider_set_result(lookup, LOOKUP_CLEAN, "detected by 0 of %d", with_entry);
	else
		provider_set_result(lookup, LOOKUP_UNKNOWN, "no source knows it");
	return ANSWER_DECIDED;
}

static enum answer_class metadefender_verdict(const struct integration *in,
					      struct lookup *const *batch, size_t n,
					      const cJSON *json)
{
	(void)n;
	if (batch[0]->kind == INDICATOR_HASH)
		return hash_verdict(batch[0], json);
	return reputation_verdict(in, batch[0], json);
}

const struct provider_ops metadefender_ops = {
	.max_batch = 1,
	.build_request = metadefender_build_request,
	.parse_response = provider_json_response,
	.error_response = metadefender_error,
	.json_verdict = metadefender_verdict,
};
