#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""density-model.py [CSV] [--objects N ...]: bytes per stored object, pages +
allocator metadata, for zsmalloc and zspp, computed from a size histogram
(bench/data/lzo-sizes.csv) and the two allocators' layouts, and the floor
no size-class allocator with an 8-byte handle can go under.

It models what the real-data and micro runs measure (steady state: every
class's zspages full except its last one; N objects drawn in the histogram's
proportions), so a layout idea can be priced before it is built. Checked
against the measured runs of Documentation/benchmarks.md: within ~0.5% of
the measured ratios. Nothing here is a measurement.

zsmalloc: slot = size + 8 (in-object handle header) rounded to 16, chain with
the least absolute waste (mm/zsmalloc.c calculate_zspage_chain_size),
classes of equal geometry merged, a huge class for the rest; metadata = the
8-byte zs_handle + the zspage struct (56 B) per zspage.
zspp: slot = size rounded to 16 (no header), chain with the least waste per
page, equal geometries merged; a zspage's pages come as its slots reach them,
so a class's last zspage holds only the pages its objects reach
(src/core/zspage.h; --no-lazy: every page up front, as before); metadata =
the 8-byte handle + the descriptor at its kmalloc bucket: 56 B header (+24
evictable) + 8 B per page + 8 B per slot.
"""
import argparse
import math

P = 4096
BUCKETS = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]


def kmalloc(n):
    for b in BUCKETS:
        if n <= b:
            return b
    return P << max(0, math.ceil(math.log2(n / P)))


def load(path):
    hist = {}
    for line in open(path):
        if line.startswith('#') or line.startswith('category'):
            continue
        _, size, count = line.strip().split(',')
        hist[int(size)] = hist.get(int(size), 0) + int(count)
    return hist


def zsmalloc_geo(size, chain):
    if size & (size - 1) == 0:
        return 1, P // size
    best, waste = 1, P % size
    for i in range(2, chain + 1):
        if (i * P) % size < waste:
            best, waste = i, (i * P) % size
    return best, best * P // size


def zspp_geo(size, chain):
    best = (1, P // size)
    for p in range(2, chain + 1):
        g = (p, p * P // size)
        if (p * P - g[1] * size) * best[0] < (best[0] * P - best[1] * size) * p:
            best = g
    return best


def zspp_geo_cost(size, chain, desc_bytes):
    """The chain with the least bytes per slot, counting the descriptor
    (desc_bytes(pages, objs), at its allocation size) with the tail waste;
    ties go to fewer pages."""
    best, cost = None, None
    for p in range(1, chain + 1):
        objs = p * P // size
        if p > 1 and 56 + 8 * p + 8 * objs > 8192 - 64:
            break  # descriptors stay slab objects (size_class_table.h)
        c = (p * P - objs * size + desc_bytes(p, objs)) / objs
        if best is None or c < cost:
            best, cost = (p, objs), c
    return best


def per_object(hist, nobj, slot_of, geo, meta_per_zspage, handle=8, lazy=False, step=16):
    """B/obj of pages and of metadata for nobj objects; @lazy: the last
    zspage of a class has only the pages its objects reach."""
    total = sum(hist.values())
    sizes = list(range(32, P + 1, step))
    serve = {}
    for i in range(len(sizes) - 1, -1, -1):
        g = geo(sizes[i])
        if i + 1 < len(sizes) and serve[sizes[i + 1]][1:] == g:
            serve[sizes[i]] = serve[sizes[i + 1]]
        else:
            serve[sizes[i]] = (sizes[i],) + g
    per_class = {}
    for size, count in hist.items():
        cls = serve[slot_of(size)]
        per_class[cls] = per_class.get(cls, 0) + count * nobj / total
    pages = meta = 0.0
    for (slot, npages, objs), n in per_class.items():
        n = round(n)
        if n:
            z = math.ceil(n / objs)
            last = n - (z - 1) * objs
            pages += (z - 1) * npages + (min(npages, math.ceil(last * slot / P)) if lazy else npages)
            meta += z * meta_per_zspage(npages, objs) + handle * n
    return pages * P / nobj, meta / nobj


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('csv', nargs='?', default='bench/data/lzo-sizes.csv')
    ap.add_argument('--objects', type=int, nargs='+', default=[5000, 20000, 59600, 500000])
    ap.add_argument('--zsmalloc-chain', type=int, default=8)
    ap.add_argument('--chain', type=int, default=8)
    ap.add_argument('--evictable', action='store_true', help='zspp pool with writeback (6.1 zswap)')
    ap.add_argument('--no-lazy', action='store_true', help='zspp zspages with every page up front (before 2026-12-02)')
    ap.add_argument('--slot-bytes', type=int, default=8,
                    help='descriptor bytes per slot (8: the reverse map; 10 before the size moved into the handle word)')
    # Metadata levers, priced before anyone builds them.
    ap.add_argument('--header', type=int, default=56, help="descriptor header bytes (ZsPage; 56 now)")
    ap.add_argument('--page-bytes', type=int, default=8,
                    help='descriptor bytes per page (8: the addrs[] cache; 0: none, as zsmalloc)')
    ap.add_argument('--step', type=int, default=16, choices=[8, 16], help="zspp's class step in bytes")
    ap.add_argument('--geometry', choices=['waste', 'cost'], default='waste',
                    help="zspp's chain per class: least tail waste per page (waste), or least bytes per slot "
                         "counting the descriptor too (cost)")
    ap.add_argument('--exact-desc', action='store_true',
                    help='descriptors at their exact size (dedicated caches, slab waste ignored), not their kmalloc bucket')
    a = ap.parse_args()
    hist = load(a.csv)
    mean = sum(s * n for s, n in hist.items()) / sum(hist.values())
    zs_slot = lambda s: min(P, ((s + 8 + 15) // 16) * 16)
    zp_slot = lambda s: max(32, ((s + a.step - 1) // a.step) * a.step)
    hdr = a.header + (24 if a.evictable else 0)
    desc = (lambda n: n) if a.exact_desc else kmalloc
    print(f'mean object {mean:.1f} B; zsmalloc chain {a.zsmalloc_chain}, zspp chain {a.chain}')
    print('objects | zsmalloc pages+meta | zspp pages+meta | ratio pages | ratio total | floor | floor ratio')
    for n in a.objects:
        zp, zm = per_object(hist, n, zs_slot, lambda s: zsmalloc_geo(s, a.zsmalloc_chain), lambda p, o: 56)
        dbytes = lambda p, o: desc(hdr + a.page_bytes * p + a.slot_bytes * o)
        geo = ((lambda s: zspp_geo_cost(s, a.chain, dbytes)) if a.geometry == 'cost'
               else (lambda s: zspp_geo(s, a.chain)))
        sp, sm = per_object(hist, n, zp_slot, geo, dbytes, lazy=not a.no_lazy, step=a.step)
        # Exact packing (no class rounding, no partly filled zspage) and an
        # 8-byte handle: what no allocator that hands out handles beats.
        floor = mean + 8
        print(f'{n} | {zp:.1f}+{zm:.1f} = {zp + zm:.1f} | {sp:.1f}+{sm:.1f} = {sp + sm:.1f} | '
              f'{sp / zp:.3f} | {(sp + sm) / (zp + zm):.3f} | {floor:.1f} | {floor / (zp + zm):.3f}')


if __name__ == '__main__':
    main()
