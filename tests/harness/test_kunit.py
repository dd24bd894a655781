# SPDX-License-Identifier: GPL-2.0
import contextlib
import io
import os
import shutil
import tempfile
import unittest

from harness import kunit
from harness.test_ktap import CONSOLE

# KUnit's debugfs results files as 6.1 writes them (lib/kunit/debugfs.c).
SIZE = """KTAP version 1
1..1
    KTAP version 1
    # Subtest: zspp_size_classes
    1..2
    ok 1 size_class_table
    ok 2 size_maps_to_smallest_class
# zspp_size_classes: pass:2 fail:0 skip:0 total:2
# Totals: pass:2 fail:0 skip:0 total:2
ok 1 zspp_size_classes
"""
DATA = """KTAP version 1
1..1
    KTAP version 1
    # Subtest: zspp_data
    1..3
    ok 1 every_class_every_offset
    not ok 2 every_size_round_trip
not ok 1 zspp_data
"""


def results_with(files):
    """The guest's ttyS1 output: the results files one after the other, CRLF."""
    fd, path = tempfile.mkstemp(suffix=".ktap")
    with os.fdopen(fd, "wb") as fh:
        for text in (files or {}).values():
            fh.write(text.replace("\n", "\r\n").encode())
    return path


class Report(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_main(self, files, *args, console=None):
        disk = results_with(files)
        try:
            argv = ["--results", disk, "--out", os.path.join(self.dir, "out")]
            if console is not None:
                log = os.path.join(self.dir, "console.log")
                with open(log, "w") as fh:
                    fh.write(console)
                argv += ["--console", log]
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = kunit.main(argv + list(args))
            return rc, [line for line in out.getvalue().split("\n") if line.startswith(("PASS: ", "FAIL: "))]
        finally:
            os.unlink(disk)

    def test_all_pass(self):
        rc, lines = self.run_main({"zspp_size_classes": SIZE}, "--tag=-fold", "zspp_size_classes")
        self.assertEqual(rc, 0)
        self.assertEqual(lines, ["PASS: kunit suite zspp_size_classes-fold", "PASS: kunit-fold size_class_table",
                                 "PASS: kunit-fold size_maps_to_smallest_class"])
        self.assertTrue(os.path.exists(os.path.join(self.dir, "out", "zspp_size_classes.ktap")))

    def test_failed_missing_and_extra_suites(self):
        rc, lines = self.run_main({"zspp_data": DATA, "zspp_size_classes": SIZE}, "zspp_data", "zspp_fold")
        self.assertEqual(rc, 1)
        self.assertEqual(lines, [
            "FAIL: kunit suite zspp_data (missing or failed)",
            "FAIL: kunit suite zspp_fold (missing or failed)",
            "PASS: kunit every_class_every_offset",
            "FAIL: kunit every_size_round_trip FAILED",
            "FAIL: kunit zspp_data case 3 CRASHED (no result in KUnit's record)",
            "PASS: kunit size_class_table", "PASS: kunit size_maps_to_smallest_class",
            "PASS: kunit zspp_size_classes"])

    def test_skipped_case(self):
        skip = SIZE.replace("ok 2 size_maps_to_smallest_class", "ok 2 size_maps_to_smallest_class # SKIP no")
        rc, lines = self.run_main({"zspp_size_classes": skip}, "zspp_size_classes")
        self.assertEqual(rc, 1)
        self.assertEqual(lines, ["PASS: kunit suite zspp_size_classes", "PASS: kunit size_class_table",
                                 "FAIL: kunit size_maps_to_smallest_class skipped (the debug kernel must support it)"])

    def test_no_results_falls_back_to_the_console(self):
        rc, lines = self.run_main(None, "zspp_size_classes", "zspp_data", console=CONSOLE)
        self.assertEqual(rc, 1)
        self.assertIn("PASS: kunit suite zspp_size_classes", lines)
        self.assertIn("FAIL: kunit suite zspp_data (missing or failed)", lines)
        self.assertIn("FAIL: kunit every_size_round_trip skipped (the debug kernel must support it)", lines)


if __name__ == "__main__":
    unittest.main()
