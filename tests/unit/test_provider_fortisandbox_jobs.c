/* test_provider_fortisandbox_jobs.c: FortiSandbox jobs through the engine
 * on the fake transport and clock (engine_fake.c), with the mock's
 * fixture answers (tests/mock/fixtures/fortisandbox.json): the second
 * login form (kept for the next login), a URL submitted and polled to its
 * verdict with the session expiring mid-poll (one new login, the same
 * poll again), a job that never ends (error after 600 s), refused
 * credentials, 5xx, an unknown file without a sample (no upload request
 * at all). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "engine_fake.h"
#include "provider_test_util.h"
#include "engine/engine_internal.h"

#define API "https://fsa.example/jsonrpc"
#define USER "apiuser"
#define PASS "test-fsa-pass"
#define HASH "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
#define SID "7048126795285831956"
#define JID "7048126811111111111"

static const char *str(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, name));
}

static int fsa_env(void **state)
{
	struct env *e = g_new0(struct env, 1);

	e->f = fake_new(false);
	e->in = stub_integration("stubjob", "fsa");
	stub_set_type(e->in, "fortisandbox");
	g_free(e->in->api_url);
	e->in->api_url = g_strdup(API);
	e->in->api_key = g_strdup(USER);
	e->in->api_password = g_strdup(PASS);
	e->cfg = stub_config(&e->in, 1);
	*state = e;
	return 0;
}

/* The resource of the index-th call (its params[0].url). */
static char *resource_of(struct fake *f, unsigned index)
{
	const struct fake_call *c = g_ptr_array_index(f->calls, index);
	cJSON *doc = cJSON_Parse(c->body ? c->body : "");
	const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "params"), 0);
	const char *url = str(p, "url");
	char *out = g_strdup_printf("%s%s", url ? url : "?",
				    cJSON_GetObjectItem(p, "data") ? " (data form)" : "");

	assert_string_equal(c->what, "POST " API);
	cJSON_Delete(doc);
	return out;
}

static void assert_resource(struct fake *f, unsigned index, const char *want)
{
	char *got = resource_of(f, index);

	assert_string_equal(got, want);
	g_free(got);
}

static const char *session_of(struct fake *f, unsigned index)
{
	static char buf[64];
	const struct fake_call *c = g_ptr_array_index(f->calls, index);
	cJSON *doc = cJSON_Parse(c->body);

	g_strlcpy(buf, str(doc, "session") ? str(doc, "session") : "(none)", sizeof(buf));
	cJSON_Delete(doc);
	return buf;
}

/* Answers call index with a fixture body (values: "session"/"sid"/"jid"). */
static void answer(struct fake *f, unsigned index, const char *ref, const char *session)
{
	cJSON *values = cJSON_CreateObject();
	long status;

	cJSON_AddStringToObject(values, "session", session ? session : "");
	cJSON_AddStringToObject(values, "sid", SID);
	cJSON_AddStringToObject(values, "jid", JID);
	cJSON_AddStringToObject(values, "resource", "/scan/result/job");
	cJSON_AddStringToObject(values, "url", "https://new.example.org/");
	cJSON_AddStringToObject(values, "rating", "Clean");
	char *body = pt_fixture("fortisandbox", ref, values, &status);

	fake_answer_http(f, index, status, body, -1);
	fake_settle(f);
	g_free(body);
	cJSON_Delete(values);
}

static unsigned count_resource(struct fake *f, const char *want)
{
	unsigned n = 0;

	for (guint i = 0; i < f->calls->len; i++) {
		char *got = resource_of(f, i);

		n += strcmp(got, want) == 0;
		g_free(got);
	}
	return n;
}

/* An old appliance: the newer login form refused, the data form works
 * and is remembered for the next login. */
static void test_engine_second_login_form(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	assert_resource(f, 0, "/sys/login/user");
	answer(f, 0, "bodies.login_failed", NULL);
	assert_resource(f, 1, "/sys/login/user (data form)");
	answer(f, 1, "bodies.login_ok", "T1");
	assert_resource(f, 2, "/scan/result/file");
	assert_string_equal(session_of(f, 2), "T1");
	answer(f, 2, "bodies.file_clean", NULL);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_CLEAN);
	engine_batch_release(f->engine, b);

	/* the session is refused later: the new login starts with the data form */
	struct lookup *u = stub_lookup(e->in, INDICATOR_URL, "http://phish.example.net/login");
	struct batch *bu = fake_submit(f, e->cfg, &u, 1, 5000);
	assert_resource(f, 3, "/scan/result/urlrating");
	answer(f, 3, "bodies.invalid_session", NULL);
	assert_resource(f, 4, "/sys/login/user (data form)");
	answer(f, 4, "bodies.login_ok", "T2");
	assert_resource(f, 5, "/scan/result/urlrating");
	assert_string_equal(session_of(f, 5), "T2");
	answer(f, 5, "bodies.url_two", NULL);
	assert_int_equal(u->result.status, LOOKUP_MALICIOUS);
	engine_batch_release(f->engine, bu);
	stub_lookup_free(l);
	stub_lookup_free(u);
}

/* Not rated, SubmitURLs on: the submission, pending for the message,
 * jids (gradually), 29, the verdict into the cache; the session expires
 * at the first job poll: one new login and the same poll again. */
static void test_engine_url_submission_session_expires_mid_poll(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, "https://new.example.org/");
	struct batch *b;

	e->in->submit_urls = true;
	b = fake_submit(f, e->cfg, &l, 1, 5000);
	answer(f, 0, "bodies.login_ok", "T1");
	assert_resource(f, 1, "/scan/result/urlrating");
	answer(f, 1, "bodies.url_unrated", NULL);
	assert_resource(f, 2, "/alert/ondemand/submit-file");
	answer(f, 2, "bodies.submit_ok", NULL);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(f->engine, b);

	fake_advance(f, 30000);		/* §4: the first poll after 30 s */
	assert_int_equal(f->calls->len, 4);
	assert_resource(f, 3, "/scan/result/get-jobs-of-submission");
	answer(f, 3, "bodies.jobs_partial", NULL);
	fake_advance(f, 60000);
	assert_int_equal(f->calls->len, 5);
	answer(f, 4, "bodies.jobs_complete", NULL);
	assert_resource(f, 5, "/scan/result/job");
	answer(f, 5, "bodies.invalid_session", NULL);	/* expired mid-poll */
	assert_resource(f, 6, "/sys/login/user");
	answer(f, 6, "bodies.login_ok", "T2");
	assert_resource(f, 7, "/scan/result/job");
	assert_string_equal(session_of(f, 7), "T2");
	answer(f, 7, "bodies.job_pending", NULL);
	fake_advance(f, 120000);
	assert_int_equal(f->calls->len, 9);
	answer(f, 8, "bodies.job_malicious", NULL);
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_MALICIOUS);
	assert_int_equal(count_resource(f, "/sys/login/user"), 2);	/* one re-login */

	/* the next message: the verdict from the cache, no request */
	struct lookup *again = stub_lookup(e->in, INDICATOR_URL, "https://new.example.org/");
	struct batch *b2 = fake_submit(f, e->cfg, &again, 1, 5000);
	assert_true(engine_batch_done(f->engine, b2));
	assert_int_equal(again->result.status, LOOKUP_MALICIOUS);
	assert_int_equal(f->calls->len, 9);
	engine_batch_release(f->engine, b2);
	stub_lookup_free(l);
	stub_lookup_free(again);
}

/* A job that never finishes: error/timeout after 600 s, never clean,
 * not cached. */
static void test_engine_job_timeout(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_URL, "http://never.example.net/");
	struct batch *b;

	e->in->submit_urls = true;
	b = fake_submit(f, e->cfg, &l, 1, 5000);
	answer(f, 0, "bodies.login_ok", "T1");
	answer(f, 1, "bodies.url_unrated", NULL);
	answer(f, 2, "bodies.submit_ok", NULL);
	engine_batch_release(f->engine, b);
	for (int s = 0; s < 700 && g_hash_table_size(f->engine->flights) > 0; s++) {
		fake_advance(f, 1000);
		if (fake_open_calls(f) > 0) {
			char *what = resource_of(f, f->calls->len - 1);

			answer(f, f->calls->len - 1, strcmp(what, "/scan/result/job") == 0
				       ? "bodies.job_pending" : "bodies.jobs_complete", NULL);
			g_free(what);
		}
	}
	assert_int_equal(g_hash_table_size(f->engine->flights), 0);
	assert_int_equal(f->jobs_finished, 1);
	assert_int_equal(f->last_job_status, LOOKUP_ERROR);
	assert_true(f->calls->len < 16);	/* 30 s, doubling up to 120 s */
	stub_lookup_free(l);
}

/* Refused credentials: both forms tried once, the lookups error/auth,
 * no lookup request sent. */
static void test_engine_bad_credentials(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	answer(f, 0, "bodies.login_failed", NULL);
	answer(f, 1, "bodies.login_failed", NULL);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_AUTH);
	assert_non_null(strstr(l->result.details, "WRONG_CREDENTIAL"));
	assert_null(strstr(l->result.details, PASS));
	assert_int_equal(f->calls->len, 2);
	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
}

/* 5xx: an error, never clean; unknown without a sample: no upload. */
static void test_engine_5xx_and_no_sample(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *l = stub_lookup(e->in, INDICATOR_HASH, HASH);
	struct batch *b = fake_submit(f, e->cfg, &l, 1, 5000);

	answer(f, 0, "bodies.login_ok", "T1");
	answer(f, 1, "errors.503", NULL);
	if (f->calls->len > 2)		/* the engine's one retry */
		answer(f, 2, "errors.500", NULL);
	assert_true(engine_batch_done(f->engine, b));
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_int_equal(l->result.error, LOOKUP_ERR_PROVIDER);
	engine_batch_release(f->engine, b);

	struct lookup *x = stub_lookup(e->in, INDICATOR_HASH, "4041021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f");
	unsigned before = f->calls->len;
	struct batch *bx = fake_submit(f, e->cfg, &x, 1, 5000);
	answer(f, before, "bodies.data_not_exist", NULL);
	assert_true(engine_batch_done(f->engine, bx));
	assert_int_equal(x->result.status, LOOKUP_UNKNOWN);
	assert_int_equal(f->calls->len, before + 1);
	assert_int_equal(count_resource(f, "/alert/ondemand/submit-file"), 0);
	engine_batch_release(f->engine, bx);
	stub_lookup_free(l);
	stub_lookup_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_engine_second_login_form, fsa_env, env_down),
		cmocka_unit_test_setup_teardown(test_engine_url_submission_session_expires_mid_poll,
						fsa_env, env_down),
		cmocka_unit_test_setup_teardown(test_engine_job_timeout, fsa_env, env_down),
		cmocka_unit_test_setup_teardown(test_engine_bad_credentials, fsa_env, env_down),
		cmocka_unit_test_setup_teardown(test_engine_5xx_and_no_sample, fsa_env, env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
