#!/usr/bin/env python3
"""Redis down or slow is never a mail problem (issue 15): with Redis
stopped in the middle of a run, or frozen (SIGSTOP: connected but never
answering), every message is still answered within its deadline, none
is lost, each daemon logs the outage once; Redis back, it is used again.

Run by `make check` through run-redis.sh (TM_BINARY, TM_SRCDIR)."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import redisenv  # noqa: E402

DEADLINE_S = 2


def batch(tag, count):
    return [redisenv.mail(["https://%s%d.example/" % (tag, i % 10),
                           "https://%s-common.example/" % tag], i) for i in range(count)]


@unittest.skipUnless(redisenv.available(), "redis-server is not installed")
class Outage(unittest.TestCase):
    def setUp(self):
        self.site = redisenv.Site("redis", deadline="%ds" % DEADLINE_S)
        self.addCleanup(self.site.close)
        self.site.wait_connected()

    def check_all_answered(self, results):
        for i, final, mods, secs in results:
            self.assertEqual(final[0], "accept", (i, final))
            self.assertEqual(redisenv.verdict(mods), "clean", (i, mods))
            self.assertLess(secs, DEADLINE_S, i)

    def wait_back(self):
        for log in self.site.logs:
            redisenv.tmtest.wait_for(
                lambda log=log: redisenv.BACK_LINE in redisenv.tmtest.read_bytes(log),
                20, "Redis used again")

    def test_stopped_mid_run_then_restarted(self):
        site = self.site
        self.check_all_answered(redisenv.send_many(site.socks, batch("before", 100)))
        fallbacks = "threatmilter_redis_fallbacks_total"
        before = site.counter(fallbacks)	# the calls before the connection was up
        self.assertTrue(all(n is not None for n in before), before)
        site.redis.stop()
        during = redisenv.send_many(site.socks, batch("during", 200))
        self.check_all_answered(during)
        # every call the local cache and budget answered is counted (was
        # never counted: the series stayed 0 through an outage)
        counted = site.counter(fallbacks)
        self.assertTrue(all(n >= b + 100 for n, b in zip(counted, before)), (before, counted))
        time.sleep(1.5)			# a few reconnects fail meanwhile
        self.check_all_answered(redisenv.send_many(site.socks, batch("later", 50)))
        # one line per daemon for the whole outage
        self.assertEqual(site.log_count(redisenv.OUTAGE_LINE), [1, 1])
        site.redis.start()
        self.wait_back()
        self.assertEqual(site.log_count(redisenv.BACK_LINE), [1, 1])
        site.mocks.reset()
        self.check_all_answered(redisenv.send_many(site.socks, batch("after", 100)))
        # used again: shared answers in Redis, one request per pair
        self.assertEqual(site.vt_requests(), 11)
        self.assertEqual(len(site.redis.keys("t:c:virustotal:url:https://after*")), 11)

    def test_frozen_redis_costs_at_most_redis_timeout(self):
        site = self.site
        self.check_all_answered(redisenv.send_many(site.socks, batch("warm", 20)))
        baseline = max(r[3] for r in redisenv.send_many(site.socks, batch("base", 50)))
        site.redis.pause()
        try:
            frozen = redisenv.send_many(site.socks, batch("frozen", 100))
        finally:
            site.redis.resume()
        self.check_all_answered(frozen)
        worst = max(r[3] for r in frozen)
        # RedisTimeout is 50 ms: a message waits for one timed-out
        # command at most (the rest fall back at once); generous margin
        # for a loaded test machine
        self.assertLess(worst, baseline + 0.5, (worst, baseline))
        self.assertEqual(site.log_count(redisenv.OUTAGE_LINE), [1, 1])
        self.wait_back()


if __name__ == "__main__":
    redisenv.tmtest.run_tests(__name__)
