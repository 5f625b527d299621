#!/usr/bin/env python3
"""CacheBackend, RedisServer and RedisTimeout (issue 15): `-n` checks
them, the password comes from a file and never reaches a log line or the
output, a refused password is an outage like any other (messages are
answered from the local cache), and `threatmilter test` checks Redis.

Run by `make check` through run-redis.sh (TM_BINARY, TM_SRCDIR)."""
import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import redisenv  # noqa: E402

tmtest = redisenv.tmtest
PASSWORD = "s3cret-redis-pw-0451"


@unittest.skipUnless(redisenv.available(), "redis-server is not installed")
class Settings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmtest.tmpdir()
        cls.mocks = tmtest.Mocks(cls.dir)
        cls.redis = redisenv.Redis(cls.dir, password=PASSWORD)
        cls.pwfile = os.path.join(cls.dir, "redis.pass")
        with open(cls.pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        cls.badpw = os.path.join(cls.dir, "bad.pass")
        with open(cls.badpw, "w") as f:
            f.write("not-the-password-9931\n")

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()
        cls.mocks.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def config(self, name, **main):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        settings = {"Socket": "local:" + os.path.join(d, "milter.sock")}
        settings.update(main)
        return tmtest.write_config(d, self.mocks, integrations=["virustotal"], main=settings,
                                   overrides={"virustotal": {"SenderIP": "no"}})

    def check(self, **main):
        proc = tmtest.run("-n", "-c", self.config("n", **main))
        return proc.returncode, (proc.stdout + proc.stderr).decode()

    def test_n_checks_the_settings(self):
        port = self.redis.port
        good = "127.0.0.1:%d db=2 prefix=x: password-file=%s" % (port, self.pwfile)
        self.assertEqual(self.check(CacheBackend="redis", RedisServer=good)[0], 0)
        self.assertEqual(self.check(CacheBackend="memory")[0], 0)
        for main, words in [
                ({"CacheBackend": "mongo"}, "CacheBackend"),
                ({"CacheBackend": "redis"}, "RedisServer: missing"),
                ({"CacheBackend": "redis", "RedisServer": "redis.example:6379"}, "numeric"),
                ({"CacheBackend": "redis", "RedisServer": "127.0.0.1:99999"}, "bad port"),
                ({"CacheBackend": "redis", "RedisServer": "unix:relative"}, "absolute"),
                ({"CacheBackend": "redis", "RedisServer": "127.0.0.1 db=x"}, "db=x"),
                ({"CacheBackend": "redis", "RedisServer": "127.0.0.1 colour=red"}, "colour"),
                ({"CacheBackend": "redis",
                  "RedisServer": "127.0.0.1 password-file=/nonexistent/pw"}, "/nonexistent/pw"),
                ({"RedisTimeout": "0ms"}, "RedisTimeout")]:
            status, text = self.check(**main)
            self.assertEqual(status, 1, (main, text))
            self.assertIn(words, text, main)
        proc = tmtest.run("-c", self.config("e"), "-e", "RedisTimeout")
        self.assertEqual(proc.stdout.decode().strip(), "50ms")

    def run_daemon(self, name, pwfile, count):
        sock = os.path.join(self.dir, name, "milter.sock")
        conf = self.config(name, CacheBackend="redis", ScanDeadline="3s",
                           RedisServer="127.0.0.1:%d db=1 prefix=%s: password-file=%s"
                           % (self.redis.port, name, pwfile))
        log = os.path.join(self.dir, name, "milter.log")
        daemon = tmtest.Daemon(conf, "local:" + sock, log)
        try:
            for i in range(count):
                final, mods, secs = redisenv.send(
                    sock, redisenv.mail(["https://%s%d.example/" % (name, i % 3)], i))
                self.assertEqual(final[0], "accept")
                self.assertEqual(redisenv.verdict(mods), "clean")
                if i == 0:
                    tmtest.wait_for(lambda: b"redis 127.0.0.1" in tmtest.read_bytes(log), 10,
                                    "the Redis log line")
        finally:
            daemon.stop()
        return tmtest.read_bytes(log), conf

    def test_password_from_file_never_logged(self):
        text, conf = self.run_daemon("good", self.pwfile, 10)
        self.assertIn(b"shared cache in use", text)
        self.assertNotIn(PASSWORD.encode(), text)
        self.assertNotIn(b"good:c:", text)		# nor the keys
        # db=1 and the prefix: the answers are there
        self.assertTrue(self.keys_in_db1("good:c:virustotal:url:*"))
        proc = tmtest.run("test", "-c", conf)
        out = (proc.stdout + proc.stderr).decode()
        self.assertIn("redis 127.0.0.1:%d db 1: connection OK" % self.redis.port, out)
        self.assertNotIn(PASSWORD, out)

    def keys_in_db1(self, pattern):
        reply = self.redis.command("EVAL", "redis.call('SELECT', 1) return "
                                   "redis.call('KEYS', ARGV[1])", "0", pattern)
        return [k for k in reply.split(b"\r\n")[2::2] if k]

    def test_refused_password_is_an_outage(self):
        text, conf = self.run_daemon("bad", self.badpw, 6)
        self.assertEqual(text.count(redisenv.OUTAGE_LINE), 1, text)
        self.assertIn(b"WRONGPASS", text)
        self.assertNotIn(b"not-the-password-9931", text)
        proc = tmtest.run("test", "-c", conf)
        out = (proc.stdout + proc.stderr).decode()
        self.assertEqual(proc.returncode, 1, out)
        self.assertIn("connection failed (AUTH: WRONGPASS", out)
        self.assertNotIn("not-the-password-9931", out)


if __name__ == "__main__":
    tmtest.run_tests(__name__)
