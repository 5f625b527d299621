#!/usr/bin/env python3
"""`threatmilter scan` and `threatmilter test` with a VMRay integration
against the mock (tests/mock/mock_vmray.py, ../shared/providers/vmray.md):
attachments by hash (malicious / suspicious / clean / unknown), no upload
without the upload toggles (not one submit request), URL and domain
submissions (pending, exactly one submit, form fields), the analysis
caching answer ("no jobs were created": the existing verdict at once), a
refused key, 429 and quota on submit, 5xx; Test Connection (§6). The
mock's own asynchronous behaviour (finished after N polls, a failed
analysis, a job that never finishes) is checked over HTTP directly; the
polling itself is test_vmray_jobs.c's (fake clock).

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import base64
import hashlib
import http.client
import json
import os
import sys
from urllib.parse import urlencode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

KEY = "test-vmray-key"
SUBMIT = "/rest/sample/submit"

FILES = {
    "malicious": b"MZ\x90\x00 vmray engine test: malicious-looking bytes 1",
    "suspicious": b"MZ\x90\x00 vmray engine test: suspicious-looking bytes 2",
    "clean": b"%PDF-1.4 vmray engine test: a clean document 3",
    "unknown": b"MZ\x90\x00 vmray engine test: never seen 4",
}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def message(urls="", attachments=()):
    head = ["From: a@example.net", "To: b@example.com", "Subject: test", "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="b1"', "", "--b1",
            "Content-Type: text/plain", "", "see " + urls, ""]
    for name, data in attachments:
        head += ["--b1", "Content-Type: application/octet-stream",
                 'Content-Disposition: attachment; filename="%s"' % name,
                 "Content-Transfer-Encoding: base64", "",
                 base64.b64encode(data).decode(), ""]
    return "\r\n".join(head + ["--b1--", ""]).encode()


class VMRayScan(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        self.mocks.indicators("vmray", {sha256(FILES[v]): v for v in FILES})
        self.n = 0

    def root(self):
        return "https://127.0.0.1:%d" % self.mocks.http["https"]

    def config(self, fields=None):
        conf = tmtest.write_config(self.dir, self.mocks, integrations=())
        settings = {"Name": "vmray", "Type": "vmray", "APIURL": self.root(), "APIKey": KEY,
                    "Timeout": "3s"}
        settings.update(fields or {})
        with open(os.path.join(os.path.dirname(conf), "integrations.d", "vmray.conf"), "w") as f:
            for k, v in settings.items():
                f.write("%s %s\n" % (k, v))
        return conf

    def scan(self, data, fields=None):
        conf = self.config(fields)
        self.n += 1
        path = os.path.join(self.dir, "m%d.eml" % self.n)
        with open(path, "wb") as f:
            f.write(data)
        objs, proc = tmtest.scan(conf, path)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertNotIn(KEY.encode(), proc.stdout + proc.stderr)
        return objs[0]

    def result(self, obj, indicator):
        found = [l for l in obj["lookups"] if l["indicator"] == indicator]
        self.assertEqual(len(found), 1, "%s in %s" % (indicator, obj["lookups"]))
        return found[0]["result"], found[0].get("details", "")

    def requests(self):
        reqs = self.mocks.requests("vmray")
        for r in reqs:
            self.assertEqual(r["headers"].get("authorization"), "<redacted>")
            self.assertNotIn(KEY, r["path"])
        return reqs

    def submits(self):
        return [r for r in self.requests() if r["path"] == SUBMIT]

    # ------------------------------------------------------------ hashes

    def test_attachments_by_hash(self):
        obj = self.scan(message(attachments=[(v + ".bin", FILES[v]) for v in FILES]))
        want = {"malicious": ("malicious", "malicious, score 80, Trojan.Generic"),
                "suspicious": ("suspicious", "suspicious, score 46"),
                "clean": ("clean", "clean, score 0"),
                "unknown": ("unknown", "not known to VMRay")}
        for name, expected in want.items():
            self.assertEqual(self.result(obj, sha256(FILES[name])), expected, name)
        self.assertEqual(obj["verdict"], "malicious")
        paths = sorted(r["path"] for r in self.requests())
        self.assertEqual(paths, sorted("/rest/sample/sha256/" + sha256(d) for d in FILES.values()))

    def test_no_upload_without_the_toggles(self):
        # UploadPEFiles/UploadOtherFiles off (the defaults): the unknown PE
        # is looked up by hash only; not one submit reaches VMRay
        for fields in ({}, {"UploadPEFiles": "no", "UploadOtherFiles": "no"}):
            self.mocks.reset()
            self.mocks.indicators("vmray", {sha256(FILES["unknown"]): "unknown"})
            obj = self.scan(message(attachments=[("new.exe", FILES["unknown"])]), fields)
            self.assertEqual(self.result(obj, sha256(FILES["unknown"]))[0], "unknown")
            self.assertEqual(self.submits(), [])
            self.assertEqual(len(self.requests()), 1)

    # -------------------------------------------------------------- URLs

    def test_url_submission_is_pending(self):
        url = "http://malicious.example/login?user=1"
        obj = self.scan(message(url))
        self.assertEqual(self.result(obj, url)[0], "pending")
        self.assertEqual(obj["verdict"], "unknown")         # a pending alone
        subs = self.submits()
        self.assertEqual(len(subs), 1)
        self.assertEqual(subs[0]["method"], "POST")
        self.assertEqual(subs[0]["indicator"], url)
        self.assertTrue(subs[0]["headers"]["content-type"].startswith(
            "application/x-www-form-urlencoded"))
        self.assertEqual(len(self.requests()), 1)             # no hash lookup for a URL

    def test_domain_with_hide_url_parameters(self):
        obj = self.scan(message("http://suspicious.example/login?user=secret"),
                        {"HideURLParameters": "yes"})
        self.assertEqual([(l["kind"], l["indicator"], l["result"]) for l in obj["lookups"]],
                         [("domain", "suspicious.example", "pending")])
        self.assertEqual([r["indicator"] for r in self.submits()], ["suspicious.example"])

    def test_already_analysed_url_gives_the_verdict_at_once(self):
        url = "http://alreadyanalysed-malicious.example/x"
        obj = self.scan(message(url))
        self.assertEqual(self.result(obj, url), ("malicious", "malicious, score 80, Trojan.Generic"))
        paths = [r["path"] for r in self.requests()]
        self.assertEqual(paths[0], SUBMIT)
        self.assertRegex(paths[1], r"^/rest/sample/\d+$")

    def test_urls_off(self):
        obj = self.scan(message("http://malicious.example/a"), {"URLs": "no"})
        self.assertEqual(obj["lookups"], [])
        self.assertEqual(self.requests(), [])

    # ------------------------------------------------------------ errors

    def test_bad_key_is_an_error(self):
        obj = self.scan(message(attachments=[("m.bin", FILES["malicious"])]),
                        {"APIKey": "another-vmray-key"})
        result, details = self.result(obj, sha256(FILES["malicious"]))
        self.assertEqual(result, "error")
        self.assertIn("HTTP 401: API key refused (Authentication failed)", details)
        self.assertNotEqual(obj["verdict"], "clean")

    def test_429_on_submit(self):
        url = "http://submit429.example/a"
        obj = self.scan(message(url))
        self.assertEqual(self.result(obj, url)[0], "rate_limited")
        self.assertEqual(len(self.submits()), 1)              # no retry against a 429

    def test_quota(self):
        url = "http://quotaexceeded.example/a"
        result, details = self.result(self.scan(message(url)), url)
        self.assertEqual((result, details), ("rate_limited",
                                             "submission refused: Submission quota exceeded"))
        self.mocks.reset()
        self.mocks.fault("vmray", "quota")
        digest = sha256(FILES["clean"])
        result, details = self.result(self.scan(message(attachments=[("c", FILES["clean"])])),
                                      digest)
        self.assertEqual(result, "rate_limited")
        self.assertIn("Quota exceeded", details)

    def test_5xx_is_an_error(self):
        self.mocks.fault("vmray", "status5xx", status=503)
        digest = sha256(FILES["clean"])
        obj = self.scan(message(attachments=[("c.pdf", FILES["clean"])]))
        result, details = self.result(obj, digest)
        self.assertEqual(result, "error")
        self.assertIn("HTTP 503", details)
        self.assertNotEqual(obj["verdict"], "clean")

    # --------------------------------------------------- Test Connection

    def test_test_connection(self):
        conf = self.config()
        proc = tmtest.run("test", "-c", conf)
        out = proc.stdout.decode()
        self.assertEqual(proc.returncode, 0, out + proc.stderr.decode())
        self.assertRegex(out, r"vmray: connection OK \(GET /rest/analysis\?_limit=1: result ok")
        self.assertEqual([r["path"] for r in self.requests()], ["/rest/analysis?_limit=1"])
        self.mocks.reset()
        proc = tmtest.run("test", "-c", self.config({"APIKey": "another-vmray-key"}))
        out = proc.stdout.decode()
        self.assertEqual(proc.returncode, 1, out)
        self.assertIn("vmray: connection failed (GET /rest/analysis: HTTP 401: API key refused",
                      out)
        self.assertNotIn("another-vmray-key", out + proc.stderr.decode())
        self.assertEqual(self.submits(), [])


class VMRayMock(tmtest.MocksCase):
    """The mock's asynchronous side, as the document describes it."""

    def setUp(self):
        self.mocks.reset()

    def call(self, method, path, form=None, key=KEY):
        conn = http.client.HTTPConnection("127.0.0.1", self.mocks.http["http"], timeout=10)
        headers = {"Authorization": "api_key " + key}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body, headers)
        resp = conn.getresponse()
        doc = json.loads(resp.read() or b"null")
        conn.close()
        return resp.status, doc, resp.getheader("Retry-After")

    def submit(self, url):
        status, doc, _ = self.call("POST", SUBMIT, {"sample_url": url, "shareable": "false"})
        self.assertEqual(status, 200)
        sub = doc["data"]["submissions"][0]
        return sub["submission_id"], sub["submission_sample_id"]

    def polls(self, sub_id, n):
        return [self.call("GET", "/rest/submission/%d" % sub_id)[1]["data"] for _ in range(n)]

    def test_finished_after_polls_then_verdict(self):
        sub_id, sample_id = self.submit("http://malicious.example/a")
        flags = [p["submission_finished"] for p in self.polls(sub_id, 3)]
        self.assertEqual(flags, [False, False, True])
        status, doc, _ = self.call("GET", "/rest/sample/%d" % sample_id)
        self.assertEqual(doc["data"]["sample_verdict"], "malicious")

    def test_failed_analysis(self):
        sub_id, sample_id = self.submit("http://analysisfails.example/a")
        last = self.polls(sub_id, 3)[-1]
        self.assertEqual((last["submission_finished"], last["submission_has_errors"]), (True, True))
        self.assertEqual(self.call("GET", "/rest/sample/%d" % sample_id)[1]["data"]
                         ["sample_verdict"], "not_available")

    def test_never_finishes(self):
        sub_id, _ = self.submit("http://neverfinish.example/a")
        self.assertFalse(any(p["submission_finished"] for p in self.polls(sub_id, 8)))

    def test_errors(self):
        status, doc, _ = self.call("GET", "/rest/analysis?_limit=1", key="wrong")
        self.assertEqual((status, doc), (401, {"result": "error",
                                               "error_msg": "Authentication failed"}))
        status, _, retry = self.call("POST", SUBMIT, {"sample_url": "http://submit429.example/"})
        self.assertEqual((status, retry), (429, "30"))
        status, doc, _ = self.call("GET", "/rest/submission/999")
        self.assertEqual(status, 404)
        status, doc, _ = self.call("GET", "/rest/sample/sha256/" + "40" * 32)
        self.assertEqual((status, doc), (200, {"result": "ok", "data": []}))


if __name__ == "__main__":
    tmtest.run_tests(__name__)
