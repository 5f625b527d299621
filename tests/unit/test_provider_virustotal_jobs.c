/* test_provider_virustotal_jobs.c: VirusTotal uploads
 * (../shared/providers/virustotal.md §3.5, §4) through the engine, on the
 * fake transport and clock (engine_fake.[ch], as test_engine_jobs.c):
 * unknown hash + file -> upload -> queued -> completed, the verdict cached;
 * no file -> not one upload; above 32 MB the one-time upload URL; quota,
 * 5xx and a job that never completes end as rate_limited or error, never
 * clean; uploads and polls take RateLimit tokens (a free key's 4/minute). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "engine_fake.h"
#include "engine/engine_internal.h"
#include "lookup/sample.h"

#define ROOT "http://stub.example/api/v3"
#define HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HASH2 "404a0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8"
#define HASH3 "404b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8"
#define HASH4 "404c0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8"
#define ANALYSIS "NDRkODg2MTJmZWE4YThmMzZkZTgyZTEyNzhhYmIwMmY6MTczMjIwMDEwMA=="

#define NOT_FOUND "{\"error\":{\"code\":\"NotFoundError\",\"message\":\"File not found\"}}"
#define SUBMITTED "{\"data\":{\"type\":\"analysis\",\"id\":\"" ANALYSIS "\"}}"
#define QUOTA "{\"error\":{\"code\":\"QuotaExceededError\",\"message\":\"Quota exceeded\"}}"
#define TRANSIENT "{\"error\":{\"code\":\"TransientError\",\"message\":\"retry\"}}"
#define ANALYSIS_BODY(status, stats) \
	"{\"data\":{\"type\":\"analysis\",\"id\":\"" ANALYSIS "\",\"attributes\":" \
	"{\"date\":1732200100,\"status\":\"" status "\",\"stats\":" stats ",\"results\":{}}}}"
#define STATS_NONE "{\"harmless\":0,\"malicious\":0,\"suspicious\":0,\"undetected\":0}"
#define STATS_BAD "{\"harmless\":0,\"malicious\":7,\"suspicious\":0,\"undetected\":60}"

/* A VirusTotal integration (the registry's type) on the fake transport. */
static int vt_env(void **state)
{
	struct env *e = g_new0(struct env, 1);

	e->f = fake_new(false);
	e->in = stub_integration("stubhttp", "vt");
	stub_set_type(e->in, "virustotal");
	g_free(e->in->api_url);
	e->in->api_url = g_strdup(ROOT);
	e->in->api_key = g_strdup("test-vt-key");
	e->in->detection_threshold = 1;
	e->in->poll_interval_ms = 60000;
	e->in->timeout_ms = 20000;
	e->cfg = stub_config(&e->in, 1);
	*state = e;
	return 0;
}

static struct lookup *file_lookup(const struct env *e, const char *hash, size_t size)
{
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, hash);

	if (size > 0) {
		char *bytes = g_malloc0(size);

		memcpy(bytes, "MZ", 2);
		l->sample = sample_new("invoice.exe", hash, true, bytes, size);
		g_free(bytes);
	}
	return l;
}

static void lookup_free(struct lookup *l)
{
	sample_unref(l->sample);
	stub_lookup_free(l);
}

static unsigned count_calls(struct fake *f, const char *prefix)
{
	unsigned n = 0;

	for (guint i = 0; i < f->calls->len; i++)
		n += g_str_has_prefix(call_what(f, i), prefix);
	return n;
}

static struct flight *only_flight(struct fake *f)
{
	GList *all = g_hash_table_get_values(f->engine->flights);
	struct flight *flight = all != NULL ? all->data : NULL;

	assert_int_equal(g_list_length(all), 1);
	g_list_free(all);
	return flight;
}

/* *l submitted (5 s deadline) and its hash lookup, the next call,
 * answered 404 NotFoundError; returns the batch. The batch keeps l (an
 * array of one lookup): it must live in the test's own frame. */
static struct batch *submit_unknown_hash(struct env *e, struct lookup **l)
{
	struct fake *f = e->f;
	unsigned first = f->calls->len;
	struct batch *b = fake_submit(f, e->cfg, l, 1, 5000);
	char want[256];

	g_snprintf(want, sizeof(want), "GET " ROOT "/files/%s", (*l)->indicator);
	assert_string_equal(call_what(f, first), want);
	fake_answer_http(f, first, 404, NOT_FOUND, -1);
	fake_settle(f);
	return b;
}

/* Hash unknown -> POST /files -> pending; returns the batch (which keeps
 * l: see submit_unknown_hash). */
static struct batch *upload_small(struct env *e, struct lookup **l, const char *hash)
{
	struct fake *f = e->f;
	unsigned first = f->calls->len;
	struct batch *b = submit_unknown_hash(e, l);

	assert_string_equal((*l)->indicator, hash);
	assert_int_equal(f->calls->len, first + 2);
	assert_string_equal(call_what(f, first + 1), "POST " ROOT "/files");
	fake_answer_http(f, first + 1, 200, SUBMITTED, -1);
	fake_settle(f);
	return b;
}

/* The whole way: unknown -> upload -> queued -> in-progress -> completed
 * malicious; the message got pending, the next one the cached verdict
 * without a request; the bytes were let go after the upload. */
static void test_vt_upload_queued_completed_malicious(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = file_lookup(e, HASH, 4096);

	struct batch *b = upload_small(e, &l, HASH);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	assert_null(only_flight(f)->work.sample);	/* VirusTotal has the bytes */

	/* PollInterval 60 s, then doubled: polls at +60 s, +120 s, +240 s */
	fake_advance(f, 59999);
	assert_int_equal(f->calls->len, 2);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, 3);
	assert_string_equal(call_what(f, 2), "GET " ROOT "/analyses/" ANALYSIS);
	fake_answer_http(f, 2, 200, ANALYSIS_BODY("queued", STATS_NONE), -1);
	fake_advance(f, 119999);
	assert_int_equal(f->calls->len, 3);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, 4);
	fake_answer_http(f, 3, 200, ANALYSIS_BODY("in-progress", STATS_NONE), -1);
	fake_advance(f, 240000);
	assert_int_equal(f->calls->len, 5);
	fake_answer_http(f, 4, 200, ANALYSIS_BODY("completed", STATS_BAD), -1);
	fake_settle(f);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);

	struct lookup *again = file_lookup(e, HASH, 4096);
	struct batch *b2 = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_true(engine_batch_done(f->engine, b2));
	assert_int_equal(again->result.status, LOOKUP_MALICIOUS);
	assert_string_equal(again->result.details, "7/67");
	assert_true(again->result.cached);
	engine_batch_release(f->engine, b2);
	assert_int_equal(f->calls->len, 5);
	assert_int_equal(count_calls(f, "POST"), 1);
	lookup_free(l);
	lookup_free(again);
}

/* A known file: its verdict from the hash, nothing uploaded. */
static void test_vt_known_hash_not_uploaded(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = file_lookup(e, HASH, 4096);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	fake_answer_http(f, 0, 200, "{\"data\":{\"attributes\":{\"last_analysis_date\":1,"
			 "\"last_analysis_stats\":" STATS_BAD "}}}", -1);
	fake_settle(f);
	assert_int_equal(l->result.status, LOOKUP_MALICIOUS);
	fake_advance(f, 600000);
	assert_int_equal(f->calls->len, 1);
	assert_int_equal(f->jobs_finished, 0);
	engine_batch_release(f->engine, b);
	lookup_free(l);
}

/* Uploads refused (no sample: the toggles are off): one hash request,
 * unknown, not one upload, not a job. */
static void test_vt_no_sample_not_one_upload(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = file_lookup(e, HASH, 0);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	assert_null(only_flight(f)->job);		/* one-shot, as before */
	fake_answer_http(f, 0, 404, NOT_FOUND, -1);
	fake_advance(f, 3600 * 1000);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_UNKNOWN);
	assert_int_equal(f->calls->len, 1);
	assert_int_equal(count_calls(f, "POST"), 0);
	assert_int_equal(count_calls(f, "GET " ROOT "/files/upload_url"), 0);
	engine_batch_release(f->engine, b);
	lookup_free(l);
}

/* Above 32 MB: GET /files/upload_url, then POST to that URL. */
static void test_vt_large_file_upload_url(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = file_lookup(e, HASH, 32 * 1024 * 1024 + 1);
	struct batch *b = submit_unknown_hash(e, &l);

	assert_int_equal(f->calls->len, 2);
	assert_string_equal(call_what(f, 1), "GET " ROOT "/files/upload_url");
	fake_answer_http(f, 1, 200, "{\"data\":\"http://stub.example/_ah/upload/AMmfu6b/\"}", -1);
	fake_settle(f);
	assert_int_equal(f->calls->len, 3);
	assert_string_equal(call_what(f, 2), "POST http://stub.example/_ah/upload/AMmfu6b/");
	assert_int_equal(count_calls(f, "POST " ROOT "/files"), 0);
	fake_answer_http(f, 2, 200, SUBMITTED, -1);
	fake_settle(f);
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	fake_advance(f, 60000);
	assert_string_equal(call_what(f, 3), "GET " ROOT "/analyses/" ANALYSIS);
	fake_answer_http(f, 3, 200, ANALYSIS_BODY("completed", STATS_NONE), -1);
	fake_settle(f);
	/* completed without any engine's answer: unknown, never clean */
	assert_int_equal(f->last_job_status, LOOKUP_UNKNOWN);
	lookup_free(l);
}

/* 429 QuotaExceededError on the upload: rate_limited/quota for the
 * message, the integration paused, nothing cached: no second upload
 * until the pause is over. */
static void test_vt_upload_quota(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = file_lookup(e, HASH, 4096);
	struct batch *b = submit_unknown_hash(e, &l);

	assert_string_equal(call_what(f, 1), "POST " ROOT "/files");
	fake_answer_http(f, 1, 429, QUOTA, -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_RATE_LIMITED);
	assert_int_equal(l->result.error, LOOKUP_ERR_QUOTA);
	assert_non_null(strstr(l->result.details, "QuotaExceededError"));
	engine_batch_release(f->engine, b);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);

	struct lookup *again = file_lookup(e, HASH, 4096);
	struct batch *b2 = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_true(engine_batch_done(f->engine, b2));
	assert_int_not_equal(again->result.status, LOOKUP_CLEAN);
	assert_int_equal(f->calls->len, 2);	/* paused: not even the hash */
	engine_batch_release(f->engine, b2);
	lookup_free(l);
	lookup_free(again);
}

/* 503 on the upload: one retry (the engine's, with a token), then
 * error/provider; never clean, not cached. */
static void test_vt_upload_5xx(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = file_lookup(e, HASH, 4096);
	struct batch *b = submit_unknown_hash(e, &l);

	fake_answer_http(f, 1, 503, TRANSIENT, -1);
	fake_settle(f);
	assert_int_equal(f->calls->len, 3);
	assert_string_equal(call_what(f, 2), "POST " ROOT "/files");
	fake_answer_http(f, 2, 503, TRANSIENT, -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_PROVIDER);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	fake_advance(f, 600000);
	assert_int_equal(f->calls->len, 3);
	engine_batch_release(f->engine, b);
	lookup_free(l);
}

/* 200 to the upload without an analysis id: error/malformed, and not
 * retried (a retry would upload the file a second time). */
static void test_vt_upload_answer_without_id_not_retried(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = file_lookup(e, HASH, 4096);
	struct batch *b = submit_unknown_hash(e, &l);

	fake_answer_http(f, 1, 200, "{\"data\":{\"type\":\"analysis\"}}", -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_MALFORMED);
	fake_advance(f, 600000);
	assert_int_equal(count_calls(f, "POST"), 1);
	assert_int_equal(f->calls->len, 2);
	engine_batch_release(f->engine, b);
	lookup_free(l);
}

/* An analysis that stays queued: polled with back-off until the job
 * timeout, then error/timeout (the after-the-fact hook sees error), not
 * cached: the next message asks the hash again. */
static void test_vt_analysis_never_completes(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = file_lookup(e, HASH, 4096);
	struct batch *b = upload_small(e, &l, HASH);

	engine_batch_release(f->engine, b);
	for (int s = 0; s < 1200 && g_hash_table_size(f->engine->flights) > 0; s++) {
		fake_advance(f, 1000);
		if (fake_open_calls(f) > 0)
			fake_answer_http(f, f->calls->len - 1, 200,
					 ANALYSIS_BODY("queued", STATS_NONE), -1);
	}
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	/* 60, 120, 240 s: three polls within the 600 s job timeout */
	assert_int_equal(count_calls(f, "GET " ROOT "/analyses/"), 3);

	unsigned before = f->calls->len;
	struct lookup *again = file_lookup(e, HASH, 4096);
	struct batch *b2 = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_int_equal(f->calls->len, before + 1);
	assert_string_equal(call_what(f, before), "GET " ROOT "/files/" HASH);
	engine_batch_release(f->engine, b2);
	lookup_free(l);
	lookup_free(again);
}

/* RateLimit 4/minute (a free key): the two uploads count like the hash
 * lookups, so a third message's lookup is refused without a request,
 * still 15 s later (a refill of one per 15 s let a 5th request out in
 * the minute: VirusTotal's 429); at +60 s the first 4 leave the window
 * and the polls count too. Never more than 4 requests in a minute. */
static void test_vt_uploads_count_against_rate_limit(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;

	g_free(e->in->rate_limit);
	e->in->rate_limit = g_strdup("4/minute");
	struct lookup *a = file_lookup(e, HASH2, 4096);
	struct lookup *b = file_lookup(e, HASH3, 4096);
	struct lookup *c = file_lookup(e, HASH4, 4096);
	struct batch *ba = upload_small(e, &a, HASH2);	/* requests 1, 2 */
	struct batch *bb = upload_small(e, &b, HASH3);	/* requests 3, 4 */
	assert_int_equal(count_calls(f, "POST"), 2);

	struct batch *bc = fake_submit(f, e->cfg, &c, 1, 5000);
	assert_true(engine_batch_done(f->engine, bc));
	assert_int_equal(c->result.status, LOOKUP_RATE_LIMITED);
	assert_int_equal(c->result.error, LOOKUP_ERR_QUOTA);
	assert_int_equal(f->calls->len, 4);	/* not sent */
	engine_batch_release(f->engine, bc);

	fake_advance(f, 15000);
	struct lookup *c2 = file_lookup(e, HASH4, 0);
	struct batch *bc2 = fake_submit(f, e->cfg, &c2, 1, 5000);
	assert_int_equal(f->calls->len, 4);	/* still not sent */
	assert_true(engine_batch_done(f->engine, bc2));
	assert_int_equal(c2->result.status, LOOKUP_RATE_LIMITED);
	engine_batch_release(f->engine, bc2);

	/* +60 s: both polls are due and sent, then the same message again */
	fake_advance(f, 45000);
	assert_int_equal(count_calls(f, "GET " ROOT "/analyses/"), 2);
	struct lookup *c3 = file_lookup(e, HASH4, 0);
	struct batch *bc3 = fake_submit(f, e->cfg, &c3, 1, 5000);
	assert_int_equal(f->calls->len, 7);
	assert_string_equal(call_what(f, 6), "GET " ROOT "/files/" HASH4);
	fake_answer_http(f, 6, 404, NOT_FOUND, -1);
	fake_settle(f);
	engine_batch_release(f->engine, bc3);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);
	lookup_free(a);
	lookup_free(b);
	lookup_free(c);
	lookup_free(c2);
	lookup_free(c3);
}

/* Lookups without a file stay one-shot (issue 17 item 2 still holds for
 * them): a URL lookup whose message gave up while it waited behind
 * MaxInFlight is dropped, never sent (a job would have gone on). */
static void test_vt_one_shot_lookup_dropped_after_deadline(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;

	e->in->max_in_flight = 1;
	struct lookup *a = stub_lookup(e->in, INDICATOR_URL, "http://a.example/");
	struct lookup *b = stub_lookup(e->in, INDICATOR_URL, "http://b.example/");
	struct batch *ba = fake_submit(f, e->cfg, &a, 1, 5000);
	struct batch *bb = fake_submit(f, e->cfg, &b, 1, 100);

	assert_int_equal(f->calls->len, 1);
	fake_advance(f, 200);			/* b's message gave up */
	assert_true(engine_batch_done(f->engine, bb));
	fake_answer_http(f, 0, 404, NOT_FOUND, -1);
	fake_settle(f);
	assert_int_equal(a->result.status, LOOKUP_UNKNOWN);
	assert_int_equal(f->calls->len, 1);	/* b was not sent */
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);
	stub_lookup_free(a);
	stub_lookup_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vt_upload_queued_completed_malicious, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_known_hash_not_uploaded, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_no_sample_not_one_upload, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_large_file_upload_url, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_upload_quota, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_upload_5xx, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_upload_answer_without_id_not_retried, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_analysis_never_completes, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_uploads_count_against_rate_limit, vt_env, env_down),
		cmocka_unit_test_setup_teardown(test_vt_one_shot_lookup_dropped_after_deadline, vt_env, env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
