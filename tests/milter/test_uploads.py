#!/usr/bin/env python3
"""Uploads through the milter protocol (issue 12) with an OPSWAT
MetaDefender integration that may upload PE files, against the mock:
  - message 1 with a new PE attachment: `pending` in its X-Threat-Report,
    verdict unknown, exactly one upload; when the analysis ends malicious
    the log names message 1 by its queue id and Message-ID (after the
    fact) and AlertCommand runs with the finding;
  - message 2 with the same attachment after the job ended: the job's
    verdict from the cache, not one new request;
  - 20 concurrent messages with the same new attachment: one upload.

Run by `make check` through run-milter.sh (TM_BINARY, TM_SRCDIR)."""
import base64
import hashlib
import os
import shutil
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402

MD = "metadefender"


def pe_bytes(tag):
    head = bytearray(0x40)
    head[0:2] = b"MZ"
    head[0x3c] = 0x40
    return bytes(head) + b"PE\0\0" + tag.encode() * 8


def message(name, data, message_id):
    return ("From: a@example.net\nTo: b@example.com\nSubject: invoice\n"
            "Message-ID: %s\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="B"\n\n'
            "--B\nContent-Type: text/plain\n\nsee attached\n"
            "--B\nContent-Type: application/octet-stream\n"
            'Content-Disposition: attachment; filename="%s"\n'
            "Content-Transfer-Encoding: base64\n\n%s\n--B--\n"
            % (message_id, name, base64.encodebytes(data).decode())).encode()


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Uploads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)
        cls.sock = os.path.join(cls.dir, "milter.sock")
        cls.alerts = os.path.join(cls.dir, "alerts.txt")
        alert = os.path.join(cls.dir, "alert.sh")
        with open(alert, "w") as f:
            f.write('#!/bin/sh\nprintf "%%s|" "$@" >> %s\necho "$THREATMILTER_QUEUE_ID" >> %s\n'
                    % (cls.alerts, cls.alerts))
        os.chmod(alert, 0o755)
        conf = tmtest.write_config(
            cls.dir, cls.mocks, integrations=(MD,),
            main={"Socket": "local:" + cls.sock, "ScanDeadline": "8s",
                  "AlertCommand": alert},
            overrides={MD: {"Attachments": "yes", "SenderIP": "no", "URLs": "no",
                            "UploadPEFiles": "yes", "MaxInFlight": "64"}})
        cls.conf_dir = os.path.dirname(conf)
        cls.log = os.path.join(cls.dir, "milter.log")
        cls.daemon = tmtest.Daemon(conf, "local:" + cls.sock, cls.log)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.mocks.reset()

    def send(self, raw, queue_id):
        c = mc.MilterClient("unix:" + self.sock)
        c.optneg()
        c.connect(address="192.0.2.200")
        try:
            return mc.send_message(c, raw, queue_id=queue_id)
        finally:
            c.quit()
            c.close()

    @staticmethod
    def headers(mods):
        return {m[2]: m[3] for m in mods if m[0] == "insheader"}

    def uploads(self):
        return [r for r in self.mocks.requests(MD)
                if r["method"] == "POST" and r["path"] == "/v4/file"]

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def test_pending_then_cache_then_alert(self):
        pe = pe_bytes("first")
        self.mocks.indicators(MD, {sha(pe): "unknown", "analysis:" + sha(pe): "malicious"})
        final, mods = self.send(message("invoice.pdf", pe, "<m1@example.test>"), "QUP0001")
        self.assertEqual(final[0], "accept")
        h = self.headers(mods)
        self.assertEqual(h["X-Threat-Verdict"], "unknown")     # a pending alone
        self.assertIn("pending", h["X-Threat-Report"])
        self.assertEqual(len(self.uploads()), 1)

        # the analysis ends (in progress once, then done): the log names
        # message 1 after the fact, and AlertCommand ran
        tmtest.wait_for(lambda: "QUP0001: after delivery" in self.log_text(), 60,
                        "the after-the-fact log line")
        line = [l for l in self.log_text().splitlines() if "QUP0001: after delivery" in l][0]
        self.assertIn("<m1@example.test>", line)
        self.assertIn("malicious", line)
        self.assertIn(sha(pe), line)
        tmtest.wait_for(lambda: os.path.exists(self.alerts) and
                        "QUP0001" in open(self.alerts).read(), 10, "AlertCommand")
        args = open(self.alerts).read()
        self.assertIn("QUP0001|<m1@example.test>|metadefender|hash|%s|malicious|" % sha(pe), args)

        before = len(self.mocks.requests(MD))
        final, mods = self.send(message("other-name.exe", pe, "<m2@example.test>"), "QUP0002")
        h = self.headers(mods)
        self.assertEqual(h["X-Threat-Verdict"], "malicious")
        self.assertEqual(len(self.mocks.requests(MD)), before)     # from the cache

    def test_concurrent_messages_one_upload(self):
        pe = pe_bytes("twenty")
        self.mocks.indicators(MD, {sha(pe): "unknown"})
        results = []

        def one(i):
            final, mods = self.send(message("a.exe", pe, "<c%d@example.test>" % i),
                                    "QUC%04d" % i)
            results.append(self.headers(mods).get("X-Threat-Report", ""))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(results), 20)
        self.assertTrue(all("pending" in r for r in results), results)
        self.assertEqual(len(self.uploads()), 1)
        hashes = [r for r in self.mocks.requests(MD) if r["path"].startswith("/v4/hash/")]
        self.assertEqual(len(hashes), 1)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
