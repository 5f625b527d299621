/* anyrun.c: ANY.RUN Interactive Sandbox, API v1
 * (../shared/providers/anyrun.md).
 *
 * A job (provider.h "jobs"), no synchronous lookup: the sandbox API has
 * no hash or URL lookup (§1, §4 "submit asynchronously, mark pending,
 * reuse the result via the cache"), so
 *   step 0  POST <root>/analysis (§3.1): a URL as JSON (obj_type url; a
 *           domain, HideURLParameters, as http://<domain>/), a file as
 *           multipart (part "file" + the options as form fields), both
 *           with opt_privacy_type = Privacy (owner unless set) ->
 *           {"data":{"taskid":"<uuid>"}}: pending;
 *   step 1  GET <root>/analysis/<uuid> (§3.3), polled until the report
 *           has data.analysis.scores.verdict (or says failed);
 *   step 2  GET <root>/analysis/?task=<uuid>, the §3.3 form XSOAR falls
 *           back on when step 1 answers 403.
 * The SSE monitor (§3.2) is not used: polling the report every
 * PollInterval (15 s by default), doubling to 60 s (§3.2: "poll §3.3
 * every 10-15 s"; a VM runs 2-6 min), is enough for a job that nobody
 * waits for inline. A job ends after 10 min (JobTimeout's default) as
 * error/timeout, never clean.
 *
 * The root is APIURL without a trailing "/analysis" (the seed's form
 * fills https://api.any.run/v1/analysis, §2). Auth: "Authorization:
 * API-Key <key>" (§2); the legacy Basic login is not offered.
 *
 * An attachment is only ever uploaded from lookup->sample (set by the
 * planner when the integration's toggles allow that file); a hash lookup
 * without it sends no file: it asks the free history call (§3.4/§6) and
 * ends as unknown. */
#include "providers/anyrun.h"

#include <string.h>
#include <cjson/cJSON.h>

#include "config/integration_schema.h"
#include "lookup/sample.h"
#include "providers/provider.h"

#define TASK_ID_MAX 64

/* APIURL without trailing slashes and without a trailing "/analysis". */
static void api_root(const struct integration *in, char *root, size_t len)
{
	static const char suffix[] = "/analysis";
	size_t n;

	provider_api_root(in, root, len);
	n = strlen(root);
	if (n >= sizeof(suffix) - 1 && g_ascii_strcasecmp(root + n - (sizeof(suffix) - 1),
							  suffix) == 0)
		root[n - (sizeof(suffix) - 1)] = '\0';
}

static void set_url(struct http_request *req, const struct integration *in, const char *tail)
{
	char root[1024];

	api_root(in, root, sizeof(root));
	g_string_printf(req->url, "%s%s", root, tail);
}

static void auth_headers(const struct integration *in, struct http_request *req)
{
	g_ptr_array_add(req->headers, g_strdup_printf("Authorization: API-Key %s",
						      in->api_key ? in->api_key : ""));
	g_ptr_array_add(req->headers, g_strdup("Accept: application/json"));
}

const char *anyrun_privacy(const struct integration *in)
{
	int p = in->privacy;

	return p >= PRIVACY_OWNER && p <= PRIVACY_PUBLIC ? integration_privacy_names[p]
							 : integration_privacy_names[PRIVACY_OWNER];
}

/* §3.1, the URL task: the document's body (the SDK's defaults, opt_timeout
 * 120 s); null: the URL and Privacy, filled in by url_task. */
static const char url_task_fixed[] =
	"{\"obj_type\":\"url\",\"obj_url\":null,\"env_os\":\"windows\",\"env_version\":\"10\","
	"\"env_bitness\":64,\"env_type\":\"complete\",\"env_locale\":\"en-US\","
	"\"opt_network_connect\":true,\"opt_privacy_type\":null,\"opt_timeout\":120,"
	"\"obj_ext_browser\":\"Microsoft Edge\",\"opt_automated_interactivity\":true}";

/* §3.1, the file task's form fields (opt_timeout 240 s, the SDK's for a
 * file); null: Privacy, filled in by file_task. */
static const char file_task_fixed[] =
	"{\"obj_type\":\"file\",\"env_os\":\"windows\",\"env_version\":\"10\",\"env_bitness\":64,"
	"\"env_type\":\"complete\",\"opt_network_connect\":true,\"opt_privacy_type\":null,"
	"\"opt_timeout\":240,\"obj_ext_startfolder\":\"temp\",\"obj_ext_extension\":true}";

/* The task's fixed options with Privacy in its place. */
static cJSON *task_options(const struct integration *in, const char *fixed)
{
	cJSON *task = cJSON_CreateObject();

	provider_json_add_fixed(task, fixed);
	cJSON_ReplaceItemInObjectCaseSensitive(task, "opt_privacy_type",
					       cJSON_CreateString(anyrun_privacy(in)));
	return task;
}

/* §3.1, the URL task as JSON. */
static void url_task(const struct integration *in, const struct lookup *lookup,
		     struct http_request *req)
{
	cJSON *task = task_options(in, url_task_fixed);
	char *url = lookup->kind == INDICATOR_DOMAIN
		    ? g_strdup_printf("http://%s/", lookup->indicator)
		    : g_strdup(lookup->indicator);
	char *text;

	cJSON_ReplaceItemInObjectCaseSensitive(task, "obj_url", cJSON_CreateString(url));
	text = cJSON_PrintUnformatted(task);
	req->method = "POST";
	req->body = g_string_new(text);
	g_ptr_array_add(req->headers, g_strdup("Content-Type: application/json"));
	cJSON_free(text);
	cJSON_Delete(task);
	g_free(url);
}

/* §3.1, the file task: part "file" (the attachment's name) and the
 * options as form fields, booleans as "true"/"false". */
static void file_task(const struct integration *in, const struct lookup *lookup,
		      struct http_request *req)
{
	cJSON *fields = task_options(in, file_task_fixed);

	sample_add_part(lookup->sample, req, "file");
	http_request_add_fields(req, fields);
	cJSON_Delete(fields);
}

static void history_request(const struct integration *in, struct http_request *req)
{
	set_url(req, in, "/analysis?limit=1");
}

static void anyrun_job_request(const struct integration *in, const struct lookup *lookup,
			       const struct provider_job *job, struct http_request *req)
{
	char *tail;

	auth_headers(in, req);
	if (job->step == ANYRUN_STEP_SUBMIT) {
		set_url(req, in, "/analysis");
		if (lookup->kind == INDICATOR_URL || lookup->kind == INDICATOR_DOMAIN)
			url_task(in, lookup, req);
		else if (lookup->kind == INDICATOR_HASH && lookup->sample != NULL)
			file_task(in, lookup, req);
		else
			history_request(in, req);	/* nothing to submit */
		return;
	}
	/* the id is checked by job_parse: [0-9A-Za-z-] only */
	tail = g_strdup_printf(job->step == ANYRUN_STEP_REPORT ? "/analysis/%s"
							     : "/analysis/?task=%s", job->id);
	set_url(req, in, tail);
	g_free(tail);
}

/* ------------------------------------------------------------ answers */

/* §5: {"error":true,"message":"..."} (the SDK also reads "description")
 * added to the status ladder's details. */
static enum answer_class failure(struct lookup *lookup, const struct http_response *resp)
{
	enum answer_class class = provider_http_failure(&lookup, 1, resp);
	cJSON *json = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "message"));
	char *message;

	if (text == NULL)
		text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "description"));
	message = provider_printable(text, 160);
	if (message != NULL) {
		char *details = g_strdup_printf("%s: %s", lookup->result.details, message);

		g_free(lookup->result.details);
		lookup->result.details = details;
	}
	g_free(message);
	cJSON_Delete(json);
	return class;
}

static bool valid_task_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > TASK_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(id[i]) && id[i] != '-')
			return false;
	return true;
}

/* Step 0's answer: §3.1 {"error":false,"data":{"taskid":"<uuid>"}}.
 * An answer without a usable task id is error/malformed, but
 * ANSWER_PERMANENT: the engine's retry would submit the mail again (a
 * second task, a second upload). */
static enum answer_class submitted(struct lookup *lookup, struct provider_job *job,
				   const struct http_response *resp)
{
	struct lookup *batch[1] = { lookup };
	cJSON *json = provider_parse_json(batch, 1, resp);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(json, "data");
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "taskid"));
	enum answer_class class = ANSWER_DECIDED;

	if (json == NULL)
		return ANSWER_PERMANENT;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "error"))) {
		char *message = provider_printable(cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(json, "message")), 160);

		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "submission refused%s%s",
			      message ? ": " : "", message ? message : "");
		class = ANSWER_PERMANENT;
		g_free(message);
	} else if (!valid_task_id(id)) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "submitted, no task id");
		class = ANSWER_PERMANENT;
	} else {
		job->id = g_strdup(id);
		job->step = ANYRUN_STEP_REPORT;
		job->next = JOB_POLL_LATER;
		job->poll_after_s = 0;		/* the engine's schedule: 15, 30, 60 s */
		provider_set_result(lookup, LOOKUP_PENDING, "task %s", id);
	}
	cJSON_Delete(json);
	return class;
}

/* A poll that did not get the report: 403 -> the ?task= form once
 * (§3.3); 429, 5xx, no answer -> poll again later (§5: retry with
 * back-off; the JobTimeout bounds it); anything else ends the job. */
static enum answer_class poll_failed(struct lookup *lookup, struct provider_job *job,
				     const struct http_response *resp)
{
	if (resp->status == 403 && job->step == ANYRUN_STEP_REPORT) {
		job->step = ANYRUN_STEP_REPORT_TASK;
		job->next = JOB_STEP_NOW;
		provider_set_result(lookup, LOOKUP_PENDING, "task %s", job->id);
		return ANSWER_DECIDED;
	}
	if (resp->status == 0 || resp->status == 429 || resp->status >= 500) {
		job->next = JOB_POLL_LATER;
		job->poll_after_s = resp->retry_after_s > 0 ? (unsigned)resp->retry_after_s : 0;
		provider_set_result(lookup, LOOKUP_PENDING, "task %s", job->id);
		return ANSWER_DECIDED;
	}
	return failure(lookup, resp);
}

static enum answer_class anyrun_job_parse(const struct integration *in, struct lookup *lookup,
					  struct provider_job *job,
					  const struct http_response *resp)
{
	(void)in;
	job->next = JOB_FINISHED;
	if (job->step != ANYRUN_STEP_SUBMIT && (resp->status < 200 || resp->status > 299))
		return poll_failed(lookup, job, resp);
	if (resp->status < 200 || resp->status > 299)
		return failure(lookup, resp);
	if (job->step != ANYRUN_STEP_SUBMIT)
		return anyrun_report(lookup, job, resp);
	if (lookup->kind == INDICATOR_HASH && lookup->sample == NULL) {
		provider_set_result(lookup, LOOKUP_UNKNOWN,
				    "not uploaded (no hash lookup in ANY.RUN's sandbox API)");
		return ANSWER_DECIDED;
	}
	return submitted(lookup, job, resp);
}

/* JobTimeout's default (10 min) bounds a job; the VM runs <= 660 s (§4). */
const struct provider_job_ops anyrun_job = {
	.request = anyrun_job_request,
	.parse = anyrun_job_parse,
	/* §3.2: poll the report every 10-15 s: PollInterval's default, 15 s */
	.poll = { .max_s = 60 },
};

/* ---------------------------------------------------- Test Connection */

/* §6: GET <root>/analysis?limit=1, the history; costs no analysis. The
 * only use of the one-shot calls (the engine asks through the job). */
static void anyrun_build_request(const struct integration *in, struct lookup *const *batch,
				 size_t n, struct http_request *req)
{
	(void)batch;
	(void)n;
	auth_headers(in, req);
	history_request(in, req);
}

static enum answer_class anyrun_history(const struct integration *in,
					struct lookup *const *batch, size_t n,
					const cJSON *json)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(json, "data"), "tasks");

	(void)in;
	(void)n;
	if (!cJSON_IsArray(tasks)) {
		provider_fail(batch[0], LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "no task history");
		return ANSWER_TRANSIENT;
	}
	provider_set_result(batch[0], LOOKUP_UNKNOWN, "key accepted, %d task(s) in the history",
			    cJSON_GetArraySize(tasks));
	return ANSWER_DECIDED;
}

static enum answer_class anyrun_error_response(const struct integration *in,
					       struct lookup *const *batch, size_t n,
					       const struct http_response *resp)
{
	(void)in;
	(void)n;
	return failure(batch[0], resp);
}

const struct provider_http_ops anyrun_http = {
	.build_request = anyrun_build_request,
	.error_response = anyrun_error_response,
	.json_verdict = anyrun_history,
};
