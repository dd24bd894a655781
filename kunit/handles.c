// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_handles: fullness groups, and handles that stay valid and distinct
 * while their neighbours come and go.
 */
#include "helpers.h"

static unsigned int group_of(unsigned long inuse, unsigned long objs)
{
	if (!inuse)
		return 0;
	if (inuse == objs)
		return ZSPP_NR_FULLNESS - 1;
	return 1 + (inuse * 100 / objs) / 10;
}

static void fullness_groups(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	const size_t size = 1000;	/* a class with several slots per zspage */
	unsigned int idx = serving(pool, (size - ZSPP_MIN_ALLOC_SIZE + 15) / 16);
	struct zspp_class_stats cs;
	unsigned long *h;
	unsigned int objs, k, g;

	KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, idx, &cs), 0);
	objs = cs.objs_per_zspage;
	KUNIT_ASSERT_GE(test, objs, 4u);
	h = kunit_kcalloc(test, 3 * objs, sizeof(*h), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h);

	/* Fill three zspages, then free down to 1 object, objs/2 and full. */
	for (k = 0; k < 3 * objs; k++)
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h[k]), 0);
	KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, idx, &cs), 0);
	KUNIT_EXPECT_EQ(test, cs.fullness[ZSPP_NR_FULLNESS - 1], 3UL);
	KUNIT_EXPECT_EQ(test, cs.obj_allocated, 3UL * objs);
	for (k = 1; k < objs; k++)
		zspp_free(pool, h[k]);		/* zspage A: 1 object */
	for (k = objs; k < objs + objs / 2; k++)
		zspp_free(pool, h[k]);		/* zspage B: objs - objs/2 */
	KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, idx, &cs), 0);
	for (g = 0; g < ZSPP_NR_FULLNESS; g++) {
		unsigned long want = (g == group_of(1, objs)) + (g == group_of(objs - objs / 2, objs)) +
				     (g == ZSPP_NR_FULLNESS - 1);
		KUNIT_EXPECT_EQ_MSG(test, cs.fullness[g], want, "group %u", g);
	}
	KUNIT_EXPECT_EQ(test, cs.obj_used, 1UL + (objs - objs / 2) + objs);
	KUNIT_EXPECT_EQ(test, cs.pages_used, 3UL * cs.pages_per_zspage);
	/*
	 * Every page is there (each zspage was filled once); compaction could
	 * give back every page past what the objects take packed from the
	 * front (full zspages, then one trimmed to the pages its objects reach).
	 */
	{
		unsigned long rest = cs.obj_used % objs;
		unsigned long packed = cs.obj_used / objs * cs.pages_per_zspage +
				       (rest ? (rest * cs.size - 1) / PAGE_SIZE + 1 : 0);

		KUNIT_EXPECT_EQ(test, cs.freeable, cs.pages_used - packed);
	}

	/* The next malloc goes to the fullest non-full zspage (B), not A. */
	KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h[objs + 1]), 0);
	KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, idx, &cs), 0);
	KUNIT_EXPECT_EQ(test, cs.fullness[group_of(1, objs)], 1UL);
	KUNIT_EXPECT_EQ(test, cs.fullness[group_of(objs - objs / 2 + 1, objs)],
			1UL + (group_of(objs - objs / 2 + 1, objs) == group_of(1, objs)));
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);

	zspp_free(pool, h[0]);
	zspp_free(pool, h[objs + 1]);
	for (k = objs + objs / 2; k < 3 * objs; k++)
		zspp_free(pool, h[k]);
	KUNIT_ASSERT_EQ(test, zspp_class_stats(pool, idx, &cs), 0);
	KUNIT_EXPECT_EQ(test, cs.obj_allocated, 0UL);
}

/* Handles stay valid and distinct while neighbours come and go. */
static void handle_stability(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	const unsigned int n = 2000;
	unsigned long *h = kunit_kcalloc(test, n, sizeof(*h), GFP_KERNEL);
	u32 *size = kunit_kcalloc(test, n, sizeof(*size), GFP_KERNEL);
	u32 *seed = kunit_kcalloc(test, n, sizeof(*seed), GFP_KERNEL);
	unsigned int round, k;

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, size);
	KUNIT_ASSERT_NOT_NULL(test, seed);
	KUNIT_ASSERT_NOT_NULL(test, scratch);
	for (k = 0; k < n; k++) {
		size[k] = 1 + get_random_u32() % ZSPP_MAX_ALLOC_SIZE;
		seed[k] = k;
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size[k], GFP_KERNEL, &h[k]), 0);
		write_obj(pool, h[k], size[k], seed[k], W_OBJ_WRITE, scratch);
	}
	for (round = 1; round <= 4; round++) {
		/* Replace every other object, then verify all. */
		for (k = round & 1; k < n; k += 2) {
			zspp_free(pool, h[k]);
			size[k] = 1 + get_random_u32() % ZSPP_MAX_ALLOC_SIZE;
			seed[k] = k + round * n;
			KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size[k], GFP_KERNEL, &h[k]), 0);
			write_obj(pool, h[k], size[k], seed[k], W_MAP_WO, scratch);
		}
		for (k = 0; k < n; k++)
			KUNIT_EXPECT_EQ_MSG(test, read_obj(pool, h[k], size[k], seed[k], R_READ_BEGIN, scratch),
					    -1L, "round %u obj %u", round, k);
		KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
	}
	for (k = 0; k < n; k++)
		zspp_free(pool, h[k]);
}

static struct kunit_case zspp_handle_cases[] = {
	KUNIT_CASE(fullness_groups),
	KUNIT_CASE(handle_stability),
	{}
};

struct kunit_suite zspp_handle_suite = {
	.name = "zspp_handles", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_handle_cases,
};
