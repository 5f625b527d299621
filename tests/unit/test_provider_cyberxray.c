/* test_provider_cyberxray.c: Cyber X-Ray (../shared/providers/
 * cyber-xray.md): the documented minimal contract's request (GET
 * <root><host>, ApiKey header; a URL sent as its host only) and the
 * answers of tests/mock/fixtures/cyberxray.json (its "cases": the
 * tolerant mapper, 202 pending, 404 unknown, errors). The polling of
 * a pending answer as a job: test_provider_cyberxray_jobs.c. */
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

#define CX_ROOT "https://reputation.roksit.com/api/query/"
#define CX_KEY "cx-test-key-0123456789"

static void test_cyberxray_requests(void **state)
{
	struct integration cx = pt_integration("cyberxray", CX_ROOT, CX_KEY, NULL, 0);

	(void)state;
	pt_assert_get(&cx, INDICATOR_DOMAIN, "example.com", CX_ROOT "example.com",
		      "ApiKey: " CX_KEY, NULL);
	/* never the path or the parameters of a URL: its host, lower case */
	pt_assert_get(&cx, INDICATOR_URL, "http://Login.Example.NET:8080/a?token=secret",
		      CX_ROOT "login.example.net", "ApiKey: " CX_KEY, NULL);
	pt_assert_get(&cx, INDICATOR_URL, "https://xn--bcher-kva.example/", CX_ROOT
		      "xn--bcher-kva.example", "ApiKey: " CX_KEY, NULL);
}

static void test_cyberxray_cases(void **state)
{
	(void)state;
	assert_true(pt_run_fixture_cases("cyberxray", "cyberxray", CX_ROOT, CX_KEY, NULL) >= 15);
}

/* Thresholds on a numeric score: DetectionThreshold / MaliciousThreshold
 * replace the document's 50 / 80. */
static void test_cyberxray_score_thresholds(void **state)
{
	struct integration cx = pt_integration("cyberxray", CX_ROOT, CX_KEY, NULL, 20);
	struct lookup *l = pt_lookup_new(&cx, INDICATOR_DOMAIN, "s.example");

	(void)state;
	pt_parse(&cx, l, 200, "{\"score\": 30}");
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "suspicious");
	cx.malicious_threshold = 30;
	pt_parse(&cx, l, 200, "{\"score\": 30}");
	pt_assert_result(l, LOOKUP_MALICIOUS, "malicious");
	pt_lookup_del(l);
}

/* Test Connection: GET <root>example.com; a verdict or 404 proves the
 * key, 401 does not. */
static void test_cyberxray_test_connection(void **state)
{
	const struct provider_type *t = provider_type_find("cyberxray");
	struct integration cx = pt_integration("cyberxray", CX_ROOT, CX_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&cx, t->test.kind, t->test.indicator);

	(void)state;
	assert_string_equal(t->test.indicator, "example.com");
	pt_parse(&cx, l, 404, "{\"message\":\"Domain not found\"}");
	assert_true(t->test.ok(l));
	pt_parse(&cx, l, 401, "{\"message\":\"Invalid API key\"}");
	assert_false(t->test.ok(l));
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cyberxray_requests),
		cmocka_unit_test(test_cyberxray_cases),
		cmocka_unit_test(test_cyberxray_score_thresholds),
		cmocka_unit_test(test_cyberxray_test_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
