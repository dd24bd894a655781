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
//   ZsPage | CONFIG_ZSPP_FOLD only: ListNode fold_link |
//   char *addrs[nr_pages] | u64 slot[objs] | CONFIG_ZSPP_FOLD only: u8 flags[objs]
// (ZsPage::descriptor_size() and the accessors are the one computation of it.)
// addrs[] holds each page's kernel address (64-bit: no highmem, fixed for
// the page's life), so the map/read/write paths make no shim call for it;
// it fills from the front as the zspage does: a zspage starts with page 0
// only and gets page i when the first slot reaching into page i is handed
// out (Pool::back_next_slot), so a class's last, part-filled zspage holds
// at most one page it does not use yet instead of up to chain - 1
// (zsmalloc allocates every page of a zspage up front), and compaction
// gives back the pages past a part-full zspage's last object once it has
// packed them to the front (compaction.cpp: trim). addrs[i] is null
// for a page not there yet; the pages there are always 0..present_pages()-1;
// the struct page comes from the address (zspp_virt_to_page) on the slow
// paths that need it (free, page locks, migration). Migration updates
// addrs[] under the class lock.
#pragma once

#include "base.h"
#include "location.h"

namespace zspp {

// CONFIG_ZSPP_FOLD (Documentation/folding.rst). Off, every fold branch is an
// `if constexpr` on a false constant and fold.cpp is not built.
#ifdef ZSPP_FOLD
constexpr bool kFold = true;
#else
constexpr bool kFold = false;
#endif

class Pool;
struct Share;

// A descriptor's slot word (the reverse map), by kind. Handles and Share
// records are 8-aligned, so the low three bits carry the kind:
//   free      (next free slot << 1) | 1
//   owned     the owning handle                              tag 0
//   deferred  the handle | 2: its free arrived while the zspage was under
//             reclaim and waits for finish_reclaim() (writeback.rst)
//   shared    the Share record | 4 (CONFIG_ZSPP_FOLD): several handles
// A Share's members are owned or deferred words of their handles.
class SlotWord {
public:
	static constexpr SlotWord free(u16 next) { return SlotWord((u64(next) << 1) | 1); }
	static constexpr SlotWord owned(Handle handle) { return SlotWord(handle.raw()); }
	static constexpr SlotWord deferred(Handle handle) { return SlotWord(handle.raw() | kDeferredTag); }
	static SlotWord shared(const Share *sh) { return SlotWord(reinterpret_cast<u64>(sh) | kSharedTag); }

	constexpr bool is_free() const { return w_ & 1; }
	constexpr bool is_owned() const { return (w_ & kTagMask) == 0; }
	constexpr bool is_deferred() const { return (w_ & kTagMask) == kDeferredTag; }
	constexpr bool is_shared() const { return (w_ & kTagMask) == kSharedTag; }
	// Owned or deferred: the handle.
	constexpr Handle handle() const { return Handle::from_user(w_ & ~kTagMask); }
	// Free: the next free slot (ZsPage::kNoFree ends the list).
	constexpr u16 next() const { return u16(w_ >> 1); }
	Share *share() const { return reinterpret_cast<Share *>(w_ & ~kTagMask); }
	// The same handle, its free now waiting for the reclaim.
	constexpr SlotWord as_deferred() const { return deferred(handle()); }
	constexpr bool operator==(SlotWord o) const { return w_ == o.w_; }
	constexpr bool operator!=(SlotWord o) const { return w_ != o.w_; }
	constexpr u64 raw() const { return w_; }
	static constexpr SlotWord from_raw(u64 w) { return SlotWord(w); }

private:
	static constexpr u64 kTagMask = 7;
	static constexpr u64 kDeferredTag = 2;
	static constexpr u64 kSharedTag = 4;
	explicit constexpr SlotWord(u64 w) : w_(w) {}
	u64 w_;
};
static_assert(sizeof(SlotWord) == 8);
static_assert(SlotWord::free(5).is_free() && SlotWord::free(5).next() == 5 && !SlotWord::free(0).is_owned());
static_assert(SlotWord::owned(Handle::from_user(0x1000)).is_owned() &&
	      SlotWord::owned(Handle::from_user(0x1000)).handle() == Handle::from_user(0x1000));
static_assert(SlotWord::deferred(Handle::from_user(0x1000)).is_deferred() &&
	      SlotWord::deferred(Handle::from_user(0x1000)).handle() == Handle::from_user(0x1000) &&
	      !SlotWord::deferred(Handle::from_user(0x1000)).is_free() &&
	      !SlotWord::deferred(Handle::from_user(0x1000)).is_shared());

// The LRU links of a zspage of an evictable pool, in front of its ZsPage in
// the same allocation: pools that never evict (zswap from 6.5 on keeps its
// own LRU) do not carry them. Guarded by the class lock.
struct ZsLru {
	ListNode link;    // in its class's lru_, most recently allocated-into first
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

// A zspage's life (class lock = L; Pool's steps in pool.cpp, SizeClass's
// in size_class.h):
//
//   alloc_zspage()            no lock: descriptor + pages, not yet visible
//        |  SizeClass::insert()  L: on fullness[empty], then regroup()ed
//        v
//   [on its class's lists] <-----------------------------------------+
//        |  malloc/free/compaction/folding move it between fullness  |
//        |  groups (regroup); writeback takes it off them while it    |
//        |  evicts (reclaiming), finish_reclaim() puts it back -------+
//        |
//        |  its last object leaves (free, compaction, folding:
//        |  settle(); writeback: end_reclaim()) -> doom()
//        v                                  L: off every list, doomed = 1
//   [doomed]  nothing moves its pages any more; then, no lock held:
//        |  release_zspage():
//        |    bury()       a fold pass holds pointers to it: parked on
//        |                 the class graveyard, freed when the pass ends
//        |    all pages trylocked: destroy_zspage() now
//        |    a page lock is held (migration): deferred_ list, and the
//        |                 free worker (deferred_free) locks and destroys
//        v
//   destroy_zspage()          pages freed, magic cleared, descriptor kfree'd
//
// (A Share record ends apart from its zspage: retire_share() when its slot
// goes back to one owner or is freed, fold.cpp.)
struct ZsPage {
	static constexpr u32 kMagic = 0x7a737070; // "zspp"
	static constexpr u16 kNoFree = 0xffff;

	// Guarded by the owning SizeClass's lock, except `mapped`.
	ListNode node;    // in its class's fullness_[fullness]
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
	// or pages (pinned()).
	Atomic<u32> mapped;
	Pool *pool;
	u64 pfn0;         // pfn of page 0: what Locations name

	// The descriptor's layout, computed here only: [prefix] ZsPage |
	// [fold link] | addrs[nr_pages] | slot words[objs] | [flags[objs]].
	// Bytes in front of the ZsPage in its allocation (the ZsLru or nothing).
	static constexpr usize prefix_size(bool evictable) { return evictable ? sizeof(ZsLru) : 0; }
	// The ZsPage and, with CONFIG_ZSPP_FOLD, its fold link (at a fixed
	// offset, so that the fold list can get back to the zspage).
	static constexpr usize header_size() { return sizeof(ZsPage) + (kFold ? sizeof(ListNode) : 0); }
	// The whole allocation, prefix included.
	static constexpr usize descriptor_size(u32 nr_pages, u32 objs, bool evictable)
	{
		return prefix_size(evictable) + header_size() + nr_pages * sizeof(char *) + objs * sizeof(u64) +
		       (kFold ? objs * sizeof(u8) : 0);
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

	char **addrs() { return byte_offset<char *>(this, header_size()); }
	// The struct page of page @i (slow paths: one shim call).
	zspp_page *page(u32 i) { return zspp_virt_to_page(addrs()[i]); }
	// Slot @idx's word. The class lock guards them; lock-free readers (a
	// pinned handle's unmap/read_end, evict_objects) read them whole, so
	// stores are single writes.
	SlotWord slot(u32 idx) { return SlotWord::from_raw(read_once(slot_words()[idx])); }
	void set_slot(u32 idx, SlotWord w) { write_once(slot_words()[idx], w.raw()); }
	// CONFIG_ZSPP_FOLD: per-slot kWritten (the object's owner has written it
	// through a write map or obj_write; only written objects may fold).
	u8 *flags() { return reinterpret_cast<u8 *>(slot_words() + objs); }
	static constexpr u8 kWritten = 1;
	// CONFIG_ZSPP_FOLD: in its class's fold_list (class lock), the zspages
	// a fold pass has yet to visit first: the pass takes the head, O(1).
	ListNode *fold_link() { return byte_offset<ListNode>(this, sizeof(ZsPage)); }
	static ZsPage *from_fold_link(ListNode *n)
	{
		return reinterpret_cast<ZsPage *>(reinterpret_cast<char *>(n) - sizeof(ZsPage));
	}

	bool full() const { return inuse == objs; }

	// The pin rule (Documentation/locking.rst, "Pins"): a handle resolved
	// under a pin is resolved again, with no lock, by the unmap/read_end
	// that drops the pin, so while any object of the zspage is mapped or
	// read no handle of it may move, nor any of its pages. Every mover
	// (compaction and trim, page migration, fold's merges, fold's copy on
	// write, writeback's choice of victim) asks this one predicate, under
	// the class lock: pins are only taken under it, so a false answer holds
	// until the lock is dropped (an unpin can only make it more false).
	bool pinned() const { return mapped.load() != 0; }

	// Pages attached so far (0..n-1; page 0 always). Slow paths only: a
	// walk of at most kMaxChain words.
	u32 present_pages()
	{
		u32 n = 1;
		while (n < nr_pages && addrs()[n])
			n++;
		return n;
	}
	// The page slot @idx ends in.
	u32 slot_last_page(u32 idx) const { return u32((usize(idx + 1) * slot_size - 1) >> kPageShift); }
	// Whether the slot take_slot() hands out next has its pages. Free slots
	// come off the list most recently freed first, then the never-used ones
	// in slot order, so a slot with a missing page is the lowest never-used
	// one and needs exactly one more page (slot_last_page(), the one after
	// the last present: a slot is at most a page long). Caller checks
	// !full().
	bool next_slot_backed() { return addrs()[slot_last_page(free_head)] != nullptr; }

	// A new zspage (no reader yet): every slot free, in order.
	void init_free_list()
	{
		for (u32 s = 0; s < objs; s++)
			slot_words()[s] = SlotWord::free(s + 1 < objs ? u16(s + 1) : kNoFree).raw();
		free_head = 0;
	}

	// Take the first free slot for @w (an owned word, or a Share's).
	// Caller checks !full().
	u32 take_slot(SlotWord w)
	{
		// Plain accesses: a free slot has no lock-free reader.
		u32 idx = free_head;
		free_head = SlotWord::from_raw(slot_words()[idx]).next();
		slot_words()[idx] = w.raw();
		if constexpr (kFold)
			flags()[idx] = 0;
		inuse++;
		return idx;
	}
	void release_slot(u32 idx)
	{
		slot_words()[idx] = SlotWord::free(free_head).raw();
		free_head = u16(idx);
		inuse--;
	}
	// Compaction's packing (compaction.cpp): slots 0..inuse-1 hold the
	// objects, so the free list becomes the rest in slot order, which is
	// also the order back_next_slot() needs once pages past the last used
	// slot are released (every free slot is then a never-used one).
	void reset_free_tail()
	{
		for (u32 s = inuse; s < objs; s++)
			set_slot(s, SlotWord::free(s + 1 < objs ? u16(s + 1) : kNoFree));
		free_head = inuse < objs ? u16(inuse) : kNoFree;
	}
	// Pages slots 0..@used-1 reach into (at least page 0).
	u32 pages_for(u32 used) const { return used ? u32(pages_reached(used, slot_size)) : 1; }
	// The other way round: the slots (from 0) that end within the first
	// @pages pages, i.e. that have their pages once those are there.
	u32 slots_within(u32 pages) const { return min(u32((usize(pages) << kPageShift) / slot_size), u32(objs)); }

	// Where slot @idx starts: page index and offset within it.
	u32 slot_page(u32 idx) const { return u32((usize(idx) * slot_size) >> kPageShift); }
	u32 slot_offset(u32 idx) const { return u32((usize(idx) * slot_size) & (kPageSize - 1)); }

private:
	u64 *slot_words() { return byte_offset<u64>(this, header_size() + nr_pages * sizeof(char *)); }
};

// The three lists a zspage can be on, each through its own link. `node`:
// its class's fullness group while it lives, then (doomed) the pool's
// deferred-free list or its class's graveyard, one at a time. `lru` (in the
// prefix of evictable pools): its class's LRU. `fold link`
// (CONFIG_ZSPP_FOLD): its class's fold list.
struct ZsPageNode {
	static ListNode *link(ZsPage *zs) { return &zs->node; }
	static ZsPage *owner(ListNode *n) { return ZsPage::from_node(n); }
};
struct ZsPageLru {
	static ListNode *link(ZsPage *zs) { return &zs->lru()->link; }
	static ZsPage *owner(ListNode *n) { return ZsPage::from_lru(n); }
};
struct ZsPageFoldLink {
	static ListNode *link(ZsPage *zs) { return zs->fold_link(); }
	static ZsPage *owner(ListNode *n) { return ZsPage::from_fold_link(n); }
};
using ZsPageList = List<ZsPage, ZsPageNode>;
using ZsPageLruList = List<ZsPage, ZsPageLru>;
using ZsPageFoldList = List<ZsPage, ZsPageFoldLink>;

static_assert(sizeof(ZsPage) % 8 == 0, "pages[] and slots[] stay 8-aligned");
// What the size-class table prices a descriptor at (size_class_table.h).
static_assert(ZsPage::descriptor_size(1, 1, false) == descriptor_bytes(1, 1) &&
	      ZsPage::descriptor_size(16, 500, false) == descriptor_bytes(16, 500));

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
