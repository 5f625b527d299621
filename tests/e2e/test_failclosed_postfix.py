#!/usr/bin/env python3
"""Issue 17.1 through a real Postfix: the abuse-mailbox mode is chosen by
the envelope only when every recipient is a report recipient. A phishing
mail with a harmless message/rfc822 part, sent to the victim and to the
abuse mailbox in one transaction, is judged as the phishing mail (held),
in either recipient order; failed on the code before (delivered clean).

Reuses test_postfix.py's harness (a private Postfix with threatmilter in
smtpd_milters, the mock providers). Needs root, postfix and swaks;
skipped without. Run by `make check` through run-e2e.sh."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import test_postfix as tp  # noqa: E402
import tmtest  # noqa: E402

def phishing_with_harmless_attachment():
    inner = tp.mail("inner", "nothing to see: http://fine.example/").replace("\n", "\r\n")
    return ("From: mallory@example.net\nTo: victim@example.com\nSubject: invoice\n"
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
            "--b\nContent-Type: text/plain\n\nlog in at http://malicious.example/login\n"
            "--b\nContent-Type: message/rfc822\n\n" + inner + "\n--b--\n")


@unittest.skipUnless(tp.have_postfix(), "needs root, postfix and swaks")
class AbuseMailboxThroughPostfix(tmtest.PostfixHarnessMixin, unittest.TestCase):
    # the same private Postfix and daemon as test_postfix.py (not a
    # subclass, so that its tests do not run twice)
    P = tp.PostfixEndToEnd
    setUpClass = classmethod(P.setUpClass.__func__)
    tearDownClass = classmethod(P.tearDownClass.__func__)
    write_config = classmethod(P.write_config.__func__)
    reload = P.reload
    swaks = P.swaks
    sink_messages = P.sink_messages
    header_values = P.header_values
    del P

    def setUp(self):
        self.mocks.reset()
        self.pf("sink_clear")
        self.reload({"ReportRecipients": "abuse@example.com"})

    def test_17_1_mixed_recipients_through_postfix_are_held(self):
        for to in ("victim@example.com,abuse@example.com",
                   "abuse@example.com,victim@example.com"):
            before = int(self.pf("pf_hold_count"))
            out = self.swaks(phishing_with_harmless_attachment(), to=to)
            self.assertEqual(out.returncode, 0, out.stdout.decode()[-500:])
            tmtest.wait_for(lambda: int(self.pf("pf_hold_count")) == before + 1, 30,
                            "the hold queue (%s)" % to)
            self.assertEqual(self.pf("sink_count || true").strip(), "0", to)

    def test_17_1_abuse_mailbox_alone_gets_the_report_judged(self):
        out = self.swaks(phishing_with_harmless_attachment(), to="abuse@example.com")
        self.assertEqual(out.returncode, 0)
        msg = self.sink_messages(1)[0]
        self.assertIn("reported message", self.header_values(msg, "X-Threat-Scanned")[0])


if __name__ == "__main__":
    tmtest.run_tests(__name__)
