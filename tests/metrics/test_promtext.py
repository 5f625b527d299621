#!/usr/bin/env python3
"""promtext.py, the strict exposition reader the endpoint tests rely on,
refuses each fault it is there to catch (else those tests could not fail)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promtext  # noqa: E402

GOOD = ("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\n"
        "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
        "h_seconds_bucket{le=\"0.5\"} 1\nh_seconds_bucket{le=\"+Inf\"} 2\n"
        "h_seconds_sum 3.5\nh_seconds_count 2\n")


class PromText(unittest.TestCase):
    def test_good_text(self):
        samples, families = promtext.parse(GOOD)
        self.assertEqual(samples[("a_total", frozenset({("x", "q\"\\\n")}))], 1)
        self.assertEqual(families["h_seconds"]["type"], "histogram")

    def test_faults_refused(self):
        bad = {
            "no final newline": GOOD[:-1],
            "sample before TYPE": "a_total 1\n# TYPE a_total counter\n",
            "counter without _total": "# TYPE a counter\na 1\n",
            "bad escape": "# TYPE a_total counter\na_total{x=\"\\t\"} 1\n",
            "raw quote": "# TYPE a_total counter\na_total{x=\"a\"b\"} 1\n",
            "duplicate": "# TYPE a_total counter\na_total 1\na_total 2\n",
            "timestamp": "# TYPE a_total counter\na_total 1 1700000000\n",
            "bad value": "# TYPE a_total counter\na_total one\n",
            "split family": "# TYPE a_total counter\na_total 1\n# TYPE b gauge\nb 1\n"
                            "# HELP a_total again\n",
            "not cumulative": GOOD.replace("le=\"+Inf\"} 2", "le=\"+Inf\"} 0")
                                  .replace("_count 2", "_count 0"),
            "count differs": GOOD.replace("_count 2", "_count 3"),
            "no +Inf": GOOD.replace("h_seconds_bucket{le=\"+Inf\"} 2\n", ""),
            "bad name": "# TYPE 1a gauge\n1a 1\n",
        }
        for why, text in bad.items():
            with self.assertRaises(ValueError, msg=why):
                promtext.parse(text)


if __name__ == "__main__":
    unittest.main()
