#!/usr/bin/env python3
"""A host waiting for another host's sandbox job, with SandboxWait: the
message that meets the file waits its SandboxWait and gets pending, and
meanwhile the host goes on with everything else. The waiting host used to
answer its waiters in a loop until none was left, spinning the engine
thread for the whole SandboxWait: every other lookup of that host stood
still and its Redis commands timed out (an outage logged for nothing).

Run by `make check` through run-redis.sh (TM_BINARY, TM_SRCDIR)."""
import hashlib
import os
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import redisenv  # noqa: E402

tmtest = redisenv.tmtest
SANDBOX_WAIT_S = 2


@unittest.skipUnless(redisenv.available(), "redis-server is not installed")
class WaitingHost(unittest.TestCase):
    def test_sandbox_wait_at_the_waiting_host_blocks_nothing_else(self):
        site = redisenv.Site("redis", deadline="8s", overrides={
            "Attachments": "yes", "UploadPEFiles": "yes", "PollInterval": "1s",
            "SandboxWait": "%ds" % SANDBOX_WAIT_S, "JobTimeout": "60s"})
        self.addCleanup(site.close)
        site.wait_connected()
        data = redisenv.pe_file("waiting-host")
        site.mocks.indicators("virustotal", {hashlib.sha256(data).hexdigest(): "upload-stuck"})
        # a claims and uploads (its message waits SandboxWait, then pending)
        _, mods, secs = redisenv.send(site.socks[0], redisenv.attachment_mail(data, "<a@x>"))
        self.assertEqual(redisenv.verdict(mods), "unknown", mods)

        waiting = {}

        def file_at_b():
            waiting["result"] = redisenv.send(site.socks[1],
                                              redisenv.attachment_mail(data, "<b@x>"))

        t = threading.Thread(target=file_at_b)
        t.start()
        tmtest.wait_for(lambda: b"already run by another host" in
                        tmtest.read_bytes(site.logs[1]), 5, "b waiting for a's job")
        time.sleep(0.2)
        # b's SandboxWait runs: another message at b is answered at once
        final, mods, secs = redisenv.send(site.socks[1],
                                          redisenv.mail(["https://other.example/"]))
        t.join()
        self.assertEqual(redisenv.verdict(mods), "clean", mods)
        self.assertLess(secs, 1.0)
        _, mods, secs = waiting["result"]
        self.assertEqual(redisenv.verdict(mods), "unknown", mods)
        self.assertGreaterEqual(secs, SANDBOX_WAIT_S - 0.1)
        self.assertNotIn(redisenv.OUTAGE_LINE, tmtest.read_bytes(site.logs[1]))


if __name__ == "__main__":
    tmtest.run_tests(__name__)
