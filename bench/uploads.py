#!/usr/bin/env python3
"""Upload benchmark (issue 12) through the milter protocol: the daemon
with one OPSWAT MetaDefender integration that uploads PE files (the
mock: every attachment unknown by hash; an analysis answers "in
progress" once, then its verdict, so a job lasts one poll interval and
its back-off, about 15 s), N messages (default 1000) sent by C
concurrent clients (default 20), each carrying one of F distinct new PE
attachments (default 50), in rounds so that messages keep arriving
while the jobs run and after they ended.

Reports:
  - uploads (POST /v4/file at the mock) vs distinct unknown files:
    identical uploads in flight are joined and a finished job's verdict
    is cached, so at most F;
  - hash lookups at the mock;
  - the end-of-message time of every message, worst and median: a
    milter thread is blocked by a job at most SandboxWait (default 1s)
    plus the time to analyse the message;
  - messages that got `pending`, and that got the verdict.
Not a test: nothing here asserts a time.

Usage: bench/uploads.py [--messages N] [--files F] [--clients C]
                        [--sandbox-wait S] [--binary PATH]
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "bench"))
import milterclient as mc  # noqa: E402
import tmtest  # noqa: E402
from summary import record  # noqa: E402

MD = "metadefender"


def pe_bytes(tag):
    head = bytearray(0x40)
    head[0:2] = b"MZ"
    head[0x3c] = 0x40
    return bytes(head) + b"PE\0\0" + tag.encode() * 64


def message(i, data):
    return ("From: a@example.net\nTo: b@example.com\nSubject: bench %d\n"
            "Message-ID: <bench-%d@example.net>\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="B"\n\n'
            "--B\nContent-Type: text/plain\n\nsee attached\n"
            "--B\nContent-Type: application/octet-stream\n"
            'Content-Disposition: attachment; filename="f.exe"\n'
            "Content-Transfer-Encoding: base64\n\n%s\n--B--\n"
            % (i, i, base64.encodebytes(data).decode())).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--sandbox-wait", type=int, default=1, help="seconds")
    ap.add_argument("--binary")
    args = ap.parse_args()
    if args.binary:
        tmtest.BINARY = args.binary

    d = tmtest.tmpdir()
    mocks = tmtest.Mocks(d)
    sock = os.path.join(d, "milter.sock")
    conf = tmtest.write_config(
        d, mocks, integrations=(MD,),
        main={"Socket": "local:" + sock, "ScanDeadline": "10s", "LogLevel": "notice"},
        overrides={MD: {"Attachments": "yes", "SenderIP": "no", "URLs": "no",
                        "UploadPEFiles": "yes", "MaxInFlight": "64",
                        "SandboxWait": "%ds" % args.sandbox_wait}})
    files = [pe_bytes("file-%d" % k) for k in range(args.files)]
    import hashlib
    mocks.indicators(MD, {hashlib.sha256(f).hexdigest(): "unknown" for f in files})
    mocks.indicators(MD, {"analysis:" + hashlib.sha256(f).hexdigest():
                          ("malicious" if k % 2 else "clean") for k, f in enumerate(files)})
    daemon = tmtest.Daemon(conf, "local:" + sock, os.path.join(d, "milter.log"))
    times, outcomes, lock = [], {}, threading.Lock()
    next_i = [0]

    def client():
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= args.messages:
                return
            # rounds: files in order, so that a file recurs while its job runs
            raw = message(i, files[i % args.files])
            c = mc.MilterClient("unix:" + sock)
            c.optneg()
            c.connect(address="192.0.2.200")
            t0 = time.monotonic()
            _, mods = mc.send_message(c, raw, queue_id="B%06d" % i)
            elapsed = time.monotonic() - t0
            c.quit()
            c.close()
            verdict = {m[2]: m[3] for m in mods if m[0] == "insheader"}.get(
                "X-Threat-Verdict", "?")
            with lock:
                times.append(elapsed)
                outcomes[verdict] = outcomes.get(verdict, 0) + 1

    start = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    reqs = mocks.requests(MD)
    uploads = sum(1 for r in reqs if r["method"] == "POST" and r["path"] == "/v4/file")
    hashes = sum(1 for r in reqs if r["path"].startswith("/v4/hash/"))
    daemon.stop()
    mocks.stop()
    shutil.rmtree(d, ignore_errors=True)

    result = {
        "messages": args.messages, "distinct_unknown_files": args.files,
        "clients": args.clients, "sandbox_wait_s": args.sandbox_wait,
        "uploads": uploads, "hash_lookups": hashes,
        "eom_worst_s": round(max(times), 3), "eom_median_s": round(statistics.median(times), 3),
        "verdicts": outcomes, "wall_s": round(wall, 1),
    }
    print(json.dumps(result, indent=1))
    record("uploads", "uploads per distinct unknown file", uploads, "uploads",
           ratio=round(uploads / args.files, 3), against="%d files" % args.files)
    record("uploads", "worst end-of-message time", round(max(times), 3), "s",
           ratio=round(max(times) / max(args.sandbox_wait, 0.001), 3),
           against="SandboxWait %ds" % args.sandbox_wait)


if __name__ == "__main__":
    main()
