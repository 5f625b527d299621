#!/usr/bin/env python3
"""`threatmilter scan` runs the daemon's end-of-message code (issue 11.6)
and does not print answers that look real when the embedded default
cannot get any (issue 18.12). Each test failed on the code before.

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import json
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

SMALL = (b"Received: from a.example (a.example [203.0.113.50]) by mx.example.net;"
         b" Tue, 2 Jan 2024 10:00:00 +0000\r\nFrom: a@example.net\r\nTo: b@example.com\r\n"
         b"Subject: hello\r\n\r\nsee http://www.example.com/\r\n")


class ScanFailClosed(tmtest.MocksCase):
    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_11_6_scan_runs_the_end_of_message_pipeline(self):
        """MaxMessageSize 1K, On-TooLarge reject: scan rejects as the daemon does."""
        config = tmtest.write_config(self.dir, self.mocks, integrations=("spamhaus",),
                                     main={"MaxMessageSize": "1K", "On-TooLarge": "reject"})
        big = self.write("big.eml", SMALL + b"x" * 3000 + b"\r\n")
        objs, proc = tmtest.scan(config, big)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(objs[0]["event"], "On-TooLarge")
        self.assertEqual(objs[0]["action"], "reject")
        self.assertEqual(self.mocks.dns_stats()["total"], 0)
        self.assertTrue(any(a.startswith("reply 550 5.7.1 ") for a in objs[0]["milter"]))

        # and a forged verdict header is removed, ours added, as in the milter
        small = self.write("forged.eml", b"X-Threat-Verdict: clean\r\n" + SMALL)
        objs, proc = tmtest.scan(config, small)
        self.assertEqual(objs[0]["milter"][0], "change X-Threat-Verdict #1: (delete)")
        self.assertIn("insert X-Threat-Verdict: %s" % objs[0]["verdict"], objs[0]["milter"])

    def test_18_12_embedded_default_says_when_answers_are_not_real(self):
        default_conf = re.search(r"default (\S+);", tmtest.run("-h").stdout.decode()
                                 + tmtest.run("-h").stderr.decode())
        if default_conf and os.path.exists(default_conf.group(1)):
            self.skipTest("a configuration exists at the default path")
        try:
            real = socket.gethostbyname("2.0.0.127.zen.spamhaus.org") == "127.0.0.2"
        except OSError:
            real = False
        if real:
            self.skipTest("this host really reaches Spamhaus")
        msg = self.write("small.eml", SMALL)
        proc = subprocess.run([tmtest.BINARY, "scan", msg], capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        obj = json.loads(proc.stdout.decode().splitlines()[0])
        self.assertIn("no real answers", obj.get("warning", ""))
        self.assertIn(b"warning", proc.stderr)
        self.assertNotEqual(obj["verdict"], "clean")

    def test_18_11_one_integration_is_singular(self):
        config = tmtest.write_config(self.dir, self.mocks, integrations=("spamhaus",))
        out = tmtest.run("-n", "-c", config).stdout.decode()
        self.assertIn("configuration OK, 1 integration (1 active integration: ", out)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
