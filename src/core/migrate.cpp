// SPDX-License-Identifier: GPL-2.0
// Page migration: the core side of the kernel's movable-page callbacks
// (src/kernel/migrate.c). The kernel holds the page lock, which keeps the
// zspage alive (the free path locks every page first); the class lock
// orders migration against malloc, free, compaction and map pins.
#include "pool.h"

namespace zspp {

// Page locked. A page may leave for migration unless its zspage is pinned
// by a map or already doomed; migrate_page() checks again under the lock.
bool Pool::can_isolate(ZsPage *zs)
{
	ClassGuard guard(classes_[zs->class_index]);
	return !zs->doomed && !zs->pinned();
}

// @src and @dst locked. Copy the page, swap it into the zspage and, when it
// is the first page, re-point every handle (Locations name page 0's pfn),
// every sharer of a folded slot included.
Status Pool::migrate_page(ZsPage *zs, zspp_page *dst, zspp_page *src)
{
	SizeClass *cls = classes_[zs->class_index];
	ClassGuard guard(cls);
	if (zs->doomed || zs->pinned())
		return Error{-ZSPP_EAGAIN};
	char *from = static_cast<char *>(zspp_page_address(src));
	u32 i = 0;
	while (i < zs->nr_pages && zs->addrs()[i] != from)
		i++;
	if (i == zs->nr_pages)
		return Error{-ZSPP_EAGAIN};
	copy_bytes(zspp_page_address(dst), from, kPageSize);
	zspp_page_set_owner(dst, zs);
	zs->addrs()[i] = static_cast<char *>(zspp_page_address(dst));
	if (i == 0) {
		zs->pfn0 = zspp_page_pfn(dst);
		MemmapSeen::note(zs->pfn0);
		for (u32 s = 0; s < zs->objs; s++) {
			SlotWord w = zs->slot(s);
			if (w.is_free())
				continue;
			Location loc = Location(zs->pfn0, object_size(w), s);
			for_each_handle(w, [loc](Handle handle) { handle.set(loc); });
		}
	}
	pages_migrated_.add(1);
	return success();
}

void *Pool::handle_page(Handle handle)
{
	ObjRef ref;
	SizeClass *cls = class_of(handle);
	if (!cls)
		return nullptr;
	ClassGuard guard(cls);
	return lookup(handle, cls, guard, &ref) ? ref.zs->page(ref.zs->slot_page(ref.idx)) : nullptr;
}

} // namespace zspp

extern "C" bool zspp_core_page_isolate(void *owner)
{
	auto *zs = static_cast<zspp::ZsPage *>(owner);
	return zs->pool->can_isolate(zs);
}

extern "C" int zspp_core_page_migrate(void *owner, zspp_page *dst, zspp_page *src)
{
	auto *zs = static_cast<zspp::ZsPage *>(owner);
	return zs->pool->migrate_page(zs, dst, src).error();
}
