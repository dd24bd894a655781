# SPDX-License-Identifier: GPL-2.0
"""KUnit's own results, as the guest read them from debugfs (scripts/kunit.sh).

The guest (kunit/guest-init.sh) copies /sys/kernel/debug/kunit/<suite>/results
(KTAP, written by KUnit itself) of every suite to its second serial port
(qemu-run.sh --serial2 FILE) before it unloads the suites (rmmod removes those
files). This splits FILE into the suites' files (each starts with its own
"KTAP version 1"), keeps each as OUT/<suite>.ktap, parses it with harness.ktap
and prints one PASS:/FAIL: line per required suite and per test case, the
contract make check reads (harness.check):

    PASS: kunit suite SUITE[TAG]          FAIL: kunit suite SUITE[TAG] (missing or failed)
    PASS: kunit[TAG] CASE                 FAIL: kunit[TAG] CASE FAILED|CRASHED|skipped (...)

A guest that died before writing them leaves no debugfs results: the
console's KTAP (--console) is parsed instead, so the cases that ran still show,
and a line says so. Exit status 1 on any FAIL.

On 6.1 each case's record holds 512 bytes (KUNIT_LOG_SIZE): a case that logs
more (a failing one with many expectation messages; passing ones log under
250) loses its own result line and shows as CRASHED, still a failure. 6.12's
records have no such limit.

python3 -m harness.kunit --results FILE --out DIR [--console LOG] [--tag=TAG] SUITE...
"""
import argparse
import dataclasses
import os
import sys

from . import ktap


def read_results(path):
    """{suite: results text} from the guest's copy of its debugfs results files
    (concatenated, as a tty wrote them); None without any."""
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace").replace("\r\n", "\n")
    except OSError:
        return None
    docs, cur = [], None
    for line in text.split("\n"):
        if line.rstrip() == "KTAP version 1":  # column 0: the next suite's file
            cur = []
            docs.append(cur)
        if cur is not None:
            cur.append(line)
    out = {}
    for i, lines in enumerate(docs, 1):
        doc = ktap.parse(lines)
        name = doc.tests[0].name if doc.tests else ""
        if not name:
            m = [ln for ln in lines if ln.strip().startswith("# Subtest: ")]
            name = m[0].strip()[len("# Subtest: "):] if m else f"unnamed-{i}"
        out[name] = "\n".join(lines).rstrip("\n") + "\n"
    return out or None


def suites_from_debugfs(files):
    """{suite: Test} from the results files: each is a one-test KTAP document."""
    suites = {}
    for fname in sorted(files):
        doc = ktap.parse(files[fname])
        for t in doc.tests:
            suites[t.name or fname] = t
        if not doc.tests:
            # Header only: the suite never finished (a file is written at load).
            suites[fname] = ktap.Test(number=1, name=fname, ok=False, reason="no result line",
                                      plan=doc.plan)
    return suites


def suites_from_console(text):
    doc = ktap.parse(text, strip_timestamps=True)
    return {t.name: t for t in doc.tests}


def suite_passed(t):
    """As kunit.py judged a suite: its own line ok (not SKIP), every planned
    case reported and none not ok (a skipped case fails on its own line)."""
    return t.ok and not t.skipped and not t.missing() and all(c.ok for c in t.subtests)


def report(suites, required, tag, out):
    """Print the PASS:/FAIL: lines; return the number of FAILs."""
    fails = 0

    def line(ok, text):
        nonlocal fails
        out.write(("PASS: " if ok else "FAIL: ") + text + "\n")
        fails += not ok

    for s in required:
        t = suites.get(s)
        if t is not None and suite_passed(t):
            line(True, f"kunit suite {s}{tag}")
        else:
            line(False, f"kunit suite {s}{tag} (missing or failed)")
    order = [s for s in required if s in suites] + [s for s in suites if s not in required]
    for s in order:
        t = suites[s]
        for c in t.subtests:
            if c.skipped:
                line(False, f"kunit{tag} {c.name} skipped (the debug kernel must support it)")
            elif c.ok:
                line(True, f"kunit{tag} {c.name}")
            else:
                line(False, f"kunit{tag} {c.name} FAILED")
        for n in t.missing():
            line(False, f"kunit{tag} {s} case {n} CRASHED (no result in KUnit's record)")
        if s not in required:
            if suite_passed(t):
                line(True, f"kunit{tag} {s}")
            else:
                line(False, f"kunit{tag} {s} {'skipped (the debug kernel must support it)' if t.skipped else 'FAILED'}")
    return fails


def main(argv=None):
    ap = argparse.ArgumentParser(prog="harness.kunit", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", required=True, help="what the guest wrote to ttyS1")
    ap.add_argument("--out", required=True, help="directory for SUITE.ktap files")
    ap.add_argument("--console", help="console log, parsed only when the disk holds no results")
    ap.add_argument("--tag", default="", help="suffix of every name (-fold, -6.12, ...)")
    ap.add_argument("suites", nargs="+", help="suites that must pass")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    for f in os.listdir(a.out):
        if f.endswith(".ktap"):
            os.unlink(os.path.join(a.out, f))
    files = read_results(a.results)
    if files is not None:
        for name, text in files.items():
            with open(os.path.join(a.out, name + ".ktap"), "w", encoding="utf-8") as fh:
                fh.write(text)
        suites = suites_from_debugfs(files)
        print(f"kunit: results of {len(files)} suites from debugfs in {a.out}")
    else:
        suites = {}
        if a.console and os.path.exists(a.console):
            with open(a.console, encoding="utf-8", errors="replace") as fh:
                suites = suites_from_console(fh.read())
        print(f"kunit: no debugfs results in {a.results} (the guest died before writing them);"
              f" cases from the console's KTAP: {len(suites)} suites")
    with open(os.path.join(a.out, "all.ktap"), "w", encoding="utf-8") as fh:
        tests = [dataclasses.replace(t, number=i) for i, t in enumerate(suites.values(), 1)]
        doc = ktap.Document(version=1, plan=len(tests), tests=tests)
        fh.write(ktap.format_document(doc))
    return 1 if report(suites, a.suites, a.tag, sys.stdout) else 0


if __name__ == "__main__":
    sys.exit(main())
