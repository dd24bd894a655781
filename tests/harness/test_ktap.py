# SPDX-License-Identifier: GPL-2.0
import io
import unittest

from harness import ktap

# A KUnit debugfs results file as 6.1's lib/kunit/debugfs.c writes it.
DEBUGFS_61 = """KTAP version 1
1..1
    KTAP version 1
    # Subtest: zspp_data
    1..3
    ok 1 every_class_every_offset
    # every_size_round_trip: 12 sizes
    ok 2 every_size_round_trip
    not ok 3 map_modes
# zspp_data: pass:2 fail:1 skip:0 total:3
# Totals: pass:2 fail:1 skip:0 total:3
not ok 1 zspp_data
"""

# A console: suites of a module, no top-level header of their own, kernel noise between.
CONSOLE = """[    4.893825] KTAP version 1
[    4.894104] 1..0
[    5.055472] Run /init as init process
[    6.872014]     KTAP version 1
[    6.872599]     # Subtest: zspp_size_classes
[    6.873121]     1..2
[    6.903989]     ok 1 size_class_table
[   12.851809] smpboot: CPU 1 is now offline
[    7.724545]     ok 2 size_maps_to_smallest_class
[    7.725034] # zspp_size_classes: pass:2 fail:0 skip:0 total:2
[    7.726577] ok 1 zspp_size_classes
[    7.727619]     KTAP version 1
[    7.727752]     # Subtest: zspp_data
[    7.727862]     1..3
[    9.363259]     ok 1 every_class_every_offset
[   10.107385]     ok 2 every_size_round_trip # SKIP no bounce areas
[   10.156831] ok 2 zspp_data
"""


class Parse(unittest.TestCase):
    def test_debugfs_file(self):
        doc = ktap.parse(DEBUGFS_61)
        self.assertEqual(doc.plan, 1)
        self.assertEqual(len(doc.tests), 1)
        suite = doc.tests[0]
        self.assertEqual((suite.name, suite.ok, suite.plan), ("zspp_data", False, 3))
        self.assertEqual([(t.number, t.name, t.ok) for t in suite.subtests],
                         [(1, "every_class_every_offset", True), (2, "every_size_round_trip", True),
                          (3, "map_modes", False)])
        self.assertEqual(ktap.counts(doc), (2, 1, 0))

    def test_console_with_timestamps_and_noise(self):
        doc = ktap.parse(CONSOLE, strip_timestamps=True)
        self.assertEqual([t.name for t in doc.tests], ["zspp_size_classes", "zspp_data"])
        data = doc.tests[1]
        self.assertEqual(data.subtests[1].directive, "SKIP")
        self.assertEqual(data.subtests[1].reason, "no bounce areas")
        self.assertEqual(data.missing(), [3])
        # 3 ok, 1 skipped, 1 planned result missing.
        self.assertEqual(ktap.counts(doc), (3, 1, 1))

    def test_suites_before_any_top_level_line(self):
        text = "    KTAP version 1\n    # Subtest: s\n    1..1\n    ok 1 a\nok 1 s\n"
        doc = ktap.parse(text)
        self.assertEqual([(t.name, [c.name for c in t.subtests]) for t in doc.tests], [("s", ["a"])])
        self.assertEqual(ktap.counts(doc), (1, 0, 0))

    def test_run_died_inside_a_suite(self):
        text = ("KTAP version 1\n1..2\n    KTAP version 1\n    # Subtest: s\n    1..3\n    ok 1 a\n"
                "    ok 2 b\nKernel panic - not syncing\n")
        doc = ktap.parse(text)
        self.assertEqual(len(doc.tests), 1)
        t = doc.tests[0]
        self.assertEqual((t.name, t.ok), ("s", False))
        self.assertEqual([c.name for c in t.subtests], ["a", "b"])
        # a, b pass; c never came; the second top-level test never came.
        self.assertEqual(ktap.counts(doc), (2, 2, 0))

    def test_dash_names_and_todo(self):
        doc = ktap.parse("TAP version 13\n1..2\nok 1 - first\nnot ok 2 second # TODO later\n")
        self.assertEqual([t.name for t in doc.tests], ["first", "second"])
        self.assertEqual(ktap.counts(doc), (2, 0, 0))

    def test_failed_suite_with_passing_cases_is_a_failure(self):
        text = "KTAP version 1\n1..1\n    KTAP version 1\n    1..1\n    ok 1 a\nnot ok 1 s\n"
        self.assertEqual(ktap.counts(ktap.parse(text)), (1, 1, 0))

    def test_deeper_nesting(self):
        text = ("KTAP version 1\n1..1\n  KTAP version 1\n  # Subtest: s\n  1..1\n    KTAP version 1\n"
                "    # Subtest: p\n    1..2\n    ok 1 p1\n    ok 2 p2\n  ok 1 p\nok 1 s\n")
        doc = ktap.parse(text)
        self.assertEqual([p for p, _ in ktap.leaves(doc.tests)], [("s", "p", "p1"), ("s", "p", "p2")])
        self.assertEqual(ktap.counts(doc), (2, 0, 0))


class Emit(unittest.TestCase):
    def test_writer_round_trip(self):
        buf = io.StringIO()
        w = ktap.Writer(buf)
        w.header(2)
        sub = w.subtest("suite", 2)
        sub.result(True, "a")
        sub.result(False, "b", diag="why\nit failed")
        self.assertEqual(sub.failed, 1)
        w.end_subtest(sub)
        w.result(True, "c", "SKIP", "not here")
        text = buf.getvalue()
        self.assertIn("    # Subtest: suite\n    1..2\n    ok 1 a\n    # why\n    # it failed\n    not ok 2 b\n"
                      "not ok 1 suite\nok 2 c # SKIP not here\n", text)
        doc = ktap.parse(text)
        self.assertEqual(ktap.counts(doc), (1, 1, 1))
        self.assertEqual(ktap.format_document(doc), "KTAP version 1\n1..2\n" + "\n".join([
            "    KTAP version 1", "    # Subtest: suite", "    1..2", "    ok 1 a", "    not ok 2 b",
            "not ok 1 suite", "ok 2 c # SKIP not here"]) + "\n")


class PassFail(unittest.TestCase):
    def test_results_and_reasons(self):
        text = ("[e2e] noise\nKTAP version 1\n1..4\nok 1 a\n# b: why one\n# more\nnot ok 2 b\n"
                "ok 3 c # SKIP no disk\n    not ok 1 nested is not read\n# d: 3 checks\nok 4 d\n"
                "not ok 5 e\ne2e zspp: 3 assertions passed, 2 failed\n")
        self.assertEqual(ktap.pass_fail(text), ["PASS: a", "FAIL: b (why one; more)", "SKIP: c (no disk)",
                                                "PASS: d", "FAIL: e"])


if __name__ == "__main__":
    unittest.main()
