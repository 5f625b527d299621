/* test_engine_shared.c: the engine's use of a shared cache backend
 * (cache.h rate_take, job_claim; issue 15) with two fake engines, two
 * "hosts", on one in-process shared store standing in for Redis: one
 * RateLimit budget for both; a sandbox job uploaded by one host only,
 * the other answering pending and taking the owner's verdict from the
 * shared cache; a job whose owner gives up is claimed by the other, and
 * so is one whose owner stops (its lease released at shutdown); a
 * running job's poll the shared budget refuses waits instead of ending. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "cache/cache.h"
#include "engine/ratelimit.h"
#include "engine_fake.h"
#include "engine/engine_internal.h"

#define HASH "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

/* The store both hosts share (one per test). */
struct store {
	GHashTable *answers;		/* key -> status */
	GHashTable *leases;		/* key -> owner (struct fake *) */
	struct ratelimit *budget;
	int64_t *clock_ms;		/* host a's clock: the store's */
	unsigned rate_asks, claims, flushes;
};

static struct store store;

struct host_cache {
	struct cache base;
	struct fake *host;
};

static void store_get(struct cache *cache, const char *key, int64_t now_s,
		      cache_get_cb cb, void *ctx)
{
	gpointer status;
	bool hit = g_hash_table_lookup_extended(store.answers, key, NULL, &status);
	struct cache_answer a = { .status = GPOINTER_TO_INT(status), .details = "shared" };

	(void)cache;
	(void)now_s;
	cb(ctx, hit, hit ? &a : NULL);
}

static void store_put(struct cache *cache, const char *key, const struct cache_answer *a,
		      int64_t expires_s, unsigned max_hits)
{
	(void)cache;
	(void)expires_s;
	if (max_hits == 0)
		return;		/* nothing to keep (cache.h) */
	g_hash_table_replace(store.answers, g_strdup(key), GINT_TO_POINTER(a->status));
}

static void store_destroy(struct cache *cache)
{
	g_free(cache);
}

static void store_rate_take(struct cache *cache, const char *budget, const char *spec,
			    int64_t now_s, cache_rate_cb cb, void *ctx)
{
	(void)cache;
	(void)budget;
	(void)spec;
	(void)now_s;
	store.rate_asks++;
	cb(ctx, ratelimit_take(store.budget, *store.clock_ms));
}

static void store_job_claim(struct cache *cache, const char *key, const char *job_id,
			    int64_t lease_s, cache_claim_cb cb, void *ctx)
{
	struct fake *me = ((struct host_cache *)cache)->host;
	struct fake *owner = g_hash_table_lookup(store.leases, key);

	(void)job_id;
	if (lease_s == 0) {
		if (owner == me)
			g_hash_table_remove(store.leases, key);
		return;
	}
	store.claims++;
	if (owner == NULL || owner == me) {
		g_hash_table_replace(store.leases, g_strdup(key), me);
		cb(ctx, true, "me");
	} else {
		cb(ctx, false, "other");
	}
}

/* Shutdown: the leases released must reach the store before it goes. */
static void store_flush(struct cache *cache)
{
	(void)cache;
	store.flushes++;
}

static const struct cache_backend_ops store_ops = {
	.get = store_get, .put = store_put, .destroy = store_destroy,
	.rate_take = store_rate_take, .job_claim = store_job_claim, .flush = store_flush,
};

static struct cache *store_cache_new(void *data, struct loop *loop, const char *name,
				     size_t max_entries)
{
	struct host_cache *hc = g_new0(struct host_cache, 1);

	(void)loop;
	(void)name;
	(void)max_entries;
	hc->base.ops = &store_ops;
	hc->host = data;
	return &hc->base;
}

struct site {
	struct fake *a, *b;
	struct integration *in;
	struct tm_config *cfg;
};

static int site_up(void **state, const char *type, const char *name, const char *rate)
{
	struct site *s = g_new0(struct site, 1);
	char err[128];

	store.answers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	store.leases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	store.budget = ratelimit_new(rate, err, sizeof(err));
	store.rate_asks = store.claims = store.flushes = 0;
	s->a = fake_new_caches(store_cache_new);
	s->b = fake_new_caches(store_cache_new);
	store.clock_ms = &s->a->now_ms;
	s->in = stub_integration(type, name);
	g_free(s->in->rate_limit);
	s->in->rate_limit = g_strdup(rate);
	s->cfg = stub_config(&s->in, 1);
	*state = s;
	return 0;
}

static int http_site(void **state)
{
	return site_up(state, "stubhttp", "vt", "2/minute");
}

static int job_site(void **state)
{
	return site_up(state, "stubjob", "sandbox", "100/minute");
}

static int site_down(void **state)
{
	struct site *s = *state;

	if (s->a != NULL)
		fake_free(s->a);
	fake_free(s->b);
	config_unref(s->cfg);
	g_hash_table_destroy(store.answers);
	g_hash_table_destroy(store.leases);
	ratelimit_free(store.budget);
	g_free(s);
	return 0;
}

static enum lookup_status ask(struct fake *f, struct site *s, const char *indicator,
			      bool answer_it)
{
	struct lookup *l = stub_lookup(s->in, INDICATOR_URL, indicator);
	unsigned first = f->calls->len;
	struct batch *b = fake_submit(f, s->cfg, &l, 1, 5000);

	fake_settle(f);
	if (answer_it && f->calls->len > first) {
		fake_answer_http(f, first, 200, "clean", -1);
		fake_settle(f);
	}
	assert_true(engine_batch_done(f->engine, b));
	enum lookup_status status = l->result.status;

	engine_batch_release(f->engine, b);
	stub_lookup_free(l);
	return status;
}

/* RateLimit 2/minute is one budget for both hosts: a's two requests use
 * it up, b's first is rate_limited without a request. */
static void test_rate_limit_shared_by_hosts(void **state)
{
	struct site *s = *state;

	assert_int_equal(ask(s->a, s, "https://one.example/", true), LOOKUP_CLEAN);
	assert_int_equal(ask(s->a, s, "https://two.example/", true), LOOKUP_CLEAN);
	assert_int_equal(ask(s->b, s, "https://three.example/", true), LOOKUP_RATE_LIMITED);
	assert_int_equal(s->b->calls->len, 0);
	assert_int_equal(store.rate_asks, 3);
	/* and b's answer came from a's cached ones: no token spent */
	assert_int_equal(ask(s->b, s, "https://one.example/", false), LOOKUP_CLEAN);
	assert_int_equal(s->b->calls->len, 0);
	assert_int_equal(store.rate_asks, 3);
}

/* Host a uploads the file; host b, meeting it meanwhile, answers
 * pending without any request and later takes a's verdict. */
/* One file at both hosts: a's and b's lookups and batches. */
struct job_pair {
	struct lookup *la, *lb;
	struct batch *ba, *bb;
};

/* Host a looks the file up (unknown) and uploads it: its job runs, la
 * is pending; then host b meets the file: pending at once, no request
 * (a holds the lease). */
static void job_at_both(struct site *s, struct job_pair *p)
{
	p->la = stub_lookup(s->in, INDICATOR_HASH, HASH);
	p->lb = stub_lookup(s->in, INDICATOR_HASH, HASH);
	p->ba = fake_submit(s->a, s->cfg, &p->la, 1, 5000);
	fake_answer_http(s->a, 0, 200, "unknown", -1);
	fake_settle(s->a);
	assert_string_equal(call_what(s->a, 1), "POST http://stub.example/submit");
	fake_answer_http(s->a, 1, 200, "id:J7", -1);
	assert_int_equal(p->la->result.status, LOOKUP_PENDING);
	p->bb = fake_submit(s->b, s->cfg, &p->lb, 1, 5000);
	fake_settle(s->b);
	assert_true(engine_batch_done(s->b->engine, p->bb));
	assert_int_equal(p->lb->result.status, LOOKUP_PENDING);
	assert_int_equal(s->b->calls->len, 0);		/* no upload at b */
	assert_int_equal(g_hash_table_size(store.leases), 1);
}

/* Releases what job_at_both() made (a's batch only while a runs). */
static void job_pair_free(struct site *s, struct job_pair *p)
{
	if (p->ba != NULL)
		engine_batch_release(s->a->engine, p->ba);
	engine_batch_release(s->b->engine, p->bb);
	stub_lookup_free(p->la);
	stub_lookup_free(p->lb);
}

static void test_job_uploaded_by_one_host(void **state)
{
	struct site *s = *state;
	struct job_pair p;

	job_at_both(s, &p);
	/* a's job finishes; b reads the verdict on its next poll */
	fake_advance(s->a, 10000);
	fake_answer_http(s->a, 2, 200, "malicious", -1);
	fake_settle(s->a);
	assert_int_equal(g_hash_table_size(store.leases), 0);	/* released */
	fake_advance(s->b, 5000);
	assert_int_equal(g_hash_table_size(s->b->engine->flights), 0);
	assert_int_equal(s->b->calls->len, 0);
	assert_int_equal(s->b->jobs_finished, 1);
	assert_int_equal(s->b->last_job_status, LOOKUP_MALICIOUS);
	job_pair_free(s, &p);
}

/* The owner's job ends without a verdict (upload refused): the lease
 * goes back and the other host runs the job itself. */
static void test_job_claimed_again_when_owner_gives_up(void **state)
{
	struct site *s = *state;
	struct lookup *la = stub_lookup(s->in, INDICATOR_HASH, HASH);
	struct lookup *lb = stub_lookup(s->in, INDICATOR_HASH, HASH);

	struct batch *ba = fake_submit(s->a, s->cfg, &la, 1, 5000);
	struct batch *bb = fake_submit(s->b, s->cfg, &lb, 1, 5000);
	fake_settle(s->b);
	assert_int_equal(lb->result.status, LOOKUP_PENDING);
	assert_int_equal(s->b->calls->len, 0);
	fake_answer_http(s->a, 0, 400, "bad", -1);	/* a's lookup ends in error */
	fake_settle(s->a);
	assert_int_equal(g_hash_table_size(store.leases), 0);
	fake_advance(s->b, 5000);			/* b's poll: no verdict, claims */
	assert_int_equal(s->b->calls->len, 1);
	assert_string_equal(call_what(s->b, 0), "GET http://stub.example/hash/" HASH);
	engine_batch_release(s->a->engine, ba);
	engine_batch_release(s->b->engine, bb);
	stub_lookup_free(la);
	stub_lookup_free(lb);
}

/* F3: the owner stops gracefully (SIGTERM: engine_free) while its job
 * runs: the lease goes back (and the backend is flushed before it goes),
 * so the other host, waiting, claims the job at its next read of the
 * shared cache (at most 10 s apart, not the provider's poll cap) and runs
 * it itself, long before the lease would have run out (JobTimeout + 60
 * s). The lease stayed before: b answered pending for 11 minutes. */
static void test_job_taken_over_when_owner_stops(void **state)
{
	struct site *s = *state;
	struct job_pair p;

	job_at_both(s, &p);
	for (int i = 0; i < 120; i++)		/* b reads on while a runs the job */
		fake_advance(s->b, 1000);
	assert_int_equal(s->b->calls->len, 0);
	engine_batch_release(s->a->engine, p.ba);
	p.ba = NULL;
	store.clock_ms = &s->b->now_ms;		/* the budget's clock outlives a */
	fake_free(s->a);				/* a stops */
	s->a = NULL;
	assert_int_equal(g_hash_table_size(store.leases), 0);	/* given back */
	assert_int_equal(store.flushes, 1);

	/* b's next read, within 10 s however long it has waited: no
	 * verdict, the lease is free: b claims and runs the job */
	fake_advance(s->b, 10000);
	assert_int_equal(g_hash_table_size(store.leases), 1);
	assert_int_equal(s->b->calls->len, 1);
	assert_string_equal(call_what(s->b, 0), "GET http://stub.example/hash/" HASH);
	fake_answer_http(s->b, 0, 200, "unknown", -1);
	fake_settle(s->b);
	assert_string_equal(call_what(s->b, 1), "POST http://stub.example/submit");
	fake_answer_http(s->b, 1, 200, "id:J8", -1);
	fake_advance(s->b, 10000);
	fake_job_ends(s->b, 2, "malicious", LOOKUP_MALICIOUS);
	assert_int_equal(g_hash_table_size(store.leases), 0);	/* b's, released */
	job_pair_free(s, &p);
}

static int job_site_one_a_minute(void **state)
{
	return site_up(state, "stubjob", "sandbox", "1/minute");
}

/* The shared budget (1/minute) refuses a running job's poll: the job
 * stays and polls again on its schedule until the budget has a token,
 * then its verdict lands; the URL is submitted once. */
static void test_job_poll_refused_by_shared_budget_keeps_job(void **state)
{
	struct site *s = *state;
	struct fake *a = s->a;
	struct lookup *l = stub_lookup(s->in, INDICATOR_URL, "http://bad.example/");
	struct batch *b = fake_submit(a, s->cfg, &l, 1, 5000);

	assert_string_equal(call_what(a, 0), "POST http://stub.example/submit");
	fake_answer_http(a, 0, 200, "queued:J8", -1);
	fake_settle(a);
	assert_int_equal(l->result.status, LOOKUP_PENDING);
	engine_batch_release(a->engine, b);

	fake_advance(a, 5000);			/* the poll: the budget refuses it */
	assert_int_equal(a->calls->len, 1);
	assert_true(store.rate_asks >= 2);
	assert_int_equal(g_hash_table_size(a->engine->flights), 1);
	for (int i = 0; i < 120 && a->calls->len == 1; i++)
		fake_advance(a, 1000);
	assert_int_equal(a->calls->len, 2);	/* a token again: polled */
	assert_string_equal(call_what(a, 1), "GET http://stub.example/job/J8");
	fake_job_ends(a, 1, "malicious", LOOKUP_MALICIOUS);
	stub_lookup_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rate_limit_shared_by_hosts, http_site, site_down),
		cmocka_unit_test_setup_teardown(test_job_uploaded_by_one_host, job_site, site_down),
		cmocka_unit_test_setup_teardown(test_job_claimed_again_when_owner_gives_up,
						job_site, site_down),
		cmocka_unit_test_setup_teardown(test_job_taken_over_when_owner_stops, job_site,
						site_down),
		cmocka_unit_test_setup_teardown(test_job_poll_refused_by_shared_budget_keeps_job,
						job_site_one_a_minute, site_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
