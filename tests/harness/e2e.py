#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""e2e.py [options]: end-to-end test of a zpool allocator through zswap in QEMU.

Builds the workload, fetches the kernel, builds an initramfs, boots it under
TCG, and checks the console log (see Documentation/testing-e2e.md). Prints the
assertions as KTAP (a failure's reason as "# " lines before its "not ok"), then
a closing line, and exits non-zero on any failure.

  --zpool NAME          zspp (default), zsmalloc, zbud or z3fold
  --module PATH         the zspp module (default: <repo>/zspp.ko; zspp only)
  --kernel NAME         kernel for scripts/fetch-kernel.sh (default stock-6.1)
  --kernel-image PATH   use this kernel image instead   (env ZSPP_KERNEL_IMAGE)
  --modules-dir DIR     and take its modules from here  (env ZSPP_MODULES_DIR);
                        without it, every driver must be built in
  --debug-kernel        the 6.1 debug kernel (KASAN, lockdep, PREEMPT, DEBUG_VM;
                        scripts/build-debug-modules.sh builds zspp.ko against it):
                        --zpool zspp, --scan-console, loglevel=5, and defaults
                        --mem 24M --rounds 1 --timeout 900 --name e2e-debug
                        --workdir $ZSPP_CACHE/e2e-debug/zspp
  --mem SIZE            memory.max of the workload's cgroup (default 48M)
  --pages N             workload pages (default: 3 x --mem)
  --zswap-max SIZE      memory.zswap.max of the cgroup (default: 3/4 of --mem, so
                        the zswap pool charged to the cgroup cannot OOM it)
  --rounds N            workload rewrite rounds (default 2)
  --seed N              workload seed (default 1)
  --workload-args ARGS  extra workload arguments (e.g. -C: corrupt pages on
                        purpose, to see the harness fail)
  --max-pool-percent N  zswap max_pool_percent (default 20, the kernel's)
  --compressor NAME     zswap compressor (default lzo)
  --vm-mem SIZE         guest RAM (default 1024M)
  --smp N               guest CPUs (default 2)
  --timeout SECS        bound on the QEMU run (default 480)
  --workdir DIR         logs and images (default $ZSPP_CACHE/e2e/ZPOOL)
  --append ARGS         extra kernel command line
  --echo                copy the guest console to stderr while it runs
  --check-only LOG      only run the assertions on an existing console log
  --no-check            only run (build, boot): no assertions, nothing on stdout;
                        QEMU's exit status goes to WORKDIR/qemu.rc
  --set VAR=VALUE       extra guest setting for /etc/zspp-e2e.conf (repeatable;
                        VAR is an E2E_* name of tests/e2e/guest-init.sh, e.g.
                        E2E_FAULT_ATTRS="fail_page_alloc failslab")
  --expect-writeback    also assert that zswap hit its pool limit and wrote pages
                        back through the allocator's evict (written_back_pages > 0,
                        and for zspp pages_reclaimed > 0); use a low
                        --max-pool-percent
  --exiters N           while the workload runs, N rounds of short-lived
                        children in its cgroup fill 4096 pages each and exit
                        (every other one killed mid-way): zswap invalidates
                        their entries while it writes back (process exit
                        racing evict); the ones not killed verify every byte
  --switch-pools        while the workload runs: try rmmod (must be refused), switch
                        zswap's compressor to lz4, its zpool to zbud and back, the
                        compressor back; assert several zspp pools existed at once
                        and everything still drains and unloads
  --bad-input           insmod zspp with invalid chain_size values and write garbage
                        to its parameter and debugfs files: all refused, nothing changed
  --expect-fold         (CONFIG_ZSPP_FOLD module) the workload repeats 64 distinct
                        page patterns (-D 64) and parks after its fill (-P); the
                        guest folds the pool through debugfs meanwhile (cgroup
                        memory.zswap.writeback=0, so the pages stay in zswap);
                        assert pages_folded > 0, objs_folded > 0 and a smaller
                        zswap pool_total_size for the same stored pages
  --fold-worker MS      (CONFIG_ZSPP_FOLD module) background folding every MS ms:
                        with --expect-fold switched on after the triggered fold
                        (assert more fold passes and folded pages after it),
                        else insmod zspp fold_interval_ms=MS (assert fold passes)
  --scan-console        also assert that the whole console log (boot to reboot,
                        not only the final dmesg dump) has no kernel splat
  --name NAME           closing line "NAME: N passed, M failed" (default
                        "e2e ZPOOL: N assertions passed, M failed")

python3 tests/harness/e2e.py ... (or python3 -m harness.e2e with tests/ on
PYTHONPATH). The assertions are check_log() and the e2e_check_* functions
below, one per group, on the console log's lines: tests/harness/test_e2e.py
holds them to small synthetic logs; tests/harness/fault_e2e.py calls them too.
"""
import os
import re
import shlex
import subprocess
import sys
import time
from types import SimpleNamespace

if __package__ in (None, ""):  # run as a file: tests/harness/e2e.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "harness"
    import harness  # noqa: F401
from . import judge, ktap  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
PROG = "e2e"


def cache():
    return os.environ.get("ZSPP_CACHE") or "/var/cache/zspp"


def log(msg):
    """For the reader, on stderr (stdout is the KTAP)."""
    sys.stderr.write(f"[{PROG}] {msg}\n")
    sys.stderr.flush()


class Die(SystemExit):
    """A usage or setup error: "[e2e] error: ..." and exit status 1."""

    def __init__(self, msg):
        log(f"error: {msg}")
        super().__init__(1)


# ------------------------------------------------------------ the console log

class Log:
    """A cleaned console log (carriage returns removed), as lines."""

    def __init__(self, text):
        self.text = text.replace("\r", "")
        self.lines = judge.lines_of(self.text)

    def grep(self, regex):
        r = re.compile(regex)
        return [line for line in self.lines if r.search(line)]

    def last(self, regex):
        m = self.grep(regex)
        return m[-1] if m else ""

    def first(self, regex):
        m = self.grep(regex)
        return m[0] if m else ""

    def count(self, regex):
        return len(self.grep(regex))

    def has_line(self, exact):
        return exact in self.lines


def field(text, key):
    """The value of " KEY=value" in a log line ("" without one). As sed's
    greedy `.*[ ]KEY=`: the last such field of the first line that has one."""
    r = re.compile(r".*[ ]" + re.escape(key) + r"=([^ ]*)")
    for line in text.split("\n"):
        m = r.match(line)
        if m:
            return m.group(1)
    return ""


def values(lines, key):
    """KEY=N over lines (one number per line that has it; an empty N is 0)."""
    r = re.compile(r".*[ ]" + re.escape(key) + r"=([0-9]*)")
    out = []
    for line in lines:
        m = r.match(line)
        if m:
            out.append(int(m.group(1) or 0))
    return out


def max_value(lines, key):
    """The largest KEY=N over lines, or None when no line has KEY."""
    v = values(lines, key)
    return max(v) if v else None


def num(s):
    """A field's value as a number, 0 when empty or not one."""
    try:
        return int(s)
    except (TypeError, ValueError):
        return 0


def or_(v, default):
    return default if v in (None, "") else v


class Results:
    """The assertions of one log: (ok, name, why) in order; notes go to stderr."""

    def __init__(self, note=log):
        self.items = []
        self.note = note

    def pass_(self, name, detail=""):
        self.items.append((True, name, detail))

    def fail(self, name, why):
        self.items.append((False, name, why))

    def check(self, ok, name, why, detail=""):
        if ok:
            self.pass_(name, detail)
        else:
            self.fail(name, why)

    def get(self, name):
        """(ok, why) of the assertion NAME, or None when it was not checked."""
        for ok, n, why in self.items:
            if n == name:
                return ok, why
        return None

    @property
    def passed(self):
        return sum(1 for ok, _, _ in self.items if ok)

    @property
    def failed(self):
        return sum(1 for ok, _, _ in self.items if not ok)

    def ktap(self, out=None):
        """The results as a KTAP document: a reason (or a passing check's
        detail) as diagnostics before its result line."""
        w = ktap.Writer(out or sys.stdout)
        w.header(len(self.items))
        for ok, name, why in self.items:
            w.result(ok, name, diag=f"{name}: {why}" if why else None)
        return w


class Opts:
    """What the checks need to know of the run (e2e.py's options)."""

    def __init__(self, zpool="zspp", badin=False, switch=False, exiters=0, expect_wb=False, expect_fold=False,
                 fold_worker=None, scan_console=False, workdir=None):
        self.zpool, self.badin, self.switch, self.exiters = zpool, badin, switch, exiters
        self.expect_wb, self.expect_fold, self.fold_worker = expect_wb, expect_fold, fold_worker
        self.scan_console, self.workdir = scan_console, workdir


def summarize(lg, o):
    """Facts for the reader, not assertions."""
    samples = lg.grep(r"^ZSWAP t=")
    peak = max_value(samples, "stored_pages")
    pool_peak = max_value(samples, "pool_total_size")
    vm = lg.last(r"^VMSTAT ")
    # Pages per pool byte at the sample with the most pages in the pool (as
    # the awk it replaces: a field missing from a sample keeps its last value).
    v, best, size = {}, 0, 0
    for line in samples:
        for kv in line.split()[1:]:
            k, _, val = kv.partition("=")
            v[k] = val
        s = num(v.get("stored_pages")) - num(v.get("same_filled_pages"))
        if s > best:
            best, size = s, num(v.get("pool_total_size"))
    ratio = f"{best * 4096 / size:.2f}" if size > 0 else "n/a"
    lg_note = f"summary: zpool={o.zpool} peak stored_pages={or_(peak, 0)} peak pool_total_size={or_(pool_peak, 0)}"
    return f"{lg_note} (pages/pool at peak: {ratio}x) {vm or 'no VMSTAT'}"


def e2e_check_guest_completed(lg, r, qrc):
    """The guest reached its end (ran the whole script, dumped dmesg)."""
    last = lg.lines[-1][:120] if lg.lines else ""
    if lg.has_line("E2E-END"):
        errs = ";".join(re.sub(r"^E2E-ERROR ", "", e) for e in lg.grep(r"^E2E-ERROR"))
        r.check(not errs, "guest-completed", f"guest script errors: {errs}")
    elif qrc == 124:
        r.fail("guest-completed", f"QEMU timed out; last line: {last}")
    else:
        r.fail("guest-completed", f"no E2E-END (qemu rc={qrc}, panic?); last line: {last}")


def e2e_check_zswap_allocator(lg, r, o):
    """zswap really used the requested allocator."""
    params = lg.last(r"^ZSWAP-PARAMS ")
    r.check(field(params, "zpool") == o.zpool and field(params, "enabled") == "Y", f"zswap-uses-{o.zpool}",
            f"zswap parameters: {params or 'never printed'}")


def e2e_check_workload_verified(lg, r):
    """The workload verified every page (as many as it was asked for)."""
    wl = lg.last(r"^WORKLOAD pages=")
    wp, wv, wm = field(wl, "pages"), field(wl, "verified"), field(wl, "mismatches")
    want = ""
    for line in lg.lines:
        m = re.match(r"^E2E config .* pages=([0-9]*)", line)
        if m:
            want = m.group(1)
            break
    if not wl:
        why = lg.first(r"Out of memory|oom-kill|WORKLOAD-EXIT")
        r.fail("workload-verified", f"no WORKLOAD line ({why or 'see the log'})")
    elif wm == "0" and wv == wp and wp == (want or wp):
        r.pass_("workload-verified")
    else:
        mism = "".join("; " + m for m in lg.grep(r"^MISMATCH")[:3])
        r.fail("workload-verified", f"{wl} (expected pages={want or '?'}){mism}")


def e2e_check_zswap_stored(lg, r):
    """zswap stored pages while the workload ran."""
    peak = max_value(lg.grep(r"^ZSWAP t="), "stored_pages")
    r.check(or_(peak, 0) > 0, "zswap-stored-pages", "stored_pages never above 0 during the run")


def e2e_check_swapped_out(lg, r):
    """The cgroup limit forced at least 2x memory.max out to swap."""
    vm = lg.last(r"^VMSTAT ")
    out = num(field(vm, "pswpout")) + num(field(vm, "zswpout"))
    limit = 0
    for line in lg.lines:
        m = re.match(r"^E2E cgroup memory.max=([0-9]*)", line)
        if m:
            limit = num(m.group(1)) // 4096
            break
    r.check(limit > 0 and out >= 2 * limit, "swapped-over-2x-limit",
            f"pswpout+zswpout={out} pages, limit={limit} pages")


def e2e_check_zswap_drained(lg, r):
    """Every swap entry gone from zswap once the workload's memory was freed."""
    after = lg.last(r"^ZSWAP-AFTER ")
    if after and field(after, "stored_pages") == "0" and field(after, "pool_total_size") == "0":
        r.pass_("zswap-drained")
    else:
        # The cgroup's swap= and zswap= tell a slot still in use by something
        # of the workload's cgroup (e.g. a tmpfs file it wrote: zswap keeps
        # that entry until the file goes) from a lost entry.
        memcg = lg.last(r"^MEMCG-AFTER ")
        r.fail("zswap-drained", (after or "no ZSWAP-AFTER line") + (f"; {memcg}" if memcg else ""))


_ZSPP_ANY = r"^ZSPP(-[A-Z]+)? [^ ]* "  # a zspp summary line of any phase


def e2e_check_zspp_pool(lg, r):
    """zspp objects during the run, no handle refused as invalid, every pool empty after."""
    objs = max_value(lg.grep(r"^ZSPP [^ ]* "), "objects")
    r.check(or_(objs, 0) > 0, "zspp-objects-during-run", "no ZSPP summary with objects > 0 during the run")
    # A summary counter of handles the allocator refused as invalid, if it has one.
    badh = max_value(lg.grep(_ZSPP_ANY), "bad_handles")
    if badh is not None:
        r.check(badh == 0, "zspp-no-bad-handles", f"summary showed bad_handles={badh}")
    after = lg.grep(r"^ZSPP-AFTER ")
    empty = [a for a in after if re.search(r"^ZSPP-AFTER .* pages=0( |$)", a)]
    r.check(after and len(empty) == len(after), "zspp-pool-drained",
            "; ".join(after) or "no ZSPP-AFTER summary after the workload")


def e2e_check_bad_input(lg, r):
    """Hostile input (--bad-input): every BADINPUT line ok=1, and there are some."""
    nb = lg.count(r"^BADINPUT ")
    nbad = ";".join(re.sub(r"^BADINPUT ", "", b) for b in lg.grep(r"^BADINPUT .* ok=0"))
    r.check(nb >= 15 and not nbad, "bad-input-refused", f"{nb} BADINPUT checks; not refused: {nbad or 'none'}",
            f"{nb} checks")


def e2e_check_switch_pools(lg, r):
    """Runtime pool switching (--switch-pools)."""
    sr = "\n".join(lg.grep(r"^SWITCH rmmod-while-in-use"))
    r.check(sr and field(sr, "rc") != "0" and field(sr, "still_loaded") == "1", "rmmod-refused-while-zswap-uses-zspp",
            sr or "no SWITCH rmmod line (workload too short?)")
    steps = lg.count(r"^SWITCH (compressor|zpool)=")
    sp = or_(max_value(lg.grep(r"^SWITCH "), "pools"), 0)
    r.check(steps == 4 and sp >= 2, "switch-several-zspp-pools-at-once",
            f"switch steps={steps}, most zspp pools at once={sp}")
    r.note("pool switching: " + ";".join(re.sub(r"^SWITCH ", "", s) for s in lg.grep(r"^SWITCH ")))


def e2e_check_exiters(lg, r, o):
    """Short-lived children (--exiters): they ran, the ones not killed read every
    byte back, and none died of anything but the test's SIGKILL."""
    nex = lg.count(r"^EXITER ")
    bad = lg.grep(r"^EXITER .* bad=1")
    nkilled = lg.count(r"^EXITER .* killed=1")
    r.check(nex >= o.exiters and not bad and nkilled > 0, "exiters-ran-and-verified",
            f"{nex} of {o.exiters} rounds, {nkilled} killed, {len(bad)} bad: {';'.join(bad[:3])}")
    r.note(f"exiters: {nkilled} killed, {lg.count(r'^EXITER .* killed=0')} ran to the end")


def e2e_check_writeback(lg, r, o):
    """zswap hit its pool limit and wrote pages back through evict."""
    zl = lg.last(r"^ZSWAP-(AFTER|FINAL) ")
    wb, plh, rrf = field(zl, "written_back_pages"), field(zl, "pool_limit_hit"), field(zl, "reject_reclaim_fail")
    r.check(num(plh) > 0, "zswap-pool-limit-hit", f"pool_limit_hit={plh or '?'} (lower --max-pool-percent)")
    r.check(num(wb) > 0, "zswap-written-back", f"written_back_pages={wb or '?'} reject_reclaim_fail={rrf}")
    r.note(f"writeback: written_back_pages={wb or '?'} pool_limit_hit={plh or '?'} reject_reclaim_fail={rrf}")
    if o.zpool == "zspp":
        z = lg.grep(_ZSPP_ANY)
        rp, ow = max_value(z, "pages_reclaimed"), max_value(z, "objs_written_back")
        r.check(or_(rp, 0) > 0 and or_(ow, 0) > 0, "zspp-reclaimed",
                f"pages_reclaimed={or_(rp, 'none')} objs_written_back={or_(ow, 'none')}")
        # Self-compaction (compact_slack) meanwhile: informational, as a pool
        # may run at compact_slack=0.
        ac = max_value(z, "auto_compactions")
        r.note(f"zspp reclaim: pages_reclaimed={or_(rp, '?')} objs_written_back={or_(ow, '?')} "
               f"auto_compactions={or_(ac, '?')}")


def e2e_check_fold(lg, r):
    """(--expect-fold) every zspp pool folded while the workload was parked after
    its fill, so the same stored pages take fewer pool pages."""
    zb, za = lg.last(r"^ZSWAP-PREFOLD "), lg.last(r"^ZSWAP-FOLDED ")
    sb, sa = lg.grep(r"^ZSPP-PREFOLD "), lg.grep(r"^ZSPP-FOLDED ")
    folds = lg.grep(r"^FOLD [^ ]* rc=")
    nbad = ";".join(f for f in folds if " rc=0 " not in f)
    hint = lg.first(r"never paused for the fold|fold of|/fold \(not")
    r.check(folds and not nbad, "fold-triggered",
            f"{len(folds)} FOLD lines" + (f"; failed: {nbad}" if nbad else "") + (f"; {hint}" if hint else ""))
    st0, st1 = field(zb, "stored_pages"), field(za, "stored_pages")
    ps0, ps1 = field(zb, "pool_total_size"), field(za, "pool_total_size")
    r.check(num(st0) > 0 and st0 == st1 and num(ps1) > 0 and num(ps1) < num(ps0), "fold-shrank-zswap-pool",
            f"stored_pages {st0 or '?'} -> {st1 or '?'}, pool_total_size {ps0 or '?'} -> {ps1 or '?'}")
    pb, pa = sum(values(sa, "pages_folded")), sum(values(sa, "objs_folded"))
    r.check(pb > 0, "zspp-pages-folded", f"pages_folded={pb} after the fold")
    r.check(pa > 0, "zspp-objs-folded", f"objs_folded={pa} after the fold")
    secs = "+".join(re.sub(r".* secs=", "", f) for f in folds if " secs=" in f)

    def s(lines, k):
        return sum(values(lines, k))
    r.note(f"fold: stored_pages={st0 or '?'} pool_total_size {ps0 or '?'} -> {ps1 or '?'} "
           f"zspp pages {s(sb, 'pages')} -> {s(sa, 'pages')} objects {s(sb, 'objects')} -> {s(sa, 'objects')} "
           f"pages_folded={pb} objs_folded={pa} bytes_folded={s(sa, 'bytes_folded')} "
           f"fold_collisions={s(sa, 'fold_collisions')} fold_cow={s(sa, 'fold_cow')} in {secs}s")


def e2e_check_fold_worker(lg, r, o):
    """Background folding (--fold-worker): passes ran without the debugfs
    trigger (after it, with --expect-fold)."""
    run = lg.grep(r"^ZSPP(-POST|-AFTER)? [^ ]* ")
    p0 = f0 = 0
    if o.expect_fold:
        folded = lg.grep(r"^ZSPP-FOLDED ")
        p0, f0 = sum(values(folded, "fold_passes")), sum(values(folded, "pages_folded"))
    p1, f1, o1 = (or_(max_value(run, k), 0) for k in ("fold_passes", "pages_folded", "objs_folded"))
    r.check(p1 > p0, "fold-worker-passes", f"fold_passes={p1} (was {p0} when the worker started)")
    if o.expect_fold:
        r.check(f1 > f0, "fold-worker-pages-folded", f"pages_folded={f1} (was {f0} when the worker started)")
    r.note(f"fold worker: most fold_passes={p1} pages_folded={f1} objs_folded={o1} in one pool "
           f"(from {p0} passes, {f0} pages)")


def e2e_check_unload(lg, r, o):
    """The module under test unloads cleanly."""
    hint, leaked_ok = "", False
    # Stock 6.1 zswap leaks a pool reference whenever it hits max_pool_percent
    # while its shrink work is already queued (fixed upstream by "mm: zswap:
    # fix pool refcount bug around shrink_worker()", 6.4), so that pool is never
    # destroyed. Then the only acceptable reason for zspp to stay loaded: the
    # pools left are exactly what holds the module (refcnt == pools) and they
    # are empty.
    rmz = lg.last(r"^RMMOD zspp ")
    fin_plh = field(rmz, "pool_limit_hit")
    if o.zpool == "zspp" and num(fin_plh) > 0:
        fin = lg.grep(r"^ZSPP-FINAL ")
        nempty = len([f for f in fin if re.search(r" pages=0 .*objects=0( |$)", f)])
        rcnt = field(rmz, "refcnt")
        if fin and len(fin) == nempty and rcnt == str(len(fin)):
            leaked_ok = True
            r.note(f"zspp stays loaded only for {len(fin)} pool(s) stock 6.1 zswap leaked after {fin_plh} "
                   "pool-limit hits; all empty")
        hint = (f"; zswap hit max_pool_percent ({fin_plh} times): stock 6.1 zswap leaks pool references then; "
                f"pools left: {len(fin)}, empty: {nempty}, module refcnt: {rcnt or '?'}")
    for rm in lg.grep(r"^RMMOD "):
        mod = rm.split()[1] if len(rm.split()) > 1 else ""
        if field(rm, "rc") == "0":
            r.pass_(f"rmmod-{mod}")
        elif leaked_ok and mod == "zspp":
            r.pass_("rmmod-zspp-held-only-by-empty-leaked-zswap-pools")
        else:
            r.fail(f"rmmod-{mod}", rm + hint)
    if o.zpool == "zspp" and not rmz:
        r.fail("rmmod-zspp", "no RMMOD zspp line")
    if o.zpool == "zspp":
        sw = "\n".join(lg.grep(r"^ZSPP-DEBUGFS after-switch"))
        rmd = "\n".join(lg.grep(r"^ZSPP-DEBUGFS after-rmmod"))
        if leaked_ok:
            r.pass_("zspp-debugfs-only-leaked-empty-pools")
        elif sw and field(sw, "pools") != "0":
            r.fail("zspp-debugfs-gone", sw + hint)
        elif field(rmd, "exists") != "0":
            r.fail("zspp-debugfs-gone", rmd or "no ZSPP-DEBUGFS after-rmmod line")
        else:
            r.pass_("zspp-debugfs-gone")


def dmesg_of(lg):
    """The kernel log the guest dumped (sed's /DMESG-BEGIN/,/DMESG-END/), or the
    whole console when the guest never got that far."""
    if not lg.has_line("DMESG-END"):
        return list(lg.lines)
    out, inside = [], False
    for line in lg.lines:
        if not inside and line == "DMESG-BEGIN":
            inside = True
            out.append(line)
        elif inside:
            out.append(line)
            if line == "DMESG-END":
                inside = False
    return out


def kernel_splats(lines, o, faults):
    """The first lines that fail a kernel log (judge.splat_lines), at most 3,
    '|'-separated; faults: a run with fault injection."""
    allow = []
    if o.badin:  # --bad-input's refused insmods make the kernel log "`0' invalid for parameter".
        allow.append(r"zspp: `[^']*' invalid for parameter `chain_size'")
    text = "".join(line + "\n" for line in lines)
    return "|".join(s[:160] for s in judge.splat_lines(text, allow=allow, fault_traces=faults))


def e2e_check_kernel_log(lg, r, o):
    """A clean kernel log: the dmesg dump if the guest got that far, else the
    console; with --scan-console also the whole console, boot to reboot (what
    a crash leaves when there is no dump)."""
    klog = dmesg_of(lg)
    if o.workdir:
        with open(os.path.join(o.workdir, "dmesg.log"), "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write("".join(line + "\n" for line in klog))
    faults = bool(lg.grep(r"^FAULT-CONFIG "))
    bad = kernel_splats(klog, o, faults)
    r.check(not bad, "dmesg-clean", bad)
    if o.scan_console:
        bad = kernel_splats(lg.lines, o, faults)
        r.check(not bad, "console-clean", bad)
    nalloc = sum(1 for line in klog if "page allocation failure:" in line)
    if nalloc:
        r.note(f"note: {nalloc} 'page allocation failure' reports in the kernel log (injected failures)")


def check_log(text, o, qrc=0, note=log):
    """Every assertion on a console log's text (qrc: QEMU's exit status), in
    order, each group only when its option asks for it."""
    lg = Log(text)
    if o.workdir:
        os.makedirs(o.workdir, exist_ok=True)
        with open(os.path.join(o.workdir, "console.clean.log"), "w", encoding="utf-8",
                  errors="surrogateescape") as fh:
            fh.write(lg.text)
    r = Results(note)
    r.note(summarize(lg, o))
    e2e_check_guest_completed(lg, r, qrc)
    e2e_check_zswap_allocator(lg, r, o)
    e2e_check_workload_verified(lg, r)
    e2e_check_zswap_stored(lg, r)
    e2e_check_swapped_out(lg, r)
    e2e_check_zswap_drained(lg, r)
    if o.zpool == "zspp":
        e2e_check_zspp_pool(lg, r)
    if o.badin:
        e2e_check_bad_input(lg, r)
    if o.switch:
        e2e_check_switch_pools(lg, r)
    if o.exiters > 0:
        e2e_check_exiters(lg, r, o)
    if o.expect_wb:
        e2e_check_writeback(lg, r, o)
    if o.expect_fold:
        e2e_check_fold(lg, r)
    if o.fold_worker:
        e2e_check_fold_worker(lg, r, o)
    e2e_check_unload(lg, r, o)
    e2e_check_kernel_log(lg, r, o)
    return r


def read_text(path):
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="surrogateescape")


# ------------------------------------------------------------ options, build, boot

def to_bytes(v):
    """48M -> 50331648 (K, M, G suffixes, as the cgroup files take them)."""
    m = re.fullmatch(r"([0-9]+)([kKmMgG]?)", v or "")
    if not m:
        raise Die(f"bad size '{v}' (want a number with an optional K/M/G suffix)")
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2).lower()]


def parse_args(argv):
    """The options (those of scripts/e2e.sh, which this program replaced)."""
    a = dict(zpool="zspp", module="", kernel="stock-6.1", kimage=os.environ.get("ZSPP_KERNEL_IMAGE", ""),
             kmoddir=os.environ.get("ZSPP_MODULES_DIR", ""), debug=False, mem=None, pages="", zswap_max="",
             rounds=None, seed="1", wargs="", mpp="20", compressor="lzo", vm_mem="1024M", smp="2", tmo=None,
             workdir="", append="", echo=False, check_only="", no_check=False, sets=[], scan_console=False,
             name=None, expect_wb=False, switch=False, badin=False, expect_fold=False, fold_worker="", exiters=0)
    valued = {"--zpool": "zpool", "--module": "module", "--kernel": "kernel", "--kernel-image": "kimage",
              "--modules-dir": "kmoddir", "--mem": "mem", "--pages": "pages", "--zswap-max": "zswap_max",
              "--rounds": "rounds", "--seed": "seed", "--workload-args": "wargs", "--max-pool-percent": "mpp",
              "--compressor": "compressor", "--vm-mem": "vm_mem", "--smp": "smp", "--timeout": "tmo",
              "--workdir": "workdir", "--append": "append", "--check-only": "check_only", "--name": "name",
              "--fold-worker": "fold_worker"}
    flags = {"--echo": "echo", "--no-check": "no_check", "--scan-console": "scan_console",
             "--expect-writeback": "expect_wb", "--expect-fold": "expect_fold", "--debug-kernel": "debug"}
    sets = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            sys.stderr.write(__doc__)
            raise SystemExit(0)
        if arg in flags:
            a[flags[arg]] = True
        elif arg == "--bad-input":
            a["badin"] = True
            sets.append("E2E_BAD_INPUT=1")
        elif arg == "--switch-pools":
            a["switch"] = True
            sets.append("E2E_SWITCH_AT=3")
        elif arg in valued or arg in ("--set", "--exiters"):
            if i + 1 >= len(argv):
                raise Die(f"{arg} wants a value (see --help)")
            val = argv[i + 1]
            i += 1
            if arg == "--set":
                sets.append(val)
            elif arg == "--exiters":
                if not val.isdigit():
                    raise Die(f"--exiters wants a number, got '{val}'")
                a["exiters"] = int(val)
                sets.append(f"E2E_EXITERS={val}")
            else:
                a[valued[arg]] = val
        else:
            raise Die(f"unknown argument '{arg}' (see --help)")
        i += 1
    a["sets"] = sets
    return SimpleNamespace(**a)


def settle(a):
    """Defaults that depend on other options, and their checks (as e2e.sh did)."""
    if a.debug:
        a.zpool, a.scan_console = "zspp", True
        a.append = "loglevel=5" + (f" {a.append}" if a.append else "")
    defaults = dict(mem="24M", rounds="1", tmo="900", name="e2e-debug") if a.debug else dict(mem="48M", rounds="2",
                                                                                               tmo="480")
    for k, v in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.zpool not in ("zspp", "zsmalloc", "zbud", "z3fold"):
        raise Die(f"unknown --zpool '{a.zpool}' (zspp, zsmalloc, zbud or z3fold)")
    a.mem_bytes = to_bytes(a.mem)
    if a.mem_bytes < 8 << 20:
        raise Die(f"--mem {a.mem} is too small (at least 8M)")
    a.pages = a.pages or str(3 * a.mem_bytes // 4096)
    if not a.pages.isdigit():
        raise Die(f"--pages wants a number, got '{a.pages}'")
    a.zswap_max = a.zswap_max or str(a.mem_bytes * 3 // 4)
    if not a.workdir:
        a.workdir = os.path.join(cache(), "e2e-debug", "zspp") if a.debug else os.path.join(cache(), "e2e", a.zpool)
    if (a.expect_fold or a.fold_worker) and a.zpool != "zspp":
        raise Die("--expect-fold and --fold-worker are for --zpool zspp")
    if a.fold_worker:
        if not a.fold_worker.isdigit() or int(a.fold_worker) < 100:
            raise Die(f"--fold-worker wants milliseconds >= 100, got '{a.fold_worker}'")
        a.sets.append(f"E2E_FOLD_INTERVAL_MS={a.fold_worker}" if a.expect_fold
                      else f"E2E_ZSPP_PARAMS=fold_interval_ms={a.fold_worker}")
    if a.expect_fold:
        a.sets += ["E2E_FOLD=1", "E2E_ZSWAP_WRITEBACK=0"]
        a.wargs = "-D 64 -P /tmp/e2e-fold" + (f" {a.wargs}" if a.wargs else "")
    for kv in a.sets:
        # Written into a shell file the guest sources, between double quotes.
        if not re.fullmatch(r"E2E_[A-Z0-9_]+=[^\"$`\\]*", kv):
            raise Die(f"bad --set '{kv}' (want E2E_NAME=VALUE, VALUE without quotes, $, ` or \\)")
    a.opts = Opts(zpool=a.zpool, badin=a.badin, switch=a.switch, exiters=a.exiters, expect_wb=a.expect_wb,
                  expect_fold=a.expect_fold, fold_worker=a.fold_worker, scan_console=a.scan_console,
                  workdir=a.workdir)
    return a


def keyvals(out):
    """KEY=VALUE lines (fetch-kernel.sh quotes values with printf %q)."""
    kv = {}
    for k, v in re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", out, re.M):
        try:
            kv[k] = shlex.split(v)[0] if v else ""
        except (ValueError, IndexError):
            kv[k] = v
    return kv


def debug_build(a):
    """--debug-kernel: zspp.ko, bzImage and modules of the debug kernel, or None."""
    out = subprocess.run([os.path.join(SCRIPTS, "build-debug-modules.sh"), "--no-kunit"], stdout=subprocess.PIPE,
                         text=True).stdout
    kv = keyvals(out)
    ko, bz, md = kv.get("ZSPP_KO", ""), kv.get("BZIMAGE", ""), kv.get("MODDIR", "")
    if not (os.path.isfile(ko) and os.path.isfile(bz) and os.path.isdir(md)):
        return None
    a.module, a.kimage, a.kmoddir = ko, bz, md
    return bz


def run(a):
    """Build the workload and the initramfs, boot; QEMU's exit status."""
    os.makedirs(a.workdir, exist_ok=True)
    extra, insmod = [], ""
    if a.zpool == "zspp":
        a.module = a.module or os.path.join(ROOT, "zspp.ko")
        if not os.path.isfile(a.module):
            raise Die(f"zspp module {a.module} not found: build it with 'make' at the repo top, or pass --module")
        extra.append(a.module)
        insmod = os.path.basename(a.module)[:-3] if a.module.endswith(".ko") else os.path.basename(a.module)
    elif a.zpool in ("zsmalloc", "z3fold"):
        if a.module:
            extra.append(a.module)
        insmod = a.zpool
    elif a.module:
        raise Die("--module makes no sense with --zpool zbud (built in)")
    log("building the workload")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o", os.path.join(a.workdir, "workload"),
                    os.path.join(ROOT, "tests/e2e/workload.c")], check=True)
    if a.kimage:
        if not os.path.isfile(a.kimage):
            raise Die(f"--kernel-image {a.kimage} not found")
        if a.kmoddir and not os.path.isdir(a.kmoddir):
            raise Die(f"--modules-dir {a.kmoddir} not found")
        vmlinuz, moddir = a.kimage, a.kmoddir
    else:
        # Its stderr (with "kernel: RELEASE" for make check) goes to ours.
        k = subprocess.run([os.path.join(SCRIPTS, "fetch-kernel.sh"), a.kernel], stdout=subprocess.PIPE, text=True)
        if k.returncode != 0:
            raise Die(f"scripts/fetch-kernel.sh {a.kernel} failed (rc={k.returncode})")
        kv = keyvals(k.stdout)
        vmlinuz, moddir = kv.get("VMLINUZ", ""), kv.get("MODDIR", "")
    conf = os.path.join(a.workdir, "e2e.conf")
    with open(conf, "w") as fh:
        fh.write(f'E2E_ZPOOL={a.zpool}\nE2E_INSMOD="{insmod}"\nE2E_COMPRESSOR={a.compressor}\n'
                 f"E2E_MAX_POOL_PERCENT={a.mpp}\nE2E_PAGES={a.pages}\nE2E_MEM_MAX={a.mem_bytes}\n"
                 f'E2E_ZSWAP_MAX={a.zswap_max}\nE2E_SEED={a.seed}\nE2E_WORKLOAD_ARGS="-g {a.rounds}'
                 + (f" {a.wargs}" if a.wargs else "") + '"\n')
        for kv in a.sets:
            k, _, v = kv.partition("=")
            fh.write(f'{k}="{v}"\n')
    mk = [os.path.join(SCRIPTS, "mkinitramfs.sh"), "-o", os.path.join(a.workdir, "initramfs.cpio.gz")]
    mk += ["-m", moddir] if moddir else []
    mk += ["-w", os.path.join(a.workdir, "workload"), "-c", conf] + extra
    initrd = subprocess.run(mk, stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    log(f"zpool={a.zpool} pages={a.pages} ({int(a.pages) * 4096 >> 20} MiB) cgroup memory.max={a.mem} "
        f"zswap.max={a.zswap_max}")
    # The guest prints its first E2E line right after mounting /proc: a boot
    # that has not done so in 300 s hung in the kernel's own start-up (seen
    # under TCG on a loaded host: CPU 0 stuck in swapper before /init, RCU stall
    # reports) and is booted again (qemu-run.sh --boot-timeout).
    q = [os.path.join(SCRIPTS, "qemu-run.sh"), "-k", vmlinuz, "-r", initrd, "-w", a.workdir, "-l",
         os.path.join(a.workdir, "console.log"), "-m", a.vm_mem, "-s", a.smp, "-d", "1G", "-d", "16M", "-t", a.tmo,
         "-a", f"loglevel=4 {a.append}"] + (["--echo"] if a.echo else []) + ["--init-marker", "^E2E[ -]",
                                                                              "--boot-timeout", "300"]
    return subprocess.run(q).returncode


def finish(a, r):
    """KTAP, then the closing line; the exit status."""
    r.ktap(sys.stdout)
    if a.name:
        print(f"{a.name}: {r.passed} passed, {r.failed} failed", flush=True)
    else:
        print(f"e2e {a.zpool}: {r.passed} assertions passed, {r.failed} failed", flush=True)
    return 1 if r.failed else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    a = settle(parse_args(argv))
    if a.check_only:
        if not os.path.isfile(a.check_only):
            raise Die(f"console log {a.check_only} not found")
        return finish(a, check_log(read_text(a.check_only), a.opts, 0))
    start = time.time()
    if a.debug and not debug_build(a):
        r = Results()
        r.fail("debug-build", "scripts/build-debug-modules.sh reported no zspp.ko/bzImage")
        return finish(a, r)
    qrc = run(a)
    console = os.path.join(a.workdir, "console.log")
    if a.no_check:
        with open(os.path.join(a.workdir, "qemu.rc"), "w") as fh:
            fh.write(f"{qrc}\n")
        log(f"run only (--no-check): qemu rc={qrc}, {time.time() - start:.0f}s; console log: {console}")
        return 0
    if not os.path.isfile(console):
        raise Die(f"console log {console} not found")
    r = check_log(read_text(console), a.opts, qrc)
    log(f"total {time.time() - start:.0f}s; console log: {console}")
    return finish(a, r)


if __name__ == "__main__":
    sys.exit(main())
