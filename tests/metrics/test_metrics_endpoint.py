#!/usr/bin/env python3
"""The MetricsSocket endpoint against the real daemon and the mock
providers (issue 15, "Metrics"): /metrics scraped before and after a
known run moves by exactly what was sent; the text passes a strict
parser (promtext.py) and Debian's prometheus_client parser; the
endpoint refuses anything but GET /metrics, survives garbage and slow
clients without delaying a message, and is off by default.

Run by `make check` through run-metrics.sh (TM_BINARY, TM_SRCDIR)."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import milterclient as mc  # noqa: E402
import promtext  # noqa: E402
import tmtest  # noqa: E402

# Debian's python3-prometheus-client, for the interpreter it belongs to
DEBIAN_PYTHON = "/usr/bin/python3"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def mail(urls, subject="metrics"):
    body = "\n".join(urls) if urls else "no links"
    return ("From: alice@example.net\nTo: bob@example.com\nSubject: %s\n"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n" % (subject, body)).encode()


def http(port, raw, timeout=10):
    """Sends raw bytes, returns everything the server answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def scrape(port):
    answer = http(port, b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Accept: text/plain\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    if lines[0] != "HTTP/1.0 200 OK":
        raise AssertionError("scrape answered %r" % lines[0])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    if int(headers["Content-Length"]) != len(body):
        raise AssertionError("Content-Length %s, body %d bytes" % (headers["Content-Length"],
                                                                    len(body)))
    return body.decode(), headers


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples, name, **labels):
    """The sum of every series of name whose labels include these."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


class MetricsEndpoint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)
        cls.sock = os.path.join(cls.dir, "milter.sock")
        cls.log = os.path.join(cls.dir, "milter.log")
        cls.port = free_port()
        cls.config = tmtest.write_config(
            cls.dir, cls.mocks, integrations=["virustotal", "safebrowsing"],
            main={"Socket": "local:" + cls.sock, "ScanDeadline": "5s",
                  "MetricsSocket": "inet:%d" % cls.port, "On-Malicious": "tag"},
            overrides={"virustotal": {"SenderIP": "no"}})
        cls.daemon = tmtest.Daemon(cls.config, "local:" + cls.sock, cls.log)
        tmtest.wait_for(lambda: b"metrics on" in tmtest.read_bytes(cls.log), 10,
                        "the metrics endpoint")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def send(self, raw, qid):
        c = mc.MilterClient("unix:" + self.sock)
        c.optneg()
        c.connect(address="192.0.2.200")
        try:
            return mc.send_message(c, raw, queue_id=qid)
        finally:
            c.quit()
            c.close()

    def summaries(self, qids):
        """(verdict, action) of each message, from its summary log line."""
        text = tmtest.read_bytes(self.log).decode(errors="replace")
        found = {}
        for m in re.finditer(r"(\w+): client=.* verdict=(\w+)(?:\(reported\))? event=\S+ "
                             r"action=(\w+)", text):
            found[m.group(1)] = (m.group(2), m.group(3))
        return [found[q] for q in qids]

    def test_counters_move_by_exactly_what_was_sent(self):
        self.mocks.reset()
        before, _ = promtext.parse(scrape(self.port)[0])
        stats0 = self.mocks.stats()["by_provider"]
        messages = [
            ("MQ1", ["http://clean-one.example/a", "http://malicious-two.example/b"]),
            ("MQ2", ["http://clean-three.example/c"]),
            ("MQ3", ["http://clean-one.example/a", "http://clean-three.example/c"]),  # cached
            ("MQ4", []),
        ]
        for qid, urls in messages:
            self.send(mail(urls), qid)
        after, _ = promtext.parse(scrape(self.port)[0])
        stats1 = self.mocks.stats()["by_provider"]

        def delta(name, **labels):
            return total(after, name, **labels) - total(before, name, **labels)

        # messages by verdict and action: what the summary lines say
        outcomes = self.summaries([q for q, _ in messages])
        self.assertIn(("malicious", "tag"), outcomes)
        self.assertEqual(delta("threatmilter_messages_total"), len(messages))
        for pair in set(outcomes):
            self.assertEqual(delta("threatmilter_messages_total", verdict=pair[0],
                                   action=pair[1]), outcomes.count(pair), pair)
        self.assertEqual(delta("threatmilter_message_duration_seconds_count"), len(messages))
        self.assertEqual(value(after, "threatmilter_messages_in_progress"), 0)
        # provider requests: what the mock received, per integration
        for name, mock in (("virustotal", "virustotal"), ("safebrowsing", "google-safe-browsing")):
            sent = stats1.get(mock, 0) - stats0.get(mock, 0)
            self.assertGreater(sent, 0, name)
            self.assertEqual(delta("threatmilter_provider_requests_total", integration=name),
                             sent, name)
            self.assertEqual(delta("threatmilter_provider_requests_total", integration=name,
                                   result="answered"), sent, name)
            self.assertEqual(delta("threatmilter_provider_request_duration_seconds_count",
                                   integration=name), sent, name)
            # three distinct URLs asked once each; MQ3's two answered by the cache
            self.assertEqual(delta("threatmilter_cache_lookups_total", integration=name,
                                   backend="memory", result="miss"), 3, name)
            self.assertEqual(delta("threatmilter_cache_lookups_total", integration=name,
                                   backend="memory", result="hit"), 2, name)
            self.assertEqual(delta("threatmilter_provider_errors_total", integration=name), 0)
            self.assertEqual(value(after, "threatmilter_provider_in_flight", integration=name), 0)
        # VirusTotal asks one URL per request; Safe Browsing batches a message's
        self.assertEqual(stats1["virustotal"] - stats0.get("virustotal", 0), 3)

    def test_errors_by_kind_and_failed_requests(self):
        self.mocks.reset()
        before, _ = promtext.parse(scrape(self.port)[0])
        # two 503s: the request and its one retry
        self.mocks.fault("virustotal", "status5xx", status=503, count=2)
        self.send(mail(["http://fault-five.example/x"]), "MQ5")
        after, _ = promtext.parse(scrape(self.port)[0])
        sent = self.mocks.stats()["by_provider"].get("virustotal", 0)

        def delta(name, **labels):
            return total(after, name, **labels) - total(before, name, **labels)

        self.assertEqual(sent, 2)
        self.assertEqual(delta("threatmilter_provider_requests_total", integration="virustotal",
                               result="failed"), 2)
        self.assertEqual(delta("threatmilter_provider_errors_total", integration="virustotal",
                               error="provider"), 1)
        self.assertEqual(delta("threatmilter_provider_errors_total", integration="virustotal"), 1)

    def test_reloads_counted(self):
        before, _ = promtext.parse(scrape(self.port)[0])
        count = tmtest.read_bytes(self.log).count(b"configuration reloaded")
        self.daemon.signal(signal.SIGHUP)
        tmtest.wait_for(lambda: tmtest.read_bytes(self.log).count(b"configuration reloaded")
                        > count, 20, "the reload")
        after, _ = promtext.parse(scrape(self.port)[0])
        self.assertEqual(value(after, "threatmilter_reloads_total", result="ok") -
                         value(before, "threatmilter_reloads_total", result="ok"), 1)
        # the endpoint is still the same one after the reload
        self.assertEqual(value(after, "threatmilter_build_info",
                               version=self.version()), 1)

    def version(self):
        out = tmtest.run("-V").stdout.decode() + tmtest.run("-V").stderr.decode()
        return re.search(r"(\d+\.\d+[\w.~+-]*)", out).group(1)

    def test_text_parses_strictly(self):
        text, headers = scrape(self.port)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        samples, families = promtext.parse(text)
        for name, fam in families.items():
            self.assertTrue(name.startswith("threatmilter_"), name)
            self.assertTrue(fam.get("help"), name)
            if fam["type"] == "histogram":
                self.assertTrue(name.endswith("_seconds"), name)
        for wanted in ("threatmilter_provider_requests_total", "threatmilter_messages_total",
                       "threatmilter_provider_breaker_state", "threatmilter_jobs_pending",
                       "threatmilter_upload_bytes_total", "threatmilter_reloads_total"):
            self.assertIn(wanted, families)
        # the Grafana dashboard asks for nothing the daemon does not serve
        with open(os.path.join(tmtest.SRCDIR, "contrib", "grafana-dashboard.json")) as f:
            dashboard = json.load(f)
        exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
        self.assertGreater(len(exprs), 15)
        for name in set(re.findall(r"threatmilter_\w+", " ".join(exprs))):
            self.assertIn(re.sub(r"_bucket\Z", "", name), families, name)
        if not os.path.exists(DEBIAN_PYTHON):
            self.skipTest("no " + DEBIAN_PYTHON)
        # the reference parser (python3-prometheus-client, contrib/install-deps.sh)
        proc = subprocess.run(
            [DEBIAN_PYTHON, "-c",
             "import sys, json\n"
             "from prometheus_client.parser import text_string_to_metric_families as p\n"
             "fams = list(p(sys.stdin.read()))\n"
             "print(json.dumps({f.name: [f.type, len(f.samples)] for f in fams}))\n"],
            input=text.encode(), capture_output=True, timeout=60)
        if b"No module named 'prometheus_client'" in proc.stderr:
            self.skipTest("python3-prometheus-client is not installed")
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        parsed = json.loads(proc.stdout)
        self.assertEqual(parsed["threatmilter_provider_requests"][0], "counter")
        self.assertEqual(parsed["threatmilter_message_duration_seconds"][0], "histogram")
        self.assertEqual(sum(n for _, n in parsed.values()), len(samples))

    def test_refuses_anything_but_get_metrics(self):
        cases = [
            (b"POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", b"405"),
            (b"HEAD /metrics HTTP/1.0\r\n\r\n", b"405"),
            (b"PUT /metrics HTTP/1.1\r\nHost: x\r\n\r\n", b"405"),
            (b"GET / HTTP/1.0\r\n\r\n", b"404"),
            (b"GET /metrics/ HTTP/1.0\r\n\r\n", b"404"),
            (b"GET /metrics?debug=1 HTTP/1.0\r\n\r\n", b"404"),
            (b"GET /../etc/passwd HTTP/1.0\r\n\r\n", b"404"),
            (b"GET /metrics HTTP/2.0\r\n\r\n", b"505"),
            (b"GET /metrics\r\n\r\n", b"400"),
            (b"GET /metrics HTTP/1.0\n\n", b"400"),
            (b"GET /metrics HTTP/1.0\r\nContent-Length: 10\r\n\r\n0123456789", b"400"),
            (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)), b"400"),
            (b"GET /metrics HTTP/1.0\r\nX: " + b"a" * 9000 + b"\r\n\r\n", b"431"),
        ]
        for raw, status in cases:
            answer = http(self.port, raw)
            self.assertTrue(answer.startswith(b"HTTP/1.0 " + status + b" "), (raw[:40], answer[:60]))
            self.assertNotIn(b"threatmilter_", answer, raw[:40])
        self.assertIn(b"Allow: GET\r\n", http(self.port, cases[0][0]))
        # a client that connects and leaves, or sends half a request and leaves
        for raw in (b"", b"GET /met"):
            with socket.create_connection(("127.0.0.1", self.port)) as s:
                s.sendall(raw)
        self.assertIn("threatmilter_messages_total", scrape(self.port)[0])

    def test_slow_clients_never_block_the_milter(self):
        # more idle clients than the endpoint serves at once, and one that
        # trickles a byte at a time
        idle = [socket.create_connection(("127.0.0.1", self.port)) for _ in range(40)]
        trickle = socket.create_connection(("127.0.0.1", self.port))
        try:
            start = time.monotonic()
            for i in range(3):
                trickle.sendall(b"GET /metrics HTTP/1.0\r\n"[i:i + 1])
                _, mods = self.send(mail(["http://clean-slow.example/%d" % i]), "MS%d" % i)
                self.assertTrue(any(m[0] == "insheader" for m in mods))
            self.assertLess(time.monotonic() - start, 3.0, "messages waited for the endpoint")
            # each connection is closed after its 5 s budget
            idle[0].settimeout(10)
            t0 = time.monotonic()
            self.assertEqual(idle[0].recv(100), b"")
            self.assertLess(time.monotonic() - t0, 7.5)
            # then the waiting ones are served, and a scrape works again
            tmtest.wait_for(lambda: self.try_scrape(), 20, "a scrape after the slow clients")
        finally:
            for s in idle + [trickle]:
                s.close()

    def test_out_of_descriptors_does_not_spin(self):
        """Defect: with the process out of descriptors, accept() failed with
        EMFILE while the listener stayed readable, and the endpoint thread
        spun a whole CPU on it. Now it pauses 100 ms between attempts."""
        import resource
        pid = self.daemon.proc.pid
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        clients = []
        try:
            resource.prlimit(pid, resource.RLIMIT_NOFILE,
                             (len(os.listdir("/proc/%d/fd" % pid)), hard))
            clients = [socket.create_connection(("127.0.0.1", self.port)) for _ in range(3)]
            time.sleep(0.2)
            before = self.cpu_seconds(pid)
            time.sleep(1.0)
            self.assertLess(self.cpu_seconds(pid) - before, 0.3)
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
            for c in clients:
                c.close()
        tmtest.wait_for(lambda: self.try_scrape(), 20, "a scrape with descriptors back")

    @staticmethod
    def cpu_seconds(pid):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def try_scrape(self):
        try:
            return "threatmilter_messages_total" in scrape(self.port)[0]
        except OSError:
            return False


class MetricsConfiguration(unittest.TestCase):
    def setUp(self):
        self.dir = tmtest.tmpdir()

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def conf(self, *lines):
        path = os.path.join(self.dir, "t.conf")
        with open(path, "w") as f:
            f.write("Syslog no\nBackground no\nTmpDir %s\nSocket local:%s/m.sock\n"
                    % (self.dir, self.dir))
            f.write("".join(line + "\n" for line in lines))
        return path

    def test_off_by_default(self):
        path = self.conf()
        self.assertEqual(tmtest.run("-e", "MetricsSocket", "-c", path).stdout, b"none\n")
        log = os.path.join(self.dir, "d.log")
        d = tmtest.Daemon(path, "local:%s/m.sock" % self.dir, log)
        try:
            time.sleep(0.3)
            inodes = set()
            fd_dir = "/proc/%d/fd" % d.proc.pid
            for fd in os.listdir(fd_dir):
                target = os.readlink(os.path.join(fd_dir, fd))
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
            listening = []
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                with open(table) as f:
                    for row in f.read().splitlines()[1:]:
                        cols = row.split()
                        if cols[3] == "0A" and cols[9] in inodes:	# LISTEN
                            listening.append(cols[1])
            self.assertEqual(listening, [])
        finally:
            d.stop()
        self.assertNotIn(b"metrics on", tmtest.read_bytes(log))

    def test_bad_values_refused_at_load(self):
        for value, why in (("unix:/run/m.sock", b"over TCP"),
                           ("inet:127.0.0.1:9895", b"inet:9895@127.0.0.1"),
                           ("inet:99999", b"bad port"), ("http://127.0.0.1:9895", b"unknown form")):
            proc = tmtest.run("-n", "-c", self.conf("MetricsSocket " + value))
            self.assertNotEqual(proc.returncode, 0, value)
            self.assertIn(b"MetricsSocket", proc.stderr + proc.stdout, value)
            self.assertIn(why, proc.stderr + proc.stdout, value)

    def test_loopback_unless_an_address_is_named(self):
        port = free_port()
        path = self.conf("MetricsSocket inet:%d" % port)
        log = os.path.join(self.dir, "d.log")
        d = tmtest.Daemon(path, "local:%s/m.sock" % self.dir, log)
        try:
            tmtest.wait_for(lambda: b"metrics on" in tmtest.read_bytes(log), 10, "the endpoint")
            self.assertIn(b"metrics on inet:%d@127.0.0.1" % port, tmtest.read_bytes(log))
            self.assertIn("threatmilter_build_info", scrape(port)[0])
        finally:
            d.stop()

    def test_port_taken_refuses_the_start(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        try:
            path = self.conf("MetricsSocket inet:%d@127.0.0.1" % blocker.getsockname()[1])
            proc = subprocess.run([tmtest.BINARY, "-f", "-c", path], capture_output=True,
                                  timeout=30)
            self.assertNotEqual(proc.returncode, 0)
            self.assertIn(b"MetricsSocket", proc.stderr)
            self.assertIn(b"in use", proc.stderr)
        finally:
            blocker.close()


if __name__ == "__main__":
    tmtest.run_tests(__name__)
