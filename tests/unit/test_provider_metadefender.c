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

#define HASH "44d88612fea8a8f36de82e1278abb02f"
#define FILE_VERDICT(v) "templates.file+verdicts.file." v
#define REPUTATION(v) "templates.reputation+verdicts.reputation." v

/* The answers of opswat-metadefender.md (tests/mock/fixtures/
 * opswat-metadefender.json, the mock server's own) and what each becomes. */
static const struct pt_case md_cases[] = {
	{ INDICATOR_HASH, HASH, "bodies.eicar_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "Infected 31/38" },
	{ INDICATOR_HASH, HASH, FILE_VERDICT("suspicious"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "Suspicious 2/38" },
	{ INDICATOR_HASH, HASH, FILE_VERDICT("clean"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_CLEAN, LOOKUP_ERR_NONE, "No Threat Detected 0/38" },
	{ INDICATOR_HASH, HASH, FILE_VERDICT("unscanned"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "Not Scanned 0/38" },
	/* the engine's name is sanitised before it can become a header */
	{ INDICATOR_HASH, HASH, NULL, 200, "{\"scan_results\":{\"scan_all_result_i\":2,"
	  "\"scan_all_result_a\":\"Sus\\r\\npicious\",\"total_avs\":0}}", 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "Sus  picious" },
	{ INDICATOR_HASH, HASH, "errors.not_found", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "not found" },
	/* MetaDefender Core's (and API v3's) "not found" */
	{ INDICATOR_HASH, "44D88612FEA8A8F36DE82E1278ABB02F", "errors.core_not_found", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "not found" },
	{ INDICATOR_HASH, HASH, NULL, 200, "{\"data_id\":\"x\"}", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer" },
	/* reputation: detected_by against DetectionThreshold (else 3) */
	{ INDICATOR_IP, "192.0.2.66", "bodies.ip_malicious_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_MALICIOUS, LOOKUP_ERR_NONE, "detected by 3" },
	{ INDICATOR_IP, "192.0.2.66", "bodies.ip_malicious_doc", 0, NULL, 4,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "detected by 3" },
	{ INDICATOR_DOMAIN, "spam.example", REPUTATION("suspicious"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_SUSPICIOUS, LOOKUP_ERR_NONE, "detected by 1" },
	{ INDICATOR_URL, "https://www.example.com/", "bodies.url_clean_doc", 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_CLEAN, LOOKUP_ERR_NONE, "detected by 0 of 1" },
	/* nobody has an entry: not "clean" */
	{ INDICATOR_URL, "https://new.example/", REPUTATION("unknown"), 0, NULL, 0,
	  ANSWER_DECIDED, LOOKUP_UNKNOWN, LOOKUP_ERR_NONE, "no source knows it" },
	{ INDICATOR_URL, "https://new.example/", NULL, 200, "{\"address\":\"x\"}", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer" },
	/* errors */
	{ INDICATOR_IP, "8.8.8.8", "errors.wrong_key", 0, NULL, 0,
	  ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH, "HTTP 401: credentials refused" },
	/* 403: the endpoint is not in this key's licence, the key is fine */
	{ INDICATOR_IP, "8.8.8.8", "errors.not_licensed", 0, NULL, 0,
	  ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 403: not in the licence" },
	{ INDICATOR_IP, "8.8.8.8", "errors.quota", 0, NULL, 0,
	  ANSWER_QUOTA, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA, "HTTP 429: API limit reached" },
	{ INDICATOR_IP, "8.8.8.8", NULL, 400,
	  "{\"error\":{\"code\":400064,\"messages\":[\"Invalid IP\\naddress\"]}}", 0,
	  ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 400: Invalid IP address" },
	{ INDICATOR_IP, "8.8.8.8", NULL, 400, "Bad Request", 0,
	  ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 400" },
	{ INDICATOR_IP, "8.8.8.8", "errors.503", 0, NULL, 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "HTTP 503" },
	{ INDICATOR_IP, "8.8.8.8", NULL, 200, "{\"lookup_results\":", 0,
	  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "malformed answer" },
};

static void test_metadefender_answers(void **state)
{
	(void)state;
	pt_run_cases("opswat-metadefender", "metadefender", MD_ROOT, MD_KEY, NULL, md_cases,
		     G_N_ELEMENTS(md_cases));
}

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
		{ 23, LOOKUP_UNKNOWN }, { 255, LOOKUP_UNKNOWN }, { 6, LOOKUP_UNKNOWN },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		char *body = g_strdup_printf("{\"scan_results\":{\"scan_all_result_i\":%d}}",
					     table[i].code);
		char *details = g_strdup_printf("result %d", table[i].code);

		assert_int_equal(pt_parse(&md, l, 200, body), ANSWER_DECIDED);
		pt_assert_result(l, table[i].status, details);
		g_free(body);
		g_free(details);
	}
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadefender_requests),
		cmocka_unit_test(test_metadefender_answers),
		cmocka_unit_test(test_metadefender_result_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
