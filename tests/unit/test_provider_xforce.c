/* test_provider_xforce.c: IBM X-Force Exchange
 * (../shared/providers/ibm-xforce.md): the requests; its answers are the
 * "cases" of tests/mock/fixtures/ibm-xforce.json (test_provider_common.c). */
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

/* credentials go through curl's Basic auth, never a header or the URL */
#define assert_xf_url(in, kind, indicator, url) \
	pt_assert_get(in, kind, indicator, url, NULL, XF_KEY ":" XF_PASS)

static void test_xforce_requests(void **state)
{
	(void)state;
	struct integration xf = pt_integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct integration exchange = pt_integration("xforce", "https://exchange.xforce.ibmcloud.com/api/",
						  XF_KEY, XF_PASS, 0);

	for (int k = INDICATOR_URL; k <= INDICATOR_HASH; k++)
		assert_true(provider_supports_kind("xforce", (enum indicator_kind)k));
	assert_true(xforce_http.max_batch <= 1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xforce_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
