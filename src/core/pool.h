// SPDX-License-Identifier: GPL-2.0
// The pool: its size classes (size_class.h), zspages' pages and
// descriptors, handles. Lock order and what each lock guards:
// Documentation/locking.rst (one class lock at a time; the map pin
// `ZsPage::mapped` is a counter, not a lock, so nothing is held across
// map/unmap).
#pragma once

#include "base.h"
#include "fold.h"
#include "location.h"
#include "page_reserve.h"
#include "size_class.h"
#include "size_class_table.h"
#include "zspage.h"

namespace zspp {

// Module-wide state (the handle cache), set up once before any pool.
[[nodiscard]] Status core_init(const char *handle_cache);
void core_exit();

// Where zspages of this module have had their page 0: the memory sections
// (ZSPP_SECTION_PFN_SHIFT) and one past the highest pfn. A handle word's pfn
// in such a section lies in a present section, whose part of the memory map
// is mapped, so its owner is found with zspp_pfn_owner_present() (three
// loads inline) instead of a call through pfn_valid(). One map for the
// module (sections are the machine's): 512 bytes for the first 512 GiB of
// physical memory; pfns above it take the call. Bits and bound only grow:
// memory that is hot-removed had its zspp pages migrated off first, and a
// live handle never names it again.
class MemmapSeen {
public:
	static constexpr u64 kSections = 4096;
	// Before a handle word names a zspage at @pfn (under the class lock
	// or before the zspage is published): readers that trust the word
	// (class lock held, or the zspage pinned) then see it.
	static void note(u64 pfn)
	{
		u64 sec = pfn >> ZSPP_SECTION_PFN_SHIFT;
		if (sec < kSections && !((words_[sec / 64].load_relaxed() >> (sec % 64)) & 1))
			words_[sec / 64].fetch_or(u64(1) << (sec % 64));
		u64 bound = bound_.load_relaxed();
		while (pfn >= bound && !bound_.try_exchange(bound, pfn + 1))
			bound = bound_.load_relaxed();
	}
	// The zspage owning @pfn, for a word read under the class lock: any
	// word a caller passes (the caller checks magic and pool).
	static void *owner(u64 pfn) { return seen(pfn) ? zspp_pfn_owner_present(pfn) : zspp_pfn_owner(pfn); }
	// The same for a word its zspage's pin keeps as it was when owner()
	// checked it. Without a call, so that unmap and read_end stay leaf
	// functions. A caller that unmaps what it never mapped passes an
	// unchecked word: a freed handle's is cleared (pfn 0) or slab poison
	// (far above the bound), and both are refused or resolved safely.
	static void *owner_pinned(u64 pfn)
	{
		return pfn < bound_.load_relaxed() ? zspp_pfn_owner_present(pfn) : nullptr;
	}

private:
	static bool seen(u64 pfn)
	{
		u64 sec = pfn >> ZSPP_SECTION_PFN_SHIFT;
		return sec < kSections && ((words_[sec / 64].load_relaxed() >> (sec % 64)) & 1);
	}
	static Atomic<u64> words_[kSections / 64];
	static Atomic<u64> bound_;
};

// A resolved handle: the object's zspage and slot, valid while the class
// lock is held or the zspage is pinned (mapped > 0).
struct ObjRef {
	SizeClass *cls;
	ZsPage *zs;
	u32 idx;
	u32 size;
	// The handle's free arrived while its zspage is under reclaim and waits
	// for finish_reclaim(): the bytes are intact, but they belong to nobody.
	bool freed = false;
};

// Whether a lookup accepts a handle whose free waits for a reclaim
// (ObjRef::freed). zswap 6.1 maps such a handle in its evict callback
// (Documentation/zswap-contract.rst), so maps accept it; free, obj_write
// and obj_size do not.
enum class Freed { kRefuse, kAccept };

// Compaction a pool starts itself (compact_slack): its work item, its
// threshold and the slack the last such run left, so that what compaction
// cannot give back (pinned, under reclaim, the classes' own tails) does not
// call for another run.
class SelfCompaction {
public:
	// Pools below this many pages never start one (their slack is mostly
	// the classes' tails).
	static constexpr unsigned long kMinPages = 64;

	void set_work(zspp_work *work) { work_ = work; }
	zspp_work *work() const { return work_; }
	void set_slack(u32 permille) { slack_.store(min(permille, 1000u)); }
	// Off: one relaxed load. On: three more, two multiplications and
	// compares, no division.
	ZSPP_HOT bool enabled() const { return slack_.load_relaxed() != 0; }
	// @slack of the pool's @bytes in no object's slot: kick the work if it
	// is over the threshold and clearly more than the last run left.
	ZSPP_HOT void kick_if(unsigned long slack, unsigned long bytes)
	{
		if (bytes < kMinPages * kPageSize || !slack)
			return;
		// Products, not quotients (no overflow: a pool's bytes are far
		// below 2^54).
		if (slack * 1000 >= bytes * slack_.load_relaxed() && slack > floor_.load_relaxed() + bytes / 32)
			zspp_work_kick(work_);
	}
	// After a run: the slack it left.
	void ran(unsigned long slack) { floor_.store(slack); }

private:
	zspp_work *work_ = nullptr;    // runs Pool::compact()
	Atomic<u32> slack_;            // permille, 0: off
	Atomic<unsigned long> floor_;  // slack bytes the last run left
};

// Writeback's side of a pool that evicts: the user's evict callback and
// the one handle under evict. One reclaim at a time per pool (zswap 6.1
// shrinks from one work item), so one handle: whether the evicting task
// freed it tells a writeback from an evict that found no entry
// (ZsPage::kFreedByEvictor). The handle is set under the victim's class
// lock and compared under it by free; atomic because frees in other classes
// read it too.
class Evictor {
public:
	void init(zspp_evict_t fn, void *ctx)
	{
		fn_ = fn;
		ctx_ = ctx;
	}
	bool enabled() const { return fn_ != nullptr; }
	// The victim's class lock held: @handle is about to be evicted by
	// this task.
	void begin(Handle handle)
	{
		task_ = zspp_current_task();
		handle_.store(handle.raw());
	}
	// No lock held: the user's callback (it may sleep, map and free @handle).
	[[nodiscard]] int evict(Handle handle) { return fn_(ctx_, handle.raw()); }
	// The victim's class lock held: the evict returned.
	void end() { handle_.store(0); }
	// @handle's class lock held, in its free: is this the evicting task
	// freeing the handle under evict (a writeback)?
	bool freed_by_evictor(Handle handle) const
	{
		return handle.raw() == handle_.load_relaxed() && zspp_current_task() == task_;
	}

private:
	zspp_evict_t fn_ = nullptr;
	void *ctx_ = nullptr;
	Atomic<u64> handle_;
	const void *task_ = nullptr;
};

class Pool {
public:
	// @evict non-null makes the pool evictable: zspages are kept on an LRU
	// and reclaim() hands their objects to @evict (writeback).
	// Set-up and teardown: no other user of the pool exists yet / any
	// more, so the lock analysis is off for them.
	[[nodiscard]] static Result<Pool *> create(const char *name, u32 chain, zspp_evict_t evict = nullptr,
						   void *evict_ctx = nullptr) ZSPP_NO_LOCK_ANALYSIS;
	void destroy() ZSPP_NO_LOCK_ANALYSIS;

	[[nodiscard]] Result<Handle> malloc(usize size, zspp_gfp_t gfp);
	void free(Handle handle);

	void *map(Handle handle, zspp_mapmode mode);
	void unmap(Handle handle);
	// Their halves for an object that spans two pages, or a freed one
	// (bounce areas); ObjRef's fields as arguments, so both are tail calls.
	ZSPP_SLOW_HALF void *map_area(Handle handle, zspp_mapmode mode, ZsPage *zs, u32 idx, u32 size, bool freed);
	ZSPP_SLOW_HALF void unmap_area(Handle handle, ZsPage *zs, u32 idx, u32 size, bool freed);
	void *map_local(Handle handle, zspp_mapmode mode, void *local_copy);
	void unmap_local(Handle handle, zspp_mapmode mode, void *local_copy);
	void *read_begin(Handle handle, void *local_copy);
	void read_end(Handle handle);
	[[nodiscard]] Status write(Handle handle, const void *src, usize len);
	usize obj_size(Handle handle);

	unsigned long total_pages() const { return pages_.load_relaxed(); }

	// Compaction (compaction.cpp): move objects from the emptiest zspages
	// into the fullest ones of the same class, freeing emptied zspages.
	// One compaction at a time per pool: a concurrent call returns 0.
	unsigned long compact();
	// Compact from a work item when frees leave more than @permille/1000
	// of the pool's bytes in no object's slot (0: never; zspp.h).
	void set_compact_slack(u32 permille) { self_compaction_.set_slack(permille); }

	// CONFIG_ZSPP_FOLD (fold.cpp): store identical objects of a class once.
	// Returns pages freed. Process context, may sleep; one pass at a time
	// per pool (a concurrent call returns 0).
	unsigned long fold();
	// Test hook: keep only the low @bits bits (0..64, default 64) of each
	// object's hash, so different objects collide and the compare must refuse.
	void set_fold_hash_bits(u32 bits) { fold_hash_bits_ = min(bits, 64u); }

	// Writeback (reclaim.cpp): evict the objects of least recently
	// allocated-into zspages until @pages pages are freed. The pages freed,
	// or -EINVAL (not evictable) or -EAGAIN (nothing freed). Process
	// context; calls evict with no zspp lock held.
	[[nodiscard]] Result<unsigned long> reclaim(unsigned long pages);

	// Page migration (migrate.cpp), called with the page locked.
	bool can_isolate(ZsPage *zs);
	void *handle_page(Handle handle);
	[[nodiscard]] Status migrate_page(ZsPage *zs, zspp_page *dst, zspp_page *src);
	// Pages compaction could free now (racy snapshot, for shrinker counts).
	unsigned long compactable_pages();
	// Stop compaction early: the pool is going away.
	void begin_destroy() { destroying_.store(1); }
	void stats(struct zspp_pool_stats *out);
	// True: @index is merged into a larger class (@out describes nothing of its own).
	[[nodiscard]] Result<bool> class_stats(u32 index, struct zspp_class_stats *out);
	[[nodiscard]] Status validate();

	const char *name() const { return name_; }
	u32 chain() const { return chain_; }
	// Its zspages carry a ZsLru (zspage.h) and writeback may evict them.
	bool evictable() const { return evictor_.enabled(); }

private:
	Pool() = default;
	[[nodiscard]] Status init_classes() ZSPP_NO_LOCK_ANALYSIS;
	SizeClass *class_for_size(usize size) { return classes_[class_index_for(size)]; }

	[[nodiscard]] Result<ZsPage *> alloc_zspage(SizeClass *cls, zspp_gfp_t gfp);
	// No lock held, @zs doomed (SizeClass::doom): free it now if every
	// page can be locked without sleeping, else hand it to the
	// deferred-free worker.
	void release_zspage(ZsPage *zs);
	// Every page of @zs locked; @pages are its struct pages (looked up once).
	void destroy_zspage(ZsPage *zs, zspp_page *const *pages);
	static void deferred_free_work(void *pool);
	void deferred_free();
	// After a free: start a compaction if the pool's slack calls for it
	// (set_compact_slack; SelfCompaction).
	ZSPP_HOT void maybe_compact()
	{
		if (!self_compaction_.enabled())
			return;
		unsigned long bytes, slack = slack_bytes(&bytes);
		self_compaction_.kick_if(slack, bytes);
	}
	// Bytes of the pool's pages in no object's slot (free slots, class
	// tails); *@bytes gets the pages' bytes. Racy: two relaxed counters.
	unsigned long slack_bytes(unsigned long *bytes) const
	{
		*bytes = pages_.load_relaxed() * kPageSize;
		unsigned long used = bytes_slots_.load_relaxed();
		return *bytes > used ? *bytes - used : 0;
	}
	static void compact_work(void *pool);
	// Class lock held, @zs not full: make sure the slot take_slot() hands
	// out next has its page, attaching one from @spare if it does not.
	// False: a page is needed and @spare is empty; the caller fills it with
	// no lock held and retries.
	[[nodiscard]] ZSPP_HOT bool back_next_slot(SizeClass *cls, ClassLocked held, ZsPage *zs, PageReserve<1> &spare)
		ZSPP_REQUIRES(cls->lock())
	{
		cls->lock().assert_held();
		if (zs->next_slot_backed())
			return true;
		if (spare.empty())
			return false;
		attach_next_page(cls, held, zs, spare.take());
		return true;
	}
	// back_next_slot()'s slow half: @page becomes the page the next slot
	// needs. By value, so that the callers' spare stays in a register.
	void attach_next_page(SizeClass *cls, ClassLocked held, ZsPage *zs, zspp_page *page)
		ZSPP_REQUIRES(cls->lock());
	// No lock held: give back a fresh zspage an allocation got and did not
	// use (may be null). It was never inserted, but its page 0 is movable,
	// so migration may look at it (can_isolate, under the class lock): it
	// is doomed under that lock.
	void drop_unused(SizeClass *cls, ZsPage *fresh);

	// The class @handle's word names (no lock taken); nullptr for a handle
	// that cannot be ours. The word is trusted only after lookup(), under
	// that class's lock (SpinGuard) or with the zspage pinned.
	SizeClass *class_of(Handle handle);
	// Class lock held, or the zspage pinned: check @handle against the
	// zspage's reverse map and fill @ref. False: not a live handle.
	// @freed: whether a handle whose free waits for a reclaim is accepted
	// (then ref->freed is set).
	enum class Locked { kYes, kPinned };
	// @locked kPinned: lookup_pinned(); the analysis cannot see a pin, so
	// resolve() carries no lock annotation and only these two call it.
	[[nodiscard]] bool resolve(Handle handle, Location loc, SizeClass *cls, ObjRef *ref, Freed freed,
				   Locked locked);
	[[nodiscard]] ZSPP_HOT bool lookup(Handle handle, SizeClass *cls, ClassLocked held, ObjRef *ref,
					   Freed freed = Freed::kRefuse) ZSPP_REQUIRES(cls->lock())
	{
		cls->lock().assert_held();
		// Re-read under the lock: the word may have moved on since class_of().
		return resolve(handle, handle.location(), cls, ref, freed,
			       Locked::kYes);
	}
	// lookup() for a handle the caller has pinned (no lock taken).
	[[nodiscard]] bool lookup_pinned(Handle handle, ObjRef *ref);
	// Resolve and pin (mapped++) under the class lock; warns on a bad handle.
	// A write pin (CONFIG_ZSPP_FOLD) marks the object written and first
	// gives a shared object its own slot (copy on write), allocating a
	// zspage with @gfp if the class has no free slot: then -ENOMEM in *err.
	// A freed handle (@freed kAccept) is pinned as it is: never unshared,
	// never marked written.
	enum class Access { kRead, kWrite };
	// @ref is filled on success (an out parameter rather than a
	// Result<ObjRef>: the hot paths then keep it in registers, host
	// profile: 7 instructions per obj_write).
	[[nodiscard]] Status pin(Handle handle, ObjRef *ref, const char *what, Access access = Access::kRead,
				 Freed freed = Freed::kRefuse, zspp_gfp_t gfp = 0);
	void unpin(ObjRef *ref);
	static bool spans(const ObjRef &ref);
	void bad_handle(const char *what, Handle handle);
	// Give @handle's word back to the module's cache (cleared first by the
	// caller where a stale copy could still be used: Handle::clear()).
	void put_handle(Handle handle) { zspp_cache_free(handle_cache_, handle.word()); }

	// Copy between an object and a linear buffer (handles a span). Inline
	// (pool.cpp's callers only): an out-of-line call would take the ObjRef's
	// address, so the caller would keep it on the stack, zeroed, with a
	// stack-protector canary (6.1 module: 20 instructions per obj_write).
	ZSPP_HOT void copy_out(const ObjRef &ref, void *dst);
	ZSPP_HOT void copy_in(const ObjRef &ref, const void *src, usize len);

	// fold.cpp. pin() for a write: mark the object written, unsharing it
	// first (allocating a zspage with @gfp, no lock held, if need be).
	[[nodiscard]] Status pin_for_write(Handle handle, ObjRef *ref, const char *what, Freed freed,
					   zspp_gfp_t gfp);
	// What unshare() did, or what it lacked to do it.
	enum class Unshare {
		kDone,        // the object has its own slot (or had one already)
		kNeedsZspage, // no free slot in the class and no *fresh
		kNeedsPage,   // the free slot's page missing and @spare empty
	};
	// Class lock held, @ref resolved: give a shared object its own
	// slot, from @fresh if the class has none free (then *fresh is used up),
	// with a page from @spare for a slot that has none yet (back_next_slot).
	[[nodiscard]] Unshare unshare(SizeClass *cls, ClassLocked held, Handle handle, ObjRef *ref,
				      ZsPage **fresh, PageReserve<1> &spare) ZSPP_REQUIRES(cls->lock());
	// Class lock held: drop @handle from the Share of slot @ref; returns the
	// record to kfree (after unlock) if the slot went back to one owner.
	Share *drop_sharer(SizeClass *cls, ClassLocked held, const ObjRef &ref, Handle handle) ZSPP_REQUIRES(cls->lock());
	// A record leaves use (its memory is the caller's to kfree).
	void retire_share(Share *sh);
	// No lock held, @zs doomed: true if a fold pass of its class still
	// holds pointers to it (then the pass frees it when it ends).
	bool bury(ZsPage *zs);
	// Writeback of a shared slot: evict every sharer. False: an evict failed.
	[[nodiscard]] bool evict_shared(SizeClass *cls, ZsPage *zs, u32 idx);
	// Class lock held, @zs under reclaim: complete the waiting frees of the
	// slot's sharers; returns how many (their sizes added to *bytes).
	u32 finish_shared(SizeClass *cls, ClassLocked held, ZsPage *zs, u32 idx, unsigned long *bytes) ZSPP_REQUIRES(cls->lock());
	struct FoldPass;
	unsigned long fold_class(SizeClass *cls, FoldPass *fp);
	[[nodiscard]] bool fold_zspage(SizeClass *cls, ClassLocked held, ZsPage *zs, FoldPass *fp) ZSPP_REQUIRES(cls->lock());
	[[nodiscard]] bool fold_slot(SizeClass *cls, ClassLocked held, ZsPage *zs, u32 idx, FoldPass *fp) ZSPP_REQUIRES(cls->lock());
	void merge_into(SizeClass *cls, ClassLocked held, ZsPage *kzs, u32 kidx, ZsPage *dzs, u32 didx, FoldPass *fp) ZSPP_REQUIRES(cls->lock());
	[[nodiscard]] Status validate_share(SizeClass *cls, ClassLocked held, ZsPage *zs, u32 idx);

	unsigned long compact_class(SizeClass *cls);

	ZsPage *isolate_victim(SizeClass **cls_out);
	void evict_objects(ZsPage *zs);
	// One evict call for @handle of @zs (slot @idx), unless its free has
	// already arrived; false: evict failed (keep the rest).
	[[nodiscard]] bool evict_one(SizeClass *cls, ZsPage *zs, u32 idx, Handle handle);
	// Class lock held: is @handle (of slot @idx) still live, not freed?
	bool evictable(ClassLocked, ZsPage *zs, u32 idx, Handle handle);
	ZsPage *finish_reclaim(SizeClass *cls, ZsPage *zs);
	// Class lock held (the token; SizeClass::validate() calls it): @zs's
	// own invariants. Adds the slot's extra sharers to *@folded.
	[[nodiscard]] Status validate_zspage(SizeClass *cls, ClassLocked held, ZsPage *zs, unsigned long *folded);

	char name_[32];
	u32 chain_;
	zspp_cache *handle_cache_;
	zspp_shrinker *shrinker_;
	zspp_work *free_work_;        // runs deferred_free()
	SelfCompaction self_compaction_;
	SpinLock defer_lock_;
	ZsPageList deferred_ ZSPP_GUARDED_BY(defer_lock_); // doomed zspages waiting for page locks
	SizeClass *classes_[kNumClassIndices]; // by request index; merged share

	// The counters of struct zspp_pool_stats, from the list in
	// include/zspp/zspp.h: one Atomic per `counter` entry, named <stat>_
	// (pages_, objects_, malloc_fail_, ... fold_passes_), copied by stats().
#define ZSPP_POOL_COUNTER(name, kind, what) ZSPP_POOL_COUNTER_##kind(name)
#define ZSPP_POOL_COUNTER_counter(name) Atomic<unsigned long> name##_;
#define ZSPP_POOL_COUNTER_derived(name)
	ZSPP_POOL_STATS(ZSPP_POOL_COUNTER)
	ZSPP_POOL_FOLD_STATS(ZSPP_POOL_COUNTER)
#undef ZSPP_POOL_COUNTER
#undef ZSPP_POOL_COUNTER_counter
#undef ZSPP_POOL_COUNTER_derived
	Atomic<unsigned long> bytes_desc_;   // descriptors at their kmalloc bucket (bytes_metadata)
	Atomic<u64> lru_clock_;
	Exclusive reclaim_;       // one reclaim at a time (Evictor)
	Evictor evictor_;
	// CONFIG_ZSPP_FOLD
	Atomic<unsigned long> bytes_share_;    // Share records (kmalloc; bytes_metadata)
	Exclusive folding_;       // one fold pass at a time
	u32 fold_hash_bits_ = 64;
	Exclusive compaction_;    // one compaction at a time (the shrinker's, the
				  // compact work's, the user's, folding's)
	Atomic<u32> destroying_;
};

} // namespace zspp

#include "pool_resolve.h"
