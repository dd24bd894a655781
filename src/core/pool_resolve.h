// SPDX-License-Identifier: GPL-2.0
// Handle resolution (handle -> class -> zspage -> slot) and the map pin:
// what every map, read, write and free starts with. Inline, so that the hot
// paths pay no call, spill or ObjRef store for them (host profile: a
// read_begin/read_end pair went from 319 to 216 core instructions).
// Included by pool.h only.
#pragma once

namespace zspp {

ZSPP_HOT inline SizeClass *Pool::class_of(Handle handle)
{
	if (!handle.plausible())
		return nullptr;
	// Any word decodes to a size in 1..kMaxAlloc, so to some class.
	return classes_[handle.location().class_index()];
}

// Class lock held, or (Locked::kPinned) the zspage pinned by the caller: the
// handle word @loc is stable. The zspage must be of @cls (the class whose
// lock is held), which is what makes the rest of the word trustworthy; a
// word re-read under the lock that names another class's zspage is refused.
ZSPP_HOT inline bool Pool::resolve(Handle handle, Location loc, SizeClass *cls, ObjRef *ref, Freed freed,
				   Locked locked)
{
	// Pinned, @cls came from this very word, so the size fits it.
	if (locked == Locked::kYes && loc.size() > cls->size())
		return false;
	auto *zs = static_cast<ZsPage *>(locked == Locked::kYes ? MemmapSeen::owner(loc.pfn())
								  : MemmapSeen::owner_pinned(loc.pfn()));
	if (!zs || zs->magic != ZsPage::kMagic || zs->pool != this || zs->class_index != cls->index() ||
	    loc.idx() >= zs->objs)
		return false;
	SlotWord w = zs->slot(loc.idx());
	bool is_freed = false;
	if (kFold && w.is_shared()) {
		// Unlocked, the record may be changing (another sharer's free):
		// only the tag is read. The caller's pin proves the handle live.
		if (locked == Locked::kYes) {
			const Share *sh = w.share();
			int pos = sh->find(handle, freed == Freed::kAccept);
			if (pos < 0)
				return false;
			is_freed = sh->members[pos].is_deferred();
		}
	} else if (w != SlotWord::owned(handle)) {
		if (freed == Freed::kRefuse || w != SlotWord::deferred(handle))
			return false;
		is_freed = true;
	}
	*ref = ObjRef{cls, zs, loc.idx(), loc.size(), is_freed};
	return true;
}

ZSPP_HOT inline Status Pool::pin(Handle handle, ObjRef *ref, const char *what, Access access, Freed freed,
				 zspp_gfp_t gfp)
{
	if constexpr (kFold) {
		if (access == Access::kWrite)
			return pin_for_write(handle, ref, what, freed, gfp);
	}
	SizeClass *cls = class_of(handle);
	bool ok = false;
	if (cls) {
		ClassGuard guard(cls);
		ok = lookup(handle, cls, guard, ref, freed);
		if (ok)
			ref->zs->mapped.add(1);
	}
	if (!ok) {
		bad_handle(what, handle);
		return Error{-ZSPP_EINVAL};
	}
	return success();
}

ZSPP_HOT inline bool Pool::lookup_pinned(Handle handle, ObjRef *ref)
{
	if (!handle.plausible())
		return false;
	// One read of the word: pinned, it does not change.
	Location loc = handle.location();
	return resolve(handle, loc, classes_[loc.class_index()], ref, Freed::kAccept, Locked::kPinned) &&
	       ref->zs->pinned();
}

ZSPP_HOT inline void Pool::unpin(ObjRef *ref) { ref->zs->mapped.sub_release(1); }

ZSPP_HOT inline bool Pool::spans(const ObjRef &ref) { return ref.zs->slot_offset(ref.idx) + ref.size > kPageSize; }

} // namespace zspp
