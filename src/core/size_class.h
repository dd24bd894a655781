// SPDX-License-Identifier: GPL-2.0
// A size class: its lock, the lists its zspages are on (fullness groups,
// LRU, fold list, graveyard) and its counters, with every operation that
// needs only those as a method (Zircon's PmmNode, SerenityOS's
// PhysicalZone: one concept, one type, owning its lock and state). What
// needs the pool (pages and descriptors from the shim, the handle cache,
// pool-wide counters, the LRU clock) stays on Pool, which calls these with
// the class lock held. Lock rules: Documentation/locking.rst.
#pragma once

#include "base.h"
#include "size_class_table.h"
#include "zspage.h"

namespace zspp {

class ClassGuard;

// Proof, to a helper, that its caller holds a class lock (Rust's Guard,
// Zircon's TA_REQ): only a ClassGuard mints one, so a helper that takes a
// ClassLocked cannot be called, under gcc as under clang, from a path that
// holds no class guard. Which class's lock is held is checked by clang
// (ZSPP_REQUIRES(lock_) on a SizeClass method, ZSPP_REQUIRES(cls->lock()) on
// a Pool helper) and at run time by lockdep (SpinLock::assert_held() in the
// helper). Empty and passed by value: it takes no register and no
// instruction (x86-64 passes an empty class in nothing). Valid only for the
// call it is passed to: a helper never keeps it.
class ClassLocked {
	friend class ClassGuard;
	constexpr ClassLocked() = default;

public:
	ClassLocked(const ClassLocked &) = default;
	ClassLocked &operator=(const ClassLocked &) = delete;
};

class SizeClass {
public:
	// Set-up (Pool::init_classes; the class is not shared yet). False: no
	// lock could be had (the index is set first, so destroy() still knows
	// the class as its own).
	[[nodiscard]] bool init(u32 index, u32 chain, bool evictable) ZSPP_NO_LOCK_ANALYSIS
	{
		index_ = index;
		if (!lock_.init(ZSPP_LOCK_CLASS))
			return false;
		ClassGeometry g = geometry_for(index_slot_size(index), chain);
		size_ = index_slot_size(index);
		pages_ = g.pages;
		objs_ = g.objs;
		evictable_ = evictable;
		desc_size_ = ZsPage::descriptor_size(g.pages, g.objs, evictable);
		desc_bytes_ = zspp_kmalloc_size(desc_size_);
		for (auto &head : fullness_)
			head.init();
		lru_.init();
		graveyard_.init();
		fold_list_.init();
		return true;
	}
	void destroy() { lock_.destroy(); }

	// The geometry (set once by init(): no lock).
	u32 index() const { return index_; }          // serving index (the largest index merged into it)
	u32 size() const { return size_; }            // slot size
	u32 pages() const { return pages_; }          // pages per zspage
	u32 objs() const { return objs_; }            // slots per zspage
	usize desc_size() const { return desc_size_; } // descriptor bytes per zspage
	usize desc_bytes() const { return desc_bytes_; } // what kmalloc takes for them (its bucket)

	// The lock, for naming only (ZSPP_REQUIRES(cls->lock()) on a Pool
	// helper, and assert_held()): it is taken only through a ClassGuard.
	const SpinLock &lock() const ZSPP_RETURN_CAPABILITY(lock_) { return lock_; }

	// ---- fullness groups (lock held) ---------------------------------
	// A new zspage enters as empty; regroup() places it once filled.
	void insert(ClassLocked, ZsPage *zs) ZSPP_REQUIRES(lock_)
	{
		lock_.assert_held();
		zs->fullness = kFullnessEmpty;
		fullness_[kFullnessEmpty].push_front(zs);
		zspages_in_[kFullnessEmpty]++;
		zspages_++;
		pages_used_ += zs->present_pages();
		if constexpr (kFold)
			fold_list_.push_front(zs); // unvisited: at the head
	}
	// Move @zs to the fullness group its inuse count belongs in. Inline,
	// as settle(): every malloc and free asks, and most leave the zspage
	// where it is (a call each was 10 instructions).
	ZSPP_HOT void regroup(ClassLocked held, ZsPage *zs) ZSPP_REQUIRES(lock_)
	{
		lock_.assert_held();
		u32 g = fullness_group(zs->inuse, zs->objs);
		if (g != zs->fullness)
			move_to_group(held, zs, g);
	}
	// The fullest zspage that still has a free slot.
	ZsPage *find_non_full(ClassLocked held) ZSPP_REQUIRES(lock_);

	// ---- objects in and out (lock held) ------------------------------
	// An object enters the class in @zs's next free slot (not full; the
	// slot has its page): its index.
	ZSPP_HOT u32 take_slot(ClassLocked, ZsPage *zs, SlotWord w) ZSPP_REQUIRES(lock_)
	{
		u32 idx = zs->take_slot(w);
		obj_used_++;
		return idx;
	}
	// An object leaves the class from slot @idx of @zs (settle() it after).
	ZSPP_HOT void release_slot(ClassLocked, ZsPage *zs, u32 idx) ZSPP_REQUIRES(lock_)
	{
		zs->release_slot(idx);
		obj_used_--;
	}
	// After a slot was released: regroup @zs, or, if it is now empty, take
	// it off the class and doom it. Returns @zs when the caller must
	// Pool::release_zspage() it (after dropping the lock).
	ZSPP_HOT ZsPage *settle(ClassLocked held, ZsPage *zs) ZSPP_REQUIRES(lock_)
	{
		lock_.assert_held();
		if (zs->inuse) {
			regroup(held, zs);
			return nullptr;
		}
		return retire_empty(held, zs);
	}
	// The zspage (off every list, no objects) will be freed: from here on
	// nothing moves its pages.
	void doom(ClassLocked, ZsPage *zs) ZSPP_REQUIRES(lock_)
	{
		zs->doomed = 1;
		if constexpr (kFold)
			ZsPageFoldList::remove(zs);
	}
	// malloc's hint (a racy read before the lock, Documentation/locking.rst,
	// "Racy reads"): the zspage the last malloc used is not full and its
	// next slot needs a page, so the next malloc gets that page before it
	// takes the lock.
	ZSPP_HOT bool next_needs_page_hint() const { return ZSPP_RACY_READ(next_needs_page_); }
	ZSPP_HOT void set_next_needs_page(ClassLocked, ZsPage *zs) ZSPP_REQUIRES(lock_)
	{
		write_once(next_needs_page_, u8(!zs->full() && !zs->next_slot_backed()));
	}
	// The page of @zs's next slot becomes @page (Pool::attach_next_page,
	// which counts it for the pool).
	void attach_page(ClassLocked, ZsPage *zs, zspp_page *page) ZSPP_REQUIRES(lock_)
	{
		lock_.assert_held();
		u32 i = zs->slot_last_page(zs->free_head); // == present_pages() (zspage.h); validate() checks the prefix
		// Under the class lock, which migration takes before it looks at
		// addrs[] (migrate.cpp): the page is in place before it is movable.
		zspp_page_attach(page, zs, &zs->addrs()[i]);
		pages_used_++;
	}
	unsigned long objects(ClassLocked) const ZSPP_REQUIRES(lock_) { return obj_used_; }

	// ---- compaction (compaction.cpp; lock held) -----------------------
	struct MovePlan {
		u32 objects; // how many of the source's objects move
		u32 pages;   // the pages their destinations need attached
	};
	// The pages compaction could give back now.
	unsigned long freeable_pages(ClassLocked) const ZSPP_REQUIRES(lock_);
	// The same with no lock taken (the shrinker's count): a racy snapshot.
	unsigned long freeable_pages_racy() const;
	ZsPage *pick_source(ClassLocked held) ZSPP_REQUIRES(lock_);
	ZsPage *pick_destination(ClassLocked held, ZsPage *src) ZSPP_REQUIRES(lock_);
	MovePlan plan_moves(ClassLocked held, ZsPage *src, u32 max_pages) ZSPP_REQUIRES(lock_);
	void move_object(ClassLocked held, ZsPage *src, u32 sidx, ZsPage *dst) ZSPP_REQUIRES(lock_);
	u32 pack(ClassLocked held, ZsPage *zs) ZSPP_REQUIRES(lock_);
	// Detaches the pages into @out; the caller takes them off the pool's
	// count under the same lock hold and frees them after it.
	[[nodiscard]] u32 trim(ClassLocked held, ZsPage *zs, zspp_page **out) ZSPP_REQUIRES(lock_);

	// ---- writeback (reclaim.cpp; lock held) ---------------------------
	// Evictable pools: @zs was just allocated into; @seq is the pool clock.
	void lru_touch(ClassLocked, ZsPage *zs, u64 seq) ZSPP_REQUIRES(lock_)
	{
		lock_.assert_held();
		zs->lru()->seq = seq;
		if (!lru_.is_first(zs)) {
			ZsPageLruList::remove(zs);
			lru_.push_front(zs);
		}
	}
	// The oldest zspage not already being reclaimed and not pinned.
	ZsPage *lru_tail(ClassLocked held) ZSPP_REQUIRES(lock_);
	// @zs leaves the fullness lists for writeback (reclaiming).
	void begin_reclaim(ClassLocked held, ZsPage *zs) ZSPP_REQUIRES(lock_);
	// Writeback of @zs is over: if it emptied, it is doomed and returned
	// (to be released); else it is back on its fullness list (the caller
	// puts it at the LRU head).
	[[nodiscard]] ZsPage *end_reclaim(ClassLocked held, ZsPage *zs) ZSPP_REQUIRES(lock_);

	// ---- folding (CONFIG_ZSPP_FOLD, fold.cpp; lock held) --------------
	// A fold pass may hold pointers to this class's zspages (a racy read,
	// locking.rst: 0 is exact, 1 is confirmed under the lock by bury()).
	bool fold_active_hint() const { return ZSPP_RACY_READ(fold_active_); }
	// @zs (doomed) is parked on the graveyard if a pass holds pointers to
	// it: true, and the pass frees it.
	[[nodiscard]] bool bury(ClassLocked, ZsPage *zs) ZSPP_REQUIRES(lock_)
	{
		if (!fold_active_)
			return false;
		graveyard_.push_front(zs);
		return true;
	}
	// The running pass emptied @zs (doomed): parked until it ends.
	void park(ClassLocked, ZsPage *zs) ZSPP_REQUIRES(lock_) { graveyard_.push_front(zs); }
	void begin_fold_pass(ClassLocked) ZSPP_REQUIRES(lock_)
	{
		fold_pass_ = u16(fold_pass_ + 1) ? u16(fold_pass_ + 1) : 1; // 0: never visited
		write_once(fold_active_, u8(1));
	}
	// The pass is over: its parked zspages move to @dead (to be released
	// with no lock held). Whether any object of the class is folded.
	bool end_fold_pass(ClassLocked, ZsPageList *dead) ZSPP_REQUIRES(lock_)
	{
		bool folded = folded_ != 0;
		write_once(fold_active_, u8(0));
		while (ZsPage *zs = graveyard_.first()) {
			ZsPageList::remove(zs);
			dead->push_front(zs);
		}
		return folded;
	}
	// A zspage this pass has not visited, in O(1).
	ZsPage *next_unvisited(ClassLocked held) ZSPP_REQUIRES(lock_);
	// The pass is done with @zs.
	void mark_visited(ClassLocked held, ZsPage *zs) ZSPP_REQUIRES(lock_);
	// A handle joined (left) another's slot.
	void sharer_added(ClassLocked) ZSPP_REQUIRES(lock_) { folded_++; }
	void sharer_dropped(ClassLocked) ZSPP_REQUIRES(lock_) { folded_--; }

	// ---- statistics and self-check (lock held) -------------------------
	// The counters of struct zspp_class_stats this class keeps.
	void stats(ClassLocked held, struct zspp_class_stats *out) const ZSPP_REQUIRES(lock_);
	struct Tally {
		unsigned long pages;   // pages of the class's zspages
		unsigned long objects; // handles stored (sharers included)
		unsigned long folded;  // of them, handles sharing another's slot
	};
	// The lists and counters agree; @check(zs, &folded) is the pool's check
	// of one zspage (reclaiming ones too), adding its slots' extra sharers
	// to folded. Adds the class's totals to @t.
	template <typename Check>
	[[nodiscard]] Status validate(ClassLocked held, Check check, Tally *t) ZSPP_REQUIRES(lock_);

	// Teardown (Pool::destroy; nobody else uses the class): the next zspage
	// on a fullness list, taken off it, or nullptr.
	ZsPage *take_any_for_teardown() ZSPP_NO_LOCK_ANALYSIS
	{
		if (!lock_.valid())
			return nullptr;
		for (auto &head : fullness_) {
			if (ZsPage *zs = head.first()) {
				ZsPageList::remove(zs);
				return zs;
			}
		}
		return nullptr;
	}

private:
	friend class ClassGuard;

	void move_to_group(ClassLocked held, ZsPage *zs, u32 g) ZSPP_REQUIRES(lock_);
	// settle()'s slow half: @zs has no objects left.
	ZsPage *retire_empty(ClassLocked held, ZsPage *zs) ZSPP_REQUIRES(lock_);
	// Take @zs (off the fullness lists) off the LRU and the counts, doomed.
	ZsPage *retire(ClassLocked held, ZsPage *zs) ZSPP_REQUIRES(lock_);
	// @zs not pinned: move slot @from's object to free slot @to below it.
	void move_within(ClassLocked held, ZsPage *zs, u32 from, u32 to) ZSPP_REQUIRES(lock_);
	template <typename Check>
	[[nodiscard]] Status validate_lru(ClassLocked held, Check &check, unsigned long *zspages, unsigned long *used,
					  unsigned long *folded) ZSPP_REQUIRES(lock_);

	// What it guards and the lock order: Documentation/locking.rst. First
	// in the class, so that a ClassGuard's pointer to it is the class's
	// own (the hot paths add no offset).
	SpinLock lock_;
	// Set once by init(); no lock.
	u32 index_;
	u32 size_;
	u32 pages_;
	u32 objs_;
	usize desc_size_;
	usize desc_bytes_;

	// Guarded by lock_, and so are the zspages on these lists (their
	// ZsPage fields but `mapped`; the analysis cannot name another
	// object's lock, see locking.rst).
	ZsPageList fullness_[kNumFullness] ZSPP_GUARDED_BY(lock_);
	unsigned long zspages_in_[kNumFullness] ZSPP_GUARDED_BY(lock_);
	unsigned long obj_used_ ZSPP_GUARDED_BY(lock_); // includes objects of zspages under reclaim
	unsigned long zspages_ ZSPP_GUARDED_BY(lock_);  // includes zspages under reclaim (off the lists)
	unsigned long pages_used_ ZSPP_GUARDED_BY(lock_); // pages attached to those zspages (zspage.h: they fill from the front)
	// The zspage the last malloc used is not full and its next slot needs
	// a page (next_needs_page_hint(): read racily; malloc copes with it
	// being stale either way).
	u8 next_needs_page_ ZSPP_GUARDED_BY(lock_);
	u8 evictable_;    // set once: its zspages are on lru_ (Pool::evictable())
	ZsPageLruList lru_ ZSPP_GUARDED_BY(lock_);      // evictable pools: every zspage, newest first

	// CONFIG_ZSPP_FOLD (fold.cpp).
	unsigned long folded_ ZSPP_GUARDED_BY(lock_); // handles sharing another's slot: sum of (refs - 1)
	u16 fold_pass_ ZSPP_GUARDED_BY(lock_);    // number of the running (or last) fold pass, never 0
	u8 fold_active_ ZSPP_GUARDED_BY(lock_);   // a fold pass holds pointers to this class's zspages
	ZsPageList graveyard_ ZSPP_GUARDED_BY(lock_); // zspages emptied while fold_active_, freed when it ends
	ZsPageFoldList fold_list_ ZSPP_GUARDED_BY(lock_); // every zspage: not yet visited by this pass first
};

// Scoped class lock (Zircon's Guard<SpinLock>): takes @cls's lock, and is
// the one thing that converts to a ClassLocked. release() ends the scope
// early; call_unlocked() drops the lock around one call and takes it again.
class ZSPP_SCOPED_CAPABILITY [[nodiscard]] ClassGuard {
public:
	explicit ClassGuard(SizeClass *cls) ZSPP_ACQUIRE(cls->lock()) : lock_(&cls->lock_) { lock_->lock(); }
	~ClassGuard() ZSPP_RELEASE() { release(); }
	void release() ZSPP_RELEASE()
	{
		if (lock_) {
			lock_->unlock();
			lock_ = nullptr;
		}
	}
	operator ClassLocked() const { return ClassLocked(); }
	// Zircon's guard.CallUnlocked(): run @fn with the lock dropped (what
	// it reads under the lock before must be re-checked after), then take
	// the lock again, whatever @fn returns. The analysis sees the lock held
	// throughout, and checks @fn's body as code that holds no lock.
	template <typename F>
	auto call_unlocked(F &&fn) ZSPP_NO_LOCK_ANALYSIS
	{
		struct Relock {
			SpinLock *lock;
			~Relock() ZSPP_NO_LOCK_ANALYSIS { lock->lock(); }
		} relock{lock_};
		lock_->unlock();
		return fn();
	}
	ClassGuard(const ClassGuard &) = delete;
	ClassGuard &operator=(const ClassGuard &) = delete;

private:
	// The lock, not the class (as SpinGuard): what the hot paths already
	// keep in a register, so the guard costs them no spill.
	SpinLock *lock_;
};

template <typename Check>
Status SizeClass::validate(ClassLocked held, Check check, Tally *t)
{
	lock_.assert_held();
	u32 i = index_;
	unsigned long zspages = 0, used = 0, shared = 0, listed_pages = 0;
	for (u32 g = 0; g < kNumFullness; g++) {
		unsigned long in_group = 0;
		for (ZsPage *zs : fullness_[g]) {
			in_group++;
			if (zs->reclaiming || zs->fullness != g || fullness_group(zs->inuse, zs->objs) != g) {
				zspp_log_err("zspp: validate: class %u zspage in the wrong group\n", i);
				return Error{-ZSPP_EINVAL};
			}
			ZSPP_TRY(check(zs, &shared));
			used += zs->inuse;
			listed_pages += zs->present_pages();
		}
		if (in_group != zspages_in_[g]) {
			zspp_log_err("zspp: validate: class %u group %u count off\n", i, g);
			return Error{-ZSPP_EINVAL};
		}
		zspages += in_group;
	}
	if (evictable_)
		ZSPP_TRY(validate_lru(held, check, &zspages, &used, &shared));
	if constexpr (kFold) {
		unsigned long listed = 0;
		for (ZsPage *zs : fold_list_) {
			(void)zs;
			listed++;
		}
		if (listed != zspages_) {
			zspp_log_err("zspp: validate: class %u fold list holds %lu of %lu zspages\n", i, listed,
				     zspages_);
			return Error{-ZSPP_EINVAL};
		}
	}
	// Zspages under reclaim are off the lists (their pages counted).
	bool pages_ok = evictable_ ? listed_pages <= pages_used_ : listed_pages == pages_used_;
	if (zspages != zspages_ || used != obj_used_ || shared != folded_ || zspages_in_[kFullnessEmpty] != 0 ||
	    !pages_ok) {
		zspp_log_err("zspp: validate: class %u totals off\n", i);
		return Error{-ZSPP_EINVAL};
	}
	t->pages += pages_used_;
	t->objects += used + folded_;
	t->folded += folded_;
	return success();
}

// The LRU holds every zspage on the fullness lists (counted in *zspages)
// plus those under reclaim, which it adds to *zspages and *used.
template <typename Check>
Status SizeClass::validate_lru(ClassLocked, Check &check, unsigned long *zspages, unsigned long *used,
			       unsigned long *folded)
{
	lock_.assert_held();
	unsigned long listed = 0, reclaiming = 0;
	u64 newer = ~u64(0);
	for (ZsPage *zs : lru_) {
		if (zs->lru()->seq > newer) {
			zspp_log_err("zspp: validate: class %u LRU out of order\n", index_);
			return Error{-ZSPP_EINVAL};
		}
		newer = zs->lru()->seq;
		if (!zs->reclaiming) {
			listed++;
			continue;
		}
		ZSPP_TRY(check(zs, folded));
		reclaiming++;
		*used += zs->inuse;
	}
	if (listed != *zspages) {
		zspp_log_err("zspp: validate: class %u LRU holds %lu of %lu zspages\n", index_, listed, *zspages);
		return Error{-ZSPP_EINVAL};
	}
	*zspages += reclaiming;
	return success();
}

} // namespace zspp
