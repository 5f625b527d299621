/* cyberxray.c: Cyber X-Ray by Roksit (../shared/providers/cyber-xray.md).
 *
 * The document marks the whole request/answer contract UNVERIFIED (no
 * public API reference exists). What is implemented is its "minimal
 * contract" (§2), the same text is in the README and threatmilter.conf(5):
 *   GET <APIURL><host>  (default root https://reputation.roksit.com/api/query/)
 *   headers "ApiKey: <key>" and "Accept: application/json"
 *   the host of each URL (lower case, no port, no trailing dot) — a URL
 *   indicator is sent as its host, never with path or parameters.
 * Answers (§1, §3-§5):
 *   200: a tolerant mapper over the string fields verdict, result,
 *     reputation, category, classification, status, categories[] (also
 *     one object level down: {"result":{"reputation":"Harmful"}}) and a
 *     numeric score / risk / riskScore (MaliciousThreshold, 0: 80;
 *     DetectionThreshold, 0: 50); the worse of the two; nothing
 *     recognised -> unknown (the body is logged, truncated, so the mapping
 *     can be fixed when real answers are seen);
 *   202, or a status "pending"/"processing"/"queued" -> pending;
 *   404, empty body, {} -> unknown; 401/403 -> error/auth; 429 ->
 *   rate_limited (Retry-After honoured by the engine); 5xx -> error.
 * The engine asks through a job (provider.h "jobs", §4: "record pending
 * and retry on a later message"): step 0 is the one GET above, and a
 * pending answer polls that same GET again (JOB_POLL_LATER) after 10 s,
 * doubling to 60 s (or the 202's Retry-After, capped at 60 s) — the
 * document gives no interval; a job not finished after 10 min ends as
 * error/timeout, never clean. The message that met the pending answer
 * gets `pending` (the engine); the final verdict goes into the cache, so
 * the next message with that host is judged at once. Any other answer
 * finishes the job with the one-shot mapping below (cyberxray_parse,
 * which the synchronous runner's Test Connection also uses through
 * build_request). */
#include "providers/provider.h"

#include <string.h>
#include <cjson/cJSON.h>

#include "analysis/url_normalize.h"
#include "util/log.h"

#define SCORE_MALICIOUS 80	/* §1: "default: >= 80 malicious, >= 50 suspicious" */
#define SCORE_SUSPICIOUS 50

static const char *const malicious_words[] = {
	"malicious", "malware", "phishing", "botnet", "c2", "c&c", "ransomware", "harmful",
	"dangerous", "blacklist", NULL,
};
static const char *const suspicious_words[] = {
	"suspicious", "unsafe", "risky", "grey", "gray", "newly registered", "unknown risk", NULL,
};
static const char *const clean_words[] = {
	"clean", "safe", "harmless", "benign", "trusted", "whitelist", NULL,
};
static const char *const pending_words[] = { "pending", "processing", "queued", NULL };
static const char *const text_fields[] = {
	"verdict", "result", "reputation", "category", "classification", "status", NULL,
};
static const char *const score_fields[] = { "score", "risk", "riskScore", NULL };

/* The host to ask: the domain indicator itself, or the host of a URL. */
static char *host_of(const struct lookup *lookup)
{
	char *host = lookup->kind == INDICATOR_URL ? url_host(lookup->indicator)
						   : g_strdup(lookup->indicator);
	char *lower;
	size_t len;

	if (host == NULL)
		return g_strdup("");
	lower = g_ascii_strdown(host, -1);
	g_free(host);
	len = strlen(lower);
	while (len > 0 && lower[len - 1] == '.')
		lower[--len] = '\0';
	return lower;
}

/* §2: GET <root><host>, headers ApiKey and Accept. */
static void host_request(const struct integration *in, const struct lookup *lookup,
			 struct http_request *req)
{
	char root[1024];
	char *host = host_of(lookup);
	char *segment = provider_uri_escape(host);

	provider_api_root(in, root, sizeof(root));
	g_string_printf(req->url, "%s/%s", root, segment);
	http_request_json_headers(req, "ApiKey", in->api_key);
	g_free(segment);
	g_free(host);
}

static bool matches(const char *text, const char *const *words)
{
	char *lower = g_ascii_strdown(text, -1);
	bool found = false;

	for (size_t i = 0; words[i] != NULL && !found; i++) {
		const char *w = words[i];

		/* "c2" must be a word of its own, not a part of "ac2b" */
		if (strlen(w) <= 3) {
			gchar **tokens = g_regex_split_simple("[^a-z0-9&]+", lower, 0, 0);

			found = g_strv_contains((const gchar *const *)tokens, w);
			g_strfreev(tokens);
		} else {
			found = strstr(lower, w) != NULL;
		}
	}
	g_free(lower);
	return found;
}

/* The worst status the strings of one value say; LOOKUP_SKIPPED when none. */
static enum lookup_status text_status(const cJSON *value, bool *pending)
{
	enum lookup_status worst = LOOKUP_SKIPPED, s;
	const cJSON *item;

	if (cJSON_IsArray(value)) {
		cJSON_ArrayForEach(item, value)
			if ((s = text_status(item, pending)) < worst)
				worst = s;
		return worst;
	}
	if (!cJSON_IsString(value))
		return LOOKUP_SKIPPED;
	if (matches(value->valuestring, malicious_words))
		return LOOKUP_MALICIOUS;
	if (matches(value->valuestring, suspicious_words))
		return LOOKUP_SUSPICIOUS;
	if (matches(value->valuestring, clean_words))
		return LOOKUP_CLEAN;
	if (matches(value->valuestring, pending_words))
		*pending = true;
	return LOOKUP_SKIPPED;
}

static enum lookup_status score_status(const struct integration *in, double score)
{
	unsigned m = in->malicious_threshold > 0 ? in->malicious_threshold : SCORE_MALICIOUS;
	unsigned s = in->detection_threshold > 0 ? in->detection_threshold : SCORE_SUSPICIOUS;

	if (score >= m)
		return LOOKUP_MALICIOUS;
	return score >= s ? LOOKUP_SUSPICIOUS : LOOKUP_CLEAN;
}

/* The verdict fields of one object and of the objects directly in it. */
static enum lookup_status object_status(const struct integration *in, const cJSON *obj,
					int depth, bool *pending)
{
	enum lookup_status worst = LOOKUP_SKIPPED, s;
	const cJSON *item;

	for (size_t i = 0; text_fields[i] != NULL; i++)
		if ((s = text_status(cJSON_GetObjectItemCaseSensitive(obj, text_fields[i]),
				     pending)) < worst)
			worst = s;
	if ((s = text_status(cJSON_GetObjectItemCaseSensitive(obj, "categories"), pending)) < worst)
		worst = s;
	for (size_t i = 0; score_fields[i] != NULL; i++) {
		item = cJSON_GetObjectItemCaseSensitive(obj, score_fields[i]);
		if (cJSON_IsNumber(item) && (s = score_status(in, item->valuedouble)) < worst)
			worst = s;
	}
	if (depth == 0) {
		cJSON_ArrayForEach(item, obj)
			if (cJSON_IsObject(item) &&
			    (s = object_status(in, item, 1, pending)) < worst)
				worst = s;
	}
	return worst;
}

static enum answer_class cyberxray_verdict(const struct integration *in, struct lookup *lookup,
					   const struct http_response *resp)
{
	cJSON *json = cJSON_ParseWithLength(resp->body, resp->body_len);
	bool pending = false;
	enum lookup_status status;

	if (resp->body_len == 0 || (cJSON_IsObject(json) && json->child == NULL)) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "empty answer");
	} else if (!cJSON_IsObject(json)) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
		cJSON_Delete(json);
		return ANSWER_TRANSIENT;
	} else if ((status = object_status(in, json, 0, &pending)) != LOOKUP_SKIPPED) {
		provider_set_result(lookup, status, "%s", lookup_status_name(status));
	} else if (pending) {
		provider_set_result(lookup, LOOKUP_PENDING, "processing");
	} else {
		char *raw = provider_printable(resp->body, 200);

		log_msg(LOG_INFO, "integration %s: Cyber X-Ray answer without a known verdict: %s",
			in->name ? in->name : "cyberxray", raw ? raw : "");
		g_free(raw);
		provider_set_result(lookup, LOOKUP_UNKNOWN, "no verdict fields");
	}
	cJSON_Delete(json);
	return ANSWER_DECIDED;
}

static enum answer_class cyberxray_parse(const struct integration *in, struct lookup *const *batch,
					 size_t n, const struct http_response *resp)
{
	struct lookup *lookup = batch[0];

	if (resp->status == 200)
		return cyberxray_verdict(in, lookup, resp);
	if (resp->status == 202) {
		/* the engine polls it (cyberxray_job_parse); the synchronous
		 * runner reports it as it is */
		provider_set_result(lookup, LOOKUP_PENDING, "processing");
		return ANSWER_DECIDED;
	}
	if (resp->status == 404) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "not found");
		return ANSWER_DECIDED;
	}
	return provider_http_failure(batch, n, resp);
}

/* The one-shot request: the synchronous runner's (Test Connection). */
static void cyberxray_build_request(const struct integration *in, struct lookup *const *batch,
				    size_t n, struct http_request *req)
{
	(void)n;
	host_request(in, batch[0], req);
}

const struct provider_http_ops cyberxray_http = {
	.build_request = cyberxray_build_request,
	.parse_response = cyberxray_parse,
};

/* The engine's job: every step is the same GET (nothing to keep but the
 * host, which the lookup holds). */
static void cyberxray_job_request(const struct integration *in, const struct lookup *lookup,
				  const struct provider_job *job, struct http_request *req)
{
	(void)job;
	host_request(in, lookup, req);
}

/* The one-shot mapping; a pending answer (202, or a pending status in a
 * 200) polls again later, anything else finishes the job. */
static enum answer_class cyberxray_job_parse(const struct integration *in,
					     struct lookup *lookup, struct provider_job *job,
					     const struct http_response *resp)
{
	struct lookup *batch[1] = { lookup };
	enum answer_class class = cyberxray_parse(in, batch, 1, resp);

	job->next = JOB_FINISHED;
	if (class == ANSWER_DECIDED && lookup->result.status == LOOKUP_PENDING) {
		job->next = JOB_POLL_LATER;
		/* 0: the engine's back-off, 10 s doubling to 60 s */
		job->poll_after_s = resp->retry_after_s > 0 ? (unsigned)resp->retry_after_s : 0;
	}
	return class;
}

/* §4 gives no interval: 10 s, doubling to 60 s. The job ends after
 * JobTimeout's default, 10 min (an upload key: it cannot be set for this
 * type, so it stays 10 min). */
const struct provider_job_ops cyberxray_job = {
	.request = cyberxray_job_request,
	.parse = cyberxray_job_parse,
	.poll = { .first_s = 10, .max_s = 60 },
};
