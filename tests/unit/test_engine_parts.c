/* test_engine_parts.c: the engine's bookkeeping on its own: the cache
 * (hours, hit count, LRU bound), the rate limiter's buckets and the
 * circuit breaker's states. Time is passed in, so nothing here sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "breaker.h"
#include "cache.h"
#include "ratelimit.h"

#define HOUR_MS (3600 * 1000LL)

static void test_cache_hit_then_expiry_by_time(void **state)
{
	(void)state;
	struct cache *c = cache_memory_new(100);
	enum lookup_status st;
	char *details = NULL;

	cache_put(c, "vt|url|https://a.example/", LOOKUP_MALICIOUS, "12/93", 24 * HOUR_MS, 100);
	assert_true(cache_get(c, "vt|url|https://a.example/", 23 * HOUR_MS, &st, &details));
	assert_int_equal(st, LOOKUP_MALICIOUS);
	assert_string_equal(details, "12/93");
	g_free(details);
	assert_false(cache_get(c, "vt|url|https://a.example/", 24 * HOUR_MS, &st, &details));
	assert_int_equal(c->ops->count(c), 0);
	assert_false(cache_get(c, "vt|url|https://other.example/", 0, &st, &details));
	cache_free(c);
}

static void test_cache_expiry_by_hits(void **state)
{
	(void)state;
	struct cache *c = cache_memory_new(100);
	enum lookup_status st;
	char *details;

	cache_put(c, "k", LOOKUP_CLEAN, NULL, HOUR_MS, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(cache_get(c, "k", 0, &st, &details));
		assert_null(details);
	}
	assert_false(cache_get(c, "k", 0, &st, &details));
	cache_free(c);
}

static void test_cache_lru_bound(void **state)
{
	(void)state;
	struct cache *c = cache_memory_new(2);
	enum lookup_status st;
	char *details;

	cache_put(c, "a", LOOKUP_CLEAN, NULL, HOUR_MS, 10);
	cache_put(c, "b", LOOKUP_CLEAN, NULL, HOUR_MS, 10);
	assert_true(cache_get(c, "a", 0, &st, &details));	/* a is now the most recent */
	cache_put(c, "c", LOOKUP_CLEAN, NULL, HOUR_MS, 10);	/* evicts b */
	assert_int_equal(c->ops->count(c), 2);
	assert_true(cache_get(c, "a", 0, &st, &details));
	assert_false(cache_get(c, "b", 0, &st, &details));
	assert_true(cache_get(c, "c", 0, &st, &details));
	cache_put(c, "c", LOOKUP_MALICIOUS, "x", HOUR_MS, 10);	/* replace */
	assert_true(cache_get(c, "c", 0, &st, &details));
	assert_int_equal(st, LOOKUP_MALICIOUS);
	g_free(details);
	cache_free(c);
}

static void test_ratelimit_buckets(void **state)
{
	(void)state;
	char err[256];
	struct ratelimit *rl = ratelimit_new("4/minute, 6/day", err, sizeof(err));

	assert_non_null(rl);
	for (int i = 0; i < 4; i++)
		assert_true(ratelimit_take(rl, 1000));
	assert_false(ratelimit_take(rl, 1000));
	assert_int_equal(ratelimit_wait_ms(rl, 1000), 15001);
	assert_true(ratelimit_take(rl, 1000 + 15001));	/* one token back after 15 s */
	assert_false(ratelimit_take(rl, 1000 + 15001));
	assert_true(ratelimit_take(rl, 1000 + 60000));	/* 6th of the day */
	assert_false(ratelimit_take(rl, 1000 + 120000));	/* daily bucket empty */
	ratelimit_free(rl);

	rl = ratelimit_new("", err, sizeof(err));		/* unlimited */
	for (int i = 0; i < 1000; i++)
		assert_true(ratelimit_take(rl, 0));
	ratelimit_free(rl);
}

static void test_ratelimit_bad_specs(void **state)
{
	(void)state;
	char err[256];
	static const char *const bad[] = { "4", "4/fortnight", "0/minute", "x/minute", "4/minute,", "-1/day" };

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		err[0] = '\0';
		/* a trailing comma is tolerated: it names no bucket */
		bool valid = ratelimit_spec_valid(bad[i], err, sizeof(err));
		if (strcmp(bad[i], "4/minute,") == 0) {
			assert_true(valid);
			continue;
		}
		assert_false(valid);
		assert_true(strlen(err) > 0);
	}
}

static void test_breaker_opens_and_recovers(void **state)
{
	(void)state;
	struct breaker b;

	breaker_init(&b, 3, 1000, 8000);
	assert_true(breaker_allow(&b, 0));
	breaker_failure(&b, 0);
	breaker_failure(&b, 0);
	assert_true(breaker_allow(&b, 0));
	breaker_failure(&b, 10);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_false(breaker_allow(&b, 500));
	/* cool-down over: one probe, the rest refused */
	assert_true(breaker_allow(&b, 1010));
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_false(breaker_allow(&b, 1011));
	/* probe fails: open again for twice as long */
	breaker_failure(&b, 1020);
	assert_false(breaker_allow(&b, 1020 + 1999));
	assert_true(breaker_allow(&b, 1020 + 2000));
	breaker_success(&b);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_true(breaker_allow(&b, 3100));
	/* after recovery the count starts again */
	breaker_failure(&b, 3100);
	assert_int_equal(b.state, BREAKER_CLOSED);
}

static void test_breaker_retry_after(void **state)
{
	(void)state;
	struct breaker b;

	breaker_init(&b, 5, 1000, 8000);
	breaker_open_for(&b, 100, 30000);
	assert_false(breaker_allow(&b, 30099));
	assert_true(breaker_allow(&b, 30100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hit_then_expiry_by_time),
		cmocka_unit_test(test_cache_expiry_by_hits),
		cmocka_unit_test(test_cache_lru_bound),
		cmocka_unit_test(test_ratelimit_buckets),
		cmocka_unit_test(test_ratelimit_bad_specs),
		cmocka_unit_test(test_breaker_opens_and_recovers),
		cmocka_unit_test(test_breaker_retry_after),
	};
	return cmocka_run_group_tests_name("engine parts", tests, NULL, NULL);
}
