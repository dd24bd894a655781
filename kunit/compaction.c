// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_compaction: compaction after random frees, mapped zspages never
 * moved, and (CONFIG_MIGRATION) page migration of every page.
 */
#include "helpers.h"

/*
 * Per class: fill it, free a random 75% of its objects, compact; pages used
 * must drop to within one zspage of the ideal for what is left, and every
 * surviving object must verify.
 */
static void compact_after_random_frees(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	const size_t sizes[] = { 32, 200, 700, 1500, 2100, 3000, 3700, 4096 };
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned int s;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		unsigned int idx = serving(pool, sizes[s] <= ZSPP_MIN_ALLOC_SIZE ? 0 :
					   (sizes[s] - ZSPP_MIN_ALLOC_SIZE + 15) / 16);
		struct zspp_class_stats cs;
		unsigned int n, k, live = 0;
		unsigned long *h, ideal, freed;

		KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, idx, &cs), 0);
		n = 8 * cs.objs_per_zspage;
		h = kvcalloc(n, sizeof(*h), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, h);
		for (k = 0; k < n; k++) {
			KUNIT_ASSERT_EQ(test, zspp_malloc(pool, sizes[s], GFP_KERNEL, &h[k]), 0);
			write_obj(pool, h[k], sizes[s], 9000 + k, k % NR_W, scratch);
		}
		for (k = 0; k < n; k++) {
			if (get_random_u32() % 4) {
				zspp_free(pool, h[k]);
				h[k] = 0;
			} else {
				live++;
			}
		}
		freed = zspp_compact(pool);
		KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, idx, &cs), 0);
		/* Packed: full zspages, then one trimmed to the pages its objects reach. */
		ideal = live / cs.objs_per_zspage * cs.pages_per_zspage +
			(live % cs.objs_per_zspage ?
			 ((live % cs.objs_per_zspage) * cs.size - 1) / PAGE_SIZE + 1 : 0);
		KUNIT_EXPECT_EQ_MSG(test, cs.pages_used, ideal,
				    "size %zu: %u live, freed %lu", sizes[s], live, freed);
		KUNIT_EXPECT_EQ(test, cs.freeable, 0UL);
		KUNIT_EXPECT_EQ(test, zspp_compactable_pages(pool), 0UL);
		KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
		for (k = 0; k < n; k++) {
			if (!h[k])
				continue;
			KUNIT_EXPECT_EQ_MSG(test, read_obj(pool, h[k], sizes[s], 9000 + k, k % NR_R, scratch), -1L,
					    "size %zu obj %u after compaction", sizes[s], k);
			zspp_free(pool, h[k]);
		}
		kvfree(h);
	}
	zspp_pool_stats(pool, &st);
	KUNIT_EXPECT_GT(test, st.objs_moved, 0UL);
	KUNIT_EXPECT_GT(test, st.pages_compacted, 0UL);
}

/* A pinned (mapped) zspage is never a compaction source. */
static void compact_skips_mapped(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	unsigned long h[64];
	unsigned int k;
	u8 *p;

	for (k = 0; k < ARRAY_SIZE(h); k++)
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, 3000, GFP_KERNEL, &h[k]), 0);
	for (k = 1; k < ARRAY_SIZE(h); k += 2)
		zspp_free(pool, h[k]);
	p = zspp_map_object(pool, h[0], ZSPP_MM_RW);
	fill(p, 3000, 4242);
	zspp_compact(pool);
	/* The mapping must still be the object's (RW copies back at unmap). */
	zspp_unmap_object(pool, h[0]);
	p = zspp_map_object(pool, h[0], ZSPP_MM_RO);
	KUNIT_EXPECT_EQ(test, check(p, 3000, 4242), -1L);
	zspp_unmap_object(pool, h[0]);
	for (k = 0; k < ARRAY_SIZE(h); k += 2)
		zspp_free(pool, h[k]);
}

#ifdef CONFIG_MIGRATION
/*
 * Migrate the page holding the start of every object (which covers every
 * page of every zspage, including the second page of spanning objects and
 * each zspage's first page, whose move re-points all its handles), then
 * verify every byte. A mapped zspage refuses to move.
 */
static void migrate_every_page(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	const size_t sizes[] = { 48, 1000, 3000, 4000 };
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned long h[64];
	unsigned int s, k, moved = 0;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		for (k = 0; k < ARRAY_SIZE(h); k++) {
			KUNIT_ASSERT_EQ(test, zspp_malloc(pool, sizes[s], GFP_KERNEL, &h[k]), 0);
			write_obj(pool, h[k], sizes[s], 700 * s + k, k % NR_W, scratch);
		}
		for (k = 0; k < ARRAY_SIZE(h); k++) {
			struct page *page = zspp_debug_handle_page(pool, h[k]);

			KUNIT_ASSERT_NOT_NULL(test, page);
			KUNIT_EXPECT_EQ_MSG(test, emulate_migration(page), 0, "size %zu obj %u", sizes[s], k);
			KUNIT_EXPECT_PTR_NE(test, (struct page *)zspp_debug_handle_page(pool, h[k]), page);
			moved++;
		}
		KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
		for (k = 0; k < ARRAY_SIZE(h); k++)
			KUNIT_EXPECT_EQ_MSG(test, read_obj(pool, h[k], sizes[s], 700 * s + k, k % NR_R, scratch), -1L,
					    "size %zu obj %u after migration", sizes[s], k);
		/* Pinned by a map: the zspage must not move. */
		{
			void *p = zspp_map_object(pool, h[0], ZSPP_MM_RO);
			struct page *page = zspp_debug_handle_page(pool, h[0]);

			KUNIT_EXPECT_EQ(test, emulate_migration(page), -EAGAIN);
			KUNIT_EXPECT_EQ(test, check(p, sizes[s], 700 * s), -1L);
			zspp_unmap_object(pool, h[0]);
		}
		for (k = 0; k < ARRAY_SIZE(h); k++)
			zspp_free(pool, h[k]);
	}
	zspp_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.pages_migrated, (unsigned long)moved);
}

/* A zspage whose page is locked (as migration holds it) is freed later, by the worker. */
static void free_while_page_locked(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	struct zspp_pool_stats st;
	struct page *page;
	unsigned long h;
	int i;

	KUNIT_ASSERT_EQ(test, zspp_malloc(pool, 2000, GFP_KERNEL, &h), 0);
	page = zspp_debug_handle_page(pool, h);
	KUNIT_ASSERT_NOT_NULL(test, page);
	get_page(page);
	lock_page(page);
	zspp_free(pool, h);		/* cannot lock the page: deferred */
	zspp_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.deferred_frees, 1UL);
	KUNIT_EXPECT_GT(test, st.pages, 0UL);
	unlock_page(page);
	for (i = 0; i < 200 && zspp_get_total_pages(pool); i++)
		msleep(5);
	KUNIT_EXPECT_EQ(test, zspp_get_total_pages(pool), 0UL);
	put_page(page);
}
#endif

static struct kunit_case zspp_compaction_cases[] = {
	KUNIT_CASE(compact_after_random_frees),
	KUNIT_CASE(compact_skips_mapped),
#ifdef CONFIG_MIGRATION
	KUNIT_CASE(migrate_every_page),
	KUNIT_CASE(free_while_page_locked),
#endif
	{}
};

struct kunit_suite zspp_compaction_suite = {
	.name = "zspp_compaction", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_compaction_cases,
};
