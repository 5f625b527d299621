#!/usr/bin/env python3
"""Fail closed where an attacker pushes (issue 17, items 1-5 and 8; issue
18.11), over the milter protocol against the real binary and the mocks.
Each test sends the attack and checks the outcome; each failed on the
code before the fix.

Run by `make check` through run-milter.sh (TM_BINARY, TM_SRCDIR)."""
import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402


def mail(body, subject="test", received_ip="192.0.2.10", to="bob@example.com"):
    return ("Received: from origin.example (origin.example [%s])\n"
            "\tby relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\n"
            "From: alice@example.net\nTo: %s\nSubject: %s\n"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n"
            % (received_ip, to, subject, body)).encode()


def wrapping(outer_body, inner_messages):
    """A message whose text is outer_body, with message/rfc822 parts."""
    parts = ["From: mallory@example.net\nTo: bob@example.com\nSubject: invoice\n"
             "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
             "--b\nContent-Type: text/plain\n\n%s\n" % outer_body]
    for inner in inner_messages:
        parts.append("--b\nContent-Type: message/rfc822\n\n%s\n" % inner.decode())
    parts.append("--b--\n")
    return "".join(parts).encode()


class FailClosed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)
        cls.sock = os.path.join(cls.dir, "milter.sock")
        cls.log = os.path.join(cls.dir, "milter.log")
        cls.daemon = None

    @classmethod
    def tearDownClass(cls):
        if cls.daemon:
            cls.daemon.stop()
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def start(self, overrides=None, integrations=("spamhaus", "virustotal"), **main):
        if self.daemon:
            self.daemon.stop()
        settings = {"Socket": "local:" + self.sock, "ScanDeadline": "5s", "LogWhy": "yes"}
        settings.update({k.replace("_", "-"): v for k, v in main.items()})
        config = tmtest.write_config(self.dir, self.mocks, integrations=list(integrations),
                                     main=settings, overrides=overrides)
        if os.path.exists(self.log):
            os.unlink(self.log)
        type(self).daemon = tmtest.Daemon(config, "local:" + self.sock, self.log)

    def setUp(self):
        self.mocks.reset()

    def send(self, raw, client="192.0.2.200", **kw):
        c = mc.MilterClient("unix:" + self.sock)
        c.optneg()
        c.connect(address=client)
        try:
            return mc.send_message(c, raw, **kw)
        finally:
            c.quit()
            c.close()

    @staticmethod
    def inserted(mods):
        return {m[2]: m[3] for m in mods if m[0] == "insheader"}

    def logged(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    # 17.1 ------------------------------------------------------------------

    def test_17_1_mixed_recipients_judge_the_message_itself(self):
        """A phishing mail with a harmless message/rfc822 part, sent to the
        victim and to the abuse mailbox: judged as the phishing mail."""
        self.start(ReportRecipients="abuse@example.com")
        attack = wrapping("log in at http://malicious.example/login",
                          [mail("nothing here http://fine.example/")])
        for rcpts in (("<victim@example.com>", "<abuse@example.com>"),
                      ("<abuse@example.com>", "<victim@example.com>"),
                      ("<victim@example.com>",)):
            final, mods = self.send(attack, recipients=rcpts)
            headers = self.inserted(mods)
            self.assertEqual(headers.get("X-Threat-Verdict"), "malicious", rcpts)
            self.assertNotIn("reported message", headers["X-Threat-Scanned"], rcpts)
            self.assertIn(("quarantine",), [m[:1] for m in mods], rcpts)

    def test_17_1_inner_message_adds_findings_for_mixed_recipients(self):
        self.start(ReportRecipients="example.org", On_Malicious="tag")
        attack = wrapping("see http://fine.example/",
                          [mail("log in at http://malicious.example/phish")])
        final, mods = self.send(attack, recipients=("<victim@example.com>",
                                                    "<abuse@example.org>"))
        self.assertEqual(self.inserted(mods)["X-Threat-Verdict"], "malicious")

    def test_17_1_abuse_mailbox_alone_is_judged_by_the_report(self):
        self.start(ReportRecipients="abuse@example.com", On_Malicious="tag")
        report = wrapping("see http://fine.example/",
                          [mail("log in at http://malicious.example/phish")])
        final, mods = self.send(report, recipients=("<abuse@example.com>",
                                                    "<ABUSE@example.com>"))
        headers = self.inserted(mods)
        self.assertEqual(headers["X-Threat-Verdict"], "malicious")
        self.assertIn("reported message", headers["X-Threat-Scanned"])

    # 17.2 ------------------------------------------------------------------

    def test_17_2_max_indicators_bounds_all_reported_messages_together(self):
        """20 attached messages x 30 URLs: no more than MaxIndicators asked."""
        self.start(integrations=("virustotal",), MaxIndicators="40", MaxURLs="1000",
                   ReportRecipients="abuse@example.com")
        inner = [mail("\n".join("http://pad%02d-%02d.example/x" % (m, i) for i in range(30)))
                 for m in range(20)]
        final, mods = self.send(wrapping("see attached", inner),
                                recipients=("<abuse@example.com>",))
        headers = self.inserted(mods)
        asked = self.mocks.requests("virustotal")
        self.assertLessEqual(len(asked), 40)
        self.assertEqual(headers["X-Threat-Verdict"], "unknown")
        self.assertIn("limit hit: max_indicators", headers["X-Threat-Report"])

    # 17.3 ------------------------------------------------------------------

    def test_17_3_invalid_names_never_reach_the_provider_nor_open_the_breaker(self):
        self.start(integrations=("spamhaus",))
        for i in range(8):
            label = ("x%d" % i) * 40
            final, mods = self.send(mail("http://%s.example/a http://a.%s/" % (label, "b" * 250),
                                         subject="bad %d" % i))
            headers = self.inserted(mods)
            self.assertEqual(headers.get("X-Threat-Verdict"), "unknown")
            self.assertIn("invalid:label over 63 characters", headers["X-Threat-Report"])
        # never asked: the mock DNS saw no such name
        self.assertNotIn("x0x0x0x0x0", str(self.mocks._http("/queries", dns=True)))
        # ZEN still answers for everybody else
        final, mods = self.send(mail("no links"), client="203.0.113.7")
        self.assertEqual(self.inserted(mods)["X-Threat-Verdict"], "malicious")

    # 17.4 ------------------------------------------------------------------

    def test_17_4_url_padding_is_a_limit_never_clean(self):
        """1,000 harmless URLs before the payload."""
        self.start(integrations=("virustotal",), MaxURLs="1000")
        body = "\n".join("http://harmless.example/p%04d" % i for i in range(1000))
        final, mods = self.send(mail(body + "\nhttp://zz-payload.example/login"))
        headers = self.inserted(mods)
        self.assertEqual(headers["X-Threat-Verdict"], "unknown")
        self.assertIn("limit hit: max_urls", headers["X-Threat-Report"])
        self.assertIn("event=On-Limit action=tag", self.logged())

    def test_17_4_deep_nesting_is_a_limit(self):
        self.start(integrations=("virustotal",), MaxMimeDepth="3")
        body = "http://malicious.example/deep"
        raw = ("Content-Type: text/plain\n\n%s\n" % body)
        for depth in range(6):
            raw = ("Content-Type: multipart/mixed; boundary=\"d%d\"\n\n--d%d\n%s\n--d%d--\n"
                   % (depth, depth, raw, depth))
        msg = ("From: a@example.net\nTo: b@example.com\nSubject: deep\nMIME-Version: 1.0\n"
               + raw).encode()
        final, mods = self.send(msg)
        headers = self.inserted(mods)
        self.assertEqual(headers["X-Threat-Verdict"], "unknown")
        self.assertIn("limit hit: max_mime_depth", headers["X-Threat-Report"])

    # 17.5 ------------------------------------------------------------------

    def test_17_5_url_timeouts_are_not_covered_by_the_ip_answer(self):
        self.start(integrations=("spamhaus", "virustotal"), ScanDeadline="2s",
                   overrides={"spamhaus": {"URLs": "no"},
                              "virustotal": {"SenderIP": "no", "Timeout": "1s"}})
        self.mocks.fault("virustotal", "hang")
        final, mods = self.send(mail("http://payload-hidden.example/login",
                                     received_ip="192.0.2.77"))
        headers = self.inserted(mods)
        self.assertEqual(headers["X-Threat-Verdict"], "unknown")
        self.assertIn("event=On-Timeout", self.logged())
        # 18.11: the log names the timeout
        self.assertRegex(self.logged(), r"virustotal=timeout/\d+ms")
        self.assertNotRegex(self.logged(), r"virustotal=error/")

    # 17.8 ------------------------------------------------------------------

    def test_17_8_unwritable_tmpdir_is_an_internal_error(self):
        # the daemon refuses to start without its TmpDir (17.8's start-up
        # check), so the directory goes away while it runs
        spool = os.path.join(self.dir, "spool")
        os.mkdir(spool)
        self.start(TmpDir=spool, On_InternalError="tag")
        os.rmdir(spool)
        big = mail("http://fine.example/\n" + ("x" * 76 + "\n") * 20000)  # ~1.5 MB
        final, mods = self.send(big)
        headers = self.inserted(mods)
        self.assertEqual(headers["X-Threat-Report"], "not scanned: internal error")
        log = self.logged()
        self.assertIn("event=On-InternalError", log)
        self.assertIn("why: On-InternalError", log)
        self.assertNotIn("authenticated", log + str(mods))


if __name__ == "__main__":
    tmtest.run_tests(__name__)
