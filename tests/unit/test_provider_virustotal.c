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

static const char vt_malicious_url[] =
	"{\"data\":{\"type\":\"url\",\"id\":\"14b570acce51451285fa2340e01f97344efe518c8770f5bbc0a794d9bcd55f01\","
	"\"links\":{\"self\":\"https://www.virustotal.com/api/v3/urls/14b570acce51451285fa2340e01f97344efe518c8770f5bbc0a794d9bcd55f01\"},"
	"\"attributes\":{\"url\":\"http://www.example.com/\",\"last_final_url\":\"http://www.example.com/\","
	"\"last_analysis_date\":1732200000,\"reputation\":-42,"
	"\"total_votes\":{\"harmless\":0,\"malicious\":7},"
	"\"categories\":{\"Forcepoint ThreatSeeker\":\"phishing and other frauds\"},"
	"\"last_analysis_stats\":{\"harmless\":60,\"malicious\":12,\"suspicious\":2,\"undetected\":19,\"timeout\":0},"
	"\"last_analysis_results\":{"
	"\"EngineA\":{\"category\":\"malicious\",\"engine_name\":\"EngineA\",\"method\":\"blacklist\",\"result\":\"phishing\"},"
	"\"EngineB\":{\"category\":\"harmless\",\"engine_name\":\"EngineB\",\"method\":\"blacklist\",\"result\":\"clean\"}}}}}";

static const char vt_clean_ip[] =
	"{\"data\":{\"type\":\"ip_address\",\"id\":\"192.0.2.10\","
	"\"links\":{\"self\":\"https://www.virustotal.com/api/v3/ip_addresses/192.0.2.10\"},"
	"\"attributes\":{\"as_owner\":\"EXAMPLE-NET\",\"asn\":64500,\"country\":\"US\",\"network\":\"192.0.2.0/24\","
	"\"last_analysis_date\":1732200000,\"reputation\":0,"
	"\"last_analysis_stats\":{\"harmless\":62,\"malicious\":0,\"suspicious\":0,\"undetected\":31,\"timeout\":0},"
	"\"last_analysis_results\":{}}}}";

static const char vt_eicar[] =
	"{\"data\":{\"type\":\"file\",\"id\":\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\","
	"\"attributes\":{\"md5\":\"44d88612fea8a8f36de82e1278abb02f\","
	"\"sha1\":\"3395856ce81f2b7382dee72602f798b642f14140\","
	"\"sha256\":\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\","
	"\"size\":68,\"type_description\":\"Text\",\"meaningful_name\":\"eicar.com\","
	"\"last_analysis_date\":1732200000,"
	"\"last_analysis_stats\":{\"harmless\":0,\"malicious\":61,\"suspicious\":0,\"undetected\":8,\"timeout\":0,"
	"\"confirmed-timeout\":0,\"failure\":0,\"type-unsupported\":5},"
	"\"popular_threat_classification\":{\"suggested_threat_label\":\"virus.eicar/test\"}}}}";

static const char vt_suspicious_ip[] =
	"{\"data\":{\"type\":\"ip_address\",\"id\":\"198.51.100.7\",\"attributes\":{"
	"\"last_analysis_date\":1732200000,"
	"\"last_analysis_stats\":{\"harmless\":60,\"malicious\":0,\"suspicious\":3,\"undetected\":30,\"timeout\":0}}}}";

static const char vt_unscanned_url[] =
	"{\"data\":{\"type\":\"url\",\"id\":\"x\",\"attributes\":{\"url\":\"http://new.example.net/\","
	"\"last_analysis_stats\":{\"harmless\":0,\"malicious\":0,\"suspicious\":0,\"undetected\":0,\"timeout\":0}}}}";

static const char vt_not_found[] =
	"{\"error\":{\"code\":\"NotFoundError\",\"message\":\"File \\\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\\\" not found\"}}";
static const char vt_bad_key[] =
	"{\"error\":{\"code\":\"WrongCredentialsError\",\"message\":\"Wrong API key\"}}";
static const char vt_missing_header[] =
	"{\"error\":{\"code\":\"AuthenticationRequiredError\",\"message\":\"X-Apikey header is missing\"}}";
static const char vt_quota[] =
	"{\"error\":{\"code\":\"QuotaExceededError\",\"message\":\"Quota exceeded\"}}";
static const char vt_too_many[] =
	"{\"error\":{\"code\":\"TooManyRequestsError\",\"message\":\"Too many requests\"}}";
static const char vt_transient[] =
	"{\"error\":{\"code\":\"TransientError\",\"message\":\"Transient error, please retry\"}}";

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

static void test_virustotal_verdicts(void **state)
{
	(void)state;
	struct integration vt = pt_integration("virustotal", VT_ROOT, VT_KEY, NULL, 1);
	struct integration strict = pt_integration("virustotal", VT_ROOT, VT_KEY, NULL, 15);
	struct lookup *l = pt_lookup_new(&vt, INDICATOR_URL, "http://www.example.com/");

	assert_int_equal(pt_parse(&vt, l, 200, vt_malicious_url), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "12/93");
	/* under the threshold: suspicious */
	assert_int_equal(pt_parse(&strict, l, 200, vt_malicious_url), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "12/93");
	assert_int_equal(pt_parse(&vt, l, 200, vt_suspicious_ip), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "0/93");
	assert_int_equal(pt_parse(&vt, l, 200, vt_clean_ip), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_CLEAN, "0/93");
	assert_true(provider_type_find("virustotal")->test.ok(l));
	/* every counter is part of the total, hyphenated ones too */
	assert_int_equal(pt_parse(&vt, l, 200, vt_eicar), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "61/74");
	/* exists but never analysed */
	assert_int_equal(pt_parse(&vt, l, 200, vt_unscanned_url), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_UNKNOWN, "0/0");
	assert_int_equal(pt_parse(&vt, l, 404, vt_not_found), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_UNKNOWN, "not found");
	assert_true(provider_type_find("virustotal")->test.ok(l));
	assert_int_equal(pt_parse(&vt, l, 400,
			       "{\"error\":{\"code\":\"NotAvailableYet\",\"message\":\"later\"}}"),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_UNKNOWN, "not available yet");
	pt_lookup_del(l);
}

static void test_virustotal_errors(void **state)
{
	(void)state;
	struct integration vt = pt_integration("virustotal", VT_ROOT, VT_KEY, NULL, 1);
	struct lookup *l = pt_lookup_new(&vt, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f");

	assert_int_equal(pt_parse(&vt, l, 401, vt_bad_key), ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 401 WrongCredentialsError");
	assert_false(provider_type_find("virustotal")->test.ok(l));
	assert_int_equal(pt_parse(&vt, l, 401, vt_missing_header), ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 401 AuthenticationRequiredError");
	/* both 429s: the quota and the burst limit */
	assert_int_equal(pt_parse(&vt, l, 429, vt_quota), ANSWER_QUOTA);
	pt_assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 429 QuotaExceededError");
	assert_false(provider_type_find("virustotal")->test.ok(l));
	assert_int_equal(pt_parse(&vt, l, 429, vt_too_many), ANSWER_QUOTA);
	pt_assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 429 TooManyRequestsError");
	assert_int_equal(pt_parse(&vt, l, 503, vt_transient), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 503");
	assert_int_equal(pt_parse(&vt, l, 504,
			       "{\"error\":{\"code\":\"DeadlineExceededError\",\"message\":\"x\"}}"),
			 ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 504");
	assert_int_equal(pt_parse(&vt, l, 403,
			       "{\"error\":{\"code\":\"ForbiddenError\",\"message\":\"premium\"}}"),
			 ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 403 ForbiddenError");
	assert_int_equal(pt_parse(&vt, l, 400,
			       "{\"error\":{\"code\":\"InvalidArgumentError\",\"message\":\"bad id\"}}"),
			 ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 400 InvalidArgumentError");
	assert_int_equal(pt_parse(&vt, l, 200, "{\"data\": {\"attributes\""),
			 ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_int_equal(pt_parse(&vt, l, 200, "<html>busy</html>"), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_int_equal(pt_parse(&vt, l, 200, "{\"data\":{}}"), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "malformed answer");
	/* hostile counters are read as 0, never cast out of range */
	assert_int_equal(pt_parse(&vt, l, 200,
			       "{\"data\":{\"attributes\":{\"last_analysis_date\":1,"
			       "\"last_analysis_stats\":{\"malicious\":-3,\"suspicious\":1e300,"
			       "\"harmless\":5}}}}"),
			 ANSWER_DECIDED);
	assert_int_equal(l->result.status, LOOKUP_SUSPICIOUS);
	assert_non_null(l->result.details);
	assert_true(g_str_has_prefix(l->result.details, "0/"));
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virustotal_requests),
		cmocka_unit_test(test_virustotal_verdicts),
		cmocka_unit_test(test_virustotal_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
