/* metadefender.c: OPSWAT MetaDefender Cloud API v4
 * (../shared/providers/opswat-metadefender.md).
 *
 * Lookups: GET /hash/{hash}, /ip/{ip}, /url/{URL, wholly percent-encoded},
 * /domain/{fqdn}; the key in an `apikey` header. Every lookup is a job
 * (provider.h "jobs"; §4 of the document):
 *   step 0  the lookup above (for a file: GET /hash/{sha256});
 *   step 1  only for a hash the service has never seen (404, or Core's
 *           200 {"<HASH>":"Not Found"}) and only when the lookup carries
 *           the file (lookup->sample: plan.c allowed the upload):
 *           POST /file, the raw bytes as an application/octet-stream
 *           body with the headers apikey and filename (URL-encoded;
 *           §2, §3.5) -> {"data_id": ...}; the waiters get `pending`;
 *   step 2  GET /file/{data_id} (§3.6), polled from PollInterval (5 s by
 *           default) doubling to 30 s,
 *           until scan_results.progress_percentage is 100, then the
 *           verdict as for a hash; a missing or negative progress, or a
 *           404 for the data_id, ends the job as error. 10 minutes
 *           without an end: error/timeout (the engine), never clean.
 * A Core (on-premise) root takes the same paths (§7).
 *
 * How an answer becomes a verdict:
 *   hash: scan_results.scan_all_result_i, OPSWAT's code table:
 *     1 infected, 8 block-listed                       -> malicious
 *     2 suspicious, 4 cleaned, 22 PUA                  -> suspicious
 *     0 no threat, 7 allow-listed                      -> clean
 *     anything else (failed, not scanned, archive
 *     trouble, ...)                                    -> unknown
 *     details "Infected 31/38" (scan_all_result_a, detected / engines)
 *     but a scan still running (progress_percentage under 100, or 255
 *     "In Progress", §1, §3.6)                         -> pending: the
 *     job asks the hash again later (never an unknown the cache keeps)
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

#include "lookup/sample.h"

/* The cut-off OPSWAT's documentation and TheHive's analyzer use. */
#define DEFAULT_THRESHOLD 3
/* lookup_results.sources[].status: the source has no entry for it */
#define SOURCE_NO_ENTRY 5
/* scan_all_result_i of a scan still running (§1) */
#define IN_PROGRESS 255
/* the details of a hash the service has never seen (the upload cue) */
#define NOT_FOUND "not found"

enum md_step { STEP_LOOKUP, STEP_UPLOAD, STEP_RESULT };

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
	static const struct provider_status_rule rules[] = {
		{ 404, LOOKUP_UNKNOWN, NOT_FOUND, ANSWER_DECIDED },
		/* the endpoint is not in this key's licence: a fact about the
		 * request, not a refused key */
		{ 403, LOOKUP_ERROR, "HTTP 403: not in the licence", ANSWER_PERMANENT },
		{ 429, LOOKUP_RATE_LIMITED, "HTTP 429: API limit reached", ANSWER_QUOTA },
	};

	(void)in;
	/* a 400's {"error":{"code":..,"messages":["..."]}}: the first message */
	return provider_http_error(batch, n, resp, rules, G_N_ELEMENTS(rules));
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

/* §1 (255: "not final, keep polling"), §3.6: a hash's scan that has
 * not ended (a number under 100 in progress_percentage). */
static bool scan_running(const cJSON *results)
{
	int progress = int_item(results, "progress_percentage", 100);

	return (progress >= 0 && progress < 100) ||
	       int_item(results, "scan_all_result_i", 0) == IN_PROGRESS;
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
			provider_set_result(lookup, LOOKUP_UNKNOWN, NOT_FOUND);
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
	if (scan_running(results))
		provider_set_result(lookup, LOOKUP_PENDING, "analysis %s", text);
	else if (detected >= 0 && engines > 0)
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

const struct provider_http_ops metadefender_http = {
	.build_request = metadefender_build_request,
	.error_response = metadefender_error,
	.json_verdict = metadefender_verdict,
};

/* ---------------------------------------------------------- uploads */

static void upload_request(const struct integration *in, const struct lookup *lookup,
			   struct http_request *req)
{
	GBytes *bytes = sample_bytes(lookup->sample);
	gsize len = 0;
	const char *data = bytes ? g_bytes_get_data(bytes, &len) : NULL;
	char *name = provider_uri_escape(sample_name(lookup->sample));

	char root[1024];

	req->method = "POST";
	g_string_printf(req->url, "%s/file", provider_api_root(in, root, sizeof(root)));
	http_request_json_headers(req, "apikey", in->api_key);
	g_ptr_array_add(req->headers, g_strdup("Content-Type: application/octet-stream"));
	g_ptr_array_add(req->headers, g_strdup_printf("filename: %s", name));
	/* the raw bytes (§3.5: not multipart), copied for this one request */
	req->body = g_string_new_len(data != NULL ? data : "", (gssize)len);
	g_free(name);
	if (bytes != NULL)
		g_bytes_unref(bytes);
}

static void metadefender_job_request(const struct integration *in, const struct lookup *lookup,
				     const struct provider_job *job, struct http_request *req)
{
	struct lookup *const batch[] = { (struct lookup *)lookup };

	switch (job->step) {
	case STEP_UPLOAD:
		upload_request(in, lookup, req);
		break;
	case STEP_RESULT: {
		char *id = provider_uri_escape(job->id);

		provider_set_url(req, in, "file", id);
		http_request_json_headers(req, "apikey", in->api_key);
		g_free(id);
		break;
	}
	default:
		metadefender_build_request(in, batch, 1, req);
	}
}

/* The JSON object of a 200 answer to a job step, or NULL with the
 * lookup's result set and *class: a 404 is no hash answer here but what
 * was asked being gone (details `gone`, error/provider, permanent); any
 * other status as metadefender_error() reads it; a 200 that is no JSON
 * object error/malformed. */
static cJSON *step_answer(const struct integration *in, struct lookup *lookup,
			  const struct http_response *resp, const char *gone,
			  enum answer_class *class)
{
	struct lookup *const batch[] = { lookup };
	cJSON *json = NULL;

	if (resp->status == 404) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "%s", gone);
		*class = ANSWER_PERMANENT;
	} else if (resp->status != 200) {
		*class = metadefender_error(in, batch, 1, resp);
	} else if ((json = provider_parse_json(batch, 1, resp)) == NULL) {
		*class = ANSWER_TRANSIENT;
	}
	return json;
}

/* The upload's answer: its data_id, polled from now on. */
static enum answer_class uploaded(struct lookup *lookup, struct provider_job *job,
				  const cJSON *json)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(json, "data_id");

	if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "upload: no data_id");
		return ANSWER_TRANSIENT;
	}
	job->id = g_strdup(id->valuestring);
	job->step = STEP_RESULT;
	job->next = JOB_POLL_LATER;
	job->poll_after_s = 0;		/* the engine's schedule: PollInterval, doubling */
	provider_set_result(lookup, LOOKUP_PENDING, "analysis pending");
	return ANSWER_DECIDED;
}

/* §3.6: finished at progress_percentage 100 (scan_results, else
 * process_info); missing or negative: the job failed. */
static enum answer_class result_answer(struct lookup *lookup, struct provider_job *job,
				       const cJSON *json)
{
	const cJSON *scan = cJSON_GetObjectItemCaseSensitive(json, "scan_results");
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(json, "process_info");
	int progress = int_item(scan, "progress_percentage", int_item(proc, "progress_percentage",
								       -1));
	enum answer_class class = ANSWER_DECIDED;

	if (progress < 0) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "analysis failed");
	} else if (progress < 100) {
		job->next = JOB_POLL_LATER;
		job->poll_after_s = 0;
		provider_set_result(lookup, LOOKUP_PENDING, "analysis %d%%", progress);
	} else {
		class = hash_verdict(lookup, json);
		if (lookup->result.status == LOOKUP_PENDING)	/* 255 at 100 % */
			job->next = JOB_POLL_LATER;
		if (lookup->result.status == LOOKUP_UNKNOWN &&
		    g_strcmp0(lookup->result.details, NOT_FOUND) == 0)
			provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
	}
	return class;
}

/* Step 0, the hash lookup: §4.1, hash first; only a file never seen is
 * uploaded, and only when the lookup carries it (the integration allows
 * the upload). */
static enum answer_class hash_answer(const struct integration *in, struct lookup *lookup,
				     struct provider_job *job, const struct http_response *resp)
{
	struct lookup *const batch[] = { lookup };
	enum answer_class class = provider_json_response(in, batch, 1, resp);

	if (class == ANSWER_DECIDED && lookup->kind == INDICATOR_HASH && lookup->sample != NULL &&
	    lookup->result.status == LOOKUP_UNKNOWN &&
	    g_strcmp0(lookup->result.details, NOT_FOUND) == 0) {
		job->step = STEP_UPLOAD;
		job->next = JOB_STEP_NOW;
	} else if (class == ANSWER_DECIDED && lookup->result.status == LOOKUP_PENDING) {
		/* being scanned (ours or anybody's upload): the hash again
		 * later, on the engine's schedule */
		job->next = JOB_POLL_LATER;
		job->poll_after_s = 0;
	}
	return class;
}

static enum answer_class metadefender_job_parse(const struct integration *in,
						struct lookup *lookup, struct provider_job *job,
						const struct http_response *resp)
{
	bool upload = job->step == STEP_UPLOAD;
	enum answer_class class;
	cJSON *json;

	if (job->step == STEP_LOOKUP)
		return hash_answer(in, lookup, job, resp);
	/* a 404: the upload endpoint, or the data_id, is gone (not "unknown") */
	json = step_answer(in, lookup, resp,
			   upload ? "upload: HTTP 404" : "analysis not found (HTTP 404)", &class);
	if (json == NULL)
		return class;
	class = upload ? uploaded(lookup, job, json) : result_answer(lookup, job, json);
	cJSON_Delete(json);
	return class;
}

const struct provider_job_ops metadefender_job = {
	.request = metadefender_job_request,
	.parse = metadefender_job_parse,
	/* §4.3: OPSWAT's CLI polls every 2 s, TheHive every 10 s: PollInterval's
	 * default for this type is 5 s (integration_schema.c), doubling to 30 s */
	.poll = { .max_s = 30 },
};
