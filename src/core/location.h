// SPDX-License-Identifier: GPL-2.0
// Handle encoding. A handle is the address of an 8-byte slot from the pool's
// handle cache; the slot holds an object's Location, so the handle stays
// valid while compaction or migration moves the object (they rewrite the
// slot, under the class lock).
//
//   63                     24 23          12 11          0
//   [ pfn of zspage page 0   ][ size - 1     ][ slot index ]
//
// The pfn leads to the zspage descriptor (page->private); the size is the
// object's exact size, and through class_index_for() the class whose lock
// to take before trusting the word (see locking.rst). Keeping the size here
// rather than in the descriptor saves 2 bytes per slot of metadata, and a
// read gets it from the word it has already loaded.
#pragma once

#include "base.h"
#include "size_class_table.h"

namespace zspp {

class Location {
public:
	static constexpr u32 kIdxBits = 12;
	static constexpr u32 kSizeBits = 12;
	static constexpr u32 kPfnBits = 64 - kIdxBits - kSizeBits;

	// @size in 1..kMaxAlloc.
	constexpr Location(u64 pfn, u32 size, u32 idx)
	    : word_((pfn << (kIdxBits + kSizeBits)) | (u64(size - 1) << kIdxBits) | idx) {}
	static constexpr Location from_word(u64 word) { return Location(word); }

	constexpr u64 word() const { return word_; }
	constexpr u64 pfn() const { return word_ >> (kIdxBits + kSizeBits); }
	constexpr u32 size() const { return (u32(word_ >> kIdxBits) & ((1u << kSizeBits) - 1)) + 1; }
	constexpr u32 idx() const { return u32(word_) & ((1u << kIdxBits) - 1); }
	// The request index of the size (classes_[] maps it to its serving class).
	constexpr u32 class_index() const { return class_index_for(size()); }

private:
	explicit constexpr Location(u64 word) : word_(word) {}
	u64 word_;
};

static_assert(kMaxAlloc <= (1u << Location::kSizeBits), "size - 1 fits");
static_assert(max_objs_per_zspage(kMaxChain) <= (1u << Location::kIdxBits), "slot index fits");
// x86-64 physical addresses are at most 52 bits (5-level paging).
static_assert(Location::kPfnBits >= 52 - kPageShift, "pfn fits");
static_assert(Location(0xABCDEull, 4096, 4095).pfn() == 0xABCDE);
static_assert(Location(0xABCDEull, 4096, 4095).size() == 4096);
static_assert(Location(0xABCDEull, 1, 4095).size() == 1);
static_assert(Location(0xABCDEull, 33, 4095).class_index() == 1);
static_assert(Location(0xABCDEull, 254, 4095).idx() == 4095);
static_assert(Location((u64(1) << 40) - 1, 4096, 4095).pfn() == (u64(1) << 40) - 1);

// A handle inside the core: the address of its word in the module's handle
// cache. The API hands it out and takes it back as an unsigned long
// (from_user(), raw()); inside, its word is read and written only here, and
// a handle cannot be mixed up with a size, a pfn or a slot word.
class Handle {
public:
	constexpr Handle() : v_(0) {}
	// What a caller passed in: anything, until plausible() and the reverse
	// map (Pool::resolve) say otherwise.
	static constexpr Handle from_user(unsigned long h) { return Handle(h); }
	static Handle of_word(u64 *word) { return Handle(reinterpret_cast<unsigned long>(word)); }

	constexpr unsigned long raw() const { return v_; }
	// Null or misaligned cannot be a word of the handle cache; anything
	// else is checked against the zspage's reverse map before it is trusted.
	constexpr bool plausible() const { return v_ && !(v_ & (sizeof(u64) - 1)); }

	u64 *word() const { return reinterpret_cast<u64 *>(v_); }
	// The object's location, read once (class lock held, or the zspage
	// pinned; otherwise only a hint: class_of()).
	Location location() const { return Location::from_word(read_once(*word())); }
	// Class lock held (moves), or the handle not yet handed out.
	void set(Location loc) const { write_once(*word(), loc.word()); }
	// Before the word goes back to the cache: a stale copy of the handle
	// then names no object.
	void clear() const { write_once(*word(), u64(0)); }

	constexpr bool operator==(Handle o) const { return v_ == o.v_; }
	constexpr bool operator!=(Handle o) const { return v_ != o.v_; }

private:
	explicit constexpr Handle(unsigned long v) : v_(v) {}
	unsigned long v_;
};
static_assert(sizeof(Handle) == sizeof(unsigned long));
static_assert(!Handle().plausible() && !Handle::from_user(0x1004).plausible() && Handle::from_user(0x1008).plausible());

} // namespace zspp
