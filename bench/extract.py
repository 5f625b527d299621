#!/usr/bin/env python3
"""Extraction benchmark: `threatmilter scan --no-lookups` over the
phishing_pot samples. Reports MB/s, messages/s and peak RSS, each the
median of several runs (wall time from a monotonic clock, peak RSS from
wait4). Not a test: nothing here asserts a time.

Usage: bench/extract.py [--runs N] [--binary PATH] [--samples DIR]
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_run(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"scan failed with status {status}")
    return wall, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--binary", default=os.path.join(TOP, "threatmilter"))
    ap.add_argument("--samples", default=os.path.join(TOP, "..", "shared", "corpus", "phishing_pot"))
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.samples, "*.eml")))
    if not files:
        raise SystemExit(f"no samples in {args.samples}")
    size = sum(os.path.getsize(f) for f in files)
    cmd = [args.binary, "scan", "--no-lookups", "-c", os.path.join(TOP, "tests", "corpus", "scan.conf"), *files]
    one_run(cmd)  # warm the page cache
    runs = [one_run(cmd) for _ in range(args.runs)]
    wall = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs)
    print(f"extraction: {len(files)} messages, {size / 1e6:.1f} MB, median of {len(runs)} runs")
    print(f"  wall {wall:.3f} s | {size / 1e6 / wall:.1f} MB/s | {len(files) / wall:.0f} messages/s | peak RSS {rss:.1f} MiB")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from summary import record
    record("extraction", "150 phishing_pot samples, wall (target 0.17 s)", wall, "s",
           wall / 0.17, "target")
    record("extraction", "throughput", size / 1e6 / wall, "MB/s")
    record("extraction", "messages", len(files) / wall, "msgs/s")
    record("extraction", "peak RSS (target 30 MiB)", rss, "MiB", rss / 30, "target")


if __name__ == "__main__":
    main()
