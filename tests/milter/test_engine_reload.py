#!/usr/bin/env python3
"""Issue 11 defect 2, through the milter protocol with SIGHUP reloads: a
reload that changes the Spamhaus DNSServers used to destroy the c-ares
channel, and the destroyed queries never gave back their MaxInFlight
slot; after two such reloads with a query out (MaxInFlight 2) every
Spamhaus lookup queued until the deadline. Now the old channel's queries
end there (answer or Timeout) and the slots come back.

Run by `make check` through run-milter.sh (TM_BINARY, TM_SRCDIR)."""
import os
import shutil
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402


def mail(ip):
    return ("Received: from origin.example (origin.example [%s])\n"
            "\tby relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\n"
            "From: alice@example.net\nTo: bob@example.com\nSubject: t\n"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\nno links\n" % ip).encode()


class DnsReload(unittest.TestCase):
    def setUp(self):
        self.dir = tmtest.tmpdir()
        self.mocks = tmtest.Mocks(self.dir)
        # a DNS server that never answers
        self.black_hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.black_hole.bind(("127.0.0.1", 0))
        self.sock = os.path.join(self.dir, "milter.sock")
        self.log_path = os.path.join(self.dir, "milter.log")
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.stop()
        self.black_hole.close()
        self.mocks.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def configure(self, dead):
        servers = "127.0.0.1:%d" % (self.black_hole.getsockname()[1] if dead
                                    else self.mocks.dns["dns"])
        return tmtest.write_config(
            self.dir, self.mocks, integrations=["spamhaus"],
            main={"Socket": "local:" + self.sock, "ScanDeadline": "500ms"},
            overrides={"spamhaus": {"DNSServers": servers, "MaxInFlight": "2",
                                    "Timeout": "2s", "Cache": "no"}})

    def reload(self, dead):
        self.configure(dead)
        before = open(self.log_path, "rb").read().count(b"configuration reloaded")
        self.daemon.signal(tmtest.signal.SIGHUP)
        tmtest.wait_for(lambda: open(self.log_path, "rb").read()
                        .count(b"configuration reloaded") > before, 20, "the reload")

    def report(self, ip):
        c = mc.MilterClient("unix:" + self.sock)
        c.optneg()
        c.connect(family="4", address=ip)
        try:
            final, mods = mc.send_message(c, mail(ip))
        finally:
            c.quit()
            c.close()
        headers = {m[2]: m[3] for m in mods if m[0] == "insheader"}
        return headers.get("X-Threat-Verdict", "") + "; " + headers.get("X-Threat-Report", "")

    def test_defect2_dns_reload_releases_slots(self):
        conf = self.configure(dead=True)
        self.daemon = tmtest.Daemon(conf, "local:" + self.sock, self.log_path)
        start = time.monotonic()
        self.report("192.0.2.11")       # q1 out on the dead server for 2 s
        self.reload(dead=False)         # while q1 is out
        self.assertTrue(self.report("192.0.2.12").startswith("clean"))
        # q1 has timed out now: its slot is back (the old code destroyed
        # it with the channel and never gave the slot back)
        time.sleep(max(0, 2.3 - (time.monotonic() - start)))
        self.reload(dead=True)
        self.report("192.0.2.13")       # q3 out on the dead server for 2 s
        self.reload(dead=False)
        # MaxInFlight 2: q3 and this one; with the leaked slot it queued
        # until the deadline
        rep = self.report("192.0.2.14")
        self.assertTrue(rep.startswith("clean"), rep)
        self.assertNotIn("error", rep)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
