#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Real programs through zswap, per kernel and per allocator (`make bench-workloads`).

Each (kernel, allocator) is one fresh QEMU boot of Debian's stock kernel with
the same initramfs contents: real programs of this Debian system (their own
binaries and shared libraries, Python's standard library), real data (the
files bench/mkrealdata.sh packs), and bench/workloads/guest-init.sh, which
runs every workload in a memory cgroup whose memory.max is a fraction
(--limit, default 0.7) of the program's resident size measured on the host,
so its pages go through zswap while it runs. The allocator's memory (zswap's
pool pages plus the allocator's own metadata) is sampled every 0.5 s.

Every output is verified: a program's stdout is hashed in the guest and must
equal the hash of the same binary's stdout on the same input here on the host
(compressors are deterministic single-threaded; Python runs with a fixed hash
seed; sqlite prints query results).

Results: KTAP on stdout (one test per kernel/allocator/workload: verified),
the closing line "workloads: N passed, M failed", a CSV (--csv) and a table
of zspp's memory against zsmalloc's per kernel and workload. Nothing here
asserts a timing or a ratio: the bench measures, the test is the verification.
"""

import argparse
import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3.11"  # the guest runs this very binary


def log(msg):
    print(f"workloads: {msg}", file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


# ---- workloads ---------------------------------------------------------------------------------
# name -> the command line (guest paths; the same paths exist on the host,
# data under --workdir's data/ mapped to /data), how much of the blob it reads.
def workloads(data_mib):
    return {
        # xz's match finder touches its 94 MiB at random: under TCG with
        # 30% of it swapped, a MiB of input takes about a minute.
        "xz": ("/usr/bin/xz -6 -T1 -c /data/part-xz", max(1, data_mib // 16)),
        "zstd": ("/usr/bin/zstd -q --long=27 -12 -T1 -c /data/part-zstd", max(1, data_mib // 3)),
        "sqlite": ("/usr/bin/sqlite3 :memory: -init /data/wl.sql .quit", 0),
        "python": (f"{PY} -S /data/heap.py /data/part-python", max(1, data_mib // 6)),
        # A worker pool: POOL_N instances of the same program on the same
        # input at once (pre-fork servers, interpreters, build workers), in one
        # cgroup: what folding (zspp-fN) finds among real processes' pages.
        "pool": (f"/bin/sh /data/pool.sh {POOL_N} {PY} -S /data/heap.py /data/part-pool", max(1, data_mib // 12)),
        # A kernel build (zswap's developers' benchmark), scaled to TCG: Debian's
        # gcc compiling a few of linux-source-6.1's objects with make -j2 in a
        # Debian 12 image (kbuild-image.sh: defconfig and prepare done there,
        # the reference objects' sha256 too). Runs in the guest only.
        "kbuild": ("chroot /mnt/img /usr/local/bin/wl-kbuild", 0),
    }


KBUILD_TARGETS = ["mm/slub.o", "mm/page_alloc.o", "mm/vmscan.o", "mm/memory.o", "fs/ext4/inode.o", "kernel/fork.o"]


POOL_N = 4
# The host measures one process's peak RSS; a workload of several at once gets
# that many times the limit. Not kbuild: its limit is 0.7 of its largest
# compiler process, well below make -j2's working set when two run at once
# (at 2x it never swapped: gcc's big objects rarely overlap).
INSTANCES = {"pool": POOL_N}

POOL_SH = r"""# pool.sh N CMD...: N instances of CMD at once; their outputs in order.
n=$1
shift
d=$(mktemp -d)
i=1
pids=""
while [ $i -le "$n" ]; do
	"$@" >"$d/$i" &
	pids="$pids $!"
	i=$((i + 1))
done
rc=0
for p in $pids; do
	wait "$p" || rc=1
done
i=1
while [ $i -le "$n" ]; do
	cat "$d/$i"
	i=$((i + 1))
done
rm -rf "$d"
exit $rc
"""


def sql_script(out, rows_max):
    """An in-memory database of this system's package file lists (real data):
    load, index, query. Deterministic output."""
    lines = []
    for lst in sorted(Path("/var/lib/dpkg/info").glob("*.list")):
        pkg = lst.name[:-5]
        for p in lst.read_text(errors="replace").splitlines():
            if p and p != "/.":
                lines.append((pkg, p))
    lines = lines[:rows_max]

    def q(s):
        return "'" + s.replace("'", "''") + "'"

    with open(out, "w") as f:
        f.write("PRAGMA cache_size=-200000;\n")
        f.write("CREATE TABLE files(pkg TEXT, path TEXT, dir TEXT, base TEXT, ext TEXT, depth INT);\n")
        f.write("BEGIN;\n")
        for pkg, p in lines:
            d, _, b = p.rpartition("/")
            ext = b.rpartition(".")[2] if "." in b else ""
            f.write(f"INSERT INTO files VALUES({q(pkg)},{q(p)},{q(d)},{q(b)},{q(ext)},{p.count('/')});\n")
        f.write("COMMIT;\n")
        f.write("CREATE INDEX by_dir ON files(dir, base);\nCREATE INDEX by_ext ON files(ext, pkg);\n"
                "CREATE INDEX by_base ON files(base);\n")
        f.write("SELECT ext, count(*), count(DISTINCT pkg) FROM files GROUP BY ext ORDER BY 2 DESC, 1 LIMIT 50;\n")
        f.write("SELECT dir, count(*) FROM files GROUP BY dir ORDER BY 2 DESC, 1 LIMIT 50;\n")
        f.write("SELECT a.pkg, count(*) FROM files a JOIN files b ON a.base = b.base AND a.pkg < b.pkg "
                "GROUP BY a.pkg ORDER BY 2 DESC, 1 LIMIT 30;\n")
        f.write("SELECT depth, count(*), max(length(path)) FROM files GROUP BY depth ORDER BY depth;\n")
        f.write("SELECT pkg, group_concat(base, ',') FROM (SELECT pkg, base FROM files WHERE ext = 'h' "
                "ORDER BY pkg, base) GROUP BY pkg ORDER BY pkg LIMIT 40;\n")
    return len(lines)


HEAP_PY = r'''
# An interpreter heap: every token of real files with every place it occurs,
# then queries over it. Deterministic output (sorted; PYTHONHASHSEED fixed).
import re, sys, hashlib
data = open(sys.argv[1], "rb").read()
where = {}
for m in re.finditer(rb"[A-Za-z_][A-Za-z0-9_]{2,}", data):
    where.setdefault(m.group(), []).append(m.start())
words = sorted(where)
print(len(data), len(where), sum(len(v) for v in where.values()))
for w in sorted(words, key=lambda w: (-len(where[w]), w))[:300]:
    print(w.decode(), len(where[w]), where[w][0], where[w][-1])
h = hashlib.sha256()
for w in words[::7]:
    v = where[w]
    h.update(w + b" %d %d\n" % (len(v), sum(v) & 0xffffffff))
print(h.hexdigest())
'''


# ---- the guest's files -------------------------------------------------------------------------
def libs_of(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    libs = set()
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.add(m.group(1))
    return libs


def stage_programs(stage):
    """Binaries, their libraries (at their own paths) and Python's stdlib."""
    files = set()
    for b in ["/usr/bin/xz", "/usr/bin/zstd", "/usr/bin/sqlite3", PY]:
        files.add(b)
        files |= libs_of(b)
    for f in files:
        real = os.path.realpath(f)
        dst = stage / f.lstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(real, dst)
    skip = {"test", "idlelib", "tkinter", "lib2to3", "ensurepip", "distutils", "pydoc_data", "turtledemo",
            "config-3.11-x86_64-linux-gnu", "site-packages", "dist-packages"}
    src = Path("/usr/lib/python3.11")
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for fn in filenames:
            p = Path(dirpath) / fn
            dst = stage / str(p).lstrip("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dst, follow_symlinks=True)
    # lib-dynload's extension modules' own libraries (hashlib -> libcrypto).
    for so in (stage / "usr/lib/python3.11/lib-dynload").glob("*.so"):
        for lib in libs_of(so):
            dst = stage / lib.lstrip("/")
            if not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(os.path.realpath(lib), dst)


def cpio(stage, out):
    names = sorted(str(p.relative_to(stage)) for p in stage.rglob("*"))
    with open(out, "wb") as f:
        p1 = subprocess.Popen(["cpio", "-o", "-H", "newc", "--quiet"], cwd=stage, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
        p2 = subprocess.Popen(["gzip", "-1"], stdin=p1.stdout, stdout=f)
        p1.stdout.close()
        p1.stdin.write(("\n".join(names) + "\n").encode())
        p1.stdin.close()
        if p1.wait() or p2.wait():
            raise RuntimeError("cpio failed")


def prepare_data(workdir, data_mib, rows):
    """Real files (bench/mkrealdata.sh), the parts each workload reads, the
    SQL script and the Python program, staged under data/ (guest /data)."""
    ddir = workdir / "data"
    stage = workdir / "data-stage" / "data"
    stage.mkdir(parents=True, exist_ok=True)
    sh([str(ROOT / "bench/mkrealdata.sh"), "--bytes", str(data_mib << 20), "--out", str(ddir)],
       stdout=subprocess.DEVNULL)
    blob = (ddir / "blob").read_bytes()
    for name, (_, mib) in workloads(data_mib).items():
        if mib:
            (stage / f"part-{name}").write_bytes(blob[: mib << 20])
    n = sql_script(stage / "wl.sql", rows)
    (stage / "heap.py").write_text(HEAP_PY)
    (stage / "pool.sh").write_text(POOL_SH)
    (stage / "base.py").write_text("import re, sys, hashlib\n")  # the pool's shared part
    log(f"data: {data_mib} MiB of real files, {n} package file-list rows")
    return stage.parent


# ---- host references -------------------------------------------------------------------------
def host_reference(cmd, data_root):
    """The command run here on the same input, alone in a fresh process: its
    stdout's sha256 and its peak resident size (bytes)."""
    argv = cmd.replace("/data/", f"{data_root}/data/").split()
    probe = ("import hashlib, resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)\n"
             "print(p.returncode, hashlib.sha256(p.stdout).hexdigest(),"
             " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([PY, "-c", probe] + argv, capture_output=True, text=True,
                         env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"}).stdout.split()
    if len(out) != 3 or out[0] != "0":
        raise RuntimeError(f"host run of {argv} failed: {out}")
    return out[1], int(out[2]) * 1024


# ---- one boot --------------------------------------------------------------------------------
def kernel(k):
    out = sh([str(SCRIPTS / "fetch-kernel.sh"), f"stock-{k}"], capture_output=True).stdout
    env = dict(re.findall(r"^(\w+)=(.*)$", out, re.M))
    return env


def zspp_module(k, workdir, fold=False):
    args = [str(SCRIPTS / "build-module.sh"), f"stock-{k}", "--out",
            str(workdir / (f"build-{k}-fold" if fold else f"build-{k}"))]
    out = sh(args + (["--fold"] if fold else []), capture_output=True).stdout
    m = re.findall(r"^KO=(.*)$", out, re.M)
    if not m:
        raise RuntimeError(f"build-module.sh stock-{k}: no KO= line")
    return m[-1]


def boot(k, kenv, alloc, ko, wls, limits, workdir, extra_cpio, mem, image=None):
    w = workdir / f"{k}-{alloc}"
    w.mkdir(parents=True, exist_ok=True)
    # zspp-cN: chain_size=N; zspp-sM: compact_slack=M; zspp-fN: the
    # CONFIG_ZSPP_FOLD=y build with fold_interval_ms=N (combinable: zspp-c8-s100).
    zpool, params = alloc.split("-")[0], []
    for opt in alloc.split("-")[1:]:
        name = {"c": "chain_size", "s": "compact_slack", "f": "fold_interval_ms"}.get(opt[:1])
        if not name or not opt[1:].isdigit():
            raise SystemExit(f"workloads: allocator {alloc}: options are -cN, -sM and -fN")
        params.append(f"{name}={opt[1:]}")
    params = " ".join(params)
    conf = [f"WL_ZPOOL={zpool}", f'WL_ZSPP_PARAMS="{params}"', f'WL_LIST="{" ".join(wls)}"']
    drives = []
    if image:
        # A fresh copy each boot: the build writes its objects into it.
        copy = w / "image.ext4"
        sh(["cp", "--sparse=always", str(image), str(copy)])
        drives = ["--drive", str(copy)]
        conf += ["WL_IMAGE=/dev/vda", "WL_SWAP=/dev/vdb"]
    for name in wls:
        cmd = workloads(0)[name][0]
        conf.append(f'WL_{name}_CMD="env PYTHONHASHSEED=0 {cmd}"')
        conf.append(f"WL_{name}_LIMIT={limits[name]}")
    (w / "wl.conf").write_text("\n".join(conf) + "\n")
    base = w / "base.cpio.gz"
    args = [str(SCRIPTS / "mkinitramfs.sh"), "-o", str(base), "-m", kenv["MODDIR"], "-i", str(HERE / "guest-init.sh"),
            "-f", f"{w / 'wl.conf'}:etc/wl.conf"]
    if zpool == "zspp":
        args.append(ko)
    if image:  # ext4 and what it needs (6.1 loads crc32c at every mount), in guest-init.sh's order
        for m in ("crc32c_generic", "crc16", "mbcache", "jbd2", "ext4"):
            found = [p for p in Path(kenv["MODDIR"]).rglob(f"{m}.ko*")]
            if found:
                args.append(str(found[0]))
    sh(args, stdout=subprocess.DEVNULL)
    initrd = w / "initramfs.cpio.gz"
    with open(initrd, "wb") as f:
        for part in [base] + extra_cpio:
            f.write(Path(part).read_bytes())
    con = w / "console.log"
    t0 = time.time()
    rc = subprocess.run([str(SCRIPTS / "qemu-run.sh"), "-k", kenv["VMLINUZ"], "-r", str(initrd), "-l", str(con),
                         "-w", str(w), "-m", mem, "-s", "2"] + drives + ["-d", "2G", "-t", "5400",
                         "--init-marker", "^WL-GUEST ", "-a", "loglevel=4 log_buf_len=4M slab_nomerge"]).returncode
    log(f"{k} {alloc}: guest done in {time.time() - t0:.0f}s (qemu rc={rc})")
    if image:
        (w / "image.ext4").unlink()
    return con.read_text(errors="replace").replace("\r", "")


def parse(console):
    """Per workload: its result fields and its samples (t, pool + meta)."""
    res, samples = {}, {}
    for line in console.splitlines():
        m = re.match(r"^(WL-RESULT|WL-S|WL-START) (.*)$", line)
        if not m:
            continue
        f = dict(kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
        if m.group(1) == "WL-RESULT":
            res[f["name"]] = f
        elif m.group(1) == "WL-S":
            try:
                samples.setdefault(f["name"], []).append((float(f["t"]), int(f["pool"]) + int(f["meta"]),
                                                          int(f["pool"]), int(f["meta"]), int(f["stored"])))
            except (KeyError, ValueError):
                pass
    return res, samples


def memory_stats(s):
    """Time-averaged (trapezoids over the samples' times) and peak bytes."""
    if not s:
        return 0.0, 0
    if len(s) == 1:
        return float(s[0][1]), s[0][1]
    area = sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(s, s[1:]))
    return area / (s[-1][0] - s[0][0]), max(x[1] for x in s)


def bytes_per_stored(s):
    """Memory per page zswap held, both time-weighted: the allocator's cost
    whatever the boot swapped (two boots of one program under one limit can
    swap 1.6x apart, and time-averaged memory follows). 0 without samples."""
    if len(s) < 2:
        return 0.0
    mem = sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(s, s[1:]))
    stored = sum((b[0] - a[0]) * (a[4] + b[4]) / 2 for a, b in zip(s, s[1:]))
    return mem / stored if stored else 0.0


SPLAT = re.compile(r"(BUG:|WARNING:|Oops|Call Trace|KASAN|kernel BUG|general protection|zspp: bad handle)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", default="6.1,6.12")
    ap.add_argument("--allocs", default="zsmalloc,zspp",
                    help="zsmalloc, zbud, zspp, zspp-cN (chain_size=N), zspp-sM (compact_slack=M), "
                    "zspp-fN (the CONFIG_ZSPP_FOLD=y build, fold_interval_ms=N), combined: zspp-c8-s50")
    ap.add_argument("--workloads", default="kbuild,xz,zstd,sqlite,python,pool")
    ap.add_argument("--data-mib", type=int, default=48)
    ap.add_argument("--sql-rows", type=int, default=80000)
    ap.add_argument("--limit", type=float, default=0.7, help="memory.max as a fraction of the host RSS")
    ap.add_argument("--mem", default="1536M")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--workdir", help="default $ZSPP_CACHE/bench/workloads (smoke: workloads-smoke)")
    ap.add_argument("--csv", help="append one row per run here")
    ap.add_argument("--smoke", action="store_true",
                    help="make check's run: 6.1, zspp, python and sqlite on small inputs")
    a = ap.parse_args()
    if a.smoke:
        a.kernels, a.allocs, a.workloads, a.data_mib, a.sql_rows = "6.1", "zspp", "python,sqlite", 4, 20000
    workdir = Path(a.workdir or os.path.join(os.environ.get("ZSPP_CACHE", "/var/cache/zspp"), "bench",
                                             "workloads-smoke" if a.smoke else "workloads"))
    workdir.mkdir(parents=True, exist_ok=True)
    wls = a.workloads.split(",")
    table = workloads(a.data_mib)
    for name in wls:
        if name not in table:
            sys.exit(f"workloads: unknown workload {name} (know {', '.join(table)})")

    data_root = prepare_data(workdir, a.data_mib, a.sql_rows)
    refs, limits = {}, {}
    image = None
    if "kbuild" in wls:
        kb = workdir / "kbuild"
        sh([str(HERE / "kbuild-image.sh"), "--out", str(kb)] + KBUILD_TARGETS, env=dict(os.environ, ZSPP_PROG="kbuild-image"))
        image = kb / "image.ext4"
    for name in wls:
        if name == "kbuild":
            sha, rss = (kb / "reference").read_text().split()
            rss = int(rss)
        else:
            sha, rss = host_reference(table[name][0], data_root)
        refs[name] = sha
        n_inst = INSTANCES.get(name, 1)
        if name == "pool":
            # The instances share the interpreter's binary and libraries (charged
            # once): count those pages once, each instance's own heap N times.
            _, base = host_reference(f"{PY} -S /data/base.py", data_root)
            rss = rss * n_inst - min(base, rss) * (n_inst - 1)
            n_inst = 1
        limits[name] = max(int(rss * n_inst * a.limit) // 4096 * 4096, 8 << 20)
        log(f"{name}: host stdout sha256 {sha[:16]}, peak RSS {rss >> 20} MiB, guest memory.max {limits[name] >> 20} MiB")
    # The programs' cpio, rebuilt when a package that provides them moves.
    pkgs = subprocess.run(["dpkg-query", "-W", "xz-utils", "zstd", "sqlite3", "python3.11-minimal",
                           "libpython3.11-stdlib", "libpython3.11-minimal"], capture_output=True, text=True).stdout
    progs = workdir / ("programs-" + hashlib.sha256(pkgs.encode()).hexdigest()[:12])
    if not (progs / "done").exists():
        shutil.rmtree(progs, ignore_errors=True)
        stage_programs(progs / "root")
        cpio(progs / "root", progs / "programs.cpio.gz")
        (progs / "done").write_text("")
    cpio(data_root, workdir / "data.cpio.gz")

    print("KTAP version 1")
    runs = [(k, al, r) for k in a.kernels.split(",") for al in a.allocs.split(",") for r in range(a.reps)]
    print(f"1..{len(runs) * len(wls) + len(runs)}")
    n = passed = failed = 0
    rows = []
    for k, alloc, rep in runs:
        kenv = kernel(k)
        fold = any(o.startswith("f") for o in alloc.split("-")[1:])
        ko = zspp_module(k, workdir, fold) if alloc.startswith("zspp") else ""
        con = boot(k, kenv, alloc, ko, wls, limits, workdir,
                   [progs / "programs.cpio.gz", workdir / "data.cpio.gz"], a.mem, image)
        res, samples = parse(con)
        for name in wls:
            n += 1
            r = res.get(name)
            ok = r is not None and r["rc"] == "0" and r["sha"] == refs[name]
            avg, peak = memory_stats(samples.get(name, []))
            why = ("no result" if r is None else f"rc={r['rc']} oom_kill={r.get('oom_kill')}" if r["rc"] != "0"
                   else "output differs from the host's" if r["sha"] != refs[name] else "output verified")
            print(f"{'ok' if ok else 'not ok'} {n} - {kenv['KREL']} {alloc} {name}: {why}")
            passed += ok
            failed += not ok
            if r is not None:
                row = {"kernel": kenv["KREL"], "alloc": alloc, "rep": rep, "workload": name,
                       "limit": limits[name], "verified": int(ok),
                       "wall_s": round(float(r["end"]) - float(r["start"]), 2),
                       "mem_avg": int(avg), "mem_peak": peak, "samples": len(samples.get(name, []))}
                for f in ("zswpout", "zswpin", "pswpout", "pswpin", "pgmajfault", "written_back", "oom_kill"):
                    row[f] = r.get(f, "")
                row["bytes_per_stored"] = round(bytes_per_stored(samples.get(name, [])), 1)
                rows.append(row)
                print(f"# {name}: wall {row['wall_s']} s, memory avg {avg / 2**20:.2f} MiB peak {peak / 2**20:.2f} MiB, "
                      f"zswpout {row['zswpout']} zswpin {row['zswpin']} majflt {row['pgmajfault']}")
        n += 1
        splats = [l for l in con.splitlines() if SPLAT.search(l) and "tainting kernel" not in l]
        clean = "WL-END" in con and not splats
        print(f"{'ok' if clean else 'not ok'} {n} - {kenv['KREL']} {alloc}: boot ended, no splat"
              + ("" if clean else f" ({(splats or ['no WL-END'])[0][:120]})"))
        passed += clean
        failed += not clean
    if a.csv and rows:
        new = not os.path.exists(a.csv)
        with open(a.csv, "a", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=list(rows[0]))
            if new:
                wr.writeheader()
            wr.writerows(rows)
    report(rows)
    print(f"workloads: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def report(rows):
    """zspp's memory against zsmalloc's, per kernel and workload (medians over reps)."""
    def med(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2] if xs else 0

    by = {}
    for r in rows:
        by.setdefault((r["kernel"], r["workload"], r["alloc"]), []).append(r)
    allocs = sorted({r["alloc"] for r in rows})
    if "zsmalloc" not in allocs:
        return
    print("# kernel workload alloc: avg MiB, peak MiB, wall s, B/stored page; "
          "vs zsmalloc avg, peak, wall, B/stored page")
    keys = ("mem_avg", "mem_peak", "wall_s", "bytes_per_stored")
    for (k, w, al), rs in sorted(by.items()):
        base = by.get((k, w, "zsmalloc"))
        if not base:
            continue
        avg, peak, wall, bps = (med([r[x] for r in rs]) for x in keys)
        bavg, bpeak, bwall, bbps = (med([r[x] for r in base]) for x in keys)
        print(f"# {k} {w} {al}: {avg / 2**20:.2f} {peak / 2**20:.2f} {wall:.1f} {bps:.1f}; "
              f"{avg / bavg if bavg else 0:.3f} {peak / bpeak if bpeak else 0:.3f} {wall / bwall if bwall else 0:.3f} "
              f"{bps / bbps if bbps else 0:.3f}")


if __name__ == "__main__":
    sys.exit(main())
