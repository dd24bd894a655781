# SPDX-License-Identifier: GPL-2.0
"""bench/report_acct.py: the honest-accounting parts of bench/report.py.

* Memory accounting of the micro boot (zspp_bench.ko hold=1, booted with
  slab_nomerge): BENCH-MEM lines (the allocator's pages, zspp's bytes_metadata)
  and BENCH-SLAB lines (/proc/slabinfo and /proc/meminfo deltas measured by the
  guest around fill / churn / release). Memory = pages + the slab memory of the
  allocator's own caches (zsmalloc: zs_handle*, zspage*; zspp: zspp*) + the
  kmalloc-* delta (where zspp's descriptors are while they are kmalloc'd);
  every other cache that changed is reported apart, nothing is dropped.
* Speed per kernel: TCG ns/op beside the -icount instruction counts per op.
* The real-data end to end (bench/realdata.c): RD-* lines per boot.
"""
import os
import re
import statistics

PAGE = 4096
ZS_CACHES = ("zs_handle", "zspage")
ZSPP_CACHES = ("zspp",)
KMALLOC = ("kmalloc-", "dma-kmalloc-", "kmalloc-rcl-", "kmalloc-cg-")


def kv(line):
    return dict(f.split("=", 1) for f in line.split() if "=" in f)


def strip(raw):
    return re.sub(r"^<\d+>\[\s*[\d.]+\]\s*", "", raw)


def num(v, default=0):
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def cache_kind(name, alloc):
    if name.startswith("meminfo:"):
        return "meminfo"
    if name.startswith(ZS_CACHES):
        return "alloc" if alloc == "zsmalloc" else "other-alloc"
    if name.startswith(ZSPP_CACHES):
        return "alloc" if alloc == "zspp" else "other-alloc"
    if name.startswith(KMALLOC):
        return "kmalloc"
    return "other"


def slab_sums(slabs, alloc):
    """{name: delta dict} -> sums by kind of d_slab_bytes (meminfo: d_bytes by name)."""
    out = {"alloc": 0, "alloc_objs": 0, "alloc_obj_bytes": 0, "kmalloc": 0, "other": 0, "other-alloc": 0,
           "caches": []}
    for name, d in sorted(slabs.items()):
        k = cache_kind(name, alloc)
        if k == "meminfo":
            out[name.split(":")[1]] = num(d.get("d_bytes"))
            continue
        out[k] += num(d.get("d_slab_bytes"))
        if k == "alloc":
            out["alloc_objs"] += num(d.get("d_objs"))
            out["alloc_obj_bytes"] += num(d.get("d_obj_bytes"))
            out["caches"].append(name)
    return out


# ---------------------------------------------------------------- micro memory

def parse_mem(path):
    """BENCH-MEM / BENCH-SLAB lines: {(cfg-cN, phase): row}."""
    rows, slabs = {}, {}
    if not path or not os.path.exists(path):
        return []
    seen = set()
    for raw in open(path, errors="replace").read().splitlines():
        line = strip(raw)
        if line.startswith("BENCH-MEM "):
            d = kv(line)
            key = (d["cfg"] if d["alloc"] == "zsmalloc" else "%s-c%s" % (d["cfg"], d["chain"]), d["phase"])
            if key in seen:  # the dmesg dump repeats the console's lines
                continue
            seen.add(key)
            rows[key] = d
        elif line.startswith("BENCH-SLAB "):
            d = kv(line)
            tag, phase = d["tag"].rsplit("/", 1)
            if tag.startswith("zsmalloc-"):  # the guest's tag: zsmalloc-c0 (the kernel's chain)
                tag = "zsmalloc"
            slabs.setdefault((tag, phase), {})[d["name"]] = d
    out = []
    for (tag, phase), d in rows.items():
        alloc = d["alloc"]
        s = slab_sums(slabs.get((tag, phase), {}), alloc)
        objs = num(d["objs"])
        r = {"cfg": tag, "alloc": alloc, "api": d["api"], "chain": num(d["chain"]), "phase": phase,
             "n": num(d["n"]), "fail": num(d["fail"]), "objs": objs, "stored": num(d["stored"]),
             "pages": num(d["pages"]), "meta_stat": num(d["meta"]), "verified": num(d["verified"]),
             "mismatches": num(d["mismatches"]), "slab_parsed": (tag, phase) in slabs,
             "alloc_slab": s["alloc"], "alloc_objs": s["alloc_objs"], "alloc_obj_bytes": s["alloc_obj_bytes"],
             "alloc_caches": " ".join(s["caches"]), "kmalloc_slab": s["kmalloc"], "other_slab": s["other"],
             "sunreclaim": s.get("SUnreclaim", 0)}
        r["page_bytes"] = r["pages"] * PAGE
        r["total_bytes"] = r["page_bytes"] + r["alloc_slab"] + r["kmalloc_slab"]
        r["pages_per_obj"] = r["page_bytes"] / objs if objs else float("nan")
        r["meta_per_obj"] = (r["alloc_slab"] + r["kmalloc_slab"]) / objs if objs else float("nan")
        r["total_per_obj"] = r["total_bytes"] / objs if objs else float("nan")
        r["meta_stat_per_obj"] = r["meta_stat"] / objs if objs else float("nan")
        r["density_pages"] = r["stored"] / r["page_bytes"] if r["page_bytes"] else 0.0
        r["density_total"] = r["stored"] / r["total_bytes"] if r["total_bytes"] else 0.0
        out.append(r)
    order = {"fill": 0, "churn": 1, "release": 2}
    out.sort(key=lambda r: (r["alloc"] != "zsmalloc", r["api"], r["chain"], order.get(r["phase"], 9)))
    return out


def mem_smoke(rows, nobj, check):
    """bench-mem-* checks: every configuration's three phases parsed, slab deltas present
    for the allocator's caches after the fill, every object verified at release."""
    cfgs = sorted({r["cfg"] for r in rows})
    by = {(r["cfg"], r["phase"]): r for r in rows}
    bad = [c for c in cfgs if any((c, p) not in by for p in ("fill", "churn", "release"))]
    check(len(cfgs) >= 2 and not bad and any(r["alloc"] == "zsmalloc" for r in rows)
          and any(r["alloc"] == "zspp" for r in rows), "mem-runs-parsed",
          "configurations %s, incomplete %s" % (cfgs, bad))
    bad = ["%s: slab lines %s, allocator cache objects %+d, pages %d" % (
        r["cfg"], r["slab_parsed"], r["alloc_objs"], r["pages"])
           for r in rows if r["phase"] == "fill" and not (r["slab_parsed"] and r["alloc_objs"] > 0 and r["pages"] > 0
                                                          and r["objs"] == nobj and not r["fail"])]
    check(rows and not bad, "mem-slab-accounting", "; ".join(bad[:3]))
    bad = ["%s: verified %d of %d, %d mismatches, pages left %d" % (
        r["cfg"], r["verified"], nobj - nobj // 2, r["mismatches"], r["pages"])
           for r in rows if r["phase"] == "release" and not (
               r["verified"] == nobj - nobj // 2 and not r["mismatches"] and r["pages"] == 0)]
    check(rows and not bad, "mem-every-object-verified", "; ".join(bad[:3]))


def markdown_mem(kernel, rows):
    out = []
    zs = {r["phase"]: r for r in rows if r["alloc"] == "zsmalloc"}
    out.append("#### Memory per object, %s (1 thread, measured: pages + slab deltas)" % kernel)
    out.append("")
    out.append("B/obj: pages = the allocator's pages x 4096 / objects held; metadata = slab memory the "
               "allocator's own caches gained (zsmalloc: `zs_handle*` + `zspage*`; zspp: `zspp*`) + the "
               "`kmalloc-*` delta, from /proc/slabinfo (slabs x pages per slab x 4096) with `slab_nomerge`; "
               "total = both. zspp stat = its own `bytes_metadata` per object (cross-check). other = every "
               "other cache that changed (not counted in total). Ratio = zspp/zsmalloc of the same phase "
               "(target: total <= 0.97).")
    out.append("")
    out.append("| config | phase | objects | pages B/obj | metadata B/obj (own caches + kmalloc) | total B/obj | "
               "ratio pages | ratio total | zspp stat B/obj | other slab B | own caches |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["phase"] == "release":
            continue
        z = zs.get(r["phase"])
        rp = r["pages_per_obj"] / z["pages_per_obj"] if z and r["alloc"] != "zsmalloc" else None
        rt = r["total_per_obj"] / z["total_per_obj"] if z and r["alloc"] != "zsmalloc" else None
        out.append("| %s | %s | %d | %.1f | %.1f (%.1f + %.1f) | %.1f | %s | %s | %s | %d | %s |" % (
            r["cfg"], "fill" if r["phase"] == "fill" else "free 50% + compact", r["objs"], r["pages_per_obj"],
            r["meta_per_obj"], r["alloc_slab"] / max(1, r["objs"]), r["kmalloc_slab"] / max(1, r["objs"]),
            r["total_per_obj"], "%.3f" % rp if rp else "-", "%.3f" % rt if rt else "-",
            "%.1f" % r["meta_stat_per_obj"] if r["alloc"] == "zspp" else "-", r["other_slab"],
            r["alloc_caches"] or "-"))
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- speed: TCG and icount

def summarize_speed(runs):
    """{(config, threads): {metric: median per op}} and per-pair ratios."""
    base = {r["pair"]: r for r in runs if r["alloc"] == "zsmalloc"}
    groups = {}
    for r in runs:
        groups.setdefault((r["config"], r["threads"]), []).append(r)
    res = {}
    for key, rs in groups.items():
        row = {}
        for m in ("malloc_ns_op", "read_ns_op", "free_ns_op"):
            vals = [r[m] for r in rs if r[m] == r[m]]
            row[m] = statistics.median(vals) if vals else float("nan")
            row[m + "_spread"] = (max(vals) - min(vals)) / row[m] if vals and row[m] else float("nan")
            rat = [r[m] / base[r["pair"]][m] for r in rs if r["pair"] in base and base[r["pair"]][m]]
            row[m + "_ratio"] = statistics.median(rat) if rat else float("nan")
        row["reps"] = len(rs)
        row["alloc"] = rs[0]["alloc"]
        row["api"] = rs[0]["api"]
        row["chain"] = rs[0]["chain"]
        res[key] = row
    return res


def determinism(icount_runs_list):
    """Largest relative spread (max-min)/median of instructions per op over every repeat of
    every icount boot given, per metric, and the configuration where it is."""
    groups = {}
    for runs in icount_runs_list:
        for r in runs:
            groups.setdefault(r["config"], []).append(r)
    worst = {}
    for cfg, rs in groups.items():
        for m in ("malloc_ns_op", "read_ns_op", "free_ns_op"):
            vals = [r[m] for r in rs]
            if len(vals) < 2:
                continue
            med = statistics.median(vals)
            sp = (max(vals) - min(vals)) / med if med else 0.0
            if sp >= worst.get(m, (-1, ""))[0]:
                worst[m] = (sp, cfg, len(vals))
    return worst


def boot_to_boot(icount_runs_list):
    """Largest relative difference of instructions per op between the same run (rep, pair,
    config) of two icount boots, per metric."""
    if len([x for x in icount_runs_list if x]) < 2:
        return {}
    a = {(r["rep"], r["pair"], r["config"]): r for r in icount_runs_list[0]}
    worst = {}
    for r in icount_runs_list[1]:
        o = a.get((r["rep"], r["pair"], r["config"]))
        if not o:
            continue
        for m in ("malloc_ns_op", "read_ns_op", "free_ns_op"):
            d = abs(r[m] - o[m]) / o[m] if o[m] else 0.0
            if d >= worst.get(m, (-1, ""))[0]:
                worst[m] = (d, r["config"])
    return worst


def markdown_speed(kernel, tcg_runs, icount_runs_list):
    out = []
    t = summarize_speed(tcg_runs) if tcg_runs else {}
    i = summarize_speed(icount_runs_list[0]) if icount_runs_list and icount_runs_list[0] else {}
    if not t and not i:
        return ""
    out.append("#### Speed per operation, %s: TCG ns and instructions (-icount)" % kernel)
    out.append("")
    out.append("ns = median guest ns per op under plain TCG (2 vCPUs, noisy: +-0.1 on ratios between runs); "
               "instr = guest instructions per op in a boot under QEMU `-icount shift=0,sleep=off` (1 vCPU, "
               "1 thread only: icount runs every vCPU in one host thread), median of its repeats. Ratios "
               "zspp/zsmalloc within a pair (targets: read <= 0.90, malloc + write <= 0.95, free < 1).")
    out.append("")
    out.append("| config | threads | malloc ns | ratio | malloc instr | ratio | read ns | ratio | read instr | ratio | "
               "free ns | ratio | free instr | ratio |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    keys = sorted(set(t) | set(i), key=lambda k: (k[1], (t.get(k) or i.get(k))["alloc"] != "zsmalloc",
                                                   (t.get(k) or i.get(k))["api"], (t.get(k) or i.get(k))["chain"]))
    for key in keys:
        cells = []
        for m in ("malloc_ns_op", "read_ns_op", "free_ns_op"):
            for src in (t, i):
                r = src.get(key)
                if not r:
                    cells += ["-", "-"]
                    continue
                cells.append("%.0f" % r[m])
                cells.append("-" if r["alloc"] == "zsmalloc" else "%.2f" % r[m + "_ratio"])
        out.append("| %s | %d | %s |" % (key[0], key[1], " | ".join(cells)))
    out.append("")
    w = determinism(icount_runs_list)
    if w:
        b2b = boot_to_boot(icount_runs_list)
        if b2b:
            out.append("Determinism, boot to boot: the same run (repeat, pair, configuration) in two -icount "
                       "boots differs by at most %s (instructions per op)." % "; ".join(
                           "%s %.3f%% (%s)" % (m.split("_")[0], 100 * v[0], v[1]) for m, v in sorted(b2b.items())))
            out.append("")
        out.append("Spread over repeats (%d icount boot(s), every repeat; the first zsmalloc run of a boot "
                   "starts on cold caches and pages): largest "
                   "(max-min)/median per op: %s." % (len([x for x in icount_runs_list if x]), "; ".join(
                       "%s %.4f%% (%s, %d values)" % (m.split("_")[0], 100 * v[0], v[1], v[2])
                       for m, v in sorted(w.items()))))
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- real data

def parse_realdata(path):
    text = open(path, errors="replace").read()
    lines = [strip(l) for l in text.splitlines()]
    snaps = {}
    res = {"log": path, "complete": "RD-END" in text}
    for l in lines:
        if not l.startswith("RD-"):
            continue
        tag = l.split(" ", 1)[0]
        d = kv(l)
        if tag in ("RD-ZSWAP", "RD-MEMCG", "RD-VMSTAT", "RD-ZSPP"):
            snaps.setdefault(d.get("tag"), {})[tag] = d
        elif tag == "RD-SLAB":
            snaps.setdefault(d.get("tag"), {}).setdefault("slab", {})[d["name"]] = d
        elif tag == "RD-RESULT":
            res.update({"pages_a": num(d.get("pages_a")), "pages_b": num(d.get("pages_b")),
                        "checked": num(d.get("checked")), "verified": num(d.get("verified")),
                        "mismatches": num(d.get("mismatches"), -1)})
        elif tag == "RD-GUEST":
            res["kernel"] = d.get("kernel")
            res["zpool"] = d.get("zpool")
        elif tag == "RD-EXIT":
            res["exit"] = num(d.get("rc"), -1)
            res["workload_s"] = float(d.get("end", 0)) - float(d.get("start", 0))
        elif tag == "RD-PHASE":
            w = l.split()
            if len(w) > 1:
                res["secs_" + w[1] + ("-" + w[2] if w[1] == "reclaim" else "")] = float(d.get("secs", "nan"))
    res["snaps"] = snaps
    return res


def realdata_rows(d, kernels, zpools=("zsmalloc", "zspp", "zspp-c8", "zspp-c16")):
    rows = []
    for k in kernels:
        for zname in zpools:
            log = os.path.join(d, "realdata-%s-%s" % (k, zname), "console.clean.log")
            if not os.path.exists(log):
                continue
            # zspp-cN (bench.sh --realdata-zpools): zspp with chain_size=N.
            z = "zspp" if zname.startswith("zspp") else zname
            r = parse_realdata(log)
            secs = os.path.join(os.path.dirname(log), "seconds")
            boot_s = float(open(secs).read()) if os.path.exists(secs) else float("nan")
            for phase in ("fill", "verified", "churn", "end"):
                s = r["snaps"].get(phase)
                if not s or "RD-ZSWAP" not in s:
                    continue
                zw = s["RD-ZSWAP"]
                stored = num(zw.get("stored_pages"))
                same = num(zw.get("same_filled_pages"))
                pool = num(zw.get("pool_total_size"))
                sums = slab_sums(s.get("slab", {}), z)
                in_pool = stored - same
                row = {"kernel": k, "zpool": zname, "phase": phase, "stored_pages": stored, "same_filled": same,
                       "pool_pages_stored": in_pool, "pool_bytes": pool, "alloc_slab": sums["alloc"],
                       "alloc_caches": " ".join(sums["caches"]), "kmalloc_slab": sums["kmalloc"],
                       "other_slab": sums["other"], "sunreclaim": sums.get("SUnreclaim", 0),
                       "written_back": num(zw.get("written_back_pages")),
                       "reject_compress_poor": num(zw.get("reject_compress_poor")),
                       "reject_alloc_fail": num(zw.get("reject_alloc_fail")),
                       "pool_limit_hit": num(zw.get("pool_limit_hit")),
                       "verified": r.get("verified", 0), "checked": r.get("checked", 0),
                       "pages_a": r.get("pages_a", 0), "pages_b": r.get("pages_b", 0),
                       "mismatches": r.get("mismatches", -1), "exit": r.get("exit", -1),
                       "workload_s": r.get("workload_s", float("nan")), "boot_s": boot_s}
                zspp = s.get("RD-ZSPP")
                row["zspp_bytes_metadata"] = num(zspp.get("bytes_metadata")) if zspp else 0
                total = pool + sums["alloc"] + sums["kmalloc"]
                row["total_bytes"] = total
                if in_pool > 0:
                    row["pool_per_page"] = pool / in_pool
                    row["meta_per_page"] = (sums["alloc"] + sums["kmalloc"]) / in_pool
                    row["total_per_page"] = total / in_pool
                    row["sunreclaim_total_per_page"] = (pool + row["sunreclaim"]) / in_pool
                    row["zspp_stat_per_page"] = row["zspp_bytes_metadata"] / in_pool if zspp else float("nan")
                else:
                    for m in ("pool_per_page", "meta_per_page", "total_per_page", "sunreclaim_total_per_page",
                              "zspp_stat_per_page"):
                        row[m] = float("nan")
                rows.append(row)
    return rows


def markdown_realdata(rows, manifest=None):
    if not rows:
        return ""
    out = []
    out.append("### Real data through zswap (bench/realdata.c; one fresh boot per kernel and zpool, same pages)")
    out.append("")
    r0 = rows[0]
    out.append("Real files of the Debian 12 host (bench/mkrealdata.sh: regular files under /usr/bin, "
               "/usr/lib/x86_64-linux-gnu, /usr/share, /usr/include, sorted, round robin, page-aligned; "
               "%s) in the initramfs, copied into anonymous memory of a memory cgroup, pushed out with "
               "`memory.reclaim` (no limit, no timing decides which pages go), lzo, every page read back and "
               "compared byte for byte with the file data; then every other 256 KiB of the first part "
               "unmapped (zswap frees those objects), the second part stored and pushed out, the shrinkers "
               "run (`drop_caches` 2: zsmalloc's and zspp's compact their pools), one more page stored (6.1 "
               "zswap refreshes pool_total_size only on a store), and every page left compared again. "
               "Booted with `slab_nomerge`; slab deltas are to a snapshot taken after zswap was set up, "
               "before the workload. Per stored page = divided by the pages in the pool (zswap's "
               "stored_pages minus same-filled pages). pool = zswap's pool_total_size (the allocator's pages); "
               "metadata = the allocator's own caches (zsmalloc `zs_handle*`/`zspage*`, zspp `zspp*`) + the "
               "kmalloc-* delta (which also holds the kernel's other kmalloc changes, alike in both boots); "
               "total = both; SUnreclaim = pool + the whole unreclaimable-slab delta (zswap's entries and "
               "trees included, alike for both allocators). zspp-cN = zspp loaded with chain_size=N (zspp: the "
               "default, auto: 8 on 6.1, whose zswap writes back through the pool, 16 on 6.12). Ratio = zspp/zsmalloc (target: total <= 0.97)."
               % (manifest or "%d + %d pages" % (r0.get("pages_a", 0), r0.get("pages_b", 0))))
    out.append("")
    out.append("| kernel | zpool | after | pages in pool | pool B/page | metadata B/page | total B/page | "
               "ratio pool | ratio total | pool + SUnreclaim B/page | zspp stat B/page | verified | boot s |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ref = {(r["kernel"], r["phase"]): r for r in rows if r["zpool"] == "zsmalloc"}
    for r in rows:
        if r["phase"] not in ("fill", "churn"):
            continue
        z = ref.get((r["kernel"], r["phase"]))
        rp = "%.3f" % (r["pool_per_page"] / z["pool_per_page"]) if z and r["zpool"] != "zsmalloc" else "-"
        rt = "%.3f" % (r["total_per_page"] / z["total_per_page"]) if z and r["zpool"] != "zsmalloc" else "-"
        out.append("| %s | %s | %s | %d | %.1f | %.1f | %.1f | %s | %s | %.1f | %s | %d/%d | %.0f |" % (
            r["kernel"], r["zpool"], "fill" if r["phase"] == "fill" else "churn + compact", r["pool_pages_stored"],
            r["pool_per_page"], r["meta_per_page"], r["total_per_page"], rp, rt, r["sunreclaim_total_per_page"],
            "%.1f" % r["zspp_stat_per_page"] if r["zpool"].startswith("zspp") else "-", r["verified"], r["checked"],
            r["boot_s"]))
    out.append("")
    return "\n".join(out)
