#!/usr/bin/env python3
"""After a change threatmilterctl reloads the running daemon (the real
binary, PidFile, unix socket) and says whether it did: threatmilterctl(8),
RELOAD."""
import os
import signal
import subprocess
import time

from ctlcase import CTL, CtlCase, tmtest


class Reload(CtlCase):
    def setUp(self):
        self.sock = os.path.join(self.dir, "milter.sock")
        self.pid_file = os.path.join(self.dir, "threatmilter.pid")
        self.main = {"Socket": "local:" + self.sock, "PidFile": self.pid_file}
        super().setUp()
        self.log_path = os.path.join(self.dir, "daemon-%s.log" % self._testMethodName)
        self.add_virustotal()
        self.daemon = tmtest.Daemon(self.config, "local:" + self.sock, self.log_path)
        tmtest.wait_for(lambda: os.path.exists(self.pid_file), 10, "the PidFile")

    def tearDown(self):
        os.kill(self.daemon.proc.pid, signal.SIGCONT)
        self.daemon.stop()
        with open(self.log_path) as f:
            log = f.read()
        for secret in self.secrets:
            self.assertNotIn(secret, log)

    def reloads(self):
        with open(self.log_path) as f:
            return [l for l in f.read().splitlines() if "configuration reloaded" in l]

    def test_change_reloads_the_daemon(self):
        out, _ = self.ctl("integration", "add", "zen", "--type", "spamhaus", reload=True)
        self.assertIn("threatmilter (pid %d) reloaded" % self.daemon.proc.pid, out)
        tmtest.wait_for(lambda: self.reloads(), 5, "the daemon's log line")
        self.assertIn("(2 active integrations: ", self.reloads()[-1])  # it read the new file
        self.ctl("integration", "disable", "zen", reload=True)
        self.ctl("exclude", "add", "urls", "intranet.example", reload=True)
        tmtest.wait_for(lambda: len(self.reloads()) == 3, 5, "three reloads")
        self.assertIsNone(self.daemon.proc.poll())

    def test_refused_change_does_not_signal(self):
        self.ctl("integration", "edit", "vt", "--DetectionThreshold", "-1", reload=True,
                 expect=1)
        self.ctl("exclude", "add", "ips", "10.0.0.0/33", reload=True, expect=1)
        time.sleep(0.3)
        self.assertEqual(self.reloads(), [])

    def test_no_reload(self):
        out, _ = self.ctl("integration", "edit", "vt", "--tags", "x")   # --no-reload
        self.assertIn("not reloaded", out)
        time.sleep(0.3)
        self.assertEqual(self.reloads(), [])
        out, _ = self.ctl("reload", reload=True)
        self.assertIn("reloaded", out)

    def test_daemon_that_does_not_reread_is_reported(self):
        """A stopped daemon cannot reread: exit 1 after the wait, not a
        claim of success."""
        os.kill(self.daemon.proc.pid, signal.SIGSTOP)
        _, err = self.ctl("integration", "edit", "vt", "--tags", "x", reload=True, expect=1)
        self.assertIn("did not reread the configuration", err)

    def test_pid_file_of_another_process(self):
        other = subprocess.Popen(["sleep", "30"])
        try:
            with open(self.pid_file, "w") as f:
                f.write("%d\n" % other.pid)
            _, err = self.ctl("reload", reload=True, expect=1)
            self.assertIn("not threatmilter: not signalled", err)
            self.assertIsNone(other.poll())
        finally:
            other.kill()
            other.wait()
        with open(self.pid_file, "w") as f:
            f.write("%d\n" % other.pid)    # gone now
        out, _ = self.ctl("reload", reload=True)
        self.assertIn("not running", out)

    def test_pid_file_that_is_a_fifo_never_hangs(self):
        """threatmilterctl read the PidFile (and every file it edits) with
        a blocking open: a FIFO there hung it for good. It now reads only
        regular files, as the daemon does (breaker F4's class)."""
        os.unlink(self.pid_file)
        os.mkfifo(self.pid_file)
        argv = [CTL, "-c", self.config, "reload"]
        proc = subprocess.run(argv, capture_output=True, timeout=10)
        self.assertIn(b"not running", proc.stdout + proc.stderr)
        os.unlink(self.pid_file)

    def test_broken_configuration_is_not_signalled(self):
        """A file broken by hand: the tool's check fails before SIGHUP."""
        with open(os.path.join(self.idir, "broken.conf"), "w") as f:
            f.write("Name broken\nType virustotal\nTimeout forever\n")
        _, err = self.ctl("reload", reload=True, expect=1)
        self.assertIn("broken.conf:3", err)
        time.sleep(0.3)
        self.assertEqual(self.reloads(), [])


if __name__ == "__main__":
    tmtest.run_tests(__name__)
