/* test_metadefender_jobs.c: MetaDefender uploads
 * (../shared/providers/opswat-metadefender.md §3.5, §3.6, §4):
 *   - the steps one by one (job_request / job_parse): hash first; only a
 *     hash never seen (404, Core's "Not Found") of a lookup that carries
 *     the file is uploaded (POST /file, raw octet-stream body, filename
 *     header); data_id then polls of GET /file/{data_id} until
 *     progress_percentage 100; errors of every step;
 *   - the whole job through the fake engine and clock: pending, polls
 *     with back-off, the verdict into the cache; no upload without the
 *     file; the job timeout ends as error, never clean. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "engine_fake.h"
#include "engine/engine_internal.h"
#include "engine/engine_test.h"
#include "lookup/sample.h"
#include "provider_test_util.h"

#define ROOT "http://md.example/v4"
#define H "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FILE_DONE(code, a) \
	"{\"data_id\":\"D1\",\"scan_results\":{\"progress_percentage\":100," \
	"\"scan_all_result_i\":" #code ",\"scan_all_result_a\":\"" a "\"," \
	"\"total_avs\":38,\"total_detected_avs\":31}}"
#define FILE_RUNNING \
	"{\"data_id\":\"D1\",\"scan_results\":{\"progress_percentage\":40," \
	"\"scan_all_result_i\":255,\"scan_all_result_a\":\"In Progress\"}," \
	"\"process_info\":{\"progress_percentage\":40,\"result\":\"\"}}"
#define NOT_FOUND_BODY "{\"error\":{\"code\":404003,\"messages\":[\"The hash was not found\"]}}"

static enum answer_class step(const struct integration *in, struct lookup *l,
			      struct provider_job *job, long status, const char *body)
{
	struct http_response resp = { .status = status, .body = body, .body_len = strlen(body),
				      .retry_after_s = -1 };

	job->next = JOB_FINISHED;
	return metadefender_job.parse(in, l, job, &resp);
}

static const char *header_value(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);

	for (guint i = 0; i < req->headers->len; i++) {
		const char *h = g_ptr_array_index(req->headers, i);

		if (g_ascii_strncasecmp(h, name, n) == 0 && h[n] == ':')
			return h + n + 2;
	}
	return NULL;
}

static void test_upload_request(void **state)
{
	struct integration md = pt_integration("metadefender", ROOT "/", MD_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&md, INDICATOR_HASH, H);
	struct provider_job job = { .step = 1 };
	struct http_request req;
	static const char bytes[] = "MZ\0\x01raw";

	(void)state;
	l->sample = sample_new("r\xc3\xa9sum\xc3\xa9+(1).exe", H, true, bytes, sizeof(bytes) - 1);
	http_request_init(&req);
	metadefender_job.request(&md, l, &job, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url->str, ROOT "/file");
	assert_string_equal(header_value(&req, "apikey"), MD_KEY);
	assert_string_equal(header_value(&req, "Content-Type"), "application/octet-stream");
	/* sanitised by sample.c, then URL-encoded */
	assert_string_equal(header_value(&req, "filename"), "r__sum__%2B%281%29.exe");
	assert_null(req.parts);				/* raw body, not multipart */
	assert_int_equal(req.body->len, sizeof(bytes) - 1);
	assert_memory_equal(req.body->str, bytes, sizeof(bytes) - 1);
	http_request_clear(&req);

	job.step = 2;
	job.id = g_strdup("ZDIw/x");
	http_request_init(&req);
	metadefender_job.request(&md, l, &job, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.url->str, ROOT "/file/ZDIw%2Fx");
	assert_string_equal(header_value(&req, "apikey"), MD_KEY);
	http_request_clear(&req);
	g_free(job.id);
	sample_unref(l->sample);
	l->sample = NULL;
	pt_lookup_del(l);
}

/* Step 0: which answers lead to an upload. */
static void test_hash_first(void **state)
{
	struct integration md = pt_integration("metadefender", ROOT, MD_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&md, INDICATOR_HASH, H);
	struct provider_job job = { 0 };

	(void)state;
	/* never seen, but no file: a hash lookup only */
	assert_int_equal(step(&md, l, &job, 404, NOT_FOUND_BODY), ANSWER_DECIDED);
	assert_int_equal(job.next, JOB_FINISHED);
	pt_assert_result(l, LOOKUP_UNKNOWN, "not found");

	l->sample = sample_new("a.exe", H, true, "MZ", 2);
	assert_int_equal(step(&md, l, &job, 404, NOT_FOUND_BODY), ANSWER_DECIDED);
	assert_int_equal(job.next, JOB_STEP_NOW);
	assert_int_equal(job.step, 1);

	/* Core: 200 {"<HASH>":"Not Found"} */
	job = (struct provider_job){ 0 };
	assert_int_equal(step(&md, l, &job, 200, "{\"" H "\":\"Not Found\"}"), ANSWER_DECIDED);
	assert_int_equal(job.next, JOB_STEP_NOW);

	/* known: the verdict, no upload (malicious, suspicious, clean, and a
	 * known file whose scan failed: unknown but never re-uploaded) */
	static const struct { const char *body; enum lookup_status status; } known[] = {
		{ FILE_DONE(1, "Infected"), LOOKUP_MALICIOUS },
		{ FILE_DONE(2, "Suspicious"), LOOKUP_SUSPICIOUS },
		{ FILE_DONE(0, "No Threat Detected"), LOOKUP_CLEAN },
		{ FILE_DONE(3, "Failed"), LOOKUP_UNKNOWN },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(known); i++) {
		job = (struct provider_job){ 0 };
		assert_int_equal(step(&md, l, &job, 200, known[i].body), ANSWER_DECIDED);
		assert_int_equal(job.next, JOB_FINISHED);
		assert_int_equal(l->result.status, known[i].status);
	}
	/* a failed lookup is not "never seen" */
	job = (struct provider_job){ 0 };
	assert_int_equal(step(&md, l, &job, 401, "{\"error\":{\"code\":401006,\"messages\":"
			      "[\"Invalid apikey\"]}}"), ANSWER_AUTH);
	assert_int_equal(job.next, JOB_FINISHED);
	assert_int_equal(l->result.error, LOOKUP_ERR_AUTH);
	sample_unref(l->sample);
	l->sample = NULL;
	pt_lookup_del(l);
}

static void test_upload_answers(void **state)
{
	struct integration md = pt_integration("metadefender", ROOT, MD_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&md, INDICATOR_HASH, H);
	struct provider_job job = { .step = 1 };

	(void)state;
	assert_int_equal(step(&md, l, &job, 200, "{\"data_id\":\"ZDIwMTEy\",\"status\":\"inqueue\"}"),
			 ANSWER_DECIDED);
	assert_int_equal(job.next, JOB_POLL_LATER);
	assert_int_equal(job.step, 2);
	assert_string_equal(job.id, "ZDIwMTEy");
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	g_free(job.id);

	static const struct {
		long status;
		const char *body;
		enum answer_class class;
		enum lookup_status result;
		enum lookup_error error;
	} bad[] = {
		{ 429, "{\"error\":{\"code\":429000,\"messages\":[\"API limit exceeded\"]}}",
		  ANSWER_QUOTA, LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA },
		{ 401, "{\"error\":{\"code\":401006,\"messages\":[\"Invalid apikey\"]}}",
		  ANSWER_AUTH, LOOKUP_ERROR, LOOKUP_ERR_AUTH },
		{ 503, "{\"error\":{\"code\":503000,\"messages\":[\"Service unavailable\"]}}",
		  ANSWER_TRANSIENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER },
		{ 200, "{\"status\":\"inqueue\"}", ANSWER_TRANSIENT, LOOKUP_ERROR,
		  LOOKUP_ERR_MALFORMED },
		{ 404, NOT_FOUND_BODY, ANSWER_PERMANENT, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		job = (struct provider_job){ .step = 1 };
		assert_int_equal(step(&md, l, &job, bad[i].status, bad[i].body), bad[i].class);
		assert_int_equal(job.next, JOB_FINISHED);
		assert_int_equal(l->result.status, bad[i].result);
		assert_int_equal(l->result.error, bad[i].error);
		assert_null(job.id);
	}
	pt_lookup_del(l);
}

static void test_result_answers(void **state)
{
	struct integration md = pt_integration("metadefender", ROOT, MD_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&md, INDICATOR_HASH, H);
	struct provider_job job = { .step = 2 };

	(void)state;
	assert_int_equal(step(&md, l, &job, 200, FILE_RUNNING), ANSWER_DECIDED);
	assert_int_equal(job.next, JOB_POLL_LATER);
	assert_int_equal(l->result.status, LOOKUP_PENDING);

	assert_int_equal(step(&md, l, &job, 200, FILE_DONE(1, "Infected")), ANSWER_DECIDED);
	assert_int_equal(job.next, JOB_FINISHED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "Infected 31/38");
	assert_int_equal(step(&md, l, &job, 200, FILE_DONE(0, "No Threat Detected")),
			 ANSWER_DECIDED);
	assert_int_equal(l->result.status, LOOKUP_CLEAN);

	/* no progress at all, a negative one, the data_id gone: error */
	assert_int_equal(step(&md, l, &job, 200, "{\"data_id\":\"D1\"}"), ANSWER_DECIDED);
	assert_int_equal(job.next, JOB_FINISHED);
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(step(&md, l, &job, 200, "{\"scan_results\":{\"progress_percentage\":-1}}"),
			 ANSWER_DECIDED);
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(step(&md, l, &job, 404, "{\"error\":{\"code\":404007,\"messages\":"
			      "[\"The data_id was not found\"]}}"), ANSWER_PERMANENT);
	assert_int_equal(job.next, JOB_FINISHED);
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(step(&md, l, &job, 429, "{\"error\":{\"code\":429000,\"messages\":"
			      "[\"API limit exceeded\"]}}"), ANSWER_QUOTA);
	assert_int_equal(l->result.status, LOOKUP_RATE_LIMITED);
	pt_lookup_del(l);
}

/* ---- the whole job through the fake engine ---- */

static int md_env(void **state)
{
	int rc = env_up(state, "stubjob", "opswat");
	struct env *e = *state;

	stub_set_type(e->in, "metadefender");
	g_free(e->in->api_url);
	e->in->api_url = g_strdup(ROOT);
	g_free(e->in->api_key);
	e->in->api_key = g_strdup(MD_KEY);
	return rc;
}

static void test_engine_upload_job(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, H);

	l->sample = sample_new("a.exe", H, true, "MZ", 2);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	assert_string_equal(call_what(f, 0), "GET " ROOT "/hash/" H);
	fake_answer_http(f, 0, 404, NOT_FOUND_BODY, -1);
	fake_settle(f);
	assert_string_equal(call_what(f, 1), "POST " ROOT "/file");
	fake_answer_http(f, 1, 200, "{\"data_id\":\"D1\"}", -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);

	fake_advance(f, 5000);				/* first poll after 5 s */
	assert_int_equal(f->calls->len, 3);
	assert_string_equal(call_what(f, 2), "GET " ROOT "/file/D1");
	fake_answer_http(f, 2, 200, FILE_RUNNING, -1);
	fake_advance(f, 9999);				/* then 10 s */
	assert_int_equal(f->calls->len, 3);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, 4);
	fake_answer_http(f, 3, 200, FILE_DONE(1, "Infected"), -1);
	fake_settle(f);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);

	/* the next message: the verdict from the cache, no request */
	struct lookup *again = stub_lookup(e->in, INDICATOR_HASH, H);
	struct batch *b2 = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_true(engine_batch_done(f->engine, b2));
	assert_int_equal(again->result.status, LOOKUP_MALICIOUS);
	engine_batch_release(f->engine, b2);
	fake_settle(f);
	assert_int_equal(f->calls->len, 4);
	sample_unref(l->sample);
	stub_lookup_free(l);
	stub_lookup_free(again);
}

/* Defect (reviewer F2, the OPSWAT form): a hash whose scan still runs
 * (somebody's upload, or ours after its job ended) answered 255 "In
 * Progress" and was cached as unknown for an hour. It is pending now,
 * the hash is asked again on the schedule, and its verdict is cached. */
static void test_engine_hash_being_scanned_not_cached_as_unknown(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, H);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	assert_string_equal(call_what(f, 0), "GET " ROOT "/hash/" H);
	fake_answer_http(f, 0, 200, FILE_RUNNING, -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	/* the next message: no cached unknown; it waits with the job */
	fake_expect_pending(f, e->cfg, e->in, INDICATOR_HASH, H);

	fake_advance(f, 5000);				/* PollInterval: the hash again */
	assert_int_equal(f->calls->len, 2);
	assert_string_equal(call_what(f, 1), "GET " ROOT "/hash/" H);
	fake_answer_http(f, 1, 200, FILE_DONE(1, "Infected"), -1);
	fake_settle(f);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);
	fake_expect_cached(f, e->cfg, e->in, INDICATOR_HASH, H, LOOKUP_MALICIOUS);
	assert_int_equal(f->calls->len, 2);
	stub_lookup_free(l);
}

static void test_engine_no_file_no_upload(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, H);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	fake_answer_http(f, 0, 404, NOT_FOUND_BODY, -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_UNKNOWN);
	assert_int_equal(f->calls->len, 1);		/* never POST /file */
	engine_batch_release(f->engine, b);
	fake_advance(f, 60000);
	assert_int_equal(f->calls->len, 1);
	stub_lookup_free(l);
}

static void test_engine_job_timeout(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, H);

	l->sample = sample_new("a.exe", H, true, "MZ", 2);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	fake_answer_http(f, 0, 404, NOT_FOUND_BODY, -1);
	fake_settle(f);
	fake_answer_http(f, 1, 200, "{\"data_id\":\"D1\"}", -1);
	fake_settle(f);
	engine_batch_release(f->engine, b);
	/* the analysis never finishes: polls until 600 s, then error */
	for (int i = 0; i < 200 && f->jobs_finished == 0; i++) {
		fake_advance(f, 5000);
		for (unsigned c = 0; c < f->calls->len; c++) {
			struct fake_call *call = g_ptr_array_index(f->calls, c);

			if (!call->answered && !call->cancelled)
				fake_answer_http(f, c, 200, FILE_RUNNING, -1);
		}
		fake_settle(f);
	}
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	assert_true(f->now_ms - 1000000 <= 600000 + 5000);
	sample_unref(l->sample);
	stub_lookup_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_request),
		cmocka_unit_test(test_hash_first),
		cmocka_unit_test(test_upload_answers),
		cmocka_unit_test(test_result_answers),
		cmocka_unit_test_setup_teardown(test_engine_upload_job, md_env, env_down),
		cmocka_unit_test_setup_teardown(test_engine_no_file_no_upload, md_env, env_down),
		cmocka_unit_test_setup_teardown(test_engine_hash_being_scanned_not_cached_as_unknown,
						md_env, env_down),
		cmocka_unit_test_setup_teardown(test_engine_job_timeout, md_env, env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
