#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""fault_e2e.py [options]: issue 11's proof. The verified swap workload of
tests/harness/e2e.py runs under zswap on the debug kernel (KASAN, lockdep, fault
injection) with atomic allocation failures injected into the workload process,
once with zspp and once with zsmalloc (the debug tree's mm/zsmalloc.ko), in two
boots of the same kernel with the same parameters.

Why: Linux 6.1 zswap bounces every load from a zpool that cannot sleep while
mapped (zsmalloc) through kmalloc(len, GFP_ATOMIC); when that fails the load
returns -ENOMEM and swap_readpage reads the swap device, which never got the
page: the process silently reads zeros or stale data. zspp sets sleep_mapped,
so zswap decompresses from the mapping and never bounces.

Injection (debugfs, set in the guest by tests/e2e/guest-init.sh): fail_page_alloc
and failslab with probability P%, interval 1, min-order 0, ignore-gfp-wait Y
(only allocations that cannot sleep fail), ignore-gfp-highmem N, verbose 0,
task-filter Y, and only the workload is marked (/proc/self/make-it-fail = 1
before it execs). "times" is 10^9 instead of -1: equally unlimited for a run,
but the kernel counts it down on every injected failure, which gives the
number of failures injected (see Documentation/reliability-faults.md).

Assertions (KTAP), zspp run: completed; zswap used zspp and loaded pages from
it; failures were injected (and the workload carried make-it-fail); no lost
page; clean kernel log (dmesg dump and whole console: no KASAN, lockdep,
sleeping-in-atomic, WARNING, BUG, Call Trace; the trace of a "page allocation
failure" report caused by an injected failure is tolerated); rmmod zspp; the
rest of e2e.py's assertions. zsmalloc run: completed (no crash, no hang, the
workload reported) and failures were injected. Its lost pages are REPORTED
("# INFO: zsmalloc lost N pages"), never asserted. Then one diagnostic line
  # FAULTS zspp: injected=.. lost=0 ... | zsmalloc: injected=.. lost=.. ...
and the last line "fault-e2e: N passed, M failed"; exit non-zero on any failure.

  --mem SIZE          cgroup memory.max (default 24M; workload = 3x that)
  --pages N           workload pages (default 3 x --mem)
  --rounds N          workload rewrite rounds (default 1)
  --seed N            workload seed (default 1)
  --probability P     percent (default 3)
  --interval N        (default 1)
  --attrs "A B"       fault attributes (default "fail_page_alloc failslab")
  --no-failslab       fail_page_alloc only
  --verbose N         fault-injection verbose (default 0; 1 logs a line per
                      failure of an allocation without __GFP_NOWARN, 2 adds a
                      stack trace, which the log checks tolerate; both slow the
                      run and overflow the 128 KiB log buffer)
  --zpools "A B"      runs, in order (default "zspp zsmalloc")
  --timeout SECS      QEMU bound per run (default 900)
  --workdir DIR       default $ZSPP_CACHE/fault-e2e (a subdirectory per zpool)
  --check-only        judge the logs already in WORKDIR, do not run
  --echo              copy the guest console to stderr while it runs
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

if __package__ in (None, ""):  # run as a file: tests/harness/fault_e2e.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "harness"
    import harness  # noqa: F401
from . import e2e, ktap  # noqa: E402
from .e2e import field, num  # noqa: E402


def log(msg):
    sys.stderr.write(f"[fault-e2e] {msg}\n")
    sys.stderr.flush()


# Guest exit codes that are findings about the allocator, not harness failures:
# a workload that found bad pages exits 1, and one whose own memory came back
# wrong may die of a signal (128+N); zspp-no-lost-pages judges zspp.
_WORKLOAD_FINDING = re.compile(r"^E2E-ERROR workload exited with (1|1[2-9][0-9]|2[0-9][0-9])$")


class Run:
    """One zpool's boot: its e2e.py results and what the fault comparison measures."""

    def __init__(self, z, wd, attrs, harness_rc=None):
        self.z, self.wd, self.attrs, self.harness_rc = z, wd, attrs, harness_rc
        self.results = None

    def judge(self):
        """e2e.py's own assertions on the log (kept in WD/e2e-check.txt), then the measures."""
        notes = []
        text = e2e.read_text(os.path.join(self.wd, "console.log"))
        self.results = e2e.check_log(text, e2e.Opts(zpool=self.z, scan_console=True, workdir=self.wd), 0,
                                     note=notes.append)
        with open(os.path.join(self.wd, "e2e-check.txt"), "w", encoding="utf-8", errors="surrogateescape") as fh:
            for n in notes:
                fh.write(f"# {n}\n")
            self.results.ktap(fh)
            fh.write(f"e2e-check: {self.results.passed} passed, {self.results.failed} failed\n")
        self.measure(e2e.Log(text))

    def r(self, name):
        """"PASS", "FAIL" or "" (not checked) for one of e2e.py's assertions, and its reason."""
        got = self.results.get(name) if self.results else None
        if got is None:
            return "", ""
        return ("PASS" if got[0] else "FAIL"), (got[1] if not got[0] else "")

    def measure(self, lg):
        self.lg = lg
        wl = lg.last(r"^WORKLOAD pages=")
        if wl:
            self.lost = str(num(field(wl, "pages")) - num(field(wl, "verified")))
        else:
            # Killed before its report: at least the pages it had printed as bad.
            pages = {m.group(1) for m in (re.match(r".* page=([0-9]*) ", x) for x in lg.grep(r"^MISMATCH "))
                     if m and m.group(1)}
            ex = re.sub(r"^WORKLOAD-EXIT ", "", lg.first(r"^WORKLOAD-EXIT "))
            self.lost = f">={len(pages)} (workload killed: {ex})"
        bad = lg.last(r"^WORKLOAD-BAD ")
        if bad:
            self.badk = " ".join(f"{k}={field(bad, k)}" for k in ("zeros", "older", "other", "garbage"))
        else:
            self.badk = "not classified: no WORKLOAD-BAD line"
        if wl:
            self.checked = (f"verified={field(wl, 'verified')}/{field(wl, 'pages')} lost={self.lost} "
                            f"({field(wl, 'mismatches')} failed checks; {self.badk})")
        else:
            self.checked = f"verified=? lost={self.lost} ({self.badk})"
        total, by = 0, []
        for a in self.attrs:
            n = field(lg.last(f"^FAULT-RESULT {re.escape(a)} "), "injected")
            if not n:
                m = re.match(r".* " + re.escape(a) + r"=([0-9]*)", lg.last(r"^FAULT t="))
                n = m.group(1) if m else ""
            n = num(n)
            total += n
            by.append(f"{a}={n}")
        self.injected, self.inj_by = total, ",".join(by)
        post = lg.first(r"^ZSWAP-POST ") or lg.last(r"^ZSWAP t=")
        self.rej = field(post, "reject_alloc_fail")
        vm = lg.grep(r"^VMSTAT ")
        if len(vm) >= 2:
            self.zin = str(num(field(vm[1], "zswpin")) - num(field(vm[0], "zswpin")))
            self.pin = str(num(field(vm[1], "pswpin")) - num(field(vm[0], "pswpin")))
        else:
            self.zin = self.pin = "?"
        self.summary = (f"injected={self.injected} ({self.inj_by}) {self.checked} "
                        f"reject_alloc_fail={self.rej or '?'} zswpin={self.zin} pswpin={self.pin}")

    def failed_except(self, *names):
        """e2e.py assertions that failed, other than NAMES: "name: why; ..."."""
        return "; ".join(f"{n}: {why}" for ok, n, why in self.results.items if not ok and n not in names)

    def not_completed(self):
        """Why the run did not complete ("": it did)."""
        try:
            with open(os.path.join(self.wd, "qemu.rc")) as fh:
                qrc = fh.read().strip()
        except OSError:
            qrc = "?"
        lg = self.lg
        last = lg.lines[-1][:120] if lg.lines else ""
        if self.harness_rc:
            return f"tests/harness/e2e.py exited {self.harness_rc} (see stderr)"
        if qrc == "124":
            return f"QEMU timed out; last line: {last}"
        if not lg.has_line("E2E-END"):
            return f"no E2E-END (qemu rc={qrc}, panic?); last line: {last}"
        if not lg.grep(r"^WORKLOAD-EXIT "):
            return f"the workload never ended ({lg.first(r'Out of memory|oom-kill')})"
        errs = ";".join(re.sub(r"^E2E-ERROR ", "", e) for e in lg.grep(r"^E2E-ERROR")
                        if not _WORKLOAD_FINDING.match(e))
        return f"guest script errors: {errs}" if errs else ""


class Report:
    """Results and INFO lines in order; KTAP at the end (the plan needs the count)."""

    def __init__(self):
        self.events = []

    def check(self, ok, name, why):
        self.events.append((bool(ok), name, why))

    def info(self, text):
        self.events.append((None, None, "INFO: " + text))

    def write(self, out):
        results = [e for e in self.events if e[0] is not None]
        w = ktap.Writer(out)
        w.header(len(results))
        for ok, name, why in self.events:
            if ok is None:
                w.diag(why)
            else:
                w.result(ok, name, diag=f"{name}: {why}" if why and not ok else None)
        passed = sum(1 for e in results if e[0])
        return passed, len(results) - passed


def parse(argv):
    ap = argparse.ArgumentParser(prog="fault_e2e.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mem", default="24M")
    ap.add_argument("--pages", default="")
    ap.add_argument("--rounds", default="1")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--probability", default="3")
    ap.add_argument("--interval", default="1")
    ap.add_argument("--attrs", default="fail_page_alloc failslab")
    ap.add_argument("--no-failslab", dest="attrs", action="store_const", const="fail_page_alloc")
    ap.add_argument("--verbose", default="0")
    ap.add_argument("--zpools", default="zspp zsmalloc")
    ap.add_argument("--timeout", default="900")
    ap.add_argument("--workdir", default="")
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--echo", action="store_true")
    a = ap.parse_args(argv)

    def die(msg):
        log(f"error: {msg}")
        raise SystemExit(1)
    if not (a.probability.isdigit() and int(a.probability) <= 100):
        die(f"--probability wants 0..100, got '{a.probability}'")
    if not re.fullmatch(r"[1-9][0-9]*", a.interval):
        die(f"--interval wants a positive number, got '{a.interval}'")
    if a.verbose not in ("0", "1", "2"):
        die("--verbose wants 0, 1 or 2")
    a.attrs = a.attrs.split()
    for x in a.attrs:
        if x not in ("fail_page_alloc", "failslab"):
            die(f"unknown fault attribute '{x}'")
    a.zpools = a.zpools.split()
    for z in a.zpools:
        if z not in ("zspp", "zsmalloc"):
            die(f"--zpools takes zspp and/or zsmalloc, not '{z}'")
    a.workdir = a.workdir or os.path.join(e2e.cache(), "fault-e2e")
    return a


def boot(a, z, build):
    """One run through e2e.py --no-check; e2e.py's exit status."""
    wd = os.path.join(a.workdir, z)
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    sets = [f"E2E_FAULT_ATTRS={' '.join(a.attrs)}", f"E2E_FAULT_PROBABILITY={a.probability}",
            f"E2E_FAULT_INTERVAL={a.interval}", "E2E_FAULT_TIMES=1000000000", "E2E_FAULT_MIN_ORDER=0",
            "E2E_FAULT_IGNORE_GFP_WAIT=Y", "E2E_FAULT_IGNORE_GFP_HIGHMEM=N", f"E2E_FAULT_VERBOSE={a.verbose}",
            "E2E_FAULT_TASK_FILTER=Y"]
    args = ["--zpool", z, "--kernel-image", build["BZIMAGE"], "--modules-dir", build["MODDIR"], "--mem", a.mem,
            "--rounds", a.rounds, "--seed", a.seed, "--timeout", a.timeout, "--workdir", wd, "--append", "loglevel=5",
            "--workload-args", "-L", "--no-check"]
    for s in sets:
        args += ["--set", s]
    args += (["--echo"] if a.echo else []) + (["--pages", a.pages] if a.pages else [])
    args += ["--module", build["ZSPP_KO"]] if z == "zspp" else []
    log(f"run {z}: mem={a.mem} pages={a.pages or '3x mem'} rounds={a.rounds} seed={a.seed} "
        f"faults='{' '.join(a.attrs)}' p={a.probability}% interval={a.interval}")
    try:
        return e2e.main(args)
    except SystemExit as ex:  # e2e.py's setup errors (e2e.Die), as its exit status
        return ex.code if isinstance(ex.code, int) else 1
    except (OSError, subprocess.CalledProcessError) as ex:
        log(f"run {z}: {ex}")
        return 1


def judge_runs(a, rep, harness_rc=None):
    """Every assertion on the runs' logs in WORKDIR; the runs by zpool."""
    harness_rc = harness_rc or {}
    if a.check_only:  # old logs: take the attributes they were run with
        for z in a.zpools:
            try:
                lines = e2e.Log(e2e.read_text(os.path.join(a.workdir, z, "console.log"))).grep(r"^FAULT-CONFIG ")
            except OSError:
                continue
            la = [line.split()[1] for line in lines if len(line.split()) > 1]
            if la:
                a.attrs = la
                break
    runs = {}
    for z in a.zpools:
        wd = os.path.join(a.workdir, z)
        if not os.path.isfile(os.path.join(wd, "console.log")):
            rep.check(False, f"{z}-run-completed", f"no console log in {wd}")
            continue
        runs[z] = Run(z, wd, a.attrs, harness_rc.get(z))
        runs[z].judge()
    for z, run in runs.items():
        nc = run.not_completed()
        rep.check(not nc, f"{z}-run-completed", nc)
        ftask = run.lg.first(r"^FAULT-TASK ")
        rep.check(run.injected > 0 and field(ftask, "make-it-fail") == "1", f"{z}-faults-injected",
                  f"injected={run.injected} ({run.inj_by}), {ftask or 'no FAULT-TASK line'}")
        try:
            with open(os.path.join(run.wd, "dmesg.log"), encoding="utf-8", errors="surrogateescape") as fh:
                nalloc = sum(1 for line in fh if "page allocation failure:" in line)
        except OSError:
            nalloc = 0
        # The comparison means something only if zswap really stored in and loaded from z.
        uses, uses_why = run.r(f"zswap-uses-{z}")
        rep.check(uses == "PASS" and re.match(r"^[1-9]", run.zin), f"{z}-zswap-loads",
                  f"zswap-uses-{z}={uses} {uses_why}; zswpin={run.zin}")
        if z == "zspp":
            wv, wv_why = run.r("workload-verified")
            rep.check(wv == "PASS" and run.lost == "0", "zspp-no-lost-pages", f"lost={run.lost} ({run.badk}); {wv_why}")
            (dm, dm_why), (co, co_why) = run.r("dmesg-clean"), run.r("console-clean")
            rep.check(dm == "PASS" and co == "PASS", "zspp-log-clean",
                      f"dmesg: {dm_why or dm}; console: {co_why or co}")
            if nalloc:
                rep.info(f"zspp run: {nalloc} 'page allocation failure' reports (injected failures; "
                         "their traces are tolerated)")
            rm, rm_why = run.r("rmmod-zspp")
            rep.check(rm == "PASS", "zspp-rmmod", rm_why or "no RMMOD zspp result")
            others = run.failed_except("guest-completed", "workload-verified", "dmesg-clean", "console-clean",
                                       "rmmod-zspp", "zswap-uses-zspp")
            rep.check(not others, "zspp-e2e-assertions", others)
        else:
            rep.info(f"zsmalloc lost {run.lost} pages; {run.checked}")
            for m in run.lg.grep(r"^MISMATCH")[:3]:
                rep.info("  " + m)
            others = run.failed_except("workload-verified", "zswap-uses-zsmalloc")
            rep.info(f"zsmalloc run, other e2e.py checks: {others or 'all passed'}")
            if nalloc:
                rep.info(f"zsmalloc run: {nalloc} 'page allocation failure' reports (injected failures)")
    return runs


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    start = time.time()
    rep = Report()
    secs, harness_rc = {}, {}
    if not a.check_only:
        out = subprocess.run([os.path.join(e2e.SCRIPTS, "build-debug-modules.sh"), "--no-kunit"],
                             stdout=subprocess.PIPE, text=True).stdout
        build = e2e.keyvals(out)
        if not all(os.path.isfile(build.get(k, "")) for k in ("ZSPP_KO", "BZIMAGE", "ZSMALLOC_KO")):
            rep.check(False, "debug-build",
                      "scripts/build-debug-modules.sh reported no zspp.ko, bzImage or zsmalloc.ko")
            p, f = rep.write(sys.stdout)
            print(f"fault-e2e: {p} passed, {f} failed")
            return 1
        for z in a.zpools:
            t0 = time.time()
            harness_rc[z] = boot(a, z, build)
            secs[z] = int(time.time() - t0)
            try:
                with open(os.path.join(a.workdir, z, "qemu.rc")) as fh:
                    qrc = fh.read().strip()
            except OSError:
                qrc = "?"
            log(f"run {z}: {secs[z]}s, qemu rc={qrc}")
    runs = judge_runs(a, rep, harness_rc)
    rep.events.append((None, None, "FAULTS " + " |".join(
        f" {z}: {runs[z].summary if z in runs else 'no run'}" for z in a.zpools).lstrip()))
    rep.info(f"injected = failures the kernel injected ({' + '.join(a.attrs)}, counted down in 'times') into "
             "non-sleeping allocations made in the workload's own context: zpool malloc on stores under memcg "
             "reclaim, zswap's GFP_ATOMIC bounce buffer on loads (zsmalloc only), zspp's map area, "
             "swap cache nodes, block I/O; lost = pages that read back wrong at least once; "
             "reject_alloc_fail = zswap stores refused because the zpool malloc failed")
    p, f = rep.write(sys.stdout)
    took = "".join(f"; {z} run {secs[z]}s" for z in a.zpools if z in secs)
    log(f"fault-e2e: total {time.time() - start:.0f}s{took}; logs under {a.workdir}")
    print(f"fault-e2e: {p} passed, {f} failed", flush=True)
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
