#!/usr/bin/env python3
"""`threatmilterctl exclude`: the seed's Advanced Settings. Entries are
checked as the daemon checks them, the inline key or its file: list is
edited in place, and the daemon's loader reads the result."""
import os

from ctlcase import CtlCase, tmtest


class Exclude(CtlCase):
    def conf(self):
        with open(self.config) as f:
            return f.read()

    def effective(self, key):
        proc = tmtest.run("-c", self.config, "-e", key)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc.stdout.decode().split()

    def test_inline_lists(self):
        out, _ = self.ctl("exclude", "add", "urls", "example.com",
                          "https://portal.example.net/safe/")
        self.assertIn("added 2 entries to ExcludeURLs", out)
        self.ctl("exclude", "add", "ips", "10.0.0.0/8", "2001:db8::/32", "192.0.2.1")
        self.ctl("exclude", "add", "extensions", ".pdf", "docx")
        self.assertIn("ExcludeURLs\texample.com, https://portal.example.net/safe/\n",
                      self.conf())
        self.assertEqual(self.effective("ExcludeIPs"), ["10.0.0.0/8", "2001:db8::/32",
                                                        "192.0.2.1"])
        self.assertEqual(self.effective("ExcludeExtensions"), [".pdf", "docx"])
        out, _ = self.ctl("exclude", "list")
        self.assertIn("urls        example.com\n", out)
        self.assertEqual(self.ctl("exclude", "list", "ips")[0].split(),
                         ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"])

        out, _ = self.ctl("exclude", "add", "urls", "example.com")
        self.assertIn("already there", out)
        self.ctl("exclude", "remove", "ips", "2001:db8::/32")
        self.assertEqual(self.effective("ExcludeIPs"), ["10.0.0.0/8", "192.0.2.1"])
        self.ctl("exclude", "remove", "extensions", ".pdf", "docx")
        self.assertNotIn("ExcludeExtensions", self.conf())      # an empty key is an error
        self.daemon_check()

    def test_line_edited_in_place_with_its_comment(self):
        with open(self.config, "a") as f:
            f.write("ExcludeIPs\t\t10.0.0.0/8\t# the LAN\nMaxURLs 50\n")
        self.ctl("exclude", "add", "ips", "172.16.0.0/12")
        self.assertIn("ExcludeIPs\t\t10.0.0.0/8, 172.16.0.0/12\t# the LAN\nMaxURLs 50\n",
                      self.conf())

    def test_invalid_entries_refused(self):
        with open(self.config, "a") as f:
            f.write("ExcludeIPs 10.0.0.0/8\n")
        before = self.conf()
        for kind, bad in (("ips", "10.0.0.0/33"), ("ips", "300.1.2.3"), ("ips", "example.com"),
                          ("extensions", "a/b"), ("urls", "a b"), ("urls", "a.example,b")):
            _, err = self.ctl("exclude", "add", kind, "192.0.2.7", bad, expect=1)
            self.assertIn("nothing written", err)
        _, err = self.ctl("exclude", "remove", "ips", "192.0.2.99", expect=1)
        self.assertIn("not in the list", err)
        self.assertEqual(self.conf(), before)
        self.ctl("exclude", "add", "nothing", "x", expect=2)
        self.assertIn("usage:", self.ctl("exclude", "--help")[0])

    def test_file_list(self):
        lists = os.path.join(self.conf_dir, "exclude-urls.txt")
        with open(lists, "w") as f:
            f.write("# our own sites\nexample.com\nhttps://app.example.net/#/admin  # SPA\n")
        with open(self.config, "a") as f:
            f.write("ExcludeURLs file:exclude-urls.txt\n")
        before_conf = self.conf()
        self.ctl("exclude", "add", "urls", "corp.example")
        self.ctl("exclude", "remove", "urls", "example.com")
        with open(lists) as f:
            self.assertEqual(f.read(), "# our own sites\nhttps://app.example.net/#/admin  # SPA\n"
                             "corp.example\n")
        self.assertEqual(self.conf(), before_conf)
        self.assertEqual(self.effective("ExcludeURLs"),
                         ["https://app.example.net/#/admin", "corp.example"])


if __name__ == "__main__":
    tmtest.run_tests(__name__)
