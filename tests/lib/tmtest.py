"""Shared pieces of threatmilter's integration tests (Python 3 standard
library only): the mock providers and the mock Spamhaus DNS server on
free loopback ports with a test CA, configuration files pointing at them,
the daemon, and a runner that prints the `N passed, N failed` line.

Environment (set by `make check`): TM_BINARY, TM_SRCDIR."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.dont_write_bytecode = True

SRCDIR = os.environ.get("TM_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("TM_BINARY") or os.path.join(SRCDIR, "threatmilter")
MOCK_DIR = os.path.join(SRCDIR, "tests", "mock")

VT_KEY = "test-vt-key"
GOOGLE_KEY = "test-google-key"
XF_KEY, XF_PASS = "test-xf-key", "test-xf-pass"
MD_KEY = "test-md-key"
SECRETS = (VT_KEY, GOOGLE_KEY, XF_KEY, XF_PASS, MD_KEY)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError("timed out waiting for " + what)


class Mocks:
    """mock_providers.py (HTTP + HTTPS) and mock_dns.py, started together."""

    def __init__(self, directory, delay_ms=0):
        self.dir = directory
        self.procs = []
        ca_dir = os.path.join(directory, "ca")
        subprocess.run(["sh", os.path.join(MOCK_DIR, "gen_test_ca.sh"), ca_dir], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        self.ca = os.path.join(ca_dir, "ca.pem")
        http_ports = os.path.join(directory, "http.ports")
        dns_ports = os.path.join(directory, "dns.ports")
        self.log = open(os.path.join(directory, "mocks.log"), "w")
        args = [sys.executable, os.path.join(MOCK_DIR, "mock_providers.py"),
                "--http-port", "0", "--https-port", "0", "--bad-https-port", "0",
                "--cert", os.path.join(ca_dir, "server.pem"),
                "--key", os.path.join(ca_dir, "server.key"), "--ports-file", http_ports]
        if delay_ms:
            args += ["--delay-ms", str(delay_ms)]
        self.procs.append(subprocess.Popen(args, stdout=self.log, stderr=self.log))
        self.procs.append(subprocess.Popen(
            [sys.executable, os.path.join(MOCK_DIR, "mock_dns.py"), "--port", "0",
             "--control-port", "0", "--ports-file", dns_ports],
            stdout=self.log, stderr=self.log))
        try:
            wait_for(lambda: os.path.exists(http_ports) and os.path.exists(dns_ports), 20,
                     "the mock servers")
        except TimeoutError:
            self.stop()
            raise
        with open(http_ports) as f:
            self.http = json.load(f)
        with open(dns_ports) as f:
            self.dns = json.load(f)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []
        self.log.close()

    # control API
    def _http(self, path, body=None, dns=False):
        port = self.dns["control"] if dns else self.http["http"]
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                                     method="GET" if data is None else "POST")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def reset(self):
        self._http("/__mock/reset", {})
        self._http("/reset", {}, dns=True)

    def stats(self):
        return self._http("/__mock/stats")

    def requests(self, provider=None):
        q = "?provider=" + provider if provider else ""
        return self._http("/__mock/requests" + q)

    def dns_stats(self):
        return self._http("/stats", dns=True)

    def fault(self, provider, mode, **kw):
        body = {"provider": provider, "mode": mode}
        body.update(kw)
        return self._http("/__mock/fault", body)

    def indicators(self, provider, mapping):
        return self._http("/__mock/indicators", {"provider": provider, "indicators": mapping})

    def api_root(self, provider, tls=True):
        base = "https://127.0.0.1:%d" % self.http["https"] if tls else \
            "http://127.0.0.1:%d" % self.http["http"]
        return base + {"virustotal": "/api/v3", "safebrowsing": "/v4", "webrisk": "/v1",
                       "xforce": "", "metadefender": "/v4"}[provider]


INTEGRATION_DEFAULTS = {
    "spamhaus": {"Type": "spamhaus", "APIURL": "zen.spamhaus.org"},
    "virustotal": {"Type": "virustotal", "APIKey": VT_KEY, "DetectionThreshold": "1",
                   "SenderIP": "yes", "RateLimit": "1000/second"},
    "safebrowsing": {"Type": "safebrowsing", "APIKey": GOOGLE_KEY},
    "webrisk": {"Type": "webrisk", "APIKey": GOOGLE_KEY},
    "xforce": {"Type": "xforce", "APIKey": XF_KEY, "APIPassword": XF_PASS},
    "metadefender": {"Type": "metadefender", "APIKey": MD_KEY, "Attachments": "yes"},
}


def write_config(directory, mocks, integrations=("spamhaus", "virustotal", "safebrowsing",
                                                 "webrisk", "xforce"),
                 main=None, overrides=None, tls=True):
    """threatmilter.conf + integrations.d/ in directory, every integration
    pointing at the mocks. overrides: {name: {Key: value}}. Returns the path."""
    conf_dir = os.path.join(directory, "conf")
    idir = os.path.join(conf_dir, "integrations.d")
    shutil.rmtree(conf_dir, ignore_errors=True)
    os.makedirs(idir)
    settings = {"Syslog": "no", "Background": "no", "CACertFile": mocks.ca,
                "ScanDeadline": "10s", "TmpDir": directory}
    settings.update(main or {})
    with open(os.path.join(conf_dir, "threatmilter.conf"), "w") as f:
        for k, v in settings.items():
            f.write("%s %s\n" % (k, v))
    for name in integrations:
        kind = name.split("-")[0]
        fields = {"Name": name}
        fields.update(INTEGRATION_DEFAULTS[kind])
        if kind == "spamhaus":
            fields["DNSServers"] = "127.0.0.1:%d" % mocks.dns["dns"]
        else:
            fields["APIURL"] = mocks.api_root(kind, tls)
        fields.update((overrides or {}).get(name, {}))
        with open(os.path.join(idir, name + ".conf"), "w") as f:
            for k, v in fields.items():
                f.write("%s %s\n" % (k, v))
    return os.path.join(conf_dir, "threatmilter.conf")


def run(*args, timeout=60):
    """threatmilter with these arguments; the CompletedProcess."""
    return subprocess.run([BINARY, *args], capture_output=True, timeout=timeout)


def scan(config, *files, stdin=None, timeout=60):
    """Runs `threatmilter scan -c config files...`; returns (objects, proc)."""
    proc = subprocess.run([BINARY, "scan", "-c", config, *files], input=stdin,
                          capture_output=True, timeout=timeout)
    objs = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.strip()]
    return objs, proc


class PostfixHarnessMixin:
    """For tests that run a private Postfix with tests/e2e/postfix-harness.sh:
    cls.pf(script) runs a shell snippet with the instance in cls.pf_dir
    loaded (its TM_PF_* variables) and returns its standard output."""

    HARNESS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "e2e", "postfix-harness.sh")

    @classmethod
    def prepare_milter_dirs(cls):
        """cls.dir (readable by Postfix and the milter's user), the mocks
        with a readable CA, cls.tmp (a TmpDir any user may write) and
        cls.sock, the milter's socket path."""
        cls.dir = tmpdir()
        os.chmod(cls.dir, 0o755)	# the milter runs as nobody, postfix reads the socket
        cls.mocks = Mocks(cls.dir)
        os.chmod(cls.mocks.ca, 0o644)
        cls.tmp = os.path.join(cls.dir, "spool")
        os.makedirs(cls.tmp)
        os.chmod(cls.tmp, 0o1777)
        cls.sock = os.path.join(cls.dir, "milter.sock")

    @classmethod
    def start_postfix(cls):
        """The private Postfix in cls.pf_dir with cls.sock as its milter
        (milter_default_action tempfail); cls.port its SMTP port. On
        failure cls.daemon and the mocks are stopped and RuntimeError
        raised."""
        cls.pf_dir = os.path.join(cls.dir, "postfix")
        env = dict(os.environ, TM_PF_DIR=cls.pf_dir, TM_PF_MILTER="unix:" + cls.sock,
                   TM_PF_BACKOFF="1s",
                   TM_PF_MAIN_EXTRA="milter_default_action = tempfail")
        out = subprocess.run(["bash", cls.HARNESS, "start"], env=env, capture_output=True,
                             timeout=120)
        if out.returncode != 0:
            cls.daemon.stop()
            cls.mocks.stop()
            raise RuntimeError("postfix harness: " + out.stderr.decode())
        cls.port = int(cls.pf("echo $TM_PF_PORT").strip())

    @classmethod
    def stop_all(cls):
        """Postfix, the daemon and the mocks stopped; cls.dir removed
        unless TM_KEEP=1."""
        subprocess.run(["bash", cls.HARNESS, "stop", cls.pf_dir], capture_output=True,
                       timeout=60)
        cls.daemon.stop()
        cls.mocks.stop()
        if os.environ.get("TM_KEEP") != "1":
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def pf(cls, script):
        out = subprocess.run(["bash", "-c", '. "$1"; pf_load_state "$2" >/dev/null || exit 1; '
                              + script, "pf", cls.HARNESS, cls.pf_dir],
                             capture_output=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError("%s: %s" % (script, out.stderr.decode()))
        return out.stdout.decode()


def _accepts_unix(path):
    """Whether a unix socket takes a connection now (closed at once)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Daemon:
    """threatmilter -f on a unix socket (or the Socket of its config)."""

    def __init__(self, config, socket_spec, log_path, binary=None):
        self.socket_spec = socket_spec
        unix_path = socket_spec.split(":", 1)[1] \
            if socket_spec.startswith(("local:", "unix:")) else None
        if unix_path and os.path.exists(unix_path):
            os.unlink(unix_path)	# a stale socket would end the wait below at once
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([binary or BINARY, "-f", "-c", config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if socket_spec.startswith("local:") or socket_spec.startswith("unix:"):
            path = socket_spec.split(":", 1)[1]
            wait_for(lambda: os.path.exists(path) or self.proc.poll() is not None, 20,
                     "the milter socket")
            # the file exists from bind(); connections are taken only once
            # libmilter listens: wait for that too (a refused connect here
            # made tests flaky on a loaded machine)
            wait_for(lambda: self.proc.poll() is not None or _accepts_unix(path), 20,
                     "the milter socket to accept")
        else:
            time.sleep(0.3)
        if self.proc.poll() is not None:
            raise RuntimeError("threatmilter exited with %d" % self.proc.returncode)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class MocksCase(unittest.TestCase):
    """A test class whose mocks run once for the class, in a private
    directory (cls.dir, removed afterwards)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.mocks = Mocks(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def milter_client(socket_path, address="192.0.2.200"):
    """A negotiated, connected milter client on a unix socket (the
    protocol client lives in milterclient.py)."""
    import milterclient
    c = milterclient.MilterClient("unix:" + socket_path)
    c.optneg()
    c.connect(address=address)
    return c


def run_tests(module_name):
    """unittest main with the `N passed, N failed` last line."""
    verbosity = 2 if "-v" in sys.argv else 1
    names = [a for a in sys.argv[1:] if not a.startswith("-")]
    loader = unittest.defaultTestLoader
    module = sys.modules[module_name]
    suite = loader.loadTestsFromNames(names, module) if names else \
        loader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    # skipped cases are named, so that the closing sum does not hide them
    print("%d passed, %d failed" % (passed, failed) +
          (", %d skipped" % skipped if skipped else ""))
    sys.exit(1 if failed else 0)


def tmpdir():
    """A temporary directory the postfix user can reach (not under /root)."""
    base = "/tmp" if os.path.isdir("/tmp") else None
    return tempfile.mkdtemp(prefix="tmtest.", dir=base)
