#!/usr/bin/env python3
"""`threatmilter scan` with lookups against the mock providers: the
verdict of each of the five providers for malicious / suspicious / clean /
unknown indicators, errors turned into results (5xx, 429, quota, hang,
bad JSON, bad certificate), every lookup of a message in flight at once,
and provider calls == distinct (integration, indicator) pairs thanks to
single-flight and the cache. Nothing here measures time.

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402


def message(body, received_ip="192.0.2.10", attachment=None):
    parts = ["Received: from a.example (a.example [%s]) by mx.example.net with ESMTP id 1;"
             " Tue, 2 Jan 2024 10:00:00 +0000" % received_ip,
             "From: a@example.net", "To: b@example.com", "Subject: test",
             "MIME-Version: 1.0"]
    if attachment is None:
        parts += ["Content-Type: text/plain", "", body, ""]
    else:
        name, data = attachment
        import base64
        parts += ['Content-Type: multipart/mixed; boundary="b1"', "", "--b1",
                  "Content-Type: text/plain", "", body, "--b1",
                  "Content-Type: application/octet-stream",
                  'Content-Disposition: attachment; filename="%s"' % name,
                  "Content-Transfer-Encoding: base64", "",
                  base64.b64encode(data).decode(), "--b1--", ""]
    return "\r\n".join(parts).encode()


EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


class ScanLookups(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        self.n = 0

    def write(self, data):
        self.n += 1
        path = os.path.join(self.dir, "m%d.eml" % self.n)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def scan(self, *datas, integrations=None, main=None, overrides=None):
        kw = {}
        if integrations is not None:
            kw["integrations"] = integrations
        conf = tmtest.write_config(self.dir, self.mocks, main=main, overrides=overrides, **kw)
        files = [self.write(d) for d in datas]
        objs, proc = tmtest.scan(conf, *files)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        for secret in tmtest.SECRETS:
            self.assertNotIn(secret.encode(), proc.stdout)
            self.assertNotIn(secret.encode(), proc.stderr)
        return objs

    def requests_for(self, provider, indicator):
        return [r for r in self.mocks.requests(provider) if r["indicator"] == indicator]

    def lookup(self, obj, integration, indicator):
        found = [l for l in obj["lookups"]
                 if l["integration"] == integration and l["indicator"] == indicator]
        self.assertEqual(len(found), 1, "%s %s in %s" % (integration, indicator, obj["lookups"]))
        return found[0]

    # ---------------------------------------------------------- verdicts

    def test_virustotal_url_ip_hash(self):
        objs = self.scan(message("http://malicious.example/x http://fine.example/ "
                                 "http://notfound.example/", received_ip="203.0.113.50",
                                 attachment=("eicar.com", EICAR)),
                         integrations=["virustotal"],
                         overrides={"virustotal": {"Attachments": "yes"}})
        obj = objs[0]
        self.assertEqual(self.lookup(obj, "virustotal", "http://malicious.example/x")["result"],
                         "malicious")
        self.assertEqual(self.lookup(obj, "virustotal", "http://fine.example/")["result"], "clean")
        self.assertEqual(self.lookup(obj, "virustotal", "http://notfound.example/")["result"],
                         "unknown")
        ip = self.lookup(obj, "virustotal", "203.0.113.50")
        self.assertEqual(ip["result"], "malicious")
        self.assertIn("/", ip["details"])		# "12/93"-style engine counts
        eicar = self.lookup(obj, "virustotal",
                            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")
        self.assertEqual(eicar["result"], "malicious")
        self.assertEqual(obj["verdict"], "malicious")
        # the URL id in the path is unpadded base64url, as VirusTotal requires
        paths = [r["path"] for r in self.mocks.requests("virustotal")]
        self.assertTrue(any(p.startswith("/api/v3/urls/") and "=" not in p for p in paths), paths)

    def test_virustotal_threshold(self):
        objs = self.scan(message("http://malicious.example/x"), integrations=["virustotal"],
                         overrides={"virustotal": {"DetectionThreshold": "50"}})
        # 12 engines < 50: not malicious any more
        self.assertNotEqual(self.lookup(objs[0], "virustotal",
                                        "http://malicious.example/x")["result"], "malicious")

    def test_safe_browsing_batches_all_urls(self):
        urls = " ".join("http://host%d.example/" % i for i in range(30))
        objs = self.scan(message("http://login-example.test/verify " + urls),
                         integrations=["safebrowsing"])
        obj = objs[0]
        hit = self.lookup(obj, "safebrowsing", "http://login-example.test/verify")
        self.assertEqual(hit["result"], "malicious")
        self.assertIn("SOCIAL_ENGINEERING", hit["details"])
        self.assertEqual(self.lookup(obj, "safebrowsing", "http://host7.example/")["result"],
                         "clean")
        # 31 URLs, one threatMatches:find request
        self.assertEqual(self.mocks.stats()["by_provider"].get("google-safe-browsing"), 1)
        # regression: curl's "Expect: 100-continue" on a POST over 1 KiB
        # stalled every batch for a second
        for r in self.mocks.requests("google-safe-browsing"):
            headers = r["headers"]
            names = {k.lower() for k in headers} if isinstance(headers, dict) else \
                {h[0].lower() for h in headers}
            self.assertNotIn("expect", names)

    def test_web_risk_one_request_per_url(self):
        objs = self.scan(message("http://login-example.test/verify http://ok.example/"),
                         integrations=["webrisk"])
        obj = objs[0]
        self.assertEqual(self.lookup(obj, "webrisk", "http://login-example.test/verify")["result"],
                         "malicious")
        self.assertEqual(self.lookup(obj, "webrisk", "http://ok.example/")["result"], "clean")
        reqs = self.mocks.requests("google-web-risk")
        self.assertEqual(len(reqs), 2)
        self.assertTrue(all("threatTypes=" in r["path"] for r in reqs))

    def test_xforce(self):
        objs = self.scan(message("http://login-example.test/verify http://notfound.example/",
                                 received_ip="203.0.113.7"), integrations=["xforce"])
        obj = objs[0]
        self.assertEqual(self.lookup(obj, "xforce", "203.0.113.7")["result"], "malicious")
        self.assertEqual(self.lookup(obj, "xforce", "http://login-example.test/verify")["result"],
                         "malicious")
        self.assertEqual(self.lookup(obj, "xforce", "http://notfound.example/")["result"],
                         "unknown")

    def test_metadefender(self):
        objs = self.scan(message("http://a.malicious.example/x?y=1 https://www.example.com/ "
                                 "http://notfound.example/", received_ip="192.0.2.66",
                                 attachment=("eicar.com", EICAR)),
                         integrations=["metadefender"])
        obj = objs[0]
        ip = self.lookup(obj, "metadefender", "192.0.2.66")
        self.assertEqual((ip["result"], ip["details"]), ("malicious", "detected by 3"))
        self.assertEqual(self.lookup(obj, "metadefender", "http://a.malicious.example/x?y=1")
                         ["result"], "malicious")
        self.assertEqual(self.lookup(obj, "metadefender", "https://www.example.com/")["result"],
                         "clean")
        # no reputation source has an entry: unknown, not clean
        self.assertEqual(self.lookup(obj, "metadefender", "http://notfound.example/")["result"],
                         "unknown")
        eicar = self.lookup(obj, "metadefender",
                            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")
        self.assertEqual(eicar["result"], "malicious")
        self.assertRegex(eicar["details"], r"^Infected \d+/38$")
        self.assertEqual(obj["verdict"], "malicious")
        reqs = self.mocks.requests("opswat-metadefender")
        # the URL went as one encoded path segment, the key only in its header
        self.assertIn("/v4/url/http%3A%2F%2Fa.malicious.example%2Fx%3Fy%3D1",
                      [r["path"] for r in reqs])
        self.assertTrue(all(r["headers"]["apikey"] == "<redacted>" for r in reqs))
        # looked up by hash, never uploaded
        self.assertFalse([r for r in reqs if r["method"] == "POST"])

    def test_spamhaus_zen_and_dbl(self):
        objs = self.scan(message("http://www.phish.example/login", received_ip="203.0.113.7"),
                         message("hello", received_ip="203.0.113.9"),
                         message("hello", received_ip="203.0.113.11"),
                         integrations=["spamhaus"])
        sbl = self.lookup(objs[0], "spamhaus", "203.0.113.7")
        self.assertEqual(sbl["result"], "malicious")
        self.assertIn("SBL", sbl["details"])
        self.assertIn("XBL", sbl["details"])
        self.assertEqual(self.lookup(objs[0], "spamhaus", "www.phish.example")["result"],
                         "malicious")
        # PBL only: suspicious, not malicious
        self.assertEqual(self.lookup(objs[1], "spamhaus", "203.0.113.9")["result"], "suspicious")
        # 127.255.255.254 is an error of the query, never a listing
        self.assertEqual(self.lookup(objs[2], "spamhaus", "203.0.113.11")["result"], "error")
        self.assertEqual(objs[2]["verdict"], "unknown")

    # ---------------------------------------------------------- failures

    def test_suspicious_for_each_http_provider(self):
        url = "http://suspicious.example/offer"
        objs = self.scan(message(url, received_ip="10.0.0.1"),
                         integrations=["virustotal", "safebrowsing", "webrisk", "xforce",
                                       "metadefender"])
        for name in ("virustotal", "safebrowsing", "webrisk", "xforce", "metadefender"):
            with self.subTest(provider=name):
                self.assertEqual(self.lookup(objs[0], name, url)["result"], "suspicious")
        self.assertEqual(objs[0]["verdict"], "suspicious")

    def test_errors_become_results(self):
        providers = {"virustotal": "virustotal", "safebrowsing": "google-safe-browsing",
                     "webrisk": "google-web-risk", "xforce": "ibm-xforce",
                     "metadefender": "opswat-metadefender"}
        cases = [("status5xx", {"status": 503}, "error"),
                 ("ratelimit", {}, "rate_limited"),
                 ("quota", {}, "rate_limited"),
                 ("malformed", {}, "error"),
                 ("truncated", {}, "error"),
                 ("disconnect", {}, "error"),
                 ("badkey", {}, "error")]
        for name, mock_name in providers.items():
            for mode, extra, expected in cases:
                with self.subTest(provider=name, mode=mode):
                    self.mocks.reset()
                    self.mocks.fault(mock_name, mode, **extra)
                    objs = self.scan(message("http://fine.example/", received_ip="10.0.0.1"),
                                     integrations=[name])
                    got = self.lookup(objs[0], name, "http://fine.example/")
                    self.assertEqual(got["result"], expected, got)
                    self.assertEqual(objs[0]["verdict"], "unknown")

    def test_circuit_breaker_opens(self):
        self.mocks.fault("virustotal", "status5xx", status=500)
        datas = [message("http://fine%d.example/" % i, received_ip="10.0.0.1")
                 for i in range(12)]
        objs = self.scan(*datas, integrations=["virustotal"])
        results = [o["lookups"][0] for o in objs]
        self.assertTrue(all(r["result"] == "error" for r in results))
        # after repeated failures the integration is not asked any more
        # (an error, so that On-ProviderError applies; recovery after the
        # cool-down is covered by the unit test of breaker.c)
        self.assertTrue(all(r["details"] == "circuit open" for r in results[-3:]), results[-3:])
        self.assertLess(self.mocks.stats()["by_provider"]["virustotal"], 2 * len(datas))

    def test_5xx_is_retried_once(self):
        self.mocks.fault("virustotal", "status5xx", status=503, count=1)
        objs = self.scan(message("http://fine.example/", received_ip="10.0.0.1"),
                         integrations=["virustotal"])
        self.assertEqual(self.lookup(objs[0], "virustotal", "http://fine.example/")["result"],
                         "clean")
        self.assertEqual(len(self.requests_for("virustotal", "http://fine.example/")), 2)

    def test_quota_is_not_retried(self):
        self.mocks.fault("xforce", "quota")
        objs = self.scan(message("http://fine.example/", received_ip="10.0.0.1"),
                         integrations=["xforce"])
        self.assertEqual(self.lookup(objs[0], "xforce", "http://fine.example/")["result"],
                         "rate_limited")
        self.assertEqual(self.mocks.stats()["by_provider"]["ibm-xforce"], 1)

    def test_quota_pause_follows_the_provider(self):
        """Paused as long as the provider says: Retry-After, else
        MetaDefender's X-RateLimit-Reset-In (the mock: 3600 s), else 60 s."""
        for name, mock_name, seconds in (("metadefender", "opswat-metadefender", 3600),
                                         ("xforce", "ibm-xforce", 60)):
            with self.subTest(provider=name):
                self.mocks.reset()
                self.mocks.fault(mock_name, "quota")
                conf = tmtest.write_config(self.dir, self.mocks, integrations=[name])
                objs, proc = tmtest.scan(conf, self.write(message("http://a.example/",
                                                                  received_ip="10.0.0.1")),
                                         self.write(message("http://b.example/",
                                                            received_ip="10.0.0.1")))
                self.assertEqual(proc.returncode, 0, proc.stderr.decode())
                self.assertIn("pausing it for %d s" % seconds, proc.stderr.decode())
                # the second message asks nothing while the integration rests
                self.assertEqual(self.lookup(objs[1], name, "http://b.example/")["result"],
                                 "error")
                self.assertEqual(self.mocks.stats()["by_provider"][mock_name], 1)

    def test_connection(self):
        """`threatmilter test`: one real request per integration, a line
        each, exit 1 when one fails, never a key in the output."""
        every = ["spamhaus", "virustotal", "safebrowsing", "webrisk", "xforce", "metadefender"]
        conf = tmtest.write_config(self.dir, self.mocks, integrations=every,
                                   overrides={"xforce": {"Status": "inactive"}})
        proc = tmtest.run("test", "-c", conf)
        out = proc.stdout.decode()
        self.assertEqual(proc.returncode, 0, out + proc.stderr.decode())
        for name in every:     # inactive ones too: testing comes before switching on
            self.assertRegex(out, r"(?m)^%s: connection OK \(" % name)
        self.assertIn("spamhaus: connection OK (ip 127.0.0.2: malicious", out)
        self.assertEqual(self.mocks.stats()["by_provider"].get("virustotal"), 1)

        self.mocks.reset()
        self.mocks.fault("virustotal", "badkey")
        self.mocks.fault("opswat-metadefender", "quota")
        proc = tmtest.run("test", "-c", conf, "virustotal", "metadefender", "webrisk")
        out = proc.stdout.decode()
        self.assertEqual(proc.returncode, 1, out)
        self.assertEqual(out.splitlines()[0][:len("virustotal: connection failed (ip 8.8.8.8: error,")],
                         "virustotal: connection failed (ip 8.8.8.8: error,")
        self.assertIn("metadefender: connection failed (ip 8.8.8.8: rate_limited", out)
        self.assertRegex(out, r"(?m)^webrisk: connection OK")
        self.assertNotIn("xforce", out)        # only the named ones
        for secret in tmtest.SECRETS:
            self.assertNotIn(secret, out + proc.stderr.decode())

        proc = tmtest.run("test", "-c", conf, "nosuch")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no integration named 'nosuch'", proc.stderr.decode())

    def test_hang_ends_at_the_deadline(self):
        self.mocks.fault("webrisk", "hang")
        objs = self.scan(message("http://fine.example/"), integrations=["webrisk", "xforce"],
                         main={"ScanDeadline": "1500ms"},
                         overrides={"webrisk": {"Timeout": "30s"}})
        self.assertEqual(self.lookup(objs[0], "webrisk", "http://fine.example/")["result"],
                         "error")
        # the other provider still counts
        self.assertEqual(self.lookup(objs[0], "xforce", "http://fine.example/")["result"],
                         "clean")
        self.assertEqual(objs[0]["verdict"], "clean")

    def test_tls_verification_is_on(self):
        bad = "https://127.0.0.1:%d/api/v3" % self.mocks.http["bad_https"]
        objs = self.scan(message("http://fine.example/"), integrations=["virustotal"],
                         overrides={"virustotal": {"APIURL": bad}})
        self.assertEqual(self.lookup(objs[0], "virustotal", "http://fine.example/")["result"],
                         "error")
        self.assertEqual(self.mocks.stats()["total"], 0)

    def test_inactive_and_toggles(self):
        objs = self.scan(message("http://fine.example/", received_ip="203.0.113.50"),
                         integrations=["virustotal", "xforce"],
                         overrides={"virustotal": {"Status": "inactive"},
                                    "xforce": {"URLs": "no"}})
        kinds = {(l["integration"], l["kind"]) for l in objs[0]["lookups"]}
        self.assertNotIn("virustotal", {k[0] for k in kinds})
        self.assertEqual(kinds, {("xforce", "ip")})

    def test_hide_url_parameters_looks_up_the_domain(self):
        objs = self.scan(message("https://www.malicious.example/login?user=bob"),
                         integrations=["virustotal"],
                         overrides={"virustotal": {"HideURLParameters": "yes"}})
        self.assertEqual(self.lookup(objs[0], "virustotal", "www.malicious.example")["kind"],
                         "domain")
        for r in self.mocks.requests("virustotal"):
            self.assertNotIn("user=bob", r["path"])

    # ---------------------------------------------------------- concurrency

    def test_all_lookups_of_a_message_in_flight_at_once(self):
        self.mocks.fault("*", "delay", ms=1500)
        objs = self.scan(message("http://a.example/ http://b.example/", received_ip="203.0.113.50"),
                         integrations=["virustotal", "webrisk", "xforce"])
        # 3 VT + 2 Web Risk + 3 X-Force requests, all being answered together
        self.assertEqual(len(objs[0]["lookups"]), 8)
        self.assertGreaterEqual(self.mocks.stats()["max_concurrent"], 8)

    def test_calls_equal_distinct_pairs(self):
        pool = ["http://shared%d.example/" % i for i in range(5)]
        datas = []
        for i in range(12):
            body = " ".join([pool[i % 5], pool[(i + 1) % 5], "http://own%d.example/" % (i % 3)])
            datas.append(message(body, received_ip="203.0.113.%d" % (60 + i % 4)))
        objs = self.scan(*datas, integrations=["virustotal", "xforce", "webrisk"])
        pairs = {(l["integration"], l["indicator"]) for o in objs for l in o["lookups"]}
        total_lookups = sum(len(o["lookups"]) for o in objs)
        self.assertGreater(total_lookups, len(pairs))
        self.assertEqual(self.mocks.stats()["total"], len(pairs))
        cached = sum(1 for o in objs for l in o["lookups"] if l["cached"])
        self.assertEqual(cached, total_lookups - len(pairs))

    def test_cache_max_hits(self):
        datas = [message("http://fine.example/", received_ip="10.0.0.1") for _ in range(4)]
        self.scan(*datas, integrations=["virustotal"],
                  overrides={"virustotal": {"CacheMaxHits": "1"}})
        # ask, hit, ask again, hit
        self.assertEqual(self.mocks.stats()["by_provider"]["virustotal"], 2)

    def test_errors_are_not_cached(self):
        self.mocks.fault("virustotal", "status5xx", status=500, count=2)
        objs = self.scan(message("http://fine.example/", received_ip="10.0.0.1"),
                         message("http://fine.example/", received_ip="10.0.0.1"),
                         integrations=["virustotal"])
        self.assertEqual(self.lookup(objs[0], "virustotal", "http://fine.example/")["result"],
                         "error")
        second = self.lookup(objs[1], "virustotal", "http://fine.example/")
        self.assertEqual(second["result"], "clean")
        self.assertFalse(second["cached"])


if __name__ == "__main__":
    tmtest.run_tests(__name__)
