#!/usr/bin/env python3
"""Mock Spamhaus DNSBL server (ZEN and its component lists, DBL, DQS).

A tiny authoritative DNS server on 127.0.0.1 (UDP, and TCP on the same
port), answering as described in ../shared/providers/spamhaus-zen.md:

  <reversed IPv4>.<list>.<root>      4 decimal labels, last octet first
  <32 reversed nibbles>.<list>.<root>  IPv6, lower-case hex
  <host name>.dbl.<root>             DBL is wildcarded: a listed domain
                                     lists its subdomains too
  ... .<key>.<list>.<dqs root>       Data Query Service form

  roots:      spamhaus.org, mock.test          (zen.spamhaus.org ...)
  DQS roots:  dq.spamhaus.net, dq.mock.test    (<key>.zen.dq.spamhaus.net)
  IP lists:   zen (everything), sbl (.2 .3 .9 .30), xbl (.4-.7),
              pbl (.10 .11), sbl-xbl, authbl (.20); domain lists: dbl, zrd

Answers: a listed name gets one A record per return code (TTL "ttl");
unlisted is NXDOMAIN with the zone's SOA (minimum "negative_ttl"); a
listed name asked for another type is NODATA; TXT gives a reason text.
Error behaviour, all from the document:
  an IP queried against DBL             -> 127.0.1.255
  a list name that does not exist       -> 127.255.255.252 (zone typo)
  an unknown DQS key                    -> 127.255.255.250
  a DQS key without that list           -> REFUSED (dqs_refused_rcode)
  a name outside every root             -> REFUSED
Default listings (fixtures/spamhaus-zen.json): 127.0.0.2 is the test point
(SBL, XBL, PBL) and 127.0.0.1 is not listed; 203.0.113.7 SBL+XBL;
203.0.113.9 PBL only; 192.0.2.254 -> 127.255.255.254 (public resolver);
192.0.2.250 SERVFAIL; 192.0.2.251 never answered; dbltest.com 127.0.1.2;
domains containing "malicious" 127.0.1.2, "suspicious" 127.0.1.102; the
fixture table of the document (203.0.113.6-17, 2001:db8:7ca6:22::45, ...).

A listing is a list of codes or one of "SERVFAIL", "REFUSED", "NXDOMAIN",
"NODATA", "DROP" (never answer), or {"codes": [...] | "action": ...,
"delay_ms": N, "ttl": N}. Keys of "ips" may be networks (longest prefix
wins).

Control (HTTP on --control-port): GET /stats, GET /queries, GET /config,
POST /reset (forget queries, back to the startup configuration),
POST /config (JSON; each top-level key given replaces that key),
POST /fault {"mode": "none"|"servfail"|"refused"|"drop"|"delay",
             "ms": N, "count": N}  (applies to every query).

Run: mock_dns.py --port 0 --control-port 0 --ports-file ports.json
     [--config listings.json] [--no-tcp]
The ports file ({"dns": N, "control": N}) is written once both listen.
"""
import argparse
import ipaddress
import json
import os
import re
import signal
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TYPE_A, TYPE_SOA, TYPE_TXT, TYPE_OPT, TYPE_ANY = 1, 6, 16, 41, 255
TYPE_NAMES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT",
              28: "AAAA", 33: "SRV", 41: "OPT", 255: "ANY"}
CLASS_IN, CLASS_ANY = 1, 255
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
RCODES = {"NOERROR": NOERROR, "FORMERR": FORMERR, "SERVFAIL": SERVFAIL,
          "NXDOMAIN": NXDOMAIN, "NOTIMP": NOTIMP, "REFUSED": REFUSED}
RCODE_NAMES = {v: k for k, v in RCODES.items()}
ACTIONS = ("SERVFAIL", "REFUSED", "NXDOMAIN", "NODATA", "DROP")
FAULT_MODES = ("none", "servfail", "refused", "drop", "delay")

# return-code sets of the IP lists (None: every code); error codes
# (127.255.255.0/24) and undocumented codes go through every list
IP_LISTS = {"zen": None, "sbl": {2, 3, 9, 30}, "xbl": {4, 5, 6, 7}, "pbl": {10, 11},
            "sbl-xbl": {2, 3, 4, 5, 6, 7, 9, 30}, "authbl": {20}}
DOMAIN_LISTS = {"dbl", "zrd"}
KNOWN_CODES = set().union(*(s for s in IP_LISTS.values() if s))
LIST_OF_CODE = {2: "SBL", 3: "SBL CSS", 4: "XBL", 5: "XBL", 6: "XBL", 7: "XBL", 9: "SBL DROP",
                10: "PBL", 11: "PBL", 20: "AuthBL", 30: "BCL"}

def fixture_listings():
    """The listings of fixtures/spamhaus-zen.json, shared with the C unit
    tests (which also read its "cases")."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                        "spamhaus-zen.json")
    with open(path, encoding="utf-8") as f:
        fixture = json.load(f)
    return {key: fixture[key] for key in ("ips", "domains", "domain_substrings")}


DEFAULT_CONFIG = {
    "ttl": 60,
    "negative_ttl": 60,
    "public_roots": ["spamhaus.org", "mock.test"],
    "dqs_roots": ["dq.spamhaus.net", "dq.mock.test"],
    "dqs_keys": {
        "testkey0123456789abcdefghij": ["zen", "sbl", "xbl", "pbl", "sbl-xbl", "authbl", "dbl", "zrd"],
        "zenonlykey0123456789abcdef": ["zen", "sbl", "xbl", "pbl", "sbl-xbl"],
    },
    "dqs_refused_rcode": "REFUSED",
    # "ips", "domains", "domain_substrings": fixtures/spamhaus-zen.json
    **fixture_listings(),
}


# --- wire format ------------------------------------------------------------

class FormatError(Exception):
    pass


class Query:
    def __init__(self, ident, flags, name, qtype, qclass, question, edns_size):
        self.id = ident
        self.flags = flags
        self.opcode = (flags >> 11) & 0xF
        self.name = name
        self.qtype = qtype
        self.qclass = qclass
        self.question = question     # the question section as received
        self.edns_size = edns_size   # None without an OPT record


def read_name(msg, offset):
    """(dotted name, offset after it); follows compression pointers."""
    labels, end, jumps, length = [], None, 0, 0
    while True:
        if offset >= len(msg):
            raise FormatError("name runs past the message")
        size = msg[offset]
        if size & 0xC0 == 0xC0:
            if offset + 1 >= len(msg) or jumps > 32:
                raise FormatError("bad compression pointer")
            end = offset + 2 if end is None else end
            offset = ((size & 0x3F) << 8) | msg[offset + 1]
            jumps += 1
            continue
        if size & 0xC0:
            raise FormatError("unsupported label type")
        offset += 1
        if size == 0:
            break
        if offset + size > len(msg):
            raise FormatError("label runs past the message")
        labels.append(msg[offset:offset + size].decode("latin-1"))
        length += size + 1
        if length > 255:
            raise FormatError("name too long")
        offset += size
    return ".".join(labels), (offset if end is None else end)


def skip_rr(msg, offset):
    _, offset = read_name(msg, offset)
    if offset + 10 > len(msg):
        raise FormatError("truncated record")
    rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[offset:offset + 10])
    return offset + 10 + rdlen, rtype, rclass


def parse_query(msg):
    """A Query; FormatError if malformed (the caller answers FORMERR when
    it at least has an id); ValueError if it must be ignored."""
    if len(msg) < 12:
        raise ValueError("short packet")
    ident, flags, qdcount, ancount, nscount, arcount = struct.unpack("!6H", msg[:12])
    if flags & 0x8000:
        raise ValueError("a response, not a query")
    if qdcount != 1:
        raise FormatError("exactly one question expected")
    name, offset = read_name(msg, 12)
    if offset + 4 > len(msg):
        raise FormatError("truncated question")
    qtype, qclass = struct.unpack("!HH", msg[offset:offset + 4])
    question = msg[12:offset + 4]
    offset += 4
    edns = None
    for i in range(ancount + nscount + arcount):
        start = offset
        offset, rtype, rclass = skip_rr(msg, offset)
        if rtype == TYPE_OPT and i >= ancount + nscount and offset <= len(msg):
            edns = max(512, rclass)
        if offset > len(msg):
            raise FormatError(f"record at {start} runs past the message")
    return Query(ident, flags, name, qtype, qclass, question, edns)


def encode_name(name):
    out = b""
    for label in (name.strip(".").split(".") if name.strip(".") else []):
        raw = label.encode("latin-1")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def rr(owner, rtype, ttl, rdata):
    """A resource record; owner None means the question's name (pointer)."""
    head = b"\xc0\x0c" if owner is None else encode_name(owner)
    return head + struct.pack("!HHIH", rtype, CLASS_IN, ttl, len(rdata)) + rdata


def soa_rdata(zone, minimum):
    return (encode_name("ns1." + zone) + encode_name("hostmaster." + zone)
            + struct.pack("!5I", 2024010101, 3600, 600, 86400, minimum))


def txt_rdata(text):
    raw = text.encode("utf-8")
    return b"".join(bytes([len(raw[i:i + 255])]) + raw[i:i + 255] for i in range(0, len(raw), 255))


def build_response(query, rcode, answers=(), authority=(), udp=True):
    flags = (0x8000 | (query.opcode << 11) | 0x0400 | (query.flags & 0x0100) | 0x0080
             | (rcode & 0xF))
    opt = struct.pack("!BHHIH", 0, TYPE_OPT, 1232, 0, 0) if query.edns_size else b""
    limit = query.edns_size or 512
    msg = (struct.pack("!6H", query.id, flags, 1, len(answers), len(authority), 1 if opt else 0)
           + query.question + b"".join(answers) + b"".join(authority) + opt)
    if udp and len(msg) > limit:       # truncated: the client retries over TCP
        msg = struct.pack("!6H", query.id, flags | 0x0200, 1, 0, 0, 0) + query.question
    return msg


def formerr(msg):
    ident, flags = struct.unpack("!HH", msg[:4])
    flags = 0x8000 | (flags & 0x7900) | 0x0080 | FORMERR
    return struct.pack("!6H", ident, flags, 0, 0, 0, 0)


# --- Spamhaus zone logic ----------------------------------------------------

class Listing:
    def __init__(self, codes=(), action=None, delay_ms=0, ttl=None):
        self.codes = list(codes)
        self.action = action
        self.delay_ms = delay_ms
        self.ttl = ttl

    @classmethod
    def parse(cls, value, where):
        if isinstance(value, str):
            value = {"action": value}
        elif isinstance(value, list):
            value = {"codes": value}
        if not isinstance(value, dict) or set(value) - {"codes", "action", "delay_ms", "ttl"}:
            raise ValueError(f"{where}: bad listing {value!r}")
        action = value.get("action")
        if action is not None and action not in ACTIONS:
            raise ValueError(f"{where}: action must be one of {', '.join(ACTIONS)}")
        codes = value.get("codes", [])
        for code in codes:
            addr = ipaddress.IPv4Address(code)      # ValueError if not an address
            if addr not in ipaddress.IPv4Network("127.0.0.0/8"):
                raise ValueError(f"{where}: return code {code} is not in 127.0.0.0/8")
        if not codes and action is None:
            raise ValueError(f"{where}: a listing needs codes or an action")
        return cls(codes, action, int(value.get("delay_ms", 0)), value.get("ttl"))


class Answer:
    """What to answer for one query name."""
    def __init__(self, rcode=NOERROR, codes=(), zone=None, lst=None, indicator=None,
                 drop=False, delay_ms=0, ttl=None):
        self.rcode = rcode
        self.codes = list(codes)
        self.zone = zone
        self.list = lst
        self.indicator = indicator
        self.drop = drop
        self.delay_ms = delay_ms
        self.ttl = ttl


class Spamhaus:
    def __init__(self, config):
        self.config = config
        self.ips, self.nets = {}, []
        for key, value in config["ips"].items():
            listing = Listing.parse(value, f"ips[{key}]")
            if "/" in key:
                self.nets.append((ipaddress.ip_network(key, strict=False), listing))
            else:
                self.ips[ipaddress.ip_address(key)] = listing
        self.nets.sort(key=lambda item: -item[0].prefixlen)
        self.domains = {k.lower().rstrip("."): Listing.parse(v, f"domains[{k}]")
                        for k, v in config["domains"].items()}
        self.substrings = {k.lower(): Listing.parse(v, f"domain_substrings[{k}]")
                           for k, v in config["domain_substrings"].items()}
        self.refused = RCODES[config["dqs_refused_rcode"]]
        self.dqs_roots = sorted((r.lower() for r in config["dqs_roots"]), key=len, reverse=True)
        self.public_roots = sorted((r.lower() for r in config["public_roots"]), key=len, reverse=True)

    @staticmethod
    def split(name, root):
        """Labels left of root, or None if name is not under root."""
        if name == root:
            return []
        if name.endswith("." + root):
            return name[:-len(root) - 1].split(".")
        return None

    def resolve(self, qname):
        name = qname.lower().rstrip(".")
        for root in self.dqs_roots:
            labels = self.split(name, root)
            if labels is None:
                continue
            if len(labels) < 2:
                return Answer(zone=root)
            key, lst = labels[-2], labels[-1]
            zone = f"{key}.{lst}.{root}"
            if not labels[:-2]:
                return Answer(zone=zone, lst=lst)
            where = dict(zone=zone, lst=lst, indicator=".".join(labels[:-2]))
            if key not in self.config["dqs_keys"]:
                return Answer(codes=["127.255.255.250"], **where)
            if lst not in IP_LISTS and lst not in DOMAIN_LISTS:
                return Answer(codes=["127.255.255.252"], **where)
            if lst not in self.config["dqs_keys"][key]:
                return Answer(rcode=self.refused, **where)
            return self.lookup(lst, labels[:-2], zone)
        for root in self.public_roots:
            labels = self.split(name, root)
            if labels is None:
                continue
            if not labels:
                return Answer(zone=root)
            lst = labels[-1]
            zone = f"{lst}.{root}"
            if not labels[:-1]:
                return Answer(zone=zone, lst=lst)
            if lst not in IP_LISTS and lst not in DOMAIN_LISTS:
                return Answer(codes=["127.255.255.252"], zone=zone, lst=lst,
                              indicator=".".join(labels[:-1]))
            return self.lookup(lst, labels[:-1], zone)
        return Answer(rcode=REFUSED)

    def lookup(self, lst, labels, zone):
        if lst in IP_LISTS:
            ip = name_to_ip(labels)
            if ip is None:
                return Answer(rcode=NXDOMAIN, zone=zone, lst=lst, indicator=".".join(labels))
            listing = self.ip_listing(ip)
            return self.listed(listing, zone, lst, str(ip), IP_LISTS[lst])
        domain = ".".join(labels)
        if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", domain):
            return Answer(codes=["127.0.1.255"], zone=zone, lst=lst, indicator=domain)
        listing = self.domain_listing(domain) if lst == "dbl" else None
        return self.listed(listing, zone, lst, domain, None)

    def ip_listing(self, ip):
        if ip in self.ips:
            return self.ips[ip]
        for net, listing in self.nets:
            if ip.version == net.version and ip in net:
                return listing
        return None

    def domain_listing(self, domain):
        labels = domain.split(".")
        for i in range(len(labels) - 1):       # wildcard: the name, then its parents
            listing = self.domains.get(".".join(labels[i:]))
            if listing:
                return listing
        for word, listing in self.substrings.items():
            if word in domain:
                return listing
        return None

    def listed(self, listing, zone, lst, indicator, allowed):
        base = dict(zone=zone, lst=lst, indicator=indicator)
        if listing is None:
            return Answer(rcode=NXDOMAIN, **base)
        timing = dict(delay_ms=listing.delay_ms, ttl=listing.ttl)
        if listing.action == "DROP":
            return Answer(drop=True, **base, **timing)
        if listing.action in ("SERVFAIL", "REFUSED", "NXDOMAIN"):
            return Answer(rcode=RCODES[listing.action], **base, **timing)
        codes = [c for c in listing.codes if allowed is None or code_in_list(c, allowed)]
        if not codes and listing.action != "NODATA":
            return Answer(rcode=NXDOMAIN, **base, **timing)
        return Answer(codes=codes, **base, **timing)


def code_in_list(code, allowed):
    addr = ipaddress.IPv4Address(code)
    if addr in ipaddress.IPv4Network("127.255.255.0/24"):
        return True
    last = int(addr) & 0xFF
    return last in allowed or not (code.startswith("127.0.0.") and last in KNOWN_CODES)


def name_to_ip(labels):
    if len(labels) == 4 and all(lb.isdigit() and len(lb) <= 3 and int(lb) <= 255 for lb in labels):
        return ipaddress.IPv4Address(bytes(int(lb) for lb in reversed(labels)))
    if len(labels) == 32 and all(len(lb) == 1 and lb in "0123456789abcdef" for lb in labels):
        return ipaddress.IPv6Address(int("".join(reversed(labels)), 16))
    return None


def txt_for(answer, code):
    addr = ipaddress.IPv4Address(code)
    if addr in ipaddress.IPv4Network("127.255.255.0/24"):
        return f"Error {code}: see https://www.spamhaus.org/returnc/"
    kind = "domain" if answer.list in DOMAIN_LISTS else "ip"
    what = LIST_OF_CODE.get(int(addr) & 0xFF, "DBL") if kind == "ip" else "DBL"
    return f"Listed by {what}, see https://check.spamhaus.org/query/{kind}/{answer.indicator}"


# --- server -----------------------------------------------------------------

class App:
    def __init__(self, config):
        self.lock = threading.Lock()
        self.startup = json.loads(json.dumps(config))
        self.set_config(config)
        self.clear()

    def set_config(self, config):
        spamhaus = Spamhaus(config)      # raises on a bad configuration
        with self.lock:
            self.config, self.spamhaus = config, spamhaus

    def clear(self):
        with self.lock:
            self.queries = []
            self.counters = {"by_zone": {}, "by_list": {}, "by_indicator": {}, "by_qtype": {},
                             "by_rcode": {}, "by_transport": {}}
            self.total = 0
            self.dropped = 0
            self.fault = None

    def reset(self):
        self.set_config(json.loads(json.dumps(self.startup)))
        self.clear()

    def take_fault(self):
        with self.lock:
            fault = self.fault
            if fault and fault.get("count") is not None:
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.fault = None
            return dict(fault) if fault else None

    def record(self, entry):
        with self.lock:
            self.total += 1
            self.dropped += 1 if entry["rcode"] is None else 0
            self.queries.append(entry)
            if len(self.queries) > 100000:
                del self.queries[0]
            for counter, key in (("by_zone", entry["zone"]), ("by_list", entry["list"]),
                                 ("by_indicator", entry["indicator"]), ("by_qtype", entry["qtype"]),
                                 ("by_rcode", entry["rcode"] or "DROPPED"),
                                 ("by_transport", entry["transport"])):
                if key is not None:
                    table = self.counters[counter]
                    table[key] = table.get(key, 0) + 1

    def stats(self):
        with self.lock:
            out = {"total": self.total, "dropped": self.dropped, "fault": self.fault}
            out.update({k: dict(v) for k, v in self.counters.items()})
            return out

    def process(self, msg, transport):
        """The reply to one DNS message, or None to stay silent."""
        try:
            query = parse_query(msg)
        except ValueError:
            return None
        except FormatError:
            return formerr(msg)
        with self.lock:
            spamhaus, ttl, negative_ttl = (self.spamhaus, self.config["ttl"],
                                           self.config["negative_ttl"])
        if query.opcode != 0:
            answer = Answer(rcode=NOTIMP)
        elif query.qclass not in (CLASS_IN, CLASS_ANY):
            answer = Answer(rcode=REFUSED)
        else:
            answer = spamhaus.resolve(query.name)
        fault = self.take_fault()
        if fault:
            mode = fault["mode"]
            if mode == "drop":
                answer.drop = True
            elif mode in ("servfail", "refused"):
                answer = Answer(rcode=RCODES[mode.upper()], zone=answer.zone, lst=answer.list,
                                indicator=answer.indicator)
            elif mode == "delay":
                answer.delay_ms += fault.get("ms", 0)

        answers, authority = [], []
        ttl = answer.ttl if answer.ttl is not None else ttl
        if not answer.drop and answer.rcode == NOERROR and query.qtype in (TYPE_A, TYPE_ANY):
            answers = [rr(None, TYPE_A, ttl, ipaddress.IPv4Address(c).packed) for c in answer.codes]
        elif not answer.drop and answer.rcode == NOERROR and query.qtype == TYPE_TXT:
            answers = [rr(None, TYPE_TXT, ttl, txt_rdata(txt_for(answer, c))) for c in answer.codes]
        if answer.zone and answer.rcode in (NOERROR, NXDOMAIN) and not answers:
            authority = [rr(answer.zone, TYPE_SOA, negative_ttl, soa_rdata(answer.zone, negative_ttl))]
        self.record({"time": time.time(), "transport": transport, "name": query.name,
                     "qtype": TYPE_NAMES.get(query.qtype, str(query.qtype)), "zone": answer.zone,
                     "list": answer.list, "indicator": answer.indicator,
                     "rcode": None if answer.drop else RCODE_NAMES[answer.rcode],
                     "answers": answer.codes if answers else [],
                     "fault": fault["mode"] if fault else None})
        if answer.delay_ms:
            time.sleep(answer.delay_ms / 1000.0)
        if answer.drop:
            return None
        return build_response(query, answer.rcode, answers, authority, udp=(transport == "udp"))


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        reply = self.server.app.process(data, "udp")
        if reply is not None:
            sock.sendto(reply, self.client_address)


class TCPHandler(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self):
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return
            size = struct.unpack("!H", head)[0]
            msg = self.rfile.read(size)
            if len(msg) < size:
                return
            reply = self.server.app.process(msg, "tcp")
            if reply is not None:
                self.wfile.write(struct.pack("!H", len(reply)) + reply)
                self.wfile.flush()


class UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = True


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "threatmilter-mock-dns/1.0"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        app = self.server.app
        if self.path == "/stats":
            self.reply(200, app.stats())
        elif self.path == "/queries":
            with app.lock:
                self.reply(200, list(app.queries))
        elif self.path == "/config":
            with app.lock:
                self.reply(200, app.config)
        else:
            self.reply(404, {"error": f"no control endpoint GET {self.path}"})

    def do_POST(self):
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        try:
            doc = json.loads(self.rfile.read(length).decode() or "{}")
        except ValueError as e:
            self.reply(400, {"error": f"bad JSON: {e}"})
            return
        try:
            if self.path == "/reset":
                app.reset()
            elif self.path == "/config":
                with app.lock:
                    config = json.loads(json.dumps(app.config))
                config.update(checked_config(doc))
                app.set_config(config)
            elif self.path == "/fault":
                if doc.get("mode") not in FAULT_MODES:
                    raise ValueError(f"mode must be one of {', '.join(FAULT_MODES)}")
                count = doc.get("count")
                if count is not None and (not isinstance(count, int) or count < 1):
                    raise ValueError("count must be an integer >= 1")
                with app.lock:
                    app.fault = None if doc["mode"] == "none" else {
                        "mode": doc["mode"], "ms": int(doc.get("ms", 0)), "count": count}
            else:
                self.reply(404, {"error": f"no control endpoint POST {self.path}"})
                return
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            self.reply(400, {"error": str(e)})
            return
        self.reply(200, {"ok": True})


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


def checked_config(doc):
    if not isinstance(doc, dict):
        raise ValueError("the configuration must be a JSON object")
    unknown = set(doc) - set(DEFAULT_CONFIG)
    if unknown:
        raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
    if "dqs_refused_rcode" in doc and doc["dqs_refused_rcode"] not in RCODES:
        raise ValueError("dqs_refused_rcode must be an rcode name")
    return doc


def bind_dns(app, port, tcp):
    """UDP (and TCP) servers on the same port; port 0 picks a free one."""
    for _ in range(50):
        udp = UDPServer(("127.0.0.1", port), UDPHandler)
        udp.app = app
        if not tcp:
            return udp, None
        try:
            stream = TCPServer(("127.0.0.1", udp.server_address[1]), TCPHandler)
        except OSError:
            udp.server_close()
            if port:
                raise
            continue
        stream.app = app
        return udp, stream
    raise OSError("no port free for both UDP and TCP")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="DNS port, UDP and TCP (0 = free port)")
    ap.add_argument("--control-port", type=int, help="HTTP control port (0 = free port)")
    ap.add_argument("--ports-file", help="write the ports here as JSON once listening")
    ap.add_argument("--config", help="JSON listings merged over the defaults, key by key")
    ap.add_argument("--no-tcp", action="store_true", help="UDP only")
    args = ap.parse_args(argv)

    config = json.loads(json.dumps(DEFAULT_CONFIG))
    try:
        if args.config:
            with open(args.config, encoding="utf-8") as f:
                config.update(checked_config(json.load(f)))
        app = App(config)
        udp, tcp = bind_dns(app, args.port, not args.no_tcp)
        control = None
        if args.control_port is not None:
            control = ControlServer(("127.0.0.1", args.control_port), ControlHandler)
            control.app = app
    except (OSError, ValueError, KeyError) as e:
        ap.error(str(e))

    servers = [s for s in (udp, tcp, control) if s is not None]
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    ports = {"dns": udp.server_address[1]}
    if control:
        ports["control"] = control.server_address[1]
    if args.ports_file:
        tmp = f"{args.ports_file}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(ports, f)
        os.replace(tmp, args.ports_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
