#!/usr/bin/env python3
"""The shared RateLimit budget is exact (REDIS_RATE_SCRIPT): at most N
requests in any window of the period, for all hosts together, on the
Redis server's clock:
  - two daemons asking as fast as they can with RateLimit 3/second never
    reach the provider more than 3 times within a second (the refilling
    buckets let 5 out within 0.7 s);
  - a budget the server's clock says is full refuses until its oldest
    grant is a period old;
  - grants of one millisecond are each counted (a member per grant);
  - the state of an older release (a hash under the key) is replaced.

Run by `make check` through run-redis.sh (TM_BINARY, TM_SRCDIR)."""
import os
import re
import shutil
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import redisenv  # noqa: E402


def rate_script():
    """REDIS_RATE_SCRIPT as the daemon sends it (the C string of
    src/core/cache/redis_scripts.h)."""
    path = os.path.join(redisenv.tmtest.SRCDIR, "src", "core", "cache", "redis_scripts.h")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    body = re.search(r"#define REDIS_RATE_SCRIPT \\\n((?:\t\".*\"(?: \\)?\n)+)", text).group(1)
    return "".join(re.findall(r"\"(.*)\"", body)).replace("\\n", "\n")


def pipelined(port, commands):
    """All commands in one write (Redis runs them back to back); the
    replies, each the first line of its answer."""
    payload = b""
    for words in commands:
        parts = [w.encode() for w in words]
        payload += b"*%d\r\n" % len(parts) + b"".join(
            b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        while data.count(b"\r\n") < len(commands):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n")[:len(commands)]


def server_ms(redis):
    parts = redis.command("TIME").split(b"\r\n")	# *2, $n, seconds, $n, micros
    return int(parts[2]) * 1000 + int(parts[4]) // 1000


def most_in_any_window(times, length):
    """The most of the sorted times within any [t, t + length)."""
    most, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + length:
            j += 1
        most = max(most, j - i)
    return most


@unittest.skipUnless(redisenv.available(), "redis-server is not installed")
class BudgetWindow(unittest.TestCase):
    def site(self, rate):
        site = redisenv.Site("redis", overrides={"RateLimit": rate, "Cache": "no"})
        self.addCleanup(site.close)
        # the warm-up messages pay the local budgets, not the shared one
        site.wait_connected()
        for key in site.redis.keys("t:r:*"):
            site.redis.command("DEL", key)
        site.mocks.reset()
        return site

    def test_two_hosts_never_exceed_n_in_any_window(self):
        site = self.site("3/second")
        stop = time.monotonic() + 3.5
        finals = []
        lock = threading.Lock()

        def asker(host, tid):
            n = 0
            while time.monotonic() < stop:
                url = "https://w%d-%d-%d.example/" % (host, tid, n)
                final, _, _ = redisenv.send(site.socks[host], redisenv.mail([url], n))
                with lock:
                    finals.append(final[0])
                n += 1
                time.sleep(0.02)

        threads = [threading.Thread(target=asker, args=(h, t)) for h in (0, 1) for t in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        times = sorted(r["time"] for r in site.mocks.requests("virustotal"))
        self.assertGreater(len(finals), 40)
        self.assertEqual(set(finals), {"accept"})
        # a window of 0.8 s (0.2 s left for the way from Redis to the
        # mock provider) never sees a 4th
        self.assertLessEqual(most_in_any_window(times, 0.8), 3, times)
        # 3 a second at most, the whole time
        self.assertGreaterEqual(len(times), 9)
        self.assertLessEqual(len(times), 12)

    def test_full_budget_by_server_clock_refuses_until_it_frees(self):
        site = self.site("2/minute")
        key = "t:r:virustotal:2/60000"
        # two grants the server's clock puts 58 s ago: two seconds left
        old = server_ms(site.redis) - 58000
        site.redis.command("ZADD", key, str(old), "%d:0" % old, str(old), "%d:1" % old)
        _, mods, _ = redisenv.send(site.socks[0], redisenv.mail(["https://early.example/"]))
        self.assertEqual(redisenv.verdict(mods), "unknown")
        self.assertEqual(site.vt_requests(), 0)
        time.sleep(max(0.0, (old + 60000 - server_ms(site.redis)) / 1000.0) + 0.2)
        _, mods, _ = redisenv.send(site.socks[1], redisenv.mail(["https://later.example/"]))
        self.assertEqual(redisenv.verdict(mods), "clean")
        self.assertEqual(site.vt_requests(), 1)

    def redis(self):
        directory = redisenv.tmtest.tmpdir()
        self.addCleanup(shutil.rmtree, directory, True)
        redis = redisenv.Redis(directory)
        self.addCleanup(redis.stop)
        return redis

    def test_grants_of_one_millisecond_each_count(self):
        redis = self.redis()
        script = rate_script()
        # 50 back to back: at least two share a millisecond
        replies = pipelined(redis.port, [("EVAL", script, "1", "r:x", "40", "60000")] * 50)
        self.assertEqual(replies, [b":1"] * 40 + [b":0"] * 10)
        self.assertEqual(redis.command("ZCARD", "r:x"), b":40")
        ttl = int(redis.command("PTTL", "r:x")[1:])
        self.assertTrue(59000 < ttl <= 60000, ttl)

    def test_older_release_state_is_replaced(self):
        redis = self.redis()
        redis.command("HSET", "r:x", "t", "0", "u", "1")
        replies = pipelined(redis.port, [("EVAL", rate_script(), "2", "r:x", "r:y",
                                          "2", "60000", "5", "1000")] * 3)
        self.assertEqual(replies, [b":1", b":1", b":0"])
        self.assertEqual(redis.command("TYPE", "r:x"), b"+zset")
        self.assertEqual(redis.command("ZCARD", "r:y"), b":2")


if __name__ == "__main__":
    redisenv.tmtest.run_tests(__name__)
