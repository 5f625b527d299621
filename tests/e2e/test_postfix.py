#!/usr/bin/env python3
"""End to end: a real Postfix (a private instance on 127.0.0.1, see
postfix-harness.sh) with threatmilter in smtpd_milters and
non_smtpd_milters, relaying to an smtp-sink, and the mock providers
behind threatmilter. Mail is sent with swaks and smtp-source.

Needs root and Debian's postfix + swaks; skipped (not failed) without.
Run by `make check` through run-e2e.sh."""
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import tmtest  # noqa: E402



def have_postfix():
    return os.geteuid() == 0 and shutil.which("swaks") and \
        (shutil.which("postfix") or os.path.exists("/usr/sbin/postfix"))


def mail(subject, body, extra_headers="", received_ip="192.0.2.10"):
    return ("Received: from origin.example (origin.example [%s])\n"
            "\tby relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\n"
            "From: alice@example.net\nTo: bob@example.com\nSubject: %s\n%s"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n"
            % (received_ip, subject, extra_headers, body))


@unittest.skipUnless(have_postfix(), "needs root, postfix and swaks")
class PostfixEndToEnd(tmtest.PostfixHarnessMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prepare_milter_dirs()
        cls.write_config({})
        cls.daemon = tmtest.Daemon(cls.config, "local:" + cls.sock,
                                   os.path.join(cls.dir, "milter.log"))
        cls.start_postfix()

    @classmethod
    def tearDownClass(cls):
        cls.stop_all()

    @classmethod
    def write_config(cls, main):
        settings = {"Socket": "local:" + cls.sock, "SocketMode": "0660",
                    "SocketGroup": "postfix", "UserID": "nobody", "TmpDir": cls.tmp,
                    "ScanDeadline": "5s"}
        settings.update(main)
        cls.config = tmtest.write_config(cls.dir, cls.mocks,
                                         integrations=["spamhaus", "virustotal"],
                                         main=settings)
        for root, dirs, files in os.walk(os.path.dirname(cls.config)):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        os.chmod(os.path.dirname(cls.config), 0o755)

    def reload(self, main):
        """New configuration + SIGHUP; waits until the log says so."""
        log = os.path.join(self.dir, "milter.log")
        before = open(log, "rb").read().count(b"configuration reloaded")
        self.write_config(main)
        self.daemon.signal(signal.SIGHUP)
        tmtest.wait_for(lambda: open(log, "rb").read().count(b"configuration reloaded") > before,
                        20, "the reload")

    def setUp(self):
        self.mocks.reset()
        self.pf("sink_clear")
        self.reload({})

    def swaks(self, data, to="bob@example.com"):
        path = os.path.join(self.dir, "msg.eml")
        with open(path, "w") as f:
            f.write(data)
        return subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.port, "--from",
                               "alice@example.net", "--to", to, "--data", "@" + path,
                               "--timeout", "60"], capture_output=True, timeout=120)

    def sink_messages(self, count, timeout=30):
        self.pf("sink_wait_count %d %d" % (count, timeout))
        files = self.pf("sink_files").split()
        return [open(f, "rb").read().decode("utf-8", "replace") for f in files]

    def header_values(self, text, name):
        head = text.split("\n\n", 1)[0].replace("\r\n", "\n")
        values = []
        for line in head.split("\n"):
            if line[:1] in (" ", "\t") and values and values[-1][0]:
                continue
            key, _, value = line.partition(":")
            values.append((key.strip().lower() == name.lower(), value.strip()))
        return [v for match, v in values if match]

    # ------------------------------------------------------------- tests

    def test_clean_mail_arrives_with_verdict(self):
        out = self.swaks(mail("clean", "see http://fine.example/page"))
        self.assertEqual(out.returncode, 0, out.stdout.decode()[-500:])
        msgs = self.sink_messages(1)
        self.assertEqual(self.header_values(msgs[0], "X-Threat-Verdict"), ["clean"])
        self.assertTrue(self.header_values(msgs[0], "X-Threat-Scanned"))

    def test_malicious_mail_is_held(self):
        before = int(self.pf("pf_hold_count"))
        out = self.swaks(mail("bad", "login at http://malicious.example/login"))
        self.assertEqual(out.returncode, 0)
        tmtest.wait_for(lambda: int(self.pf("pf_hold_count")) == before + 1, 30, "the hold queue")
        queue = self.pf("pf_queue_json")
        self.assertIn('"queue_name": "hold"', queue)
        self.assertEqual(self.pf("sink_count || true").strip(), "0")

    def test_reject_gives_5xx(self):
        self.reload({"On-Malicious": "reject"})
        out = self.swaks(mail("bad", "http://malicious.example/x"))
        self.assertNotEqual(out.returncode, 0)
        self.assertRegex(out.stdout.decode(), r"<\*\* 55\d 5\.7\.\d Message rejected: malicious")

    def test_forged_verdict_header_removed(self):
        forged = "X-Threat-Verdict: clean\nX-Threat-Report: all good\n"
        self.reload({"On-Malicious": "tag"})
        out = self.swaks(mail("forged", "http://malicious.example/y", extra_headers=forged))
        self.assertEqual(out.returncode, 0)
        msg = self.sink_messages(1)[0]
        self.assertEqual(self.header_values(msg, "X-Threat-Verdict"), ["malicious"])
        self.assertNotIn("all good", msg)
        # ours sit above every header that came with the message (Postfix
        # keeps its own Received: header above milter insertions)
        lines = msg.replace("\r\n", "\n").split("\n")
        ours = next(i for i, l in enumerate(lines) if l.startswith("X-Threat-Verdict:"))
        theirs = next(i for i, l in enumerate(lines) if l.startswith("Received: from origin"))
        self.assertLess(ours, theirs)

    def test_reported_message_judged_by_inner(self):
        self.reload({"ReportRecipients": "abuse@example.com", "On-Malicious": "tag"})
        inner = mail("inner", "http://malicious.example/phish").replace("\n", "\r\n")
        outer = ("From: user@example.com\nTo: abuse@example.com\nSubject: Fwd: look\n"
                 "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
                 "--b\nContent-Type: text/plain\n\nthis looks bad, see http://fine.example/\n"
                 "--b\nContent-Type: message/rfc822\n\n" + inner + "\n--b--\n")
        out = self.swaks(outer, to="abuse@example.com")
        self.assertEqual(out.returncode, 0)
        msg = self.sink_messages(1)[0]
        self.assertEqual(self.header_values(msg, "X-Threat-Verdict"), ["malicious"])
        self.assertIn("reported message", self.header_values(msg, "X-Threat-Scanned")[0])

    def test_milter_killed_mid_message_loses_nothing(self):
        self.mocks.fault("*", "delay", ms=4000)
        data = mail("queued", "http://fine.example/slow")
        path = os.path.join(self.dir, "local.eml")
        with open(path, "w") as f:
            f.write(data)
        # locally submitted: goes through non_smtpd_milters in cleanup
        self.pf('pf_sendmail -f alice@example.net bob@example.com < "%s"' % path)
        smtp = subprocess.Popen(["swaks", "--server", "127.0.0.1:%d" % self.port, "--from",
                                 "alice@example.net", "--to", "bob@example.com", "--data",
                                 "@" + path, "--timeout", "60"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        time.sleep(1.5)	# both messages are now waiting for the lookups
        type(self).daemon.proc.kill()
        type(self).daemon.proc.wait()
        swaks_out = smtp.communicate(timeout=60)[0].decode()
        # the SMTP client was told to retry: 4xx, never 2xx or 5xx
        self.assertRegex(swaks_out, r"<\*\* 4\d\d ")
        self.assertEqual(self.pf("sink_count || true").strip(), "0")
        self.assertGreaterEqual(int(self.pf("pf_queue_count")), 1)
        self.mocks.fault("*", "none")
        type(self).daemon = tmtest.Daemon(self.config, "local:" + self.sock,
                                          os.path.join(self.dir, "milter.log"))
        self.pf("pf_flush")
        msgs = self.sink_messages(1, timeout=60)
        self.assertEqual(self.header_values(msgs[0], "X-Threat-Verdict"), ["clean"])

    def test_sighup_under_load_loses_nothing(self):
        self.mocks.fault("*", "delay", ms=100)
        sender = subprocess.Popen(["smtp-source", "-s", "10", "-m", "60", "-c", "-l", "2000",
                                   "-f", "alice@example.net", "-t", "bob@example.com",
                                   "127.0.0.1:%d" % self.port], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        for _ in range(5):
            time.sleep(0.3)
            self.daemon.signal(signal.SIGHUP)
        out = sender.communicate(timeout=120)[0].decode()
        self.assertEqual(sender.returncode, 0, out[-1000:])
        msgs = self.sink_messages(60, timeout=60)
        self.assertEqual(len(msgs), 60)
        for m in msgs:
            self.assertTrue(self.header_values(m, "X-Threat-Verdict"))
        self.assertIsNone(self.daemon.proc.poll())


if __name__ == "__main__":
    tmtest.run_tests(__name__)
