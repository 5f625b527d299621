#!/usr/bin/env python3
"""Start-up of the daemon and `-n`: what a first install hits.

issue 18: 1 strict socket specification, 2 a unix socket only the daemon
can use, 3 a second instance, 5 the active integrations in the log, 6 a
relative -c and errors in the foreground, 7 unknown users and groups.
issue 17: 7 links planted where the daemon creates files, 8 a TmpDir the
daemon cannot use."""
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Startup(unittest.TestCase):
    def setUp(self):
        self.dir = tmtest.tmpdir()
        self.sock = os.path.join(self.dir, "milter.sock")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def conf(self, text="", integrations=None, name="threatmilter.conf"):
        """A configuration in self.dir; settings a test does not give are
        the quiet ones (foreground, stderr, a private TmpDir)."""
        idir = os.path.join(self.dir, "integrations.d")
        shutil.rmtree(idir, ignore_errors=True)
        os.makedirs(idir)
        for iname, body in (integrations or {}).items():
            with open(os.path.join(idir, iname + ".conf"), "w") as f:
                f.write(body)
        settings = {"Socket": "local:" + self.sock, "Syslog": "no", "Background": "no",
                    "TmpDir": self.dir}
        lines = [line for line in text.splitlines() if line.strip()]
        given = {line.split()[0].lower() for line in lines}
        lines += ["%s %s" % (k, v) for k, v in settings.items() if k.lower() not in given]
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def check(self, text, **kw):
        return tmtest.run("-n", "-c", self.conf(text, **kw))

    def start(self, config, *extra, cwd=None):
        log = open(os.path.join(self.dir, "daemon.log"), "ab")
        p = subprocess.Popen([tmtest.BINARY, "-f", "-c", config, *extra], stdout=log,
                             stderr=subprocess.STDOUT, cwd=cwd)
        log.close()
        self.procs.append(p)
        return p

    def log(self):
        with open(os.path.join(self.dir, "daemon.log"), "rb") as f:
            return f.read()

    def wait_socket(self, p, path=None):
        path = path or self.sock
        tmtest.wait_for(lambda: os.path.exists(path) or p.poll() is not None, 20, "the socket")
        self.assertIsNone(p.poll(), self.log()[-800:])

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        return p.wait(30)

    def assert_second_refused_first_reachable(self, config, message):
        second = self.start(config)
        try:
            status = second.wait(15)
        except subprocess.TimeoutExpired:
            status = None
        self.assertEqual(status, 1, "a second instance started")
        self.assertIn(message, self.log())
        c = mc.MilterClient("unix:" + self.sock)
        c.optneg()
        c.close()

    # ------------------------------------------------------------ issue 18, 1

    def test_fault18_1_postfix_spelling_is_a_file_line_error(self):
        out = self.check("Socket inet:127.0.0.1:18896")
        self.assertEqual(out.returncode, 1, out.stdout)
        err = out.stderr.decode()
        self.assertIn(os.path.join(self.dir, "threatmilter.conf") + ":1:", err)
        self.assertIn("inet:18896@127.0.0.1", err)
        # the daemon refuses it too, before touching anything
        p = self.start(self.conf("Socket inet:127.0.0.1:18896"))
        self.assertEqual(p.wait(20), 1)

    def test_fault18_1_every_socket_form_is_parsed_strictly(self):
        good = ["inet:18896@127.0.0.1", "inet:18896", "inet:18896@localhost",
                "inet6:18896@[::1]", "inet6:18896@::1", "local:" + self.sock,
                "unix:" + self.sock]
        bad = ["inet:127.0.0.1:18896", "inet:localhost:18896", "inet:0@127.0.0.1",
               "inet:65536@127.0.0.1", "inet:port@127.0.0.1", "inet:18896@",
               "inet6:18896@127.0.0.1", "inet6:[::1]:18896", self.sock,
               "local:relative.sock", "tcp:18896", "inet:18896@bad host"]
        for spec in good:
            out = self.check("Socket " + spec)
            self.assertEqual(out.returncode, 0, (spec, out.stderr))
        for spec in bad:
            out = self.check("Socket " + spec)
            self.assertEqual(out.returncode, 1, (spec, out.stdout))
            self.assertIn(b"threatmilter.conf:1: Socket", out.stderr, spec)

    def test_fault18_1_started_on_names_what_was_bound(self):
        port = free_port()
        p = self.start(self.conf("Socket inet:%d@localhost" % port))
        tmtest.wait_for(lambda: b"started on" in self.log() or p.poll() is not None, 20,
                        "the start")
        self.assertIn(("started on inet:%d@127.0.0.1" % port).encode(), self.log())
        self.assertEqual(self.stop(p), 0)

    # ------------------------------------------------------------ issue 18, 2

    def test_fault18_2_warns_when_the_mta_cannot_connect(self):
        out = self.check("")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"SocketGroup postfix", out.stderr)
        for ok in ("SocketGroup root\nSocketMode 0660", "SocketMode 0666"):
            out = self.check(ok)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertNotIn(b"SocketGroup postfix", out.stderr, ok)
        # not for an inet socket
        out = self.check("Socket inet:18896@127.0.0.1")
        self.assertNotIn(b"SocketGroup postfix", out.stderr)

    # ------------------------------------------------------------ issue 18, 3

    def test_fault18_3_second_instance_is_refused(self):
        pid_file = os.path.join(self.dir, "tm.pid")
        config = self.conf("PidFile " + pid_file)
        first = self.start(config)
        self.wait_socket(first)
        tmtest.wait_for(lambda: os.path.getsize(pid_file) > 0, 10, "the pid")
        self.assert_second_refused_first_reachable(
            config, ("another threatmilter (pid %d) holds PidFile" % first.pid).encode())
        # the first one is untouched
        self.assertEqual(open(pid_file).read().strip(), str(first.pid))
        self.assertEqual(self.stop(first), 0)
        self.assertFalse(os.path.exists(pid_file))
        self.assertFalse(os.path.exists(self.sock))

    def test_fault18_3_live_socket_is_never_removed(self):
        """Without a PidFile the socket itself tells a running filter."""
        config = self.conf("")
        first = self.start(config)
        self.wait_socket(first)
        inode = os.stat(self.sock).st_ino
        self.assert_second_refused_first_reachable(config, b"another filter is listening on")
        self.assertEqual(os.stat(self.sock).st_ino, inode)
        self.assertEqual(self.stop(first), 0)

    # ------------------------------------------------------------ issue 18, 5

    SPAMHAUS = "Name spamhaus\nType spamhaus\nAPIURL zen.spamhaus.org\nDNSServers 127.0.0.1:9\n"
    XFORCE = "Name xforce\nType xforce\nAPIKey k\nAPIPassword p\n"

    def test_fault18_5_active_integrations_are_logged(self):
        config = self.conf("", integrations={"spamhaus": self.SPAMHAUS, "xforce": self.XFORCE})
        out = tmtest.run("-n", "-c", config)
        self.assertIn(b"2 active integrations: spamhaus, xforce", out.stdout)
        p = self.start(config)
        self.wait_socket(p)
        tmtest.wait_for(lambda: b"2 active integrations: spamhaus, xforce" in self.log(), 10,
                        "the integrations at start")
        os.unlink(os.path.join(self.dir, "integrations.d", "xforce.conf"))
        p.send_signal(signal.SIGHUP)
        tmtest.wait_for(lambda: b"1 active integration: spamhaus" in self.log(), 10,
                        "one integration after the reload")
        os.unlink(os.path.join(self.dir, "integrations.d", "spamhaus.conf"))
        p.send_signal(signal.SIGHUP)
        tmtest.wait_for(lambda: b"warning: no active integration" in self.log(), 10,
                        "the warning")
        self.assertEqual(self.stop(p), 0)

    def test_no_active_integration_is_warned_once_at_start(self):
        config = self.conf("", integrations={})
        p = self.start(config)
        self.wait_socket(p)
        tmtest.wait_for(lambda: b"warning: no active integration" in self.log(), 10,
                        "the warning")
        time.sleep(0.3)
        self.assertEqual(self.log().count(b"warning: no active integration"), 1)
        self.assertEqual(self.stop(p), 0)

    def test_report_sandbox_wait_near_milter_timeout_warns(self):
        # issue 12: a reported message may wait ReportSandboxWait at end of
        # message; the MTA's own timeout must be longer
        out = tmtest.run("-n", "-c", self.conf("ReportSandboxWait 295s\nMilterTimeout 300s"))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"ReportSandboxWait 295s is not well under MilterTimeout 300s", out.stderr)
        out = tmtest.run("-n", "-c", self.conf("ReportSandboxWait 60s"))
        self.assertNotIn(b"ReportSandboxWait", out.stderr)

    # ------------------------------------------------------------ issue 18, 6

    def test_fault18_6_relative_config_path_reloads_in_the_background(self):
        pid_file = os.path.join(self.dir, "tm.pid")
        self.conf("Background yes\nPidFile %s\nOn-Unknown accept" % pid_file)
        out = subprocess.run([tmtest.BINARY, "-c", "threatmilter.conf"], cwd=self.dir,
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        tmtest.wait_for(lambda: os.path.exists(pid_file) and os.path.getsize(pid_file) > 0
                        and os.path.exists(self.sock), 20, "the daemon")
        pid = int(open(pid_file).read())
        try:
            self.conf("Background yes\nPidFile %s\nOn-Unknown reject" % pid_file)
            os.kill(pid, signal.SIGHUP)
            final = None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                c = mc.MilterClient("unix:" + self.sock)
                c.optneg()
                c.connect()
                final, _ = mc.send_message(c, b"From: a@example.net\nSubject: x\n\nno links\n")
                c.close()
                if final[0] == "replycode":
                    break
                time.sleep(0.2)
            self.assertEqual(final[0], "replycode", "the reload did not take: %r" % (final,))
            self.assertTrue(final[1].startswith("550 "))
        finally:
            os.kill(pid, signal.SIGTERM)
            tmtest.wait_for(lambda: not os.path.exists(pid_file), 30, "the daemon to stop")

    def test_fault18_6_foreground_errors_reach_stderr_with_syslog(self):
        config = self.conf("Syslog yes\nPidFile %s/missing/tm.pid" % self.dir)
        out = subprocess.run([tmtest.BINARY, "-f", "-c", config], capture_output=True,
                             timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"PidFile", out.stderr)
        self.assertFalse(os.path.exists(self.sock))

    # ------------------------------------------------------------ issue 18, 7

    def test_fault18_7_unknown_user_and_group_fail_the_check(self):
        out = self.check("UserID no-such-user-tm")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"no such user 'no-such-user-tm'", out.stderr)
        out = self.check("UserID root:no-such-group-tm")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"no such group 'no-such-group-tm'", out.stderr)
        out = self.check("SocketGroup no-such-group-tm")
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"SocketGroup: no such group 'no-such-group-tm'", out.stderr)

    def test_checks_after_loading_name_the_file_and_line(self):
        # the values checked after the file is read (users, groups,
        # directories, the socket) are named by file:line like any other
        # configuration error; failed before: "UserID: no such user ..."
        missing = os.path.join(self.dir, "missing")
        conf = self.conf("# the filter\nUserID no-such-user-tm\nSocketGroup no-such-group-tm\n"
                         "TmpDir %s\nPidFile %s/tm.pid" % (missing, missing))
        for how in (("-n",), ("-f",)):
            out = tmtest.run(*how, "-c", conf, timeout=30)
            self.assertEqual(out.returncode, 1)
            for line, key in ((2, "UserID: no such user"), (3, "SocketGroup: no such group"),
                              (4, "TmpDir: directory"), (5, "PidFile: directory")):
                self.assertIn(("%s:%d: %s" % (conf, line, key)).encode(), out.stderr)
        self.assertFalse(os.path.exists(self.sock))

    def test_report_recipients_must_be_addresses_or_domains(self):
        # failed before: "@@@" and "a b" were taken and matched nothing
        for bad in ("@@@", "abuse@", "a b@example.com", "not a domain"):
            out = self.check("ReportRecipients abuse@example.com, " + bad)
            self.assertEqual(out.returncode, 1, bad)
            self.assertIn(b":1: ReportRecipients: '" + bad.encode() + b"' is neither", out.stderr)
        self.assertEqual(self.check("ReportRecipients abuse@example.com, example.net").returncode, 0)

    # ------------------------------------------------------------ issue 17, 7

    def test_issue17_7_pid_file_link_is_not_followed(self):
        victim = os.path.join(self.dir, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        link = os.path.join(self.dir, "tm.pid")
        os.symlink(victim, link)
        config = self.conf("PidFile " + link)
        out = tmtest.run("-n", "-c", config)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"symbolic link", out.stderr)
        out = subprocess.run([tmtest.BINARY, "-f", "-c", config], capture_output=True,
                             timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(open(victim).read(), "precious\n")
        self.assertTrue(os.path.islink(link))
        self.assertFalse(os.path.exists(self.sock))
        # a FIFO (or any file that is not a regular one) is refused too
        os.unlink(link)
        os.mkfifo(link)
        out = subprocess.run([tmtest.BINARY, "-f", "-c", config], capture_output=True,
                             timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"not a regular file", out.stderr)

    def test_socket_path_that_is_not_a_socket_is_named(self):
        """A link or a file where the unix socket goes: -n and the start
        say so (before: -n passed and the start said 'Connection
        refused'), and the file is left alone."""
        victim = os.path.join(self.dir, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.symlink(victim, self.sock)
        config = self.conf("")
        out = tmtest.run("-n", "-c", config)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"exists and is not a socket (a symbolic link)", out.stderr)
        out = subprocess.run([tmtest.BINARY, "-f", "-c", config], capture_output=True,
                             timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"not a socket", out.stderr)
        self.assertNotIn(b"Connection refused", out.stderr)
        self.assertEqual(open(victim).read(), "precious\n")
        self.assertTrue(os.path.islink(self.sock))

    def test_issue17_7_socket_mode_is_set_at_bind(self):
        p = self.start(self.conf("SocketMode 0600"))
        self.wait_socket(p)
        self.assertEqual(stat.S_IMODE(os.lstat(self.sock).st_mode), 0o600)
        self.assertEqual(self.stop(p), 0)

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_issue17_7_root_without_userid_warns(self):
        out = self.check("")
        self.assertIn(b"running as root without UserID", out.stderr)
        out = self.check("UserID root")
        self.assertNotIn(b"running as root without UserID", out.stderr)

    # ------------------------------------------------------------ issue 17, 8

    def test_issue17_8_tmpdir_is_checked(self):
        missing = os.path.join(self.dir, "missing")
        out = self.check("TmpDir " + missing)
        self.assertEqual(out.returncode, 1)
        self.assertIn(("TmpDir: directory %s" % missing).encode(), out.stderr)
        p = self.start(self.conf("TmpDir " + missing))
        self.assertEqual(p.wait(20), 1)
        self.assertIn(b"TmpDir", self.log())
        self.assertFalse(os.path.exists(self.sock))
        a_file = os.path.join(self.dir, "plain")
        open(a_file, "w").close()
        out = self.check("TmpDir " + a_file)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"is not a directory", out.stderr)
        if os.geteuid() != 0:
            locked = os.path.join(self.dir, "locked")
            os.mkdir(locked, 0o500)
            out = self.check("TmpDir " + locked)
            self.assertEqual(out.returncode, 1)
            self.assertIn(b"not writable", out.stderr)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
