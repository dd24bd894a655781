// SPDX-License-Identifier: GPL-2.0
// See core_probe.h. Compiled with the core's flags and no standard header.
#include "core_probe.h"

#include "location.h"
#include "size_class_table.h"
#include "zspage.h"

namespace probe {

unsigned num_class_indices() { return zspp::kNumClassIndices; }
unsigned class_index_for(size_t size) { return zspp::class_index_for(size); }
unsigned index_slot_size(unsigned index) { return zspp::index_slot_size(index); }

Geometry geometry_for(unsigned size, unsigned chain)
{
	zspp::ClassGeometry g = zspp::geometry_for(size, chain);
	return Geometry{g.pages, g.objs, g.waste(size)};
}

bool index_merges_up(unsigned index, unsigned chain) { return zspp::index_merges_up(index, chain); }
unsigned serving_index(unsigned index, unsigned chain) { return zspp::serving_index(index, chain); }
unsigned max_objs_per_zspage(unsigned chain) { return zspp::max_objs_per_zspage(chain); }

uint64_t loc_make(uint64_t pfn, unsigned size, unsigned idx) { return zspp::Location(pfn, size, idx).word(); }
uint64_t loc_pfn(uint64_t word) { return zspp::Location::from_word(word).pfn(); }
unsigned loc_class(uint64_t word) { return zspp::Location::from_word(word).class_index(); }
unsigned loc_size(uint64_t word) { return zspp::Location::from_word(word).size(); }
unsigned loc_size_bits() { return zspp::Location::kSizeBits; }
unsigned loc_idx(uint64_t word) { return zspp::Location::from_word(word).idx(); }
unsigned loc_idx_bits() { return zspp::Location::kIdxBits; }
unsigned loc_pfn_bits() { return zspp::Location::kPfnBits; }

unsigned fullness_group(unsigned inuse, unsigned objs) { return zspp::fullness_group(inuse, objs); }
unsigned zspage_no_free() { return zspp::ZsPage::kNoFree; }
size_t descriptor_size(unsigned pages, unsigned objs, bool evictable)
{
	return zspp::ZsPage::descriptor_size(pages, objs, evictable);
}

ZsInfo zspage_info(const void *p)
{
	auto *zs = const_cast<zspp::ZsPage *>(static_cast<const zspp::ZsPage *>(p));
	ZsInfo i{};
	i.magic_ok = zs->magic == zspp::ZsPage::kMagic;
	i.class_index = zs->class_index;
	i.fullness = zs->fullness;
	i.nr_pages = zs->nr_pages;
	i.present_pages = zs->present_pages();
	i.objs = zs->objs;
	i.inuse = zs->inuse;
	i.slot_size = zs->slot_size;
	i.mapped = zs->mapped.load();
	i.pfn0 = zs->pfn0;
	return i;
}

} // namespace probe
