// SPDX-License-Identifier: GPL-2.0
// A zspage: up to chain_size real 0-order pages holding equal-sized slots
// laid end to end (a slot may span two pages), plus a kmalloc'd descriptor.
//
// Unlike zsmalloc, objects carry no in-page header: the descriptor keeps, per
// slot, the owning handle (the reverse map compaction and migration need)
// or a free-list link; the object's exact size is in its handle's word
// (location.h). So every byte of a slot belongs to the object, and
// malloc/free never touch page memory.
//
// Descriptor layout (one kmalloc; every byte of it is metadata the user pays
// for, so nothing in it is there for convenience):
//   evictable pools only: ZsLru |
//   ZsPage | char *addrs[nr_pages] | u64 slot[objs] |
//   CONFIG_ZSPP_FOLD only: u8 flags[objs] | (pad to 8) ListNode fold_link
// addrs[] holds each page's kernel address (64-bit: no highmem, fixed for
// the page's life), so the map/read/write paths make no shim call for it;
// the struct page comes from the address (zspp_virt_to_page) on the slow
// paths that need it (free, page locks, migration). Migration updates
// addrs[] under the class lock.
#pragma once

#include "base.h"

namespace zspp {

// CONFIG_ZSPP_FOLD (Documentation/folding.rst). Off, every fold branch is an
// `if constexpr` on a false constant and fold.cpp is not built.
#ifdef ZSPP_FOLD
constexpr bool kFold = true;
#else
constexpr bool kFold = false;
#endif

class Pool;

// The LRU links of a zspage of an evictable pool, in front of its ZsPage in
// the same allocation: pools that never evict (zswap from 6.5 on keeps its
// own LRU) do not carry them. Guarded by the class lock.
struct ZsLru {
	ListNode link;    // in class->lru, most recently allocated-into first
	u64 seq;          // pool-wide clock at the last allocation into it
};
static_assert(sizeof(ZsLru) % 8 == 0 && __builtin_offsetof(ZsLru, link) == 0);

// Fullness groups: empty, <10%, 10-19%, ..., 90-99%, full.
constexpr u32 kFullnessEmpty = 0;
constexpr u32 kFullnessFull = ZSPP_NR_FULLNESS - 1;
constexpr u32 kNumFullness = ZSPP_NR_FULLNESS;

constexpr u32 fullness_group(u32 inuse, u32 objs)
{
	if (inuse == 0)
		return kFullnessEmpty;
	if (inuse == objs)
		return kFullnessFull;
	return 1 + (inuse * 100 / objs) / 10;
}
static_assert(fullness_group(1, 16) == 1 && fullness_group(15, 16) == 10 && fullness_group(16, 16) == 11);
static_assert(fullness_group(1, 1000) == 1 && fullness_group(999, 1000) == 10);

struct ZsPage {
	static constexpr u32 kMagic = 0x7a737070; // "zspp"
	static constexpr u16 kNoFree = 0xffff;

	// Guarded by the owning SizeClass's lock, except `mapped`.
	ListNode node;    // in class->fullness[fullness]
	u32 magic;
	u16 class_index;
	u8 fullness;
	u8 nr_pages;
	u16 objs;
	u16 inuse;
	u16 free_head;    // first free slot, or kNoFree
	u16 slot_size;
	// Set under the class lock when the zspage left its class to be freed:
	// from then on nothing moves its pages (pages() is stable for the
	// free path, which locks every page before freeing).
	u8 doomed;
	// Non-zero under the class lock while writeback evicts this zspage's
	// objects (reclaim.cpp): it is off the fullness lists, so neither
	// malloc nor compaction touches it, and frees of its objects are
	// deferred. kFreedByEvictor: the handle under evict was freed by the
	// evicting task itself, during the evict: the user wrote it back. Freed
	// by another task, or not at all, the user found its entry invalidated
	// (zswap's refcounted entries: the free may come later) and wrote
	// nothing.
	u8 reclaiming;
	static constexpr u8 kReclaiming = 1;
	static constexpr u8 kFreedByEvictor = 2;
	// CONFIG_ZSPP_FOLD: the fold pass of its class that last visited it
	// (class lock). In what was padding, so it costs nothing when off.
	u16 fold_seq;
	// Maps, read_begin and obj_write in flight. Taken under the class lock,
	// dropped without it; while non-zero nothing moves this zspage's objects
	// or pages.
	Atomic<u32> mapped;
	Pool *pool;
	u64 pfn0;         // pfn of page 0: what Locations name

	// Bytes in front of the ZsPage in its allocation (the ZsLru or nothing).
	static constexpr usize prefix_size(bool evictable) { return evictable ? sizeof(ZsLru) : 0; }
	static constexpr usize fold_link_offset(u32 nr_pages, u32 objs)
	{
		return (sizeof(ZsPage) + nr_pages * sizeof(char *) + objs * (sizeof(u64) + sizeof(u8)) + 7) &
		       ~usize(7);
	}
	// The whole allocation, prefix included.
	static constexpr usize descriptor_size(u32 nr_pages, u32 objs, bool evictable)
	{
		return prefix_size(evictable) +
		       (kFold ? fold_link_offset(nr_pages, objs) + sizeof(ListNode)
			      : sizeof(ZsPage) + nr_pages * sizeof(char *) + objs * sizeof(u64));
	}
	static ZsPage *from_node(ListNode *n)
	{
		return reinterpret_cast<ZsPage *>(reinterpret_cast<char *>(n) - __builtin_offsetof(ZsPage, node));
	}
	// Evictable pools only (the prefix exists only there).
	ZsLru *lru() { return reinterpret_cast<ZsLru *>(this) - 1; }
	static ZsPage *from_lru(ListNode *n) { return reinterpret_cast<ZsPage *>(reinterpret_cast<ZsLru *>(n) + 1); }
	// Where the allocation starts (what kfree takes).
	void *allocation(bool evictable) { return reinterpret_cast<char *>(this) - prefix_size(evictable); }

	char **addrs() { return byte_offset<char *>(this, sizeof(ZsPage)); }
	// The struct page of page @i (slow paths: one shim call).
	zspp_page *page(u32 i) { return zspp_virt_to_page(addrs()[i]); }
	u64 *slots() { return byte_offset<u64>(this, sizeof(ZsPage) + nr_pages * sizeof(char *)); }
	// CONFIG_ZSPP_FOLD: per-slot kWritten (the object's owner has written it
	// through a write map or obj_write; only written objects may fold).
	u8 *flags() { return reinterpret_cast<u8 *>(slots() + objs); }
	static constexpr u8 kWritten = 1;
	// CONFIG_ZSPP_FOLD: in its class's fold_list (class lock), the zspages
	// a fold pass has yet to visit first: the pass takes the head, O(1).
	ListNode *fold_link() { return byte_offset<ListNode>(this, fold_link_offset(nr_pages, objs)); }
	static ZsPage *from_fold_link(ListNode *n, u32 nr_pages, u32 objs)
	{
		return reinterpret_cast<ZsPage *>(reinterpret_cast<char *>(n) - fold_link_offset(nr_pages, objs));
	}

	// Slot words: an allocated slot holds its handle (8-aligned, so the low
	// three bits are clear); a free one holds (next free index << 1) | 1.
	// A handle freed while its zspage is under reclaim keeps its slot, with
	// kDeferred set, until the reclaim completes the free. With
	// CONFIG_ZSPP_FOLD a slot shared by several handles holds its Share
	// record (fold.h) tagged kShared; the record lists the handles.
	static constexpr u64 kDeferred = 2;
	static constexpr u64 kShared = 4;
	static constexpr bool is_shared(u64 w) { return (w & 7) == kShared; }
	static constexpr u64 free_word(u16 next) { return (u64(next) << 1) | 1; }
	static constexpr bool is_free_word(u64 w) { return w & 1; }
	static constexpr bool is_deferred(u64 w) { return (w & 3) == kDeferred; }
	static constexpr u64 handle_of(u64 w) { return w & ~u64(7); }
	static constexpr u16 next_of(u64 w) { return u16(w >> 1); }

	bool full() const { return inuse == objs; }

	// Take the first free slot for @handle. Caller checks !full().
	u32 take_slot(u64 handle)
	{
		u32 idx = free_head;
		free_head = next_of(slots()[idx]);
		slots()[idx] = handle;
		if constexpr (kFold)
			flags()[idx] = 0;
		inuse++;
		return idx;
	}
	void release_slot(u32 idx)
	{
		slots()[idx] = free_word(free_head);
		free_head = u16(idx);
		inuse--;
	}

	// Where slot @idx starts: page index and offset within it.
	u32 slot_page(u32 idx) const { return u32((usize(idx) * slot_size) >> kPageShift); }
	u32 slot_offset(u32 idx) const { return u32((usize(idx) * slot_size) & (kPageSize - 1)); }
};

static_assert(sizeof(ZsPage) % 8 == 0, "pages[] and slots[] stay 8-aligned");

// Walk @len bytes of slot (a, ai) and slot (b, bi) side by side, either or
// both of which may span pages, calling @fn(a_bytes, b_bytes, n) per run
// contiguous in both; stops early (returning false) when @fn does.
template <typename Fn>
inline bool walk_slots(ZsPage *a, u32 ai, ZsPage *b, u32 bi, usize len, Fn fn)
{
	usize apos = usize(ai) * a->slot_size, bpos = usize(bi) * b->slot_size;
	while (len) {
		usize aoff = apos & (kPageSize - 1), boff = bpos & (kPageSize - 1);
		usize chunk = min(len, min(kPageSize - aoff, kPageSize - boff));
		if (!fn(a->addrs()[apos >> kPageShift] + aoff, b->addrs()[bpos >> kPageShift] + boff, chunk))
			return false;
		apos += chunk;
		bpos += chunk;
		len -= chunk;
	}
	return true;
}

// Copy @len bytes between two slots (compaction's moves, folding's copy on
// write).
inline void copy_slot(ZsPage *from, u32 fidx, ZsPage *to, u32 tidx, usize len)
{
	walk_slots(from, fidx, to, tidx, len, [](char *f, char *t, usize n) {
		copy_bytes(t, f, n);
		return true;
	});
}

} // namespace zspp
