/* virustotal.c: VirusTotal API v3 (../shared/providers/virustotal.md).
 *
 * Lookups: GET /urls/{id} (id = unpadded base64url of the URL),
 * /domains/{domain}, /ip_addresses/{ip}, /files/{hash}; key in the
 * x-apikey header. A hash lookup that carries the file itself is a job
 * instead (upload and analysis polls): virustotal_upload.c.
 *
 * How an answer becomes a verdict, from data.attributes.last_analysis_stats
 * (and an upload's analysis stats, the same way):
 *   malicious engines >= DetectionThreshold          -> malicious
 *   0 < malicious engines < threshold, or suspicious -> suspicious
 *   scanned (last_analysis_date) and an engine said
 *   harmless or undetected, nothing flagged          -> clean
 *   404 NotFoundError, never scanned, or only
 *   timeouts/failures/unsupported type               -> unknown
 *   400 NotAvailableYet (it will exist later)        -> pending (never
 *   cached; a job asks again later, virustotal_upload.c)
 * Details are "malicious/total" over every counter (e.g. "12/93"). */
#include "providers/virustotal.h"

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

void virustotal_object_request(const struct integration *in, const struct lookup *lookup,
			       struct http_request *req)
{
	static const char *const collection[INDICATOR_KINDS] = {
		[INDICATOR_URL] = "urls", [INDICATOR_DOMAIN] = "domains",
		[INDICATOR_IP] = "ip_addresses", [INDICATOR_HASH] = "files",
	};
	char *id = lookup->kind == INDICATOR_URL ? url_identifier(lookup->indicator)
						 : g_strdup(lookup->indicator);

	provider_set_url(req, in, collection[lookup->kind], id);
	g_free(id);
	http_request_json_headers(req, "x-apikey", in->api_key);
}

static void virustotal_build_request(const struct integration *in, struct lookup *const *batch,
				     size_t n, struct http_request *req)
{
	(void)n;
	virustotal_object_request(in, batch[0], req);
}

/* Errors as the v3 error table says (§4 of the reference). */
enum answer_class virustotal_error(const struct integration *in, struct lookup *const *batch,
				   size_t n, const struct http_response *resp)
{
	struct lookup *lookup = batch[0];
	char *envelope_code = NULL, *message = NULL;
	enum answer_class class;

	(void)in;
	provider_error_envelope(resp, &envelope_code, &message);
	const char *code = envelope_code ? envelope_code : "";

	if (resp->status == 404) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "not found");
		class = ANSWER_DECIDED;
	} else if (resp->status == 400 && strcmp(code, "NotAvailableYet") == 0) {
		/* §4 "resource will exist later": being analysed, not an
		 * unknown the cache would keep for an hour */
		provider_set_result(lookup, LOOKUP_PENDING, "not available yet");
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
		class = provider_http_failure(batch, n, resp);
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

enum answer_class virustotal_stats_verdict(const struct integration *in, struct lookup *lookup,
					   const cJSON *stats, bool analysed)
{
	if (!cJSON_IsObject(stats)) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
		return ANSWER_TRANSIENT;
	}

	double total = 0;
	const cJSON *counter;
	cJSON_ArrayForEach(counter, stats)
		if (cJSON_IsNumber(counter))
			total += counter->valuedouble;
	unsigned malicious = counter_or_zero(stats, "malicious");
	unsigned suspicious = counter_or_zero(stats, "suspicious");
	/* engines that looked and found nothing; timeouts, failures and
	 * unsupported types are no clean bill */
	bool looked = counter_or_zero(stats, "harmless") > 0 ||
		      counter_or_zero(stats, "undetected") > 0;
	unsigned threshold = in->detection_threshold > 0 ? in->detection_threshold : 1;
	enum lookup_status status;

	if (malicious >= threshold)
		status = LOOKUP_MALICIOUS;
	else if (malicious > 0 || suspicious > 0)
		status = LOOKUP_SUSPICIOUS;
	else if (analysed && looked)
		status = LOOKUP_CLEAN;
	else
		status = LOOKUP_UNKNOWN;
	provider_set_result(lookup, status, "%u/%.0f", malicious, total);
	return ANSWER_DECIDED;
}

static enum answer_class virustotal_verdict(const struct integration *in,
					    struct lookup *const *batch, size_t n,
					    const cJSON *json)
{
	(void)n;
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(json, "data"), "attributes");

	return virustotal_stats_verdict(in, batch[0],
					cJSON_GetObjectItemCaseSensitive(attrs, "last_analysis_stats"),
					cJSON_GetObjectItemCaseSensitive(attrs, "last_analysis_date") != NULL);
}

const struct provider_http_ops virustotal_http = {
	.build_request = virustotal_build_request,
	.error_response = virustotal_error,
	.json_verdict = virustotal_verdict,
};
