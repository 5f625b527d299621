"""What the threatmilterctl tests share: the binary beside threatmilter, a
configuration without integrations pointing at the mocks, and a runner that
checks no secret ever reaches the output."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import tmtest  # noqa: E402

CTL = os.path.join(os.path.dirname(tmtest.BINARY), "threatmilterctl")
# a key long enough to be shown as ****last4 (shorter ones are all stars)
LONG_KEY = "k3y-0123456789abcdefWXYZ"


class CtlCase(unittest.TestCase):
    """One temporary directory and the mocks for the class; a fresh
    configuration (no integrations) for every test."""
    secrets = tmtest.SECRETS + (LONG_KEY,)

    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.mocks.stop()
        import shutil
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.mocks.reset()
        self.config = tmtest.write_config(self.dir, self.mocks, integrations=(),
                                          main=getattr(self, "main", None))
        self.conf_dir = os.path.dirname(self.config)
        self.idir = os.path.join(self.conf_dir, "integrations.d")

    def ctl(self, *args, stdin=None, env=None, expect=0, reload=False):
        """threatmilterctl -c CONFIG ARGS; asserts the exit status and that
        no secret is printed; returns (stdout, stderr) as text."""
        argv = [CTL, "-c", self.config] + ([] if reload else ["--no-reload"]) + list(args)
        run_env = dict(os.environ, **(env or {}))
        proc = tmtest.subprocess.run(argv, input=stdin.encode() if stdin else None,
                                     capture_output=True, timeout=60, env=run_env)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        if expect is not None:
            self.assertEqual(proc.returncode, expect,
                             "%s\nstdout: %s\nstderr: %s" % (args, out, err))
        for secret in self.secrets:
            self.assertNotIn(secret, out + err)
        return out, err

    def path(self, name):
        return os.path.join(self.idir, name + ".conf")

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def add_virustotal(self, name="vt", key=tmtest.VT_KEY, *fields):
        return self.ctl("integration", "add", name, "--type", "virustotal", "--key", "-",
                        "--APIURL", self.mocks.api_root("virustotal"), *fields,
                        stdin=key + "\n")

    def daemon_check(self):
        """`threatmilter -n`: the daemon's loader over what the tool wrote."""
        proc = tmtest.run("-n", "-c", self.config)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc.stdout.decode() + proc.stderr.decode()
