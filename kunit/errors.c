// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_errors: bad sizes, an allocation failure at every point (fault
 * injection: current->fail_nth), and a pool destroyed with live objects.
 */
#include "helpers.h"

static void bad_sizes(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	struct zspp_pool *p2;
	unsigned long h = 0;

	KUNIT_EXPECT_EQ(test, zspp_malloc(pool, 0, GFP_KERNEL, &h), -EINVAL);
	KUNIT_EXPECT_EQ(test, zspp_malloc(pool, ZSPP_MAX_ALLOC_SIZE + 1, GFP_KERNEL, &h), -EINVAL);
	KUNIT_EXPECT_EQ(test, zspp_malloc(pool, SIZE_MAX, GFP_KERNEL, &h), -EINVAL);
	KUNIT_EXPECT_EQ(test, h, 0UL);
	KUNIT_EXPECT_EQ(test, zspp_create_pool("kunit-bad", ZSPP_MAX_CHAIN + 1, &p2), -EINVAL);
	KUNIT_EXPECT_EQ(test, zspp_create_pool("kunit-bad", 0, &p2), -EINVAL);
	KUNIT_EXPECT_EQ(test, zspp_get_total_pages(pool), 0UL);
}

/*
 * Fail the 1st, 2nd, ... allocation a malloc makes (handle, descriptor,
 * each page) until one succeeds: each failure returns -ENOMEM and leaves
 * the pool exactly as it was.
 */
static void malloc_failure_every_point(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	const size_t sizes[] = { 40, 1000, 3264, 4096 };
	unsigned int s;

	if (!IS_ENABLED(CONFIG_FAULT_INJECTION) || !IS_ENABLED(CONFIG_FAILSLAB) ||
	    !IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC))
		kunit_skip(test, "needs FAILSLAB and FAIL_PAGE_ALLOC");

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct zspp_pool_stats before, after;
		unsigned long h;
		unsigned int nth, failures = 0;
		int ret;

		zspp_pool_stats(pool, &before);
		/*
		 * Some injected failures are absorbed inside the allocators
		 * (SLUB retries a high-order slab at minimum order), so a
		 * success does not mean the points are exhausted: try every
		 * nth up to a bound, freeing each success.
		 */
		for (nth = 1; nth <= 24; nth++) {
#ifdef CONFIG_FAULT_INJECTION
			current->fail_nth = nth;
#endif
			ret = zspp_malloc(pool, sizes[s], GFP_NOWAIT | __GFP_NOWARN, &h);
#ifdef CONFIG_FAULT_INJECTION
			current->fail_nth = 0;
#endif
			if (ret == 0) {
				KUNIT_EXPECT_EQ(test, zspp_obj_size(pool, h), sizes[s]);
				zspp_free(pool, h);
			} else {
				KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
				failures++;
			}
			zspp_pool_stats(pool, &after);
			KUNIT_EXPECT_EQ(test, after.pages, before.pages);
			KUNIT_EXPECT_EQ(test, after.objects, before.objects);
			KUNIT_EXPECT_EQ(test, after.bytes_metadata, before.bytes_metadata);
			KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
		}
		/*
		 * At least the handle and the descriptor failed; whether a page
		 * failure is seen depends on slab state (a slab refill may absorb
		 * the nth check). The host tests fail every point one by one.
		 */
		KUNIT_EXPECT_GE_MSG(test, failures, 2u, "size %zu: the runner must enable fault injection",
				    sizes[s]);
		KUNIT_EXPECT_EQ(test, after.malloc_fail - before.malloc_fail, (unsigned long)failures);
		/* Without injection the same call succeeds. */
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, sizes[s], GFP_NOWAIT | __GFP_NOWARN, &h), 0);
		zspp_free(pool, h);
	}
}

/* A pool destroyed with live objects frees them (and says so once). */
static void destroy_with_objects(struct kunit *test)
{
	struct zspp_pool *pool;
	unsigned long h;
	int i;

	KUNIT_ASSERT_EQ(test, zspp_create_pool("kunit-live", 4, &pool), 0);
	for (i = 0; i < 100; i++)
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, 100 + i * 30, GFP_KERNEL, &h), 0);
	KUNIT_EXPECT_GT(test, zspp_get_total_pages(pool), 0UL);
	zspp_destroy_pool(pool);	/* KASAN/kmemleak would report what leaks */
}

static struct kunit_case zspp_error_cases[] = {
	KUNIT_CASE(bad_sizes),
	KUNIT_CASE(malloc_failure_every_point),
	KUNIT_CASE(destroy_with_objects),
	{}
};

struct kunit_suite zspp_error_suite = {
	.name = "zspp_errors", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_error_cases,
};
