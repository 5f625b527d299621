#!/usr/bin/env python3
"""Compare `threatmilter scan` output with the expected facts of the corpus.

Usage: compare_facts.py EXPECTED.json ACTUAL.json

The comparison follows ../shared/corpus/README.md: URLs are compared loosely
(scheme/host case, default ports, percent-escapes, '+'/space, fragment and a
lone '/' path do not matter), IPs in canonical form, attachments in MIME
order on filename, extension, size and the three hashes. Extra fields in
the actual output and a {"facts": {...}} wrapper are tolerated.
Exit 0 when equal; otherwise prints the differences and exits 1.
"""
import ipaddress
import json
import sys
import urllib.parse

DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
ATTACHMENT_FIELDS = ("filename", "extension", "size", "md5", "sha1", "sha256")


def loose_url(url):
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    userinfo, _, hostport = netloc.rpartition("@")
    host, port = hostport, None
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if rest.startswith(":"):
            port = rest[1:]
    elif ":" in hostport:
        host, port = hostport.rsplit(":", 1)
    if port and DEFAULT_PORTS.get(scheme) == int(port or 0):
        port = None
    host = host.lower()
    netloc = (userinfo + "@" if userinfo else "") + host + (":" + port if port else "")
    path = urllib.parse.unquote_plus(parts.path)
    if path == "/":
        path = ""
    query = urllib.parse.unquote_plus(parts.query)
    return (scheme, urllib.parse.unquote(netloc), path, query)


def canonical_ip(ip):
    return None if ip is None else str(ipaddress.ip_address(ip))


def unwrap(obj):
    return obj.get("facts", obj) if isinstance(obj, dict) else obj


def compare(expected, actual, where, errors):
    actual = unwrap(actual)
    exp_urls = sorted(loose_url(u) for u in expected["urls"])
    act_urls = sorted(loose_url(u) for u in actual.get("urls", []))
    if exp_urls != act_urls:
        missing = sorted(set(exp_urls) - set(act_urls))
        extra = sorted(set(act_urls) - set(exp_urls))
        errors.append(f"{where}urls: missing {missing} extra {extra}")
    if canonical_ip(expected["sender_ip"]) != canonical_ip(actual.get("sender_ip")):
        errors.append(f"{where}sender_ip: expected {expected['sender_ip']} got {actual.get('sender_ip')}")
    exp_att = [{k: a[k] for k in ATTACHMENT_FIELDS} for a in expected["attachments"]]
    act_att = [{k: a.get(k) for k in ATTACHMENT_FIELDS} for a in actual.get("attachments", [])]
    if exp_att != act_att:
        errors.append(f"{where}attachments: expected {exp_att} got {act_att}")
    exp_rep, act_rep = expected["reported"], actual.get("reported", [])
    if len(exp_rep) != len(act_rep):
        errors.append(f"{where}reported: expected {len(exp_rep)} messages, got {len(act_rep)}")
    else:
        for i, (e, a) in enumerate(zip(exp_rep, act_rep)):
            compare(e, a, f"{where}reported[{i}].", errors)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        expected = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        actual = json.load(f)
    errors = []
    compare(expected, actual, "", errors)
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
