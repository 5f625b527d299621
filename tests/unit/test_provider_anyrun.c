/* test_provider_anyrun.c: ANY.RUN Interactive Sandbox API v1
 * (../shared/providers/anyrun.md): the requests of each job step (URL
 * and domain tasks as JSON, the file as multipart, privacy never public
 * by default, no upload without a sample), the "cases" of
 * tests/mock/fixtures/anyrun.json (the mock's own answers) through
 * job_parse, Test Connection, and the Privacy key. The jobs through the
 * engine: test_provider_anyrun_jobs.c. */
#include <autoconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "provider_test_util.h"
#include "config/integration_schema.h"
#include "lookup/sample.h"
#include "providers/anyrun.h"

#define AR_KEY "ar-test-key-0123456789abcdef"
#define AR_FORM "https://api.any.run/v1/analysis"
#define AR_ROOT "https://api.any.run/v1"
#define TASK "0cf223f2-530e-4a50-b68f-563045268648"
#define SHA "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

static void build_step(const struct integration *in, struct lookup *l, unsigned step,
		       const char *id, struct http_request *req)
{
	struct provider_job job = { .step = step, .id = (char *)id };

	http_request_init(req);
	anyrun_job.request(in, l, &job, req);
	assert_true(pt_has_header(req, "Authorization: API-Key " AR_KEY));
	assert_true(pt_has_header(req, "Accept: application/json"));
	assert_null(strstr(req->url->str, AR_KEY));
	assert_null(req->basic_auth);
}

/* The body of a URL task, parsed. */
static cJSON *url_task(const struct integration *in, enum indicator_kind kind,
		       const char *indicator)
{
	struct lookup *l = pt_lookup_new(in, kind, indicator);
	struct http_request req;
	cJSON *task;

	build_step(in, l, ANYRUN_STEP_SUBMIT, NULL, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url->str, AR_ROOT "/analysis");
	assert_true(pt_has_header(&req, "Content-Type: application/json"));
	assert_null(req.parts);
	assert_non_null(req.body);
	task = cJSON_Parse(req.body->str);
	assert_non_null(task);
	http_request_clear(&req);
	pt_lookup_del(l);
	return task;
}

static const char *text_of(const cJSON *task, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, name));
}

/* §3.1: the document's URL body; a domain (HideURLParameters) as
 * http://<domain>/; the root with or without the form's "/analysis". */
static void test_url_submission(void **state)
{
	struct integration ar = pt_integration("anyrun", AR_FORM, AR_KEY, NULL, 0);
	struct integration root = pt_integration("anyrun", AR_ROOT "/", AR_KEY, NULL, 0);
	cJSON *task;

	(void)state;
	task = url_task(&ar, INDICATOR_URL, "http://phish.example.net/login?a=1&b=2");
	assert_string_equal(text_of(task, "obj_type"), "url");
	assert_string_equal(text_of(task, "obj_url"), "http://phish.example.net/login?a=1&b=2");
	assert_string_equal(text_of(task, "opt_privacy_type"), "owner");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(task, "opt_timeout")->valueint, 120);
	assert_string_equal(text_of(task, "env_os"), "windows");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(task, "opt_network_connect")));
	cJSON_Delete(task);

	task = url_task(&root, INDICATOR_DOMAIN, "phish.example.net");
	assert_string_equal(text_of(task, "obj_url"), "http://phish.example.net/");
	assert_string_equal(text_of(task, "opt_privacy_type"), "owner");
	cJSON_Delete(task);
}

/* Privacy: owner unless set; every value sent as set; an out-of-range
 * value is never public. */
static void test_privacy_in_requests(void **state)
{
	struct integration ar = pt_integration("anyrun", AR_FORM, AR_KEY, NULL, 0);
	static const char *const names[] = { "owner", "byteam", "bylink", "public" };
	cJSON *task;

	(void)state;
	for (int p = PRIVACY_OWNER; p <= PRIVACY_PUBLIC; p++) {
		ar.privacy = p;
		task = url_task(&ar, INDICATOR_URL, "http://x.example/");
		assert_string_equal(text_of(task, "opt_privacy_type"), names[p]);
		cJSON_Delete(task);
	}
	ar.privacy = 42;
	assert_string_equal(anyrun_privacy(&ar), "owner");
	ar.privacy = -1;
	assert_string_equal(anyrun_privacy(&ar), "owner");
}

static const struct http_part *part_named(const struct http_request *req, const char *name)
{
	for (guint i = 0; req->parts != NULL && i < req->parts->len; i++) {
		const struct http_part *p = g_ptr_array_index(req->parts, i);

		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

static void assert_field(const struct http_request *req, const char *name, const char *value)
{
	const struct http_part *p = part_named(req, name);
	gsize len;

	assert_non_null(p);
	assert_null(p->filename);
	const char *data = g_bytes_get_data(p->data, &len);
	assert_int_equal(len, strlen(value));
	assert_memory_equal(data, value, len);
}

/* §3.1: the file as multipart part "file" (its name), the options as
 * form fields, privacy owner. */
static void test_file_submission(void **state)
{
	struct integration ar = pt_integration("anyrun", AR_FORM, AR_KEY, NULL, 0);
	static const char content[] = "MZ\x90\0 not really a PE";
	struct lookup *l = pt_lookup_new(&ar, INDICATOR_HASH, SHA);
	struct http_request req;
	const struct http_part *file;
	gsize len;

	(void)state;
	l->sample = sample_new("invoice.exe", SHA, true, content, sizeof(content));
	build_step(&ar, l, ANYRUN_STEP_SUBMIT, NULL, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url->str, AR_ROOT "/analysis");
	assert_null(req.body);
	file = part_named(&req, "file");
	assert_non_null(file);
	assert_string_equal(file->filename, "invoice.exe");
	const char *data = g_bytes_get_data(file->data, &len);
	assert_int_equal(len, sizeof(content));
	assert_memory_equal(data, content, len);
	assert_field(&req, "obj_type", "file");
	assert_field(&req, "opt_privacy_type", "owner");
	assert_field(&req, "opt_timeout", "240");
	assert_field(&req, "obj_ext_startfolder", "temp");
	assert_field(&req, "obj_ext_extension", "true");
	http_request_clear(&req);
	sample_unref(l->sample);
	l->sample = NULL;
	pt_lookup_del(l);
}

/* §3.1: the URL task is the document's body to the byte, the fields in
 * its order (the SDK's defaults), the URL and Privacy in their places. */
static void test_url_task_body_exact(void **state)
{
	struct integration ar = pt_integration("anyrun", AR_FORM, AR_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&ar, INDICATOR_URL, "http://phish.example.net/a\"b");
	struct http_request req;

	(void)state;
	ar.privacy = PRIVACY_BYTEAM;
	build_step(&ar, l, ANYRUN_STEP_SUBMIT, NULL, &req);
	assert_string_equal(req.body->str,
			    "{\"obj_type\":\"url\",\"obj_url\":\"http://phish.example.net/a\\\"b\","
			    "\"env_os\":\"windows\",\"env_version\":\"10\",\"env_bitness\":64,"
			    "\"env_type\":\"complete\",\"env_locale\":\"en-US\","
			    "\"opt_network_connect\":true,\"opt_privacy_type\":\"byteam\","
			    "\"opt_timeout\":120,\"obj_ext_browser\":\"Microsoft Edge\","
			    "\"opt_automated_interactivity\":true}");
	http_request_clear(&req);
	pt_lookup_del(l);
}

/* §3.1: the file task's parts in order, each field's exact text
 * (numbers in decimal, booleans as "true"). */
static void test_file_task_fields_exact(void **state)
{
	struct integration ar = pt_integration("anyrun", AR_FORM, AR_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&ar, INDICATOR_HASH, SHA);
	static const char *const want[] = {
		"file", "invoice.exe", "obj_type", "file", "env_os", "windows", "env_version", "10",
		"env_bitness", "64", "env_type", "complete", "opt_network_connect", "true",
		"opt_privacy_type", "bylink", "opt_timeout", "240", "obj_ext_startfolder", "temp",
		"obj_ext_extension", "true",
	};
	struct http_request req;

	(void)state;
	ar.privacy = PRIVACY_BYLINK;
	l->sample = sample_new("invoice.exe", SHA, true, "MZ", 2);
	build_step(&ar, l, ANYRUN_STEP_SUBMIT, NULL, &req);
	assert_int_equal(req.parts->len, G_N_ELEMENTS(want) / 2);
	for (guint i = 0; i < req.parts->len; i++) {
		const struct http_part *p = g_ptr_array_index(req.parts, i);
		gsize len;
		const char *data = g_bytes_get_data(p->data, &len);

		assert_string_equal(p->name, want[2 * i]);
		if (i == 0) {
			assert_string_equal(p->filename, want[1]);
			continue;
		}
		assert_null(p->filename);
		assert_int_equal(len, strlen(want[2 * i + 1]));
		assert_memory_equal(data, want[2 * i + 1], len);
	}
	http_request_clear(&req);
	sample_unref(l->sample);
	l->sample = NULL;
	pt_lookup_del(l);
}

/* No sample (the toggles refuse the file): nothing is uploaded. The one
 * request is the free history call, then the lookup is unknown. */
static void test_hash_without_sample_uploads_nothing(void **state)
{
	struct integration ar = pt_integration("anyrun", AR_FORM, AR_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&ar, INDICATOR_HASH, SHA);
	struct http_request req;

	(void)state;
	build_step(&ar, l, ANYRUN_STEP_SUBMIT, NULL, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.url->str, AR_ROOT "/analysis?limit=1");
	assert_null(req.parts);
	assert_null(req.body);
	http_request_clear(&req);
	pt_lookup_del(l);
}

/* §3.3: the report, and XSOAR's ?task= form. */
static void test_poll_requests(void **state)
{
	struct integration ar = pt_integration("anyrun", AR_FORM "/", AR_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&ar, INDICATOR_URL, "http://x.example/");
	struct http_request req;

	(void)state;
	build_step(&ar, l, ANYRUN_STEP_REPORT, TASK, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.url->str, AR_ROOT "/analysis/" TASK);
	http_request_clear(&req);
	build_step(&ar, l, ANYRUN_STEP_REPORT_TASK, TASK, &req);
	assert_string_equal(req.url->str, AR_ROOT "/analysis/?task=" TASK);
	http_request_clear(&req);
	pt_lookup_del(l);
}

/* ------------------------------------------------------ fixture cases */

static const char *const next_names[] = {
	[JOB_FINISHED] = "finished", [JOB_STEP_NOW] = "step_now",
	[JOB_POLL_LATER] = "poll_later", [JOB_RELOGIN] = "relogin",
};
static const char *const class_names[] = {
	[ANSWER_DECIDED] = "decided", [ANSWER_TRANSIENT] = "transient",
	[ANSWER_PERMANENT] = "permanent", [ANSWER_AUTH] = "auth", [ANSWER_QUOTA] = "quota",
};

static const char *str(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static enum indicator_kind kind_of(const char *name)
{
	for (int k = 0; k < INDICATOR_KINDS; k++)
		if (strcmp(indicator_kind_name((enum indicator_kind)k), name) == 0)
			return (enum indicator_kind)k;
	fail_msg("unknown kind %s", name);
	return INDICATOR_URL;
}

/* One case: its answer to job step "step" through job_parse. */
static void run_case(const struct integration *in, const cJSON *c, int row)
{
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
	const cJSON *next_step = cJSON_GetObjectItemCaseSensitive(expect, "next_step");
	struct lookup *l = pt_lookup_new(in, kind_of(str(c, "kind")), str(c, "indicator"));
	struct provider_job job = {
		.step = (unsigned)cJSON_GetObjectItemCaseSensitive(c, "step")->valueint,
		.id = g_strdup(TASK),
	};
	unsigned step = job.step;
	long status = 0;
	char *body;

	if (str(c, "answer") != NULL) {
		cJSON *values = cJSON_CreateObject();

		cJSON_AddStringToObject(values, "taskid", TASK);
		body = pt_fixture("anyrun", str(c, "answer"), values, &status);
		cJSON_Delete(values);
	} else {
		body = g_strdup(str(c, "body"));
		status = (long)cJSON_GetObjectItemCaseSensitive(c, "http")->valuedouble;
	}
	struct http_response resp = { .status = status, .body = body, .body_len = strlen(body),
				      .retry_after_s = -1 };
	if (step == ANYRUN_STEP_SUBMIT) {
		g_free(job.id);
		job.id = NULL;
	}
	enum answer_class class = anyrun_job.parse(in, l, &job, &resp);
	const char *details = str(expect, "details");
	bool failed = l->result.status == LOOKUP_ERROR || l->result.status == LOOKUP_RATE_LIMITED;

	if (strcmp(class_names[class], str(expect, "class")) != 0 ||
	    strcmp(lookup_status_name(l->result.status), str(expect, "status")) != 0 ||
	    strcmp(lookup_error_name(l->result.error), str(expect, "error")) != 0 ||
	    strcmp(next_names[job.next], str(expect, "next")) != 0 ||
	    (next_step != NULL && job.step != (unsigned)next_step->valueint) ||
	    (details != NULL && (l->result.details == NULL ||
				 strstr(l->result.details, details) == NULL)) ||
	    failed != (l->result.error != LOOKUP_ERR_NONE))
		fail_msg("anyrun case %d (step %u %s): got %s %s/%s next %s step %u \"%s\"", row,
			 step, str(c, "answer") ? str(c, "answer") : "body", class_names[class],
			 lookup_status_name(l->result.status), lookup_error_name(l->result.error),
			 next_names[job.next], job.step,
			 l->result.details ? l->result.details : "");
	assert_true(l->result.status != LOOKUP_CLEAN || strcmp(str(expect, "status"), "clean") == 0);
	if (l->result.details != NULL)
		assert_null(strstr(l->result.details, AR_KEY));
	g_free(job.id);
	g_free(body);
	pt_lookup_del(l);
}

static void test_fixture_cases(void **state)
{
	struct integration ar = pt_integration("anyrun", AR_FORM, AR_KEY, NULL, 0);
	char *path = g_build_filename(TEST_SRCDIR, "mock", "fixtures", "anyrun.json", NULL);
	char *text = NULL;
	const cJSON *c;
	int row = 0;

	(void)state;
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	cJSON *fx = cJSON_Parse(text);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(fx, "cases"))
		run_case(&ar, c, row++);
	assert_true(row >= 30);
	cJSON_Delete(fx);
	g_free(text);
	g_free(path);
}

/* ----------------------------------------------------- Test Connection */

/* §6: GET <root>/analysis?limit=1 proves the key; 401 does not. */
static void test_connection(void **state)
{
	const struct provider_type *t = provider_type_find("anyrun");
	struct integration ar = pt_integration("anyrun", AR_FORM, AR_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&ar, t->test.kind, t->test.indicator);
	struct http_request req;
	long status;
	char *body;

	(void)state;
	assert_true(provider_uploads(t));
	assert_false(provider_supports(t, INDICATOR_HASH));	/* §1: no hash lookup */
	assert_true(provider_supports(t, INDICATOR_DOMAIN));
	assert_false(t->default_attachments);			/* the seed */
	assert_string_equal(t->default_api_url, AR_FORM);
	pt_build(&ar, &l, 1, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.url->str, AR_ROOT "/analysis?limit=1");
	assert_true(pt_has_header(&req, "Authorization: API-Key " AR_KEY));
	http_request_clear(&req);

	body = pt_fixture("anyrun", "bodies.history", NULL, &status);
	assert_int_equal(pt_parse(&ar, l, status, body), ANSWER_DECIDED);
	g_free(body);
	assert_true(t->test.ok(l));
	assert_non_null(strstr(l->result.details, "1 task"));
	body = pt_fixture("anyrun", "errors.wrong_key", NULL, &status);
	assert_int_equal(pt_parse(&ar, l, status, body), ANSWER_AUTH);
	g_free(body);
	assert_false(t->test.ok(l));
	assert_int_equal(l->result.error, LOOKUP_ERR_AUTH);
	body = pt_fixture("anyrun", "bodies.history_no_tasks", NULL, &status);
	pt_parse(&ar, l, status, body);
	g_free(body);
	assert_false(t->test.ok(l));
	assert_int_equal(l->result.error, LOOKUP_ERR_MALFORMED);
	pt_lookup_del(l);
}

/* ---------------------------------------------------------- the key */

static struct integration *parse(const char *text, char *err, size_t errlen)
{
	return integration_parse("/etc/threatmilter/integrations.d/ar.conf", text, strlen(text),
				 err, errlen);
}

static bool has_warning(const struct integration *in, const char *what)
{
	for (guint i = 0; i < in->warnings->len; i++)
		if (strstr(g_ptr_array_index(in->warnings, i), what) != NULL)
			return true;
	return false;
}

/* Privacy: owner by default, byteam quietly, bylink and public with a
 * warning (-n prints it), other words and other types refused; the
 * Attachments toggle off by default, uploads on once it is turned on. */
static void test_privacy_key(void **state)
{
	char err[512];
	struct integration *in;

	(void)state;
	in = parse("Name ar\nType anyrun\nAPIKey " AR_KEY "\n", err, sizeof(err));
	assert_non_null(in);
	assert_int_equal(in->privacy, PRIVACY_OWNER);
	assert_false(in->attachments);
	assert_true(in->upload_pe_files && in->upload_other_files);
	assert_string_equal(in->api_url, AR_FORM);
	assert_int_equal(in->warnings->len, 0);
	integration_free(in);

	in = parse("Name ar\nType anyrun\nAPIKey " AR_KEY "\nPrivacy byteam\n", err, sizeof(err));
	assert_int_equal(in->privacy, PRIVACY_BYTEAM);
	assert_int_equal(in->warnings->len, 0);
	integration_free(in);

	in = parse("Name ar\nType anyrun\nAPIKey " AR_KEY "\nPrivacy public\n", err, sizeof(err));
	assert_int_equal(in->privacy, PRIVACY_PUBLIC);
	assert_true(has_warning(in, "Privacy public"));
	integration_free(in);
	in = parse("Name ar\nType anyrun\nAPIKey " AR_KEY "\nPrivacy bylink\n", err, sizeof(err));
	assert_true(has_warning(in, "anyone with the link"));
	integration_free(in);

	assert_null(parse("Name ar\nType anyrun\nAPIKey " AR_KEY "\nPrivacy everyone\n", err,
			  sizeof(err)));
	assert_non_null(strstr(err, ":4: Privacy: 'everyone' is not one of owner, byteam"));
	assert_null(parse("Name vt\nType virustotal\nAPIKey " AR_KEY "\nPrivacy owner\n", err,
			  sizeof(err)));
	assert_non_null(strstr(err, "Privacy"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_submission),
		cmocka_unit_test(test_privacy_in_requests),
		cmocka_unit_test(test_file_submission),
		cmocka_unit_test(test_url_task_body_exact),
		cmocka_unit_test(test_file_task_fields_exact),
		cmocka_unit_test(test_hash_without_sample_uploads_nothing),
		cmocka_unit_test(test_poll_requests),
		cmocka_unit_test(test_fixture_cases),
		cmocka_unit_test(test_connection),
		cmocka_unit_test(test_privacy_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
