#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""ext_suites.py [options]: external swap-heavy suites with their own
verification, on a KASAN + lockdep + PREEMPT debug kernel
(scripts/build-debug-kernel.sh), with zswap on zsmalloc and then on zspp,
side by side, the same inputs in both boots:
  - stress-ng from Debian's archive (its memory/swap stressors with --verify:
    vm with every method, --vm-keep and --page-in, mmap, mremap, memfd
    (shmem), pageswap (MADV_PAGEOUT), madvise, malloc), each bounded by
    --timeout; a case passes when stress-ng exits 0 and reports a successful
    run (it exits non-zero when a stressor's verification fails);
  - the kernel's own mm selftests of the debug kernel's source
    (tools/testing/selftests/vm on 6.1, .../mm on 6.12), built statically:
    those that run in this minimal guest and touch swap (the debug config has
    no THP, hugetlbfs, KSM, NUMA, userfaultfd or networking: compaction_test,
    migration, ksm_tests, transhuge-stress, map_populate (socketpair) and
    mrelease_test cannot run): cow (6.12 only: COW after fork with pages
    swapped out by MADV_PAGEOUT), madv_populate, mremap_test (6.1 only, -t 8:
    each test's pattern checked over 8 MiB), mremap_dontunmap; each KTAP
    "ok"/"not ok" line is a case, a test without KTAP lines one case by its
    exit status (4: skipped). They run beside a background stress-ng vm
    (--verify) in the same cgroup, so their pages are pushed out meanwhile.
Everything runs in a memory cgroup (memory.max --mem, memory.zswap.max
--zswap-max; swap on a 1 GiB virtio disk) while the guest
(tests/ext-suites/guest-init.sh) loops CPU 1 offline/online, compact_memory,
zspp's debugfs compact and drop_caches=2 (every slab shrinker: zsmalloc's and
zspp's compaction shrinkers). After the cases: swapoff (every entry loaded
back through the allocator), dmesg.

Prints the results side by side, per suite and allocator (passed, failed,
skipped, pages zswap stored: the zswpout delta), then KTAP (a failure's reason
on a "# name: why" line before its "not ok"):
  ext NAME            passed with zsmalloc and with zspp
  ext NAME            not ok: passed with zsmalloc, not with zspp
  ext NAME # SKIP     did not pass with zsmalloc: nothing to compare
plus per boot: completed, 2 CPUs, zswap on that zpool, zswap stored pages,
hotplug and compaction ran, swapoff, no kernel splat (the OOM killer's report
is tolerated and counted); last line "ext-suites[-6.12]: N passed, M failed".

  --kernel 6.1|6.12   debug kernel (default 6.1)
  --only ZPOOL        zsmalloc or zspp only (no comparison)
  --mem SIZE          cgroup memory.max (default 32M)
  --zswap-max SIZE    cgroup memory.zswap.max (default 24M)
  --secs N            stress-ng --timeout per case (default 10; vm, mremap,
                      pageswap and malloc, which loop many times in it: half)
  --timeout SECS      QEMU bound per boot (default 900)
  --workdir DIR       default $ZSPP_CACHE/ext-suites/run-<kernel>
  --echo              copy the guest console to stderr
  --check-only        no builds, no boots: judge the consoles a previous run
                      left in WORKDIR/<zpool>/console.log against its
                      WORKDIR/ext-cases
Downloads (.debs) and the selftest builds are cached under
$ZSPP_CACHE/ext-suites, keyed by the stress-ng version and the kernel source.

python3 tests/harness/ext_suites.py ... (or python3 -m harness.ext_suites with
tests/ on PYTHONPATH). The judging is case_results(), judge_boot() and
compare(); tests/harness/test_ext_suites.py holds them to small synthetic logs.
"""
import fcntl
import filecmp
import glob
import os
import re
import shutil
import subprocess
import sys
import time

if __package__ in (None, ""):  # run as a file: tests/harness/ext_suites.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "harness"
    import harness  # noqa: F401
from . import judge, peer  # noqa: E402
from .peer import Die, field, log, nonzero  # noqa: E402

peer.Prog.name = "ext-suites"
ROOT = peer.ROOT
SCRIPTS = peer.SCRIPTS
ZPOOLS = ("zsmalloc", "zspp")
SPLAT_NAME = "kernel log has no splat (KASAN, lockdep, WARN, BUG)"


# ------------------------------------------------------------ the cases

def case_lines(series, secs):
    """KIND NAME ARGS lines (tests/ext-suites/guest-init.sh). Sizes: the cgroup
    holds --mem; every stressor's working set is above it. Timeouts: mmap, memfd
    and madvise do one or two bogo ops in --secs under TCG + KASAN (one
    iteration of each instance), so they get all of it; the stressors that
    loop many times in it (vm: ~90000 ops in 20 s, pageswap ~3400 in 10 s,
    malloc ~180, mremap ~12) run half as long, with the same checks on every op."""
    half = (secs + 1) // 2
    out = [f"sng vm --vm 2 --vm-bytes 32M --vm-keep --vm-method all --verify --page-in --timeout {secs} --metrics-brief",
           f"sng mmap --mmap 2 --mmap-bytes 32M --verify --page-in --timeout {secs} --metrics-brief",
           f"sng mremap --mremap 2 --mremap-bytes 24M --verify --page-in --timeout {half} --metrics-brief",
           f"sng memfd --memfd 1 --memfd-bytes 48M --memfd-fds 16 --verify --timeout {secs} --metrics-brief",
           f"sng pageswap --pageswap 2 --verify --timeout {half} --metrics-brief",
           f"sng madvise --madvise 2 --verify --page-in --timeout {secs} --metrics-brief",
           f"sng malloc --malloc 2 --malloc-bytes 4M --malloc-max 32 --malloc-touch --verify --timeout {half} "
           "--metrics-brief",
           "bg vm-beside-kst --vm 1 --vm-bytes 40M --vm-keep --vm-method all --verify --metrics-brief"]
    for t in kst_names(series):
        out.append(f"kst {t} -t 8" if t == "mremap_test" else f"kst {t}")
    return out


def kst_names(series):
    """6.12's mremap_test adds a case with a 40 MiB preamble of random bytes
    (incompressible: zswap refuses them, they go to disk) that alone outlasts
    the case timeout (150 s) in the 32M cgroup under TCG + KASAN: 6.1 only."""
    return ["madv_populate", "mremap_test", "mremap_dontunmap"] if series == "6.1" else [
        "cow", "madv_populate", "mremap_dontunmap"]


def parse_cases(text):
    """(case names in order, {name: kind}) of an ext-cases file."""
    names, kind = [], {}
    for line in peer.lines_of(text):
        f = line.split()
        if len(f) >= 2 and f[0] in ("sng", "kst", "bg"):
            names.append(f[1])
        if len(f) >= 2:
            kind[f[1]] = f[0]
    return names, kind


class Verdicts:
    """Results per zpool and case key, over both boots: res[zp][key] = pass |
    fail | skip, why[zp][key] = the first failure line, keys in the order
    first seen, sums[zp][case] = (p, f, s, zswpout, secs, pswpout)."""

    def __init__(self):
        self.res, self.why, self.sums, self.keys = {}, {}, {}, []

    def add(self, zp, key, r, why=""):
        self.res.setdefault(zp, {})[key] = r
        if why:
            self.why.setdefault(zp, {})[key] = why
        if key not in self.keys:
            self.keys.append(key)


_KTAP_LINE = re.compile(r"^(not )?ok [0-9]+ ")


def case_results(v, zp, lines, cases, kind):
    """Fill v from the case lines of a console: EXT-RC CASE rc=.. and the
    case's own output, "@CASE "-prefixed."""
    for c in cases:
        rcline = peer.last(lines, f"^EXT-RC {c} ")
        rc = field(rcline, "rc")
        prefix = f"@{c} "
        out = [line[len(prefix):] if line.startswith(prefix) else line for line in peer.grep(lines, f"^@{c} ")]
        count = {"pass": 0, "fail": 0, "skip": 0}

        def add(key, r, why=""):
            v.add(zp, key, r, why)
            count[r if r in ("pass", "fail") else "skip"] += 1

        ktap = [line for line in out if _KTAP_LINE.match(line)]
        if kind.get(c) == "kst" and ktap:
            for line in ktap:
                n = re.sub(r"^(not )?ok ([0-9]+) .*", r"\2", line)
                key = f"kst {c} #{n} " + re.sub(r"^(not )?ok [0-9]+ (# [A-Z]+ )?", "", line)[:70]
                if line.startswith("not ok"):
                    add(key, "fail", line)
                elif "# SKIP" in line:
                    add(key, "skip")
                else:
                    add(key, "pass")  # ok, ok # XFAIL
            # A crash or a timeout after its last line.
            if rc not in ("0", "1", "4"):
                add(f"kst {c} exit", "fail", f"exit status {rc or 'none'}")
        elif kind.get(c) == "kst":
            if rc == "0":
                add(f"kst {c}", "pass")
            elif rc == "4":
                add(f"kst {c}", "skip")
            else:
                first = peer.first(out, r"(?i)fail|error")[:120]
                add(f"kst {c}", "fail", f"exit status {rc or 'none'}: {first}")
        else:
            key = f"stress-ng {c}" + (" (beside the selftests)" if kind.get(c) == "bg" else "")
            if rc == "0" and any("successful run completed" in line for line in out):
                add(key, "pass")
            else:
                first = peer.first(out, r"fail:|error:|verif|mismatch|unexpected|does not contain")[:140]
                add(key, "fail", f"exit status {rc or 'none'}: {first}")
        v.sums.setdefault(zp, {})[c] = (count["pass"], count["fail"], count["skip"], field(rcline, "zswpout"),
                                        field(rcline, "secs"), field(rcline, "pswpout"))


def sed_range(lines, begin, end):
    """sed -n '/^BEGIN$/,/^END$/p': every line from a BEGIN line to the next
    END (to the last line when none follows)."""
    out, inside = [], False
    for line in lines:
        if inside:
            out.append(line)
            inside = line != end
        elif line == begin:
            out.append(line)
            inside = True
    return out


def without_range(lines, begin, end):
    """sed '/^BEGIN$/,/^END$/d'."""
    out, inside = [], False
    for line in lines:
        if not inside and line == begin:
            inside = True
            continue
        if inside:
            if line == end:
                inside = False
            continue
        out.append(line)
    return out


def lead_int(s):
    """awk's $4 + 0: the leading number of a field, 0 without one."""
    m = re.match(r"\s*([0-9]+)", s or "")
    return int(m.group(1)) if m else 0


def judge_boot(r, v, zp, text, cases, kind, qrc=0, wd=None):
    """One boot's console (carriage returns removed): its checks into r, its
    cases into v. With wd, dmesg.log and console.kernel.log are written there."""
    lines = judge.lines_of(text)
    b = f"ext {zp}:"
    errs = ";".join(peer.grep(lines, r"^EXT-ERROR"))
    lastline = lines[-1][:100] if lines else ""
    r.check(qrc == 0 and "EXT-END" in lines and not errs, f"{b} guest completed",
            f"qemu rc={qrc}; {errs} last line: {lastline}")
    r.check(bool(peer.grep(lines, r"^EXT begin .* cpus_online=0-1$")), f"{b} 2 CPUs online",
            "; ".join(peer.grep(lines, r"^EXT begin")))
    line = peer.last(lines, r"^EXT zpool=")
    r.check(field(" " + line, "zpool") == zp and field(line, "enabled") == "Y", f"{b} zswap uses {zp}",
            line or "no EXT zpool= line")
    case_results(v, zp, lines, cases, kind)
    bg = peer.last(lines, r"^EXT-BG ")
    total = sum(lead_int(v.sums[zp][c][3]) for c in cases)
    r.check(total > 0 and nonzero(field(bg, "peak_stored_pages")), f"{b} zswap stored pages",
            f"zswpout over the cases {total}; {bg or 'no EXT-BG line'}",
            f"zswpout {total}, peak stored_pages {field(bg, 'peak_stored_pages')}")
    r.check(all(nonzero(field(bg, k)) for k in ("hotplugs", "compacts", "shrinks")),
            f"{b} CPU hotplug, compaction and shrinkers ran alongside", bg or "no EXT-BG line",
            bg[len("EXT-BG "):])
    sw = peer.last(lines, r"^EXT swapoff ")
    r.check(field(sw, "rc") == "0" and field(sw, "stored_pages") == "0", f"{b} swapoff loaded every entry back",
            sw or "no EXT swapoff line", sw[len("EXT swapoff "):])
    # The dmesg dump (its ring buffer may have dropped early lines) and the
    # console's kernel lines (loglevel=5: warnings and worse; the cases' own
    # lines left out), which are all there is when the guest died.
    klog = sed_range(lines, "DMESG-BEGIN", "DMESG-END")
    kcon = without_range([x for x in lines if not x.startswith("@")], "DMESG-BEGIN", "DMESG-END")
    if wd:
        peer.write_text(os.path.join(wd, "dmesg.log"), "".join(x + "\n" for x in klog))
        peer.write_text(os.path.join(wd, "console.kernel.log"), "".join(x + "\n" for x in kcon))
    ooms = sum(1 for x in kcon if "invoked oom-killer" in x)
    if ooms:
        killed = "|".join(m.group(0) for x in kcon
                          for m in re.finditer(r"[Oo]ut of memory: Killed process [0-9]* \([^)]*\)", x))
        r.note(f"ext {zp}: the OOM killer ran {ooms} time(s) (its reports are not splats): {killed}")
    bad = (judge.splat_lines("".join(x + "\n" for x in klog), oom_reports=True, max_lines=20)
           + judge.splat_lines("".join(x + "\n" for x in kcon), oom_reports=True, max_lines=20))[:20]
    r.check(not bad, f"{b} {SPLAT_NAME}", "\n".join([bad[0][:160]] + ["    " + x for x in bad]) if bad else "")
    for x in peer.grep(lines, r"^(ZSPP |VMSTAT )"):
        r.note(f"ext {zp}: {x}")


def table(v, cases, zpools, krel):
    out = [f"per suite ({krel}, debug; passed/failed/skipped cases, zswpout = pages zswap stored, pswpout = pages "
           "written to disk, guest seconds):",
           f"{'suite':<20}" + "".join(f" | {zp + ' p/f/s zswpout pswpout secs':<38}" for zp in zpools)]
    for c in cases:
        row = f"{c:<20}"
        for zp in zpools:
            p, f, s, z, t, w = v.sums.get(zp, {}).get(c, ("", "", "", "", "", ""))
            cell = f"{p}/{f}/{s} {z or '?'} {w or '?'} {t or '?'}s"
            row += f" | {cell:<38}"
        out.append(row.rstrip())
    return "\n".join(out)


def compare(r, v, zpools):
    """Per case key: with zspp as with zsmalloc (one zpool: it must pass there)."""
    if len(zpools) == 2:
        ref_pass = 0
        for k in v.keys:
            ref = v.res.get("zsmalloc", {}).get(k, "missing")
            z = v.res.get("zspp", {}).get(k, "missing")
            wz, wr = v.why.get("zspp", {}).get(k, ""), v.why.get("zsmalloc", {}).get(k, "")
            if ref == "pass":
                ref_pass += 1
                r.check(z == "pass", f"ext {k}", f"passes with zsmalloc, {z} with zspp" + (f": {wz}" if wz else ""))
            else:
                r.skip(f"ext {k}", f"{ref} with zsmalloc" + (f" ({wr})" if wr else "") + f", {z} with zspp")
        r.check(ref_pass > 0, "ext reference passes cases", "no case passed with zsmalloc",
                f"{ref_pass} of {len(v.keys)} with zsmalloc")
    else:
        zp = zpools[0]
        for k in v.keys:
            res = v.res.get(zp, {}).get(k, "")
            if res == "pass":
                r.pass_(f"ext {k} on {zp}")
            elif res == "skip":
                r.skip(f"ext {k} on {zp}", "skipped by the test")
            else:
                r.fail(f"ext {k} on {zp}", v.why.get(zp, {}).get(k, "") or res)


# ------------------------------------------------------------ options, inputs, boots

def parse_args(argv):
    a = dict(series="6.1", only="", mem="32M", zmax="24M", secs="10", tmo="900", workdir="", echo=False,
             check_only=False)
    valued = {"--kernel": "series", "--only": "only", "--mem": "mem", "--zswap-max": "zmax", "--secs": "secs",
              "--timeout": "tmo", "--workdir": "workdir"}
    peer.parse_options(argv, __doc__, a, valued, {"--echo": "echo", "--check-only": "check_only"})
    if a["series"] not in ("6.1", "6.12"):
        raise Die(f"--kernel 6.1 or 6.12, not '{a['series']}'")
    if a["only"] not in ("",) + ZPOOLS:
        raise Die(f"--only wants zsmalloc or zspp, not '{a['only']}'")
    if not a["secs"].isdigit():
        raise Die(f"--secs wants a number, not '{a['secs']}'")
    a["zpools"] = [a["only"]] if a["only"] else list(ZPOOLS)
    a["tag"] = "ext-suites" if a["series"] == "6.1" else f"ext-suites-{a['series']}"
    a["cache"] = os.path.join(peer.cache(), "ext-suites")
    a["workdir"] = a["workdir"] or os.path.join(a["cache"], f"run-{a['series']}")
    return a


def locked(path):
    fh = open(path, "w")
    fcntl.flock(fh, fcntl.LOCK_EX)
    return fh


def stress_ng(cache):
    """mkinitramfs.sh -f arguments: Debian's stress-ng and every library it
    loads, from the .debs of its dependency closure (extracted, never
    installed), keyed by version."""
    if not shutil.which("apt-get"):
        raise Die("'apt-get' not found: install it with 'apt-get install -y apt'")

    def candidate():
        out = subprocess.run(["apt-cache", "policy", "stress-ng"], stdout=subprocess.PIPE, text=True).stdout
        m = re.search(r"^ *Candidate: (.*)$", out, re.M)
        return m.group(1) if m else ""

    ver = candidate()
    if ver in ("", "(none)"):
        if subprocess.run(["apt-get", "update", "-qq"], stdout=sys.stderr).returncode:
            log("warning: apt-get update failed")
        ver = candidate()
    if ver in ("", "(none)"):
        raise Die("apt knows no stress-ng package")
    sng = os.path.join(cache, "stress-ng", ver)
    with locked(os.path.join(cache, ".lock-stress-ng")):
        if not os.path.isfile(os.path.join(sng, ".ready")):
            log(f"fetching stress-ng {ver} and its libraries into {sng}")
            shutil.rmtree(sng, ignore_errors=True)
            os.makedirs(os.path.join(sng, "debs"))
            os.makedirs(os.path.join(sng, "root"))
            deps = peer.sh(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                            "--no-breaks", "--no-replaces", "--no-enhances", "stress-ng"], "apt-cache depends")
            pkgs = sorted({x for x in peer.lines_of(deps) if x and not x.startswith(" ") and not x.startswith("<")})
            dl = ["apt-get", "download", "-q"] + pkgs
            if subprocess.run(dl, cwd=os.path.join(sng, "debs"), stdout=sys.stderr).returncode:
                log("warning: apt-get download failed; running 'apt-get update' and retrying")
                subprocess.run(["apt-get", "update", "-qq"], stdout=sys.stderr)
                if subprocess.run(dl, cwd=os.path.join(sng, "debs"), stdout=sys.stderr).returncode:
                    raise Die("apt-get download of stress-ng's closure failed")
            for d in sorted(glob.glob(os.path.join(sng, "debs", "*.deb"))):
                peer.sh(["dpkg", "-x", d, os.path.join(sng, "root")], f"dpkg -x {d}")
            open(os.path.join(sng, ".ready"), "w").close()
    sroot = os.path.join(sng, "root")
    ldso = os.path.join(sroot, "lib64/ld-linux-x86-64.so.2")
    if not (os.access(os.path.join(sroot, "usr/bin/stress-ng"), os.X_OK) and os.path.exists(ldso)):
        raise Die(f"no stress-ng or loader in {sroot}")
    # The libraries as the extracted loader resolves them (nothing from the host).
    listed = peer.sh([ldso, "--library-path", f"{sroot}/lib/x86_64-linux-gnu:{sroot}/usr/lib/x86_64-linux-gnu",
                      "--list", os.path.join(sroot, "usr/bin/stress-ng")], "listing stress-ng's libraries")
    libs = re.findall(r"^\s*(\S+) => (/\S+) \(.*$", listed, re.M)
    if len(libs) <= 5:
        raise Die("could not list stress-ng's libraries")
    files = ["-f", f"{sroot}/usr/bin/stress-ng:/usr/bin/stress-ng", "-f", f"{ldso}:/lib64/ld-linux-x86-64.so.2"]
    for name, path in libs:
        if "/" in name:
            continue  # the loader itself
        if not path.startswith(sroot + "/"):
            raise Die(f"stress-ng's {name} resolved outside its closure: {path}")
        files += ["-f", f"{path}:/lib/x86_64-linux-gnu/{name}"]
    log(f"stress-ng {ver}: {len(libs)} libraries")
    return files


def selftests(cache, series, kdir):
    """mkinitramfs.sh -f arguments: the mm selftests of the debug kernel's
    tree, built statically (again when the command or linebuf.c changes)."""
    sub = "vm" if series == "6.1" else "mm"
    sel = f"{kdir}/tools/testing/selftests"
    kbin = f"{cache}/kselftest/{os.path.basename(kdir)}"
    os.makedirs(kbin, exist_ok=True)
    with locked(f"{kbin}/.lock"):
        open(f"{kbin}/local_config.h", "w").close()  # cow.c's optional liburing: off
        # stdout line-buffered into the guest's pipe: a test killed by its
        # timeout still shows how far it got.
        peer.write_text(f"{kbin}/linebuf.c.new", "#include <stdio.h>\n__attribute__((constructor)) static void "
                        "ext_linebuf(void) { setvbuf(stdout, NULL, _IOLBF, 0); }\n")
        if os.path.isfile(f"{kbin}/linebuf.c") and filecmp.cmp(f"{kbin}/linebuf.c.new", f"{kbin}/linebuf.c",
                                                               shallow=False):
            os.remove(f"{kbin}/linebuf.c.new")
        else:
            os.replace(f"{kbin}/linebuf.c.new", f"{kbin}/linebuf.c")
        for t in kst_names(series):
            cmd = ["gcc", "-static", "-O2", "-Wall", "-U_FORTIFY_SOURCE", f"-I{kbin}", f"-I{sel}", f"-I{sel}/{sub}",
                   "-isystem", f"{kdir}/tools/include/uapi", "-o", f"{kbin}/{t}.tmp", f"{sel}/{sub}/{t}.c",
                   f"{sel}/{sub}/vm_util.c"]
            if os.path.isfile(f"{sel}/{sub}/thp_settings.c"):
                cmd.append(f"{sel}/{sub}/thp_settings.c")
            cmd += [f"{kbin}/linebuf.c", "-lrt", "-lpthread", "-lm"]
            try:
                built_with = peer.read_text(f"{kbin}/{t}.cmd").rstrip("\n")
            except OSError:
                built_with = ""
            if (os.access(f"{kbin}/{t}", os.X_OK) and built_with == " ".join(cmd)
                    and os.path.getmtime(f"{kbin}/{t}") >= os.path.getmtime(f"{kbin}/linebuf.c")):
                continue
            log(f"building selftest {sub}/{t} (static) from {kdir}")
            with open(f"{kbin}/{t}.log", "w") as fh:
                if subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT).returncode:
                    sys.stderr.write(peer.read_text(f"{kbin}/{t}.log"))
                    raise Die(f"building selftest {t} failed")
            os.replace(f"{kbin}/{t}.tmp", f"{kbin}/{t}")
            peer.write_text(f"{kbin}/{t}.cmd", " ".join(cmd) + "\n")
    files = []
    for t in kst_names(series):
        files += ["-f", f"{kbin}/{t}:/kst/{t}"]
    return files


def boot(a, zp, mods, files):
    """One boot with zswap on ZP; QEMU's exit status."""
    wd = os.path.join(a["workdir"], zp)
    os.makedirs(wd, exist_ok=True)
    insmod, extra = "", []
    if zp == "zspp":
        insmod, extra = "zspp", [mods["ZSPP_KO"]]
    elif os.path.isfile(os.path.join(mods["MODDIR"], "zsmalloc.ko")):
        insmod = "zsmalloc"  # 6.1: a module, as on Debian
    peer.write_text(os.path.join(wd, "ext.conf"), f'EXT_ZPOOL={zp}\nEXT_INSMOD="{insmod}"\nEXT_MEM={a["mem"]}\n'
                    f'EXT_ZSWAP_MAX={a["zmax"]}\nEXT_CASE_TIMEOUT={int(a["secs"]) * 2 + 120}\n')
    peer.mkinitramfs(["-o", os.path.join(wd, "initramfs.cpio.gz"), "-m", mods["MODDIR"],
                      "-i", os.path.join(ROOT, "tests/ext-suites/guest-init.sh"),
                      "-f", f"{wd}/ext.conf:/etc/ext.conf", "-f", f"{a['workdir']}/ext-cases:/etc/ext-cases"]
                     + files + extra)
    return peer.qemu_run(["-k", mods["BZIMAGE"], "-r", os.path.join(wd, "initramfs.cpio.gz"), "-w", wd,
                          "-l", os.path.join(wd, "console.log"), "-m", "1024M", "-s", "2", "-d", "1G",
                          "-t", a["tmo"], "-a", "loglevel=5", "--init-marker", "^EXT ", "--boot-timeout", "300"],
                         a["echo"])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    peer.stdout_surrogates()
    a = parse_args(argv)
    start = time.time()
    os.makedirs(a["workdir"], exist_ok=True)
    cases_file = os.path.join(a["workdir"], "ext-cases")
    krel, mods, files = "", {}, []
    if not a["check_only"]:
        os.makedirs(a["cache"], exist_ok=True)
        out = subprocess.run([os.path.join(SCRIPTS, "build-debug-modules.sh"), "--kernel", a["series"], "--no-kunit"],
                             stdout=subprocess.PIPE, text=True)
        if out.returncode:
            raise Die(f"module build for the {a['series']} debug kernel failed")
        mods = peer.keyvals(out.stdout)
        if not (os.path.isfile(mods.get("ZSPP_KO", "")) and os.path.isfile(mods.get("BZIMAGE", ""))
                and os.path.isdir(mods.get("KDIR", ""))):
            raise Die("build-debug-modules.sh reported no zspp.ko/bzImage")
        krel = peer.read_text(os.path.join(mods["KDIR"], "include/config/kernel.release")).strip()
        print(f"kernel: {krel} (debug build)", flush=True)
        files = stress_ng(a["cache"]) + selftests(a["cache"], a["series"], mods["KDIR"])
        peer.write_text(cases_file, "".join(x + "\n" for x in case_lines(a["series"], int(a["secs"]))))
    try:
        cases, kind = parse_cases(peer.read_text(cases_file))
    except OSError:
        raise Die(f"no {cases_file}: nothing to judge (--check-only after a run)")
    r, v = peer.Results(note=log), Verdicts()
    for zp in a["zpools"]:
        log(f"external suites on {zp} ({krel or 'debug kernel'}, debug)")
        t0 = time.time()
        qrc = 0 if a["check_only"] else boot(a, zp, mods, files)
        wd = os.path.join(a["workdir"], zp)
        try:
            text = peer.read_text(os.path.join(wd, "console.log")).replace("\r", "")
        except OSError:
            text = ""
        peer.write_text(os.path.join(wd, "console.clean.log"), text)
        judge_boot(r, v, zp, text, cases, kind, qrc, wd)
        log(f"{zp} boot: {time.time() - t0:.0f}s")
    print()
    print(table(v, cases, a["zpools"], krel or "?"))
    print()
    compare(r, v, a["zpools"])
    log(f"total {time.time() - start:.0f}s; consoles in {a['workdir']}/{{{','.join(a['zpools'])}}}/console.log")
    r.ktap(sys.stdout)
    print(f"{a['tag']}: {r.passed} passed, {r.failed} failed", flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
