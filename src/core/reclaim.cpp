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

// Class lock held. The oldest zspage of @cls not already being reclaimed
// and not pinned: a pinned zspage has an object mapped, maybe a store still
// filling it, whose bytes an evict would read half-written (6.1 zswap reads
// the swap offset from the object before it looks the entry up).
ZsPage *lru_tail(SizeClass *cls, ClassLocked held) ZSPP_REQUIRES(cls->lock)
{
	cls->lock.assert_held();
	for (ZsPage *zs = cls->lru.last(); zs; zs = cls->lru.prev(zs)) {
		if (!zs->reclaiming && !zs->pinned())
			return zs;
	}
	return nullptr;
}
} // namespace

ZsPage *Pool::isolate_victim(SizeClass **cls_out)
{
	// Each class lock in turn (never two at once): reclaim is the slow path
	// and the malloc path stays free of a pool-wide lock.
	SizeClass *best = nullptr;
	u64 best_seq = ~u64(0);
	for (u32 i = 0; i < kNumClassIndices; i++) {
		SizeClass *cls = classes_[i];
		if (cls->index != i)
			continue;
		ClassGuard guard(cls);
		ZsPage *zs = lru_tail(cls, guard);
		if (zs && zs->lru()->seq < best_seq) {
			best = cls;
			best_seq = zs->lru()->seq;
		}
	}
	if (!best)
		return nullptr;
	ClassGuard guard(best);
	// The tail may have changed since the scan: any old zspage will do.
	ZsPage *zs = lru_tail(best, guard);
	if (!zs)
		return nullptr;
	zs->reclaiming = ZsPage::kReclaiming;
	ZsPageList::remove(zs);
	best->zspages_in[zs->fullness]--;
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
	classes_[zs->class_index]->lock.assert_held();
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
		zs->release_slot(s);
		cls->obj_used--;
		handle.clear(); // as in free(): a later use decodes to nothing
		put_handle(handle);
		freed++;
	}
	objects_.sub(freed);
	bytes_stored_.sub(bytes);
	bytes_slots_.sub(freed * cls->size);
	zs->reclaiming = 0;
	if (zs->inuse == 0) {
		ZsPageLruList::remove(zs);
		uncount_zspage(cls, guard, zs);
		doom(guard, zs);
		return zs;
	}
	// Not emptied: back into its class. It goes to the LRU head so that
	// the next attempt tries another zspage.
	zs->fullness = u8(fullness_group(zs->inuse, zs->objs));
	cls->fullness[zs->fullness].push_front(zs);
	cls->zspages_in[zs->fullness]++;
	lru_touch(cls, guard, zs);
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

// Class lock held.
Status Pool::validate_lru(SizeClass *cls, ClassLocked held, unsigned long *zspages, unsigned long *used, unsigned long *folded)
{
	cls->lock.assert_held();
	unsigned long listed = 0, reclaiming = 0;
	u64 newer = ~u64(0);
	for (ZsPage *zs : cls->lru) {
		if (zs->lru()->seq > newer) {
			zspp_log_err("zspp: validate: class %u LRU out of order\n", cls->index);
			return Error{-ZSPP_EINVAL};
		}
		newer = zs->lru()->seq;
		if (!zs->reclaiming) {
			listed++;
			continue;
		}
		ZSPP_TRY(validate_zspage(cls, held, zs, folded));
		reclaiming++;
		*used += zs->inuse;
	}
	if (listed != *zspages) {
		zspp_log_err("zspp: validate: class %u LRU holds %lu of %lu zspages\n", cls->index, listed,
			     *zspages);
		return Error{-ZSPP_EINVAL};
	}
	*zspages += reclaiming;
	return success();
}

} // namespace zspp
