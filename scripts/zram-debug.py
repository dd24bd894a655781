#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""zram on zspp under KASAN + lockdep (make check's `zram-debug` stage).

One QEMU boot (TCG, 2 CPUs) of the 6.1 debug kernel (scripts/build-debug-kernel.sh:
KASAN, lockdep, PREEMPT, DEBUG_VM; cached) with zspp's zsmalloc.ko and a zram.ko
built from the debug kernel's own drivers/block/zram as an external module
(scripts/build-debug-modules.sh --zram: the debug config has no CONFIG_ZRAM).
The guest is tests/zram/guest-init.sh, zram_peer.py's, with the zram cases this
kernel can run (it has no ext4):
  - raw: real data (bench/mkrealdata.sh: files of this system) written to
    /dev/zram0 with O_DIRECT and read back, every byte compared; every other
    256 KiB zeroed (zram frees those objects), compact, compared again; reset;
  - swap: zram as swap under a memory cgroup, tests/e2e/workload.c verifying
    every page it reads back;
  - the kernel's own zram02 selftest (zram swap), from the debug kernel's tree;
  - mm_stat against zspp's own counters after each step;
while a loop in the guest takes CPU 1 offline and online and writes 1 to every
/sys/block/zram*/compact (paused around the mm_stat comparisons only). Checked
on the host: every guest case ok, the loop ran both, 2 CPUs, the guest
finished, KASAN's and lockdep's boot banners (the kernel was watching), and
the kernel log free of splats (tests/harness/judge.py: KASAN, lockdep, WARN,
BUG, ...).

Output: KTAP, then "zram-debug: N passed, M failed". Exit 1 on a failure.

  --raw-mib N     real data for the raw case (default 16)
  --pages N       swap workload pages (default 6144: 24 MiB through --swap-mem)
  --swap-mem S    the swap case's memory.max (default 16M)
  --timeout SECS  QEMU bound (default 600)
  --workdir DIR   default $ZSPP_CACHE/zram-debug
  --echo          copy the guest console to stderr
"""
import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(ROOT / "tests"))
from harness import judge  # noqa: E402

MIB = 1 << 20


def log(msg):
    print(f"[zram-debug] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, text=True, **kw)


def keyvals(out):
    return dict(re.findall(r"^(\w+)=(.*)$", out, re.M))


def real_data(cache, mib, dest):
    """The first MIB MiB of bench/mkrealdata.sh's blob (cached in CACHE/data) at DEST."""
    data = cache / "data"
    run([ROOT / "bench/mkrealdata.sh", "--bytes", mib * MIB, "--out", data], stdout=subprocess.DEVNULL)
    with open(data / "blob", "rb") as src, open(dest, "wb") as out:
        out.write(src.read(mib * MIB))
    if dest.stat().st_size != mib * MIB:
        raise SystemExit(f"zram-debug: {data / 'blob'} holds less than {mib} MiB")


def guest_files(kdir):
    """mkinitramfs.sh -f arguments: bash and its libraries (the selftest), zram's selftests."""
    files = ["-f", "/bin/bash:/bin/bash", "-f", "/lib64/ld-linux-x86-64.so.2:/lib64/ld-linux-x86-64.so.2"]
    ldd = run(["ldd", "/bin/bash"], capture_output=True).stdout
    for lib in sorted(set(re.findall(r"=> (/\S+)", ldd))):
        files += ["-f", f"{lib}:{lib}"]
    kst = Path(kdir) / "tools/testing/selftests/zram"
    for f in sorted(kst.glob("*.sh")):
        files += ["-f", f"{f}:/selftests/zram/{f.name}"]
    if not (kst / "zram02.sh").exists():
        raise SystemExit(f"zram-debug: no zram selftests in {kst}")
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw-mib", type=int, default=16)
    ap.add_argument("--pages", type=int, default=6144)
    ap.add_argument("--swap-mem", default="16M")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("ZSPP_CACHE", "/var/cache/zspp"), "zram-debug"))
    ap.add_argument("--echo", action="store_true")
    args = ap.parse_args()
    start = time.monotonic()
    w = Path(args.workdir)
    w.mkdir(parents=True, exist_ok=True)

    mods = keyvals(run([SCRIPTS / "build-debug-modules.sh", "--no-kunit", "--zram"], stdout=subprocess.PIPE).stdout)
    zsm, zram, bz, kdir = (mods.get(k, "") for k in ("ZSPP_ZSMALLOC_KO", "ZRAM_KO", "BZIMAGE", "KDIR"))
    if not (zsm and zram and bz and kdir):
        raise SystemExit(f"zram-debug: build-debug-modules.sh reported no zsmalloc.ko/zram.ko/bzImage: {mods}")
    krel = (Path(kdir) / "include/config/kernel.release").read_text().strip()
    print(f"kernel: {krel} (debug build)", flush=True)

    blob = w / "raw.blob"
    real_data(w, args.raw_mib, blob)
    run(["gcc", "-static", "-O2", "-Wall", "-o", w / "workload", ROOT / "tests/e2e/workload.c"])
    conf = w / "zram.conf"
    conf.write_text(f"ALLOC=zspp\nPAGES={args.pages}\nCASES='raw swap selftests'\nSELFTESTS=zram02\nMODS=''\n"
                    f"SWAP_MEM={args.swap_mem}\nRAW_REPS=1\nBG=1\n")
    initrd = w / "initramfs.cpio.gz"
    run([SCRIPTS / "mkinitramfs.sh", "-o", initrd, "-i", ROOT / "tests/zram/guest-init.sh", "-w", w / "workload",
         "-c", conf, "-f", f"{blob}:/raw.blob"] + guest_files(kdir) + [zsm, zram], stdout=subprocess.DEVNULL)

    con = w / "console.log"
    log(f"booting {bz} with {zsm} and {zram}")
    t0 = time.monotonic()
    rc = subprocess.run([str(SCRIPTS / "qemu-run.sh"), "-k", bz, "-r", str(initrd), "-w", str(w), "-l", str(con),
                         "-m", "1024M", "-s", "2", "-t", str(args.timeout), "--init-marker", "ZRAM-INIT",
                         "--boot-timeout", "120"] + (["--echo"] if args.echo else [])).returncode
    log(f"QEMU exit {rc} after {time.monotonic() - t0:.0f}s")
    text = con.read_bytes().decode("utf-8", errors="surrogateescape").replace("\r", "")
    (w / "console.txt").write_text(text, errors="surrogateescape")
    lines = judge.guest_lines(text)  # kernel messages out, even from inside a line
    for line in lines:
        if re.match(r"(ZB |ZBG |mm_stat|swap:|WORKLOAD|cpus_online|  zram02: zram02 :)", line):
            print(f"  {line}", file=sys.stderr)

    results = []  # (ok, name, detail)
    results.append((rc == 0, "qemu-exit-0", f"rc={rc}"))
    results.append(("ZRAM-DONE" in lines, "guest-completed", f"no ZRAM-DONE (console: {w / 'console.txt'})"))
    results.append(("cpus_online: 0-1" in lines, "two-cpus-online", "want 'cpus_online: 0-1'"))
    # The kernel watched: KASAN and lockdep announce themselves at boot.
    results.append(("kasan: KernelAddressSanitizer initialized" in text, "kasan-on", "no KASAN banner"))
    results.append(("Lock dependency validator:" in text, "lockdep-on", "no lockdep banner"))
    seen = {}
    for line in lines:
        m = re.match(r"ZT (ok|fail) (\S+)(.*)", line)
        if m:
            ok, name, detail = m.group(1) == "ok", m.group(2), m.group(3).strip()
            # A case that runs twice (mm_stat at two steps) fails if either failed.
            if name in seen:
                i = seen[name]
                results[i] = (results[i][0] and ok, name, results[i][2] if not results[i][0] else detail)
            else:
                seen[name] = len(results)
                results.append((ok, name, detail))
    # The cases that must have run (a guest that stopped early reports fewer).
    for need in ("load", "raw-written-read-back-equal", "raw-read-back-after-holes-and-compact",
                 "swap-workload-verified", "selftest-zram02", "bg-cpu-hotplug-ran", "bg-compact-ran"):
        if need not in seen:
            results.append((False, need, "never reported"))
    splat = judge.splat_lines(text, max_lines=5)
    results.append((not splat, "no-kernel-splat", " | ".join(splat)[:300]))

    print("KTAP version 1")
    print(f"1..{len(results)}")
    failed = 0
    for i, (ok, name, detail) in enumerate(results, 1):
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {i} {name}" + (f" # {detail}" if detail and not ok else ""))
    print(f"zram-debug: {len(results) - failed} passed, {failed} failed ({time.monotonic() - start:.0f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
