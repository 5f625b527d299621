#!/usr/bin/env python3
"""The benchmarks' combined table. Each bench/*.py appends its key figures
to the file named by $BENCH_SUMMARY (one JSON object a line: group,
figure, value, unit, ratio, against); bench/run.sh prints them here as one
table, absolute figures and ratios side by side.

Usage: bench/summary.py FILE        (as a module: record(...))"""
import json
import os
import sys


def record(group, figure, value, unit, ratio=None, against=None):
    """Appends one figure to $BENCH_SUMMARY (nothing when it is unset)."""
    path = os.environ.get("BENCH_SUMMARY")
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"group": group, "figure": figure, "value": value, "unit": unit,
                            "ratio": ratio, "against": against}) + "\n")


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    print("%-13s %-52s %12s %-9s %8s  %s" % ("benchmark", "figure", "value", "unit", "ratio",
                                            "against"))
    print("-" * 118)
    for r in rows:
        value = r["value"]
        if isinstance(value, float):
            text = "%12.3f" % value if abs(value) < 10 else "%12.1f" % value
        else:
            text = "%12s" % value
        ratio = "%7.2fx" % r["ratio"] if r["ratio"] is not None else "%8s" % "-"
        print("%-13s %-52s %s %-9s %s  %s" % (r["group"], r["figure"][:52], text, r["unit"],
                                             ratio, r["against"] or ""))


if __name__ == "__main__":
    main()
