/* test_provider_ironscales.c: the IRONSCALES actions
 * (../shared/providers/ironscales.md, seed 004) over a scripted fake
 * transport answering from tests/mock/fixtures/ironscales.json: the
 * requests (paths, token exchange, scopes, JWT header, bodies), the
 * seed's messages word for word, the JWT reused until refused, the
 * throttle, 5xx, paging, and no secret in any text. */
#include <autoconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "provider_test_util.h"
#include "providers/ironscales.h"
#include "providers/sync_runner.h"

#define KEY "test-ironscales-key-0123456789"
#define ROOT "https://members.ironscales.com/"
#define JWT1 "eyJhbGciOiJIUzI1NiJ9.first.c2lnbmF0dXJl"
#define JWT2 "eyJhbGciOiJIUzI1NiJ9.second.c2lnbmF0dXJl"

/* ------------------------------------------------------- the fake API */

/* One expected request and its answer: ref is a fixture ref
 * ("bodies.NAME", "errors.NAME"), "jwt1"/"jwt2" (a token answer) or
 * "page" (the mailbox page the request asks for, from the fixture's
 * mailbox_mitigations). */
struct step {
	const char *request;	/* "POST .../get-token/": method + URL suffix */
	const char *ref;
	long retry_after_s;	/* -1 (or 0): none */
};

struct script {
	const struct step *steps;
	unsigned calls;
	GPtrArray *seen;	/* "METHOD URL\n<headers>\n\n<body>" */
};

static cJSON *fixture_file(void)
{
	gchar *text = NULL;

	assert_true(g_file_get_contents(TEST_SRCDIR "/mock/fixtures/ironscales.json", &text,
					NULL, NULL));
	cJSON *json = cJSON_Parse(text);
	g_free(text);
	assert_non_null(json);
	return json;
}

/* The fixture's mailbox page for a request body {"incidents", "page"}. */
static char *mailbox_page(const char *request_body)
{
	cJSON *fx = fixture_file(), *req = cJSON_Parse(request_body), *id;
	cJSON *items = cJSON_CreateArray(), *page = cJSON_CreateObject(), *slice;
	int size = (int)cJSON_GetObjectItem(fx, "page_size")->valuedouble;
	int n = (int)cJSON_GetObjectItem(req, "page")->valuedouble, total;

	cJSON_ArrayForEach(id, cJSON_GetObjectItem(req, "incidents")) {
		char key[32];
		const cJSON *item;

		assert_true(cJSON_IsNumber(id));	/* integers, not strings (§3.6) */
		snprintf(key, sizeof(key), "%.0f", id->valuedouble);
		cJSON_ArrayForEach(item, cJSON_GetObjectItem(
			cJSON_GetObjectItem(fx, "mailbox_mitigations"), key))
			cJSON_AddItemToArray(items, cJSON_Duplicate(item, true));
	}
	total = (cJSON_GetArraySize(items) + size - 1) / size;
	cJSON_AddNumberToObject(page, "page", n);
	cJSON_AddNumberToObject(page, "total_pages", total);
	slice = cJSON_AddArrayToObject(page, "mitigations");
	for (int i = (n - 1) * size; i < n * size && i < cJSON_GetArraySize(items); i++)
		cJSON_AddItemToArray(slice, cJSON_Duplicate(cJSON_GetArrayItem(items, i), true));
	cJSON_AddArrayToObject(page, "messages");
	char *text = cJSON_PrintUnformatted(page);
	cJSON_Delete(page);
	cJSON_Delete(items);
	cJSON_Delete(req);
	cJSON_Delete(fx);
	return text;
}

static void fake_http(void *ctx, const struct http_request *req, struct provider_http_answer *ans)
{
	struct script *s = ctx;
	const struct step *step = &s->steps[s->calls++];
	GString *seen = g_string_new(NULL);
	cJSON *values = cJSON_CreateObject();
	char *body = NULL;
	long status = 200;

	assert_non_null(step->request);	/* more requests than the script has */
	g_string_printf(seen, "%s %s\n", req->method, req->url->str);
	for (guint i = 0; i < req->headers->len; i++)
		g_string_append_printf(seen, "%s\n", (const char *)g_ptr_array_index(req->headers, i));
	g_string_append_printf(seen, "\n%s", req->body ? req->body->str : "");
	g_ptr_array_add(s->seen, g_string_free(seen, FALSE));
	char *line = g_strdup_printf("%s %s", req->method, req->url->str);
	if (!g_str_has_suffix(line, step->request))
		fail_msg("request %u is '%s', expected '... %s'", s->calls, line, step->request);
	g_free(line);

	cJSON_AddNumberToObject(values, "seconds", step->retry_after_s > 0 ? step->retry_after_s : 1);
	cJSON_AddStringToObject(values, "user", "soc@nowhere.example");
	if (strcmp(step->ref, "jwt1") == 0 || strcmp(step->ref, "jwt2") == 0)
		body = g_strdup_printf("{\"jwt\":\"%s\"}", step->ref[3] == '1' ? JWT1 : JWT2);
	else if (strcmp(step->ref, "page") == 0)
		body = mailbox_page(req->body->str);
	else
		body = pt_fixture("ironscales", step->ref, values, &status);
	cJSON_Delete(values);
	ans->resp.status = status;
	ans->resp.retry_after_s = step->retry_after_s > 0 ? step->retry_after_s : -1;
	g_string_assign(ans->body, body);
	g_free(body);
}

struct fixture {
	struct integration in;
	struct script script;
	struct provider_run run;
	char err[1024];
};

static void setup(struct fixture *f, const struct step *steps)
{
	memset(f, 0, sizeof(*f));
	f->in = pt_integration("ironscales", ROOT, KEY, NULL, 0);
	f->in.company_id = (char *)"4200";
	f->script.steps = steps;
	f->script.seen = g_ptr_array_new_with_free_func(g_free);
	f->run.in = &f->in;
	f->run.fake_http = fake_http;
	f->run.fake_ctx = &f->script;
}

static void teardown(struct fixture *f, unsigned expected_calls)
{
	assert_int_equal(f->script.calls, expected_calls);
	for (guint i = 0; i < f->script.seen->len; i++) {
		const char *seen = g_ptr_array_index(f->script.seen, i);
		/* the key goes only into the token exchange's body */
		if (strstr(seen, "get-token/") == NULL)
			assert_null(strstr(seen, KEY));
	}
	g_ptr_array_unref(f->script.seen);
	pt_assert_no_secret(f->err);
	assert_null(strstr(f->err, KEY));
	assert_null(strstr(f->err, "eyJ"));
}

/* Runs the action with args ("name", "value", ..., NULL). */
static cJSON *run(struct fixture *f, const char *action_name, ...)
{
	const struct provider_action *action =
		provider_action_find(provider_type_find("ironscales"), action_name);
	cJSON *args = cJSON_CreateObject(), *out;
	va_list ap;
	const char *name;

	assert_non_null(action);
	va_start(ap, action_name);
	while ((name = va_arg(ap, const char *)) != NULL)
		cJSON_AddStringToObject(args, name, va_arg(ap, const char *));
	va_end(ap);
	f->err[0] = '\0';
	out = provider_run_action(&f->run, action, args, f->err, sizeof(f->err));
	cJSON_Delete(args);
	if (out != NULL) {
		char *text = cJSON_PrintUnformatted(out);
		assert_null(strstr(text, KEY));
		assert_null(strstr(text, JWT1));
		assert_null(strstr(text, JWT2));
		cJSON_free(text);
	}
	return out;
}

/* The answer's messages, one per line. */
static char *messages(const cJSON *out)
{
	GString *text = g_string_new(NULL);
	const cJSON *m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItem(out, "messages"))
		g_string_append_printf(text, "%s\n", cJSON_GetStringValue(m));
	return g_string_free(text, FALSE);
}

static void assert_messages(const cJSON *out, const char *expected)
{
	char *text = messages(out);

	assert_string_equal(text, expected);
	g_free(text);
}

#define TOKEN "POST " ROOT "appapi/get-token/"

/* ------------------------------------------------------------- tests */

static void test_periods_and_ids(void **state)
{
	static const char *const labels[] = { "Last 24 hours", "Last 7 days", "Last 90 days",
		"Last 180 days", "Last 360 days", "Current year to date", "All time" };
	char err[128];
	GPtrArray *ids;

	(void)state;
	for (int i = 0; i < 7; i++) {
		assert_int_equal(ironscales_period_find(labels[i]), i);
		assert_string_equal(ironscales_period_label(i), labels[i]);
	}
	assert_int_equal(ironscales_period_find("all TIME"), 6);
	assert_int_equal(ironscales_period_find("6"), -1);
	assert_int_equal(ironscales_period_find("Last 30 days"), -1);
	assert_null(ironscales_period_label(7));

	ids = ironscales_parse_ids(" 1001, 1002 ,1003", err, sizeof(err));
	assert_int_equal(ids->len, 3);
	assert_string_equal(g_ptr_array_index(ids, 1), "1002");
	g_ptr_array_unref(ids);
	const char *bad[] = { "", "1001,,1002", "10a", "1001,1001", "-1", "1234567890123456",
			      "1/../2" };
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		assert_null(ironscales_parse_ids(bad[i], err, sizeof(err)));
}

/* Ping: token exchange (company scopes, the key), then the open ids with
 * the JWT; the root with or without its '/'. */
static void test_ping(void **state)
{
	static const struct step steps[] = {
		{ TOKEN, "jwt1", 0 }, { "GET " ROOT "appapi/incident/4200/open/", "bodies.open", 0 },
		{ NULL, NULL, 0 },
	};
	struct fixture f;
	cJSON *out;

	(void)state;
	setup(&f, steps);
	f.in.api_url = (char *)"https://members.ironscales.com";
	out = run(&f, "ping", NULL);
	assert_non_null(out);
	assert_messages(out, "Successfully connected to the IRONSCALES server with the provided "
			"connection parameters!\n");
	const char *token = g_ptr_array_index(f.script.seen, 0);
	assert_non_null(strstr(token, "Content-Type: application/json"));
	assert_non_null(strstr(token, "{\"key\":\"" KEY "\",\"scopes\":[\"company.view\","
			    "\"company.all\",\"company.classify\"]}"));
	assert_null(strstr(token, "Authorization"));
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 1),
			       "Authorization: Bearer " JWT1 "\n"));
	cJSON_Delete(out);
	teardown(&f, 2);
}

/* Is Partner changes the scopes only (§2); a refused token stops every
 * action with the seed's Ping failure. */
static void test_partner_scopes_and_refused_token(void **state)
{
	static const struct step steps[] = {
		{ TOKEN, "errors.scopes_refused", 0 }, { NULL, NULL, 0 },
	};
	struct fixture f;

	(void)state;
	setup(&f, steps);
	f.in.is_partner = true;
	assert_null(run(&f, "ping", NULL));
	assert_string_equal(f.err, "Failed to connect to the IRONSCALES server! Error is token "
			    "exchange: HTTP 403: Company does not have permission for requested "
			    "scopes");
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 0),
			       "\"scopes\":[\"partner.company.view\",\"partner.company.create\","
			       "\"partner.company.edit\",\"partner.all\","
			       "\"partner.company.classify\"]"));
	teardown(&f, 1);
}

/* Classify: details first (the current classification), then classify;
 * an unknown id is listed, not a failure; one token for the session. */
static void test_classify(void **state)
{
	static const struct step steps[] = {
		{ TOKEN, "jwt1", 0 },
		{ "GET " ROOT "appapi/incident/4200/details/1001", "bodies.incident_1001", 0 },
		{ "POST " ROOT "appapi/incident/4200/classify/1001", "bodies.classified", 0 },
		{ "GET " ROOT "appapi/incident/4200/details/9999", "errors.not_found", 0 },
		{ "GET " ROOT "appapi/incident/4200/details/1002", "bodies.incident_1002", 0 },
		{ "POST " ROOT "appapi/incident/4200/classify/1002", "bodies.classified", 0 },
		{ NULL, NULL, 0 },
	};
	struct fixture f;
	cJSON *out;

	(void)state;
	setup(&f, steps);
	out = run(&f, "classify", "ids", "1001,9999,1002", "classification", "false-positive",
		  "user", "soc@example.com", NULL);
	assert_non_null(out);
	assert_messages(out, "Successfully classified incidents to False Positive. Incident IDs: "
			"1001, 1002.\nCouldn't classify the following incident IDs: 9999.\n");
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 2),
			       "{\"classification\":\"False Positive\",\"prev_classification\":"
			       "\"Report\",\"classifying_user_email\":\"soc@example.com\"}"));
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 5),
			       "\"prev_classification\":\"Attack\""));
	cJSON_Delete(out);
	teardown(&f, 6);
}

/* A 400 (unknown user) stops the action with the seed's failure. */
static void test_classify_unknown_user_fails(void **state)
{
	static const struct step steps[] = {
		{ TOKEN, "jwt1", 0 },
		{ "details/1001", "bodies.incident_1001", 0 },
		{ "classify/1001", "errors.unknown_user", 0 },
		{ NULL, NULL, 0 },
	};
	struct fixture f;

	(void)state;
	setup(&f, steps);
	assert_null(run(&f, "classify", "ids", "1001,1002", "classification", "attack", "user",
			"soc@nowhere.example", NULL));
	assert_string_equal(f.err, "Error executing action \"Classify Incident\". Reason: HTTP "
			    "400: User soc@nowhere.example was not found");
	teardown(&f, 3);
}

/* Incident details: the seed's two messages, the incidents as the
 * result; a JWT refused later in the session: one new exchange, the call
 * again with the new JWT. */
static void test_incident_and_jwt_refused(void **state)
{
	static const struct step steps[] = {
		{ TOKEN, "jwt1", 0 },
		{ "details/1001", "bodies.incident_1001", 0 },
		{ "details/1002", "errors.missing_key", 0 },
		{ TOKEN, "jwt2", 0 },
		{ "details/1002", "bodies.incident_1002", 0 },
		{ "details/77", "errors.not_found", 0 },
		{ NULL, NULL, 0 },
	};
	struct fixture f;
	cJSON *out;

	(void)state;
	setup(&f, steps);
	out = run(&f, "incident", "ids", "1001,1002,77", NULL);
	assert_non_null(out);
	assert_messages(out, "Successfully fetched incidents details from IRONSCALES. incident "
			"IDs: 1001, 1002.\nAction wasn't able to fetch incident details for "
			"incident IDs: 77 Reason : incidents IDs weren't found.\n");
	const cJSON *result = cJSON_GetObjectItem(out, "result");
	assert_int_equal(cJSON_GetArraySize(result), 2);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(result, 1), "incident_id")), "1002");
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 2), "Bearer " JWT1 "\n"));
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 4), "Bearer " JWT2 "\n"));
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 5), "Bearer " JWT2 "\n"));
	cJSON_Delete(out);
	teardown(&f, 6);
}

/* A JWT refused right after its exchange is the answer: no loop. */
static void test_fresh_jwt_refused_fails(void **state)
{
	static const struct step steps[] = {
		{ TOKEN, "jwt1", 0 }, { "details/1001", "errors.forbidden", 0 }, { NULL, NULL, 0 },
	};
	struct fixture f;

	(void)state;
	setup(&f, steps);
	assert_null(run(&f, "incident", "ids", "1001", NULL));
	assert_string_equal(f.err, "Error executing action \"Get Incident Details\" : HTTP 403: "
			    "You do not have permission to perform this action.");
	teardown(&f, 2);
}

/* 429: waits Retry-After (a note says so) and asks again; a wait over a
 * minute, or a second 429, is a failure. */
static void test_throttle(void **state)
{
	static const struct step waits[] = {
		{ TOKEN, "jwt1", 0 },
		{ "impersonation/details/?period=1", "errors.ratelimit", 1 },
		{ "impersonation/details/?period=1", "bodies.impersonation", 0 },
		{ NULL, NULL, 0 },
	};
	static const struct step too_long[] = {
		{ TOKEN, "jwt1", 0 },
		{ "incidents/details/?period=0", "errors.ratelimit", 120 },
		{ NULL, NULL, 0 },
	};
	struct fixture f;
	struct timespec t0, t1;
	cJSON *out;

	(void)state;
	setup(&f, waits);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out = run(&f, "impersonation", "period", "Last 7 days", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(out);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 950);
	assert_messages(out, "IRONSCALES throttled the request (HTTP 429, at most 120 calls per "
			"minute); retrying after 1 s\nSuccessfully fetched details of "
			"impersonation mitigations for the Last 7 days\n");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "result"), "page")));
	cJSON_Delete(out);
	teardown(&f, 3);

	setup(&f, too_long);
	assert_null(run(&f, "mitigations", NULL));
	assert_string_equal(f.err, "Error executing action \"Get Incident Mitigation details\". "
			    "Reason: HTTP 429: Request was throttled. Expected available in 120 "
			    "seconds.");
	teardown(&f, 2);
}

/* 5xx: once more after a second; twice is the seed's failure. */
static void test_server_error(void **state)
{
	static const struct step once[] = {
		{ TOKEN, "jwt1", 0 },
		{ "incidents/details/?period=6", "errors.503", 0 },
		{ "incidents/details/?period=6", "bodies.mitigations_empty", 0 },
		{ NULL, NULL, 0 },
	};
	static const struct step twice[] = {
		{ TOKEN, "jwt1", 0 },
		{ "impersonation/details/?period=0", "errors.500", 0 },
		{ "impersonation/details/?period=0", "errors.500", 0 },
		{ NULL, NULL, 0 },
	};
	struct fixture f;
	cJSON *out;

	(void)state;
	setup(&f, once);
	out = run(&f, "mitigations", "period", "All time", NULL);
	assert_non_null(out);
	assert_messages(out, "No details of incident mitigations were found for the All time\n");
	cJSON_Delete(out);
	teardown(&f, 3);

	setup(&f, twice);
	assert_null(run(&f, "impersonation", NULL));
	assert_string_equal(f.err, "Error executing action \"Get Mitigation impersonation "
			    "details\". Reason: HTTP 500: Internal server error.");
	teardown(&f, 3);
}

/* Mailbox mitigations: the seed's paging with its progress line, every
 * page's items in one envelope; Max Pages to Fetch stops it. */
static void test_mailbox_paging(void **state)
{
	static const struct step two[] = {
		{ TOKEN, "jwt1", 0 },
		{ "POST " ROOT "appapi/mitigation/4200/details/", "page", 0 },
		{ "POST " ROOT "appapi/mitigation/4200/details/", "page", 0 },
		{ NULL, NULL, 0 },
	};
	struct fixture f;
	cJSON *out;

	(void)state;
	setup(&f, two);
	out = run(&f, "mailbox-mitigations", "ids", "1001", "max_pages", "5", NULL);
	assert_non_null(out);
	assert_messages(out, "Continuing...fetching incident mitigations per mailbox, page 2 out "
			"of 2\nSuccessfully fetched details of incident mitigations per mailbox "
			"for the All time\n");
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 1),
			       "{\"incidents\":[1001],\"period\":6,\"page\":1}"));
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 2),
			       "{\"incidents\":[1001],\"period\":6,\"page\":2}"));
	const cJSON *result = cJSON_GetObjectItem(out, "result");
	assert_int_equal(cJSON_GetObjectItem(result, "page")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(result, "total_pages")->valueint, 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(result, "mitigations")), 4);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(result, "messages")));
	cJSON_Delete(out);
	teardown(&f, 3);

	/* the default, 1 page: the second is never asked */
	setup(&f, two);
	out = run(&f, "mailbox-mitigations", "ids", "1001", "period", "Last 90 days", NULL);
	assert_non_null(out);
	assert_messages(out, "Fetched 1 of 2 pages (Max Pages to Fetch is 1)\nSuccessfully "
			"fetched details of incident mitigations per mailbox for the Last 90 "
			"days\n");
	assert_non_null(strstr(g_ptr_array_index(f.script.seen, 1), "\"period\":2,\"page\":1}"));
	cJSON_Delete(out);
	teardown(&f, 2);
}

/* Arguments the action refuses before any request. */
static void test_bad_arguments(void **state)
{
	static const struct step none[] = { { NULL, NULL, 0 } };
	struct fixture f;

	(void)state;
	setup(&f, none);
	assert_null(run(&f, "impersonation", "period", "Last 30 days", NULL));
	assert_string_equal(f.err, "Error executing action \"Get Mitigation impersonation "
			    "details\". Reason: unknown period 'Last 30 days'");
	assert_null(run(&f, "mailbox-mitigations", "ids", "1001", "max_pages", "0", NULL));
	assert_null(run(&f, "mailbox-mitigations", "ids", "1001", "max_pages",
			"99999999999999999999", NULL));
	assert_string_equal(f.err, "Error executing action \"Get Mitigations Per Mailbox\". "
			    "Reason: Max Pages to Fetch must be a number from 1 to 1000");
	assert_null(run(&f, "classify", "ids", "1001", "classification", "phish", "user",
			"soc@example.com", NULL));
	assert_null(run(&f, "incident", "ids", "1001,../x", NULL));
	f.in.company_id = NULL;
	assert_null(run(&f, "ping", NULL));
	assert_string_equal(f.err, "Failed to connect to the IRONSCALES server! Error is the "
			    "integration has no CompanyID");
	teardown(&f, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_periods_and_ids),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_partner_scopes_and_refused_token),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classify_unknown_user_fails),
		cmocka_unit_test(test_incident_and_jwt_refused),
		cmocka_unit_test(test_fresh_jwt_refused_fails),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_server_error),
		cmocka_unit_test(test_mailbox_paging),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
