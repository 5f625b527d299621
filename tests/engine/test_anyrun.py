#!/usr/bin/env python3
"""`threatmilter scan` and `threatmilter test` with an ANY.RUN integration
against the mock (tests/mock/mock_anyrun.py, ../shared/providers/anyrun.md):
URL submission (pending, then the mock's report), the domain only with
HideURLParameters, the privacy the mock received (owner by default, never
public or bylink unless set; -n warns), attachments never uploaded while
the toggles refuse them (not one request), two messages with the same URL
-> one submission, a bad key, 429 on submit, 5xx, Test Connection on the
history. The job's polling, the failed and endless tasks and the job
timeout are in tests/unit/test_provider_anyrun_jobs.c (fake clock): scan
does not wait for a job (SandboxWait 0).

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import base64
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402

AR_KEY = "test-anyrun-key"
PE = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00 this is not a real program malicious"


def message(urls="", attachment=None):
    head = ["From: a@example.net", "To: b@example.com", "Subject: test", "MIME-Version: 1.0"]
    if attachment is None:
        return "\r\n".join(head + ["Content-Type: text/plain", "", "see " + urls, ""]).encode()
    b64 = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
    return "\r\n".join(head + [
        'Content-Type: multipart/mixed; boundary="b1"', "", "--b1",
        "Content-Type: text/plain", "", "see " + urls, "--b1",
        'Content-Type: application/octet-stream; name="invoice.exe"',
        'Content-Disposition: attachment; filename="invoice.exe"',
        "Content-Transfer-Encoding: base64", "", b64, "--b1--", ""]).encode()


class AnyRunScan(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()
        self.n = 0

    def root(self):
        return "https://127.0.0.1:%d/v1/analysis" % self.mocks.http["https"]

    def config(self, fields=None):
        conf = tmtest.write_config(self.dir, self.mocks, integrations=())
        path = os.path.join(os.path.dirname(conf), "integrations.d", "anyrun.conf")
        settings = {"Name": "anyrun", "Type": "anyrun", "APIURL": self.root(),
                    "APIKey": AR_KEY, "Timeout": "3s"}
        settings.update(fields or {})
        with open(path, "w") as f:
            for k, v in settings.items():
                f.write("%s %s\n" % (k, v))
        return conf

    def scan(self, *datas, fields=None):
        conf = self.config(fields)
        files = []
        for data in datas:
            self.n += 1
            files.append(os.path.join(self.dir, "m%d.eml" % self.n))
            with open(files[-1], "wb") as f:
                f.write(data)
        objs, proc = tmtest.scan(conf, *files)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertNotIn(AR_KEY.encode(), proc.stdout + proc.stderr)
        return objs

    def lookups(self, obj):
        return [(l["kind"], l["indicator"], l["result"], l.get("details", ""))
                for l in obj["lookups"] if l["integration"] == "anyrun"]

    def requests(self):
        """The requests threatmilter sent (not the tests' own listing)."""
        return [r for r in self.mocks.requests("anyrun") if "__mock__" not in r["path"]]

    def received(self):
        """What the mock received for each task (mock_anyrun.py); clears
        the faults first (they would answer this listing too)."""
        self.mocks.fault("anyrun", "none")
        req = urllib.request.Request(
            "http://127.0.0.1:%d/v1/analysis/__mock__/tasks" % self.mocks.http["http"],
            headers={"Authorization": "API-Key " + AR_KEY})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def posts(self):
        return [r for r in self.requests() if r["method"] == "POST"]

    # ------------------------------------------------------ submissions

    def test_url_submitted_pending_privacy_owner(self):
        url = "http://malicious.example/login?user=bob"
        obj = self.scan(message(url))[0]
        kind, ind, result, details = self.lookups(obj)[0]
        self.assertEqual((kind, ind, result), ("url", url, "pending"))
        self.assertEqual(obj["verdict"], "unknown")     # a pending alone
        tasks = self.received()
        self.assertEqual(len(tasks), 1)
        self.assertEqual((tasks[0]["obj_type"], tasks[0]["obj_url"], tasks[0]["privacy"]),
                         ("url", url, "owner"))
        self.assertEqual(tasks[0]["options"]["opt_timeout"], 120)
        reqs = self.requests()
        self.assertEqual([(r["method"], r["path"]) for r in reqs], [("POST", "/v1/analysis")])
        self.assertEqual(reqs[0]["headers"]["authorization"], "<redacted>")
        # the mock's report of that task after its polls: malicious
        uuid = tasks[0]["uuid"]
        req = urllib.request.Request(
            "http://127.0.0.1:%d/v1/analysis/%s" % (self.mocks.http["http"], uuid),
            headers={"Authorization": "API-Key " + AR_KEY})
        states = []
        for _ in range(3):
            with urllib.request.urlopen(req, timeout=10) as r:
                states.append(json.loads(r.read())["data"]["status"])
        self.assertEqual(states, ["running", "running", "done"])

    def test_hide_url_parameters_sends_the_domain_only(self):
        obj = self.scan(message("http://malicious.example/reset?token=SECRET123"),
                        fields={"HideURLParameters": "yes"})[0]
        self.assertEqual([l[:3] for l in self.lookups(obj)],
                         [("domain", "malicious.example", "pending")])
        tasks = self.received()
        self.assertEqual([t["obj_url"] for t in tasks], ["http://malicious.example/"])
        for r in self.requests():
            self.assertNotIn("SECRET123", json.dumps(r))

    def test_privacy_as_set(self):
        self.scan(message("http://a.example/x"), fields={"Privacy": "byteam"})
        self.assertEqual([t["privacy"] for t in self.received()], ["byteam"])

    def test_public_privacy_only_when_set_and_warned(self):
        conf = self.config({"Privacy": "public"})
        proc = tmtest.run("-n", "-c", conf)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIn("Privacy public", proc.stderr.decode())
        conf = self.config({})
        proc = tmtest.run("-n", "-c", conf)
        self.assertNotIn("Privacy", proc.stderr.decode())

    def test_same_url_in_two_messages_one_submission(self):
        url = "http://suspicious.example/a"
        objs = self.scan(message(url), message(url))
        self.assertEqual([self.lookups(o)[0][2] for o in objs], ["pending", "pending"])
        self.assertEqual(len(self.posts()), 1)

    # --------------------------------------------------------- uploads

    def test_attachment_not_uploaded_when_refused(self):
        """Attachments on, both upload toggles off: not one request."""
        obj = self.scan(message(attachment=PE), fields={
            "URLs": "no", "Attachments": "yes", "UploadPEFiles": "no",
            "UploadOtherFiles": "no"})[0]
        self.assertEqual(self.lookups(obj), [])
        self.assertEqual(self.requests(), [])
        self.assertEqual(self.received(), [])

    def test_attachment_uploaded_when_it_is_the_only_file_integration(self):
        """Breaker2 F1: ANY.RUN alone with Attachments and UploadPEFiles on
        never got the file (no hash lookup: the planner dropped every
        attachment). The PE is submitted as a file task, once."""
        obj = self.scan(message(attachment=PE), fields={
            "URLs": "no", "Attachments": "yes", "UploadPEFiles": "yes"})[0]
        [(kind, ind, result, details)] = self.lookups(obj)
        self.assertEqual((kind, result), ("hash", "pending"), details)
        self.assertEqual(obj["verdict"], "unknown")
        posts = self.posts()
        self.assertEqual([r["path"] for r in posts], ["/v1/analysis"])
        self.assertEqual([t["obj_type"] for t in self.received()], ["file"])

    def test_attachment_off_by_default(self):
        obj = self.scan(message(attachment=PE), fields={"URLs": "no"})[0]
        self.assertEqual(self.lookups(obj), [])
        self.assertEqual(self.requests(), [])

    # ---------------------------------------------------------- errors

    def errored(self, mode, result, detail, **kw):
        self.mocks.fault("anyrun", mode, **kw)
        obj = self.scan(message("http://www.example.com/"))[0]
        [(kind, ind, got, details)] = self.lookups(obj)
        self.assertEqual(got, result, details)
        self.assertIn(detail, details)
        self.assertNotEqual(obj["verdict"], "clean")
        self.assertEqual(self.received(), [])
        return obj

    def test_bad_key(self):
        self.errored("badkey", "error", "HTTP 401")

    def test_wrong_configured_key(self):
        obj = self.scan(message("http://www.example.com/"),
                        fields={"APIKey": "another-key-12345"})[0]
        self.assertEqual(self.lookups(obj)[0][2], "error")
        self.assertIn("Authorization is required", self.lookups(obj)[0][3])

    def test_429_on_submit_is_rate_limited(self):
        self.errored("ratelimit", "rate_limited", "Parallel tasks limit exceeded")

    def test_5xx(self):
        self.errored("status5xx", "error", "HTTP 503", status=503)

    # ------------------------------------------------- Test Connection

    def test_test_connection_reads_the_history(self):
        conf = self.config({})
        proc = tmtest.run("test", "-c", conf, "anyrun")
        self.assertEqual(proc.returncode, 0, proc.stdout.decode() + proc.stderr.decode())
        reqs = self.requests()
        self.assertEqual([(r["method"], r["path"]) for r in reqs],
                         [("GET", "/v1/analysis?limit=1")])
        self.mocks.reset()
        conf = self.config({"APIKey": "another-key-12345"})
        proc = tmtest.run("test", "-c", conf, "anyrun")
        self.assertNotEqual(proc.returncode, 0)
        self.assertEqual(self.received(), [])


class AnyRunMock(tmtest.MocksCase):
    """The mock itself answers as the document says (status codes and
    all): report states over polls, failed and endless tasks, the SSE
    monitor, the 403 report and its ?task= form, 401/429/5xx bodies."""

    def setUp(self):
        self.mocks.reset()

    def call(self, path, body=None, key=AR_KEY, scheme="API-Key"):
        headers = {"Authorization": "%s %s" % (scheme, key)} if key else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.mocks.http["http"], path),
                                     data=data, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read()

    def task(self, url):
        status, _, body = self.call("/v1/analysis", {"obj_type": "url", "obj_url": url,
                                                     "opt_privacy_type": "owner"})
        self.assertEqual(status, 200)
        return json.loads(body)["data"]["taskid"]

    def report(self, uuid, path="/v1/analysis/%s"):
        status, _, body = self.call(path % uuid)
        return status, json.loads(body)

    def test_states_and_verdicts(self):
        for url, level in (("http://malicious.example/", 2), ("http://suspicious.example/", 1),
                           ("http://www.example.com/", 0)):
            uuid = self.task(url)
            self.assertEqual(self.report(uuid)[1]["data"]["status"], "running")
            self.assertEqual(self.report(uuid)[1]["data"]["analysis"]["scores"], {})
            verdict = self.report(uuid)[1]["data"]["analysis"]["scores"]["verdict"]
            self.assertEqual(verdict["threatLevel"], level)

    def test_failed_endless_and_forbidden(self):
        self.mocks.indicators("anyrun", {"http://a.example/": "failed",
                                         "http://b.example/": "endless",
                                         "http://c.example/": "report_forbidden"})
        failed, endless, forbidden = (self.task("http://%s.example/" % c) for c in "abc")
        states = [self.report(failed)[1]["data"]["status"] for _ in range(3)]
        self.assertEqual(states, ["running", "running", "failed"])
        self.assertEqual({self.report(endless)[1]["data"]["status"] for _ in range(6)},
                         {"running"})
        self.assertEqual(self.report(forbidden)[0], 403)
        status, doc = self.report(forbidden, "/v1/analysis/?task=%s")
        self.assertEqual(status, 200)

    def test_monitor_stream(self):
        uuid = self.task("http://malicious.example/")
        seen = []
        for _ in range(3):
            status, ctype, body = self.call("/v1/analysis/monitor/" + uuid)
            self.assertEqual((status, ctype), (200, "text/event-stream"))
            lines = [l for l in body.decode().split("\n") if l]
            self.assertTrue(all(l.startswith("data: ") for l in lines))
            seen.append([json.loads(l[6:])["task"]["status"] for l in lines])
        self.assertEqual(seen[-1], [20, 60, 100])
        self.assertNotIn(100, seen[0])

    def test_errors(self):
        self.assertEqual(self.call("/v1/analysis?limit=1", key=None)[0], 401)
        status, _, body = self.call("/v1/analysis?limit=1", key="wrong")
        self.assertEqual((status, json.loads(body)["error"]), (401, True))
        self.assertEqual(self.call("/v1/analysis?limit=1", scheme="api-key")[0], 200)
        self.mocks.fault("anyrun", "ratelimit", count=1)
        status, _, body = self.call("/v1/analysis", {"obj_type": "url", "obj_url": "http://x/"})
        self.assertEqual((status, json.loads(body)["message"]),
                         (429, "Parallel tasks limit exceeded"))
        self.mocks.fault("anyrun", "status5xx", status=504, count=1)
        self.assertEqual(self.call("/v1/analysis?limit=1")[0], 504)
        status, _, body = self.call("/v1/analysis", {"obj_type": "url", "obj_url": "http://x/",
                                                     "opt_privacy_type": "everyone"})
        self.assertEqual(status, 400)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
