/* provider_util.c: what every provider needs the same way: results and
 * their error kinds, URL escaping, printable texts, the Test Connection
 * predicates, Google's shared threat types and errors. The HTTP side is
 * in provider_http.c. */
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
	lookup->result.error = status == LOOKUP_RATE_LIMITED ? LOOKUP_ERR_QUOTA
			     : status == LOOKUP_ERROR ? LOOKUP_ERR_PROVIDER : LOOKUP_ERR_NONE;
	lookup->result.details = NULL;
	if (details_fmt != NULL) {
		va_start(ap, details_fmt);
		lookup->result.details = g_strdup_vprintf(details_fmt, ap);
		va_end(ap);
	}
}

void provider_fail(struct lookup *lookup, enum lookup_status status, enum lookup_error error,
		   const char *details_fmt, ...)
{
	va_list ap;

	g_free(lookup->result.details);
	lookup->result.status = status;
	lookup->result.error = error;
	lookup->result.details = NULL;
	if (details_fmt != NULL) {
		va_start(ap, details_fmt);
		lookup->result.details = g_strdup_vprintf(details_fmt, ap);
		va_end(ap);
	}
}

enum lookup_error provider_class_error(enum answer_class class)
{
	switch (class) {
	case ANSWER_AUTH:
		return LOOKUP_ERR_AUTH;
	case ANSWER_QUOTA:
		return LOOKUP_ERR_QUOTA;
	case ANSWER_DECIDED:
	case ANSWER_TRANSIENT:
	case ANSWER_PERMANENT:
		break;
	}
	return LOOKUP_ERR_PROVIDER;
}

enum answer_class provider_http_error(struct lookup *const *batch, size_t n,
				      const struct http_response *resp,
				      const struct provider_status_rule *rules, size_t nrules)
{
	enum answer_class class;
	char *code = NULL, *text = NULL;

	for (size_t r = 0; r < nrules; r++) {
		if (rules[r].status != resp->status)
			continue;
		for (size_t i = 0; i < n; i++)
			provider_set_result(batch[i], rules[r].result, "%s", rules[r].details);
		return rules[r].class;
	}
	class = provider_http_failure(batch, n, resp);
	if (resp->status == 400 && provider_error_envelope(resp, &code, &text) && text != NULL) {
		for (size_t i = 0; i < n; i++)
			provider_fail(batch[i], batch[i]->result.status, batch[i]->result.error,
				      "HTTP 400: %.120s", text);
	}
	g_free(code);
	g_free(text);
	return class;
}

enum answer_class provider_parse_answer(const struct integration *in,
					struct lookup *const *batch, size_t n,
					const struct http_response *resp)
{
	const struct provider_http_ops *http = in->type->ops.http;

	if (http->parse_response == NULL)
		return provider_json_response(in, batch, n, resp);
	return http->parse_response(in, batch, n, resp);
}

enum answer_class provider_parse_http(const struct integration *in,
				      struct lookup *const *batch, size_t n,
				      const struct http_response *resp)
{
	enum answer_class class;

	/* Providers see every HTTP answer, their own error statuses included
	 * (X-Force's 402, 404 = unknown...); they hand what is common back to
	 * provider_http_failure(). */
	if (resp->status != 0)
		class = provider_parse_answer(in, batch, n, resp);
	else
		class = provider_http_failure(batch, n, resp);
	for (size_t i = 0; i < n; i++) {
		struct lookup_result *r = &batch[i]->result;

		if ((r->status == LOOKUP_ERROR || r->status == LOOKUP_RATE_LIMITED) &&
		    r->error == LOOKUP_ERR_NONE)
			r->error = r->status == LOOKUP_RATE_LIMITED ? LOOKUP_ERR_QUOTA
				 : provider_class_error(class);
	}
	return class;
}

enum answer_class provider_json_response(const struct integration *in,
					 struct lookup *const *batch, size_t n,
					 const struct http_response *resp)
{
	const struct provider_http_ops *http = in->type->ops.http;
	enum answer_class class;
	cJSON *json;

	if (resp->status != 200)
		return http->error_response(in, batch, n, resp);
	json = provider_parse_json(batch, n, resp);
	if (json == NULL)
		return ANSWER_TRANSIENT;
	class = http->json_verdict(in, batch, n, json);
	cJSON_Delete(json);
	return class;
}

void provider_set_url(struct http_request *req, const struct integration *in, const char *path,
		      const char *segment)
{
	char root[1024];

	provider_api_root(in, root, sizeof(root));
	g_string_printf(req->url, "%s/%s/%s", root, path, segment);
}

bool provider_test_decided(const struct lookup *lookup)
{
	return lookup->result.status <= LOOKUP_UNKNOWN;
}

bool provider_test_listed(const struct lookup *lookup)
{
	return lookup->result.status == LOOKUP_MALICIOUS;
}

char *provider_uri_escape(const char *text)
{
	return g_uri_escape_string(text, NULL, FALSE);
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
			provider_fail(batch[i], LOOKUP_ERROR, LOOKUP_ERR_AUTH,
				      "HTTP 400 API_KEY_INVALID: %s",
				      message ? message : "API key not valid");
		class = ANSWER_AUTH;
	} else {
		class = provider_http_failure(batch, n, resp);
		if (resp->status != 0 && (status != NULL || message != NULL))
			for (size_t i = 0; i < n; i++)
				provider_fail(batch[i], batch[i]->result.status, batch[i]->result.error,
					      "HTTP %ld%s%s%s%s",
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
