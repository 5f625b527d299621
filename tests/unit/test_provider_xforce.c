/* test_provider_xforce.c: IBM X-Force Exchange (../shared/providers/ibm-xforce.md): requests,
 * and the answers of tests/mock/fixtures/ibm-xforce.json as a table. */
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

#define XF_ROOT "https://api.xforce.ibmcloud.com"

static const char xf_ip_malicious[] =
	"{\"ip\":\"203.0.113.7\",\"score\":8.6,\"reason\":\"Anonymization Services\",\"reasonDescription\":\"Host used as anonymizing proxy.\","
	"\"cats\":{\"Spam\":43,\"Anonymisation Services\":86},\"categoryDescriptions\":{\"Spam\":\"This category lists IP addresses that were seen sending out spam.\"},"
	"\"geo\":{\"country\":\"Netherlands\",\"countrycode\":\"NL\"},"
	"\"subnets\":[{\"subnet\":\"203.0.113.0/24\",\"ip\":\"203.0.113.0\",\"score\":5,\"cats\":{},\"reason\":\"Regional Internet Registry\",\"created\":\"2024-01-01T00:00:00.000Z\"}],"
	"\"history\":[{\"created\":\"2025-10-01T12:00:00.000Z\",\"ip\":\"203.0.113.7\",\"score\":8.6,\"cats\":{\"Spam\":43},\"reason\":\"Spam\",\"geo\":{\"country\":\"Netherlands\",\"countrycode\":\"NL\"}}],"
	"\"tags\":[]}";

static const char xf_ip_clean[] =
	"{\"ip\":\"8.8.8.8\",\"score\":1,\"reason\":\"Regional Internet Registry\",\"reasonDescription\":\"One of the five RIRs announced a (new) location mapping of the IP.\","
	"\"cats\":{},\"categoryDescriptions\":{},\"geo\":{\"country\":\"United States\",\"countrycode\":\"US\"},"
	"\"subnets\":[{\"subnet\":\"8.0.0.0/8\",\"ip\":\"8.0.0.0\",\"score\":1,\"cats\":{},\"reason\":\"Regional Internet Registry\",\"created\":\"2018-04-24T06:22:00.000Z\"}],"
	"\"history\":[],\"tags\":[]}";

static const char xf_url_malicious[] =
	"{\"result\":{\"url\":\"login-example.test/verify\",\"score\":10,\"cats\":{\"Phishing URLs\":true},"
	"\"categoryDescriptions\":{\"Phishing URLs\":\"Sites that trick users into revealing credentials.\"}},"
	"\"associated\":[{\"url\":\"login-example.test\",\"score\":10,\"cats\":{\"Phishing URLs\":true},\"categoryDescriptions\":{}}],"
	"\"tags\":[]}";

static const char xf_url_clean[] =
	"{\"result\":{\"url\":\"www.example.org\",\"score\":1,\"cats\":{\"Search Engines / Web Catalogs / Portals\":true},\"categoryDescriptions\":{}},"
	"\"associated\":[],\"tags\":[]}";

static const char xf_eicar[] =
	"{\"malware\":{\"type\":\"md5\",\"md5\":\"0x44D88612FEA8A8F36DE82E1278ABB02F\",\"hash\":\"0x44D88612FEA8A8F36DE82E1278ABB02F\","
	"\"risk\":\"high\",\"family\":[\"eicar\"],\"familyMembers\":{\"eicar\":{\"count\":12}},\"created\":\"2015-01-01T00:00:00Z\","
	"\"origins\":{\"external\":{\"source\":\"reversingLabs\",\"firstSeen\":\"2015-01-01T00:00:00Z\",\"lastSeen\":\"2025-10-01T00:00:00Z\","
	"\"malwareType\":\"Test\",\"platform\":\"DOS\",\"detectionCoverage\":58,\"family\":[\"eicar\"]}}},\"tags\":[]}";

static const char xf_low_risk[] =
	"{\"malware\":{\"type\":\"sha256\",\"sha256\":\"0x55D2AD612F36AEBF2184F138D37BA1A16B774627FBBAFD737425731369EFD010\","
	"\"hash\":\"0x55D2AD612F36AEBF2184F138D37BA1A16B774627FBBAFD737425731369EFD010\",\"risk\":\"low\","
	"\"origins\":{\"external\":{\"source\":\"reversingLabs\",\"detectionCoverage\":0,\"family\":null}}}}";

static void assert_xf_url(const struct integration *in, enum indicator_kind kind,
			  const char *indicator, const char *expected_url)
{
	struct lookup *l = pt_lookup_new(in, kind, indicator);
	struct http_request req;

	pt_build(in, &l, 1, &req);
	assert_string_equal(req.url->str, expected_url);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_non_null(req.basic_auth);
	assert_string_equal(req.basic_auth, XF_KEY ":" XF_PASS);
	assert_true(pt_has_header(&req, "Accept: application/json"));
	/* credentials go through curl's Basic auth, never a header or the URL */
	assert_false(pt_has_header_named(&req, "Authorization"));
	assert_null(strstr(req.url->str, XF_KEY));
	assert_null(strstr(req.url->str, XF_PASS));
	http_request_clear(&req);
	pt_lookup_del(l);
}

static void test_xforce_requests(void **state)
{
	(void)state;
	struct integration xf = pt_integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct integration exchange = pt_integration("xforce", "https://exchange.xforce.ibmcloud.com/api/",
						  XF_KEY, XF_PASS, 0);

	for (int k = INDICATOR_URL; k <= INDICATOR_HASH; k++)
		assert_true(provider_supports_kind("xforce", (enum indicator_kind)k));
	assert_int_equal(xforce_ops.max_batch, 1);
	assert_xf_url(&xf, INDICATOR_IP, "203.0.113.7", XF_ROOT "/ipr/203.0.113.7");
	assert_xf_url(&xf, INDICATOR_URL, "http://login-example.test/verify",
		      XF_ROOT "/url/http%3A%2F%2Flogin-example.test%2Fverify");
	/* the document's quote_plus example */
	assert_xf_url(&xf, INDICATOR_URL, "https://a.example/x?y=1",
		      XF_ROOT "/url/https%3A%2F%2Fa.example%2Fx%3Fy%3D1");
	assert_xf_url(&xf, INDICATOR_URL, "https://a.example/x#top",
		      XF_ROOT "/url/https%3A%2F%2Fa.example%2Fx%23top");
	assert_xf_url(&xf, INDICATOR_DOMAIN, "www.example.org", XF_ROOT "/url/www.example.org");
	assert_xf_url(&xf, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f",
		      XF_ROOT "/malware/44d88612fea8a8f36de82e1278abb02f");
	/* what curl puts in Authorization, as the document's mock expects */
	struct integration doc = pt_integration("xforce", XF_ROOT, "testkey", "testpass", 0);
	struct lookup *l = pt_lookup_new(&doc, INDICATOR_IP, "8.8.8.8");
	struct http_request req;
	pt_build(&doc, &l, 1, &req);
	char *token = g_base64_encode((const guchar *)req.basic_auth, strlen(req.basic_auth));
	assert_string_equal(token, "dGVzdGtleTp0ZXN0cGFzcw==");
	g_free(token);
	http_request_clear(&req);
	pt_lookup_del(l);
	assert_xf_url(&exchange, INDICATOR_IP, "8.8.8.8",
		      "https://exchange.xforce.ibmcloud.com/api/ipr/8.8.8.8");
	assert_int_equal(provider_type_find("xforce")->test.kind, INDICATOR_IP);
	assert_xf_url(&xf, provider_type_find("xforce")->test.kind, provider_type_find("xforce")->test.indicator, XF_ROOT "/ipr/8.8.8.8");
}

static void test_xforce_scores(void **state)
{
	(void)state;
	struct integration xf = pt_integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct integration strict = pt_integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 9);
	struct integration bogus = pt_integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 42);
	struct lookup *ip = pt_lookup_new(&xf, INDICATOR_IP, "203.0.113.7");
	struct lookup *url = pt_lookup_new(&xf, INDICATOR_URL, "http://login-example.test/verify");

	assert_int_equal(pt_parse(&xf, ip, 200, xf_ip_malicious), ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_MALICIOUS, "score 8.6");
	/* DetectionThreshold is the malicious cut-off */
	assert_int_equal(pt_parse(&strict, ip, 200, xf_ip_malicious), ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_SUSPICIOUS, "score 8.6");
	/* out of 1..10: the default 7 */
	assert_int_equal(pt_parse(&bogus, ip, 200, xf_ip_malicious), ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_MALICIOUS, "score 8.6");
	assert_int_equal(pt_parse(&xf, ip, 200, "{\"ip\":\"203.0.113.8\",\"score\":7}"),
			 ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_MALICIOUS, "score 7");
	assert_int_equal(pt_parse(&xf, ip, 200, "{\"ip\":\"198.51.100.1\",\"score\":5}"),
			 ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_SUSPICIOUS, "score 5");
	assert_int_equal(pt_parse(&xf, ip, 200, "{\"ip\":\"198.51.100.2\",\"score\":4}"),
			 ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_SUSPICIOUS, "score 4");
	assert_int_equal(pt_parse(&xf, ip, 200, "{\"ip\":\"198.51.100.3\",\"score\":3.9}"),
			 ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_CLEAN, "score 3.9");
	assert_int_equal(pt_parse(&xf, ip, 200, xf_ip_clean), ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_CLEAN, "score 1");
	assert_true(provider_type_find("xforce")->test.ok(ip));
	/* no score: X-Force does not know */
	assert_int_equal(pt_parse(&xf, ip, 200, "{\"ip\":\"192.0.2.1\",\"score\":null}"),
			 ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_UNKNOWN, "no score");
	assert_true(provider_type_find("xforce")->test.ok(ip));
	/* the IP score is top-level: result.score does not count for an IP */
	assert_int_equal(pt_parse(&xf, ip, 200, xf_url_malicious), ANSWER_DECIDED);
	pt_assert_result(ip, LOOKUP_UNKNOWN, "no score");

	assert_int_equal(pt_parse(&xf, url, 200, xf_url_malicious), ANSWER_DECIDED);
	pt_assert_result(url, LOOKUP_MALICIOUS, "score 10");
	assert_int_equal(pt_parse(&xf, url, 200, xf_url_clean), ANSWER_DECIDED);
	pt_assert_result(url, LOOKUP_CLEAN, "score 1");
	assert_int_equal(pt_parse(&xf, url, 200, "{\"result\":{\"url\":\"x.example\"}}"),
			 ANSWER_DECIDED);
	pt_assert_result(url, LOOKUP_UNKNOWN, "no score");
	/* a URL's score is result.score, not a top-level one */
	assert_int_equal(pt_parse(&xf, url, 200, xf_ip_malicious), ANSWER_DECIDED);
	pt_assert_result(url, LOOKUP_UNKNOWN, "no score");
	pt_lookup_del(ip);
	pt_lookup_del(url);
}

static void test_xforce_hashes(void **state)
{
	(void)state;
	struct integration xf = pt_integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct lookup *l = pt_lookup_new(&xf, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f");

	assert_int_equal(pt_parse(&xf, l, 200, xf_eicar), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "risk high (eicar)");
	/* family null, no malware.family: parsed without it */
	assert_int_equal(pt_parse(&xf, l, 200, xf_low_risk), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "risk low");
	assert_int_equal(pt_parse(&xf, l, 200,
			       "{\"malware\":{\"risk\":\"medium\",\"family\":null,"
			       "\"origins\":{\"external\":{\"family\":[\"badur\",\"tsunami\"]}}}}"),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "risk medium (badur,tsunami)");
	/* no origins at all */
	assert_int_equal(pt_parse(&xf, l, 200, "{\"malware\":{\"risk\":\"high\"}}"),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "risk high");
	assert_int_equal(pt_parse(&xf, l, 404, "{\"error\":\"Not found.\"}"), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_UNKNOWN, "not found");
	/* 404 is unknown whatever the body */
	assert_int_equal(pt_parse(&xf, l, 404, "Not Found"), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_UNKNOWN, "not found");
	assert_int_equal(pt_parse(&xf, l, 200, "{\"tags\":[]}"), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "malformed answer");
	pt_lookup_del(l);
}

static void test_xforce_errors(void **state)
{
	(void)state;
	struct integration xf = pt_integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct lookup *l = pt_lookup_new(&xf, INDICATOR_IP, "8.8.8.8");

	assert_int_equal(pt_parse(&xf, l, 401, "{\"error\":\"Not authorized.\"}"), ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 401: credentials refused");
	assert_false(provider_type_find("xforce")->test.ok(l));
	assert_int_equal(pt_parse(&xf, l, 402, "{\"error\":\"Monthly quota exceeded.\"}"),
			 ANSWER_QUOTA);
	pt_assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 402: monthly quota exhausted");
	assert_false(provider_type_find("xforce")->test.ok(l));
	assert_int_equal(pt_parse(&xf, l, 403, "{\"error\":\"Access denied.\"}"),
			 ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 403: access denied");
	assert_int_equal(pt_parse(&xf, l, 429, "{\"error\":\"Too many requests.\"}"),
			 ANSWER_QUOTA);
	pt_assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 429: provider rate limit");
	assert_int_equal(pt_parse(&xf, l, 400, "{\"error\":\"Invalid IP address.\"}"),
			 ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 400: Invalid IP address.");
	/* the server's text stays one line of ASCII */
	assert_int_equal(pt_parse(&xf, l, 400, "{\"error\":\"Ung\xc3\xbcltig\\n\"}"),
			 ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 400: Ung  ltig ");
	assert_int_equal(pt_parse(&xf, l, 500, "{\"error\":\"Internal error.\"}"),
			 ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 500");
	assert_int_equal(pt_parse(&xf, l, 503, ""), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 503");
	assert_int_equal(pt_parse(&xf, l, 200, "{\"ip\":\"8.8.8.8\",\"score\":"),
			 ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_false(provider_type_find("xforce")->test.ok(l));
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xforce_requests),
		cmocka_unit_test(test_xforce_scores),
		cmocka_unit_test(test_xforce_hashes),
		cmocka_unit_test(test_xforce_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
