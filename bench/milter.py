#!/usr/bin/env python3
"""Milter protocol throughput without an MTA: bench/milter-load drives
threatmilter (and bench/null-milter, the libmilter floor) over a unix
socket with M concurrent connections, ~20 KB messages. Two parts:

"real" (issue 19): bench/real20k.eml (or --message) again and again to
the null filter, the body filter (bench/body-milter: keeps headers and
body, adds one header) and threatmilter with every lookup cached (5
integrations, CacheMaxHits high enough that no answer is asked again),
interleaved: round 1 runs each filter once, then round 2...,
so that drift of a shared machine falls on all three alike. Per filter:
messages/s of each round, the median, the ratios to the null and the body
filter (median and range of the per-round ratios), the filter's CPU per
message (utime + stime of its process from /proc, all threads, median of
the rounds; "user ms" the utime alone, the rest is the kernel's work for
the protocol) and what it sends back per message (replies,
modifications).

"matrix": every lookup cached (the same message again and again after a
warm-up); cold lookups (every message has its own URL, the cache off)
against the mocks answering at once and after 100 ms, with 1 integration
(VirusTotal) and with 5 (Spamhaus, VirusTotal, Safe Browsing, Web Risk,
X-Force). Reports messages/s and end-of-message latency p50/p99 (median
of --runs runs), the ratio to the null filter, and the longest a new
connection waited to be taken (worst of the runs).

The cold cases raise MaxInFlight to 64: with the default 16 requests per
integration, 20 sessions' lookups queue behind each other (p99 doubles to
~200 ms), which measures the cap, not whether one message's lookups overlap.

A long connection wait is Debian's libmilter, not threatmilter: Debian builds
it with _FFR_WORKERS_POOL, a pool of worker threads that wakes idle workers
with a condition signal and counts a signalled worker as idle until it runs.
A burst of new connections can signal the same worker twice; the second
session then waits until some worker finishes what it is doing (a whole
session here, since milter-load pipelines its next message within the pool's
1 ms look-ahead) or for the pool's 10 s timed wait. The null filter, whose
callbacks never block, shows it less. The default build links libmilter
without the pool (contrib/build-libmilter.sh, README "Busy sites"); run
this script in a tree configured with --with-milter=system to compare.

Usage: bench/milter.py [--messages N] [--connections M] [--runs N]
                       [--parts real,matrix] [--message FILE]
       (BENCH_VERBOSE=1: every run's milter-load figures on stderr)
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
from procstat import cpu_seconds, user_seconds  # noqa: E402
from summary import record  # noqa: E402

LOAD = os.path.join(TOP, "bench", "milter-load")
FIVE = ["spamhaus", "virustotal", "safebrowsing", "webrisk", "xforce"]
FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n" * 270


def write_messages(directory, count, distinct):
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i in range(count if distinct else 1):
        path = os.path.join(directory, "m%05d.eml" % i)
        with open(path, "w") as f:
            f.write("Received: from o.example (o.example [192.0.2.%d]) by r.example.net with ESMTP"
                    " id %d; Tue, 2 Jan 2024 10:00:00 +0000\r\nFrom: a@example.net\r\n"
                    "To: b@example.com\r\nSubject: bench %d\r\n\r\n"
                    "See https://www.target-%d.example/verify?id=%d\r\n%s"
                    % (1 + i % 250, i, i, i, i, FILLER))
        paths.append(path)
    return paths


def load(sock, paths, messages, connections, pid=None):
    """milter-load's figures; with pid, also cpu_ms and user_ms: that
    process's CPU (user + system) and user CPU per message in ms."""
    before = cpu_seconds(pid) if pid else 0.0
    user_before = user_seconds(pid) if pid else 0.0
    out = subprocess.run([LOAD, "-s", "unix:" + sock, "-c", str(connections), "-n",
                          str(messages), "-m", "100", *paths], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("milter-load exited %d: %s%s" % (out.returncode, out.stdout, out.stderr))
    if os.environ.get("BENCH_VERBOSE"):
        sys.stderr.write(out.stdout)
    result = json.loads(out.stdout)
    if pid:
        result["cpu_ms"] = (cpu_seconds(pid) - before) * 1000.0 / messages
        result["user_ms"] = (user_seconds(pid) - user_before) * 1000.0 / messages
    return result


def start_filter(binary, sock, *flags):
    """bench/null-milter or bench/body-milter on a unix socket."""
    if os.path.exists(sock):
        os.unlink(sock)
    proc = subprocess.Popen([os.path.join(TOP, "bench", binary), "-p", "unix:" + sock, *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmtest.wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, 10, binary)
    if proc.poll() is not None:
        raise RuntimeError("%s exited with %d" % (binary, proc.returncode))
    return proc


def ratio_text(ratios):
    """'0.78x (0.77-0.80)': the median of per-round ratios and their range."""
    if len(ratios) == 1:
        return "%.2fx" % ratios[0]
    return "%.2fx (%.2f-%.2f)" % (statistics.median(ratios), min(ratios), max(ratios))


def interleaved(args, work, mocks):
    """The "real" part: null, body and cached threatmilter, round after
    round on the same message. Prints its table and records the figures."""
    overrides = {name: {"CacheMaxHits": str(args.cache_max_hits)} for name in FIVE}
    overrides["virustotal"]["RateLimit"] = "none"
    conf = tmtest.write_config(os.path.join(work, "tm"), mocks, integrations=FIVE,
                               main={"Socket": "local:" + os.path.join(work, "tm.sock")},
                               overrides=overrides)
    daemon = tmtest.Daemon(conf, "local:" + os.path.join(work, "tm.sock"),
                           os.path.join(work, "tm.log"))
    filters = []
    try:
        filters = [("null filter", os.path.join(work, "null.sock"),
                    start_filter("null-milter", os.path.join(work, "null.sock"))),
                   ("body filter", os.path.join(work, "body.sock"),
                    start_filter("body-milter", os.path.join(work, "body.sock"))),
                   ("threatmilter cached", os.path.join(work, "tm.sock"), daemon.proc)]
        load(filters[2][1], [args.message], 100, args.connections)	# fill the cache
        rounds = {name: [] for name, _, _ in filters}
        for _ in range(args.runs):
            for name, sock, proc in filters:
                rounds[name].append(load(sock, [args.message], args.messages, args.connections,
                                         proc.pid))
    finally:
        for _, _, proc in filters[:2]:
            proc.terminate()
            proc.wait(15)
        daemon.stop()
    print("milter protocol, no MTA, interleaved: %s (%d bytes) x %d over %d connections, "
          "%d rounds, %d cores" % (os.path.basename(args.message), os.path.getsize(args.message),
                                   args.messages, args.connections, args.runs, os.cpu_count()))
    print("%-20s %-22s %8s %-18s %-18s %10s %8s %8s %5s" % (
        "filter", "msgs/s per round", "median", "vs null", "vs body", "CPU ms/msg",
        "user ms", "replies", "mods"))
    for name, _, _ in filters:
        runs = rounds[name]
        rates = [r["msgs_per_s"] for r in runs]
        vs = {ref: [a / b["msgs_per_s"] for a, b in zip(rates, rounds[ref])]
              for ref in ("null filter", "body filter")}
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        user = statistics.median(r["user_ms"] for r in runs)
        mods = sum(runs[-1]["mods_per_msg"].values())
        print("%-20s %-22s %8.1f %-18s %-18s %10.3f %8.3f %8.2f %5.2f" % (
            name, " / ".join("%.0f" % r for r in rates), statistics.median(rates),
            ratio_text(vs["null filter"]), ratio_text(vs["body filter"]), cpu, user,
            runs[-1]["filter_replies_per_msg"], mods))
        figure = "real20k, %s" % name
        record("milter", figure + ", msgs/s", statistics.median(rates), "msgs/s",
               statistics.median(vs["null filter"]), "null filter (interleaved)")
        if name != "null filter":
            record("milter", figure + ", msgs/s", statistics.median(rates), "msgs/s",
                   statistics.median(vs["body filter"]), "body filter (interleaved)")
        record("milter", figure + ", CPU/msg", cpu, "ms", None, "filter process utime+stime")
        record("milter", figure + ", user CPU/msg", user, "ms", None, "filter process utime")


def median_run(runs, fn):
    results = [fn() for _ in range(runs)]
    summary = {k: statistics.median(r[k] for r in results)
               for k in ("msgs_per_s", "p50_ms", "p99_ms", "cpu_ms")}
    summary["max_setup_ms"] = max(r["max_setup_ms"] for r in results)
    return summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3, help="runs per row; rounds of the real part")
    ap.add_argument("--parts", default="real,matrix", help="real, matrix or both")
    ap.add_argument("--message", default=os.path.join(TOP, "bench", "real20k.eml"),
                    help="the real part's message")
    ap.add_argument("--cache-max-hits", type=int, default=100000000,
                    help="CacheMaxHits of the cached rows (the default 100 would send every "
                    "100th message's lookups to the providers again)")
    args = ap.parse_args()
    os.environ.setdefault("TM_SRCDIR", TOP)
    subprocess.run(["make", "-s", "-f", os.path.join(TOP, "bench", "Makefile.null")], cwd=TOP,
                   check=True)
    work = tmtest.tmpdir()
    mocks = tmtest.Mocks(work)
    sock = os.path.join(work, "m.sock")
    rows = []
    try:
        if "real" in args.parts.split(","):
            interleaved(args, work, mocks)
            mocks.reset()
        if "matrix" not in args.parts.split(","):
            return
        same = write_messages(os.path.join(work, "same"), 1, False)
        null = subprocess.Popen([os.path.join(TOP, "bench", "null-milter"), "-p", "unix:" + sock],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        floor = median_run(args.runs, lambda: load(sock, same, args.messages, args.connections,
                                                   null.pid))
        null.terminate()
        null.wait()
        rows.append(("null filter", floor))
        for label, integrations, cold, delay in [
                ("threatmilter cached, 5 integrations", FIVE, False, 0),
                ("threatmilter cold 0 ms, 1 integration", ["virustotal"], True, 0),
                ("threatmilter cold 0 ms, 5 integrations", FIVE, True, 0),
                ("threatmilter cold 100 ms, 1 integration", ["virustotal"], True, 100),
                ("threatmilter cold 100 ms, 5 integrations", FIVE, True, 100)]:
            overrides = {name: {"Cache": "no", "MaxInFlight": "64"} if cold else
                         {"Cache": "yes", "CacheMaxHits": str(args.cache_max_hits)}
                         for name in integrations}
            overrides.setdefault("virustotal", {})["RateLimit"] = "none"
            conf = tmtest.write_config(os.path.join(work, "tm"), mocks, integrations=integrations,
                                       main={"Socket": "local:" + sock}, overrides=overrides)
            daemon = tmtest.Daemon(conf, "local:" + sock, os.path.join(work, "tm.log"))
            mocks.reset()
            if delay:
                mocks.fault("*", "delay", ms=delay)
            n = args.messages if not delay else max(args.messages // 5, 200)
            if cold:
                paths = write_messages(os.path.join(work, "cold-%d" % len(rows)), n, True)
            else:
                paths = same
                load(sock, paths, 100, args.connections)	# fill the cache
            result = median_run(args.runs, lambda: load(sock, paths, n, args.connections,
                                                        daemon.proc.pid))
            daemon.stop()
            rows.append((label, result))
        print()
        print("milter protocol, no MTA: %d messages of ~20 KB over %d connections, median of %d"
              " runs, %d cores" % (args.messages, args.connections, args.runs, os.cpu_count()))
        print("%-42s %9s %8s %8s %9s %10s %11s" % ("filter", "msgs/s", "p50 ms", "p99 ms",
                                                    "vs null", "conn wait", "CPU ms/msg"))
        for label, r in rows:
            print("%-42s %9.1f %8.2f %8.2f %8.2fx %8.0f ms %11.3f" % (
                label, r["msgs_per_s"], r["p50_ms"], r["p99_ms"],
                r["msgs_per_s"] / floor["msgs_per_s"], r["max_setup_ms"], r["cpu_ms"]))
            record("milter", label + ", msgs/s", r["msgs_per_s"], "msgs/s",
                   r["msgs_per_s"] / floor["msgs_per_s"], "null filter")
            if "100 ms" in label:
                record("milter", label + ", p50", r["p50_ms"], "ms", r["p50_ms"] / 100,
                       "provider delay")
                record("milter", label + ", p99", r["p99_ms"], "ms", r["p99_ms"] / 100,
                       "provider delay")
            if label == "null filter" or "100 ms" in label:
                record("milter", label + ", conn wait", r["max_setup_ms"], "ms", None,
                       "longest wait for a new connection to be taken")
    finally:
        mocks.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
