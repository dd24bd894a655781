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
// SlotWord::shared); every member handle's word holds the slot's Location,
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
	SlotWord members[]; // owned, or deferred while its free waits for a reclaim

	static constexpr usize bytes(u32 cap) { return sizeof(Share) + cap * sizeof(SlotWord); }
	static Share *of(SlotWord w) { return w.share(); }
	SlotWord word() const { return SlotWord::shared(this); }

	// Position of @handle (deferred too if @deferred_ok), or -1.
	int find(Handle handle, bool deferred_ok) const
	{
		for (u32 i = 0; i < refs; i++) {
			if (members[i] == SlotWord::owned(handle) ||
			    (deferred_ok && members[i] == SlotWord::deferred(handle)))
				return int(i);
		}
		return -1;
	}
	void remove_at(u32 pos) { members[pos] = members[--refs]; }
};

static_assert(sizeof(Share) == 8, "members[] stays 8-aligned");
static_assert(Share::kMaxMembers <= 0xffff, "refs fits");

// Call @fn(Handle) for every handle that names the object in a slot whose
// word is @w (one handle, or every member of a Share).
template <typename Fn>
inline void for_each_handle(SlotWord w, Fn fn)
{
	if (kFold && w.is_shared()) {
		Share *sh = w.share();
		for (u32 i = 0; i < sh->refs; i++)
			fn(sh->members[i].handle());
		return;
	}
	fn(w.handle());
}

// The exact size of the object in the allocated slot whose word is @w, from
// its (first) handle's Location: every sharer of a slot has the same size.
// Class lock held, or the slot pinned.
inline u32 object_size(SlotWord w)
{
	Handle h = kFold && w.is_shared() ? w.share()->members[0].handle() : w.handle();
	return h.location().size();
}

// Handles naming the object of slot word @w.
inline u32 handles_in(SlotWord w) { return kFold && w.is_shared() ? w.share()->refs : 1; }

} // namespace zspp
