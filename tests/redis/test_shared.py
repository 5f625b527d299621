#!/usr/bin/env python3
"""Two daemons sharing one real redis-server (issue 15 "Tests"):
  - 1,000 messages spread over both with shared URLs: the provider gets
    one request per distinct (integration, indicator) pair, where two
    memory caches ask about twice as often;
  - RateLimit 4/minute is one budget for both hosts: together they make
    at most 4 requests in the minute;
  - CacheMaxHits is counted for both hosts together (a Lua script).

Run by `make check` through run-redis.sh (TM_BINARY, TM_SRCDIR)."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import redisenv  # noqa: E402


def shared_messages(count, pool):
    urls = ["https://shared%d.example/path?q=%d" % (i, i) for i in range(pool)]
    return [redisenv.mail([urls[i % pool], urls[(i * 7 + 3) % pool]], i)
            for i in range(count)], pool


@unittest.skipUnless(redisenv.available(), "redis-server is not installed")
class SharedCache(unittest.TestCase):
    def run_site(self, backend):
        site = redisenv.Site(backend)
        self.addCleanup(site.close)
        if backend == "redis":
            site.wait_connected()
        site.mocks.reset()
        messages, distinct = shared_messages(1000, 40)
        results = redisenv.send_many(site.socks, messages, threads=16)
        for i, final, mods, _ in results:
            self.assertEqual(final[0], "accept", (i, final))
            self.assertEqual(redisenv.verdict(mods), "clean", (i, mods))
        return site, site.vt_requests(), distinct

    def test_provider_requests_equal_distinct_pairs(self):
        site, requests, distinct = self.run_site("redis")
        self.assertEqual(requests, distinct)
        # the answers are in Redis under the documented keys
        keys = site.redis.keys("t:c:virustotal:url:*")
        self.assertGreaterEqual(len(keys), distinct)

    def test_memory_caches_ask_once_per_host(self):
        # the control: without Redis each host asks for itself
        _, requests, distinct = self.run_site("memory")
        self.assertGreater(requests, distinct)
        self.assertLessEqual(requests, 2 * distinct)


@unittest.skipUnless(redisenv.available(), "redis-server is not installed")
class SharedBudget(unittest.TestCase):
    def test_rate_limit_is_one_budget_for_both_hosts(self):
        site = redisenv.Site("redis", overrides={"RateLimit": "4/minute", "Cache": "no"})
        self.addCleanup(site.close)
        # the warm-up messages come while the connection is being made:
        # the local budgets pay for them, not the shared one
        site.wait_connected()
        site.mocks.reset()
        messages = [redisenv.mail(["https://distinct%d.example/" % i], i) for i in range(20)]
        results = redisenv.send_many(site.socks, messages, threads=4)
        for i, final, _, secs in results:
            self.assertEqual(final[0], "accept", (i, final))
            self.assertLess(secs, 5, i)
        # 4 in any minute for the site (this runs within a few seconds);
        # two local budgets would have given 6
        self.assertEqual(site.vt_requests(), 4)
        self.assertTrue(site.redis.keys("t:r:virustotal:4/60000"))

    def test_cache_max_hits_counted_for_both_hosts(self):
        site = redisenv.Site("redis", overrides={"CacheMaxHits": "3"})
        self.addCleanup(site.close)
        site.wait_connected()
        site.mocks.reset()
        url = "https://counted.example/"
        # one at a time: ask (1 request), then 3 hits spread over both
        # hosts, then asked again
        for i in range(5):
            final, _, _ = redisenv.send(site.socks[i % 2], redisenv.mail([url], i))
            self.assertEqual(final[0], "accept")
        self.assertEqual(site.vt_requests(), 2)

    def test_lookup_ending_without_answer_lets_go_of_the_lock(self):
        # host a's lookup ends rate_limited (nothing cached): host b,
        # asking the same URL just after, must not wait out a's
        # single-flight lock (5 s, past this ScanDeadline of 3 s)
        site = redisenv.Site("redis", overrides={"RateLimit": "1/minute"}, deadline="3s")
        self.addCleanup(site.close)
        site.wait_connected()		# on the local budgets
        final, mods, _ = redisenv.send(site.socks[0], redisenv.mail(["https://first.example/"]))
        self.assertEqual(redisenv.verdict(mods), "clean")	# the shared token
        url = ["https://refused.example/"]
        _, mods_a, _ = redisenv.send(site.socks[0], redisenv.mail(url))
        _, mods_b, secs = redisenv.send(site.socks[1], redisenv.mail(url))
        self.assertEqual(redisenv.verdict(mods_a), "unknown")
        self.assertEqual(redisenv.verdict(mods_b), "unknown")
        self.assertLess(secs, 1.5)
        self.assertFalse(site.redis.keys("t:l:*"))

    def test_same_new_url_on_both_hosts_at_once_is_asked_once(self):
        # single flight across hosts: the provider answers in 300 ms, both
        # hosts ask the same new URL at the same moment
        site = redisenv.Site("redis", mocks_delay_ms=300)
        self.addCleanup(site.close)
        site.wait_connected()
        site.mocks.reset()
        for round_ in range(3):
            msgs = [redisenv.mail(["https://together%d.example/" % round_], i) for i in range(2)]
            for i, final, mods, _ in redisenv.send_many(site.socks, msgs, threads=2):
                self.assertEqual(redisenv.verdict(mods), "clean", (round_, i))
        self.assertEqual(site.vt_requests(), 3)

    def test_foreign_value_in_redis_is_a_miss(self):
        # Redis is shared: a status the engine never stores, written there
        # by anything else, must not become a verdict (it was read as one)
        site = redisenv.Site("redis")
        self.addCleanup(site.close)
        site.wait_connected()
        site.mocks.reset()
        url = "https://foreign.example/"
        for status in ("99", "-1", "abc", "6"):
            site.redis.command("HSET", "t:c:virustotal:url:" + url, "s", status, "d", "x",
                               "h", "5")
            final, mods, _ = redisenv.send(site.socks[0], redisenv.mail([url]))
            self.assertEqual(final[0], "accept")
            self.assertEqual(redisenv.verdict(mods), "clean", status)
        self.assertEqual(site.vt_requests(), 4)


if __name__ == "__main__":
    redisenv.tmtest.run_tests(__name__)
