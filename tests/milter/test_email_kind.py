#!/usr/bin/env python3
"""The e-mail indicator kind end to end through the milter protocol: the
From: and Reply-To: addresses of a message (and of a reported message)
are asked from an APIVoid integration (the mock, v1), and a disposable
sender address gives the configured On-Malicious event; an ordinary one
does not.

Run by `make check` through run-milter.sh (TM_BINARY, TM_SRCDIR)."""
import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402

AV_KEY = "test-apivoid-key"


def mail(sender, reply_to=None, body="hello, no links here"):
    extra = "Reply-To: %s\n" % reply_to if reply_to else ""
    return ("Received: from origin.example (origin.example [192.0.2.10])\n"
            "\tby relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\n"
            "From: %s\nTo: bob@example.com\nSubject: test\n%s"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n"
            % (sender, extra, body)).encode()


def reported(inner):
    return ("From: user@example.com\nTo: phishing@example.com\nSubject: Fwd: look\n"
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
            "--b1\nContent-Type: text/plain\n\nplease check\n"
            "--b1\nContent-Type: message/rfc822\n\n%s\n--b1--\n" % inner.decode()).encode()


class EmailKind(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)
        cls.sock = os.path.join(cls.dir, "milter.sock")
        conf = tmtest.write_config(cls.dir, cls.mocks, integrations=(),
                                   main={"Socket": "local:" + cls.sock, "ScanDeadline": "5s",
                                         "On-Malicious": "reject"})
        with open(os.path.join(os.path.dirname(conf), "integrations.d", "apivoid.conf"),
                  "w") as f:
            f.write("Name apivoid\nType apivoid\nAPIURL https://127.0.0.1:%d\nAPIKey %s\n"
                    "SenderIP no\nURLs no\nDomains no\nEmailAddresses yes\n"
                    % (cls.mocks.http["https"], AV_KEY))
        cls.log = os.path.join(cls.dir, "milter.log")
        cls.daemon = tmtest.Daemon(conf, "local:" + cls.sock, cls.log)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.mocks.reset()

    def send(self, raw):
        c = mc.MilterClient("unix:" + self.sock)
        c.optneg()
        c.connect(address="192.0.2.200")
        try:
            return mc.send_message(c, raw)
        finally:
            c.quit()
            c.close()

    def asked(self):
        return sorted(r["indicator"] for r in self.mocks.requests("apivoid"))

    def test_disposable_from_is_rejected(self):
        final, _ = self.send(mail("Bob <Bob@Mailinator.COM>"))
        self.assertEqual(final[0], "replycode", final)
        self.assertTrue(final[1].startswith("550 5.7.1"), final)
        # the domain lower-cased, the local part as written
        self.assertEqual(self.asked(), ["Bob@mailinator.com"])
        self.assertNotIn(AV_KEY.encode(), open(self.log, "rb").read())

    def test_ordinary_addresses_are_accepted(self):
        # addresses of their own: the daemon's cache outlives the mock's reset
        final, mods = self.send(mail("dave@example.com", reply_to="Carol <carol@example.org>"))
        self.assertEqual(final[0], "accept", final)
        self.assertEqual(self.asked(), ["carol@example.org", "dave@example.com"])
        verdict = [m[3] for m in mods if m[0] == "insheader" and m[2] == "X-Threat-Verdict"]
        self.assertTrue(verdict and verdict[0].startswith("clean"), mods)

    def test_disposable_reply_to_of_a_reported_message(self):
        final, _ = self.send(reported(mail("erin@example.com",
                                           reply_to="<collect@mailinator.com>")))
        self.assertEqual(final[0], "replycode", final)
        self.assertIn("collect@mailinator.com", self.asked())

    def test_no_plain_address_is_not_asked(self):
        final, _ = self.send(mail('"weird\\"name" <"quoted local"@example.com>'))
        self.assertEqual(final[0], "accept", final)
        self.assertEqual(self.asked(), [])


if __name__ == "__main__":
    tmtest.run_tests(__name__)
