/* test_engine_metrics.c: the engine's metric call sites (metrics/catalog.h)
 * through the fake transport and clock of engine_fake.c: requests by
 * result and their latency, MaxInFlight queue waits and requests in
 * flight, the breaker's state and errors by kind after a refused key,
 * RateLimit refusals, and a sandbox job's submitted/pending/finished. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "engine_fake.h"
#include "engine/engine_internal.h"
#include "metrics/catalog.h"

#define HASH "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

/* The environment with metrics: set before the first lookup, so that the
 * integration's series are resolved when its state is made. */
static struct tm_metrics *with_metrics(struct env *e)
{
	struct tm_metrics *m = tm_metrics_new("test");

	e->f->engine->options.metrics = m;
	return m;
}

static void assert_line(struct tm_metrics *m, const char *line)
{
	char *text = metrics_render(tm_metrics_registry(m));

	if (strstr(text, line) == NULL)
		fail_msg("no line \"%s\" in:\n%s", line, text);
	g_free(text);
}

static int http_env(void **state)
{
	return env_up(state, "stubhttp", "stub");
}

static int job_env(void **state)
{
	return env_up(state, "stubjob", "sandbox");
}

static void test_requests_in_flight_and_queue_waits(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct tm_metrics *m = with_metrics(e);
	struct lookup *l[3] = {
		stub_lookup(e->in, INDICATOR_URL, "http://a.example/"),
		stub_lookup(e->in, INDICATOR_URL, "http://b.example/"),
		stub_lookup(e->in, INDICATOR_URL, "http://c.example/"),
	};

	e->in->max_in_flight = 1;
	struct batch *b = fake_submit(f, e->cfg, l, 3, 5000);
	assert_int_equal(f->calls->len, 1);
	assert_line(m, "threatmilter_provider_in_flight{integration=\"stub\"} 1\n");
	/* the two others waited behind MaxInFlight 1 */
	assert_line(m, "threatmilter_provider_queue_waits_total{integration=\"stub\"} 2\n");
	fake_advance(f, 30);	/* 30 ms: the first latency bucket above 25 ms */
	for (unsigned i = 0; i < 3; i++) {
		fake_answer_http(f, i, 200, i == 1 ? "malicious" : "clean", -1);
		fake_settle(f);
	}
	assert_true(engine_batch_done(f->engine, b));
	engine_batch_release(f->engine, b);
	assert_line(m, "threatmilter_provider_requests_total{integration=\"stub\","
		    "result=\"answered\"} 3\n");
	assert_line(m, "threatmilter_provider_request_duration_seconds_bucket{"
		    "integration=\"stub\",le=\"0.025\"} 2\n");
	assert_line(m, "threatmilter_provider_request_duration_seconds_count{"
		    "integration=\"stub\"} 3\n");
	assert_line(m, "threatmilter_provider_in_flight{integration=\"stub\"} 0\n");
	assert_line(m, "threatmilter_cache_lookups_total{integration=\"stub\",backend=\"memory\","
		    "result=\"miss\"} 3\n");
	for (int i = 0; i < 3; i++)
		stub_lookup_free(l[i]);
	tm_metrics_free(m);
}

/* A refused key pauses the integration: the breaker shows open, the
 * next lookup is not sent and counts as error "paused". */
static void test_auth_opens_the_breaker(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct tm_metrics *m = with_metrics(e);
	struct lookup *first = stub_lookup(e->in, INDICATOR_URL, "http://a.example/");
	struct lookup *second = stub_lookup(e->in, INDICATOR_URL, "http://b.example/");

	struct batch *b = fake_submit(f, e->cfg, &first, 1, 5000);
	assert_line(m, "threatmilter_provider_breaker_state{integration=\"stub\"} 0\n");
	fake_answer_http(f, 0, 401, "", -1);
	fake_settle(f);
	engine_batch_release(f->engine, b);
	assert_line(m, "threatmilter_provider_requests_total{integration=\"stub\","
		    "result=\"auth\"} 1\n");
	assert_line(m, "threatmilter_provider_errors_total{integration=\"stub\",error=\"auth\"} 1\n");
	assert_line(m, "threatmilter_provider_breaker_state{integration=\"stub\"} 2\n");
	b = fake_submit(f, e->cfg, &second, 1, 5000);
	fake_settle(f);
	assert_int_equal(f->calls->len, 1);	/* not sent */
	engine_batch_release(f->engine, b);
	assert_line(m, "threatmilter_provider_errors_total{integration=\"stub\","
		    "error=\"paused\"} 1\n");
	stub_lookup_free(first);
	stub_lookup_free(second);
	tm_metrics_free(m);
}

static void test_rate_limit_refusals(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct tm_metrics *m = with_metrics(e);
	struct lookup *l[2] = {
		stub_lookup(e->in, INDICATOR_URL, "http://a.example/"),
		stub_lookup(e->in, INDICATOR_URL, "http://b.example/"),
	};

	e->in->rate_limit = g_strdup("1/minute");
	struct batch *b = fake_submit(f, e->cfg, l, 2, 5000);
	fake_settle(f);
	assert_int_equal(f->calls->len, 1);
	fake_answer_http(f, 0, 200, "clean", -1);
	fake_settle(f);
	engine_batch_release(f->engine, b);
	assert_line(m, "threatmilter_provider_rate_limited_total{integration=\"stub\"} 1\n");
	assert_line(m, "threatmilter_provider_errors_total{integration=\"stub\",error=\"quota\"} 1\n");
	for (int i = 0; i < 2; i++)
		stub_lookup_free(l[i]);
	tm_metrics_free(m);
}

static void test_job_submitted_pending_finished(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct tm_metrics *m = with_metrics(e);
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);

	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);
	fake_answer_http(f, 0, 200, "unknown", -1);	/* hash unknown: submit */
	fake_settle(f);
	fake_answer_http(f, 1, 200, "id:J1", -1);
	fake_settle(f);
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);
	assert_line(m, "threatmilter_jobs_submitted_total{integration=\"sandbox\"} 1\n");
	assert_line(m, "threatmilter_jobs_pending{integration=\"sandbox\"} 1\n");
	fake_advance(f, 60000);
	assert_int_equal(f->calls->len, 3);
	fake_answer_http(f, 2, 200, "malicious", -1);
	fake_settle(f);
	assert_line(m, "threatmilter_jobs_pending{integration=\"sandbox\"} 0\n");
	assert_line(m, "threatmilter_jobs_finished_total{integration=\"sandbox\","
		    "result=\"malicious\"} 1\n");
	assert_line(m, "threatmilter_jobs_submitted_total{integration=\"sandbox\"} 1\n");
	stub_lookup_free(l);
	tm_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests_in_flight_and_queue_waits, http_env,
						env_down),
		cmocka_unit_test_setup_teardown(test_auth_opens_the_breaker, http_env, env_down),
		cmocka_unit_test_setup_teardown(test_rate_limit_refusals, http_env, env_down),
		cmocka_unit_test_setup_teardown(test_job_submitted_pending_finished, job_env,
						env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
