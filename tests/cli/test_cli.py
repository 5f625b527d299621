#!/usr/bin/env python3
"""Command-line behaviour of `threatmilter`: exit statuses, error messages
naming files and lines, -n / -e / -V, and `scan` options and limits.

Run by `make check` through run-cli.sh (TM_BINARY, TM_SRCDIR set)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

BINARY = os.environ["TM_BINARY"]
SRCDIR = os.environ["TM_SRCDIR"]
CRAFTED = os.path.join(SRCDIR, "tests", "corpus", "crafted")

MESSAGE = b"""Received: from a.example (a.example [198.51.100.7])
\tby mx.example with ESMTP id X; Tue, 2 Jan 2024 10:00:00 +0000
From: a@example.net
To: b@example.com
Subject: three links
MIME-Version: 1.0
Content-Type: text/plain

https://one.badhost.example/1 https://two.badhost.example/2
https://three.safe.example/3
"""


def run(*args, stdin=None):
    return subprocess.run([BINARY, *args], input=stdin, capture_output=True, timeout=60)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.msg = self.write("three.eml", MESSAGE)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def conf(self, text):
        return self.write("threatmilter.conf", text)

    def scan(self, *args, stdin=None):
        result = run("scan", "--no-lookups", *args, stdin=stdin)
        lines = result.stdout.decode().splitlines()
        return result, [json.loads(line) for line in lines]

    def test_empty_message_parts_scan_without_criticals(self):
        """Breaker F5: an empty .eml attachment, a message/rfc822 part that
        decodes to nothing and an empty file were handed to GMime as a
        NULL buffer: CRITICALs, and an abort under G_DEBUG=fatal-criticals
        (the content of a message decides when it is empty)."""
        head = ("From: a@example.com\nSubject: r\nMIME-Version: 1.0\n"
                "Content-Type: multipart/mixed; boundary=B\n\n--B\n")
        eml = self.write("empty-eml.eml", head + "Content-Type: application/octet-stream; "
                         "name=x.eml\n\n\n--B--\n")
        rfc822 = self.write("empty-rfc822.eml", head + "Content-Type: message/rfc822\n"
                            "Content-Transfer-Encoding: base64\n\n!!!!\n--B--\n")
        empty = self.write("empty.eml", b"")
        conf = self.conf("")
        env = dict(os.environ, G_DEBUG="fatal-criticals")
        for args in (["--no-lookups"], []):
            result = subprocess.run([BINARY, "scan", "-c", conf, *args, eml, rfc822, empty],
                                    capture_output=True, timeout=60, env=env)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertNotIn(b"CRITICAL", result.stderr)
            objs = [json.loads(line) for line in result.stdout.decode().splitlines()]
            self.assertEqual(len(objs), 3)
            facts = [o.get("facts", o) for o in objs]
            self.assertEqual([a["filename"] for a in facts[0]["attachments"]], ["x.eml"])
            self.assertEqual(facts[0]["attachments"][0]["size"], 0)
            # the three digests with and without lookups (the lookups'
            # path computed SHA-256 only and printed "" for the others)
            att = facts[0]["attachments"][0]
            self.assertEqual((att["md5"], att["sha1"]),
                             ("d41d8cd98f00b204e9800998ecf8427e",
                              "da39a3ee5e6b4b0d3255bfef95601890afd80709"))

    def test_scan_prints_one_object_per_file(self):
        conf = self.conf("")
        result, objs = self.scan("-c", conf, self.msg, os.path.join(CRAFTED, "c17_no_received.eml"))
        self.assertEqual(result.returncode, 0)
        self.assertEqual([o["file"] for o in objs],
                         [self.msg, os.path.join(CRAFTED, "c17_no_received.eml")])
        self.assertEqual(objs[0]["facts"]["sender_ip"], "198.51.100.7")
        self.assertEqual(len(objs[0]["facts"]["urls"]), 3)

    def test_missing_file_is_named_and_others_still_scanned(self):
        conf = self.conf("")
        missing = os.path.join(self.dir, "nope.eml")
        result, objs = self.scan("-c", conf, missing, self.msg)
        self.assertEqual(result.returncode, 1)
        self.assertIn(missing, result.stderr.decode())
        self.assertEqual(len(objs), 1)

    def test_stdin(self):
        conf = self.conf("")
        result, objs = self.scan("-c", conf, "-", stdin=MESSAGE)
        self.assertEqual(result.returncode, 0)
        self.assertEqual(objs[0]["file"], "-")
        self.assertIn("https://three.safe.example/3", objs[0]["facts"]["urls"])

    def test_no_files_is_usage_error(self):
        result = run("scan", "--no-lookups")
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"usage", result.stderr)

    def test_pretty_is_valid_json(self):
        conf = self.conf("")
        result = run("scan", "--no-lookups", "--pretty", "-c", conf, self.msg)
        self.assertEqual(result.returncode, 0)
        self.assertEqual(json.loads(result.stdout)["facts"]["sender_ip"], "198.51.100.7")

    def test_max_urls_cap_is_reported(self):
        conf = self.conf("MaxURLs 2\n")
        _, objs = self.scan("-c", conf, self.msg)
        facts = objs[0]["facts"]
        self.assertEqual(len(facts["urls"]), 2)
        self.assertEqual(facts["urls_dropped"], 1)
        self.assertIn("max_urls", facts["limits"])

    def test_max_message_size_is_reported_not_fatal(self):
        conf = self.conf("MaxMessageSize 100\n")
        result, objs = self.scan("-c", conf, self.msg)
        self.assertEqual(result.returncode, 0)
        self.assertIn("max_message_size", objs[0]["facts"]["limits"])
        self.assertEqual(objs[0]["facts"]["urls"], [])

    def test_exclusions_mark_indicators(self):
        conf = self.conf("ExcludeURLs badhost.example\nExcludeIPs 198.51.100.0/24\n")
        _, objs = self.scan("-c", conf, self.msg)
        facts = objs[0]["facts"]
        excluded = {e["indicator"]: e["excluded"] for e in facts["exclusions"]}
        self.assertIn("https://one.badhost.example/1", excluded)
        self.assertIn("https://two.badhost.example/2", excluded)
        self.assertNotIn("https://three.safe.example/3", excluded)
        self.assertIn("198.51.100.7", excluded)
        # excluded indicators stay in the facts
        self.assertEqual(len(facts["urls"]), 3)

    def test_exclusion_list_file(self):
        lists = self.write("urls.txt", "# safe domains\nsafe.example\n")
        conf = self.conf(f"ExcludeURLs file:{lists}\n")
        _, objs = self.scan("-c", conf, self.msg)
        excluded = [e["indicator"] for e in objs[0]["facts"].get("exclusions", [])]
        self.assertEqual(excluded, ["https://three.safe.example/3"])

    def test_internal_hosts_skip_a_public_hop(self):
        conf = self.conf("InternalHosts 198.51.100.0/24\n")
        _, objs = self.scan("-c", conf, self.msg)
        self.assertIsNone(objs[0]["facts"]["sender_ip"])

    def test_check_config_ok(self):
        conf = self.conf("MaxURLs 10\n")
        result = run("-n", "-c", conf)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_check_config_error_names_file_and_line(self):
        conf = self.conf("MaxURLs 10\n\nNoSuchKey yes\n")
        result = run("-n", "-c", conf)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{conf}:3:".encode(), result.stderr)

    def test_scan_refuses_broken_config(self):
        conf = self.conf("MaxURLs lots\n")
        result = run("scan", "--no-lookups", "-c", conf, self.msg)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{conf}:1:".encode(), result.stderr)
        self.assertEqual(result.stdout, b"")

    def test_print_effective_value(self):
        conf = self.conf("MaxURLs 17\n")
        result = run("-c", conf, "-e", "MaxURLs")
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stdout.decode().strip(), "17")
        result = run("-c", conf, "-e", "On-Malicious")
        self.assertEqual(result.stdout.decode().strip(), "quarantine")

    def test_print_lists_inline_and_from_files(self):
        """-e prints a list key's entries one per line, whether written
        inline or read from a file: list (the file's comments left out)."""
        self.write("domains.txt", "# ours\nexample.org\n\nhttps://intranet.example/docs\n")
        conf = self.conf("ExcludeURLs file:domains.txt\n"
                         "ExcludeIPs 192.0.2.0/24,2001:db8::/32\n"
                         "ReportRecipients abuse@example.com, phish@example.com\n")
        for key, expected in [
                ("ExcludeURLs", ["example.org", "https://intranet.example/docs"]),
                ("ExcludeIPs", ["192.0.2.0/24", "2001:db8::/32"]),
                ("ReportRecipients", ["abuse@example.com", "phish@example.com"]),
                ("ExcludeExtensions", []),
                ("InternalHosts", [])]:
            result = run("-c", conf, "-e", key)
            self.assertEqual(result.returncode, 0, key)
            self.assertEqual(result.stdout.decode().splitlines(), expected, key)

    def test_print_unknown_key(self):
        conf = self.conf("")
        result = run("-c", conf, "-e", "NoSuchKey")
        self.assertEqual(result.returncode, 1)

    def test_version(self):
        result = run("-V")
        self.assertEqual(result.returncode, 0)
        self.assertTrue(result.stdout.startswith(b"threatmilter "))

    def test_fault18_8_gnu_long_options(self):
        """issue 18, 8: --help and --version as every GNU-style tool has
        them, a long form for every option."""
        result = run("--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        for option in (b"--config", b"--check", b"--print", b"--foreground", b"--version",
                       b"--help"):
            self.assertIn(option, result.stdout)
        result = run("--version")
        self.assertEqual(result.returncode, 0)
        self.assertTrue(result.stdout.startswith(b"threatmilter "))
        conf = self.conf("MaxURLs 10\n")
        self.assertEqual(run("--check", "--config", conf).returncode, 0)
        self.assertEqual(run("--check", "--config=" + conf).returncode, 0)
        result = run("--config", conf, "--print=MaxURLs")
        self.assertEqual((result.returncode, result.stdout), (0, b"10\n"))
        result = run("--config", conf, "--print", "MaxURLs")
        self.assertEqual(result.stdout, b"10\n")

    def test_scan_help_says_what_scan_does(self):
        """scan --help described only --no-lookups: it said 'Prints the
        facts' although scan asks the integrations and prints the
        verdict, and named neither option."""
        result = run("scan", "--help")
        self.assertEqual(result.returncode, 0)
        for word in (b"--no-lookups", b"--pretty", b"-c FILE", b"verdict",
                     b"embedded defaults"):
            self.assertIn(word, result.stdout)

    def test_test_connection_without_integrations_says_so(self):
        """`threatmilter test` on a configuration without integrations
        printed nothing and exited 0: the administrator could read that
        as every connection OK."""
        result = run("test", "-c", self.conf("MaxURLs 10\n"))
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"no integration to test", result.stderr)
        self.assertIn(b"integrations.d", result.stderr)

    def test_fault18_8_wrong_arguments_say_what_is_wrong(self):
        result = run("bogus")
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"unexpected argument 'bogus'", result.stderr)
        self.assertIn(b"scan", result.stderr)
        result = run("--bogus")
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"--bogus", result.stderr)
        self.assertIn(b"--help", result.stderr)

    def test_sample_configuration_checks(self):
        result = run("-n", "-c", os.path.join(SRCDIR, "conf", "threatmilter.conf"))
        self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(CliTest)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    print(f"cli: {result.testsRun - failed - skipped} passed, {failed} failed"
          + (f", {skipped} skipped" if skipped else ""))
    sys.exit(1 if failed else 0)
