// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_data: every byte of every object, in every class and at every offset,
 * written and read back through each API (map modes, read/write API).
 */
#include "helpers.h"

/*
 * For each class, fill two whole zspages so that every slot position,
 * including those straddling a page boundary, holds an object; write with
 * one API, read back with every API.
 */
static void every_class_every_offset(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned int n = zspp_nr_classes(pool), i;
	unsigned long *h;
	u32 seed = 1;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	for (i = 0; i < n; i++) {
		struct zspp_class_stats cs;
		unsigned int count, k;
		size_t size;

		if (zspp_class_stats(pool, i, &cs) != 0)
			continue;
		count = 2 * cs.objs_per_zspage;
		h = kvcalloc(count, sizeof(*h), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, h);
		/* Largest size of the class: spanning slots really span. */
		size = cs.size;
		for (k = 0; k < count; k++) {
			KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h[k]), 0);
			write_obj(pool, h[k], size, seed + k, k % NR_W, scratch);
		}
		KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
		for (k = 0; k < count; k++) {
			enum read_api r;

			for (r = 0; r < NR_R; r++)
				KUNIT_EXPECT_EQ_MSG(test, read_obj(pool, h[k], size, seed + k, r, scratch), -1L,
						    "class %u size %zu obj %u read api %d", i, size, k, r);
		}
		for (k = 0; k < count; k++)
			zspp_free(pool, h[k]);
		kvfree(h);
		seed += count;
	}
	KUNIT_EXPECT_EQ(test, zspp_get_total_pages(pool), 0UL);
}

/* Every size 1..4096 with a distinct pattern, all held at once, then verified. */
static void every_size_round_trip(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned long *h = kvcalloc(NR_SIZES + 1, sizeof(*h), GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned long bytes = 0;
	size_t size;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	KUNIT_ASSERT_NOT_NULL(test, h);
	for (size = 1; size <= NR_SIZES; size++) {
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h[size]), 0);
		write_obj(pool, h[size], size, 7000 + size, size % NR_W, scratch);
		bytes += size;
	}
	zspp_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.objects, (unsigned long)NR_SIZES);
	KUNIT_EXPECT_EQ(test, st.bytes_stored, bytes);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
	for (size = NR_SIZES; size >= 1; size--) {
		KUNIT_EXPECT_EQ_MSG(test, read_obj(pool, h[size], size, 7000 + size, size % NR_R, scratch),
				    -1L, "size %zu", size);
		zspp_free(pool, h[size]);
	}
	kvfree(h);
}

/* RO does not write back; RW does; WO does not copy in. */
static void map_modes(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	size_t sizes[] = { 100, 2000, 3000, 4096 };
	unsigned long h[8];
	unsigned int s, k;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		size_t size = sizes[s];

		/* Several objects so some of them span pages. */
		for (k = 0; k < ARRAY_SIZE(h); k++) {
			u8 *p;

			KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h[k]), 0);
			write_obj(pool, h[k], size, 100 + k, W_OBJ_WRITE, scratch);
			/* RO: scribble on the mapping, which must not reach the pool. */
			p = zspp_map_object(pool, h[k], ZSPP_MM_RO);
			KUNIT_EXPECT_EQ(test, check(p, size, 100 + k), -1L);
			zspp_unmap_object(pool, h[k]);
			/* (Scribbling through an RO map of a non-spanning object
			 * would hit the page itself: RO is a promise, not a
			 * protection; only the bounce copy is tested by RW below.) */
			p = zspp_map_object(pool, h[k], ZSPP_MM_RW);
			KUNIT_EXPECT_EQ(test, check(p, size, 100 + k), -1L);
			fill(p, size, 200 + k);
			zspp_unmap_object(pool, h[k]);
			KUNIT_EXPECT_EQ(test, read_obj(pool, h[k], size, 200 + k, R_READ_BEGIN, scratch), -1L);
			/* WO: whatever the buffer held, every byte written lands. */
			p = zspp_map_object(pool, h[k], ZSPP_MM_WO);
			fill(p, size, 300 + k);
			zspp_unmap_object(pool, h[k]);
			KUNIT_EXPECT_EQ(test, read_obj(pool, h[k], size, 300 + k, R_MAP_RO, scratch), -1L);
		}
		for (k = 0; k < ARRAY_SIZE(h); k++)
			zspp_free(pool, h[k]);
	}
}

static struct kunit_case zspp_data_cases[] = {
	KUNIT_CASE(every_class_every_offset),
	KUNIT_CASE(every_size_round_trip),
	KUNIT_CASE(map_modes),
	{}
};

struct kunit_suite zspp_data_suite = {
	.name = "zspp_data", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_data_cases,
};
