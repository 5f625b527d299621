#!/usr/bin/env python3
"""Runs every tests/<suite>/test_*.py of one folder as one unittest run and
ends with the `N passed, N failed[, N skipped]` line.

Usage: run_dir.py DIRECTORY [-v]
A suite grows by adding a test_*.py file beside the others; no Makefile
change is needed."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    directory = os.path.abspath(sys.argv[1])
    sys.path.insert(0, directory)
    suite = unittest.defaultTestLoader.discover(directory, pattern="test_*.py",
                                                top_level_dir=directory)
    verbosity = 2 if "-v" in sys.argv else 1
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print("%d passed, %d failed" % (passed, failed) +
          (", %d skipped" % skipped if skipped else ""))
    sys.exit(1 if failed or result.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
