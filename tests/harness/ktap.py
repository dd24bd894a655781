# SPDX-License-Identifier: GPL-2.0
"""KTAP version 1 (Documentation/dev-tools/ktap.rst in the kernel): emit and parse.

A document is "KTAP version 1", a plan "1..N" and one result line per test,
"ok N name" or "not ok N name", optionally "# SKIP reason" (or TODO). A test
with subtests is preceded by their own document, indented (KUnit: 4 spaces),
headed by "# Subtest: name". Diagnostics ("# ...") and anything else are kept
as text but do not change a result.

parse() reads a document, nested or not, from a KUnit debugfs results file
(/sys/kernel/debug/kunit/<suite>/results), a console log (kernel timestamps
stripped with strip_timestamps=True) or any stage's output. Results that a
plan promises but never arrive are reported by counts() as failures.

Writer emits a document as the stages of make check do (harness.check reads it).
"""
import re
import sys
from dataclasses import dataclass, field

_VERSION = re.compile(r"^(K?TAP) version (\d+)\s*$")
_PLAN = re.compile(r"^1\.\.(\d+)\s*$")
_RESULT = re.compile(r"^(not ok|ok)\s+(\d+)(?:\s+-)?\s*(.*?)\s*$")
_SUBTEST = re.compile(r"^# Subtest: (.*?)\s*$")
_DIRECTIVE = re.compile(r"^(.*?)\s*(?<!\\)#\s*(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\b\s*(.*)$", re.I)
_TIMESTAMP = re.compile(r"^\[ *[0-9]+\.[0-9]+\] ?")


@dataclass
class Test:
    """One result line, with the subtests whose document preceded it."""

    number: int
    name: str
    ok: bool
    directive: str = ""  # SKIP, TODO, ... (upper case) or ""
    reason: str = ""  # the text after the directive
    subtests: list = field(default_factory=list)
    plan: int | None = None  # the subtests' plan, when they had one
    diagnostics: list = field(default_factory=list)

    @property
    def skipped(self):
        return self.directive == "SKIP"

    def missing(self):
        """Numbers of planned subtests without a result line."""
        if self.plan is None:
            return []
        seen = {t.number for t in self.subtests}
        return [n for n in range(1, self.plan + 1) if n not in seen]


@dataclass
class Document:
    """A parsed KTAP document: its plan and its top-level tests."""

    version: int | None = None
    plan: int | None = None
    tests: list = field(default_factory=list)
    diagnostics: list = field(default_factory=list)

    def missing(self):
        if self.plan is None:
            return []
        seen = {t.number for t in self.tests}
        return [n for n in range(1, self.plan + 1) if n not in seen]


@dataclass
class _Frame:
    indent: int
    doc: Document
    name: str = ""  # from "# Subtest: name"
    pending: Document | None = None  # a closed deeper document awaiting its result line
    pending_name: str = ""

    def flush_pending(self):
        """A closed subtest document that got no result line (the run died):
        its results still count, under a failed "incomplete" test."""
        if self.pending is not None:
            p = self.pending
            self.doc.tests.append(Test(number=len(self.doc.tests) + 1, name=self.pending_name or "incomplete",
                                       ok=False, reason="no result line (incomplete)", subtests=p.tests,
                                       plan=p.plan, diagnostics=p.diagnostics))
            self.pending = None
            self.pending_name = ""


def _split(line):
    body = line.lstrip(" \t")
    return len(line) - len(body), body.rstrip("\r\n")


def parse(text, strip_timestamps=False):
    """Parse KTAP text (str or list of lines) into a Document.

    Lines that are not KTAP (kernel messages on a console) are skipped. A
    nested document belongs to the first result line that follows it at a
    lesser indentation, as in KUnit's output; one that never gets a result
    line (the run died) becomes a failed test named after its "# Subtest:".
    """
    lines = text.split("\n") if isinstance(text, str) else list(text)
    root = Document()
    stack = []  # of _Frame, outermost first; stack[0].doc is root

    def pop_to(indent):
        """Close the frames deeper than indent; each closed one is its parent's pending."""
        if stack and indent < stack[0].indent:
            # Deeper lines came first (suites without a top-level header):
            # what root held so far is a subtest document of what follows.
            while len(stack) > 1:
                pop_one()
            f = stack[0]
            f.flush_pending()
            child = Document(version=root.version, plan=root.plan, tests=root.tests,
                             diagnostics=root.diagnostics)
            root.plan, root.tests, root.diagnostics = None, [], []
            stack[0] = _Frame(indent, root, pending=child, pending_name=f.name)
            return
        while stack and stack[-1].indent > indent:
            pop_one()

    def pop_one():
        c = stack.pop()
        c.flush_pending()
        p = stack[-1]
        p.flush_pending()
        p.pending, p.pending_name = c.doc, c.name

    def frame_at(indent):
        """The frame for a KTAP line at indent (opened when deeper than the top)."""
        if not stack:
            stack.append(_Frame(indent, root))
        pop_to(indent)
        if stack[-1].indent < indent:
            stack.append(_Frame(indent, Document()))
        return stack[-1]

    for raw in lines:
        if strip_timestamps:
            raw = _TIMESTAMP.sub("", raw)
        indent, body = _split(raw)
        if not body:
            continue
        m = _VERSION.match(body)
        if m:
            # A second header at a frame's depth (another top-level document
            # appended) adds its results to that frame's.
            f = frame_at(indent)
            if f.doc.version is None:
                f.doc.version = int(m.group(2))
            continue
        m = _SUBTEST.match(body)
        if m:
            frame_at(indent).name = m.group(1)
            continue
        m = _PLAN.match(body)
        if m:
            f = frame_at(indent)
            if f.doc.plan is None:
                f.doc.plan = int(m.group(1))
            continue
        m = _RESULT.match(body)
        if m:
            f = frame_at(indent)
            t = _result(m)
            if f.pending is not None:
                t.subtests, t.plan, t.diagnostics = f.pending.tests, f.pending.plan, f.pending.diagnostics
                if not t.name:
                    t.name = f.pending_name
                f.pending, f.pending_name = None, ""
            f.doc.tests.append(t)
            continue
        if body.startswith("#") and stack:
            for f in reversed(stack):
                if f.indent <= indent:
                    f.doc.diagnostics.append(body)
                    break
    while len(stack) > 1:
        pop_one()
    if stack:
        stack[0].flush_pending()
    return root


def _result(m):
    ok = m.group(1) == "ok"
    rest = m.group(3)
    directive = reason = ""
    d = _DIRECTIVE.match(rest)
    if d:
        rest, directive, reason = d.group(1), d.group(2).upper(), d.group(3).strip()
    return Test(number=int(m.group(2)), name=rest.strip(), ok=ok, directive=directive, reason=reason)


def leaves(tests, path=()):
    """(path, test) for every test without subtests, depth first."""
    for t in tests:
        if t.subtests:
            yield from leaves(t.subtests, path + (t.name,))
        else:
            yield path + (t.name,), t


def counts(doc_or_tests):
    """(passed, failed, skipped) over the leaves.

    A SKIP counts as skipped whatever its ok; a TODO "not ok" is not a failure.
    A test whose subtests all passed but that says "not ok" itself (a suite's
    init or exit failed) adds one failure, and so does each planned result that
    never came.
    """
    tests = doc_or_tests.tests if isinstance(doc_or_tests, Document) else doc_or_tests
    p = f = s = 0

    def walk(ts):
        nonlocal p, f, s
        for t in ts:
            if t.subtests:
                before = f
                walk(t.subtests)
                f += len(t.missing())
                if not t.ok and t.directive not in ("SKIP", "TODO") and f == before:
                    f += 1
            elif t.directive == "SKIP":
                s += 1
            elif t.ok or t.directive == "TODO":
                p += 1
            else:
                f += 1
            if not t.subtests:
                f += len(t.missing())

    walk(tests)
    if isinstance(doc_or_tests, Document):
        f += len(doc_or_tests.missing())
    return p, f, s


class Writer:
    """Emit KTAP to a stream: header and plan, results, nested subtests.

    w = Writer(); w.header(2); w.result(True, "a"); w.result(False, "b", diag="why")
    sub = w.subtest("suite", 3) ... sub.result(...) ...; w.end_subtest(sub, ok)
    """

    def __init__(self, out=None, indent=0):
        self.out = out if out is not None else sys.stdout
        self.indent = " " * indent
        self.n = 0
        self.failed = 0

    def _line(self, s):
        self.out.write(self.indent + s + "\n")
        self.out.flush()

    def header(self, plan=None, name=None):
        self._line("KTAP version 1")
        if name is not None:
            self._line("# Subtest: " + name)
        if plan is not None:
            self._line(f"1..{plan}")

    def diag(self, text):
        for line in str(text).split("\n"):
            self._line("# " + line if line else "#")

    def result(self, ok, name, directive="", reason="", diag=None):
        if diag:
            self.diag(diag)
        self.n += 1
        if not ok and directive.upper() not in ("SKIP", "TODO"):
            self.failed += 1
        tail = f" # {directive}{(' ' + reason) if reason else ''}" if directive else ""
        self._line(f"{'ok' if ok else 'not ok'} {self.n} {name}{tail}")
        return self.n

    def subtest(self, name, plan=None):
        """A nested Writer for NAME's subtests; close it with end_subtest."""
        w = Writer(self.out, len(self.indent) + 4)
        w.header(plan, name)
        w.name = name
        return w

    def end_subtest(self, sub, ok=None):
        """The parent's result line for sub; ok defaults to "no subtest failed"."""
        if ok is None:
            ok = sub.failed == 0
        return self.result(ok, sub.name)


def format_tests(tests, indent=0):
    """KTAP lines (without header) for parsed tests, nested as parsed."""
    pad = " " * indent
    out = []
    for t in tests:
        if t.subtests or t.plan is not None:
            out.append(pad + "    KTAP version 1")
            out.append(pad + "    # Subtest: " + t.name)
            if t.plan is not None:
                out.append(pad + f"    1..{t.plan}")
            out.extend(format_tests(t.subtests, indent + 4))
        tail = f" # {t.directive}{(' ' + t.reason) if t.reason else ''}" if t.directive else ""
        out.append(pad + f"{'ok' if t.ok else 'not ok'} {t.number} {t.name}{tail}")
    return out


def format_document(doc):
    lines = ["KTAP version 1"]
    if doc.plan is not None:
        lines.append(f"1..{doc.plan}")
    return "\n".join(lines + format_tests(doc.tests)) + "\n"


def pass_fail(text):
    """A flat KTAP document's results as PASS:/FAIL:/SKIP: lines, for the shell
    stages that relay another stage's results as their own (relay in
    scripts/lib.sh): "FAIL: name (why)", why being the "# " lines just before
    the result line (a leading "name: " dropped). Only column 0 is read."""
    out, diag = [], []
    for line in (text.split("\n") if isinstance(text, str) else text):
        line = line.rstrip("\r")
        if line.startswith("#"):
            diag.append(line[1:].strip())
            continue
        m = _RESULT.match(line)
        if not m:
            continue
        t = _result(m)
        why = "; ".join(d[len(t.name) + 2:] if d.startswith(t.name + ": ") else d for d in diag if d)
        diag = []
        if t.skipped:
            out.append(f"SKIP: {t.name}" + (f" ({t.reason})" if t.reason else ""))
        elif t.ok or t.directive == "TODO":
            out.append(f"PASS: {t.name}")
        else:
            out.append(f"FAIL: {t.name}" + (f" ({why})" if why else ""))
    return out


def main(argv=None):
    """python3 -m harness.ktap [--timestamps] FILE...: the leaves of each file's
    KTAP, one "ok|not ok|skip PATH" line each, then "N passed, M failed".
    With --pass-fail: pass_fail() of each file, nothing else."""
    import argparse

    ap = argparse.ArgumentParser(prog="harness.ktap", description=main.__doc__)
    ap.add_argument("--timestamps", action="store_true", help="strip kernel console timestamps first")
    ap.add_argument("--pass-fail", action="store_true", help="PASS:/FAIL: lines of a flat document")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    if a.pass_fail:
        for fn in a.files:
            with open(fn, encoding="utf-8", errors="replace") as fh:
                for line in pass_fail(fh.read()):
                    print(line)
        return 0
    tp = tf = 0
    for fn in a.files:
        with open(fn, encoding="utf-8", errors="replace") as fh:
            doc = parse(fh.read(), strip_timestamps=a.timestamps)
        for path, t in leaves(doc.tests):
            state = "skip" if t.skipped else ("ok" if t.ok else "not ok")
            print(f"{state} {'.'.join(path)}")
        p, f, _ = counts(doc)
        tp, tf = tp + p, tf + f
    print(f"{tp} passed, {tf} failed")
    return 1 if tf else 0


if __name__ == "__main__":
    sys.exit(main())
