#!/usr/bin/env python3
"""A graceful stop of the host running a sandbox job (defect F3): two
daemons on one Redis, one new PE file at both. Host a claims the job's
lease and uploads; its analysis never ends (the mock's upload-stuck),
host b answers pending and waits for a's verdict. a is stopped with
SIGTERM: it releases the lease at shutdown, so b claims the job at its
next poll and runs it itself: its own hash lookup gives the verdict, the
message b had answered pending gets the after-delivery alert, and the
next message at b gets the verdict, all well before JobTimeout (120 s;
the lease would have held b at pending for JobTimeout + 60 s: it did).

Run by `make check` through run-redis.sh (TM_BINARY, TM_SRCDIR)."""
import hashlib
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import redisenv  # noqa: E402

tmtest = redisenv.tmtest
file_mail = redisenv.attachment_mail
JOB_TIMEOUT_S = 120
TAKE_OVER_S = 30        # b's polls come 1, 2, 4, 8, 16 s apart


def get(redis, key):
    """A string key's value, or None."""
    reply = redis.command("GET", key)
    return reply.split(b"\r\n")[1] if reply.startswith(b"$") and reply != b"$-1" else None


def headers(mods):
    return {m[-2]: m[-1] for m in mods if m[0] in ("addheader", "insheader")}


@unittest.skipUnless(redisenv.available(), "redis-server is not installed")
class OwnerStops(unittest.TestCase):
    def setUp(self):
        self.site = redisenv.Site("redis", deadline="8s", overrides={
            "Attachments": "yes", "UploadPEFiles": "yes", "PollInterval": "1s",
            "SandboxWait": "0", "JobTimeout": "%ds" % JOB_TIMEOUT_S})
        self.addCleanup(self.site.close)
        self.site.wait_connected()

    def uploads(self):
        return [r for r in self.site.mocks.requests("virustotal") if r["method"] == "POST"]

    def test_stopped_owner_releases_the_lease_and_the_other_host_takes_over(self):
        site = self.site
        data = redisenv.pe_file("owner-stops")
        sha = hashlib.sha256(data).hexdigest()
        site.mocks.indicators("virustotal", {sha: "upload-stuck"})
        site.mocks.reset()
        site.mocks.indicators("virustotal", {sha: "upload-stuck"})

        final, mods, _ = redisenv.send(site.socks[0], file_mail(data, "<a1@example.net>"))
        self.assertEqual(redisenv.verdict(mods), "unknown", mods)
        tmtest.wait_for(lambda: len(self.uploads()) == 1, 15, "host a's upload")
        leases = site.redis.keys("t:j:*")
        self.assertEqual(len(leases), 1, leases)
        owner_a = get(site.redis, leases[0].decode())
        self.assertTrue(owner_a.endswith(b":%d" % site.daemons[0].proc.pid), owner_a)

        # b meets the file: pending, no upload of its own, waiting for a
        final, mods, _ = redisenv.send(site.socks[1], file_mail(data, "<b1@example.net>"))
        self.assertEqual(redisenv.verdict(mods), "unknown", mods)
        tmtest.wait_for(lambda: b"already run by another host" in
                        tmtest.read_bytes(site.logs[1]), 10, "b waiting for a's job")
        self.assertEqual(len(self.uploads()), 1)

        # a stops gracefully; meanwhile the file's analysis has ended
        site.mocks.indicators("virustotal", {sha: "malicious"})
        stop_started = time.monotonic()
        self.assertEqual(site.daemons[0].stop(), 0)
        stopped = time.monotonic()
        self.assertLess(stopped - stop_started, 10)
        lease = get(site.redis, leases[0].decode())
        self.assertNotEqual(lease, owner_a)     # gone, or b's already

        # b takes the job over at its next poll: the waiting message's
        # alert, then the verdict for the next message
        tmtest.wait_for(lambda: b"after delivery: Message-ID <b1@example.net>" in
                        tmtest.read_bytes(site.logs[1]), TAKE_OVER_S,
                        "b's after-delivery alert (the lease of the stopped host held it)")
        final, mods, _ = redisenv.send(site.socks[1], file_mail(data, "<b2@example.net>"))
        self.assertEqual(redisenv.verdict(mods), "malicious", mods)
        self.assertIn(sha, headers(mods).get("X-Threat-Report", ""))
        self.assertLess(time.monotonic() - stopped, JOB_TIMEOUT_S / 2)
        # b asked the provider itself after a had stopped
        files = [r for r in site.mocks.requests("virustotal")
                 if r["method"] == "GET" and r["path"].endswith("/files/" + sha)]
        self.assertGreaterEqual(len(files), 2, files)
        self.assertEqual(site.redis.keys("t:j:*"), [])      # b's lease, released
        self.assertEqual(tmtest.read_bytes(site.logs[1]).count(b"after delivery"), 1)
        self.assertIn(b"releasing 1 sandbox job lease at shutdown",
                      tmtest.read_bytes(site.logs[0]))


if __name__ == "__main__":
    tmtest.run_tests(__name__)
