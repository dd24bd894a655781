// SPDX-License-Identifier: GPL-2.0
/*
 * Page migration glue (movable_operations, the same on 6.1 and 6.12) and the
 * deferred-free worker.
 * The decisions live in the core (src/core/migrate.cpp); this file does what
 * only kernel code can: page flags, page locks, references.
 *
 * Lock order: page lock -> class lock (Documentation/locking.rst).
 */
#include <linux/mm.h>
#include <linux/migrate.h>
#include <linux/pagemap.h>
#include <linux/workqueue.h>
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

static const struct movable_operations zspp_mops = {
	.isolate_page = zspp_page_isolate,
	.migrate_page = zspp_page_migrate,
	.putback_page = zspp_page_putback,
};
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

struct zspp_work {
	struct work_struct work;
	void (*fn)(void *);
	void *arg;
};

static void zspp_work_fn(struct work_struct *w)
{
	struct zspp_work *zw = container_of(w, struct zspp_work, work);

	zw->fn(zw->arg);
}

struct zspp_work *zspp_work_create(void (*fn)(void *), void *arg)
{
	struct zspp_work *zw = kzalloc(sizeof(*zw), GFP_KERNEL);

	if (!zw)
		return NULL;
	INIT_WORK(&zw->work, zspp_work_fn);
	zw->fn = fn;
	zw->arg = arg;
	return zw;
}

void zspp_work_kick(struct zspp_work *zw)
{
	schedule_work(&zw->work);
}

void zspp_work_destroy(struct zspp_work *zw)
{
	flush_work(&zw->work);
	kfree(zw);
}
