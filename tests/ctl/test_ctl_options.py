"""The option handling every threatmilterctl subcommand shares
(src/ctl/ctl_options.c): --help to stdout with status 0, a bad option
with status 2 and getopt's message, the usage text on stderr where the
subcommand prints it, the short letters each subcommand takes, and where
options may stand: anywhere for the provider actions, before the first
argument for `integration list` and `reload`."""
from ctlcase import CtlCase, tmtest


class OptionsTest(CtlCase):
    # each subcommand: the words before its options, the name getopt's
    # messages start with, the word its usage line names
    COMMANDS = ((("integration", "list"), "list", "integration"),
                (("reload",), "reload", "reload"),
                (("apivoid", "ping"), "apivoid", "apivoid"),
                (("ironscales", "ping"), "ironscales", "ironscales"))

    def test_help_goes_to_stdout_with_status_0(self):
        for words, _, usage in self.COMMANDS:
            for option in ("--help", "-h", "--he"):
                out, err = self.ctl(*words, option)
                self.assertTrue(out.startswith("usage: threatmilterctl [-c FILE] " + usage),
                                (words, option, out))
                self.assertEqual(err, "", (words, option))

    def test_bad_option_names_itself_and_exits_2(self):
        for words, name, _ in self.COMMANDS:
            for option, message in (("--bogus", "unrecognized option '--bogus'"),
                                    ("-x", "invalid option -- 'x'")):
                out, err = self.ctl(*words, option, expect=2)
                self.assertEqual(out, "", (words, option))
                self.assertTrue(err.startswith("%s: %s\n" % (name, message)), (words, err))
        for args, message in ((("integration", "list", "--tag"), "list: option '--tag' requires"),
                              (("apivoid", "ping", "-t"), "apivoid: option requires an argument"),
                              (("ironscales", "--integration"), "ironscales: option '--integration' requires")):
            self.assertTrue(self.ctl(*args, expect=2)[1].startswith(message), args)

    def test_usage_text_after_a_bad_option_only_for_provider_actions(self):
        _, err = self.ctl("integration", "list", "--bogus", expect=2)
        self.assertNotIn("usage:", err)
        _, err = self.ctl("reload", "--bogus", expect=2)
        self.assertNotIn("usage:", err)
        for command in ("apivoid", "ironscales"):
            _, err = self.ctl(command, "--bogus", "ping", expect=2)
            self.assertIn("usage: threatmilterctl [-c FILE] %s" % command, err)
            out, err = self.ctl(command, expect=2)    # no action
            self.assertEqual(out, "")
            self.assertTrue(err.startswith("usage: threatmilterctl [-c FILE] %s" % command), err)

    def test_short_letters(self):
        # apivoid takes -i -t -j -o, grouped too; ironscales -i only
        _, err = self.ctl("apivoid", "-jt5", "-o", self.dir, "-i", "nosuch", "ping", expect=2)
        self.assertEqual(err, "threatmilterctl apivoid: no APIVoid integration of that name\n")
        _, err = self.ctl("ironscales", "-i", "nosuch", "ping", expect=2)
        self.assertEqual(err, "threatmilterctl ironscales: no integration named 'nosuch'\n")
        _, err = self.ctl("ironscales", "-j", "ping", expect=2)
        self.assertTrue(err.startswith("ironscales: invalid option -- 'j'\n"), err)
        _, err = self.ctl("integration", "list", "-j", expect=2)
        self.assertEqual(err, "list: invalid option -- 'j'\n")

    def test_provider_actions_take_options_after_the_action(self):
        _, err = self.ctl("apivoid", "ping", "--integration", "nosuch", expect=2)
        self.assertEqual(err, "threatmilterctl apivoid: no APIVoid integration of that name\n")
        _, err = self.ctl("ironscales", "ping", "--integration=nosuch", expect=2)
        self.assertEqual(err, "threatmilterctl ironscales: no integration named 'nosuch'\n")
        # "--" ends the options: what follows is an argument
        _, err = self.ctl("ironscales", "ping", "--", "--json", expect=2)
        self.assertIn("not an argument of this action", err)

    def test_list_and_reload_options_stop_at_the_first_argument(self):
        usage = "threatmilterctl: usage: integration list [--tag T] [--type T] " \
                "[--status active|inactive] [--json]\n"
        _, err = self.ctl("integration", "list", "extra", "--bogus", expect=2)
        self.assertEqual(err, usage)
        _, err = self.ctl("integration", "list", "--bogus", "extra", expect=2)
        self.assertEqual(err, "list: unrecognized option '--bogus'\n")
        _, err = self.ctl("reload", "extra", "--bogus", expect=2)
        self.assertEqual(err, "threatmilterctl: reload takes no arguments\n")

    def test_list_values_and_abbreviations(self):
        self.add_virustotal("vt1")
        out, _ = self.ctl("integration", "list", "--type=virustotal", "--stat", "active", "--js")
        self.assertIn('"Name":\t"vt1"', out)
        out, _ = self.ctl("integration", "list", "--tag", "none-such")
        self.assertEqual(out.split(), ["NAME", "TYPE", "DESCRIPTION", "STATUS", "CREATED", "TAGS"])


if __name__ == "__main__":
    tmtest.run_tests(__name__)
