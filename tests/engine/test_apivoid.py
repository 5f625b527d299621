#!/usr/bin/env python3
"""`threatmilter scan` with APIVoid (v1 and v2) and Cyber X-Ray integrations
against the mock providers (tests/mock/mock_apivoid.py, mock_cyberxray.py):
malicious / suspicious / clean / unknown per indicator kind (sender IP,
URL, URL host, From:/Reply-To: address), a refused key, no credits,
5xx, malformed answers and timeouts, the credits warning, Cyber X-Ray's
host-only requests and its pending answers (polled as a job: a second
message joins it; the polls, the cached final verdict and the job timeout
are in tests/unit/test_provider_cyberxray_jobs.c, fake clock: scan does
not wait for a job).

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

AV_KEY = "test-apivoid-key"
CX_KEY = "test-cyberxray-key"


def message(urls="", received_ip="192.0.2.10", sender="a@example.net", reply_to=None):
    parts = ["Received: from a.example (a.example [%s]) by mx.example.net with ESMTP id 1;"
             " Tue, 2 Jan 2024 10:00:00 +0000" % received_ip,
             "From: Someone <%s>" % sender, "To: b@example.com", "Subject: test",
             "MIME-Version: 1.0", "Content-Type: text/plain"]
    if reply_to:
        parts.append("Reply-To: %s" % reply_to)
    return "\r\n".join(parts + ["", "see " + urls, ""]).encode()


def integration_file(conf, name, fields):
    path = os.path.join(os.path.dirname(conf), "integrations.d", name + ".conf")
    with open(path, "w") as f:
        f.write("Name %s\n" % name)
        for k, v in fields.items():
            f.write("%s %s\n" % (k, v))


class APIVoidScan(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        self.n = 0

    def root(self):
        return "https://127.0.0.1:%d" % self.mocks.http["https"]

    def scan(self, *datas, apivoid=None, cyberxray=None, expect_rc=0):
        conf = tmtest.write_config(self.dir, self.mocks, integrations=())
        if apivoid is not None:
            fields = {"Type": "apivoid", "APIURL": self.root(), "APIKey": AV_KEY,
                      "URLs": "yes", "Timeout": "3s"}
            fields.update(apivoid)
            integration_file(conf, "apivoid", fields)
        if cyberxray is not None:
            fields = {"Type": "cyberxray", "APIURL": self.root() + "/api/query/",
                      "APIKey": CX_KEY}
            fields.update(cyberxray)
            integration_file(conf, "cyberxray", fields)
        files = []
        for data in datas:
            self.n += 1
            files.append(os.path.join(self.dir, "m%d.eml" % self.n))
            with open(files[-1], "wb") as f:
                f.write(data)
        objs, proc = tmtest.scan(conf, *files)
        self.assertEqual(proc.returncode, expect_rc, proc.stderr.decode())
        for secret in (AV_KEY, CX_KEY):
            self.assertNotIn(secret.encode(), proc.stdout)
            self.assertNotIn(secret.encode(), proc.stderr)
        self.stderr = proc.stderr.decode()
        return objs

    def result(self, obj, indicator, integration="apivoid", kind=None):
        found = [l for l in obj["lookups"] if l["integration"] == integration and
                 l["indicator"] == indicator and kind in (None, l["kind"])]
        self.assertEqual(len(found), 1, "%s in %s" % (indicator, obj["lookups"]))
        return found[0]["result"], found[0].get("details", "")

    def matrix(self, apivoid):
        obj = self.scan(message("http://malicious.example/a http://suspicious.example/b "
                                "http://www.example.com/ http://unknown.example/c",
                                received_ip="203.0.113.7", sender="bob@mailinator.com",
                                reply_to="Alice <alice@Example.COM>"), apivoid=apivoid)[0]
        want = {
            ("ip", "203.0.113.7"): "suspicious",		# 1 detection >= 1, < 3
            ("url", "http://malicious.example/a"): "malicious",	# risk 100
            ("url", "http://suspicious.example/b"): "suspicious",	# risk 75
            ("url", "http://www.example.com/"): "clean",		# risk 10
            ("url", "http://unknown.example/c"): "unknown",	# empty report
            ("domain", "malicious.example"): "malicious",	# 4 detections
            ("domain", "suspicious.example"): "suspicious",
            ("domain", "www.example.com"): "clean",
            ("domain", "unknown.example"): "unknown",
            ("email", "bob@mailinator.com"): "malicious",	# disposable
            ("email", "alice@example.com"): "clean",
        }
        for (kind, indicator), status in want.items():
            self.assertEqual(self.result(obj, indicator, kind=kind)[0], status,
                             "%s %s" % (kind, indicator))
        self.assertEqual(obj["verdict"], "malicious")
        # From: and Reply-To:, the domain lower-cased
        self.assertEqual(sorted(obj["facts"]["emails"]), ["alice@example.com", "bob@mailinator.com"])
        return obj

    # ---------------------------------------------------------- verdicts

    def test_v1_matrix(self):
        self.matrix({})
        reqs = self.mocks.requests("apivoid")
        self.assertTrue(reqs)
        for r in reqs:
            self.assertEqual(r["method"], "GET")
            self.assertRegex(r["path"], r"^/(iprep|domainbl|urlrep|emailverify)/v1/pay-as-you-go/")
            self.assertNotIn(AV_KEY, r["path"])

    def test_v2_matrix(self):
        self.matrix({"APIVersion": "v2"})
        reqs = self.mocks.requests("apivoid")
        self.assertTrue(reqs)
        for r in reqs:
            self.assertEqual(r["method"], "POST")
            self.assertTrue(r["path"].startswith("/v2/"), r["path"])
            self.assertEqual(r["headers"]["x-api-key"], "<redacted>")

    def test_toggles(self):
        obj = self.scan(message("http://malicious.example/a", received_ip="203.0.113.7",
                                sender="bob@mailinator.com"),
                        apivoid={"URLs": "no", "Domains": "no", "SenderIP": "no",
                                 "EmailAddresses": "yes"})[0]
        self.assertEqual([(l["kind"], l["indicator"]) for l in obj["lookups"]],
                         [("email", "bob@mailinator.com")])
        obj = self.scan(message("http://malicious.example/a", sender="bob@mailinator.com"),
                        apivoid={"URLs": "yes", "HideURLParameters": "yes",
                                 "EmailAddresses": "no", "SenderIP": "no"})[0]
        # HideURLParameters: the host once, never the URL
        self.assertEqual([(l["kind"], l["indicator"]) for l in obj["lookups"]],
                         [("domain", "malicious.example")])

    def test_threshold_at_or_above(self):
        obj = self.scan(message("", received_ip="203.0.113.7"),
                        apivoid={"DetectionThreshold": "2", "EmailAddresses": "no"})[0]
        self.assertEqual(self.result(obj, "203.0.113.7")[0], "clean")	# 1 < 2
        obj = self.scan(message("", received_ip="203.0.113.9"),
                        apivoid={"MaliciousThreshold": "5", "EmailAddresses": "no"})[0]
        self.assertEqual(self.result(obj, "203.0.113.9")[0], "suspicious")	# 4 < 5

    # ------------------------------------------------------------ errors

    def errored(self, mode, expect_result, detail, apivoid=None, **kw):
        self.mocks.fault("apivoid", mode, **kw)
        fields = {"EmailAddresses": "no", "URLs": "no", "Domains": "no"}
        fields.update(apivoid or {})
        obj = self.scan(message("", received_ip="192.0.2.10"), apivoid=fields)[0]
        result, details = self.result(obj, "192.0.2.10")
        self.assertEqual(result, expect_result, details)
        self.assertIn(detail, details)
        self.assertNotEqual(obj["verdict"], "clean")
        return obj

    def test_v1_bad_key_is_an_error_not_a_verdict(self):
        self.errored("badkey", "error", "API key is not valid")

    def test_v1_no_credits_is_rate_limited(self):
        self.errored("quota", "rate_limited", "0 credits remained")

    def test_v2_bad_key_and_credits(self):
        self.errored("badkey", "error", "HTTP 401", apivoid={"APIVersion": "v2"})
        self.mocks.reset()
        self.errored("quota", "rate_limited", "HTTP 402", apivoid={"APIVersion": "v2"})

    def test_5xx(self):
        self.errored("status5xx", "error", "HTTP 503", status=503)

    def test_malformed(self):
        self.errored("malformed", "error", "malformed")

    def test_timeout(self):
        self.errored("delay", "error", "timeout", ms=2500, apivoid={"Timeout": "1s"})

    def test_wrong_configured_key(self):
        obj = self.scan(message("", received_ip="192.0.2.10"),
                        apivoid={"APIKey": "another-key-12345", "EmailAddresses": "no"})[0]
        self.assertEqual(self.result(obj, "192.0.2.10")[0], "error")

    def test_credits_warning_once(self):
        self.mocks.indicators("apivoid", {"192.0.2.10": "low_credits",
                                          "192.0.2.11": "lower_credits"})
        self.scan(message("", received_ip="192.0.2.10"), message("", received_ip="192.0.2.11"),
                  apivoid={"EmailAddresses": "no"})
        self.assertEqual(self.stderr.count("credits_remained"), 1, self.stderr)
        self.assertIn("credits_remained 99.00, under 100", self.stderr)

    # -------------------------------------------------------- Cyber X-Ray

    def test_cyberxray(self):
        objs = self.scan(message("http://phish.example.net/login?token=s3cret "
                                 "https://www.example.com/ http://unknown.example/ "
                                 "http://new.example.org/"),
                         message("http://phish.example.net/other http://new.example.org/"),
                         cyberxray={})
        obj = objs[0]
        self.assertEqual(self.result(obj, "http://phish.example.net/login?token=s3cret",
                                     "cyberxray")[0], "malicious")
        self.assertEqual(self.result(obj, "https://www.example.com/", "cyberxray")[0], "clean")
        self.assertEqual(self.result(obj, "http://unknown.example/", "cyberxray")[0], "unknown")
        self.assertEqual(self.result(obj, "http://new.example.org/", "cyberxray")[0], "pending")
        self.assertNotEqual(obj["verdict"], "clean")
        paths = [r["path"] for r in self.mocks.requests("cyberxray")]
        # the host only, never the path or parameters
        self.assertIn("/api/query/phish.example.net", paths)
        self.assertFalse([p for p in paths if "token" in p or "login" in p], paths)
        # pending is a job: the second message joins it, no second request
        self.assertEqual(self.result(objs[1], "http://new.example.org/", "cyberxray")[0],
                         "pending")
        self.assertEqual(paths.count("/api/query/new.example.org"), 1, paths)

    def test_cyberxray_bad_key_and_5xx(self):
        obj = self.scan(message("http://phish.example.net/"),
                        cyberxray={"APIKey": "wrong-key-123456"})[0]
        result, details = self.result(obj, "http://phish.example.net/", "cyberxray")
        self.assertEqual((result, details), ("error", "HTTP 401: credentials refused"))
        self.mocks.fault("cyberxray", "status5xx", status=500)
        obj = self.scan(message("http://www.example.com/"), cyberxray={})[0]
        self.assertEqual(self.result(obj, "http://www.example.com/", "cyberxray")[0], "error")


    def test_cyberxray_suspicious_and_faults(self):
        obj = self.scan(message("http://suspicious.example/x"), cyberxray={})[0]
        self.assertEqual(self.result(obj, "http://suspicious.example/x", "cyberxray")[0],
                         "suspicious")
        for mode, kw, want, detail in (("malformed", {}, "error", "malformed"),
                                       ("ratelimit", {}, "rate_limited", "HTTP 429"),
                                       ("delay", {"ms": 2500}, "error", "timeout")):
            self.mocks.reset()
            self.mocks.fault("cyberxray", mode, **kw)
            obj = self.scan(message("http://www.example.com/"), cyberxray={"Timeout": "1s"})[0]
            result, details = self.result(obj, "http://www.example.com/", "cyberxray")
            self.assertEqual(result, want, mode)
            self.assertIn(detail, details, mode)
            self.assertNotEqual(obj["verdict"], "clean", mode)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
