/* test_provider_virustotal.c: VirusTotal API v3
 * (../shared/providers/virustotal.md): the requests and the Test
 * Connection call; its answers are the "cases" of
 * tests/mock/fixtures/virustotal.json (test_provider_common.c). */
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

/* the key in x-apikey */
#define assert_vt_url(in, kind, indicator, url) \
	pt_assert_get(in, kind, indicator, url, "x-apikey: " VT_KEY, NULL)

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
	body = pt_fixture("virustotal", "templates.ip_address+verdicts.clean", NULL, &status);
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
		cmocka_unit_test(test_virustotal_test_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
