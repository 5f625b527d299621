/* test_engine_uploads.c: the attachment bytes, SandboxWait and the
 * after-the-fact alert of a job (issue 12) through the fake engine's
 * stub sandbox ("stubjob": GET /hash, POST /submit, GET /job/<id>):
 *   - the flight holds the sample until the job is submitted, then lets
 *     go of it; a message that joins a job created without the bytes
 *     brings them;
 *   - SandboxWait: the message waits for the verdict up to it, never
 *     beyond, and gets pending then; a verdict before it ends is the
 *     message's; ReportSandboxWait replaces it for an abuse mailbox;
 *   - a message that got pending is named (queue id, Message-ID) when the
 *     job ends malicious, once; not when it ends clean, nor when the
 *     message was not delivered (rejected). */
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

#define HASH "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

static int job_env(void **state)
{
	return env_up(state, "stubjob", "sandbox");
}

static struct flight *the_flight(struct fake *f)
{
	GList *all = g_hash_table_get_values(f->engine->flights);
	struct flight *flight = all != NULL ? all->data : NULL;

	assert_int_equal(g_list_length(all), 1);
	g_list_free(all);
	return flight;
}

/* lp: the caller's variable (the engine writes through the array until
 * the batch is released) */
static struct batch *submit_msg(struct fake *f, struct tm_config *cfg, struct lookup **lp,
				int64_t deadline_ms, const char *queue_id, bool report)
{
	struct engine_message msg = { .queue_id = queue_id, .message_id = "<m1@example.test>",
				      .report = report };

	return engine_submit_message(f->engine, cfg, lp, 1, f->now_ms + deadline_ms, &msg);
}

/* hash unknown, then the upload, answered with job id J1 */
static void hash_unknown_then_submitted(struct fake *f, unsigned first)
{
	fake_settle(f);
	assert_string_equal(call_what(f, first), "GET http://stub.example/hash/" HASH);
	fake_answer_http(f, first, 200, "unknown", -1);
	fake_settle(f);
	assert_string_equal(call_what(f, first + 1), "POST http://stub.example/submit");
	fake_answer_http(f, first + 1, 200, "id:J1", -1);
	fake_settle(f);
}

static void test_sample_held_until_submitted(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);

	l->sample = sample_new("a.exe", HASH, true, "MZ", 2);
	struct batch *b = submit_msg(f, e->cfg, &l, 5000, NULL, false);

	fake_settle(f);
	assert_non_null(the_flight(f)->work.sample);
	fake_answer_http(f, 0, 200, "unknown", -1);
	fake_settle(f);
	/* the upload step is out: the bytes are still needed */
	assert_non_null(the_flight(f)->work.sample);
	fake_answer_http(f, 1, 200, "id:J1", -1);
	fake_settle(f);
	/* submitted: the job polls on without the bytes */
	assert_null(the_flight(f)->work.sample);
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	sample_unref(l->sample);
	stub_lookup_free(l);
}

static void test_join_brings_the_sample(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *bare = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct lookup *with = stub_lookup(e->in, INDICATOR_HASH, HASH);

	with->sample = sample_new("a.exe", HASH, true, "MZ", 2);
	struct batch *b1 = submit_msg(f, e->cfg, &bare, 5000, NULL, false);
	fake_settle(f);
	assert_null(the_flight(f)->work.sample);
	struct batch *b2 = submit_msg(f, e->cfg, &with, 5000, NULL, false);
	fake_settle(f);
	assert_non_null(the_flight(f)->work.sample);
	assert_int_equal(f->calls->len, 1);	/* joined: one hash request */
	engine_batch_release(f->engine, b1);
	engine_batch_release(f->engine, b2);
	sample_unref(with->sample);
	stub_lookup_free(bare);
	stub_lookup_free(with);
}

static void test_sandbox_wait_then_pending(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	int64_t start = f->now_ms;

	e->in->sandbox_wait_ms = 30000;
	struct batch *b = submit_msg(f, e->cfg, &l, 60000, NULL, false);

	hash_unknown_then_submitted(f, 0);
	assert_false(engine_batch_done(f->engine, b));	/* waits for the verdict */
	fake_advance(f, 10000);				/* the poll (hint 10 s) */
	assert_int_equal(f->calls->len, 3);
	fake_answer_http(f, 2, 200, "running", -1);
	fake_advance(f, 19999 - (f->now_ms - start - 10000));
	assert_false(engine_batch_done(f->engine, b));
	f->now_ms = start + 29999;
	fake_advance(f, 0);
	assert_false(engine_batch_done(f->engine, b));
	fake_advance(f, 1);				/* SandboxWait is over */
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
}

static void test_sandbox_wait_gets_the_verdict(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);

	e->in->sandbox_wait_ms = 30000;
	struct batch *b = submit_msg(f, e->cfg, &l, 60000, "QW1", false);

	hash_unknown_then_submitted(f, 0);
	fake_advance(f, 10000);
	fake_answer_http(f, 2, 200, "malicious", -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_MALICIOUS);
	/* it waited and was judged with the verdict: no alert after the fact */
	assert_int_equal(f->alerts, 0);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
}

static void test_sandbox_wait_bounded_by_deadline(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);

	e->in->sandbox_wait_ms = 600000;
	struct batch *b = submit_msg(f, e->cfg, &l, 8000, NULL, false);

	hash_unknown_then_submitted(f, 0);
	fake_advance(f, 7999);
	assert_false(engine_batch_done(f->engine, b));
	fake_advance(f, 1);				/* ScanDeadline first */
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
}

static void test_report_sandbox_wait(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct lookup *inline_l = stub_lookup(e->in, INDICATOR_HASH, HASH);

	e->in->sandbox_wait_ms = 0;
	e->cfg->report_sandbox_wait_s = 20;
	struct batch *b = submit_msg(f, e->cfg, &l, 60000, NULL, true);
	struct batch *bi = submit_msg(f, e->cfg, &inline_l, 60000, NULL, false);

	hash_unknown_then_submitted(f, 0);
	/* the inline message does not wait; the reported one does */
	assert_true(engine_batch_done(f->engine, bi));
	assert_int_equal(inline_l->result.status, LOOKUP_PENDING);
	assert_false(engine_batch_done(f->engine, b));
	fake_advance(f, 10000);
	fake_answer_http(f, 2, 200, "malicious", -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_MALICIOUS);
	engine_batch_release(f->engine, b);
	engine_batch_release(f->engine, bi);
	stub_lookup_free(l);
	stub_lookup_free(inline_l);
}

static void finish_job(struct fake *f, const char *verdict)
{
	fake_advance(f, 10000);
	assert_string_equal(call_what(f, 2), "GET http://stub.example/job/J1");
	fake_answer_http(f, 2, 200, verdict, -1);
	fake_settle(f);
}

static void test_alert_after_the_fact(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct batch *b = submit_msg(f, e->cfg, &l, 5000, "4QfXyZ1abc", false);

	hash_unknown_then_submitted(f, 0);
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	assert_int_equal(f->alerts, 0);
	finish_job(f, "malicious");
	assert_int_equal(f->alerts, 1);
	assert_string_equal(f->last_alert_queue_id, "4QfXyZ1abc");
	assert_string_equal(f->last_alert_message_id, "<m1@example.test>");
	stub_lookup_free(l);
}

static void test_no_alert_when_clean(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct batch *b = submit_msg(f, e->cfg, &l, 5000, "4QfXyZ1abc", false);

	hash_unknown_then_submitted(f, 0);
	engine_batch_release(f->engine, b);
	finish_job(f, "clean");
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->alerts, 0);
	stub_lookup_free(l);
}

static void test_no_alert_when_not_delivered(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct lookup *l2 = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct batch *b = submit_msg(f, e->cfg, &l, 5000, "QREJECTED", false);

	hash_unknown_then_submitted(f, 0);
	engine_batch_release(f->engine, b);
	/* the message was rejected for something else: nothing delivered */
	engine_message_not_delivered(f->engine, "QREJECTED");
	struct batch *b2 = submit_msg(f, e->cfg, &l2, 5000, "QDELIVERED", false);
	fake_settle(f);
	engine_batch_release(f->engine, b2);
	finish_job(f, "malicious");
	assert_int_equal(f->alerts, 1);
	assert_string_equal(f->last_alert_queue_id, "QDELIVERED");
	stub_lookup_free(l);
	stub_lookup_free(l2);
}

static void test_no_alert_without_queue_id(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct batch *b = submit_msg(f, e->cfg, &l, 5000, NULL, false);

	hash_unknown_then_submitted(f, 0);
	engine_batch_release(f->engine, b);
	finish_job(f, "malicious");
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->alerts, 0);
	stub_lookup_free(l);
}

/* JobTimeout of the integration, not the provider's 600 s */
static void test_job_timeout_from_integration(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	int64_t start = f->now_ms;

	e->in->job_timeout_ms = 30000;
	struct batch *b = submit_msg(f, e->cfg, &l, 5000, NULL, false);

	hash_unknown_then_submitted(f, 0);
	engine_batch_release(f->engine, b);
	while (f->jobs_finished == 0 && f->now_ms - start < 120000) {
		fake_advance(f, 1000);
		for (unsigned c = 0; c < f->calls->len; c++) {
			struct fake_call *call = g_ptr_array_index(f->calls, c);

			if (!call->answered && !call->cancelled)
				fake_answer_http(f, c, 200, "running", -1);
		}
		fake_settle(f);
	}
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	assert_true(f->now_ms - start <= 31000);
	stub_lookup_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sample_held_until_submitted, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_join_brings_the_sample, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_sandbox_wait_then_pending, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_sandbox_wait_gets_the_verdict, job_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_sandbox_wait_bounded_by_deadline, job_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_report_sandbox_wait, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_alert_after_the_fact, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_no_alert_when_clean, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_no_alert_when_not_delivered, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_no_alert_without_queue_id, job_env, env_down),
		cmocka_unit_test_setup_teardown(test_job_timeout_from_integration, job_env,
						env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
