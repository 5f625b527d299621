#!/usr/bin/env python3
"""Provider calls through the milter: 1,000 messages drawn from a pool
that shares URLs, sender IPs and attachments, sent by bench/milter-load
over 20 concurrent connections to threatmilter (5 integrations, cache on,
providers answering in 20 ms so that identical lookups overlap). Counts
the requests the mocks received against the distinct (integration,
indicator) pairs of the workload (from `threatmilter scan` of the same
messages). Safe Browsing is left out of the ratio: it asks about all URLs
of a message in one request by design.

Usage: bench/calls.py [--messages 1000]
"""
import argparse
import base64
import os
import random
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "bench"))
import tmtest  # noqa: E402
from milter import LOAD  # noqa: E402
from summary import record  # noqa: E402


def pool_message(rng, i):
    urls = " ".join("https://site%d.example/page%d" % (n, n % 7)
                    for n in rng.sample(range(100), 3))
    ip = "198.18.%d.%d" % (rng.randrange(2), 1 + rng.randrange(15))
    attachment = base64.b64encode(("attachment body %d\n" % rng.randrange(20)).encode()).decode()
    return ("Received: from h.example (h.example [%s]) by mx.example.net with ESMTP id %d;"
            " Tue, 2 Jan 2024 10:00:00 +0000\r\nFrom: a@example.net\r\nTo: b@example.com\r\n"
            "Subject: pool %d\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
            "Content-Type: text/plain\r\n\r\n%s\r\n--b\r\nContent-Type: application/pdf\r\n"
            "Content-Disposition: attachment; filename=\"f.pdf\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n"
            % (ip, i, i, urls, attachment))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    args = ap.parse_args()
    os.environ.setdefault("TM_SRCDIR", TOP)
    subprocess.run(["make", "-s", "-f", os.path.join(TOP, "bench", "Makefile.null")], cwd=TOP,
                   check=True)
    rng = random.Random(42)
    work = tmtest.tmpdir()
    mocks = tmtest.Mocks(work)
    sock = os.path.join(work, "m.sock")
    try:
        paths = []
        for i in range(args.messages):
            path = os.path.join(work, "p%04d.eml" % i)
            with open(path, "w") as f:
                f.write(pool_message(rng, i))
            paths.append(path)
        overrides = {"virustotal": {"RateLimit": "none", "Attachments": "yes"},
                     "xforce": {"Attachments": "yes"}}
        conf = tmtest.write_config(os.path.join(work, "tm"), mocks,
                                   # milter-load connects as 192.0.2.1: an internal
                                   # relay, so the sender IP comes from Received
                                   # headers as in the scan command
                                   main={"Socket": "local:" + sock,
                                         "InternalHosts": "192.0.2.0/24"},
                                   overrides=overrides)
        # the workload's distinct pairs, from the scan command (no mocks counted)
        objs, _ = tmtest.scan(conf, *paths, timeout=600)
        pairs = {(l["integration"], l["indicator"]) for o in objs for l in o["lookups"]
                 if l["integration"] != "safebrowsing"}
        lookups = sum(1 for o in objs for l in o["lookups"] if l["integration"] != "safebrowsing")
        mocks.reset()
        mocks.fault("*", "delay", ms=20)
        daemon = tmtest.Daemon(conf, "local:" + sock, os.path.join(work, "tm.log"))
        out = subprocess.run([LOAD, "-s", "unix:" + sock, "-c", "20", "-n", str(args.messages),
                              "-m", "50", *paths], capture_output=True, text=True)
        daemon.stop()
        if out.returncode:
            raise SystemExit("milter-load: " + out.stdout + out.stderr)
        stats = mocks.stats()
        requests = stats["total"] - stats["by_provider"].get("google-safe-browsing", 0) + \
            mocks.dns_stats()["total"]
        print("provider calls: %d messages from a shared pool, 20 connections, 5 integrations"
              % args.messages)
        print("  lookups asked by the messages      %6d" % lookups)
        print("  distinct (integration, indicator)  %6d" % len(pairs))
        print("  requests received by the providers %6d" % requests)
        print("  requests / distinct pairs = %.2f" % (requests / len(pairs)))
        record("calls", "%d lookups -> requests (milter, shared pool)" % lookups, requests,
               "requests", requests / len(pairs), "distinct pairs")
    finally:
        mocks.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
