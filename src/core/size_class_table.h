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

// The chain length (1..@chain) with the smallest fraction of wasted bytes;
// ties go to fewer pages (smaller zspages free more easily).
constexpr ClassGeometry geometry_for(u32 size, u32 chain)
{
	ClassGeometry best{1, u32(kPageSize) / size};
	for (u32 pages = 2; pages <= chain; pages++) {
		ClassGeometry g{pages, pages * u32(kPageSize) / size};
		// waste_g / pages < waste_best / best.pages, without division.
		if (u64(g.waste(size)) * best.pages < u64(best.waste(size)) * pages)
			best = g;
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
static_assert(geometry_for(4096, 8) == ClassGeometry{1, 1});
static_assert(geometry_for(32, 8) == ClassGeometry{1, 128});
// 3264: one page wastes 832 bytes; 5 pages hold 6 with 1 KiB spare (5%),
// 8 pages hold 10 slots exactly: chain 8 stores it without waste.
static_assert(geometry_for(3264, 8).waste(3264) * 100 < 8 * kPageSize);

} // namespace zspp
