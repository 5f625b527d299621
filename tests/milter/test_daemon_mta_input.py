#!/usr/bin/env python3
"""What the MTA sends, taken with care, over the milter protocol.

issue 17, 9: a queue id (or any macro) with a newline or an escape
cannot forge or colour a log line. issue 17, last paragraph: a header
name with whitespace around it ("X-Threat-Verdict ") is still removed.
issue 11, 9: a verdict header the MTA did not take is logged, and the
message is not delivered without it (tempfail)."""
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402

CLEAN = (b"Received: from origin.example (origin.example [192.0.2.10])\n"
         b"\tby relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\n"
         b"From: alice@example.net\nTo: bob@example.com\nSubject: test\n"
         b"MIME-Version: 1.0\nContent-Type: text/plain\n\nsee http://fine.example/page\n")


class MtaInput(tmtest.MocksCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sock = os.path.join(cls.dir, "milter.sock")
        cls.log_path = os.path.join(cls.dir, "milter.log")
        config = tmtest.write_config(cls.dir, cls.mocks, integrations=["spamhaus", "virustotal"],
                                     main={"Socket": "local:" + cls.sock, "LogWhy": "yes",
                                           "ScanDeadline": "5s"})
        cls.daemon = tmtest.Daemon(config, "local:" + cls.sock, cls.log_path)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        super().tearDownClass()

    def setUp(self):
        self.mocks.reset()

    def log(self):
        return tmtest.read_bytes(self.log_path)

    def client(self):
        return tmtest.milter_client(self.sock)

    def test_issue17_9_queue_id_cannot_forge_a_log_line(self):
        forged = "Q9\nthreatmilter: info: FORGED: client=6.6.6.6 verdict=clean\x1b[2J\x1b]0;x\x07"
        c = self.client()
        try:
            final, _ = mc.send_message(c, CLEAN, queue_id=forged,
                                       mail_macros={"{auth_type}": "x\ny"})
        finally:
            c.close()
        self.assertEqual(final[0], "accept")
        tmtest.wait_for(lambda: b"why:" in self.log() and b"Q9" in self.log(), 10, "the log")
        log = self.log()
        for line in log.splitlines():
            self.assertFalse(line.startswith(b"threatmilter: info: FORGED"), line)
        self.assertNotIn(b"\x1b", log)
        self.assertNotIn(b"\x07", log)
        self.assertIn(b"Q9\\x0athreatmilter: info: FORGED: client=6.6.6.6 verdict=clean"
                      b"\\x1b[2J", log)

    def test_issue17_header_name_with_whitespace_is_removed(self):
        c = self.client()
        try:
            c.mail("<alice@example.net>", macros={"i": "QWS"})
            c.rcpt("<bob@example.com>")
            c.data()
            headers, body = mc.split_message(CLEAN)
            for name, value in headers:
                c.header(name, value)
            c.header("X-Threat-Verdict ", "clean")
            c.header("X-Threat-Report\t", "nothing found")
            c.eoh()
            c.body(body)
            final, mods = c.eom(macros={"i": "QWS"})
        finally:
            c.close()
        self.assertIn(("chgheader", 1, "X-Threat-Verdict", ""), mods)
        self.assertIn(("chgheader", 1, "X-Threat-Report", ""), mods)

    def test_defect9_header_the_mta_did_not_take_is_logged(self):
        """The MTA goes away while the filter waits for a provider: the
        header insertion fails, and that is logged with the queue id (the
        answer cannot reach anybody here; the policy is what the log says)."""
        self.mocks.fault("virustotal", "delay", ms=600)
        c = self.client()
        c.mail("<alice@example.net>", macros={"i": "QLOST"})
        c.rcpt("<bob@example.com>")
        c.data()
        headers, body = mc.split_message(CLEAN.replace(b"fine.example", b"lost.example"))
        for name, value in headers:
            c.header(name, value)
        c.eoh()
        c.body(body)
        c.send(b"E")
        time.sleep(0.25)	# the filter is in its end-of-message wait
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
        tmtest.wait_for(lambda: b"QLOST: the MTA did not take the header" in self.log(), 10,
                        "the lost header in the log")
        self.assertIn(b"QLOST: tempfailed: a modification did not reach the MTA", self.log())
        time.sleep(0.2)
        self.assertIsNone(self.daemon.proc.poll())


if __name__ == "__main__":
    tmtest.run_tests(__name__)
