/* test_vmray_jobs.c: VMRay jobs through the engine on the fake transport
 * and clock (engine_fake.h, as test_engine_jobs.c): a URL submission gets
 * pending, polls with the document's back-off (PollInterval's 5 s, then
 * 10 s) or the integration's own PollInterval, its verdict goes into
 * the cache; a hash without a sample costs one request and no
 * upload; a job that never finishes ends as error/timeout after 10 min;
 * a refused key, 429 on submit and a failed analysis are errors, never
 * clean; a poll failing for the moment (5xx, no JSON) does not end the
 * job; a hash VMRay still analyses (not_available) is pending and polled,
 * never a cached unknown. Answers are the fixtures of
 * tests/mock/fixtures/vmray.json. */
#include <autoconfig.h>
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
#include "provider_test_util.h"

#define ROOT "http://stub.example"
#define H_MAL "8fb5c7a88058fad398dfe290f3821a3983a608abe6b3aa11bb22cc33dd44ee55"
#define H_NEW "4040000000000000000000000000000000000000000000000000000000000000"
#define URL "http://phish.example.net/login"
#define SUBMIT "POST " ROOT "/rest/sample/submit"
#define POLL "GET " ROOT "/rest/submission/5551001"

static int vmray_env(void **state)
{
	env_up(state, "stubjob", "vmray");
	struct env *e = *state;

	stub_set_type(e->in, "vmray");
	e->in->api_key = g_strdup("test-vmray-key");
	return 0;
}

/* Answers call index with the fixture ref (its status and body). */
static void answer(struct fake *f, unsigned index, const char *ref, long retry_after_s)
{
	long status;
	char *body = pt_fixture("vmray", ref, NULL, &status);

	fake_answer_http(f, index, status, body, retry_after_s);
	g_free(body);
	fake_settle(f);
}

static unsigned count_calls(struct fake *f, const char *what)
{
	unsigned n = 0;

	for (guint i = 0; i < f->calls->len; i++)
		n += strcmp(call_what(f, i), what) == 0;
	return n;
}

/* Every request the job makes for up to max_s seconds is answered with
 * ref, until the job has ended (no flight left). */
static void answer_until_ended(struct fake *f, const char *ref, int max_s)
{
	for (int s = 0; s < max_s && g_hash_table_size(f->engine->flights) > 0; s++) {
		fake_advance(f, 1000);
		while (fake_open_calls(f) > 0)
			answer(f, f->calls->len - 1, ref, -1);
	}
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
}

/* A message with URL: submitted, pending; the job polls on. */
static struct lookup *submit_url(struct env *e)
{
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, URL);
	unsigned first = f->calls->len;
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	assert_string_equal(call_what(f, first), SUBMIT);
	answer(f, first, "bodies.submit_url", -1);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	return l;
}

static void test_url_submission_pending_polls_then_cache(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = submit_url(e);

	/* the first poll after 5 s (vmray.md §4) */
	fake_advance(f, 4999);
	assert_int_equal(f->calls->len, 1);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, 2);
	assert_string_equal(call_what(f, 1), POLL);
	answer(f, 1, "bodies.pending", -1);
	/* then 10 s (the back-off's cap) */
	fake_advance(f, 9999);
	assert_int_equal(f->calls->len, 2);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, 3);
	answer(f, 2, "bodies.finished", -1);
	/* finished: the sample's verdict at once */
	assert_int_equal(f->calls->len, 4);
	assert_string_equal(call_what(f, 3), "GET " ROOT "/rest/sample/7297001");
	answer(f, 3, "bodies.sample_url_suspicious", -1);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_SUSPICIOUS);

	/* the next message with the URL: the cache, no request */
	struct lookup *again = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(again->result.status, LOOKUP_SUSPICIOUS);
	assert_true(again->result.cached);
	assert_string_equal(again->result.details, "suspicious, score 46");
	engine_batch_release(f->engine, b);
	assert_int_equal(f->calls->len, 4);
	assert_int_equal(count_calls(f, SUBMIT), 1);
	stub_lookup_free(l);
	stub_lookup_free(again);
}

/* An administrator's PollInterval of 20 s (above VMRay's 10 s cap):
 * every poll 20 s apart, not the type's 5 s. */
static void test_poll_follows_poll_interval(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;

	e->in->poll_interval_ms = 20000;
	struct lookup *l = submit_url(e);

	for (unsigned i = 1; i <= 2; i++) {
		fake_advance(f, 19999);
		assert_int_equal(f->calls->len, i);
		fake_advance(f, 1);
		assert_int_equal(f->calls->len, i + 1);
		assert_string_equal(call_what(f, i), POLL);
		answer(f, i, "bodies.pending", -1);
	}
	stub_lookup_free(l);
}

/* Two messages with the same URL while it runs: one submission. */
static void test_identical_submissions_joined(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = submit_url(e);
	struct lookup *b2 = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &b2, 1, 5000);

	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(b2->result.status, LOOKUP_PENDING);
	assert_int_equal(count_calls(f, SUBMIT), 1);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
	stub_lookup_free(b2);
}

/* A hash without a sample (upload not allowed): the hash lookup only. */
static void test_hash_without_sample_never_uploads(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, H_NEW);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	assert_int_equal(f->calls->len, 1);
	assert_string_equal(call_what(f, 0), "GET " ROOT "/rest/sample/sha256/" H_NEW);
	answer(f, 0, "bodies.search_unknown", -1);
	fake_advance(f, 60000);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_UNKNOWN);
	assert_int_equal(f->calls->len, 1);
	assert_int_equal(count_calls(f, SUBMIT), 0);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
}

static void test_hash_malicious_one_request(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, H_MAL);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	answer(f, 0, "bodies.search_malicious", -1);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_MALICIOUS);
	assert_string_equal(l->result.details, "malicious, score 80, Trojan.Generic");
	assert_int_equal(f->calls->len, 1);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
}

/* A submission whose every poll is answered ref until JobTimeout (10
 * min): error/timeout, never clean, no alert, polled every 10 s
 * meanwhile (5 s first; after 5xx as the breaker lets it), nothing
 * cached: the next message is not answered from the cache. */
static void job_times_out(void **state, const char *ref)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = submit_url(e);

	answer_until_ended(f, ref, 700);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	assert_int_equal(f->alerts, 0);
	if (strcmp(ref, "errors.503") == 0)	/* the open breaker spaces them out */
		assert_in_range(count_calls(f, POLL), 6, 124);
	else
		assert_in_range(count_calls(f, POLL), 55, 62);
	/* (after the 5xx the breaker is open: the next message is not even
	 * sent; after pending answers its URL is submitted again) */
	struct lookup *again = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &again, 1, 5000);
	fake_advance(f, 5000);
	assert_true(engine_batch_done(f->engine, b));
	assert_false(again->result.cached);
	assert_true(again->result.status == LOOKUP_ERROR ||
		    again->result.status == LOOKUP_RATE_LIMITED);
	engine_batch_release(f->engine, b);
	stub_lookup_free(again);
	stub_lookup_free(l);
}

static void test_job_timeout_is_an_error(void **state)
{
	job_times_out(state, "bodies.pending");
}

/* Polls failing (5xx) until JobTimeout: the job polls on, then ends as
 * for any JobTimeout. */
static void test_polls_failing_until_timeout_is_an_error(void **state)
{
	job_times_out(state, "errors.503");
}

/* Ends the one lookup of URL with the answer ref to its submission. */
static struct lookup *submit_answered(struct env *e, const char *ref, long retry_after_s)
{
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(e->f, e->cfg, &l, 1, 5000);

	answer(e->f, 0, ref, retry_after_s);
	assert_true(engine_batch_done(e->f->engine, b));
	engine_batch_release(e->f->engine, b);
	return l;
}

static void test_bad_key_is_an_auth_error(void **state)
{
	struct env *e = *state;
	struct lookup *l = submit_answered(e, "errors.wrong_key", -1);

	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_AUTH);
	assert_non_null(strstr(l->result.details, "HTTP 401"));
	fake_advance(e->f, 60000);
	assert_int_equal(e->f->calls->len, 1);		/* no poll, no retry */
	stub_lookup_free(l);
}

static void test_429_on_submit_is_rate_limited(void **state)
{
	struct env *e = *state;
	struct lookup *l = submit_answered(e, "errors.ratelimit", 30);

	assert_int_equal(l->result.status, LOOKUP_RATE_LIMITED);
	assert_int_equal(l->result.error, LOOKUP_ERR_QUOTA);
	fake_advance(e->f, 60000);
	assert_int_equal(e->f->calls->len, 1);
	stub_lookup_free(l);
}

static void test_quota_on_submit_is_rate_limited(void **state)
{
	struct env *e = *state;
	struct lookup *l = submit_answered(e, "bodies.submit_quota_errors", -1);

	assert_int_equal(l->result.status, LOOKUP_RATE_LIMITED);
	assert_int_equal(l->result.error, LOOKUP_ERR_QUOTA);
	stub_lookup_free(l);
}

/* A submit answer without a submission id is not sent again: the file
 * (or URL) may have been taken, a retry would submit it twice. */
static void test_submit_without_id_is_sent_once(void **state)
{
	struct env *e = *state;
	struct lookup *l = submit_answered(e, "bodies.submit_no_id", -1);

	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_MALFORMED);
	fake_advance(e->f, 60000);
	assert_int_equal(count_calls(e->f, SUBMIT), 1);
	assert_int_equal(e->f->calls->len, 1);
	stub_lookup_free(l);
}

/* 5xx while polling (the engine's one retry failed too), or a body that
 * is no JSON: VMRay's analysis goes on, so does the job (defect: the job
 * ended as error, the next message's hash lookup found the sample
 * not_available and cached unknown for an hour; the verdict and the
 * after-delivery alert of the message that got pending were lost). */
static void poll_fails_then_verdict(void **state, const char *fault_ref)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, URL);
	struct engine_message msg = { .queue_id = "4QpollFail1", .message_id = "<m0@example.test>" };
	struct batch *b = engine_submit_message(f->engine, e->cfg, &l, 1, f->now_ms + 5000, &msg);

	fake_settle(f);
	answer(f, 0, "bodies.submit_url", -1);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	fake_advance(f, 5000);
	assert_string_equal(call_what(f, 1), POLL);
	answer(f, 1, fault_ref, -1);
	assert_int_equal(f->calls->len, 3);		/* the engine's retry */
	assert_string_equal(call_what(f, 2), POLL);
	answer(f, 2, fault_ref, -1);
	assert_int_equal(f->jobs_finished, 0);		/* the job goes on */
	assert_int_equal(g_hash_table_size(f->engine->flights), 1);

	/* a message meanwhile joins the job: pending, no request */
	fake_expect_pending(f, e->cfg, e->in, INDICATOR_URL, URL);

	/* the next poll on the schedule (10 s), then the verdict */
	fake_advance(f, 10000);
	assert_int_equal(f->calls->len, 4);
	assert_string_equal(call_what(f, 3), POLL);
	answer(f, 3, "bodies.finished", -1);
	assert_string_equal(call_what(f, 4), "GET " ROOT "/rest/sample/7297001");
	answer(f, 4, "templates.sample_answer+verdicts.malicious", -1);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);
	assert_int_equal(f->alerts, 1);
	assert_string_equal(f->last_alert_queue_id, "4QpollFail1");
	fake_expect_cached(f, e->cfg, e->in, INDICATOR_URL, URL, LOOKUP_MALICIOUS);
	stub_lookup_free(l);
}

static void test_5xx_while_polling_keeps_the_job(void **state)
{
	poll_fails_then_verdict(state, "errors.503");
}

static void test_malformed_poll_keeps_the_job(void **state)
{
	poll_fails_then_verdict(state, "bodies.no_envelope");
}

/* Defect (reviewer F2, JobTimeout variant): our upload's job ended on
 * JobTimeout while VMRay still analysed the file; the next message's
 * hash lookup found it not_available and cached "unknown" for an hour,
 * so the malicious verdict never reached a message, nor the alert the
 * first one. Now the sample being analysed is pending and polled; its
 * verdict is cached and reaches the messages after it, and the first
 * message's after-delivery alert comes with it. */
static void test_verdict_after_job_timeout_reaches_later_message(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	const char *search = "GET " ROOT "/rest/sample/sha256/" H_NEW;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, H_NEW);

	struct engine_message msg = { .queue_id = "4QtimedOut1", .message_id = "<m0@example.test>" };

	e->in->job_timeout_ms = 60000;
	l->sample = sample_new("a.exe", H_NEW, true, "MZ\x90\0malicious", 13);
	struct batch *b = engine_submit_message(f->engine, e->cfg, &l, 1, f->now_ms + 5000, &msg);
	fake_settle(f);
	answer(f, 0, "bodies.search_unknown", -1);
	assert_string_equal(call_what(f, 1), SUBMIT);
	answer(f, 1, "bodies.submit_url", -1);
	assert_true(engine_batch_done(f->engine, b));
	engine_batch_release(f->engine, b);
	answer_until_ended(f, "bodies.pending", 120);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);	/* JobTimeout */

	/* the next message: VMRay has the sample, its analysis still runs */
	struct lookup *l2 = stub_lookup(e->in, INDICATOR_HASH, H_NEW);
	struct batch *b2 = fake_submit(f, e->cfg, &l2, 1, 5000);
	unsigned n = f->calls->len;
	assert_string_equal(call_what(f, n - 1), search);
	answer(f, n - 1, "bodies.search_not_available", -1);
	assert_true(engine_batch_done(f->engine, b2));
	assert_int_equal(l2->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b2);

	/* a third message: no cached unknown, it joins the wait */
	fake_expect_pending(f, e->cfg, e->in, INDICATOR_HASH, H_NEW);

	/* the sample polled on VMRay's schedule until it has its verdict */
	fake_advance(f, 5000);
	assert_int_equal(f->calls->len, n + 1);
	assert_string_equal(call_what(f, n), "GET " ROOT "/rest/sample/7297009");
	answer(f, n, "bodies.sample_not_available", -1);
	fake_advance(f, 10000);
	assert_int_equal(f->calls->len, n + 2);
	assert_int_equal(f->alerts, 0);
	answer(f, n + 1, "templates.sample_answer+verdicts.malicious", -1);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);
	assert_int_equal(count_calls(f, SUBMIT), 1);		/* never uploaded again */
	/* the message that got pending from the job that timed out too */
	assert_int_equal(f->alerts, 1);
	assert_string_equal(f->last_alert_queue_id, "4QtimedOut1");
	fake_expect_cached(f, e->cfg, e->in, INDICATOR_HASH, H_NEW, LOOKUP_MALICIOUS);
	sample_unref(l->sample);
	stub_lookup_free(l);
	stub_lookup_free(l2);
}

/* A failed analysis: finished with errors and no verdict. */
static void test_failed_analysis_is_an_error(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = submit_url(e);

	fake_advance(f, 5000);
	answer(f, 1, "bodies.finished_errors", -1);
	assert_string_equal(call_what(f, 2), "GET " ROOT "/rest/sample/7297001");
	answer(f, 2, "bodies.sample_not_available", -1);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	struct lookup *again = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_string_equal(call_what(f, f->calls->len - 1), SUBMIT);	/* not cached */
	engine_batch_release(f->engine, b);
	stub_lookup_free(again);
	stub_lookup_free(l);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, vmray_env, env_down)
	const struct CMUnitTest tests[] = {
		T(test_url_submission_pending_polls_then_cache),
		T(test_identical_submissions_joined),
		T(test_hash_without_sample_never_uploads),
		T(test_hash_malicious_one_request),
		T(test_job_timeout_is_an_error),
		T(test_bad_key_is_an_auth_error),
		T(test_poll_follows_poll_interval),
		T(test_429_on_submit_is_rate_limited),
		T(test_quota_on_submit_is_rate_limited),
		T(test_submit_without_id_is_sent_once),
		T(test_5xx_while_polling_keeps_the_job),
		T(test_malformed_poll_keeps_the_job),
		T(test_polls_failing_until_timeout_is_an_error),
		T(test_verdict_after_job_timeout_reaches_later_message),
		T(test_failed_analysis_is_an_error),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
