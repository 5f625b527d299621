"""A private redis-server (Debian's package) on a free 127.0.0.1 port, two
threatmilter daemons sharing it, and a milter sender for the tests of
tests/redis and bench/redis.py. Python 3 standard library only."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
OUTAGE_LINE = b"until it answers again"
BACK_LINE = b"answering again"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def available():
    return os.access(REDIS_SERVER, os.X_OK)


class Redis:
    """redis-server in the foreground, no persistence; restartable on the
    same port."""

    def __init__(self, directory, password=None):
        self.dir = directory
        self.port = free_port()
        self.password = password
        self.proc = None
        self.start()

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--logfile", os.path.join(self.dir, "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        tmtest.wait_for(self._answers, 10, "redis-server")

    def _answers(self):
        try:
            return self.command("PING") in (b"+PONG", b"-NOAUTH Authentication required.")
        except OSError:
            return False

    def command(self, *words):
        """One command (inline RESP); the first reply line, or the whole
        reply of a multi-bulk answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            payload = b""
            if self.password:
                payload += b"AUTH %s\r\n" % self.password.encode()
            parts = [w.encode() if isinstance(w, str) else w for w in words]
            payload += b"*%d\r\n" % len(parts) + b"".join(
                b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
            s.sendall(payload)
            time.sleep(0.05)
            data = b""
            s.settimeout(0.5)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
        lines = data.split(b"\r\n")
        if self.password:
            lines = lines[1:]
        return lines[0] if len(lines) < 3 else b"\r\n".join(lines)

    def keys(self, pattern="*"):
        reply = self.command("KEYS", pattern)
        return [line for line in reply.split(b"\r\n")[2::2] if line]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)


class Site:
    """Mock providers, Redis and two daemons (hosts "a" and "b"), each with
    its own configuration; backend "redis" or "memory"."""

    def __init__(self, backend="redis", overrides=None, main=None, deadline="5s",
                 mocks_delay_ms=0):
        self.dir = tmtest.tmpdir()
        self.mocks = tmtest.Mocks(self.dir, delay_ms=mocks_delay_ms)
        self.redis = Redis(self.dir)
        self.daemons, self.socks, self.logs, self.metrics_ports = [], [], [], []
        vt = {"SenderIP": "no", "Domains": "no", "RateLimit": "10000/second",
              "MaxInFlight": "8"}
        vt.update(overrides or {})
        for host in ("a", "b"):
            d = os.path.join(self.dir, host)
            os.makedirs(d)
            sock = os.path.join(d, "milter.sock")
            self.metrics_ports.append(free_port())
            settings = {"Socket": "local:" + sock, "ScanDeadline": deadline,
                        "CacheBackend": backend,
                        "MetricsSocket": "inet:%d@127.0.0.1" % self.metrics_ports[-1]}
            if backend == "redis":
                settings["RedisServer"] = "127.0.0.1:%d prefix=t:" % self.redis.port
            settings.update(main or {})
            conf = tmtest.write_config(d, self.mocks, integrations=["virustotal"],
                                       main=settings, overrides={"virustotal": vt})
            log = os.path.join(d, "milter.log")
            self.daemons.append(tmtest.Daemon(conf, "local:" + sock, log))
            self.socks.append(sock)
            self.logs.append(log)

    def wait_connected(self):
        """The connection is made with the first cache (the first lookup):
        one message each, then the log line."""
        for i, sock in enumerate(self.socks):
            send(sock, mail(["https://warm-up%d.example/" % i]))
        for log in self.logs:
            tmtest.wait_for(lambda log=log: b"shared cache in use" in tmtest.read_bytes(log),
                            15, "the daemons' Redis connection")

    def close(self):
        for d in self.daemons:
            d.stop()
        self.redis.stop()
        self.mocks.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_count(self, needle):
        return [tmtest.read_bytes(log).count(needle) for log in self.logs]

    def counter(self, name):
        """The value of a counter without labels at each daemon's
        MetricsSocket (GET /metrics)."""
        values = []
        for port in self.metrics_ports:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                c.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
                data = b""
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            body = data.partition(b"\r\n\r\n")[2].decode()
            found = [float(line.split()[1]) for line in body.splitlines()
                     if line.split(" ", 1)[0] == name]
            values.append(found[0] if found else None)
        return values

    def vt_requests(self):
        return self.mocks.stats()["by_provider"].get("virustotal", 0)


def mail(urls, n=0):
    body = "\n".join(urls) or "no links"
    return ("From: alice@example.net\nTo: bob@example.com\nSubject: m%d\n"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n" % (n, body)).encode()


def send(sock, raw):
    """One message on a new connection; (final reply, headers added,
    seconds it took)."""
    started = time.monotonic()
    c = mc.MilterClient("unix:" + sock)
    try:
        c.optneg()
        c.connect(address="192.0.2.200")
        final, mods = mc.send_message(c, raw)
        c.quit()
    finally:
        c.close()
    return final, mods, time.monotonic() - started


def send_many(socks, messages, threads=8):
    """messages spread over socks round robin by threads senders; returns
    a list of (index, final, mods, seconds) in message order."""
    results = [None] * len(messages)
    lock = threading.Lock()
    next_index = [0]

    def worker():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(messages):
                return
            try:
                final, mods, secs = send(socks[i % len(socks)], messages[i])
            except Exception as e:  # noqa: BLE001 - recorded and asserted on
                final, mods, secs = ("exception", repr(e)), [], 0.0
            results[i] = (i, final, mods, secs)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def verdict(mods):
    for m in mods:
        if m[0] in ("addheader", "insheader") and m[-2].endswith("Threat-Verdict"):
            return m[-1]
    return None


def pe_file(tag):
    """A minimal PE by content: "MZ", e_lfanew (0x3c) = 0x40, "PE\\0\\0"."""
    return b"MZ" + bytes(0x3a) + b"\x40\0\0\0" + b"PE\0\0" + tag.encode() * 16


def attachment_mail(data, message_id):
    """A message with data attached as tool.exe (application/octet-stream)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alice@example.net", "bob@example.com", "file"
    msg["Message-ID"] = message_id
    msg.set_content("see attached\n")
    msg.add_attachment(data, maintype="application", subtype="octet-stream",
                       filename="tool.exe")
    return msg.as_bytes()
