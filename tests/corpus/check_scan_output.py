#!/usr/bin/env python3
"""Check `threatmilter scan` JSON Lines output for a set of messages.

Usage: check_scan_output.py COUNT OUTPUT.jsonl

Every line must be a JSON object with a file name and facts in the corpus
schema; there must be COUNT of them; no message may have failed to parse.
Prints a summary and exits 1 on any problem.
"""
import ipaddress
import json
import sys


def check_facts(facts, where, problems):
    if not isinstance(facts.get("urls"), list) or not all(isinstance(u, str) for u in facts["urls"]):
        problems.append(f"{where}: urls is not a list of strings")
    if facts["urls"] != sorted(set(facts["urls"])):
        problems.append(f"{where}: urls not sorted and unique")
    ip = facts.get("sender_ip", "missing")
    if ip is not None:
        try:
            if str(ipaddress.ip_address(ip)) != ip:
                problems.append(f"{where}: sender_ip {ip} not canonical")
        except ValueError:
            problems.append(f"{where}: sender_ip {ip!r} is not an IP")
    for att in facts.get("attachments", []):
        for key, length in (("md5", 32), ("sha1", 40), ("sha256", 64)):
            if len(att.get(key, "")) != length:
                problems.append(f"{where}: attachment {att.get('filename')!r} bad {key}")
    if "parse_error" in facts.get("limits", []):
        problems.append(f"{where}: parse error")
    for i, inner in enumerate(facts.get("reported", [])):
        check_facts(inner, f"{where} reported[{i}]", problems)


def main():
    expected_count = int(sys.argv[1])
    problems, count, urls, atts, limited = [], 0, 0, 0, 0
    with open(sys.argv[2], encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            try:
                obj = json.loads(line)
            except ValueError as e:
                problems.append(f"line {lineno}: invalid JSON: {e}")
                continue
            count += 1
            facts = obj["facts"]
            check_facts(facts, obj.get("file", f"line {lineno}"), problems)
            urls += len(facts["urls"])
            atts += len(facts["attachments"])
            limited += bool(facts.get("limits"))
    if count != expected_count:
        problems.append(f"expected {expected_count} JSON objects, got {count}")
    for p in problems:
        print(p)
    print(f"{count} messages, {urls} URLs, {atts} attachments, {limited} hit a limit")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
