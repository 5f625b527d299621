/* apivoid_client.c: APIVoid requests and answers, v1 and v2
 * (apivoid.h; ../shared/providers/apivoid.md §2-§5). No verdicts here:
 * the milter's rules are in apivoid.c, the seed's in apivoid_actions.c. */
#include "providers/apivoid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "util/log.h"

static const struct {
	const char *v1;		/* path under the v1 root */
	const char *v2;		/* path under <root>/v2 */
	const char *field;	/* query parameter (v1) and body field (v2) */
	double cost;		/* credits per call (apivoid.md §4) */
} calls[] = {
	[APIVOID_IP] = { "iprep", "ip-reputation", "ip", 1 },
	[APIVOID_DOMAIN] = { "domainbl", "domain-reputation", "host", 1 },
	[APIVOID_URL] = { "urlrep", "url-reputation", "url", 5 },
	[APIVOID_EMAIL] = { "emailverify", "email-verify", "email", 1 },
	[APIVOID_SCREENSHOT] = { "screenshot", "screenshot", "url", 1 },
	[APIVOID_STATS] = { "iprep", "ip-reputation", "ip", 0 },
};

bool apivoid_is_v2(const struct integration *in)
{
	char root[1024];

	if (in->api_version == API_VERSION_V1)
		return false;
	if (in->api_version == API_VERSION_V2)
		return true;
	provider_api_root(in, root, sizeof(root));
	return strstr(root, "://api.apivoid.com") != NULL || g_str_has_suffix(root, "/v2");
}

void apivoid_build(const struct integration *in, enum apivoid_call call, const char *entity,
		   struct http_request *req)
{
	char root[1024];
	char *with_scheme = NULL;

	provider_api_root(in, root, sizeof(root));
	if ((call == APIVOID_URL || call == APIVOID_SCREENSHOT) && strstr(entity, "://") == NULL)
		entity = with_scheme = g_strconcat("http://", entity, NULL);	/* §1 item 6 */
	if (apivoid_is_v2(in)) {
		cJSON *body = cJSON_CreateObject();
		char *text;

		/* no free account call in v2 (§5): one IP lookup, 1 credit */
		cJSON_AddStringToObject(body, calls[call].field,
					call == APIVOID_STATS ? "8.8.8.8" : entity);
		text = cJSON_PrintUnformatted(body);
		g_string_printf(req->url, "%s%s/%s", root, g_str_has_suffix(root, "/v2") ? "" : "/v2",
				calls[call].v2);
		req->method = "POST";
		req->body = g_string_new(text);
		cJSON_free(text);
		cJSON_Delete(body);
		http_request_json_headers(req, "X-API-Key", in->api_key);
		g_ptr_array_add(req->headers, g_strdup("Content-Type: application/json"));
	} else {
		char *key = provider_uri_escape(in->api_key ? in->api_key : "");

		if (call == APIVOID_STATS) {
			g_string_printf(req->url, "%s/%s/v1/pay-as-you-go/?stats&key=%s", root,
					calls[call].v1, key);
		} else {
			char *value = provider_uri_escape(entity);

			g_string_printf(req->url, "%s/%s/v1/pay-as-you-go/?%s=%s&key=%s", root,
					calls[call].v1, calls[call].field, value, key);
			g_free(value);
		}
		memset(key, 0, strlen(key));
		g_free(key);
		http_request_json_headers(req, NULL, NULL);
	}
	g_free(with_scheme);
}

void apivoid_answer_clear(struct apivoid_answer *ans)
{
	cJSON_Delete(ans->report);
	memset(ans, 0, sizeof(*ans));
}

/* message: "HTTP <status> <text>", or the text alone for a 200 (v1) or
 * no answer (status 0). */
static void fail(struct apivoid_answer *out, enum answer_class class, enum lookup_error error,
		 long status, const char *text)
{
	out->class = class;
	out->error = error;
	if (status == 0 || status == 200)
		snprintf(out->message, sizeof(out->message), "%s", text ? text : "");
	else
		snprintf(out->message, sizeof(out->message), "HTTP %ld%s%s", status,
			 text && *text ? " " : "", text ? text : "");
}

/* An "error" text of APIVoid (§4): a refused key, no credits, or a
 * complaint about the input. The texts are matched loosely (lower case)
 * since v2's are unverified. */
static void classify_error(struct apivoid_answer *out, long status, const char *text)
{
	char *lower = g_ascii_strdown(text, -1);
	char *printable = provider_printable(text, 120);
	if (status == 401 || status == 403 || strstr(lower, "api key") != NULL)
		fail(out, ANSWER_AUTH, LOOKUP_ERR_AUTH, status, printable);
	else if (status == 402 || status == 429 || strstr(lower, "credit") != NULL)
		fail(out, ANSWER_QUOTA, LOOKUP_ERR_QUOTA, status, printable);
	else if (status >= 500)
		fail(out, ANSWER_TRANSIENT, LOOKUP_ERR_PROVIDER, status, printable);
	else
		fail(out, ANSWER_PERMANENT, LOOKUP_ERR_PROVIDER, status, printable);
	g_free(printable);
	g_free(lower);
}

/* The report of a successful answer; NULL when empty (not found, §3.7). */
static cJSON *detach_report(cJSON *json, enum apivoid_call call, bool v2)
{
	cJSON *report;

	if (v2) {
		report = json;
	} else {
		cJSON *data = cJSON_GetObjectItemCaseSensitive(json, "data");

		report = call == APIVOID_EMAIL || call == APIVOID_SCREENSHOT
				 ? data : cJSON_GetObjectItemCaseSensitive(data, "report");
	}
	if (!cJSON_IsObject(report) || report->child == NULL)
		return NULL;
	return cJSON_Duplicate(report, true);
}

void apivoid_read(const struct integration *in, enum apivoid_call call,
		  const struct http_response *resp, struct apivoid_answer *out)
{
	bool v2 = apivoid_is_v2(in);
	cJSON *json, *error, *credits;

	memset(out, 0, sizeof(*out));
	out->credits = -1;
	if (resp->status == 0) {
		fail(out, ANSWER_TRANSIENT, resp->timed_out ? LOOKUP_ERR_TIMEOUT : LOOKUP_ERR_TRANSPORT,
		     0, resp->transport_error ? resp->transport_error : "no answer");
		return;
	}
	json = cJSON_ParseWithLength(resp->body, resp->body_len);
	error = cJSON_GetObjectItemCaseSensitive(json, "error");
	if (cJSON_IsString(error) || cJSON_IsObject(error)) {
		classify_error(out, resp->status,
			       cJSON_IsString(error) ? error->valuestring : "error");
	} else if (resp->status != 200) {
		classify_error(out, resp->status, "");
	} else if (!cJSON_IsObject(json)) {
		fail(out, ANSWER_TRANSIENT, LOOKUP_ERR_MALFORMED, 0, "malformed answer");
	} else {
		out->class = ANSWER_DECIDED;
		credits = cJSON_GetObjectItemCaseSensitive(json, "credits_remained");
		if (cJSON_IsNumber(credits))
			out->credits = credits->valuedouble;
		if (call != APIVOID_STATS)
			out->report = detach_report(json, call, v2);
		else if (!v2 && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "success")))
			fail(out, ANSWER_TRANSIENT, LOOKUP_ERR_MALFORMED, 0, "malformed answer");
		apivoid_note_credits(in, call, out->credits);
	}
	cJSON_Delete(json);
}

void apivoid_note_credits(const struct integration *in, enum apivoid_call call, double credits)
{
	static const double lines[] = { 1000, 100, 10 };
	double cost = calls[call].cost;

	if (credits < 0 || cost <= 0)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
		if (credits < lines[i] && credits + cost >= lines[i]) {
			log_msg(LOG_WARNING, "integration %s: APIVoid credits_remained %.2f, under %.0f",
				in->name ? in->name : "apivoid", credits, lines[i]);
			return;
		}
	}
}

/* A JSON number as a long in [0, LONG_MAX], -1 when absent or no number. */
static long count_of(const cJSON *item)
{
	if (cJSON_IsString(item) && item->valuestring[0] >= '0' && item->valuestring[0] <= '9')
		return strtol(item->valuestring, NULL, 10);
	if (!cJSON_IsNumber(item) || !(item->valuedouble >= 0) || isinf(item->valuedouble))
		return -1;
	return item->valuedouble >= 1e15 ? (long)1e15 : (long)item->valuedouble;
}

long apivoid_detections(const cJSON *report, enum apivoid_call call)
{
	const cJSON *lists = cJSON_GetObjectItemCaseSensitive(
		report, call == APIVOID_URL ? "domain_blacklist" : "blacklists");

	return count_of(cJSON_GetObjectItemCaseSensitive(lists, "detections"));
}

long apivoid_risk_score(const cJSON *report)
{
	return count_of(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(report, "risk_score"), "result"));
}
