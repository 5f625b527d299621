#!/usr/bin/env python3
"""`threatmilterctl apivoid` against the mock APIVoid (v1 and v2): every
action's success path with the seed's messages word for word, the seed's
JSON shape, the at-or-above threshold, screenshots written safely, and
the failures (refused key, no credits, 5xx, no answer) with their exit
status. The key never appears in the output.

Run by `make check` through run-ctl.sh (TM_BINARY, TM_SRCDIR)."""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

AV_KEY = "test-apivoid-key"
CTL = os.environ.get("TM_CTL") or os.path.join(os.path.dirname(tmtest.BINARY), "threatmilterctl")


class CtlAPIVoid(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)
        cls.conf = tmtest.write_config(cls.dir, cls.mocks, integrations=())
        idir = os.path.join(os.path.dirname(cls.conf), "integrations.d")
        root = "https://127.0.0.1:%d" % cls.mocks.http["https"]
        for name, extra in (("apivoid", ""), ("apivoid-v2", "APIVersion v2\n"),
                            ("apivoid-badkey", "Status inactive\n")):
            key = "wrong-key-0123456789" if name == "apivoid-badkey" else AV_KEY
            with open(os.path.join(idir, name + ".conf"), "w") as f:
                f.write("Name %s\nType apivoid\nAPIURL %s\nAPIKey %s\nTimeout 2s\n%s"
                        % (name, root, key, extra))

    @classmethod
    def tearDownClass(cls):
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.mocks.reset()

    def ctl(self, *args, rc=0, cwd=None):
        proc = subprocess.run([CTL, "-c", self.conf, "apivoid", *args], capture_output=True,
                              timeout=60, cwd=cwd)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        self.assertEqual(proc.returncode, rc, out + err)
        self.assertNotIn(AV_KEY, out + err)
        return out

    # ---------------------------------------------------------- success

    def test_ip_reputation(self):
        out = self.ctl("ip", "203.0.113.7", "198.18.0.1", "--threshold", "1")
        lines = out.splitlines()
        self.assertEqual(lines[0], "APIVoid: Fetched reputation for the following entities: "
                                   "203.0.113.7")
        self.assertEqual(lines[1], "Can not found reputation for the following entities: "
                                   "198.18.0.1")
        self.assertIn("  203.0.113.7 (suspicious): ", out)	# 1 detection >= 1
        self.assertIn("APIVoid_detections=1", out)
        self.assertIn("APIVoid_country_code=NL", out)
        out = self.ctl("ip", "203.0.113.7", "--threshold", "2")
        self.assertNotIn("(suspicious)", out)				# 1 < 2

    def test_domain_json_shape(self):
        out = self.ctl("domain", "https://Malicious.Example:8443/path", "example.org", "--json")
        results = json.loads(out)
        self.assertEqual([r["Entity"] for r in results],
                         ["https://Malicious.Example:8443/path", "example.org"])
        report = results[0]["EntityResult"]
        self.assertIsInstance(report["blacklists"]["engines"], list)
        self.assertNotIn("elapsed", report["blacklists"]["engines"][0])
        self.assertEqual(report["blacklists"]["detections"], 4)
        # the host went to APIVoid, not the URL (the SecOps code's defect)
        hosts = [r["indicator"] for r in self.mocks.requests("apivoid")]
        self.assertEqual(hosts, ["malicious.example", "example.org"])

    def test_url_reputation(self):
        out = self.ctl("url", "http://suspicious.example/x", "--threshold", "70")
        self.assertTrue(out.startswith("APIVoid: Fetched reputation for the following entities: "
                                       "http://suspicious.example/x\n"), out)
        self.assertIn("(suspicious)", out)
        self.assertIn("APIVoid_risk_score=75", out)
        out = self.ctl("url")
        self.assertEqual(out, "APIVoid: No URLs found.\n")

    def test_url_default_threshold_is_the_risk_band(self):
        # without --threshold, a 0-100 risk score is not compared with
        # DetectionThreshold (an engine count, default 1)
        out = self.ctl("url", "https://clean.example/")
        self.assertIn("APIVoid_risk_score=10", out)
        self.assertNotIn("(suspicious)", out)
        self.assertIn("(suspicious)", self.ctl("url", "http://suspicious.example/x"))

    def test_verify_email_v2(self):
        out = self.ctl("--integration", "apivoid-v2", "email", "bob@mailinator.com", "nobody",
                       "--threshold", "5")
        self.assertTrue(out.startswith("APIVoid: Fetched information for the following "
                                       "entities: bob@mailinator.com\n"), out)
        self.assertIn("APIVoid_disposable=true", out)
        self.assertIn("APIVoid_should_block=true", out)
        self.assertEqual([r["method"] for r in self.mocks.requests("apivoid")], ["POST"])
        self.assertEqual(self.ctl("email", "nobody"), "APIVoid: No emails found.\n")

    def test_screenshot_written_safely(self):
        work = os.path.join(self.dir, "shots")
        os.makedirs(work, exist_ok=True)
        out = self.ctl("screenshot", "https://example.org/a/../b?x=1", "--output-dir", work)
        self.assertIn("APIVoid: Added screenshots for the following entities: "
                      "https://example.org/a/../b?x=1", out)
        names = os.listdir(work)
        self.assertEqual(names, ["example.org_a_.._b_x_1_capture.png"])
        with open(os.path.join(work, names[0]), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        # an existing file (or a link planted there) is never overwritten
        self.ctl("screenshot", "https://example.org/a/../b?x=1", "--output-dir", work, rc=1)
        self.assertEqual(self.ctl("screenshot"),
                         "APIVoid: No URL entities found for capturing screenshots.\n")

    def test_f10_screenshot_names_unique_and_exact_report(self):
        """F10 (breaker): http:// and https:// of one URL mapped to one file
        name, the second write failed, the loop stopped (b.example never
        written) and the seed's message named all three as added. Now each
        entity has its own file, a failure does not stop the others, and
        the messages name exactly what was written and what was not."""
        work = os.path.join(self.dir, "f10-shots")
        os.makedirs(work)
        urls = ["http://a.example/x", "https://a.example/x", "http://a.example/x_2",
                "http://b.example/"]
        out = self.ctl("screenshot", *urls, "--output-dir", work)
        self.assertEqual(out.splitlines()[0],
                         "APIVoid: Added screenshots for the following entities: " +
                         ", ".join(urls))
        self.assertEqual(sorted(os.listdir(work)),
                         ["a.example_x_2_2_capture.png", "a.example_x_2_capture.png",
                          "a.example_x_capture.png", "b.example__capture.png"])
        again = os.path.join(self.dir, "f10-again")
        os.makedirs(again)
        with open(os.path.join(again, "b.example__capture.png"), "w") as f:
            f.write("planted")
        proc = subprocess.run([CTL, "-c", self.conf, "apivoid", "screenshot",
                               "http://a.example/x", "http://b.example/", "http://c.example/",
                               "--output-dir", again], capture_output=True, timeout=60)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        self.assertEqual(proc.returncode, 1, out + err)
        self.assertEqual(out.splitlines()[:2], [
            "APIVoid: Added screenshots for the following entities: http://a.example/x, "
            "http://c.example/",
            "Failed to add screenshots as attachments on the following entities: "
            "http://b.example/"])
        self.assertIn("b.example__capture.png: File exists", err)
        self.assertEqual(sorted(os.listdir(again)), ["a.example_x_capture.png",
                                                     "b.example__capture.png",
                                                     "c.example__capture.png"])
        with open(os.path.join(again, "b.example__capture.png")) as f:
            self.assertEqual(f.read(), "planted")

    def test_f9_provider_text_cannot_drive_the_terminal(self):
        """F9 (breaker): values of the answer (a hostile PTR record) were
        printed raw, escape sequences and all. Text output has no control
        character but its newlines; --json escapes them (C1 too) and still
        gives the value back exactly."""
        import http.server
        import threading
        esc = "\x1b]0;owned\x07\x1b[2J\x1b[31mFAKE\x1b[0m\u009b31m\u202e"
        body = json.dumps({"credits_remained": 10, "success": True, "data": {"report": {
            "ip": "203.0.113.9", "blacklists": {"engines": {}, "detections": 0,
                                                "engines_count": 80, "detection_rate": "0%"},
            "information": {"reverse_dns": "mail." + esc + ".example", "isp": "Telefónica",
                            "x\x1b[2Jkey": "v"},
            "anonymity": {"is_proxy": False}}}}).encode()

        class Hostile(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Hostile)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        conf_dir = os.path.join(self.dir, "f9")
        os.makedirs(os.path.join(conf_dir, "integrations.d"))
        conf = os.path.join(conf_dir, "threatmilter.conf")
        with open(conf, "w") as f:
            f.write("Syslog no\n")
        with open(os.path.join(conf_dir, "integrations.d", "evil.conf"), "w") as f:
            f.write("Name evil\nType apivoid\nAPIURL http://127.0.0.1:%d\nAPIKey %s\n"
                    % (server.server_address[1], AV_KEY))
        try:
            for extra in ([], ["--json"]):
                proc = subprocess.run([CTL, "-c", conf, "apivoid", "ip", "203.0.113.9"] + extra,
                                      capture_output=True, timeout=60)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                text = proc.stdout.decode()
                # cJSON indents with tabs
                self.assertIsNone(re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", text),
                                  repr(text))
                if extra:
                    report = json.loads(text)[0]["EntityResult"]
                    self.assertEqual(report["information"]["reverse_dns"],
                                     "mail." + esc + ".example")
                else:
                    self.assertIn("APIVoid_reverse_dns=mail. ]0;owned", text)
                    self.assertIn("APIVoid_isp=Telefónica", text)
        finally:
            server.shutdown()
            server.server_close()

    def test_ping(self):
        self.assertEqual(self.ctl("ping"), "Connected successfully.\n")
        self.assertIn("stats", self.mocks.requests("apivoid")[0]["path"])

    # ---------------------------------------------------------- failures

    def test_refused_key_fails_the_action(self):
        out = self.ctl("--integration", "apivoid-badkey", "ip", "203.0.113.7", rc=1)
        self.assertEqual(out, 'Error executing action "APIVoid - Get Ip Reputation". '
                              'Reason: API key is invalid.\n')
        out = self.ctl("--integration", "apivoid-badkey", "ping", rc=1)
        self.assertEqual(out, 'Error executing action "APIVoid - Ping". '
                              'Reason: API key is invalid.\n')

    def test_no_credits_fails_the_action(self):
        self.mocks.fault("apivoid", "quota")
        out = self.ctl("domain", "example.org", rc=1)
        self.assertEqual(out, 'Error executing action "APIVoid - Get Domain Reputation". '
                              'Reason: You have 0 credits remained\n')

    def test_5xx_marks_the_entity_failed(self):
        self.mocks.fault("apivoid", "status5xx", status=503, count=2)	# both attempts
        out = self.ctl("ip", "192.0.2.10", "203.0.113.7")
        self.assertEqual(out.splitlines()[:2], [
            "APIVoid: Fetched reputation for the following entities: 203.0.113.7",
            "An error occurred on the following entities: 192.0.2.10"])

    def test_no_answer_fails_the_action(self):
        self.mocks.fault("apivoid", "delay", ms=3000)
        out = self.ctl("ip", "192.0.2.10", rc=1)
        self.assertTrue(out.startswith('Error executing action "APIVoid - Get Ip Reputation". '
                                       'Reason: '), out)

    def test_usage_errors(self):
        self.ctl("nosuch", "x", rc=2)
        self.ctl("--integration", "nosuch", "ping", rc=2)
        # F11: a threshold that is no number is a usage error (exit 2, as
        # threatmilterctl(8) says), found before any request
        self.ctl("ip", "1.2.3.4", "--threshold", "abc", rc=2)
        self.assertEqual(self.mocks.requests("apivoid"), [])


if __name__ == "__main__":
    tmtest.run_tests(__name__)
