// SPDX-License-Identifier: GPL-2.0
// CONFIG_ZSPP_FOLD: identical objects of a class stored once (folding, done
// as Documentation/folding.rst describes). The types here are used by the
// hooks in pool.cpp, compaction.cpp, migrate.cpp and reclaim.cpp inside
// `if constexpr (kFold)`; with the option off nothing here is emitted and
// fold.cpp is not built.
#pragma once

#include "base.h"
#include "location.h"
#include "zspage.h"

namespace zspp {

// The sharers of one slot. The slot word points here (tagged
// ZsPage::kShared); every member handle's word holds the slot's Location,
// so resolving a shared handle costs what resolving any handle costs, and
// compaction or migration re-point every member when the slot moves.
//
// Guarded by the class lock. Allocated only by the fold pass, in process
// context before it takes the lock (never GFP_ATOMIC under it); freed when
// the slot goes back to one owner. Lock-free readers (unmap, read_end of a
// pinned handle) only test the slot word's tag, never dereference a record.
struct Share {
	static constexpr u32 kMagic = 0x7a736872; // "zshr"
	// A free scans the members: keep that bounded. A record that is full
	// stops taking sharers; further copies fold into a second keeper.
	static constexpr u32 kMaxMembers = 256;

	u32 magic;
	u16 refs;   // members in use (>= 2 while the record is installed)
	u16 cap;
	u64 members[]; // handle, | ZsPage::kDeferred while its free waits for a reclaim

	static constexpr usize bytes(u32 cap) { return sizeof(Share) + cap * sizeof(u64); }
	static Share *of(u64 slot_word) { return reinterpret_cast<Share *>(slot_word & ~u64(7)); }
	u64 word() const { return reinterpret_cast<u64>(this) | ZsPage::kShared; }

	// Position of @handle (with kDeferred too if @deferred_ok), or -1.
	int find(u64 handle, bool deferred_ok) const
	{
		for (u32 i = 0; i < refs; i++) {
			if (members[i] == handle || (deferred_ok && members[i] == (handle | ZsPage::kDeferred)))
				return int(i);
		}
		return -1;
	}
	void remove_at(u32 pos) { members[pos] = members[--refs]; }
};

static_assert(sizeof(Share) == 8, "members[] stays 8-aligned");
static_assert(Share::kMaxMembers <= 0xffff, "refs fits");

// Call @fn(handle word address) for every handle that names the object in a
// slot whose word is @w (one handle, or every member of a Share).
template <typename Fn>
inline void for_each_handle(u64 w, Fn fn)
{
	if (kFold && ZsPage::is_shared(w)) {
		Share *sh = Share::of(w);
		for (u32 i = 0; i < sh->refs; i++)
			fn(reinterpret_cast<u64 *>(ZsPage::handle_of(sh->members[i])));
		return;
	}
	fn(reinterpret_cast<u64 *>(ZsPage::handle_of(w)));
}

// The exact size of the object in the allocated slot whose word is @w, from
// its (first) handle's Location: every sharer of a slot has the same size.
// Class lock held, or the slot pinned.
inline u32 object_size(u64 w)
{
	u64 h = kFold && ZsPage::is_shared(w) ? Share::of(w)->members[0] : w;
	return Location::from_word(read_once(*reinterpret_cast<u64 *>(ZsPage::handle_of(h)))).size();
}

// Handles naming the object of slot word @w.
inline u32 handles_in(u64 w) { return kFold && ZsPage::is_shared(w) ? Share::of(w)->refs : 1; }

} // namespace zspp
