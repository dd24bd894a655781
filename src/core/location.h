// SPDX-License-Identifier: GPL-2.0
// Handle encoding. A handle is the address of an 8-byte slot from the pool's
// handle cache; the slot holds an object's Location, so the handle stays
// valid while compaction or migration moves the object (they rewrite the
// slot, under the class lock).
//
//   63                     20 19          12 11          0
//   [ pfn of zspage page 0   ][ class index ][ slot index ]
//
// The pfn leads to the zspage descriptor (page->private); the class index
// leads to the lock to take before trusting the word (see locking.rst).
#pragma once

#include "base.h"
#include "size_class_table.h"

namespace zspp {

class Location {
public:
	static constexpr u32 kIdxBits = 12;
	static constexpr u32 kClassBits = 8;
	static constexpr u32 kPfnBits = 64 - kIdxBits - kClassBits;

	constexpr Location(u64 pfn, u32 class_index, u32 idx)
	    : word_((pfn << (kIdxBits + kClassBits)) | (u64(class_index) << kIdxBits) | idx) {}
	static constexpr Location from_word(u64 word) { return Location(word); }

	constexpr u64 word() const { return word_; }
	constexpr u64 pfn() const { return word_ >> (kIdxBits + kClassBits); }
	constexpr u32 class_index() const { return u32(word_ >> kIdxBits) & ((1u << kClassBits) - 1); }
	constexpr u32 idx() const { return u32(word_) & ((1u << kIdxBits) - 1); }

private:
	explicit constexpr Location(u64 word) : word_(word) {}
	u64 word_;
};

static_assert(kNumClassIndices <= (1u << Location::kClassBits), "class index fits");
static_assert(max_objs_per_zspage(kMaxChain) <= (1u << Location::kIdxBits), "slot index fits");
// x86-64 physical addresses are at most 52 bits (5-level paging).
static_assert(Location::kPfnBits >= 52 - kPageShift, "pfn fits");
static_assert(Location(0xABCDEull, 254, 4095).pfn() == 0xABCDE);
static_assert(Location(0xABCDEull, 254, 4095).class_index() == 254);
static_assert(Location(0xABCDEull, 254, 4095).idx() == 4095);

} // namespace zspp
