/* provider_test_util.h: what the provider unit tests share — test
 * integrations and lookups, requests built the engine's way, answers read
 * through provider_parse_http(), the fixtures of tests/mock/fixtures (the
 * same answers the mock server gives) and table-driven cases.
 *
 * Every checked result's details text is searched for all the test keys:
 * a key must never end up in a details text (they reach logs and headers).
 * Include after <cmocka.h>. */
#ifndef TM_TESTS_PROVIDER_TEST_UTIL_H
#define TM_TESTS_PROVIDER_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "config/integrations.h"
#include "lookup/lookup.h"
#include "providers/provider.h"

#define VT_KEY "4e3202fdbe953d628f650229af5b3eb49cd46b2d3bfe5546ae3c5fa48b554e0c"
#define GOOGLE_KEY "AIzaSyTestKey0123456789-abcdefghijk"
#define XF_KEY "test-xf-key"
#define XF_PASS "test-xf-pass"
#define DQS_KEY "testkey0123456789abcdefghij"
#define MD_KEY "0123456789abcdef0123456789abcdef"

/* An active integration of the registry's type type_name (its defaults:
 * verify_ssl, 5 s Timeout). Strings are borrowed, not copied. */
struct integration pt_integration(const char *type_name, const char *api_url, const char *key,
				  const char *password, unsigned threshold);
struct lookup *pt_lookup_new(const struct integration *in, enum indicator_kind kind,
			     const char *indicator);
void pt_lookup_del(struct lookup *lookup);
/* provider_supports() of the registry's type type_name. */
bool provider_supports_kind(const char *type_name, enum indicator_kind kind);

/* The request as the engine prepares it, then the type's build_request. */
void pt_build(const struct integration *in, struct lookup *const *batch, size_t n,
	      struct http_request *req);
bool pt_has_header(const struct http_request *req, const char *header);
/* Builds the lookup's request and checks it: GET expected_url, no body,
 * "Accept: application/json", the header line key_header when not NULL,
 * Basic auth exactly basic_auth (NULL: none; credentials never in an
 * Authorization header), and, for a key sent in a header or Basic auth,
 * no key or password in the URL. */
void pt_assert_get(const struct integration *in, enum indicator_kind kind, const char *indicator,
		   const char *expected_url, const char *key_header, const char *basic_auth);
bool pt_has_header_named(const struct http_request *req, const char *name);

/* An HTTP answer (body NUL-terminated) read by the type's own
 * parse_response (status 0: the shared status ladder), without the
 * provider_parse_http() safety net: the error kinds checked are the
 * provider's own. */
enum answer_class pt_parse_batch(const struct integration *in, struct lookup *const *batch,
				 size_t n, long status, const char *body);
enum answer_class pt_parse(const struct integration *in, struct lookup *lookup, long status,
			   const char *body);

/* The exact status and details (NULL: none), an error kind exactly when
 * the status is error or rate_limited, and no test key in the details. */
void pt_assert_result(const struct lookup *lookup, enum lookup_status status,
		      const char *details);
void pt_assert_no_secret(const char *text);

/* A fixture answer of tests/mock/fixtures/<provider>.json (the mock's
 * file). ref is one of
 *   "errors.NAME", "bodies.NAME"           {"status": S, "body": B}
 *   "templates.KIND+verdicts.PATH"         templates[KIND] filled from the
 *                                          object at verdicts.PATH (dots)
 * filled like the mock's render(): "${name}" alone takes the value itself,
 * inside text its string; "$omit" drops the key. values (NULL: none) adds
 * names, e.g. {"indicator": "..."}. Returns the body (g_free) and the
 * status in *status (200 for templates). Fails the test when missing. */
char *pt_fixture(const char *provider, const char *ref, const cJSON *values, long *status);

/* Runs the "cases" of tests/mock/fixtures/<provider>.json, each an
 * answer (a pt_fixture() ref, or "http" + "body") and what it must become
 * ("expect": class, status, error kind, details substring; "threshold"
 * sets DetectionThreshold), against an integration of type_name (api_url,
 * key, password as given). A failing case is named by its index. Returns
 * the number of cases run. */
size_t pt_run_fixture_cases(const char *provider, const char *type_name, const char *api_url,
			    const char *key, const char *password);
/* The same for a DNS provider: each case's answer is the listing of its
 * indicator in the fixture's "ips"/"domains" (absent: NXDOMAIN), or its
 * own "answer" (return codes, or SERVFAIL, REFUSED, NXDOMAIN, NODATA, DROP
 * = timeout, ECONNREFUSED), with A records of TTL "ttl" (default 60);
 * "expect" may also give the cached "ttl". Returns the number of cases. */
size_t pt_run_dns_cases(const char *provider, const char *type_name, const char *api_url,
			const char *key);

#endif
