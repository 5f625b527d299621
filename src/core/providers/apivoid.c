/* apivoid.c: APIVoid in the mail path (../shared/providers/apivoid.md):
 * the sender IP (IP reputation), URLs (URL reputation), the hosts of
 * URLs (domain reputation) and the From:/Reply-To: addresses (e-mail
 * verification). Requests and answers: apivoid_client.c.
 *
 * The milter's verdict rules (README "APIVoid", threatmilter.conf(5)):
 *   IP, domain: blacklist detections D, T = DetectionThreshold (at least
 *     1), M = MaliciousThreshold (0: 3; never below T):
 *       D >= M -> malicious, D >= T -> suspicious, else clean.
 *     "At or above", as the seed's text says ("gleich oder höher"), not
 *     the SecOps code's strict ">" (apivoid.md §1 item 1).
 *   URL: risk_score.result R on APIVoid's 0..100 scale, fixed bands
 *     because the thresholds above count engines:
 *       R >= 90 -> malicious, R >= 70 -> suspicious, else clean;
 *     and the URL report's domain_blacklist.detections by the IP/domain
 *     rule; the worse of the two.
 *   e-mail: should_block or disposable -> malicious, suspicious_domain
 *     -> suspicious, else clean (the score is not used: §1 item 4).
 *   An empty report is unknown; every error is error/rate_limited,
 *   never a verdict. */
#include "providers/apivoid.h"

#include <string.h>
#include <cjson/cJSON.h>

#define MALICIOUS_DETECTIONS 3	/* MaliciousThreshold 0 */

static enum apivoid_call call_of(const struct lookup *lookup)
{
	switch (lookup->kind) {
	case INDICATOR_IP:
		return strcmp(lookup->indicator, APIVOID_TEST_INDICATOR) == 0 ? APIVOID_STATS
									      : APIVOID_IP;
	case INDICATOR_DOMAIN: return APIVOID_DOMAIN;
	case INDICATOR_URL: return APIVOID_URL;
	case INDICATOR_EMAIL: return APIVOID_EMAIL;
	case INDICATOR_HASH: break;	/* not in the capability table */
	}
	return APIVOID_IP;
}

static void apivoid_build_request(const struct integration *in, struct lookup *const *batch,
				  size_t n, struct http_request *req)
{
	(void)n;
	apivoid_build(in, call_of(batch[0]), batch[0]->indicator, req);
}

static enum lookup_status by_detections(const struct integration *in, long detections)
{
	unsigned t = in->detection_threshold > 0 ? in->detection_threshold : 1;
	unsigned m = in->malicious_threshold > 0 ? in->malicious_threshold : MALICIOUS_DETECTIONS;

	if (m < t)
		m = t;
	if (detections >= (long)m)
		return LOOKUP_MALICIOUS;
	return detections >= (long)t ? LOOKUP_SUSPICIOUS : LOOKUP_CLEAN;
}

static bool flag(const cJSON *report, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(report, name);

	return cJSON_IsTrue(item) || (cJSON_IsNumber(item) && item->valuedouble != 0);
}

static void email_verdict(struct lookup *lookup, const cJSON *report)
{
	if (flag(report, "should_block") || flag(report, "disposable"))
		provider_set_result(lookup, LOOKUP_MALICIOUS, "%s",
				    flag(report, "disposable") ? "disposable" : "should_block");
	else if (flag(report, "suspicious_domain"))
		provider_set_result(lookup, LOOKUP_SUSPICIOUS, "suspicious_domain");
	else if (cJSON_GetObjectItemCaseSensitive(report, "should_block") != NULL)
		provider_set_result(lookup, LOOKUP_CLEAN, "verified");
	else
		provider_set_result(lookup, LOOKUP_UNKNOWN, "no verdict fields");
}

static void url_verdict(const struct integration *in, struct lookup *lookup, const cJSON *report)
{
	long risk = apivoid_risk_score(report);
	long detections = apivoid_detections(report, APIVOID_URL);
	enum lookup_status status = LOOKUP_UNKNOWN, by_list;

	if (risk >= 0)
		status = risk >= APIVOID_URL_RISK_MALICIOUS ? LOOKUP_MALICIOUS
		       : risk >= APIVOID_URL_RISK_SUSPICIOUS ? LOOKUP_SUSPICIOUS : LOOKUP_CLEAN;
	if (detections >= 0) {
		by_list = by_detections(in, detections);
		if (by_list < status)	/* enum order: worst first */
			status = by_list;
	}
	if (status == LOOKUP_UNKNOWN)
		provider_set_result(lookup, status, "no risk score");
	else
		provider_set_result(lookup, status, "risk %ld, %ld detections", risk < 0 ? 0 : risk,
				    detections < 0 ? 0 : detections);
}

static void reputation_verdict(const struct integration *in, struct lookup *lookup,
			       enum apivoid_call call, const cJSON *report)
{
	long detections = apivoid_detections(report, call);
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(report, "blacklists"), "engines_count");
	long engines = cJSON_IsNumber(count) && count->valuedouble >= 0 &&
		       count->valuedouble < 1e9 ? (long)count->valuedouble : 0;

	if (detections < 0) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "no blacklist report");
		return;
	}
	provider_set_result(lookup, by_detections(in, detections), "%ld/%ld", detections,
			    engines >= detections ? engines : detections);
}

static enum answer_class apivoid_parse(const struct integration *in, struct lookup *const *batch,
				       size_t n, const struct http_response *resp)
{
	struct lookup *lookup = batch[0];
	enum apivoid_call call = call_of(lookup);
	struct apivoid_answer ans;
	enum answer_class class;

	(void)n;
	apivoid_read(in, call, resp, &ans);
	class = ans.class;
	if (class != ANSWER_DECIDED) {
		provider_fail(lookup, class == ANSWER_QUOTA ? LOOKUP_RATE_LIMITED : LOOKUP_ERROR,
			      ans.error, "%s", ans.message);
	} else if (call == APIVOID_STATS) {
		/* Test Connection: the account answered */
		if (ans.credits >= 0)
			provider_set_result(lookup, LOOKUP_CLEAN, "credits_remained %.2f", ans.credits);
		else
			provider_set_result(lookup, LOOKUP_CLEAN, "key accepted");
	} else if (ans.report == NULL) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "not found");
	} else if (call == APIVOID_EMAIL) {
		email_verdict(lookup, ans.report);
	} else if (call == APIVOID_URL) {
		url_verdict(in, lookup, ans.report);
	} else {
		reputation_verdict(in, lookup, call, ans.report);
	}
	apivoid_answer_clear(&ans);
	return class;
}

const struct provider_http_ops apivoid_http = {
	.build_request = apivoid_build_request,
	.parse_response = apivoid_parse,
};
