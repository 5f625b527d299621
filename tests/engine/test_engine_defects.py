#!/usr/bin/env python3
"""Engine defects of issue 11 that show through `threatmilter scan`
against the mocks, each test named after the defect it covers:

  defect 10: CURLOPT_PIPEWAIT on a plain-HTTP API root serialised every
             lookup of a message on one HTTP/1.1 connection (four
             lookups at a 1 s provider took 1, 2, 2.05, 2.15 s);
  defect 11: a dropped DNS query cost 1.5 x Timeout (c-ares doubles the
             second try) instead of giving up within Timeout.

Run by `make check` (TM_BINARY, TM_SRCDIR)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import tmtest  # noqa: E402


def message(body):
    return "\r\n".join([
        "Received: from a.example (a.example [192.0.2.10]) by mx.example.net with ESMTP id 1;"
        " Tue, 2 Jan 2024 10:00:00 +0000",
        "From: a@example.net", "To: b@example.com", "Subject: test",
        "MIME-Version: 1.0", "Content-Type: text/plain", "", body, ""]).encode()


class EngineDefects(tmtest.MocksCase):
    def setUp(self):
        self.mocks.reset()

    def scan_one(self, conf, data):
        path = os.path.join(self.dir, "m.eml")
        with open(path, "wb") as f:
            f.write(data)
        objs, proc = tmtest.scan(conf, path)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return objs[0]

    def test_defect10_plain_http_lookups_overlap(self):
        self.mocks.fault("virustotal", "delay", ms=1000)
        conf = tmtest.write_config(self.dir, self.mocks, integrations=["virustotal"],
                                   tls=False, overrides={"virustotal": {"SenderIP": "no"}})
        urls = " ".join("http://site%d.example/" % i for i in range(4))
        obj = self.scan_one(conf, message(urls))
        lookups = [l for l in obj["lookups"] if l["integration"] == "virustotal"]
        self.assertEqual(len(lookups), 4, lookups)
        latencies = sorted(l["latency_ms"] for l in lookups)
        # in parallel: every one about 1 s; one connection: 1, 2, 2, 2 s
        self.assertLess(latencies[-1], 1600, latencies)
        self.assertGreaterEqual(latencies[0], 950, latencies)

    def test_defect11_dropped_dns_query_gives_up_within_timeout(self):
        self.mocks._http("/fault", {"mode": "drop"}, dns=True)
        conf = tmtest.write_config(self.dir, self.mocks, integrations=["spamhaus"],
                                   overrides={"spamhaus": {"Timeout": "1s"}})
        obj = self.scan_one(conf, message("nothing to see"))
        lookups = [l for l in obj["lookups"] if l["integration"] == "spamhaus"]
        self.assertTrue(lookups, obj)
        for l in lookups:
            self.assertEqual(l["result"], "error", l)
            self.assertLessEqual(l["latency_ms"], 1150, l)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
