/* virustotal.c: VirusTotal API v3 (../shared/providers/virustotal.md).
 *
 * Lookups: GET /urls/{id} (id = unpadded base64url of the URL),
 * /domains/{domain}, /ip_addresses/{ip}, /files/{hash}; key in the
 * x-apikey header.
 *
 * How an answer becomes a verdict, from data.attributes.last_analysis_stats:
 *   malicious engines >= DetectionThreshold          -> malicious
 *   0 < malicious engines < threshold, or suspicious -> suspicious
 *   scanned (last_analysis_date) and nothing flagged -> clean
 *   404 NotFoundError, or never scanned              -> unknown
 * Details are "malicious/total" over every counter (e.g. "12/93"). */
#include "providers/provider.h"

#include <limits.h>
#include <string.h>
#include <cjson/cJSON.h>

/* VirusTotal's URL identifier: base64url without padding. Standard
 * base64 would put '/' into the path. */
static char *url_identifier(const char *url)
{
	char *id = g_base64_encode((const guchar *)url, strlen(url));

	for (char *c = id; *c; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
		else if (*c == '=') {
			*c = '\0';
			break;
		}
	}
	return id;
}

static void virustotal_build_request(const struct integration *in, struct lookup *const *batch,
				     size_t n, struct http_request *req)
{
	const struct lookup *lookup = batch[0];
	char root[1024];

	(void)n;
	provider_api_root(in, root, sizeof(root));
	switch (lookup->kind) {
	case INDICATOR_URL: {
		char *id = url_identifier(lookup->indicator);
		g_string_printf(req->url, "%s/urls/%s", root, id);
		g_free(id);
		break;
	}
	case INDICATOR_DOMAIN:
		g_string_printf(req->url, "%s/domains/%s", root, lookup->indicator);
		break;
	case INDICATOR_IP:
		g_string_printf(req->url, "%s/ip_addresses/%s", root, lookup->indicator);
		break;
	case INDICATOR_HASH:
		g_string_printf(req->url, "%s/files/%s", root, lookup->indicator);
		break;
	case INDICATOR_EMAIL:	/* not supported: never planned */
		break;
	}
	http_request_json_headers(req, "x-apikey", in->api_key);
}

/* Errors as the v3 error table says (§4 of the reference). */
static enum answer_class virustotal_error(struct lookup *lookup, const struct http_response *resp)
{
	char *envelope_code = NULL, *message = NULL;
	enum answer_class class;

	provider_error_envelope(resp, &envelope_code, &message);
	const char *code = envelope_code ? envelope_code : "";

	if (resp->status == 404) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "not found");
		class = ANSWER_DECIDED;
	} else if (resp->status == 400 && strcmp(code, "NotAvailableYet") == 0) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "not available yet");
		class = ANSWER_DECIDED;
	} else if (resp->status == 429) {
		/* QuotaExceededError (minute, day or month) or TooManyRequestsError */
		provider_set_result(lookup, LOOKUP_RATE_LIMITED, "HTTP 429 %s", *code ? code : "quota");
		class = ANSWER_QUOTA;
	} else if (resp->status == 424) {
		provider_set_result(lookup, LOOKUP_ERROR, "HTTP 424 %s", code);
		class = ANSWER_TRANSIENT;
	} else if (resp->status == 401) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP 401 %s",
			      *code ? code : "credentials refused");
		class = ANSWER_AUTH;
	} else if (resp->status == 403 || resp->status == 400) {
		/* 403 ForbiddenError: this key may not do that */
		provider_fail(lookup, LOOKUP_ERROR,
			      resp->status == 403 ? LOOKUP_ERR_AUTH : LOOKUP_ERR_PROVIDER,
			      "HTTP %ld %s", resp->status, code);
		class = ANSWER_PERMANENT;
	} else {
		struct lookup *one[1] = { lookup };
		class = provider_http_failure(one, 1, resp);
	}
	g_free(envelope_code);
	g_free(message);
	return class;
}

/* An engine counter; 0 unless a number in unsigned range (a cast of a
 * negative or huge double would be undefined behaviour). */
static unsigned counter_or_zero(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(item) || !(item->valuedouble >= 0))
		return 0;
	return item->valuedouble >= UINT_MAX ? UINT_MAX : (unsigned)item->valuedouble;
}

static enum answer_class virustotal_parse_response(const struct integration *in,
						   struct lookup *const *batch, size_t n,
						   const struct http_response *resp)
{
	struct lookup *lookup = batch[0];

	if (resp->status != 200)
		return virustotal_error(lookup, resp);

	cJSON *json = provider_parse_json(batch, n, resp);
	if (json == NULL)
		return ANSWER_TRANSIENT;
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(json, "data"), "attributes");
	const cJSON *stats = cJSON_GetObjectItemCaseSensitive(attrs, "last_analysis_stats");
	if (!cJSON_IsObject(stats)) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
		cJSON_Delete(json);
		return ANSWER_TRANSIENT;
	}

	double total = 0;
	const cJSON *counter;
	cJSON_ArrayForEach(counter, stats)
		if (cJSON_IsNumber(counter))
			total += counter->valuedouble;
	unsigned malicious = counter_or_zero(stats, "malicious");
	unsigned suspicious = counter_or_zero(stats, "suspicious");
	unsigned threshold = in->detection_threshold > 0 ? in->detection_threshold : 1;
	bool scanned = cJSON_GetObjectItemCaseSensitive(attrs, "last_analysis_date") != NULL;
	enum lookup_status status;

	if (malicious >= threshold)
		status = LOOKUP_MALICIOUS;
	else if (malicious > 0 || suspicious > 0)
		status = LOOKUP_SUSPICIOUS;
	else if (scanned && total > 0)
		status = LOOKUP_CLEAN;
	else
		status = LOOKUP_UNKNOWN;
	provider_set_result(lookup, status, "%u/%.0f", malicious, total);
	cJSON_Delete(json);
	return ANSWER_DECIDED;
}

const struct provider_ops virustotal_ops = {
	.max_batch = 1,
	.build_request = virustotal_build_request,
	.parse_response = virustotal_parse_response,
};
