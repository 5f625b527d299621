#!/usr/bin/env python3
"""Milter-protocol scenarios against the real threatmilter binary (in the
spirit of OpenDKIM's miltertest suites, with a small protocol client in
Python): every action path gives the right reply and modifications,
forged verdict headers are removed, several messages share a connection,
abort mid-message, IPv6 clients, too-large messages, authenticated
clients, and what the filter negotiates. Providers are the local mocks.

Run by `make check` through run-milter.sh (TM_BINARY, TM_SRCDIR)."""
import os
import json
import shutil
import subprocess
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402


def mail(body, extra_headers="", subject="test", received_ip="192.0.2.10"):
    return ("Received: from origin.example (origin.example [%s])\n"
            "\tby relay.example.net with ESMTP id 1; Tue, 2 Jan 2024 10:00:00 +0000\n"
            "From: alice@example.net\nTo: bob@example.com\nSubject: %s\n%s"
            "MIME-Version: 1.0\nContent-Type: text/plain\n\n%s\n"
            % (received_ip, subject, extra_headers, body)).encode()


CLEAN = mail("see http://fine.example/page")
BAD = mail("log in at http://malicious.example/login")


class MilterProtocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)
        cls.sock = os.path.join(cls.dir, "milter.sock")
        cls.daemon = None
        cls.current = None

    @classmethod
    def tearDownClass(cls):
        if cls.daemon:
            cls.daemon.stop()
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def start(self, overrides=None, integrations=("spamhaus", "virustotal"), **main):
        """(Re)starts the daemon when the configuration changes."""
        settings = {"Socket": "local:" + self.sock, "ScanDeadline": "5s"}
        settings.update({k.replace("_", "-"): v for k, v in main.items()})
        key = [sorted(settings.items()), repr(overrides), list(integrations)]
        if key == type(self).current and self.daemon and self.daemon.proc.poll() is None:
            return
        if self.daemon:
            self.daemon.stop()
        self.config = tmtest.write_config(self.dir, self.mocks,
                                          integrations=list(integrations),
                                          main=settings, overrides=overrides)
        type(self).daemon = tmtest.Daemon(self.config, "local:" + self.sock,
                                          os.path.join(self.dir, "milter.log"))
        type(self).current = key

    def setUp(self):
        self.mocks.reset()

    def client(self, family="4", address="192.0.2.200"):
        c = mc.MilterClient("unix:" + self.sock)
        c.optneg()
        c.connect(family=family, address=address)
        return c

    def send(self, raw, client_address="192.0.2.200", **kw):
        c = self.client(address=client_address)
        try:
            return mc.send_message(c, raw, **kw)
        finally:
            c.quit()
            c.close()

    def inserted(self, mods):
        return {m[2]: m[3] for m in mods if m[0] == "insheader"}

    # ------------------------------------------------------------ negotiation

    def test_negotiates_only_what_it_needs(self):
        self.start()
        c = mc.MilterClient("unix:" + self.sock)
        actions, protocol = c.optneg()
        c.close()
        self.assertEqual(actions, mc.SMFIF_ADDHDRS | mc.SMFIF_CHGHDRS | mc.SMFIF_QUARANTINE)
        for flag in (mc.P_NOHELO, mc.P_NOUNKNOWN, mc.P_NODATA, mc.P_NR_HDR, mc.P_NR_CONN,
                     mc.P_NR_EOH, mc.P_SKIP):
            self.assertTrue(protocol & flag, hex(flag))
        # it still wants connect, MAIL, RCPT, headers and the body
        for flag in (mc.P_NOCONNECT, mc.P_NOMAIL, mc.P_NORCPT, mc.P_NOHDRS, mc.P_NOBODY):
            self.assertFalse(protocol & flag, hex(flag))

    def test_refuses_an_mta_without_quarantine(self):
        self.start()
        c = mc.MilterClient("unix:" + self.sock)
        with self.assertRaises((mc.MilterError, ConnectionError)):
            c.optneg(actions=mc.SMFIF_ADDHDRS | mc.SMFIF_CHGHDRS)
            c.connect()
            mc.send_message(c, CLEAN)
        c.close()
        self.assertIn(b"does not offer the actions",
                      open(os.path.join(self.dir, "milter.log"), "rb").read())

    # ------------------------------------------------------------ actions

    def test_clean_is_accepted_with_headers(self):
        self.start()
        final, mods = self.send(CLEAN)
        self.assertEqual(final[0], "accept")
        headers = self.inserted(mods)
        self.assertEqual(headers["X-Threat-Verdict"], "clean")
        self.assertIn("lookups", headers["X-Threat-Scanned"])
        # inserted at the top, in the order Verdict, Report, Scanned
        self.assertTrue(all(m[1] == 0 for m in mods if m[0] == "insheader"))
        self.assertEqual([m[2] for m in mods if m[0] == "insheader"],
                         ["X-Threat-Scanned", "X-Threat-Report", "X-Threat-Verdict"])
        self.assertFalse([m for m in mods if m[0] == "quarantine"])

    def test_malicious_is_quarantined_with_a_reason(self):
        self.start()
        final, mods = self.send(BAD)
        self.assertEqual(final[0], "accept")
        reasons = [m[1] for m in mods if m[0] == "quarantine"]
        self.assertEqual(len(reasons), 1)
        self.assertIn("malicious", reasons[0])
        self.assertIn("malicious.example", reasons[0])
        headers = self.inserted(mods)
        self.assertEqual(headers["X-Threat-Verdict"], "malicious")
        self.assertIn("hxxp://malicious[.]example/login", headers["X-Threat-Report"])

    def test_reject_and_tempfail_replies(self):
        self.start(On_Malicious="reject")
        final, mods = self.send(BAD)
        self.assertEqual(final[0], "replycode")
        self.assertEqual(final[1], "550 5.7.1 Message rejected: malicious content detected")
        self.assertFalse([m for m in mods if m[0] == "insheader"])
        self.start(On_Malicious="tempfail", RejectMessage="5.7.1 try later (%v)")
        final, _ = self.send(BAD)
        self.assertEqual(final, ("replycode", "451 4.7.1 try later (malicious)"))

    def test_discard(self):
        self.start(On_Malicious="discard")
        final, _ = self.send(BAD)
        self.assertEqual(final[0], "discard")

    def test_tag_changes_the_subject(self):
        self.start(On_Malicious="tag", SubjectTag="[MALICIOUS]")
        final, mods = self.send(BAD)
        self.assertEqual(final[0], "accept")
        self.assertIn(("chgheader", 1, "Subject", "[MALICIOUS] test"), mods)

    def test_provider_failure_uses_on_provider_error(self):
        # only VirusTotal is asked about the URL (no DBL), and it fails
        self.start(On_ProviderError="tempfail", overrides={"spamhaus": {"URLs": "no"}})
        self.mocks.fault("virustotal", "status5xx", status=500)
        # private client and relay: no sender IP, only VirusTotal's URL lookup,
        # and it fails
        final, _ = self.send(mail("http://fine.example/", received_ip="10.1.1.1"),
                             client_address="10.0.0.5")
        self.assertEqual(final[0], "replycode")
        self.assertTrue(final[1].startswith("451 "))

    # ------------------------------------------------------------ headers

    def test_forged_headers_are_deleted_first(self):
        self.start()
        forged = "X-Threat-Verdict: clean\nx-threat-verdict: clean\nX-Threat-Report: fine\n"
        final, mods = self.send(mail("http://malicious.example/x", extra_headers=forged))
        deletes = [m for m in mods if m[0] == "chgheader" and m[3] == ""]
        self.assertEqual([(m[1], m[2]) for m in deletes],
                         [(2, "X-Threat-Verdict"), (1, "X-Threat-Verdict"), (1, "X-Threat-Report")])
        # all deletions come before our insertions
        first_insert = next(i for i, m in enumerate(mods) if m[0] == "insheader")
        self.assertTrue(all(mods.index(d) < first_insert for d in deletes))
        self.assertEqual(self.inserted(mods)["X-Threat-Verdict"], "malicious")

    def test_software_header(self):
        self.start(SoftwareHeader="yes", ReportHostname="mx-test")
        final, mods = self.send(CLEAN, queue_id="QSOFT")
        self.assertEqual(self.inserted(mods)["X-Threat-Filter"], "threatmilter v0.1.0 mx-test QSOFT")

    def test_authenticated_client_skipped_but_forgeries_removed(self):
        self.start(IgnoreAuthenticatedClients="yes")
        forged = "X-Threat-Verdict: clean\n"
        final, mods = self.send(mail("http://malicious.example/x", extra_headers=forged),
                                mail_macros={"{auth_authen}": "alice"})
        self.assertEqual(final[0], "accept")
        self.assertIn(("chgheader", 1, "X-Threat-Verdict", ""), mods)
        self.assertFalse(self.inserted(mods))
        self.assertEqual(self.mocks.stats()["total"], 0)
        # the summary line does not call an unscanned message malicious
        def summary():
            return [l for l in open(os.path.join(self.dir, "milter.log")).read().splitlines()
                    if "verdict=" in l]
        tmtest.wait_for(summary, 5, "the summary line")
        self.assertNotIn("verdict=malicious", "\n".join(summary()))

    # ------------------------------------------------------------ sessions

    def test_several_messages_on_one_connection(self):
        self.start()
        c = self.client()
        try:
            results = [mc.send_message(c, raw, queue_id="Q%d" % i)
                       for i, raw in enumerate([CLEAN, BAD, CLEAN])]
        finally:
            c.quit()
            c.close()
        verdicts = [self.inserted(mods)["X-Threat-Verdict"] for _, mods in results]
        self.assertEqual(verdicts, ["clean", "malicious", "clean"])
        self.assertEqual([len([m for m in mods if m[0] == "quarantine"]) for _, mods in results],
                         [0, 1, 0])

    def test_abort_mid_message_then_next_message(self):
        self.start()
        c = self.client()
        try:
            c.mail("<a@example.net>", macros={"i": "ABORTED"})
            c.rcpt("<b@example.com>")
            c.header("Subject", "never finished")
            c.eoh()
            c.body(b"http://malicious.example/half")
            c.abort()
            final, mods = mc.send_message(c, CLEAN)
        finally:
            c.quit()
            c.close()
        self.assertEqual(self.inserted(mods)["X-Threat-Verdict"], "clean")
        # the aborted message was never judged
        log = open(os.path.join(self.dir, "milter.log"), "rb").read()
        self.assertNotIn(b"ABORTED: client", log)

    def test_ipv6_client_is_the_sender_ip(self):
        self.start()
        c = self.client(family="6", address="2001:db8:bad::25")
        try:
            final, mods = mc.send_message(c, mail("no links here", received_ip="10.9.9.9"))
        finally:
            c.quit()
            c.close()
        indicators = {r["indicator"] for r in self.mocks.requests("virustotal")}
        self.assertIn("2001:db8:bad::25", indicators)
        self.assertEqual(self.inserted(mods)["X-Threat-Verdict"], "malicious")

    def test_too_large_is_not_analysed(self):
        self.start(MaxMessageSize="2K", On_TooLarge="tempfail")
        big = mail("http://malicious.example/x\n" + "filler line\n" * 2000)
        final, mods = self.send(big)
        self.assertEqual(final[0], "replycode")
        self.assertTrue(final[1].startswith("451 "))
        self.assertEqual(self.mocks.stats()["total"], 0)

    def test_big_message_spills_to_disk_and_is_analysed(self):
        self.start(TmpDir=self.dir)
        big = mail("http://malicious.example/big\n" + ("x" * 76 + "\n") * 20000)  # ~1.5 MB
        final, mods = self.send(big)
        self.assertEqual(self.inserted(mods)["X-Threat-Verdict"], "malicious")
        # the spill file is unlinked at once: nothing left behind
        self.assertFalse([f for f in os.listdir(self.dir) if f.startswith("threatmilter.")])

    def test_report_recipient_judged_by_inner_message(self):
        self.start(ReportRecipients="abuse@example.com", On_Malicious="tag")
        inner = mail("http://malicious.example/phish").decode().replace("\n", "\r\n")
        outer = ("From: user@example.com\nTo: abuse@example.com\nSubject: Fwd\n"
                 "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
                 "--b\nContent-Type: text/plain\n\nsee http://fine.example/\n"
                 "--b\nContent-Type: message/rfc822\n\n" + inner + "\n--b--\n").encode()
        final, mods = self.send(outer, recipients=("<abuse@example.com>",))
        headers = self.inserted(mods)
        self.assertEqual(headers["X-Threat-Verdict"], "malicious")
        self.assertIn("reported message", headers["X-Threat-Scanned"])
        # the wrapper's own URL was not asked about
        indicators = {r["indicator"] for r in self.mocks.requests("virustotal")}
        self.assertNotIn("http://fine.example/", indicators)

    # ------------------------------------------------------------ engine

    def test_concurrent_messages_share_one_request(self):
        """20 sessions at once, one URL: single-flight + cache = one request."""
        self.start()
        self.mocks.fault("virustotal", "delay", ms=800)
        url = "http://shared-once.example/landing"
        results, errors = [], []

        def one(i):
            try:
                results.append(self.send(mail(url, subject="n%d" % i)))
            except Exception as e:  # reported below, not swallowed
                errors.append(e)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 20)
        asked = [r for r in self.mocks.requests("virustotal") if r["indicator"] == url]
        self.assertEqual(len(asked), 1)
        self.assertTrue(all(self.inserted(m)["X-Threat-Verdict"] == "clean" for _, m in results))

    def test_sustained_load_loses_nothing(self):
        """Sustained cold load (5 integrations, no cache, 20 connections,
        2,000 messages by bench/milter-load): every message answered, the
        daemon alive. This is the load under which the engine once read a
        freed epoll watch (about one crash per 30k messages, so this test
        is a smoke test; test_engine_parts pins the bug down exactly)."""
        five = ["spamhaus", "virustotal", "safebrowsing", "webrisk", "xforce"]
        overrides = {name: {"Cache": "no"} for name in five}
        overrides["virustotal"]["RateLimit"] = "none"
        self.start(overrides=overrides, integrations=five)
        load = os.path.join(self.dir, "milter-load")
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", load,
                        os.path.join(tmtest.SRCDIR, "bench", "milter-load.c"), "-lpthread"],
                       check=True)
        paths = []
        for i in range(400):	# 400 distinct URLs, each in five messages
            path = os.path.join(self.dir, "load%03d.eml" % i)
            with open(path, "wb") as f:
                f.write(mail("see https://load-%d.example/p?id=%d" % (i, i),
                             received_ip="192.0.2.%d" % (1 + i % 250)))
            paths.append(path)
        out = subprocess.run([load, "-s", "unix:" + self.sock, "-c", "20", "-n", "2000",
                              "-m", "50", *paths], capture_output=True, text=True, timeout=300)
        self.assertIsNone(self.daemon.proc.poll(), "the daemon died: %s" % self.daemon.proc.poll())
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        result = json.loads(out.stdout)
        self.assertEqual(result["errors"], 0)
        self.assertEqual(result["replies"]["accept"], 2000)
        for name in five[1:]:
            self.assertGreater(len(self.mocks.requests(name)), 0, name)

    def test_keys_never_logged(self):
        self.start(LogWhy="yes")
        self.mocks.fault("virustotal", "badkey")
        self.send(BAD)
        log = open(os.path.join(self.dir, "milter.log"), "rb").read()
        for secret in tmtest.SECRETS:
            self.assertNotIn(secret.encode(), log)

    # ------------------------------------------------------------ daemon

    def test_start_log_names_the_libmilter_thread_model(self):
        """Debian's shared libmilter has the worker pool (README, "Busy
        sites"); a build against contrib/build-libmilter.sh has not. The
        start-up log says which one the running binary got."""
        self.start()
        linked = subprocess.run(["ldd", tmtest.BINARY], capture_output=True, text=True).stdout
        shared = [line.split("=>")[1].split()[0] for line in linked.splitlines()
                  if "libmilter" in line and "=>" in line]
        pool = bool(shared) and "mi_pool_controller_init" in subprocess.run(
            ["nm", "-D", shared[0]], capture_output=True, text=True).stdout
        log = open(os.path.join(self.dir, "milter.log")).read()
        self.assertIn("libmilter: worker pool" if pool else "libmilter: one thread per connection",
                      log)

    def test_broken_reload_keeps_the_running_configuration(self):
        self.start(On_Malicious="reject")
        log_path = os.path.join(self.dir, "milter.log")
        with open(self.config, "a") as f:
            f.write("On-Clean sideways\n")
        before = open(log_path, "rb").read().count(b"reload failed")
        self.daemon.signal(tmtest.signal.SIGHUP)
        tmtest.wait_for(lambda: open(log_path, "rb").read().count(b"reload failed") > before,
                        20, "the failed reload")
        log = open(log_path, "rb").read()
        self.assertIn(b"threatmilter.conf:", log)	# file:line named
        # still running, still with the old configuration
        final, _ = self.send(BAD)
        self.assertEqual(final[0], "replycode")
        self.assertTrue(final[1].startswith("550 "))
        type(self).current = None	# the file on disk is broken: restart next time

    def test_broken_configuration_refuses_to_start(self):
        bad = os.path.join(self.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("Socket local:%s/never.sock\nMaxURLs many\n" % self.dir)
        out = tmtest.subprocess.run([tmtest.BINARY, "-f", "-c", bad], capture_output=True,
                                    timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn(("%s:2: MaxURLs" % bad).encode(), out.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "never.sock")))

    def test_pid_file(self):
        pid_file = os.path.join(self.dir, "tm.pid")
        self.start(PidFile=pid_file)
        self.assertEqual(open(pid_file).read().strip(), str(self.daemon.proc.pid))
        self.daemon.stop()
        self.assertFalse(os.path.exists(pid_file))
        self.assertFalse(os.path.exists(self.sock))	# the unix socket is removed too
        type(self).current = None


if __name__ == "__main__":
    tmtest.run_tests(__name__)
