// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of include/zspp/shim.h: pages (allocation, owner, page locks, and
 * making a page movable; the movable callbacks are in migrate.c).
 * Thin wrappers the C++ core calls instead of kernel headers (the
 * Rust-for-Linux "helpers" idea); one file per section of shim.h.
 */
#include <linux/mm.h>
#include <linux/migrate.h>
#include <linux/pagemap.h>

#include <zspp/shim.h>
#include "internal.h"

static inline struct page *to_page(struct zspp_page *p)
{
	return (struct page *)p;
}

struct zspp_page *zspp_page_alloc(zspp_gfp_t gfp)
{
	gfp_t flags = (__force gfp_t)gfp;

	/* A __GFP_MOVABLE page that cannot move would pin its pageblock. */
	if (!IS_ENABLED(CONFIG_MIGRATION))
		flags &= ~__GFP_MOVABLE;
	return (struct zspp_page *)alloc_page(flags);
}

void zspp_page_free(struct zspp_page *page)
{
	__free_page(to_page(page));
}

void *zspp_page_address(struct zspp_page *page)
{
	return page_address(to_page(page));
}

unsigned long zspp_page_pfn(struct zspp_page *page)
{
	return page_to_pfn(to_page(page));
}

struct zspp_page *zspp_virt_to_page(const void *addr)
{
	return (struct zspp_page *)virt_to_page(addr);
}

void zspp_page_set_owner(struct zspp_page *page, void *owner)
{
	set_page_private(to_page(page), (unsigned long)owner);
	SetPagePrivate(to_page(page));
}

void zspp_page_clear_owner(struct zspp_page *page)
{
	ClearPagePrivate(to_page(page));
	set_page_private(to_page(page), 0);
}

void *zspp_pfn_owner(unsigned long pfn)
{
	struct page *page;

	if (!pfn_valid(pfn))
		return NULL;
	page = pfn_to_page(pfn);
	if (!PagePrivate(page))
		return NULL;
	return (void *)page_private(page);
}

#ifdef ZSPP_MEMMAP_VIEW
#ifndef CONFIG_SPARSEMEM_VMEMMAP
#error "ZSPP_MEMMAP_VIEW needs CONFIG_SPARSEMEM_VMEMMAP (Kbuild defines it only then)"
#endif
struct zspp_memmap_view zspp_memmap __read_mostly;

void zspp_memmap_init(void)
{
	/* The core's map of sections zspp has had pages in (shim.h). */
	BUILD_BUG_ON(PFN_SECTION_SHIFT != ZSPP_SECTION_PFN_SHIFT);
	zspp_memmap.base = (unsigned long)vmemmap;
	zspp_memmap.stride = sizeof(struct page);
	zspp_memmap.private_offset = offsetof(struct page, private);
	zspp_memmap.private_flag = 1ul << PG_private;
}
#else
void zspp_memmap_init(void)
{
}

void *zspp_pfn_owner_present(unsigned long pfn)
{
	return zspp_pfn_owner(pfn);
}
#endif

void zspp_page_attach(struct zspp_page *p, void *owner, char **addr)
{
	struct page *page = (struct page *)p;

	*addr = page_address(page);
	set_page_private(page, (unsigned long)owner);
	SetPagePrivate(page);
#ifdef CONFIG_MIGRATION
	/*
	 * A fresh page nobody else can see: the trylock cannot fail. If it
	 * did, someone else holds the lock: leave the page unmovable (it is
	 * still a valid zspage page) and never unlock a lock we do not own.
	 */
	if (WARN_ON_ONCE(!trylock_page(page)))
		return;
	__SetPageMovable(page, &zspp_mops);
	unlock_page(page);
#endif
}

bool zspp_page_trylock(struct zspp_page *page)
{
	return trylock_page((struct page *)page);
}

void zspp_page_lock(struct zspp_page *page)
{
	lock_page((struct page *)page);
}

void zspp_page_unlock(struct zspp_page *page)
{
	unlock_page((struct page *)page);
}

void zspp_page_free_locked(struct zspp_page *p)
{
	struct page *page = (struct page *)p;

	/* Once not movable, the VM calls no callback for it (even if isolated). */
	if (__PageMovable(page))
		__ClearPageMovable(page);
	ClearPagePrivate(page);
	set_page_private(page, 0);
	unlock_page(page);
	put_page(page);
}
