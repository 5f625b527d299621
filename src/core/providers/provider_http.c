/* provider_http.c: the HTTP side every provider and both transports
 * share (provider_http.h): requests as data, their curl set-up, the
 * answer's status ladder, error envelopes and JSON bodies. */
#include <autoconfig.h>

#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

/* ------------------------------------------------------------ request */

void http_request_init(struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->url = g_string_new(NULL);
	req->headers = g_ptr_array_new_with_free_func(g_free);
}

static void wipe_string(GString *text)
{
	if (text != NULL)
		memset(text->str, 0, text->len);
}

static void part_free(gpointer data)
{
	struct http_part *part = data;

	g_free(part->name);
	g_free(part->filename);
	g_free(part->content_type);
	if (part->data != NULL)
		g_bytes_unref(part->data);
	g_free(part->path);
	g_free(part);
}

void http_request_clear(struct http_request *req)
{
	if (req->url != NULL) {
		wipe_string(req->url);
		g_string_free(req->url, TRUE);
	}
	if (req->headers != NULL) {
		for (guint i = 0; i < req->headers->len; i++) {
			char *h = g_ptr_array_index(req->headers, i);
			memset(h, 0, strlen(h));
		}
		g_ptr_array_unref(req->headers);
	}
	if (req->body != NULL) {
		wipe_string(req->body);	/* FortiSandbox: a session, a password */
		g_string_free(req->body, TRUE);
	}
	if (req->basic_auth != NULL) {
		memset(req->basic_auth, 0, strlen(req->basic_auth));
		g_free(req->basic_auth);
	}
	if (req->parts != NULL)
		g_ptr_array_unref(req->parts);
	memset(req, 0, sizeof(*req));
}

void http_request_json_headers(struct http_request *req, const char *key_header,
			       const char *key)
{
	if (key_header != NULL)
		g_ptr_array_add(req->headers, g_strdup_printf("%s: %s", key_header, key ? key : ""));
	g_ptr_array_add(req->headers, g_strdup("Accept: application/json"));
}

static struct http_part *add_part(struct http_request *req, const char *name,
				  const char *filename, const char *content_type)
{
	struct http_part *part = g_new0(struct http_part, 1);

	if (req->parts == NULL)
		req->parts = g_ptr_array_new_with_free_func(part_free);
	part->name = g_strdup(name);
	part->filename = g_strdup(filename);
	part->content_type = g_strdup(content_type);
	g_ptr_array_add(req->parts, part);
	req->method = "POST";
	return part;
}

void http_request_add_part(struct http_request *req, const char *name, const char *filename,
			   const char *content_type, const void *data, size_t len)
{
	add_part(req, name, filename, content_type)->data = g_bytes_new(data, len);
}

void http_request_add_file_part(struct http_request *req, const char *name,
				const char *filename, const char *content_type,
				const char *path)
{
	add_part(req, name, filename, content_type)->path = g_strdup(path);
}

void http_request_add_fields(struct http_request *req, const cJSON *fields)
{
	const cJSON *field;

	cJSON_ArrayForEach(field, fields) {
		char *text = cJSON_IsString(field) ? NULL : cJSON_PrintUnformatted(field);
		const char *value = text != NULL ? text : cJSON_GetStringValue(field);

		if (value != NULL)	/* NULL: no memory to print it */
			http_request_add_part(req, field->string, NULL, NULL, value, strlen(value));
		cJSON_free(text);
	}
}

void provider_json_add_fixed(cJSON *object, const char *fixed)
{
	cJSON *params = cJSON_Parse(fixed);
	const cJSON *param;

	if (!cJSON_IsObject(params))
		g_error("fixed request parameters are no JSON object: %s", fixed);
	cJSON_ArrayForEach(param, params)
		cJSON_AddItemToObject(object, param->string, cJSON_Duplicate(param, true));
	cJSON_Delete(params);
}

/* The multipart body: one curl_mimepart per struct http_part. */
static CURLcode set_parts(CURL *easy, const GPtrArray *parts, struct http_easy_hold *hold)
{
	CURLcode rc = CURLE_OK;

	hold->mime = curl_mime_init(easy);
	if (hold->mime == NULL)
		return CURLE_OUT_OF_MEMORY;
	for (guint i = 0; i < parts->len && rc == CURLE_OK; i++) {
		const struct http_part *part = g_ptr_array_index(parts, i);
		curl_mimepart *mp = curl_mime_addpart(hold->mime);

		if (mp == NULL)
			return CURLE_OUT_OF_MEMORY;
		rc = curl_mime_name(mp, part->name);
		if (rc == CURLE_OK && part->path != NULL)
			rc = curl_mime_filedata(mp, part->path);
		else if (rc == CURLE_OK && part->data != NULL) {
			gsize len;
			const void *bytes = g_bytes_get_data(part->data, &len);
			rc = curl_mime_data(mp, bytes ? bytes : "", len);
		}
		/* after filedata, which sets the path's base name */
		if (rc == CURLE_OK && part->filename != NULL)
			rc = curl_mime_filename(mp, part->filename);
		if (rc == CURLE_OK && part->content_type != NULL)
			rc = curl_mime_type(mp, part->content_type);
	}
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(easy, CURLOPT_MIMEPOST, hold->mime);
	return rc;
}

static CURLcode set_body(CURL *easy, const struct http_request *req, struct http_easy_hold *hold)
{
	bool post = strcmp(req->method, "POST") == 0;

	if (req->parts != NULL && req->parts->len > 0)
		return set_parts(easy, req->parts, hold);
	if (post) {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body ? req->body->str : "");
		return curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE,
					(long)(req->body ? req->body->len : 0));
	}
	if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body->str);
		return curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)req->body->len);
	}
	return CURLE_OK;
}

CURLcode http_request_to_easy(CURL *easy, const struct http_request *req,
			      const struct integration *in, const char *ca_file,
			      long timeout_ms, struct http_easy_hold *hold)
{
	bool has_body = req->body != NULL || (req->parts != NULL && req->parts->len > 0) ||
			strcmp(req->method, "POST") == 0;

	memset(hold, 0, sizeof(*hold));
	curl_easy_setopt(easy, CURLOPT_URL, req->url->str);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "threatmilter/" PACKAGE_VERSION);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, in->verify_ssl ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, in->verify_ssl ? 2L : 0L);
	if (ca_file != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file);
	/* "default" proxy means none, also none from the environment. */
	curl_easy_setopt(easy, CURLOPT_PROXY, in->proxy ? in->proxy : "");
	if (req->basic_auth != NULL) {
		curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(easy, CURLOPT_USERPWD, req->basic_auth);
	}
	for (guint i = 0; req->headers != NULL && i < req->headers->len; i++) {
		struct curl_slist *next = curl_slist_append(hold->headers,
							    g_ptr_array_index(req->headers, i));
		if (next == NULL)
			return CURLE_OUT_OF_MEMORY;
		hold->headers = next;
	}
	/* Without this, curl sends "Expect: 100-continue" with a body over
	 * 1 KiB and waits up to a second for the interim answer (a Safe
	 * Browsing batch of a few URLs is enough). */
	if (has_body) {
		struct curl_slist *next = curl_slist_append(hold->headers, "Expect:");
		if (next == NULL)
			return CURLE_OUT_OF_MEMORY;
		hold->headers = next;
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hold->headers);
	return set_body(easy, req, hold);
}

void http_easy_hold_free(struct http_easy_hold *hold)
{
	curl_slist_free_all(hold->headers);
	curl_mime_free(hold->mime);
	hold->headers = NULL;
	hold->mime = NULL;
}

/* ------------------------------------------------------------ answer */

/* Seconds from a rate-limit header; -1 when absent or not a number. */
static long reset_header_s(CURL *easy, const char *name)
{
	struct curl_header *header = NULL;
	char *end;
	long long seconds;

	if (name == NULL ||
	    curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &header) != CURLHE_OK ||
	    header == NULL)
		return -1;
	seconds = strtoll(header->value, &end, 10);
	if (end == header->value || *end != '\0' || seconds <= 0)
		return -1;
	return seconds > HTTP_RETRY_AFTER_MAX_S ? HTTP_RETRY_AFTER_MAX_S : (long)seconds;
}

void http_response_from_easy(CURL *easy, CURLcode code, const char *errbuf,
			     const GString *body, const char *reset_header,
			     struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->retry_after_s = -1;
	if (code == CURLE_OK) {
		curl_off_t retry_after = 0;

		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
		if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
		    retry_after > 0)
			resp->retry_after_s = retry_after > HTTP_RETRY_AFTER_MAX_S
					      ? HTTP_RETRY_AFTER_MAX_S : (long)retry_after;
		else if (resp->status >= 400)	/* not for every verdict: a header scan */
			resp->retry_after_s = reset_header_s(easy, reset_header);
	} else {
		resp->timed_out = code == CURLE_OPERATION_TIMEDOUT;
		resp->transport_error = resp->timed_out ? "timeout"
				      : (errbuf && errbuf[0] ? errbuf : curl_easy_strerror(code));
	}
	resp->body = body ? body->str : "";
	resp->body_len = body ? body->len : 0;
}

const char *provider_api_root(const struct integration *in, char *buf, size_t len)
{
	const char *root = in->api_url ? in->api_url : "";
	size_t n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	snprintf(buf, len, "%.*s", (int)n, root);
	return buf;
}

static void fail_all(struct lookup *const *batch, size_t n, enum lookup_status status,
		     enum lookup_error error, const char *details)
{
	for (size_t i = 0; i < n; i++)
		provider_fail(batch[i], status, error, "%s", details);
}

enum answer_class provider_http_failure(struct lookup *const *batch, size_t n,
					const struct http_response *resp)
{
	char details[128];

	if (resp->status == 0) {
		/* curl's text names host and port at most, never the path
		 * or query where a key may be. */
		snprintf(details, sizeof(details), "%s",
			 resp->transport_error ? resp->transport_error : "no answer");
		fail_all(batch, n, LOOKUP_ERROR,
			 resp->timed_out ? LOOKUP_ERR_TIMEOUT : LOOKUP_ERR_TRANSPORT, details);
		return ANSWER_TRANSIENT;
	}
	if (resp->status == 401 || resp->status == 403) {
		snprintf(details, sizeof(details), "HTTP %ld: credentials refused", resp->status);
		fail_all(batch, n, LOOKUP_ERROR, LOOKUP_ERR_AUTH, details);
		return ANSWER_AUTH;
	}
	if (resp->status == 429) {
		fail_all(batch, n, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA,
			 "HTTP 429: provider rate limit");
		return ANSWER_QUOTA;
	}
	snprintf(details, sizeof(details), "HTTP %ld", resp->status);
	fail_all(batch, n, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, details);
	return resp->status >= 500 ? ANSWER_TRANSIENT : ANSWER_PERMANENT;
}

/* Envelope code: a string, or Google's status name next to its number. */
static char *envelope_code(const cJSON *error)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(error, "status");

	if (cJSON_IsString(status))
		return provider_printable(status->valuestring, 64);
	if (cJSON_IsString(code))
		return provider_printable(code->valuestring, 64);
	return NULL;
}

bool provider_error_envelope(const struct http_response *resp, char **code, char **message)
{
	cJSON *json = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
	const cJSON *text = NULL;

	*code = NULL;
	*message = NULL;
	if (cJSON_IsString(error)) {
		text = error;
	} else if (cJSON_IsObject(error)) {
		*code = envelope_code(error);
		text = cJSON_GetObjectItemCaseSensitive(error, "message");
		if (!cJSON_IsString(text))
			text = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(error, "messages"), 0);
	}
	if (cJSON_IsString(text))
		*message = provider_printable(text->valuestring, 200);
	cJSON_Delete(json);
	return *code != NULL || *message != NULL;
}

cJSON *provider_parse_json(struct lookup *const *batch, size_t n,
			   const struct http_response *resp)
{
	cJSON *json = cJSON_ParseWithLength(resp->body, resp->body_len);

	if (json == NULL || !cJSON_IsObject(json)) {
		cJSON_Delete(json);
		fail_all(batch, n, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer");
		return NULL;
	}
	return json;
}
