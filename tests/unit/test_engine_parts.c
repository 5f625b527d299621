/* test_engine_parts.c: the engine's bookkeeping on its own: the cache
 * (hours, hit count, LRU bound), the rate limiter's windows, the
 * circuit breaker's states and the epoll watch set. Time is passed in,
 * so nothing here sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "engine/breaker.h"
#include "cache/cache.h"
#include "engine/ratelimit.h"
#include "engine/transport.h"
#include "engine/watchset.h"

#define HOUR_MS 3600LL	/* the cache counts wall-clock seconds */

static bool cache_get_now(struct cache *c, const char *key, int64_t now_s,
			  enum lookup_status *st, char **details)
{
	struct cache_answer a = { 0 };

	if (!cache_try_get(c, key, now_s, &a))
		return false;
	*st = a.status;
	*details = a.details;
	return true;
}

static void cache_put_now(struct cache *c, const char *key, enum lookup_status st,
			  const char *details, int64_t expires_s, unsigned max_hits)
{
	struct cache_answer a = { .status = st, .details = (char *)details };

	cache_put(c, key, &a, expires_s, max_hits);
}

static void watch_a(void *data, int fd, uint32_t events)
{
	(void)data; (void)fd; (void)events;
}

static void watch_b(void *data, int fd, uint32_t events)
{
	(void)data; (void)fd; (void)events;
}

static void test_cache_hit_then_expiry_by_time(void **state)
{
	(void)state;
	struct cache *c = cache_memory_new(100);
	enum lookup_status st;
	char *details = NULL;

	cache_put_now(c, "vt|url|https://a.example/", LOOKUP_MALICIOUS, "12/93", 24 * HOUR_MS, 100);
	assert_true(cache_get_now(c, "vt|url|https://a.example/", 23 * HOUR_MS, &st, &details));
	assert_int_equal(st, LOOKUP_MALICIOUS);
	assert_string_equal(details, "12/93");
	g_free(details);
	assert_false(cache_get_now(c, "vt|url|https://a.example/", 24 * HOUR_MS, &st, &details));
	assert_int_equal(cache_memory_count(c), 0);
	assert_false(cache_get_now(c, "vt|url|https://other.example/", 0, &st, &details));
	cache_free(c);
}

static void test_cache_expiry_by_hits(void **state)
{
	(void)state;
	struct cache *c = cache_memory_new(100);
	enum lookup_status st;
	char *details = NULL;

	cache_put_now(c, "k", LOOKUP_CLEAN, NULL, HOUR_MS, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(cache_get_now(c, "k", 0, &st, &details));
		assert_null(details);
	}
	assert_false(cache_get_now(c, "k", 0, &st, &details));
	cache_free(c);
}

static void test_cache_lru_bound(void **state)
{
	(void)state;
	struct cache *c = cache_memory_new(2);
	enum lookup_status st;
	char *details = NULL;

	cache_put_now(c, "a", LOOKUP_CLEAN, NULL, HOUR_MS, 10);
	cache_put_now(c, "b", LOOKUP_CLEAN, NULL, HOUR_MS, 10);
	assert_true(cache_get_now(c, "a", 0, &st, &details));	/* a is now the most recent */
	cache_put_now(c, "c", LOOKUP_CLEAN, NULL, HOUR_MS, 10);	/* evicts b */
	assert_int_equal(cache_memory_count(c), 2);
	assert_true(cache_get_now(c, "a", 0, &st, &details));
	assert_false(cache_get_now(c, "b", 0, &st, &details));
	assert_true(cache_get_now(c, "c", 0, &st, &details));
	cache_put_now(c, "c", LOOKUP_MALICIOUS, "x", HOUR_MS, 10);	/* replace */
	assert_true(cache_get_now(c, "c", 0, &st, &details));
	assert_int_equal(st, LOOKUP_MALICIOUS);
	g_free(details);
	cache_free(c);
}

/* Two items: the minute's 4 are back all at once when the first 4
 * leave their window (not one per 15 s), the day's 6 only a day after. */
/* A reload that changes RateLimit kept no history: "4/minute" spent, then
 * "3/minute" granted 3 more at once. The grants carry over. */
static void test_ratelimit_reload_keeps_the_grants(void **state)
{
	char err[128];
	struct ratelimit *old = ratelimit_new("4/minute", err, sizeof(err));
	struct ratelimit *lower = ratelimit_new("3/minute", err, sizeof(err));
	struct ratelimit *higher = ratelimit_new("6/minute,100/day", err, sizeof(err));
	struct ratelimit *empty = ratelimit_new("2/second", err, sizeof(err));

	(void)state;
	for (int64_t t = 0; t < 4; t++)
		assert_true(ratelimit_take(old, t * 1000));
	ratelimit_carry(lower, old);
	ratelimit_carry(higher, old);
	assert_false(ratelimit_take(lower, 5000));
	assert_int_equal(ratelimit_wait_ms(lower, 5000), 56000);	/* the 2nd grant + 60 s */
	assert_true(ratelimit_take(lower, 61000));
	assert_true(ratelimit_take(higher, 5000));
	assert_true(ratelimit_take(higher, 5000));
	assert_false(ratelimit_take(higher, 5000));
	ratelimit_carry(empty, lower);		/* long gone from a 1 s window */
	assert_true(ratelimit_take(empty, 62000));
	ratelimit_free(old);
	ratelimit_free(lower);
	ratelimit_free(higher);
	ratelimit_free(empty);
}

static void test_ratelimit_items(void **state)
{
	(void)state;
	char err[256];
	struct ratelimit *rl = ratelimit_new("4/minute, 6/day", err, sizeof(err));

	assert_non_null(rl);
	assert_int_equal(ratelimit_wait_ms(rl, 1000), 0);
	for (int i = 0; i < 4; i++)
		assert_true(ratelimit_take(rl, 1000));
	assert_false(ratelimit_take(rl, 1000));
	assert_int_equal(ratelimit_wait_ms(rl, 1000), 60000);
	assert_int_equal(ratelimit_wait_ms(rl, 16001), 44999);
	assert_false(ratelimit_take(rl, 16001));	/* none back after 15 s */
	assert_false(ratelimit_take(rl, 60999));
	assert_true(ratelimit_take(rl, 61000));		/* 5th and 6th of the day */
	assert_true(ratelimit_take(rl, 61000));
	assert_false(ratelimit_take(rl, 61000));
	assert_int_equal(ratelimit_wait_ms(rl, 121000), 86400000 - 120000);
	assert_false(ratelimit_take(rl, 1000 + 86400000 - 1));
	assert_true(ratelimit_take(rl, 1000 + 86400000));
	ratelimit_free(rl);

	rl = ratelimit_new("", err, sizeof(err));		/* unlimited */
	for (int i = 0; i < 1000; i++)
		assert_true(ratelimit_take(rl, 0));
	assert_int_equal(ratelimit_wait_ms(rl, 0), 0);
	ratelimit_free(rl);
}

struct rate_item {
	unsigned n;
	int64_t period_ms;
};

/* Grants of the log within (t - period, t]: counted one by one, the
 * definition the provider applies. */
static unsigned grants_in_window(const GArray *log, int64_t t, int64_t period_ms)
{
	unsigned count = 0;

	for (guint i = 0; i < log->len; i++) {
		int64_t g = g_array_index(log, int64_t, i);
		count += g > t - period_ms && g <= t;
	}
	return count;
}

static bool free_at(const GArray *log, const struct rate_item *items, size_t count, int64_t t)
{
	for (size_t j = 0; j < count; j++) {
		if (grants_in_window(log, t, items[j].period_ms) >= items[j].n)
			return false;
	}
	return true;
}

/* The earliest t >= now at which every item holds fewer than N grants:
 * now, or a moment a grant leaves some item's window (no grant is later
 * than now), each tried. */
static int64_t brute_wait(const GArray *log, const struct rate_item *items, size_t count,
			  int64_t now)
{
	int64_t best = free_at(log, items, count, now) ? now : INT64_MAX;

	for (guint i = 0; i < log->len; i++) {
		for (size_t k = 0; k < count; k++) {
			int64_t t = g_array_index(log, int64_t, i) + items[k].period_ms;

			if (t >= now && t < best && free_at(log, items, count, t))
				best = t;
		}
	}
	return best - now;
}

/* Requests over several periods, at times from step (0: as fast as
 * granted: again at once, or after wait_ms when refused); every answer
 * and every wait_ms checked against the grant log, then no window of
 * any item's period holds more than its N. */
static void drive(const char *spec, const struct rate_item *items, size_t count,
		  int64_t until_ms, int64_t (*step)(GRand *))
{
	char err[256];
	struct ratelimit *rl = ratelimit_new(spec, err, sizeof(err));
	GArray *log = g_array_new(FALSE, FALSE, sizeof(int64_t));
	GRand *rand = g_rand_new_with_seed(7);
	int64_t now = 1000;

	assert_non_null(rl);
	while (now < until_ms) {
		int64_t wait = ratelimit_wait_ms(rl, now);

		assert_int_equal(wait, brute_wait(log, items, count, now));
		assert_int_equal(ratelimit_take(rl, now), wait == 0);
		if (wait == 0)
			g_array_append_val(log, now);
		else if (step == NULL)
			assert_false(ratelimit_take(rl, now + wait - 1));
		now += step != NULL ? step(rand) : wait;
	}
	for (size_t k = 0; k < count; k++) {
		for (guint i = 0, j = 0; i < log->len; i++) {
			int64_t from = g_array_index(log, int64_t, i);

			while (j < log->len && g_array_index(log, int64_t, j) < from + items[k].period_ms)
				j++;
			assert_in_range(j - i, 1, items[k].n);	/* [from, from + period) */
		}
	}
	assert_true(log->len > 3 * items[0].n);
	g_rand_free(rand);
	g_array_free(log, TRUE);
	ratelimit_free(rl);
}

static int64_t random_step(GRand *rand)
{
	return g_rand_int_range(rand, 0, 400);
}

/* Defect: RateLimit refilled continuously and let 2N-1 requests out in
 * one period (N at the end of one burst, N-1 refilled), and VirusTotal's
 * 4/minute key answered 429. */
static void test_ratelimit_never_more_than_n_in_any_window(void **state)
{
	(void)state;
	static const struct rate_item vt[] = { { 4, 60000 } };
	static const struct rate_item two[] = { { 2, 1000 }, { 3, 60000 } };
	static const struct rate_item wide[] = { { 40, 1000 }, { 100, 60000 } };

	drive("4/minute", vt, 1, 5 * 60000, NULL);
	drive("4/minute", vt, 1, 5 * 60000, random_step);
	drive("2/second,3/minute", two, 2, 4 * 60000, NULL);
	drive("2/second,3/minute", two, 2, 4 * 60000, random_step);
	drive("40/second, 100/minute", wide, 2, 3 * 60000, NULL);
}

static void test_ratelimit_bad_specs(void **state)
{
	(void)state;
	char err[256];
	static const char *const bad[] = { "4", "4/fortnight", "0/minute", "x/minute", "4/minute,", "-1/day" };

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		err[0] = '\0';
		/* a trailing comma is tolerated: it names no item */
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

/* Regression (found by bench/milter.py, a use-after-free under ASan and a
 * SIGSEGV without): epoll returned events for sockets A and B in one
 * batch; handling A made curl stop watching B, and the loop then used B's
 * freed watch. Events carry descriptor and registration now; B's event
 * is dropped. */
static void test_watchset_event_for_a_dropped_socket(void **state)
{
	(void)state;
	int ep = epoll_create1(0), a[2], b[2];
	struct watchset *set = watchset_new(ep);
	struct epoll_event events[8];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	assert_int_equal(watchset_update(set, a[0], watch_a, NULL, true, false), 0);
	assert_int_equal(watchset_update(set, b[0], watch_b, NULL, true, false), 0);
	assert_int_equal(watchset_count(set), 2);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(epoll_wait(ep, events, 8, 1000), 2);

	int handled = 0, dropped = 0, closed = -1;
	for (int i = 0; i < 2; i++) {
		const struct watch *w = watchset_lookup_event(set, events[i].data.u64);

		if (w == NULL) {
			dropped++;
			continue;
		}
		assert_true(w->fd == a[0] || w->fd == b[0]);
		assert_int_equal(w->fn == watch_b, w->fd == b[0]);
		handled++;
		/* handling the first event drops and closes the other socket,
		 * as curl does when a transfer's connection is closed */
		int other = w->fd == a[0] ? b[0] : a[0];
		assert_int_equal(watchset_update(set, other, watch_a, NULL, false, false), 0);
		close(other);
		closed = other;
	}
	assert_int_equal(handled, 1);
	assert_int_equal(dropped, 1);
	assert_int_equal(watchset_count(set), 1);
	watchset_free(set);
	close(a[1]);
	close(b[1]);
	close(closed == a[0] ? b[0] : a[0]);
	close(ep);
}

/* Handling A drops socket B and opens a new socket that gets B's number
 * (curl replacing a connection): B's stale event, already in the batch,
 * must not be taken for the new socket's (an old EPOLLERR would fail a
 * fresh connection). */
static void test_watchset_stale_event_for_a_reused_number(void **state)
{
	(void)state;
	int ep = epoll_create1(0), b[2], c[2];
	struct watchset *set = watchset_new(ep);
	struct epoll_event ev;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	assert_int_equal(watchset_update(set, b[0], watch_a, NULL, true, false), 0);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);	/* B's event, in hand */
	int number = b[0];
	assert_int_equal(watchset_update(set, b[0], watch_a, NULL, false, false), 0);
	close(b[0]);
	close(b[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, c), 0);
	assert_int_equal(c[0], number);	/* the lowest free number again */
	assert_int_equal(watchset_update(set, c[0], watch_a, NULL, true, true), 0);
	assert_non_null(watchset_lookup(set, number));
	assert_null(watchset_lookup_event(set, ev.data.u64));
	/* the new socket's own events are recognised */
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	assert_true(ev.events & EPOLLOUT);
	assert_non_null(watchset_lookup_event(set, ev.data.u64));
	watchset_free(set);
	close(c[0]);
	close(c[1]);
	close(ep);
}

/* A library that closes a socket without saying so first: epoll forgets
 * it, the number is reused, and the new socket must still be watched. */
static void test_watchset_reused_descriptor(void **state)
{
	(void)state;
	int ep = epoll_create1(0), s[2];
	struct watchset *set = watchset_new(ep);
	struct epoll_event ev;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	int fd = s[0];
	assert_int_equal(watchset_update(set, fd, watch_a, NULL, true, false), 0);
	close(s[0]);
	close(s[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	assert_int_equal(s[0], fd);
	assert_int_equal(watchset_update(set, fd, watch_a, NULL, true, true), 0);
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	assert_true(ev.events & EPOLLOUT);
	const struct watch *w = watchset_lookup_event(set, ev.data.u64);
	assert_non_null(w);
	assert_int_equal(w->fd, fd);
	/* stopping a descriptor never watched is a no-op; the engine's own
	 * wake-up descriptor never matches a watch */
	assert_int_equal(watchset_update(set, s[1], watch_a, NULL, false, false), 0);
	assert_null(watchset_lookup(set, s[1]));
	assert_null(watchset_lookup_event(set, watchset_outside_event(fd)));
	assert_int_equal(watchset_count(set), 1);
	watchset_free(set);
	close(s[0]);
	close(s[1]);
	close(ep);
}

/* Defect 11: every try of every server, the second round doubled by
 * c-ares, fits in the integration's Timeout. */
static void test_defect11_dns_tries_fit_in_timeout(void **state)
{
	(void)state;
	static const int64_t timeouts[] = { 300, 1000, 2000, 5000, 30000 };
	int try_ms, tries;

	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		for (int servers = 1; servers <= 3; servers++) {
			dns_retry_plan(timeouts[i], servers, &try_ms, &tries);
			assert_true(tries == 1 || tries == 2);
			assert_true((int64_t)servers * try_ms * (tries == 2 ? 3 : 1) <= timeouts[i]);
			assert_true(try_ms >= 1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defect11_dns_tries_fit_in_timeout),
		cmocka_unit_test(test_cache_hit_then_expiry_by_time),
		cmocka_unit_test(test_cache_expiry_by_hits),
		cmocka_unit_test(test_cache_lru_bound),
		cmocka_unit_test(test_ratelimit_items),
		cmocka_unit_test(test_ratelimit_reload_keeps_the_grants),
		cmocka_unit_test(test_ratelimit_never_more_than_n_in_any_window),
		cmocka_unit_test(test_ratelimit_bad_specs),
		cmocka_unit_test(test_breaker_opens_and_recovers),
		cmocka_unit_test(test_breaker_retry_after),
		cmocka_unit_test(test_watchset_event_for_a_dropped_socket),
		cmocka_unit_test(test_watchset_stale_event_for_a_reused_number),
		cmocka_unit_test(test_watchset_reused_descriptor),
	};
	return cmocka_run_group_tests_name("engine parts", tests, NULL, NULL);
}
