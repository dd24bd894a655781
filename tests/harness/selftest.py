# SPDX-License-Identifier: GPL-2.0
"""The harness's own unit tests (tests/harness/test_*.py), reported as KTAP.

python3 tests/harness/selftest.py   (make check's stage `harness`; or python3 -m harness.selftest)

One subtest document per test module, one result line per test method; a
failure's traceback follows as diagnostics. Exit status 1 on any failure.
"""
import os
import sys
import unittest

if __package__ in (None, ""):  # run as a file: tests/harness/selftest.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "harness"
    import harness  # noqa: F401
from . import ktap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def _iter(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _iter(t)
        else:
            yield t


def main():
    loader = unittest.TestLoader()
    tests = list(_iter(loader.discover(HERE, pattern="test_*.py", top_level_dir=os.path.dirname(HERE))))
    modules = {}
    for t in tests:
        modules.setdefault(type(t).__module__, []).append(t)
    out = sys.stdout
    w = ktap.Writer(out)
    w.header(len(modules))
    failed_total = 0
    for mod, cases in modules.items():
        sub = w.subtest(mod, len(cases))
        failed = 0
        for case in cases:
            result = unittest.TestResult()
            result.buffer = True  # a test's own prints stay out of the KTAP
            case.run(result)
            name = f"{type(case).__name__}.{case._testMethodName}"
            problems = result.errors + result.failures + [(c, "unexpected success") for c in result.unexpectedSuccesses]
            if result.skipped:
                sub.result(True, name, "SKIP", result.skipped[0][1])
            elif problems:
                failed += 1
                sub.diag("".join(p[1] for p in problems).rstrip())
                sub.result(False, name)
            else:
                sub.result(True, name)
        failed_total += failed
        w.result(failed == 0, mod)
    return 1 if failed_total else 0


if __name__ == "__main__":
    sys.exit(main())
