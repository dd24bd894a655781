# SPDX-License-Identifier: GPL-2.0
"""What the peer tests share (zram_peer.py, zswap_peer.py, ext_suites.py):
one boot with zsmalloc, one with zspp, the same cases in both, and a case
that passes with zsmalloc must pass with zspp.

    Results      assertions in order: passed, failed or skipped (with why)
    sh(...)      a command's stdout (a failure is a Die)
    last/first   the last/first line matching a regex
    field        " KEY=value" of a log line (e2e.field)
    kernel_log   the dump between DMESG-BEGIN and DMESG-END (e2e.dmesg_of)
"""
import os
import re
import subprocess
import sys

from . import e2e, ktap

ROOT = e2e.ROOT
SCRIPTS = e2e.SCRIPTS
field = e2e.field
dmesg_of = e2e.dmesg_of
Log = e2e.Log
keyvals = e2e.keyvals
cache = e2e.cache


class Prog:
    """A program's name for its stderr messages ("[NAME] ...")."""

    name = "peer"


def log(msg):
    """For the reader, on stderr (stdout is the KTAP)."""
    sys.stderr.write(f"[{Prog.name}] {msg}\n")
    sys.stderr.flush()


class Die(SystemExit):
    """A usage or setup error: "[NAME] error: ..." and exit status 1."""

    def __init__(self, msg):
        log(f"error: {msg}")
        super().__init__(1)


def parse_options(argv, doc, a, valued, flags):
    """The peer programs' option loop, filling and returning the defaults
    @a: -h/--help prints @doc; an option in @flags (option -> key) sets
    its key True, one in @valued takes the next argument; anything else
    is a usage error."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            sys.stderr.write(doc)
            raise SystemExit(0)
        if arg in flags:
            a[flags[arg]] = True
        elif arg in valued:
            if i + 1 >= len(argv):
                raise Die(f"{arg} wants a value (see --help)")
            a[valued[arg]] = argv[i + 1]
            i += 1
        else:
            raise Die(f"unknown argument '{arg}' (see --help)")
        i += 1
    return a


class Results(e2e.Results):
    """e2e.Results with skips: items are (ok, name, why), ok None for a skip
    (a case with nothing to compare, KTAP "# SKIP why")."""

    def skip(self, name, why):
        self.items.append((None, name, why))

    @property
    def passed(self):
        return sum(1 for ok, _, _ in self.items if ok is True)

    @property
    def failed(self):
        return sum(1 for ok, _, _ in self.items if ok is False)

    @property
    def skipped(self):
        return sum(1 for ok, _, _ in self.items if ok is None)

    def ktap(self, out=None):
        """A KTAP document: a failure's reason (or a pass's detail) on a
        "# name: why" line before its result; a skip's reason after # SKIP."""
        w = ktap.Writer(out or sys.stdout)
        w.header(len(self.items))
        for ok, name, why in self.items:
            if ok is None:
                w.result(True, name, "SKIP", why)
            else:
                w.result(ok, name, diag=f"{name}: {why}" if why else None)
        return w


def lines_of(text):
    return e2e.judge.lines_of(text)


def grep(lines, regex):
    r = re.compile(regex)
    return [line for line in lines if r.search(line)]


def last(lines, regex):
    m = grep(lines, regex)
    return m[-1] if m else ""


def first(lines, regex):
    m = grep(lines, regex)
    return m[0] if m else ""


def nonzero(v):
    """As the shell's [[ $v =~ ^[1-9] ]]: a count that starts with 1-9."""
    return bool(re.match(r"[1-9]", v or ""))


def read_text(path):
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="surrogateescape")


def write_text(path, text):
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(text)


def sh(argv, what=None, **kw):
    """Run argv; its stdout as text. A non-zero exit is a Die (what failed)."""
    p = subprocess.run([str(a) for a in argv], stdout=subprocess.PIPE, text=True, errors="surrogateescape", **kw)
    if p.returncode != 0:
        raise Die(f"{what or ' '.join(map(str, argv))} failed (rc={p.returncode})")
    return p.stdout


def fetch_kernel(name, *extra):
    """scripts/fetch-kernel.sh NAME: its KEY=VALUE lines (its stderr, with
    "kernel: RELEASE" for make check, goes to ours)."""
    return keyvals(sh([os.path.join(SCRIPTS, "fetch-kernel.sh"), name, *extra], f"fetch-kernel.sh {name}"))


def qemu_run(args, echo=False):
    """scripts/qemu-run.sh ARGS (its output to our stderr: stdout is the KTAP); its exit status."""
    return subprocess.run([os.path.join(SCRIPTS, "qemu-run.sh")] + [str(a) for a in args]
                          + (["--echo"] if echo else []), stdout=sys.stderr).returncode


def mkinitramfs(args):
    """scripts/mkinitramfs.sh ARGS: the image's path."""
    return sh([os.path.join(SCRIPTS, "mkinitramfs.sh")] + list(args), "mkinitramfs.sh").strip()


def build_workload(dest):
    """tests/e2e/workload.c, static (it runs in a busybox initramfs)."""
    sh(["gcc", "-static", "-O2", "-Wall", "-o", dest, os.path.join(ROOT, "tests/e2e/workload.c")], "workload build")


def stdout_surrogates():
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
