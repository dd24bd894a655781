# SPDX-License-Identifier: GPL-2.0
"""Judge a guest's kernel log: the one definition of "a log that fails a run".

The patterns and what each caller may tolerate. Shell scripts reach them
through scripts/lib.sh's splat_lines and stale_code_oops, which run this
module; tests/harness/test_judge.py holds it to the samples scripts/lint.sh
also checks:

    splat_lines(text, allow=(), fault_traces=False, oom_reports=False, max_lines=3)
    stale_code_oops(text) -> the report's lines, or None
    guest_lines(text) -> user space's lines, kernel messages taken out

CLI (python3 -m harness.judge, with tests/ on PYTHONPATH):

    harness.judge [--allow ERE]... [--fault-traces] [--oom-reports] [--max N] LOG
        print the first lines of LOG that fail it (splat_lines); exit 0
    harness.judge --scan NAME LOG
        "PASS: NAME log has no kernel splat", or FAIL with up to 20 lines;
        exit 1 on FAIL (kunit.sh, stress.sh)
    harness.judge --stale-code LOG
        stale_code_oops: print the report and exit 0 when LOG's first report is a
        stale int3 of QEMU's TCG, else exit 1
    harness.judge --guest-lines LOG
        guest_lines: print LOG's user-space lines; exit 0
"""
import argparse
import re
import sys

# Report headers that fail a run wherever they appear: WARN/BUG/Oops (and
# BUG_ON's "kernel BUG at"), KASAN, UBSAN, general protection faults, lockdep
# (circular/recursive locking, inconsistent lock state, lock held when
# returning, INFO: possible/inconsistent/suspicious, DEBUG_LOCKS_WARN_ON,
# lockdep turning itself off), sleeping in atomic context, scheduling while
# atomic, any Call Trace, panics, hung tasks, kmemleak, list corruption.
SPLAT_RE = (r"WARNING:|BUG:|kernel BUG|Oops|KASAN|UBSAN|general protection|possible circular locking"
            r"|possible recursive locking|inconsistent lock state|lock held when returning"
            r"|INFO: (possible|inconsistent|suspicious)|DEBUG_LOCKS_WARN_ON|lockdep is turned off"
            r"|sleeping function called from invalid context|scheduling while atomic|Call Trace"
            r"|Kernel panic|blocked for more than|kmemleak: [1-9]|list_(add|del) corruption")
# zspp's own error lines, and anything zspp logs at KERN_ERR or above (a log
# dumped with its <level> prefixes).
SPLAT_ZSPP_RE = r"zspp:.*([Ee]rror|ERROR|[Ff]ail|FAIL|[Ll]eak|LEAK|[Bb]ad|BAD)|^<[0-3]>.*zspp:"
# Never a splat: loading an unsigned out-of-tree module on a Debian kernel.
SPLAT_EXPECTED_RE = r"module verification failed: signature and/or required key missing - tainting kernel"

_SPLAT = re.compile(SPLAT_RE + "|" + SPLAT_ZSPP_RE)
_EXPECTED = re.compile(SPLAT_EXPECTED_RE)
_FAULT_START = re.compile(r"page allocation failure:|FAULT_INJECTION: forcing a failure")
_FAULT_END = re.compile(r"WARNING:|BUG:|Oops|KASAN|UBSAN|general protection|locking|lock held|lock state|stall"
                        r"|INFO:|Kernel panic|blocked for more than|cut here")
_OOM_START = re.compile(r"invoked oom-killer")
_OOM_END = re.compile(r"[Oo]ut of memory: Killed process|oom_reaper: reaped")


def lines_of(text):
    """Lines as grep and awk see them: split at newlines only."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# A kernel message on a console with printk times: "[    8.342861] text".
_KMSG = re.compile(r"\[ *[0-9]+\.[0-9]+\] [^\n]*\n")


def guest_lines(text):
    """The lines the guest's user space printed on a console it shares with the
    kernel: every kernel message taken out, also one the serial port wrote into
    the middle of a user line ("ZB rep=4 ... m[   34.39] zram0: ...\nm_stat: ..."
    is "ZB rep=4 ... mm_stat: ..."), so a result line split that way still parses."""
    return lines_of(_KMSG.sub("", text.replace("\r", "")))


def drop_fault_traces(lines):
    """For a fault-injection run: drop the Call Trace of each "page allocation
    failure" report and each "FAULT_INJECTION: forcing a failure"; any other
    report header in between ends the allowance, so a real splat's trace stays."""
    ok = False
    for line in lines:
        if _FAULT_START.search(line):
            ok = True
        if _FAULT_END.search(line) and "page allocation failure:" not in line:
            ok = False
        if ok and "Call Trace" in line:
            continue
        yield line


def drop_oom_reports(lines):
    """Drop each OOM killer report, from "invoked oom-killer" to its "Killed
    process" / "oom_reaper: reaped" line; every line outside one is kept."""
    oom = False
    for line in lines:
        if _OOM_START.search(line):
            oom = True
        if not oom:
            yield line
        if _OOM_END.search(line):
            oom = False


def splat_lines(text, allow=(), fault_traces=False, oom_reports=False, max_lines=3):
    """The first max_lines lines of the log text that fail it ([] = clean)."""
    allowed = re.compile("|".join([SPLAT_EXPECTED_RE] + list(allow)))
    lines = lines_of(text)
    if fault_traces:
        lines = drop_fault_traces(lines)
    if oom_reports:
        lines = drop_oom_reports(lines)
    out = []
    for line in lines:
        if allowed.search(line) or not _SPLAT.search(line):
            continue
        out.append(line)
        if len(out) >= max_lines:
            break
    return out


_BYTE = re.compile(r"^<[0-9a-f][0-9a-f]>$")
_HEX = re.compile(r"^[0-9a-f][0-9a-f]$")


def stale_code_oops(text):
    """The first report's Oops and RIP lines when it is an int3 trap on a byte that memory does not hold as
    int3: the vCPU ran translated code older than the kernel text, an artifact of
    QEMU's multi-threaded TCG, never of the guest. Linux patches live text
    (static keys: the first memory cgroup turns memcg_kmem_online_key on and
    rewrites every slab fast path) by writing int3 over the first byte, syncing
    every CPU, writing the rest, then the new first byte, syncing again; only then
    does poke_int3_handler stop claiming those int3s (arch/x86/kernel/alternative.c,
    text_poke_bp_batch). So a CPU that traps there afterwards executed an int3 no
    longer in memory. QEMU 7.2 (Debian 12's) translates a block without its page
    lock and publishes it after (accel/tcg/translate-all.c tb_gen_code, then
    tb-maint.c tb_link_page, no second look at the bytes): a vCPU translating the
    patched function while another vCPU writes the final byte keeps, and shares
    with every vCPU, a block with the int3 in it (seen: both CPUs trapping at
    kfree+0xa2 within 4 ms, the Code: line showing `66 <90>`). The trapping byte
    is the one before the <..> marker of the report's first Code: line (RIP is
    after the int3). A first report (what splat_lines would report first) of any
    other kind, or a Code: line that shows cc there (a real int3 in memory: a BUG
    of ours or padding run into) is not stale: the result is None.
    """
    first = rip = done = stale = False
    out = []
    for line in lines_of(text.replace("\r", "")):
        if done or _EXPECTED.search(line):
            continue
        if not first and _SPLAT.search(line):
            first = True
            if "Oops: int3" not in line:
                done = True
                continue
            out.append(line)
            continue
        if first and "RIP: " in line and not rip:
            rip = True
            out.append(line)
            continue
        if first and "Code: " in line:
            done = True
            f = line.split()
            for i, w in enumerate(f):
                if _BYTE.match(w):
                    if i > 0 and _HEX.match(f[i - 1]) and f[i - 1] != "cc":
                        stale = True
                    break
    return out if stale else None


def read_log(path):
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="surrogateescape")


def scan(path, name, out=None):
    """One PASS:/FAIL: line (FAIL with up to 20 lines), as scripts/scan-log.sh
    printed before it went; True on PASS."""
    out = out or sys.stdout
    try:
        text = read_log(path)
    except OSError:
        out.write(f"FAIL: {name} log has no kernel splat (no log {path})\n")
        return False
    hits = splat_lines(text, max_lines=20)
    if hits:
        out.write(f"FAIL: {name} log has no kernel splat:\n")
        for h in hits:
            out.write("    " + h + "\n")
        return False
    out.write(f"PASS: {name} log has no kernel splat\n")
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(prog="harness.judge", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--allow", action="append", default=[], metavar="ERE", help="also ignore lines matching ERE")
    ap.add_argument("--fault-traces", action="store_true", help="a fault-injection run")
    ap.add_argument("--oom-reports", action="store_true", help="memory exhausted on purpose")
    ap.add_argument("--max", type=int, default=3, help="at most N lines (default 3)")
    ap.add_argument("--scan", metavar="NAME", help="PASS:/FAIL: NAME log has no kernel splat")
    ap.add_argument("--stale-code", action="store_true", help="stale_code_oops")
    ap.add_argument("--guest-lines", action="store_true", help="guest_lines")
    ap.add_argument("log")
    a = ap.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    if a.scan is not None:
        return 0 if scan(a.log, a.scan, sys.stdout) else 1
    try:
        text = read_log(a.log)
    except OSError as e:
        sys.stderr.write(f"harness.judge: want one readable log: {e}\n")
        return 1 if a.stale_code else 2
    if a.guest_lines:
        for line in guest_lines(text):
            print(line)
        return 0
    if a.stale_code:
        report = stale_code_oops(text)
        for line in report or []:
            print(line)
        return 0 if report else 1
    for line in splat_lines(text, a.allow, a.fault_traces, a.oom_reports, a.max):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
