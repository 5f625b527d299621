/* vmray.c: VMRay Platform / VMRay Cloud REST API
 * (../shared/providers/vmray.md), a job-based provider (provider.h
 * "jobs"). Key in the header "Authorization: api_key <key>" (§2).
 *
 * The steps of a job (job->step):
 *   0 STEP_FIRST    hash: GET /rest/sample/{md5|sha1|sha256}/{hash} (§3.1);
 *                   URL or domain: POST /rest/sample/submit, form fields
 *                   sample_url=...&shareable=false (§3.3)
 *   1 STEP_UPLOAD   an unknown hash whose file this integration may upload
 *                   (lookup->sample set by the planner): POST
 *                   /rest/sample/submit, multipart: file part sample_file,
 *                   sample_filename_b64enc, shareable=false (§2, §3.3)
 *   2 STEP_POLL     GET /rest/submission/{submission_id} until
 *                   submission_finished (§3.4), the engine's back-off from
 *                   5 s to 10 s (§4: VMRay's kit 5 s, TheHive 10 s)
 *   3 STEP_SAMPLE   GET /rest/sample/{sample_id}: the verdict (§3.2)
 *   4 STEP_SAMPLE_AFTER_ERRORS   the same after submission_has_errors:
 *                   without a verdict the analysis failed: error
 *   5 STEP_MORE     GET /rest/continuation/{id}: the rest of a long hash
 *                   search list (§2)
 *   6 STEP_SAMPLE_RUNNING   GET /rest/sample/{sample_id} of a sample VMRay
 *                   has but not decided yet (sample_verdict not_available,
 *                   §1: its analysis is still running), polled on the
 *                   engine's schedule until it has a verdict; also the
 *                   first read of an incomplete search hit and of the
 *                   sample behind "no jobs were created"
 * An unknown hash without a sample (upload not allowed) is unknown, and
 * nothing is sent. A submission that VMRay's analysis caching refused
 * ("no jobs were created", §3.3) reads the existing sample's verdict.
 * A hash VMRay knows without a verdict (not_available: ours or another
 * submission still being analysed, e.g. after our own job ended on
 * JobTimeout) is pending, never an unknown: the job polls the sample
 * (step 6), so the verdict lands in the cache when VMRay has it; only
 * JobTimeout ends that wait, as error/timeout, which is not cached.
 *
 * How a sample becomes a verdict (§1): sample_verdict malicious ->
 * malicious, suspicious -> suspicious, clean -> clean, not_available ->
 * pending and polled (above), unknown only once its submission finished; without sample_verdict (older servers) sample_severity
 * malicious/blacklisted -> malicious, suspicious -> suspicious,
 * not_suspicious/whitelisted -> clean, unknown -> unknown; a value outside
 * these lists is unknown, never clean. Several samples for one hash: the
 * worst. A search hit without either field is re-read by its sample_id
 * (§3.1, TheHive). Details "malicious, score 80, Trojan.Generic": the
 * field's word, sample_score (else sample_vti_score, else
 * sample_highest_vti_score; a number or a string, §1 pitfall), the first
 * threat name.
 *
 * Errors (§5): 401 and 405 the key (error/auth); 403 error/auth; 404 an
 * unknown id (error); 429 rate_limited with Retry-After; 5xx error after
 * the engine's one retry (a running job's poll so is asked again later,
 * jobs.c); HTTP 200 with result "error", or submit errors
 * without jobs, error with VMRay's error_msg, rate_limited when it names a
 * quota. Never clean on a failure; a job unfinished after 10 minutes is
 * error/timeout (jobs.c). */
#include "providers/provider.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "lookup/sample.h"
#include "providers/vmray.h"
#include "providers/sync_runner.h"

enum vmray_step {
	STEP_FIRST,
	STEP_UPLOAD,
	STEP_POLL,
	STEP_SAMPLE,
	STEP_SAMPLE_AFTER_ERRORS,
	STEP_MORE,
	STEP_SAMPLE_RUNNING,
};

#define NO_JOBS_TEXT "no jobs were created"	/* §3.3: analysis caching */
#define ERROR_TEXT_MAX 200

/* ------------------------------------------------------------ requests */

static const char *hash_path(const char *hash)
{
	switch (strlen(hash)) {
	case 32: return "rest/sample/md5";
	case 40: return "rest/sample/sha1";
	default: return "rest/sample/sha256";
	}
}

static void add_auth(struct http_request *req, const struct integration *in)
{
	g_ptr_array_add(req->headers, g_strdup_printf("Authorization: api_key %s",
						      in->api_key ? in->api_key : ""));
	http_request_json_headers(req, NULL, NULL);
}

/* sample_url: the URL, or the domain (HideURLParameters), form-encoded. */
static void submit_url(struct http_request *req, const struct integration *in,
		       const char *url)
{
	char *escaped = provider_uri_escape(url);

	provider_set_url(req, in, "rest/sample", "submit");
	req->method = "POST";
	req->body = g_string_new(NULL);
	g_string_printf(req->body, "sample_url=%s&shareable=false", escaped);
	g_free(escaped);
}

/* The file itself: an ASCII-safe name in the part and its base64 (§2). */
static void submit_file(struct http_request *req, const struct integration *in,
			const struct sample *s)
{
	const char *name = sample_name(s);
	char *b64 = g_base64_encode((const guchar *)name, strlen(name));

	provider_set_url(req, in, "rest/sample", "submit");
	sample_add_part(s, req, "sample_file");
	http_request_add_part(req, "sample_filename_b64enc", NULL, NULL, b64, strlen(b64));
	http_request_add_part(req, "shareable", NULL, NULL, "false", 5);
	g_free(b64);
}

static void vmray_job_request(const struct integration *in, const struct lookup *lookup,
			      const struct provider_job *job, struct http_request *req)
{
	switch ((enum vmray_step)job->step) {
	case STEP_FIRST:
		if (lookup->kind == INDICATOR_HASH)
			provider_set_url(req, in, hash_path(lookup->indicator), lookup->indicator);
		else
			submit_url(req, in, lookup->indicator);
		break;
	case STEP_UPLOAD:
		/* job_parse goes here only with a sample */
		submit_file(req, in, lookup->sample);
		break;
	case STEP_POLL:
		provider_set_url(req, in, "rest/submission", job->id);
		break;
	case STEP_SAMPLE:
	case STEP_SAMPLE_AFTER_ERRORS:
	case STEP_SAMPLE_RUNNING:
		provider_set_url(req, in, "rest/sample", job->id);
		break;
	case STEP_MORE:
		provider_set_url(req, in, "rest/continuation", job->id);
		break;
	}
	add_auth(req, in);
}

/* ------------------------------------------------------------- answers */

/* VMRay's error text (`error_msg`), printable, ';' made ',' (the report
 * header separates entries with ';'); NULL when absent. g_malloc'd. */
static char *error_text(const cJSON *obj)
{
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(obj, "error_msg");
	char *text = cJSON_IsString(msg) ? provider_printable(msg->valuestring, ERROR_TEXT_MAX)
					 : NULL;

	for (char *c = text; c != NULL && *c; c++)
		if (*c == ';')
			*c = ',';
	return text;
}

/* §5: a quota is reported as an error message (status unverified). */
static bool names_quota(const char *text)
{
	return text != NULL && (strstr(text, "quota") != NULL || strstr(text, "Quota") != NULL);
}

/* Every answer but a 200 (§5). */
static enum answer_class vmray_http_error(struct lookup *lookup, const struct http_response *resp)
{
	cJSON *json = cJSON_ParseWithLength(resp->body, resp->body_len);
	char *msg = error_text(json);
	enum answer_class class;

	cJSON_Delete(json);
	if (resp->status == 401 || resp->status == 405) {
		/* 405: how some versions refuse a key (XSOAR) */
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP %ld: API key refused",
			      resp->status);
		class = ANSWER_AUTH;
	} else if (resp->status == 404) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 404: unknown id");
		class = ANSWER_PERMANENT;
	} else {
		class = provider_http_failure(&lookup, 1, resp);
	}
	if (msg != NULL) {
		char *base = g_strdup(lookup->result.details);

		provider_fail(lookup, lookup->result.status, lookup->result.error, "%s (%s)",
			      base ? base : "failed", msg);
		g_free(base);
	}
	g_free(msg);
	return class;
}

/* A logical error: HTTP 200 with result "error" or submit errors. */
static enum answer_class vmray_logical_error(struct lookup *lookup, const char *what,
					     const char *msg)
{
	if (names_quota(msg)) {
		provider_fail(lookup, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA, "%s: %s", what, msg);
		return ANSWER_QUOTA;
	}
	provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "%s: %s", what,
		      msg ? msg : "no reason given");
	return ANSWER_PERMANENT;
}

/* An id VMRay gives as a number (or digits in a string), as decimal
 * text; NULL when absent or anything else (it goes into a path). */
static char *id_text(const cJSON *item)
{
	if (cJSON_IsNumber(item) && item->valuedouble >= 0 && item->valuedouble < 1e15 &&
	    floor(item->valuedouble) == item->valuedouble)
		return g_strdup_printf("%.0f", item->valuedouble);
	if (cJSON_IsString(item) && item->valuestring[0] != '\0' &&
	    strspn(item->valuestring, "0123456789") == strlen(item->valuestring) &&
	    strlen(item->valuestring) <= 20)
		return g_strdup(item->valuestring);
	return NULL;
}

static char *id_of(const cJSON *obj, const char *name)
{
	return id_text(cJSON_GetObjectItemCaseSensitive(obj, name));
}

static void set_id(struct provider_job *job, char *id)
{
	g_free(job->id);
	job->id = id;
}

static enum answer_class malformed(struct lookup *lookup, const char *what,
				   enum answer_class class)
{
	provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer: %s", what);
	return class;
}

/* ---------------------------------------------------------- hash search */

/* The decided hits of a search page, worst first: status and details
 * (NULL: none decided yet); the first incomplete hit's id in *reread,
 * the first hit still being analysed (not_available) in *running. */
static void worst_hit(const cJSON *hits, enum lookup_status *worst, char **details,
		      char **reread, char **running)
{
	const cJSON *hit;

	cJSON_ArrayForEach(hit, hits) {
		enum lookup_status status;
		const char *word;

		if (!vmray_sample_status(hit, &status, &word)) {
			if (*reread == NULL)
				*reread = id_of(hit, "sample_id");
			continue;
		}
		if (vmray_sample_running(hit) && *running == NULL)
			*running = id_of(hit, "sample_id");
		if (*details == NULL || status < *worst) {
			*worst = status;
			g_free(*details);
			*details = vmray_sample_details(hit, word);
		}
	}
}

/* The sample job->id is still being analysed: pending, and its verdict
 * polled on the engine's schedule (PollInterval first). */
static void poll_sample(struct lookup *lookup, struct provider_job *job)
{
	job->step = STEP_SAMPLE_RUNNING;
	job->next = JOB_POLL_LATER;
	job->poll_after_s = 0;
	provider_set_result(lookup, LOOKUP_PENDING, "analysis running at VMRay");
}

/* §3.1: a list of samples (empty: VMRay does not know the file); with
 * continuation_id the rest follows (STEP_MORE keeps the worst so far in
 * the lookup's result). */
static enum answer_class parse_search(struct lookup *lookup, struct provider_job *job,
				      const cJSON *json)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(json, "data");
	enum lookup_status worst = LOOKUP_UNKNOWN;
	char *details = NULL, *reread = NULL, *running = NULL, *more;

	if (!cJSON_IsArray(data))
		return malformed(lookup, "no sample list", ANSWER_TRANSIENT);
	if (job->step == STEP_MORE && lookup->result.details != NULL) {
		worst = lookup->result.status;
		details = g_strdup(lookup->result.details);
	}
	worst_hit(data, &worst, &details, &reread, &running);
	more = id_of(json, "continuation_id");
	job->next = JOB_STEP_NOW;
	if (more != NULL) {
		if (details != NULL)
			provider_set_result(lookup, worst, "%s", details);
		else
			provider_set_result(lookup, LOOKUP_UNKNOWN, NULL);
		set_id(job, more);
		job->step = STEP_MORE;
	} else if (details == NULL && reread != NULL) {
		set_id(job, reread);
		reread = NULL;
		job->step = STEP_SAMPLE_RUNNING;
	} else if (running != NULL &&
		   (details == NULL || worst == LOOKUP_CLEAN || worst == LOOKUP_UNKNOWN)) {
		/* no malicious/suspicious hit, one still running: its verdict */
		set_id(job, running);
		running = NULL;
		poll_sample(lookup, job);
	} else if (details == NULL && job->step == STEP_FIRST && cJSON_GetArraySize(data) == 0 &&
		   lookup->sample != NULL) {
		job->step = STEP_UPLOAD;	/* unknown, and this file may go */
	} else {
		job->next = JOB_FINISHED;
		if (details == NULL)
			provider_set_result(lookup, LOOKUP_UNKNOWN, "%s",
					    cJSON_GetArraySize(data) == 0 ? "not known to VMRay"
									 : "no verdict");
		else
			provider_set_result(lookup, worst, "%s", details);
	}
	g_free(details);
	g_free(reread);
	g_free(running);
	return ANSWER_DECIDED;
}

/* -------------------------------------------------- submissions, polls */

static bool jobs_created(const cJSON *data)
{
	static const char *const lists[] = { "jobs", "reputation_jobs", "static_jobs", "vt_jobs",
					     "md_jobs" };

	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++)
		if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(data, lists[i])) > 0)
			return true;
	return false;
}

/* §3.3. A malformed answer is not retried: the file may have been taken. */
static enum answer_class parse_submit(struct lookup *lookup, struct provider_job *job,
				      const cJSON *data)
{
	const cJSON *sub = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(data, "submissions"), 0);
	const cJSON *error = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(data, "errors"), 0);
	char *submission = id_of(sub, "submission_id");
	char *sample = id_of(sub, "submission_sample_id");
	enum answer_class class = ANSWER_DECIDED;

	if (sample == NULL)
		sample = id_of(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(data, "samples"), 0),
			       "sample_id");
	if (error != NULL && !jobs_created(data)) {
		char *msg = error_text(error);

		if (msg != NULL && strstr(msg, NO_JOBS_TEXT) != NULL && sample != NULL) {
			/* analysed before (or being analysed): its verdict,
			 * no new analysis */
			set_id(job, sample);
			sample = NULL;
			job->step = STEP_SAMPLE_RUNNING;
			job->next = JOB_STEP_NOW;
		} else {
			class = vmray_logical_error(lookup, "submission refused", msg);
		}
		g_free(msg);
	} else if (submission == NULL) {
		class = malformed(lookup, "no submission_id", ANSWER_PERMANENT);
	} else {
		set_id(job, submission);
		submission = NULL;
		job->step = STEP_POLL;
		job->next = JOB_POLL_LATER;
		job->poll_after_s = 0;		/* the engine's schedule: PollInterval first */
		provider_set_result(lookup, LOOKUP_PENDING, "submitted");
	}
	g_free(submission);
	g_free(sample);
	return class;
}

/* §3.4: submission_finished is the poll flag. */
static enum answer_class parse_poll(struct lookup *lookup, struct provider_job *job,
				    const cJSON *data)
{
	const cJSON *finished = cJSON_GetObjectItemCaseSensitive(data, "submission_finished");
	bool errors = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "submission_has_errors"));
	char *sample;

	if (!cJSON_IsBool(finished))
		return malformed(lookup, "no submission_finished", ANSWER_TRANSIENT);
	if (cJSON_IsFalse(finished)) {
		job->next = JOB_POLL_LATER;
		job->poll_after_s = 0;
		provider_set_result(lookup, LOOKUP_PENDING, "analysis running");
		return ANSWER_DECIDED;
	}
	sample = id_of(data, "submission_sample_id");
	if (sample == NULL) {
		if (errors) {
			provider_set_result(lookup, LOOKUP_ERROR, "analysis failed");
			return ANSWER_PERMANENT;
		}
		return malformed(lookup, "no submission_sample_id", ANSWER_PERMANENT);
	}
	set_id(job, sample);
	job->step = errors ? STEP_SAMPLE_AFTER_ERRORS : STEP_SAMPLE;
	job->next = JOB_STEP_NOW;
	return ANSWER_DECIDED;
}

/* §3.2, after a finished submission (its verdict, whatever it is), or
 * of a sample not known to be finished (STEP_SAMPLE_RUNNING: polled on
 * while not_available). */
static enum answer_class parse_sample(struct lookup *lookup, struct provider_job *job,
				      const cJSON *data)
{
	enum lookup_status status = LOOKUP_UNKNOWN;
	const char *word = NULL;
	bool decided = vmray_sample_status(data, &status, &word);

	if (!cJSON_IsObject(data))
		return malformed(lookup, "no sample", ANSWER_TRANSIENT);
	if (job->step == STEP_SAMPLE_AFTER_ERRORS && status == LOOKUP_UNKNOWN) {
		/* §4: has_errors and no verdict: the analysis failed */
		provider_set_result(lookup, LOOKUP_ERROR, "analysis failed");
		return ANSWER_PERMANENT;
	}
	if (job->step == STEP_SAMPLE_RUNNING && vmray_sample_running(data)) {
		poll_sample(lookup, job);
	} else if (!decided) {
		provider_set_result(lookup, LOOKUP_UNKNOWN, "no verdict");
	} else {
		char *details = vmray_sample_details(data, word);

		provider_set_result(lookup, status, "%s", details);
		g_free(details);
	}
	return ANSWER_DECIDED;
}

static bool submits(const struct lookup *lookup, const struct provider_job *job)
{
	return job->step == STEP_UPLOAD || (job->step == STEP_FIRST && lookup->kind != INDICATOR_HASH);
}

static enum answer_class vmray_job_parse(const struct integration *in, struct lookup *lookup,
					 struct provider_job *job,
					 const struct http_response *resp)
{
	const cJSON *result, *data;
	enum answer_class class;
	cJSON *json;

	(void)in;
	job->next = JOB_FINISHED;
	if (resp->status != 200)
		return vmray_http_error(lookup, resp);
	json = provider_parse_json(&lookup, 1, resp);
	if (json == NULL)
		return submits(lookup, job) ? ANSWER_PERMANENT : ANSWER_TRANSIENT;
	result = cJSON_GetObjectItemCaseSensitive(json, "result");
	data = cJSON_GetObjectItemCaseSensitive(json, "data");
	if (cJSON_IsString(result) && strcmp(result->valuestring, "error") == 0) {
		char *msg = error_text(json);

		class = vmray_logical_error(lookup, "VMRay error", msg);
		g_free(msg);
	} else if (!cJSON_IsString(result) || strcmp(result->valuestring, "ok") != 0) {
		class = malformed(lookup, "no result ok",
				  submits(lookup, job) ? ANSWER_PERMANENT : ANSWER_TRANSIENT);
	} else if (submits(lookup, job)) {
		class = parse_submit(lookup, job, data);
	} else if (job->step == STEP_FIRST || job->step == STEP_MORE) {
		class = parse_search(lookup, job, json);
	} else if (job->step == STEP_POLL) {
		class = parse_poll(lookup, job, data);
	} else {
		class = parse_sample(lookup, job, data);
	}
	cJSON_Delete(json);
	if (class != ANSWER_DECIDED)
		job->next = JOB_FINISHED;
	return class;
}

/* JobTimeout's 10m bounds a job: §4, a few minutes end to end. */
const struct provider_job_ops vmray_job = {
	.request = vmray_job_request,
	.parse = vmray_job_parse,
	/* §4: VMRay's kit polls every 5 s (PollInterval's default for this
	 * type, integration_schema.c), TheHive every 10 s: the cap */
	.poll = { .max_s = 10 },
};

/* ------------------------------------------------------ Test Connection */

/* §6: GET /rest/analysis?_limit=1, which submits nothing: 200 with
 * result "ok" proves the key; 401 does not. */
static cJSON *vmray_ping(const struct provider_run *run, const cJSON *args, char *err,
			 size_t errlen)
{
	struct lookup probe = { .integration = run->in, .kind = INDICATOR_URL,
				.indicator = (char *)"/rest/analysis" };
	struct provider_http_answer ans = { 0 };
	struct http_request req;
	gint64 started = g_get_monotonic_time();
	cJSON *out = NULL;

	(void)args;
	http_request_init(&req);
	provider_set_url(&req, run->in, "rest", "analysis?_limit=1");
	add_auth(&req, run->in);
	provider_run_http(run, &req, &ans);
	if (ans.resp.status == 200) {
		cJSON *json = cJSON_ParseWithLength(ans.resp.body, ans.resp.body_len);
		const cJSON *result = cJSON_GetObjectItemCaseSensitive(json, "result");
		char *msg = error_text(json);

		if (cJSON_IsString(result) && strcmp(result->valuestring, "ok") == 0 &&
		    cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(json, "data")))
			provider_set_result(&probe, LOOKUP_CLEAN, NULL);
		else if (msg != NULL)
			vmray_logical_error(&probe, "VMRay error", msg);
		else
			malformed(&probe, "no result ok", ANSWER_PERMANENT);
		g_free(msg);
		cJSON_Delete(json);
	} else {
		vmray_http_error(&probe, &ans.resp);
	}
	if (probe.result.status == LOOKUP_CLEAN) {
		char *message = g_strdup_printf("GET /rest/analysis?_limit=1: result ok, %lld ms",
						(long long)((g_get_monotonic_time() - started) / 1000));

		out = cJSON_CreateObject();
		cJSON_AddBoolToObject(out, "ok", true);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(out, "messages"),
				     cJSON_CreateString(message));
		g_free(message);
	} else {
		snprintf(err, errlen, "GET /rest/analysis: %s",
			 probe.result.details ? probe.result.details : "failed");
	}
	g_free(probe.result.details);
	provider_http_answer_clear(&ans);
	http_request_clear(&req);
	return out;
}

static const struct provider_action vmray_ping_action = {
	.name = "ping",
	.help = "Test Connection: GET /rest/analysis?_limit=1 (submits nothing)",
	.run = vmray_ping,
};

const struct provider_action *const vmray_actions[] = { &vmray_ping_action, NULL };
