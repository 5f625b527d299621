#!/usr/bin/env python3
"""Through a real Postfix: smtp-source -> private Postfix on 127.0.0.1
(tests/e2e/postfix-harness.sh) -> smtp-sink, with no milter, with the
null filter (bench/null-milter, the libmilter floor) and with
threatmilter, on a unix socket and over TCP, for a small message and a
~20 KB one, at SMTP concurrency 20 (and more with --sessions).

threatmilter runs with Spamhaus + VirusTotal against the local mocks;
"cached" sends the same message again and again (its lookups come from
the cache after the first), "cold" disables the cache and has the mocks
answer in 100 ms (concurrent identical lookups are still joined).

The figure is acceptance throughput: messages/s for smtp-source to hand
every message to Postfix, which includes the milter's whole work at end
of message. Each figure is the median of --runs runs; the table gives the
ratios against no milter and against the null filter.
Needs root, postfix, smtp-source; nothing leaves 127.0.0.1.

Usage: bench/postfix.py [--messages N] [--runs N] [--sessions 20,100]
                        [--sizes 1,20] [--sockets unix,tcp] [--quick]
"""
import argparse
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

HARNESS = os.path.join(TOP, "tests", "e2e", "postfix-harness.sh")


def message(size):
    head = ("From: alice@example.net\r\nTo: bob@example.com\r\nSubject: bench\r\n"
            "Received: from origin.example (origin.example [192.0.2.10]) by relay.example.net"
            " with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
            "Please see https://www.bench-target.example/account/verify?id=42\r\n")
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n"
    body = ""
    while len(head) + len(body) < size:
        body += line
    return head + body


class Bench:
    def __init__(self, args):
        self.args = args
        self.dir = tmtest.tmpdir()
        os.chmod(self.dir, 0o755)
        self.mocks = tmtest.Mocks(self.dir)
        os.chmod(self.mocks.ca, 0o644)
        self.procs = []
        self.pf_dir = os.path.join(self.dir, "postfix")
        env = dict(os.environ, TM_PF_DIR=self.pf_dir, TM_PF_BACKOFF="1s")
        out = subprocess.run(["bash", HARNESS, "start"], env=env, capture_output=True)
        if out.returncode:
            raise SystemExit("postfix harness: " + out.stderr.decode())
        self.port = int(self.pf("echo $TM_PF_PORT").strip())
        subprocess.run(["make", "-s", "-f", os.path.join(TOP, "bench", "Makefile.null")],
                       cwd=TOP, check=True)

    def pf(self, script):
        out = subprocess.run(["bash", "-c", '. "$1"; pf_load_state "$2" >/dev/null || exit 1; '
                              + script, "pf", HARNESS, self.pf_dir], capture_output=True)
        if out.returncode:
            raise RuntimeError(script + ": " + out.stderr.decode())
        return out.stdout.decode()

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["bash", HARNESS, "stop", self.pf_dir], capture_output=True)
        self.mocks.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_null(self, spec):
        # umask 0: its unix socket must be writable by Postfix's smtpd
        p = subprocess.Popen([os.path.join(TOP, "bench", "null-milter"), "-p", spec],
                             preexec_fn=lambda: os.umask(0), stderr=subprocess.DEVNULL)
        self.procs.append(p)
        time.sleep(0.5)
        return p

    def start_threatmilter(self, spec, cold):
        overrides = {"virustotal": {"RateLimit": "none"}}
        if cold:
            overrides["virustotal"]["Cache"] = "no"
            overrides["spamhaus"] = {"Cache": "no"}
        conf = tmtest.write_config(os.path.join(self.dir, "tm"), self.mocks,
                                   integrations=["spamhaus", "virustotal"],
                                   main={"Socket": spec, "SocketMode": "0666"},
                                   overrides=overrides)
        for root, dirs, files in os.walk(self.dir):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        d = tmtest.Daemon(conf, spec, os.path.join(self.dir, "tm.log"))
        self.procs.append(d.proc)
        return d

    def send(self, path, sessions, count):
        self.pf("sink_clear")
        start = time.perf_counter()
        out = subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(count), "-F", path,
                              "-f", "alice@example.net", "-t", "bob@example.com",
                              "127.0.0.1:%d" % self.port], capture_output=True)
        wall = time.perf_counter() - start
        if out.returncode:
            raise RuntimeError("smtp-source: " + out.stderr.decode())
        return count / wall

    def measure(self, name, milter_spec_postfix, msg_path, sessions, count):
        self.pf('pf_set_milter "%s"' % milter_spec_postfix)
        self.send(msg_path, sessions, min(count, 100))	# warm-up (and cache fill)
        rates = [self.send(msg_path, sessions, count) for _ in range(self.args.runs)]
        self.pf("pf_wait_queue_empty 120")
        return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sessions", default="20")
    ap.add_argument("--sizes", default="1,20", help="message sizes in KB, e.g. 1,20")
    ap.add_argument("--sockets", default="unix,tcp", help="unix, tcp or both")
    ap.add_argument("--quick", action="store_true", help="small message, unix socket only")
    args = ap.parse_args()
    os.environ.setdefault("TM_SRCDIR", TOP)
    b = Bench(args)
    rows = []
    try:
        if args.quick:
            args.sizes, args.sockets = "1", "unix"
        sizes = [("%s KB" % kb, int(kb) * 1024) for kb in args.sizes.split(",")]
        for label, size in sizes:
            path = os.path.join(b.dir, "msg-%d.eml" % size)
            with open(path, "w") as f:
                f.write(message(size))
            for sessions in [int(s) for s in args.sessions.split(",")]:
                base = b.measure("none", "", path, sessions, args.messages)
                rows.append((label, sessions, "no milter", base, 1.0, None))
                sockets = [kind for kind in [("unix", "local:%s/m.sock", "unix:%s/m.sock"),
                                             ("tcp", "inet:%d@127.0.0.1", "inet:127.0.0.1:%d")]
                           if kind[0] in args.sockets.split(",")]
                for sock_name, ours, theirs in sockets:
                    if sock_name == "unix":
                        spec, pf_spec = ours % b.dir, theirs % b.dir
                    else:
                        port = int(subprocess.check_output(
                            ["bash", "-c", '. "$1"; tm_free_port', "x", HARNESS]).strip())
                        spec, pf_spec = ours % port, theirs % port
                    null = b.start_null(spec if sock_name == "tcp" else "unix:%s/m.sock" % b.dir)
                    floor = b.measure("null", pf_spec, path, sessions, args.messages)
                    null.terminate()
                    null.wait(15)
                    rows.append((label, sessions, "null filter, " + sock_name, floor,
                                 floor / base, None))
                    for cold in (False, True):
                        if cold:
                            b.mocks.fault("virustotal", "delay", ms=100)
                        d = b.start_threatmilter(spec, cold)
                        rate = b.measure("tm", pf_spec, path, sessions,
                                         args.messages // (10 if cold else 1))
                        d.stop()
                        b.mocks.fault("*", "none")
                        rows.append((label, sessions, "threatmilter %s, %s" %
                                     ("cold 100 ms" if cold else "cached", sock_name),
                                     rate, rate / base, rate / floor))
        print("Postfix acceptance throughput (smtp-source -> Postfix -> smtp-sink), "
              "median of %d runs, %d cores" % (args.runs, os.cpu_count()))
        print("%-6s %5s  %-34s %9s %10s %10s" % ("size", "sess", "filter", "msgs/s",
                                                 "vs none", "vs null"))
        for label, sessions, name, rate, vs_none, vs_null in rows:
            print("%-6s %5d  %-34s %9.1f %9.2fx %10s" % (
                label, sessions, name, rate, vs_none,
                "%.2fx" % vs_null if vs_null is not None else "-"))
            figure = "%s, %d sess, %s" % (label, sessions, name)
            record("postfix", figure, rate, "msgs/s", vs_none, "no milter")
            if vs_null is not None:
                record("postfix", figure, rate, "msgs/s", vs_null, "null filter")
    finally:
        b.stop()


if __name__ == "__main__":
    main()
