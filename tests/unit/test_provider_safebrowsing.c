/* test_provider_safebrowsing.c: Google Safe Browsing v4
 * (../shared/providers/google-safe-browsing.md): batched requests,
 * matches, Google's error envelope (answers from the mock's fixtures). */
#include <autoconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "provider_test_util.h"

#define GSB_ROOT "https://safebrowsing.googleapis.com/v4"

static const char gsb_malicious[] =
	"{\"matches\":["
	"{\"threatType\":\"SOCIAL_ENGINEERING\",\"platformType\":\"ANY_PLATFORM\",\"threatEntryType\":\"URL\","
	"\"threat\":{\"url\":\"http://login-example.test/verify\"},\"cacheDuration\":\"300s\"},"
	"{\"threatType\":\"MALWARE\",\"platformType\":\"ANY_PLATFORM\",\"threatEntryType\":\"URL\","
	"\"threat\":{\"url\":\"http://login-example.test/verify\"},"
	"\"threatEntryMetadata\":{\"entries\":[{\"key\":\"bWFsd2FyZV90aHJlYXRfdHlwZQ==\",\"value\":\"bGFuZGluZw==\"}]},"
	"\"cacheDuration\":\"300s\"}]}";

static const char gsb_test_url[] =
	"{\"matches\":[{\"threatType\":\"MALWARE\",\"platformType\":\"ANY_PLATFORM\",\"threatEntryType\":\"URL\","
	"\"threat\":{\"url\":\"http://testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/MALWARE/URL/\"},\"cacheDuration\":\"300s\"}]}";

/* An error answer of tests/mock/fixtures/google-safe-browsing.json (the
 * mock server's own); *status receives its HTTP status. */
static char *gsb_error(const char *name, const char *message, long *status)
{
	cJSON *values = cJSON_CreateObject();
	char *ref = g_strconcat("errors.", name, NULL);
	char *body;

	if (message != NULL)
		cJSON_AddStringToObject(values, "message", message);
	body = pt_fixture("google-safe-browsing", ref, values, status);
	g_free(ref);
	cJSON_Delete(values);
	return body;
}

/* The batch gets the answer (a fixture error) with this class. */
static void assert_batch_error(const struct integration *gsb, struct lookup **batch,
			       const char *name, const char *message, enum answer_class class)
{
	long status;
	char *body = gsb_error(name, message, &status);

	assert_int_equal(pt_parse_batch(gsb, batch, 2, status, body), class);
	g_free(body);
}

static void test_safebrowsing_supports(void **state)
{
	(void)state;
	assert_true(provider_supports_kind("safebrowsing", INDICATOR_URL));
	assert_true(provider_supports_kind("safebrowsing", INDICATOR_DOMAIN));
	assert_false(provider_supports_kind("safebrowsing", INDICATOR_IP));
	assert_false(provider_supports_kind("safebrowsing", INDICATOR_HASH));
	assert_int_equal(safebrowsing_http.max_batch, 500);
}

static const cJSON *path(const cJSON *json, const char *a, const char *b)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, a);

	return b ? cJSON_GetObjectItemCaseSensitive(item, b) : item;
}

static void assert_string_list(const cJSON *array, const char *const *expected, int n)
{
	assert_true(cJSON_IsArray(array));
	assert_int_equal(cJSON_GetArraySize(array), n);
	for (int i = 0; i < n; i++) {
		const cJSON *item = cJSON_GetArrayItem(array, i);

		assert_true(cJSON_IsString(item));
		assert_string_equal(item->valuestring, expected[i]);
	}
}

static void test_safebrowsing_request(void **state)
{
	(void)state;
	static const char *const threat_types[] = {
		"MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE", "POTENTIALLY_HARMFUL_APPLICATION",
	};
	static const char *const any[] = { "ANY_PLATFORM" };
	static const char *const url[] = { "URL" };
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT "/", GOOGLE_KEY, NULL, 0);
	struct lookup *batch[4] = {
		pt_lookup_new(&gsb, INDICATOR_URL, "http://login-example.test/verify"),
		pt_lookup_new(&gsb, INDICATOR_URL, "https://www.example.org/"),
		pt_lookup_new(&gsb, INDICATOR_DOMAIN, "example.net"),
		pt_lookup_new(&gsb, INDICATOR_URL, "http://example.net/"),	/* same as the host form */
	};
	struct http_request req;

	pt_build(&gsb, batch, 4, &req);
	assert_string_equal(req.method, "POST");
	/* the colon stays a colon; the key is in the query */
	assert_string_equal(req.url->str, GSB_ROOT "/threatMatches:find?key=" GOOGLE_KEY);
	assert_true(pt_has_header(&req, "Content-Type: application/json"));
	assert_null(req.basic_auth);
	assert_non_null(req.body);

	cJSON *body = cJSON_Parse(req.body->str);
	assert_non_null(body);
	assert_string_equal(path(body, "client", "clientId")->valuestring, "threatmilter");
	assert_string_equal(path(body, "client", "clientVersion")->valuestring, PACKAGE_VERSION);
	const cJSON *info = path(body, "threatInfo", NULL);
	assert_string_list(path(info, "threatTypes", NULL), threat_types, 4);
	assert_string_list(path(info, "platformTypes", NULL), any, 1);
	assert_string_list(path(info, "threatEntryTypes", NULL), url, 1);
	const cJSON *entries = path(info, "threatEntries", NULL);
	assert_int_equal(cJSON_GetArraySize(entries), 3);
	assert_string_equal(path(cJSON_GetArrayItem(entries, 0), "url", NULL)->valuestring,
			    "http://login-example.test/verify");
	assert_string_equal(path(cJSON_GetArrayItem(entries, 1), "url", NULL)->valuestring,
			    "https://www.example.org/");
	assert_string_equal(path(cJSON_GetArrayItem(entries, 2), "url", NULL)->valuestring,
			    "http://example.net/");
	/* the key is never in the body */
	assert_null(strstr(req.body->str, GOOGLE_KEY));
	cJSON_Delete(body);
	http_request_clear(&req);
	for (int i = 0; i < 4; i++)
		pt_lookup_del(batch[i]);
}

static void test_safebrowsing_request_full_batch(void **state)
{
	(void)state;
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *batch[500];
	struct http_request req;

	for (int i = 0; i < 500; i++) {
		char url[64];

		snprintf(url, sizeof(url), "http://host%d.example/path?q=%d", i, i);
		batch[i] = pt_lookup_new(&gsb, INDICATOR_URL, url);
	}
	pt_build(&gsb, batch, 500, &req);
	cJSON *body = cJSON_Parse(req.body->str);
	const cJSON *entries = path(path(body, "threatInfo", NULL), "threatEntries", NULL);
	assert_int_equal(cJSON_GetArraySize(entries), 500);
	assert_string_equal(path(cJSON_GetArrayItem(entries, 499), "url", NULL)->valuestring,
			    "http://host499.example/path?q=499");
	cJSON_Delete(body);

	/* nothing listed: every one of them is clean */
	assert_int_equal(pt_parse_batch(&gsb, batch, 500, 200, "{}"), ANSWER_DECIDED);
	for (int i = 0; i < 500; i++) {
		pt_assert_result(batch[i], LOOKUP_CLEAN, "not listed");
		pt_lookup_del(batch[i]);
	}
	http_request_clear(&req);
}

static void test_safebrowsing_verdicts(void **state)
{
	(void)state;
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *batch[3] = {
		pt_lookup_new(&gsb, INDICATOR_URL, "http://login-example.test/verify"),
		pt_lookup_new(&gsb, INDICATOR_URL, "https://www.example.org/"),
		/* keyed on the string sent: the same URL with a slash is another */
		pt_lookup_new(&gsb, INDICATOR_URL, "http://login-example.test/verify/"),
	};

	assert_int_equal(pt_parse_batch(&gsb, batch, 3, 200, gsb_malicious),
			 ANSWER_DECIDED);
	pt_assert_result(batch[0], LOOKUP_MALICIOUS, "SOCIAL_ENGINEERING,MALWARE");
	assert_int_equal(batch[0]->result.ttl_s, 300);
	pt_assert_result(batch[1], LOOKUP_CLEAN, "not listed");
	assert_int_equal(batch[1]->result.ttl_s, 0);
	pt_assert_result(batch[2], LOOKUP_CLEAN, "not listed");

	assert_int_equal(pt_parse_batch(&gsb, batch, 3, 200, "{}"), ANSWER_DECIDED);
	for (int i = 0; i < 3; i++)
		pt_assert_result(batch[i], LOOKUP_CLEAN, "not listed");
	for (int i = 0; i < 3; i++)
		pt_lookup_del(batch[i]);
}

static void test_safebrowsing_suspicious_and_worst(void **state)
{
	(void)state;
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *batch[3] = {
		pt_lookup_new(&gsb, INDICATOR_URL, "http://unwanted.example/dl"),
		pt_lookup_new(&gsb, INDICATOR_DOMAIN, "pha.example"),
		pt_lookup_new(&gsb, INDICATOR_URL, "http://both.example/"),
	};
	const char *body =
		"{\"matches\":["
		"{\"threatType\":\"UNWANTED_SOFTWARE\",\"platformType\":\"ANY_PLATFORM\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://unwanted.example/dl\"},\"cacheDuration\":\"300.000s\"},"
		"{\"threatType\":\"UNWANTED_SOFTWARE\",\"platformType\":\"WINDOWS\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://unwanted.example/dl\"},\"cacheDuration\":\"120.500s\"},"
		"{\"threatType\":\"POTENTIALLY_HARMFUL_APPLICATION\",\"platformType\":\"ANY_PLATFORM\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://pha.example/\"}},"
		"{\"threatType\":\"UNWANTED_SOFTWARE\",\"platformType\":\"ANY_PLATFORM\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://both.example/\"},\"cacheDuration\":\"300s\"},"
		"{\"threatType\":\"MALWARE\",\"platformType\":\"ANY_PLATFORM\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://both.example/\"},\"cacheDuration\":\"600s\"}]}";

	assert_int_equal(pt_parse_batch(&gsb, batch, 3, 200, body), ANSWER_DECIDED);
	/* one list, two platforms: said once; the shorter duration wins */
	pt_assert_result(batch[0], LOOKUP_SUSPICIOUS, "UNWANTED_SOFTWARE");
	assert_int_equal(batch[0]->result.ttl_s, 120);
	/* the host form is asked as http://<host>/ */
	pt_assert_result(batch[1], LOOKUP_SUSPICIOUS, "POTENTIALLY_HARMFUL_APPLICATION");
	assert_int_equal(batch[1]->result.ttl_s, 0);
	pt_assert_result(batch[2], LOOKUP_MALICIOUS, "UNWANTED_SOFTWARE,MALWARE");
	assert_int_equal(batch[2]->result.ttl_s, 300);
	for (int i = 0; i < 3; i++)
		pt_lookup_del(batch[i]);
}

static void test_safebrowsing_errors(void **state)
{
	(void)state;
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *batch[2] = {
		pt_lookup_new(&gsb, INDICATOR_URL, "http://login-example.test/verify"),
		pt_lookup_new(&gsb, INDICATOR_DOMAIN, "example.org"),
	};

	assert_batch_error(&gsb, batch, "wrong_key", NULL, ANSWER_AUTH);
	for (int i = 0; i < 2; i++)
		pt_assert_result(batch[i], LOOKUP_ERROR,
			      "HTTP 400 API_KEY_INVALID: API key not valid. Please pass a valid API key.");
	assert_batch_error(&gsb, batch, "invalid_argument",
			   "Invalid request: threat entry type not set.", ANSWER_PERMANENT);
	for (int i = 0; i < 2; i++)
		pt_assert_result(batch[i], LOOKUP_ERROR,
			      "HTTP 400 INVALID_ARGUMENT: Invalid request: threat entry type not set.");
	assert_batch_error(&gsb, batch, "disabled_key", NULL, ANSWER_AUTH);
	pt_assert_result(batch[1], LOOKUP_ERROR,
		      "HTTP 403 PERMISSION_DENIED: Safe Browsing API has not been used in project "
		      "123456789 before or it is disabled.");
	assert_batch_error(&gsb, batch, "quota", NULL, ANSWER_QUOTA);
	for (int i = 0; i < 2; i++)
		pt_assert_result(batch[i], LOOKUP_RATE_LIMITED,
			      "HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Requests' "
			      "of service 'safebrowsing.googleapis.com'.");
	assert_batch_error(&gsb, batch, "503", NULL, ANSWER_TRANSIENT);
	pt_assert_result(batch[0], LOOKUP_ERROR, "HTTP 503 UNAVAILABLE: The service is currently unavailable.");
	/* a 5xx without Google's envelope */
	assert_int_equal(pt_parse_batch(&gsb, batch, 2, 502, "<html>Bad Gateway</html>"),
			 ANSWER_TRANSIENT);
	pt_assert_result(batch[0], LOOKUP_ERROR, "HTTP 502");
	assert_int_equal(pt_parse_batch(&gsb, batch, 2, 200, "{\"matches\":[{\"threatT"),
			 ANSWER_TRANSIENT);
	for (int i = 0; i < 2; i++)
		pt_assert_result(batch[i], LOOKUP_ERROR, "malformed answer");
	assert_int_equal(pt_parse_batch(&gsb, batch, 2, 200, "{\"matches\":\"none\"}"),
			 ANSWER_TRANSIENT);
	pt_assert_result(batch[0], LOOKUP_ERROR, "malformed answer");
	/* a match we cannot attribute: never call the rest clean */
	assert_int_equal(pt_parse_batch(&gsb, batch, 2, 200,
				     "{\"matches\":[{\"threatType\":\"MALWARE\"}]}"),
			 ANSWER_TRANSIENT);
	pt_assert_result(batch[1], LOOKUP_ERROR, "malformed answer");
	/* a threat type that is no enum name never reaches a details text */
	assert_int_equal(pt_parse_batch(&gsb, batch, 2, 200,
				     "{\"matches\":[{\"threatType\":\"MALWARE\\r\\nX-Threat-Verdict: clean\","
				     "\"threat\":{\"url\":\"http://login-example.test/verify\"}}]}"),
			 ANSWER_TRANSIENT);
	pt_assert_result(batch[0], LOOKUP_ERROR, "malformed answer");
	for (int i = 0; i < 2; i++)
		pt_lookup_del(batch[i]);
}

static void test_google_message_never_carries_the_key(void **state)
{
	(void)state;
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&gsb, INDICATOR_URL, "http://a.example/");
	const char *echo =
		"{\"error\":{\"code\":400,\"message\":\"API key " GOOGLE_KEY " not valid\\nretry\","
		"\"status\":\"INVALID_ARGUMENT\",\"details\":[{\"reason\":\"API_KEY_INVALID\"}]}}";
	const char *odd_status =
		"{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":\"" GOOGLE_KEY "\"}}";

	assert_int_equal(pt_parse(&gsb, l, 400, echo), ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 400 API_KEY_INVALID: API key <key> not valid retry");
	assert_int_equal(pt_parse(&gsb, l, 400, odd_status), ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 400: bad");
	pt_lookup_del(l);
}

static void test_google_message_is_bounded(void **state)
{
	(void)state;
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&gsb, INDICATOR_URL, "http://a.example/");
	/* byte 200 is inside a two-byte character: the cut goes before it */
	char *a199 = g_strnfill(199, 'a');
	char *b100 = g_strnfill(100, 'b');
	char *body = g_strdup_printf("{\"error\":{\"code\":500,\"message\":\"%s\xc3\xa4%s\","
				     "\"status\":\"INTERNAL\"}}", a199, b100);
	char *expected = g_strdup_printf("HTTP 500 INTERNAL: %s", a199);

	assert_int_equal(pt_parse(&gsb, l, 500, body), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, expected);
	g_free(expected);
	g_free(body);
	g_free(b100);
	g_free(a199);
	pt_lookup_del(l);
}

static void test_safebrowsing_test_connection(void **state)
{
	(void)state;
	struct integration gsb = pt_integration("safebrowsing", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&gsb, provider_type_find("safebrowsing")->test.kind,
				      provider_type_find("safebrowsing")->test.indicator);

	assert_int_equal(pt_parse(&gsb, l, 200, gsb_test_url), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "MALWARE");
	assert_true(provider_type_find("safebrowsing")->test.ok(l));
	assert_int_equal(pt_parse(&gsb, l, 200, "{}"), ANSWER_DECIDED);
	assert_false(provider_type_find("safebrowsing")->test.ok(l));
	long status;
	char *body = gsb_error("wrong_key", NULL, &status);
	assert_int_equal(pt_parse(&gsb, l, status, body), ANSWER_AUTH);
	assert_false(provider_type_find("safebrowsing")->test.ok(l));
	g_free(body);
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safebrowsing_supports),
		cmocka_unit_test(test_safebrowsing_request),
		cmocka_unit_test(test_safebrowsing_request_full_batch),
		cmocka_unit_test(test_safebrowsing_verdicts),
		cmocka_unit_test(test_safebrowsing_suspicious_and_worst),
		cmocka_unit_test(test_safebrowsing_errors),
		cmocka_unit_test(test_google_message_never_carries_the_key),
		cmocka_unit_test(test_google_message_is_bounded),
		cmocka_unit_test(test_safebrowsing_test_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
