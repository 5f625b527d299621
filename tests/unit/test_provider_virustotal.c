/* test_provider_virustotal.c: VirusTotal API v3 (../shared/providers/virustotal.md):
 * requests, and the answers of tests/mock/fixtures/virustotal.json as a table. */
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

#define VT_ROOT "https://www.virustotal.com/api/v3"

static void assert_vt_url(const struct integration *in, enum indicator_kind kind,
			  const char *indicator, const char *expected_url)
{
	struct lookup *l = pt_lookup_new(in, kind, indicator);
	struct http_request req;

	pt_build(in, &l, 1, &req);
	assert_string_equal(req.url->str, expected_url);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_null(req.basic_auth);
	assert_true(pt_has_header(&req, "x-apikey: " VT_KEY));
	assert_true(pt_has_header(&req, "Accept: application/json"));
	http_request_clear(&req);
	pt_lookup_del(l);
}

static void test_virustotal_requests(void **state)
{
	(void)state;
	struct integration vt = pt_integration("virustotal", VT_ROOT, VT_KEY, NULL, 1);
	struct integration slash = pt_integration("virustotal", VT_ROOT "/", VT_KEY, NULL, 1);

	/* the document's worked examples of the URL identifier */
	assert_vt_url(&vt, INDICATOR_URL, "http://www.example.com/",
		      VT_ROOT "/urls/aHR0cDovL3d3dy5leGFtcGxlLmNvbS8");
	assert_vt_url(&vt, INDICATOR_URL, "https://login-example.com/verify?id=1&x=\xc3\xa4",
		      VT_ROOT "/urls/aHR0cHM6Ly9sb2dpbi1leGFtcGxlLmNvbS92ZXJpZnk_aWQ9MSZ4PcOk");
	assert_vt_url(&slash, INDICATOR_URL, "http://www.example.com/",
		      VT_ROOT "/urls/aHR0cDovL3d3dy5leGFtcGxlLmNvbS8");
	assert_vt_url(&vt, INDICATOR_DOMAIN, "login-example.com", VT_ROOT "/domains/login-example.com");
	assert_vt_url(&vt, INDICATOR_IP, "192.0.2.10", VT_ROOT "/ip_addresses/192.0.2.10");
	assert_vt_url(&vt, INDICATOR_IP, "2001:db8::1", VT_ROOT "/ip_addresses/2001:db8::1");
	assert_vt_url(&vt, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f",
		      VT_ROOT "/files/44d88612fea8a8f36de82e1278abb02f");
}

#define URL "http://www.example.com/"
#define EICAR "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
#define VERDICT(kind, v) "templates." kind "+verdicts." v

/* The answers of virustotal.md (tests/mock/fixtures/virustotal.json, the
 * mock server's own) and what each becomes. Details: "malicious/total"
 * over every counter, hyphenated ones too. */
static const struct pt_case vt_cases[] = {
	{ INDICATOR_URL, URL, VERDICT("url", "malicious"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "12/93" },
	/* under the threshold: suspicious */
	{ INDICATOR_URL, URL, VERDICT("url", "malicious"), 0, NULL, 15,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "12/93" },
	{ INDICATOR_IP, "198.51.100.7", VERDICT("ip_address", "suspicious"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "0/93" },
	{ INDICATOR_IP, "192.0.2.10", VERDICT("ip_address", "clean"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_CLEAN, LOOKUP_ERR_NONE, "0/93" },
	{ INDICATOR_DOMAIN, "login-example.com", VERDICT("domain", "malicious"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "12/93" },
	{ INDICATOR_HASH, EICAR, "bodies.eicar", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "61/74" },
	{ INDICATOR_HASH, EICAR, VERDICT("file", "suspicious"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "0/74" },
	/* exists but never analysed */
	{ INDICATOR_URL, "http://new.example.net/", VERDICT("url", "unscanned"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "0/0" },
	{ INDICATOR_HASH, EICAR, "errors.not_found", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "not found" },
	{ INDICATOR_URL, URL, "errors.not_available_yet", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "not available yet" },
	/* errors, §4 of the document */
	{ INDICATOR_HASH, EICAR, "errors.wrong_key", 0, NULL, 0,
	  ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP 401 WrongCredentialsError" },
	{ INDICATOR_HASH, EICAR, "errors.missing_key", 0, NULL, 0,
	  ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP 401 AuthenticationRequiredError" },
	/* both 429s: the quota and the burst limit */
	{ INDICATOR_HASH, EICAR, "errors.quota", 0, NULL, 0,
	  ANSWER_QUOTA, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA, "HTTP 429 QuotaExceededError" },
	{ INDICATOR_HASH, EICAR, "errors.too_many_requests", 0, NULL, 0,
	  ANSWER_QUOTA, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA, "HTTP 429 TooManyRequestsError" },
	{ INDICATOR_HASH, EICAR, "errors.503", 0, NULL, 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 503" },
	{ INDICATOR_HASH, EICAR, "errors.504", 0, NULL, 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 504" },
	{ INDICATOR_HASH, EICAR, "errors.forbidden", 0, NULL, 0,
	  ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP 403 ForbiddenError" },
	{ INDICATOR_IP, "1.2.3", "errors.invalid_argument", 0, NULL, 0,
	  ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 400 InvalidArgumentError" },
	{ INDICATOR_HASH, EICAR, NULL, 424, "{\"error\":{\"code\":\"FailedDependencyError\"}}", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 424 FailedDependencyError" },
	/* answers that cannot be read */
	{ INDICATOR_HASH, EICAR, NULL, 200, "{\"data\": {\"attributes\"", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer" },
	{ INDICATOR_HASH, EICAR, NULL, 200, "<html>busy</html>", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer" },
	{ INDICATOR_HASH, EICAR, NULL, 200, "{\"data\":{}}", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer" },
	/* hostile counters are read as 0, never cast out of range */
	{ INDICATOR_HASH, EICAR, NULL, 200,
	  "{\"data\":{\"attributes\":{\"last_analysis_date\":1,\"last_analysis_stats\":"
	  "{\"malicious\":-3,\"suspicious\":1e300,\"harmless\":5}}}}", 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "0/" },
};

static void test_virustotal_answers(void **state)
{
	(void)state;
	pt_run_cases("virustotal", "virustotal", VT_ROOT, VT_KEY, NULL, vt_cases,
		     G_N_ELEMENTS(vt_cases));
}

/* Test Connection: any verdict for 8.8.8.8 proves the key, an error
 * does not. */
static void test_virustotal_test_connection(void **state)
{
	const struct provider_type *t = provider_type_find("virustotal");
	struct integration vt = pt_integration("virustotal", VT_ROOT, VT_KEY, NULL, 1);
	struct lookup *l = pt_lookup_new(&vt, t->test.kind, t->test.indicator);
	long status;
	char *body;

	(void)state;
	assert_string_equal(t->test.indicator, "8.8.8.8");
	body = pt_fixture("virustotal", VERDICT("ip_address", "clean"), NULL, &status);
	pt_parse(&vt, l, status, body);
	g_free(body);
	assert_true(t->test.ok(l));
	body = pt_fixture("virustotal", "errors.not_found", NULL, &status);
	pt_parse(&vt, l, status, body);
	g_free(body);
	assert_true(t->test.ok(l));
	body = pt_fixture("virustotal", "errors.wrong_key", NULL, &status);
	pt_parse(&vt, l, status, body);
	g_free(body);
	assert_false(t->test.ok(l));
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virustotal_requests),
		cmocka_unit_test(test_virustotal_answers),
		cmocka_unit_test(test_virustotal_test_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
