#!/usr/bin/env python3
"""`threatmilter scan`, `threatmilter test` and `threatmilter -n` with a
FortiSandbox integration against the mock appliance (tests/mock/
mock_fortisandbox.py): ratings by hash and URL (malicious / suspicious /
clean / unknown), both login forms and the token login with one session
for the whole run, unknown files never uploaded without the upload toggles
(not one submission reaches the mock), URL submission with SubmitURLs
(pending), refused credentials, USER_HAS_NO_PERMISSION, TIME_OUT, 5xx,
malformed answers, Test Connection (login and logout, no analysis) and the
required APIURL. Secrets never in the output nor in the mock's log.

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

PASS = "test-fsa-pass"
TOKEN = "test-fsa-token"
PE = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00threatmilter fortisandbox test"
SUBMIT = "/jsonrpc /alert/ondemand/submit-file"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_bytes(tag):
    return b"%s fortisandbox test file\n" % tag.encode()


def message(urls="", attachments=()):
    head = ["From: a@example.net", "To: b@example.com", "Subject: test", "MIME-Version: 1.0"]
    if not attachments:
        return "\r\n".join(head + ["Content-Type: text/plain", "", "see " + urls, ""]).encode()
    parts = head + ['Content-Type: multipart/mixed; boundary="B"', "", "--B",
                    "Content-Type: text/plain", "", "see " + urls]
    for name, data in attachments:
        parts += ["--B", "Content-Type: application/octet-stream",
                  'Content-Disposition: attachment; filename="%s"' % name,
                  "Content-Transfer-Encoding: base64", "",
                  base64.encodebytes(data).decode().strip()]
    return "\r\n".join(parts + ["--B--", ""]).encode()


class FortiSandboxScan(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        self.n = 0

    def config(self, **fields):
        conf = tmtest.write_config(self.dir, self.mocks, integrations=())
        values = {"Name": "fsa", "Type": "fortisandbox",
                  "APIURL": "https://127.0.0.1:%d/jsonrpc" % self.mocks.http["https"],
                  "APIKey": "apiuser", "APIPassword": PASS, "URLs": "yes",
                  "Attachments": "yes", "Timeout": "3s"}
        values.update(fields)
        with open(os.path.join(os.path.dirname(conf), "integrations.d", "fsa.conf"), "w") as f:
            for k, v in values.items():
                if v is not None:
                    f.write("%s %s\n" % (k, v))
        return conf

    def assert_no_secret(self, *blobs):
        for blob in blobs:
            for secret in (PASS, TOKEN):
                self.assertNotIn(secret.encode() if isinstance(blob, bytes) else secret, blob)

    def scan(self, *datas, **fields):
        conf = self.config(**fields)
        files = []
        for data in datas:
            self.n += 1
            files.append(os.path.join(self.dir, "m%d.eml" % self.n))
            with open(files[-1], "wb") as f:
                f.write(data)
        objs, proc = tmtest.scan(conf, *files)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assert_no_secret(proc.stdout, proc.stderr, str(self.mocks.requests("fortisandbox")))
        self.stderr = proc.stderr.decode()
        return objs

    def result(self, obj, indicator):
        found = [l for l in obj["lookups"] if l["integration"] == "fsa" and
                 l["indicator"] == indicator]
        self.assertEqual(len(found), 1, "%s in %s" % (indicator, obj["lookups"]))
        return found[0]["result"], found[0].get("details", "")

    def calls(self, target=None):
        paths = [r["path"] for r in self.mocks.requests("fortisandbox")]
        return paths if target is None else [p for p in paths if p == target]

    # ---------------------------------------------------------- verdicts

    def test_hash_and_url_matrix_one_login(self):
        files = {t: file_bytes(t) for t in ("malicious", "suspicious", "clean", "unknown")}
        # (the mock's convention rates any other hash clean)
        self.mocks.indicators("fortisandbox", {sha256(d): t for t, d in files.items()})
        urls = ("http://phish.example.net/login http://suspicious.example/b "
                "http://www.example.com/ http://unknown.example/c")
        obj = self.scan(message(urls, [(t + ".bin", d) for t, d in files.items()]))[0]
        for tag, data in files.items():
            self.assertEqual(self.result(obj, sha256(data))[0], tag, tag)
        self.assertIn("Malicious", self.result(obj, sha256(files["malicious"]))[1])
        self.assertEqual(self.result(obj, "http://phish.example.net/login")[0], "malicious")
        self.assertIn("High Risk", self.result(obj, "http://phish.example.net/login")[1])
        self.assertEqual(self.result(obj, "http://suspicious.example/b")[0], "suspicious")
        self.assertEqual(self.result(obj, "http://www.example.com/")[0], "clean")
        # not rated, SubmitURLs off: unknown, not submitted
        self.assertEqual(self.result(obj, "http://unknown.example/c")[0], "unknown")
        self.assertEqual(obj["verdict"], "malicious")
        # one login for all eight lookups, the session reused; no upload
        self.assertEqual(len(self.calls("/jsonrpc /sys/login/user")), 1, self.calls())
        self.assertEqual(len(self.calls("/jsonrpc /scan/result/file")), 4)
        self.assertEqual(self.calls(SUBMIT), [])

    def test_hide_url_parameters_asks_the_domain(self):
        obj = self.scan(message("http://phish.example.net/login?token=s3cret"),
                        HideURLParameters="yes")[0]
        result, _ = self.result(obj, "phish.example.net")
        self.assertIn(result, ("unknown", "clean"))
        recorded = [i for r in self.mocks.requests("fortisandbox") for i in r["indicators"]]
        self.assertIn("http://phish.example.net/", recorded)
        self.assertNotIn("s3cret", str(self.mocks.requests("fortisandbox")))

    # ----------------------------------------------------------- uploads

    def test_unknown_pe_not_uploaded_without_the_toggles(self):
        """UploadPEFiles/UploadOtherFiles off (the default): not one
        submission reaches the mock, the file is unknown."""
        other = file_bytes("unknown-other")
        self.mocks.indicators("fortisandbox", {sha256(PE): "unknown", sha256(other): "unknown"})
        obj = self.scan(message("", [("setup.exe", PE), ("notes.txt", other)]))[0]
        self.assertEqual(self.result(obj, sha256(PE))[0], "unknown")
        self.assertEqual(self.result(obj, sha256(other))[0], "unknown")
        self.assertEqual(self.calls(SUBMIT), [])
        self.assertEqual(obj["verdict"], "unknown")

    def test_unknown_pe_uploaded_when_allowed(self):
        plan = os.path.join(tmtest.SRCDIR, "src", "core", "lookup", "plan.c")
        with open(plan, encoding="utf-8") as f:
            if "sample_new(" not in f.read():
                self.skipTest("lookup/plan.c gives lookups no sample yet (issue 12 uploads)")
        self.mocks.indicators("fortisandbox", {sha256(PE): "submitted_malicious"})
        obj = self.scan(message("", [("setup.exe", PE)]), UploadPEFiles="yes")[0]
        self.assertEqual(self.result(obj, sha256(PE))[0], "pending")
        uploads = [r for r in self.mocks.requests("fortisandbox") if r["path"] == SUBMIT]
        self.assertEqual(len(uploads), 1)
        self.assertEqual(uploads[0]["indicators"], [sha256(PE)])   # the bytes, decoded

    def test_url_submission(self):
        obj = self.scan(message("https://new.example.org/ http://unknown.example/c"),
                        SubmitURLs="yes")[0]
        self.assertEqual(self.result(obj, "https://new.example.org/")[0], "pending")
        self.assertEqual(self.result(obj, "http://unknown.example/c")[0], "pending")
        submissions = [r for r in self.mocks.requests("fortisandbox") if r["path"] == SUBMIT]
        self.assertEqual(sorted(i for r in submissions for i in r["indicators"]),
                         ["http://unknown.example/c", "https://new.example.org/"])
        self.assertNotEqual(obj["verdict"], "clean")

    # ------------------------------------------------------------ logins

    def test_old_appliance_second_login_form(self):
        obj = self.scan(message("http://phish.example.net/login"), APIKey="olduser")[0]
        self.assertEqual(self.result(obj, "http://phish.example.net/login")[0], "malicious")
        self.assertEqual(len(self.calls("/jsonrpc /sys/login/user")), 2)

    def test_token_login(self):
        obj = self.scan(message("http://phish.example.net/login"), APIKey=TOKEN,
                        APIPassword=None)[0]
        self.assertEqual(self.result(obj, "http://phish.example.net/login")[0], "malicious")
        self.assertEqual(len(self.calls("/jsonrpc /sys/login/token")), 1)
        self.assertEqual(self.calls("/jsonrpc /sys/login/user"), [])

    # ------------------------------------------------------------ errors

    def errored(self, detail, fields=None, mode=None, **kw):
        if mode:
            self.mocks.fault("fortisandbox", mode, **kw)
        obj = self.scan(message("http://phish.example.net/login", [("a.bin", file_bytes("x"))]),
                        **(fields or {}))[0]
        for lookup in obj["lookups"]:
            self.assertEqual(lookup["result"], "error", lookup)
            self.assertIn(detail, lookup.get("details", ""))
        self.assertNotEqual(obj["verdict"], "clean")
        self.assertEqual(self.calls(SUBMIT), [])
        return obj

    def test_bad_credentials(self):
        self.errored("WRONG_CREDENTIAL", {"APIPassword": "wrong-password-1"})
        # both forms tried once, then nothing more is asked
        self.assertEqual(self.calls(), ["/jsonrpc /sys/login/user"] * 2)

    def test_no_permission(self):
        self.errored("USER_HAS_NO_PERMISSION", {"APIKey": "noperm"})

    def test_time_out_status(self):
        self.mocks.indicators("fortisandbox", {"http://phish.example.net/login": "time_out",
                                               sha256(file_bytes("x")): "time_out"})
        self.errored("TIME_OUT")

    def test_5xx(self):
        self.errored("HTTP 503", mode="status5xx", status=503)

    def test_malformed(self):
        self.errored("malformed", mode="malformed")

    # ------------------------------------------------- test and -n checks

    def test_connection_logs_in_and_out(self):
        conf = self.config()
        proc = tmtest.run("test", "-c", conf, "fsa")
        out = proc.stdout.decode()
        self.assertEqual(proc.returncode, 0, out + proc.stderr.decode())
        self.assertIn("fsa: connection OK (logged in (user/password login) and out, "
                      "firmware v4.4.3", out)
        self.assertEqual(self.calls(), ["/jsonrpc /sys/login/user", "/jsonrpc /sys/status",
                                        "/jsonrpc /sys/logout"])
        self.assert_no_secret(proc.stdout, proc.stderr)

    def test_connection_refused_credentials(self):
        conf = self.config(APIPassword="wrong-password-1")
        proc = tmtest.run("test", "-c", conf, "fsa")
        out = proc.stdout.decode()
        self.assertEqual(proc.returncode, 1, out)
        self.assertIn("fsa: connection failed (login failed: code -11 WRONG_CREDENTIAL)", out)
        self.assertNotIn("wrong-password-1", out + proc.stderr.decode())

    def test_apiurl_required(self):
        conf = self.config(APIURL=None)
        proc = tmtest.run("-n", "-c", conf)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("APIURL is required for FortiSandbox (no default address)",
                      proc.stderr.decode() + proc.stdout.decode())


if __name__ == "__main__":
    tmtest.run_tests(__name__)
