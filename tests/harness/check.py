# SPDX-License-Identifier: GPL-2.0
"""`make check`: every suite, in order, each logged to build/check/<stage>.log.

A stage reports results as "PASS: name" / "FAIL: name" lines, as one summary
line "[WORD: ]N passed, M failed" and/or as KTAP (from a "KTAP version 1" line
at column 0, harness.ktap: its leaf tests; a planned result that never came is
a failure). PASS:/FAIL: lines win over summary lines, summary lines over KTAP
(so every stage counts as scripts/check.sh counted it). A stage that exits non-zero without reporting a failure counts
as one failure. Last line: the totals. A stage that concerns a kernel logs
"kernel: RELEASE"; the summary shows it per stage.

Two lanes: after the host stages, the stages on the debug kernels (KUnit,
stress, the debug e2e runs, fault injection) and fresh-machine run in a second
lane beside those on the stock kernels, chroots and packages. Most of a QEMU
(TCG) run keeps one of the two cores busy, so the lanes overlap instead of
queueing (Documentation/testing-e2e.md has the times). The lanes share nothing
but flock-protected cache entries. The second lane's output is printed when it
ends.

Environment:
  ZSPP_CHECK_SERIAL=1       everything in one lane, one stage after the other
  ZSPP_CHECK_ONLY=a,b,...   only these stages (names as in the summary), in
                            their usual order and lanes; a stage that reads a
                            module path from an earlier stage's log reads the
                            log that stage left last time
  ZSPP_CACHE                the cache (default /var/cache/zspp)

python3 tests/harness/check.py [--list]   (scripts/check.sh runs it; or python3 -m harness.check
with tests/ on PYTHONPATH)
"""
import locale
import os
import re
import subprocess
import sys
import threading
import time

if __package__ in (None, ""):  # run as a file: tests/harness/check.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "harness"
    import harness  # noqa: F401
from . import ktap  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOGDIR = "build/check"

_PASS = re.compile(r"^PASS: ")
_FAIL = re.compile(r"^FAIL: ")
_SUMMARY = re.compile(r"^(?:[A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed")
_SHOWN = re.compile(r"^FAIL: |[1-9][0-9]* failed")
_KTAP = re.compile(r"^KTAP version 1\s*$")
# The zswap end-to-end test (tests/harness/e2e.py), as its stages run it: with
# the system's python3, as the other Python stages that boot QEMU.
E2E = ("/usr/bin/python3", "tests/harness/e2e.py")
# The peer tests (zsmalloc beside zspp, the same cases in both boots), likewise.
ZRAM_PEER = ("/usr/bin/python3", "tests/harness/zram_peer.py")
ZSWAP_PEER = ("/usr/bin/python3", "tests/harness/zswap_peer.py")
EXT_SUITES = ("/usr/bin/python3", "tests/harness/ext_suites.py")


def log_lines(data):
    """A log's lines as grep and sed see them (split at newlines only)."""
    text = data.decode("utf-8", errors="surrogateescape") if isinstance(data, bytes) else data
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def count(lines):
    """(passed, failed) a stage's log reports: its PASS:/FAIL: lines; without
    any, the sum of its summary lines (as scripts/check.sh counted); without
    those, its KTAP (from the first "KTAP version 1" at column 0)."""
    p = sum(1 for line in lines if _PASS.match(line))
    f = sum(1 for line in lines if _FAIL.match(line))
    if p + f:
        return p, f
    summaries = 0
    for line in lines:
        m = _SUMMARY.match(line)
        if m:
            summaries += 1
            p += int(m.group(1))
            f += int(m.group(2))
    if summaries:
        return p, f
    for i, line in enumerate(lines):
        if _KTAP.match(line):
            kp, kf, _ = ktap.counts(ktap.parse(lines[i:]))
            return kp, kf
    return 0, 0


def kernels(lines):
    """The stage's "kernel: X" values, sorted as sort -u does, space-separated."""
    ks = {line[len("kernel: "):] for line in lines if line.startswith("kernel: ")}
    try:
        return " ".join(sorted(ks, key=locale.strxfrm))
    except Exception:  # a value the locale cannot collate
        return " ".join(sorted(ks))


class Check:
    """One make check run: stages write build/check/<stage>.log and append to results.txt."""

    def __init__(self, only=None, logdir=LOGDIR, out=None):
        self.logdir = logdir
        self.results = os.path.join(logdir, "results.txt")
        self.only = only
        self.lock = threading.Lock()
        self.out = out or sys.stdout
        self.stopped = threading.Event()  # interrupted: start no more stages

    def stage(self, out, name, *argv, stdin=None):
        """Run one stage; print its header, failures and totals to out."""
        if self.only is not None and name not in self.only or self.stopped.is_set():
            return
        log = os.path.join(self.logdir, name + ".log")
        emit(out, f"=== {name}: {' '.join(argv)}")
        start = int(time.time())
        with open(log, "wb") as fh:
            try:
                rc = subprocess.call(list(argv), stdout=fh, stderr=subprocess.STDOUT, stdin=stdin)
            except OSError as e:
                fh.write(f"{argv[0]}: {e.strerror}\n".encode())
                rc = 126 if isinstance(e, PermissionError) else 127
        if rc < 0:  # killed by a signal: as the shell reports it
            rc = 128 - rc
        end = int(time.time())
        with open(log, "rb") as fh:
            lines = log_lines(fh.read())
        p, f = count(lines)
        if rc != 0 and f == 0:
            f = 1
            extra = f"FAIL: {name} exited {rc} without reporting a failure"
            with open(log, "ab") as fh:
                fh.write((extra + "\n").encode())
            lines.append(extra)
        shown = [line for line in lines if _SHOWN.search(line)][:20]
        for line in shown:
            emit(out, line)
        if rc != 0:
            for line in lines[-30:]:
                emit(out, line)
        k = kernels(lines)
        emit(out, f"=== {name}: {p} passed, {f} failed (rc={rc}, {end - start}s, log {log})"
                  + (f" kernel: {k}" if k else ""))
        # One line per stage, appended whole (both lanes write here).
        with self.lock, open(self.results, "a", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(f"{name}\t{p}\t{f}\t{end - start}\t{k}\n")

    def ko(self, stage):
        """The last KO= line of an earlier stage's log ("" without one)."""
        try:
            with open(os.path.join(self.logdir, stage + ".log"), "rb") as fh:
                kos = [line[3:] for line in log_lines(fh.read()) if line.startswith("KO=")]
        except OSError:
            return ""
        return kos[-1] if kos else ""


def emit(out, line):
    out.write(line + "\n")
    out.flush()


def stages_host(c, out):
    s = c.stage
    # Harness's own unit tests (tests/harness/test_*.py), KTAP.
    s(out, "harness", sys.executable, "tests/harness/selftest.py")
    # Script rules no run would catch reliably (scripts/lint.sh).
    s(out, "lint", "scripts/lint.sh")
    # The core's lock annotations, checked by clang -Wthread-safety -Werror, and
    # proof that dropping a lock from a path fails that build
    # (Documentation/locking.rst).
    s(out, "thread-safety", "scripts/thread-safety.sh")
    s(out, "module", "make", "module")
    # CONFIG_ZSPP_FOLD=y builds (in $ZSPP_CACHE/build/<release>-fold), each run
    # where its plain counterpart runs.
    s(out, "module-fold", "scripts/build-module.sh", "stock-6.1", "--fold")
    s(out, "host-test", "make", "-C", "tests/host", "test")
    # src/kernel/'s own C (bounce areas and CPU hotplug, the shim's glue) on the
    # host against a mock kernel, with sched points that force interleavings.
    s(out, "kernel-host", "make", "-C", "tests/kernel", "test")
    s(out, "fuzz", "make", "-C", "tests/host", "fuzz")
    # The core as built with CONFIG_ZSPP_FOLD=y (Documentation/folding.rst):
    # every host suite again plus the fold suite, and the fuzzer with its fold op.
    s(out, "host-test-fold", "make", "-C", "tests/host", "FOLD=1", "test")
    s(out, "fuzz-fold", "make", "-C", "tests/host", "FOLD=1", "fuzz")
    # The concurrent host tests under ThreadSanitizer, plain and fold
    # (scripts/tsan.sh): a race fails; accepted ones are ZSPP_RACY_READ.
    s(out, "tsan", "scripts/tsan.sh")


def lane_stock(c, out, stdin=None):
    def s(*a):
        c.stage(out, *a, stdin=stdin)
    cache = os.environ.get("ZSPP_CACHE") or "/var/cache/zspp"
    ko = os.path.join(ROOT, "zspp.ko")
    ko61fold = c.ko("module-fold")
    s("e2e-stock-6.1", *E2E, "--zpool", "zspp", "--module", ko, "--switch-pools", "--bad-input")
    # 6.1 zswap prefixes each object with its swap offset: the fold worker runs
    # through the whole test and folds nothing (Documentation/testing-e2e.md).
    s("e2e-stock-6.1-fold", *E2E, "--zpool", "zspp", "--module", ko61fold or "no-6.1-fold-build/zspp.ko",
      "--fold-worker", "200", "--workdir", f"{cache}/e2e-fold-6.1/zspp", "--name", "e2e-stock-6.1-fold")
    # Writeback with short-lived children exiting in the workload's cgroup: their
    # entries are invalidated while zswap's shrink worker evicts
    # (Documentation/zswap-contract.rst).
    s("e2e-writeback-6.1", *E2E, "--zpool", "zspp", "--module", ko, "--max-pool-percent", "2",
      "--expect-writeback", "--exiters", "12", "--workdir", f"{cache}/e2e-writeback/zspp", "--name", "e2e-writeback-6.1")
    # A tiny zspp vs zsmalloc micro benchmark, plain and CONFIG_ZSPP_FOLD=y
    # builds (Documentation/benchmarks.md): sanity only.
    s("bench-smoke", "scripts/bench.sh", "--smoke")
    # Real programs through zswap on zspp (bench/workloads/workloads.py --smoke):
    # python3 and sqlite3 on real data in a memory cgroup, outputs verified
    # against the same binaries' on the host; numbers parsed, no timing asserted.
    s("bench-workloads-smoke", "/usr/bin/python3", "bench/workloads/workloads.py", "--smoke")
    # zram on zspp (Documentation/zram.rst): the stock 6.1 zram.ko on Debian's
    # zsmalloc.ko and on zspp's, the kernel's own zram selftests side by side,
    # ext4 on /dev/zram0 with real files verified, discard, compact, reset,
    # zram as swap under the verified workload, mem_limit, writeback to a
    # backing device.
    s("zram-6.1", *ZRAM_PEER, "--ko", os.path.join(ROOT, "zsmalloc.ko"))
    # Debian's 6.12: the same sources built against its headers (in a separate
    # build directory), the verified workload, the kernel's own test_zswap with
    # zsmalloc and with zspp, and dkms for both kernels.
    s("module-6.12", "scripts/build-module.sh", "stock-6.12")
    ko612 = c.ko("module-6.12") or "no-6.12-build/zspp.ko"
    s("module-6.12-fold", "scripts/build-module.sh", "stock-6.12", "--fold")
    ko612fold = c.ko("module-6.12-fold") or "no-6.12-fold-build/zspp.ko"
    s("e2e-stock-6.12", *E2E, "--kernel", "stock-6.12", "--zpool", "zspp", "--module", ko612,
      "--workdir", f"{cache}/e2e-6.12/zspp", "--mem", "32M")
    # 64 page patterns repeated: fold zswap's pool with the workload parked, then
    # the background worker for the rest of the run.
    s("e2e-fold-6.12", *E2E, "--kernel", "stock-6.12", "--zpool", "zspp", "--module", ko612fold,
      "--workdir", f"{cache}/e2e-fold-6.12/zspp", "--mem", "32M", "--pages", "12288", "--expect-fold",
      "--fold-worker", "200", "--name", "e2e-fold-6.12")
    s("test-zswap-6.12", *ZSWAP_PEER, "--kernel", "stock-6.12", "--module", ko612)
    s("test-zswap-6.12-fold", *ZSWAP_PEER, "--kernel", "stock-6.12", "--module", ko612fold,
      "--zspp-params", "fold_interval_ms=200", "--workdir", f"{cache}/test-zswap-fold")
    s("dkms", "scripts/dkms-check.sh")
    # The Debian package zspp-dkms: built and lintian-checked (make deb), then
    # installed, upgraded to a second kernel and purged in a throwaway Debian 12
    # chroot (scripts/deb-check.sh; no QEMU). `make deb-check` runs both.
    s("deb", "make", "deb-check")
    # Debian 13 following trixie-backports, whose 7.x kernels have no zpool: the
    # package installed with 6.12 + 7.x headers, then the 7.x kernel, in a cached
    # trixie chroot (apt exits 0, dpkg --audit empty, dkms skips 7.x), the
    # no-zpool paths of zspp.service and zspp-enable, purge, and `make deb`
    # lintian-clean inside trixie (scripts/deb-backports.sh; no QEMU).
    s("deb-backports", "scripts/deb-backports.sh")
    # The same package in a Debian 12 system image (debootstrap, stock kernel,
    # apt, zspp-enable --boot; ext4 image) booted in QEMU with systemd: zswap on
    # zspp from the first boot, the workload verified through it, apt purge in
    # the booted guest, then a clean last boot on the default zpool
    # (scripts/deb-boot.sh). With zram-tools and zspp-enable --zram on: boot 1
    # has zram (and zswap with zpool=zsmalloc) on zspp's zsmalloc and runs
    # --zram off, boot 2 has the kernel's and purges (Documentation/zram.rst).
    s("deb-boot-12", "scripts/deb-boot.sh", "--dist", "bookworm")
    # Debian 13 (trixie)'s own 6.12 build, gcc-14: the module built in a cached
    # trixie chroot (scripts/trixie.sh: created in ~1.5-2 min cold, again when
    # trixie's headers move; never on the host), the workload and test_zswap
    # (from trixie's linux-source-6.12) on trixie's stock kernel, and dkms
    # install in the chroot with the installed CONFIG_ZSPP_FOLD=y module booted
    # under a small workload.
    s("module-deb13", "scripts/build-module.sh", "deb13-6.12")
    kodeb13 = c.ko("module-deb13") or "no-deb13-build/zspp.ko"
    s("module-deb13-fold", "scripts/build-module.sh", "deb13-6.12", "--fold")
    s("e2e-stock-deb13", *E2E, "--kernel", "deb13-6.12", "--zpool", "zspp", "--module", kodeb13,
      "--workdir", f"{cache}/e2e-deb13/zspp", "--mem", "24M", "--name", "e2e-stock-deb13")
    s("test-zswap-deb13", *ZSWAP_PEER, "--kernel", "deb13-6.12", "--module", kodeb13)
    s("dkms-deb13", "scripts/dkms-chroot.sh", "deb13-6.12")
    # The package's boot test on Debian 13 with its 6.12 kernel (scripts/deb-boot.sh).
    s("deb-boot-13", "scripts/deb-boot.sh", "--dist", "trixie")
    # Debian 13 on trixie-backports' 7.x kernel booted with the package (make
    # deb-boot, scripts/deb-boot.sh --dist trixie-backports: 20/0, ~5 min alone)
    # is not run here: make check's stock lane already takes most of CI's 90
    # minutes on 2 shared cores; deb-backports above covers apt, dkms and purge
    # on 7.x in a chroot on every run.


def lane_debug(c, out, stdin=None):
    def s(*a):
        c.stage(out, *a, stdin=stdin)
    cache = os.environ.get("ZSPP_CACHE") or "/var/cache/zspp"
    s("kunit-debug", "scripts/kunit.sh")
    s("kunit-debug-fold", "scripts/kunit.sh", "--fold")
    # The heavier fault runs are sized down here (full size: run the scripts by hand).
    s("stress-debug", "scripts/stress.sh", "--pages", "6144", "--rounds", "1")
    # zram on zspp's zsmalloc.ko under KASAN + lockdep: a zram.ko built from the
    # debug kernel's own tree (build-debug-modules.sh --zram), zram-peer's guest
    # with the cases this kernel can run (real data on the raw device, swap with
    # every page verified, the zram02 selftest) beside CPU hotplug and
    # zram's compact in a loop (scripts/zram-debug.py; 108-165 s at host loads of 6-10).
    s("zram-debug", "/usr/bin/python3", "scripts/zram-debug.py")
    # The same on a KASAN + lockdep + PREEMPT 6.12 kernel (kunit/debug-6.12.config,
    # linux-source-6.12; cached like the 6.1 one).
    s("kunit-debug-6.12", "scripts/kunit.sh", "--kernel", "6.12")
    s("kunit-debug-6.12-fold", "scripts/kunit.sh", "--kernel", "6.12", "--fold")
    s("stress-debug-6.12", "scripts/stress.sh", "--kernel", "6.12", "--pages", "6144", "--rounds", "1")
    # External suites with their own verification (stress-ng's memory/swap
    # stressors, the kernel's mm selftests) on both debug kernels, zswap on
    # zsmalloc then on zspp, beside CPU hotplug and compaction: every case that
    # passes with zsmalloc must pass with zspp (tests/harness/ext_suites.py).
    s("ext-suites", *EXT_SUITES, "--kernel", "6.1")
    s("ext-suites-6.12", *EXT_SUITES, "--kernel", "6.12")
    # The debug-kernel e2e runs with a low zswap pool limit, so KASAN and lockdep
    # watch writeback (zpool shrink -> evict) as well as store/load/free; sized
    # down (16M cgroup, 48M workload) for make check's time budget.
    s("e2e-writeback-debug", *E2E, "--debug-kernel", "--mem", "16M", "--workdir", f"{cache}/e2e-debug/writeback",
      "--max-pool-percent", "1", "--expect-writeback", "--name", "e2e-writeback-debug")
    # zspp vs zsmalloc with atomic allocation failures injected into the
    # workload (Documentation/reliability-faults.md).
    s("fault-e2e", "/usr/bin/python3", "tests/harness/fault_e2e.py", "--mem", "16M")
    # The README's path from nothing: a debootstrapped minimal Debian 12 with
    # only git and make, a clone, `make demo` in a chroot (scripts/fresh-machine.sh).
    s("fresh-machine", "scripts/fresh-machine.sh")


def all_stages():
    """Every stage's name, in order (host stages, then the stock lane, then the debug lane)."""
    names = []

    class Lister(Check):
        def stage(self, out, name, *argv, stdin=None):
            names.append(name)

        def ko(self, stage):
            return ""

    c = Lister()
    stages_host(c, None)
    lane_stock(c, None)
    lane_debug(c, None)
    return names


def summary(results, out, started):
    """Print the summary table and the totals; return the number of failures."""
    tp = tf = 0
    emit(out, "")
    emit(out, "=== summary")
    with open(results, encoding="utf-8", errors="surrogateescape") as fh:
        for row in fh.read().split("\n"):
            if not row:
                continue
            name, p, f, secs, k = (row.split("\t") + [""] * 5)[:5]
            p, f, secs = int(p), int(f), int(secs)
            emit(out, f"{name:<22} {p:5d} passed {f:5d} failed {secs:5d}s" + (f"  kernel: {k}" if k else ""))
            tp, tf = tp + p, tf + f
    emit(out, f"make check: {int(time.time()) - started}s")
    emit(out, f"{tp} passed, {tf} failed")
    return tf


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["--list"],):
        print("\n".join(all_stages()))
        return 0
    if argv:
        sys.stderr.write(__doc__)
        return 2
    try:
        locale.setlocale(locale.LC_COLLATE, "")
    except locale.Error:
        pass
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    os.chdir(ROOT)
    only = None
    if os.environ.get("ZSPP_CHECK_ONLY"):
        only = {n for n in os.environ["ZSPP_CHECK_ONLY"].split(",") if n}
        unknown = sorted(only - set(all_stages()))
        if unknown:
            sys.stderr.write(f"ZSPP_CHECK_ONLY: no stage named {', '.join(unknown)} (python3 -m harness.check --list)\n")
            return 2
    os.makedirs(LOGDIR, exist_ok=True)
    c = Check(only=only)
    open(c.results, "w").close()
    started = int(time.time())
    out = sys.stdout
    stages_host(c, out)
    if os.environ.get("ZSPP_CHECK_SERIAL", "0") == "1":
        lane_stock(c, out)
        lane_debug(c, out)
    else:
        emit(out, "=== lane debug: runs beside the stock lane; its output follows when it ends")
        lane_out = os.path.join(LOGDIR, "lane-debug.out")
        with open(lane_out, "w", encoding="utf-8", errors="surrogateescape") as fh:
            # As a shell's background job: stdin is /dev/null.
            t = threading.Thread(target=lane_debug, args=(c, fh, subprocess.DEVNULL), name="lane-debug")
            t.start()
            try:
                lane_stock(c, out)
            except BaseException:
                c.stopped.set()  # Ctrl-C: the debug lane ends with its current stage
                raise
            finally:
                t.join()
        emit(out, "=== lane debug")
        with open(lane_out, encoding="utf-8", errors="surrogateescape") as fh:
            out.write(fh.read())
            out.flush()
    return 1 if summary(c.results, out, started) else 0


if __name__ == "__main__":
    sys.exit(main())
