#!/usr/bin/env python3
"""Defect 8 (issue 11): configure accepted libcurl 7.68 and any GLib while
the code needs libcurl >= 7.85 (CURLOPT_PROTOCOLS_STR) and GLib >= 2.68
(g_string_replace). For every API below that the sources use, the
minimum that configure.ac asks for must be at least the version that
introduced it. Add a row when the code starts using a newer API."""
import os
import re
import sys
import unittest

SRCDIR = os.environ.get("TM_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))

# API -> (pkg-config module, first version that has it)
SINCE = {
    "CURLOPT_PROTOCOLS_STR": ("libcurl", "7.85"),
    "curl_easy_header": ("libcurl", "7.83"),
    "CURLINFO_RETRY_AFTER": ("libcurl", "7.66"),
    "curl_mime_init": ("libcurl", "7.56"),
    "CURLOPT_REDIR_PROTOCOLS_STR": ("libcurl", "7.85"),
    "g_string_replace": ("glib-2.0", "2.68"),
    "g_ptr_array_find_with_equal_func": ("glib-2.0", "2.54"),
    "g_strv_contains": ("glib-2.0", "2.44"),
    "cJSON_ParseWithLength": ("libcjson", "1.7.13"),
    "ares_set_servers_ports_csv": ("libcares", "1.11"),
    "ares_getaddrinfo": ("libcares", "1.16"),
    "ares_reinit": ("libcares", "1.22"),
    "ares_queue_wait_empty": ("libcares", "1.27"),
    "ares_process_fds": ("libcares", "1.34"),
}


def version(text):
    return tuple(int(p) for p in text.split("."))


def configure_minimums():
    with open(os.path.join(SRCDIR, "configure.ac"), encoding="utf-8") as f:
        text = f.read()
    return {m.group(1): m.group(2)
            for m in re.finditer(r"\[([\w.+-]+) >= ([\d.]+)\]", text)}


def sources():
    for top in ("src",):
        for root, _dirs, files in os.walk(os.path.join(SRCDIR, top)):
            for name in files:
                if name.endswith((".c", ".h")):
                    with open(os.path.join(root, name), encoding="utf-8",
                              errors="replace") as f:
                        yield os.path.join(root, name), f.read()


class DependencyMinimums(unittest.TestCase):
    def test_defect8_configure_asks_for_what_the_code_uses(self):
        minimums = configure_minimums()
        used = {}
        for path, text in sources():
            for api in SINCE:
                if re.search(r"\b%s\b" % api, text):
                    used.setdefault(api, path)
        self.assertIn("CURLOPT_PROTOCOLS_STR", used)  # the table is not stale
        for api, path in sorted(used.items()):
            module, since = SINCE[api]
            with self.subTest(api=api):
                self.assertIn(module, minimums,
                              "configure.ac does not check %s (%s uses %s)"
                              % (module, path, api))
                self.assertGreaterEqual(
                    version(minimums[module]), version(since),
                    "%s uses %s (since %s %s) but configure.ac accepts %s >= %s"
                    % (os.path.relpath(path, SRCDIR), api, module, since, module,
                       minimums[module]))

    def test_defect8_configure_names_the_debian_package(self):
        with open(os.path.join(SRCDIR, "configure.ac"), encoding="utf-8") as f:
            text = f.read()
        for module, package in (("glib-2.0", "libglib2.0-dev"),
                                ("libcurl", "libcurl4-openssl-dev"),
                                ("libcares", "libc-ares-dev"),
                                ("libcjson", "libcjson-dev")):
            self.assertRegex(text, r"TM_REQUIRE_PKG\(\[\w+\], \[%s >= [\d.]+\], \[%s\]\)"
                             % (re.escape(module), re.escape(package)))


if __name__ == "__main__":
    sys.exit(0 if unittest.main(exit=False, verbosity=2).result.wasSuccessful() else 1)
