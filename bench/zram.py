#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""zram on real data, zspp's zsmalloc.ko against Debian's (`make bench-zram`).

One fresh QEMU boot per allocator of the same stock Debian 6.1 kernel
(fetch-kernel.sh stock-6.1) with its own zram.ko, once on Debian's zsmalloc.ko
and once on zspp's (scripts/build-module.sh stock-6.1 builds it next to
zspp.ko; Documentation/zram.rst), the same data in both: the first --mib MiB
of bench/mkrealdata.sh's blob (files of this Debian system: executables,
libraries, data, text, each from a page boundary). The guest is
tests/zram/guest-init.sh's raw case (CASES=raw): the blob written to
/dev/zram0 with dd bs=1M oflag=direct, mm_stat read, the device read back
with iflag=direct into tmpfs and compared with the blob byte for byte, reset;
--reps times in the same boot. After the last pass every other 256 KiB is
zeroed (zram frees those objects and keeps the pages as same-filled), then
`echo 1 > compact`, and the device is compared again.

Reported per allocator: mem_used_total per stored page (stored pages:
orig_data_size / 4096) after the writes, after the holes and after compact;
compr_data_size (zram's own sum of compressed sizes, the same data in both
boots); huge_pages; write and read MB/s of the raw device, each the median
of the --reps passes (and their min-max), with the host's 1-minute load at
the end of the boot. Timing under TCG is noisy (other QEMUs on the host move it
by tens of percent, more than the allocators differ): so a second boot per
allocator runs the same passes under QEMU -icount shift=0,sleep=off
(bench/qemu-icount.sh, one vCPU, as scripts/bench.sh's), where the guest's
clock counts instructions (1/100 s of /proc/uptime = 10^7): guest
instructions per 4 KiB page written and read, medians, independent of the
host's load (--no-icount leaves them out). Memory is exact in either boot.

Output: KTAP on stdout (one test per boot: every pass compared equal, the
guest's checks passed, no kernel splat), "bench-zram: N passed, M failed",
--out/zram.csv (one row per pass and per phase) and --out/zram.md (the table
of Documentation/benchmarks.md's zram section). The bench measures; the only
test is the verification.
"""

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "workloads"))
sys.path.insert(0, str(ROOT / "tests"))
from harness import judge  # noqa: E402
from workloads import kernel, zspp_module  # noqa: E402

MIB = 1 << 20
PAGE = 4096
# mm_stat's fields (Documentation/admin-guide/blockdev/zram.rst, 6.1).
MM = ["orig", "compr", "used", "limit", "used_max", "same", "compacted", "huge", "huge_since"]


def log(msg):
    print(f"bench-zram: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, text=True, **kw)


def real_data(workdir, mib):
    data = workdir / "data"
    run([HERE / "mkrealdata.sh", "--bytes", mib * MIB, "--out", data], stdout=subprocess.DEVNULL)
    blob = workdir / f"raw-{mib}.blob"
    with open(data / "blob", "rb") as src, open(blob, "wb") as out:
        out.write(src.read(mib * MIB))
    if blob.stat().st_size != mib * MIB:
        raise SystemExit(f"bench-zram: {data / 'blob'} holds less than {mib} MiB")
    return blob


def boot(kenv, alloc, zs, zram, blob, reps, workdir, icount=False):
    w = workdir / (alloc + ("-icount" if icount else ""))
    w.mkdir(parents=True, exist_ok=True)
    conf = w / "zram.conf"
    conf.write_text(f"ALLOC={alloc}\nPAGES=0\nCASES=raw\nSELFTESTS=''\nMODS=''\nRAW_REPS={reps}\nBG=0\n")
    initrd = w / "initramfs.cpio.gz"
    run([SCRIPTS / "mkinitramfs.sh", "-o", initrd, "-i", ROOT / "tests/zram/guest-init.sh", "-c", conf,
         "-f", f"{blob}:/raw.blob", zs, zram], stdout=subprocess.DEVNULL)
    con = w / "console.log"
    # RAM: the blob in the initramfs, its read-back copy and the expected
    # image in tmpfs, the pool.
    mem = 4 * blob.stat().st_size // MIB + 512
    log(f"{kenv['KREL']} {alloc}{' (-icount)' if icount else ''}: {blob.stat().st_size // MIB} MiB x {reps}, "
        f"guest {mem} MiB")
    env, smp = dict(os.environ), "2"
    if icount:  # guest time = instructions: /proc/uptime's 1/100 s are 10^7 instructions
        # One vCPU, as scripts/bench.sh's -icount boots: icount runs every vCPU
        # in one host thread, and 6.1 did not get past bringing up a second
        # one in 4 minutes (sleep=off).
        env["QEMU"], smp = str(HERE / "qemu-icount.sh"), "1"
    t0 = time.monotonic()
    rc = subprocess.run([str(SCRIPTS / "qemu-run.sh"), "-k", kenv["VMLINUZ"], "-r", str(initrd), "-w", str(w),
                         "-l", str(con), "-m", f"{mem}M", "-s", smp, "-t", "3600", "-a", "zswap.enabled=0",
                         "--init-marker", "ZRAM-INIT", "--boot-timeout", "300"], env=env).returncode
    load = os.getloadavg()[0]
    log(f"{alloc}: QEMU exit {rc} after {time.monotonic() - t0:.0f}s (host load {load:.2f})")
    (w / "qemu.rc").write_text(f"{rc}\n")
    (w / "load").write_text(f"{load:.2f}\n")
    clean = w / "console.txt"
    clean.write_bytes(con.read_bytes().replace(b"\r", b""))
    return clean


def parse(path):
    """The boot's passes, holes/compacted snapshots, guest checks and splats."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    lines = judge.guest_lines(text)  # kernel messages out, even from inside a line
    r = {"passes": [], "phases": {}, "fails": [], "done": "ZRAM-DONE" in lines,
         "splat": judge.splat_lines(text), "kernel": ""}
    for line in lines:
        if line.startswith("kernel: "):
            r["kernel"] = line[8:]
        m = re.match(r"ZB rep=(\d+) bytes=(\d+) write_cs=(\d+) read_cs=(\d+) mm_stat: (.*)$", line)
        if m:
            mm = dict(zip(MM, (int(x) for x in m.group(5).split())))
            r["passes"].append({"rep": int(m.group(1)), "bytes": int(m.group(2)), "write_cs": int(m.group(3)),
                                "read_cs": int(m.group(4)), **mm})
            continue
        m = re.match(r"ZB (holes|compacted) mm_stat: (.*)$", line)
        if m:
            r["phases"][m.group(1)] = dict(zip(MM, (int(x) for x in m.group(2).split())))
            continue
        m = re.match(r"ZT fail (\S+)(.*)", line)
        if m:
            r["fails"].append(m.group(1))
    return r


def mbs(nbytes, cs):
    return nbytes / MIB / (cs / 100) if cs > 0 else float("nan")


def per_page(mm):
    pages = mm["orig"] // PAGE
    return mm["used"] / pages if pages else float("nan")


def summary(alloc, r):
    p = r["passes"]
    w = [mbs(x["bytes"], x["write_cs"]) for x in p]
    rd = [mbs(x["bytes"], x["read_cs"]) for x in p]
    last = p[-1]
    return {
        "alloc": alloc, "reps": len(p), "stored_pages": last["orig"] // PAGE, "compr": last["compr"],
        "used": last["used"], "used_per_page": per_page(last), "huge": last["huge"],
        "holes_per_page": per_page(r["phases"]["holes"]) if "holes" in r["phases"] else float("nan"),
        "compacted_per_page": per_page(r["phases"]["compacted"]) if "compacted" in r["phases"] else float("nan"),
        "holes_used": r["phases"].get("holes", {}).get("used", 0),
        "compacted_used": r["phases"].get("compacted", {}).get("used", 0),
        "write_med": statistics.median(w), "write_min": min(w), "write_max": max(w),
        "read_med": statistics.median(rd), "read_min": min(rd), "read_max": max(rd),
        # Every pass stores the same data: the pool must come out the same.
        "used_spread": max(x["used"] for x in p) - min(x["used"] for x in p),
        "load": r.get("load", float("nan")),
    }


def instr_per_page(r):
    """Medians of an -icount boot's passes: guest instructions per 4 KiB page written and read."""
    p = r["passes"]
    w = statistics.median(x["write_cs"] * 1e7 / (x["bytes"] / PAGE) for x in p)
    rd = statistics.median(x["read_cs"] * 1e7 / (x["bytes"] / PAGE) for x in p)
    return w, rd


def markdown(rows):
    ref = next((s for s in rows if s["alloc"] == "zsmalloc"), None)
    out = ["| allocator | stored pages | compr_data_size | huge pages | mem_used_total | B/stored page | x zsmalloc "
           "| after holes B/page | after compact B/page | write MB/s median (min-max) | read MB/s median (min-max) "
           "| host load | write kinstr/page (icount) | read kinstr/page (icount) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in rows:
        x = s["used_per_page"] / ref["used_per_page"] if ref else float("nan")
        out.append(f"| {s['alloc']} | {s['stored_pages']:,} | {s['compr']:,} | {s['huge']:,} | {s['used']:,} | "
                   f"{s['used_per_page']:.1f} | {x:.3f} | {s['holes_per_page']:.1f} | "
                   f"{s['compacted_per_page']:.1f} | {s['write_med']:.1f} ({s['write_min']:.1f}-{s['write_max']:.1f}) | "
                   f"{s['read_med']:.1f} ({s['read_min']:.1f}-{s['read_max']:.1f}) | {s['load']:.2f} | "
                   f"{s.get('write_ipp', float('nan')) / 1e3:.1f} | {s.get('read_ipp', float('nan')) / 1e3:.1f} |")
    return "\n".join(out) + "\n"


FIELDS = ["alloc", "kernel", "clock", "phase", "rep", "bytes", "write_cs", "read_cs"] + MM


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--allocs", default="zsmalloc,zspp")
    ap.add_argument("--mib", type=int, default=64, help="real data per pass (MiB)")
    ap.add_argument("--reps", type=int, default=5, help="write/read passes per boot (>= 3: medians)")
    ap.add_argument("--no-icount", action="store_true", help="no second boot per allocator under -icount")
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("ZSPP_CACHE", "/var/cache/zspp"), "bench/zram"))
    ap.add_argument("--out", default=str(ROOT / "Documentation/benchmarks"), help="zram.csv, zram.md")
    ap.add_argument("--report-only", action="store_true", help="parse the last boots' logs again")
    args = ap.parse_args()
    if args.reps < 1:
        raise SystemExit("bench-zram: --reps wants 1 or more")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    allocs = args.allocs.split(",")
    for alloc in allocs:
        if alloc not in ("zsmalloc", "zspp"):
            raise SystemExit(f"bench-zram: allocators are zsmalloc and zspp, not {alloc}")
    clocks = [False] if args.no_icount else [False, True]
    if not args.report_only:
        kenv = kernel("6.1")
        moddir = Path(kenv["MODDIR"])
        stock_zs = next(moddir.glob("kernel/mm/zsmalloc.ko*"))
        stock_zram = next(moddir.glob("kernel/drivers/block/zram/zram.ko*"))
        zspp_zs = None
        if "zspp" in allocs:
            zspp_zs = Path(zspp_module("6.1", workdir)).parent / "zsmalloc.ko"
            if not zspp_zs.exists():
                raise SystemExit(f"bench-zram: no {zspp_zs} (Kbuild builds it for 6.1 with CONFIG_ZSMALLOC=m)")
        blob = real_data(workdir, args.mib)
    print("KTAP version 1")
    print(f"1..{len(allocs) * len(clocks)}")
    # The TCG-timed boots first, one after the other (the same host load for
    # both, as far as that goes), then the -icount ones.
    rows, byalloc, csvrows, failed, n = [], {}, [], 0, 0
    for icount in clocks:
        for alloc in allocs:
            n += 1
            tag = alloc + (" -icount" if icount else "")
            if args.report_only:
                path = workdir / (alloc + ("-icount" if icount else "")) / "console.txt"
            else:
                path = boot(kenv, alloc, stock_zs if alloc == "zsmalloc" else zspp_zs, stock_zram, blob, args.reps,
                            workdir, icount)
            r = parse(path) if path.exists() else {"passes": [], "phases": {}, "fails": ["no log"], "done": False,
                                                   "splat": [], "kernel": ""}
            try:
                r["load"] = float((path.parent / "load").read_text())
            except (OSError, ValueError):
                r["load"] = float("nan")
            ok = r["done"] and not r["fails"] and not r["splat"] and len(r["passes"]) == args.reps
            failed += not ok
            why = "" if ok else f" # fails={','.join(r['fails']) or '-'} done={r['done']} " \
                                f"passes={len(r['passes'])} splat={' | '.join(r['splat'])[:200]}"
            print(f"{'ok' if ok else 'not ok'} {n} zram {tag}: {len(r['passes'])} passes of "
                  f"{r['passes'][0]['bytes'] // MIB if r['passes'] else 0} MiB compared{why}", flush=True)
            if not r["passes"]:
                continue
            clock = "icount" if icount else "tcg"
            for p in r["passes"]:
                csvrows.append({"alloc": alloc, "kernel": r["kernel"], "clock": clock, "phase": "written", **p})
            for ph, mm in r["phases"].items():
                csvrows.append({"alloc": alloc, "kernel": r["kernel"], "clock": clock, "phase": ph, **mm})
            row = byalloc.get(alloc)
            if not icount:
                byalloc[alloc] = summary(alloc, r)
                rows.append(byalloc[alloc])
            elif row is not None:
                row["write_ipp"], row["read_ipp"] = instr_per_page(r)
                if r["passes"][-1]["used"] != row["used"]:
                    log(f"{alloc}: mem_used_total {r['passes'][-1]['used']} under -icount, {row['used']} without")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "zram.csv", "w", newline="") as f:
        wr = csv.DictWriter(f, FIELDS, extrasaction="ignore")
        wr.writeheader()
        wr.writerows(csvrows)
    md = markdown(rows)
    (out / "zram.md").write_text(md)
    sys.stderr.write(md)
    for s in rows:
        if s["used_spread"]:
            log(f"{s['alloc']}: mem_used_total differed between passes by {s['used_spread']} bytes")
    print(f"bench-zram: {n - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
