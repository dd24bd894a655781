// SPDX-License-Identifier: GPL-2.0
// Compaction (over the fullness groups): per class, take the emptiest zspage
// that nobody has pinned and move its objects, from its last slot down, into
// the fullest zspages with room. Emptied, it is freed; if the others fill up
// first, it is the class's one part-full zspage left: its objects are packed
// into its first slots and the pages past the last of them are released
// (trim), as zspages fill their pages from the front (zspage.h). So a class
// ends with at most one part-full zspage holding only the pages its objects
// reach, whatever the chain length (zsmalloc frees whole zspages only, so up
// to a zspage's worth of slots stays free in every class). The class lock is
// held for one source zspage at a time, never for a whole class.
//
// A move may need a page for its destination (zspages fill their pages from
// the front), got with GFP_NOWAIT and never under a lock, so any one of them
// may fail. So a source's moves are planned first (plan_moves, under the
// lock, which then stays held for them): the pages they need are got before
// the first of them, and a source is taken on only if what compaction will
// have given back by its end covers every page attached. The class is left
// consistent and never worse off wherever an allocation fails: a class never
// ends a compaction with more pages than it started with (only a page lock
// held by migration, which trim skips, can keep back a page counted on).
#include "pool.h"

namespace zspp {

namespace {
// The pages @used objects of @cls take when packed from the front: full
// zspages, then one holding the rest. No layout of the class takes fewer
// (the pages a zspage's objects reach are at least what as many slots
// from its front reach), so it is what compaction works towards.
unsigned long packed_pages(const SizeClass *cls, unsigned long used)
{
	return used / cls->objs() * cls->pages() + pages_reached(used % cls->objs(), cls->size());
}

// The pages compaction could give back in @cls, holding @used objects in
// @pages pages: everything past the packed layout. An upper bound: what
// compact() frees is at most this (its freed count is net of the pages its
// moves attach), less when a zspage is pinned, under reclaim or has a page
// held by migration.
unsigned long freeable(const SizeClass *cls, unsigned long used, unsigned long pages)
{
	unsigned long packed = packed_pages(cls, used);
	return pages > packed ? pages - packed : 0;
}
} // namespace

unsigned long SizeClass::freeable_pages(ClassLocked) const
{
	lock_.assert_held();
	return freeable(this, obj_used_, pages_used_);
}

// The two counters may be from different moments; the scan re-checks
// under the lock.
unsigned long SizeClass::freeable_pages_racy() const
{
	return freeable(this, ZSPP_RACY_READ(obj_used_), ZSPP_RACY_READ(pages_used_));
}

// The shrinker's count: a racy snapshot of every class, no lock taken.
unsigned long Pool::compactable_pages()
{
	unsigned long pages = 0;
	for (u32 i = 0; i < kNumClassIndices; i++) {
		const SizeClass *cls = classes_[i];
		if (cls->index() == i)
			pages += cls->freeable_pages_racy();
	}
	return pages;
}

// Lock held. The emptiest zspage whose objects may move (not pinned).
ZsPage *SizeClass::pick_source(ClassLocked)
{
	lock_.assert_held();
	for (u32 g = kFullnessEmpty + 1; g < kFullnessFull; g++) {
		for (ZsPage *zs : fullness_[g]) {
			if (!zs->pinned())
				return zs;
		}
	}
	return nullptr;
}

// Lock held. The fullest zspage other than @src with a free slot. (A pinned
// destination is fine: only its free slots are written.)
ZsPage *SizeClass::pick_destination(ClassLocked, ZsPage *src)
{
	lock_.assert_held();
	for (u32 g = kFullnessFull - 1; g > kFullnessEmpty; g--) {
		for (ZsPage *zs : fullness_[g]) {
			if (zs != src)
				return zs;
		}
	}
	return nullptr;
}


// Lock held; @dst's next free slot has its page. The handle words are rewritten under the
// class lock, which every resolver of this class takes (or is excluded by
// the source not being pinned).
void SizeClass::move_object(ClassLocked held, ZsPage *src, u32 sidx, ZsPage *dst)
{
	lock_.assert_held();
	SlotWord w = src->slot(sidx);
	u32 size = object_size(w);
	u32 didx = dst->take_slot(w);
	if constexpr (kFold)
		dst->flags()[didx] = src->flags()[sidx];
	copy_slot(src, sidx, dst, didx, size);
	// A shared slot (CONFIG_ZSPP_FOLD): every sharer's handle follows it.
	Location loc = Location(dst->pfn0, size, didx);
	for_each_handle(w, [loc](Handle handle) { handle.set(loc); });
	src->release_slot(sidx);
	regroup(held, dst);
}

// Lock held, @zs not pinned: move slot @from's object to free slot @to of
// the same zspage (below it, so its pages are there). The free list is
// left stale: pack() rebuilds it.
void SizeClass::move_within(ClassLocked, ZsPage *zs, u32 from, u32 to)
{
	lock_.assert_held();
	SlotWord w = zs->slot(from);
	u32 size = object_size(w);
	zs->set_slot(to, w);
	if constexpr (kFold)
		zs->flags()[to] = zs->flags()[from];
	copy_slot(zs, from, zs, to, size);
	Location loc = Location(zs->pfn0, size, to);
	for_each_handle(w, [loc](Handle handle) { handle.set(loc); });
	zs->set_slot(from, SlotWord::free(ZsPage::kNoFree));
}

// Lock held, @zs not pinned: move its objects into its first inuse slots
// (the highest into the lowest free, in turn) and rebuild its free list.
// Returns the objects moved.
u32 SizeClass::pack(ClassLocked held, ZsPage *zs)
{
	lock_.assert_held();
	u32 moved = 0;
	for (u32 lo = 0, hi = zs->objs;;) {
		while (lo < hi && !zs->slot(lo).is_free())
			lo++;
		while (hi > lo && zs->slot(hi - 1).is_free())
			hi--;
		if (lo >= hi)
			break;
		// Slot lo is free and hi - 1 > lo holds an object.
		move_within(held, zs, --hi, lo++);
		moved++;
	}
	zs->reset_free_tail();
	return moved;
}

// Lock held, @zs packed (pack()) and not pinned: detach its pages past the
// last used slot, from the top down, each only if its page lock can be
// taken now (migration may hold it: that page and those below it stay).
// The detached pages, still locked, go into @out; the caller frees them
// (zspp_page_free_locked) after dropping the lock, which makes an isolated
// one drop out of migration as a freed zspage's pages do (locking.rst).
u32 SizeClass::trim(ClassLocked, ZsPage *zs, zspp_page **out)
{
	lock_.assert_held();
	u32 n = 0;
	for (u32 p = zs->present_pages(), keep = zs->pages_for(zs->inuse); p > keep; p--) {
		zspp_page *page = zs->page(p - 1);
		if (!zspp_page_trylock(page))
			break;
		write_once(zs->addrs()[p - 1], static_cast<char *>(nullptr));
		out[n++] = page;
	}
	pages_used_ -= n;
	return n;
}

// Lock held. What moving @src's objects would take, as compact_class()
// makes the moves: into the fullest zspage with room until it is full, then
// the next (a destination only gets fuller, so it stays the fullest), each
// one's slots with pages first. Stops where the objects would need more
// than @max_pages new pages.
SizeClass::MovePlan SizeClass::plan_moves(ClassLocked, ZsPage *src, u32 max_pages)
{
	lock_.assert_held();
	MovePlan plan{0, 0};
	u32 left = src->inuse;
	for (u32 g = kFullnessFull - 1; g > kFullnessEmpty && left; g--) {
		for (ZsPage *zs : fullness_[g]) {
			if (zs == src)
				continue;
			// Its free slots with pages (every slot in use has
			// its pages), then, a page at a time, the never-used
			// ones past them (in slot order, zspage.h; a slot is
			// at most a page, so each page backs the next one).
			u32 present = zs->present_pages();
			u32 take = min(left, zs->slots_within(present) - zs->inuse);
			while (take < left && zs->slots_within(present) < zs->objs && plan.pages < max_pages) {
				plan.pages++;
				take = min(left, zs->slots_within(++present) - zs->inuse);
			}
			plan.objects += take;
			left -= take;
			if (!left || plan.pages == max_pages)
				return plan;
		}
	}
	return plan;
}

unsigned long Pool::compact_class(SizeClass *cls)
{
	unsigned long freed = 0, attached = 0;
	// Pages for destination slots that have none yet (zspages fill their
	// pages from the front): got without sleeping or reclaim, as the
	// shrinker may run us, with no lock held, before the moves that need
	// them. Those left over are freed at the end (declared before the
	// guards: with no lock held).
	PageReserve<kMaxChain> spares;
	while (!destroying_.load()) {
		ZsPage *emptied = nullptr;
		zspp_page *trimmed[kMaxChain];
		u32 nr_trimmed = 0, emptied_pages = 0, want = 0;
		unsigned long moved = 0;
		bool unpaid = false;
		{
			ClassGuard guard(cls);
			if (cls->freeable_pages(guard) == 0)
				break;
			ZsPage *src = cls->pick_source(guard);
			if (!src)
				break;
			SizeClass::MovePlan plan = cls->plan_moves(guard, src, kMaxChain);
			u32 present = src->present_pages();
			// What src gives back once the moves are made: all its
			// pages if it empties, else those past its objects
			// packed from the front (trim).
			u32 gives = present - u32(pages_reached(src->inuse - plan.objects, src->slot_size));
			if (plan.pages > spares.size()) {
				want = plan.pages; // nothing moved: get them first
			} else if (freed + gives < attached + plan.pages) {
				unpaid = true; // would leave the class worse off
			} else {
				// From the last slot down: what stays behind when the
				// others are full is src's front, ready to be trimmed.
				for (u32 s = src->objs; s-- > 0 && moved < plan.objects;) {
					if (src->slot(s).is_free())
						continue;
					ZsPage *dst = cls->pick_destination(guard, src);
					bool backed = dst && dst->next_slot_backed();
					if (dst && !backed && !spares.empty()) { // a page the plan counted
						attach_next_page(cls, guard, dst, spares.take());
						attached++;
						backed = true;
					}
					if (!backed)
						break; // not as planned (cannot happen): stop, consistent
					cls->move_object(guard, src, s, dst);
					moved++;
				}
				emptied = cls->settle(guard, src);
				if (emptied) {
					emptied_pages = emptied->present_pages(); // doomed: fixed
				} else {
					moved += cls->pack(guard, src);
					nr_trimmed = cls->trim(guard, src, trimmed);
					pages_.sub(nr_trimmed); // under the lock, as the class's count
				}
			}
		}
		objs_moved_.add(moved);
		if (emptied) {
			release_zspage(emptied);
			freed += emptied_pages;
		} else if (nr_trimmed) {
			for (u32 i = 0; i < nr_trimmed; i++)
				zspp_page_free_locked(trimmed[i]);
			freed += nr_trimmed;
			pages_trimmed_.add(nr_trimmed);
		}
		if (unpaid)
			break;
		if (want) {
			if (!spares.fill(want, zspp_gfp_nowait))
				break; // the class stays as it is: nothing is owed
		} else if (!emptied && !nr_trimmed) {
			// Nothing freed and no page to wait for: whatever is
			// left is pinned, under reclaim or held by migration.
			break;
		}
		zspp_cond_resched();
	}
	// Net of the pages the moves attached: never negative, as no source is
	// taken on that does not pay for its pages (but for a trim that found
	// a page held by migration).
	return freed > attached ? freed - attached : 0;
}

unsigned long Pool::compact()
{
	Exclusive::Entry run = compaction_.try_enter();
	if (!run)
		return 0;
	unsigned long freed = 0;
	for (u32 i = kNumClassIndices; i-- > 0 && !destroying_.load();) {
		if (classes_[i]->index() == i)
			freed += compact_class(classes_[i]);
	}
	if (freed) {
		compactions_.add(1);
		pages_compacted_.add(freed);
	}
	return freed;
}

} // namespace zspp
