/* test_provider_metadefender.c: OPSWAT MetaDefender Cloud v4 (../shared/providers/opswat-metadefender.md):
 * requests, and the answers of tests/mock/fixtures/opswat-metadefender.json
 * as a table. */
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

#define MD_ROOT "https://api.metadefender.com/v4"

/* the document's fixtures (opswat-metadefender.md, section 8) */
static const char md_eicar[] =
	"{\"data_id\":\"bzIwMDEyMkJ5bHJwRG5GeTNtTTBoNWpJbUZm\",\"scan_results\":{"
	"\"scan_all_result_i\":1,\"scan_all_result_a\":\"Infected\",\"total_avs\":38,"
	"\"total_detected_avs\":31,\"progress_percentage\":100},\"file_info\":{"
	"\"md5\":\"44d88612fea8a8f36de82e1278abb02f\",\"display_name\":\"eicar.com\"}}";
static const char md_ip_malicious[] =
	"{\"address\":\"192.0.2.66\",\"lookup_results\":{\"start_time\":\"2026-11-20T10:00:00.000Z\","
	"\"detected_by\":3,\"sources\":["
	"{\"provider\":\"webroot.com\",\"assessment\":\"phishing\",\"status\":1},"
	"{\"provider\":\"example-bl.net\",\"assessment\":\"spam\",\"status\":1},"
	"{\"provider\":\"example-rep.org\",\"assessment\":\"high risk\",\"status\":1},"
	"{\"provider\":\"clean-source.test\",\"assessment\":\"\",\"status\":5}]},"
	"\"geo_info\":{\"country\":{\"code\":\"ZZ\",\"name\":\"Unknown\"}}}";
static const char md_url_clean[] =
	"{\"address\":\"https://www.example.com/\",\"lookup_results\":{\"detected_by\":0,"
	"\"sources\":[{\"provider\":\"webroot.com\",\"assessment\":\"trustworthy\",\"status\":0}]}}";

static void assert_md_url(const struct integration *in, enum indicator_kind kind,
			  const char *indicator, const char *expected)
{
	struct lookup *l = pt_lookup_new(in, kind, indicator);
	struct http_request req;

	pt_build(in, &l, 1, &req);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_null(req.basic_auth);
	assert_string_equal(req.url->str, expected);
	/* the key travels in its header, never in the URL */
	assert_true(pt_has_header(&req, "apikey: " MD_KEY));
	assert_null(strstr(req.url->str, MD_KEY));
	http_request_clear(&req);
	pt_lookup_del(l);
}

static void test_metadefender_requests(void **state)
{
	(void)state;
	struct integration md = pt_integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct integration slash = pt_integration("metadefender", MD_ROOT "/", MD_KEY, NULL, 0);

	for (int k = INDICATOR_URL; k <= INDICATOR_HASH; k++)
		assert_true(provider_supports_kind("metadefender", (enum indicator_kind)k));
	assert_int_equal(metadefender_ops.max_batch, 1);
	assert_md_url(&md, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f",
		      MD_ROOT "/hash/44d88612fea8a8f36de82e1278abb02f");
	assert_md_url(&slash, INDICATOR_IP, "192.0.2.66", MD_ROOT "/ip/192.0.2.66");
	assert_md_url(&md, INDICATOR_IP, "2001:db8::1", MD_ROOT "/ip/2001%3Adb8%3A%3A1");
	/* the whole URL is one path segment */
	assert_md_url(&md, INDICATOR_URL, "https://www.example.com/",
		      MD_ROOT "/url/https%3A%2F%2Fwww.example.com%2F");
	assert_md_url(&md, INDICATOR_URL, "http://a.example/p?q=1&r=2#f",
		      MD_ROOT "/url/http%3A%2F%2Fa.example%2Fp%3Fq%3D1%26r%3D2%23f");
	assert_md_url(&md, INDICATOR_DOMAIN, "login.example.net", MD_ROOT "/domain/login.example.net");
	assert_int_equal(provider_type_find("metadefender")->test.kind, INDICATOR_IP);
	assert_md_url(&md, provider_type_find("metadefender")->test.kind, provider_type_find("metadefender")->test.indicator,
		      MD_ROOT "/ip/8.8.8.8");
}

static void test_metadefender_hashes(void **state)
{
	(void)state;
	struct integration md = pt_integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&md, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f");
	static const struct { int code; enum lookup_status status; } table[] = {
		{ 0, LOOKUP_CLEAN }, { 1, LOOKUP_MALICIOUS }, { 2, LOOKUP_SUSPICIOUS },
		{ 3, LOOKUP_UNKNOWN }, { 4, LOOKUP_SUSPICIOUS }, { 5, LOOKUP_UNKNOWN },
		{ 7, LOOKUP_CLEAN }, { 8, LOOKUP_MALICIOUS }, { 9, LOOKUP_UNKNOWN },
		{ 10, LOOKUP_UNKNOWN }, { 12, LOOKUP_UNKNOWN }, { 22, LOOKUP_SUSPICIOUS },
		{ 23, LOOKUP_UNKNOWN }, { 255, LOOKUP_UNKNOWN }, { 6, LOOKUP_UNKNOWN },
	};

	assert_int_equal(pt_parse(&md, l, 200, md_eicar), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "Infected 31/38");
	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		char *body = g_strdup_printf("{\"scan_results\":{\"scan_all_result_i\":%d}}",
					     table[i].code);
		char *details = g_strdup_printf("result %d", table[i].code);

		assert_int_equal(pt_parse(&md, l, 200, body), ANSWER_DECIDED);
		pt_assert_result(l, table[i].status, details);
		g_free(body);
		g_free(details);
	}
	/* the engine's name is sanitised before it can become a header */
	assert_int_equal(pt_parse(&md, l, 200,
			       "{\"scan_results\":{\"scan_all_result_i\":2,"
			       "\"scan_all_result_a\":\"Sus\\r\\npicious\",\"total_avs\":0}}"),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "Sus  picious");
	assert_int_equal(pt_parse(&md, l, 404,
			       "{\"error\":{\"code\":404003,\"messages\":[\"The hash was not found\"]}}"),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_UNKNOWN, "not found");
	/* MetaDefender Core's (and API v3's) "not found" */
	assert_int_equal(pt_parse(&md, l, 200,
			       "{\"44D88612FEA8A8F36DE82E1278ABB02F\":\"Not Found\"}"),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_UNKNOWN, "not found");
	assert_int_equal(pt_parse(&md, l, 200, "{\"data_id\":\"x\"}"),
			 ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "malformed answer");
	pt_lookup_del(l);
}

static void test_metadefender_reputation(void **state)
{
	(void)state;
	struct integration md = pt_integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct integration strict = pt_integration("metadefender", MD_ROOT, MD_KEY, NULL, 4);
	struct lookup *ip = pt_lookup_new(&md, INDICATOR_IP, "192.0.2.66");
	struct lookup *url = pt_lookup_new(&md, INDICATOR_URL, "https://www.example.com/");

	assert_int_equal(pt_parse(&md, ip, 200, md_ip_malicious), ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_MALICIOUS, "detected by 3");
	assert_true(provider_type_find("metadefender")->test.ok(ip));
	/* the threshold is the integration's DetectionThreshold */
	assert_int_equal(pt_parse(&strict, ip, 200, md_ip_malicious), ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_SUSPICIOUS, "detected by 3");
	assert_int_equal(pt_parse(&md, ip, 200,
			       "{\"lookup_results\":{\"detected_by\":1,\"sources\":[]}}"),
			 ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_SUSPICIOUS, "detected by 1");
	assert_int_equal(pt_parse(&md, url, 200, md_url_clean), ANSWER_DECIDED);
	pt_assert_result(url, LOOKUP_CLEAN, "detected by 0 of 1");
	/* nobody has an entry: not "clean" */
	assert_int_equal(pt_parse(&md, url, 200,
			       "{\"lookup_results\":{\"detected_by\":0,\"sources\":["
			       "{\"provider\":\"a\",\"status\":5},{\"provider\":\"b\",\"status\":5}]}}"),
			 ANSWER_DECIDED);
	pt_assert_result(url, LOOKUP_UNKNOWN, "no source knows it");
	assert_true(provider_type_find("metadefender")->test.ok(url));
	assert_int_equal(pt_parse(&md, url, 200, "{\"address\":\"x\"}"),
			 ANSWER_TRANSIENT);
	pt_assert_result(url, LOOKUP_ERROR, "malformed answer");
	pt_lookup_del(ip);
	pt_lookup_del(url);
}

static void test_metadefender_errors(void **state)
{
	(void)state;
	struct integration md = pt_integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&md, INDICATOR_IP, "8.8.8.8");

	assert_int_equal(pt_parse(&md, l, 401,
			       "{\"error\":{\"code\":401006,\"messages\":[\"Invalid apikey\"]}}"),
			 ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 401: credentials refused");
	assert_false(provider_type_find("metadefender")->test.ok(l));
	assert_int_equal(pt_parse(&md, l, 403, "{}"), ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 403: not in the licence");
	assert_int_equal(pt_parse(&md, l, 429,
			       "{\"error\":{\"code\":429000,\"messages\":[\"API limit exceeded\"]}}"),
			 ANSWER_QUOTA);
	pt_assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 429: API limit reached");
	assert_false(provider_type_find("metadefender")->test.ok(l));
	assert_int_equal(pt_parse(&md, l, 400,
			       "{\"error\":{\"code\":400064,\"messages\":[\"Invalid IP\\naddress\"]}}"),
			 ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 400: Invalid IP address");
	assert_int_equal(pt_parse(&md, l, 400, "Bad Request"), ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 400");
	assert_int_equal(pt_parse(&md, l, 503, ""), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 503");
	assert_int_equal(pt_parse(&md, l, 200, "{\"lookup_results\":"),
			 ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "malformed answer");
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadefender_requests),
		cmocka_unit_test(test_metadefender_hashes),
		cmocka_unit_test(test_metadefender_reputation),
		cmocka_unit_test(test_metadefender_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
