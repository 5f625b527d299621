#!/usr/bin/env python3
"""Through a real Postfix: smtp-source -> private Postfix on 127.0.0.1
(tests/e2e/postfix-harness.sh) -> smtp-sink. Two modes.

--interleave (issue 19): one message file (default bench/real20k.eml),
unix socket, every filter running at once on its own socket while
Postfix is switched from one to the next: round 1 measures each
configuration once, then round 2..., so that drift of a shared machine
falls on all alike. Configurations, at --sessions SMTP sessions: the null
filter (bench/null-milter), the body filter (bench/body-milter: keeps
headers and body, adds one header), threatmilter cached; and at each of
--cold-sessions: the sleep filter (bench/body-milter -d 100: the body
filter sleeping 100 ms at end of message) and threatmilter cold (one
provider, VirusTotal's API served by bench/slow-provider in 100 ms). Per configuration: msgs/s of each round
and their median; the median and range of the per-round ratios to the
null and the body filter (cached) or to the sleep filter (cold); the
filter's CPU per message and Postfix's CPU per 1,000 messages (all of
the instance's processes, the delivery to the sink included: each round
waits for the queue to drain), medians over the rounds, from /proc.
--body-inserts N adds the body filter inserting N headers at the top
instead of adding one (what threatmilter's modifications cost Postfix).

Default mode: a matrix of no milter, the null filter and threatmilter
cached and cold, on a unix socket and over TCP, for a small message and a
~20 KB one, at SMTP concurrency 20 (and more with --sessions); each
figure the median of --runs runs, with the ratios against no milter and
against the null filter.

threatmilter "cached" runs with Spamhaus + VirusTotal against the local
mocks and sends the same message again and again (its lookups come from
the cache after the first; CacheMaxHits is raised so that no answer is
asked again); "cold" runs one provider, VirusTotal's API served by
bench/slow-provider (a C server answering every request in 100 ms: the
Python mocks spend ~1 ms of CPU a request on this machine, which a real
provider spends on its own machines), with the cache disabled
(concurrent identical lookups are still joined).

The figure is acceptance throughput: messages/s for smtp-source to hand
every message to Postfix, which includes the milter's whole work at end
of message. Needs root, postfix, smtp-source; nothing leaves 127.0.0.1.

Usage: bench/postfix.py [--messages N] [--runs N] [--sessions 20,100]
                        [--sizes 1,20] [--sockets unix,tcp] [--quick]
       bench/postfix.py --interleave [--message FILE] [--rounds N]
                        [--messages N] [--sessions 20] [--cold-sessions 20,100]
                        [--cold-messages N] [--body-inserts N]
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
from procstat import cpu_seconds, group_cpu_seconds  # noqa: E402
from summary import record  # noqa: E402

HARNESS = os.path.join(TOP, "tests", "e2e", "postfix-harness.sh")
# "every lookup cached": no answer is asked again after CacheMaxHits uses
CACHE_MAX_HITS = "100000000"


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


def redis_backend():
    """bench/redis.py --postfix sets TM_BENCH_REDIS (a RedisServer value):
    threatmilter then runs with CacheBackend redis."""
    server = os.environ.get("TM_BENCH_REDIS")
    return {"CacheBackend": "redis", "RedisServer": server} if server else {}


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

    def start_filter(self, binary, spec, *flags):
        """bench/null-milter or bench/body-milter; spec as libmilter takes it."""
        path = spec.split(":", 1)[1] if spec.startswith("unix:") else None
        if path and os.path.exists(path):
            os.unlink(path)
        # umask 0: its unix socket must be writable by Postfix's smtpd
        p = subprocess.Popen([os.path.join(TOP, "bench", binary), "-p", spec, *flags],
                             preexec_fn=lambda: os.umask(0), stderr=subprocess.DEVNULL)
        self.procs.append(p)
        if path:
            tmtest.wait_for(lambda: os.path.exists(path) or p.poll() is not None, 10, binary)
        else:
            time.sleep(0.5)
        if p.poll() is not None:
            raise RuntimeError("%s exited with %d" % (binary, p.returncode))
        return p

    def slow_provider(self):
        """bench/slow-provider answering after 100 ms; its API root."""
        if not hasattr(self, "slow_root"):
            p = subprocess.Popen([os.path.join(TOP, "bench", "slow-provider"), "-d", "100"],
                                 stdout=subprocess.PIPE)
            self.procs.append(p)
            self.slow_root = "http://127.0.0.1:%d/api/v3" % int(p.stdout.readline())
        return self.slow_root

    def start_threatmilter(self, spec, cold, name="tm", binary=None):
        """Cached: Spamhaus + VirusTotal against the mocks, every answer
        cached. Cold: one provider, VirusTotal's API at bench/slow-provider
        (100 ms an answer, plain HTTP), nothing cached. The Python mocks
        would spend ~1 ms of CPU a request on this 2-core machine, which a
        real provider spends on its own machines."""
        overrides = {"virustotal": {"RateLimit": "none"}}
        integrations = ["spamhaus", "virustotal"]
        if cold:
            integrations = ["virustotal"]
            overrides["virustotal"].update({"Cache": "no", "APIURL": self.slow_provider()})
        else:
            overrides["virustotal"]["CacheMaxHits"] = CACHE_MAX_HITS
            overrides["spamhaus"] = {"CacheMaxHits": CACHE_MAX_HITS}
        conf = tmtest.write_config(os.path.join(self.dir, name), self.mocks,
                                   integrations=integrations,
                                   main=dict({"Socket": spec, "SocketMode": "0666"},
                                             **redis_backend()),
                                   overrides=overrides)
        for root, dirs, files in os.walk(self.dir):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        d = tmtest.Daemon(conf, spec, os.path.join(self.dir, name + ".log"), binary)
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

    def queued(self):
        """Messages in Postfix's queue (incoming, active, deferred, maildrop)."""
        return sum(len(files) for q in ("incoming", "active", "deferred", "maildrop")
                   for _, _, files in os.walk(os.path.join(self.pf_dir, "queue", q)))

    def wait_queue_empty(self, timeout=120):
        """Until the queue is empty; asks the queue manager to scan again
        every 5 s (after a reload a new message can wait for its next
        scan). Raises RuntimeError after timeout seconds."""
        deadline = time.monotonic() + timeout
        nudge = time.monotonic() + 5
        while self.queued():
            if time.monotonic() > deadline:
                raise RuntimeError("Postfix's queue not empty after %d s" % timeout)
            if time.monotonic() > nudge:
                self.pf("pf_flush")
                nudge = time.monotonic() + 5
            time.sleep(0.05)

    def postfix_cpu(self):
        """CPU seconds the Postfix instance used so far (procstat.py)."""
        with open(os.path.join(self.pf_dir, "queue", "pid", "master.pid")) as f:
            master = int(f.read().split()[0])
        return group_cpu_seconds(master, "MAIL_CONFIG=" + os.path.join(self.pf_dir, "etc"))

    def measure_once(self, milter_spec_postfix, msg_path, sessions, count, pid):
        """One interleaved measurement: msgs/s, the filter's (pid) CPU ms
        per message, Postfix's CPU s per 1,000 messages until the queue
        is empty again."""
        self.pf('pf_set_milter "%s"' % milter_spec_postfix)
        self.send(msg_path, sessions, max(sessions, min(count // 5, 100)))	# warm-up
        self.wait_queue_empty()
        filter_before, postfix_before = cpu_seconds(pid), self.postfix_cpu()
        rate = self.send(msg_path, sessions, count)
        self.wait_queue_empty()
        return {"rate": rate,
                "filter_ms": (cpu_seconds(pid) - filter_before) * 1000.0 / count,
                "postfix_s": (self.postfix_cpu() - postfix_before) * 1000.0 / count}

    def measure(self, name, milter_spec_postfix, msg_path, sessions, count):
        self.pf('pf_set_milter "%s"' % milter_spec_postfix)
        self.send(msg_path, sessions, min(count, 100))	# warm-up (and cache fill)
        rates = [self.send(msg_path, sessions, count) for _ in range(self.args.runs)]
        self.pf("pf_wait_queue_empty 120")
        return statistics.median(rates)


def ratio_text(ratios):
    """'0.78x (0.77-0.80)': the median of per-round ratios and their range."""
    if not ratios:
        return "-"
    if len(ratios) == 1:
        return "%.2fx" % ratios[0]
    return "%.2fx (%.2f-%.2f)" % (statistics.median(ratios), min(ratios), max(ratios))


def interleaved(b, args):
    """--interleave: starts every filter, measures the configurations round
    after round, prints the table and records the figures."""
    sessions = int(args.sessions.split(",")[0])
    cold_sessions = [int(x) for x in args.cold_sessions.split(",") if x]

    def sock(name):
        return os.path.join(b.dir, name + ".sock")

    null = b.start_filter("null-milter", "unix:" + sock("null"))
    body = b.start_filter("body-milter", "unix:" + sock("body"))
    cached = b.start_threatmilter("local:" + sock("tm-cached"), False, "tm-cached")
    # (label, sessions, Postfix's milter spec, messages, filter pid, references)
    configs = [("null filter", sessions, "unix:" + sock("null"), args.messages, null.pid, []),
               ("body filter", sessions, "unix:" + sock("body"), args.messages, body.pid,
                ["null filter"]),
               ("threatmilter cached", sessions, "unix:" + sock("tm-cached"), args.messages,
                cached.proc.pid, ["null filter", "body filter"])]
    for i, binary in enumerate(args.also):
        other = b.start_threatmilter("local:" + sock("tm-also%d" % i), False, "tm-also%d" % i,
                                     binary)
        configs.append(("threatmilter cached, #%d" % (i + 1), sessions,
                        "unix:" + sock("tm-also%d" % i), args.messages, other.proc.pid,
                        ["null filter", "body filter"]))
    if args.body_inserts:
        inserter = b.start_filter("body-milter", "unix:" + sock("insert"), "-i",
                                  str(args.body_inserts))
        configs.insert(2, ("body filter, %d inserted" % args.body_inserts, sessions,
                           "unix:" + sock("insert"), args.messages, inserter.pid,
                           ["null filter", "body filter"]))
    # fill the cache before VirusTotal's mock slows down for the cold rows
    b.pf('pf_set_milter "unix:%s"' % sock("tm-cached"))
    b.send(args.message, sessions, 100)
    if cold_sessions:
        sleeper = b.start_filter("body-milter", "unix:" + sock("sleep"), "-d", "100")
        cold = b.start_threatmilter("local:" + sock("tm-cold"), True, "tm-cold")
        for n in cold_sessions:
            count = args.cold_messages or max(5 * n, 300)
            configs += [("sleep 100 ms filter", n, "unix:" + sock("sleep"), count, sleeper.pid,
                         []),
                        ("threatmilter cold 100 ms", n, "unix:" + sock("tm-cold"), count,
                         cold.proc.pid, ["sleep 100 ms filter"])]
    results = {(c[0], c[1]): [] for c in configs}
    for _ in range(args.rounds):
        for label, n, spec, count, pid, _refs in configs:
            results[(label, n)].append(b.measure_once(spec, args.message, n, count, pid))
    b.mocks.fault("*", "none")
    version = subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True,
                             text=True).stdout.strip()
    print("Through Postfix %s (smtp-source -> Postfix -> smtp-sink), interleaved over %d rounds:"
          " %s (%d bytes), unix socket, %d cores" % (
              version, args.rounds, os.path.basename(args.message),
              os.path.getsize(args.message), os.cpu_count()))
    print("%4s  %-25s %5s  %-22s %7s  %-18s %-18s %-18s %9s %11s" % (
        "sess", "filter", "msgs", "msgs/s per round", "median", "vs null", "vs body",
        "vs sleep", "filter ms", "Postfix s"))
    for label, n, _spec, count, _pid, refs in configs:
        runs = results[(label, n)]
        rates = [r["rate"] for r in runs]
        ratios = {ref: [a / r["rate"] for a, r in zip(rates, results[(ref, n)])] for ref in refs}
        filter_ms = statistics.median(r["filter_ms"] for r in runs)
        postfix_s = statistics.median(r["postfix_s"] for r in runs)
        print("%4d  %-25s %5d  %-22s %7.1f  %-18s %-18s %-18s %9.3f %11.2f" % (
            n, label, count, " / ".join("%.0f" % r for r in rates), statistics.median(rates),
            ratio_text(ratios.get("null filter")), ratio_text(ratios.get("body filter")),
            ratio_text(ratios.get("sleep 100 ms filter")), filter_ms, postfix_s))
        figure = "%d sess, %s" % (n, label)
        if not refs:
            record("postfix", figure, statistics.median(rates), "msgs/s")
        for ref in refs:
            record("postfix", figure, statistics.median(rates), "msgs/s",
                   statistics.median(ratios[ref]), ref + " (interleaved)")
        record("postfix", figure + ", filter CPU", filter_ms, "ms/msg")
        record("postfix", figure + ", Postfix CPU", postfix_s, "s/1000")
    print("(filter ms: the filter's CPU per message; Postfix s: the instance's CPU per 1,000"
          " messages, delivery included; medians over the rounds)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sessions", default="20")
    ap.add_argument("--sizes", default="1,20", help="message sizes in KB, e.g. 1,20")
    ap.add_argument("--sockets", default="unix,tcp", help="unix, tcp or both")
    ap.add_argument("--quick", action="store_true", help="small message, unix socket only")
    ap.add_argument("--interleave", action="store_true",
                    help="issue 19's table: configurations interleaved over --rounds")
    ap.add_argument("--message", default=os.path.join(TOP, "bench", "real20k.eml"),
                    help="--interleave: the message file")
    ap.add_argument("--rounds", type=int, default=3, help="--interleave: rounds")
    ap.add_argument("--cold-sessions", default="20,100",
                    help="--interleave: sessions of the cold rows ('' for none)")
    ap.add_argument("--body-inserts", type=int, default=0,
                    help="--interleave: add a row, the body filter inserting this many headers"
                    " at the top (as threatmilter does) instead of adding one at the end")
    ap.add_argument("--also", action="append", default=[], metavar="BINARY",
                    help="--interleave: another threatmilter binary as a further cached row "
                         "(#1, #2... in the order given), e.g. a build with another libmilter")
    ap.add_argument("--cold-messages", type=int, default=0,
                    help="--interleave: messages of a cold row (default 5 per session, >= 300)")
    args = ap.parse_args()
    os.environ.setdefault("TM_SRCDIR", TOP)
    b = Bench(args)
    rows = []
    try:
        if args.interleave:
            interleaved(b, args)
            return
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
                        d = b.start_threatmilter(spec, cold)
                        rate = b.measure("tm", pf_spec, path, sessions,
                                         args.messages // (10 if cold else 1))
                        d.stop()
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
