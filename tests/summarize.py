#!/usr/bin/env python3
"""Sums test results over every suite into one closing line.

Usage: summarize.py LOG...   (automake .log files, or any test output)

Counting, per log: a line "N passed, N failed[, N skipped]" (the last one)
counts those cases; else cmocka's "[  PASSED  ] N test(s)" / "[  FAILED  ] N test(s)";
else the automake result of the whole program (.trs beside the .log):
PASS = 1 passed, FAIL/ERROR = 1 failed, SKIP = skipped. Prints one line per
log and, last, "N passed, N failed, N skipped".
"""
import os
import re
import sys

AUTOMAKE = re.compile(r"^# (PASS|FAIL|ERROR|SKIP|XFAIL|XPASS): +(\d+)", re.M)
PLAIN = re.compile(r"(\d+) passed, (\d+) failed(?:, (\d+) skipped)?")
CMOCKA_PASS = re.compile(r"^\[  PASSED  \] (\d+) test", re.M)
CMOCKA_FAIL = re.compile(r"^\[  FAILED  \] (\d+) test", re.M)


def count(log):
    text = open(log, encoding="utf-8", errors="replace").read()
    trs = log[:-4] + ".trs" if log.endswith(".log") else None
    result = None
    if trs and os.path.exists(trs):
        m = re.search(r"^:test-result: (\w+)", open(trs).read(), re.M)
        result = m.group(1) if m else None
    if result == "SKIP":
        return 0, 0, 1

    plain = PLAIN.findall(text)
    automake = AUTOMAKE.findall(text)
    skipped = 0
    if automake:
        # a whole automake run (distcheck): its summary counts programs
        counts = {}
        for kind, n in automake:
            counts[kind] = counts.get(kind, 0) + int(n)
        p = counts.get("PASS", 0) + counts.get("XFAIL", 0)
        f = counts.get("FAIL", 0) + counts.get("ERROR", 0) + counts.get("XPASS", 0)
        skipped = counts.get("SKIP", 0)
    elif plain:
        p, f = int(plain[-1][0]), int(plain[-1][1])
        skipped = int(plain[-1][2] or 0)
    elif CMOCKA_PASS.search(text) or CMOCKA_FAIL.search(text):
        p = sum(map(int, CMOCKA_PASS.findall(text)))
        f = sum(map(int, CMOCKA_FAIL.findall(text)))
    elif result is not None:
        p, f = (1, 0) if result in ("PASS", "XFAIL") else (0, 1)
    else:
        p, f = 0, 1
    # A program that failed as a whole is a failure even if its cases
    # claimed success (crash after the summary, sanitizer report...).
    if result in ("FAIL", "ERROR", "XPASS") and f == 0:
        f = 1
    return p, f, skipped


def main():
    total = [0, 0, 0]
    for log in sys.argv[1:]:
        p, f, s = count(log)
        total = [total[0] + p, total[1] + f, total[2] + s]
        print(f"  {os.path.relpath(log)}: {p} passed, {f} failed" + (f", {s} skipped" if s else ""))
    print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main())
