/* test_engine_flights.c: the engine over a fake transport and a fake
 * clock (engine_fake.h): single-flight, the cache fast path, deadlines,
 * fair queuing, the breaker, retries, RateLimit, pauses, and the defects
 * of issue 11 and 17 that live there (tests named after them). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "cache/cache.h"
#include "engine_fake.h"
#include "engine/engine_internal.h"

static int http_env(void **state)
{
	return env_up(state, "stubhttp", "vt");
}

struct cached_run {
	struct engine *engine;
	struct tm_config *cfg;
	struct lookup *lookup;
	int64_t deadline_ms;
	bool done;
};

static void *run_cached(void *arg)
{
	struct cached_run *run = arg;

	engine_run(run->engine, run->cfg, &run->lookup, 1, run->deadline_ms);
	__atomic_store_n(&run->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Two messages ask the same thing: one request, both answered; a third
 * is answered from the cache on its own thread (no submission), without
 * the engine lock that milter threads contend for (issue 19): it ends
 * while another thread holds that lock. */
static void test_single_flight_then_cache_fast_path(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;

	struct lookup *a = stub_lookup(in, INDICATOR_URL, "u1");
	struct lookup *b = stub_lookup(in, INDICATOR_URL, "u1");
	struct lookup *c = stub_lookup(in, INDICATOR_URL, "u1");

	struct batch *ba = fake_submit(f, cfg, &a, 1, 5000);
	struct batch *bb = fake_submit(f, cfg, &b, 1, 5000);
	assert_int_equal(f->calls->len, 1);
	assert_string_equal(call_what(f, 0), "GET http://stub.example/u1");
	fake_answer_http(f, 0, 200, "malicious", -1);
	assert_true(engine_batch_done(f->engine, ba));
	assert_true(engine_batch_done(f->engine, bb));
	assert_int_equal(a->result.status, LOOKUP_MALICIOUS);
	assert_int_equal(b->result.status, LOOKUP_MALICIOUS);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);

	struct cached_run run = { f->engine, cfg, c, engine_now_ms() + 5000, false };
	pthread_t thread;
	bool ended = false;

	pthread_mutex_lock(&f->engine->lock);
	assert_int_equal(pthread_create(&thread, NULL, run_cached, &run), 0);
	for (int i = 0; i < 200 && !ended; i++, g_usleep(10000))
		ended = __atomic_load_n(&run.done, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&f->engine->lock);
	pthread_join(thread, NULL);
	assert_true(ended);
	assert_int_equal(c->result.status, LOOKUP_MALICIOUS);
	assert_true(c->result.cached);
	struct engine_stats st;
	engine_get_stats(f->engine, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.joined, 1);
	assert_int_equal(st.cache_hits, 1);
	stub_lookup_free(a);
	stub_lookup_free(b);
	stub_lookup_free(c);
}

/* Breaker2 F5: a message that joins a lookup already out waited from
 * when it joined, not for the flight's whole age (the log line read
 * "vmray=malicious/7016ms ... elapsed=3ms"). */
static void test_joined_lookup_latency_is_the_message_wait(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct lookup *a = stub_lookup(e->in, INDICATOR_URL, "u-late");
	struct lookup *b = stub_lookup(e->in, INDICATOR_URL, "u-late");
	struct batch *ba = fake_submit(f, e->cfg, &a, 1, 5000), *bb;

	fake_advance(f, 300);
	bb = fake_submit(f, e->cfg, &b, 1, 5000);
	assert_int_equal(f->calls->len, 1);
	fake_advance(f, 700);
	fake_answer_http(f, 0, 200, "malicious", -1);
	assert_true(engine_batch_done(f->engine, ba));
	assert_true(engine_batch_done(f->engine, bb));
	assert_int_equal(a->result.latency_ms, 1000);
	assert_int_equal(b->result.latency_ms, 700);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);
	stub_lookup_free(a);
	stub_lookup_free(b);
}

/* Deadline: the waiter gets error/timeout at its deadline; a queued
 * lookup whose every waiter has gone is never sent (issue 17 item 2). */
static void test_deadline_drops_queued_lookup(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;
	in->max_in_flight = 1;

	struct lookup *a = stub_lookup(in, INDICATOR_URL, "slow");
	struct lookup *b = stub_lookup(in, INDICATOR_URL, "queued");

	struct batch *ba = fake_submit(f, cfg, &a, 1, 10000);
	struct batch *bb = fake_submit(f, cfg, &b, 1, 500);
	assert_int_equal(f->calls->len, 1);
	fake_advance(f, 499);
	assert_false(engine_batch_done(f->engine, bb));
	fake_advance(f, 1);
	assert_true(engine_batch_done(f->engine, bb));
	assert_int_equal(b->result.status, LOOKUP_ERROR);
	assert_int_equal(b->result.error, LOOKUP_ERR_TIMEOUT);
	fake_answer_http(f, 0, 200, "clean", -1);
	fake_settle(f);
	assert_int_equal(f->calls->len, 1);	/* "queued" was dropped */
	assert_int_equal(a->result.status, LOOKUP_CLEAN);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);
	stub_lookup_free(a);
	stub_lookup_free(b);
}

/* One message with many lookups does not starve the next (issue 17
 * item 2): with MaxInFlight 1 the second message's lookup goes second. */
static void test_fair_queuing_between_messages(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;
	in->max_in_flight = 1;

	struct lookup *big[50], *small = stub_lookup(in, INDICATOR_URL, "other-message");

	for (int i = 0; i < 50; i++) {
		char name[16];
		snprintf(name, sizeof(name), "big%d", i);
		big[i] = stub_lookup(in, INDICATOR_URL, name);
	}
	struct batch *bb = fake_submit(f, cfg, big, 50, 60000);
	struct batch *bs = fake_submit(f, cfg, &small, 1, 60000);
	assert_int_equal(f->calls->len, 1);
	fake_answer_http(f, 0, 200, "clean", -1);
	fake_settle(f);
	assert_int_equal(f->calls->len, 2);
	assert_string_equal(call_what(f, 1), "GET http://stub.example/other-message");
	fake_answer_http(f, 1, 200, "clean", -1);
	assert_true(engine_batch_done(f->engine, bs));
	engine_batch_release(f->engine, bs);
	engine_batch_release(f->engine, bb);	/* gives up: the rest is dropped */
	fake_advance(f, 60000);
	for (int i = 0; i < 50; i++)
		stub_lookup_free(big[i]);
	stub_lookup_free(small);
}

/* Defect 1: the per-integration state table belongs to the engine
 * thread; a caller's submission never inserts into it (the old code did,
 * under a lock the engine thread did not take while walking it). */
static void test_defect1_state_table_race(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;

	struct lookup *a = stub_lookup(in, INDICATOR_URL, "x");

	struct batch *b = engine_submit(f->engine, cfg, &a, 1, f->now_ms + 1000);
	assert_int_equal(g_hash_table_size(f->engine->states), 0);
	fake_settle(f);		/* the engine thread's turn */
	assert_int_equal(g_hash_table_size(f->engine->states), 1);
	engine_batch_release(f->engine, b);
	stub_lookup_free(a);
}

struct stress {
	struct engine *engine;
	struct tm_config *cfg;
	int thread;
};

static void *stress_thread(void *arg)
{
	struct stress *s = arg;

	for (int i = 0; i < 100; i++) {
		const struct integration *in =
			g_ptr_array_index(s->cfg->integrations, (guint)((s->thread * 100 + i) % 64));
		char name[32];
		snprintf(name, sizeof(name), "t%d-%d", s->thread, i);
		struct lookup *l = stub_lookup(in, INDICATOR_URL, name);

		engine_run(s->engine, s->cfg, &l, 1, engine_now_ms() + 5000);
		if (l->result.status != LOOKUP_CLEAN)
			fprintf(stderr, "lookup %s: %s\n", name, lookup_status_name(l->result.status));
		assert_int_equal(l->result.status, LOOKUP_CLEAN);
		stub_lookup_free(l);
	}
	return NULL;
}

/* Defect 1 under load (TSan or ASan builds see the old race): callers
 * on 8 threads, each lookup for an integration the engine has not seen
 * yet, while the engine thread works through the others. */
static void test_defect1_state_table_race_threads(void **state)
{
	(void)state;
	struct fake *f = fake_new(true);
	struct integration *ins[64];

	f->auto_answer = true;
	for (int i = 0; i < 64; i++) {
		char name[16];
		snprintf(name, sizeof(name), "in%d", i);
		ins[i] = stub_integration("stubhttp", name);
		ins[i]->cache = false;
	}
	struct tm_config *cfg = stub_config(ins, 64);
	pthread_t t[8];
	struct stress s[8];

	for (int i = 0; i < 8; i++) {
		s[i] = (struct stress){ f->engine, cfg, i };
		pthread_create(&t[i], NULL, stress_thread, &s[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(g_hash_table_size(f->engine->states), 64);
	fake_free(f);
	config_unref(cfg);
}

/* Defect 3: a Retry-After of LONG_MAX pauses the integration for the
 * cap (MAX_PAUSE_S), not for ever, and without overflow. */
static void test_defect3_retry_after_huge_is_capped(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;

	struct lookup *a = stub_lookup(in, INDICATOR_URL, "a");
	struct lookup *b = stub_lookup(in, INDICATOR_URL, "b");
	struct lookup *c = stub_lookup(in, INDICATOR_URL, "c");

	struct batch *ba = fake_submit(f, cfg, &a, 1, 5000);
	fake_answer_http(f, 0, 429, "", LONG_MAX);
	assert_int_equal(a->result.status, LOOKUP_RATE_LIMITED);
	assert_int_equal(a->result.error, LOOKUP_ERR_QUOTA);
	fake_advance(f, (MAX_PAUSE_S - 1) * 1000LL);
	struct batch *bb = fake_submit(f, cfg, &b, 1, 5000);
	assert_true(engine_batch_done(f->engine, bb));
	assert_int_equal(b->result.status, LOOKUP_ERROR);	/* paused */
	assert_int_equal(b->result.error, LOOKUP_ERR_PAUSED);
	assert_int_equal(f->calls->len, 1);
	fake_advance(f, 1000);
	struct batch *bc = fake_submit(f, cfg, &c, 1, 5000);
	assert_int_equal(f->calls->len, 2);	/* asked again after the cap */
	fake_answer_http(f, 1, 200, "clean", -1);
	assert_int_equal(c->result.status, LOOKUP_CLEAN);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);
	engine_batch_release(f->engine, bc);
	stub_lookup_free(a);
	stub_lookup_free(b);
	stub_lookup_free(c);
}

/* Defect 9: a retry that cannot start keeps the first failure's reason
 * (the old code cleared it first: an error without a reason). */
static void test_defect9_retry_keeps_error_text(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;

	struct lookup *a = stub_lookup(in, INDICATOR_URL, "a");

	struct batch *ba = fake_submit(f, cfg, &a, 1, 5000);
	f->refuse_from = 2;
	fake_answer_http(f, 0, 503, "", -1);
	fake_settle(f);
	assert_true(engine_batch_done(f->engine, ba));
	assert_int_equal(a->result.status, LOOKUP_ERROR);
	assert_non_null(a->result.details);
	assert_non_null(strstr(a->result.details, "503"));
	assert_int_equal(a->result.error, LOOKUP_ERR_PROVIDER);
	engine_batch_release(f->engine, ba);
	stub_lookup_free(a);
}

/* Defect 9: a retry needs a RateLimit token like any request. */
static void test_defect9_retry_takes_a_rate_token(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;
	in->rate_limit = g_strdup("1/minute");

	struct lookup *a = stub_lookup(in, INDICATOR_URL, "a");

	struct batch *ba = fake_submit(f, cfg, &a, 1, 5000);
	fake_answer_http(f, 0, 503, "", -1);
	fake_settle(f);
	assert_int_equal(f->calls->len, 1);	/* no token: no retry */
	assert_int_equal(a->result.status, LOOKUP_ERROR);
	engine_batch_release(f->engine, ba);
	stub_lookup_free(a);
}

/* A reload that changes RateLimit started a fresh budget: "2/minute"
 * spent, then "1/minute" granted one more at once. The requests just
 * made count under the new specification (ratelimit_carry). */
static void test_ratelimit_change_on_reload_counts_requests_made(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct lookup *l[3] = { stub_lookup(in, INDICATOR_URL, "r1"),
				stub_lookup(in, INDICATOR_URL, "r2"),
				stub_lookup(in, INDICATOR_URL, "r3") };
	struct batch *b[3];

	g_free(in->rate_limit);
	in->rate_limit = g_strdup("2/minute");
	for (int i = 0; i < 2; i++) {
		b[i] = fake_submit(f, e->cfg, &l[i], 1, 5000);
		fake_answer_http(f, (unsigned)i, 200, "clean", -1);
		assert_true(engine_batch_done(f->engine, b[i]));
	}
	g_free(in->rate_limit);
	in->rate_limit = g_strdup("1/minute");	/* what a reload brings */
	fake_advance(f, 1000);
	b[2] = fake_submit(f, e->cfg, &l[2], 1, 5000);
	assert_true(engine_batch_done(f->engine, b[2]));
	assert_int_equal(f->calls->len, 2);
	assert_int_equal(l[2]->result.status, LOOKUP_RATE_LIMITED);
	for (int i = 0; i < 3; i++) {
		engine_batch_release(f->engine, b[i]);
		stub_lookup_free(l[i]);
	}
}

/* Defect 9: a RateLimit that does not parse never means unlimited. */
static void test_defect9_bad_ratelimit_fails_closed(void **state)
{
	struct env *e = *state;
	struct fake *f = e->f;
	struct integration *in = e->in;
	struct tm_config *cfg = e->cfg;
	in->rate_limit = g_strdup("lots/fortnight");

	struct lookup *a = stub_lookup(in, INDICATOR_URL, "a");

	struct batch *ba = fake_submit(f, cfg, &a, 1, 5000);
	assert_true(engine_batch_done(f->engine, ba));
	assert_int_equal(f->calls->len, 0);
	assert_int_equal(a->result.status, LOOKUP_RATE_LIMITED);
	assert_int_equal(a->result.error, LOOKUP_ERR_QUOTA);
	engine_batch_release(f->engine, ba);
	stub_lookup_free(a);
}

/* Issue 17 item 3: names c-ares refuses locally and 4xx answers for one
 * indicator never open the breaker; provider failures do. */
static void test_breaker_ignores_indicator_refusals(void **state)
{
	(void)state;
	struct fake *f = fake_new(false);
	struct integration *dns = stub_integration("stubdns", "zen");
	struct integration *web = stub_integration("stubhttp", "vt");
	struct integration *ins[] = { dns, web };
	struct tm_config *cfg = stub_config(ins, 2);
	struct lookup *l[12];
	struct batch *b[12];

	for (int i = 0; i < 10; i++) {
		char name[16];
		snprintf(name, sizeof(name), "bad%d", i);
		l[i] = stub_lookup(i % 2 ? dns : web, INDICATOR_DOMAIN, name);
		b[i] = fake_submit(f, cfg, &l[i], 1, 5000);
		if (i % 2)
			fake_answer_dns(f, (unsigned)i, ARES_EBADNAME);
		else
			fake_answer_http(f, (unsigned)i, 400, "", -1);
		assert_int_equal(l[i]->result.status, i % 2 ? LOOKUP_INVALID : LOOKUP_ERROR);
	}
	l[10] = stub_lookup(dns, INDICATOR_DOMAIN, "good.example");
	l[11] = stub_lookup(web, INDICATOR_DOMAIN, "good.example");
	b[10] = fake_submit(f, cfg, &l[10], 1, 5000);
	b[11] = fake_submit(f, cfg, &l[11], 1, 5000);
	assert_int_equal(f->calls->len, 12);	/* both breakers closed */
	fake_answer_dns(f, 10, ARES_ENOTFOUND);
	fake_answer_http(f, 11, 200, "clean", -1);
	assert_int_equal(l[10]->result.status, LOOKUP_CLEAN);
	assert_int_equal(l[11]->result.status, LOOKUP_CLEAN);
	for (int i = 0; i < 12; i++) {
		engine_batch_release(f->engine, b[i]);
		stub_lookup_free(l[i]);
	}
	fake_free(f);
	config_unref(cfg);
}

static void test_breaker_opens_on_provider_failures(void **state)
{
	(void)state;
	struct fake *f = fake_new(false);
	struct integration *dns = stub_integration("stubdns", "zen");
	struct tm_config *cfg = stub_config(&dns, 1);
	struct lookup *l[6];
	struct batch *b[6];

	for (int i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof(name), "d%d.example", i);
		l[i] = stub_lookup(dns, INDICATOR_DOMAIN, name);
		b[i] = fake_submit(f, cfg, &l[i], 1, 5000);
		if (i < 5) {
			fake_answer_dns(f, f->calls->len - 1, ARES_ESERVFAIL);
			fake_settle(f);
			if (fake_open_calls(f) > 0)	/* the retry */
				fake_answer_dns(f, f->calls->len - 1, ARES_ESERVFAIL);
		}
	}
	assert_true(engine_batch_done(f->engine, b[5]));
	assert_int_equal(l[5]->result.status, LOOKUP_ERROR);
	assert_string_equal(l[5]->result.details, "circuit open");
	assert_int_equal(l[5]->result.error, LOOKUP_ERR_PAUSED);
	for (int i = 0; i < 6; i++) {
		engine_batch_release(f->engine, b[i]);
		stub_lookup_free(l[i]);
	}
	fake_free(f);
	config_unref(cfg);
}

/* A reload that changes DNSServers: the query out on the old servers
 * still ends (its slot comes back), the next goes to the new ones. */
static void test_reload_with_a_dns_change(void **state)
{
	(void)state;
	struct fake *f = fake_new(false);
	struct integration *old_in = stub_integration("stubdns", "zen");
	old_in->dns_servers = g_strdup("127.0.0.1:5301");
	old_in->max_in_flight = 1;
	struct tm_config *old_cfg = stub_config(&old_in, 1);
	struct integration *new_in = stub_integration("stubdns", "zen");
	new_in->dns_servers = g_strdup("127.0.0.1:5302");
	new_in->max_in_flight = 1;
	struct tm_config *new_cfg = stub_config(&new_in, 1);
	struct lookup *a = stub_lookup(old_in, INDICATOR_DOMAIN, "a.example");
	struct lookup *b = stub_lookup(new_in, INDICATOR_DOMAIN, "b.example");

	struct batch *ba = fake_submit(f, old_cfg, &a, 1, 5000);
	struct batch *bb = fake_submit(f, new_cfg, &b, 1, 5000);
	config_unref(old_cfg);			/* the reload drops the old snapshot */
	assert_int_equal(f->calls->len, 1);	/* b waits for the slot */
	fake_answer_dns(f, 0, ARES_ETIMEOUT);
	fake_settle(f);
	if (fake_open_calls(f) == 1 && f->calls->len == 2 &&
	    strcmp(call_what(f, 1), "a.example") == 0)
		fake_answer_dns(f, 1, ARES_ETIMEOUT);	/* a's retry */
	fake_settle(f);
	struct fake_call *last = g_ptr_array_index(f->calls, f->calls->len - 1);
	assert_string_equal(last->what, "b.example");
	assert_string_equal(last->servers, "127.0.0.1:5302");
	fake_answer_dns(f, f->calls->len - 1, ARES_SUCCESS);
	assert_int_equal(b->result.status, LOOKUP_MALICIOUS);
	assert_int_equal(a->result.status, LOOKUP_ERROR);
	assert_int_equal(a->result.error, LOOKUP_ERR_TIMEOUT);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);
	fake_free(f);
	stub_lookup_free(a);
	stub_lookup_free(b);
	config_unref(new_cfg);
}

/* A network-like cache backend: no fast path, answers a little later on
 * the loop (as Redis would), so the cache is a stage of the flight. */
struct slow_cache {
	struct cache base;
	struct fake *fake;
	GHashTable *entries;	/* key -> status */
	unsigned puts;
};

struct slow_get {
	struct slow_cache *sc;
	char *key;
	cache_get_cb cb;
	void *ctx;
};

static void slow_deliver(void *data)
{
	struct slow_get *g = data;
	gpointer status;
	bool hit = g_hash_table_lookup_extended(g->sc->entries, g->key, NULL, &status);
	struct cache_answer a = { .status = GPOINTER_TO_INT(status) };

	g->cb(g->ctx, hit, hit ? &a : NULL);
	g_free(g->key);
	g_free(g);
}

static void slow_get(struct cache *cache, const char *key, int64_t now_s,
		     cache_get_cb cb, void *ctx)
{
	struct slow_cache *sc = (struct slow_cache *)cache;
	struct slow_get *g = g_new0(struct slow_get, 1);

	(void)now_s;
	g->sc = sc;
	g->key = g_strdup(key);
	g->cb = cb;
	g->ctx = ctx;
	loop_timer_add(sc->fake->engine_loop, sc->fake->now_ms + 5, slow_deliver, g);
}

static void slow_put(struct cache *cache, const char *key, const struct cache_answer *a,
		     int64_t expires_s, unsigned max_hits)
{
	(void)expires_s;
	if (max_hits == 0)
		return;		/* nothing to keep (cache.h) */
	((struct slow_cache *)cache)->puts++;
	g_hash_table_replace(((struct slow_cache *)cache)->entries, g_strdup(key),
			     GINT_TO_POINTER(a->status));
}

static void slow_destroy(struct cache *cache)
{
	g_hash_table_destroy(((struct slow_cache *)cache)->entries);
	g_free(cache);
}

static const struct cache_backend_ops slow_ops = {
	.get = slow_get, .put = slow_put, .destroy = slow_destroy,
};

static struct cache *slow_cache_new(void *data, struct loop *loop, const char *name,
				    size_t max_entries)
{
	struct slow_cache *sc = g_new0(struct slow_cache, 1);

	(void)loop;
	(void)name;
	(void)max_entries;
	sc->base.ops = &slow_ops;
	sc->fake = data;
	sc->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return &sc->base;
}

/* An asynchronous cache backend: get -> miss -> request -> put, then a
 * hit answered on the loop, without a request. */
static void test_asynchronous_cache_stage(void **state)
{
	(void)state;
	struct fake *f = fake_new_caches(slow_cache_new);
	struct integration *in = stub_integration("stubhttp", "vt");
	struct tm_config *cfg = stub_config(&in, 1);
	struct lookup *a = stub_lookup(in, INDICATOR_URL, "u");
	struct lookup *b = stub_lookup(in, INDICATOR_URL, "u");

	struct batch *ba = fake_submit(f, cfg, &a, 1, 5000);
	assert_int_equal(f->calls->len, 0);	/* the cache has not answered */
	fake_advance(f, 5);
	assert_int_equal(f->calls->len, 1);
	fake_answer_http(f, 0, 200, "malicious", -1);
	assert_int_equal(a->result.status, LOOKUP_MALICIOUS);
	struct batch *bb = fake_submit(f, cfg, &b, 1, 5000);
	assert_false(engine_batch_done(f->engine, bb));	/* no fast path */
	fake_advance(f, 5);
	assert_true(engine_batch_done(f->engine, bb));
	assert_int_equal(b->result.status, LOOKUP_MALICIOUS);
	assert_true(b->result.cached);
	assert_int_equal(f->calls->len, 1);
	/* the hit is not stored again (that renewed its expiry and its
	 * CacheMaxHits: a shared backend's answers never ran out) */
	g_rw_lock_reader_lock(&f->engine->caches_lock);
	struct cache_slot *slot = g_hash_table_lookup(f->engine->caches, "vt");
	g_rw_lock_reader_unlock(&f->engine->caches_lock);
	assert_int_equal(((struct slow_cache *)slot->cache)->puts, 1);
	engine_batch_release(f->engine, ba);
	engine_batch_release(f->engine, bb);
	fake_free(f);
	stub_lookup_free(a);
	stub_lookup_free(b);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_flight_then_cache_fast_path, http_env, env_down),
		cmocka_unit_test_setup_teardown(test_joined_lookup_latency_is_the_message_wait,
						http_env, env_down),
		cmocka_unit_test_setup_teardown(test_deadline_drops_queued_lookup, http_env, env_down),
		cmocka_unit_test_setup_teardown(test_fair_queuing_between_messages, http_env, env_down),
		cmocka_unit_test_setup_teardown(test_defect1_state_table_race, http_env, env_down),
		cmocka_unit_test(test_defect1_state_table_race_threads),
		cmocka_unit_test_setup_teardown(test_defect3_retry_after_huge_is_capped, http_env, env_down),
		cmocka_unit_test_setup_teardown(test_defect9_retry_keeps_error_text, http_env, env_down),
		cmocka_unit_test_setup_teardown(test_defect9_retry_takes_a_rate_token, http_env, env_down),
		cmocka_unit_test_setup_teardown(test_ratelimit_change_on_reload_counts_requests_made,
						http_env, env_down),
		cmocka_unit_test_setup_teardown(test_defect9_bad_ratelimit_fails_closed, http_env, env_down),
		cmocka_unit_test(test_breaker_ignores_indicator_refusals),
		cmocka_unit_test(test_breaker_opens_on_provider_failures),
		cmocka_unit_test(test_reload_with_a_dns_change),
		cmocka_unit_test(test_asynchronous_cache_stage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
