#!/usr/bin/env python3
"""Configuration files and reloads of the daemon (breaker report).

F4: a FIFO named *.conf in integrations.d hung `threatmilter -n` and a
SIGHUP reload in open(); SIGTERM was then not acted on and mail that
started after it was still processed. Files read as configuration are
opened without blocking and must be regular files.
F3: MaxMessageSize 0 passed -n; `scan` then called every message too
large while the daemon buffered it without bound.
F8: -n said "configuration OK" for values that cannot work (a file://
APIURL, a Proxy that is no URL, a RejectMessage longer than an SMTP reply,
a HeaderPrefix with ':' or a blank).
F12: SIGHUP logged "configuration reloaded" although a changed Socket
(or another key read only at start-up) was not applied."""
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402

MAIL = (b"Received: from origin.example (origin.example [192.0.2.10])\n"
        b"\tby relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\n"
        b"From: alice@example.net\nTo: bob@example.com\nSubject: t\n\nhello\n")


class ReloadCase(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        self.sock = os.path.join(self.dir, "milter.sock")
        self.log_path = os.path.join(self.dir, "milter-%s.log" % self._testMethodName)
        self.config = tmtest.write_config(self.dir, self.mocks, integrations=["spamhaus"],
                                          main={"Socket": "local:" + self.sock,
                                                "ScanDeadline": "2s"})
        self.idir = os.path.join(os.path.dirname(self.config), "integrations.d")
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None:
            self.daemon.stop()

    def log(self):
        return tmtest.read_bytes(self.log_path).decode(errors="replace")

    def test_f4_fifo_in_integrations_dir_refused_by_check(self):
        fifo = os.path.join(self.idir, "b.conf")
        os.mkfifo(fifo)
        # the old code blocked in open() for ever: TimeoutExpired
        proc = tmtest.run("-n", "-c", self.config, timeout=10)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(("%s: not a regular file" % fifo).encode(), proc.stderr)

    def test_f4_fifo_reload_fails_and_sigterm_still_stops(self):
        self.daemon = tmtest.Daemon(self.config, "local:" + self.sock, self.log_path)
        os.mkfifo(os.path.join(self.idir, "b.conf"))
        self.daemon.signal(signal.SIGHUP)
        tmtest.wait_for(lambda: "reload failed" in self.log(), 10, "the failed reload")
        self.assertIn("b.conf: not a regular file", self.log())
        self.daemon.signal(signal.SIGTERM)
        start = time.monotonic()
        self.daemon.proc.wait(10)	# the old daemon was still running here
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(self.daemon.proc.returncode, 0)
        self.assertIn("stopped", self.log())

    def test_f4_fifo_reload_keeps_filtering_with_the_old_configuration(self):
        self.daemon = tmtest.Daemon(self.config, "local:" + self.sock, self.log_path)
        os.mkfifo(os.path.join(self.idir, "b.conf"))
        self.daemon.signal(signal.SIGHUP)
        tmtest.wait_for(lambda: "reload failed" in self.log(), 10, "the failed reload")
        c = tmtest.milter_client(self.sock)
        try:
            final, mods = mc.send_message(c, MAIL)
        finally:
            c.quit()
            c.close()
        self.assertTrue(any(m[0] == "insheader" for m in mods), mods)

    def test_f12_reload_warns_about_startup_only_keys(self):
        self.daemon = tmtest.Daemon(self.config, "local:" + self.sock, self.log_path)
        other = os.path.join(self.dir, "other.sock")
        with open(self.config) as f:
            text = f.read().replace("Socket local:" + self.sock, "Socket local:" + other)
        text = text.replace("ScanDeadline 2s", "ScanDeadline 3s")
        with open(self.config, "w") as f:
            f.write(text + "MilterTimeout 200s\n")
        self.daemon.signal(signal.SIGHUP)
        tmtest.wait_for(lambda: "configuration reloaded" in self.log(), 10, "the reload")
        tmtest.wait_for(lambda: "MilterTimeout changed" in self.log(), 5, "the warning")
        log = self.log()
        self.assertIn("Socket changed; takes effect at restart", log)
        self.assertIn("MilterTimeout changed; takes effect at restart", log)
        self.assertNotIn("ScanDeadline changed", log)	# a reload applies it
        self.assertFalse(os.path.exists(other))
        # still served on the old socket
        c = tmtest.milter_client(self.sock)
        c.quit()
        c.close()

    def test_f3_max_message_size_zero_refused(self):
        with open(self.config, "a") as f:
            f.write("MaxMessageSize 0\n")
        proc = tmtest.run("-n", "-c", self.config, timeout=10)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"threatmilter.conf:", proc.stderr)
        self.assertIn(b"MaxMessageSize: must be more than 0", proc.stderr)
        objs, scan = tmtest.scan(self.config, "-", stdin=MAIL)
        self.assertEqual(scan.returncode, 2)	# scan refuses it as well

    def test_f8_check_refuses_unusable_values(self):
        cases = [
            ({"RejectMessage": "5.7.1 %v " + "x" * 1200}, None, b"RejectMessage: too long"),
            ({"HeaderPrefix": "X-Threat:"}, None, b"HeaderPrefix: 'X-Threat:' cannot start"),
            ({"HeaderPrefix": "X Threat-"}, None, b"HeaderPrefix: 'X Threat-' cannot start"),
            ({}, {"APIURL": "file:///etc/passwd"}, b"APIURL: scheme 'file' is not one of"),
            ({}, {"Proxy": "not a proxy"}, b"Proxy: not a URL"),
        ]
        for main, extra, expected in cases:
            with self.subTest(expected=expected):
                config = tmtest.write_config(self.dir, self.mocks,
                                             integrations=["virustotal"], main=main,
                                             overrides={"virustotal": extra or {}})
                proc = tmtest.run("-n", "-c", config, timeout=10)
                self.assertEqual(proc.returncode, 1, proc.stdout)
                self.assertIn(expected, proc.stderr)
                self.assertIn(b".conf:", proc.stderr)	# file:line


if __name__ == "__main__":
    tmtest.run_tests(__name__)
