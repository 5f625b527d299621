/* test_provider_webrisk.c: Google Web Risk
 * (../shared/providers/google-web-risk.md): requests, threats and
 * expireTime; its error answers are the "cases" of
 * tests/mock/fixtures/google-web-risk.json (test_provider_common.c). */
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
/* the key in the query (Google's API key) */
#define assert_wr_url(in, kind, indicator, url) pt_assert_get(in, kind, indicator, url, NULL, NULL)

static void test_webrisk_requests(void **state)
{
	(void)state;
	struct integration doc = pt_integration("webrisk", WR_ROOT, "API_KEY", NULL, 0);
	struct integration wr = pt_integration("webrisk", WR_ROOT "/", GOOGLE_KEY, NULL, 0);

	assert_true(provider_supports_kind("webrisk", INDICATOR_URL));
	assert_true(provider_supports_kind("webrisk", INDICATOR_DOMAIN));
	assert_false(provider_supports_kind("webrisk", INDICATOR_IP));
	assert_false(provider_supports_kind("webrisk", INDICATOR_HASH));
	assert_true(webrisk_http.max_batch <= 1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_webrisk_requests),
		cmocka_unit_test(test_webrisk_verdicts),
		cmocka_unit_test(test_webrisk_expire_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
