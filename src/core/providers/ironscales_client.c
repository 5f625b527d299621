/* ironscales_client.c: the IRONSCALES AppAPI session (ironscales.h):
 * token exchange for a JWT, calls with it, the answers' errors, the 120
 * calls per minute throttle and the seed's periods and id lists
 * (../shared/providers/ironscales.md §2-§4). */
#include "providers/ironscales.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "providers/provider.h"
#include "providers/sync_runner.h"

/* ------------------------------------------------------------- periods */

/* The seed's DDL, in the order of the API's integer values (§1). */
static const char *const period_labels[IRONSCALES_PERIODS] = {
	"Last 24 hours", "Last 7 days", "Last 90 days", "Last 180 days",
	"Last 360 days", "Current year to date", "All time",
};

int ironscales_period_find(const char *label)
{
	for (int i = 0; label != NULL && i < IRONSCALES_PERIODS; i++)
		if (strcasecmp(period_labels[i], label) == 0)
			return i;
	return -1;
}

const char *ironscales_period_label(int period)
{
	return period >= 0 && period < IRONSCALES_PERIODS ? period_labels[period] : NULL;
}

/* ----------------------------------------------------------------- ids */

GPtrArray *ironscales_parse_ids(const char *csv, char *err, size_t errlen)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	gchar **items = g_strsplit(csv ? csv : "", ",", -1);

	for (size_t i = 0; items[i] != NULL; i++) {
		char *id = g_strstrip(items[i]);
		char *shown;

		if (*id == '\0' || strspn(id, "0123456789") != strlen(id) || strlen(id) > 15) {
			shown = provider_printable(id, 40);
			snprintf(err, errlen, "'%s' is not an incident ID (digits)",
				 shown ? shown : "");
			g_free(shown);
			goto fail;
		}
		for (guint k = 0; k < ids->len; k++) {
			if (strcmp(g_ptr_array_index(ids, k), id) == 0) {
				snprintf(err, errlen, "incident ID %s is given twice", id);
				goto fail;
			}
		}
		g_ptr_array_add(ids, g_strdup(id));
	}
	g_strfreev(items);
	if (ids->len == 0) {
		snprintf(err, errlen, "no incident IDs given");
		g_ptr_array_unref(ids);
		return NULL;
	}
	return ids;
fail:
	g_strfreev(items);
	g_ptr_array_unref(ids);
	return NULL;
}

/* ------------------------------------------------------------- session */

/* §2: "Is Partner" changes only the scopes asked for. */
static const char *const company_scopes[] = {
	"company.view", "company.all", "company.classify", NULL,
};
static const char *const partner_scopes[] = {
	"partner.company.view", "partner.company.create", "partner.company.edit",
	"partner.all", "partner.company.classify", NULL,
};

bool ironscales_session_init(struct ironscales_session *s, const struct provider_run *run,
			     char *err, size_t errlen)
{
	const struct integration *in = run->in;
	char root[1024];

	memset(s, 0, sizeof(*s));
	if (in->api_url == NULL || *in->api_url == '\0') {
		snprintf(err, errlen, "the integration has no APIURL");
		return false;
	}
	if (in->api_key == NULL || *in->api_key == '\0') {
		snprintf(err, errlen, "the integration has no API token (APIKey)");
		return false;
	}
	if (in->company_id == NULL || *in->company_id == '\0') {
		snprintf(err, errlen, "the integration has no CompanyID");
		return false;
	}
	/* it goes into every path (the loader checks it too) */
	if (strspn(in->company_id, "0123456789") != strlen(in->company_id)) {
		snprintf(err, errlen, "the integration's CompanyID is not a number");
		return false;
	}
	s->run = run;
	/* §2: the root with one '/', then "appapi/" */
	s->root = g_string_new(provider_api_root(in, root, sizeof(root)));
	g_string_append(s->root, "/appapi/");
	s->notes = g_ptr_array_new_with_free_func(g_free);
	return true;
}

static void drop_jwt(struct ironscales_session *s)
{
	if (s->jwt != NULL) {
		memset(s->jwt, 0, strlen(s->jwt));
		g_free(s->jwt);
		s->jwt = NULL;
	}
}

void ironscales_session_clear(struct ironscales_session *s)
{
	drop_jwt(s);
	if (s->root != NULL)
		g_string_free(s->root, TRUE);
	if (s->notes != NULL)
		g_ptr_array_unref(s->notes);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------- answers */

/* Replaces every copy of secret in text by "****". */
static void scrub(GString *text, const char *secret)
{
	size_t len = secret ? strlen(secret) : 0;
	char *at;

	if (len < 4)
		return;
	while ((at = strstr(text->str, secret)) != NULL) {
		gssize pos = at - text->str;

		g_string_erase(text, pos, (gssize)len);
		g_string_insert(text, pos, "****");
	}
}

/* The provider's own text of an error answer: error_message (§3.1),
 * detail (a string or a one-item list, §4) or message; NULL when none. */
static char *error_text(const struct http_response *resp)
{
	static const char *const names[] = { "error_message", "detail", "message", "error" };
	cJSON *json = cJSON_ParseWithLength(resp->body, resp->body_len);
	char *text = NULL;

	for (size_t i = 0; json != NULL && text == NULL && i < G_N_ELEMENTS(names); i++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, names[i]);

		if (cJSON_IsArray(item))
			item = cJSON_GetArrayItem(item, 0);
		if (cJSON_IsString(item) && *item->valuestring)
			text = provider_printable(item->valuestring, 200);
	}
	/* "some endpoints wrap it in a list" (§4) */
	if (text == NULL && cJSON_IsArray(json) && cJSON_IsString(cJSON_GetArrayItem(json, 0)))
		text = provider_printable(cJSON_GetArrayItem(json, 0)->valuestring, 200);
	cJSON_Delete(json);
	return text;
}

/* "HTTP 403: <provider's text>" or the transport failure, without the
 * token or the JWT, into err. */
static void describe_failure(const struct ironscales_session *s, const char *context,
			     const struct http_response *resp, char *err, size_t errlen)
{
	GString *text = g_string_new(context);

	if (resp->status == 0) {
		g_string_append_printf(text, "%s%s", text->len ? ": " : "",
				       resp->timed_out ? "timeout"
				       : resp->transport_error ? resp->transport_error
				       : "no answer");
	} else {
		char *own = error_text(resp);

		g_string_append_printf(text, "%sHTTP %ld%s%s", text->len ? ": " : "",
				       resp->status, own ? ": " : "", own ? own : "");
		g_free(own);
	}
	scrub(text, s->run->in->api_key);
	scrub(text, s->jwt);
	snprintf(err, errlen, "%s", text->str);
	g_string_free(text, TRUE);
}

/* Seconds a 429 asks to wait: Retry-After, else the number in "Expected
 * available in 60 seconds" (§4), else a whole minute. */
static long throttle_seconds(const struct http_response *resp)
{
	char *text = error_text(resp);
	const char *at = text ? strstr(text, "available in ") : NULL;
	long seconds = IRONSCALES_MAX_WAIT_S;

	if (resp->retry_after_s > 0)
		seconds = resp->retry_after_s;
	else if (at != NULL) {
		char *end;
		long n;

		errno = 0;
		n = strtol(at + strlen("available in "), &end, 10);
		if (errno == 0 && end != at + strlen("available in ") && n >= 0)
			seconds = n;
	}
	g_free(text);
	return seconds;
}

/* ------------------------------------------------------------ requests */

static void wipe_answer(struct provider_http_answer *ans)
{
	if (ans->body != NULL)
		memset(ans->body->str, 0, ans->body->len);
	provider_http_answer_clear(ans);
}

/* Sends one request (body: JSON text or NULL; the JWT when auth) and
 * fills ans. */
static void send_once(struct ironscales_session *s, const char *method, const char *url,
		      const char *body, bool auth, struct provider_http_answer *ans)
{
	struct http_request req;

	http_request_init(&req);
	req.method = method;
	g_string_assign(req.url, url);
	http_request_json_headers(&req, NULL, NULL);
	if (auth)
		g_ptr_array_add(req.headers, g_strdup_printf("Authorization: Bearer %s", s->jwt));
	if (body != NULL) {
		g_ptr_array_add(req.headers, g_strdup("Content-Type: application/json"));
		req.body = g_string_new(body);
	}
	s->calls++;
	provider_run_http(s->run, &req, ans);
	if (req.body != NULL)	/* the token exchange's body holds the key */
		memset(req.body->str, 0, req.body->len);
	http_request_clear(&req);
}

/* send_once, again after one throttled answer (waiting as it asks, up to
 * IRONSCALES_MAX_WAIT_S) and once more after a 5xx or transport failure
 * (1 s later): §4's "Retry?" column. ans holds the last answer. */
static void deliver(struct ironscales_session *s, const char *method, const char *url,
		    const char *body, bool auth, struct provider_http_answer *ans)
{
	bool throttled = false, failed = false;

	for (;;) {
		send_once(s, method, url, body, auth, ans);
		long status = ans->resp.status;

		if (status == 429 && !throttled) {
			long wait = throttle_seconds(&ans->resp);

			if (wait > IRONSCALES_MAX_WAIT_S)
				return;
			throttled = true;
			g_ptr_array_add(s->notes, g_strdup_printf(
				"IRONSCALES throttled the request (HTTP 429, at most 120 calls per "
				"minute); retrying after %ld s", wait));
			g_usleep((gulong)wait * G_USEC_PER_SEC);
		} else if ((status == 0 || status >= 500) && !failed) {
			failed = true;
			g_usleep(G_USEC_PER_SEC);
		} else {
			return;
		}
		wipe_answer(ans);
	}
}

/* §3.1: POST appapi/get-token/ {"key", "scopes"} -> {"jwt"}. */
static bool exchange_token(struct ironscales_session *s, char *err, size_t errlen)
{
	const char *const *scopes = s->run->in->is_partner ? partner_scopes : company_scopes;
	struct provider_http_answer ans = { 0 };
	cJSON *request = cJSON_CreateObject(), *answer;
	cJSON *key = cJSON_AddStringToObject(request, "key", s->run->in->api_key);
	cJSON *list = cJSON_AddArrayToObject(request, "scopes");
	char *url = g_strconcat(s->root->str, "get-token/", NULL);
	char *body;
	bool ok = false;

	for (size_t i = 0; scopes[i] != NULL; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(scopes[i]));
	body = cJSON_PrintUnformatted(request);
	memset(key->valuestring, 0, strlen(key->valuestring));
	cJSON_Delete(request);
	drop_jwt(s);
	s->exchanges++;
	deliver(s, "POST", url, body, false, &ans);
	memset(body, 0, strlen(body));
	cJSON_free(body);
	g_free(url);
	if (ans.resp.status < 200 || ans.resp.status > 299) {
		describe_failure(s, "token exchange", &ans.resp, err, errlen);
	} else {
		answer = cJSON_ParseWithLength(ans.resp.body, ans.resp.body_len);
		const cJSON *jwt = cJSON_GetObjectItemCaseSensitive(answer, "jwt");

		if (cJSON_IsString(jwt) && *jwt->valuestring &&
		    strpbrk(jwt->valuestring, "\r\n") == NULL) {
			s->jwt = g_strdup(jwt->valuestring);
			memset(jwt->valuestring, 0, strlen(jwt->valuestring));
			ok = true;
		} else {
			snprintf(err, errlen, "token exchange: HTTP %ld without a jwt",
				 ans.resp.status);
		}
		cJSON_Delete(answer);
	}
	wipe_answer(&ans);
	return ok;
}

/* The URL of path below appapi/, "{C}" replaced by the company id. */
static char *call_url(const struct ironscales_session *s, const char *path)
{
	GString *url = g_string_new(s->root->str);
	const char *at;

	while ((at = strstr(path, "{C}")) != NULL) {
		g_string_append_len(url, path, at - path);
		g_string_append(url, s->run->in->company_id);
		path = at + 3;
	}
	g_string_append(url, path);
	return g_string_free(url, FALSE);
}

cJSON *ironscales_call(struct ironscales_session *s, const char *method, const char *path,
		       const cJSON *body, bool *not_found, char *err, size_t errlen)
{
	struct provider_http_answer ans = { 0 };
	char *url = call_url(s, path);
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON *json = NULL;
	long status;

	*not_found = false;
	for (bool again = true;;) {
		bool fresh = s->jwt == NULL;

		if (fresh && !exchange_token(s, err, errlen))
			goto out;
		deliver(s, method, url, text, true, &ans);
		status = ans.resp.status;
		/* a JWT of an earlier call refused (expired, revoked): one new
		 * one and the call again; a fresh one refused is the answer */
		if ((status == 401 || status == 403) && !fresh && again) {
			again = false;
			drop_jwt(s);
			wipe_answer(&ans);
			continue;
		}
		break;
	}
	if (status == 404) {
		*not_found = true;
		snprintf(err, errlen, "HTTP 404: not found");
	} else if (status < 200 || status > 299) {
		describe_failure(s, "", &ans.resp, err, errlen);
	} else if ((json = cJSON_ParseWithLength(ans.resp.body, ans.resp.body_len)) == NULL) {
		snprintf(err, errlen, "HTTP %ld: the answer is not JSON", status);
	}
out:
	wipe_answer(&ans);
	cJSON_free(text);
	g_free(url);
	return json;
}
