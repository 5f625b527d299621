#!/usr/bin/env python3
"""Where the cached path's CPU goes (issue 19): threatmilter with every
lookup cached (5 integrations against the mocks, CacheMaxHits raised, as
in bench/milter.py's real part), fed bench/real20k.eml (or --message) by
bench/milter-load over --connections connections, profiled after a
warm-up that fills the cache:

  --tool callgrind   valgrind --tool=callgrind (the default): instruction
                     counts, which do not depend on what else runs on the
                     machine. Prints instructions per message and the top
                     functions by inclusive and by self instructions.
  --tool perf        perf record -e cpu-clock --call-graph dwarf on the
                     running daemon: where the time goes, kernel included
                     (with noise). Prints the share of each object (the
                     kernel, libc, GLib, GMime...) and the top functions by
                     inclusive (children) and self samples. Debian's GLib
                     and GMime are stripped: their static functions (GLib's
                     SHA-256, for one) show as scattered addresses under
                     perf, and by their callers under callgrind.

Both count every thread of the daemon (libmilter's workers, the engine).
--out DIR keeps the raw profile (callgrind.out / perf.data) for
callgrind_annotate or perf report; otherwise it is removed.

Usage: bench/profile.py [--tool callgrind|perf] [--messages N]
                        [--connections M] [--top N] [--message FILE] [--out DIR]
                        [--cache-max-hits N]
"""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "bench"))
import tmtest  # noqa: E402
from milter import FIVE, LOAD  # noqa: E402


def load(sock, message, count, connections):
    subprocess.run([LOAD, "-s", "unix:" + sock, "-c", str(connections), "-n", str(count),
                    "-m", "100", message], check=True, stdout=subprocess.DEVNULL)


def start(conf, sock, log, wrapper):
    """threatmilter -f under wrapper (a list, maybe empty); waits for its socket."""
    if os.path.exists(sock):
        os.unlink(sock)
    proc = subprocess.Popen(wrapper + [tmtest.BINARY, "-f", "-c", conf], stdout=log,
                            stderr=subprocess.STDOUT)
    tmtest.wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, 120,
                    "the milter socket")
    if proc.poll() is not None:
        raise RuntimeError("threatmilter exited with %d" % proc.returncode)
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# callgrind_annotate's lines: "1,234,567 (12.34%)  file:function [object]"
ANNOTATE = re.compile(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*)$")
# Every thread starts in these: ~100% inclusive, left out of the lists.
THREAD_ENTRY = re.compile(r"clone\.S:clone |pthread_create\.c:start_thread |libmilter\.so")


def short(name):
    """'src/x.c:f [/usr/lib/.../libfoo.so]' -> 'src/x.c:f [libfoo.so]'."""
    name = name.replace(TOP + "/", "")
    return re.sub(r"\[/\S*/([^/\]]+)\]", r"[\1]", name)


def main_callers(path):
    """{function: its costliest caller}, to name the stripped libraries'
    anonymous functions (???:0x...) by who calls them."""
    out = subprocess.run(["callgrind_annotate", "--tree=caller", "--inclusive=yes",
                          "--threshold=100", "--auto=no", path],
                         capture_output=True, text=True, check=True)
    callers, best = {}, None
    for line in out.stdout.splitlines():
        m = ANNOTATE.match(line)
        if not m:
            best = None
            continue
        text = m.group(3)
        if text.startswith("< "):
            cost = int(m.group(1).replace(",", ""))
            if best is None or cost > best[0]:
                best = (cost, re.sub(r" \(\d[\d,]*x\)", "", text[2:]))
        elif text.startswith("* ") and best is not None:
            callers[short(text[2:].strip())] = short(best[1]).split(" [")[0]
            best = None
    return callers


def annotate(path, inclusive, top, callers):
    """(total instructions, the top functions as (Ir, percent, name)); a
    function seen twice (callgrind lists some with and without their
    object) once."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=" + ("yes" if inclusive else "no"),
                          "--threshold=100", "--auto=no", path],
                         capture_output=True, text=True, check=True)
    rows, total, seen = [], None, set()
    for line in out.stdout.splitlines():
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
            continue
        m = ANNOTATE.match(line)
        if m and total is not None and not THREAD_ENTRY.search(m.group(3)):
            name = short(m.group(3))
            if name.split(" [")[0] in seen:
                continue
            seen.add(name.split(" [")[0])
            if name.startswith("???:0x") and name in callers:
                name += " (called by %s)" % callers[name]
            rows.append((int(m.group(1).replace(",", "")), float(m.group(2)), name))
    return total, rows[:top]


def callgrind(args, conf, sock, log, work):
    out = os.path.join(work, "callgrind.out")
    proc = start(conf, sock, log, ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out])
    try:
        load(sock, args.message, 50, 4)		# fill the cache, start the workers
        subprocess.run(["callgrind_control", "--zero", str(proc.pid)], check=True,
                       stdout=subprocess.DEVNULL)
        load(sock, args.message, args.messages, args.connections)
        subprocess.run(["callgrind_control", "--dump=measured", str(proc.pid)], check=True,
                       stdout=subprocess.DEVNULL)
    finally:
        stop(proc)
    dumps = sorted(p for p in glob.glob(out + "*") if p != out)
    measured = [p for p in dumps if "measured" in open(p, errors="replace").read(4096)]
    path = measured[0] if measured else dumps[0]
    callers = main_callers(path)
    total, inclusive = annotate(path, True, args.top, callers)
    _, self_cost = annotate(path, False, args.top, callers)
    print("callgrind: %d messages of %s over %d connections after a warm-up, every lookup"
          " cached, 5 integrations" % (args.messages, os.path.basename(args.message),
                                        args.connections))
    print("instructions: %s in total, %s per message" % (
        format(total, ","), format(total // args.messages, ",")))
    for title, rows in (("inclusive", inclusive), ("self", self_cost)):
        print("\ntop %d by %s instructions (per message, share of the total%s):" % (
            args.top, title, "; thread entry and libmilter frames left out" if title ==
            "inclusive" else ""))
        for ir, pct, name in rows:
            print("%14s %6.2f%%  %s" % (format(ir // args.messages, ","), pct, name))
    return path


def perf(args, conf, sock, log, work):
    data = os.path.join(work, "perf.data")
    proc = start(conf, sock, log, [])
    try:
        load(sock, args.message, 200, args.connections)	# fill the cache
        rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "--call-graph",
                                "dwarf,16384", "-o", data, "-p", str(proc.pid)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        load(sock, args.message, args.messages, args.connections)
        rec.send_signal(signal.SIGINT)
        rec.wait(120)
    finally:
        stop(proc)
    print("perf (cpu-clock samples): %d messages of %s over %d connections after a warm-up,"
          " every lookup cached, 5 integrations" % (args.messages,
                                                    os.path.basename(args.message),
                                                    args.connections))
    for title, flag, sort in (("object", "--no-children", "dso"),
                              ("inclusive (children)", "--children", "dso,sym"),
                              ("self", "--no-children", "dso,sym")):
        out = subprocess.run(["perf", "report", "-i", data, "--stdio", flag, "--sort", sort,
                              "-g", "none", "--percent-limit", "0.5"],
                             capture_output=True, text=True)
        lines = [ln for ln in out.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
        print("\ntop %d by %s samples:" % (args.top, title))
        for ln in lines[:args.top]:
            print("  " + ln.strip())
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", choices=("callgrind", "perf"), default="callgrind")
    ap.add_argument("--messages", type=int, default=0,
                    help="messages profiled (default 300 under callgrind, 5000 under perf)")
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--message", default=os.path.join(TOP, "bench", "real20k.eml"))
    ap.add_argument("--out", help="keep the raw profile in this directory")
    ap.add_argument("--cache-max-hits", type=int, default=100000000,
                    help="CacheMaxHits (100, the default of the configuration, has every 100th"
                    " message ask the providers again)")
    args = ap.parse_args()
    args.messages = args.messages or (300 if args.tool == "callgrind" else 5000)
    os.environ.setdefault("TM_SRCDIR", TOP)
    subprocess.run(["make", "-s", "-f", os.path.join(TOP, "bench", "Makefile.null")], cwd=TOP,
                   check=True)
    work = tmtest.tmpdir()
    mocks = tmtest.Mocks(work)
    try:
        sock = os.path.join(work, "tm.sock")
        overrides = {name: {"CacheMaxHits": str(args.cache_max_hits)} for name in FIVE}
        overrides["virustotal"]["RateLimit"] = "none"
        conf = tmtest.write_config(os.path.join(work, "tm"), mocks, integrations=FIVE,
                                   main={"Socket": "local:" + sock}, overrides=overrides)
        with open(os.path.join(work, "tm.log"), "ab") as log:
            raw = (callgrind if args.tool == "callgrind" else perf)(args, conf, sock, log, work)
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            shutil.copy(raw, args.out)
            print("\nraw profile: %s" % os.path.join(args.out, os.path.basename(raw)))
    finally:
        mocks.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
