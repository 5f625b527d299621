/* test_engine_jobs.c: a job-based stub sandbox (engine_fake.c "stubjob":
 * hash lookup, submit, polls) through the fake transport and clock: the
 * first message gets pending, the job finishes on the loop's timers, the
 * next message with the same hash gets the verdict from the cache with
 * no new request; identical submissions joined; JobTimeout; reload; the
 * poll schedule (PollInterval, the provider's cap, its hint); a poll
 * refused by RateLimit, answered 429 or due in the provider's pause
 * keeps the job. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "engine_fake.h"
#include "engine/engine_internal.h"
#include "engine/ratelimit.h"

#define HASH "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

static int job_env(void **state)
{
	return env_up(state, "stubjob", "sandbox");
}

static int session_env(void **state)
{
	return env_up(state, "stubsession", "forti");
}

/* A message with HASH: hash unknown, upload, job id: pending. The batch
 * keeps l (an array of one lookup): it must live in the test's frame. */
static struct batch *submit_job(struct fake *f, struct tm_config *cfg, struct lookup **l,
				const char *job_answer)
{
	unsigned first = f->calls->len;
	struct batch *b = fake_submit(f, cfg, l, 1, 5000);

	assert_string_equal(call_what(f, first), "GET http://stub.example/hash/" HASH);
	fake_answer_http(f, first, 200, "unknown", -1);
	fake_settle(f);
	assert_int_equal(f->calls->len, first + 2);
	assert_string_equal(call_what(f, first + 1), "POST http://stub.example/submit");
	fake_answer_http(f, first + 1, 200, job_answer, -1);
	return b;
}

static void test_job_pending_then_verdict_from_cache(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;

	struct lookup *l = stub_lookup(in, INDICATOR_HASH, HASH);

	struct batch *b = submit_job(f, cfg, &l, "id:J42");
	/* submitted: the message gets pending at once (SandboxWait 0) */
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);

	/* the job polls on the timers: hint 10 s, then back-off from 5 s */
	fake_advance(f, 9999);
	assert_int_equal(f->calls->len, 2);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, 3);
	assert_string_equal(call_what(f, 2), "GET http://stub.example/job/J42");
	fake_answer_http(f, 2, 200, "running", -1);
	fake_advance(f, 5000);
	assert_int_equal(f->calls->len, 4);
	fake_answer_http(f, 3, 200, "malicious", -1);
	fake_settle(f);

	/* a later message with the same file: from the cache, no request */
	struct lookup *again = stub_lookup(in, INDICATOR_HASH, HASH);
	struct batch *b2 = engine_submit(f->engine, cfg, &again, 1, f->now_ms + 5000);
	assert_true(engine_batch_done(f->engine, b2));
	assert_int_equal(again->result.status, LOOKUP_MALICIOUS);
	assert_true(again->result.cached);
	engine_batch_release(f->engine, b2);
	fake_settle(f);
	assert_int_equal(f->calls->len, 4);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	stub_lookup_free(l);
	stub_lookup_free(again);
}

/* Two messages with the same new attachment: one upload. */
static void test_job_identical_submissions_joined(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;

	struct lookup *a = stub_lookup(in, INDICATOR_HASH, HASH);
	struct lookup *b = stub_lookup(in, INDICATOR_HASH, HASH);

	struct batch *ba = submit_job(f, cfg, &a, "id:J1");
	struct batch *bb = fake_submit(f, cfg, &b, 1, 5000);	/* while it runs */
	assert_true(engine_batch_done(f->engine, bb));
	assert_int_equal(b->result.status, LOOKUP_PENDING);
	assert_int_equal(f->calls->len, 2);
	unsigned uploads = 0;
	for (guint i = 0; i < f->calls->len; i++)
		uploads += strncmp(call_what(f, i), "POST", 4) == 0;
	assert_int_equal(uploads, 1);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);
	stub_lookup_free(a);
	stub_lookup_free(b);
}

/* A job that never finishes ends as error/timeout, never clean, and is
 * not cached: the next message asks again. */
static void test_job_timeout_is_an_error(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;


	struct lookup *l = stub_lookup(in, INDICATOR_HASH, HASH);
	struct batch *b = submit_job(f, cfg, &l, "id:J9");
	engine_batch_release(f->engine, b);
	for (int s = 0; s < 700 && g_hash_table_size(f->engine->flights) > 0; s++) {
		fake_advance(f, 1000);
		if (fake_open_calls(f) > 0)
			fake_answer_http(f, f->calls->len - 1, 200, "running", -1);
	}
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	/* polls: back-off 5, 10, 20, 40, 40... within 600 s */
	assert_true(f->calls->len < 25);
	/* not cached: the next message asks the hash again */
	unsigned before = f->calls->len;
	struct lookup *again = stub_lookup(in, INDICATOR_HASH, HASH);
	struct batch *b2 = fake_submit(f, cfg, &again, 1, 5000);
	assert_int_equal(f->calls->len, before + 1);
	assert_string_equal(call_what(f, before), "GET http://stub.example/hash/" HASH);
	engine_batch_release(f->engine, b2);
	stub_lookup_free(again);
	stub_lookup_free(l);
}

/* A SIGHUP reload: the job goes on, re-bound to the new snapshot's
 * integration of the same name (here with a new APIURL). */
static void test_job_survives_reload(void **state)
{
	(void)state;
	struct fake *f = fake_new(false);
	struct integration *old_in = stub_integration("stubjob", "sandbox");
	struct tm_config *old_cfg = stub_config(&old_in, 1);
	struct integration *new_in = stub_integration("stubjob", "sandbox");
	g_free(new_in->api_url);
	new_in->api_url = g_strdup("http://moved.example");
	struct tm_config *new_cfg = stub_config(&new_in, 1);
	struct lookup *l = stub_lookup(old_in, INDICATOR_HASH, HASH);
	struct lookup *other = stub_lookup(new_in, INDICATOR_HASH, "00ff");

	struct batch *b = submit_job(f, old_cfg, &l, "id:J7");
	engine_batch_release(f->engine, b);
	/* the reload: a message under the new snapshot, the old one let go */
	struct batch *b2 = fake_submit(f, new_cfg, &other, 1, 5000);
	fake_answer_http(f, 2, 200, "clean", -1);
	engine_batch_release(f->engine, b2);
	config_unref(old_cfg);
	fake_advance(f, 10000);
	assert_int_equal(f->calls->len, 4);
	assert_string_equal(call_what(f, 3), "GET http://moved.example/job/J7");
	fake_answer_http(f, 3, 200, "suspicious", -1);
	fake_settle(f);
	/* the after-the-fact hook saw the job's verdict */
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_SUSPICIOUS);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	stub_lookup_free(l);
	stub_lookup_free(other);
	fake_free(f);
	config_unref(new_cfg);
}

#define JOB_URL "GET http://stub.example/job/"

/* Advances the clock ms from now, checking that the engine's call number
 * index comes then and not one ms sooner. */
static void expect_call_after(struct fake *f, unsigned index, int64_t ms)
{
	fake_advance(f, ms - 1);
	assert_int_equal(f->calls->len, index);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, index + 1);
}

/* The polls of job id, calls index.. on: each pauses_ms[i] after the
 * answer before it, each answered "running". */
static void expect_polls(struct fake *f, unsigned index, const char *id,
			 const int64_t *pauses_ms, size_t n)
{
	char *what = g_strconcat(JOB_URL, id, NULL);

	for (size_t i = 0; i < n; i++) {
		expect_call_after(f, index + i, pauses_ms[i]);
		assert_string_equal(call_what(f, index + i), what);
		fake_answer_http(f, index + i, 200, "running", -1);
	}
	g_free(what);
}

/* PollInterval 7 s on a type whose provider named 5 s (the stub's
 * poll.first_s): the polls come 7, 14, 28 s apart, then at the
 * provider's 40 s cap. */
static void test_job_poll_follows_poll_interval(void **state)
{
	struct env *e = *state;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	static const int64_t pauses_ms[] = { 7000, 14000, 28000, 40000, 40000 };

	e->in->poll_interval_ms = 7000;
	struct batch *b = submit_job(e->f, e->cfg, &l, "queued:J3");	/* no hint */
	expect_polls(e->f, 2, "J3", pauses_ms, G_N_ELEMENTS(pauses_ms));
	engine_batch_release(e->f->engine, b);
	stub_lookup_free(l);
}

/* PollInterval above the provider's cap (60 s, the stub's 40 s): every
 * poll 60 s apart, never sooner than the administrator asked. A
 * provider's hint (10 s) wins for its one poll and does not move the
 * schedule. */
static void test_job_poll_interval_above_cap_and_hint(void **state)
{
	struct env *e = *state;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	static const int64_t pauses_ms[] = { 10000, 60000, 60000, 60000 };

	e->in->poll_interval_ms = 60000;
	struct batch *b = submit_job(e->f, e->cfg, &l, "id:J4");	/* hint: 10 s */
	expect_polls(e->f, 2, "J4", pauses_ms, G_N_ELEMENTS(pauses_ms));
	engine_batch_release(e->f->engine, b);
	stub_lookup_free(l);
}

/* RateLimit 1/minute: the submission takes the token, the poll 7 s later
 * is refused. The job stays (the message, waiting, gets pending at its
 * deadline), is polled again when RateLimit has a token, and its verdict
 * lands in the cache; the file is not submitted again. A submission the
 * RateLimit refuses is rate_limited at once (nothing was uploaded). */
static void test_job_poll_refused_by_ratelimit_keeps_job(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, "http://bad.example/");
	struct lookup *other = stub_lookup(e->in, INDICATOR_URL, "http://other.example/");

	g_free(e->in->rate_limit);
	e->in->rate_limit = g_strdup("1/minute");
	e->in->poll_interval_ms = 7000;
	e->in->sandbox_wait_ms = 60000;
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 15000);
	assert_string_equal(call_what(f, 0), "POST http://stub.example/submit");
	fake_answer_http(f, 0, 200, "queued:J5", -1);
	fake_settle(f);
	assert_false(engine_batch_done(f->engine, b));	/* SandboxWait: it waits */

	struct batch *b2 = fake_submit(f, e->cfg, &other, 1, 5000);	/* no token */
	assert_true(engine_batch_done(f->engine, b2));
	assert_int_equal(other->result.status, LOOKUP_RATE_LIMITED);
	assert_int_equal(f->calls->len, 1);
	engine_batch_release(f->engine, b2);
	stub_lookup_free(other);

	fake_advance(f, 7000);			/* the poll: refused, not sent */
	assert_int_equal(f->calls->len, 1);
	assert_int_equal(g_hash_table_size(f->engine->flights), 1);
	assert_false(engine_batch_done(f->engine, b));
	struct istate *st = g_hash_table_lookup(f->engine->states, e->in->name);
	int64_t wait_ms = ratelimit_wait_ms(st->ratelimit, f->now_ms);
	assert_true(wait_ms > 8000);

	fake_advance(f, 8000);			/* the message's deadline */
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);

	expect_call_after(f, 1, wait_ms - 8000);	/* a token again: the poll */
	assert_string_equal(call_what(f, 1), JOB_URL "J5");
	fake_job_ends(f, 1, "malicious", LOOKUP_MALICIOUS);
	fake_expect_cached(f, e->cfg, e->in, INDICATOR_URL, "http://bad.example/",
			   LOOKUP_MALICIOUS);
	assert_int_equal(f->calls->len, 2);	/* one submission, one poll */
	stub_lookup_free(l);
}

/* A poll answered 429 with Retry-After 30: the job stays and asks again
 * when the pause ends; its verdict is the lookup's. */
static void test_job_poll_answered_429_keeps_job(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct batch *b = submit_job(f, e->cfg, &l, "queued:J6");

	engine_batch_release(f->engine, b);
	expect_call_after(f, 2, 5000);
	fake_answer_http(f, 2, 429, "slow down", 30);
	fake_settle(f);
	assert_int_equal(g_hash_table_size(f->engine->flights), 1);
	assert_int_equal(f->jobs_finished, 0);
	expect_call_after(f, 3, 30000);
	assert_string_equal(call_what(f, 3), JOB_URL "J6");
	fake_job_ends(f, 3, "suspicious", LOOKUP_SUSPICIOUS);
	stub_lookup_free(l);
}

/* Another request's 429 pauses the integration for 30 s: a job whose
 * poll falls in the pause is not ended (error, "paused") but polled when
 * the pause allows, and both jobs end with their verdicts. */
static void test_job_poll_in_provider_pause_keeps_job(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *a = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct lookup *u = stub_lookup(e->in, INDICATOR_URL, "http://bad.example/");
	struct batch *ba = submit_job(f, e->cfg, &a, "queued:JA");	/* calls 0, 1 */
	struct batch *bu = fake_submit(f, e->cfg, &u, 1, 5000);	/* call 2 */

	fake_answer_http(f, 2, 200, "queued:JU", -1);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bu);
	fake_advance(f, 5000);				/* both polls */
	assert_string_equal(call_what(f, 3), JOB_URL "JA");
	assert_string_equal(call_what(f, 4), JOB_URL "JU");
	fake_answer_http(f, 4, 200, "running", -1);	/* JU: again in 10 s */
	fake_answer_http(f, 3, 429, "slow down", 30);	/* JA: a 30 s pause */
	fake_advance(f, 10000);				/* JU's poll: in the pause */
	assert_int_equal(f->calls->len, 5);
	assert_int_equal(f->jobs_finished, 0);
	for (int s = 0; s < 120 && g_hash_table_size(f->engine->flights) > 0; s++) {
		fake_advance(f, 1000);
		for (guint i = 5; i < f->calls->len; i++) {
			struct fake_call *c = g_ptr_array_index(f->calls, i);

			if (!c->answered && !c->cancelled)
				fake_answer_http(f, i, 200, "malicious", -1);
		}
	}
	assert_int_equal(f->jobs_finished, 2);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);
	assert_int_equal(f->calls->len, 7);		/* one more poll each */
	stub_lookup_free(a);
	stub_lookup_free(u);
}

static struct batch *ask(struct fake *f, struct tm_config *cfg, struct lookup **l,
			 const struct integration *in, const char *indicator)
{
	*l = stub_lookup(in, INDICATOR_URL, indicator);
	return fake_submit(f, cfg, l, 1, 5000);
}

/* Sessions (FortiSandbox): one login, the token reused; a refused token
 * means one new login and the same request again; refused twice: error. */
static void test_session_login_reuse_and_relogin(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;

	struct lookup *x, *y, *z;

	struct batch *bx = ask(f, cfg, &x, in, "x");
	assert_string_equal(call_what(f, 0), "POST http://stub.example/login");
	fake_answer_http(f, 0, 200, "token:T1", -1);
	fake_settle(f);
	assert_string_equal(call_what(f, 1), "GET http://stub.example/rate/x?s=T1");
	fake_answer_http(f, 1, 200, "malicious", -1);
	assert_int_equal(x->result.status, LOOKUP_MALICIOUS);

	struct batch *by = ask(f, cfg, &y, in, "y");	/* no new login */
	assert_string_equal(call_what(f, 2), "GET http://stub.example/rate/y?s=T1");
	fake_answer_http(f, 2, 200, "invalid-session", -1);
	fake_settle(f);
	assert_string_equal(call_what(f, 3), "POST http://stub.example/login");
	fake_answer_http(f, 3, 200, "token:T2", -1);
	fake_settle(f);
	assert_string_equal(call_what(f, 4), "GET http://stub.example/rate/y?s=T2");
	fake_answer_http(f, 4, 200, "clean", -1);
	assert_int_equal(y->result.status, LOOKUP_CLEAN);

	struct batch *bz = ask(f, cfg, &z, in, "z");
	fake_answer_http(f, 5, 200, "invalid-session", -1);
	fake_settle(f);
	fake_answer_http(f, 6, 200, "token:T3", -1);
	fake_settle(f);
	assert_string_equal(call_what(f, 7), "GET http://stub.example/rate/z?s=T3");
	fake_answer_http(f, 7, 200, "invalid-session", -1);
	fake_settle(f);
	assert_int_equal(f->calls->len, 8);	/* no third login */
	assert_int_equal(z->result.status, LOOKUP_ERROR);
	assert_int_equal(z->result.error, LOOKUP_ERR_AUTH);
	engine_batch_release(f->engine, bx);
	engine_batch_release(f->engine, by);
	engine_batch_release(f->engine, bz);
	stub_lookup_free(x);
	stub_lookup_free(y);
	stub_lookup_free(z);
}

/* A refused login: the waiting lookups end as error/auth. */
static void test_session_login_refused(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;

	struct lookup *x, *y;

	struct batch *bx = ask(f, cfg, &x, in, "x");
	struct batch *by = ask(f, cfg, &y, in, "y");
	assert_int_equal(f->calls->len, 1);	/* one login for both */
	fake_answer_http(f, 0, 401, "", -1);
	fake_settle(f);
	assert_int_equal(x->result.status, LOOKUP_ERROR);
	assert_int_equal(x->result.error, LOOKUP_ERR_AUTH);
	assert_int_equal(y->result.error, LOOKUP_ERR_AUTH);
	assert_non_null(strstr(x->result.details, "login failed"));
	engine_batch_release(f->engine, bx);
	engine_batch_release(f->engine, by);
	stub_lookup_free(x);
	stub_lookup_free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_job_pending_then_verdict_from_cache, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_job_identical_submissions_joined, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_job_timeout_is_an_error, job_env, env_down),
		cmocka_unit_test(test_job_survives_reload),
		cmocka_unit_test_setup_teardown(test_job_poll_follows_poll_interval, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_job_poll_interval_above_cap_and_hint, job_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_job_poll_refused_by_ratelimit_keeps_job, job_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_job_poll_answered_429_keeps_job, job_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_job_poll_in_provider_pause_keeps_job, job_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_session_login_reuse_and_relogin, session_env, env_down),
		cmocka_unit_test_setup_teardown(test_session_login_refused, session_env, env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
