#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""zswap_peer.py [options]: the kernel's own zswap selftest as a peer test.

Extracts tools/testing/selftests/cgroup/test_zswap.c and its cgroup_util
helpers from Debian's linux-source-6.12 tarball (never stored in this repo),
builds them statically, and runs them in QEMU on the stock 6.12 kernel twice,
each in its own boot: zswap on zsmalloc (the reference), then on zspp.
For Debian 13's kernel (--kernel deb13-6.12) the test comes from trixie's own
linux-source-6.12 of the kernel's version (downloaded once with the private
trixie apt configuration, scripts/trixie.sh; only the selftest files are kept).
Prints the per-test results side by side, then KTAP (a failure's reason on a
"# name: why" line before its "not ok"):
  test_zswap NAME          passed with zsmalloc and with zspp
  test_zswap NAME          not ok: passed with zsmalloc, not with zspp
  test_zswap NAME # SKIP   did not pass with zsmalloc: nothing to compare
plus results for each boot (completed, zswap used that zpool and stored pages
in it, clean kernel log, with --zspp-params fold_interval_ms= the fold worker
ran), and last "test_zswap peer: N passed, M failed, K not compared".

  --kernel NAME     kernel for scripts/fetch-kernel.sh (default stock-6.12)
  --module PATH     zspp.ko for that kernel (default: built by
                    scripts/build-module.sh into $ZSPP_CACHE/build/<release>)
  --source TARBALL  kernel source (default /usr/src/linux-source-6.12.tar.xz;
                    for a Debian 13 kernel, trixie's linux-source-6.12)
  --vm-mem SIZE     guest RAM (default 1024M; test_no_kmem_bypass fills it)
  --timeout SECS    bound on each QEMU run (default 600)
  --workdir DIR     default $ZSPP_CACHE/test-zswap for stock-6.12, else
                    $ZSPP_CACHE/test-zswap-KERNEL (one subdirectory per zpool)
  --only ZPOOL      run one zpool only (zsmalloc or zspp); no comparison
  --zspp-params P   insmod parameters of zspp.ko (e.g. fold_interval_ms=200 with
                    a CONFIG_ZSPP_FOLD module: background folding during the
                    tests, then also assert that fold passes ran)
  --check-only      no build, no boot: judge the consoles a previous run left in
                    WORKDIR/<zpool>/console.log (and its retries' ZPOOL-runN
                    newer than the first boot's)

A test that passes with zsmalloc but not with zspp is retried in up to
ZSPP_TZ_RETRIES (default 2) more zspp boots, and the table says so.

python3 tests/harness/zswap_peer.py ... (or python3 -m
harness.zswap_peer with tests/ on PYTHONPATH). The judging is
judge_boot() and compare(); tests/harness/test_zswap_peer.py holds them to
small synthetic logs.
"""
import filecmp
import glob
import os
import re
import subprocess
import sys
import time

if __package__ in (None, ""):  # run as a file: tests/harness/zswap_peer.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "harness"
    import harness  # noqa: F401
from . import judge, peer  # noqa: E402
from .peer import Die, field, log, nonzero  # noqa: E402

peer.Prog.name = "zswap-peer"
ROOT = peer.ROOT
SCRIPTS = peer.SCRIPTS
ZPOOLS = ("zsmalloc", "zspp")


def test_names(source):
    """The tests in the order test_zswap runs them: T(name) entries of tests[]."""
    out, inside = [], False
    for line in peer.lines_of(source):
        if not inside and re.match(r"^} tests\[\] = {", line):
            inside = True
        if inside:
            m = re.match(r"^\s*T\(([a-z0-9_]*)\),", line)
            if m:
                out.append(m.group(1))
            if re.match(r"^};", line):
                inside = False
    return out


def test_result(lines, t):
    """pass, fail, skip or missing: test T's last KTAP line in a console."""
    r = re.compile(r"^(not )?ok [0-9]+ (# [A-Z]+ )?" + re.escape(t) + "$")
    line = ([x for x in lines if r.search(x)] or [""])[-1]
    if not line:
        return "missing"
    if line.startswith("not ok"):
        return "fail"
    if "# SKIP" in line:
        return "skip"
    return "pass"


def judge_boot(r, text, zp, lb, zparams, tests, qrc=0, klog_path=None):
    """One boot's console (carriage returns removed): its checks into r; {test: result}."""
    lines = judge.lines_of(text)
    errs = ";".join(peer.grep(lines, r"^TZ-ERROR"))
    lastline = lines[-1][:100] if lines else ""
    r.check("TZ-END" in lines and peer.grep(lines, r"^TZ-EXIT ") and not errs, f"test_zswap {lb} boot completed",
            f"qemu rc={qrc}" + (f"; {errs}" if errs else "") + f"; last line: {lastline}")
    params = peer.last(lines, r"^ZSWAP-PARAMS-AFTER ")
    r.check(field(params, "zpool") == zp and field(params, "enabled") == "Y", f"test_zswap {lb} zswap used {zp}",
            params or "no ZSWAP-PARAMS-AFTER line")
    peak = peer.last(lines, r"^PEAK ")
    r.check(nonzero(field(peak, "stored_pages")) and (zp != "zspp" or nonzero(field(peak, "zspp_objects"))),
            f"test_zswap {lb} pool stored pages", peak or "no PEAK line")
    klog = peer.dmesg_of(peer.Log(text))
    if klog_path:
        peer.write_text(klog_path, "".join(x + "\n" for x in klog))
    # The OOM killer's report (its Call Trace included) is the kernel's
    # answer to the memory the tests exhaust on purpose (test_no_kmem_bypass
    # raises min_free_kbytes under a filling child), not a splat: the test it
    # kills fails and is judged (and retried) as a test. It is shown, and
    # every other line is still scanned (judge.splat_lines oom_reports).
    ooms = sum(1 for x in klog if "invoked oom-killer" in x)
    if ooms:
        killed = "|".join(m.group(0) for x in klog for m in re.finditer(r"Out of memory: Killed process [0-9]* \([^)]*\)", x))
        r.note(f"test_zswap {lb}: the OOM killer ran {ooms} time(s): {killed}")
    text_k = "".join(x + "\n" for x in klog)
    bad = "|".join(s[:160] for s in judge.splat_lines(text_k, oom_reports=True))
    r.check(not bad, f"test_zswap {lb} dmesg clean", bad)
    r.note(f"{lb}: {peak}; {peer.first(lines, r'^# Totals')}")
    if zp == "zspp" and "fold_interval_ms=" in zparams:
        zs = peer.last(lines, r"^ZSPP ")
        r.check(nonzero(field(zs, "fold_passes")), f"test_zswap {lb} fold worker ran",
                f"fold_passes={field(zs, 'fold_passes')}" if zs else "no ZSPP summary after the run")
        r.note(f"{lb} folding: fold_passes={field(zs, 'fold_passes')} pages_folded={field(zs, 'pages_folded')} "
               f"fold_cow={field(zs, 'fold_cow')} (pool after the run)")
    return {t: test_result(lines, t) for t in tests}


def mismatches(result, tests):
    """Tests that passed with zsmalloc and not (on any boot) with zspp."""
    return [t for t in tests if result["zsmalloc"].get(t) == "pass" and not result["zspp"].get(t, "").startswith("pass")]


def merge_retry(result, retry, run):
    """A retry boot's results: a pass where the first boots had none shows as pass@RUN."""
    for t, v in retry.items():
        if v == "pass" and result["zspp"].get(t) != "pass":
            result["zspp"][t] = f"pass@{run}"


def table(result, tests, zpools, krel):
    out = [f"{f'test_zswap ({krel})':<34}" + "".join(f" {zp:<9}" for zp in zpools)]
    for t in tests:
        out.append(f"{t:<34}" + "".join(f" {result[zp].get(t, ''):<9}" for zp in zpools))
    return "\n".join(x.rstrip() for x in out)


def compare(r, result, tests, zpools):
    """Per test: with zspp as with zsmalloc (one zpool: it must pass there)."""
    if len(zpools) == 2:
        ref_pass = 0
        for t in tests:
            ref, z = result["zsmalloc"].get(t, ""), result["zspp"].get(t, "")
            if ref == "pass":
                ref_pass += 1
                if z == "pass":
                    r.pass_(f"test_zswap {t}")
                elif z.startswith("pass@"):
                    r.pass_(f"test_zswap {t}", f"zspp passed on boot {z[len('pass@'):]}, not on the first")
                else:
                    r.fail(f"test_zswap {t}", f"passes with zsmalloc, {z} with zspp")
            else:
                r.skip(f"test_zswap {t}", f"{ref} with zsmalloc, {z} with zspp: nothing to compare")
        # A comparison in which the reference passes nothing proves nothing.
        r.check(ref_pass > 0, "test_zswap reference passes tests", "no test passed with zsmalloc",
                f"{ref_pass} of {len(tests)} with zsmalloc")
    else:
        zp = zpools[0]
        for t in tests:
            v = result[zp].get(t, "")
            if v == "pass":
                r.pass_(f"test_zswap {t} on {zp}")
            elif v == "skip":
                r.skip(f"test_zswap {t} on {zp}", "skipped by the test")
            else:
                r.fail(f"test_zswap {t} on {zp}", v)


# ------------------------------------------------------------ options, source, build, boots

def parse_args(argv):
    a = dict(kernel="stock-6.12", module="", tarball="", vm_mem="1024M", tmo="600", workdir="", only="", zparams="",
             check_only=False)
    valued = {"--kernel": "kernel", "--module": "module", "--source": "tarball", "--vm-mem": "vm_mem",
              "--timeout": "tmo", "--workdir": "workdir", "--only": "only", "--zspp-params": "zparams"}
    peer.parse_options(argv, __doc__, a, valued, {"--check-only": "check_only"})
    if not a["workdir"]:
        a["workdir"] = os.path.join(peer.cache(), "test-zswap" if a["kernel"] == "stock-6.12"
                                    else f"test-zswap-{a['kernel']}")
    if a["only"] not in ("",) + ZPOOLS:
        raise Die(f"--only wants zsmalloc or zspp, not '{a['only']}'")
    a["zpools"] = [a["only"]] if a["only"] else list(ZPOOLS)
    if not a["tmo"].isdigit():
        raise Die(f"--timeout wants seconds, not '{a['tmo']}'")
    return a


def selftests(a, krel):
    """(tools/testing/selftests directory, its source's identity, its stamp file)."""
    workdir = a["workdir"]
    if not a["tarball"] and "+deb13-" in krel:
        # Debian 13's own linux-source-6.12, the version of the kernel under test
        # (scripts/trixie.sh downloads and keeps only the selftest files).
        sel = peer.sh(["bash", "-c", '. "$1/lib.sh" && . "$1/trixie.sh" && trixie_selftests "$2"', "_", SCRIPTS, krel],
                      f"trixie_selftests {krel}").strip()
        stamp = os.path.normpath(os.path.join(sel, "../../../../.extracted"))
        srcid = peer.read_text(stamp).strip()
        # For the reader: is the test the one bookworm's 6.12 source has?
        pat = os.path.join(peer.cache(), "test-zswap/src-*/linux-source-6.12/tools/testing/selftests/cgroup/test_zswap.c")
        for other in glob.glob(pat):
            same = filecmp.cmp(other, os.path.join(sel, "cgroup/test_zswap.c"), shallow=False)
            log(f"test_zswap.c of {srcid} is {'identical to' if same else 'differs from'} the host's (bookworm) "
                "linux-source-6.12")
        return sel, srcid, stamp
    tarball = a["tarball"]
    if not tarball:
        found = sorted(glob.glob("/usr/src/linux-source-6.12.tar.*"))
        if not found:
            raise Die("no /usr/src/linux-source-6.12.tar.*: apt-get install linux-source-6.12 (scripts/install-deps.sh)")
        tarball = found[0]
    if not os.path.isfile(tarball):
        raise Die(f"kernel source {tarball} not found")
    top = re.sub(r"\.tar\..*$", "", os.path.basename(tarball))
    # Keyed by the tarball's identity: a new Debian upload extracts afresh.
    st = os.stat(tarball)
    key = f"{st.st_size}-{int(st.st_mtime)}"
    src = os.path.join(workdir, f"src-{key}")
    sel = os.path.join(src, top, "tools/testing/selftests")
    if not os.path.isfile(os.path.join(src, ".extracted")):
        log(f"extracting test_zswap and its helpers from {tarball}")
        for d in glob.glob(os.path.join(workdir, "src-*")) + [src]:
            subprocess.run(["rm", "-rf", d])
        os.makedirs(src)
        peer.sh(["tar", "-xaf", tarball, "-C", src, "--wildcards", f"{top}/tools/testing/selftests/kselftest.h",
                 f"{top}/tools/testing/selftests/clone3/*", f"{top}/tools/testing/selftests/cgroup/*"],
                f"extracting from {tarball}")
        open(os.path.join(src, ".extracted"), "w").close()
    return sel, f"{tarball} {key}", os.path.join(src, ".extracted")


def build(workdir, sel, srcid, stamp):
    """WORKDIR/test_zswap, rebuilt when its source changes (a new upload, or
    another source for this workdir)."""
    b = os.path.join(workdir, "test_zswap")
    try:
        built_from = peer.read_text(b + ".src").strip()
    except OSError:
        built_from = ""
    if not os.access(b, os.X_OK) or os.path.getmtime(b) < os.path.getmtime(stamp) or built_from != srcid:
        log(f"building test_zswap (static) from {srcid}")
        peer.sh(["gcc", "-static", "-O2", "-Wall", "-pthread", f"-I{sel}", "-o", b + ".tmp",
                 os.path.join(sel, "cgroup/test_zswap.c"), os.path.join(sel, "cgroup/cgroup_util.c")], "building test_zswap")
        os.replace(b + ".tmp", b)
        peer.write_text(b + ".src", srcid + "\n")
    return b


def boot(a, kernel, zp, wd, binary):
    """One boot with zswap on ZP in WD; QEMU's exit status."""
    os.makedirs(wd, exist_ok=True)
    peer.write_text(os.path.join(wd, "tz.conf"), f'TZ_ZPOOL={zp}\nTZ_INSMOD="{"zspp" if zp == "zspp" else ""}"\n'
                    f'TZ_ZSPP_PARAMS="{a["zparams"]}"\nTZ_TIMEOUT={int(a["tmo"]) - 60}\n')
    initrd = peer.mkinitramfs(["-o", os.path.join(wd, "initramfs.cpio.gz"), "-m", kernel["MODDIR"],
                               "-i", os.path.join(ROOT, "tests/test-zswap/guest-init.sh"), "-c",
                               os.path.join(wd, "tz.conf"), "-f", f"{binary}:/bin/test_zswap"]
                              + ([a["module"]] if zp == "zspp" else []))
    os.chmod(binary, 0o755)
    return peer.qemu_run(["-k", kernel["VMLINUZ"], "-r", initrd, "-w", wd, "-l", os.path.join(wd, "console.log"),
                          "-m", a["vm_mem"], "-s", "2", "-d", "1G", "-t", a["tmo"], "-a", "loglevel=4",
                          "--init-marker", "^TZ[ -]"])


def judge_dir(r, a, wd, zp, lb, tests, qrc=0):
    """Judge the console in WD (console.clean.log and dmesg.log written beside it)."""
    try:
        text = peer.read_text(os.path.join(wd, "console.log")).replace("\r", "")
    except OSError:
        text = ""
    peer.write_text(os.path.join(wd, "console.clean.log"), text)
    return judge_boot(r, text, zp, lb, a["zparams"], tests, qrc, os.path.join(wd, "dmesg.log"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    peer.stdout_surrogates()
    a = parse_args(argv)
    start = time.time()
    workdir = a["workdir"]
    os.makedirs(workdir, exist_ok=True)
    # The kernel first: its release decides which source the test comes from.
    kernel = peer.fetch_kernel(a["kernel"])
    krel = kernel.get("KREL", "")
    sel, srcid, stamp = selftests(a, krel)
    if not os.path.isfile(os.path.join(sel, "cgroup/test_zswap.c")):
        raise Die(f"no test_zswap.c in {srcid}")
    tests = test_names(peer.read_text(os.path.join(sel, "cgroup/test_zswap.c")))
    if not tests:
        raise Die("found no tests[] in test_zswap.c")
    log(f"test_zswap: {len(tests)} tests: {' '.join(tests)}")
    zpools = a["zpools"]
    binary = ""
    if not a["check_only"]:
        binary = build(workdir, sel, srcid, stamp)
        if "zspp" in zpools:
            if not a["module"]:
                a["module"] = os.path.join(peer.cache(), "build", krel, "zspp.ko")
                # build-module.sh is incremental: quick when nothing changed.
                with open(os.path.join(workdir, "build-module.log"), "w") as fh:
                    if subprocess.run([os.path.join(SCRIPTS, "build-module.sh"), a["kernel"]], stdout=fh,
                                      stderr=subprocess.STDOUT).returncode:
                        raise Die(f"building zspp.ko for {krel} failed (see {workdir}/build-module.log)")
            if not os.path.isfile(a["module"]):
                raise Die(f"zspp module {a['module']} not found")

    r = peer.Results(note=log)
    result = {}
    for zp in zpools:
        log(f"test_zswap on {zp} ({krel})")
        wd = os.path.join(workdir, zp)
        qrc = 0 if a["check_only"] else boot(a, kernel, zp, wd, binary)
        result[zp] = judge_dir(r, a, wd, zp, zp, tests, qrc)

    # Some tests are timing-sensitive under TCG (test_no_kmem_bypass needs kswapd to
    # push a fifth of RAM into zswap within two seconds; zsmalloc is near the line
    # too). A test that passed with zsmalloc and not with zspp gets up to
    # $ZSPP_TZ_RETRIES more zspp boots; a pass on one shows as "pass@RUN" in the table.
    retries = int(os.environ.get("ZSPP_TZ_RETRIES") or 2)
    if len(zpools) == 2:
        run = 1
        first = os.path.join(workdir, "zspp", "console.log")
        while run <= retries and mismatches(result, tests):
            run += 1
            wd = os.path.join(workdir, f"zspp-run{run}")
            if a["check_only"]:
                # Only a retry of the run judged: a console newer than the first boot's.
                con = os.path.join(wd, "console.log")
                if not (os.path.isfile(con) and os.path.getmtime(con) >= os.path.getmtime(first)):
                    break
                qrc = 0
            else:
                log(f"retry: zspp boot {run} for {' '.join(mismatches(result, tests))}")
                qrc = boot(a, kernel, "zspp", wd, binary)
            merge_retry(result, judge_dir(r, a, wd, "zspp", f"zspp boot {run}", tests, qrc), run)

    print()
    print(table(result, tests, zpools, krel))
    print()
    compare(r, result, tests, zpools)
    log(f"total {time.time() - start:.0f}s; logs in {workdir}/{{{','.join(zpools)}}}/console.log")
    r.ktap(sys.stdout)
    print(f"test_zswap peer: {r.passed} passed, {r.failed} failed, {r.skipped} not compared", flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
