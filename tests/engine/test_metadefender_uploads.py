#!/usr/bin/env python3
"""`threatmilter scan` with an OPSWAT MetaDefender integration that may
upload (../shared/providers/opswat-metadefender.md §4) against the mock:
malicious / suspicious / clean / unknown by hash; an unknown PE uploaded
when UploadPEFiles allows it (POST /v4/file, raw body, then
GET /v4/file/{data_id} until 100 %), refused by the toggles, by
MaxUploadSize and for an excluded extension (not one byte reaches the
mock: its request log counts the bytes of every request); a failed
analysis; a refused key, the quota, 5xx.

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

MD = "metadefender"


def pe_bytes(tag):
    """A minimal Windows PE (MZ, e_lfanew 0x40, "PE\\0\\0") unique per tag."""
    head = bytearray(0x40)
    head[0:2] = b"MZ"
    head[0x3c] = 0x40
    return bytes(head) + b"PE\0\0" + tag.encode() * 8


def message(*attachments):
    """A message with (filename, bytes) attachments."""
    lines = ["From: a@example.net", "To: b@example.com", "Subject: files",
             "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="B"', "",
             "--B", "Content-Type: text/plain", "", "see attached"]
    for name, data in attachments:
        lines += ["--B", "Content-Type: application/octet-stream",
                  'Content-Disposition: attachment; filename="%s"' % name,
                  "Content-Transfer-Encoding: base64", "",
                  base64.encodebytes(data).decode().strip()]
    lines += ["--B--", ""]
    return "\r\n".join(lines).encode()


def sha(data):
    return hashlib.sha256(data).hexdigest()


class MetaDefenderUploads(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        self.n = 0

    def scan(self, data, main=None, **fields):
        settings = {"Attachments": "yes", "SenderIP": "no", "URLs": "no",
                    "UploadPEFiles": "no", "UploadOtherFiles": "no"}
        settings.update(fields)
        conf = tmtest.write_config(self.dir, self.mocks, integrations=(MD,), main=main,
                                   overrides={MD: settings})
        self.n += 1
        path = os.path.join(self.dir, "m%d.eml" % self.n)
        with open(path, "wb") as f:
            f.write(data)
        objs, proc = tmtest.scan(conf, path, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertNotIn(tmtest.MD_KEY.encode(), proc.stdout + proc.stderr)
        self.stderr = proc.stderr.decode()
        return objs[0]

    def result(self, obj, digest):
        found = [l for l in obj["lookups"] if l["indicator"] == digest]
        self.assertEqual(len(found), 1, obj["lookups"])
        return found[0]["result"], found[0].get("details", "")

    def uploads(self):
        return [r for r in self.mocks.requests(MD)
                if r["method"] == "POST" and r["path"] == "/v4/file"]

    def assert_nothing_uploaded(self):
        self.assertEqual(self.uploads(), [])
        self.assertEqual(sum(r["body_bytes"] for r in self.mocks.requests(MD)), 0)

    def test_verdicts_by_hash(self):
        files = {v: ("%s.bin" % v, ("content %s" % v).encode())
                 for v in ("malicious", "suspicious", "clean", "unknown")}
        self.mocks.indicators(MD, {sha(d): v for v, (_, d) in files.items()})
        obj = self.scan(message(*files.values()), UploadOtherFiles="no")
        for verdict, (_, data) in files.items():
            self.assertEqual(self.result(obj, sha(data))[0], verdict)
        self.assert_nothing_uploaded()

    def test_pe_uploaded_when_allowed(self):
        pe = pe_bytes("allowed")
        self.mocks.indicators(MD, {sha(pe): "unknown", "analysis:" + sha(pe): "malicious"})
        obj = self.scan(message(("invoice.pdf", pe)), main={"ScanDeadline": "40s"},
                        UploadPEFiles="yes", SandboxWait="30s")
        status, details = self.result(obj, sha(pe))
        self.assertEqual(status, "malicious", details)
        ups = self.uploads()
        self.assertEqual(len(ups), 1)
        self.assertEqual(ups[0]["body_bytes"], len(pe))
        self.assertEqual(ups[0]["headers"]["content-type"], "application/octet-stream")
        self.assertEqual(ups[0]["headers"]["filename"], "invoice.pdf")
        paths = [r["path"] for r in self.mocks.requests(MD)]
        self.assertEqual(paths[0], "/v4/hash/" + sha(pe))     # hash first
        self.assertTrue(all(p.startswith("/v4/file/") for p in paths[2:]), paths)

    def test_pending_without_sandbox_wait(self):
        pe = pe_bytes("pending")
        self.mocks.indicators(MD, {sha(pe): "unknown"})
        obj = self.scan(message(("a.exe", pe)), UploadPEFiles="yes")
        self.assertEqual(self.result(obj, sha(pe))[0], "pending")
        self.assertEqual(obj["verdict"], "unknown")          # a pending alone
        self.assertEqual(len(self.uploads()), 1)

    def test_refused_by_toggle(self):
        pe = pe_bytes("refused")
        self.mocks.indicators(MD, {sha(pe): "unknown"})
        # a PE is no "other" file whatever its name
        obj = self.scan(message(("notes.txt", pe)), UploadPEFiles="no", UploadOtherFiles="yes")
        self.assertEqual(self.result(obj, sha(pe))[0], "unknown")
        self.assert_nothing_uploaded()

    def test_refused_over_max_upload_size(self):
        pe = pe_bytes("large")
        self.mocks.indicators(MD, {sha(pe): "unknown"})
        obj = self.scan(message(("a.exe", pe)), UploadPEFiles="yes", MaxUploadSize="64")
        self.assertEqual(self.result(obj, sha(pe))[0], "unknown")
        self.assert_nothing_uploaded()
        self.assertIn("larger than MaxUploadSize", self.stderr)

    def test_refused_for_excluded_extension(self):
        pe = pe_bytes("excluded")
        self.mocks.indicators(MD, {sha(pe): "unknown"})
        self.scan(message(("a.exe", pe)), main={"ExcludeExtensions": "exe"},
                  UploadPEFiles="yes")
        self.assertEqual(self.mocks.requests(MD), [])

    def test_other_file_uploaded_spilled(self):
        data = b"%PDF-1.4 " + b"x" * 5000
        self.mocks.indicators(MD, {sha(data): "unknown"})
        # over SampleMemoryLimit: read back from the unlinked TmpDir file
        obj = self.scan(message(("doc.pdf", data)), main={"SampleMemoryLimit": "1K"},
                        UploadOtherFiles="yes")
        self.assertEqual(self.result(obj, sha(data))[0], "pending")
        ups = self.uploads()
        self.assertEqual(len(ups), 1)
        self.assertEqual(ups[0]["body_bytes"], len(data))
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith("threatmilter-")],
                         [])

    def test_failed_analysis_is_error(self):
        pe = pe_bytes("failed")
        self.mocks.indicators(MD, {sha(pe): "unknown", "analysis:" + sha(pe): "failed"})
        obj = self.scan(message(("a.exe", pe)), main={"ScanDeadline": "20s"},
                        UploadPEFiles="yes", SandboxWait="15s")
        self.assertEqual(self.result(obj, sha(pe))[0], "error")

    def test_bad_key_quota_5xx(self):
        pe = pe_bytes("faults")
        for mode, want in (("badkey", "error"), ("quota", "rate_limited"),
                           ("status5xx", "error")):
            self.mocks.reset()
            self.mocks.indicators(MD, {sha(pe): "unknown"})
            self.mocks.fault(MD, mode)
            obj = self.scan(message(("a.exe", pe)), UploadPEFiles="yes")
            self.assertEqual(self.result(obj, sha(pe))[0], want, mode)
            self.assert_nothing_uploaded()


if __name__ == "__main__":
    tmtest.run_tests(__name__)
