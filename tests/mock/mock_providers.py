#!/usr/bin/env python3
"""Mock threat-intelligence HTTP APIs for threatmilter's tests.

One threaded HTTP/1.1 server process (plain HTTP and/or HTTPS, keep-alive)
answering on the real paths of the real services, as documented in
../shared/providers/*.md:

  VirusTotal API v3      GET  /api/v3/urls/{id}   (id = unpadded base64url
                                                   of the URL, or its SHA-256)
                         GET  /api/v3/domains/{domain}
                         GET  /api/v3/ip_addresses/{ip}
                         GET  /api/v3/files/{md5|sha1|sha256}
                         POST /api/v3/urls (url=...), POST /api/v3/files
                         (multipart "file" with a filename, <= 32 MB)
                         GET  /api/v3/files/upload_url, POST <that url>
                         (once; <= 650 MB)
                         GET  /api/v3/analyses/{id}   (queued, in-progress,
                                                   then completed)
                         GET  /api/v3/users/{apikey}
                         auth: header x-apikey
  Google Safe Browsing   POST /v4/threatMatches:find?key=K   (<= 500 URLs)
  Google Web Risk        GET  /v1/uris:search?uri=U&threatTypes=T&...&key=K
  IBM X-Force Exchange   GET  /ipr/{ip}  /url/{url}  /malware/{hash}
                         (also under /api/..., the exchange.xforce root)
                         auth: HTTP Basic key:password
  OPSWAT MetaDefender    GET  /v4/hash/{hash}  /v4/ip/{ip}  /v4/domain/{fqdn}
  Cloud v4               GET  /v4/url/{URL as one percent-encoded segment}
                         POST /v4/file (octet-stream), GET /v4/file/{data_id}
                         (in progress, then done), GET /v4/apikey/
                         auth: header apikey

Indicator conventions (first rule that applies wins):
  1. Runtime overrides (POST /__mock/indicators), then the provider's table:
     "indicators" in fixtures/<provider>.json plus "indicators" of --config.
     Keys are exact (URLs byte for byte as sent; IPs canonical; hashes and
     domains case-insensitive; X-Force ignores the URL scheme and a trailing
     '/'). Values are a verdict or a named fixture body (e.g. "eicar").
  2. URLs and domains, case-insensitive substring: "malicious" -> malicious,
     "suspicious" -> suspicious, "unknown" or "notfound" -> unknown,
     "unscanned" -> VirusTotal object that exists but was never analysed
     (clean elsewhere).
  3. IPs: 203.0.113.0/24, 2001:db8:bad::/48 -> malicious;
     198.51.100.0/24, 2001:db8:5a5::/48 -> suspicious;
     198.18.0.0/15, 2001:db8:404::/48 -> unknown.
  4. Hashes (32/40/64 hex digits) by prefix: "bad" -> malicious,
     "5a5" -> suspicious, "404" -> unknown.
  5. Everything else is clean.
  How each provider says it: unknown is 404 NotFoundError (VirusTotal) or
  404 {"error":"Not found."} (X-Force) or 404 code 404003 for a hash
  (MetaDefender; its IP/URL/domain "unknown" is detected_by 0 with no
  source that has an entry); Google answers {} for clean and unknown alike;
  X-Force knows only malware samples, so a clean hash is 404.

Control API (same port, never a provider path):
  GET  /__mock/requests[?provider=P]   recorded requests, oldest first
  GET  /__mock/stats                   total, by_provider, by_indicator,
                                       max_concurrent (high-water mark of
                                       requests being handled at once),
                                       in_flight, connections, ...
  POST /__mock/reset                   forget requests, faults, overrides;
                                       release hung requests
  POST /__mock/fault     {"provider": P|"*", "mode": M, "ms": N, "count": N,
                          "status": 500|503|504, "retry_after": S}
  GET  /__mock/fault                   active faults
  POST /__mock/indicators {"provider": P|"*", "indicators": {IND: VERDICT}}
  Fault modes: none (clear), delay, status5xx, ratelimit,
  ratelimit_retry_after, quota, malformed, truncated, hang, badkey,
  disconnect (close without answering). Provider names: virustotal,
  google-safe-browsing, google-web-risk, ibm-xforce, opswat-metadefender
  (short aliases vt, gsb, webrisk, xforce, metadefender, opswat accepted).

Run: mock_providers.py --http-port 0 --ports-file ports.json
     [--https-port 0 --cert server.pem --key server.key]
     [--bad-https-port 0] [--mismatch-https-port 0] [--config cfg.json]
The ports file is written (atomically) once every socket listens.
"""
import argparse
import base64
import binascii
import hashlib
import ipaddress
import json
import math
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import string
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))

VERDICTS = ("malicious", "suspicious", "clean", "unknown", "unscanned")
FAULT_MODES = ("none", "delay", "status5xx", "ratelimit", "ratelimit_retry_after",
               "quota", "malformed", "truncated", "hang", "badkey", "disconnect")
ALIASES = {"vt": "virustotal", "gsb": "google-safe-browsing",
           "safebrowsing": "google-safe-browsing", "webrisk": "google-web-risk",
           "xforce": "ibm-xforce", "xfe": "ibm-xforce",
           "metadefender": "opswat-metadefender", "opswat": "opswat-metadefender"}
MALFORMED_BODY = b'{"data": {"attributes": {"last_analysis_stats": {"malicious": 3,, <html>'
MAX_BODY = 64 * 1024 * 1024

DEFAULT_CONFIG = {
    "keys": {
        "virustotal": ["test-vt-key"],
        "google-safe-browsing": ["test-google-key"],
        "google-web-risk": ["test-google-key"],
        "ibm-xforce": [["test-xf-key", "test-xf-pass"]],
        "opswat-metadefender": ["test-md-key"],
    },
    # valid keys of a project without the API enabled / without billing: 403
    "disabled_keys": {
        "google-safe-browsing": ["test-google-key-disabled"],
        "google-web-risk": ["test-google-key-disabled"],
    },
    "indicators": {},           # provider -> {indicator: verdict or body name}
    "fixtures_dir": os.path.join(HERE, "fixtures"),
    "delay_ms": 0,              # added to every provider request
    "analysis_queued_polls": 1,  # VirusTotal analyses answer "queued" this often
    "analysis_in_progress_polls": 0,    # ... then "in-progress" this often
    "vt_direct_upload_max": 32 * 1024 * 1024,   # POST /files; above: /files/upload_url
    "expire_seconds": 300,      # Web Risk expireTime = now + this
    "max_recorded": 100000,
}

IP_CONVENTIONS = [
    ("malicious", ("203.0.113.0/24", "2001:db8:bad::/48")),
    ("suspicious", ("198.51.100.0/24", "2001:db8:5a5::/48")),
    ("unknown", ("198.18.0.0/15", "2001:db8:404::/48")),
]
HASH_CONVENTIONS = [("malicious", "bad"), ("suspicious", "5a5"), ("unknown", "404")]
TEXT_CONVENTIONS = [("malicious", ("malicious",)), ("suspicious", ("suspicious",)),
                    ("unknown", ("unknown", "notfound")), ("unscanned", ("unscanned",))]
_IP_NETS = [(v, [ipaddress.ip_network(n) for n in nets]) for v, nets in IP_CONVENTIONS]
_HEX = re.compile(r"^[0-9a-fA-F]+$")


# --- indicators -------------------------------------------------------------

def parse_ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_hash(text):
    return len(text) in (32, 40, 64) and bool(_HEX.match(text))


def normalize_indicator(text):
    """The table key of an indicator: canonical IP, lower-case hash or host
    name; URLs stay byte for byte (Safe Browsing echoes them exactly)."""
    ip = parse_ip(text)
    if ip is not None:
        return str(ip)
    if is_hash(text) or ("/" not in text and ":" not in text):
        return text.lower().rstrip(".")
    return text


def convention_verdict(key):
    ip = parse_ip(key)
    if ip is not None:
        for verdict, nets in _IP_NETS:
            if any(ip in net for net in nets if net.version == ip.version):
                return verdict
        return "clean"
    if is_hash(key):
        for verdict, prefix in HASH_CONVENTIONS:
            if key.lower().startswith(prefix):
                return verdict
        return "clean"
    text = key.lower()
    for verdict, words in TEXT_CONVENTIONS:
        if any(w in text for w in words):
            return verdict
    return "clean"


# --- templates --------------------------------------------------------------

OMIT = "$omit"
_OMITTED = object()
_WHOLE = re.compile(r"^\$\{(\w+)\}$")


def render(template, values):
    """Fill a fixture template: "${name}" alone is replaced by the value
    itself (any JSON type), inside text by its string; "$omit" drops the
    key or list element."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            value = render(value, values)
            if value is not _OMITTED:
                out[string.Template(key).safe_substitute(values)] = value
        return out
    if isinstance(template, list):
        return [v for v in (render(x, values) for x in template) if v is not _OMITTED]
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole and whole.group(1) in values:
            value = values[whole.group(1)]
        else:
            value = string.Template(template).safe_substitute(values)
        return _OMITTED if isinstance(value, str) and value == OMIT else value
    return template


# --- requests and replies ---------------------------------------------------

class Reply:
    def __init__(self, status, body=b"", headers=(), content_type="application/json"):
        self.status = status
        self.body = body
        self.headers = list(headers)
        self.content_type = content_type

    @classmethod
    def json(cls, status, obj, headers=(), content_type="application/json"):
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, headers, content_type)


class Request:
    def __init__(self, method, target, headers, body, base_url):
        path, _, query = target.partition("?")
        self.method = method
        self.path = path.partition("#")[0]
        self.query = parse_qsl(query.partition("#")[0], keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.base_url = base_url

    def params(self, name):
        return [v for k, v in self.query if k == name]

    def json_body(self):
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            return None


class Call:
    """A routed provider request: the indicators it asks about (known
    before authentication, for the request log) and how to answer it."""
    def __init__(self, run, indicators=()):
        self.run = run
        self.indicators = [i for i in indicators if i is not None]


class Fault:
    def __init__(self, mode, ms=0, count=None, status=503, retry_after=None):
        self.mode = mode
        self.ms = ms
        self.count = count
        self.status = status
        self.retry_after = retry_after

    def as_dict(self):
        return {"mode": self.mode, "ms": self.ms, "count": self.count,
                "status": self.status, "retry_after": self.retry_after}


# --- shared state: request log, statistics, faults, overrides ---------------

class State:
    def __init__(self, max_recorded):
        self.lock = threading.Lock()
        self.max_recorded = max_recorded
        self.in_flight = 0
        self.in_flight_by_provider = {}
        self.release = threading.Event()
        self._clear()

    def _clear(self):
        self.requests = []
        self.next_id = 1
        self.total = 0
        self.by_provider = {}
        self.by_indicator = {}
        self.max_concurrent = self.in_flight
        self.max_by_provider = {p: n for p, n in self.in_flight_by_provider.items() if n}
        self.connections = 0
        self.tls_resumed = 0
        self.faults = {}
        self.overrides = {}
        self.analyses = {}
        self.upload_tokens = set()
        self.files = {}

    def reset(self):
        with self.lock:
            hung, self.release = self.release, threading.Event()
            self._clear()
        hung.set()

    def release_all(self):
        with self.lock:
            self.release.set()

    def sleep(self, ms):
        """Waits ms milliseconds, or less if a reset comes first."""
        with self.lock:
            event = self.release
        event.wait(ms / 1000.0)

    def hang(self):
        with self.lock:
            event = self.release
        event.wait()

    def connection(self, resumed):
        with self.lock:
            self.connections += 1
            self.tls_resumed += 1 if resumed else 0

    def begin(self, record):
        with self.lock:
            record["id"] = self.next_id
            self.next_id += 1
            self.requests.append(record)
            if len(self.requests) > self.max_recorded:
                del self.requests[0]
            provider = record["provider"]
            self.total += 1
            self.by_provider[provider] = self.by_provider.get(provider, 0) + 1
            for ind in record["indicators"]:
                self.by_indicator[ind] = self.by_indicator.get(ind, 0) + 1
            self.in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self.in_flight)
            n = self.in_flight_by_provider.get(provider, 0) + 1
            self.in_flight_by_provider[provider] = n
            self.max_by_provider[provider] = max(self.max_by_provider.get(provider, 0), n)

    def end(self, record, status):
        with self.lock:
            self.in_flight -= 1
            self.in_flight_by_provider[record["provider"]] -= 1
            record["status"] = status
            record["duration_ms"] = round((time.time() - record["time"]) * 1000, 3)

    def set_fault(self, provider, fault):
        with self.lock:
            if fault.mode == "none":
                if provider == "*":
                    self.faults.clear()
                else:
                    self.faults.pop(provider, None)
            else:
                self.faults[provider] = fault

    def take_fault(self, provider):
        """The fault for this request (the provider's own, else "*"),
        counting it against its "count"."""
        with self.lock:
            for key in (provider, "*"):
                fault = self.faults.get(key)
                if fault is None:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        del self.faults[key]
                return fault
            return None

    def override(self, provider, key):
        with self.lock:
            return self.overrides.get(provider, {}).get(key)

    def set_override(self, provider, key, name):
        with self.lock:
            self.overrides.setdefault(provider, {})[key] = name

    def overrides_of(self, provider):
        with self.lock:
            return dict(self.overrides.get(provider, {}))

    def snapshot(self, provider=None):
        with self.lock:
            return [dict(r) for r in self.requests if provider in (None, r["provider"])]

    def stats(self):
        with self.lock:
            return {"total": self.total, "by_provider": dict(self.by_provider),
                    "max_concurrent": self.max_concurrent, "in_flight": self.in_flight,
                    "max_concurrent_by_provider": dict(self.max_by_provider),
                    "by_indicator": dict(self.by_indicator),
                    "connections": self.connections, "tls_sessions_resumed": self.tls_resumed,
                    "faults": {p: f.as_dict() for p, f in self.faults.items()}}


# --- providers --------------------------------------------------------------

class Provider:
    """What every provider shares: fixtures, the verdict of an indicator,
    error replies, fault replies and key scrubbing. Subclasses route their
    paths and check their kind of credentials."""
    name = None
    content_type = "application/json"

    def __init__(self, app):
        self.app = app
        path = os.path.join(app.config["fixtures_dir"], self.name + ".json")
        with open(path, encoding="utf-8") as f:
            self.fx = json.load(f)
        self.table = {}
        table = dict(self.fx.get("indicators", {}))
        table.update(app.config["indicators"].get(self.name, {}))
        for indicator, name in table.items():
            if not self.valid_name(name):
                raise ValueError(f"{self.name}: {indicator!r} -> unknown verdict or body {name!r}")
            self.table[self.normalize(indicator)] = name

    def valid_name(self, name):
        return name in VERDICTS or name in self.fx.get("bodies", {})

    def normalize(self, indicator):
        return normalize_indicator(indicator)

    @property
    def state(self):
        return self.app.state

    def lookup(self, indicator):
        """Verdict or fixture-body name for an indicator."""
        key = self.normalize(indicator)
        return (self.state.override(self.name, key) or self.table.get(key)
                or convention_verdict(key))

    def verdict_of(self, name):
        body = self.fx.get("bodies", {}).get(name)
        return body["verdict"] if body else name

    def body(self, name):
        spec = self.fx["bodies"][name]
        return self.json(spec["status"], spec["body"])

    def json(self, status, obj, headers=()):
        return Reply.json(status, obj, headers, self.content_type)

    def error(self, name, headers=(), **values):
        spec = self.fx["errors"][name]
        return self.json(spec["status"], render(spec["body"], values), headers)

    def fault_reply(self, fault):
        if fault.mode == "status5xx":
            return self.error(str(fault.status))
        if fault.mode == "ratelimit_retry_after":
            seconds = fault.retry_after
            if seconds is None:
                seconds = max(1, math.ceil(fault.ms / 1000.0)) if fault.ms else 1
            return self.error("ratelimit", headers=[("Retry-After", str(seconds))])
        return self.error(fault.mode)      # ratelimit, quota

    def wrong_key(self, req):
        return self.error("wrong_key")

    def secret_values(self, req):
        """Credentials that must not appear in the request log."""
        return []

    def check_header_key(self, req, header):
        """401 unless the request carries one of the provider's keys in
        `header` (VirusTotal's x-apikey, MetaDefender's apikey)."""
        key = req.headers.get(header)
        if not key:
            return self.error("missing_key")
        if key not in self.app.config["keys"][self.name]:
            return self.error("wrong_key")
        return None

    def header_key_secrets(self, req, header):
        return [req.headers.get(header)] + list(self.app.config["keys"][self.name])

    def logged_target(self, req):
        target = req.path
        query = [(k, v) for k, v in req.query if k != "key"]
        if query:
            target += "?" + urlencode(query, quote_via=quote, safe=":/")
        for secret in self.secret_values(req):
            if secret:
                target = target.replace(secret, "<redacted>")
        return target

    def claims(self, path):
        raise NotImplementedError

    def route(self, req):
        raise NotImplementedError

    def check_auth(self, req):
        raise NotImplementedError


class VirusTotal(Provider):
    """VirusTotal API v3 (virustotal.md). Besides the verdicts, a file hash
    may be set (POST /__mock/indicators) to an upload fault of its own:
    it is unknown (404) until uploaded, then
      upload-stuck   its analysis never completes (queued, in-progress)
      upload-failed  completes with every engine failed or unsupported
      upload-quota   POST /files answers 429 QuotaExceededError
      upload-5xx     POST /files answers 503 TransientError
    """
    name = "virustotal"
    ROOT = "/api/v3"
    KIND_LABEL = {"url": "URL", "domain": "Domain", "ip_address": "IP address",
                  "file": "File", "analysis": "Analysis", "user": "User"}
    UPLOAD_FAULTS = ("upload-stuck", "upload-failed", "upload-quota", "upload-5xx")
    FAILED_STATS = {"harmless": 0, "malicious": 0, "suspicious": 0, "undetected": 0,
                    "timeout": 3, "confirmed-timeout": 2, "failure": 60, "type-unsupported": 5}
    UPLOAD_URL_MAX = 650 * 1024 * 1024

    def valid_name(self, name):
        return super().valid_name(name) or name in self.UPLOAD_FAULTS

    def __init__(self, app):
        super().__init__(app)
        self.routes = [
            ("GET", re.compile(r"/urls/(.+)"), self.get_url),
            ("POST", re.compile(r"/urls"), self.submit_url),
            ("GET", re.compile(r"/domains/([^/]+)"), self.get_domain),
            ("GET", re.compile(r"/ip_addresses/([^/]+)"), self.get_ip),
            ("GET", re.compile(r"/files/upload_url"), self.get_upload_url),
            ("GET", re.compile(r"/files/([^/]+)"), self.get_file),
            ("POST", re.compile(r"/files"), self.upload),
            ("GET", re.compile(r"/analyses/(.+)"), self.get_analysis),
            ("GET", re.compile(r"/users/([^/]+)"), self.get_user),
        ]

    def claims(self, path):
        return (path == self.ROOT or path.startswith(self.ROOT + "/")
                or path.startswith("/_ah/upload/"))

    def route(self, req):
        if req.path.startswith("/_ah/upload/"):
            match = re.fullmatch(r"/_ah/upload/([^/]+)/?", req.path)
            if req.method == "POST" and match:
                return self.upload(req, match)
            return Call(lambda: self.error("no_route"))
        rel = req.path[len(self.ROOT):]
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(rel)
            if match and method == req.method:
                return handler(req, match)
        return Call(lambda: self.error("no_route"))

    def check_auth(self, req):
        if req.path.startswith("/_ah/upload/"):
            return None     # the one-time upload URL is the credential
        return self.check_header_key(req, "x-apikey")

    def secret_values(self, req):
        return self.header_key_secrets(req, "x-apikey")

    # objects
    def not_found(self, kind, ident):
        return self.error("not_found", what=self.KIND_LABEL[kind], id=ident)

    def object_reply(self, kind, indicator, ident, values):
        name = self.lookup(indicator)
        if name in self.fx.get("bodies", {}):
            return self.body(name)
        if name == "unknown" or name in self.UPLOAD_FAULTS:
            return self.not_found(kind, ident)
        values = dict(self.fx["verdicts"][name], indicator=indicator, **values)
        return self.json(200, render(self.fx["templates"][kind], values))

    def get_url(self, req, match):
        ident = match.group(1)
        if re.fullmatch(r"[0-9a-f]{64}", ident):
            url = self.url_by_sha256(ident)
            if url is None:
                return Call(lambda: self.not_found("url", ident), [ident])
        else:
            url = decode_url_id(ident)
            if url is None:
                return Call(lambda: self.error(
                    "invalid_argument", message=f'"{ident}" is not a valid URL identifier'), [ident])
        sha = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return Call(lambda: self.object_reply("url", url, ident, {"sha256": sha}), [url])

    def url_by_sha256(self, digest):
        for url in list(self.state.overrides_of(self.name)) + list(self.table):
            if hashlib.sha256(url.encode("utf-8")).hexdigest() == digest:
                return url
        return None

    def get_domain(self, req, match):
        domain = unquote(match.group(1)).lower().rstrip(".")
        return Call(lambda: self.object_reply("domain", domain, domain, {}), [domain])

    def get_ip(self, req, match):
        text = unquote(match.group(1))
        ip = parse_ip(text)
        if ip is None:
            return Call(lambda: self.error(
                "invalid_argument", message=f'"{text}" is not a valid IP address'), [text])
        net = ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False)
        return Call(lambda: self.object_reply("ip_address", str(ip), str(ip), {"network": str(net)}),
                    [str(ip)])

    def get_file(self, req, match):
        digest = match.group(1).lower()
        if not is_hash(digest):
            return Call(lambda: self.error(
                "invalid_argument", message=f'"{digest}" is not a valid file hash'), [digest])
        return Call(lambda: self.object_reply("file", digest, digest, self.file_identity(digest)),
                    [digest])

    def file_identity(self, digest):
        with self.state.lock:
            known = self.state.files.get(digest)
        if known:
            return dict(known)
        seed = digest.encode()
        return {"md5": digest if len(digest) == 32 else hashlib.md5(seed).hexdigest(),
                "sha1": digest if len(digest) == 40 else hashlib.sha1(seed).hexdigest(),
                "sha256": digest if len(digest) == 64 else hashlib.sha256(seed).hexdigest(),
                "size": 4096, "name": "sample.exe"}

    # asynchronous submissions
    def submit_url(self, req, match):
        urls = [v for k, v in parse_qsl(req.body.decode("utf-8", "replace")) if k == "url"]
        if not urls or not urls[0]:
            return Call(lambda: self.error("bad_request", message="url parameter is required"))
        url = urls[0]

        def run():
            sha = hashlib.sha256(url.encode("utf-8")).hexdigest()
            analysis_id = f"u-{sha}-{int(time.time())}"
            meta = {"url_info": {"id": sha, "url": url}}
            return self.new_analysis(analysis_id, url, meta)
        return Call(run, [url])

    def get_upload_url(self, req, match):
        def run():
            token = secrets.token_hex(12)
            with self.state.lock:
                self.state.upload_tokens.add(token)
            url = f"{req.base_url}/_ah/upload/{token}/"
            return self.json(200, render(self.fx["templates"]["upload_url"], {"upload_url": url}))
        return Call(run)

    def upload(self, req, match):
        content, filename = multipart_file(req)
        token = match.group(1) if match and match.groups() else None
        digest = hashlib.sha256(content).hexdigest() if content is not None else None

        def run():
            if token is not None:
                with self.state.lock:       # each upload URL works once
                    known = token in self.state.upload_tokens
                    self.state.upload_tokens.discard(token)
                if not known:
                    return self.error("no_route")
            if content is None or not filename:
                return self.error("bad_request",
                                  message='multipart/form-data part "file" with a filename is required')
            limit = self.UPLOAD_URL_MAX if token else self.app.config["vt_direct_upload_max"]
            if len(content) > limit:
                return self.error("bad_request", message=f"file larger than {limit} bytes"
                                  + ("" if token else ": use /files/upload_url"))
            fault = self.lookup(digest)
            if fault == "upload-quota":
                return self.error("quota")
            if fault == "upload-5xx":
                return self.error("503")
            return self.accept_upload(content, digest, fault)
        return Call(run, [digest])

    def accept_upload(self, content, digest, fault):
        ident = {"md5": hashlib.md5(content).hexdigest(), "sha1": hashlib.sha1(content).hexdigest(),
                 "sha256": digest, "size": len(content), "name": "upload.bin"}
        if fault in self.UPLOAD_FAULTS:
            name = fault
        else:
            name = self.table.get(digest) or self.table.get(ident["md5"]) or content_verdict(content)
        with self.state.lock:
            for h in (ident["md5"], ident["sha1"], digest):
                self.state.files[h] = ident
        for h in (ident["md5"], ident["sha1"], digest):
            self.state.set_override(self.name, h, name)
        analysis_id = base64.b64encode(f"{ident['md5']}:{int(time.time())}".encode()).decode()
        meta = {"file_info": {k: ident[k] for k in ("sha256", "md5", "sha1", "size")}}
        return self.new_analysis(analysis_id, digest, meta)

    def new_analysis(self, analysis_id, indicator, meta):
        with self.state.lock:
            self.state.analyses[analysis_id] = {"indicator": indicator, "meta": meta, "polls": 0,
                                                "date": int(time.time())}
        return self.json(200, render(self.fx["templates"]["analysis_submitted"],
                                     {"analysis_id": analysis_id}))

    def get_analysis(self, req, match):
        analysis_id = unquote(match.group(1))

        def run():
            with self.state.lock:
                analysis = self.state.analyses.get(analysis_id)
                if analysis is None:
                    polls = None
                else:
                    polls = analysis["polls"]
                    analysis["polls"] += 1
            if analysis is None:
                return self.not_found("analysis", analysis_id)
            name = self.lookup(analysis["indicator"])
            queued = self.app.config["analysis_queued_polls"]
            if polls < queued:
                status, verdict = "queued", None
            elif polls < queued + self.app.config["analysis_in_progress_polls"] or name == "upload-stuck":
                status, verdict = "in-progress", None
            else:
                status = "completed"
                verdict = self.verdict_of(name)
            if verdict == "upload-failed":
                stats = self.FAILED_STATS
            elif verdict in (None, "unknown", "unscanned"):
                stats = self.fx["verdicts"]["unscanned"]["stats"]
            else:
                stats = self.fx["verdicts"][verdict]["stats"]
            values = {"analysis_id": analysis_id, "date": analysis["date"], "status": status,
                      "analysis_stats": stats, "meta": analysis["meta"]}
            return self.json(200, render(self.fx["templates"]["analysis"], values))
        return Call(run, [analysis_id])

    def get_user(self, req, match):
        ident = match.group(1)

        def run():
            if ident not in self.app.config["keys"]["virustotal"] and ident != "threatmilter-test":
                return self.not_found("user", "<redacted>")
            used = self.state.stats()["by_provider"].get(self.name, 0)
            return self.json(200, render(self.fx["templates"]["user"], {"used": used}))
        return Call(run)


def decode_url_id(ident):
    """URL of an unpadded base64url identifier, None if it is not one
    (padding, '+' or '/' are refused as VirusTotal does)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", ident) or len(ident) % 4 == 1:
        return None
    try:
        raw = base64.urlsafe_b64decode(ident + "=" * (-len(ident) % 4))
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def form_fields(req):
    """The multipart/form-data parts of a request: {name: (filename or
    None, bytes)}; None when the body is not multipart/form-data. The one
    parser the provider mocks share."""
    ctype = req.headers.get("Content-Type", "")
    match = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', ctype)
    if not ctype.lower().startswith("multipart/form-data") or not match:
        return None
    delimiter = b"--" + (match.group(1) or match.group(2)).encode("latin-1")
    fields = {}
    for part in req.body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'content-disposition:[^\r\n]*;\s*name="?([^";\r\n]*)"?', head, re.I)
        filename = re.search(rb'content-disposition:[^\r\n]*;\s*filename="([^"]*)"', head, re.I)
        if name:
            fields.setdefault(name.group(1).decode("utf-8", "replace"), (
                filename.group(1).decode("utf-8", "replace") if filename else None,
                data.removesuffix(b"\r\n")))
    return fields


def multipart_file(req):
    """(content, filename) of the multipart/form-data part named "file";
    (None, None) if absent, filename None when the part has none."""
    filename, content = (form_fields(req) or {}).get("file", (None, None))
    return content, filename


def content_verdict(content):
    if b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in content or b"malicious" in content:
        return "malicious"
    return "suspicious" if b"suspicious" in content else "clean"


class GoogleProvider(Provider):
    """Safe Browsing and Web Risk: API key in ?key=, Google error envelope."""
    content_type = "application/json; charset=UTF-8"
    SYSTEM_PARAMS = {"key", "alt", "prettyPrint", "fields", "quotaUser", "callback",
                     "$.xgafv", "upload_protocol", "uploadType"}

    def valid_name(self, name):
        return name in self.fx["lists"]

    def check_auth(self, req):
        keys = req.params("key")
        if not keys or not keys[0]:
            return self.error("missing_key")
        if keys[0] in self.app.config["disabled_keys"].get(self.name, []):
            return self.error("disabled_key")
        if keys[0] not in self.app.config["keys"][self.name]:
            return self.error("wrong_key")
        return None

    def secret_values(self, req):
        return req.params("key")

    def invalid(self, message):
        return self.error("invalid_argument", message=message)

    def unknown_param(self, req, allowed):
        for name, _ in req.query:
            if name not in allowed and name not in self.SYSTEM_PARAMS:
                return self.invalid(f'Invalid JSON payload received. Unknown name "{name}": '
                                    f"Cannot bind query parameter. Field '{name}' could not "
                                    "be found in request message.")
        return None


class SafeBrowsing(GoogleProvider):
    name = "google-safe-browsing"
    PATH = "/v4/threatMatches:find"
    MAX_ENTRIES = 500
    ENUMS = (  # request field, allowed values, proto enum, what "not set" says
        ("threatTypes", ("MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE",
                         "POTENTIALLY_HARMFUL_APPLICATION"), "ThreatType", "threat type"),
        ("platformTypes", ("ANY_PLATFORM", "ALL_PLATFORMS", "WINDOWS", "LINUX", "OSX",
                           "ANDROID", "IOS", "CHROME"), "PlatformType", "platform type"),
        ("threatEntryTypes", ("URL", "EXECUTABLE", "IP_RANGE"), "ThreatEntryType",
         "threat entry type"),
    )
    TEST_URL = re.compile(r"https?://testsafebrowsing\.appspot\.com/apiv4/([A-Z_]+)/([A-Z_]+)/URL/")

    def claims(self, path):
        return path.startswith("/v4/")

    def route(self, req):
        if req.path != self.PATH or req.method != "POST":
            return Call(lambda: self.error("no_route"))
        doc = req.json_body()
        info = doc.get("threatInfo") if isinstance(doc, dict) else None
        entries = info.get("threatEntries") if isinstance(info, dict) else None
        urls = []
        for entry in entries if isinstance(entries, list) else []:
            url = entry.get("url") if isinstance(entry, dict) else None
            if isinstance(url, str) and url not in urls:
                urls.append(url)
        return Call(lambda: self.find(req, doc, urls), urls)

    def find(self, req, doc, urls):
        bad = self.unknown_param(req, set())
        if bad:
            return bad
        if not isinstance(doc, dict):
            return self.invalid("Invalid JSON payload received.")
        client = doc.get("client")
        if not isinstance(client, dict) or not client.get("clientId"):
            return self.invalid("Invalid request: client id not set.")
        info = doc.get("threatInfo")
        if not isinstance(info, dict):
            return self.invalid("Invalid request: threat info not set.")
        for field, allowed, proto, what in self.ENUMS:
            values = info.get(field) or []
            if not isinstance(values, list):
                values = [values]
            snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), field)
            for i, value in enumerate(values):
                if value not in allowed:
                    return self.invalid(f"Invalid value at 'threat_info.{snake}[{i}]' "
                                        f"(type.googleapis.com/google.safebrowsing.v4.{proto}), "
                                        f"{json.dumps(value)}")
            if not values:
                return self.invalid(f"Invalid request: {what} not set.")
        entries = info.get("threatEntries")
        if not isinstance(entries, list) or not entries:
            return self.invalid("Invalid request: threat entries not set.")
        if len(entries) > self.MAX_ENTRIES:
            return self.invalid(f"Invalid request: too many threat entries "
                                f"({len(entries)} > {self.MAX_ENTRIES}).")
        if "URL" not in info["threatEntryTypes"]:
            return self.json(200, {})
        matches = []
        for url in urls:
            for listing in self.listings(url):
                if listing["threatType"] not in info["threatTypes"]:
                    continue
                for platform in info["platformTypes"]:
                    if listing.get("platform", platform) != platform:
                        continue
                    values = {"threat_type": listing["threatType"], "platform_type": platform,
                              "indicator": url, "metadata": listing.get("threatEntryMetadata", OMIT)}
                    matches.append(render(self.fx["templates"]["match"], values))
        return self.json(200, {"matches": matches} if matches else {})

    def listings(self, url):
        test = self.TEST_URL.fullmatch(url)
        key = self.normalize(url)
        if test and not self.state.override(self.name, key) and key not in self.table:
            return [{"threatType": test.group(2), "platform": test.group(1)}]
        return self.fx["lists"][self.lookup(url)]


class WebRisk(GoogleProvider):
    name = "google-web-risk"
    PATH = "/v1/uris:search"
    THREAT_TYPES = ("MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE",
                    "SOCIAL_ENGINEERING_EXTENDED_COVERAGE")

    def claims(self, path):
        return path.startswith("/v1/")

    def route(self, req):
        if req.path != self.PATH or req.method != "GET":
            return Call(lambda: self.error("no_route"))
        uris = req.params("uri")
        return Call(lambda: self.search(req), uris[:1])

    def search(self, req):
        bad = self.unknown_param(req, {"uri", "threatTypes"})
        if bad:
            return bad
        types = req.params("threatTypes")
        if not types:
            return self.error("missing_threat_types")
        for i, value in enumerate(types):
            if value not in self.THREAT_TYPES:
                return self.invalid(f"Invalid value at 'threat_types[{i}]' "
                                    "(type.googleapis.com/google.cloud.webrisk.v1.ThreatType), "
                                    f"{json.dumps(value)}")
        uris = req.params("uri")
        if not uris or not uris[0]:
            return self.invalid("Invalid value: uri must be specified.")
        if len(uris) > 1:
            return self.invalid("Invalid value: uri must be specified once.")
        listed = self.fx["lists"][self.lookup(uris[0])]
        hits = [t for t in listed if t in types]
        if not hits:
            return self.json(200, {})
        expire = time.time() + self.app.config["expire_seconds"]
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(expire))
        stamp += ".%09dZ" % int((expire % 1) * 1e9)
        return self.json(200, render(self.fx["templates"]["threat"],
                                     {"threat_types": hits, "expire_time": stamp}))


class XForce(Provider):
    name = "ibm-xforce"
    ROUTE = re.compile(r"(?:/api)?/(ipr|url|malware)/(.+)")
    CLAIMED = re.compile(r"(?:/api)?/(ipr|url|malware|resolve|whois|all-subscriptions)(/.*)?")
    TEMPLATE = {"ipr": "ip", "url": "url", "malware": "malware"}
    HASH_TYPE = {32: "md5", 40: "sha1", 64: "sha256"}

    def normalize(self, indicator):
        if parse_ip(indicator) is not None or is_hash(indicator):
            return normalize_indicator(indicator)
        text = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", indicator).rstrip("/")
        return text if "/" in text else text.lower()

    def claims(self, path):
        return bool(self.CLAIMED.fullmatch(path))

    def route(self, req):
        match = self.ROUTE.fullmatch(req.path)
        if req.method != "GET" or not match or re.match(r"(malware|history)/", match.group(2)):
            # /ipr/malware/, /ipr/history/ ... are not mocked: 404 like any unknown
            return Call(lambda: self.error("no_route"))
        endpoint, value = match.group(1), unquote(match.group(2))
        if endpoint == "ipr":
            ip = parse_ip(value)
            if ip is None:
                return Call(lambda: self.error("invalid_argument", message="Invalid IP address."), [value])
            value = str(ip)
        elif endpoint == "malware":
            if not is_hash(value):
                return Call(lambda: self.error("invalid_argument", message="Invalid hash."), [value])
            value = value.lower()
        else:
            value = self.normalize(value)
            if not value:
                return Call(lambda: self.error("invalid_argument", message="Invalid URL."))
        return Call(lambda: self.report(endpoint, value), [value])

    def report(self, endpoint, value):
        name = self.lookup(value)
        if name in self.fx.get("bodies", {}):
            return self.body(name)
        kind = self.TEMPLATE[endpoint]
        verdict = "clean" if name == "unscanned" else name
        known = self.fx["verdicts"][kind]
        if verdict not in known:        # unknown, and clean hashes
            return self.error("not_found")
        values = dict(known[verdict], indicator=value)
        if kind == "ip":
            net = ipaddress.ip_network(f"{value}/{24 if ':' not in value else 48}", strict=False)
            values.update(network=str(net), network_address=str(net.network_address))
        elif kind == "malware":
            values.update(hash_type=self.HASH_TYPE[len(value)], xf_hash="0x" + value.upper())
        return self.json(200, render(self.fx["templates"][kind], values))

    def credentials(self, req):
        auth = req.headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        return [user, password] if sep else None

    def check_auth(self, req):
        if not req.headers.get("Authorization"):
            return self.error("missing_key")
        creds = self.credentials(req)
        if creds is None or creds not in [list(c) for c in self.app.config["keys"]["ibm-xforce"]]:
            return self.error("wrong_key")
        return None


class MetaDefender(Provider):
    """OPSWAT MetaDefender Cloud v4: /v4/hash|ip|url|domain/{one segment},
    uploads POST /v4/file then GET /v4/file/{data_id}, GET /v4/apikey/;
    the key in an `apikey` header.

    An uploaded file's analysis answers "In Progress" (progress 40) for
    analysis_queued_polls polls, then its verdict: the override
    "analysis:<sha256>" when set (POST /__mock/indicators), a verdict or
    one of the fault modes "never" (in progress forever: a job that never
    finishes) and "failed" (progress_percentage -1: a failed analysis);
    else the hash's own verdict, or clean for a hash that was unknown."""
    name = "opswat-metadefender"
    ANALYSIS_FAULTS = ("never", "failed")
    ROUTE = re.compile(r"/v4/(hash|ip|url|domain)/([^/]+)")
    CLAIMED = re.compile(r"/v4/(hash|ip|url|domain|file|apikey)(/.*)?")
    LIMIT = 4000

    def claims(self, path):
        return bool(self.CLAIMED.fullmatch(path))

    def valid_name(self, name):
        return name in self.ANALYSIS_FAULTS or super().valid_name(name)

    def rate_headers(self, remaining=None):
        left = self.LIMIT if remaining is None else remaining
        return [("X-RateLimit-Limit", str(self.LIMIT)), ("X-RateLimit-Remaining", str(left)),
                ("X-RateLimit-Reset-In", "3600"), ("X-RateLimit-Used", str(self.LIMIT - left))]

    def fault_reply(self, fault):
        if fault.mode in ("quota", "ratelimit"):
            return self.error(fault.mode, headers=self.rate_headers(0))
        return super().fault_reply(fault)

    # the real service sends its rate-limit headers with every answer
    def body(self, name):
        spec = self.fx["bodies"][name]
        return self.json(spec["status"], spec["body"], self.rate_headers())

    def error(self, name, headers=None, **values):
        return super().error(name, headers=headers or self.rate_headers(), **values)

    def route(self, req):
        if req.path in ("/v4/apikey", "/v4/apikey/") and req.method == "GET":
            return Call(lambda: self.json(200, {"max_upload_file_size": 140, "paid_user": 0,
                                                "qos_scan": "normal", "limit_reputation": self.LIMIT},
                                          self.rate_headers()))
        if req.path == "/v4/file" and req.method == "POST":
            return Call(lambda: self.upload(req))
        if req.path.startswith("/v4/file/") and req.method == "GET":
            return Call(lambda: self.result(req.path[len("/v4/file/"):]))
        match = self.ROUTE.fullmatch(req.path)
        if req.method != "GET" or not match:
            # also a URL sent with a raw "/" in its segment: not encoded
            return Call(lambda: self.error("no_route"))
        endpoint, value = match.group(1), unquote(match.group(2))
        if endpoint == "ip":
            ip = parse_ip(value)
            if ip is None:
                return Call(lambda: self.error("invalid_argument", message="Invalid IP address"),
                            [value])
            value = str(ip)
        elif endpoint == "hash":
            if not is_hash(value):
                return Call(lambda: self.error("invalid_argument", message="Invalid hash format"),
                            [value])
            value = value.lower()
        return Call(lambda: self.report(endpoint, value), [value])

    def file_report(self, verdict, digest, data_id):
        known = self.fx["verdicts"]["file"]
        values = dict(known[verdict], data_id=data_id, md5=digest if len(digest) == 32 else "",
                      sha1=digest if len(digest) == 40 else "",
                      sha256=digest if len(digest) == 64 else "")
        return self.json(200, render(self.fx["templates"]["file"], values), self.rate_headers())

    def report(self, endpoint, value):
        name = self.lookup(value)
        if name in self.fx.get("bodies", {}):
            return self.body(name)
        if endpoint == "hash":
            if name not in self.fx["verdicts"]["file"]:     # unknown
                return self.error("not_found")
            return self.file_report(name, value, "d" + value[:20])
        values = dict(self.fx["verdicts"]["reputation"][name], indicator=value)
        return self.json(200, render(self.fx["templates"]["reputation"], values),
                         self.rate_headers())

    def upload(self, req):
        if req.headers.get("Content-Type", "").split(";")[0].strip() != "application/octet-stream":
            return self.error("invalid_argument", message="Content-Type must be application/octet-stream")
        digest = hashlib.sha256(req.body).hexdigest()
        with self.state.lock:
            data_id = "m%06d%s" % (len(self.state.analyses) + 1, digest[:16])
            self.state.analyses[data_id] = {"sha256": digest, "polls": 0}
        return self.json(200, {"data_id": data_id, "status": "inqueue", "in_queue": 3,
                               "queue_priority": "normal",
                               "sha1": hashlib.sha1(req.body).hexdigest(), "sha256": digest})

    def result(self, data_id):
        with self.state.lock:
            job = self.state.analyses.get(data_id)
            if job is not None:
                job["polls"] += 1
        if job is None:
            return self.error("data_id_not_found")
        special = self.state.override(self.name, "analysis:" + job["sha256"])
        if special == "failed":
            return self.json(200, {"data_id": data_id,
                                   "scan_results": {"progress_percentage": -1,
                                                    "scan_all_result_i": 3,
                                                    "scan_all_result_a": "Failed To Scan"}},
                             self.rate_headers())
        if job["polls"] <= self.app.config["analysis_queued_polls"] or special == "never":
            return self.json(200, {"data_id": data_id,
                                   "scan_results": {"progress_percentage": 40,
                                                    "scan_all_result_i": 255,
                                                    "scan_all_result_a": "In Progress"},
                                   "process_info": {"progress_percentage": 40, "result": "",
                                                    "profile": "multiscan"}})
        verdict = special or self.lookup(job["sha256"])
        if verdict not in self.fx["verdicts"]["file"]:
            verdict = "clean"       # scanned now: no longer unknown
        return self.file_report(verdict, job["sha256"], data_id)

    def check_auth(self, req):
        return self.check_header_key(req, "apikey")

    def secret_values(self, req):
        return self.header_key_secrets(req, "apikey")


# Providers in modules of their own import their base classes from here,
# also when this file runs as the main program.
sys.modules.setdefault("mock_providers", sys.modules[__name__])
from mock_anyrun import AnyRun  # noqa: E402
from mock_apivoid import APIVoid  # noqa: E402
from mock_cyberxray import CyberXRay  # noqa: E402
from mock_fortisandbox import FortiSandbox  # noqa: E402
from mock_ironscales import IronScales  # noqa: E402
from mock_vmray import VMRay  # noqa: E402

# MetaDefender before Safe Browsing: both live under /v4, Google claims the rest of it;
# ANY.RUN before Web Risk: both under /v1
PROVIDER_CLASSES = (VirusTotal, MetaDefender, SafeBrowsing, AnyRun, WebRisk, XForce, APIVoid,
                    CyberXRay, IronScales, FortiSandbox, VMRay)


# --- control API ------------------------------------------------------------

class Control:
    def __init__(self, app):
        self.app = app

    def handle(self, req):
        state = self.app.state
        route = (req.method, req.path)
        if route == ("GET", "/__mock/requests"):
            provider = req.params("provider")
            return Reply.json(200, state.snapshot(self.app.canonical(provider[0]) if provider else None))
        if route == ("GET", "/__mock/stats"):
            return Reply.json(200, state.stats())
        if route == ("POST", "/__mock/reset"):
            state.reset()
            return Reply.json(200, {"ok": True})
        if route == ("GET", "/__mock/fault"):
            return Reply.json(200, state.stats()["faults"])
        if route == ("POST", "/__mock/fault"):
            return self.set_fault(req.json_body())
        if route == ("POST", "/__mock/indicators"):
            return self.set_indicators(req.json_body())
        if route == ("GET", "/__mock/health"):
            return Reply.json(200, {"ok": True, "providers": sorted(self.app.providers)})
        return Reply.json(404, {"error": f"no control endpoint {req.method} {req.path}"})

    def providers_of(self, doc):
        if not isinstance(doc, dict):
            raise ValueError("the body must be a JSON object")
        name = doc.get("provider", "*")
        if name == "*":
            return "*"
        name = self.app.canonical(name)
        if name not in self.app.providers:
            raise ValueError(f"unknown provider {doc.get('provider')!r}")
        return name

    def set_fault(self, doc):
        try:
            provider = self.providers_of(doc)
            mode = doc.get("mode")
            if mode not in FAULT_MODES:
                raise ValueError(f"mode must be one of {', '.join(FAULT_MODES)}")
            ms = doc.get("ms", 0)
            count = doc.get("count")
            status = doc.get("status", 503)
            retry_after = doc.get("retry_after")
            if not isinstance(ms, int) or ms < 0:
                raise ValueError("ms must be an integer >= 0")
            if count is not None and (not isinstance(count, int) or count < 1):
                raise ValueError("count must be an integer >= 1")
            if mode == "status5xx" and status not in (500, 503, 504):
                raise ValueError("status must be 500, 503 or 504")
            if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
                raise ValueError("retry_after must be an integer >= 0")
        except (ValueError, AttributeError) as e:
            return Reply.json(400, {"error": str(e)})
        self.app.state.set_fault(provider, Fault(mode, ms, count, status, retry_after))
        return Reply.json(200, {"ok": True})

    def set_indicators(self, doc):
        try:
            provider = self.providers_of(doc)
            table = dict(doc.get("indicators") or {})
            if "indicator" in doc:
                table[doc["indicator"]] = doc.get("verdict")
            targets = list(self.app.providers.values()) if provider == "*" else [self.app.providers[provider]]
            for indicator, name in table.items():
                for target in targets:
                    ok = name in VERDICTS if provider == "*" else target.valid_name(name)
                    if not isinstance(indicator, str) or not ok:
                        raise ValueError(f"{target.name}: bad entry {indicator!r}: {name!r}")
        except (ValueError, AttributeError, TypeError) as e:
            return Reply.json(400, {"error": str(e)})
        for indicator, name in table.items():
            for target in targets:
                target.state.set_override(target.name, target.normalize(indicator), name)
        return Reply.json(200, {"ok": True})


# --- HTTP plumbing ----------------------------------------------------------

class BodyError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "threatmilter-mock/1.0"
    timeout = 120       # idle keep-alive connections are closed after this

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            sys.stderr.write("mock_providers: %s %s\n" % (self.address_string(), fmt % args))

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
                if sum(map(len, chunks)) > MAX_BODY:
                    raise BodyError(413, "request body too large")
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit():
            raise BodyError(400, "bad Content-Length")
        if int(length) > MAX_BODY:
            raise BodyError(413, "request body too large")
        return self.rfile.read(int(length))

    def dispatch(self):
        app = self.server.app
        try:
            try:
                body = self.read_body()
            except (BodyError, ValueError) as e:
                self.close_connection = True
                self.send(Reply.json(getattr(e, "status", 400), {"error": str(e)}))
                return
            req = Request(self.command, self.path, self.headers, body, self.server.base_url)
            if req.path.startswith("/__mock/"):
                self.send(app.control.handle(req))
                return
            provider = app.provider_for(req.path)
            if provider is None:
                self.send(Reply.json(404, {"error": f"no mock provider at {req.path}"}))
                return
            self.serve_provider(provider, req)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self.close_connection = True
            try:
                self.send(Reply.json(500, {"error": "mock internal error"}))
            except OSError:
                pass

    def serve_provider(self, provider, req):
        state = self.server.app.state
        call = provider.route(req)
        record = {"time": time.time(), "method": req.method, "path": provider.logged_target(req),
                  "provider": provider.name, "indicators": call.indicators,
                  "indicator": call.indicators[0] if len(call.indicators) == 1 else None,
                  "headers": self.logged_headers(), "scheme": self.server.scheme,
                  "body_bytes": len(req.body),
                  "fault": None, "status": None}
        state.begin(record)
        if not getattr(self, "counted", False):     # first provider request here
            self.counted = True
            state.connection(getattr(self.connection, "session_reused", False))
        reply, mode = None, None
        try:
            if self.server.app.delay_ms:
                state.sleep(self.server.app.delay_ms)
            fault = state.take_fault(provider.name)
            mode = record["fault"] = fault.mode if fault else None
            reply = self.answer(provider, req, call, fault)
        finally:
            # finished before the reply goes out, so that a client which has
            # read its answer never sees its own request still in flight
            state.end(record, reply.status if reply else None)
        if reply is None:
            self.close_connection = True    # hang or disconnect: no answer
        else:
            self.send(reply, truncated=(mode == "truncated"))

    def answer(self, provider, req, call, fault):
        """The reply to send, None to close the connection unanswered."""
        mode = fault.mode if fault else None
        if mode == "delay":
            self.server.app.state.sleep(fault.ms)
        elif mode == "hang":
            self.server.app.state.hang()        # until reset or shutdown
            return None
        elif mode == "disconnect":
            return None
        if mode in ("status5xx", "ratelimit", "ratelimit_retry_after", "quota"):
            return provider.fault_reply(fault)
        if mode == "badkey":
            return provider.wrong_key(req)
        if mode == "malformed":
            return Reply(200, MALFORMED_BODY, content_type=provider.content_type)
        return provider.check_auth(req) or call.run()

    def logged_headers(self):
        hidden = {"authorization", "x-apikey", "x-api-key", "apikey", "cookie", "proxy-authorization"}
        return {k.lower(): ("<redacted>" if k.lower() in hidden else v)
                for k, v in self.headers.items()}

    def send(self, reply, truncated=False):
        body = reply.body
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        # truncated: announce the whole body, send half of it, then close
        self.send_header("Content-Length", str(len(body) if body or not truncated else 16))
        if self.close_connection and not truncated:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[:len(body) // 2] if truncated else body)
        self.wfile.flush()
        if truncated:
            self.close_connection = True


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a burst of new
    # connections then loses SYNs and waits for the 1 s retransmission,
    # which no real provider's front end does.
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, port, app, ssl_context=None):
        self.app = app
        self.ssl_context = ssl_context
        self.scheme = "https" if ssl_context else "http"
        super().__init__(("127.0.0.1", port), Handler)
        self.base_url = f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def server_bind(self):
        # skip HTTPServer's reverse lookup of the address (slow without DNS)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_context:
            # handshake later, in the connection's own thread
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        # Like a production server: no Nagle stall between the header and
        # body writes (it would add ~40 ms to every answer and hide the
        # latency threatmilter itself adds).
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.ssl_context:
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return          # e.g. the client refused our certificate
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
            super().handle_error(request, client_address)


class App:
    def __init__(self, config, verbose=False):
        self.config = config
        self.verbose = verbose
        self.delay_ms = config["delay_ms"]
        self.state = State(config["max_recorded"])
        self.providers = {}
        for cls in PROVIDER_CLASSES:
            self.providers[cls.name] = cls(self)
        self.control = Control(self)

    @staticmethod
    def canonical(name):
        return ALIASES.get(name, name)

    def provider_for(self, path):
        for provider in self.providers.values():
            if provider.claims(path):
                return provider
        return None


def load_config(path, fixtures_dir=None):
    config = json.loads(json.dumps(DEFAULT_CONFIG))
    if path:
        with open(path, encoding="utf-8") as f:
            user = json.load(f)
        for key, value in user.items():
            if key not in config:
                raise ValueError(f"{path}: unknown key {key!r}")
            if isinstance(config[key], dict):
                config[key].update({App.canonical(k): v for k, v in value.items()})
            else:
                config[key] = value
    if fixtures_dir:
        config["fixtures_dir"] = fixtures_dir
    return config


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def write_ports(path, ports):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--http-port", type=int, help="plain HTTP port (0 = any free port)")
    ap.add_argument("--https-port", type=int, help="HTTPS port with --cert/--key")
    ap.add_argument("--bad-https-port", type=int,
                    help="HTTPS with a self-signed certificate not issued by the test CA")
    ap.add_argument("--mismatch-https-port", type=int,
                    help="HTTPS with a test-CA certificate for another host name")
    ap.add_argument("--cert", help="server certificate (PEM) for --https-port")
    ap.add_argument("--key", help="its private key")
    ap.add_argument("--bad-cert", help="default: wrong.pem beside --cert")
    ap.add_argument("--bad-key", help="default: wrong.key beside --cert")
    ap.add_argument("--mismatch-cert", help="default: mismatch.pem beside --cert")
    ap.add_argument("--mismatch-key", help="default: mismatch.key beside --cert")
    ap.add_argument("--config", help="JSON: keys, disabled_keys, indicators, ...")
    ap.add_argument("--fixtures", help="fixtures directory (default: fixtures/ here)")
    ap.add_argument("--ports-file", help="write the listening ports here as JSON")
    ap.add_argument("--delay-ms", type=int, help="delay every provider answer")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args(argv)

    try:
        config = load_config(args.config, args.fixtures)
        if args.delay_ms is not None:
            config["delay_ms"] = args.delay_ms
        app = App(config, args.verbose)
    except (OSError, ValueError, KeyError) as e:
        ap.error(f"configuration: {e}")

    certdir = os.path.dirname(args.cert) if args.cert else "."
    wanted = [("http", args.http_port, None, None),
              ("https", args.https_port, args.cert, args.key),
              ("bad_https", args.bad_https_port, args.bad_cert or os.path.join(certdir, "wrong.pem"),
               args.bad_key or os.path.join(certdir, "wrong.key")),
              ("mismatch_https", args.mismatch_https_port,
               args.mismatch_cert or os.path.join(certdir, "mismatch.pem"),
               args.mismatch_key or os.path.join(certdir, "mismatch.key"))]
    if all(port is None for _, port, _, _ in wanted):
        wanted[0] = ("http", 0, None, None)
    servers = {}
    try:
        for label, port, cert, key in wanted:
            if port is None:
                continue
            if label != "http" and not (cert and key):
                ap.error(f"--{label.replace('_', '-')}-port needs a certificate and key")
            servers[label] = MockServer(port, app, tls_context(cert, key) if label != "http" else None)
    except (OSError, ssl.SSLError) as e:
        ap.error(f"cannot listen: {e}")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
               for s in servers.values()]
    for t in threads:
        t.start()
    ports = {label: s.server_address[1] for label, s in servers.items()}
    if args.ports_file:
        write_ports(args.ports_file, ports)
    if args.verbose:
        sys.stderr.write(f"mock_providers: listening {ports}\n")
    while not stop.wait(0.5):
        pass
    app.state.release_all()
    for s in servers.values():
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
