/* virustotal_upload.c: a VirusTotal hash lookup that carries the file
 * itself (lookup->sample, lookup/sample.h) is a job (provider.h "jobs"),
 * as ../shared/providers/virustotal.md §3.4, §3.5 and §4 describe it:
 *
 *   step 0  GET /files/{hash}        known: its verdict (virustotal.c), done;
 *                                    404 NotFoundError: upload it now;
 *                                    400 NotAvailableYet: pending, asked
 *                                    again later (never a cached unknown)
 *   step 1  POST /files              multipart part "file", up to 32 MB
 *   step 2  GET /files/upload_url    above 32 MB: a one-time URL ...
 *   step 3  POST <that URL>          ... the same multipart body, to 650 MB
 *   step 4  GET /analyses/{id}       queued / in-progress: poll again later;
 *                                    completed: the verdict of its stats,
 *                                    exactly as a hash lookup's
 *
 * Every request of the job takes a RateLimit token (the engine's doing),
 * so a free key's 4/minute also holds uploads and polls; the polls follow
 * the engine's schedule (PollInterval, 1m for this type, doubling; jobs.c).
 * The lookup is pending from the upload on; an upload refused (429, 401,
 * 5xx...) or a poll that fails for good (401, an analysis that vanished)
 * ends it as rate_limited or error, never clean (a 5xx or an unreadable
 * answer to a poll: the engine polls again, jobs.c);
 * a poll answered 429 or held back by RateLimit waits (the engine) and
 * is asked again. A lookup without a sample never gets past step 0:
 * nothing is uploaded. */
#include "providers/virustotal.h"

#include <string.h>
#include <cjson/cJSON.h>

#include "lookup/sample.h"

enum vt_step {
	STEP_LOOKUP,		/* GET /files/{hash} */
	STEP_UPLOAD,		/* POST /files */
	STEP_UPLOAD_URL,	/* GET /files/upload_url */
	STEP_UPLOAD_TO,		/* POST <job->id, the one-time URL> */
	STEP_POLL,		/* GET /analyses/{job->id} */
};

/* §3.5: POST /files takes up to 32 MB; larger files go to a one-time
 * upload URL, which takes up to 650 MB (VirusTotal's "files-upload-url"
 * reference: "the actual size limit is 650MBs"). */
#define DIRECT_UPLOAD_MAX ((size_t)32 * 1024 * 1024)
#define UPLOAD_URL_FILE_MAX ((size_t)650 * 1024 * 1024)
#define UPLOAD_URL_LEN_MAX 2048

static bool is_https(const char *url)
{
	return g_ascii_strncasecmp(url, "https://", 8) == 0;
}

/* The host[:port] of an http(s) URL: its start, and its length in *len
 * (0: none). */
static const char *authority(const char *url, size_t *len)
{
	const char *sep = strstr(url, "://");
	const char *host = sep != NULL ? sep + 3 : url + strlen(url);

	*len = strcspn(host, "/?#");
	return host;
}

/* Whether url is on the API root's scheme, host and port: only there
 * does the key go with the upload (a one-time URL is its own credential). */
static bool on_api_origin(const struct integration *in, const char *url)
{
	char root[1024];
	size_t root_len, url_len;
	const char *root_host = authority(provider_api_root(in, root, sizeof(root)), &root_len);
	const char *url_host = authority(url, &url_len);

	return root_len > 0 && root_len == url_len && is_https(root) == is_https(url) &&
	       g_ascii_strncasecmp(root_host, url_host, root_len) == 0;
}

/* The one-time URL to upload to, g_malloc'd, or NULL when it is none:
 * http(s) with a host, printable ASCII without spaces, of sane length.
 * The attachment never goes in clear text when the API root is https:
 * the reference's own example is "http://www.virustotal.com/_ah/upload/...",
 * so an http URL on the root's host becomes https; any other http URL is
 * refused. */
static char *upload_target(const struct integration *in, const char *url)
{
	char root[1024];
	size_t len = strlen(url), url_host_len, root_host_len;
	const char *url_host = authority(url, &url_host_len);
	const char *root_host;

	if (len == 0 || len > UPLOAD_URL_LEN_MAX || url_host_len == 0 ||
	    (!is_https(url) && g_ascii_strncasecmp(url, "http://", 7) != 0))
		return NULL;
	for (const char *c = url; *c != '\0'; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return NULL;
	provider_api_root(in, root, sizeof(root));
	if (is_https(url) || !is_https(root))
		return g_strdup(url);
	root_host = authority(root, &root_host_len);
	if (root_host_len != url_host_len || g_ascii_strncasecmp(root_host, url_host, url_host_len) != 0)
		return NULL;
	return g_strconcat("https://", url_host, NULL);
}

static void upload_request(const struct integration *in, const struct lookup *lookup,
			   const char *url, bool with_key, struct http_request *req)
{
	g_string_assign(req->url, url);
	http_request_json_headers(req, with_key ? "x-apikey" : NULL, in->api_key);
	if (lookup->sample != NULL)
		sample_add_part(lookup->sample, req, "file");	/* method POST */
	req->method = "POST";
}

void virustotal_job_request(const struct integration *in, const struct lookup *lookup,
			    const struct provider_job *job, struct http_request *req)
{
	char root[1024];
	char *url, *id;

	switch ((enum vt_step)job->step) {
	case STEP_LOOKUP:
		virustotal_object_request(in, lookup, req);
		break;
	case STEP_UPLOAD:
		url = g_strdup_printf("%s/files", provider_api_root(in, root, sizeof(root)));
		upload_request(in, lookup, url, true, req);
		g_free(url);
		break;
	case STEP_UPLOAD_URL:
		provider_set_url(req, in, "files", "upload_url");
		http_request_json_headers(req, "x-apikey", in->api_key);
		break;
	case STEP_UPLOAD_TO:
		upload_request(in, lookup, job->id, on_api_origin(in, job->id), req);
		break;
	case STEP_POLL:
		/* an opaque id (base64 for files, §3.5): one path segment */
		id = g_uri_escape_string(job->id, G_URI_RESERVED_CHARS_ALLOWED_IN_PATH_ELEMENT, FALSE);
		provider_set_url(req, in, "analyses", id);
		g_free(id);
		http_request_json_headers(req, "x-apikey", in->api_key);
		break;
	}
}

static void set_id(struct provider_job *job, const char *id)
{
	g_free(job->id);
	job->id = g_strdup(id);
}

static enum answer_class malformed(struct lookup *lookup, const char *what)
{
	provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed %s answer", what);
	return ANSWER_TRANSIENT;
}

static bool is_upload(const struct provider_job *job)
{
	return job->step == STEP_UPLOAD || job->step == STEP_UPLOAD_TO;
}

/* Step 0 answered 404: the file is unknown. Upload it when the lookup
 * carries it and VirusTotal takes that size; else unknown, as always. */
static enum answer_class after_not_found(struct lookup *lookup, struct provider_job *job)
{
	size_t size = lookup->sample != NULL ? sample_size(lookup->sample) : 0;

	provider_set_result(lookup, LOOKUP_UNKNOWN, "not found");
	if (lookup->sample == NULL)
		return ANSWER_DECIDED;
	if (size > UPLOAD_URL_FILE_MAX) {
		provider_set_result(lookup, LOOKUP_UNKNOWN,
				    "not found; %zu bytes, too large to upload (650 MB)", size);
		return ANSWER_DECIDED;
	}
	job->step = size > DIRECT_UPLOAD_MAX ? STEP_UPLOAD_URL : STEP_UPLOAD;
	job->next = JOB_STEP_NOW;
	return ANSWER_DECIDED;
}

/* The next poll after the engine's schedule (PollInterval, doubling):
 * VirusTotal names no time of its own. */
static void poll_later(struct lookup *lookup, struct provider_job *job, const char *status)
{
	provider_set_result(lookup, LOOKUP_PENDING, "analysis %s", status);
	job->step = STEP_POLL;
	job->next = JOB_POLL_LATER;
	job->poll_after_s = 0;
}

/* POST /files or to the upload URL: {"data": {"type": "analysis", "id"}}.
 * The bytes are no longer needed once VirusTotal has them. An answer
 * without an id is error/malformed but ANSWER_PERMANENT: the engine's
 * retry would upload the file again, for one more of a free key's 4
 * requests a minute. */
static enum answer_class after_upload(struct lookup *lookup, struct provider_job *job,
				      const cJSON *data)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "id"));

	if (id == NULL || *id == '\0' || strlen(id) > 512) {
		malformed(lookup, "upload");
		return ANSWER_PERMANENT;
	}
	set_id(job, id);
	sample_unref(lookup->sample);
	lookup->sample = NULL;
	poll_later(lookup, job, "queued");
	return ANSWER_DECIDED;
}

/* GET /files/upload_url: {"data": "<one-time URL>"}. */
static enum answer_class after_upload_url(const struct integration *in, struct lookup *lookup,
					  struct provider_job *job, const cJSON *data)
{
	const char *url = cJSON_GetStringValue(data);
	char *target = url != NULL ? upload_target(in, url) : NULL;

	if (target == NULL)
		return malformed(lookup, "upload_url");
	g_free(job->id);
	job->id = target;
	job->step = STEP_UPLOAD_TO;
	job->next = JOB_STEP_NOW;
	return ANSWER_DECIDED;
}

/* GET /analyses/{id}: status queued, in-progress or completed (§3.5). */
static enum answer_class after_poll(const struct integration *in, struct lookup *lookup,
				    struct provider_job *job, const cJSON *data)
{
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(data, "attributes");
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(attrs, "status"));

	if (status == NULL)
		return malformed(lookup, "analysis");
	if (strcmp(status, "queued") == 0 || strcmp(status, "in-progress") == 0) {
		poll_later(lookup, job, status);
		return ANSWER_DECIDED;
	}
	if (strcmp(status, "completed") != 0)
		return malformed(lookup, "analysis");
	return virustotal_stats_verdict(in, lookup, cJSON_GetObjectItemCaseSensitive(attrs, "stats"),
					true);
}

/* A 200 of steps 1 to 4. */
static enum answer_class job_json(const struct integration *in, struct lookup *lookup,
				  struct provider_job *job, const struct http_response *resp)
{
	cJSON *json = provider_parse_json(&lookup, 1, resp);
	const cJSON *data;
	enum answer_class class;

	if (json == NULL)	/* error/malformed already; an upload is not retried */
		return is_upload(job) ? ANSWER_PERMANENT : ANSWER_TRANSIENT;
	data = cJSON_GetObjectItemCaseSensitive(json, "data");
	switch ((enum vt_step)job->step) {
	case STEP_UPLOAD:
	case STEP_UPLOAD_TO:
		class = after_upload(lookup, job, data);
		break;
	case STEP_UPLOAD_URL:
		class = after_upload_url(in, lookup, job, data);
		break;
	default:
		class = after_poll(in, lookup, job, data);
		break;
	}
	cJSON_Delete(json);
	return class;
}

/* A poll's error answer: NotAvailableYet means "later" (§4); a 404 is an
 * analysis that vanished, not an unknown file (no cached "unknown"). */
static enum answer_class poll_error(const struct integration *in, struct lookup *lookup,
				    struct provider_job *job, const struct http_response *resp)
{
	char *code = NULL, *message = NULL;
	enum answer_class class = ANSWER_DECIDED;

	provider_error_envelope(resp, &code, &message);
	if (resp->status == 400 && g_strcmp0(code, "NotAvailableYet") == 0) {
		poll_later(lookup, job, "not available yet");
	} else if (resp->status == 404) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER,
			      "HTTP 404 analysis not found");
		class = ANSWER_PERMANENT;
	} else {
		class = virustotal_error(in, &lookup, 1, resp);
	}
	g_free(code);
	g_free(message);
	return class;
}

enum answer_class virustotal_job_parse(const struct integration *in, struct lookup *lookup,
				       struct provider_job *job,
				       const struct http_response *resp)
{
	job->next = JOB_FINISHED;
	if (resp->status == 0)
		return provider_http_failure(&lookup, 1, resp);
	if (job->step == STEP_LOOKUP) {
		enum answer_class class;

		if (resp->status == 404)
			return after_not_found(lookup, job);
		class = provider_json_response(in, &lookup, 1, resp);
		if (class == ANSWER_DECIDED && lookup->result.status == LOOKUP_PENDING) {
			/* NotAvailableYet: being analysed; the file again later */
			job->next = JOB_POLL_LATER;
			job->poll_after_s = 0;
		}
		return class;
	}
	if (job->step == STEP_POLL && resp->status != 200)
		return poll_error(in, lookup, job, resp);
	if (resp->status != 200) {
		/* an upload refused: 429 quota, 401 key, 400, 413, 5xx */
		enum answer_class class = virustotal_error(in, &lookup, 1, resp);

		if (lookup->result.status == LOOKUP_UNKNOWN ||	/* 404 */
		    lookup->result.status == LOOKUP_PENDING)	/* NotAvailableYet */
			provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER,
				      "upload refused: HTTP %ld", resp->status);
		return class == ANSWER_DECIDED ? ANSWER_PERMANENT : class;
	}
	return job_json(in, lookup, job, resp);
}

/* A hash lookup with the file (lookup->sample): hash, upload, polls. An
 * upload the analysis of which takes longer than the JobTimeout default
 * is not waited for. */
const struct provider_job_ops virustotal_job = {
	.request = virustotal_job_request,
	.parse = virustotal_job_parse,
	/* §4: 4 requests a minute on a free key, every poll costs one: the
	 * polls start at PollInterval (1m for this type, integration_schema.c)
	 * and double to 5 min */
	.poll = { .max_s = 300 },
	.only_with_sample = true,
};
