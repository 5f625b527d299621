/* xforce.c: IBM X-Force Exchange (../shared/providers/ibm-xforce.md).
 *
 * Lookups: GET /ipr/{ip}, /url/{URL or domain, wholly percent-encoded},
 * /malware/{hash}; HTTP Basic with APIKey:APIPassword.
 *
 * How an answer becomes a verdict:
 *   IP (score) and URL (result.score), 1..10:
 *     score >= DetectionThreshold (1..10, else 7) -> malicious
 *     score >= 4                                  -> suspicious
 *     lower                                       -> clean
 *     no score                                    -> unknown
 *   hash: X-Force only knows malware, so a 200 is a known sample:
 *     risk high -> malicious, medium or low -> suspicious
 *   404 (any kind)                                -> unknown
 *   402 is the monthly quota: rate_limited, no retry. */
#include "providers/provider.h"

#include <math.h>
#include <string.h>
#include <cjson/cJSON.h>

#define DEFAULT_THRESHOLD 7
#define SUSPICIOUS_SCORE 4

static void xforce_build_request(const struct integration *in,
				 struct lookup *const *batch, size_t n,
				 struct http_request *req)
{
	/* IPs by reputation, URLs and domains by URL, hashes by malware */
	static const char *const collection[INDICATOR_KINDS] = {
		[INDICATOR_URL] = "url", [INDICATOR_DOMAIN] = "url",
		[INDICATOR_IP] = "ipr", [INDICATOR_HASH] = "malware",
	};
	const struct lookup *lookup = batch[0];
	bool is_url = lookup->kind == INDICATOR_URL || lookup->kind == INDICATOR_DOMAIN;
	/* one path segment: ':' '/' '?' '#' must all be encoded */
	char *segment = is_url ? provider_uri_escape(lookup->indicator)
			       : g_strdup(lookup->indicator);

	(void)n;
	provider_set_url(req, in, collection[lookup->kind], segment);
	g_free(segment);
	req->basic_auth = g_strdup_printf("%s:%s", in->api_key ? in->api_key : "",
					  in->api_password ? in->api_password : "");
	http_request_json_headers(req, NULL, NULL);
}

static enum answer_class xforce_error(const struct integration *in,
				      struct lookup *const *batch, size_t n,
				      const struct http_response *resp)
{
	static const struct provider_status_rule rules[] = {
		{ 404, LOOKUP_UNKNOWN, "not found", ANSWER_DECIDED },
		/* Payment Required: the month's quota is used up. Retrying
		 * cannot help; the engine keeps the integration off. */
		{ 402, LOOKUP_RATE_LIMITED, "HTTP 402: monthly quota exhausted", ANSWER_QUOTA },
		/* not in the subscription: a fact about this request, not a
		 * refused key */
		{ 403, LOOKUP_ERROR, "HTTP 403: access denied", ANSWER_PERMANENT },
	};

	(void)in;
	/* a 400's details: X-Force's short {"error": "..."} text */
	return provider_http_error(batch, n, resp, rules, G_N_ELEMENTS(rules));
}

/* "score 8.6", "score 10": one decimal, none when it is zero */
static void set_score(struct lookup *lookup, enum lookup_status status, double score)
{
	char text[G_ASCII_DTOSTR_BUF_SIZE];
	size_t len;

	g_ascii_formatd(text, sizeof(text), "%.1f", score);
	len = strlen(text);
	if (len > 2 && strcmp(text + len - 2, ".0") == 0)
		text[len - 2] = '\0';
	provider_set_result(lookup, status, "score %s", text);
}

static void score_verdict(const struct integration *in, struct lookup *lookup,
			  const cJSON *score)
{
	unsigned threshold = in->detection_threshold >= 1 && in->detection_threshold <= 10
			     ? in->detection_threshold : DEFAULT_THRESHOLD;

	if (!cJSON_IsNumber(score) || !isfinite(score->valuedouble)) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "no score");
		return;
	}
	if (score->valuedouble >= threshold)
		set_score(lookup, LOOKUP_MALICIOUS, score->valuedouble);
	else if (score->valuedouble >= SUSPICIOUS_SCORE)
		set_score(lookup, LOOKUP_SUSPICIOUS, score->valuedouble);
	else
		set_score(lookup, LOOKUP_CLEAN, score->valuedouble);
}

/* The family names of a sample, "a,b", or NULL; `family` may be null or
 * missing, then origins.external.family is the other place to look. */
static char *families(const cJSON *malware)
{
	const cJSON *lists[] = {
		cJSON_GetObjectItemCaseSensitive(malware, "family"),
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(malware, "origins"), "external"),
			"family"),
	};

	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
		const cJSON *name;
		GString *joined = g_string_new(NULL);

		if (cJSON_IsArray(lists[i])) {
			cJSON_ArrayForEach(name, lists[i])
				if (cJSON_IsString(name) && name->valuestring[0] != '\0')
					g_string_append_printf(joined, "%s%s", joined->len ? "," : "",
							       name->valuestring);
		}
		if (joined->len > 0)
			return g_string_free(joined, FALSE);
		g_string_free(joined, TRUE);
	}
	return NULL;
}

static void hash_verdict(struct lookup *lookup, const cJSON *malware)
{
	const cJSON *risk = cJSON_GetObjectItemCaseSensitive(malware, "risk");
	const char *level = cJSON_IsString(risk) ? risk->valuestring : "";
	char *family = families(malware);
	enum lookup_status status;

	if (g_ascii_strcasecmp(level, "high") == 0) {
		status = LOOKUP_MALICIOUS;
		level = "high";
	} else if (g_ascii_strcasecmp(level, "medium") == 0) {
		status = LOOKUP_SUSPICIOUS;
		level = "medium";
	} else if (g_ascii_strcasecmp(level, "low") == 0) {
		status = LOOKUP_SUSPICIOUS;
		level = "low";
	} else {
		/* still a known sample, of a risk we cannot read */
		status = LOOKUP_SUSPICIOUS;
		level = "unknown";
	}
	if (family != NULL)
		provider_set_result(lookup, status, "risk %s (%s)", level, family);
	else
		provider_set_result(lookup, status, "risk %s", level);
	g_free(family);
}

static enum answer_class xforce_verdict(const struct integration *in,
					struct lookup *const *batch, size_t n,
					const cJSON *json)
{
	struct lookup *lookup = batch[0];

	(void)n;
	enum answer_class class = ANSWER_DECIDED;
	switch (lookup->kind) {
	case INDICATOR_IP:
		score_verdict(in, lookup, cJSON_GetObjectItemCaseSensitive(json, "score"));
		break;
	case INDICATOR_URL:
	case INDICATOR_DOMAIN:
		score_verdict(in, lookup, cJSON_GetObjectItemCaseSensitive(
				      cJSON_GetObjectItemCaseSensitive(json, "result"), "score"));
		break;
	case INDICATOR_HASH: {
		const cJSON *malware = cJSON_GetObjectItemCaseSensitive(json, "malware");

		if (cJSON_IsObject(malware)) {
			hash_verdict(lookup, malware);
		} else {
			provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
			class = ANSWER_TRANSIENT;
		}
		break;
	}
	case INDICATOR_EMAIL:	/* not supported: never planned */
		break;
	}
	return class;
}

const struct provider_http_ops xforce_http = {
	.build_request = xforce_build_request,
	.error_response = xforce_error,
	.json_verdict = xforce_verdict,
};
