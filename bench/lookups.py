#!/usr/bin/env python3
"""Lookup benchmark for `threatmilter scan`: the mock providers answer
every HTTP request after DELAY ms (default 100); five integrations
(Spamhaus over DNS -- answered at once by the DNS mock --, VirusTotal,
Safe Browsing, Web Risk, X-Force over HTTPS).

Reports, from one run so the figures compare:
  - cold scan latency per message (every lookup new) against the delay:
    lookups overlap, so it should be close to 1x the delay, not 5x;
  - scans/s cold vs cached (the same messages again in the same process);
  - provider requests vs distinct (integration, indicator) pairs (Safe
    Browsing left out: it asks about all URLs of a message at once).
Not a test: nothing here asserts a time.

Usage: bench/lookups.py [--delay-ms N] [--messages N] [--runs N] [--binary PATH]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import tmtest  # noqa: E402
from summary import record  # noqa: E402


def message(i, run):
    # distinct per message and per run: cold means cold
    return ("Received: from h (h [192.0.2.%d]) by mx.example.net with ESMTP id %d;"
            " Tue, 2 Jan 2024 10:00:00 +0000\r\nFrom: a@example.net\r\nTo: b@example.com\r\n"
            "Subject: bench %d\r\n\r\nhttps://r%d-m%d-a.example/path http://r%d-m%d-b.example/\r\n"
            % (1 + (i + run * 50) % 250, i, i, run, i, run, i)).encode()


def run_scan(binary, conf, files):
    start = time.perf_counter()
    out = subprocess.run([binary, "scan", "-c", conf, *files], capture_output=True, check=True)
    wall = time.perf_counter() - start
    objs = [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]
    return wall, objs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay-ms", type=int, default=100)
    ap.add_argument("--messages", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(TOP, "threatmilter"))
    args = ap.parse_args()
    os.environ["TM_SRCDIR"] = TOP

    work = tmtest.tmpdir()
    mocks = tmtest.Mocks(work, delay_ms=args.delay_ms)
    try:
        conf = tmtest.write_config(work, mocks, main={"ScanDeadline": "10s"},
                                   overrides={"virustotal": {"RateLimit": "none"}})
        latencies, cold_rates, warm_rates, ratios = [], [], [], []
        for run in range(args.runs):
            mocks.reset()
            files = []
            for i in range(args.messages):
                path = os.path.join(work, "r%d-m%d.eml" % (run, i))
                with open(path, "wb") as f:
                    f.write(message(i, run))
                files.append(path)
            # cold: every message new; then the same list again, now cached
            wall_cold, cold = run_scan(args.binary, conf, files)
            # Safe Browsing batches all URLs of a message in one request:
            # the pairs rule counts the providers asked one indicator at a time
            stats = mocks.stats()
            requests = stats["total"] - stats["by_provider"].get("google-safe-browsing", 0) + \
                mocks.dns_stats()["total"]
            pairs = {(l["integration"], l["indicator"]) for o in cold for l in o["lookups"]
                     if l["integration"] != "safebrowsing"}
            wall_both, both = run_scan(args.binary, conf, files + files)
            per_msg = [o["summary"]["elapsed_ms"] for o in cold]
            latencies.append(statistics.median(per_msg))
            cold_rates.append(len(files) / wall_cold)
            # the cached half: that process's time beyond a cold run
            warm_rates.append(len(files) / max(wall_both - wall_cold, 1e-3))
            ratios.append(requests / max(len(pairs), 1))
            lookups = len(cold[0]["lookups"])
        lat = statistics.median(latencies)
        print("lookups benchmark: %d messages x %d runs, %d lookups per message over 5"
              " integrations, providers answer in %d ms" % (args.messages, args.runs, lookups,
                                                            args.delay_ms))
        print("  cold scan latency (median)   %7.1f ms  = %.2fx the provider delay"
              % (lat, lat / args.delay_ms))
        print("  cold scans/s (one process)   %7.1f" % statistics.median(cold_rates))
        print("  cached scans/s (same process) %7.1f"
              % statistics.median(warm_rates))
        print("  provider requests / distinct (integration, indicator) pairs = %.2f"
              % statistics.median(ratios))
        record("scan", "cold latency, 5 integrations at %d ms" % args.delay_ms, lat, "ms",
               lat / args.delay_ms, "provider delay")
        record("scan", "cold scans/s", statistics.median(cold_rates), "msgs/s")
        record("scan", "cached scans/s", statistics.median(warm_rates), "msgs/s",
               statistics.median(warm_rates) / statistics.median(cold_rates), "cold")
        record("scan", "requests / distinct pairs", statistics.median(ratios), "ratio")
    finally:
        mocks.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
