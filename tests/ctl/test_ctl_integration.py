#!/usr/bin/env python3
"""`threatmilterctl integration ...` as an administrator uses it: the
seed's Integrations page (columns, tag filter), the New-integration form's
per-type defaults, Test Connection against the mock providers, and the
file rules (mode 0640, validated by the daemon's loader before anything
is replaced, keys never printed)."""
import json
import os
import re
import stat

from ctlcase import CTL, CtlCase, LONG_KEY, tmtest

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def settings(data):
    """{Key: value} of an integration file."""
    out = {}
    for line in data.decode().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().partition("\t")
            out[key] = value.strip()
    return out


class Integrations(CtlCase):
    def test_administrator_session(self):
        """add VirusTotal with the key on stdin, list (tag filter), show
        (masked), test against the mock, disable, delete."""
        out, _ = self.add_virustotal("vt", tmtest.VT_KEY, "--tags", "prod, mail",
                                     "--description", "VirusTotal main")
        self.assertIn("added vt", out)
        self.ctl("integration", "add", "zen", "--type", "Zen SpamHaus", "--tags", "lab",
                 "--DNSServers", "127.0.0.1:%d" % self.mocks.dns["dns"])

        out, _ = self.ctl("integration", "list")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "TYPE", "DESCRIPTION", "STATUS",
                                            "CREATED", "TAGS"])
        self.assertEqual(len(lines), 3)
        column = lines[0].index("STATUS")     # aligned: every row's status below it
        self.assertTrue(all(row[column:].startswith("active") for row in lines[1:]), out)
        self.assertRegex(lines[1], r"^vt +virustotal +VirusTotal main +active +%s +prod, mail$"
                         % ISO)

        out, _ = self.ctl("integration", "list", "--tag", "PROD")
        self.assertEqual([l.split()[0] for l in out.splitlines()[1:]], ["vt"])
        rows = json.loads(self.ctl("integration", "list", "--tag", "lab", "--json")[0])
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0]["Name"], rows[0]["Type"], rows[0]["Status"], rows[0]["Tags"]),
                         ("zen", "spamhaus", "active", ["lab"]))
        self.assertRegex(rows[0]["Created"], ISO)
        self.assertEqual(json.loads(self.ctl("integration", "list", "--type", "VirusTotal",
                                             "--json")[0])[0]["Name"], "vt")
        self.assertEqual(self.ctl("integration", "list", "--status", "inactive")[0].count("\n"),
                         1)

        out, _ = self.ctl("integration", "show", "vt")
        self.assertRegex(out, r"(?m)^APIKey\t+\*\*\*\*$")     # 11 characters: no last4
        self.assertRegex(out, r"(?m)^DetectionThreshold\t+1$")

        out, _ = self.ctl("integration", "test", "vt")
        self.assertRegex(out, r"^vt: connection OK \(ip 8\.8\.8\.8: ")
        self.mocks.fault("virustotal", "badkey")
        out, _ = self.ctl("integration", "test", "--all", expect=1)
        self.assertRegex(out, r"(?m)^vt: connection failed \(ip 8\.8\.8\.8: error")
        self.assertRegex(out, r"(?m)^zen: connection OK")
        self.mocks.reset()

        self.ctl("integration", "disable", "vt")
        self.assertEqual(settings(self.read("vt"))["Status"], "inactive")
        out, _ = self.ctl("integration", "list", "--status", "inactive")
        self.assertEqual([l.split()[0] for l in out.splitlines()[1:]], ["vt"])
        self.ctl("integration", "enable", "vt")
        self.assertEqual(settings(self.read("vt"))["Status"], "active")

        self.ctl("integration", "delete", "vt", "--yes")
        self.assertFalse(os.path.exists(self.path("vt")))
        self.assertNotIn("vt ", self.ctl("integration", "list")[0])
        self.assertIn("1 integration (", self.daemon_check())

    def test_secret_masked_with_last_four(self):
        self.add_virustotal("vt", LONG_KEY)
        out, _ = self.ctl("integration", "show", "vt")
        self.assertRegex(out, r"(?m)^APIKey\t+\*\*\*\*WXYZ$")
        shown = json.loads(self.ctl("integration", "show", "vt", "--json")[0])
        self.assertEqual(shown["APIKey"], "****WXYZ")
        self.assertIn(LONG_KEY.encode(), self.read("vt"))    # the file holds it in clear

    def test_key_from_file_and_password_from_stdin(self):
        key_file = os.path.join(self.dir, "xf.key")
        with open(key_file, "w") as f:
            f.write(tmtest.XF_KEY + "\n")
        self.ctl("integration", "add", "xf", "--type", "xforce", "--key-file", key_file,
                 "--password", "-", "--APIURL", self.mocks.api_root("xforce"),
                 stdin=tmtest.XF_PASS + "\n")
        values = settings(self.read("xf"))
        self.assertEqual((values["APIKey"], values["APIPassword"]),
                         (tmtest.XF_KEY, tmtest.XF_PASS))
        self.assertRegex(self.ctl("integration", "test", "xf")[0], r"^xf: connection OK")

    def test_key_on_the_command_line_is_warned_about(self):
        _, err = self.ctl("integration", "add", "gsb", "--type", "safebrowsing",
                          "--key", "Abcdefgh12345678")
        self.assertIn("visible in ps", err)

    def test_form_defaults_per_type(self):
        """The seed's form: default API URL per type, toggles on, OPSWAT and
        ANY.RUN attachments off, uploads off, Status active, Created now."""
        self.ctl("integration", "add", "md", "--type", "metadefender", "--key", "-",
                 stdin=tmtest.MD_KEY)
        md = settings(self.read("md"))
        self.assertEqual((md["APIURL"], md["URLs"], md["SenderIP"], md["Attachments"],
                          md["Status"]),
                         ("https://api.metadefender.com/v4", "yes", "yes", "no", "active"))
        self.assertRegex(md["Created"], ISO)
        self.assertNotEqual(md.get("UploadPEFiles", "no"), "yes")

        self.ctl("integration", "add", "ar", "--type", "anyrun", "--status", "inactive")
        ar = settings(self.read("ar"))
        self.assertEqual((ar["APIURL"], ar["URLs"], ar["Attachments"], ar["Status"]),
                         ("https://api.any.run/v1/analysis", "yes", "no", "inactive"))
        self.ctl("integration", "add", "x", "--type", "xforce", "--key", "-", "--password",
                 "-", stdin="k1234567890\np1234567890\n")
        x = settings(self.read("x"))
        self.assertEqual((x["APIURL"], x["URLs"], x["SenderIP"], x["Attachments"]),
                         ("https://api.xforce.ibmcloud.com", "yes", "yes", "yes"))
        self.daemon_check()

    def test_form_labels_are_accepted(self):
        self.add_virustotal("vt", tmtest.VT_KEY, "--detection-threshold", "4",
                            "--Hide-URL-Parameters", "yes", "--upload-pe-files=yes")
        values = settings(self.read("vt"))
        self.assertEqual((values["DetectionThreshold"], values["HideURLParameters"],
                          values["UploadPEFiles"]), ("4", "yes", "yes"))
        _, err = self.ctl("integration", "edit", "vt", "--colour", "red", expect=2)
        self.assertIn("unknown field '--colour'", err)

    def test_mode_0640_and_kept_on_edit(self):
        self.add_virustotal()
        self.assertEqual(stat.S_IMODE(os.stat(self.path("vt")).st_mode), 0o640)
        os.chmod(self.path("vt"), 0o600)
        self.ctl("integration", "edit", "vt", "--tags", "a,b")
        self.assertEqual(stat.S_IMODE(os.stat(self.path("vt")).st_mode), 0o640)

    def test_bad_value_refused_without_writing(self):
        """file:line naming the field; the file and the directory as they were."""
        self.add_virustotal("vt", tmtest.VT_KEY, "--DetectionThreshold", "2")
        before, listing = self.read("vt"), sorted(os.listdir(self.idir))
        line = [i for i, l in enumerate(before.decode().splitlines(), 1)
                if l.startswith("DetectionThreshold")][0]
        _, err = self.ctl("integration", "edit", "vt", "--DetectionThreshold", "lots", expect=1)
        self.assertIn("%s:%d: DetectionThreshold:" % (self.path("vt"), line), err)
        _, err = self.ctl("integration", "edit", "vt", "--Timeout", "99h", expect=1)
        self.assertIn("Timeout", err)
        self.assertIn("nothing written", err)
        self.assertEqual(self.read("vt"), before)
        self.assertEqual(sorted(os.listdir(self.idir)), listing)

    def test_whole_file_checked_by_the_loader(self):
        """A value fine alone but refused for the integration (a key copied
        from an example, on an active integration): the loader's file:line."""
        self.add_virustotal("vt", "your-virustotal-api-key", "--status", "inactive")
        before = self.read("vt")
        _, err = self.ctl("integration", "enable", "vt", expect=1)
        self.assertRegex(err, re.escape(self.path("vt")) + r":\d+: APIKey: the placeholder")
        self.assertEqual(self.read("vt"), before)
        self.assertEqual([f for f in os.listdir(self.idir) if f.endswith(".tmp")], [])

    def test_crash_before_rename_keeps_the_old_file(self):
        """The tool killed after writing the temp file, before rename(): the
        old file is intact and the daemon still loads the configuration."""
        shim_c = os.path.join(self.dir, "crash.c")
        shim = os.path.join(self.dir, "crash.so")
        with open(shim_c, "w") as f:
            f.write("#include <signal.h>\n#include <unistd.h>\n"
                    "int rename(const char *a, const char *b)\n"
                    "{ (void)a; (void)b; kill(getpid(), SIGKILL); return -1; }\n")
        proc = tmtest.subprocess.run(["cc", "-shared", "-fPIC", "-o", shim, shim_c],
                                     capture_output=True)
        if proc.returncode != 0:
            self.skipTest("no C compiler for the crash shim")
        self.add_virustotal()
        before = self.read("vt")
        # an ASan build (make distcheck) wants its runtime first otherwise
        asan = os.environ.get("ASAN_OPTIONS", "")
        self.ctl("integration", "edit", "vt", "--DetectionThreshold", "9",
                 env={"LD_PRELOAD": shim,
                      "ASAN_OPTIONS": asan + (":" if asan else "") +
                      "verify_asan_link_order=0"}, expect=-9)
        self.assertEqual(self.read("vt"), before)
        self.assertTrue([f for f in os.listdir(self.idir) if f.endswith(".tmp")],
                        "the crash should leave the temp file")
        self.assertIn("1 integration (", self.daemon_check())   # the loader skips it
        self.ctl("integration", "edit", "vt", "--DetectionThreshold", "9")
        self.assertEqual(settings(self.read("vt"))["DetectionThreshold"], "9")

    def test_new_file_owned_as_the_others(self):
        if os.geteuid() != 0:
            self.skipTest("only root gives files away")
        self.add_virustotal("vt")
        os.chown(self.path("vt"), 65534, 65534)
        self.ctl("integration", "add", "zen", "--type", "spamhaus")
        st = os.stat(self.path("zen"))
        self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))
        self.ctl("integration", "edit", "vt", "--tags", "x")
        st = os.stat(self.path("vt"))
        self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))

    def test_list_names_a_broken_file(self):
        """A file broken by hand does not hide the others; it is named with
        the loader's file:line and the exit status says so."""
        self.add_virustotal()
        with open(self.path("broken"), "w") as f:
            f.write("Name broken\nType virustotal\nCacheHours soon\n")
        out, err = self.ctl("integration", "list", expect=1)
        self.assertIn("%s:3: CacheHours" % self.path("broken"), err)
        self.assertEqual([l.split()[0] for l in out.splitlines()[1:]], ["vt"])
        self.ctl("integration", "edit", "vt", "--tags", "still-editable")

    def test_usage_and_names(self):
        self.add_virustotal()
        self.ctl("integration", "add", "vt", "--type", "virustotal", expect=1)   # taken
        self.ctl("integration", "add", "bad/name", "--type", "spamhaus", expect=2)
        self.ctl("integration", "add", "n", "--type", "nosuch", expect=2)
        self.ctl("integration", "add", "n", "--tags", "t", expect=2)       # no type
        self.ctl("integration", "add", "late", "--tags", "t", "--integration-type=spamhaus")
        self.assertEqual(settings(self.read("late"))["Type"], "spamhaus")
        self.ctl("integration", "show", "nosuch", expect=2)
        self.ctl("integration", "edit", "vt", "--Name", "other", expect=1)
        self.ctl("integration", "delete", "vt", expect=2)       # stdin not a terminal
        self.assertTrue(os.path.exists(self.path("vt")))
        self.ctl("integration", "frobnicate", expect=2)
        self.ctl("nosuch", expect=2)
        for sub in ("list", "show", "add", "edit", "enable", "disable", "delete", "test"):
            out, _ = self.ctl("integration", sub, "--help")
            self.assertIn("usage: threatmilterctl", out)
        self.assertIn("exit status", self.ctl("--help")[0])

    def test_f2_values_the_loader_would_cut_are_refused(self):
        """F2 (breaker): a value the file cannot hold (" #" starts a comment,
        surrounding blanks are trimmed, a newline ends the line) was written
        and read back cut: "test-vt-key #x" became "test-vt-key". Now it is
        refused naming the field, the value never quoted, nothing written;
        what is written reads back byte for byte."""
        _, err = self.ctl("integration", "add", "vt", "--type", "virustotal", "--key", "-",
                          stdin=tmtest.VT_KEY + " #not-part-of-the-key\n", expect=1)
        self.assertIn("APIKey: a value cannot hold '#'", err)
        self.assertFalse(os.path.exists(self.path("vt")))
        _, err = self.ctl("integration", "add", "vt", "--type", "virustotal", "--key", "-",
                          stdin=LONG_KEY + " \n", expect=1)
        self.assertIn("APIKey: a value cannot begin or end with a blank", err)
        self.assertFalse(os.path.exists(self.path("vt")))

        self.add_virustotal("vt", LONG_KEY)
        before = self.read("vt")
        for field, value, why in (
                ("--Description", "VirusTotal #2 (prod)", "'#'"),
                ("--Description", "tabbed\t#2", "control characters"),
                ("--Description", "two\nlines", "control characters"),
                ("--Description", "red\x1b[31m", "control characters"),
                ("--Description", " leading", "blank"),
                ("--Tags", "a,#b", "'#'"),
                ("--APIURL", self.mocks.api_root("virustotal") + " #x", "'#'")):
            _, err = self.ctl("integration", "edit", "vt", field, value, expect=1)
            self.assertIn("%s: a value cannot" % field[2:], err)
            self.assertIn(why, err)
            self.assertIn("nothing written", err)
            self.assertEqual(self.read("vt"), before)
        key_file = os.path.join(self.dir, "hash.key")
        with open(key_file, "w") as f:
            f.write(LONG_KEY + " #x\n")
        self.ctl("integration", "edit", "vt", "--key-file", key_file, expect=1)
        self.assertEqual(self.read("vt"), before)

        self.ctl("integration", "edit", "vt", "--Description", "VirusTotal#2 (prod)",
                 "--Tags", "a#1, b")
        shown = json.loads(self.ctl("integration", "show", "vt", "--json")[0])
        self.assertEqual((shown["Description"], shown["Tags"]), ("VirusTotal#2 (prod)", "a#1, b"))
        self.daemon_check()

    def test_f2_exclusion_entries_read_back(self):
        """F2: an exclusion entry with a control character was written (and
        an inline list's line with it); now refused, nothing written."""
        with open(self.config, "rb") as f:
            before = f.read()
        _, err = self.ctl("exclude", "add", "extensions", "p\x1bdf", expect=1)
        self.assertIn("ExcludeExtensions: a value cannot hold control characters", err)
        self.ctl("exclude", "add", "urls", "#evil.example", expect=1)
        with open(self.config, "rb") as f:
            self.assertEqual(f.read(), before)
        self.ctl("exclude", "add", "urls", "https://a.example/app#/admin")
        self.assertEqual(self.ctl("exclude", "list", "urls")[0],
                         "https://a.example/app#/admin\n")

    def test_f6_add_as_non_root_leaks_nothing(self):
        """F6 (breaker): new_file_owner() opened the directory before its
        root check and returned without closing it: LeakSanitizer failed
        every non-root `integration add`. Valgrind (or the ASan build's own
        LeakSanitizer) over an add as a user that is not root."""
        import shutil
        import subprocess
        asan = b"__asan_init" in open(CTL, "rb").read()
        valgrind = shutil.which("valgrind")
        if not asan and valgrind is None:
            self.skipTest("neither valgrind nor an ASan build")
        if os.geteuid() == 0:
            user = {"user": 65534, "group": 65534}     # nobody
        else:
            user = {}
        work = tmtest.tempfile.mkdtemp(prefix="tmctl-f6.", dir="/tmp")
        try:
            os.chmod(work, 0o755)
            os.mkdir(os.path.join(work, "integrations.d"))
            conf = os.path.join(work, "threatmilter.conf")
            with open(conf, "w") as f:
                f.write("Syslog no\n")
            for entry in (work, os.path.join(work, "integrations.d"), conf):
                if user:
                    os.chown(entry, 65534, 65534)
            argv = [CTL, "-c", conf, "--no-reload", "integration", "add", "vt", "--type",
                    "virustotal", "--key", "-"]
            if not asan:
                argv = [valgrind, "-q", "--leak-check=full", "--show-leak-kinds=definite",
                        "--errors-for-leak-kinds=definite", "--error-exitcode=99"] + argv
            env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
            try:
                proc = subprocess.run(argv, input=(LONG_KEY + "\n").encode(),
                                      capture_output=True, timeout=120, env=env, **user)
            except PermissionError:
                self.skipTest("cannot run as another user")
            err = proc.stderr.decode()
            self.assertNotIn("new_file_owner", err)
            self.assertEqual(proc.returncode, 0, err)
            self.assertTrue(os.path.exists(os.path.join(work, "integrations.d", "vt.conf")))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_f7_proxy_password_never_printed(self):
        """F7 (breaker): `integration show` printed a Proxy's password;
        shown as "****" now (no character of it, unlike a key's last
        four), in show, show --json and the messages that quote a URL."""
        password = "S3cretProxyPass"
        proxy = "http://proxyuser:%s@127.0.0.1:3128" % password
        self.add_virustotal("vt", LONG_KEY, "--Proxy", proxy)
        self.assertIn(proxy.encode(), self.read("vt"))      # the file holds it
        out, err = self.ctl("integration", "show", "vt")
        self.assertRegex(out, r"(?m)^Proxy\t+http://proxyuser:\*\*\*\*@127\.0\.0\.1:3128$")
        shown = json.loads(self.ctl("integration", "show", "vt", "--json")[0])
        self.assertEqual(shown["Proxy"], "http://proxyuser:****@127.0.0.1:3128")
        _, err = self.ctl("integration", "edit", "vt", proxy, expect=2)
        self.assertIn("unexpected argument 'http://proxyuser:****@", err)
        self.ctl("integration", "edit", "vt", "--APIURL",
                 "https://apiuser:%s@127.0.0.1:1/api" % password)
        out, err = self.ctl("integration", "show", "vt")
        self.assertIn("https://apiuser:****@127.0.0.1:1/api", out)
        for text in (out + err, json.dumps(json.loads(
                self.ctl("integration", "show", "vt", "--json")[0]))):
            self.assertNotIn(password, text)
            self.assertNotIn(password[-4:] + "@", text)
        # `exclude list` prints the entries as the daemon reads them: a URL
        # prefix with credentials is masked too (the file keeps it)
        self.ctl("exclude", "add", "urls", "https://user:%s@portal.example/safe/" % password)
        self.assertEqual(self.ctl("exclude", "list", "urls")[0],
                         "https://user:****@portal.example/safe/\n")

    def test_f11_field_errors_are_usage_errors(self):
        """F11 (breaker): an unknown field or a field without its value
        exited 1 without usage; threatmilterctl(8) says usage errors exit 2."""
        self.add_virustotal()
        before = self.read("vt")
        for args in (["edit", "vt", "--NoSuchField", "1"], ["edit", "vt", "--Description"],
                     ["edit", "vt", "stray"]):
            _, err = self.ctl("integration", *args, expect=2)
            self.assertRegex(err, r"(?m)^usage: threatmilterctl integration edit NAME ")
            self.assertEqual(self.read("vt"), before)
        _, err = self.ctl("integration", "add", "vt2", "--type", "virustotal", "--key", "-",
                          "--Colour", "red", stdin=LONG_KEY + "\n", expect=2)
        self.assertRegex(err, r"(?m)^usage: threatmilterctl integration add NAME --type TYPE")
        self.assertFalse(os.path.exists(self.path("vt2")))
        self.ctl("integration", "edit", "vt", "--DetectionThreshold", "lots", expect=1)

    def test_f11_man_page_documents_every_command(self):
        """F11 (breaker): `--help` sends the reader to threatmilterctl(8),
        which had no apivoid and ironscales commands at all. Every command
        of --help has a synopsis line, and every action of apivoid --help
        and ironscales --help an entry."""
        with open(os.path.join(os.environ["TM_SRCDIR"], "man", "threatmilterctl.8.in")) as f:
            man = f.read().replace("\\-", "-")
        commands = re.findall(r"(?m)^  ([a-z]+) ", self.ctl("--help")[0].split("commands:")[1])
        self.assertIn("ironscales", commands)
        for command in commands:
            self.assertIn(".B threatmilterctl " + command, man)
        usage = self.ctl("apivoid", "--help")[0]
        actions = re.search(r"(\w+(?:\|\w+)+) \[ENTITY", usage).group(1).split("|")
        usage = self.ctl("ironscales", "--help")[0]
        actions += re.findall(r"(?m)^  ([a-z-]+)", usage)
        self.assertIn("mailbox-mitigations", actions)
        for action in actions:
            self.assertTrue(re.search(r"(?m)^\.B[IR]? %s\b" % re.escape(action), man), action)
        exit_status = man.split(".SH EXIT STATUS")[1].split(".SH")[0]
        self.assertIn("apivoid", exit_status)
        self.assertIn("ironscales", exit_status)

    def test_help_needs_no_configuration_file(self):
        """A new administrator reads `COMMAND --help` before there is a
        configuration: the help is printed, and a command that needs the
        file says how to name it."""
        import subprocess
        missing = os.path.join(self.dir, "nowhere", "threatmilter.conf")
        for args in (["integration", "--help"], ["integration", "add", "--help"],
                     ["integration", "list", "--help"], ["exclude", "--help"], ["exclude", "add", "--help"],
                     ["reload", "--help"]):
            proc = subprocess.run([CTL, "-c", missing] + args, capture_output=True, timeout=30)
            self.assertEqual(proc.returncode, 0, (args, proc.stderr))
            self.assertIn(b"usage: threatmilterctl", proc.stdout, args)
        proc = subprocess.run([CTL, "-c", missing, "integration", "list"], capture_output=True,
                              timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"-c FILE", proc.stderr)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
