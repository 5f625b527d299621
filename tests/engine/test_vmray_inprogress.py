#!/usr/bin/env python3
"""VMRay verdicts that arrive after a job's trouble, through the milter
protocol against the mock (tests/mock/mock_vmray.py, which answers a hash
search for a sample whose submission runs with sample_verdict
not_available, as ../shared/providers/vmray.md §1 has it). Reviewer F2:

  - a poll that meets 5xx twice (the engine's one retry) does not end the
    job: the message that got `pending` gets its after-delivery alert, a
    message meanwhile waits with the job (`pending`, not a cached
    `unknown`), and the verdict is cached for the next one;
  - a job that ends on JobTimeout while VMRay still analyses the file
    leaves nothing cached: the next message's hash lookup finds the
    sample not_available and gets `pending`, the sample is polled until
    VMRay has the verdict, the messages after it get it from the cache,
    and every message that got `pending` (the first one too) its
    after-delivery alert.

Run by `make check` through run-engine.sh (TM_BINARY, TM_SRCDIR)."""
import base64
import hashlib
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402

KEY = "test-vmray-key"


def pe_bytes(tag):
    """A PE file (MZ, e_lfanew 0x40, PE signature) whose content the
    mock's analysis finds malicious."""
    return b"MZ" + bytes(0x3a) + b"\x40\0\0\0PE\0\0" + ("%s malicious " % tag).encode() * 4


def message(data, message_id):
    return ("From: a@example.net\nTo: b@example.com\nSubject: invoice\n"
            "Message-ID: %s\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="B"\n\n'
            "--B\nContent-Type: text/plain\n\nsee attached\n"
            "--B\nContent-Type: application/octet-stream\n"
            'Content-Disposition: attachment; filename="a.exe"\n'
            "Content-Transfer-Encoding: base64\n\n%s\n--B--\n"
            % (message_id, base64.encodebytes(data).decode())).encode()


def sha(data):
    return hashlib.sha256(data).hexdigest()


class VMRayInProgress(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        name = self.id().rsplit(".", 1)[-1]
        self.sock = os.path.join(self.dir, name + ".sock")
        self.log = os.path.join(self.dir, name + ".log")
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None:
            self.daemon.stop()

    def start(self, job_timeout):
        conf = tmtest.write_config(self.dir, self.mocks, integrations=(),
                                   main={"Socket": "local:" + self.sock, "ScanDeadline": "8s"})
        fields = {"Name": "vmray", "Type": "vmray", "APIKey": KEY,
                  "APIURL": "http://127.0.0.1:%d" % self.mocks.http["http"],
                  "Attachments": "yes", "UploadPEFiles": "yes", "URLs": "no",
                  "SenderIP": "no", "JobTimeout": job_timeout, "PollInterval": "1s",
                  "SandboxWait": "0", "Timeout": "3s"}
        path = os.path.join(os.path.dirname(conf), "integrations.d", "vmray.conf")
        with open(path, "w") as f:
            f.write("".join("%s %s\n" % kv for kv in fields.items()))
        os.chmod(path, 0o640)
        self.daemon = tmtest.Daemon(conf, "local:" + self.sock, self.log)

    def send(self, data, queue_id):
        c = tmtest.milter_client(self.sock)
        try:
            final, mods = mc.send_message(c, message(data, "<%s@example.test>" % queue_id),
                                          queue_id=queue_id)
        finally:
            c.quit()
            c.close()
        self.assertEqual(final[0], "accept")
        return {m[2]: m[3] for m in mods if m[0] == "insheader"}

    def log_text(self):
        return tmtest.read_bytes(self.log).decode(errors="replace")

    def wait_log(self, text, seconds):
        tmtest.wait_for(lambda: text in self.log_text(), seconds, repr(text))

    def vmray_get(self, path):
        """VMRay's own analysis going on: the mock's submission advances
        when it is asked about."""
        conn = http.client.HTTPConnection("127.0.0.1", self.mocks.http["http"], timeout=10)
        conn.request("GET", path, headers={"Authorization": "api_key " + KEY})
        doc = json.loads(conn.getresponse().read())
        conn.close()
        return doc

    def finish_analysis(self, data):
        subs = [r["path"] for r in self.mocks.requests("vmray")
                if r["path"].startswith("/rest/submission/")]
        for _ in range(3):
            self.vmray_get(subs[0])
        hits = self.vmray_get("/rest/sample/sha256/" + sha(data))["data"]
        self.assertEqual([h["sample_verdict"] for h in hits], ["malicious"])

    def assert_cached_malicious(self, data, queue_id):
        """A message now gets the verdict from the cache, without a
        request; the file was uploaded once in all."""
        n = len(self.mocks.requests("vmray"))
        self.assertEqual(self.send(data, queue_id).get("X-Threat-Verdict"), "malicious")
        reqs = self.mocks.requests("vmray")
        self.assertEqual(reqs[n:], [])
        self.assertEqual(len([r for r in reqs if r["path"] == "/rest/sample/submit"]), 1)

    def test_poll_5xx_twice_keeps_the_job(self):
        self.start("10m")
        data = pe_bytes("f2-5xx")
        self.mocks.indicators("vmray", {sha(data): "unknown"})
        self.assertIn("pending", self.send(data, "QF2A0").get("X-Threat-Report", ""))
        self.mocks.fault("vmray", "status5xx", status=503, count=2)   # a poll and its retry
        tmtest.wait_for(lambda: len([r for r in self.mocks.requests("vmray")
                                     if r.get("fault")]) == 2, 10, "the failed poll")
        # the job goes on: a message meanwhile waits with it
        h1 = self.send(data, "QF2A1")
        self.assertIn("pending", h1.get("X-Threat-Report", ""))
        self.assertIn(" 0 cached", h1.get("X-Threat-Scanned", ""))
        self.finish_analysis(data)
        self.wait_log("QF2A0: after delivery: Message-ID <QF2A0@example.test>", 30)
        self.assertIn("QF2A1: after delivery", self.log_text())
        self.assert_cached_malicious(data, "QF2A2")

    def test_after_job_timeout_the_verdict_still_arrives(self):
        self.start("3s")
        data = pe_bytes("f2-timeout")
        self.mocks.indicators("vmray", {sha(data): "unknown"})
        self.assertIn("pending", self.send(data, "QF2B0").get("X-Threat-Report", ""))
        self.mocks.fault("vmray", "status5xx", status=503)           # every poll fails
        time.sleep(4.5)                                              # past JobTimeout
        self.mocks.fault("vmray", "none")
        # VMRay still analyses it: not_available; the message waits
        h1 = self.send(data, "QF2B1")
        self.assertIn("pending", h1.get("X-Threat-Report", ""))
        searches = [r for r in self.mocks.requests("vmray")
                    if r["path"] == "/rest/sample/sha256/" + sha(data)]
        self.assertEqual(len(searches), 2)
        h2 = self.send(data, "QF2B2")                                # not a cached unknown
        self.assertIn("pending", h2.get("X-Threat-Report", ""))
        self.finish_analysis(data)
        self.wait_log("QF2B1: after delivery: Message-ID <QF2B1@example.test>", 30)
        # the message that got pending from the job that timed out too
        self.assertIn("QF2B0: after delivery: Message-ID <QF2B0@example.test>", self.log_text())
        self.assert_cached_malicious(data, "QF2B3")
        self.assertIn("hash job unfinished after 3 s: error", self.log_text())


if __name__ == "__main__":
    tmtest.run_tests(__name__)
