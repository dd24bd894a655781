// SPDX-License-Identifier: GPL-2.0
// CONFIG_ZSPP_FOLD: store identical objects of a size class once (folding).
// Built only with the option; Documentation/folding.rst is the user's view,
// locking.rst the lock rules this file follows.
//
// A fold pass walks one class at a time. Per class it allocates (GFP_KERNEL,
// no lock held) a candidate index: an open-addressing table of (xxh64 of
// the object, size, zspage, slot). Then, one zspage per lock hold (and at
// most kBatchBytes hashed per hold), it hashes each written object, looks
// for an earlier object with the same hash and size, compares every byte,
// and only on equality makes the later one's handles share the earlier
// one's slot (the Share record of fold.h) and frees the later slot. Between
// holds the lock is dropped and cond_resched() called.
//
// Index entries point at zspages across lock drops. While a pass runs on a
// class (fold_active), a zspage emptied there is not freed but parked on
// the class graveyard until the pass ends, so every entry points at live
// descriptor memory; whether its slot still holds what it held is checked
// under the lock each time (and the byte compare decides anyway).
//
// Records needed under the lock come from spares allocated before it was
// taken: when a merge needs one the pass lacks, the hold ends, the spare is
// allocated with GFP_KERNEL, and the pass resumes where it stopped.
#include "pool.h"

namespace zspp {

namespace {
struct Entry {
	u64 hash;
	ZsPage *zs; // nullptr: empty
	u32 idx;
	u32 size;
};

constexpr u32 kProbe = 16;          // table slots looked at per insert/lookup
constexpr u32 kMaxCompares = 4;     // full byte compares per object
constexpr usize kBatchBytes = 32768; // object bytes hashed per lock hold
constexpr u32 kMinTable = 256;
constexpr u32 kMaxTable = 1u << 16; // entries (24 B each): 1.5 MiB at most
constexpr u32 kSpareKinds = 7;      // spare record capacities 4, 8, ..., 256
constexpr u32 kCowBusyWaits = 64;   // cond_resched()s a write map waits for a pinned zspage
static_assert(4u << (kSpareKinds - 1) == Share::kMaxMembers);

u32 spare_kind(u32 members)
{
	u32 k = 0;
	while ((4u << k) < members)
		k++;
	return k;
}

// Do slots (a, ai) and (b, bi) hold the same @len bytes? Either may span.
bool slots_equal(ZsPage *a, u32 ai, ZsPage *b, u32 bi, usize len)
{
	return walk_slots(a, ai, b, bi, len,
			  [](char *x, char *y, usize n) { return __builtin_memcmp(x, y, n) == 0; });
}
} // namespace

struct Pool::FoldPass {
	Entry *table;
	u32 table_cap;     // entries allocated
	u32 mask;          // entries in use this class - 1
	Share *spare[kSpareKinds];
	u32 need;          // members a merge needed a spare for (0: none)
	ZsPage *resume;    // zspage a hold stopped in, and where
	u32 resume_idx;
	unsigned long freed; // pages of zspages emptied by this class's folding
};

bool Pool::bury(ZsPage *zs)
{
	SizeClass *cls = classes_[zs->class_index];
	// @zs was doomed under the class lock after any pass that could have
	// indexed it set fold_active (under that lock): reading 0 here means
	// no such pass is running, without taking the lock on every release.
	if (!cls->fold_active_hint())
		return false;
	ClassGuard guard(cls);
	return cls->bury(guard, zs);
}

Share *Pool::drop_sharer(SizeClass *cls, ClassLocked held, const ObjRef &ref, Handle handle)
{
	cls->lock().assert_held();
	Share *sh = ref.zs->slot(ref.idx).share();
	sh->remove_at(u32(sh->find(handle, true)));
	cls->sharer_dropped(held);
	objs_folded_.sub(1);
	bytes_folded_.sub(cls->size());
	if (sh->refs > 1)
		return nullptr;
	// One owner left: the slot word is its member word again (deferred if
	// its free is waiting for a reclaim).
	ref.zs->set_slot(ref.idx, sh->members[0]); // a pinned sharer's unmap may read it
	retire_share(sh);
	return sh;
}

void Pool::retire_share(Share *sh)
{
	sh->magic = 0;
	bytes_share_.sub(zspp_kmalloc_size(Share::bytes(sh->cap)));
}

Pool::Unshare Pool::unshare(SizeClass *cls, ClassLocked held, Handle handle, ObjRef *ref, ZsPage **fresh,
			    PageReserve<1> &spare)
{
	cls->lock().assert_held();
	if (!ref->zs->slot(ref->idx).is_shared())
		return Unshare::kDone;
	ZsPage *dst = cls->find_non_full(held);
	if (!dst) {
		if (!*fresh)
			return Unshare::kNeedsZspage;
		dst = *fresh; // slot 0 is in page 0: backed
		*fresh = nullptr;
		cls->insert(held, dst);
	} else if (!back_next_slot(cls, held, dst, spare)) {
		return Unshare::kNeedsPage;
	}
	u32 didx = cls->take_slot(held, dst, SlotWord::owned(handle));
	copy_slot(ref->zs, ref->idx, dst, didx, ref->size);
	Share *dead = drop_sharer(cls, held, *ref, handle);
	handle.set(Location(dst->pfn0, ref->size, didx));
	cls->regroup(held, dst);
	if (evictor_.enabled())
		cls->lru_touch(held, dst, lru_clock_.add(1));
	fold_cow_.add(1);
	*ref = ObjRef{cls, dst, didx, ref->size};
	zspp_kfree(dead); // never sleeps
	return Unshare::kDone;
}

Status Pool::pin_for_write(Handle handle, ObjRef *out, const char *what, Freed freed, zspp_gfp_t gfp)
{
	SizeClass *cls = class_of(handle);
	if (!cls) {
		bad_handle(what, handle);
		return Error{-ZSPP_EINVAL};
	}
	ObjRef ref;
	ZsPage *fresh = nullptr;
	PageReserve<1> spare; // before the guard: freed with no lock held
	// A map may sleep (its gfp is zspp_gfp_noio), obj_write may not.
	const bool may_wait = gfp != zspp_gfp_nowait;
	u32 waits = 0;
	for (;;) {
		ClassGuard guard(cls);
		bool ok = lookup(handle, cls, guard, &ref, freed);
		// A freed handle is pinned as it is (map gives it a copy): no
		// unsharing, nothing written.
		bool shared = ok && !ref.freed && ref.zs->slot(ref.idx).is_shared();
		if (shared && ref.zs->pinned()) {
			// The copy would move this handle to another zspage, but
			// a map or read of it (or of another object there) holds
			// the pin and will resolve it again, unlocked, to drop
			// that pin (the pin rule, zspage.h). Writing in place
			// would change every sharer's bytes. A map waits a
			// little for the pins to go (maps and reads are short),
			// then, like obj_write at once, refuses: nothing moved,
			// nothing written, nothing pinned. (The pin may be the
			// caller's own: waiting longer could wait for ever.)
			guard.release();
			if (may_wait && waits++ < kCowBusyWaits) {
				zspp_cond_resched();
				continue;
			}
			drop_unused(cls, fresh);
			fold_cow_busy_.add(1);
			return Error{-ZSPP_EBUSY};
		}
		Unshare u = shared ? unshare(cls, guard, handle, &ref, &fresh, spare) : Unshare::kDone;
		if (u != Unshare::kDone) {
			// No free slot for the copy, or its page missing: get a
			// zspage or the page unlocked, retry.
			guard.release();
			if (u == Unshare::kNeedsZspage) {
				Result<ZsPage *> r = alloc_zspage(cls, gfp);
				if (!r.ok())
					return Error{r.error()};
				fresh = r.value();
			} else if (!spare.fill(1, gfp)) {
				drop_unused(cls, fresh);
				return Error{-ZSPP_ENOMEM};
			}
			continue;
		}
		if (ok) {
			if (!ref.freed)
				ref.zs->flags()[ref.idx] |= ZsPage::kWritten;
			ref.zs->mapped.add(1);
		}
		guard.release();
		drop_unused(cls, fresh); // not needed after all (nor the spare page)
		if (!ok) {
			bad_handle(what, handle);
			return Error{-ZSPP_EINVAL};
		}
		*out = ref;
		return success();
	}
}

// ---- writeback of shared slots (reclaim.cpp) -------------------------------------

bool Pool::evict_shared(SizeClass *cls, ZsPage *zs, u32 idx)
{
	// Under reclaim members only turn deferred (frees wait), so their
	// positions hold; a copy on write may still take one out, which at
	// worst skips a member and leaves the zspage to a later reclaim.
	for (u32 pos = 0;; pos++) {
		Handle handle;
		{
			ClassGuard guard(cls);
			SlotWord w = zs->slot(idx);
			if (!w.is_shared()) {
				if (w.is_free() || w.is_deferred())
					return true;
				handle = w.handle(); // back to one owner: evict it, then done
				pos = Share::kMaxMembers;
			} else {
				Share *sh = w.share();
				while (pos < sh->refs && sh->members[pos].is_deferred())
					pos++;
				if (pos >= sh->refs)
					return true;
				handle = sh->members[pos].handle();
			}
		}
		if (!evict_one(cls, zs, idx, handle))
			return false;
		if (pos >= Share::kMaxMembers)
			return true;
	}
}

u32 Pool::finish_shared(SizeClass *cls, ClassLocked held, ZsPage *zs, u32 idx, unsigned long *bytes)
{
	cls->lock().assert_held();
	u32 freed = 0;
	while (zs->slot(idx).is_shared()) {
		Share *sh = zs->slot(idx).share();
		u32 pos = 0;
		while (pos < sh->refs && !sh->members[pos].is_deferred())
			pos++;
		if (pos == sh->refs)
			break;
		Handle handle = sh->members[pos].handle();
		u32 size = object_size(zs->slot(idx));
		zspp_kfree(drop_sharer(cls, held, ObjRef{cls, zs, idx, size}, handle));
		handle.clear();
		put_handle(handle);
		*bytes += size;
		freed++;
	}
	return freed;
}

// ---- the fold pass ----------------------------------------------------------------

// New zspages enter fold_list_ at the head and a visited one moves to the
// tail, so the list is always [unvisited..., visited...].
ZsPage *SizeClass::next_unvisited(ClassLocked)
{
	lock_.assert_held();
	ZsPage *zs = fold_list_.first();
	return zs && zs->fold_seq != fold_pass_ ? zs : nullptr;
}

void SizeClass::mark_visited(ClassLocked, ZsPage *zs)
{
	lock_.assert_held();
	zs->fold_seq = fold_pass_;
	if (!zs->doomed) { // visited: to the tail
		ZsPageFoldList::remove(zs);
		fold_list_.push_back(zs);
	}
}

// Class lock held; both slots hold written objects of equal bytes, the
// record capacity needed is available (kzs's record or a spare). The
// handles of (dzs, didx) join the kept slot's record; the slot is freed.
void Pool::merge_into(SizeClass *cls, ClassLocked held, ZsPage *kzs, u32 kidx, ZsPage *dzs, u32 didx, FoldPass *fp)
{
	cls->lock().assert_held();
	SlotWord kw = kzs->slot(kidx), dw = dzs->slot(didx);
	u32 n = handles_in(kw) + handles_in(dw);
	u32 size = object_size(kw); // equal to dw's: folding compares sizes
	Share *sh;
	if (kw.is_shared() && kw.share()->cap >= n) {
		sh = kw.share();
	} else {
		u32 k = spare_kind(n);
		sh = fp->spare[k];
		fp->spare[k] = nullptr;
		sh->magic = Share::kMagic;
		sh->cap = u16(4u << k);
		sh->refs = 0;
		bytes_share_.add(zspp_kmalloc_size(Share::bytes(sh->cap)));
		if (kw.is_shared()) {
			Share *old = kw.share();
			for (u32 i = 0; i < old->refs; i++)
				sh->members[sh->refs++] = old->members[i];
			retire_share(old);
			zspp_kfree(old);
		} else {
			sh->members[sh->refs++] = kw;
		}
		kzs->set_slot(kidx, sh->word());
	}
	Location loc = Location(kzs->pfn0, size, kidx);
	for_each_handle(dw, [sh, loc](Handle handle) {
		sh->members[sh->refs++] = SlotWord::owned(handle);
		handle.set(loc);
	});
	if (dw.is_shared()) {
		Share *old = dw.share();
		retire_share(old);
		zspp_kfree(old);
	}
	cls->release_slot(held, dzs, didx);
	// (krefs - 1) + (drefs - 1) sharers became n - 1.
	cls->sharer_added(held);
	objs_folded_.add(1);
	bytes_folded_.add(cls->size());
}

// Class lock held. Fold slot @idx of @zs into an earlier equal object, or
// index it. False: a merge needs a spare record the pass does not have.
bool Pool::fold_slot(SizeClass *cls, ClassLocked held, ZsPage *zs, u32 idx, FoldPass *fp)
{
	cls->lock().assert_held();
	SlotWord w = zs->slot(idx);
	if (w.is_free() || w.is_deferred() || !(zs->flags()[idx] & ZsPage::kWritten))
		return true;
	u32 drefs = handles_in(w);
	if (drefs >= Share::kMaxMembers)
		return true;
	u32 size = object_size(w);
	u32 off = zs->slot_offset(idx), page = zs->slot_page(idx);
	u32 first = min(size, u32(kPageSize) - off);
	u64 hash = zspp_xxh64(zs->addrs()[page] + off, first, first < size ? zs->addrs()[page + 1] : nullptr,
			      size - first);
	if (fold_hash_bits_ < 64)
		hash &= (u64(1) << fold_hash_bits_) - 1;

	u32 compares = 0;
	Entry *vacant = nullptr;
	for (u32 p = 0; p < kProbe; p++) {
		Entry *e = &fp->table[(hash + p) & fp->mask];
		if (!e->zs) {
			vacant = vacant ? vacant : e;
			break;
		}
		ZsPage *k = e->zs;
		SlotWord kw = k->slot(e->idx);
		bool stale = k->doomed || kw.is_free() || kw.is_deferred();
		if (stale) {
			vacant = vacant ? vacant : e;
			continue;
		}
		if (e->hash != hash || e->size != size || (k == zs && e->idx == idx))
			continue;
		if (k->reclaiming || k->pinned() || object_size(kw) != size ||
		    !(k->flags()[e->idx] & ZsPage::kWritten))
			continue;
		if (compares++ == kMaxCompares)
			break;
		if (!slots_equal(k, e->idx, zs, idx, size)) {
			fold_collisions_.add(1);
			continue;
		}
		u32 n = handles_in(kw) + drefs;
		if (n > Share::kMaxMembers)
			continue; // a full keeper: look for another, else index this one
		bool fits = kw.is_shared() && kw.share()->cap >= n;
		if (!fits && !fp->spare[spare_kind(n)]) {
			fp->need = n;
			return false;
		}
		merge_into(cls, held, k, e->idx, zs, idx, fp);
		return true;
	}
	if (vacant)
		*vacant = Entry{hash, zs, idx, size};
	return true;
}

// Class lock held. Fold @zs's objects from where the last hold stopped.
// False: stopped early (batch budget or a spare needed); fp->resume says
// where to go on.
bool Pool::fold_zspage(SizeClass *cls, ClassLocked held, ZsPage *zs, FoldPass *fp)
{
	cls->lock().assert_held();
	bool done = true;
	if (!zs->doomed && !zs->reclaiming && !zs->pinned()) {
		usize hashed = 0;
		for (u32 s = fp->resume == zs ? fp->resume_idx : 0; s < zs->objs; s++) {
			if (hashed >= kBatchBytes || !fold_slot(cls, held, zs, s, fp)) {
				fp->resume = zs;
				fp->resume_idx = s;
				done = false;
				break;
			}
			SlotWord sw = zs->slot(s);
			hashed += sw.is_free() ? 0 : object_size(sw);
		}
		if (ZsPage *emptied = cls->settle(held, zs)) {
			// Pointed at by index entries: parked until the pass ends.
			cls->park(held, emptied);
			fp->freed += emptied->present_pages();
			done = true;
		}
	}
	if (done) {
		cls->mark_visited(held, zs);
		fp->resume = nullptr;
	}
	return done;
}

unsigned long Pool::fold_class(SizeClass *cls, FoldPass *fp)
{
	unsigned long used;
	{
		ClassGuard guard(cls);
		used = cls->objects(guard);
	}
	if (used < 2)
		return 0;
	u32 cap = kMinTable;
	while (cap < 2 * used && cap < kMaxTable)
		cap <<= 1;
	if (fp->table_cap < cap) {
		zspp_kvfree(fp->table);
		fp->table = static_cast<Entry *>(zspp_kvmalloc(cap * sizeof(Entry)));
		fp->table_cap = fp->table ? cap : 0;
		if (!fp->table)
			return 0;
	}
	zero_bytes(fp->table, cap * sizeof(Entry));
	fp->mask = cap - 1;
	fp->resume = nullptr;
	fp->freed = 0;
	{
		ClassGuard guard(cls);
		cls->begin_fold_pass(guard);
	}
	while (!destroying_.load()) {
		fp->need = 0;
		{
			ClassGuard guard(cls);
			ZsPage *zs = fp->resume ? fp->resume : cls->next_unvisited(guard);
			if (!zs)
				break;
			(void)fold_zspage(cls, guard, zs, fp);
		}
		if (fp->need) {
			u32 k = spare_kind(fp->need);
			fp->spare[k] = static_cast<Share *>(zspp_kmalloc(Share::bytes(4u << k), zspp_gfp_kernel));
			if (!fp->spare[k])
				break; // -ENOMEM: what was folded stays folded
		}
		zspp_cond_resched();
	}
	ZsPageList dead;
	dead.init();
	bool folded;
	{
		ClassGuard guard(cls);
		folded = cls->end_fold_pass(guard, &dead);
	}
	while (ZsPage *zs = dead.first()) {
		ZsPageList::remove(zs);
		release_zspage(zs);
	}
	unsigned long freed = fp->freed;
	// Folding leaves holes across the class; compaction turns them into
	// free zspages. Skipped if a compaction is running (it will).
	if (folded) {
		if (Exclusive::Entry run = compaction_.try_enter())
			freed += compact_class(cls);
	}
	return freed;
}

unsigned long Pool::fold()
{
	Exclusive::Entry run = folding_.try_enter();
	if (!run)
		return 0;
	FoldPass fp;
	zero_bytes(&fp, sizeof(fp));
	unsigned long freed = 0;
	for (u32 i = kNumClassIndices; i-- > 0 && !destroying_.load();) {
		if (classes_[i]->index() == i)
			freed += fold_class(classes_[i], &fp);
	}
	zspp_kvfree(fp.table);
	for (Share *sh : fp.spare)
		zspp_kfree(sh);
	pages_folded_.add(freed);
	fold_passes_.add(1);
	return freed;
}

// Class lock held; slot @idx of @zs holds a Share.
Status Pool::validate_share(SizeClass *cls, ClassLocked held, ZsPage *zs, u32 idx)
{
	cls->lock().assert_held();
	Share *sh = zs->slot(idx).share();
	if (sh->magic != Share::kMagic || sh->refs < 2 || sh->refs > sh->cap || sh->cap > Share::kMaxMembers ||
	    !(zs->flags()[idx] & ZsPage::kWritten)) {
		zspp_log_err("zspp: validate: class %u slot %u share record inconsistent\n", cls->index(), idx);
		return Error{-ZSPP_EINVAL};
	}
	for (u32 i = 0; i < sh->refs; i++) {
		SlotWord m = sh->members[i];
		Location loc = m.handle().location();
		// Owned, or deferred only while the zspage is under reclaim.
		bool kind_ok = m.is_owned() || (m.is_deferred() && zs->reclaiming);
		if (loc.pfn() != zs->pfn0 || classes_[loc.class_index()] != cls || loc.idx() != idx ||
		    loc.size() != object_size(sh->word()) || !kind_ok) {
			zspp_log_err("zspp: validate: class %u slot %u sharer %u inconsistent\n", cls->index(), idx, i);
			return Error{-ZSPP_EINVAL};
		}
	}
	return success();
}

} // namespace zspp

extern "C" unsigned long zspp_fold(struct zspp_pool *pool)
{
	return reinterpret_cast<zspp::Pool *>(pool)->fold();
}

extern "C" void zspp_debug_fold_hash_bits(struct zspp_pool *pool, unsigned int bits)
{
	reinterpret_cast<zspp::Pool *>(pool)->set_fold_hash_bits(bits);
}
