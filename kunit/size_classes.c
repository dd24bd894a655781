// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_size_classes: the size-class table and which class serves each size.
 */
#include "helpers.h"

static void size_class_table(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	unsigned int chain = zspp_pool_chain_size(pool);
	unsigned int n = zspp_nr_classes(pool), i, p;
	struct zspp_class_stats cs, srv;

	KUNIT_ASSERT_EQ(test, n, (ZSPP_MAX_ALLOC_SIZE - ZSPP_MIN_ALLOC_SIZE) / ZSPP_CLASS_DELTA + 1);
	KUNIT_EXPECT_EQ(test, zspp_class_stats(pool, n, &cs), -EINVAL);
	KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, n - 1, &cs), 0); /* the largest is never merged */

	for (i = 0; i < n; i++) {
		unsigned int size = ZSPP_MIN_ALLOC_SIZE + i * ZSPP_CLASS_DELTA;
		u64 best_cost = ~0ULL, best_objs = 1, best_pages = 0;
		int merged = zspp_class_stats(pool, i, &cs);

		KUNIT_ASSERT_GE(test, merged, 0);
		KUNIT_EXPECT_EQ(test, cs.size, size);
		KUNIT_EXPECT_GE(test, cs.pages_per_zspage, 1u);
		KUNIT_EXPECT_LE(test, cs.pages_per_zspage, chain);
		/*
		 * No room for one more slot, and the fewest bytes per slot: tail
		 * waste plus the descriptor at what this kernel's kmalloc takes
		 * for it (the core prices it with a model of kmalloc's sizes;
		 * this checks the model on the kernel it runs on).
		 */
		KUNIT_EXPECT_EQ(test, cs.objs_per_zspage, cs.pages_per_zspage * (unsigned int)PAGE_SIZE / size);
		for (p = 1; p <= chain; p++) {
			u64 objs = p * PAGE_SIZE / size;
			u64 cost = p * PAGE_SIZE % size +
				   kmalloc_size_roundup(zspp_debug_descriptor_size(p, objs));

			/* Descriptors stay slab objects (an evictable prefix fits). */
			if (p > 1 && zspp_debug_descriptor_size(p, objs) > KMALLOC_MAX_CACHE_SIZE - 64)
				break;

			if (p == 1 || cost * best_objs < best_cost * objs) {
				best_cost = cost;
				best_objs = objs;
				best_pages = p;
			}
		}
		KUNIT_EXPECT_EQ_MSG(test, (u64)cs.pages_per_zspage, best_pages, "class %u", i);
		if (merged) {
			/* Merged indices have the geometry of the class serving them. */
			KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, serving(pool, i), &srv), 0);
			KUNIT_EXPECT_EQ(test, srv.pages_per_zspage, cs.pages_per_zspage);
			KUNIT_EXPECT_EQ(test, srv.objs_per_zspage, cs.objs_per_zspage);
		}
	}
}

/* Every size lands in the smallest class that fits, and reports its size. */
static void size_maps_to_smallest_class(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	struct zspp_class_stats cs;
	unsigned long h;
	size_t size;

	for (size = 1; size <= ZSPP_MAX_ALLOC_SIZE; size++) {
		unsigned int idx = size <= ZSPP_MIN_ALLOC_SIZE ? 0 :
			(size - ZSPP_MIN_ALLOC_SIZE + ZSPP_CLASS_DELTA - 1) / ZSPP_CLASS_DELTA;
		unsigned int srv = serving(pool, idx);

		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h), 0);
		KUNIT_EXPECT_EQ(test, zspp_obj_size(pool, h), size);
		KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, srv, &cs), 0);
		KUNIT_EXPECT_EQ_MSG(test, cs.obj_used, 1UL, "size %zu class %u", size, srv);
		KUNIT_EXPECT_GE(test, (size_t)cs.size, size);
		zspp_free(pool, h);
	}
}

static struct kunit_case zspp_class_cases[] = {
	KUNIT_CASE(size_class_table),
	KUNIT_CASE(size_maps_to_smallest_class),
	{}
};

struct kunit_suite zspp_class_suite = {
	.name = "zspp_size_classes", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_class_cases,
};
