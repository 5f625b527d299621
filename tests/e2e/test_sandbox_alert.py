#!/usr/bin/env python3
"""End to end with a real Postfix (postfix-harness.sh): a message whose
new PE attachment is uploaded to OPSWAT MetaDefender (the mock) is
delivered with `pending` (verdict unknown); when the analysis later ends
malicious, threatmilter logs one after-the-fact line naming the queue id
Postfix gave that message (the one in Postfix's own Received header of
the delivered copy) and its Message-ID.

Needs root and Debian's postfix + swaks; skipped (not failed) without.
Run by `make check` through run-e2e.sh."""
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import tmtest  # noqa: E402

MD = "metadefender"


def have_postfix():
    return os.geteuid() == 0 and shutil.which("swaks") and \
        (shutil.which("postfix") or os.path.exists("/usr/sbin/postfix"))


def pe_bytes(tag):
    head = bytearray(0x40)
    head[0:2] = b"MZ"
    head[0x3c] = 0x40
    return bytes(head) + b"PE\0\0" + tag.encode() * 8


def mail(pe):
    return ("From: alice@example.net\nTo: bob@example.com\nSubject: invoice\n"
            "Message-ID: <e2e-sandbox@example.net>\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="B"\n\n'
            "--B\nContent-Type: text/plain\n\nsee attached\n"
            "--B\nContent-Type: application/octet-stream\n"
            'Content-Disposition: attachment; filename="invoice.exe"\n'
            "Content-Transfer-Encoding: base64\n\n%s\n--B--\n"
            % base64.encodebytes(pe).decode())


@unittest.skipUnless(have_postfix(), "needs root, postfix and swaks")
class SandboxAlertThroughPostfix(tmtest.PostfixHarnessMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prepare_milter_dirs()
        config = tmtest.write_config(
            cls.dir, cls.mocks, integrations=[MD],
            main={"Socket": "local:" + cls.sock, "SocketMode": "0660",
                  "SocketGroup": "postfix", "UserID": "nobody", "TmpDir": cls.tmp,
                  "ScanDeadline": "5s"},
            overrides={MD: {"Attachments": "yes", "SenderIP": "no", "URLs": "no",
                            "UploadPEFiles": "yes"}})
        os.chmod(os.path.dirname(config), 0o755)
        cls.log = os.path.join(cls.dir, "milter.log")
        cls.daemon = tmtest.Daemon(config, "local:" + cls.sock, cls.log)
        cls.start_postfix()

    @classmethod
    def tearDownClass(cls):
        cls.stop_all()

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def test_delivered_then_malicious_names_queue_id(self):
        pe = pe_bytes("postfix")
        digest = hashlib.sha256(pe).hexdigest()
        self.mocks.indicators(MD, {digest: "unknown", "analysis:" + digest: "malicious"})
        path = os.path.join(self.dir, "msg.eml")
        with open(path, "w") as f:
            f.write(mail(pe))
        out = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % self.port, "--from",
                              "alice@example.net", "--to", "bob@example.com", "--data",
                              "@" + path, "--timeout", "60"], capture_output=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout.decode()[-500:])

        # delivered at once, judged without the analysis
        self.pf("sink_wait_count 1 30")
        text = open(self.pf("sink_files").split()[0], "rb").read().decode("utf-8", "replace")
        head = text.split("\n\n", 1)[0].replace("\r\n", "\n")
        self.assertRegex(head, r"(?m)^X-Threat-Verdict: unknown$")
        self.assertIn("pending", head)
        # Postfix's own Received header names the queue id it gave the
        # message (its smtpd stamps "with ESMTP id <queue id>")
        ids = re.findall(r"with E?SMTP\w* id ([0-9A-Z]{8,})", head)
        self.assertTrue(ids, head)

        tmtest.wait_for(lambda: "after delivery" in self.log_text(), 60,
                        "the after-the-fact log line")
        lines = [l for l in self.log_text().splitlines() if "after delivery" in l]
        self.assertEqual(len(lines), 1, lines)
        logged = re.search(r"(\S+): after delivery: Message-ID <e2e-sandbox@example.net>:",
                           lines[0])
        self.assertIsNotNone(logged, lines[0])
        self.assertIn(logged.group(1), ids)
        self.assertIn("malicious", lines[0])
        self.assertIn(digest, lines[0])


if __name__ == "__main__":
    tmtest.run_tests(__name__)
