#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The scale curve (`make bench-scale`): bytes per stored page against pool size.

The real-data end to end of `make bench` (bench/realdata.c, guest side
bench/realdata-init.sh and bench/rd-snap.sh) at pool sizes a real machine has:
about 10^4, 10^5 and 10^6 stored pages (--pages), each size one fresh QEMU boot
per kernel and allocator with the same pages. The pages are real files of this
Debian system (bench/mkrealdata.sh: executables, libraries, data and text,
round robin), one blob for the largest size whose prefix the smaller sizes use;
at 10^6 pages that is 6 GiB of files (the fill plus the half stored again
after the churn), so the blob is a virtio disk here, not part of the initramfs,
and the guest's RAM and swap disk grow with the size.

Per boot: fill (N pages copied into a memory cgroup and pushed out through
zswap with memory.reclaim), every page read back and compared with the blob,
churn (every other 256 KiB of the fill freed, N/2 more pages stored), the
shrinkers run (zsmalloc's and zspp's compaction), every page left compared
again. At each measuring point the guest prints zswap's counters, the
allocator's slab caches and the kmalloc delta (booted with slab_nomerge).

Reported per kernel, allocator and size, after the fill and after churn +
compaction: bytes per stored page of the pool's pages alone and of pages +
the allocator's metadata (its own caches + the kmalloc delta), next to the
floor (mean compressed size + an 8-byte handle: what an allocator with no
rounding, no part-full pages and no metadata but the handle would hold);
the fill and read-back times. Output: KTAP (one test per boot: every page
verified), a CSV, a Markdown table and a plot (B/stored page against pool size,
log x) in --out. The bench measures; the only test is the verification.
"""

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "workloads"))
import report_acct  # noqa: E402  (bench/report_acct.py: the realdata parser)
# The stock kernel and zspp.ko built for it, as the workload bench gets them.
from workloads import kernel, zspp_module  # noqa: E402

CHUNK = 256 << 10  # realdata.c frees and verifies in 256 KiB chunks
PAGE = 4096


def log(msg):
    print(f"scale: {msg}", file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def sizes(pages):
    """Fill bytes (a whole number of 256 KiB chunks) and the bytes stored after the churn."""
    a = max(CHUNK, pages * PAGE // CHUNK * CHUNK)
    return a, a // 2


def boot(k, kenv, alloc, ko, pages, blob, rdbin, workdir):
    """One boot: realdata on the first A + B bytes of the blob. Returns the console log's path."""
    a, b = sizes(pages)
    w = workdir / f"{k}-{alloc}-{pages}"
    w.mkdir(parents=True, exist_ok=True)
    zpool, params = alloc.split("-")[0], ""
    if alloc.startswith("zspp-c"):
        params = f"chain_size={alloc[6:]}"
    conf = w / "rd.conf"
    conf.write_text(f'RD_ZPOOL={zpool}\nRD_ZSPP_PARAMS="{params}"\nRD_BYTES_A={a}\nRD_BYTES_B={b}\n'
                    "RD_BLOB=/dev/vda\nRD_SWAP=/dev/vdb\nRD_FLUSH=/dev/vdc\n")
    initrd = w / "initramfs.cpio.gz"
    args = [str(SCRIPTS / "mkinitramfs.sh"), "-o", str(initrd), "-m", kenv["MODDIR"],
            "-i", str(HERE / "realdata-init.sh"), "-f", f"{conf}:etc/zspp-rd.conf",
            "-f", f"{rdbin}:bin/realdata", "-f", f"{HERE / 'rd-snap.sh'}:bin/rd-snap"]
    if zpool == "zspp":
        args.append(ko)
    sh(args, stdout=subprocess.DEVNULL)
    # RAM: the fill resident at once (realdata.c loads it whole, then pushes it
    # out), the pool (about half of it compressed), the kernel and the page
    # cache the blob passes through. Swap: a slot for every page stored.
    mem_mib = (a + a * 6 // 10) // (1 << 20) + 1024
    swap_mib = (a + b) // (1 << 20) + 256
    con = w / "console.log"
    log(f"{kenv['KREL']} {alloc}: {pages} pages ({a >> 20} + {b >> 20} MiB), guest {mem_mib} MiB")
    t0 = time.monotonic()
    rc = subprocess.run([str(SCRIPTS / "qemu-run.sh"), "-k", kenv["VMLINUZ"], "-r", str(initrd), "-l", str(con),
                         "-w", str(w), "-m", f"{mem_mib}M", "-s", "2", "--drive", str(blob),
                         "-d", f"{swap_mib}M", "-d", "16M", "-t", str(1800 + pages // 100),
                         # Boot again when the kernel dies before /init (TCG on a
                         # loaded host: "IO-APIC + timer doesn't work" panics).
                         "--init-marker", "^RD-GUEST ", "--boot-timeout", "300",
                         "-a", "loglevel=4 log_buf_len=4M slab_nomerge"]).returncode
    (w / "seconds").write_text(f"{time.monotonic() - t0:.0f}\n")
    (w / "qemu.rc").write_text(f"{rc}\n")
    clean = w / "console.clean.log"
    clean.write_bytes(con.read_bytes().replace(b"\r", b""))
    return clean


def rows_of(k, alloc, pages, logpath):
    r = report_acct.parse_realdata(str(logpath))
    z = "zspp" if alloc.startswith("zspp") else alloc
    out = []
    for phase, name in (("fill", "fill"), ("churn", "churn+compact")):
        s = r["snaps"].get(phase)
        if not s or "RD-ZSWAP" not in s:
            continue
        zw = s["RD-ZSWAP"]
        stored = report_acct.num(zw.get("stored_pages")) - report_acct.num(zw.get("same_filled_pages"))
        pool = report_acct.num(zw.get("pool_total_size"))
        sums = report_acct.slab_sums(s.get("slab", {}), z)
        meta = sums["alloc"] + sums["kmalloc"]
        zs = s.get("RD-ZSPP") or {}
        objs, stored_bytes = report_acct.num(zs.get("objects")), report_acct.num(zs.get("bytes_stored"))
        out.append({
            "kernel": k, "alloc": alloc, "pages_target": pages, "phase": name, "stored_pages": stored,
            "pool_bytes": pool, "meta_bytes": meta,
            "pool_per_page": pool / stored if stored else float("nan"),
            "total_per_page": (pool + meta) / stored if stored else float("nan"),
            # zspp's own count of what it stores: the floor for every allocator of this size.
            "mean_compressed": stored_bytes / objs if objs else float("nan"),
            "verified": r.get("verified", 0), "checked": r.get("checked", 0),
            "mismatches": r.get("mismatches", -1), "exit": r.get("exit", -1),
            "fill_s": r.get("secs_fill", float("nan")), "readback_s": r.get("secs_verify-fill", float("nan")),
        })
    return out, r


def floors(rows):
    """Mean compressed size + 8 per (kernel, size, phase), from the zspp boot."""
    f = {}
    for r in rows:
        if r["mean_compressed"] == r["mean_compressed"]:
            f[(r["kernel"], r["pages_target"], r["phase"])] = r["mean_compressed"] + 8
    return f


def markdown(rows):
    fl = floors(rows)
    ref = {(r["kernel"], r["pages_target"], r["phase"]): r for r in rows if r["alloc"] == "zsmalloc"}
    out = ["| kernel | allocator | size (pages) | after | stored pages | pool B/page | pages + metadata B/page | "
           "floor B/page | x floor | x zsmalloc | fill s | read-back s | verified |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        key = (r["kernel"], r["pages_target"], r["phase"])
        floor = fl.get(key, float("nan"))
        z = ref.get(key)
        xz = r["total_per_page"] / z["total_per_page"] if z else float("nan")
        out.append(f"| {r['kernel']} | {r['alloc']} | {r['pages_target']:,} | {r['phase']} | {r['stored_pages']:,} | "
                   f"{r['pool_per_page']:.1f} | {r['total_per_page']:.1f} | {floor:.1f} | "
                   f"{r['total_per_page'] / floor:.3f} | {xz:.3f} | {r['fill_s']:.0f} | {r['readback_s']:.0f} | "
                   f"{r['verified']}/{r['checked']} |")
    return "\n".join(out) + "\n"


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("python3-matplotlib missing: no plot")
        return
    kernels = sorted({r["kernel"] for r in rows})
    fig, axes = plt.subplots(1, len(kernels), figsize=(6 * len(kernels), 4.5), squeeze=False)
    fl = floors(rows)
    allocs = sorted({r["alloc"] for r in rows})
    color = {a: f"C{i}" for i, a in enumerate(allocs)}
    for ax, k in zip(axes[0], kernels):
        # One colour per allocator; solid after the fill, dashed after churn +
        # compaction. The floor moves with the data (a larger size stores more
        # of the blob, whose files compress differently): read each point
        # against the floor of its own size.
        for phase, style in (("fill", "-"), ("churn+compact", "--")):
            for alloc in allocs:
                pts = sorted((r["stored_pages"], r["total_per_page"]) for r in rows
                             if r["kernel"] == k and r["alloc"] == alloc and r["phase"] == phase)
                if pts:
                    ax.plot(*zip(*pts), style, marker="o", color=color[alloc], label=f"{alloc} ({phase})")
            fp = sorted((r["stored_pages"], fl[(k, r["pages_target"], phase)]) for r in rows
                        if r["kernel"] == k and r["alloc"].startswith("zspp") and (k, r["pages_target"], phase) in fl)
            if fp:
                ax.plot(*zip(*fp), style, color="grey", label=f"floor ({phase})")
        ax.set_xscale("log")
        ax.set_xlabel("stored pages")
        ax.set_ylabel("bytes per stored page (pages + allocator metadata)")
        ax.set_title(k)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log(f"plot: {path}")


FIELDS = ["kernel", "alloc", "pages_target", "phase", "stored_pages", "pool_bytes", "meta_bytes", "pool_per_page",
          "total_per_page", "mean_compressed", "verified", "checked", "mismatches", "exit", "fill_s", "readback_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernels", default="6.1,6.12")
    ap.add_argument("--allocs", default="zsmalloc,zspp", help="zsmalloc, zspp, zspp-cN (chain_size=N)")
    ap.add_argument("--pages", default="10000,100000,1000000", help="fill sizes in pages")
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("ZSPP_CACHE", "/var/cache/zspp"), "bench/scale"))
    ap.add_argument("--out", default=str(ROOT / "Documentation/benchmarks"), help="scale.csv, scale.md, scale.png")
    ap.add_argument("--report-only", action="store_true", help="parse the last boots' logs again")
    args = ap.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    kernels = args.kernels.split(",")
    allocs = args.allocs.split(",")
    pages = sorted(int(p) for p in args.pages.split(","))
    a, b = sizes(pages[-1])
    blob = rdbin = None
    if not args.report_only:
        data = workdir / "data"
        sh([str(HERE / "mkrealdata.sh"), "--bytes", str(a + b + PAGE), "--out", str(data)], stdout=subprocess.DEVNULL)
        blob = data / "blob"
        rdbin = workdir / "realdata"
        sh(["gcc", "-static", "-O2", "-Wall", "-o", str(rdbin), str(HERE / "realdata.c")])
    print("KTAP version 1")
    print(f"1..{len(kernels) * len(allocs) * len(pages)}")
    rows, n, failed = [], 0, 0
    for k in kernels:
        kenv = kernel(k) if not args.report_only else {}
        ko = zspp_module(k, workdir) if not args.report_only and any(x.startswith("zspp") for x in allocs) else None
        for p in pages:
            for alloc in allocs:
                n += 1
                if args.report_only:
                    logpath = workdir / f"{k}-{alloc}-{p}" / "console.clean.log"
                else:
                    logpath = boot(k, kenv, alloc, ko, p, blob, rdbin, workdir)
                if not logpath.exists():
                    print(f"not ok {n} {k} {alloc} {p}: no log")
                    failed += 1
                    continue
                rs, r = rows_of(k, alloc, p, logpath)
                rows += rs
                ok = r.get("exit") == 0 and r.get("mismatches") == 0 and r.get("checked", 0) > 0 \
                    and r.get("verified") == r.get("checked")
                failed += not ok
                print(f"{'ok' if ok else 'not ok'} {n} {k} {alloc} {p} pages: "
                      f"{r.get('verified', 0)}/{r.get('checked', 0)} pages verified")
                sys.stdout.flush()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "scale.csv", "w", newline="") as f:
        wr = csv.DictWriter(f, FIELDS, extrasaction="ignore")
        wr.writeheader()
        wr.writerows(rows)
    (out / "scale.md").write_text(markdown(rows))
    plot(rows, out / "scale.png")
    sys.stderr.write(markdown(rows))
    print(f"# scale: {n - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
