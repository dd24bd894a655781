// SPDX-License-Identifier: GPL-2.0
#include "pool.h"

namespace zspp {

namespace {
zspp_cache *g_handle_cache;
} // namespace

Atomic<u64> MemmapSeen::words_[MemmapSeen::kSections / 64];
Atomic<u64> MemmapSeen::bound_;

Status core_init(const char *handle_cache)
{
	g_handle_cache = zspp_cache_create(handle_cache, sizeof(u64));
	if (!g_handle_cache)
		return Error{-ZSPP_ENOMEM};
	return success();
}

void core_exit()
{
	zspp_cache_destroy(g_handle_cache);
	g_handle_cache = nullptr;
}

// ---- creation and teardown ---------------------------------------------------

Result<Pool *> Pool::create(const char *name, u32 chain, zspp_evict_t evict, void *evict_ctx)
{
	if (chain < ZSPP_MIN_CHAIN || chain > ZSPP_MAX_CHAIN || !g_handle_cache)
		return Error{-ZSPP_EINVAL};
	Pool *pool = new (Gfp{zspp_gfp_kernel}) Pool();
	if (!pool)
		return Error{-ZSPP_ENOMEM};
	usize i = 0;
	for (; name && name[i] && i + 1 < sizeof(pool->name_); i++)
		pool->name_[i] = name[i];
	pool->name_[i] = '\0';
	pool->chain_ = chain;
	pool->evictor_.init(evict, evict_ctx);
	pool->handle_cache_ = g_handle_cache;
	pool->deferred_.init();
	bool locked = pool->defer_lock_.init(ZSPP_LOCK_DEFER);
	pool->free_work_ = zspp_work_create(&Pool::deferred_free_work, pool);
	pool->self_compaction_.set_work(zspp_work_create(&Pool::compact_work, pool));
	Status st = locked && pool->free_work_ && pool->self_compaction_.work() ? pool->init_classes()
								      : Status(Error{-ZSPP_ENOMEM});
	if (!st.ok()) {
		pool->destroy();
		return Error{st.error()};
	}
	// Last: from here on the shrinker may compact this pool.
	pool->shrinker_ = zspp_shrinker_register(pool->name_, reinterpret_cast<zspp_pool *>(pool));
	return pool;
}

Status Pool::init_classes()
{
	// From the largest index down, so a merged index can share the class
	// of the index above it.
	for (u32 i = kNumClassIndices; i-- > 0;) {
		if (index_merges_up(i, chain_)) {
			classes_[i] = classes_[i + 1];
			continue;
		}
		auto *cls = static_cast<SizeClass *>(zspp_kmalloc(sizeof(SizeClass), zspp_gfp_kernel));
		if (!cls)
			return Error{-ZSPP_ENOMEM};
		zero_bytes(cls, sizeof(*cls));
		classes_[i] = cls;
		if (!cls->init(i, chain_, evictable()))
			return Error{-ZSPP_ENOMEM};
	}
	return success();
}

void Pool::destroy()
{
	unsigned long leaked = 0;
	begin_destroy(); // a running compaction stops at its next zspage
	if (shrinker_)
		zspp_shrinker_unregister(shrinker_);
	// No free of the pool's user can kick it any more; a running one stops
	// at its next zspage (destroying_).
	if (self_compaction_.work())
		zspp_work_destroy(self_compaction_.work());
	for (u32 i = 0; i < kNumClassIndices; i++) {
		SizeClass *cls = classes_[i];
		if (!cls || cls->index() != i)
			continue; // not created, or merged: freed via its serving index
		while (ZsPage *zs = cls->take_any_for_teardown()) {
			for (u32 s = 0; s < zs->objs; s++) {
				SlotWord w = zs->slot(s);
				if (w.is_free())
					continue;
				leaked += handles_in(w);
				for_each_handle(w, [this](Handle handle) {
					handle.clear();
					put_handle(handle);
				});
				if (kFold && w.is_shared())
					zspp_kfree(w.share());
			}
			{
				ClassGuard guard(cls);
				cls->doom(guard, zs);
			}
			release_zspage(zs);
		}
	}
	// Zspages whose pages were locked by migration go through the worker;
	// finish them here (we may sleep) before the classes go away.
	if (defer_lock_.valid())
		deferred_free();
	if (free_work_)
		zspp_work_destroy(free_work_);
	for (u32 i = 0; i < kNumClassIndices; i++) {
		SizeClass *cls = classes_[i];
		if (!cls || cls->index() != i)
			continue;
		cls->destroy();
		zspp_kfree(cls);
	}
	defer_lock_.destroy();
	if (leaked)
		zspp_log_err("zspp: pool %s destroyed with %lu objects still allocated (freed them)\n", name_,
			     leaked);
	delete this;
}

// ---- zspages -------------------------------------------------------------------

Result<ZsPage *> Pool::alloc_zspage(SizeClass *cls, zspp_gfp_t gfp)
{
	void *mem = zspp_kmalloc(cls->desc_size(), gfp);
	if (!mem)
		return Error{-ZSPP_ENOMEM};
	zero_bytes(mem, cls->desc_size());
	auto *zs = new (static_cast<char *>(mem) + ZsPage::prefix_size(evictable())) ZsPage;
	zs->nr_pages = u8(cls->pages());
	zs->objs = u16(cls->objs());
	// Page 0 only (it holds slot 0 whole); the rest come as slots reach
	// them (back_next_slot).
	zspp_page *page0 = zspp_page_alloc(gfp);
	if (!page0) {
		zspp_kfree(mem);
		return Error{-ZSPP_ENOMEM};
	}
	zs->node.init();
	if (evictable())
		zs->lru()->link.init();
	if constexpr (kFold)
		zs->fold_link()->init();
	// (Links start out pointing at themselves: "on no list".)
	zs->magic = ZsPage::kMagic;
	zs->class_index = u16(cls->index());
	zs->slot_size = u16(cls->size());
	zs->pool = this;
	zs->pfn0 = zspp_page_pfn(page0);
	MemmapSeen::note(zs->pfn0);
	zs->init_free_list();
	// Last: from here on migration may move the page (migrate.cpp).
	zspp_page_attach(page0, zs, &zs->addrs()[0]);
	pages_.add(1);
	zspages_.add(1);
	bytes_desc_.add(cls->desc_bytes());
	return zs;
}

void Pool::release_zspage(ZsPage *zs)
{
	if constexpr (kFold) {
		if (bury(zs))
			return;
	}
	// Doomed: its pages no longer change, so they are looked up once.
	zspp_page *pages[kMaxChain];
	u32 n = zs->present_pages();
	for (u32 i = 0; i < n; i++)
		pages[i] = zs->page(i);
	u32 locked = 0;
	while (locked < n && zspp_page_trylock(pages[locked]))
		locked++;
	if (locked == n) {
		destroy_zspage(zs, pages);
		return;
	}
	// Migration holds a page lock: free from process context instead.
	while (locked-- > 0)
		zspp_page_unlock(pages[locked]);
	{
		SpinGuard guard(defer_lock_);
		deferred_.push_front(zs);
	}
	deferred_frees_.add(1);
	zspp_work_kick(free_work_);
}

void Pool::destroy_zspage(ZsPage *zs, zspp_page *const *pages)
{
	SizeClass *cls = classes_[zs->class_index];
	u32 n = zs->present_pages();
	for (u32 i = 0; i < n; i++)
		zspp_page_free_locked(pages[i]);
	pages_.sub(n);
	zspages_.sub(1);
	bytes_desc_.sub(cls->desc_bytes());
	zs->magic = 0;
	zspp_kfree(zs->allocation(evictable()));
}

void Pool::deferred_free_work(void *pool) { static_cast<Pool *>(pool)->deferred_free(); }

void Pool::compact_work(void *arg)
{
	auto *pool = static_cast<Pool *>(arg);
	if (pool->destroying_.load())
		return;
	unsigned long freed = pool->compact();
	if (freed)
		pool->auto_compactions_.add(1);
	unsigned long bytes;
	pool->self_compaction_.ran(pool->slack_bytes(&bytes));
}

// Process context: may sleep on page locks.
void Pool::deferred_free()
{
	for (;;) {
		ZsPage *zs = nullptr;
		{
			SpinGuard guard(defer_lock_);
			zs = deferred_.first();
			if (zs)
				ZsPageList::remove(zs);
		}
		if (!zs)
			return;
		zspp_page *pages[kMaxChain];
		for (u32 i = 0, n = zs->present_pages(); i < n; i++) {
			pages[i] = zs->page(i);
			zspp_page_lock(pages[i]);
		}
		destroy_zspage(zs, pages);
	}
}

// ---- the size class's own steps (size_class.h) ------------------------------------
// Here rather than in a file of their own: malloc and free call them, and
// the compiler may inline them into those only from the same file.

void SizeClass::move_to_group(ClassLocked, ZsPage *zs, u32 g)
{
	lock_.assert_held();
	ZsPageList::remove(zs);
	zspages_in_[zs->fullness]--;
	fullness_[g].push_front(zs);
	zspages_in_[g]++;
	zs->fullness = u8(g);
}

ZsPage *SizeClass::retire_empty(ClassLocked held, ZsPage *zs)
{
	lock_.assert_held();
	ZsPageList::remove(zs);
	zspages_in_[zs->fullness]--;
	return retire(held, zs);
}

ZsPage *SizeClass::retire(ClassLocked held, ZsPage *zs)
{
	lock_.assert_held();
	if (evictable_)
		ZsPageLruList::remove(zs);
	zspages_--;
	pages_used_ -= zs->present_pages();
	doom(held, zs);
	return zs;
}

// The fullness groups, fullest first.
ZsPage *SizeClass::find_non_full(ClassLocked)
{
	lock_.assert_held();
	for (u32 g = kFullnessFull - 1; g > kFullnessEmpty; g--) {
		if (ZsPage *zs = fullness_[g].first())
			return zs;
	}
	return nullptr;
}

void SizeClass::stats(ClassLocked held, struct zspp_class_stats *out) const
{
	lock_.assert_held();
	for (u32 g = 0; g < kNumFullness; g++)
		out->fullness[g] = zspages_in_[g];
	out->obj_allocated = zspages_ * objs_;
	out->obj_used = obj_used_;
	out->pages_used = pages_used_;
	out->freeable = freeable_pages(held);
	out->folded = folded_;
}

// ---- zspages: the pool's side ------------------------------------------------------

void Pool::drop_unused(SizeClass *cls, ZsPage *fresh)
{
	if (!fresh)
		return;
	{
		ClassGuard guard(cls);
		cls->doom(guard, fresh);
	}
	release_zspage(fresh);
}

void Pool::attach_next_page(SizeClass *cls, ClassLocked held, ZsPage *zs, zspp_page *page)
{
	cls->attach_page(held, zs, page);
	pages_.add(1);
}

// ---- malloc / free ---------------------------------------------------------------

Result<Handle> Pool::malloc(usize size, zspp_gfp_t gfp)
{
	if (size == 0 || size > kMaxAlloc)
		return Error{-ZSPP_EINVAL};
	SizeClass *cls = class_for_size(size);
	Handle handle = Handle::of_word(static_cast<u64 *>(zspp_cache_alloc(handle_cache_, gfp)));
	if (!handle.plausible()) {
		malloc_fail_.add(1);
		return Error{-ZSPP_ENOMEM};
	}

	ZsPage *fresh = nullptr;
	PageReserve<1> spare; // for a zspage whose next slot needs its page
	auto fail = [&](int err) -> Result<Handle> {
		drop_unused(cls, fresh);
		put_handle(handle);
		malloc_fail_.add(1);
		return Error{err};
	};
	// Most mallocs go to the zspage the last one used: if that one left it
	// needing a page, get the page now, with no lock held, instead of
	// finding out under the lock and dropping it (an extra lock round trip
	// for about every other malloc of a multi-page class). The hint may be
	// stale (a free, compaction or trim since left a slot with its page):
	// a page that could not be got here fails the malloc only if the slot
	// taken under the lock really needs it (Documentation/locking.rst,
	// "Racy reads"); then it fails at once, as a second try with the same
	// gfp a moment later would.
	bool no_page = cls->next_needs_page_hint() && !spare.fill(1, gfp);
	ClassGuard guard(cls);
	ZsPage *zs;
	for (;;) {
		zs = cls->find_non_full(guard);
		if (!zs && fresh) {
			cls->insert(guard, fresh);
			zs = fresh;
			fresh = nullptr;
		}
		if (zs && !back_next_slot(cls, guard, zs, spare)) {
			// The caller's gfp may sleep: allocate with no lock held,
			// then look again (the class may have changed meanwhile).
			if (no_page || !guard.call_unlocked([&] { return spare.fill(1, gfp); })) {
				guard.release();
				return fail(-ZSPP_ENOMEM);
			}
			continue;
		}
		if (zs)
			break;
		Result<ZsPage *> r = guard.call_unlocked([&] { return alloc_zspage(cls, gfp); });
		if (!r.ok()) {
			guard.release();
			return fail(r.error());
		}
		fresh = r.value();
	}
	u32 idx = cls->take_slot(guard, zs, SlotWord::owned(handle));
	handle.set(Location(zs->pfn0, u32(size), idx));
	cls->set_next_needs_page(guard, zs);
	cls->regroup(guard, zs);
	if (evictor_.enabled())
		cls->lru_touch(guard, zs, lru_clock_.add(1));
	guard.release();
	// Another CPU made room meanwhile (a spare page it gave that zspage
	// goes back as the reserve goes out of scope).
	drop_unused(cls, fresh);
	objects_.add(1);
	bytes_stored_.add(size);
	bytes_slots_.add(cls->size());
	return handle;
}

void Pool::free(Handle handle)
{
	ObjRef ref ZSPP_NO_AUTO_INIT;
	SizeClass *cls = class_of(handle);
	if (!cls) {
		bad_handle("free", handle);
		return;
	}
	ClassGuard guard(cls);
	if (!lookup(handle, cls, guard, &ref)) {
		guard.release();
		bad_handle("free", handle);
		return;
	}
	SlotWord slot = ref.zs->slot(ref.idx);
	if (ref.zs->reclaiming) {
		// Reclaim is evicting this zspage and its evict callback may still
		// have the handle mapped (zswap frees inside evict, then unmaps):
		// keep slot, data and handle until finish_reclaim() frees them.
		if (kFold && slot.is_shared()) {
			Share *sh = slot.share();
			SlotWord &m = sh->members[sh->find(handle, false)];
			m = m.as_deferred();
		} else {
			ref.zs->set_slot(ref.idx, SlotWord::deferred(handle)); // its unmap reads it unlocked
		}
		if (evictor_.freed_by_evictor(handle))
			ref.zs->reclaiming |= ZsPage::kFreedByEvictor;
		guard.release();
		reclaim_deferred_frees_.add(1);
		return;
	}
	if constexpr (kFold) {
		if (slot.is_shared()) {
			// Other handles still use the object: only this handle goes.
			Share *dead = drop_sharer(cls, guard, ref, handle);
			handle.clear();
			guard.release();
			zspp_kfree(dead);
			put_handle(handle);
			objects_.sub(1);
			bytes_stored_.sub(ref.size);
			bytes_slots_.sub(cls->size());
			return;
		}
	}
	cls->release_slot(guard, ref.zs, ref.idx);
	ZsPage *empty = cls->settle(guard, ref.zs);
	// Poison before the slot returns to the cache: a second free of this
	// handle then decodes to no zspage instead of someone else's object.
	handle.clear();
	guard.release();

	if (empty)
		release_zspage(empty);
	put_handle(handle);
	objects_.sub(1);
	bytes_stored_.sub(ref.size);
	bytes_slots_.sub(cls->size());
	maybe_compact();
}

// ---- handle resolution: src/core/pool_resolve.h ----------------------------------

void Pool::bad_handle(const char *what, Handle handle)
{
	bad_handles_.add(1);
	zspp_warn_bad_handle(what, handle.raw());
}

// ---- object access ------------------------------------------------------------------

namespace {
char *slot_address(ZsPage *zs, u32 page, u32 off)
{
	return zs->addrs()[page] + off;
}
} // namespace


inline void Pool::copy_out(const ObjRef &ref, void *dst)
{
	u32 page = ref.zs->slot_page(ref.idx), off = ref.zs->slot_offset(ref.idx);
	usize first = min(usize(ref.size), kPageSize - off);
	copy_bytes(dst, slot_address(ref.zs, page, off), first);
	if (ref.size > first)
		copy_bytes(static_cast<char *>(dst) + first, slot_address(ref.zs, page + 1, 0), ref.size - first);
}

inline void Pool::copy_in(const ObjRef &ref, const void *src, usize len)
{
	u32 page = ref.zs->slot_page(ref.idx), off = ref.zs->slot_offset(ref.idx);
	usize first = min(len, kPageSize - off);
	copy_bytes(slot_address(ref.zs, page, off), src, first);
	if (len > first)
		copy_bytes(slot_address(ref.zs, page + 1, 0), static_cast<const char *>(src) + first, len - first);
}

void *Pool::map(Handle handle, zspp_mapmode mode)
{
	// A write map of a shared object may need a zspage for its copy; map
	// may sleep, but runs in zswap's store path: no I/O. A handle whose free
	// waits for a reclaim maps too: 6.1 zswap's evict maps the handle before
	// it finds out that the entry is gone (Documentation/zswap-contract.rst).
	ObjRef ref ZSPP_NO_AUTO_INIT;
	if (!pin(handle, &ref, "map", mode == ZSPP_MM_RO ? Access::kRead : Access::kWrite, Freed::kAccept,
		 zspp_gfp_noio)
		     .ok())
		return nullptr;
	// A freed object's bytes belong to nobody (with folding, maybe to other
	// sharers): a write map of it gets a copy whose writes unmap drops.
	if (!spans(ref) && (mode == ZSPP_MM_RO || !ref.freed))
		return slot_address(ref.zs, ref.zs->slot_page(ref.idx), ref.zs->slot_offset(ref.idx));
	return map_area(handle, mode, ref.zs, ref.idx, ref.size, ref.freed);
}

void *Pool::map_area(Handle handle, zspp_mapmode mode, ZsPage *zs, u32 idx, u32 size, bool freed)
{
	const ObjRef ref{nullptr, zs, idx, size, freed};
	// May sleep; never waits on another task's area (see shim.h).
	void *buf = zspp_area_get(handle.raw(), mode);
	if (mode != ZSPP_MM_WO || ref.freed)
		copy_out(ref, buf);
	return buf;
}

void Pool::unmap(Handle handle)
{
	ObjRef ref ZSPP_NO_AUTO_INIT;
	if (!lookup_pinned(handle, &ref)) {
		bad_handle("unmap", handle);
		return;
	}
	// A freed handle may have an area (a write map of it) or not (mapped
	// straight, read-only or before its free).
	if (spans(ref) || ref.freed)
		return unmap_area(handle, ref.zs, ref.idx, ref.size, ref.freed);
	unpin(&ref);
}

void Pool::unmap_area(Handle handle, ZsPage *zs, u32 idx, u32 size, bool freed)
{
	ObjRef ref{nullptr, zs, idx, size, freed};
	int mode = ZSPP_MM_RO;
	// A read-only area is given back by the lookup itself (one call).
	void *buf = zspp_area_end(handle.raw(), &mode);
	if (buf) {
		if (mode != ZSPP_MM_RO) {
			if (!ref.freed)
				copy_in(ref, buf, ref.size);
			zspp_area_put(buf);
		}
	} else if (spans(ref)) {
		// Not this task's map: the mapping task still holds its pin and
		// area, and its own unmap must find both.
		bad_handle("unmap of a handle this task did not map", handle);
		return;
	}
	unpin(&ref);
}

// The map API for callers that cannot sleep between map and unmap (zsmalloc's
// zs_map_object: zram maps under its slot bit-spinlock with preemption off).
// The caller's @local_copy stands in for the bounce area, so nothing here
// may sleep: the pin of a write map gets a copy's zspage only with
// GFP_NOWAIT (with folding), and no area is got.
void *Pool::map_local(Handle handle, zspp_mapmode mode, void *local_copy)
{
	ObjRef ref ZSPP_NO_AUTO_INIT;
	if (!pin(handle, &ref, "map", mode == ZSPP_MM_RO ? Access::kRead : Access::kWrite, Freed::kAccept,
		 zspp_gfp_nowait)
		     .ok())
		return nullptr;
	if (!spans(ref) && (mode == ZSPP_MM_RO || !ref.freed))
		return slot_address(ref.zs, ref.zs->slot_page(ref.idx), ref.zs->slot_offset(ref.idx));
	if (mode != ZSPP_MM_WO || ref.freed)
		copy_out(ref, local_copy);
	return local_copy;
}

void Pool::unmap_local(Handle handle, zspp_mapmode mode, void *local_copy)
{
	ObjRef ref ZSPP_NO_AUTO_INIT;
	if (!lookup_pinned(handle, &ref)) {
		bad_handle("unmap", handle);
		return;
	}
	// Pinned, the object has not moved since its map: it spans now iff it
	// did then, so @local_copy holds its bytes iff it spans (or was freed
	// at map time, and then it still is: a freed object's writes are dropped,
	// as unmap() drops them).
	if (spans(ref) && mode != ZSPP_MM_RO && !ref.freed)
		copy_in(ref, local_copy, ref.size);
	unpin(&ref);
}

void *Pool::read_begin(Handle handle, void *local_copy)
{
	ObjRef ref ZSPP_NO_AUTO_INIT;
	if (!pin(handle, &ref, "read_begin", Access::kRead, Freed::kAccept).ok())
		return nullptr;
	if (!spans(ref))
		return slot_address(ref.zs, ref.zs->slot_page(ref.idx), ref.zs->slot_offset(ref.idx));
	copy_out(ref, local_copy);
	return local_copy;
}

void Pool::read_end(Handle handle)
{
	ObjRef ref ZSPP_NO_AUTO_INIT;
	if (!lookup_pinned(handle, &ref)) {
		bad_handle("read_end", handle);
		return;
	}
	unpin(&ref);
}

Status Pool::write(Handle handle, const void *src, usize len)
{
	// obj_write never sleeps: a shared object's copy gets a zspage only if
	// one can be had without waiting.
	ObjRef ref ZSPP_NO_AUTO_INIT;
	ZSPP_TRY(pin(handle, &ref, "obj_write", Access::kWrite, Freed::kRefuse, zspp_gfp_nowait));
	if (len > ref.size) {
		bad_handle("obj_write longer than the object", handle);
		len = ref.size;
	}
	copy_in(ref, src, len);
	unpin(&ref);
	return success();
}

usize Pool::obj_size(Handle handle)
{
	ObjRef ref;
	SizeClass *cls = class_of(handle);
	if (!cls)
		return 0;
	ClassGuard guard(cls);
	return lookup(handle, cls, guard, &ref) ? ref.size : 0;
}

// ---- statistics and self-check ------------------------------------------------------

void Pool::stats(struct zspp_pool_stats *out)
{
	zero_bytes(out, sizeof(*out));
#define ZSPP_POOL_COPY(name, kind, what) ZSPP_POOL_COPY_##kind(name)
#define ZSPP_POOL_COPY_counter(name) out->name = name##_.load_relaxed();
#define ZSPP_POOL_COPY_derived(name)
	ZSPP_POOL_STATS(ZSPP_POOL_COPY)
	ZSPP_POOL_FOLD_STATS(ZSPP_POOL_COPY)
#undef ZSPP_POOL_COPY
#undef ZSPP_POOL_COPY_counter
#undef ZSPP_POOL_COPY_derived
	// What the allocations really take: descriptors and records at their
	// kmalloc bucket, handles at their cache's object size.
	out->bytes_metadata = bytes_desc_.load_relaxed() + out->objects * sizeof(u64) + bytes_share_.load_relaxed();
}

Result<bool> Pool::class_stats(u32 index, struct zspp_class_stats *out)
{
	if (index >= kNumClassIndices)
		return Error{-ZSPP_EINVAL};
	zero_bytes(out, sizeof(*out));
	SizeClass *cls = classes_[index];
	out->size = index_slot_size(index);
	out->pages_per_zspage = cls->pages();
	out->objs_per_zspage = cls->objs();
	if (cls->index() != index) {
		out->merged = 1;
		return true;
	}
	ClassGuard guard(cls);
	cls->stats(guard, out);
	return false;
}

// Class lock held. The zspage's own invariants: header, reverse map, free
// list, counts. Deferred frees exist only while it is under reclaim.
Status Pool::validate_zspage(SizeClass *cls, ClassLocked held, ZsPage *zs, unsigned long *folded)
{
	cls->lock().assert_held();
	u32 i = cls->index();
	if (zs->magic != ZsPage::kMagic || zs->pool != this || zs->class_index != i || zs->objs != cls->objs() ||
	    zs->nr_pages != cls->pages()) {
		zspp_log_err("zspp: validate: class %u zspage header inconsistent\n", i);
		return Error{-ZSPP_EINVAL};
	}
	u32 present = zs->present_pages();
	for (u32 p = 0; p < zs->nr_pages; p++) {
		if (p >= present) {
			if (zs->addrs()[p]) {
				zspp_log_err("zspp: validate: class %u page %u attached after a missing one\n", i, p);
				return Error{-ZSPP_EINVAL};
			}
			continue;
		}
		zspp_page *page = zs->page(p);
		if (zspp_pfn_owner(zspp_page_pfn(page)) != zs) {
			zspp_log_err("zspp: validate: class %u page %u not owned by its zspage\n", i, p);
			return Error{-ZSPP_EINVAL};
		}
	}
	u32 allocated = 0, free_len = 0;
	for (u32 s = 0; s < zs->objs; s++) {
		SlotWord w = zs->slot(s);
		if (w.is_free())
			continue;
		allocated++;
		if (zs->slot_last_page(s) >= present) {
			zspp_log_err("zspp: validate: class %u slot %u in use without its page\n", i, s);
			return Error{-ZSPP_EINVAL};
		}
		if (kFold && w.is_shared()) {
			ZSPP_TRY(validate_share(cls, held, zs, s));
			*folded += w.share()->refs - 1;
			continue;
		}
		Location loc = w.handle().location();
		// Owned, or deferred only while the zspage is under reclaim.
		bool kind_ok = w.is_owned() || (w.is_deferred() && zs->reclaiming);
		if (loc.pfn() != zs->pfn0 || classes_[loc.class_index()] != cls || loc.idx() != s ||
		    loc.size() > cls->size() || !kind_ok) {
			zspp_log_err("zspp: validate: class %u slot %u handle inconsistent\n", i, s);
			return Error{-ZSPP_EINVAL};
		}
	}
	// Once the list reaches a slot without its page, the rest of it is the
	// never-used slots in order, the first of them needing the next page
	// (what back_next_slot relies on).
	bool tail = false, order_ok = true;
	u32 expect = 0;
	for (u16 f = zs->free_head; f != ZsPage::kNoFree; f = zs->slot(f).next()) {
		if (f >= zs->objs || !zs->slot(f).is_free() || ++free_len > zs->objs)
			break;
		if (!tail && zs->slot_last_page(f) >= present) {
			tail = true;
			expect = f;
			order_ok = zs->slot_last_page(f) == present;
		}
		if (tail)
			order_ok &= f == expect++;
	}
	if (tail)
		order_ok &= expect == zs->objs;
	if (allocated != zs->inuse || free_len != u32(zs->objs - zs->inuse) || zspp_pfn_owner(zs->pfn0) != zs ||
	    !order_ok) {
		zspp_log_err("zspp: validate: class %u counts inuse %u allocated %u free %u\n", i, zs->inuse,
			     allocated, free_len);
		return Error{-ZSPP_EINVAL};
	}
	return success();
}

Status Pool::validate()
{
	SizeClass::Tally t{0, 0, 0};
	for (u32 i = 0; i < kNumClassIndices; i++) {
		SizeClass *cls = classes_[i];
		if (cls->index() != i)
			continue;
		ClassGuard guard(cls);
		ZSPP_TRY(cls->validate(
			guard, [&](ZsPage *zs, unsigned long *folded) { return validate_zspage(cls, guard, zs, folded); },
			&t));
	}
	unsigned long pages = t.pages, objects = t.objects, folded = t.folded;
	if (kFold && folded != objs_folded_.load()) {
		zspp_log_err("zspp: validate: folded %lu, counted %lu\n", folded, objs_folded_.load());
		return Error{-ZSPP_EINVAL};
	}
	// Doomed zspages waiting for the free worker still hold their pages.
	{
		SpinGuard guard(defer_lock_);
		for (ZsPage *zs : deferred_)
			pages += zs->present_pages();
	}
	if (pages != pages_.load() || objects != objects_.load()) {
		zspp_log_err("zspp: validate: pool totals off (pages %lu/%lu objects %lu/%lu)\n", pages,
			     pages_.load(), objects, objects_.load());
		return Error{-ZSPP_EINVAL};
	}
	return success();
}

} // namespace zspp
