/* test_provider_common.c: what every provider shares — the capability
 * table (registry.h), the status ladder with its error kinds, the error
 * envelopes, JSON bodies, and provider_parse_http()'s error-kind net. */
#include <autoconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "provider_test_util.h"

#define GSB_ROOT "https://safebrowsing.googleapis.com/v4"

static void test_transport_failure(void **state)
{
	(void)state;
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&gsb, INDICATOR_URL, "http://a.example/");
	struct http_response resp = { .status = 0, .body = "", .retry_after_s = -1,
				      .transport_error = "timeout", .timed_out = true };

	assert_int_equal(provider_http_failure(&l, 1, &resp), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "timeout");
	assert_int_equal(l->result.error, LOOKUP_ERR_TIMEOUT);
	assert_int_equal(provider_google_failure(&gsb, &l, 1, &resp), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "timeout");
	assert_int_equal(l->result.error, LOOKUP_ERR_TIMEOUT);
	resp.timed_out = false;
	resp.transport_error = "Failed to connect to 127.0.0.1 port 9: Connection refused";
	assert_int_equal(provider_http_failure(&l, 1, &resp), ANSWER_TRANSIENT);
	assert_int_equal(l->result.error, LOOKUP_ERR_TRANSPORT);
	pt_lookup_del(l);
}

/* The shared ladder: status -> (class, status, error kind). */
static void test_status_ladder(void **state)
{
	static const struct {
		long status;
		enum answer_class class;
		enum lookup_status result;
		enum lookup_error error;
		const char *details;
	} rows[] = {
		{ 401, ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP 401: credentials refused" },
		{ 403, ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP 403: credentials refused" },
		{ 429, ANSWER_QUOTA, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA,
		  "HTTP 429: provider rate limit" },
		{ 500, ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 500" },
		{ 503, ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 503" },
		{ 400, ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 400" },
		{ 418, ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 418" },
	};
	struct integration vt = pt_integration("virustotal", "http://x", VT_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&vt, INDICATOR_IP, "192.0.2.1");

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct http_response resp = { .status = rows[i].status, .body = "{}", .body_len = 2,
					      .retry_after_s = -1 };

		assert_int_equal(provider_http_failure(&l, 1, &resp), rows[i].class);
		pt_assert_result(l, rows[i].result, rows[i].details);
		assert_int_equal(l->result.error, rows[i].error);
	}
	pt_lookup_del(l);
}

static void assert_envelope(const char *body, const char *code, const char *message)
{
	struct http_response resp = { .status = 400, .body = body, .body_len = strlen(body) };
	char *got_code, *got_message;
	bool found = provider_error_envelope(&resp, &got_code, &got_message);

	assert_int_equal(found, code != NULL || message != NULL);
	if (code == NULL)
		assert_null(got_code);
	else
		assert_string_equal(got_code, code);
	if (message == NULL)
		assert_null(got_message);
	else
		assert_string_equal(got_message, message);
	g_free(got_code);
	g_free(got_message);
}

static void test_error_envelopes(void **state)
{
	(void)state;
	assert_envelope("{\"error\":{\"code\":\"WrongCredentialsError\",\"message\":\"Wrong API key\"}}",
			"WrongCredentialsError", "Wrong API key");
	assert_envelope("{\"error\":{\"code\":403,\"message\":\"denied\","
			"\"status\":\"PERMISSION_DENIED\"}}", "PERMISSION_DENIED", "denied");
	assert_envelope("{\"error\":{\"code\":404003,\"messages\":[\"The hash was not found\"]}}",
			NULL, "The hash was not found");
	assert_envelope("{\"error\":\"Not authorized.\"}", NULL, "Not authorized.");
	/* control bytes never reach a details text */
	assert_envelope("{\"error\":\"a\\r\\nX-Injected: 1\"}", NULL, "a  X-Injected: 1");
	assert_envelope("<html>502</html>", NULL, NULL);
	assert_envelope("{\"data\":{}}", NULL, NULL);
}

static void test_malformed_json_is_malformed(void **state)
{
	(void)state;
	struct integration vt = pt_integration("virustotal", "http://x", VT_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&vt, INDICATOR_IP, "192.0.2.1");
	static const char *const bodies[] = { "", "<html>", "[1,2]", "{\"a\":", "\"text\"" };

	for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
		struct http_response resp = { .status = 200, .body = bodies[i],
					      .body_len = strlen(bodies[i]) };

		assert_null(provider_parse_json(&l, 1, &resp));
		pt_assert_result(l, LOOKUP_ERROR, "malformed answer");
		assert_int_equal(l->result.error, LOOKUP_ERR_MALFORMED);
	}
	pt_lookup_del(l);
}

/* One table: for every type, what the planner asks (provider_supports)
 * is exactly the table's capabilities, and a Test Connection call is a
 * kind the type answers. Before the table, Spamhaus listed URLs but never
 * answered them, Google and X-Force answered domains the table did not
 * list, and VirusTotal and MetaDefender claimed e-mail addresses. */
static void test_capability_table(void **state)
{
	const struct provider_type *t;

	(void)state;
	for (unsigned i = 0; (t = provider_type_at(i)) != NULL; i++) {
		for (int k = 0; k < INDICATOR_KINDS; k++)
			assert_int_equal(provider_supports(t, (enum indicator_kind)k),
					 provider_asks(t) &&
					 (t->capabilities & provider_kind_capability(k)) != 0);
		if (!provider_asks(t))
			continue;
		assert_non_null(provider_action_find(t, "ping"));
		if (t->ops.job != NULL) {
			/* a job-based type (sandbox): one request per step;
			 * Test Connection a one-shot lookup (build_request,
			 * below) or, without a test lookup, its own ping */
			assert_null(t->ops.dns);
			assert_non_null(t->ops.job->request);
			assert_non_null(t->ops.job->parse);
			assert_true(t->ops.http == NULL || t->ops.http->max_batch <= 1);
			if (t->test.ok == NULL) {
				assert_ptr_not_equal(provider_action_find(t, "ping"),
						     &provider_action_ping);
				continue;
			}
		}
		assert_non_null(t->test.ok);
		assert_non_null(t->test.indicator);
		assert_true(provider_supports(t, t->test.kind));
		if (t->ops.dns != NULL) {
			assert_non_null(t->ops.dns->name);
			assert_non_null(t->ops.dns->parse);
			assert_null(t->ops.http);
			assert_null(t->ops.job);
		} else {
			/* HTTP: the job's table, if any, is asked first; the
			 * HTTP table is the Test Connection call (ANY.RUN's
			 * history), run by the synchronous runner */
			assert_non_null(t->ops.http);
			assert_non_null(t->ops.http->build_request);
			/* its own reading, or a JSON API's two halves */
			assert_true(t->ops.http->parse_response != NULL ||
				    (t->ops.http->error_response != NULL &&
				     t->ops.http->json_verdict != NULL));
		}
		/* a session only beside a job */
		assert_true(t->ops.session == NULL || t->ops.job != NULL);
		/* only APIVoid asks e-mail addresses */
		assert_int_equal(provider_supports(t, INDICATOR_EMAIL),
				 strcmp(t->name, "apivoid") == 0);
	}
	assert_false(provider_supports_kind("spamhaus", INDICATOR_URL));
	assert_true(provider_supports_kind("safebrowsing", INDICATOR_DOMAIN));
	assert_true(provider_supports_kind("xforce", INDICATOR_DOMAIN));
	assert_true(provider_supports_kind("vmray", INDICATOR_DOMAIN));	/* submits domains */
	assert_true(provider_uploads(provider_type_find("vmray")));
	assert_false(provider_supports_kind("ironscales", INDICATOR_URL));	/* actions only */
	assert_false(provider_supports(NULL, INDICATOR_URL));
	assert_true(provider_uploads(provider_type_find("virustotal")));
	assert_false(provider_uploads(provider_type_find("xforce")));
	assert_null(provider_action_find(provider_type_find("virustotal"), "nosuch"));
	/* IRONSCALES: no lookups, its own ping (token exchange), not the
	 * generic Test Connection lookup */
	const struct provider_type *iron = provider_type_find("ironscales");
	assert_false(provider_asks(iron));
	assert_non_null(provider_action_find(iron, "ping"));
	assert_ptr_not_equal(provider_action_find(iron, "ping"), &provider_action_ping);
	assert_non_null(provider_action_find(iron, "mailbox-mitigations"));
}

/* Provider knowledge the generic code reads from the table. */
static void test_declared_by_the_table(void **state)
{
	const struct provider_type *t, *def = provider_type_default();

	(void)state;
	assert_non_null(def);
	assert_string_equal(def->name, "spamhaus");
	assert_string_equal(def->default_integration_name, "spamhaus-zen");
	assert_non_null(def->ops.dns);
	for (unsigned i = 0; (t = provider_type_at(i)) != NULL; i++)
		if (strcmp(t->name, "metadefender") == 0)
			assert_string_equal(t->rate_limit_reset_header, "X-RateLimit-Reset-In");
		else
			assert_null(t->rate_limit_reset_header);
}

/* A provider that leaves the error kind unset still yields one. */
static enum answer_class sloppy_parse(const struct integration *in, struct lookup *const *batch,
				      size_t n, const struct http_response *resp)
{
	(void)in;
	(void)n;
	(void)resp;
	batch[0]->result.status = LOOKUP_ERROR;
	batch[0]->result.error = LOOKUP_ERR_NONE;
	return ANSWER_AUTH;
}

static void test_parse_http_fills_error_kinds(void **state)
{
	static const struct provider_http_ops sloppy_http = { .parse_response = sloppy_parse };
	struct provider_type sloppy = *provider_type_find("virustotal");
	struct integration in = pt_integration("virustotal", "http://x", VT_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&in, INDICATOR_IP, "192.0.2.1");
	struct http_response resp = { .status = 200, .body = "{}", .body_len = 2 };

	(void)state;
	sloppy.ops.http = &sloppy_http;
	in.type = &sloppy;
	assert_int_equal(provider_parse_http(&in, &l, 1, &resp), ANSWER_AUTH);
	assert_int_equal(l->result.error, LOOKUP_ERR_AUTH);
	resp.status = 0;
	resp.transport_error = "Connection refused";
	assert_int_equal(provider_parse_http(&in, &l, 1, &resp), ANSWER_TRANSIENT);
	assert_int_equal(l->result.error, LOOKUP_ERR_TRANSPORT);
	pt_lookup_del(l);
}

static void test_request_helpers(void **state)
{
	struct http_request req;
	struct integration in = pt_integration("virustotal", "https://h.example/api/v3///",
					       VT_KEY, NULL, 0);
	char root[64];

	(void)state;
	assert_string_equal(provider_api_root(&in, root, sizeof(root)), "https://h.example/api/v3");
	http_request_init(&req);
	assert_string_equal(req.method, "GET");
	http_request_json_headers(&req, "x-apikey", NULL);
	assert_true(pt_has_header(&req, "x-apikey: "));
	assert_true(pt_has_header(&req, "Accept: application/json"));
	http_request_add_part(&req, "file", "a.exe", "application/octet-stream", "MZ", 2);
	http_request_add_part(&req, "note", NULL, NULL, "x", 1);
	assert_string_equal(req.method, "POST");
	assert_int_equal(req.parts->len, 2);
	http_request_clear(&req);
	assert_null(req.url);
	assert_null(req.parts);
}

/* A document's fixed parameters: appended in the text's order after what
 * the object holds, a null kept in its place for the caller's value;
 * as form fields, strings as their text, numbers and booleans as JSON. */
static void test_fixed_parameters(void **state)
{
	cJSON *o = cJSON_CreateObject();
	struct http_request req;
	char *text;

	(void)state;
	cJSON_AddStringToObject(o, "first", "x");
	provider_json_add_fixed(o, "{\"b\":\"\",\"given\":null,\"n\":64,\"t\":true,\"f\":false}");
	cJSON_ReplaceItemInObjectCaseSensitive(o, "given", cJSON_CreateString("v\"1"));
	text = cJSON_PrintUnformatted(o);
	assert_string_equal(text, "{\"first\":\"x\",\"b\":\"\",\"given\":\"v\\\"1\",\"n\":64,"
			    "\"t\":true,\"f\":false}");
	cJSON_free(text);

	http_request_init(&req);
	http_request_add_fields(&req, o);
	assert_string_equal(req.method, "POST");
	assert_int_equal(req.parts->len, 6);
	for (guint i = 0; i < req.parts->len; i++) {
		static const char *const want[][2] = { { "first", "x" }, { "b", "" },
			{ "given", "v\"1" }, { "n", "64" }, { "t", "true" }, { "f", "false" } };
		const struct http_part *p = g_ptr_array_index(req.parts, i);
		gsize len;
		const char *data = g_bytes_get_data(p->data, &len);

		assert_string_equal(p->name, want[i][0]);
		assert_null(p->filename);
		assert_int_equal(len, strlen(want[i][1]));
		assert_memory_equal(data, want[i][1], len);
	}
	http_request_clear(&req);
	cJSON_Delete(o);
}

/* The "cases" of every provider's fixtures (tests/mock/fixtures/NAME.json,
 * the mock server's own answers): each answer and what it must become. */
static void test_fixture_cases(void **state)
{
	static const struct {
		const char *fixtures, *type, *root, *key, *password;
	} providers[] = {
		{ "virustotal", "virustotal", "https://www.virustotal.com/api/v3", VT_KEY, NULL },
		{ "ibm-xforce", "xforce", "https://api.xforce.ibmcloud.com", XF_KEY, XF_PASS },
		{ "opswat-metadefender", "metadefender", "https://api.metadefender.com/v4", MD_KEY,
		  NULL },
		{ "google-web-risk", "webrisk", "https://webrisk.googleapis.com/v1", GOOGLE_KEY,
		  NULL },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(providers); i++)
		assert_true(pt_run_fixture_cases(providers[i].fixtures, providers[i].type,
						 providers[i].root, providers[i].key,
						 providers[i].password) >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transport_failure),
		cmocka_unit_test(test_status_ladder),
		cmocka_unit_test(test_error_envelopes),
		cmocka_unit_test(test_malformed_json_is_malformed),
		cmocka_unit_test(test_capability_table),
		cmocka_unit_test(test_declared_by_the_table),
		cmocka_unit_test(test_parse_http_fills_error_kinds),
		cmocka_unit_test(test_request_helpers),
		cmocka_unit_test(test_fixed_parameters),
		cmocka_unit_test(test_fixture_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
