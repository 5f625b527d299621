#!/usr/bin/env python3
"""Memory of the daemon: peak RSS with 200 concurrent milter sessions of
~20 KB messages, and RSS after a warm-up vs after 50,000 more messages
(a leak shows as growth). threatmilter runs with 5 integrations against
the mocks (answers cached after the first message); bench/milter-load
drives it over a unix socket. Figures come from /proc/PID/status (VmHWM,
VmRSS). Not a test: nothing here asserts.

Usage: bench/memory.py [--sessions 200] [--messages 50000]
"""
import argparse
import os
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "bench"))
import tmtest  # noqa: E402
from milter import load as run_load, write_messages  # noqa: E402
from summary import record  # noqa: E402


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--messages", type=int, default=50000)
    args = ap.parse_args()
    os.environ.setdefault("TM_SRCDIR", TOP)
    subprocess.run(["make", "-s", "-f", os.path.join(TOP, "bench", "Makefile.null")], cwd=TOP,
                   check=True)
    work = tmtest.tmpdir()
    mocks = tmtest.Mocks(work)
    sock = os.path.join(work, "m.sock")
    try:
        paths = write_messages(os.path.join(work, "msgs"), 1, False)
        conf = tmtest.write_config(os.path.join(work, "tm"), mocks,
                                   main={"Socket": "local:" + sock},
                                   overrides={"virustotal": {"RateLimit": "none"}})
        daemon = tmtest.Daemon(conf, "local:" + sock, os.path.join(work, "tm.log"))
        pid = daemon.proc.pid
        start_rss = status_kb(pid, "VmRSS")
        run_load(sock, paths, 2000, 20)
        warm_rss, warm_fds = status_kb(pid, "VmRSS"), fds(pid)
        peak = run_load(sock, paths, args.sessions * 10, args.sessions)
        peak_hwm = status_kb(pid, "VmHWM")
        after_peak_rss = status_kb(pid, "VmRSS")
        soak = run_load(sock, paths, args.messages, 20)
        end_rss, end_fds = status_kb(pid, "VmRSS"), fds(pid)
        daemon.stop()
        print("memory: threatmilter, 5 integrations (cached), ~20 KB messages")
        print("  at start                       RSS %7.1f MiB" % (start_rss / 1024))
        print("  after 2,000 messages (warm)    RSS %7.1f MiB, %d fds" % (warm_rss / 1024, warm_fds))
        print("  %d concurrent sessions        peak RSS %7.1f MiB (%d msgs, %.0f msgs/s, %d errors)"
              % (args.sessions, peak_hwm / 1024, peak["messages"], peak["msgs_per_s"],
                 peak["errors"]))
        print("  after the %d sessions         RSS %7.1f MiB" % (args.sessions, after_peak_rss / 1024))
        print("  after %d more messages     RSS %7.1f MiB, %d fds (%.0f msgs/s, %d errors)"
              % (args.messages, end_rss / 1024, end_fds, soak["msgs_per_s"], soak["errors"]))
        print("  growth over the soak: %+.1f MiB, %+d fds" % ((end_rss - after_peak_rss) / 1024,
                                                          end_fds - warm_fds))
        record("memory", "peak RSS, %d sessions (target 64 MB)" % args.sessions,
               peak_hwm / 1024, "MiB", peak_hwm / 1024 / 61.0, "target")
        record("memory", "RSS after %d more messages" % args.messages, end_rss / 1024, "MiB",
               end_rss / max(after_peak_rss, 1), "before")
    finally:
        mocks.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
