#!/usr/bin/env python3
"""The shared Redis cache (issue 15), two daemons on one real redis-server
(tests/redis/redisenv.py: mocks, redis-server on a free loopback port):

  1. provider calls / distinct (integration, indicator) pairs for N
     messages with shared URLs spread over both daemons by 16 senders,
     CacheBackend redis against memory (expected 1.00 against ~2);
  2. cached throughput through the milter protocol (every answer already
     cached), redis against memory: what the shared path costs;
  3. the longest time a message took while Redis was frozen (SIGSTOP:
     connected, never answering) and while it was stopped, against the
     longest with Redis up: the wait Redis adds during an outage
     (bounded by RedisTimeout, 50 ms);
  4. with --postfix (root, Postfix): bench/postfix.py --quick alternately
     with the memory and the Redis backend, threatmilter cached: msgs/s
     accepted through a real Postfix.

Not a timed test: figures for the note. Usage: bench/redis.py [--messages N] [--postfix [--rounds N]]
"""
import argparse
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "redis"))
sys.path.insert(0, os.path.join(TOP, "bench"))
import redisenv  # noqa: E402
from summary import record  # noqa: E402

POOL = 40


def workload(n, tag="shared"):
    urls = ["https://%s%d.example/p?q=%d" % (tag, i, i) for i in range(POOL)]
    return [redisenv.mail([urls[i % POOL], urls[(i * 7 + 3) % POOL]], i) for i in range(n)]


def calls(backend, n):
    site = redisenv.Site(backend, mocks_delay_ms=20)
    try:
        if backend == "redis":
            site.wait_connected()
        site.mocks.reset()
        redisenv.send_many(site.socks, workload(n), threads=16)
        asked = site.vt_requests()
        # cached throughput: the same messages again, every answer cached
        started = time.monotonic()
        redisenv.send_many(site.socks, workload(n), threads=16)
        rate = n / (time.monotonic() - started)
        return asked / POOL, rate
    finally:
        site.close()


def worst(results):
    return max(r[3] for r in results) * 1000


def outage(n):
    site = redisenv.Site("redis")
    try:
        site.wait_connected()
        redisenv.send_many(site.socks, workload(50, "warm"))
        up = worst(redisenv.send_many(site.socks, workload(n, "up")))
        site.redis.pause()
        frozen = worst(redisenv.send_many(site.socks, workload(n, "frozen")))
        site.redis.resume()
        time.sleep(12)		# back-off: at most 10 s before the link is up again
        site.redis.stop()
        stopped = worst(redisenv.send_many(site.socks, workload(n, "stopped")))
        return up, frozen, stopped, site.log_count(redisenv.OUTAGE_LINE)
    finally:
        site.close()


def postfix(rounds):
    """bench/postfix.py --quick, memory and redis alternately (drift of a
    shared machine falls on both); the cached unix-socket figure."""
    directory = redisenv.tmtest.tmpdir()
    server = redisenv.Redis(directory)
    figures = {"memory": [], "redis": []}
    try:
        for _ in range(rounds):
            for backend in ("memory", "redis"):
                env = dict(os.environ)
                if backend == "redis":
                    env["TM_BENCH_REDIS"] = "127.0.0.1:%d" % server.port
                out = subprocess.run([sys.executable, os.path.join(TOP, "bench", "postfix.py"),
                                      "--quick", "--runs", "1", "--messages", "1000"],
                                     env=env, capture_output=True, text=True, check=True).stdout
                m = re.search(r"threatmilter cached, unix\s+([\d.]+)", out)
                figures[backend].append(float(m.group(1)))
    finally:
        server.stop()
        redisenv.shutil.rmtree(directory, ignore_errors=True)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--postfix", action="store_true", help="only the Postfix figure")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not redisenv.available():
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    if args.postfix:
        f = postfix(args.rounds)
        med = {k: sorted(v)[len(v) // 2] for k, v in f.items()}
        print("Postfix, threatmilter cached, msgs/s per round: memory %s, redis %s; "
              "medians %.0f and %.0f (redis %.0f%%)" % (f["memory"], f["redis"], med["memory"],
                                                      med["redis"],
                                                      100 * med["redis"] / med["memory"]))
        record("redis", "Postfix msgs/s, threatmilter cached, Redis backend",
               round(med["redis"]), "msg/s", round(med["redis"] / med["memory"], 2),
               "memory backend")
        return
    ratio_r, rate_r = calls("redis", args.messages)
    ratio_m, rate_m = calls("memory", args.messages)
    print("provider calls / distinct pairs: redis %.2f, memory %.2f (%d messages, %d pairs)"
          % (ratio_r, ratio_m, args.messages, POOL))
    print("cached messages/s through the milter protocol: redis %.0f, memory %.0f (%.0f%%)"
          % (rate_r, rate_m, 100.0 * rate_r / rate_m))
    record("redis", "provider calls / distinct pairs, shared Redis", round(ratio_r, 2), "ratio",
           round(ratio_r / ratio_m, 2), "two memory caches")
    record("redis", "cached messages/s, Redis backend", round(rate_r), "msg/s",
           round(rate_r / rate_m, 2), "memory backend")
    up, frozen, stopped, lines = outage(300)
    print("longest message: %.0f ms with Redis up, %.0f ms frozen, %.0f ms stopped; "
          "outage warnings per daemon %s (two outages)" % (up, frozen, stopped, lines))
    record("redis", "longest message while Redis is frozen", round(frozen), "ms",
           round(frozen / up, 2), "Redis up")


if __name__ == "__main__":
    main()
