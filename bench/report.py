#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""bench/report.py: turn `make bench` logs into CSV, a Markdown table and a plot.

Run by scripts/bench.sh with Debian's /usr/bin/python3 (python3-matplotlib).

  --micro-log FILE   console log of the micro benchmark boot: BENCH-RUN and
                     BENCH-FOLD lines of the plain build (build=nofold: the
                     folding runs' baseline), then, after its BENCH-BEGIN
                     build=fold, those of the CONFIG_ZSPP_FOLD=y build (its
                     BENCH-RUN lines: the option's cost on the hot paths, its
                     BENCH-FOLD lines: what zspp_fold saves and costs)
  --e2e-dir DIR      directory holding e2e-<variant>-<zpool>/console.clean.log
  --out DIR          micro-runs.csv, micro-summary.csv, e2e.csv, ratios.png,
                     fold.csv, fold-hotpath.csv, fold-micro-runs.csv
  --doc FILE         Documentation/benchmarks.md: the part between the
                     "bench:begin" and "bench:end" markers is replaced
  --smoke            assert sanity only (the bench ran, every run parsed, every
                     object verified, the pools drained), for each build of
                     --expect-builds (bench-* and bench-fold-*): PASS:/FAIL: lines
Ratios are zspp/zsmalloc within a pair (every zspp run has a zsmalloc run
right before or after it in the same boot, same thread count), summarised as
median and min..max over the repeats. Nothing is judged on
timings.
"""
import argparse
import csv
import datetime
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_acct  # noqa: E402

RUN_KEYS = ("rep pair alloc api chain threads n fail stored_fill pages_fill stored_half pages_half "
            "meta_fill malloc_ns read_ns reads free_ns frees compact_ns compact_pages verified "
            "expected mismatches pages_end tail_pages_half classes_half").split()
FOLD_KEYS = ("rep build dup_pct chain n dups fail stored stored_distinct pages_fill compact_pages pages_before "
             "fold_ns fold_freed refold_ns refold_freed pages_after objs_folded pages_folded bytes_folded "
             "fold_collisions fold_cow fold_passes validate read_ns reads corrupted verified expected mismatches "
             "pages_half pages_end").split()
TEXT_KEYS = {"alloc", "api", "build"}
BAD_RE = re.compile(r"WARNING:|BUG:|Oops|KASAN|UBSAN:|general protection|Call Trace|Kernel panic|"
                    r"sleeping function called from invalid context|scheduling while atomic|"
                    r"blocked for more than|list_(add|del) corruption")
PAGE = 4096


def kv(line):
    return dict(f.split("=", 1) for f in line.split() if "=" in f)


def parse_micro(path):
    """Lines of each build (BENCH-BEGIN build=..., "nofold" in older logs):
    {build: (runs, folds, errors, info)}, and the splats of the whole boot."""
    builds = {}

    def start(build):
        return builds.setdefault(build, ([], [], [], {}))

    runs, folds, errors, info = start("nofold")
    text = open(path, errors="replace").read()
    for raw in text.splitlines():
        line = re.sub(r"^<\d+>\[\s*[\d.]+\]\s*", "", raw)
        if line.startswith("BENCH-BEGIN"):
            runs, folds, errors, info = start(kv(line).get("build", "nofold"))
        if line.startswith("BENCH-RUN "):
            d = kv(line)
            missing = [k for k in RUN_KEYS if k not in d]
            if missing:
                errors.append("BENCH-RUN without %s: %s" % (",".join(missing), line[:120]))
                continue
            try:
                r = {k: (d[k] if k in TEXT_KEYS else int(d[k])) for k in RUN_KEYS}
            except ValueError:
                errors.append("non-numeric field: " + line[:120])
                continue
            r["config"] = config_name(r)
            n = r["n"] - r["fail"]
            r["malloc_ns_op"] = r["malloc_ns"] / n if n else float("nan")
            r["read_ns_op"] = r["read_ns"] / r["reads"] if r["reads"] else float("nan")
            r["free_ns_op"] = r["free_ns"] / r["frees"] if r["frees"] else float("nan")
            r["density_fill"] = r["stored_fill"] / (r["pages_fill"] * PAGE) if r["pages_fill"] else 0.0
            r["density_half"] = r["stored_half"] / (r["pages_half"] * PAGE) if r["pages_half"] else 0.0
            runs.append(r)
        elif line.startswith("BENCH-FOLD "):
            d = kv(line)
            missing = [k for k in FOLD_KEYS if k not in d]
            if missing:
                errors.append("BENCH-FOLD without %s: %s" % (",".join(missing), line[:120]))
                continue
            try:
                r = {k: (d[k] if k in TEXT_KEYS else int(d[k])) for k in FOLD_KEYS}
            except ValueError:
                errors.append("non-numeric field: " + line[:120])
                continue
            n = r["n"] - r["fail"]
            r["saved_pages"] = r["pages_before"] - r["pages_after"]
            r["saved_pct"] = 100.0 * r["saved_pages"] / r["pages_before"] if r["pages_before"] else 0.0
            r["dup_bytes_pct"] = 100.0 * (r["stored"] - r["stored_distinct"]) / r["stored"] if r["stored"] else 0.0
            r["fold_ns_obj"] = r["fold_ns"] / n if n else float("nan")
            r["refold_ns_obj"] = r["refold_ns"] / n if n else float("nan")
            r["read_ns_op"] = r["read_ns"] / r["reads"] if r["reads"] else float("nan")
            r["density_before"] = r["stored"] / (r["pages_before"] * PAGE) if r["pages_before"] else 0.0
            r["density_after"] = r["stored"] / (r["pages_after"] * PAGE) if r["pages_after"] else 0.0
            folds.append(r)
        elif line.startswith(("BENCH-BEGIN", "BENCH-END", "BENCH-GUEST ", "BENCH-INSMOD", "BENCH-RMMOD")):
            info.setdefault(line.split()[0], []).append(kv(line))
        elif line.startswith("BENCH-ERROR"):
            errors.append(line)
    dmesg = text.split("DMESG-BEGIN", 1)[-1].split("DMESG-END", 1)[0] if "DMESG-BEGIN" in text else text
    splats = [l for l in dmesg.splitlines() if BAD_RE.search(l)]
    return {b: v for b, v in builds.items() if any(v)}, splats


def config_name(r):
    return "zsmalloc" if r["alloc"] == "zsmalloc" else "zspp-%s-c%d" % (r["api"], r["chain"])


def spread(vals):
    vals = [v for v in vals if v == v]
    if not vals:
        return (float("nan"),) * 3
    return statistics.median(vals), min(vals), max(vals)


def summarize_micro(runs):
    """Per (config, threads): medians, spreads and per-repeat ratios to zsmalloc."""
    base = {r["pair"]: r for r in runs if r["alloc"] == "zsmalloc"}
    groups = {}
    for r in runs:
        groups.setdefault((r["config"], r["threads"]), []).append(r)
    rows = []
    for (cfg, th), rs in sorted(groups.items(), key=lambda kv_: (kv_[0][1], kv_[1][0]["alloc"] != "zsmalloc",
                                                                      kv_[1][0]["api"], kv_[1][0]["chain"])):
        row = {"config": cfg, "alloc": rs[0]["alloc"], "api": rs[0]["api"], "chain": rs[0]["chain"],
               "threads": th, "reps": len(rs), "n": rs[0]["n"]}
        for m in ("malloc_ns_op", "read_ns_op", "free_ns_op", "density_fill", "density_half"):
            med, lo, hi = spread([r[m] for r in rs])
            row[m], row[m + "_min"], row[m + "_max"] = med, lo, hi
            ratios = [r[m] / base[r["pair"]][m] for r in rs if r["pair"] in base and base[r["pair"]][m]]
            med, lo, hi = spread(ratios)
            row[m + "_ratio"], row[m + "_ratio_min"], row[m + "_ratio_max"] = med, lo, hi
        row["meta_per_obj"] = statistics.median(r["meta_fill"] / max(1, r["n"] - r["fail"]) for r in rs)
        row["compact_pages"] = statistics.median(r["compact_pages"] for r in rs)
        row["tail_pages_half"] = statistics.median(r["tail_pages_half"] for r in rs)
        row["classes_half"] = statistics.median(r["classes_half"] for r in rs)
        row["pages_half"] = statistics.median(r["pages_half"] for r in rs)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- folding

def summarize_fold(folds):
    """Per (dup_pct, build): medians (and min..max of the fold times) over the repeats."""
    groups = {}
    for r in folds:
        groups.setdefault((r["dup_pct"], r["build"] != "nofold"), []).append(r)
    rows = []
    for (pct, _), rs in sorted(groups.items()):
        row = {"dup_pct": pct, "build": rs[0]["build"], "reps": len(rs), "n": rs[0]["n"], "chain": rs[0]["chain"]}
        for m in ("dups", "stored", "stored_distinct", "dup_bytes_pct", "pages_fill", "pages_before", "pages_after",
                  "saved_pages", "saved_pct", "objs_folded", "pages_folded", "bytes_folded", "fold_collisions",
                  "fold_cow", "density_before", "density_after", "pages_half"):
            row[m] = statistics.median(r[m] for r in rs)
        for m in ("fold_ns", "fold_ns_obj", "refold_ns", "refold_ns_obj", "read_ns_op"):
            row[m], row[m + "_min"], row[m + "_max"] = spread([r[m] for r in rs])
        row["verified"] = sum(r["verified"] for r in rs)
        row["expected"] = sum(r["expected"] for r in rs)
        row["mismatches"] = sum(r["mismatches"] for r in rs)
        row["validate_errors"] = sum(1 for r in rs if r["validate"])
        rows.append(row)
    return rows


def summarize_hotpath(off, on):
    """Same configuration, plain build (off) vs CONFIG_ZSPP_FOLD=y build (on), one after the other.

    raw = on/off of the medians; norm = on/off of the medians of the paired
    zspp/zsmalloc ratios, which takes out what drifts between the two halves of the boot
    (zsmalloc is the same in both)."""
    on_by = {(r["config"], r["threads"]): r for r in on}
    rows = []
    for r in off:
        o = on_by.get((r["config"], r["threads"]))
        if not o:
            continue
        row = {"config": r["config"], "threads": r["threads"], "reps_off": r["reps"], "reps_on": o["reps"]}
        for m in ("malloc_ns_op", "read_ns_op", "free_ns_op"):
            row[m + "_off"], row[m + "_on"] = r[m], o[m]
            row[m + "_raw"] = o[m] / r[m] if r[m] else float("nan")
            row[m + "_norm"] = (o[m + "_ratio"] / r[m + "_ratio"]
                                if r["alloc"] == "zspp" and r[m + "_ratio"] else float("nan"))
        row["density_fill_off"], row["density_fill_on"] = r["density_fill"], o["density_fill"]
        rows.append(row)
    return rows


# ---------------------------------------------------------------- e2e

def parse_e2e(path):
    text = open(path, errors="replace").read()
    samples = [kv(l) for l in text.splitlines() if l.startswith("ZSWAP t=")]
    res = {"log": path, "complete": "E2E-END" in text}
    best = None
    for s in samples:
        try:
            size = int(s.get("pool_total_size", 0))
            stored = int(s.get("stored_pages", 0))
            same = int(s.get("same_filled_pages", 0))
        except ValueError:
            continue
        if best is None or size > best[0]:
            best = (size, stored, same)
    if best:
        res["peak_pool_bytes"], res["stored_at_peak"], same = best
        res["pool_stored_at_peak"] = res["stored_at_peak"] - same
        res["bytes_per_stored_page"] = (res["peak_pool_bytes"] / res["pool_stored_at_peak"]
                                        if res["pool_stored_at_peak"] > 0 else float("nan"))
    for key in ("stored_pages", "written_back_pages", "pool_limit_hit", "reject_alloc_fail",
                "reject_reclaim_fail", "reject_compress_poor"):
        vals = [int(s[key]) for s in samples if s.get(key, "").isdigit()]
        res["max_" + key] = max(vals) if vals else 0
    times = {}
    for m in re.finditer(r"^workload: (\S+)\s+100% \(\d+/\d+ pages, ([\d.]+)s\)", text, re.M):
        times[m.group(1)] = float(m.group(2))
    rew = [float(x) for x in re.findall(r"^workload: rewrote .* in ([\d.]+)s", text, re.M)]
    done = re.search(r"^workload: done in ([\d.]+)s", text, re.M)
    res["swapout_fill_s"] = times.get("fill", float("nan"))
    res["swapin_verify_s"] = sum(v for k, v in times.items() if k.startswith("verify")) if times else float("nan")
    res["rewrite_s"] = sum(rew) if rew else float("nan")
    res["workload_s"] = float(done.group(1)) if done else float("nan")
    wl = re.search(r"^WORKLOAD pages=(\d+) verified=(\d+) mismatches=(\d+)", text, re.M)
    res["verified"] = "%s/%s" % (wl.group(2), wl.group(1)) if wl else "n/a"
    res["mismatches"] = int(wl.group(3)) if wl else -1
    vm = [kv(l) for l in text.splitlines() if l.startswith("VMSTAT ")]
    if vm:
        res.update({k: int(v) for k, v in vm[-1].items()})
    return res


def collect_e2e(d):
    rows = []
    if not d or not os.path.isdir(d):
        return rows
    for variant in ("default", "limit"):
        for z in ("zbud", "z3fold", "zsmalloc", "zspp"):
            log = os.path.join(d, "e2e-%s-%s" % (variant, z), "console.clean.log")
            if not os.path.exists(log):
                continue
            r = parse_e2e(log)
            r["variant"], r["zpool"] = variant, z
            result = os.path.join(d, "e2e-%s-%s.result" % (variant, z))
            if os.path.exists(result):
                last = [l for l in open(result).read().splitlines() if "passed," in l]
                r["assertions"] = last[-1].split(": ", 1)[-1] if last else "n/a"
                # tests/harness/e2e.py's KTAP: "not ok N name" per failed assertion.
                r["failed_assertions"] = ";".join(m.group(1) for m in (re.match(r"not ok [0-9]+ (\S+)", l)
                                                                      for l in open(result)) if m)
            rows.append(r)
    return rows


# ---------------------------------------------------------------- output

def write_csv(path, rows, keys=None):
    if not rows:
        return
    keys = keys or list(rows[0].keys())
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})


def fmt_ratio(row, m):
    return "%.2f (%.2f-%.2f)" % (row[m + "_ratio"], row[m + "_ratio_min"], row[m + "_ratio_max"])


def plot(path, summary, e2e):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    zs = [r for r in summary if r["alloc"] == "zspp"]
    e2e = e2e if any(r["zpool"] == "zsmalloc" and r["variant"] == "default" for r in e2e) else []
    ncols = 3 if e2e else 2
    fig, axes = plt.subplots(1, ncols, figsize=(6 * ncols, 4.8))
    # Density ratios (1 thread: deterministic).
    ax = axes[0]
    d1 = [r for r in zs if r["threads"] == 1 and r["api"] == "rw"]
    x = range(len(d1))
    ax.bar([i - 0.2 for i in x], [r["density_fill_ratio"] for r in d1], 0.4, label="after fill")
    ax.bar([i + 0.2 for i in x], [r["density_half_ratio"] for r in d1], 0.4, label="after free 50% + compact")
    ax.set_xticks(list(x), ["chain %d" % r["chain"] for r in d1])
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_ylabel("density zspp / zsmalloc (higher is better)")
    ax.set_title("density (zsmalloc: 4 pages max per zspage)")
    lo = min([r["density_fill_ratio"] for r in d1] + [r["density_half_ratio"] for r in d1] + [1.0])
    ax.set_ylim(max(0, lo - 0.1), None)
    ax.legend(fontsize=8)
    # Speed ratios.
    ax = axes[1]
    labels, vals = [], {m: [] for m in ("malloc_ns_op", "read_ns_op", "free_ns_op")}
    for r in zs:
        labels.append("%s c%d %dT" % (r["api"], r["chain"], r["threads"]))
        for m in vals:
            vals[m].append(r[m + "_ratio"])
    x = range(len(labels))
    for k, (m, name) in enumerate((("malloc_ns_op", "malloc+write"), ("read_ns_op", "read"), ("free_ns_op", "free"))):
        lo = [max(0.0, r[m + "_ratio"] - r[m + "_ratio_min"]) for r in zs]
        hi = [max(0.0, r[m + "_ratio_max"] - r[m + "_ratio"]) for r in zs]
        ax.bar([i + (k - 1) * 0.27 for i in x], vals[m], 0.27, label=name, yerr=[lo, hi],
               error_kw={"elinewidth": 0.6, "capsize": 1.5, "ecolor": "0.35"})
    ax.set_xticks(list(x), labels, rotation=60, ha="right", fontsize=7)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_ylabel("ns/op zspp / zsmalloc (lower is better)")
    ax.set_title("speed: median of paired ratios (bars: min-max)")
    ax.set_ylim(0, min(3.0, max([1.5] + [v for m in vals for v in vals[m] if v == v]) * 1.3))
    ax.legend(fontsize=8)
    if e2e:
        ax = axes[2]
        dflt = {r["zpool"]: r for r in e2e if r["variant"] == "default"}
        ref = dflt.get("zsmalloc")
        names = [z for z in ("zbud", "z3fold", "zsmalloc", "zspp") if z in dflt]
        if ref:
            metrics = (("bytes_per_stored_page", "pool bytes/stored page"), ("swapout_fill_s", "swap-out time"),
                       ("swapin_verify_s", "swap-in time"))
            x = range(len(names))
            for k, (m, name) in enumerate(metrics):
                ax.bar([i + (k - 1) * 0.27 for i in x], [dflt[z].get(m, 0) / ref[m] if ref.get(m) else 0 for z in names],
                       0.27, label=name)
            ax.set_xticks(list(x), names)
            ax.axhline(1.0, color="k", lw=0.8)
            ax.set_ylabel("relative to zsmalloc (lower is better)")
            ax.set_title("zswap end to end")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def markdown_fold(fold_rows, hot, finfo):
    out = []
    begin = (finfo.get("BENCH-BEGIN") or [{}])[0]
    out.append("### Folding (CONFIG_ZSPP_FOLD)")
    out.append("")
    out.append("The micro benchmark's boot runs everything with the plain zspp.ko (`fold off`), unloads it "
               "and runs it all again with the `CONFIG_ZSPP_FOLD=y` build (`scripts/build-module.sh --fold`; "
               "`fold on`), with the bench module built against each. Raw numbers: [fold.csv](benchmarks/fold.csv) (every folding run), "
               "[fold-hotpath.csv](benchmarks/fold-hotpath.csv), "
               "[fold-micro-runs.csv](benchmarks/fold-micro-runs.csv) (every micro run of the fold build).")
    out.append("")
    if fold_rows:
        n = fold_rows[0]["n"]
        out.append("**Memory saved.** %d objects (sizes from the same histogram) into a chain-%d pool with "
                   "`zspp_obj_write`, of which the given share are byte-identical copies of a seeded random "
                   "earlier object (every other object's bytes are unique); then `zspp_compact` (pages before "
                   "fold), and with fold on `zspp_fold` (pages after fold; the pass includes its compaction), "
                   "timed, then a second `zspp_fold` with nothing new to fold (what a periodic pass costs on a "
                   "folded pool). Duplicate bytes = the share of the stored bytes that are copies: the most "
                   "folding could save. Every object is then read back and compared (also after freeing half), "
                   "and `zspp_debug_validate` checks the pool. Median of %s repeats (fold times: min-max); "
                   "objs/pages folded are the pool's `objs_folded`/`pages_folded` statistics." %
                   (n, fold_rows[0]["chain"], begin.get("fold_reps", "?")))
        out.append("")
        out.append("| duplicates | fold | duplicate bytes | pages before fold | pages after fold | saved | "
                   "objs_folded | pages_folded | fold ms | fold ns/object | 2nd pass ms (ns/object) | read ns/op | "
                   "verified |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in fold_rows:
            on = r["build"] != "nofold"
            out.append("| %d%% | %s | %.1f%% | %d | %d | %d (%.1f%%) | %s | %s | %s | %s | %s | %.0f | %d/%d%s |" % (
                r["dup_pct"], "on" if on else "off", r["dup_bytes_pct"], r["pages_before"], r["pages_after"],
                r["saved_pages"], r["saved_pct"], "%d" % r["objs_folded"] if on else "-",
                "%d" % r["pages_folded"] if on else "-",
                "%.1f (%.1f-%.1f)" % (r["fold_ns"] / 1e6, r["fold_ns_min"] / 1e6, r["fold_ns_max"] / 1e6) if on else "-",
                "%.0f" % r["fold_ns_obj"] if on else "-",
                "%.1f (%.0f)" % (r["refold_ns"] / 1e6, r["refold_ns_obj"]) if on else "-",
                r["read_ns_op"], r["verified"], r["expected"],
                "" if not (r["mismatches"] or r["validate_errors"]) else
                " (**%d mismatches, %d validate errors**)" % (r["mismatches"], r["validate_errors"])))
        out.append("")
    if hot:
        out.append("**Cost on the hot paths when nothing folds.** The micro runs above, repeated with "
                   "the fold build (no `zspp_fold` call, so no object is ever shared): median ns/op off -> on, "
                   "then on/off of those medians, and in brackets on/off of the paired zspp/zsmalloc ratios "
                   "(zsmalloc is the same module in both halves, so this takes out what drifts between "
                   "them; TCG run-to-run spread is about +-0.1).")
        out.append("")
        out.append("| config | threads | malloc ns off -> on | on/off | read ns off -> on | on/off | "
                   "free ns off -> on | on/off |")
        out.append("|---|---|---|---|---|---|---|---|")
        for r in hot:
            cells = []
            for m in ("malloc_ns_op", "read_ns_op", "free_ns_op"):
                cells.append("%.0f -> %.0f" % (r[m + "_off"], r[m + "_on"]))
                cells.append("%.2f%s" % (r[m + "_raw"], " (%.2f)" % r[m + "_norm"] if r[m + "_norm"] == r[m + "_norm"]
                                         else ""))
            out.append("| %s | %d | %s |" % (r["config"], r["threads"], " | ".join(cells)))
        out.append("")
    return "\n".join(out)


def markdown(args, summary, e2e, info, fold_md=""):
    out = []
    begin = (info.get("BENCH-BEGIN") or [{}])[0]
    guest = (info.get("BENCH-GUEST") or [{}])[0]
    out.append("Generated by `make bench` (bench/report.py) on %s. Kernel: Debian %s (stock), QEMU `-accel tcg`, "
               "2 vCPUs, 1 GiB. Data set: `bench/data/lzo-sizes.csv` (LZO1X-1 sizes of %s real pages, see its "
               "header), %s objects per run, seed %s, %s repeats interleaved." %
               (datetime.date.today().isoformat(), args.kernel or guest.get("kernel", "?"),
                begin.get("hist_pages", "?"), begin.get("nobj", "?"), begin.get("seed", "?"), begin.get("reps", "?")))
    out.append("")
    out.append("Raw numbers: [micro-runs.csv](benchmarks/micro-runs.csv) (every run), "
               "[micro-summary.csv](benchmarks/micro-summary.csv), [e2e.csv](benchmarks/e2e.csv); "
               "plot: [ratios.png](benchmarks/ratios.png).")
    out.append("")
    out.append("![density and speed ratios](benchmarks/ratios.png)")
    out.append("")
    out.append("### Density (bytes stored / bytes of pages held; 1 thread)")
    out.append("")
    out.append("zsmalloc on 6.1 has one geometry (at most 4 pages per zspage, `ZS_MAX_ZSPAGE_ORDER` 2); zspp runs "
               "at chain 4, 8 and 16 (`zspp_create_pool` chain argument). Both map APIs of zspp store the same "
               "layout, so density is shown once. zspp's metadata lives in kmalloc (descriptors, 8-byte handles), "
               "not in the pages: its size per object is in the last column (zsmalloc keeps an 8-byte header in "
               "each object, counted in its pages, plus an 8-byte handle and a zspage struct outside them).")
    out.append("")
    out.append("| allocator | chain | after fill | ratio | after free 50% + compact | ratio | zspp metadata B/obj | "
               "pages after compact | of which in non-full zspages (classes in use) |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in summary:
        if r["threads"] != 1 or (r["alloc"] == "zspp" and r["api"] != "rw"):
            continue
        out.append("| %s | %d | %.4f | %.3f | %.4f | %.3f | %s | %d | %s |" % (
            r["alloc"], r["chain"], r["density_fill"], r["density_fill_ratio"], r["density_half"],
            r["density_half_ratio"], "%.1f" % r["meta_per_obj"] if r["alloc"] == "zspp" else "-", r["pages_half"],
            "%d (%d)" % (r["tail_pages_half"], r["classes_half"]) if r["tail_pages_half"] >= 0 else "n/a"))
    out.append("")
    out.append("### Speed (ns per operation, median (min-max) of %s repeats; ratio = zspp/zsmalloc within a pair)" %
               begin.get("reps", "?"))
    out.append("")
    out.append("`map`: zspp_map_object/unmap (zsmalloc: zs_map_object/unmap, its only API on 6.1); `rw`: "
               "zspp_obj_write for the store, zspp_obj_read_begin/read_end for the read; `rw-lru`: the `rw` API on a "
               "pool made with zspp_create_pool_evictable (as zspp's zpool driver makes it for 6.1 zswap: every "
               "malloc also moves its zspage to the front of the class LRU; nothing is evicted here). malloc = malloc + write "
               "of the object; read = map/read_begin + copy out + unmap/read_end; free = free (shuffled order). "
               "With 2 threads, ns/op is per thread (each thread's time over its own operations). Every zspp "
               "run is paired with a zsmalloc run right before or after it (alternating); the ratio is taken "
               "within the pair, so zsmalloc's row summarises all its runs.")
    out.append("")
    out.append("| config | threads | malloc ns | ratio | read ns | ratio | free ns | ratio |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in summary:
        cells = []
        for m in ("malloc_ns_op", "read_ns_op", "free_ns_op"):
            cells.append("%.0f (%.0f-%.0f)" % (r[m], r[m + "_min"], r[m + "_max"]))
            cells.append("-" if r["alloc"] == "zsmalloc" else fmt_ratio(r, m))
        out.append("| %s | %d | %s |" % (r["config"], r["threads"], " | ".join(cells)))
    out.append("")
    if fold_md:
        out.append(fold_md)
    if e2e:
        out.append("### zswap end to end (tests/harness/e2e.py, one fresh boot per zpool, same parameters)")
        out.append("")
        out.append("Workload: tests/e2e/workload.c, 36864 pages (144 MiB) in a 48 MiB memory cgroup "
                   "(memory.zswap.max 36 MiB), lzo, every page verified. `default`: max_pool_percent 20 (not "
                   "reached); `limit`: max_pool_percent 2 (~19 MiB of 1 GiB), so zswap hits its limit. "
                   "Peak = the sample with the largest pool_total_size; per stored page divides it by the pages "
                   "zswap stored in the zpool at that sample (stored_pages minus same-filled pages, which take "
                   "no pool space). swap-out = the workload's fill phase; swap-in = its four verify passes "
                   "(each also pushes other pages out); wall = the whole workload. zbud and z3fold have a "
                   "shrink op on 6.1, so zswap prepends an 8-byte header to their objects and writes back when "
                   "the limit is hit; so does zspp when its driver has one (it does on 6.1 since the writeback "
                   "work: its objects then carry that header too); zsmalloc on 6.1 has none and rejects under the "
                   "limit (counted in reject_reclaim_fail). The last column is tests/harness/e2e.py's own "
                   "verdict, reported, not judged here: in a limit run, stock 6.1 zswap may leak a pool reference "
                   "when it hits max_pool_percent with its shrink work queued, and then rmmod and the debugfs check "
                   "fail for any loadable allocator; z3fold sometimes keeps a few pages after the drain.")
        out.append("")
        out.append("| variant | zpool | peak pool bytes | stored pages at peak | pool B per stored page | "
                   "max stored_pages | written_back | pool_limit_hit | rejected (reclaim_fail) | swap-out s | swap-in s | wall s | "
                   "verified | e2e assertions |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in e2e:
            out.append("| %s | %s | %d | %d | %.0f | %d | %d | %d | %d | %.1f | %.1f | %.1f | %s | %s |" % (
                r["variant"], r["zpool"], r.get("peak_pool_bytes", 0), r.get("pool_stored_at_peak", 0),
                r.get("bytes_per_stored_page", float("nan")), r["max_stored_pages"], r["max_written_back_pages"],
                r["max_pool_limit_hit"], r["max_reject_reclaim_fail"], r["swapout_fill_s"], r["swapin_verify_s"], r["workload_s"],
                r["verified"], r.get("assertions", "n/a") + (" (failed: %s)" % r["failed_assertions"]
                                                             if r.get("failed_assertions") else "")))
        out.append("")
    return "\n".join(out)


def smoke_checks(args, text, parsed, name, build, tag):
    """Checks of one build's runs: bench-<check> (plain build), bench-fold-<check>."""
    runs, folds, errors, info = parsed
    npass = nfail = 0

    def check(ok, what, why=""):
        nonlocal npass, nfail
        if ok:
            print("PASS: %s-%s" % (name, what))
            npass += 1
        else:
            print("FAIL: %s-%s (%s)" % (name, what, why))
            nfail += 1

    ins = dict(re.findall(r"^BENCH-INSMOD (\S+) rc=(\d+)", text, re.M))
    rm = dict(re.findall(r"^BENCH-RMMOD (\S+) rc=(\d+)", text, re.M))
    check(all(ins.get(m) == "0" for m in ("zsmalloc", "zspp" + tag, "zspp_bench" + tag)), "modules-loaded",
          "insmod: %s" % ins)
    begin = (info.get("BENCH-BEGIN") or [{}])[0]
    check("BENCH-BEGIN" in info and "BENCH-END" in info and not errors and begin.get("build") == build, "ran",
          "; ".join(errors[:3]) or ("build=%s, %s expected" % (begin.get("build"), build) if "BENCH-END" in info
                                    else "no BENCH-BEGIN/BENCH-END"))
    pairs = {}
    for r in runs:
        pairs.setdefault(r["pair"], []).append(r["alloc"])
    check(len(runs) == args.expect_runs and all(sorted(p) == ["zsmalloc", "zspp"] for p in pairs.values())
          and len(folds) == args.expect_fold_runs, "runs-parsed",
          "%d runs and %d folding runs parsed, %d and %d expected" % (len(runs), len(folds), args.expect_runs,
                                                                      args.expect_fold_runs))
    bad = ["%s/%dT: fail=%d verified=%d/%d mismatches=%d" % (r["config"], r["threads"], r["fail"], r["verified"],
                                                            r["expected"], r["mismatches"])
           for r in runs if r["fail"] or r["mismatches"] or r["n"] != args.nobj
           or r["verified"] != r["expected"] or r["expected"] != r["n"] + r["n"] - r["n"] // 2]
    bad += ["fold %d%% %s: fail=%d verified=%d/%d mismatches=%d validate=%d" % (
        r["dup_pct"], r["build"], r["fail"], r["verified"], r["expected"], r["mismatches"], r["validate"])
            for r in folds if r["fail"] or r["mismatches"] or r["n"] != args.nobj or r["validate"]
            or r["verified"] != r["expected"] or r["expected"] != r["n"] + r["n"] - r["n"] // 2]
    check(runs and not bad, "every-object-verified", "; ".join(bad[:3]))
    bad = ["%s/%dT: pages_fill=%d pages_end=%d density=%.3f" % (r["config"], r["threads"], r["pages_fill"],
                                                                 r["pages_end"], r["density_fill"])
           for r in runs if not (r["pages_fill"] > 0 and r["pages_end"] == 0 and r["frees"] == r["n"]
                                 and 0 < r["density_fill"] <= 1 and 0 < r["density_half"] <= 1
                                 and r["malloc_ns"] > 0 and r["read_ns"] > 0 and r["free_ns"] > 0)]
    # Folding: the pools drained, and zspp_fold ran (two passes) exactly in the fold build.
    bad += ["fold %d%% %s: pages_before=%d pages_after=%d pages_end=%d fold_passes=%d objs_folded=%d" % (
        r["dup_pct"], r["build"], r["pages_before"], r["pages_after"], r["pages_end"], r["fold_passes"],
        r["objs_folded"])
            for r in folds if not (r["pages_before"] > 0 and r["pages_end"] == 0 and r["read_ns"] > 0
                                   and r["pages_after"] <= r["pages_before"]
                                   and (r["fold_passes"] == 2 and r["fold_ns"] > 0 if build == "fold" else
                                        r["fold_passes"] == 0 and r["objs_folded"] == 0 and r["fold_ns"] == 0))]
    check(runs and not bad, "numbers-sane", "; ".join(bad[:3]))
    check(rm.get("zspp" + tag) == "0" and rm.get("zsmalloc") == "0", "rmmod", "rmmod: %s" % rm)
    return npass, nfail


def accounting_sections(args):
    """Per kernel: measured memory per object (pages and metadata), TCG ns beside -icount
    instructions; then the real-data end to end. CSVs into args.out."""
    if not args.bench_dir or args.smoke:
        return ""
    out = ["### Honest accounting: pages + metadata, 6.1 and 6.12 (issue 18)", ""]
    kernels = args.kernels.split(",")
    allmem, allicount = [], []
    for k in kernels:
        d = args.bench_dir
        tlog = os.path.join(d, "micro-%s" % k, "console.clean.log")
        tcg = parse_micro(tlog)[0].get("nofold", ([],))[0] if os.path.exists(tlog) else []
        ic = []
        for mode in ("icount", "icount2"):
            ilog = os.path.join(d, "micro-%s-%s" % (mode, k), "console.clean.log")
            ic.append(parse_micro(ilog)[0].get("nofold", ([],))[0] if os.path.exists(ilog) else [])
        mem = report_acct.parse_mem(tlog) if os.path.exists(tlog) else []
        for r in mem:
            r["kernel"] = k
        for j, runs in enumerate(ic):
            for r in runs:
                allicount.append(dict(r, kernel=k, boot=j + 1))
        allmem += mem
        if mem:
            out.append(report_acct.markdown_mem(k, mem))
        sp = report_acct.markdown_speed(k, tcg, [x for x in ic if x])
        if sp:
            out.append(sp)
    rd = report_acct.realdata_rows(args.bench_dir, kernels)
    if rd:
        out.append(report_acct.markdown_realdata(rd))
        write_csv(os.path.join(args.out, "realdata.csv"), rd)
    if allmem:
        write_csv(os.path.join(args.out, "micro-mem.csv"), allmem)
    if allicount:
        write_csv(os.path.join(args.out, "micro-icount-runs.csv"), allicount,
                  ["kernel", "boot", "config"] + RUN_KEYS + ["malloc_ns_op", "read_ns_op", "free_ns_op"])
    return "\n".join(out) if len(out) > 2 else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--micro-log")
    ap.add_argument("--e2e-dir")
    ap.add_argument("--out", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--kernel")
    ap.add_argument("--data")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--expect-runs", type=int, default=0)
    ap.add_argument("--expect-fold-runs", type=int, default=0)
    ap.add_argument("--expect-builds", default="nofold")
    ap.add_argument("--nobj", type=int, default=0)
    ap.add_argument("--bench-dir", help="$workdir of scripts/bench.sh: micro-K, micro-icount[2]-K, realdata-K-Z")
    ap.add_argument("--kernels", default="6.1", help="kernels of the per-kernel sections (comma-separated)")
    ap.add_argument("--expect-mem", type=int, default=0, help="smoke: assert the memory accounting parsed")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    empty = ([], [], [], {})
    builds, splats = ({}, [])
    if args.micro_log and os.path.exists(args.micro_log):
        builds, splats = parse_micro(args.micro_log)
    elif args.smoke:
        print("FAIL: bench-ran (no console log %s)" % args.micro_log)
        return 1
    parsed, fparsed = builds.get("nofold", empty), builds.get("fold", empty)
    runs, folds, errors, info = parsed
    summary = summarize_micro(runs) if runs else []
    fsummary = summarize_micro(fparsed[0]) if fparsed[0] else []
    fold_rows = summarize_fold(folds + fparsed[1])
    hot = summarize_hotpath(summary, fsummary)
    e2e = collect_e2e(args.e2e_dir)

    npass = nfail = 0
    if args.smoke:
        text = open(args.micro_log, errors="replace").read()
        for build in args.expect_builds.split(","):
            p_, f_ = smoke_checks(args, text, builds.get(build, empty), "bench" if build == "nofold" else "bench-fold",
                                  build, "" if build == "nofold" else "-fold")
            npass, nfail = npass + p_, nfail + f_
        unexpected = set(builds) - set(args.expect_builds.split(","))
        if unexpected:
            print("FAIL: bench-builds (runs of %s, expected only %s)" % (",".join(sorted(unexpected)),
                                                                        args.expect_builds))
            nfail += 1
        if args.expect_mem:
            def mcheck(ok, what, why=""):
                nonlocal npass, nfail
                if ok:
                    print("PASS: bench-%s" % what)
                    npass += 1
                else:
                    print("FAIL: bench-%s (%s)" % (what, why))
                    nfail += 1
            report_acct.mem_smoke(report_acct.parse_mem(args.micro_log), args.nobj, mcheck)
        if not splats:
            print("PASS: bench-dmesg-clean")
            npass += 1
        else:
            print("FAIL: bench-dmesg-clean (%s)" % " | ".join(s_[:120] for s_ in splats[:3]))
            nfail += 1
    try:
        if runs:
            write_csv(os.path.join(args.out, "micro-runs.csv"), runs,
                      ["config"] + RUN_KEYS + ["malloc_ns_op", "read_ns_op", "free_ns_op",
                                                          "density_fill", "density_half"])
            write_csv(os.path.join(args.out, "micro-summary.csv"), summary)
        if e2e:
            write_csv(os.path.join(args.out, "e2e.csv"), e2e,
                      ["variant", "zpool", "peak_pool_bytes", "stored_at_peak", "pool_stored_at_peak",
                       "bytes_per_stored_page", "max_stored_pages", "max_written_back_pages", "max_pool_limit_hit",
                       "max_reject_alloc_fail", "max_reject_reclaim_fail", "max_reject_compress_poor",
                       "swapout_fill_s", "swapin_verify_s", "rewrite_s", "workload_s", "verified", "mismatches",
                       "pswpin", "pswpout", "zswpin", "zswpout", "assertions", "failed_assertions"])
        if fold_rows:
            write_csv(os.path.join(args.out, "fold.csv"), folds + fparsed[1],
                      FOLD_KEYS + ["saved_pages", "saved_pct", "dup_bytes_pct", "fold_ns_obj", "refold_ns_obj",
                                   "read_ns_op", "density_before", "density_after"])
        if hot:
            write_csv(os.path.join(args.out, "fold-hotpath.csv"), hot)
        if fparsed[0]:
            write_csv(os.path.join(args.out, "fold-micro-runs.csv"), fparsed[0],
                      ["config"] + RUN_KEYS + ["malloc_ns_op", "read_ns_op", "free_ns_op",
                                               "density_fill", "density_half"])
        if summary:
            plot(os.path.join(args.out, "ratios.png"), summary, e2e)
        fold_md = markdown_fold(fold_rows, hot, fparsed[3] or info) if fold_rows or hot else ""
        md = markdown(args, summary, e2e, info, fold_md) if summary else ""
        acct = accounting_sections(args)
        if acct:
            md = (md + "\n" if md else "") + acct
        if args.doc:
            doc = open(args.doc).read()
            b, e = "<!-- bench:begin -->", "<!-- bench:end -->"
            if b not in doc or e not in doc:
                raise SystemExit("%s has no %s ... %s markers" % (args.doc, b, e))
            doc = doc.split(b)[0] + b + "\n" + md + "\n" + e + doc.split(e, 1)[1]
            open(args.doc, "w").write(doc)
        else:
            open(os.path.join(args.out, "benchmarks.md"), "w").write(md + "\n")
        if args.smoke:
            print("PASS: bench-report (csv, table and plot in %s)" % args.out)
            npass += 1
    except Exception as exc:  # the report must not rot either
        if not args.smoke:
            raise
        print("FAIL: bench-report (%s: %s)" % (type(exc).__name__, exc))
        nfail += 1
    if args.smoke:
        print("bench-smoke: %d passed, %d failed" % (npass, nfail))
        return 1 if nfail else 0
    if not args.smoke:
        print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
