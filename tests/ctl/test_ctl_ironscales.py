#!/usr/bin/env python3
"""`threatmilterctl ironscales` against the mock IRONSCALES AppAPI
(tests/mock/mock_ironscales.py): every action's success path and its
failures (refused token, unknown id, throttle with Retry-After, 5xx), the
seed's messages word for word (../shared/seeds/004_*.txt), its exit
statuses, the JWT reused until refused, paging over two pages, and no
secret (API token, JWT) in any output.

Run by `make check` through tests/ctl/run-ctl.sh (TM_BINARY, TM_SRCDIR)."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

CTL = os.path.join(os.path.dirname(tmtest.BINARY), "threatmilterctl")
KEY = "test-ironscales-key"
PARTNER_KEY = "test-ironscales-partner-key"
SHORT_KEY = "test-ironscales-short-key"
TOKENS = (KEY, PARTNER_KEY, SHORT_KEY, "test-ironscales-other-key")
JWT_PREFIX = "eyJhbGciOiJIUzI1NiJ9."    # every JWT the mock issues

PING_OK = ("Successfully connected to the IRONSCALES server with the provided "
           "connection parameters!\n")


class IronscalesCtl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)
        cls.root = "http://127.0.0.1:%d/" % cls.mocks.http["http"]
        cls.conf_dir = os.path.join(cls.dir, "conf")
        os.makedirs(os.path.join(cls.conf_dir, "integrations.d"))
        cls.config = os.path.join(cls.conf_dir, "threatmilter.conf")
        with open(cls.config, "w") as f:
            f.write("Syslog no\nCACertFile %s\n" % cls.mocks.ca)

    @classmethod
    def tearDownClass(cls):
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.mocks.reset()
        self.integration()

    def integration(self, name="iron", **fields):
        """The only integration: IRONSCALES at the mock, fields on top."""
        idir = os.path.join(self.conf_dir, "integrations.d")
        for old in os.listdir(idir):
            os.unlink(os.path.join(idir, old))
        values = {"Name": name, "Type": "ironscales", "APIURL": self.root, "APIKey": KEY,
                  "CompanyID": "4200"}
        values.update(fields)
        path = os.path.join(idir, name + ".conf")
        with open(path, "w") as f:
            f.write("".join("%s %s\n" % kv for kv in values.items()))
        os.chmod(path, 0o640)

    def ctl(self, *args, timeout=120):
        proc = subprocess.run([CTL, "-c", self.config, "ironscales", *args],
                              capture_output=True, timeout=timeout)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        for text in (out, err):    # no secret, ever
            for token in TOKENS:
                self.assertNotIn(token, text)
            self.assertNotIn(JWT_PREFIX, text)
        return proc.returncode, out, err

    def calls(self, path_part):
        return [r for r in self.mocks.requests("ironscales") if path_part in r["path"]]

    # --- ping ---------------------------------------------------------
    def test_ping(self):
        self.assertEqual(self.ctl("ping"), (0, PING_OK, ""))
        self.assertEqual(len(self.calls("get-token")), 1)
        self.assertEqual(len(self.calls("/incident/4200/open/")), 1)

    def test_ping_bad_token_fails(self):
        self.integration(APIKey="not-a-known-token-123")
        rc, out, err = self.ctl("ping")
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, "Failed to connect to the IRONSCALES server! Error is token "
                              "exchange: HTTP 403: No company found for API key\n")
        self.assertNotIn("not-a-known-token-123", err)

    def test_ping_wrong_company_fails(self):
        self.integration(CompanyID="4300")
        rc, out, err = self.ctl("ping")
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("Failed to connect to the IRONSCALES server! Error is "
                                       "HTTP 404"), err)

    def test_partner_scopes(self):
        self.integration(APIKey=PARTNER_KEY, IsPartner="yes")
        self.assertEqual(self.ctl("ping"), (0, PING_OK, ""))
        # the partner's token asking for company scopes is refused (403)
        self.integration(APIKey=PARTNER_KEY, IsPartner="no")
        rc, _, err = self.ctl("ping")
        self.assertEqual(rc, 1)
        self.assertIn("HTTP 403: Company does not have permission for requested scopes", err)

    # --- classify -----------------------------------------------------
    def test_classify(self):
        rc, out, err = self.ctl("classify", "1001,9999", "--as", "false-positive",
                                "--by", "soc@example.com")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "Successfully classified incidents to False Positive. Incident "
                              "IDs: 1001.\nCouldn't classify the following incident IDs: "
                              "9999.\n")
        # one token for the whole action; the classification sticks
        self.assertEqual(len(self.calls("get-token")), 1)
        rc, out, _ = self.ctl("incident", "1001", "--json")
        self.assertEqual(json.loads(out)[0]["classification"], "False Positive")

    def test_classify_unknown_user_fails(self):
        rc, out, err = self.ctl("classify", "1001", "--as", "spam", "--by",
                                "soc@nowhere.example")
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, 'Error executing action "Classify Incident". Reason: HTTP 400: '
                              'User soc@nowhere.example was not found\n')

    # --- incident -----------------------------------------------------
    def test_incident(self):
        rc, out, err = self.ctl("incident", "1001", "77", "1002")
        self.assertEqual((rc, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[0], "Successfully fetched incidents details from IRONSCALES. "
                                   "incident IDs: 1001, 1002.")
        self.assertEqual(lines[1], "Action wasn't able to fetch incident details for "
                                   "incident IDs: 77 Reason : incidents IDs weren't found.")
        self.assertTrue(lines[3].startswith("1001\tReport\t"))
        rc, out, err = self.ctl("incident", "1001,1002", "--json")
        incidents = json.loads(out)
        self.assertEqual([str(i["incident_id"]) for i in incidents], ["1001", "1002"])
        self.assertEqual(incidents[0]["mail_server"]["ip"], "198.51.100.23")
        self.assertIn("Successfully fetched incidents details", err)

    def test_jwt_reused_until_refused(self):
        self.ctl("incident", "1001,1002,77")
        self.assertEqual(len(self.calls("get-token")), 1)
        self.assertEqual(len(self.calls("/details/")), 3)
        # this token's JWTs answer 2 calls: the third is refused, one new
        # exchange, the call again
        self.mocks.reset()
        self.integration(APIKey=SHORT_KEY)
        rc, out, _ = self.ctl("incident", "1001,1002,77")
        self.assertEqual(rc, 0)
        self.assertIn("incident IDs: 1001, 1002.", out)
        self.assertIn("incident IDs: 77 Reason", out)
        tokens = self.calls("get-token")
        details = self.calls("/details/")
        self.assertEqual((len(tokens), len(details)), (2, 4))
        self.assertEqual([r["status"] for r in details], [200, 200, 401, 404])

    # --- the period actions -------------------------------------------
    def test_impersonation(self):
        rc, out, err = self.ctl("impersonation", "--period", "Last 7 days")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out.splitlines()[0], "Successfully fetched details of impersonation "
                                              "mitigations for the Last 7 days")
        self.assertIn("880001\t", out)
        self.assertEqual(self.calls("impersonation")[0]["path"],
                         "/appapi/mitigation/4200/impersonation/details/?period=1")
        # the seed's default: Last 24 hours (empty in the mock)
        self.assertEqual(self.ctl("impersonation"), (
            0, "No details of impersonation mitigations were found for the Last 24 hours\n",
            ""))
        rc, out, err = self.ctl("impersonation", "--period", "All time", "--json")
        self.assertEqual(err, "Results are limited to the latest 1000 incidents\n"
                              "Successfully fetched details of impersonation mitigations "
                              "for the All time\n")
        envelope = json.loads(out)
        self.assertEqual(sorted(envelope), ["incidents", "messages", "page", "total_pages"])
        self.assertIsNone(envelope["page"])

    def test_mitigations(self):
        rc, out, err = self.ctl("mitigations", "--period", "Current year to date", "--json")
        self.assertEqual(rc, 0)
        self.assertEqual(err, "Successfully fetched details of incident mitigations for the "
                              "Current year to date\n")
        self.assertEqual(json.loads(out)["incidents"][0]["incidentID"], 1001)
        self.assertEqual(self.calls("incidents/details")[0]["path"],
                         "/appapi/mitigation/4200/incidents/details/?period=5")

    def test_every_period_label(self):
        labels = ["Last 24 hours", "Last 7 days", "Last 90 days", "Last 180 days",
                  "Last 360 days", "Current year to date", "All time"]
        for n, label in enumerate(labels):
            self.assertEqual(self.ctl("mitigations", "--period", label)[0], 0)
        self.assertEqual([r["path"].rsplit("=", 1)[1] for r in self.calls("incidents/details")],
                         [str(n) for n in range(7)])
        rc, out, err = self.ctl("mitigations", "--period", "Last 30 days")
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("unknown period", err)

    # --- mailbox-mitigations ------------------------------------------
    def test_mailbox_mitigations_two_pages(self):
        rc, out, err = self.ctl("mailbox-mitigations", "1001", "--max-pages", "2")
        self.assertEqual((rc, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[:2], [
            "Continuing...fetching incident mitigations per mailbox, page 2 out of 2",
            "Successfully fetched details of incident mitigations per mailbox for the All time"])
        self.assertEqual(len(lines), 2 + 1 + 4)    # messages, header, 4 rows
        posts = self.calls("/mitigation/4200/details/")
        self.assertEqual(len(posts), 2)
        rc, out, err = self.ctl("mailbox-mitigations", "1001", "--max-pages", "2", "--json",
                                "--period", "Last 90 days")
        envelope = json.loads(out)
        self.assertEqual((envelope["page"], envelope["total_pages"]), (2, 2))
        self.assertEqual([m["mitigationID"] for m in envelope["mitigations"]],
                         [50001, 50002, 50003, 50004])
        self.assertIn("page 2 out of 2", err)

    def test_mailbox_mitigations_max_pages(self):
        rc, out, err = self.ctl("mailbox-mitigations", "1001,1002")
        self.assertEqual(rc, 0)
        self.assertNotIn("Continuing", out)
        self.assertIn("Fetched 1 of 3 pages (Max Pages to Fetch is 1)", out)
        self.assertEqual(len(self.calls("/mitigation/4200/details/")), 1)
        rc, out, _ = self.ctl("mailbox-mitigations", "9999")
        self.assertEqual(out, "No details of incident mitigations per mailbox were found "
                              "for the All time\n")

    # --- throttle and server errors -----------------------------------
    def test_throttle_retry_after(self):
        self.mocks.fault("ironscales", "ratelimit_retry_after", retry_after=1, count=1)
        started = time.monotonic()
        rc, out, err = self.ctl("incident", "1001")
        self.assertGreaterEqual(time.monotonic() - started, 1.0)
        self.assertEqual(rc, 0)
        self.assertIn("IRONSCALES throttled the request (HTTP 429", out)
        self.assertIn("incident IDs: 1001.", out)
        # throttled again after the wait: the action fails
        self.mocks.fault("ironscales", "ratelimit_retry_after", retry_after=1, count=2)
        rc, out, err = self.ctl("mitigations")
        self.assertEqual(rc, 1)
        self.assertEqual(err, 'Error executing action "Get Incident Mitigation details". '
                              'Reason: token exchange: HTTP 429: Request was throttled. '
                              'Expected available in 1 seconds.\n')

    def test_mock_throttles_120_calls_a_minute(self):
        """The mock's own limit (§4), asked directly: call 121 is a 429
        with Retry-After; the ctl then waits or fails, as above."""
        url = self.root + "appapi/get-token/"
        body = json.dumps({"key": KEY, "scopes": ["company.view"]}).encode()
        statuses, retry_after = [], None
        for _ in range(121):
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    statuses.append(resp.status)
            except urllib.error.HTTPError as e:
                statuses.append(e.code)
                retry_after = e.headers.get("Retry-After")
                detail = json.loads(e.read())["detail"]
        self.assertEqual(statuses, [200] * 120 + [429])
        self.assertTrue(1 <= int(retry_after) <= 60)
        self.assertEqual(detail, "Request was throttled. Expected available in %s seconds."
                         % retry_after)
        self.mocks.reset()

    def test_server_error(self):
        self.mocks.fault("ironscales", "status5xx", status=503, count=1)
        self.assertEqual(self.ctl("ping"), (0, PING_OK, ""))
        self.mocks.fault("ironscales", "status5xx", status=500, count=2)
        rc, out, err = self.ctl("incident", "1001")
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, 'Error executing action "Get Incident Details" : token '
                              'exchange: HTTP 500: Internal server error.\n')

    def test_token_refused_stops_the_action(self):
        self.mocks.fault("ironscales", "badkey", count=1)
        rc, _, err = self.ctl("ping")
        self.assertEqual(rc, 1)    # the exchange itself refused: 403
        self.assertIn("token exchange: HTTP 403: No company found for API key", err)

    # --- usage --------------------------------------------------------
    def test_usage_errors(self):
        for args in (("nothing",), ("classify", "1001", "--by", "soc@example.com"),
                     ("incident",), ("incident", "10a"), ("ping", "1001"),
                     ("incident", "1001", "--max-pages", "2"),
                     ("mailbox-mitigations", "1001", "--max-pages", "0"),
                     ("mailbox-mitigations", "1001", "--max-pages", "99999999999999"), ()):
            rc, out, err = self.ctl(*args)
            self.assertEqual(rc, 2, args)
            self.assertEqual(self.calls(""), [], args)
        rc, out, _ = self.ctl("--help")
        self.assertEqual(rc, 0)
        self.assertIn("mailbox-mitigations IDS", out)

    def test_inactive_integration(self):
        self.integration(Status="inactive")
        rc, _, err = self.ctl("incident", "1001")
        self.assertEqual(rc, 2)
        self.assertIn("inactive", err)
        self.assertEqual(self.ctl("ping"), (0, PING_OK, ""))

    def test_threatmilter_test_runs_its_ping(self):
        """Test Connection of a type without lookups: its own ping action
        (before: "cannot be tested: IRONSCALES is not implemented yet",
        exit 1)."""
        proc = tmtest.run("test", "-c", self.config)
        self.assertEqual((proc.returncode, proc.stdout.decode()), (
            0, "iron: connection OK (Successfully connected to the IRONSCALES server with "
               "the provided connection parameters!)\n"))
        self.integration(APIKey="not-a-known-token-123")
        proc = tmtest.run("test", "-c", self.config, "iron")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout.decode(), "iron: connection failed (Failed to connect to "
                         "the IRONSCALES server! Error is token exchange: HTTP 403: No company "
                         "found for API key)\n")
        self.assertNotIn(b"not-a-known-token-123", proc.stdout + proc.stderr)

    def test_over_https_with_the_ca(self):
        self.integration(APIURL="https://127.0.0.1:%d" % self.mocks.http["https"])
        self.assertEqual(self.ctl("ping"), (0, PING_OK, ""))


if __name__ == "__main__":
    tmtest.run_tests(__name__)
