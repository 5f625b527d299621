#!/usr/bin/env python3
"""Issue 17.2 through a real Postfix: one amplification mail (200 attached
.eml messages x 500 URLs on distinct domains, about 2.4 MB) neither buys
unbounded provider work nor starves the other mail.

While the amplification mail is being judged, probe messages (one harmless
URL each) are sent through the same Postfix. Checked:
  - the amplification mail is not `clean`: X-Threat-Verdict unknown
    (On-Limit tag) and its report names the limit (max_indicators);
  - every probe gets its real verdict (`clean`, not `unknown` from a
    starved queue) and its end-of-data reply within PROBE_BOUND;
  - the provider requests the amplification mail caused stay within
    MaxIndicators per integration, and none are sent after its decision.

Both integrations answer after DELAY_MS (Spamhaus DBL through the mock DNS,
VirusTotal through the mock HTTPS API) with MaxInFlight 4, so one
integration does at most 4 / DELAY_MS = ~27 lookups a second.

On the code before MaxIndicators and the per-message fair queue (d491048)
MaxURLs applied per attached message: the mail queued 100,000 lookups per
integration in one FIFO, every probe waited the whole ScanDeadline and was
accepted `unknown`, and lookups went on after the mail's decision.

Needs root and postfix; skipped without. Run by `make check` through
run-e2e.sh."""
import os
import shutil
import smtplib
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import tmtest  # noqa: E402

HARNESS = os.path.join(HERE, "postfix-harness.sh")
PARTS = 200	# attached .eml messages
URLS_PER_PART = 500	# distinct domains in each
DELAY_MS = 150	# every provider answer, ms
MAX_IN_FLIGHT = 4	# per integration
# Below the default 1000 so that the bound shows within the test's time:
# 200 lookups at 4 in flight x 150 ms take 7.5 s per integration.
MAX_INDICATORS = 200
SCAN_DEADLINE = 12.0	# s: above those 7.5 s, so the mail ends on its limit
PROBES = 4
PROBE_SPACING = 1.0	# s between probes, from the first amplification lookup on
# A probe's lookups wait for at most one amplification lookup per
# integration to finish (fair queuing hands the next free slot to the
# message with fewest in flight), then take DELAY_MS themselves; both
# integrations ask in parallel. 2 s more cover Postfix, the milter round
# trips and two shared, busy cores (the amplification mail's parse).
PROBE_BOUND = 2 * DELAY_MS / 1000.0 + 2.0


def have_postfix():
    return os.geteuid() == 0 and \
        (shutil.which("postfix") or os.path.exists("/usr/sbin/postfix"))


def amp_domain(n):
    return "amp-%d.example" % n


def amplification_mail():
    """multipart/mixed with PARTS message/rfc822 attachments, each a text
    mail with URLS_PER_PART links on distinct domains (CRLF lines)."""
    out = ["From: mallory@example.net", "To: bob@example.com", "Subject: amplification",
           "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="amp"', "",
           "--amp", "Content-Type: text/plain", "", "see the attached reports"]
    for i in range(PARTS):
        out += ["--amp", "Content-Type: message/rfc822",
                'Content-Disposition: attachment; filename="report-%d.eml"' % i, "",
                "From: x%d@example.org" % i, "To: bob@example.com",
                "Subject: report %d" % i, "Content-Type: text/plain", ""]
        out += ["http://%s/" % amp_domain(i * URLS_PER_PART + j)
                for j in range(URLS_PER_PART)]
    out += ["--amp--", ""]
    return "\r\n".join(out)


def probe_mail(n):
    return ("From: alice@example.net\r\nTo: bob@example.com\r\n"
            "Subject: probe %d\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
            "see http://probe-%d.example/page\r\n" % (n, n))


def header_values(text, name):
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    values = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and values:
            values[-1] = (values[-1][0], values[-1][1] + " " + line.strip())
            continue
        key, _, value = line.partition(":")
        values.append((key.strip().lower() == name.lower(), value.strip()))
    return [v for match, v in values if match]


@unittest.skipUnless(have_postfix(), "needs root and postfix")
class AmplificationThroughPostfix(tmtest.PostfixHarnessMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        os.chmod(cls.dir, 0o755)	# the milter runs as nobody, postfix reads the socket
        cls.mocks = tmtest.Mocks(cls.dir, delay_ms=DELAY_MS)
        os.chmod(cls.mocks.ca, 0o644)
        spool = os.path.join(cls.dir, "spool")
        os.makedirs(spool)
        os.chmod(spool, 0o1777)
        cls.sock = os.path.join(cls.dir, "milter.sock")
        cls.daemon = None
        main = {"Socket": "local:" + cls.sock, "SocketMode": "0660", "SocketGroup": "postfix",
                "UserID": "nobody", "TmpDir": spool, "ScanDeadline": "%ds" % SCAN_DEADLINE,
                "MaxIndicators": str(MAX_INDICATORS)}
        limits = {"MaxInFlight": str(MAX_IN_FLIGHT)}
        cls.config = tmtest.write_config(cls.dir, cls.mocks,
                                         integrations=["spamhaus", "virustotal"], main=main,
                                         overrides={"spamhaus": limits, "virustotal": limits})
        if b"unknown key 'MaxIndicators'" in tmtest.run("-n", "-c", cls.config).stderr:
            # a build from before the key (TM_BINARY of an old commit, to
            # see this test fail there): the same run without it
            del main["MaxIndicators"]
            cls.config = tmtest.write_config(
                cls.dir, cls.mocks, integrations=["spamhaus", "virustotal"], main=main,
                overrides={"spamhaus": limits, "virustotal": limits})
        for root, dirs, files in os.walk(os.path.dirname(cls.config)):
            for name in dirs + files:
                os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
        os.chmod(os.path.dirname(cls.config), 0o755)
        cls.pf_dir = os.path.join(cls.dir, "postfix")
        env = dict(os.environ, TM_PF_DIR=cls.pf_dir, TM_PF_MILTER="unix:" + cls.sock,
                   TM_PF_MAIN_EXTRA="milter_command_timeout = 60s\n"
                                    "milter_content_timeout = 60s")
        out = subprocess.run(["bash", HARNESS, "start"], env=env, capture_output=True,
                             timeout=120)
        if out.returncode != 0:
            cls.mocks.stop()
            raise RuntimeError("postfix harness: " + out.stderr.decode())
        cls.port = int(cls.pf("echo $TM_PF_PORT").strip())
        cls.daemon = tmtest.Daemon(cls.config, "local:" + cls.sock,
                                   os.path.join(cls.dir, "milter.log"))

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["bash", HARNESS, "stop", cls.pf_dir], capture_output=True, timeout=60)
        cls.mocks.reset()
        if cls.daemon:
            cls.daemon.stop()
        cls.mocks.stop()
        if os.environ.get("TM_KEEP") != "1":
            shutil.rmtree(cls.dir, ignore_errors=True)

    # ------------------------------------------------------------ clients

    def send(self, data, results, key):
        """One SMTP transaction; results[key] = (reply code to the end of
        data, seconds from the final dot to that reply, monotonic time of
        the reply)."""
        try:
            smtp = smtplib.SMTP("127.0.0.1", self.port, timeout=90)
            smtp.ehlo("client.example")
            smtp.mail("alice@example.net")
            smtp.rcpt("bob@example.com")
            code, text = smtp.docmd("DATA")
            if code != 354:
                raise smtplib.SMTPDataError(code, text)
            smtp.send(data + ".\r\n" if data.endswith("\r\n") else data + "\r\n.\r\n")
            t = time.monotonic()
            code, _ = smtp.getreply()
            end = time.monotonic()
            results[key] = (code, end - t, end)
            smtp.quit()
        except (OSError, smtplib.SMTPException) as e:
            results[key] = (repr(e), None, time.monotonic())

    def amp_requests(self):
        """(DBL queries, VirusTotal requests) for the amplification mail's
        domains so far."""
        dns = self.mocks.dns_stats().get("by_indicator", {})
        http = self.mocks.stats().get("by_indicator", {})
        return (sum(n for k, n in dns.items() if k and k.startswith("amp-")),
                sum(n for k, n in http.items() if "amp-" in k))

    def sink_message(self, subject, timeout=30):
        """The delivered message with this Subject line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in self.pf("sink_grep 'Subject: %s' || true" % subject).split():
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                if header_values(text, "Subject") == [subject]:
                    return text
            time.sleep(0.2)
        self.fail("no delivered message with Subject: " + subject)

    # -------------------------------------------------------------- test

    def test_17_2_amplification_mail_bounded_and_probes_not_starved(self):
        self.mocks.reset()
        self.mocks._http("/fault", {"mode": "delay", "ms": DELAY_MS}, dns=True)
        self.pf("sink_clear")
        results = {}
        amp = threading.Thread(target=self.send, args=(amplification_mail(), results, "amp"))
        amp.start()
        # the probes go while the mail is being judged: from its first lookup on
        tmtest.wait_for(lambda: sum(self.amp_requests()) > 0 or not amp.is_alive(), 60,
                        "the amplification mail's first lookup")
        probes, sent = [], []
        for n in range(PROBES):
            sent.append(time.monotonic())
            t = threading.Thread(target=self.send, args=(probe_mail(n), results, n))
            t.start()
            probes.append(t)
            time.sleep(PROBE_SPACING)
        for t in probes:
            t.join(120)
        amp.join(120)
        after_decision = self.amp_requests()
        time.sleep(1.5)	# lookups that go on after the decision would show here
        dbl, vt = self.amp_requests()

        waits = [results[n][1] for n in range(PROBES)]
        print("\namplification: end-of-data reply %s s, %d DBL queries, %d VirusTotal "
              "requests; probe end-of-data replies %s s (longest %.2f s)"
              % (None if results["amp"][1] is None else "%.2f" % results["amp"][1], dbl, vt,
                 ", ".join("-" if w is None else "%.2f" % w for w in waits),
                 max((w for w in waits if w is not None), default=float("nan"))),
              file=sys.stderr)

        self.assertEqual(results["amp"][0], 250, "the amplification mail's end of data")
        for n in range(PROBES):
            self.assertEqual(results[n][0], 250, "probe %d's end of data" % n)
        # the probes were answered while the amplification mail was judged
        self.assertLess(sent[-1], results["amp"][2], "the last probe went after the "
                        "amplification mail's decision: nothing was measured")
        msg = self.sink_message("amplification")
        self.assertEqual(header_values(msg, "X-Threat-Verdict"), ["unknown"])
        report = " ".join(header_values(msg, "X-Threat-Report"))
        self.assertIn("max_indicators", report)
        for n in range(PROBES):
            probe = self.sink_message("probe %d" % n)
            self.assertEqual(header_values(probe, "X-Threat-Verdict"), ["clean"],
                             "probe %d: %s" % (n, header_values(probe, "X-Threat-Report")))
            self.assertLessEqual(waits[n], PROBE_BOUND, "probe %d's end-of-data reply (s)" % n)
        self.assertLessEqual(dbl, MAX_INDICATORS, "DBL queries for the amplification mail")
        self.assertLessEqual(vt, MAX_INDICATORS, "VirusTotal requests for the amplification mail")
        self.assertEqual((dbl, vt), after_decision, "lookups sent after the mail's decision")


if __name__ == "__main__":
    tmtest.run_tests(__name__)
