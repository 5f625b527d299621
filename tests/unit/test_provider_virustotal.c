/* test_provider_virustotal.c: VirusTotal API v3
 * (../shared/providers/virustotal.md): the requests and the Test
 * Connection call; its answers are the "cases" of
 * tests/mock/fixtures/virustotal.json (test_provider_common.c). Uploads
 * (§3.5): the requests of every job step and the fixture's "job_cases"
 * (virustotal_job_parse() step by step); the jobs through the engine are
 * in test_provider_virustotal_jobs.c. */
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
#include "config/integration_schema.h"
#include "lookup/sample.h"
#include "providers/virustotal.h"

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

/* ---------------------------------------------------------- uploads */

#define EICAR_SHA256 "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

/* The step numbers of virustotal_upload.c, by the fixture's names. */
static const char *const step_names[] = { "lookup", "upload", "upload_url", "upload_to", "poll" };

static unsigned step_of(const char *name)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(step_names); i++)
		if (g_strcmp0(step_names[i], name) == 0)
			return i;
	fail_msg("unknown step '%s'", name ? name : "(none)");
	return 0;
}

static struct sample *small_sample(void)
{
	return sample_new("invoice.exe", EICAR_SHA256, true, "MZ\x90\0payload", 11);
}

static void build_step(const struct integration *in, const struct lookup *l,
		       const struct provider_job *job, struct http_request *req)
{
	http_request_init(req);
	virustotal_job_request(in, l, job, req);
}

static const struct http_part *only_part(const struct http_request *req)
{
	assert_non_null(req->parts);
	assert_int_equal(req->parts->len, 1);
	return g_ptr_array_index(req->parts, 0);
}

static struct lookup *sample_lookup(const struct integration *in)
{
	struct lookup *l = pt_lookup_new(in, INDICATOR_HASH, EICAR_SHA256);

	l->sample = small_sample();
	return l;
}

static void sample_lookup_del(struct lookup *l)
{
	sample_unref(l->sample);
	l->sample = NULL;
	pt_lookup_del(l);
}

/* The hash first (GET /files/{hash}), then POST /files: one multipart
 * part "file" with the name and the bytes, the key in its header. */
static void test_virustotal_upload_request(void **state)
{
	(void)state;
	struct integration vt = pt_integration("virustotal", VT_ROOT "/", VT_KEY, NULL, 1);
	struct lookup *l = sample_lookup(&vt);
	struct provider_job job = { .step = 0 };
	struct http_request req;
	gsize len;

	build_step(&vt, l, &job, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.url->str, VT_ROOT "/files/" EICAR_SHA256);
	assert_null(req.parts);
	http_request_clear(&req);

	job.step = step_of("upload");
	build_step(&vt, l, &job, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url->str, VT_ROOT "/files");
	assert_true(pt_has_header(&req, "x-apikey: " VT_KEY));
	const struct http_part *part = only_part(&req);
	assert_string_equal(part->name, "file");
	assert_string_equal(part->filename, "invoice.exe");
	assert_non_null(part->data);
	assert_memory_equal(g_bytes_get_data(part->data, &len), "MZ\x90\0payload", 11);
	assert_int_equal(len, 11);
	pt_assert_no_secret(req.url->str);
	http_request_clear(&req);
	sample_lookup_del(l);
}

/* Above 32 MB: GET /files/upload_url, then POST to that URL, the key
 * going only to VirusTotal's own scheme, host and port. */
static void test_virustotal_upload_url_requests(void **state)
{
	(void)state;
	struct integration vt = pt_integration("virustotal", VT_ROOT "/", VT_KEY, NULL, 1);
	struct lookup *l = sample_lookup(&vt);
	struct provider_job job = { .step = step_of("upload_url") };
	struct http_request req;

	build_step(&vt, l, &job, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.url->str, VT_ROOT "/files/upload_url");
	assert_true(pt_has_header(&req, "x-apikey: " VT_KEY));
	assert_null(req.parts);
	http_request_clear(&req);

	job.step = step_of("upload_to");
	job.id = g_strdup("https://WWW.virustotal.com/_ah/upload/AMmfu6b/");
	build_step(&vt, l, &job, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url->str, job.id);
	assert_true(pt_has_header(&req, "x-apikey: " VT_KEY));
	assert_string_equal(only_part(&req)->name, "file");
	http_request_clear(&req);
	/* another origin (or scheme) gets the file, never the key */
	const char *foreign[] = { "https://uploads.example.net/_ah/upload/X/",
				  "http://www.virustotal.com/_ah/upload/X/",
				  "https://www.virustotal.com.example.net/_ah/upload/X/" };
	for (size_t i = 0; i < G_N_ELEMENTS(foreign); i++) {
		g_free(job.id);
		job.id = g_strdup(foreign[i]);
		build_step(&vt, l, &job, &req);
		assert_string_equal(req.url->str, foreign[i]);
		assert_false(pt_has_header_named(&req, "x-apikey"));
		for (guint h = 0; h < req.headers->len; h++)
			pt_assert_no_secret(g_ptr_array_index(req.headers, h));
		assert_string_equal(only_part(&req)->name, "file");
		http_request_clear(&req);
	}
	g_free(job.id);
	sample_lookup_del(l);
}

/* GET /analyses/{id}: the opaque id as one path segment. */
static void test_virustotal_poll_request(void **state)
{
	(void)state;
	struct integration vt = pt_integration("virustotal", VT_ROOT "/", VT_KEY, NULL, 1);
	struct lookup *l = sample_lookup(&vt);
	struct provider_job job = { .step = step_of("poll") };
	struct http_request req;

	job.id = g_strdup("NDRk/ODg2+MTJm==");	/* standard base64: '/' must not split the path */
	build_step(&vt, l, &job, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.url->str, VT_ROOT "/analyses/NDRk%2FODg2+MTJm==");
	assert_true(pt_has_header(&req, "x-apikey: " VT_KEY));
	http_request_clear(&req);
	g_free(job.id);
	sample_lookup_del(l);
}

static const char *const next_names[] = {
	[JOB_FINISHED] = "finished", [JOB_STEP_NOW] = "step now",
	[JOB_POLL_LATER] = "poll later", [JOB_RELOGIN] = "relogin",
};

/* expect.next: "finished", or the step the job goes to ("poll", or
 * "<step> later": later); the case's "id": what the job keeps (analysis
 * id, upload URL). */
static void check_next(int row, const cJSON *c, const struct provider_job *job)
{
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
	const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(expect, "next"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
	enum job_next next = JOB_FINISHED;
	char *step = g_strdup(want);

	if (want != NULL && g_str_has_suffix(want, " later")) {
		step[strlen(want) - strlen(" later")] = '\0';
		next = JOB_POLL_LATER;
	} else if (g_strcmp0(want, "poll") == 0) {
		next = JOB_POLL_LATER;
	} else if (g_strcmp0(want, "finished") != 0) {
		next = JOB_STEP_NOW;
	}
	if (job->next != next || (next != JOB_FINISHED && job->step != step_of(step)))
		fail_msg("job case %d: next %s step %u, want %s", row, next_names[job->next],
			 job->step, want);
	g_free(step);
	if (id != NULL && g_strcmp0(job->id, id) != 0)
		fail_msg("job case %d: id %s, want %s", row, job->id ? job->id : "(none)", id);
	/* VirusTotal names no time: the engine's schedule (PollInterval) */
	if (next == JOB_POLL_LATER && job->poll_after_s != 0)
		fail_msg("job case %d: poll after %u s, want the engine's schedule (0)", row,
			 job->poll_after_s);
}

static void run_job_case(const cJSON *c, int row)
{
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
	const cJSON *threshold = cJSON_GetObjectItemCaseSensitive(c, "threshold");
	const char *ref = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "answer"));
	const cJSON *http = cJSON_GetObjectItemCaseSensitive(c, "http");
	struct integration vt = pt_integration("virustotal", VT_ROOT, VT_KEY, NULL, 1);
	struct lookup *l = pt_lookup_new(&vt, INDICATOR_HASH, EICAR_SHA256);
	const unsigned first = step_of(cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(c, "step")));
	struct provider_job job = { .step = first };
	long status = 200;
	char *body = ref != NULL ? pt_fixture("virustotal", ref, NULL, &status)
				 : g_strdup(cJSON_GetStringValue(
					   cJSON_GetObjectItemCaseSensitive(c, "body")));

	if (cJSON_IsNumber(threshold))
		vt.detection_threshold = (unsigned)threshold->valuedouble;
	if (cJSON_IsNumber(http))
		status = (long)http->valuedouble;
	if (job.step != 0 || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "sample")))
		l->sample = small_sample();
	if (job.step != 0)	/* what step 0 left: the hash is unknown */
		provider_set_result(l, LOOKUP_UNKNOWN, "not found");
	if (job.step == step_of("poll"))
		job.id = g_strdup("NDRkODg2MTJm");

	struct http_response resp = { .status = status, .body = body, .body_len = strlen(body),
				      .retry_after_s = -1 };
	enum answer_class class = virustotal_job_parse(&vt, l, &job, &resp);
	const char *want_class = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(expect, "class"));
	static const char *const class_names[] = { "decided", "transient", "permanent", "auth", "quota" };
	const char *details = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(expect, "details"));

	if (g_strcmp0(class_names[class], want_class) != 0 ||
	    g_strcmp0(lookup_status_name(l->result.status),
		      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(expect, "status"))) != 0 ||
	    g_strcmp0(lookup_error_name(l->result.error),
		      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(expect, "error"))) != 0 ||
	    (details != NULL && (l->result.details == NULL || !strstr(l->result.details, details))))
		fail_msg("job case %d (%s %s): got %s, %s/%s \"%s\"; want %s, %s", row,
			 step_names[first], ref ? ref : body, class_names[class], lookup_status_name(l->result.status),
			 lookup_error_name(l->result.error), l->result.details ? l->result.details : "",
			 want_class, details ? details : "");
	check_next(row, c, &job);
	pt_assert_no_secret(l->result.details);
	/* the bytes are let go once VirusTotal has them, kept otherwise */
	if (first == step_of("upload") || first == step_of("upload_to")) {
		if (l->result.status == LOOKUP_PENDING)
			assert_null(l->sample);
		else
			assert_non_null(l->sample);
	}
	g_free(job.id);
	g_free(body);
	sample_unref(l->sample);
	l->sample = NULL;
	pt_lookup_del(l);
}

static void test_virustotal_job_cases(void **state)
{
	(void)state;
	char *path = g_strdup_printf("%s/mock/fixtures/virustotal.json", TEST_SRCDIR);
	char *text = NULL;
	cJSON *fx, *c;
	int row = 0;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	fx = cJSON_Parse(text);
	assert_non_null(fx);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(fx, "job_cases"))
		run_job_case(c, row++);
	assert_true(row >= 30);
	cJSON_Delete(fx);
	g_free(text);
	g_free(path);
}

/* The document's facts in the type's defaults: it takes the file, up to
 * 650 MB (§3.5), and polls once a minute (§4, 4 requests a minute). */
static void test_virustotal_upload_defaults(void **state)
{
	(void)state;
	const struct provider_type *t = provider_type_find("virustotal");
	char *size = integration_key_default(integration_schema_find("MaxUploadSize"), t);
	char *poll = integration_key_default(integration_schema_find("PollInterval"), t);

	assert_true(provider_uploads(t));
	assert_string_equal(size, "650M");
	assert_string_equal(poll, "1m");
	assert_string_equal(t->default_rate_limit, "4/minute,500/day");
	g_free(size);
	g_free(poll);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virustotal_requests),
		cmocka_unit_test(test_virustotal_test_connection),
		cmocka_unit_test(test_virustotal_upload_request),
		cmocka_unit_test(test_virustotal_upload_url_requests),
		cmocka_unit_test(test_virustotal_poll_request),
		cmocka_unit_test(test_virustotal_job_cases),
		cmocka_unit_test(test_virustotal_upload_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
