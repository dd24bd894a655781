// SPDX-License-Identifier: GPL-2.0
// Writeback: reclaim whole zspages by asking the pool's user to
// evict their objects, least recently allocated-into zspage first.
//
// The LRU is kept per class under the class lock (no extra lock on the
// malloc path); each zspage carries the value of a pool-wide clock taken
// when it was last allocated into, so the tails of the class LRUs merge into
// one pool LRU: the victim is the class tail with the oldest stamp.
//
// A victim is isolated under its class lock: `reclaiming` set and taken off
// the fullness lists, so malloc and compaction never pick it. Then, with no
// zspp lock held, each live object goes to evict(). The user frees the
// handle from inside evict (zswap does, with the handle still mapped), and
// other tasks may free objects of the zspage meanwhile: those frees only
// mark the slot (SlotWord::deferred) and keep the data and handle until
// finish_reclaim() completes them under the class lock. Page migration may
// still move the pages; it re-points handles of deferred slots too.
#include "pool.h"

namespace zspp {

namespace {
// Zspages reclaim may fail to free in one call before it gives up (as
// zsmalloc's and zbud's reclaim retries).
constexpr u32 kReclaimRetries = 8;
} // namespace

// A pinned zspage has an object mapped, maybe a store still filling it,
// whose bytes an evict would read half-written (6.1 zswap reads the swap
// offset from the object before it looks the entry up).
ZsPage *SizeClass::lru_tail(ClassLocked)
{
	lock_.assert_held();
	for (ZsPage *zs = lru_.last(); zs; zs = lru_.prev(zs)) {
		if (!zs->reclaiming && !zs->pinned())
			return zs;
	}
	return nullptr;
}

// Off the fullness lists, malloc and compaction never pick it; it stays on
// the LRU and in the counts.
void SizeClass::begin_reclaim(ClassLocked, ZsPage *zs)
{
	lock_.assert_held();
	zs->reclaiming = ZsPage::kReclaiming;
	ZsPageList::remove(zs);
	zspages_in_[zs->fullness]--;
}

ZsPage *SizeClass::end_reclaim(ClassLocked held, ZsPage *zs)
{
	lock_.assert_held();
	zs->reclaiming = 0;
	if (zs->inuse == 0)
		return retire(held, zs);
	zs->fullness = u8(fullness_group(zs->inuse, zs->objs));
	fullness_[zs->fullness].push_front(zs);
	zspages_in_[zs->fullness]++;
	return nullptr;
}

ZsPage *Pool::isolate_victim(SizeClass **cls_out)
{
	// Each class lock in turn (never two at once): reclaim is the slow path
	// and the malloc path stays free of a pool-wide lock.
	SizeClass *best = nullptr;
	u64 best_seq = ~u64(0);
	for (u32 i = 0; i < kNumClassIndices; i++) {
		SizeClass *cls = classes_[i];
		if (cls->index() != i)
			continue;
		ClassGuard guard(cls);
		ZsPage *zs = cls->lru_tail(guard);
		if (zs && zs->lru()->seq < best_seq) {
			best = cls;
			best_seq = zs->lru()->seq;
		}
	}
	if (!best)
		return nullptr;
	ClassGuard guard(best);
	// The tail may have changed since the scan: any old zspage will do.
	ZsPage *zs = best->lru_tail(guard);
	if (!zs)
		return nullptr;
	best->begin_reclaim(guard, zs);
	*cls_out = best;
	return zs;
}

void Pool::evict_objects(ZsPage *zs)
{
	SizeClass *cls = classes_[zs->class_index];
	for (u32 s = 0; s < zs->objs; s++) {
		// Only this task releases slots of a reclaiming zspage; others can
		// only make a slot deferred, which evict_one() checks again under the lock.
		SlotWord w = zs->slot(s);
		if (w.is_free() || w.is_deferred())
			continue;
		if constexpr (kFold) {
			// A shared slot: every sharer is evicted (fold.cpp).
			if (w.is_shared()) {
				if (!evict_shared(cls, zs, s))
					return;
				continue;
			}
		}
		if (!evict_one(cls, zs, s, w.handle()))
			return; // keep the rest: the zspage goes back
	}
}

bool Pool::evictable(ClassLocked, ZsPage *zs, u32 idx, Handle handle)
{
	classes_[zs->class_index]->lock().assert_held();
	SlotWord w = zs->slot(idx);
	if constexpr (kFold) {
		if (w.is_shared())
			return w.share()->find(handle, false) >= 0;
	}
	return w == SlotWord::owned(handle);
}

bool Pool::evict_one(SizeClass *cls, ZsPage *zs, u32 idx, Handle handle)
{
	{
		// From here on a free of @handle by another task is noted on the
		// zspage; one that came before is seen now and needs no evict.
		ClassGuard guard(cls);
		if (!evictable(guard, zs, idx, handle))
			return true;
		zs->reclaiming = ZsPage::kReclaiming;
		evictor_.begin(handle);
	}
	// The user may free the handle from inside evict (zswap does, with it
	// mapped) and another task may free it at any point (zswap invalidating
	// the swap slot): it stays mappable, with its bytes, until
	// finish_reclaim(), because 6.1 zswap maps it before it looks the entry
	// up (Documentation/zswap-contract.rst).
	int err = evictor_.evict(handle);
	bool written;
	{
		ClassGuard guard(cls);
		written = zs->reclaiming & ZsPage::kFreedByEvictor;
		zs->reclaiming = ZsPage::kReclaiming;
		evictor_.end();
	}
	if (err)
		return false;
	// Success with the handle freed by evict itself: written back. Freed by
	// another task, or not freed (zswap: the entry was erased but another
	// reference still held it), the user found the entry gone.
	if (written)
		objs_written_back_.add(1);
	else
		evict_stale_.add(1);
	return true;
}

ZsPage *Pool::finish_reclaim(SizeClass *cls, ZsPage *zs)
{
	unsigned long freed = 0, bytes = 0;
	ClassGuard guard(cls);
	for (u32 s = 0; s < zs->objs; s++) {
		SlotWord w = zs->slot(s);
		if constexpr (kFold) {
			// Sharers whose frees waited go first; the slot follows
			// below once none is left (fold.cpp).
			if (w.is_shared()) {
				freed += finish_shared(cls, guard, zs, s, &bytes);
				w = zs->slot(s);
			}
		}
		if (!w.is_deferred())
			continue;
		Handle handle = w.handle();
		bytes += object_size(w);
		cls->release_slot(guard, zs, s);
		handle.clear(); // as in free(): a later use decodes to nothing
		put_handle(handle);
		freed++;
	}
	objects_.sub(freed);
	bytes_stored_.sub(bytes);
	bytes_slots_.sub(freed * cls->size());
	if (ZsPage *emptied = cls->end_reclaim(guard, zs))
		return emptied;
	// Not emptied: back into its class. It goes to the LRU head so that
	// the next attempt tries another zspage.
	cls->lru_touch(guard, zs, lru_clock_.add(1));
	return nullptr;
}

Result<unsigned long> Pool::reclaim(unsigned long pages)
{
	if (!evictor_.enabled())
		return Error{-ZSPP_EINVAL};
	// One at a time (see Evictor): a concurrent call frees nothing.
	Exclusive::Entry run = reclaim_.try_enter();
	if (!run) {
		if (pages)
			return Error{-ZSPP_EAGAIN};
		return 0ul;
	}
	unsigned long freed = 0;
	u32 failures = 0;
	while (freed < pages && failures < kReclaimRetries && !destroying_.load()) {
		SizeClass *cls = nullptr;
		ZsPage *zs = isolate_victim(&cls);
		if (!zs)
			break;
		evict_objects(zs);
		ZsPage *emptied = finish_reclaim(cls, zs);
		if (emptied) {
			freed += emptied->present_pages(); // doomed: its pages are fixed
			release_zspage(emptied);
		} else {
			// An evict failed, or returned 0 without freeing its handle.
			failures++;
			reclaim_fail_.add(1);
		}
		zspp_cond_resched();
	}
	pages_reclaimed_.add(freed);
	if (!freed && pages)
		return Error{-ZSPP_EAGAIN};
	return freed;
}

} // namespace zspp
