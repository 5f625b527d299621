#!/usr/bin/env python3
"""Self-test of the mock providers (mock_providers.py), the mock Spamhaus
DNS server (mock_dns.py) and the test CA (gen_test_ca.sh).

Starts both servers on free ports with a CA generated into a temporary
directory, talks to them with http.client/ssl and a raw DNS client written
here, and stops everything at the end. Every test is bounded (SIGALRM).
When ../shared/providers (or $THREATMILTER_PROVIDER_DOCS) exists, the
mock's answers are also compared with the documents' fixture bodies.

Usage: python3 tests/mock/test_mocks.py [-v] [unittest names...]
Last line: "N passed, N failed"; exit status 1 if anything failed.
"""
import base64
import calendar
import hashlib
import http.client
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.environ.get("THREATMILTER_PROVIDER_DOCS",
                      os.path.join(HERE, "..", "..", "..", "shared", "providers"))
TEST_SECONDS = 30           # upper bound for any single test
VT_KEY = {"x-apikey": "test-vt-key"}
GOOGLE_KEY = "test-google-key"
XF_AUTH = {"Authorization": "Basic " + base64.b64encode(b"test-xf-key:test-xf-pass").decode()}
DOC_URL = "http://login-example.test/verify"
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"
EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
LOW_RISK = "55d2ad612f36aebf2184f138d37ba1a16b774627fbbafd737425731369efd010"


# --- processes --------------------------------------------------------------

class Env:
    tmp = None
    procs = []
    providers = {}      # ports of mock_providers.py
    dns = {}            # ports of mock_dns.py


def start_server(script, args, name):
    """Starts a mock, waits for its ports file, returns the ports."""
    ports_file = os.path.join(Env.tmp, name + ".ports")
    log = open(os.path.join(Env.tmp, name + ".log"), "wb")
    proc = subprocess.Popen([sys.executable, "-B", os.path.join(HERE, script), *args,
                             "--ports-file", ports_file],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    Env.procs.append(proc)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if os.path.exists(ports_file):
            with open(ports_file) as f:
                return proc, json.load(f)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(os.path.join(Env.tmp, name + ".log"), errors="replace") as f:
        raise RuntimeError(f"{script} did not start: {f.read()}")


def stop_server(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc in Env.procs:
        Env.procs.remove(proc)


def setUpModule():
    Env.tmp = tempfile.mkdtemp(prefix="tm-mock-test.")
    ca = os.path.join(Env.tmp, "ca")
    subprocess.run(["sh", os.path.join(HERE, "gen_test_ca.sh"), ca], check=True, timeout=60)
    _, Env.providers = start_server("mock_providers.py", [
        "--http-port", "0", "--https-port", "0", "--bad-https-port", "0",
        "--mismatch-https-port", "0",
        "--cert", os.path.join(ca, "server.pem"), "--key", os.path.join(ca, "server.key")],
        "providers")
    _, Env.dns = start_server("mock_dns.py", ["--port", "0", "--control-port", "0"], "dns")


def tearDownModule():
    for proc in list(Env.procs):
        stop_server(proc)
    if Env.tmp:
        shutil.rmtree(Env.tmp, ignore_errors=True)
        Env.tmp = None


# --- HTTP client helpers ----------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def ca_context():
    ctx = ssl.create_default_context(cafile=os.path.join(Env.tmp, "ca", "ca.pem"))
    return ctx


def connection(port=None, tls=None, timeout=5):
    if tls:
        return http.client.HTTPSConnection("127.0.0.1", Env.providers[tls], timeout=timeout,
                                           context=ca_context())
    return http.client.HTTPConnection("127.0.0.1", port or Env.providers["http"], timeout=timeout)


def call(method, path, body=None, headers=None, conn=None, tls=None, timeout=5, port=None):
    own = conn is None
    conn = conn or connection(port, tls, timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Resp(resp.status, resp.headers, resp.read())
    finally:
        if own:
            conn.close()


def control(method, path, doc=None):
    resp = call(method, "/__mock/" + path, body=doc if doc is not None else None)
    if resp.status != 200:
        raise AssertionError(f"control {path}: {resp.status} {resp.body!r}")
    return resp.json()


def fault(provider, mode, **extra):
    control("POST", "fault", dict(provider=provider, mode=mode, **extra))


def url_id(url):
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def vt(path, **kw):
    return call("GET", "/api/v3" + path, headers=kw.pop("headers", VT_KEY), **kw)


def gsb_body(urls, threat_types=("MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE",
                                 "POTENTIALLY_HARMFUL_APPLICATION"),
             platforms=("ANY_PLATFORM",), entry_types=("URL",)):
    info = {"threatTypes": list(threat_types), "platformTypes": list(platforms),
            "threatEntries": [{"url": u} for u in urls]}
    if entry_types is not None:
        info["threatEntryTypes"] = list(entry_types)
    return {"client": {"clientId": "threatmilter", "clientVersion": "0.1"}, "threatInfo": info}


def gsb(body, key=GOOGLE_KEY, **kw):
    path = "/v4/threatMatches:find" + ("?key=" + key if key is not None else "")
    return call("POST", path, body=body, **kw)


def webrisk(uri, types=("MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE"), key=GOOGLE_KEY,
            extra=()):
    params = [("threatTypes", t) for t in types] + ([("uri", uri)] if uri is not None else [])
    params += list(extra) + ([("key", key)] if key is not None else [])
    return call("GET", "/v1/uris:search?" + urlencode(params, quote_via=quote, safe=""))


def xforce(path, headers=XF_AUTH, **kw):
    return call("GET", path, headers=headers, **kw)


MD_KEY = {"apikey": "test-md-key"}


def md(path, method="GET", headers=MD_KEY, **kw):
    return call(method, "/v4" + path, headers=headers, **kw)


# --- DNS client helpers (independent of mock_dns.py's encoder) --------------

def dns_query(name, qtype=1, tcp=False, timeout=2.0, raw=None):
    """Asks the mock; returns the parsed answer or None on timeout."""
    qid = random.randrange(1, 65536)
    msg = raw or (struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
                  + b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
                  + b"\x00" + struct.pack(">HH", qtype, 1))
    addr = ("127.0.0.1", Env.dns["dns"])
    try:
        if tcp:
            with socket.create_connection(addr, timeout=timeout) as s:
                s.sendall(struct.pack(">H", len(msg)) + msg)
                size = struct.unpack(">H", recv_exact(s, 2))[0]
                data = recv_exact(s, size)
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(timeout)
                s.sendto(msg, addr)
                data = s.recv(65535)
    except socket.timeout:
        return None
    reply = parse_dns(data)
    reply["sent_id"] = struct.unpack(">H", msg[:2])[0]
    reply["sent_question"] = msg[12:]
    return reply


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def skip_name(data, pos):
    while True:
        n = data[pos]
        if n >= 0xC0:
            return pos + 2
        if n == 0:
            return pos + 1
        pos += n + 1


def parse_dns(data):
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", data[:12])
    pos = 12
    for _ in range(qd):
        pos = skip_name(data, pos) + 4
    question = data[12:pos]
    records = []
    for section, count in (("answer", an), ("authority", ns), ("additional", ar)):
        for _ in range(count):
            pos = skip_name(data, pos)
            rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
            rdata = data[pos + 10:pos + 10 + rdlen]
            pos += 10 + rdlen
            records.append((section, rtype, ttl, rdata))
    a = [str(ipaddress.IPv4Address(r[3])) for r in records if r[0] == "answer" and r[1] == 1]
    txt = [r[3][1:1 + r[3][0]].decode() for r in records if r[0] == "answer" and r[1] == 16]
    return {"id": qid, "rcode": flags & 0xF, "aa": bool(flags & 0x0400), "qr": bool(flags & 0x8000),
            "tc": bool(flags & 0x0200), "a": sorted(a), "txt": txt, "question": question,
            "ttls": [r[2] for r in records if r[0] == "answer"],
            "authority": [r[1] for r in records if r[0] == "authority"]}


def dns_control(method, path, doc=None):
    conn = http.client.HTTPConnection("127.0.0.1", Env.dns["control"], timeout=5)
    try:
        body = json.dumps(doc).encode() if doc is not None else None
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def rev4(ip, zone="zen.spamhaus.org"):
    return ipaddress.ip_address(ip).reverse_pointer.removesuffix(".in-addr.arpa") + "." + zone


def rev6(ip, zone="zen.spamhaus.org"):
    return ipaddress.ip_address(ip).reverse_pointer.removesuffix(".ip6.arpa") + "." + zone


NXDOMAIN, SERVFAIL, REFUSED, FORMERR = 3, 2, 5, 1


# --- test base --------------------------------------------------------------

class Bounded(unittest.TestCase):
    """Each test gets TEST_SECONDS, then fails; mocks start clean."""

    def setUp(self):
        def expired(signum, frame):
            raise TimeoutError(f"test took longer than {TEST_SECONDS} s")
        signal.signal(signal.SIGALRM, expired)
        signal.alarm(TEST_SECONDS)
        control("POST", "reset")
        dns_control("POST", "/reset")

    def tearDown(self):
        signal.alarm(0)

    def assertVtError(self, resp, status, code):
        self.assertEqual(resp.status, status, resp.body)
        self.assertEqual(resp.json()["error"]["code"], code)

    def assertGoogleError(self, resp, status, canonical):
        self.assertEqual(resp.status, status, resp.body)
        err = resp.json()["error"]
        self.assertEqual((err["code"], err["status"]), (status, canonical))
        return err

    def requests(self, provider=None):
        return control("GET", "requests" + (f"?provider={provider}" if provider else ""))


# --- VirusTotal -------------------------------------------------------------

class VirusTotalTest(Bounded):
    def test_missing_key(self):
        resp = vt("/ip_addresses/8.8.8.8", headers={})
        self.assertVtError(resp, 401, "AuthenticationRequiredError")
        self.assertEqual(resp.json()["error"]["message"], "X-Apikey header is missing")

    def test_wrong_key(self):
        self.assertVtError(vt("/ip_addresses/8.8.8.8", headers={"x-apikey": "nope"}),
                           401, "WrongCredentialsError")

    def test_key_header_name_is_case_insensitive(self):
        self.assertEqual(vt("/ip_addresses/8.8.8.8", headers={"X-Apikey": "test-vt-key"}).status, 200)

    def test_no_query_string_key(self):
        resp = call("GET", "/api/v3/ip_addresses/8.8.8.8?apikey=test-vt-key")
        self.assertVtError(resp, 401, "AuthenticationRequiredError")

    def test_url_verdict_classes(self):
        cases = {"http://malicious.example/a": "malicious", "https://x.suspicious.example/": "suspicious",
                 "https://clean.example/page?x=1": "clean", "http://unscanned.example/": "unscanned"}
        for url, verdict in cases.items():
            resp = vt("/urls/" + url_id(url))
            self.assertEqual(resp.status, 200, url)
            attrs = resp.json()["data"]["attributes"]
            stats = attrs["last_analysis_stats"]
            self.assertEqual(attrs["url"], url)
            self.assertEqual(resp.json()["data"]["id"], hashlib.sha256(url.encode()).hexdigest())
            if verdict == "malicious":
                self.assertGreater(stats["malicious"], 0)
            elif verdict == "suspicious":
                self.assertEqual(stats["malicious"], 0)
                self.assertGreater(stats["suspicious"], 0)
            elif verdict == "clean":
                self.assertEqual((stats["malicious"], stats["suspicious"]), (0, 0))
                self.assertIn("last_analysis_date", attrs)
            else:
                self.assertEqual(sum(stats.values()), 0)
                self.assertNotIn("last_analysis_date", attrs)
        for url in ("http://unknown.example/", "http://host.example/NotFound"):
            resp = vt("/urls/" + url_id(url))
            self.assertVtError(resp, 404, "NotFoundError")
        self.assertEqual([r["indicator"] for r in self.requests()],
                         list(cases) + ["http://unknown.example/", "http://host.example/NotFound"])

    def test_url_identifier_forms(self):
        url = "https://login-example.com/verify?id=1&x=ä"
        ident = "aHR0cHM6Ly9sb2dpbi1leGFtcGxlLmNvbS92ZXJpZnk_aWQ9MSZ4PcOk"   # from the doc
        self.assertEqual(url_id(url), ident)
        self.assertEqual(vt("/urls/" + ident).status, 200)
        self.assertEqual(self.requests()[-1]["indicator"], url)
        padded = base64.urlsafe_b64encode(b"http://a.example/").decode()
        self.assertTrue(padded.endswith("="))
        self.assertVtError(vt("/urls/" + padded), 400, "InvalidArgumentError")
        standard = base64.b64encode(url.encode()).decode().rstrip("=")
        self.assertIn("/", standard)
        self.assertVtError(vt("/urls/" + standard), 400, "InvalidArgumentError")
        self.assertVtError(vt("/urls/" + url_id("http://x.example/").replace("-", "+") + "+"),
                           400, "InvalidArgumentError")
        # the SHA-256 form of a known URL
        doc = vt("/urls/" + hashlib.sha256(b"http://www.example.com/").hexdigest())
        self.assertEqual(doc.json()["data"]["attributes"]["url"], "http://www.example.com/")

    def test_domain(self):
        resp = vt("/domains/Malicious-Domain.example")
        self.assertEqual(resp.status, 200)
        data = resp.json()["data"]
        self.assertEqual((data["type"], data["id"]), ("domain", "malicious-domain.example"))
        self.assertGreater(data["attributes"]["last_analysis_stats"]["malicious"], 0)
        self.assertEqual(vt("/domains/www.example.org").json()["data"]["attributes"]
                         ["last_analysis_stats"]["malicious"], 0)
        resp = vt("/domains/notfound.example")
        self.assertVtError(resp, 404, "NotFoundError")
        self.assertIn('"notfound.example" not found', resp.json()["error"]["message"])

    def test_ip_addresses(self):
        expect = {"203.0.113.50": "malicious", "198.51.100.4": "suspicious", "192.0.2.99": "clean",
                  "2001:db8:bad::1": "malicious", "2001:db8::1": "clean"}
        for ip, verdict in expect.items():
            resp = vt("/ip_addresses/" + ip)
            self.assertEqual(resp.status, 200, ip)
            data = resp.json()["data"]
            stats = data["attributes"]["last_analysis_stats"]
            self.assertEqual((data["type"], data["id"]), ("ip_address", ip))
            got = ("malicious" if stats["malicious"] else "suspicious" if stats["suspicious"]
                   else "clean")
            self.assertEqual(got, verdict, ip)
        self.assertVtError(vt("/ip_addresses/198.18.0.5"), 404, "NotFoundError")
        self.assertVtError(vt("/ip_addresses/999.1.1.1"), 400, "InvalidArgumentError")

    def test_files(self):
        body = vt("/files/" + EICAR_MD5).json()
        self.assertEqual(body["data"]["id"], EICAR_SHA256)
        self.assertEqual(vt("/files/" + EICAR_SHA256.upper()).json(), body)
        self.assertEqual(body["data"]["attributes"]["last_analysis_stats"]["type-unsupported"], 5)
        resp = vt("/files/" + EMPTY_SHA256)
        self.assertVtError(resp, 404, "NotFoundError")
        self.assertEqual(resp.json()["error"]["message"], f'File "{EMPTY_SHA256}" not found')
        bad = "bad" + "0" * 29
        attrs = vt("/files/" + bad).json()["data"]["attributes"]
        self.assertEqual(attrs["md5"], bad)
        self.assertGreater(attrs["last_analysis_stats"]["malicious"], 0)
        attrs = vt("/files/" + "5a5" + "1" * 37).json()["data"]["attributes"]
        self.assertEqual(attrs["last_analysis_stats"]["malicious"], 0)
        self.assertGreater(attrs["last_analysis_stats"]["suspicious"], 0)
        self.assertVtError(vt("/files/404" + "0" * 61), 404, "NotFoundError")
        self.assertVtError(vt("/files/not-a-hash"), 400, "InvalidArgumentError")

    def test_url_submission_and_analysis_polling(self):
        resp = call("POST", "/api/v3/urls", body=b"url=" + quote("http://new.example.net/", safe="").encode(),
                    headers=dict(VT_KEY, **{"Content-Type": "application/x-www-form-urlencoded"}))
        self.assertEqual(resp.status, 200, resp.body)
        data = resp.json()["data"]
        sha = hashlib.sha256(b"http://new.example.net/").hexdigest()
        self.assertEqual(data["type"], "analysis")
        self.assertTrue(data["id"].startswith(f"u-{sha}-"), data["id"])
        first = vt("/analyses/" + data["id"]).json()
        second = vt("/analyses/" + data["id"]).json()
        self.assertEqual(first["data"]["attributes"]["status"], "queued")
        self.assertEqual(second["data"]["attributes"]["status"], "completed")
        self.assertEqual(second["meta"]["url_info"], {"id": sha, "url": "http://new.example.net/"})
        self.assertVtError(vt("/analyses/u-nothing-1"), 404, "NotFoundError")

    def test_file_upload_then_lookup(self):
        content = b"MZ this sample is malicious\x00\xff\r\n binary"
        boundary = "tmBoundary42"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.exe\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + \
            f"\r\n--{boundary}--\r\n".encode()
        headers = dict(VT_KEY, **{"Content-Type": f"multipart/form-data; boundary={boundary}"})
        resp = call("POST", "/api/v3/files", body=body, headers=headers)
        self.assertEqual(resp.status, 200, resp.body)
        analysis = resp.json()["data"]["id"]
        vt("/analyses/" + analysis)
        done = vt("/analyses/" + analysis).json()
        self.assertEqual(done["meta"]["file_info"]["sha256"], hashlib.sha256(content).hexdigest())
        self.assertGreater(done["data"]["attributes"]["stats"]["malicious"], 0)
        attrs = vt("/files/" + hashlib.sha1(content).hexdigest()).json()["data"]["attributes"]
        self.assertEqual((attrs["md5"], attrs["size"]), (hashlib.md5(content).hexdigest(), len(content)))
        # large-file path: one-time upload URL, no key needed on it
        upload = vt("/files/upload_url").json()["data"]
        self.assertTrue(upload.startswith(f"http://127.0.0.1:{Env.providers['http']}/"), upload)
        path = upload.split(str(Env.providers["http"]), 1)[1]
        resp = call("POST", path, body=body, headers={"Content-Type": headers["Content-Type"]})
        self.assertEqual(resp.json()["data"]["type"], "analysis")
        self.assertEqual(call("POST", "/_ah/upload/forged/", body=body,
                              headers={"Content-Type": headers["Content-Type"]}).status, 404)

    @staticmethod
    def vt_upload(content, path="/api/v3/files", filename="a.exe", key=True):
        boundary = "tmBoundary43"
        disposition = 'form-data; name="file"' + (f'; filename="{filename}"' if filename else "")
        body = (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + \
            f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        if key:
            headers.update(VT_KEY)
        return call("POST", path, body=body, headers=headers, timeout=30)

    def test_upload_as_the_document_says(self):
        # a part "file" with a filename; <= 32 MB on /files
        self.assertVtError(self.vt_upload(b"MZ x", filename=None), 400, "BadRequestError")
        big = b"MZ" + b"\0" * (32 * 1024 * 1024 - 1)
        self.assertVtError(self.vt_upload(big), 400, "BadRequestError")
        # above 32 MB: a one-time upload URL, which takes it once
        path = vt("/files/upload_url").json()["data"].split(str(Env.providers["http"]), 1)[1]
        resp = self.vt_upload(big, path=path, key=False)
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.json()["data"]["type"], "analysis")
        self.assertEqual(self.vt_upload(b"MZ again", path=path, key=False).status, 404)
        self.assertVtError(vt("/files/upload_url", headers={}), 401, "AuthenticationRequiredError")

    def test_upload_faults_by_file(self):
        samples = {mode: f"MZ sample for {mode}".encode() for mode in
                   ("upload-stuck", "upload-failed", "upload-quota", "upload-5xx")}
        control("POST", "indicators", {"provider": "virustotal", "indicators":
                                       {hashlib.sha256(c).hexdigest(): m for m, c in samples.items()}})
        for mode, content in samples.items():
            self.assertVtError(vt("/files/" + hashlib.sha256(content).hexdigest()), 404, "NotFoundError")
        self.assertVtError(self.vt_upload(samples["upload-quota"]), 429, "QuotaExceededError")
        self.assertVtError(self.vt_upload(samples["upload-5xx"]), 503, "TransientError")
        stuck = self.vt_upload(samples["upload-stuck"]).json()["data"]["id"]
        states = [vt("/analyses/" + quote(stuck, safe="")).json()["data"]["attributes"]["status"]
                  for _ in range(4)]
        self.assertEqual(states, ["queued", "in-progress", "in-progress", "in-progress"])
        failed = self.vt_upload(samples["upload-failed"]).json()["data"]["id"]
        vt("/analyses/" + failed)
        done = vt("/analyses/" + failed).json()["data"]["attributes"]
        self.assertEqual(done["status"], "completed")
        self.assertEqual((done["stats"]["malicious"], done["stats"]["harmless"],
                          done["stats"]["undetected"]), (0, 0, 0))
        self.assertGreater(done["stats"]["failure"], 0)

    def test_user_quota_and_key_scrubbing(self):
        resp = vt("/users/test-vt-key")
        self.assertEqual(resp.status, 200)
        self.assertIn("api_requests_daily", resp.json()["data"]["attributes"]["quotas"])
        record = self.requests()[-1]
        self.assertEqual(record["path"], "/api/v3/users/<redacted>")
        self.assertEqual(record["headers"]["x-apikey"], "<redacted>")
        self.assertNotIn("test-vt-key", json.dumps(self.requests()))

    def test_unknown_endpoint(self):
        self.assertVtError(vt("/nothing/here"), 404, "NotFoundError")


# --- Google Safe Browsing ---------------------------------------------------

class SafeBrowsingTest(Bounded):
    def test_keys(self):
        body = gsb_body([DOC_URL])
        self.assertGoogleError(gsb(body, key=None), 403, "PERMISSION_DENIED")
        err = self.assertGoogleError(gsb(body, key="wrong"), 400, "INVALID_ARGUMENT")
        self.assertEqual(err["details"][0]["reason"], "API_KEY_INVALID")
        err = self.assertGoogleError(gsb(body, key="test-google-key-disabled"), 403, "PERMISSION_DENIED")
        self.assertIn("Safe Browsing API has not been used", err["message"])
        # only ?key= works (the header form is unverified for this API)
        resp = call("POST", "/v4/threatMatches:find", body=body, headers={"X-goog-api-key": GOOGLE_KEY})
        self.assertEqual(resp.status, 403)

    def test_verdict_classes_in_one_batch(self):
        urls = [DOC_URL, "http://x.suspicious.test/a", "https://www.example.org/", "http://unknown.test/"]
        resp = gsb(gsb_body(urls))
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.headers["Content-Type"].startswith("application/json"))
        got = sorted((m["threat"]["url"], m["threatType"]) for m in resp.json()["matches"])
        self.assertEqual(got, [(DOC_URL, "MALWARE"), (DOC_URL, "SOCIAL_ENGINEERING"),
                               ("http://x.suspicious.test/a", "UNWANTED_SOFTWARE")])
        for m in resp.json()["matches"]:
            self.assertEqual((m["platformType"], m["threatEntryType"], m["cacheDuration"]),
                             ("ANY_PLATFORM", "URL", "300s"))
        record = self.requests()[-1]
        self.assertEqual(record["indicators"], urls)
        self.assertEqual(record["path"], "/v4/threatMatches:find")

    def test_nothing_listed_is_an_empty_object(self):
        resp = gsb(gsb_body(["https://www.example.org/", "http://notfound.example/"]))
        self.assertEqual((resp.status, resp.body), (200, b"{}"))

    def test_threat_type_and_platform_filter(self):
        resp = gsb(gsb_body([DOC_URL], threat_types=["MALWARE"]))
        self.assertEqual([m["threatType"] for m in resp.json()["matches"]], ["MALWARE"])
        resp = gsb(gsb_body(["http://a.suspicious.test/"], threat_types=["MALWARE"]))
        self.assertEqual(resp.json(), {})
        resp = gsb(gsb_body([DOC_URL], threat_types=["MALWARE"], platforms=["WINDOWS", "LINUX"]))
        self.assertEqual(sorted(m["platformType"] for m in resp.json()["matches"]), ["LINUX", "WINDOWS"])

    def test_url_echoed_byte_for_byte(self):
        url = "HTTP://Malicious.Example:8080/%7Euser/a b?q=1&r=ä#frag"
        matches = gsb(gsb_body([url])).json()["matches"]
        self.assertEqual({m["threat"]["url"] for m in matches}, {url})

    def test_google_test_url(self):
        url = "http://testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/MALWARE/URL/"
        resp = gsb(gsb_body([url], threat_types=["MALWARE"]))
        self.assertEqual(resp.json()["matches"][0]["threat"]["url"], url)

    def test_batch_limit_500(self):
        urls = [f"http://host{i}.example/" for i in range(499)] + [DOC_URL]
        self.assertEqual(len(gsb(gsb_body(urls)).json()["matches"]), 2)
        resp = gsb(gsb_body(urls + ["http://one-too-many.example/"]))
        self.assertGoogleError(resp, 400, "INVALID_ARGUMENT")

    def test_invalid_requests(self):
        err = self.assertGoogleError(gsb(gsb_body([DOC_URL], entry_types=None)), 400, "INVALID_ARGUMENT")
        self.assertEqual(err["message"], "Invalid request: threat entry type not set.")
        self.assertGoogleError(gsb(gsb_body([DOC_URL], threat_types=["VIRUS"])), 400, "INVALID_ARGUMENT")
        self.assertGoogleError(gsb(gsb_body([DOC_URL], threat_types=[])), 400, "INVALID_ARGUMENT")
        self.assertGoogleError(gsb(b"{not json"), 400, "INVALID_ARGUMENT")
        body = gsb_body([DOC_URL])
        del body["client"]
        self.assertGoogleError(gsb(body), 400, "INVALID_ARGUMENT")
        self.assertGoogleError(call("POST", f"/v4/threatMatches%3Afind?key={GOOGLE_KEY}",
                                    body=gsb_body([DOC_URL])), 404, "NOT_FOUND")
        self.assertGoogleError(call("GET", f"/v4/threatMatches:find?key={GOOGLE_KEY}"), 404, "NOT_FOUND")


# --- Google Web Risk --------------------------------------------------------

class WebRiskTest(Bounded):
    def test_keys(self):
        self.assertGoogleError(webrisk(DOC_URL, key=None), 403, "PERMISSION_DENIED")
        err = self.assertGoogleError(webrisk(DOC_URL, key="wrong"), 400, "INVALID_ARGUMENT")
        self.assertEqual(err["details"][0]["metadata"]["service"], "webrisk.googleapis.com")
        err = self.assertGoogleError(webrisk(DOC_URL, key="test-google-key-disabled"), 403,
                                     "PERMISSION_DENIED")
        self.assertIn("billing", err["message"])

    def test_malicious(self):
        before = time.time()
        threat = webrisk(DOC_URL).json()["threat"]
        self.assertEqual(threat["threatTypes"], ["SOCIAL_ENGINEERING", "MALWARE"])
        m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z", threat["expireTime"])
        self.assertTrue(m, threat["expireTime"])
        expire = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
        self.assertGreater(expire, before + 200)

    def test_verdict_classes(self):
        self.assertEqual(webrisk("http://a.suspicious.example/").json()["threat"]["threatTypes"],
                         ["UNWANTED_SOFTWARE"])
        self.assertEqual(webrisk("http://malicious.example/x").json()["threat"]["threatTypes"],
                         ["SOCIAL_ENGINEERING", "MALWARE"])
        for uri in ("https://www.example.org/", "http://unknown.example/"):
            resp = webrisk(uri)
            self.assertEqual((resp.status, resp.body), (200, b"{}"))
        # only the requested lists count
        self.assertEqual(webrisk(DOC_URL, types=["UNWANTED_SOFTWARE"]).json(), {})
        self.assertEqual(webrisk(DOC_URL, types=["MALWARE"]).json()["threat"]["threatTypes"], ["MALWARE"])
        test_url = "http://testsafebrowsing.appspot.com/s/malware.html"
        self.assertEqual(webrisk(test_url, types=["MALWARE"]).json()["threat"]["threatTypes"], ["MALWARE"])

    def test_uri_is_decoded(self):
        uri = "https://malicious.example/verify?id=1&x=ä#top"
        self.assertEqual(webrisk(uri).status, 200)
        self.assertEqual(self.requests()[-1]["indicator"], uri)
        self.assertNotIn(GOOGLE_KEY, json.dumps(self.requests()))

    def test_invalid_requests(self):
        err = self.assertGoogleError(webrisk(DOC_URL, types=()), 400, "INVALID_ARGUMENT")
        self.assertEqual(err["message"], "Invalid value: threat_types must be specified.")
        self.assertGoogleError(webrisk(DOC_URL, types=["MALWARE,SOCIAL_ENGINEERING"]),
                               400, "INVALID_ARGUMENT")
        self.assertGoogleError(webrisk(DOC_URL, types=(), extra=[("threatTypes[]", "MALWARE")]),
                               400, "INVALID_ARGUMENT")
        self.assertGoogleError(webrisk(None), 400, "INVALID_ARGUMENT")
        self.assertGoogleError(webrisk(DOC_URL, extra=[("uri", "http://second.example/")]),
                               400, "INVALID_ARGUMENT")
        self.assertGoogleError(call("POST", f"/v1/uris:search?key={GOOGLE_KEY}"), 404, "NOT_FOUND")


# --- IBM X-Force ------------------------------------------------------------

class XForceTest(Bounded):
    def test_auth(self):
        self.assertEqual(xforce("/ipr/8.8.8.8", headers={}).status, 401)
        bad = {"Authorization": "Basic " + base64.b64encode(b"test-xf-key:nope").decode()}
        resp = xforce("/ipr/8.8.8.8", headers=bad)
        self.assertEqual((resp.status, resp.json()), (401, {"error": "Not authorized."}))
        self.assertEqual(xforce("/ipr/8.8.8.8", headers={"Authorization": "Bearer test-xf-key"}).status, 401)
        self.assertEqual(self.requests()[-1]["headers"]["authorization"], "<redacted>")

    def test_ip(self):
        self.assertEqual(xforce("/ipr/203.0.113.7").json()["score"], 8.6)
        self.assertEqual(xforce("/ipr/8.8.8.8").json()["score"], 1)
        scores = {ip: xforce("/ipr/" + ip).json()["score"] for ip in
                  ("203.0.113.99", "198.51.100.20", "192.0.2.99")}
        self.assertGreaterEqual(scores["203.0.113.99"], 7)
        self.assertTrue(4 <= scores["198.51.100.20"] < 7)
        self.assertLess(scores["192.0.2.99"], 4)
        self.assertEqual(xforce("/ipr/198.18.0.1").status, 404)
        self.assertEqual(xforce("/ipr/not-an-ip").status, 400)
        self.assertEqual(xforce("/api/ipr/8.8.8.8").json()["ip"], "8.8.8.8")   # newer root

    def test_url(self):
        resp = xforce("/url/" + quote(DOC_URL, safe=""))
        self.assertEqual(resp.json()["result"]["score"], 10)
        self.assertEqual(self.requests()[-1]["indicator"], "login-example.test/verify")
        result = xforce("/url/" + quote("http://a.suspicious.example/x?y=1", safe="")).json()["result"]
        self.assertEqual((result["url"], result["score"]), ("a.suspicious.example/x?y=1", 5))
        self.assertIs(result["cats"]["Spam URLs"], True)
        self.assertEqual(xforce("/url/www.example.org").json()["result"]["score"], 1)
        resp = xforce("/url/" + quote("https://unknown.example/", safe=""))
        self.assertEqual((resp.status, resp.json()), (404, {"error": "Not found."}))

    def test_malware(self):
        self.assertEqual(xforce("/malware/" + EICAR_MD5).json()["malware"]["risk"], "high")
        self.assertEqual(xforce("/malware/" + LOW_RISK.upper()).json()["malware"]["risk"], "low")
        md5 = "bad" + "f" * 29
        malware = xforce("/malware/" + md5).json()["malware"]
        self.assertEqual((malware["type"], malware["md5"], malware["risk"]),
                         ("md5", "0x" + md5.upper(), "high"))
        sha256 = "5a5" + "0" * 61
        malware = xforce("/malware/" + sha256).json()["malware"]
        self.assertEqual((malware["type"], malware["risk"]), ("sha256", "medium"))
        self.assertIsNone(malware["family"])
        for unknown in ("1" * 32, "404" + "0" * 37, EMPTY_SHA256):    # clean or unknown: not a sample
            self.assertEqual(xforce("/malware/" + unknown).status, 404, unknown)
        self.assertEqual(xforce("/malware/xyz").status, 400)


class MetaDefenderTest(Bounded):
    def test_auth(self):
        self.assertEqual(md("/ip/8.8.8.8", headers={}).status, 401)
        resp = md("/ip/8.8.8.8", headers={"apikey": "nope"})
        self.assertEqual((resp.status, resp.json()["error"]["code"]), (401, 401006))
        self.assertEqual(self.requests()[-1]["headers"]["apikey"], "<redacted>")
        self.assertEqual(md("/apikey/").status, 200)

    def test_hash(self):
        resp = md("/hash/" + EICAR_MD5)
        results = resp.json()["scan_results"]
        self.assertEqual((results["scan_all_result_i"], results["total_detected_avs"]), (1, 31))
        self.assertEqual(resp.headers["X-RateLimit-Limit"], "4000")
        codes = {h: md("/hash/" + h).json()["scan_results"]["scan_all_result_i"]
                 for h in ("bad" + "0" * 61, "5a5" + "0" * 61, "1" * 64)}
        self.assertEqual(codes, {"bad" + "0" * 61: 1, "5a5" + "0" * 61: 2, "1" * 64: 0})
        for unknown in ("404" + "0" * 29, EMPTY_SHA256.upper()):
            resp = md("/hash/" + unknown)
            self.assertEqual((resp.status, resp.json()["error"]["code"]), (404, 404003), unknown)
        self.assertEqual(md("/hash/xyz").status, 400)

    def test_reputation(self):
        self.assertEqual(md("/ip/192.0.2.66").json()["lookup_results"]["detected_by"], 3)
        found = {ip: md("/ip/" + ip).json()["lookup_results"] for ip in
                 ("203.0.113.9", "198.51.100.9", "192.0.2.9", "198.18.0.9")}
        self.assertEqual([found[ip]["detected_by"] for ip in sorted(found)], [0, 0, 1, 3])
        self.assertEqual(found["198.18.0.9"]["sources"][0]["status"], 5)    # nobody knows it
        self.assertEqual(found["192.0.2.9"]["sources"][0]["status"], 0)
        url = md("/url/" + quote("http://a.malicious.example/x?y=1", safe="")).json()
        self.assertEqual((url["address"], url["lookup_results"]["detected_by"]),
                         ("http://a.malicious.example/x?y=1", 3))
        self.assertEqual(self.requests()[-1]["indicator"], "http://a.malicious.example/x?y=1")
        # the URL must be one encoded segment, as the real API wants it
        self.assertEqual(md("/url/http://a.example/x").status, 404)
        self.assertEqual(md("/domain/suspicious.example").json()["lookup_results"]["detected_by"], 1)
        self.assertEqual(md("/ip/not-an-ip").status, 400)

    def test_upload_then_poll(self):
        resp = md("/file", method="POST", body=b"X5O!P%@AP",
                  headers={**MD_KEY, "Content-Type": "application/octet-stream", "filename": "a.txt"})
        data_id = resp.json()["data_id"]
        first = md("/file/" + data_id).json()["scan_results"]
        self.assertEqual(first["progress_percentage"], 40)
        done = md("/file/" + data_id).json()["scan_results"]
        self.assertEqual((done["progress_percentage"], done["scan_all_result_i"]), (100, 0))
        self.assertEqual(md("/file/nosuch").status, 404)
        self.assertEqual(md("/file", method="POST", body=b"x", headers=MD_KEY).status, 400)

    def test_quota_has_rate_limit_headers(self):
        fault("metadefender", "quota", count=1)
        resp = md("/ip/8.8.8.8")
        self.assertEqual((resp.status, resp.headers["X-RateLimit-Remaining"],
                          resp.headers["X-RateLimit-Reset-In"]), (429, "0", "3600"))


# --- faults -----------------------------------------------------------------

class FaultTest(Bounded):
    def test_delay(self):
        fault("virustotal", "delay", ms=400, count=1)
        start = time.monotonic()
        self.assertEqual(vt("/ip_addresses/8.8.8.8").status, 200)
        self.assertGreaterEqual(time.monotonic() - start, 0.39)
        start = time.monotonic()
        vt("/ip_addresses/8.8.8.8")
        self.assertLess(time.monotonic() - start, 0.3)

    def test_status5xx_uses_each_providers_error_body(self):
        fault("*", "status5xx")
        self.assertVtError(vt("/ip_addresses/8.8.8.8"), 503, "TransientError")
        self.assertGoogleError(gsb(gsb_body([DOC_URL])), 503, "UNAVAILABLE")
        self.assertGoogleError(webrisk(DOC_URL), 503, "UNAVAILABLE")
        self.assertEqual(xforce("/ipr/8.8.8.8").status, 503)
        fault("*", "status5xx", status=504)
        self.assertVtError(vt("/ip_addresses/8.8.8.8"), 504, "DeadlineExceededError")
        self.assertGoogleError(webrisk(DOC_URL), 504, "DEADLINE_EXCEEDED")

    def test_ratelimit_without_retry_after(self):
        fault("*", "ratelimit")
        resp = vt("/ip_addresses/8.8.8.8")
        self.assertVtError(resp, 429, "QuotaExceededError")
        self.assertIsNone(resp.headers["Retry-After"])
        self.assertGoogleError(gsb(gsb_body([DOC_URL])), 429, "RESOURCE_EXHAUSTED")
        self.assertEqual(xforce("/ipr/8.8.8.8").json(), {"error": "Too many requests."})

    def test_ratelimit_with_retry_after(self):
        fault("virustotal", "ratelimit_retry_after", retry_after=7)
        resp = vt("/ip_addresses/8.8.8.8")
        self.assertEqual((resp.status, resp.headers["Retry-After"]), (429, "7"))
        fault("ibm-xforce", "ratelimit_retry_after", ms=2500)
        resp = xforce("/ipr/8.8.8.8")
        self.assertEqual((resp.status, resp.headers["Retry-After"]), (429, "3"))

    def test_quota(self):
        fault("*", "quota")
        resp = xforce("/ipr/8.8.8.8")
        self.assertEqual((resp.status, resp.json()), (402, {"error": "Monthly quota exceeded."}))
        self.assertVtError(vt("/ip_addresses/8.8.8.8"), 429, "QuotaExceededError")
        self.assertGoogleError(webrisk(DOC_URL), 429, "RESOURCE_EXHAUSTED")

    def test_malformed(self):
        fault("google-safe-browsing", "malformed")
        resp = gsb(gsb_body([DOC_URL]))
        self.assertEqual(resp.status, 200)
        self.assertRaises(ValueError, resp.json)

    def test_truncated(self):
        fault("xforce", "truncated")
        conn = connection()
        try:
            conn.request("GET", "/ipr/8.8.8.8", headers=XF_AUTH)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            with self.assertRaises(http.client.IncompleteRead) as caught:
                resp.read()
            self.assertLess(len(caught.exception.partial), int(resp.headers["Content-Length"]))
        finally:
            conn.close()

    def test_hang_does_not_block_others(self):
        fault("virustotal", "hang", count=1)
        outcome = {}

        def hung():
            start = time.monotonic()
            try:
                vt("/ip_addresses/8.8.8.8", timeout=10)
                outcome["error"] = None
            except (http.client.HTTPException, OSError) as e:
                outcome["error"] = e
            outcome["seconds"] = time.monotonic() - start
        thread = threading.Thread(target=hung)
        thread.start()
        time.sleep(0.3)
        start = time.monotonic()
        self.assertEqual(vt("/ip_addresses/8.8.8.8").status, 200)     # same provider
        self.assertEqual(xforce("/ipr/8.8.8.8").status, 200)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(control("GET", "stats")["in_flight"], 1)
        self.assertTrue(thread.is_alive())
        control("POST", "reset")                      # releases the hung request
        thread.join(5)
        self.assertFalse(thread.is_alive())
        self.assertIsInstance(outcome["error"], (http.client.RemoteDisconnected, ConnectionError))
        self.assertLess(outcome["seconds"], 5)

    def test_hung_request_times_out_on_the_client(self):
        fault("ibm-xforce", "hang")
        start = time.monotonic()
        with self.assertRaises(socket.timeout):
            xforce("/ipr/8.8.8.8", timeout=0.5)
        self.assertLess(time.monotonic() - start, 2)

    def test_disconnect(self):
        fault("virustotal", "disconnect", count=1)
        with self.assertRaises(http.client.RemoteDisconnected):
            vt("/ip_addresses/8.8.8.8")

    def test_badkey(self):
        fault("*", "badkey")
        self.assertVtError(vt("/ip_addresses/8.8.8.8"), 401, "WrongCredentialsError")
        self.assertEqual(gsb(gsb_body([DOC_URL])).json()["error"]["details"][0]["reason"], "API_KEY_INVALID")
        self.assertEqual(webrisk(DOC_URL).status, 400)
        self.assertEqual(xforce("/ipr/8.8.8.8").status, 401)

    def test_count_scope_and_clearing(self):
        fault("vt", "status5xx", count=2)
        self.assertEqual([vt("/ip_addresses/8.8.8.8").status for _ in range(3)], [503, 503, 200])
        fault("virustotal", "status5xx")
        self.assertEqual(xforce("/ipr/8.8.8.8").status, 200)         # other providers untouched
        fault("virustotal", "none")
        self.assertEqual(vt("/ip_addresses/8.8.8.8").status, 200)
        fault("*", "status5xx")
        fault("ibm-xforce", "delay", ms=1)                              # own fault wins over "*"
        self.assertEqual(xforce("/ipr/8.8.8.8").status, 200)
        self.assertEqual(vt("/ip_addresses/8.8.8.8").status, 503)
        fault("*", "none")
        self.assertEqual(vt("/ip_addresses/8.8.8.8").status, 200)
        self.assertEqual([r["fault"] for r in self.requests("virustotal")],
                         ["status5xx", "status5xx", None, None, "status5xx", None])

    def test_bad_fault_requests(self):
        for doc in ({"provider": "nobody", "mode": "delay"}, {"provider": "*", "mode": "explode"},
                    {"provider": "*", "mode": "delay", "ms": -1},
                    {"provider": "*", "mode": "status5xx", "status": 502}, ["not", "an", "object"]):
            self.assertEqual(call("POST", "/__mock/fault", body=doc).status, 400, doc)

    def test_global_delay_option(self):
        proc, ports = start_server("mock_providers.py", ["--http-port", "0", "--delay-ms", "300"], "delayed")
        try:
            start = time.monotonic()
            resp = call("GET", "/ipr/8.8.8.8", headers=XF_AUTH, port=ports["http"])
            self.assertEqual(resp.status, 200)
            self.assertGreaterEqual(time.monotonic() - start, 0.29)
            start = time.monotonic()
            call("GET", "/__mock/stats", port=ports["http"])          # control is not delayed
            self.assertLess(time.monotonic() - start, 0.25)
        finally:
            stop_server(proc)


# --- recording, statistics, keep-alive, control ------------------------------

class ControlTest(Bounded):
    def test_recording_and_stats(self):
        vt("/urls/" + url_id("http://a.example/"))
        vt("/urls/" + url_id("http://a.example/"))
        xforce("/ipr/203.0.113.7")
        gsb(gsb_body([DOC_URL, "http://b.example/"]))
        webrisk(DOC_URL)
        stats = control("GET", "stats")
        self.assertEqual(stats["total"], 5)
        self.assertEqual(stats["by_provider"], {"virustotal": 2, "ibm-xforce": 1,
                                                "google-safe-browsing": 1, "google-web-risk": 1})
        self.assertEqual(stats["by_indicator"], {"http://a.example/": 2, "203.0.113.7": 1,
                                                 DOC_URL: 2, "http://b.example/": 1})
        self.assertEqual(stats["in_flight"], 0)
        records = self.requests()
        self.assertEqual([r["provider"] for r in records],
                         ["virustotal", "virustotal", "ibm-xforce", "google-safe-browsing",
                          "google-web-risk"])
        for r in records:
            self.assertTrue({"method", "path", "provider", "indicator", "time", "status"} <= set(r))
            self.assertNotIn("key=", r["path"])
        self.assertEqual(records[4]["method"], "GET")
        self.assertEqual(records[3]["method"], "POST")
        self.assertEqual(self.requests("xforce")[0]["status"], 200)
        control("POST", "reset")
        self.assertEqual((control("GET", "stats")["total"], self.requests()), (0, []))

    def test_max_concurrent_with_parallel_requests(self):
        n = 8
        fault("*", "delay", ms=600)
        paths = [("vt", i) if i % 2 else ("xf", i) for i in range(n)]

        def one(item):
            kind, i = item
            if kind == "vt":
                return vt(f"/ip_addresses/192.0.2.{i}").status
            return xforce(f"/ipr/192.0.2.{i}").status
        start = time.monotonic()
        with ThreadPoolExecutor(n) as pool:
            statuses = list(pool.map(one, paths))
        elapsed = time.monotonic() - start
        self.assertEqual(statuses, [200] * n)
        stats = control("GET", "stats")
        self.assertEqual(stats["max_concurrent"], n)
        self.assertEqual(stats["max_concurrent_by_provider"], {"virustotal": n // 2, "ibm-xforce": n // 2})
        self.assertLess(elapsed, 0.6 * n / 2)          # overlapped, not serial
        control("POST", "reset")
        vt("/ip_addresses/8.8.8.8")
        vt("/ip_addresses/8.8.4.4")
        self.assertEqual(control("GET", "stats")["max_concurrent"], 1)

    def test_keep_alive(self):
        conn = connection()
        try:
            for path in ("/ip_addresses/8.8.8.8", "/ip_addresses/8.8.4.4", "/domains/example.org"):
                resp = call("GET", "/api/v3" + path, headers=VT_KEY, conn=conn)
                self.assertEqual(resp.status, 200)
                self.assertNotEqual(resp.headers.get("Connection"), "close")
            # error answers keep the connection too (body fully sent)
            resp = call("GET", "/api/v3/files/" + EMPTY_SHA256, headers=VT_KEY, conn=conn)
            self.assertEqual(resp.status, 404)
        finally:
            conn.close()
        self.assertEqual(control("GET", "stats")["connections"], 1)

    def test_control_is_not_a_provider_path(self):
        self.assertVtError(vt("/__mock/stats"), 404, "NotFoundError")
        self.assertEqual(xforce("/url/__mock/stats").status, 200)   # just a URL to look up
        self.assertEqual(call("GET", "/__mock/unknown").status, 404)
        self.assertEqual(call("GET", "/nowhere").status, 404)
        self.assertEqual(control("GET", "stats")["by_provider"], {"virustotal": 1, "ibm-xforce": 1})

    def test_runtime_indicator_overrides(self):
        url = "https://flip.example/"
        self.assertEqual(gsb(gsb_body([url])).json(), {})
        control("POST", "indicators", {"provider": "*", "indicators": {url: "malicious"}})
        self.assertEqual(len(gsb(gsb_body([url])).json()["matches"]), 2)
        self.assertGreater(vt("/urls/" + url_id(url)).json()["data"]["attributes"]
                           ["last_analysis_stats"]["malicious"], 0)
        self.assertEqual(xforce("/url/flip.example").json()["result"]["score"], 10)
        control("POST", "indicators", {"provider": "virustotal", "indicator": url, "verdict": "unknown"})
        self.assertEqual(vt("/urls/" + url_id(url)).status, 404)
        self.assertEqual(call("POST", "/__mock/indicators",
                              body={"provider": "vt", "indicator": url, "verdict": "nonsense"}).status, 400)
        control("POST", "reset")
        self.assertEqual(gsb(gsb_body([url])).json(), {})


# --- TLS --------------------------------------------------------------------

class TLSTest(Bounded):
    def test_https_with_test_ca(self):
        resp = vt("/ip_addresses/8.8.8.8", tls="https")
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.requests()[-1]["scheme"], "https")

    def test_https_keep_alive(self):
        conn = connection(tls="https")
        try:
            for _ in range(3):
                self.assertEqual(call("GET", "/ipr/8.8.8.8", headers=XF_AUTH, conn=conn).status, 200)
        finally:
            conn.close()
        self.assertEqual(control("GET", "stats")["connections"], 1)

    def test_certificate_not_from_test_ca_fails(self):
        with self.assertRaises(ssl.SSLCertVerificationError) as caught:
            vt("/ip_addresses/8.8.8.8", tls="bad_https")
        self.assertIn("self-signed", str(caught.exception))
        # without verification the server does answer: only the certificate is wrong
        conn = http.client.HTTPSConnection("127.0.0.1", Env.providers["bad_https"], timeout=5,
                                           context=ssl._create_unverified_context())
        self.assertEqual(call("GET", "/ipr/8.8.8.8", headers=XF_AUTH, conn=conn).status, 200)
        conn.close()

    def test_certificate_for_another_host_fails(self):
        with self.assertRaises(ssl.SSLCertVerificationError) as caught:
            vt("/ip_addresses/8.8.8.8", tls="mismatch_https")
        self.assertIn("mismatch", str(caught.exception))

    def test_gen_test_ca_is_idempotent(self):
        ca = os.path.join(Env.tmp, "ca")
        before = {f: open(os.path.join(ca, f), "rb").read() for f in os.listdir(ca)}
        subprocess.run(["sh", os.path.join(HERE, "gen_test_ca.sh"), ca], check=True, timeout=60)
        after = {f: open(os.path.join(ca, f), "rb").read() for f in os.listdir(ca)}
        self.assertEqual(before, after)
        # a damaged set is regenerated as a whole, and verifies again
        other = os.path.join(Env.tmp, "ca2")
        subprocess.run(["sh", os.path.join(HERE, "gen_test_ca.sh"), other], check=True, timeout=60)
        old_ca = open(os.path.join(other, "ca.pem"), "rb").read()
        with open(os.path.join(other, "server.pem"), "w") as f:
            f.write("garbage\n")
        subprocess.run(["sh", os.path.join(HERE, "gen_test_ca.sh"), other], check=True, timeout=60)
        self.assertNotEqual(open(os.path.join(other, "ca.pem"), "rb").read(), old_ca)
        verify = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(other, "ca.pem"),
                                 os.path.join(other, "server.pem")], capture_output=True, timeout=30)
        self.assertEqual(verify.returncode, 0, verify.stderr)


# --- conformance with the provider documents --------------------------------

def doc_bodies(name):
    """Every JSON code block of a provider document that parses."""
    with open(os.path.join(DOCS, name), encoding="utf-8") as f:
        text = f.read()
    bodies = []
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        try:
            bodies.append(json.loads(block))
        except ValueError:
            pass
    return bodies


def without_expire(body):
    body = json.loads(json.dumps(body))
    body.get("threat", {}).pop("expireTime", None)
    return body


@unittest.skipUnless(os.path.isdir(DOCS), f"provider documents not found at {DOCS}")
class DocumentFixtureTest(Bounded):
    """The mock reproduces the constructed fixture bodies of the documents."""

    def assertDocumented(self, resp, doc, status, transform=lambda b: b):
        self.assertEqual(resp.status, status, resp.body)
        self.assertIn(transform(resp.json()), [transform(b) for b in doc_bodies(doc)])

    def test_virustotal(self):
        doc = "virustotal.md"
        self.assertDocumented(vt("/urls/aHR0cDovL3d3dy5leGFtcGxlLmNvbS8"), doc, 200)
        self.assertDocumented(vt("/ip_addresses/192.0.2.10"), doc, 200)
        self.assertDocumented(vt("/files/" + EICAR_MD5), doc, 200)
        self.assertDocumented(vt("/files/" + EMPTY_SHA256), doc, 404)
        self.assertDocumented(vt("/files/" + EMPTY_SHA256, headers={"x-apikey": "x"}), doc, 401)
        self.assertDocumented(vt("/files/" + EMPTY_SHA256, headers={}), doc, 401)
        fault("virustotal", "quota", count=1)
        self.assertDocumented(vt("/files/" + EMPTY_SHA256), doc, 429)
        fault("virustotal", "status5xx", count=1)
        self.assertDocumented(vt("/files/" + EMPTY_SHA256), doc, 503)

    def test_safe_browsing(self):
        doc = "google-safe-browsing.md"
        self.assertDocumented(gsb(gsb_body([DOC_URL, "https://www.example.org/"])), doc, 200)
        test_url = "http://testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/MALWARE/URL/"
        self.assertDocumented(gsb(gsb_body([test_url], threat_types=["MALWARE"])), doc, 200)
        self.assertDocumented(gsb(gsb_body(["https://www.example.org/"])), doc, 200)
        self.assertDocumented(gsb(gsb_body([DOC_URL]), key="bad"), doc, 400)
        self.assertDocumented(gsb(gsb_body([DOC_URL]), key="test-google-key-disabled"), doc, 403)
        self.assertDocumented(gsb(gsb_body([DOC_URL], entry_types=None)), doc, 400)
        for mode, status in (("quota", 429), ("status5xx", 503)):
            fault("gsb", mode, count=1)
            self.assertDocumented(gsb(gsb_body([DOC_URL])), doc, status)

    def test_web_risk(self):
        doc = "google-web-risk.md"
        self.assertDocumented(webrisk(DOC_URL), doc, 200, without_expire)
        self.assertDocumented(webrisk("http://testsafebrowsing.appspot.com/s/malware.html",
                                      types=["MALWARE"]), doc, 200, without_expire)
        self.assertDocumented(webrisk("http://suspicious.example/"), doc, 200, without_expire)
        self.assertDocumented(webrisk("https://www.example.org/"), doc, 200)
        self.assertDocumented(webrisk(DOC_URL, key="bad"), doc, 400)
        self.assertDocumented(webrisk(DOC_URL, key="test-google-key-disabled"), doc, 403)
        self.assertDocumented(webrisk(DOC_URL, types=()), doc, 400)
        fault("webrisk", "quota", count=1)
        self.assertDocumented(webrisk(DOC_URL), doc, 429)
        fault("webrisk", "status5xx", status=504, count=1)
        self.assertDocumented(webrisk(DOC_URL), doc, 504)

    def test_xforce(self):
        doc = "ibm-xforce.md"
        self.assertDocumented(xforce("/ipr/203.0.113.7"), doc, 200)
        self.assertDocumented(xforce("/ipr/8.8.8.8"), doc, 200)
        self.assertDocumented(xforce("/url/" + quote(DOC_URL, safe="")), doc, 200)
        self.assertDocumented(xforce("/url/www.example.org"), doc, 200)
        self.assertDocumented(xforce("/malware/" + EICAR_MD5), doc, 200)
        self.assertDocumented(xforce("/malware/" + LOW_RISK), doc, 200)
        self.assertDocumented(xforce("/malware/" + EMPTY_SHA256), doc, 404)
        self.assertDocumented(xforce("/ipr/8.8.8.8", headers={}), doc, 401)
        for mode, status in (("quota", 402), ("ratelimit", 429)):
            fault("xforce", mode, count=1)
            self.assertDocumented(xforce("/ipr/8.8.8.8"), doc, status)


    def test_metadefender(self):
        doc = "opswat-metadefender.md"
        self.assertDocumented(md("/hash/" + EICAR_MD5), doc, 200)
        self.assertDocumented(md("/hash/" + EMPTY_SHA256), doc, 404)
        self.assertDocumented(md("/ip/192.0.2.66"), doc, 200)
        self.assertDocumented(md("/url/" + quote("https://www.example.com/", safe="")), doc, 200)
        self.assertDocumented(md("/ip/8.8.8.8", headers={"apikey": "bad"}), doc, 401)
        fault("metadefender", "quota", count=1)
        self.assertDocumented(md("/ip/8.8.8.8"), doc, 429)


# --- Spamhaus DNS -----------------------------------------------------------

class DNSTest(Bounded):
    def test_test_points(self):
        reply = dns_query(rev4("127.0.0.2"))
        self.assertEqual(reply["rcode"], 0)
        self.assertEqual(reply["a"], ["127.0.0.10", "127.0.0.2", "127.0.0.4"])
        self.assertEqual(reply["ttls"], [60, 60, 60])
        self.assertTrue(reply["qr"] and reply["aa"])
        self.assertEqual((reply["id"], reply["question"]), (reply["sent_id"], reply["sent_question"]))
        reply = dns_query(rev4("127.0.0.1"))
        self.assertEqual((reply["rcode"], reply["a"]), (NXDOMAIN, []))
        self.assertEqual(reply["authority"], [6])           # SOA for negative caching
        self.assertEqual(dns_query("dbltest.com.dbl.spamhaus.org")["a"], ["127.0.1.2"])

    def test_listed_and_unlisted_ips(self):
        self.assertIn("127.0.0.4", dns_query(rev4("203.0.113.7"))["a"])           # XBL
        self.assertEqual(dns_query(rev4("203.0.113.6"))["a"], ["127.0.0.2", "127.0.0.9"])
        self.assertEqual(dns_query(rev4("203.0.113.9"))["a"], ["127.0.0.11"])     # PBL only
        self.assertEqual(dns_query(rev4("203.0.113.10"))["rcode"], NXDOMAIN)
        self.assertEqual(dns_query(rev4("192.0.2.10"))["rcode"], NXDOMAIN)

    def test_ipv6_nibbles(self):
        name = rev6("2001:db8:7ca6:22::45")
        self.assertEqual(name, "5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2"
                               ".zen.spamhaus.org")
        self.assertEqual(dns_query(name)["a"], ["127.0.0.4"])
        self.assertEqual(dns_query(rev6("2001:db8::1"))["rcode"], NXDOMAIN)
        stats = dns_control("GET", "/stats")[1]
        self.assertEqual(stats["by_indicator"], {"2001:db8:7ca6:22::45": 1, "2001:db8::1": 1})

    def test_dbl(self):
        self.assertEqual(dns_query("login.phish.example.dbl.spamhaus.org")["a"], ["127.0.1.4"])
        self.assertEqual(dns_query("bit.example.dbl.mock.test")["a"], ["127.0.1.103"])
        self.assertEqual(dns_query("www.malicious-site.example.dbl.spamhaus.org")["a"], ["127.0.1.2"])
        self.assertEqual(dns_query("www.example.org.dbl.spamhaus.org")["rcode"], NXDOMAIN)
        self.assertEqual(dns_query("4.3.2.1.dbl.spamhaus.org")["a"], ["127.0.1.255"])

    def test_error_codes(self):
        self.assertEqual(dns_query(rev4("192.0.2.254"))["a"], ["127.255.255.254"])
        self.assertEqual(dns_query(rev4("203.0.113.14"))["a"], ["127.0.0.2", "127.255.255.254"])
        self.assertEqual(dns_query(rev4("127.0.0.2", "zne.spamhaus.org"))["a"], ["127.255.255.252"])
        self.assertEqual(dns_query(rev4("127.0.0.2", "wrongkey.zen.dq.spamhaus.net"))["a"],
                         ["127.255.255.250"])

    def test_servfail_and_no_answer(self):
        self.assertEqual(dns_query(rev4("192.0.2.250"))["rcode"], SERVFAIL)
        start = time.monotonic()
        self.assertIsNone(dns_query(rev4("192.0.2.251"), timeout=0.5))
        self.assertLess(time.monotonic() - start, 1.5)
        stats = dns_control("GET", "/stats")[1]
        self.assertEqual((stats["total"], stats["dropped"]), (2, 1))
        self.assertEqual(stats["by_rcode"], {"SERVFAIL": 1, "DROPPED": 1})

    def test_dqs(self):
        key = "testkey0123456789abcdefghij"
        self.assertEqual(dns_query(rev4("127.0.0.2", f"{key}.zen.dq.spamhaus.net"))["a"],
                         ["127.0.0.10", "127.0.0.2", "127.0.0.4"])
        self.assertEqual(dns_query(f"dbltest.com.{key}.dbl.dq.spamhaus.net")["a"], ["127.0.1.2"])
        self.assertEqual(dns_query("dbltest.com.zenonlykey0123456789abcdef.dbl.dq.spamhaus.net")["rcode"],
                         REFUSED)
        self.assertEqual(dns_query(rev4("127.0.0.2", f"{key}.zen.dq.mock.test"))["rcode"], 0)

    def test_component_lists(self):
        self.assertEqual(dns_query(rev4("127.0.0.2", "sbl.spamhaus.org"))["a"], ["127.0.0.2"])
        self.assertEqual(dns_query(rev4("127.0.0.2", "xbl.spamhaus.org"))["a"], ["127.0.0.4"])
        self.assertEqual(dns_query(rev4("127.0.0.2", "pbl.spamhaus.org"))["a"], ["127.0.0.10"])
        self.assertEqual(dns_query(rev4("203.0.113.9", "sbl.spamhaus.org"))["rcode"], NXDOMAIN)

    def test_txt_and_other_types(self):
        reply = dns_query(rev4("203.0.113.7"), qtype=16)
        self.assertEqual(len(reply["txt"]), 2)
        self.assertTrue(all("203.0.113.7" in t for t in reply["txt"]), reply["txt"])
        reply = dns_query(rev4("203.0.113.7"), qtype=28)            # AAAA: NODATA
        self.assertEqual((reply["rcode"], reply["a"], reply["authority"]), (0, [], [6]))

    def test_tcp(self):
        reply = dns_query(rev4("127.0.0.2"), tcp=True)
        self.assertEqual(reply["a"], ["127.0.0.10", "127.0.0.2", "127.0.0.4"])
        self.assertEqual(dns_control("GET", "/stats")[1]["by_transport"], {"tcp": 1})

    def test_case_and_names_outside_the_zones(self):
        reply = dns_query("2.0.0.127.ZEN.Spamhaus.ORG")
        self.assertEqual(len(reply["a"]), 3)
        self.assertEqual(reply["question"], reply["sent_question"])
        self.assertEqual(dns_query("www.example.com")["rcode"], REFUSED)
        self.assertEqual(dns_query("zen.spamhaus.org")["rcode"], 0)     # apex: no data
        self.assertEqual(dns_query("not-an-ip.zen.spamhaus.org")["rcode"], NXDOMAIN)

    def test_malformed_queries(self):
        two_questions = struct.pack(">6H", 4242, 0x0100, 2, 0, 0, 0) + b"\x00\x00\x01\x00\x01" * 2
        reply = dns_query(None, raw=two_questions)
        self.assertEqual((reply["id"], reply["rcode"]), (4242, FORMERR))
        self.assertIsNone(dns_query(None, raw=b"\x01\x02\x03", timeout=0.3))

    def test_control_counts_config_reset_fault(self):
        for _ in range(3):
            dns_query(rev4("203.0.113.7"))
        dns_query("dbltest.com.dbl.spamhaus.org")
        status, stats = dns_control("GET", "/stats")
        self.assertEqual(stats["total"], 4)
        self.assertEqual(stats["by_indicator"], {"203.0.113.7": 3, "dbltest.com": 1})
        self.assertEqual(stats["by_zone"], {"zen.spamhaus.org": 3, "dbl.spamhaus.org": 1})
        queries = dns_control("GET", "/queries")[1]
        self.assertEqual(queries[0]["name"], rev4("203.0.113.7"))
        # replace the IP listings
        status, _ = dns_control("POST", "/config", {"ips": {"198.51.100.0/24": ["127.0.0.3"]}})
        self.assertEqual(status, 200)
        self.assertEqual(dns_query(rev4("198.51.100.77"))["a"], ["127.0.0.3"])
        self.assertEqual(dns_query(rev4("203.0.113.7"))["rcode"], NXDOMAIN)
        self.assertEqual(dns_control("POST", "/config", {"ips": {"1.2.3.4": ["10.0.0.1"]}})[0], 400)
        self.assertEqual(dns_control("POST", "/config", {"bogus": 1})[0], 400)
        # a fault for the next query only
        dns_control("POST", "/fault", {"mode": "servfail", "count": 1})
        self.assertEqual(dns_query(rev4("198.51.100.77"))["rcode"], SERVFAIL)
        self.assertEqual(dns_query(rev4("198.51.100.77"))["rcode"], 0)
        dns_control("POST", "/reset")
        self.assertEqual(dns_control("GET", "/stats")[1]["total"], 0)
        self.assertIn("127.0.0.4", dns_query(rev4("203.0.113.7"))["a"])


# --- startup ----------------------------------------------------------------

class StartupTest(Bounded):
    def run_briefly(self, script, args):
        return subprocess.run([sys.executable, "-B", os.path.join(HERE, script), *args],
                              capture_output=True, timeout=20)

    def test_bad_configuration_is_refused(self):
        cfg = os.path.join(Env.tmp, "bad.json")
        with open(cfg, "w") as f:
            json.dump({"indicators": {"virustotal": {"http://x.example/": "purple"}}}, f)
        result = self.run_briefly("mock_providers.py", ["--http-port", "0", "--config", cfg])
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"purple", result.stderr)
        with open(cfg, "w") as f:
            json.dump({"ips": {"192.0.2.1": "EXPLODE"}}, f)
        result = self.run_briefly("mock_dns.py", ["--port", "0", "--config", cfg])
        self.assertEqual(result.returncode, 2)

    def test_configured_keys_and_indicators(self):
        cfg = os.path.join(Env.tmp, "keys.json")
        with open(cfg, "w") as f:
            json.dump({"keys": {"virustotal": ["other-key"]},
                       "indicators": {"vt": {"192.0.2.55": "malicious"}}}, f)
        proc, ports = start_server("mock_providers.py", ["--http-port", "0", "--config", cfg], "keyed")
        try:
            resp = call("GET", "/api/v3/ip_addresses/192.0.2.55", headers={"x-apikey": "other-key"},
                        port=ports["http"])
            self.assertGreater(resp.json()["data"]["attributes"]["last_analysis_stats"]["malicious"], 0)
            resp = call("GET", "/api/v3/ip_addresses/192.0.2.55", headers=VT_KEY, port=ports["http"])
            self.assertEqual(resp.status, 401)
        finally:
            stop_server(proc)
        self.assertIsNotNone(proc.returncode)


def main():
    verbosity = 2 if "-v" in sys.argv else 1
    names = [a for a in sys.argv[1:] if a != "-v"]
    loader = unittest.TestLoader()
    module = sys.modules[__name__]
    suite = loader.loadTestsFromNames(names, module) if names else loader.loadTestsFromModule(module)
    try:
        result = unittest.TextTestRunner(stream=sys.stdout, verbosity=verbosity).run(suite)
    finally:
        tearDownModule()            # again, in case setUpModule failed half-way
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - len(result.failures) - len(result.errors) - len(result.skipped) \
        - len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    print(f"{max(passed, 0)} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
