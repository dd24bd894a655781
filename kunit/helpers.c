// SPDX-License-Identifier: GPL-2.0
/* What the zspp KUnit suites share: see helpers.h. */
#include "helpers.h"

void fill(u8 *buf, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(seed, i);
}


long check(const u8 *buf, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern(seed, i))
			return i;
	return -1;
}

struct pool_fixture {
	struct zspp_pool *pool;
};

int pool_init(struct kunit *test)
{
	struct pool_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_EQ(test, zspp_create_pool("kunit", 8, &f->pool), 0);
	test->priv = f;
	return 0;
}

void pool_exit(struct kunit *test)
{
	struct pool_fixture *f = test->priv;
	struct zspp_pool_stats st;

	zspp_pool_stats(f->pool, &st);
	/* Every test frees what it allocated: nothing may remain. */
	KUNIT_EXPECT_EQ(test, st.objects, 0UL);
	KUNIT_EXPECT_EQ(test, st.pages, 0UL);
	KUNIT_EXPECT_EQ(test, st.bad_handles, 0UL);
	zspp_destroy_pool(f->pool);
}

struct zspp_pool *fixture_pool(struct kunit *test)
{
	return ((struct pool_fixture *)test->priv)->pool;
}

unsigned int serving(struct zspp_pool *pool, unsigned int idx)
{
	struct zspp_class_stats cs;

	while (zspp_class_stats(pool, idx, &cs) == 1)
		idx++;
	return idx;
}

void write_obj(struct zspp_pool *pool, unsigned long h, size_t size, u32 seed,
		      enum write_api api, u8 *scratch)
{
	void *dst;

	switch (api) {
	case W_OBJ_WRITE:
		fill(scratch, size, seed);
		zspp_obj_write(pool, h, scratch, size);
		return;
	case W_MAP_WO:
	case W_MAP_RW:
		dst = zspp_map_object(pool, h, api == W_MAP_WO ? ZSPP_MM_WO : ZSPP_MM_RW);
		fill(dst, size, seed);
		zspp_unmap_object(pool, h);
		return;
	default:
		return;
	}
}


long read_obj(struct zspp_pool *pool, unsigned long h, size_t size, u32 seed,
		     enum read_api api, u8 *scratch)
{
	long bad;
	void *src;

	if (api == R_READ_BEGIN) {
		src = zspp_obj_read_begin(pool, h, scratch);
		bad = check(src, size, seed);
		zspp_obj_read_end(pool, h, src);
		return bad;
	}
	src = zspp_map_object(pool, h, api == R_MAP_RO ? ZSPP_MM_RO : ZSPP_MM_RW);
#ifdef ZSPP_FOLD
	/*
	 * A write map of an object that shares its slot is refused while
	 * another map or read pins its zspage (zspp_map_object()'s -EBUSY
	 * case, counted in fold_cow_busy): read it read-only then.
	 */
	if (!src && api == R_MAP_RW)
		src = zspp_map_object(pool, h, ZSPP_MM_RO);
#endif
	if (!src)
		return (long)size; /* nothing mapped: every byte counts as bad */
	bad = check(src, size, seed);
	zspp_unmap_object(pool, h);
	return bad;
}

int churn_thread(void *data)
{
	struct churn_arg *a = data;
	u8 *scratch = kmalloc(PAGE_SIZE, GFP_KERNEL);
	unsigned long h[16] = { 0 };
	u32 seeds[16] = { 0 };
	unsigned int i;
	gfp_t gfp = GFP_KERNEL;

#ifdef CONFIG_FAULT_INJECTION
	if (a->faults) {
		current->make_it_fail = 1;
		gfp = GFP_NOWAIT | __GFP_NOWARN; /* what failslab/fail_page_alloc may fail */
	}
#endif
	for (i = 0; scratch && i < a->ops && !atomic_read(a->stop); i++) {
		unsigned int k = get_random_u32() % ARRAY_SIZE(h);

		if (h[k]) {
			if (read_obj(a->pool, h[k], a->size, seeds[k], get_random_u32() % NR_R, scratch) != -1)
				a->errors++;
			zspp_free(a->pool, h[k]);
			h[k] = 0;
		} else if (get_random_u32() % 64 == 0) {
			zspp_compact(a->pool);
#ifdef CONFIG_MIGRATION
		} else if (a->migrate && get_random_u32() % 4 == 0) {
			unsigned int j = get_random_u32() % ARRAY_SIZE(h);
			struct page *page = h[j] ? zspp_debug_handle_page(a->pool, h[j]) : NULL;

			/* Only this thread frees h[j]: its page stays a zspage page. */
			if (page && emulate_migration(page) == 0)
				a->migrations++;
#endif
		} else {
			int ret = zspp_malloc(a->pool, a->size, gfp, &h[k]);

			if (!ret) {
				seeds[k] = a->copies ? get_random_u32() % 4 : get_random_u32();
				write_obj(a->pool, h[k], a->size, seeds[k], get_random_u32() % NR_W, scratch);
			} else if (ret == -ENOMEM && a->faults) {
				h[k] = 0;
				a->enomem++;
			} else {
				h[k] = 0;
				a->errors++;
			}
		}
		cond_resched();
	}
	for (i = 0; i < ARRAY_SIZE(h); i++) {
		if (h[i])
			zspp_free(a->pool, h[i]);
	}
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = 0;
#endif
	kfree(scratch);
	complete(&a->done);
	return 0;
}

unsigned int wait_churn(struct kunit *test, struct churn_arg *args, unsigned int n, bool hotplug)
{
	unsigned int i, hotplugs = 0;
	bool done;

	do {
		done = true;
		if (hotplug && IS_ENABLED(CONFIG_HOTPLUG_CPU) && num_possible_cpus() > 1 && cpu_online(1)) {
			if (!remove_cpu(1)) {
				msleep(10);
				KUNIT_EXPECT_EQ(test, add_cpu(1), 0);
				hotplugs++;
			}
		}
		msleep(10);
		for (i = 0; i < n; i++)
			done &= completion_done(&args[i].done);
	} while (!done);
	return hotplugs;
}

#ifdef CONFIG_MIGRATION
/*
 * Do to @src what the kernel's migrate_pages() does to a movable page:
 * isolation reference, page lock, isolate, migrate into a new page (or put
 * back), drop the VM's references.
 */
int emulate_migration(struct page *src)
{
	const struct movable_operations *mops;
	struct page *dst;
	int rc = -EAGAIN;

	/*
	 * As isolate_movable_page(): the page may have been freed (another
	 * thread's compaction emptied its zspage) since the caller looked it
	 * up, so take a reference only if it still has one, and trust it only
	 * while it is still movable under the page lock.
	 */
	if (!get_page_unless_zero(src))
		return -EAGAIN;
	lock_page(src);
	/* __PageMovable + ops, as PageMovable() (not exported on 6.12) does. */
	if (!__PageMovable(src) || !page_movable_ops(src))
		goto out;
	mops = page_movable_ops(src);
	if (!mops->isolate_page(src, 0))
		goto out;
	dst = alloc_page(GFP_KERNEL);
	if (!dst) {
		mops->putback_page(src);
		rc = -ENOMEM;
		goto out;
	}
	lock_page(dst);
	rc = mops->migrate_page(dst, src, MIGRATE_SYNC);
	if (rc)
		mops->putback_page(src);
	unlock_page(dst);
	put_page(dst);
out:
	unlock_page(src);
	put_page(src);
	return rc;
}
#endif
