/* test_provider_vmray.c: VMRay (../shared/providers/vmray.md): the
 * requests of every job step, the "cases" of tests/mock/fixtures/vmray.json
 * (each answer at its step), the upload flow step by step (allowed with
 * a sample, never without) and Test Connection (§6). The jobs through the
 * engine: test_vmray_jobs.c. */
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

#include "lookup/sample.h"
#include "provider_test_util.h"
#include "providers/sync_runner.h"

#define VM_KEY "test-vmray-key-0123456789"
#define VM_ROOT "https://cloud.vmray.com"
#define AUTH "Authorization: api_key " VM_KEY
#define H_MAL "8fb5c7a88058fad398dfe290f3821a3983a608abe6b3aa11bb22cc33dd44ee55"
#define H_NEW "4040000000000000000000000000000000000000000000000000000000000000"
#define URL "http://phish.example.net/login"

enum { STEP_FIRST, STEP_UPLOAD, STEP_POLL, STEP_SAMPLE, STEP_SAMPLE_AFTER_ERRORS, STEP_MORE,
       STEP_SAMPLE_RUNNING };

static const char *const step_names[] = { "first", "upload", "poll", "sample",
					  "sample_after_errors", "more", "sample_running" };
static const char *const next_names[] = { [JOB_FINISHED] = "finished",
					  [JOB_STEP_NOW] = "step_now",
					  [JOB_POLL_LATER] = "poll_later",
					  [JOB_RELOGIN] = "relogin" };
static const char *const class_names[] = { "decided", "transient", "permanent", "auth", "quota" };

static unsigned index_of(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && name != NULL && strcmp(names[i], name) == 0)
			return (unsigned)i;
	fail_msg("unknown name '%s'", name ? name : "(null)");
	return 0;
}

static struct sample *pe_sample(void)
{
	return sample_new("invoice\xc3\xa4.exe", H_NEW, true, "MZ\x90\0malicious", 13);
}

static void build(const struct integration *in, const struct lookup *l,
		  const struct provider_job *job, struct http_request *req)
{
	http_request_init(req);
	in->type->ops.job->request(in, l, job, req);
	assert_true(pt_has_header(req, AUTH));
	assert_true(pt_has_header(req, "Accept: application/json"));
	assert_null(strstr(req->url->str, VM_KEY));
	assert_null(req->basic_auth);
}

static const struct http_part *part(const struct http_request *req, const char *name)
{
	for (guint i = 0; req->parts != NULL && i < req->parts->len; i++) {
		const struct http_part *p = g_ptr_array_index(req->parts, i);

		if (strcmp(p->name, name) == 0)
			return p;
	}
	fail_msg("no part %s", name);
	return NULL;
}

static void assert_part_text(const struct http_request *req, const char *name, const char *text)
{
	gsize len;
	const char *data = g_bytes_get_data(part(req, name)->data, &len);

	assert_int_equal(len, strlen(text));
	assert_memory_equal(data, text, len);
}

/* --------------------------------------------------------- requests */

static void assert_step_get(const struct integration *in, enum indicator_kind kind,
			    const char *indicator, unsigned step, const char *id, const char *url)
{
	struct lookup *l = pt_lookup_new(in, kind, indicator);
	struct provider_job job = { .step = step, .id = (char *)id };
	struct http_request req;

	build(in, l, &job, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.url->str, url);
	assert_null(req.body);
	assert_null(req.parts);
	http_request_clear(&req);
	pt_lookup_del(l);
}

static void test_vmray_requests(void **state)
{
	(void)state;
	struct integration in = pt_integration("vmray", VM_ROOT "/", VM_KEY, NULL, 0);

	/* §3.1: the hash type by its length */
	assert_step_get(&in, INDICATOR_HASH, H_MAL, STEP_FIRST, NULL,
			VM_ROOT "/rest/sample/sha256/" H_MAL);
	assert_step_get(&in, INDICATOR_HASH, "de765a6a99310000000000000000abcd", STEP_FIRST, NULL,
			VM_ROOT "/rest/sample/md5/de765a6a99310000000000000000abcd");
	assert_step_get(&in, INDICATOR_HASH, "a4b19054d162aab80227000000000000000000ab", STEP_FIRST,
			NULL, VM_ROOT "/rest/sample/sha1/a4b19054d162aab80227000000000000000000ab");
	assert_step_get(&in, INDICATOR_URL, URL, STEP_POLL, "5551001",
			VM_ROOT "/rest/submission/5551001");
	assert_step_get(&in, INDICATOR_URL, URL, STEP_SAMPLE, "7297001", VM_ROOT "/rest/sample/7297001");
	assert_step_get(&in, INDICATOR_HASH, H_MAL, STEP_SAMPLE_AFTER_ERRORS, "7297001",
			VM_ROOT "/rest/sample/7297001");
	assert_step_get(&in, INDICATOR_HASH, H_MAL, STEP_MORE, "17", VM_ROOT "/rest/continuation/17");
	assert_step_get(&in, INDICATOR_HASH, H_NEW, STEP_SAMPLE_RUNNING, "7297009",
			VM_ROOT "/rest/sample/7297009");

	/* §3.3: a URL (or a domain) as form fields, never shareable */
	struct lookup *u = pt_lookup_new(&in, INDICATOR_URL, "http://a.example/x?y=1&z=2");
	struct provider_job job = { .step = STEP_FIRST };
	struct http_request req;
	build(&in, u, &job, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url->str, VM_ROOT "/rest/sample/submit");
	assert_string_equal(req.body->str,
			    "sample_url=http%3A%2F%2Fa.example%2Fx%3Fy%3D1%26z%3D2&shareable=false");
	http_request_clear(&req);
	pt_lookup_del(u);
	struct lookup *d = pt_lookup_new(&in, INDICATOR_DOMAIN, "phish.example.net");
	build(&in, d, &job, &req);
	assert_string_equal(req.body->str, "sample_url=phish.example.net&shareable=false");
	http_request_clear(&req);
	pt_lookup_del(d);

	/* §2: the file as multipart sample_file, an ASCII-safe name and its
	 * base64, shareable false */
	struct lookup *f = pt_lookup_new(&in, INDICATOR_HASH, H_NEW);
	f->sample = pe_sample();
	job.step = STEP_UPLOAD;
	build(&in, f, &job, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url->str, VM_ROOT "/rest/sample/submit");
	assert_null(req.body);
	const struct http_part *file = part(&req, "sample_file");
	assert_string_equal(file->filename, "invoice__.exe");
	assert_int_equal(g_bytes_get_size(file->data), 13);
	assert_part_text(&req, "sample_filename_b64enc", "aW52b2ljZV9fLmV4ZQ==");
	assert_part_text(&req, "shareable", "false");
	http_request_clear(&req);
	sample_unref(f->sample);
	pt_lookup_del(f);
}

/* ----------------------------------------------------- fixture cases */

static const char *string_of(const cJSON *obj, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

static char *case_body(const cJSON *c, long *status)
{
	const char *ref = string_of(c, "answer");
	const cJSON *http = cJSON_GetObjectItemCaseSensitive(c, "http");
	char *body;

	if (ref != NULL) {
		body = pt_fixture("vmray", ref, NULL, status);
	} else {
		body = g_strdup(string_of(c, "body"));
		assert_non_null(body);
	}
	if (cJSON_IsNumber(http))
		*status = (long)http->valuedouble;
	return body;
}

static void run_case(const struct integration *in, const cJSON *c, int row)
{
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
	const cJSON *prior = cJSON_GetObjectItemCaseSensitive(c, "prior");
	enum indicator_kind kind = INDICATOR_URL;
	long status = 0;
	char *body = case_body(c, &status);
	struct http_response resp = { .status = status, .body = body, .body_len = strlen(body),
				      .retry_after_s = -1 };
	struct provider_job job = { .step = index_of(step_names, G_N_ELEMENTS(step_names),
						     string_of(c, "step")),
				    .id = g_strdup("1") };

	for (int k = 0; k < INDICATOR_KINDS; k++)
		if (strcmp(indicator_kind_name(k), string_of(c, "kind")) == 0)
			kind = k;
	struct lookup *l = pt_lookup_new(in, kind, string_of(c, "indicator"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "upload")))
		l->sample = pe_sample();
	if (prior != NULL) {
		l->result.status = index_of((const char *const[]){ "malicious", "suspicious", "clean",
								   "unknown" }, 4,
					    string_of(prior, "status"));
		l->result.details = g_strdup(string_of(prior, "details"));
	}
	enum answer_class class = in->type->ops.job->parse(in, l, &job, &resp);
	const char *details = string_of(expect, "details");
	const char *next = string_of(expect, "next");
	const char *next_step = string_of(expect, "next_step");
	const char *id = string_of(expect, "id");

	if (strcmp(class_names[class], string_of(expect, "class")) != 0 ||
	    strcmp(lookup_status_name(l->result.status), string_of(expect, "status")) != 0 ||
	    strcmp(lookup_error_name(l->result.error), string_of(expect, "error")) != 0 ||
	    (details != NULL && (l->result.details == NULL ||
				 strstr(l->result.details, details) == NULL)) ||
	    (details == NULL && strcmp(string_of(expect, "status"), "skipped") == 0 &&
	     l->result.details != NULL) ||
	    (next != NULL && strcmp(next_names[job.next], next) != 0) ||
	    (next_step != NULL && strcmp(step_names[job.step], next_step) != 0) ||
	    (id != NULL && g_strcmp0(job.id, id) != 0))
		fail_msg("vmray case %d (%s %s at %s): got %s %s/%s \"%s\" next %s %s id %s", row,
			 string_of(c, "answer") ? string_of(c, "answer") : "body",
			 string_of(c, "indicator"), string_of(c, "step"), class_names[class],
			 lookup_status_name(l->result.status), lookup_error_name(l->result.error),
			 l->result.details ? l->result.details : "", next_names[job.next],
			 step_names[job.step], job.id ? job.id : "");
	/* a failure never leaves the lookup clean, and never an error
	 * without its kind */
	if (class != ANSWER_DECIDED) {
		assert_int_not_equal(l->result.status, LOOKUP_CLEAN);
		assert_int_equal(job.next, JOB_FINISHED);
	}
	assert_true((l->result.status == LOOKUP_ERROR || l->result.status == LOOKUP_RATE_LIMITED) ==
		    (l->result.error != LOOKUP_ERR_NONE));
	assert_null(l->result.details ? strchr(l->result.details, ';') : NULL);
	pt_assert_no_secret(l->result.details);
	assert_null(l->result.details ? strstr(l->result.details, VM_KEY) : NULL);
	g_free(job.id);
	g_free(body);
	sample_unref(l->sample);
	pt_lookup_del(l);
}

static void test_vmray_fixture_cases(void **state)
{
	(void)state;
	struct integration in = pt_integration("vmray", VM_ROOT, VM_KEY, NULL, 0);
	char *path = g_strdup_printf("%s/mock/fixtures/vmray.json", TEST_SRCDIR);
	char *text = NULL;
	const cJSON *c;
	int row = 0;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	cJSON *fx = cJSON_Parse(text);
	assert_non_null(fx);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(fx, "cases"))
		run_case(&in, c, row++);
	assert_true(row >= 40);
	cJSON_Delete(fx);
	g_free(text);
	g_free(path);
}

/* ---------------------------------------------- a job, step by step */

/* Builds the job's next request (checked against what), answers it with
 * the fixture body ref and returns the class. */
static enum answer_class drive(const struct integration *in, struct lookup *l,
			       struct provider_job *job, const char *what, const char *ref)
{
	struct http_request req;
	long status;
	char *body = pt_fixture("vmray", ref, NULL, &status);
	struct http_response resp = { .status = status, .body = body, .body_len = strlen(body),
				      .retry_after_s = -1 };

	build(in, l, job, &req);
	char *got = g_strdup_printf("%s %s", req.method, req.url->str);
	assert_string_equal(got, what);
	g_free(got);
	http_request_clear(&req);
	job->next = JOB_FINISHED;
	enum answer_class class = in->type->ops.job->parse(in, l, job, &resp);
	g_free(body);
	return class;
}

/* Upload allowed: unknown hash -> upload -> poll -> verdict. */
static void test_vmray_upload_flow(void **state)
{
	(void)state;
	struct integration in = pt_integration("vmray", VM_ROOT, VM_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&in, INDICATOR_HASH, H_NEW);
	struct provider_job job = { 0 };

	l->sample = pe_sample();
	drive(&in, l, &job, "GET " VM_ROOT "/rest/sample/sha256/" H_NEW, "bodies.search_unknown");
	assert_int_equal(job.next, JOB_STEP_NOW);
	drive(&in, l, &job, "POST " VM_ROOT "/rest/sample/submit", "bodies.submit_url");
	assert_int_equal(job.next, JOB_POLL_LATER);
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	drive(&in, l, &job, "GET " VM_ROOT "/rest/submission/5551001", "bodies.pending");
	assert_int_equal(job.next, JOB_POLL_LATER);
	drive(&in, l, &job, "GET " VM_ROOT "/rest/submission/5551001", "bodies.finished");
	assert_int_equal(job.next, JOB_STEP_NOW);
	assert_int_equal(drive(&in, l, &job, "GET " VM_ROOT "/rest/sample/7297001",
			       "templates.sample_answer+verdicts.malicious"), ANSWER_DECIDED);
	assert_int_equal(job.next, JOB_FINISHED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "malicious, score 80, Trojan.Generic");
	g_free(job.id);
	sample_unref(l->sample);
	pt_lookup_del(l);
}

/* Upload refused (no sample: the toggles, the size, an exclusion): the
 * unknown hash is the answer, the job ends without a submit. */
static void test_vmray_no_sample_no_upload(void **state)
{
	(void)state;
	struct integration in = pt_integration("vmray", VM_ROOT, VM_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&in, INDICATOR_HASH, H_NEW);
	struct provider_job job = { 0 };

	drive(&in, l, &job, "GET " VM_ROOT "/rest/sample/sha256/" H_NEW, "bodies.search_unknown");
	assert_int_equal(job.next, JOB_FINISHED);
	assert_int_equal(job.step, STEP_FIRST);
	pt_assert_result(l, LOOKUP_UNKNOWN, "not known to VMRay");
	pt_lookup_del(l);
}

/* -------------------------------------------------- Test Connection */

struct ping_fake {
	long status;
	const char *body;
	char *seen;
	bool auth;
};

static void ping_http(void *ctx, const struct http_request *req, struct provider_http_answer *ans)
{
	struct ping_fake *p = ctx;

	p->seen = g_strdup_printf("%s %s", req->method, req->url->str);
	p->auth = pt_has_header(req, AUTH);
	ans->resp.status = p->status;
	g_string_assign(ans->body, p->body);
}

static cJSON *ping(long status, const char *body, char *err, size_t errlen, struct ping_fake *p)
{
	static struct integration in;
	const struct provider_type *t = provider_type_find("vmray");
	const struct provider_action *action = provider_action_find(t, "ping");

	in = pt_integration("vmray", VM_ROOT, VM_KEY, NULL, 0);
	p->status = status;
	p->body = body;
	struct provider_run run = { .in = &in, .fake_http = ping_http, .fake_ctx = p };
	assert_non_null(action);
	assert_true(action != &provider_action_ping);	/* its own §6 call, not a lookup */
	return provider_run_action(&run, action, NULL, err, errlen);
}

static void test_vmray_test_connection(void **state)
{
	(void)state;
	struct ping_fake p = { 0 };
	char err[256] = "";
	cJSON *ok = ping(200, "{\"result\":\"ok\",\"data\":[{\"analysis_id\":1}]}", err,
			 sizeof(err), &p);

	assert_non_null(ok);
	assert_string_equal(p.seen, "GET " VM_ROOT "/rest/analysis?_limit=1");
	assert_true(p.auth);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ok, "ok")));
	cJSON_Delete(ok);
	g_free(p.seen);
	assert_null(ping(401, "{\"result\":\"error\",\"error_msg\":\"Authentication failed\"}", err,
			 sizeof(err), &p));
	assert_string_equal(err, "GET /rest/analysis: HTTP 401: API key refused "
			    "(Authentication failed)");
	pt_assert_no_secret(err);
	g_free(p.seen);
	assert_null(ping(200, "{\"result\":\"error\",\"error_msg\":\"Quota exceeded\"}", err,
			 sizeof(err), &p));
	g_free(p.seen);
	assert_null(ping(503, "", err, sizeof(err), &p));
	assert_string_equal(err, "GET /rest/analysis: HTTP 503");
	g_free(p.seen);
}

static void refuse_http(void *ctx, const struct http_request *req,
			struct provider_http_answer *ans)
{
	(void)ctx, (void)req, (void)ans;
	fail_msg("a job-based type's lookup must not reach the network");
}

/* The synchronous runner has no polling: a VMRay lookup there is an
 * error (it called the NULL build_request before). */
static void test_vmray_sync_lookup_refused(void **state)
{
	(void)state;
	struct integration in = pt_integration("vmray", VM_ROOT, VM_KEY, NULL, 0);
	struct provider_run run = { .in = &in, .fake_http = refuse_http };
	struct lookup *l = pt_lookup_new(&in, INDICATOR_HASH, H_MAL);

	assert_int_equal(provider_run_lookup(&run, l), ANSWER_PERMANENT);
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_PROVIDER);
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmray_requests),
		cmocka_unit_test(test_vmray_fixture_cases),
		cmocka_unit_test(test_vmray_upload_flow),
		cmocka_unit_test(test_vmray_no_sample_no_upload),
		cmocka_unit_test(test_vmray_test_connection),
		cmocka_unit_test(test_vmray_sync_lookup_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
