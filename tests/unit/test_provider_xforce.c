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

#define HASH "44d88612fea8a8f36de82e1278abb02f"
#define VERDICT(kind, v) "templates." kind "+verdicts." kind "." v

/* The answers of ibm-xforce.md (tests/mock/fixtures/ibm-xforce.json, the
 * mock server's own) and what each becomes. IP and URL scores 1..10:
 * >= DetectionThreshold (1..10, else 7) malicious, >= 4 suspicious; a
 * hash known to X-Force is malware: risk high malicious, else suspicious. */
static const struct pt_case xf_cases[] = {
	{ INDICATOR_IP, "203.0.113.7", "bodies.ip_malicious_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "score 8.6" },
	/* DetectionThreshold is the malicious cut-off; out of 1..10: 7 */
	{ INDICATOR_IP, "203.0.113.7", "bodies.ip_malicious_doc", 0, NULL, 9,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "score 8.6" },
	{ INDICATOR_IP, "203.0.113.7", "bodies.ip_malicious_doc", 0, NULL, 42,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "score 8.6" },
	{ INDICATOR_IP, "8.8.8.8", "bodies.ip_clean_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_CLEAN, LOOKUP_ERR_NONE, "score 1" },
	{ INDICATOR_IP, "198.51.100.1", VERDICT("ip", "suspicious"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "score 5" },
	{ INDICATOR_IP, "203.0.113.8", NULL, 200, "{\"ip\":\"203.0.113.8\",\"score\":7}", 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "score 7" },
	{ INDICATOR_IP, "198.51.100.2", NULL, 200, "{\"score\":4}", 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "score 4" },
	{ INDICATOR_IP, "198.51.100.3", NULL, 200, "{\"score\":3.9}", 0,
	  ANSWER_DECIDED, LOOKUP_CLEAN, LOOKUP_ERR_NONE, "score 3.9" },
	/* no score: X-Force does not know */
	{ INDICATOR_IP, "192.0.2.1", NULL, 200, "{\"ip\":\"192.0.2.1\",\"score\":null}", 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "no score" },
	/* the IP score is top-level: result.score does not count for an IP */
	{ INDICATOR_IP, "203.0.113.7", "bodies.url_malicious_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "no score" },
	{ INDICATOR_URL, "http://login-example.test/verify", "bodies.url_malicious_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "score 10" },
	{ INDICATOR_URL, "http://www.example.org/", "bodies.url_clean_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_CLEAN, LOOKUP_ERR_NONE, "score 1" },
	{ INDICATOR_DOMAIN, "spam.example", VERDICT("url", "suspicious"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "score 5" },
	{ INDICATOR_URL, "http://x.example/", NULL, 200, "{\"result\":{\"url\":\"x.example\"}}", 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "no score" },
	/* a URL's score is result.score, not a top-level one */
	{ INDICATOR_URL, "http://x.example/", "bodies.ip_malicious_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "no score" },
	{ INDICATOR_HASH, HASH, "bodies.eicar", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "risk high (eicar)" },
	/* family null, no malware.family: read without it */
	{ INDICATOR_HASH, HASH, "bodies.low_risk_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "risk low" },
	{ INDICATOR_HASH, HASH, NULL, 200,
	  "{\"malware\":{\"risk\":\"medium\",\"family\":null,"
	  "\"origins\":{\"external\":{\"family\":[\"badur\",\"tsunami\"]}}}}", 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "risk medium (badur,tsunami)" },
	/* no origins at all */
	{ INDICATOR_HASH, HASH, NULL, 200, "{\"malware\":{\"risk\":\"high\"}}", 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "risk high" },
	{ INDICATOR_HASH, HASH, "errors.not_found", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "not found" },
	/* 404 is unknown whatever the body */
	{ INDICATOR_HASH, HASH, NULL, 404, "Not Found", 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "not found" },
	{ INDICATOR_HASH, HASH, NULL, 200, "{\"tags\":[]}", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer" },
	/* errors */
	{ INDICATOR_IP, "8.8.8.8", "errors.wrong_key", 0, NULL, 0,
	  ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP 401: credentials refused" },
	/* 402: the month's quota, no retry */
	{ INDICATOR_IP, "8.8.8.8", "errors.quota", 0, NULL, 0,
	  ANSWER_QUOTA, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA, "HTTP 402: monthly quota exhausted" },
	{ INDICATOR_IP, "8.8.8.8", "errors.forbidden", 0, NULL, 0,
	  ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 403: access denied" },
	{ INDICATOR_IP, "8.8.8.8", "errors.ratelimit", 0, NULL, 0,
	  ANSWER_QUOTA, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA, "HTTP 429: provider rate limit" },
	{ INDICATOR_IP, "8.8.8.8", NULL, 400, "{\"error\":\"Invalid IP address.\"}", 0,
	  ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 400: Invalid IP address." },
	/* the server's text stays one line of ASCII */
	{ INDICATOR_IP, "8.8.8.8", NULL, 400, "{\"error\":\"Ung\xc3\xbcltig\\n\"}", 0,
	  ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 400: Ung  ltig " },
	{ INDICATOR_IP, "8.8.8.8", "errors.500", 0, NULL, 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 500" },
	{ INDICATOR_IP, "8.8.8.8", NULL, 503, "", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 503" },
	{ INDICATOR_IP, "8.8.8.8", NULL, 200, "{\"ip\":\"8.8.8.8\",\"score\":", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer" },
};

static void test_xforce_answers(void **state)
{
	(void)state;
	pt_run_cases("ibm-xforce", "xforce", XF_ROOT, XF_KEY, XF_PASS, xf_cases,
		     G_N_ELEMENTS(xf_cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xforce_requests),
		cmocka_unit_test(test_xforce_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
