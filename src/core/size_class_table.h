// SPDX-License-Identifier: GPL-2.0
// The size-class table: which slot size serves a request, and how many
// 0-order pages a zspage of that class chains. Pure constexpr functions of
// (size, chain size), so host tests and static_asserts check the same code
// the module runs.
#pragma once

#include "base.h"

namespace zspp {

constexpr u32 kMinAlloc = ZSPP_MIN_ALLOC_SIZE;
constexpr u32 kMaxAlloc = ZSPP_MAX_ALLOC_SIZE;
constexpr u32 kClassDelta = ZSPP_CLASS_DELTA;
constexpr u32 kMaxChain = ZSPP_MAX_CHAIN;
constexpr u32 kNumClassIndices = (kMaxAlloc - kMinAlloc) / kClassDelta + 1;

static_assert(kMaxAlloc == kPageSize, "objects span at most two pages");
static_assert(kMinAlloc % kClassDelta == 0 && kPageSize % kClassDelta == 0,
	      "slots are 16-byte aligned, so a slot's first 16 bytes never span pages");

// Smallest class index whose slot holds @size bytes (size in 1..kMaxAlloc).
constexpr u32 class_index_for(usize size)
{
	return size <= kMinAlloc ? 0 : u32((size - kMinAlloc + kClassDelta - 1) / kClassDelta);
}

constexpr u32 index_slot_size(u32 index) { return kMinAlloc + index * kClassDelta; }

struct ClassGeometry {
	u32 pages; // 0-order pages chained into one zspage
	u32 objs;  // slots per zspage

	constexpr u32 waste(u32 size) const { return pages * u32(kPageSize) - objs * size; }
	constexpr bool operator==(const ClassGeometry &o) const { return pages == o.pages && objs == o.objs; }
};

// The pages the first @used slots of @size bytes reach (0 for none): what a
// zspage filled from the front holds for them.
constexpr u64 pages_reached(u64 used, u32 size) { return used ? ((used * size - 1) >> kPageShift) + 1 : 0; }

// A zspage's descriptor (zspage.h, which checks these against its layout;
// a pool without writeback): header, 8 bytes per page (addrs[]), 8 per slot
// (the reverse map) and, with CONFIG_ZSPP_FOLD, the fold link and a flag
// byte per slot.
#ifdef ZSPP_FOLD
constexpr usize kDescHeaderBytes = 72, kDescSlotBytes = 9;
#else
constexpr usize kDescHeaderBytes = 56, kDescSlotBytes = 8;
#endif
constexpr usize kDescPageBytes = 8;
constexpr usize descriptor_bytes(u32 pages, u32 objs)
{
	return kDescHeaderBytes + pages * kDescPageBytes + objs * kDescSlotBytes;
}

// What kmalloc takes for @n bytes on the kernels zspp serves (SLUB's
// kmalloc caches up to 8 KiB, then whole pages in powers of two): the
// geometry's price of a descriptor. A guess only picks the geometry; the
// accounting uses the kernel's own figure (zspp_kmalloc_size), and KUnit
// checks the choice against it.
constexpr usize kmalloc_estimate(usize n)
{
	if (n <= 8)
		return 8;
	if (n > 64 && n <= 96)
		return 96;
	if (n > 128 && n <= 192)
		return 192;
	usize b = 16;
	while (b < n && b < 8192)
		b *= 2;
	if (n <= b)
		return b;
	b = kPageSize;
	while (b < n)
		b *= 2;
	return b;
}
static_assert(kmalloc_estimate(56) == 64 && kmalloc_estimate(72) == 96 && kmalloc_estimate(160) == 192 &&
	      kmalloc_estimate(440) == 512 && kmalloc_estimate(8192) == 8192 && kmalloc_estimate(8193) == 16384);

// The largest descriptor a chain may need: kmalloc serves up to 8 KiB from
// slab caches (which fall back to smaller slab orders when memory is
// fragmented); above that it takes pages of order 2 or more straight from
// the page allocator, which zswap's allocations, made without direct
// reclaim, fail first. Room is left for an evictable pool's prefix.
constexpr usize kMaxDescBytes = 8192 - 64;

// The chain length (1..@chain) whose zspage costs the fewest bytes per slot:
// its tail waste plus its descriptor at kmalloc's size, as the user pays
// for both (a short zspage of a class that fits its pages well would spend
// more on its descriptor's header, addrs[] and kmalloc rounding than a
// longer one spends on waste), among those whose descriptor is at most
// kMaxDescBytes. Ties go to fewer pages.
constexpr ClassGeometry geometry_for(u32 size, u32 chain)
{
	ClassGeometry best{1, u32(kPageSize) / size};
	u64 best_cost = best.waste(size) + kmalloc_estimate(descriptor_bytes(best.pages, best.objs));
	for (u32 pages = 2; pages <= chain; pages++) {
		ClassGeometry g{pages, pages * u32(kPageSize) / size};
		usize desc = descriptor_bytes(g.pages, g.objs);
		if (desc > kMaxDescBytes)
			break; // longer chains only have larger descriptors
		u64 cost = g.waste(size) + kmalloc_estimate(desc);
		// cost / g.objs < best_cost / best.objs, without division.
		if (cost * best.objs < best_cost * g.objs) {
			best = g;
			best_cost = cost;
		}
	}
	return best;
}

// A class index is merged into the next larger one when both would have the
// same geometry: the larger slot costs nothing more per zspage.
constexpr bool index_merges_up(u32 index, u32 chain)
{
	return index + 1 < kNumClassIndices &&
	       geometry_for(index_slot_size(index), chain) == geometry_for(index_slot_size(index + 1), chain);
}

// The index of the class that actually serves @index (after merging).
constexpr u32 serving_index(u32 index, u32 chain)
{
	while (index_merges_up(index, chain))
		index++;
	return index;
}

// Largest number of slots any class has at chain length @chain.
constexpr u32 max_objs_per_zspage(u32 chain)
{
	u32 m = 0;
	for (u32 i = 0; i < kNumClassIndices; i++)
		m = max(m, geometry_for(index_slot_size(i), chain).objs);
	return m;
}

static_assert(class_index_for(1) == 0 && class_index_for(32) == 0 && class_index_for(33) == 1);
static_assert(index_slot_size(kNumClassIndices - 1) == kMaxAlloc);
#ifndef ZSPP_FOLD
// 4096: no waste at any length, so the descriptor decides: 8 pages cost 192
// bytes of descriptor (24 per slot), one page 96 (all of it for one slot).
static_assert(geometry_for(4096, 8) == ClassGeometry{8, 8});
static_assert(geometry_for(4096, 1) == ClassGeometry{1, 1});
#endif
static_assert(geometry_for(32, 1) == ClassGeometry{1, 128});
// 3264: one page wastes 832 bytes; 5 pages hold 6 with 1 KiB spare (5%),
// 8 pages hold 10 slots exactly: chain 8 stores it without waste.
static_assert(geometry_for(3264, 8).waste(3264) * 100 < 8 * kPageSize);
static_assert(descriptor_bytes(1, kPageSize / kMinAlloc) <= kMaxDescBytes, "a one-page zspage always fits");

} // namespace zspp
