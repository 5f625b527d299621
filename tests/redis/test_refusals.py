#!/usr/bin/env python3
"""A Redis that answers, but with errors (defect F4): after a failover
the server is a read-only replica (READONLY for every write), or one key
holds a value of another type (WRONGTYPE). The shared cache and budget
silently became per host: the log said "connected; shared cache in use"
and nothing more. Now each daemon logs one warning naming the server's
error for the whole episode, however many messages meet it, and one
notice when the refused commands succeed again; the messages are
answered meanwhile (local cache and budget) and the fallbacks counted.

Run by `make check` through run-redis.sh (TM_BINARY, TM_SRCDIR)."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import redisenv  # noqa: E402

tmtest = redisenv.tmtest
REFUSED = b"using the local cache and RateLimit budget for what it refuses"
AGAIN = b": commands succeed again ("
FALLBACKS = "threatmilter_redis_fallbacks_total"


def batch(tag, count):
    return [redisenv.mail(["https://%s%d.example/" % (tag, i)], i) for i in range(count)]


@unittest.skipUnless(redisenv.available(), "redis-server is not installed")
class Refusals(unittest.TestCase):
    def setUp(self):
        self.site = redisenv.Site("redis", deadline="3s")
        self.addCleanup(self.site.close)
        self.site.wait_connected()

    def send_all(self, tag, count):
        for i, final, mods, _ in redisenv.send_many(self.site.socks, batch(tag, count),
                                                   threads=4):
            self.assertEqual(final[0], "accept", (i, final))
            self.assertEqual(redisenv.verdict(mods), "clean", (i, mods))

    def lines(self, needle):
        return [[line for line in tmtest.read_bytes(log).splitlines() if needle in line]
                for log in self.site.logs]

    def wait_lines(self, needle, what):
        for log in self.site.logs:
            tmtest.wait_for(lambda log=log: needle in tmtest.read_bytes(log), 10, what)

    def assert_one_warning(self, *words):
        """Each daemon logged the refusal once, as a warning with words."""
        self.wait_lines(REFUSED, "the refusal warning")
        for lines in self.lines(REFUSED):
            self.assertEqual(len(lines), 1, lines)
            for word in (b"warning: redis 127.0.0.1:",) + words:
                self.assertIn(word, lines[0])

    def test_read_only_replica_logged_once_then_recovery(self):
        site = self.site
        before = site.counter(FALLBACKS)
        # a replica of a master that is not there: every write is refused
        site.redis.command("REPLICAOF", "127.0.0.1", str(redisenv.free_port()))
        self.send_all("replica", 40)
        self.assert_one_warning(b"READONLY")
        during = site.counter(FALLBACKS)
        self.assertTrue(all(n >= b + 20 for n, b in zip(during, before)), (before, during))
        self.assertEqual(self.lines(AGAIN), [[], []])
        self.assertEqual(site.redis.keys("t:c:*replica*"), [])

        site.redis.command("REPLICAOF", "NO", "ONE")    # promoted: writable again
        self.send_all("promoted", 10)
        self.wait_lines(AGAIN, "the recovery notice")
        self.assertEqual([len(x) for x in self.lines(AGAIN)], [1, 1])
        self.assertEqual(len(site.redis.keys("t:c:*promoted*")), 10)  # shared again
        self.send_all("later", 10)
        self.assertEqual([len(x) for x in self.lines(REFUSED)], [1, 1])
        self.assertEqual([len(x) for x in self.lines(AGAIN)], [1, 1])

    def test_wrong_type_budget_key_logged_once_without_flapping(self):
        # the RateLimit item's key holds a string: every budget take is
        # refused while reads and writes of answers succeed in between
        site = self.site
        key = "t:r:virustotal:10000/1000"
        site.redis.command("DEL", key)
        site.redis.command("SET", key, "not a sorted set")
        self.send_all("wrongtype", 40)
        self.assert_one_warning(b"WRONGTYPE", b"refuses RateLimit grants")
        self.assertEqual(self.lines(AGAIN), [[], []])
        self.assertEqual(len(site.redis.keys("t:c:*wrongtype*")), 40)  # answers shared

        site.redis.command("DEL", key)
        self.send_all("fixed", 6)
        self.wait_lines(AGAIN, "the recovery notice")
        self.assertEqual([len(x) for x in self.lines(AGAIN)], [1, 1])
        self.assertEqual([len(x) for x in self.lines(REFUSED)], [1, 1])
        self.assertEqual(site.redis.command("TYPE", key), b"+zset")


if __name__ == "__main__":
    tmtest.run_tests(__name__)
