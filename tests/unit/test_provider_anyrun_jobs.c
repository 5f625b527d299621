/* test_provider_anyrun_jobs.c: ANY.RUN jobs through the engine on the
 * fake transport and clock (engine_fake.h): submit -> pending -> the
 * report polled every 15 s doubling to 60 s -> the verdict in the cache;
 * a failed analysis, a job that never finishes (error/timeout, never
 * clean), 429/bad key/5xx on submit, 5xx and 403 while polling, and a
 * hash lookup without the file (no upload). The answers are the
 * fixtures of tests/mock/fixtures/anyrun.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "engine_fake.h"
#include "engine/engine_internal.h"
#include "provider_test_util.h"

#define AR_KEY "ar-test-key-0123456789abcdef"
#define TASK "0cf223f2-530e-4a50-b68f-563045268648"
#define URL "http://phish.example.net/login"
#define SUBMIT "POST http://stub.example/v1/analysis"
#define REPORT "GET http://stub.example/v1/analysis/" TASK

static int anyrun_env(void **state)
{
	struct env *e;

	env_up(state, "stubhttp", "anyrun");
	e = *state;
	stub_set_type(e->in, "anyrun");
	g_free(e->in->api_url);
	e->in->api_url = g_strdup("http://stub.example/v1/analysis");
	e->in->api_key = g_strdup(AR_KEY);
	return 0;
}

/* Answers call index with a fixture of anyrun.json. */
static void answer(struct fake *f, unsigned index, const char *ref)
{
	cJSON *values = cJSON_CreateObject();
	long status;
	char *body;

	cJSON_AddStringToObject(values, "taskid", TASK);
	body = pt_fixture("anyrun", ref, values, &status);
	fake_answer_http(f, index, status, body, -1);
	g_free(body);
	cJSON_Delete(values);
}

static unsigned count_calls(struct fake *f, const char *prefix)
{
	unsigned n = 0;

	for (guint i = 0; i < f->calls->len; i++)
		n += g_str_has_prefix(call_what(f, i), prefix);
	return n;
}

/* A message with URL: submitted, the message gets pending at once. */
static struct lookup *submit(struct env *e, const char *submit_answer)
{
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(e->f, e->cfg, &l, 1, 5000);

	assert_string_equal(call_what(e->f, 0), SUBMIT);
	answer(e->f, 0, submit_answer);
	fake_settle(e->f);
	assert_true(engine_batch_done(e->f->engine, b));
	engine_batch_release(e->f->engine, b);
	return l;
}

/* The n-th call (0-based) comes after ms more, not before. */
static void expect_call_after(struct fake *f, unsigned n, int64_t ms, const char *what)
{
	fake_advance(f, ms - 1);
	assert_int_equal(f->calls->len, n);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, n + 1);
	assert_string_equal(call_what(f, n), what);
}

static void test_url_job_pending_then_cached_verdict(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = submit(e, "bodies.submitted");

	assert_int_equal(l->result.status, LOOKUP_PENDING);
	expect_call_after(f, 1, 15000, REPORT);		/* §3.2: every 10-15 s */
	answer(f, 1, "bodies.running");
	expect_call_after(f, 2, 30000, REPORT);		/* back-off */
	answer(f, 2, "bodies.running");
	expect_call_after(f, 3, 60000, REPORT);
	answer(f, 3, "templates.report+verdicts.malicious");
	fake_settle(f);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);

	/* the next message with the URL: from the cache, no request */
	struct lookup *again = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(again->result.status, LOOKUP_MALICIOUS);
	assert_true(again->result.cached);
	engine_batch_release(f->engine, b);
	assert_int_equal(f->calls->len, 4);
	assert_int_equal(count_calls(f, "POST"), 1);
	stub_lookup_free(again);
	stub_lookup_free(l);
}

/* A failed analysis: unknown (§1), never clean, and the job ends. */
static void test_failed_analysis_is_unknown(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = submit(e, "bodies.submitted");

	expect_call_after(f, 1, 15000, REPORT);
	answer(f, 1, "bodies.failed");
	fake_settle(f);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_UNKNOWN);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	stub_lookup_free(l);
}

/* A task that never finishes: the job ends after 600 s as
 * error/timeout (never clean) and is not cached. */
static void test_endless_job_times_out(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = submit(e, "bodies.submitted");

	for (int s = 0; s < 900 && g_hash_table_size(f->engine->flights) > 0; s++) {
		fake_advance(f, 1000);
		if (fake_open_calls(f) > 0)
			answer(f, f->calls->len - 1, "bodies.endless");
	}
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	/* polls at 15, 45, 105, then every 60 s up to 600 s: 12 at most */
	assert_true(f->calls->len >= 10 && f->calls->len <= 13);
	assert_int_equal(count_calls(f, "POST"), 1);
	/* not cached: the next message submits again */
	struct lookup *again = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_string_equal(call_what(f, f->calls->len - 1), SUBMIT);
	engine_batch_release(f->engine, b);
	stub_lookup_free(again);
	stub_lookup_free(l);
}

/* Submit answered 429 (§5, the parallel-task limit): rate_limited,
 * nothing polled. */
static void test_submit_quota(void **state)
{
	struct env *e = *state;
	struct lookup *l = submit(e, "errors.ratelimit");

	assert_int_equal(l->result.status, LOOKUP_RATE_LIMITED);
	assert_int_equal(l->result.error, LOOKUP_ERR_QUOTA);
	fake_advance(e->f, 120000);
	assert_int_equal(e->f->calls->len, 1);
	stub_lookup_free(l);
}

static void test_submit_bad_key(void **state)
{
	struct env *e = *state;
	struct lookup *l = submit(e, "errors.wrong_key");

	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_AUTH);
	assert_non_null(strstr(l->result.details, "HTTP 401"));
	assert_null(strstr(l->result.details, AR_KEY));
	fake_advance(e->f, 120000);
	assert_int_equal(e->f->calls->len, 1);
	stub_lookup_free(l);
}

/* 5xx on submit: one retry (the engine's), then error/provider. */
static void test_submit_5xx(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	answer(f, 0, "errors.503");
	fake_settle(f);
	assert_int_equal(f->calls->len, 2);
	assert_string_equal(call_what(f, 1), SUBMIT);
	answer(f, 1, "errors.500");
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_PROVIDER);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
}

/* A 200 without a task id: error/malformed, and never submitted twice
 * (the engine retries transient answers). */
static void test_submit_without_task_id_not_retried(void **state)
{
	struct env *e = *state;
	struct lookup *l = submit(e, "bodies.submitted_no_id");

	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_MALFORMED);
	fake_advance(e->f, 120000);
	assert_int_equal(e->f->calls->len, 1);
	stub_lookup_free(l);
}

/* While polling: a 5xx is retried at the next poll; a 403 switches to
 * the ?task= form (§3.3) at once. */
static void test_poll_5xx_then_403_fallback(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = submit(e, "bodies.submitted");

	expect_call_after(f, 1, 15000, REPORT);
	answer(f, 1, "errors.503");
	expect_call_after(f, 2, 30000, REPORT);
	answer(f, 2, "errors.forbidden");
	fake_settle(f);
	assert_int_equal(f->calls->len, 4);
	assert_string_equal(call_what(f, 3), "GET http://stub.example/v1/analysis/?task=" TASK);
	answer(f, 3, "templates.report+verdicts.suspicious");
	fake_settle(f);
	assert_int_equal(f->last_job_status, LOOKUP_SUSPICIOUS);
	stub_lookup_free(l);
}

/* A hash without the file (uploads refused): no upload, unknown. */
static void test_hash_without_sample_no_upload(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH,
				       "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0");
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	assert_int_equal(f->calls->len, 1);
	assert_string_equal(call_what(f, 0), "GET http://stub.example/v1/analysis?limit=1");
	answer(f, 0, "bodies.history");
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_UNKNOWN);
	fake_advance(f, 120000);
	assert_int_equal(count_calls(f, "POST"), 0);
	assert_int_equal(f->calls->len, 1);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_url_job_pending_then_cached_verdict, anyrun_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_failed_analysis_is_unknown, anyrun_env, env_down),
		cmocka_unit_test_setup_teardown(test_endless_job_times_out, anyrun_env, env_down),
		cmocka_unit_test_setup_teardown(test_submit_quota, anyrun_env, env_down),
		cmocka_unit_test_setup_teardown(test_submit_bad_key, anyrun_env, env_down),
		cmocka_unit_test_setup_teardown(test_submit_5xx, anyrun_env, env_down),
		cmocka_unit_test_setup_teardown(test_submit_without_task_id_not_retried, anyrun_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_poll_5xx_then_403_fallback, anyrun_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_hash_without_sample_no_upload, anyrun_env,
						env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
