// SPDX-License-Identifier: GPL-2.0
/*
 * Page migration glue (movable_operations, the same on 6.1 and 6.12). The
 * shim's page calls that use it (zspp_page_attach, the page locks) are in
 * shim_pages.c, its work items in shim_work.c.
 * The decisions live in the core (src/core/migrate.cpp); this file does what
 * only kernel code can: page flags, page locks, references.
 *
 * Lock order: page lock -> class lock (Documentation/locking.rst).
 */
#include <linux/mm.h>
#include <linux/migrate.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include <zspp/shim.h>
#include "internal.h"

#ifdef CONFIG_MIGRATION
static bool zspp_page_isolate(struct page *page, isolate_mode_t mode)
{
	/* The page is locked: its zspage cannot be freed under us. */
	return zspp_core_page_isolate((void *)page_private(page));
}

static int zspp_page_migrate(struct page *newpage, struct page *page,
			     enum migrate_mode mode)
{
	int ret;

	/*
	 * The copy happens under the class lock: no copy-less mode. (6.1 has
	 * MIGRATE_SYNC_NO_COPY after MIGRATE_SYNC; 6.12 has no mode past
	 * MIGRATE_SYNC, so this test needs no version check.)
	 */
	if (mode > MIGRATE_SYNC)
		return -EINVAL;
	ret = zspp_core_page_migrate((void *)page_private(page),
				     (struct zspp_page *)newpage, (struct zspp_page *)page);
	if (ret)
		return ret;
	/* newpage is ours now (the VM drops its own reference). */
	get_page(newpage);
	__SetPageMovable(newpage, page_movable_ops(page));
	__ClearPageMovable(page);
	ClearPagePrivate(page);
	set_page_private(page, 0);
	put_page(page);		/* our reference to the old page */
	return MIGRATEPAGE_SUCCESS;
}

static void zspp_page_putback(struct page *page)
{
	/* Nothing was taken at isolation. */
}

const struct movable_operations zspp_mops = {
	.isolate_page = zspp_page_isolate,
	.migrate_page = zspp_page_migrate,
	.putback_page = zspp_page_putback,
};
#endif
