/* test_provider_webrisk.c: Google Web Risk (../shared/providers/google-web-risk.md): requests,
 * threats and expireTime, Google's error envelope. */
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

#define WR_ROOT "https://webrisk.googleapis.com/v1"
#define WR_TYPES "threatTypes=MALWARE&threatTypes=SOCIAL_ENGINEERING&threatTypes=UNWANTED_SOFTWARE"

static const char wr_malicious[] =
	"{\"threat\":{\"threatTypes\":[\"SOCIAL_ENGINEERING\",\"MALWARE\"],\"expireTime\":\"2025-11-22T10:15:30.123456789Z\"}}";
static const char wr_suspicious[] =
	"{\"threat\":{\"threatTypes\":[\"UNWANTED_SOFTWARE\"],\"expireTime\":\"2025-11-22T10:20:00Z\"}}";
static void assert_wr_url(const struct integration *in, enum indicator_kind kind,
			  const char *indicator, const char *expected_url)
{
	struct lookup *l = pt_lookup_new(in, kind, indicator);
	struct http_request req;

	pt_build(in, &l, 1, &req);
	assert_string_equal(req.url->str, expected_url);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_null(req.basic_auth);
	assert_true(pt_has_header(&req, "Accept: application/json"));
	http_request_clear(&req);
	pt_lookup_del(l);
}

static void test_webrisk_requests(void **state)
{
	(void)state;
	struct integration doc = pt_integration("webrisk", WR_ROOT, "API_KEY", NULL, 0);
	struct integration wr = pt_integration("webrisk", WR_ROOT "/", GOOGLE_KEY, NULL, 0);

	assert_true(provider_supports_kind("webrisk", INDICATOR_URL));
	assert_true(provider_supports_kind("webrisk", INDICATOR_DOMAIN));
	assert_false(provider_supports_kind("webrisk", INDICATOR_IP));
	assert_false(provider_supports_kind("webrisk", INDICATOR_HASH));
	assert_int_equal(webrisk_ops.max_batch, 1);
	/* the document's example, byte for byte */
	assert_wr_url(&doc, INDICATOR_URL, "https://login-example.com/verify?id=1",
		      "https://webrisk.googleapis.com/v1/uris:search?threatTypes=MALWARE"
		      "&threatTypes=SOCIAL_ENGINEERING&threatTypes=UNWANTED_SOFTWARE"
		      "&uri=https%3A%2F%2Flogin-example.com%2Fverify%3Fid%3D1&key=API_KEY");
	assert_wr_url(&wr, INDICATOR_DOMAIN, "example.net",
		      WR_ROOT "/uris:search?" WR_TYPES "&uri=http%3A%2F%2Fexample.net%2F&key=" GOOGLE_KEY);
	assert_wr_url(&wr, INDICATOR_URL, "http://a.example/p?x=1&y=\xc3\xa4#frag",
		      WR_ROOT "/uris:search?" WR_TYPES
		      "&uri=http%3A%2F%2Fa.example%2Fp%3Fx%3D1%26y%3D%C3%A4%23frag&key=" GOOGLE_KEY);
	assert_wr_url(&wr, provider_type_find("webrisk")->test.kind, provider_type_find("webrisk")->test.indicator,
		      WR_ROOT "/uris:search?" WR_TYPES
		      "&uri=http%3A%2F%2Ftestsafebrowsing.appspot.com%2Fs%2Fmalware.html&key=" GOOGLE_KEY);
}

static void test_webrisk_verdicts(void **state)
{
	(void)state;
	struct integration wr = pt_integration("webrisk", WR_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&wr, INDICATOR_URL, "http://login-example.test/verify");

	assert_int_equal(pt_parse(&wr, l, 200, wr_malicious), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "SOCIAL_ENGINEERING,MALWARE");
	/* the fixture's expireTime is in the past: cache it as briefly as possible */
	assert_int_equal(l->result.ttl_s, 1);
	assert_true(provider_type_find("webrisk")->test.ok(l));

	l->result.ttl_s = 0;
	assert_int_equal(pt_parse(&wr, l, 200, wr_suspicious), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "UNWANTED_SOFTWARE");
	assert_false(provider_type_find("webrisk")->test.ok(l));

	assert_int_equal(pt_parse(&wr, l, 200,
			       "{\"threat\":{\"threatTypes\":[\"SOCIAL_ENGINEERING_EXTENDED_COVERAGE\"]}}"),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "SOCIAL_ENGINEERING_EXTENDED_COVERAGE");
	/* no expireTime: no hint */
	assert_int_equal(l->result.ttl_s, 0);

	assert_int_equal(pt_parse(&wr, l, 200, "{}"), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_CLEAN, "not listed");
	assert_false(provider_type_find("webrisk")->test.ok(l));
	pt_lookup_del(l);
}

static void test_webrisk_expire_time(void **state)
{
	(void)state;
	struct integration wr = pt_integration("webrisk", WR_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&wr, INDICATOR_URL, "http://login-example.test/verify");
	GDateTime *now = g_date_time_new_now_utc();
	GDateTime *later = g_date_time_add_seconds(now, 600);
	char *stamp = g_date_time_format(later, "%Y-%m-%dT%H:%M:%S.123456789Z");
	char *body = g_strdup_printf("{\"threat\":{\"threatTypes\":[\"MALWARE\"],\"expireTime\":\"%s\"}}",
				     stamp);

	assert_int_equal(pt_parse(&wr, l, 200, body), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "MALWARE");
	assert_in_range(l->result.ttl_s, 595, 600);

	l->result.ttl_s = 77;
	assert_int_equal(pt_parse(&wr, l, 200,
			       "{\"threat\":{\"threatTypes\":[\"MALWARE\"],\"expireTime\":\"tomorrow\"}}"),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "MALWARE");
	assert_int_equal(l->result.ttl_s, 0);
	g_free(body);
	g_free(stamp);
	g_date_time_unref(later);
	g_date_time_unref(now);
	pt_lookup_del(l);
}

#define URL "http://login-example.test/verify"
#define WR_ERROR(name, class, status, error, details) \
	{ INDICATOR_URL, URL, "errors." name, 0, NULL, 0, class, status, error, details }
#define WR_BODY(body, details) \
	{ INDICATOR_URL, URL, NULL, 200, body, 0, ANSWER_TRANSIENT, LOOKUP_ERROR, \
	  LOOKUP_ERR_MALFORMED, details }

/* Google's error envelope (tests/mock/fixtures/google-web-risk.json, the
 * mock server's own) and answers that cannot be read. */
static const struct pt_case wr_cases[] = {
	WR_ERROR("wrong_key", ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH,
		 "HTTP 400 API_KEY_INVALID: API key not valid. Please pass a valid API key."),
	WR_ERROR("missing_threat_types", ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER,
		 "HTTP 400 INVALID_ARGUMENT: Invalid value: threat_types must be specified."),
	WR_ERROR("disabled_key", ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH,
		 "HTTP 403 PERMISSION_DENIED: This API method requires billing to be enabled."),
	WR_ERROR("quota", ANSWER_QUOTA, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA,
		 "HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'SearchUris "
		 "requests' and limit 'SearchUris requests per minute'."),
	WR_ERROR("504", ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER,
		 "HTTP 504 DEADLINE_EXCEEDED: Deadline exceeded."),
	WR_ERROR("500", ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER,
		 "HTTP 500 INTERNAL: Internal error encountered."),
	{ INDICATOR_URL, URL, NULL, 500, "", 0, ANSWER_TRANSIENT, LOOKUP_ERROR,
	  LOOKUP_ERR_PROVIDER, "HTTP 500" },
	WR_BODY("{\"threat\":", "malformed answer"),
	WR_BODY("[]", "malformed answer"),
	WR_BODY("{\"threat\":{\"threatTypes\":\"MALWARE\"}}", "malformed answer"),
	WR_BODY("{\"threat\":{\"threatTypes\":[7]}}", "malformed answer"),
	WR_BODY("{\"threat\":{\"threatTypes\":[\"MALWARE\",\"Malware, or not\"]}}",
		"malformed answer"),
};

static void test_webrisk_errors(void **state)
{
	(void)state;
	pt_run_cases("google-web-risk", "webrisk", WR_ROOT, GOOGLE_KEY, NULL, wr_cases,
		     G_N_ELEMENTS(wr_cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_webrisk_requests),
		cmocka_unit_test(test_webrisk_verdicts),
		cmocka_unit_test(test_webrisk_expire_time),
		cmocka_unit_test(test_webrisk_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
