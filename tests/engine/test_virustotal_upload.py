#!/usr/bin/env python3
"""`threatmilter scan` with a VirusTotal integration whose attachments may
be uploaded (issue 12; ../shared/providers/virustotal.md §3.4, §3.5, §4),
against the mock: the hash is always asked first (GET /files/{sha256});
a known file is judged by its hash and never uploaded, whatever the
upload toggles; with the toggles off not one upload request (nor a byte
of the attachment) reaches the mock; errors of the hash lookup (429
quota, 5xx, refused key) are never clean. An unknown PE with
UploadPEFiles: one POST /files (multipart "file"), /analyses/{id} polled
every PollInterval, the verdict within SandboxWait, else `pending` and
the next run judged by the hash without a second upload; above 32 MB the
one-time upload URL; the mock's per-file upload faults (429 on the
upload, an analysis that fails or never completes) are never clean.

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import base64
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
EICAR_SHA256 = hashlib.sha256(EICAR).hexdigest()


def pe_file(marker):
    """A minimal Windows PE by content: MZ, e_lfanew at 0x3c -> "PE\\0\\0"."""
    head = bytearray(b"MZ" + b"\0" * 126)
    head[0x3c:0x40] = struct.pack("<I", 0x80)
    return bytes(head) + b"PE\0\0" + b"\x4c\x01" + b"\0" * 58 + marker


def message(name, data, body="see the attachment"):
    parts = ["Received: from a.example (a.example [192.0.2.10]) by mx.example.net with ESMTP"
             " id 1; Tue, 2 Jan 2024 10:00:00 +0000",
             "From: a@example.net", "To: b@example.com", "Subject: invoice",
             "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b1"', "",
             "--b1", "Content-Type: text/plain", "", body, "--b1",
             "Content-Type: application/octet-stream",
             'Content-Disposition: attachment; filename="%s"' % name,
             "Content-Transfer-Encoding: base64", "",
             base64.b64encode(data).decode(), "--b1--", ""]
    return "\r\n".join(parts).encode()


class VirusTotalUploadScan(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        self.n = 0

    def scan(self, *datas, **fields):
        settings = {"Attachments": "yes", "URLs": "no", "SenderIP": "no"}
        settings.update(fields)
        conf = tmtest.write_config(self.dir, self.mocks, integrations=["virustotal"],
                                   overrides={"virustotal": settings})
        files = []
        for data in datas:
            self.n += 1
            files.append(os.path.join(self.dir, "m%d.eml" % self.n))
            with open(files[-1], "wb") as f:
                f.write(data)
        objs, proc = tmtest.scan(conf, *files)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        for secret in tmtest.SECRETS:
            self.assertNotIn(secret.encode(), proc.stdout)
            self.assertNotIn(secret.encode(), proc.stderr)
        return objs

    def hash_lookup(self, obj, digest):
        found = [l for l in obj["lookups"]
                 if l["integration"] == "virustotal" and l["indicator"] == digest]
        self.assertEqual(len(found), 1, obj["lookups"])
        return found[0]

    def uploads(self):
        """Requests that carried a file or asked for an upload URL."""
        return [r for r in self.mocks.requests("virustotal")
                if r["method"] == "POST" or "/upload" in r["path"]]

    def assert_nothing_uploaded(self):
        self.assertEqual(self.uploads(), [])
        self.assertEqual(sum(r["body_bytes"] for r in self.mocks.requests("virustotal")), 0)

    # ------------------------------------------------------------ uploads

    WAIT = {"PollInterval": "1s", "SandboxWait": "20s"}
    MAIN_WAIT = {"ScanDeadline": "30s"}

    def scan_main(self, data, main, **fields):
        settings = {"Attachments": "yes", "URLs": "no", "SenderIP": "no"}
        settings.update(fields)
        conf = tmtest.write_config(self.dir, self.mocks, integrations=["virustotal"],
                                   main=main, overrides={"virustotal": settings})
        self.n += 1
        path = os.path.join(self.dir, "m%d.eml" % self.n)
        with open(path, "wb") as f:
            f.write(data)
        objs, proc = tmtest.scan(conf, path, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertNotIn(tmtest.VT_KEY.encode(), proc.stdout + proc.stderr)
        return objs[0]

    def test_unknown_pe_uploaded_and_judged_within_sandbox_wait(self):
        pe = pe_file(b"this one is malicious")
        digest = hashlib.sha256(pe).hexdigest()
        self.mocks.indicators("virustotal", {digest: "unknown"})
        obj = self.scan_main(message("invoice.pdf", pe), self.MAIN_WAIT,
                             UploadPEFiles="yes", **self.WAIT)
        look = self.hash_lookup(obj, digest)
        self.assertEqual(look["result"], "malicious", look)
        self.assertEqual(obj["verdict"], "malicious")
        reqs = self.mocks.requests("virustotal")
        self.assertEqual((reqs[0]["method"], reqs[0]["path"]), ("GET", "/api/v3/files/" + digest))
        ups = self.uploads()
        self.assertEqual([(r["method"], r["path"]) for r in ups], [("POST", "/api/v3/files")])
        self.assertGreater(ups[0]["body_bytes"], len(pe))       # multipart around the bytes
        self.assertTrue(ups[0]["headers"]["content-type"].startswith("multipart/form-data"))
        self.assertEqual(ups[0]["headers"]["x-apikey"], "<redacted>")
        polls = [r["path"] for r in reqs[2:]]
        self.assertTrue(polls and all(p.startswith("/api/v3/analyses/") for p in polls), polls)

    def test_pending_then_next_message_by_hash_without_upload(self):
        pe = pe_file(b"malicious, pending first")
        digest = hashlib.sha256(pe).hexdigest()
        self.mocks.indicators("virustotal", {digest: "unknown"})
        obj = self.scan_main(message("a.exe", pe), None, UploadPEFiles="yes")
        self.assertEqual(self.hash_lookup(obj, digest)["result"], "pending")
        self.assertEqual(obj["verdict"], "unknown")         # a pending alone
        self.assertEqual(len(self.uploads()), 1)
        # VirusTotal knows it now: the next message, one hash request, no upload
        before = len(self.mocks.requests("virustotal"))
        obj = self.scan_main(message("a.exe", pe), None, UploadPEFiles="yes")
        self.assertEqual(self.hash_lookup(obj, digest)["result"], "malicious")
        self.assertEqual(len(self.mocks.requests("virustotal")), before + 1)
        self.assertEqual(len(self.uploads()), 1)

    def test_pe_refused_by_toggle_not_one_byte(self):
        pe = pe_file(b"other files only")
        digest = hashlib.sha256(pe).hexdigest()
        self.mocks.indicators("virustotal", {digest: "unknown"})
        # a PE is no "other" file whatever its name
        obj = self.scan_main(message("notes.txt", pe), None, UploadPEFiles="no",
                             UploadOtherFiles="yes")
        self.assertEqual(self.hash_lookup(obj, digest)["result"], "unknown")
        self.assert_nothing_uploaded()

    def test_upload_faults_never_clean(self):
        for fault, want in (("upload-quota", "rate_limited"), ("upload-5xx", "error"),
                            ("upload-failed", "unknown"), ("upload-stuck", "pending")):
            with self.subTest(fault=fault):
                self.mocks.reset()
                pe = pe_file(fault.encode())
                digest = hashlib.sha256(pe).hexdigest()
                self.mocks.indicators("virustotal", {digest: fault})
                obj = self.scan_main(message("a.exe", pe), {"ScanDeadline": "12s"},
                                     UploadPEFiles="yes", PollInterval="1s", SandboxWait="6s")
                look = self.hash_lookup(obj, digest)
                self.assertEqual(look["result"], want, look)
                self.assertNotEqual(obj["verdict"], "clean")
                posts = [r for r in self.uploads() if r["method"] == "POST"]
                # a 503 is retried once by the engine; nothing else is sent twice
                self.assertEqual(len(posts), 2 if fault == "upload-5xx" else 1, posts)

    def test_large_file_goes_to_the_upload_url(self):
        big = pe_file(b"malicious") + b"\0" * (32 * 1024 * 1024)
        digest = hashlib.sha256(big).hexdigest()
        self.mocks.indicators("virustotal", {digest: "unknown"})
        obj = self.scan_main(message("big.exe", big),
                             {"ScanDeadline": "60s", "MaxMessageSize": "64M"},
                             UploadPEFiles="yes", Timeout="30s", **self.WAIT)
        self.assertEqual(self.hash_lookup(obj, digest)["result"], "malicious")
        paths = [(r["method"], r["path"].split("/_ah/upload/")[0])
                 for r in self.mocks.requests("virustotal")][:3]
        self.assertEqual(paths, [("GET", "/api/v3/files/" + digest),
                                 ("GET", "/api/v3/files/upload_url"), ("POST", "")])
        self.assertEqual([r for r in self.uploads() if r["path"] == "/api/v3/files"], [])

    def test_known_file_judged_by_hash_not_uploaded(self):
        objs = self.scan(message("eicar.com", EICAR), UploadPEFiles="yes",
                         UploadOtherFiles="yes")
        self.assertEqual(self.hash_lookup(objs[0], EICAR_SHA256)["result"], "malicious")
        self.assertEqual(objs[0]["verdict"], "malicious")
        reqs = self.mocks.requests("virustotal")
        self.assertEqual([(r["method"], r["path"]) for r in reqs],
                         [("GET", "/api/v3/files/" + EICAR_SHA256)])
        self.assertEqual(self.uploads(), [])

    def test_unknown_file_uploads_off_not_one_upload(self):
        pe = pe_file(b"new sample, never seen")
        digest = hashlib.sha256(pe).hexdigest()
        # unknown to VirusTotal (404), and its upload would be refused anyway
        self.mocks.indicators("virustotal", {digest: "upload-quota"})
        objs = self.scan(message("invoice.pdf", pe), message("invoice.pdf", pe))
        for obj in objs:
            look = self.hash_lookup(obj, digest)
            self.assertEqual(look["result"], "unknown")
            self.assertNotEqual(obj["verdict"], "clean")
        self.assert_nothing_uploaded()
        # asked once: the second message's answer came from the cache
        self.assertEqual([r["path"] for r in self.mocks.requests("virustotal")],
                         ["/api/v3/files/" + digest])
        self.assertEqual(self.mocks.stats()["by_indicator"].get(digest), 1)

    def test_hash_lookup_errors_are_never_clean(self):
        pe = pe_file(b"another new sample")
        digest = hashlib.sha256(pe).hexdigest()
        for mode, result, why in (("quota", "rate_limited", "QuotaExceededError"),
                                  ("status5xx", "error", "HTTP 503"),
                                  ("badkey", "error", "WrongCredentialsError")):
            with self.subTest(mode=mode):
                self.mocks.reset()
                self.mocks.fault("virustotal", mode)
                objs = self.scan(message("a.exe", pe), UploadPEFiles="yes")
                look = self.hash_lookup(objs[0], digest)
                self.assertEqual(look["result"], result, look)
                self.assertIn(why, look["details"])
                self.assertNotEqual(objs[0]["verdict"], "clean")
                self.assertEqual(self.uploads(), [])

    def test_upload_keys_accepted_with_document_defaults(self):
        # the toggles and the size cap are VirusTotal keys (CAP_UPLOAD)
        objs = self.scan(message("eicar.com", EICAR), UploadPEFiles="yes",
                         UploadOtherFiles="no", MaxUploadSize="650M", PollInterval="1m")
        self.assertEqual(self.hash_lookup(objs[0], EICAR_SHA256)["result"], "malicious")


if __name__ == "__main__":
    tmtest.run_tests(__name__)
