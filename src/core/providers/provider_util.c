/* provider_util.c: what every provider needs the same way: results,
 * the common HTTP failures, JSON bodies, URL escaping. */
#include "providers/provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

void provider_set_result(struct lookup *lookup, enum lookup_status status,
			 const char *details_fmt, ...)
{
	va_list ap;

	g_free(lookup->result.details);
	lookup->result.status = status;
	lookup->result.details = NULL;
	if (details_fmt != NULL) {
		va_start(ap, details_fmt);
		lookup->result.details = g_strdup_vprintf(details_fmt, ap);
		va_end(ap);
	}
}

static void set_all(struct lookup *const *batch, size_t n, enum lookup_status status,
		    const char *details)
{
	for (size_t i = 0; i < n; i++)
		provider_set_result(batch[i], status, "%s", details);
}

enum answer_class provider_http_failure(struct lookup *const *batch, size_t n,
					const struct http_response *resp)
{
	char details[128];
	enum answer_class class;
	enum lookup_status status = LOOKUP_ERROR;

	if (resp->status == 0) {
		/* curl's text names host and port at most, never the path
		 * or query where a key may be. */
		snprintf(details, sizeof(details), "%s",
			 resp->transport_error ? resp->transport_error : "no answer");
		class = ANSWER_TRANSIENT;
	} else if (resp->status == 401 || resp->status == 403) {
		snprintf(details, sizeof(details), "HTTP %ld: credentials refused", resp->status);
		class = ANSWER_AUTH;
	} else if (resp->status == 429) {
		snprintf(details, sizeof(details), "HTTP 429: provider rate limit");
		status = LOOKUP_RATE_LIMITED;
		class = ANSWER_QUOTA;
	} else if (resp->status >= 500) {
		snprintf(details, sizeof(details), "HTTP %ld", resp->status);
		class = ANSWER_TRANSIENT;
	} else {
		snprintf(details, sizeof(details), "HTTP %ld", resp->status);
		class = ANSWER_PERMANENT;
	}
	set_all(batch, n, status, details);
	return class;
}

cJSON *provider_parse_json(struct lookup *const *batch, size_t n,
			   const struct http_response *resp)
{
	cJSON *json = cJSON_ParseWithLength(resp->body, resp->body_len);

	if (json == NULL || !cJSON_IsObject(json)) {
		cJSON_Delete(json);
		set_all(batch, n, LOOKUP_ERROR, "malformed answer");
		return NULL;
	}
	return json;
}

char *provider_uri_escape(const char *text)
{
	return g_uri_escape_string(text, NULL, FALSE);
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

/* ---- Google APIs ---- */

/* Google's enum names are UPPER_SNAKE_CASE; anything else in their place
 * is not an answer we can read (and must not reach a details text). */
static bool google_enum_name(const char *text)
{
	size_t len = strlen(text);

	return len > 0 && len <= 64 && strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == len;
}

enum lookup_status provider_google_threat_status(const char *threat_type)
{
	if (!google_enum_name(threat_type))
		return LOOKUP_ERROR;
	if (strcmp(threat_type, "MALWARE") == 0 ||
	    strcmp(threat_type, "SOCIAL_ENGINEERING") == 0 ||
	    strcmp(threat_type, "SOCIAL_ENGINEERING_EXTENDED_COVERAGE") == 0)
		return LOOKUP_MALICIOUS;
	return LOOKUP_SUSPICIOUS;
}

static bool google_key_invalid(const cJSON *error)
{
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(error, "details");
	const cJSON *item;

	if (!cJSON_IsArray(details))
		return false;
	cJSON_ArrayForEach(item, details) {
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(item, "reason");

		if (cJSON_IsString(reason) && strcmp(reason->valuestring, "API_KEY_INVALID") == 0)
			return true;
	}
	return false;
}

/* Google's message, fit for a details text: the key scrubbed out (the
 * request URL carries it; an echo must not leak it), then one line of at
 * most 200 bytes, cut between UTF-8 characters. */
static char *google_message(const cJSON *error, const char *key)
{
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
	GString *text;

	if (!cJSON_IsString(message) || message->valuestring[0] == '\0')
		return NULL;
	text = g_string_new(message->valuestring);
	if (key != NULL && *key != '\0')
		g_string_replace(text, key, "<key>", 0);
	if (text->len > 200) {
		gsize cut = 200;

		while (cut > 0 && ((unsigned char)text->str[cut] & 0xc0) == 0x80)
			cut--;
		g_string_truncate(text, cut);
	}
	for (gsize i = 0; i < text->len; i++)
		if ((unsigned char)text->str[i] < 0x20 || text->str[i] == 0x7f)
			text->str[i] = ' ';
	return g_string_free(text, FALSE);
}

/* Google's canonical status name ("PERMISSION_DENIED"), or NULL. */
static const char *google_status(const cJSON *error)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(error, "status");

	return cJSON_IsString(status) && google_enum_name(status->valuestring)
	       ? status->valuestring : NULL;
}

enum answer_class provider_google_failure(const struct integration *in,
					  struct lookup *const *batch, size_t n,
					  const struct http_response *resp)
{
	cJSON *json = resp->body ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
	const char *status = google_status(error);
	char *message = google_message(error, in->api_key);
	enum answer_class class;

	if (resp->status == 400 && google_key_invalid(error)) {
		for (size_t i = 0; i < n; i++)
			provider_set_result(batch[i], LOOKUP_ERROR, "HTTP 400 API_KEY_INVALID: %s",
					    message ? message : "API key not valid");
		class = ANSWER_AUTH;
	} else {
		class = provider_http_failure(batch, n, resp);
		if (resp->status != 0 && (status != NULL || message != NULL))
			for (size_t i = 0; i < n; i++)
				provider_set_result(batch[i], batch[i]->result.status, "HTTP %ld%s%s%s%s",
						    resp->status, status ? " " : "", status ? status : "",
						    message ? ": " : "", message ? message : "");
	}
	g_free(message);
	cJSON_Delete(json);
	return class;
}

char *provider_printable(const char *text, size_t max)
{
	char *copy;

	if (text == NULL || text[0] == '\0')
		return NULL;
	copy = g_strndup(text, max);
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || (unsigned char)*c >= 0x80)
			*c = ' ';
	return copy;
}
