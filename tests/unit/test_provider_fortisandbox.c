/* test_provider_fortisandbox.c: FortiSandbox (providers/fortisandbox*.c,
 * ../shared/providers/fortisandbox.md).
 *
 * 1. The "cases" of tests/mock/fixtures/fortisandbox.json (the mock's own
 *    answers) at each job step: verdicts by hash and URL, unknown with and
 *    without a sample, the submission, the jobs, 29, every status code.
 * 2. The requests: the JSON-RPC envelope, both login forms and the token,
 *    the upload's base64, the URL submission.
 * The jobs through the engine: test_provider_fortisandbox_jobs.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "provider_test_util.h"
#include "lookup/sample.h"
#include "providers/fortisandbox.h"

#define API "https://fsa.example/jsonrpc"
#define USER "apiuser"
#define PASS "test-fsa-pass"
#define HASH "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
#define SID "7048126795285831956"
#define JID "7048126811111111111"

/* ------------------------------------------------------ fixture cases */

static struct sample *case_sample(const char *which)
{
	if (which == NULL)
		return NULL;
	if (strcmp(which, "20MB") == 0) {
		char *big = g_malloc0(FSA_JSON_UPLOAD_MAX);
		struct sample *s = sample_new("big.exe", HASH, true, big, FSA_JSON_UPLOAD_MAX);

		g_free(big);
		return s;
	}
	return sample_new("invoice.exe", HASH, true, "MZ\x90\0fake", 8);
}

static enum indicator_kind kind_of(const char *name)
{
	if (strcmp(name, "url") == 0)
		return INDICATOR_URL;
	if (strcmp(name, "domain") == 0)
		return INDICATOR_DOMAIN;
	return INDICATOR_HASH;
}

static const char *next_name(enum job_next next)
{
	static const char *const names[] = {
		[JOB_FINISHED] = "finished", [JOB_STEP_NOW] = "step_now",
		[JOB_POLL_LATER] = "poll_later", [JOB_RELOGIN] = "relogin",
	};
	return names[next];
}

static const char *class_text(enum answer_class class)
{
	static const char *const names[] = {
		[ANSWER_DECIDED] = "decided", [ANSWER_TRANSIENT] = "transient",
		[ANSWER_PERMANENT] = "permanent", [ANSWER_AUTH] = "auth", [ANSWER_QUOTA] = "quota",
	};
	return names[class];
}

static void run_case(int index, const cJSON *c)
{
	struct integration in = pt_integration("fortisandbox", API, USER, PASS, 0);
	const cJSON *expect = cJSON_GetObjectItem(c, "expect");
	const char *answer = cJSON_GetStringValue(cJSON_GetObjectItem(c, "answer"));
	const char *want_status = cJSON_GetStringValue(cJSON_GetObjectItem(expect, "status"));
	const char *want_details = cJSON_GetStringValue(cJSON_GetObjectItem(expect, "details"));
	const cJSON *want_step = cJSON_GetObjectItem(expect, "step");
	struct provider_job job = { .session = "S3551ON" };
	struct lookup *l;
	long status = 200;
	char *body;

	in.submit_urls = cJSON_IsTrue(cJSON_GetObjectItem(c, "submit_urls"));
	l = pt_lookup_new(&in, kind_of(cJSON_GetStringValue(cJSON_GetObjectItem(c, "kind"))),
			  cJSON_GetStringValue(cJSON_GetObjectItem(c, "indicator")));
	l->result.status = LOOKUP_ERROR;	/* as the engine starts a flight */
	l->sample = case_sample(cJSON_GetStringValue(cJSON_GetObjectItem(c, "sample")));
	job.step = (unsigned)cJSON_GetObjectItem(c, "step")->valueint;
	if (job.step == 2)
		job.id = g_strdup(SID);
	else if (job.step >= 3)
		job.id = g_strdup(SID " " JID);
	if (answer != NULL) {
		cJSON *values = cJSON_CreateObject();

		/* what the mock fills in */
		cJSON_AddStringToObject(values, "sid", SID);
		cJSON_AddStringToObject(values, "jid", JID);
		cJSON_AddStringToObject(values, "resource", "/scan/result/file");
		cJSON_AddStringToObject(values, "url", l->indicator);
		body = pt_fixture("fortisandbox", answer, values, &status);
		cJSON_Delete(values);
	} else {
		status = (long)cJSON_GetObjectItem(c, "http")->valueint;
		body = g_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(c, "body")));
	}
	struct http_response resp = { .status = status, .body = body, .body_len = strlen(body),
				      .retry_after_s = -1 };
	enum answer_class class = fortisandbox_job.parse(&in, l, &job, &resp);

	print_message("case %d: %s\n", index,
		      cJSON_GetStringValue(cJSON_GetObjectItem(c, "why")));
	assert_string_equal(class_text(class),
			    cJSON_GetStringValue(cJSON_GetObjectItem(expect, "class")));
	assert_string_equal(next_name(job.next),
			    cJSON_GetStringValue(cJSON_GetObjectItem(expect, "next")));
	if (want_step != NULL)
		assert_int_equal(job.step, want_step->valueint);
	if (strcmp(want_status, "(unchanged)") != 0) {
		assert_string_equal(lookup_status_name(l->result.status), want_status);
		assert_string_equal(lookup_error_name(l->result.error),
				    cJSON_GetStringValue(cJSON_GetObjectItem(expect, "error")));
		if (*want_details != '\0') {
			assert_non_null(l->result.details);
			if (strstr(l->result.details, want_details) == NULL)
				fail_msg("case %d: details '%s' lack '%s'", index, l->result.details,
					 want_details);
		}
	} else {
		assert_int_equal(l->result.status, LOOKUP_ERROR);
	}
	/* never a verdict on a failed call */
	if (class != ANSWER_DECIDED)
		assert_int_equal(l->result.status, LOOKUP_ERROR);
	if (l->result.details != NULL)
		assert_null(strstr(l->result.details, PASS));
	sample_unref(l->sample);
	pt_lookup_del(l);
	g_free(job.id);
	g_free(body);
}

static void test_fixture_cases(void **state)
{
	(void)state;
	char *path = g_build_filename(TEST_SRCDIR, "mock", "fixtures", "fortisandbox.json", NULL);
	gchar *text = NULL;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	cJSON *fx = cJSON_Parse(text);
	const cJSON *cases = cJSON_GetObjectItem(fx, "cases"), *c;
	int n = 0;

	cJSON_ArrayForEach(c, cases)
		run_case(n++, c);
	assert_true(n >= 40);
	cJSON_Delete(fx);
	g_free(text);
	g_free(path);
}

/* ------------------------------------------------------------ requests */

/* The request's JSON body and its params[0]. */
static cJSON *body_of(const struct http_request *req, const cJSON **params)
{
	assert_string_equal(req->method, "POST");
	assert_string_equal(req->url->str, API);
	assert_non_null(req->body);
	cJSON *doc = cJSON_Parse(req->body->str);

	assert_non_null(doc);
	*params = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "params"), 0);
	assert_non_null(*params);
	return doc;
}

static const char *str(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, name));
}

static void test_login_forms_and_token(void **state)
{
	(void)state;
	struct integration in = pt_integration("fortisandbox", API, USER, PASS, 0);
	struct http_request req;
	const cJSON *p;
	cJSON *doc;

	http_request_init(&req);
	fortisandbox_login(&in, FSA_LOGIN_USER, &req);
	doc = body_of(&req, &p);
	assert_string_equal(str(doc, "method"), "exec");
	assert_string_equal(str(p, "url"), "/sys/login/user");
	assert_string_equal(str(p, "user"), USER);
	assert_string_equal(str(p, "passwd"), PASS);
	assert_null(cJSON_GetObjectItem(doc, "session"));
	assert_true(pt_has_header(&req, "Content-Type: application/json"));
	cJSON_Delete(doc);
	http_request_clear(&req);

	http_request_init(&req);
	fortisandbox_login(&in, FSA_LOGIN_DATA, &req);
	doc = body_of(&req, &p);
	const cJSON *data = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "data"), 0);
	assert_string_equal(str(data, "user"), USER);
	assert_string_equal(str(data, "passwd"), PASS);
	assert_null(cJSON_GetObjectItem(p, "user"));
	cJSON_Delete(doc);
	http_request_clear(&req);

	/* no APIPassword: APIKey is the token (one form, whatever form) */
	in.api_key = "test-fsa-token";
	in.api_password = NULL;
	in.api_url = "https://fsa.example/";	/* "/jsonrpc" appended */
	http_request_init(&req);
	fortisandbox_login(&in, FSA_LOGIN_DATA, &req);
	assert_string_equal(req.url->str, API);
	in.api_url = API;
	doc = body_of(&req, &p);
	assert_string_equal(str(doc, "method"), "get");
	assert_string_equal(str(p, "url"), "/sys/login/token");
	assert_string_equal(str(p, "token"), "test-fsa-token");
	assert_string_equal(str(doc, "session"), "");
	cJSON_Delete(doc);
	http_request_clear(&req);
}

static char *parse_login(const struct integration *in, const char *ref, long status,
			 bool *other, char *err, size_t len)
{
	long st = 200;
	char *body = ref ? pt_fixture("fortisandbox", ref, NULL, &st) : g_strdup("");
	struct http_response resp = { .status = ref ? st : status, .body = body,
				      .body_len = strlen(body), .retry_after_s = -1 };
	char *token = fortisandbox_parse_login(in, &resp, other, err, len);

	g_free(body);
	return token;
}

static void test_login_answers(void **state)
{
	(void)state;
	struct integration in = pt_integration("fortisandbox", API, USER, PASS, 0);
	char err[256];
	bool other = true;
	char *token = parse_login(&in, "bodies.login_ok", 0, &other, err, sizeof(err));

	assert_string_equal(token, "${session}");	/* the fixture's placeholder */
	assert_false(other);
	g_free(token);
	/* refused: the other body form may work */
	assert_null(parse_login(&in, "bodies.login_failed", 0, &other, err, sizeof(err)));
	assert_true(other);
	assert_non_null(strstr(err, "WRONG_CREDENTIAL"));
	assert_null(strstr(err, PASS));
	/* no permission: no other form would help */
	assert_null(parse_login(&in, "bodies.no_permission", 0, &other, err, sizeof(err)));
	assert_false(other);
	assert_non_null(strstr(err, "JSON API rights"));
	assert_null(parse_login(&in, "bodies.login_ok_no_session", 0, &other, err, sizeof(err)));
	assert_null(parse_login(&in, NULL, 503, &other, err, sizeof(err)));
	assert_false(other);
	assert_string_equal(err, "HTTP 503");
	/* the token login has one form */
	in.api_password = NULL;
	assert_null(parse_login(&in, "bodies.login_failed", 0, &other, err, sizeof(err)));
	assert_false(other);
}

static cJSON *job_body(const struct integration *in, struct lookup *l, unsigned step,
		       const char *id, const cJSON **params)
{
	struct provider_job job = { .step = step, .id = (char *)id, .session = "S3551ON" };
	struct http_request req;
	cJSON *doc;

	http_request_init(&req);
	fortisandbox_job.request(in, l, &job, &req);
	doc = body_of(&req, params);
	assert_string_equal(str(doc, "session"), "S3551ON");
	/* re-parse: params points into doc */
	http_request_clear(&req);
	return doc;
}

static char *b64_text(const char *b64)
{
	gsize len;
	guchar *raw = g_base64_decode(b64, &len);
	char *text = g_strndup((const char *)raw, len);

	g_free(raw);
	return text;
}

static void test_requests(void **state)
{
	(void)state;
	struct integration in = pt_integration("fortisandbox", API, USER, PASS, 0);
	struct lookup *h = pt_lookup_new(&in, INDICATOR_HASH, HASH);
	struct lookup *md5 = pt_lookup_new(&in, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f");
	struct lookup *u = pt_lookup_new(&in, INDICATOR_URL, "https://new.example.org/?a=1");
	struct lookup *d = pt_lookup_new(&in, INDICATOR_DOMAIN, "phish.example.net");
	const cJSON *p;
	cJSON *doc;
	char *text;

	doc = job_body(&in, h, 0, NULL, &p);
	assert_string_equal(str(doc, "method"), "get");
	assert_string_equal(str(p, "url"), "/scan/result/file");
	assert_string_equal(str(p, "ctype"), "sha256");
	assert_string_equal(str(p, "checksum"), HASH);
	cJSON_Delete(doc);
	doc = job_body(&in, md5, 0, NULL, &p);
	assert_string_equal(str(p, "ctype"), "md5");
	cJSON_Delete(doc);
	doc = job_body(&in, u, 0, NULL, &p);
	assert_string_equal(str(p, "url"), "/scan/result/urlrating");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "address"), 0)->valuestring,
			    "https://new.example.org/?a=1");
	cJSON_Delete(doc);
	doc = job_body(&in, d, 0, NULL, &p);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "address"), 0)->valuestring,
			    "http://phish.example.net/");
	cJSON_Delete(doc);

	/* the upload: bytes and name base64 (§3.3) */
	h->sample = sample_new("invoice.exe", HASH, true, "MZ\x90\0fake", 8);
	doc = job_body(&in, h, 1, NULL, &p);
	assert_string_equal(str(doc, "method"), "set");
	assert_string_equal(str(p, "url"), "/alert/ondemand/submit-file");
	assert_string_equal(str(p, "type"), "file");
	gsize len;
	guchar *raw = g_base64_decode(str(p, "file"), &len);
	assert_int_equal(len, 8);
	assert_memory_equal(raw, "MZ\x90\0fake", 8);
	g_free(raw);
	text = b64_text(str(p, "filename"));
	assert_string_equal(text, "invoice.exe");
	g_free(text);
	cJSON_Delete(doc);

	/* the URL submission: a text file of one URL (§3.4) */
	doc = job_body(&in, u, 1, NULL, &p);
	assert_string_equal(str(p, "type"), "url");
	text = b64_text(str(p, "file"));
	assert_string_equal(text, "https://new.example.org/?a=1\n");
	g_free(text);
	text = b64_text(str(p, "filename"));
	assert_true(g_str_has_prefix(text, "urls_") && g_str_has_suffix(text, ".txt"));
	g_free(text);
	cJSON_Delete(doc);

	doc = job_body(&in, u, 2, SID, &p);
	assert_string_equal(str(p, "url"), "/scan/result/get-jobs-of-submission");
	assert_string_equal(str(p, "sid"), SID);
	cJSON_Delete(doc);
	doc = job_body(&in, u, 4, SID " 1 2", &p);
	assert_string_equal(str(p, "url"), "/scan/result/job");
	assert_string_equal(str(p, "jid"), "2");
	cJSON_Delete(doc);
	sample_unref(h->sample);
	h->sample = NULL;
	pt_lookup_del(h);
	pt_lookup_del(md5);
	pt_lookup_del(u);
	pt_lookup_del(d);
}

/* §3.3/§3.4: a submission's params to the byte: what the lookup gives,
 * then the document's fixed parameters in its order. */
#define FSA_AFTER_TIMEOUT "\"skip_steps\":\"\"," \
	"\"archive_password\":\"\",\"overwrite_vm_list\":\"\",\"forcedvm\":0,\"malpkg\":\"0\"," \
	"\"vrecord\":\"0\",\"enable_ai\":0}"
#define FSA_FIXED "\"comments\":\"threatmilter\",\"timeout\":\"3600\"," FSA_AFTER_TIMEOUT
#define FSA_URL_FIXED "\"comments\":\"threatmilter\",\"timeout\":\"600\"," FSA_AFTER_TIMEOUT

static void test_submission_params_exact(void **state)
{
	(void)state;
	struct integration in = pt_integration("fortisandbox", API, USER, PASS, 0);
	struct lookup *h = pt_lookup_new(&in, INDICATOR_HASH, HASH);
	struct lookup *u = pt_lookup_new(&in, INDICATOR_URL, "https://new.example.org/?a=1");
	const cJSON *p;
	cJSON *doc;
	char *text;

	h->sample = sample_new("invoice.exe", HASH, true, "MZ\x90\0fake", 8);
	doc = job_body(&in, h, 1, NULL, &p);
	text = cJSON_PrintUnformatted(p);
	assert_string_equal(text, "{\"url\":\"/alert/ondemand/submit-file\",\"type\":\"file\","
			    "\"file\":\"TVqQAGZha2U=\",\"filename\":\"aW52b2ljZS5leGU=\"," FSA_FIXED);
	cJSON_free(text);
	cJSON_Delete(doc);

	doc = job_body(&in, u, 1, NULL, &p);
	text = cJSON_PrintUnformatted(p);
	assert_true(g_str_has_prefix(text, "{\"url\":\"/alert/ondemand/submit-file\",\"type\":\"url\","
				     "\"depth\":0,\"file\":\"aHR0cHM6Ly9uZXcuZXhhbXBsZS5vcmcvP2E9MQo=\","
				     "\"filename\":\""));
	assert_true(g_str_has_suffix(text, "\"," FSA_URL_FIXED));
	cJSON_free(text);
	cJSON_Delete(doc);
	sample_unref(h->sample);
	h->sample = NULL;
	pt_lookup_del(h);
	pt_lookup_del(u);
}

/* §3.4: a URL submission's timeout lies in 30-1200 s (it sent the file
 * submission's 3600). */
static void test_url_submission_timeout_within_document_range(void **state)
{
	(void)state;
	struct integration in = pt_integration("fortisandbox", API, USER, PASS, 0);
	struct lookup *u = pt_lookup_new(&in, INDICATOR_DOMAIN, "new.example.org");
	const cJSON *p;
	cJSON *doc = job_body(&in, u, 1, NULL, &p);
	const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(p, "timeout");
	long s;

	assert_true(cJSON_IsString(timeout));
	s = strtol(timeout->valuestring, NULL, 10);
	assert_true(s >= 30 && s <= 1200);
	cJSON_Delete(doc);
	pt_lookup_del(u);
}

/* An archive: two jobs, the worst verdict of both. */
static void test_two_jobs_worst(void **state)
{
	(void)state;
	struct integration in = pt_integration("fortisandbox", API, USER, PASS, 0);
	struct lookup *l = pt_lookup_new(&in, INDICATOR_HASH, HASH);
	struct provider_job job = { .step = 3, .id = g_strdup(SID " 1 2"), .session = "S" };
	long st;
	char *mal = pt_fixture("fortisandbox", "bodies.job_malicious", NULL, &st);
	char *clean = pt_fixture("fortisandbox", "bodies.job_clean", NULL, &st);
	struct http_response r1 = { .status = 200, .body = mal, .body_len = strlen(mal) };
	struct http_response r2 = { .status = 200, .body = clean, .body_len = strlen(clean) };

	l->result.status = LOOKUP_PENDING;
	fortisandbox_job.parse(&in, l, &job, &r1);
	assert_int_equal(job.next, JOB_STEP_NOW);
	assert_int_equal(job.step, 4);
	fortisandbox_job.parse(&in, l, &job, &r2);
	assert_int_equal(job.next, JOB_FINISHED);
	assert_int_equal(l->result.status, LOOKUP_MALICIOUS);
	g_free(job.id);
	g_free(mal);
	g_free(clean);
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_cases),
		cmocka_unit_test(test_login_forms_and_token),
		cmocka_unit_test(test_login_answers),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_submission_params_exact),
		cmocka_unit_test(test_url_submission_timeout_within_document_range),
		cmocka_unit_test(test_two_jobs_worst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
