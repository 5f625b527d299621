/* test_provider_metadefender.c: OPSWAT MetaDefender Cloud v4
 * (../shared/providers/opswat-metadefender.md): the requests and the
 * scan_all_result_i code table; its answers are the "cases" of
 * tests/mock/fixtures/opswat-metadefender.json (test_provider_common.c). */
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

/* the key travels in its header, never in the URL */
#define assert_md_url(in, kind, indicator, url) \
	pt_assert_get(in, kind, indicator, url, "apikey: " MD_KEY, NULL)

static void test_metadefender_requests(void **state)
{
	(void)state;
	struct integration md = pt_integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct integration slash = pt_integration("metadefender", MD_ROOT "/", MD_KEY, NULL, 0);

	for (int k = INDICATOR_URL; k <= INDICATOR_HASH; k++)
		assert_true(provider_supports_kind("metadefender", (enum indicator_kind)k));
	assert_true(metadefender_http.max_batch <= 1);
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

#define HASH "44d88612fea8a8f36de82e1278abb02f"

/* OPSWAT's scan_all_result_i code table. */
static void test_metadefender_result_codes(void **state)
{
	(void)state;
	struct integration md = pt_integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&md, INDICATOR_HASH, HASH);
	static const struct { int code; enum lookup_status status; } table[] = {
		{ 0, LOOKUP_CLEAN }, { 1, LOOKUP_MALICIOUS }, { 2, LOOKUP_SUSPICIOUS },
		{ 3, LOOKUP_UNKNOWN }, { 4, LOOKUP_SUSPICIOUS }, { 5, LOOKUP_UNKNOWN },
		{ 7, LOOKUP_CLEAN }, { 8, LOOKUP_MALICIOUS }, { 9, LOOKUP_UNKNOWN },
		{ 10, LOOKUP_UNKNOWN }, { 12, LOOKUP_UNKNOWN }, { 22, LOOKUP_SUSPICIOUS },
		{ 23, LOOKUP_UNKNOWN }, { 255, LOOKUP_PENDING }, { 6, LOOKUP_UNKNOWN },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		char *body = g_strdup_printf("{\"scan_results\":{\"scan_all_result_i\":%d}}",
					     table[i].code);
		/* 255 "In Progress": not final (§1), never an unknown */
		char *details = g_strdup_printf("%sresult %d",
						table[i].code == 255 ? "analysis " : "",
						table[i].code);

		assert_int_equal(pt_parse(&md, l, 200, body), ANSWER_DECIDED);
		pt_assert_result(l, table[i].status, details);
		g_free(body);
		g_free(details);
	}
	/* a hash whose scan runs (§3.6: progress under 100): pending */
	assert_int_equal(pt_parse(&md, l, 200, "{\"scan_results\":{\"scan_all_result_i\":0,"
				  "\"scan_all_result_a\":\"No Threat Detected\","
				  "\"progress_percentage\":40}}"), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_PENDING, "analysis No Threat Detected");
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadefender_requests),
		cmocka_unit_test(test_metadefender_result_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
