/* test_provider_cyberxray_jobs.c: Cyber X-Ray's pending answers polled
 * as a job (cyberxray.c; ../shared/providers/cyber-xray.md §4) through
 * the engine on the fake transport and clock (engine_fake.h): 202, 202,
 * then malicious -> the message got pending, the verdict goes into the
 * cache and the next message is judged with no request; a host that
 * stays "processing" -> error/timeout after 10 min, never clean, not
 * cached; a 202's Retry-After; a 200 with a pending status; a verdict at
 * once is no job. The answers are the fixtures of
 * tests/mock/fixtures/cyberxray.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "engine_fake.h"
#include "engine/engine_internal.h"
#include "provider_test_util.h"
#include "providers/registry.h"

#define CX_KEY "cx-test-key-0123456789"
#define HOST "new.example.org"
#define URL "http://" HOST "/landing?id=7"
#define ASK "GET http://stub.example/api/query/" HOST

static int cyberxray_env(void **state)
{
	struct env *e;

	env_up(state, "stubhttp", "cyberxray");
	e = *state;
	stub_set_type(e->in, "cyberxray");
	g_free(e->in->api_url);
	e->in->api_url = g_strdup("http://stub.example/api/query/");
	e->in->api_key = g_strdup(CX_KEY);
	return 0;
}

/* Answers call index with a fixture of cyberxray.json. */
static void answer(struct fake *f, unsigned index, const char *ref, long retry_after_s)
{
	cJSON *values = cJSON_CreateObject();
	long status;
	char *body;

	cJSON_AddStringToObject(values, "indicator", HOST);
	body = pt_fixture("cyberxray", ref, values, &status);
	fake_answer_http(f, index, status, body, retry_after_s);
	g_free(body);
	cJSON_Delete(values);
}

/* The n-th call (0-based) comes after ms more, not before. */
static void expect_call_after(struct fake *f, unsigned n, int64_t ms)
{
	fake_advance(f, ms - 1);
	assert_int_equal(f->calls->len, n);
	fake_advance(f, 1);
	assert_int_equal(f->calls->len, n + 1);
	assert_string_equal(call_what(f, n), ASK);
}

/* A message with URL whose first answer is ref; returns its lookup. */
static struct lookup *first_message(struct env *e, const char *ref, long retry_after_s)
{
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(e->f, e->cfg, &l, 1, 5000);

	assert_int_equal(e->f->calls->len, 1);
	assert_string_equal(call_what(e->f, 0), ASK);
	answer(e->f, 0, ref, retry_after_s);
	fake_settle(e->f);
	assert_true(engine_batch_done(e->f->engine, b));
	engine_batch_release(e->f->engine, b);
	return l;
}

/* The next message with URL: from the cache, no request. */
static void assert_cached(struct env *e, enum lookup_status status)
{
	unsigned before = e->f->calls->len;
	struct lookup *again = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(e->f, e->cfg, &again, 1, 5000);

	assert_true(engine_batch_done(e->f->engine, b));
	assert_int_equal(again->result.status, status);
	assert_true(again->result.cached);
	engine_batch_release(e->f->engine, b);
	fake_settle(e->f);
	assert_int_equal(e->f->calls->len, before);
	stub_lookup_free(again);
}

static void test_processing_polled_then_cached(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = first_message(e, "bodies.processing", -1);

	assert_int_equal(l->result.status, LOOKUP_PENDING);
	expect_call_after(f, 1, 10000);		/* 10 s, doubling */
	answer(f, 1, "bodies.processing", -1);
	expect_call_after(f, 2, 20000);
	answer(f, 2, "templates.domain+verdicts.malicious", -1);
	fake_settle(f);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	assert_cached(e, LOOKUP_MALICIOUS);
	/* no poll after the verdict */
	fake_advance(f, 120000);
	assert_int_equal(f->calls->len, 3);
	stub_lookup_free(l);
}

/* A host that never leaves "processing": error/timeout after 10 min,
 * never clean, and not cached: the next message asks again. */
static void test_endless_processing_times_out(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	int64_t t0 = f->now_ms;
	struct lookup *l = first_message(e, "bodies.processing", -1);

	for (int s = 0; s < 900 && g_hash_table_size(f->engine->flights) > 0; s++) {
		fake_advance(f, 1000);
		if (fake_open_calls(f) > 0)
			answer(f, f->calls->len - 1, "bodies.processing", -1);
	}
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	assert_true(f->now_ms - t0 >= 600000 && f->now_ms - t0 <= 601000);
	/* 0, 10, 30, 70 s, then every 60 s up to 600 s: 12 or 13 */
	assert_true(f->calls->len >= 12 && f->calls->len <= 13);

	unsigned before = f->calls->len;
	struct lookup *again = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_int_equal(f->calls->len, before + 1);
	assert_string_equal(call_what(f, before), ASK);
	engine_batch_release(f->engine, b);
	stub_lookup_free(again);
	stub_lookup_free(l);
}

/* A 202 with Retry-After: the next poll then, capped at 60 s. */
static void test_retry_after_sets_the_poll(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = first_message(e, "bodies.processing", 30);

	expect_call_after(f, 1, 30000);
	answer(f, 1, "bodies.processing", 600);
	expect_call_after(f, 2, 60000);
	answer(f, 2, "templates.domain+verdicts.clean", -1);
	fake_settle(f);
	assert_cached(e, LOOKUP_CLEAN);
	stub_lookup_free(l);
}

/* A 200 whose status says "queued" is pending too: polled. */
static void test_queued_status_is_polled(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, URL);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	fake_answer_http(f, 0, 200, "{\"domain\":\"" HOST "\",\"status\":\"queued\"}", -1);
	fake_settle(f);
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	expect_call_after(f, 1, 10000);
	answer(f, 1, "templates.domain+verdicts.suspicious", -1);
	fake_settle(f);
	assert_cached(e, LOOKUP_SUSPICIOUS);
	stub_lookup_free(l);
}

/* A verdict in the first answer: the message gets it, nothing polled. */
static void test_verdict_at_once_is_no_job(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = first_message(e, "templates.domain+verdicts.malicious", -1);

	assert_int_equal(l->result.status, LOOKUP_MALICIOUS);
	assert_false(l->result.cached);
	fake_advance(f, 120000);
	assert_int_equal(f->calls->len, 1);
	assert_cached(e, LOOKUP_MALICIOUS);
	stub_lookup_free(l);
}

/* A refused key while polling ends the job as error/auth, not cached. */
static void test_bad_key_while_polling(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = first_message(e, "bodies.processing", -1);

	expect_call_after(f, 1, 10000);
	answer(f, 1, "errors.wrong_key", -1);
	fake_settle(f);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	fake_advance(f, 120000);
	assert_int_equal(f->calls->len, 2);
	stub_lookup_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_processing_polled_then_cached,
						cyberxray_env, env_down),
		cmocka_unit_test_setup_teardown(test_endless_processing_times_out,
						cyberxray_env, env_down),
		cmocka_unit_test_setup_teardown(test_retry_after_sets_the_poll,
						cyberxray_env, env_down),
		cmocka_unit_test_setup_teardown(test_queued_status_is_polled,
						cyberxray_env, env_down),
		cmocka_unit_test_setup_teardown(test_verdict_at_once_is_no_job,
						cyberxray_env, env_down),
		cmocka_unit_test_setup_teardown(test_bad_key_while_polling,
						cyberxray_env, env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
