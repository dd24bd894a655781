// SPDX-License-Identifier: GPL-2.0
// Compaction (over the fullness groups): per class, take the emptiest zspage that
// nobody has pinned, move each of its objects into the fullest zspage with
// room, free it, drop the lock, repeat while a whole zspage's worth of slots
// is free. The class lock is held for one source zspage at a time, never for
// a whole class.
#include "pool.h"

namespace zspp {

namespace {
// The pages compaction could give back in @cls if it has @zspages zspages
// holding @used objects in @pages pages: zero unless a whole zspage's worth
// of slots is free (so that a source always fits into the others), else
// at most the pages beyond what @used objects packed from the front would
// take (zspages fill their pages from the front, zspage.h). An upper bound:
// what compact() frees is at most this (its freed count is net of the pages
// its moves attach).
unsigned long freeable(const SizeClass *cls, unsigned long zspages, unsigned long used, unsigned long pages)
{
	unsigned long allocated = zspages * cls->objs;
	if (used >= allocated || (allocated - used) < cls->objs)
		return 0;
	unsigned long rest = used % cls->objs;
	unsigned long packed = used / cls->objs * cls->pages + (rest ? ((rest * cls->size - 1) >> kPageShift) + 1 : 0);
	// Compaction empties (allocated - used) / objs zspages, of at most
	// cls->pages pages each.
	return pages > packed ? min(pages - packed, (allocated - used) / cls->objs * cls->pages) : 0;
}
} // namespace

unsigned long Pool::freeable_pages(const SizeClass *cls)
{
	return freeable(cls, cls->zspages, cls->obj_used, cls->pages_used);
}

// The shrinker's count: a racy snapshot of every class, no lock taken (the
// two counters may be from different moments; the scan re-checks under the
// lock).
unsigned long Pool::compactable_pages()
{
	unsigned long pages = 0;
	for (u32 i = 0; i < kNumClassIndices; i++) {
		const SizeClass *cls = classes_[i];
		if (cls->index == i)
			pages += freeable(cls, ZSPP_RACY_READ(cls->zspages), ZSPP_RACY_READ(cls->obj_used),
					  ZSPP_RACY_READ(cls->pages_used));
	}
	return pages;
}

// Lock held. The emptiest zspage whose objects may move (not pinned).
ZsPage *Pool::pick_source(SizeClass *cls)
{
	for (u32 g = kFullnessEmpty + 1; g < kFullnessFull; g++) {
		for (ZsPage *zs : cls->fullness[g]) {
			if (zs->mapped.load() == 0)
				return zs;
		}
	}
	return nullptr;
}

// Lock held. The fullest zspage other than @src with a free slot. (A pinned
// destination is fine: only its free slots are written.)
ZsPage *Pool::pick_destination(SizeClass *cls, ZsPage *src)
{
	for (u32 g = kFullnessFull - 1; g > kFullnessEmpty; g--) {
		for (ZsPage *zs : cls->fullness[g]) {
			if (zs != src)
				return zs;
		}
	}
	return nullptr;
}


// Lock held; @dst's next free slot has its page. The handle words are rewritten under the
// class lock, which every resolver of this class takes (or is excluded by
// the source not being pinned).
void Pool::move_object(SizeClass *cls, ZsPage *src, u32 sidx, ZsPage *dst)
{
	SlotWord w = src->slot(sidx);
	u32 size = object_size(w);
	u32 didx = dst->take_slot(w);
	if constexpr (kFold)
		dst->flags()[didx] = src->flags()[sidx];
	copy_slot(src, sidx, dst, didx, size);
	// A shared slot (CONFIG_ZSPP_FOLD): every sharer's handle follows it.
	u64 loc = Location(dst->pfn0, size, didx).word();
	for_each_handle(w, [loc](u64 *handle) { write_once(*handle, loc); });
	src->release_slot(sidx);
	regroup(cls, dst);
}

unsigned long Pool::compact_class(SizeClass *cls)
{
	unsigned long freed = 0, attached = 0;
	// The page for a destination slot that has none yet (zspages fill their
	// pages from the front): got without sleeping or reclaim, as the
	// shrinker may run us, and only once a move needs it.
	zspp_page *spare = nullptr;
	while (!destroying_.load()) {
		ZsPage *emptied = nullptr;
		unsigned long moved = 0;
		bool need_page = false;
		u32 emptied_pages = 0;
		{
			SpinGuard guard(cls->lock);
			if (freeable_pages(cls) == 0)
				break;
			ZsPage *src = pick_source(cls);
			if (!src)
				break;
			// A whole zspage of free slots exists elsewhere, so src
			// (not itself empty) always fits into the others.
			for (u32 s = 0; s < src->objs && src->inuse; s++) {
				if (src->slot(s).is_free())
					continue;
				ZsPage *dst = pick_destination(cls, src);
				if (!dst)
					break;
				bool had_spare = spare != nullptr;
				if (!back_next_slot(cls, dst, &spare)) {
					need_page = true;
					break;
				}
				attached += had_spare && !spare;
				move_object(cls, src, s, dst);
				moved++;
			}
			emptied = settle(cls, src);
			if (emptied)
				emptied_pages = emptied->present_pages(); // doomed: fixed
		}
		objs_moved_.add(moved);
		if (emptied) {
			release_zspage(emptied);
			freed += emptied_pages;
		} else if (!need_page || !(spare = zspp_page_alloc(zspp_gfp_nowait))) {
			break;
		}
		zspp_cond_resched();
	}
	if (spare)
		zspp_page_free(spare);
	// Net of the pages the moves attached (at most about what they freed).
	return freed > attached ? freed - attached : 0;
}

unsigned long Pool::compact()
{
	if (!compacting_.try_exchange(0, 1))
		return 0;
	unsigned long freed = 0;
	for (u32 i = kNumClassIndices; i-- > 0 && !destroying_.load();) {
		if (classes_[i]->index == i)
			freed += compact_class(classes_[i]);
	}
	if (freed) {
		compactions_.add(1);
		pages_compacted_.add(freed);
	}
	compacting_.store(0);
	return freed;
}

} // namespace zspp
