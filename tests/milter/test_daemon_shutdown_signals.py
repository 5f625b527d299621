#!/usr/bin/env python3
"""Shutdown and signals of the daemon, over the milter protocol.

issue 11, defect 4: shutdown must not pull the configuration or the
engine from under sessions that still run; a message that starts during
shutdown is tempfailed, a message in progress finishes with its verdict.
issue 11, defect 5: SIGHUP/SIGUSR1 reload whatever thread the kernel
offers them to; libmilter's own signal thread (which stops the filter on
SIGHUP) never takes them, even in a burst or with a signal pending on
the main thread."""
import ctypes
import os
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402

PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH = 0x4206, 0x4207, 17
WALL = 0x40000000	# __WALL: wait for a stop of any thread


def mail(body, subject="test"):
    return ("Received: from origin.example (origin.example [192.0.2.10])\n"
            "\tby relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\n"
            "From: alice@example.net\nTo: bob@example.com\nSubject: %s\n"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n" % (subject, body)).encode()


class DaemonCase(tmtest.MocksCase):
    """A fresh daemon per test (these tests stop it or signal it)."""
    main = {}
    overrides = None

    def setUp(self):
        self.mocks.reset()
        self.sock = os.path.join(self.dir, "milter.sock")
        self.log_path = os.path.join(self.dir, "milter-%s.log" % self._testMethodName)
        settings = {"Socket": "local:" + self.sock, "ScanDeadline": "3s"}
        settings.update(self.main)
        self.config = tmtest.write_config(self.dir, self.mocks,
                                          integrations=["spamhaus", "virustotal"],
                                          main=settings, overrides=self.overrides)
        self.daemon = tmtest.Daemon(self.config, "local:" + self.sock, self.log_path)

    def tearDown(self):
        self.daemon.stop()

    def log(self):
        return tmtest.read_bytes(self.log_path)

    def client(self):
        return tmtest.milter_client(self.sock)

    def send(self, raw, queue_id="TESTQID"):
        c = self.client()
        try:
            return mc.send_message(c, raw, queue_id=queue_id)
        finally:
            c.quit()
            c.close()


class Defect4Shutdown(DaemonCase):
    main = {"ScanDeadline": "1s"}
    overrides = {"virustotal": {"Timeout": "10s"}}

    def test_defect4_message_in_progress_outlives_shutdown(self):
        """SIGTERM while a message waits for a slow provider under a
        reloaded, longer ScanDeadline: the engine stays until the message
        has its verdict (it was freed under it after a drain computed
        from the start-up deadline). The next MAIL FROM on that
        connection is never judged: tempfailed (451 4.3.2) where the
        session still runs, or the connection is closed by a pooled
        libmilter."""
        with open(self.config, "a") as f:
            f.write("ScanDeadline 12s\n")
        with open(self.config) as f:
            text = f.read().replace("ScanDeadline 1s\n", "", 1)
        with open(self.config, "w") as f:
            f.write(text)
        self.daemon.signal(signal.SIGHUP)
        tmtest.wait_for(lambda: b"configuration reloaded" in self.log(), 10, "the reload")
        self.mocks.fault("virustotal", "delay", ms=8000)
        c = self.client()
        stopper = threading.Timer(0.5, self.daemon.signal, args=(signal.SIGTERM,))
        stopper.start()
        late = None
        try:
            first = mc.send_message(c, mail("http://slow.example/x"), queue_id="QRUNNING")
            try:
                late = mc.send_message(c, mail("http://fine.example/"), queue_id="QLATE")
            except (mc.MilterError, ConnectionError):
                pass	# a pooled libmilter closes idle sessions on stop
        finally:
            stopper.cancel()
            c.close()
        final, mods = first
        self.assertEqual(final[0], "accept")
        self.assertIn("X-Threat-Verdict", [m[2] for m in mods if m[0] == "insheader"])
        if late is not None:
            self.assertEqual(late[0][0], "replycode", late)
            self.assertTrue(late[0][1].startswith("451 4.3.2"), late)
        self.daemon.proc.wait(30)
        self.assertEqual(self.daemon.proc.returncode, 0)
        log = self.log()
        self.assertIn(b"QRUNNING: client=", log)
        self.assertIn(b"QLATE: tempfailed", log) if late is not None else None
        self.assertIn(b"stopped", log)
        self.assertNotIn(b"AddressSanitizer", log)
        # the drain waited for it (the engine was not freed under it)
        self.assertNotIn(b"messages in progress", log)


class IdleStop(DaemonCase):
    def test_sigterm_on_an_idle_daemon_stops_at_once(self):
        """libmilter's listener sits in a 5 s select() holding the mutex
        smfi_stop() needs to close the socket: SIGTERM on an idle filter
        used to take until that select() timed out (~4.8 s here, sent
        0.2 s after the listener started waiting). The listener is now
        woken. The bound is far from both (systemd's stop waits on it)."""
        time.sleep(0.2)
        start = time.monotonic()
        self.daemon.signal(signal.SIGTERM)
        self.daemon.proc.wait(30)
        took = time.monotonic() - start
        self.assertEqual(self.daemon.proc.returncode, 0)
        self.assertLess(took, 2.5, "SIGTERM took %.2f s" % took)
        self.assertIn(b"stopped", self.log())


class Defect5Signals(DaemonCase):
    def reloads(self):
        return self.log().count(b"configuration reloaded")

    def assert_alive_and_filtering(self):
        time.sleep(1.0)
        self.assertIsNone(self.daemon.proc.poll(), "the filter stopped: %s" % self.log()[-600:])
        final, mods = self.send(mail("see http://fine.example/page"))
        self.assertEqual(final[0], "accept")
        self.assertIn("X-Threat-Verdict", [m[2] for m in mods if m[0] == "insheader"])

    def test_burst_of_reload_signals_never_stops_the_filter(self):
        pid = self.daemon.proc.pid
        for _ in range(200):
            os.kill(pid, signal.SIGUSR1)
            os.kill(pid, signal.SIGHUP)
        self.assert_alive_and_filtering()
        tmtest.wait_for(lambda: self.reloads() >= 1, 10, "a reload")

    def test_defect5_sighup_while_the_main_thread_is_stopped(self):
        """The main thread is held in a ptrace stop (as a debugger or a
        long uninterruptible call would hold it), so the kernel offers a
        process-wide SIGHUP to another thread that does not block it.
        The old daemon relied on the main thread taking it; libmilter's
        signal thread took it instead and stopped the filter."""
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        pid = self.daemon.proc.pid
        if libc.ptrace(PTRACE_SEIZE, pid, None, None) != 0:
            self.skipTest("ptrace not permitted: %s" % os.strerror(ctypes.get_errno()))
        try:
            libc.ptrace(PTRACE_INTERRUPT, pid, None, None)
            os.waitpid(pid, WALL)	# the main thread is now stopped
            before = self.reloads()
            os.kill(pid, signal.SIGHUP)
            # (no proc.poll() here: its waitpid would take the ptrace stop)
            try:
                tmtest.wait_for(lambda: self.reloads() > before, 5, "the reload")
            except TimeoutError:
                pass	# asserted below, once the main thread runs again
        finally:
            libc.ptrace(PTRACE_DETACH, pid, None, None)
        self.assertNotIn(b"listener ended", self.log())
        self.assert_alive_and_filtering()
        self.assertGreater(self.reloads(), before)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
