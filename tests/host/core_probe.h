// SPDX-License-Identifier: GPL-2.0
// White-box access to the core's own constexpr tables and descriptors for the
// host tests. The core headers cannot be included next to the C++ standard
// library (base.h defines the placement operator new that <new> defines too),
// so core_probe.cpp includes them alone and re-exports what the tests need.
#pragma once

#include <cstddef>
#include <cstdint>

namespace probe {

// size_class_table.h
unsigned num_class_indices();
unsigned class_index_for(size_t size);
unsigned index_slot_size(unsigned index);
struct Geometry {
	unsigned pages, objs, waste;
};
Geometry geometry_for(unsigned size, unsigned chain);
bool index_merges_up(unsigned index, unsigned chain);
unsigned serving_index(unsigned index, unsigned chain);
unsigned max_objs_per_zspage(unsigned chain);

// location.h
// @size: the object's exact size, 1..ZSPP_MAX_ALLOC_SIZE.
uint64_t loc_make(uint64_t pfn, unsigned size, unsigned idx);
uint64_t loc_pfn(uint64_t word);
// The request class index of the word's size (not merged to its server).
unsigned loc_class(uint64_t word);
unsigned loc_size(uint64_t word);
unsigned loc_size_bits();
unsigned loc_idx(uint64_t word);
unsigned loc_idx_bits();
unsigned loc_pfn_bits();

// zspage.h
unsigned fullness_group(unsigned inuse, unsigned objs);
unsigned zspage_no_free();
// Bytes a zspage descriptor asks kmalloc for (its bucket: zspp_kmalloc_size).
size_t descriptor_size(unsigned pages, unsigned objs, bool evictable);
struct ZsInfo {
	unsigned magic_ok, class_index, fullness, nr_pages, objs, inuse, slot_size, mapped;
	unsigned present_pages; // attached so far (zspages fill their pages from the front)
	uint64_t pfn0;
};
// Read a zspage descriptor (as returned by zspp_pfn_owner). Unlocked: tests only.
ZsInfo zspage_info(const void *zspage);

} // namespace probe
