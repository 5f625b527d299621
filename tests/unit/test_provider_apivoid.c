/* test_provider_apivoid.c: APIVoid v1 and v2 (../shared/providers/
 * apivoid.md): the requests of both generations, the answers of
 * tests/mock/fixtures/apivoid.json and apivoid-v2.json (their "cases"),
 * and the seed's actions (apivoid_actions.c) run by the synchronous
 * runner against canned answers: messages word for word, the ">="
 * threshold rule, the JSON shape, fatal and per-entity failures. */
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
#include "providers/apivoid.h"
#include "providers/sync_runner.h"

#define AV_KEY "av-test-key-0123456789+&"
#define V1_ROOT "https://endpoint.apivoid.com"
#define V2_ROOT "https://api.apivoid.com"
#define AV_KEY_Q "av-test-key-0123456789%2B%26"

static struct http_request build(const struct integration *in, enum indicator_kind kind,
				 const char *indicator)
{
	struct lookup *l = pt_lookup_new(in, kind, indicator);
	struct http_request req;

	pt_build(in, &l, 1, &req);
	pt_lookup_del(l);
	return req;
}

static void assert_v1(const struct integration *in, enum indicator_kind kind,
		      const char *indicator, const char *url)
{
	struct http_request req = build(in, kind, indicator);

	assert_string_equal(req.url->str, url);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_false(pt_has_header_named(&req, "X-API-Key"));
	http_request_clear(&req);
}

/* v1: GET, the key and the entity percent-encoded in the query (§3). */
static void test_v1_requests(void **state)
{
	struct integration in = pt_integration("apivoid", V1_ROOT "/", AV_KEY, NULL, 1);

	(void)state;
	assert_false(apivoid_is_v2(&in));
	assert_v1(&in, INDICATOR_IP, "203.0.113.7",
		  V1_ROOT "/iprep/v1/pay-as-you-go/?ip=203.0.113.7&key=" AV_KEY_Q);
	assert_v1(&in, INDICATOR_DOMAIN, "example.org",
		  V1_ROOT "/domainbl/v1/pay-as-you-go/?host=example.org&key=" AV_KEY_Q);
	assert_v1(&in, INDICATOR_URL, "http://a.example/p?x=1&y=2",
		  V1_ROOT "/urlrep/v1/pay-as-you-go/?url=http%3A%2F%2Fa.example%2Fp%3Fx%3D1%26y%3D2"
			  "&key=" AV_KEY_Q);
	assert_v1(&in, INDICATOR_EMAIL, "bob+x@mailinator.com",
		  V1_ROOT "/emailverify/v1/pay-as-you-go/?email=bob%2Bx%40mailinator.com&key="
			  AV_KEY_Q);
	/* Test Connection: the free ?stats call (§5) */
	assert_v1(&in, INDICATOR_IP, APIVOID_TEST_INDICATOR,
		  V1_ROOT "/iprep/v1/pay-as-you-go/?stats&key=" AV_KEY_Q);
}

static void assert_v2(const struct integration *in, enum indicator_kind kind,
		      const char *indicator, const char *url, const char *body)
{
	struct http_request req = build(in, kind, indicator);

	assert_string_equal(req.url->str, url);
	assert_string_equal(req.method, "POST");
	assert_non_null(req.body);
	assert_string_equal(req.body->str, body);
	assert_true(pt_has_header(&req, "X-API-Key: " AV_KEY));
	assert_true(pt_has_header(&req, "Content-Type: application/json"));
	assert_null(strstr(req.url->str, AV_KEY));
	http_request_clear(&req);
}

/* v2: POST <root>/v2/<service> {"field": value}, X-API-Key; chosen by
 * APIVersion or, with auto, by the APIURL. */
static void test_v2_requests(void **state)
{
	struct integration in = pt_integration("apivoid", V2_ROOT, AV_KEY, NULL, 1);
	struct integration forced = pt_integration("apivoid", "http://127.0.0.1:9/v2/", AV_KEY,
						    NULL, 1);
	struct integration by_key = pt_integration("apivoid", "http://127.0.0.1:9", AV_KEY, NULL, 1);

	(void)state;
	assert_true(apivoid_is_v2(&in));
	assert_true(apivoid_is_v2(&forced));
	assert_false(apivoid_is_v2(&by_key));
	by_key.api_version = API_VERSION_V2;
	assert_true(apivoid_is_v2(&by_key));
	in.api_version = API_VERSION_V1;
	assert_false(apivoid_is_v2(&in));
	in.api_version = API_VERSION_AUTO;
	assert_v2(&in, INDICATOR_IP, "203.0.113.7", V2_ROOT "/v2/ip-reputation",
		  "{\"ip\":\"203.0.113.7\"}");
	assert_v2(&forced, INDICATOR_DOMAIN, "example.org",
		  "http://127.0.0.1:9/v2/domain-reputation", "{\"host\":\"example.org\"}");
	assert_v2(&by_key, INDICATOR_URL, "http://a.example/\"q\"",
		  "http://127.0.0.1:9/v2/url-reputation", "{\"url\":\"http://a.example/\\\"q\\\"\"}");
	assert_v2(&in, INDICATOR_EMAIL, "bob@mailinator.com", V2_ROOT "/v2/email-verify",
		  "{\"email\":\"bob@mailinator.com\"}");
	/* no free account call in v2: one IP lookup */
	assert_v2(&in, INDICATOR_IP, APIVOID_TEST_INDICATOR, V2_ROOT "/v2/ip-reputation",
		  "{\"ip\":\"8.8.8.8\"}");
}

static void test_fixture_cases(void **state)
{
	(void)state;
	assert_true(pt_run_fixture_cases("apivoid", "apivoid", V1_ROOT, AV_KEY, NULL) >= 20);
	assert_true(pt_run_fixture_cases("apivoid-v2", "apivoid", V2_ROOT, AV_KEY, NULL) >= 15);
}

/* MaliciousThreshold: at or above it malicious, between the two
 * suspicious; a value under DetectionThreshold counts as it. */
static void test_malicious_threshold(void **state)
{
	struct integration in = pt_integration("apivoid", V1_ROOT, AV_KEY, NULL, 2);
	struct lookup *l = pt_lookup_new(&in, INDICATOR_IP, "203.0.113.9");
	long status;
	char *body = pt_fixture("apivoid", "templates.ip+verdicts.ip.malicious", NULL, &status);

	(void)state;
	in.malicious_threshold = 5;	/* 4 detections */
	pt_parse(&in, l, status, body);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "4/6");
	in.malicious_threshold = 4;
	pt_parse(&in, l, status, body);
	pt_assert_result(l, LOOKUP_MALICIOUS, "4/6");
	in.malicious_threshold = 1;	/* under DetectionThreshold 2: counts as 2 */
	in.detection_threshold = 2;
	pt_parse(&in, l, status, body);
	pt_assert_result(l, LOOKUP_MALICIOUS, "4/6");
	g_free(body);
	pt_lookup_del(l);
}

/* ------------------------------------------------------------ actions */

struct canned {
	const char *bodies[8];	/* answered in order, all HTTP 200 unless status set */
	long status[8];
	unsigned next;
	GPtrArray *urls;	/* the request URLs seen */
};

static void fake_http(void *ctx, const struct http_request *req, struct provider_http_answer *ans)
{
	struct canned *c = ctx;

	g_ptr_array_add(c->urls, g_strdup(req->url->str));
	if (c->bodies[c->next] == NULL) {
		ans->resp.status = 0;
		ans->resp.transport_error = "Connection refused";
		return;
	}
	ans->resp.status = c->status[c->next] ? c->status[c->next] : 200;
	g_string_assign(ans->body, c->bodies[c->next]);
	c->next++;
}

/* Runs action name with entities (NULL-terminated) and threshold (NULL:
 * none) against the canned answers. */
static cJSON *run(const char *name, struct canned *c, const char *threshold, char *err,
		  size_t errlen, ...)
{
	struct integration in = pt_integration("apivoid", V1_ROOT, AV_KEY, NULL, 1);
	struct provider_run pr = { .in = &in, .fake_http = fake_http, .fake_ctx = c };
	const struct provider_action *action = provider_action_find(in.type, name);
	cJSON *args = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(args, "entities");
	const char *entity;
	va_list ap;
	cJSON *out;

	assert_non_null(action);
	va_start(ap, errlen);
	while ((entity = va_arg(ap, const char *)) != NULL)
		cJSON_AddItemToArray(list, cJSON_CreateString(entity));
	va_end(ap);
	if (threshold != NULL)
		cJSON_AddStringToObject(args, "threshold", threshold);
	c->urls = g_ptr_array_new_with_free_func(g_free);
	err[0] = '\0';
	out = provider_run_action(&pr, action, args, err, errlen);
	cJSON_Delete(args);
	return out;
}

static void assert_message(const cJSON *out, int index, const char *text)
{
	const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "messages"), index);

	assert_non_null(m);
	assert_string_equal(m->valuestring, text);
}

static char *body_of(const char *ref, const char *indicator)
{
	cJSON *values = cJSON_CreateObject();
	long status;
	char *body;

	cJSON_AddStringToObject(values, "indicator", indicator);
	body = pt_fixture("apivoid", ref, values, &status);
	cJSON_Delete(values);
	return body;
}

/* IP: the seed's messages, ">=" (1 detection, threshold 1: suspicious),
 * the EntityResult with engines as a list without "elapsed". */
static void test_action_ip(void **state)
{
	char *sus = body_of("templates.ip+verdicts.ip.suspicious", "203.0.113.7");
	char *nf = body_of("bodies.not_found", "");
	char *bad = body_of("errors.invalid_ip", "");
	struct canned c = { .bodies = { sus, nf, bad } };
	char err[256];
	cJSON *out = run("ip", &c, "1", err, sizeof(err), "203.0.113.7", "198.18.0.1", "300.1.1.1",
			 NULL);
	const cJSON *res;

	(void)state;
	assert_non_null(out);
	assert_message(out, 0, "APIVoid: Fetched reputation for the following entities: 203.0.113.7");
	assert_message(out, 1, "An error occurred on the following entities: 300.1.1.1");
	assert_message(out, 2, "Can not found reputation for the following entities: 198.18.0.1");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "suspicious"), 0)->valuestring,
			    "203.0.113.7");
	res = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "results"), 0);
	assert_string_equal(cJSON_GetObjectItem(res, "Entity")->valuestring, "203.0.113.7");
	res = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "EntityResult"), "blacklists");
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(res, "engines")));
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "engines"), 0),
					"elapsed"));
	res = cJSON_GetObjectItem(cJSON_GetObjectItem(out, "enrichment"), "203.0.113.7");
	assert_int_equal(cJSON_GetObjectItem(res, "APIVoid_detections")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(res, "APIVoid_country_code")->valuestring, "NL");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(res, "APIVoid_is_tor")));
	cJSON_Delete(out);
	g_ptr_array_free(c.urls, TRUE);

	/* threshold 2: one detection is not suspicious; internal IPs skipped */
	c.next = 0;
	out = run("ip", &c, "2", err, sizeof(err), "10.1.2.3", "203.0.113.7", "192.168.0.1", NULL);
	assert_int_equal(c.urls->len, 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "suspicious")), 0);
	cJSON_Delete(out);
	g_ptr_array_free(c.urls, TRUE);
	c.next = 0;
	out = run("ip", &c, "x3", err, sizeof(err), "203.0.113.7", NULL);
	assert_null(out);
	assert_string_equal(err, "Error executing action \"APIVoid - Get Ip Reputation\". Reason: "
			    "the threshold must be a whole number");
	g_ptr_array_free(c.urls, TRUE);
	g_free(sus);
	g_free(nf);
	g_free(bad);
}

/* A refused key or no credits stop the action; so does no answer. */
static void test_action_fatal(void **state)
{
	char *key = body_of("errors.wrong_key", "");
	char *quota = body_of("errors.quota", "");
	char *clean = body_of("templates.domain+verdicts.domain.clean", "example.org");
	struct canned c = { .bodies = { key } };
	char err[256];
	cJSON *out;

	(void)state;
	out = run("domain", &c, NULL, err, sizeof(err), "example.org", NULL);
	assert_null(out);
	assert_string_equal(err, "Error executing action \"APIVoid - Get Domain Reputation\". "
			    "Reason: API key is invalid.");
	assert_null(strstr(err, AV_KEY));
	g_ptr_array_free(c.urls, TRUE);
	struct canned q = { .bodies = { clean, quota } };
	out = run("domain", &q, NULL, err, sizeof(err), "example.org", "https://Ex.ORG.:8443/p", NULL);
	assert_null(out);
	assert_string_equal(err, "Error executing action \"APIVoid - Get Domain Reputation\". "
			    "Reason: You have 0 credits remained");
	/* the domain action sends the host of a URL, not the URL (§1 item 5) */
	assert_non_null(strstr(g_ptr_array_index(q.urls, 1), "?host=ex.org&"));
	g_ptr_array_free(q.urls, TRUE);
	struct canned none = { .bodies = { NULL } };
	out = run("url", &none, "70", err, sizeof(err), "http://a.example/", NULL);
	assert_null(out);
	assert_non_null(strstr(err, "Reason: Connection refused"));
	g_ptr_array_free(none.urls, TRUE);
	g_free(key);
	g_free(quota);
	g_free(clean);
}

/* URL and e-mail: their own messages; addresses that are none skipped. */
static void test_action_url_email(void **state)
{
	char *url = body_of("templates.url+verdicts.url.suspicious", "http://s.example/");
	char *mail = body_of("templates.email+verdicts.email.malicious", "bob@mailinator.com");
	struct canned c = { .bodies = { url } };
	char err[256];
	cJSON *out;

	(void)state;
	out = run("url", &c, "75", err, sizeof(err), "http://s.example/", NULL);
	assert_message(out, 0, "APIVoid: Fetched reputation for the following entities: "
			       "http://s.example/");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "suspicious")), 1);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(out,
		"enrichment"), "http://s.example/"), "APIVoid_risk_score")->valueint, 75);
	cJSON_Delete(out);
	g_ptr_array_free(c.urls, TRUE);
	out = run("url", &c, "3", err, sizeof(err), NULL);
	assert_message(out, 0, "APIVoid: No URLs found.");
	cJSON_Delete(out);
	g_ptr_array_free(c.urls, TRUE);

	struct canned m = { .bodies = { mail } };
	out = run("email", &m, "5", err, sizeof(err), "not-an-address", "bob@mailinator.com", NULL);
	assert_int_equal(m.urls->len, 1);	/* the first one never sent */
	assert_message(out, 0, "APIVoid: Fetched information for the following entities: "
			       "bob@mailinator.com");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(out,
		"enrichment"), "bob@mailinator.com"), "APIVoid_disposable")));
	cJSON_Delete(out);
	g_ptr_array_free(m.urls, TRUE);
	out = run("email", &m, "5", err, sizeof(err), "nobody", NULL);
	assert_message(out, 0, "APIVoid: No emails found.");
	cJSON_Delete(out);
	g_ptr_array_free(m.urls, TRUE);
	g_free(url);
	g_free(mail);
}

/* Screenshot: the image handed back; over 3 MB refused; ping. */
static void test_action_screenshot_ping(void **state)
{
	char *shot = body_of("templates.screenshot+verdicts.ip.clean", "");
	char *stats = body_of("bodies.stats", "");
	char *key = body_of("errors.wrong_key", "");
	cJSON *big = cJSON_Parse(shot);
	char *big_text;
	struct canned c = { .bodies = { shot } };
	char err[256];
	cJSON *out;

	(void)state;
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(big, "data"), "file_size_bytes",
				  cJSON_CreateNumber(3000001));
	big_text = cJSON_PrintUnformatted(big);
	out = run("screenshot", &c, NULL, err, sizeof(err), "https://example.org/", NULL);
	assert_message(out, 0, "APIVoid: Added screenshots for the following entities: "
			       "https://example.org/");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(out,
		"screenshots"), 0), "format")->valuestring, "png");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(out, "results"), 0), "EntityResult"), "file_md5_hash")->valuestring,
		"0123456789abcdef0123456789abcdef");
	cJSON_Delete(out);
	g_ptr_array_free(c.urls, TRUE);
	struct canned b = { .bodies = { big_text } };
	out = run("screenshot", &b, NULL, err, sizeof(err), "https://example.org/", NULL);
	assert_message(out, 0, "Failed to add screenshots as attachments on the following "
			       "entities: https://example.org/");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "messages")), 1);
	cJSON_Delete(out);
	g_ptr_array_free(b.urls, TRUE);
	struct canned p = { .bodies = { stats } };
	out = run("ping", &p, NULL, err, sizeof(err), NULL);
	assert_message(out, 0, "Connected successfully.");
	assert_non_null(strstr(g_ptr_array_index(p.urls, 0), "?stats&key="));
	cJSON_Delete(out);
	g_ptr_array_free(p.urls, TRUE);
	struct canned k = { .bodies = { key } };
	out = run("ping", &k, NULL, err, sizeof(err), NULL);
	assert_null(out);
	assert_string_equal(err, "Error executing action \"APIVoid - Ping\". Reason: "
			    "API key is invalid.");
	g_ptr_array_free(k.urls, TRUE);
	cJSON_free(big_text);
	cJSON_Delete(big);
	g_free(shot);
	g_free(stats);
	g_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_requests),
		cmocka_unit_test(test_v2_requests),
		cmocka_unit_test(test_fixture_cases),
		cmocka_unit_test(test_malicious_threshold),
		cmocka_unit_test(test_action_ip),
		cmocka_unit_test(test_action_fatal),
		cmocka_unit_test(test_action_url_email),
		cmocka_unit_test(test_action_screenshot_ping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
