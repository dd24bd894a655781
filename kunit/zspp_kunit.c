// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for zspp, run on the KASAN + lockdep debug kernel
 * (scripts/kunit.sh). They drive zspp only through its exported API
 * (include/zspp/zspp.h) and check every byte they stored.
 *
 * Allocation failure uses the kernel's fault injection: the runner enables
 * failslab and fail_page_alloc for order-0, non-sleeping allocations, and a
 * test arms current->fail_nth so that exactly the Nth allocation check of
 * this task fails.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/cpu.h>
#include <linux/sched.h>
#include <linux/completion.h>
#include <linux/vmalloc.h>
#include <linux/migrate.h>
#include <linux/pagemap.h>

#include <zspp/zspp.h>

#define NR_SIZES ZSPP_MAX_ALLOC_SIZE

/* The byte at @off of object @seed: distinct per object and per position. */
static inline u8 pattern(u32 seed, size_t off)
{
	u32 x = seed * 2654435761u + (u32)off * 40503u;

	return (u8)(x ^ (x >> 13) ^ (x >> 24));
}

static void fill(u8 *buf, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(seed, i);
}

/* Offset of the first wrong byte, or -1. */
static long check(const u8 *buf, size_t len, u32 seed)
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

static int pool_init(struct kunit *test)
{
	struct pool_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_EQ(test, zspp_create_pool("kunit", 8, &f->pool), 0);
	test->priv = f;
	return 0;
}

static void pool_exit(struct kunit *test)
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

static struct zspp_pool *fixture_pool(struct kunit *test)
{
	return ((struct pool_fixture *)test->priv)->pool;
}

/* ------------------------------------------------------------------ */
/* Size classes                                                        */

/* The next class index at or above @idx that is not merged. */
static unsigned int serving(struct zspp_pool *pool, unsigned int idx)
{
	struct zspp_class_stats cs;

	while (zspp_class_stats(pool, idx, &cs) == 1)
		idx++;
	return idx;
}

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
		u64 best_num = ~0ULL, best_den = 1;
		int merged = zspp_class_stats(pool, i, &cs);

		KUNIT_ASSERT_GE(test, merged, 0);
		KUNIT_EXPECT_EQ(test, cs.size, size);
		KUNIT_EXPECT_GE(test, cs.pages_per_zspage, 1u);
		KUNIT_EXPECT_LE(test, cs.pages_per_zspage, chain);
		/* No room for one more slot, and the waste is the least fraction. */
		KUNIT_EXPECT_EQ(test, cs.objs_per_zspage, cs.pages_per_zspage * (unsigned int)PAGE_SIZE / size);
		for (p = 1; p <= chain; p++) {
			u64 waste = p * PAGE_SIZE % size;

			if (waste * best_den < best_num * p) {
				best_num = waste;
				best_den = p;
			}
		}
		KUNIT_EXPECT_EQ_MSG(test, (u64)cs.pages_per_zspage, best_den, "class %u", i);
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

/* ------------------------------------------------------------------ */
/* Data integrity                                                      */

enum write_api { W_MAP_WO, W_MAP_RW, W_OBJ_WRITE, NR_W };
enum read_api { R_MAP_RO, R_MAP_RW, R_READ_BEGIN, NR_R };

static void write_obj(struct zspp_pool *pool, unsigned long h, size_t size, u32 seed,
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

/* Returns the first bad offset or -1. */
static long read_obj(struct zspp_pool *pool, unsigned long h, size_t size, u32 seed,
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
	bad = check(src, size, seed);
	zspp_unmap_object(pool, h);
	return bad;
}

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

/* ------------------------------------------------------------------ */
/* Handles and fullness groups                                         */

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
	KUNIT_EXPECT_EQ(test, cs.freeable, (3UL * objs - cs.obj_used) / objs * cs.pages_per_zspage);

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

/* ------------------------------------------------------------------ */
/* Error paths                                                         */

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

/* ------------------------------------------------------------------ */
/* Sleeping while mapped, and concurrency                              */

#ifdef CONFIG_MIGRATION
static int emulate_migration(struct page *src);
#endif

struct churn_arg {
	struct zspp_pool *pool;
	size_t size;
	unsigned int ops;
	atomic_t *stop;
	long errors;
	bool migrate;		/* migrate pages of its own objects as it goes */
	bool faults;		/* make_it_fail: 3% of its non-sleeping allocations fail */
	bool copies;		/* only 4 contents: many identical objects (folding) */
	unsigned long migrations;
	unsigned long enomem;
	struct completion done;
};

static int churn_thread(void *data)
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

/*
 * Wait until all @n churn threads are done; with @hotplug, take CPU 1
 * offline and back online meanwhile. Returns the hotplug cycles made.
 */
static unsigned int wait_churn(struct kunit *test, struct churn_arg *args, unsigned int n, bool hotplug)
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

/*
 * Map an object, sleep, and read it back while other threads allocate and
 * free in the same class: maps may sleep (sleep_mapped), and lockdep and
 * DEBUG_ATOMIC_SLEEP must stay silent.
 */
static void sleep_while_mapped(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	const size_t size = 3000;	/* most slots of this class span pages */
	struct churn_arg a = { .pool = pool, .size = size, .ops = 100000 };
	atomic_t stop = ATOMIC_INIT(0);
	struct task_struct *t;
	unsigned long h[6];
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned int k;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	a.stop = &stop;
	init_completion(&a.done);
	for (k = 0; k < ARRAY_SIZE(h); k++) {
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h[k]), 0);
		write_obj(pool, h[k], size, 500 + k, W_OBJ_WRITE, scratch);
	}
	t = kthread_run(churn_thread, &a, "zspp-kunit-churn");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	for (k = 0; k < ARRAY_SIZE(h); k++) {
		u8 *p = zspp_map_object(pool, h[k], k & 1 ? ZSPP_MM_RO : ZSPP_MM_RW);

		msleep(20);
		KUNIT_EXPECT_EQ(test, check(p, size, 500 + k), -1L);
		zspp_unmap_object(pool, h[k]);

		p = zspp_obj_read_begin(pool, h[k], scratch);
		msleep(5);
		KUNIT_EXPECT_EQ(test, check(p, size, 500 + k), -1L);
		zspp_obj_read_end(pool, h[k], p);
	}
	atomic_set(&stop, 1);
	wait_for_completion(&a.done);
	KUNIT_EXPECT_EQ(test, a.errors, 0L);
	for (k = 0; k < ARRAY_SIZE(h); k++)
		zspp_free(pool, h[k]);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
}

/*
 * Bounce areas found from another CPU: map spanning objects for writing on
 * CPU 0, write through the map, move to CPU 1 (unmap must find the area of
 * CPU 0 without it being the local one), unmap, read back. Then the same
 * with the mapping CPU taken offline while its area is held (the area is
 * orphaned: unmap still finds it, copies back and frees it).
 */
static void map_then_move_cpus(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	const size_t size = 3000;	/* most slots of this class span pages */
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned long h[8];
	unsigned int k, spanning = 0, orphaned = 0;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	if (num_online_cpus() < 2 || !cpu_online(0) || !cpu_online(1))
		kunit_skip(test, "needs CPUs 0 and 1 online");
	for (k = 0; k < ARRAY_SIZE(h); k++) {
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h[k]), 0);
		write_obj(pool, h[k], size, 700 + k, W_OBJ_WRITE, scratch);
	}
	for (k = 0; k < ARRAY_SIZE(h); k++) {
		unsigned int from = k & 1, to = !from;
		bool hotplug = IS_ENABLED(CONFIG_HOTPLUG_CPU) && from == 1 && k >= 4;
		u8 *p;

		KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current, cpumask_of(from)), 0);
		p = zspp_map_object(pool, h[k], ZSPP_MM_RW);
		KUNIT_ASSERT_NOT_NULL(test, p);
		/* Mapped straight (the object does not span) or through an area. */
		if (virt_to_page(p) != zspp_debug_handle_page(pool, h[k]))
			spanning++;
		KUNIT_EXPECT_EQ(test, check(p, size, 700 + k), -1L);
		fill(p, size, 800 + k);
		KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current, cpumask_of(to)), 0);
		KUNIT_EXPECT_EQ(test, raw_smp_processor_id(), to);
		if (hotplug && !remove_cpu(from)) {
			orphaned++;
			zspp_unmap_object(pool, h[k]);
			KUNIT_EXPECT_EQ(test, add_cpu(from), 0);
		} else {
			zspp_unmap_object(pool, h[k]);
		}
		p = zspp_obj_read_begin(pool, h[k], scratch);
		KUNIT_EXPECT_EQ_MSG(test, check(p, size, 800 + k), -1L, "object %u after unmap on CPU %u", k, to);
		zspp_obj_read_end(pool, h[k], p);
	}
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	kunit_info(test, "%u of %zu maps used a bounce area, %u with its CPU offline at unmap\n", spanning,
		   ARRAY_SIZE(h), orphaned);
	KUNIT_EXPECT_GT(test, spanning, 0u);
	for (k = 0; k < ARRAY_SIZE(h); k++)
		zspp_free(pool, h[k]);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
}

/*
 * One thread per online CPU (at least two) doing random malloc/write/
 * verify/free on a shared pool for a fixed number of operations, while CPU 1
 * is taken offline and back online.
 */
static void concurrent_churn_with_hotplug(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	unsigned int nthreads = 2 * max(2u, num_online_cpus()), i, hotplugs = 0;
	unsigned long migrations = 0;
	struct churn_arg *args = kunit_kcalloc(test, nthreads, sizeof(*args), GFP_KERNEL);
	atomic_t stop = ATOMIC_INIT(0);

	KUNIT_ASSERT_NOT_NULL(test, args);
	KUNIT_EXPECT_GE_MSG(test, num_online_cpus(), 2u, "the test kernel must see 2 CPUs");
	for (i = 0; i < nthreads; i++) {
		struct task_struct *t;

		/* Threads share classes in pairs; every other thread also migrates. */
		args[i] = (struct churn_arg){ .pool = pool, .size = 1 + ((i / 2) * 1237 + i % 2) % ZSPP_MAX_ALLOC_SIZE,
					      .ops = 20000, .stop = &stop, .migrate = i % 2 };
		init_completion(&args[i].done);
		t = kthread_run(churn_thread, &args[i], "zspp-kunit-%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	hotplugs = wait_churn(test, args, nthreads, true);
	for (i = 0; i < nthreads; i++) {
		KUNIT_EXPECT_EQ_MSG(test, args[i].errors, 0L, "thread %u", i);
		migrations += args[i].migrations;
	}
	if (IS_ENABLED(CONFIG_HOTPLUG_CPU) && num_possible_cpus() > 1)
		KUNIT_EXPECT_GT(test, hotplugs, 0u);
	if (IS_ENABLED(CONFIG_MIGRATION))
		KUNIT_EXPECT_GT(test, migrations, 0UL);
	kunit_info(test, "%u threads, %u hotplug cycles, %lu page migrations", nthreads, hotplugs, migrations);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
}

/*
 * The churn of concurrent_churn_with_hotplug with 3% of the threads'
 * allocations failing (failslab + fail_page_alloc, task-filtered to them):
 * failed mallocs return -ENOMEM and leave nothing behind, every stored
 * object still verifies, compaction and migration carry on.
 */
static void churn_under_faults(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	unsigned int nthreads = 2 * max(2u, num_online_cpus()), i;
	struct churn_arg *args = kunit_kcalloc(test, nthreads, sizeof(*args), GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned long enomem = 0;
	atomic_t stop = ATOMIC_INIT(0);

	if (!IS_ENABLED(CONFIG_FAULT_INJECTION) || !IS_ENABLED(CONFIG_FAILSLAB) ||
	    !IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC))
		kunit_skip(test, "needs FAILSLAB and FAIL_PAGE_ALLOC");
	KUNIT_ASSERT_NOT_NULL(test, args);
	for (i = 0; i < nthreads; i++) {
		struct task_struct *t;

		args[i] = (struct churn_arg){ .pool = pool, .size = 1 + ((i / 2) * 1237 + i % 2) % ZSPP_MAX_ALLOC_SIZE,
					      .ops = 10000, .stop = &stop, .migrate = i % 2, .faults = true };
		init_completion(&args[i].done);
		t = kthread_run(churn_thread, &args[i], "zspp-kunit-f%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	wait_churn(test, args, nthreads, false);
	for (i = 0; i < nthreads; i++) {
		KUNIT_EXPECT_EQ_MSG(test, args[i].errors, 0L, "thread %u", i);
		enomem += args[i].enomem;
	}
	zspp_pool_stats(pool, &st);
	KUNIT_EXPECT_GT(test, enomem, 0UL);
	KUNIT_EXPECT_EQ(test, st.malloc_fail, enomem);
	kunit_info(test, "%u threads, %lu mallocs failed by injection, all data verified", nthreads, enomem);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
}

/* ------------------------------------------------------------------ */
/* Compaction                                                          */

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
		ideal = DIV_ROUND_UP(live, cs.objs_per_zspage) * cs.pages_per_zspage;
		KUNIT_EXPECT_LE_MSG(test, cs.pages_used, ideal + cs.pages_per_zspage,
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
 * Do to @src what the kernel's migrate_pages() does to a movable page:
 * isolation reference, page lock, isolate, migrate into a new page (or put
 * back), drop the VM's references.
 */
static int emulate_migration(struct page *src)
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

static struct kunit_case zspp_class_cases[] = {
	KUNIT_CASE(size_class_table),
	KUNIT_CASE(size_maps_to_smallest_class),
	{}
};

static struct kunit_case zspp_data_cases[] = {
	KUNIT_CASE(every_class_every_offset),
	KUNIT_CASE(every_size_round_trip),
	KUNIT_CASE(map_modes),
	{}
};

static struct kunit_case zspp_handle_cases[] = {
	KUNIT_CASE(fullness_groups),
	KUNIT_CASE(handle_stability),
	{}
};

static struct kunit_case zspp_error_cases[] = {
	KUNIT_CASE(bad_sizes),
	KUNIT_CASE(malloc_failure_every_point),
	KUNIT_CASE(destroy_with_objects),
	{}
};

static struct kunit_case zspp_concurrency_cases[] = {
	KUNIT_CASE(sleep_while_mapped),
	KUNIT_CASE(map_then_move_cpus),
	KUNIT_CASE(concurrent_churn_with_hotplug),
	KUNIT_CASE(churn_under_faults),
	{}
};

/* ------------------------------------------------------------------ */
/* Writeback (zspp_reclaim)                                            */

/*
 * The evict callback plays zswap_writeback_entry: map the handle, check the
 * bytes, free the handle while still mapped, unmap. Objects the test does
 * not own (churn threads') are refused with -EBUSY.
 */
struct wb_obj {
	unsigned long h;
	size_t size;
	u32 seed;
	bool live;
	unsigned int evicted;
};

struct wb_fixture {
	struct zspp_pool *pool;
	struct wb_obj *objs;
	unsigned int nr;
	unsigned long stuck;		/* evict fails with -EEXIST for this one */
	bool keep;			/* evict "succeeds" without freeing */
	unsigned int free_on_first;	/* first evict frees this many other objects */
	struct wb_obj *victims[8];	/* ... these ones */
	unsigned long calls, refused, bad_bytes;
};

static struct wb_obj *wb_find(struct wb_fixture *f, unsigned long h)
{
	unsigned int i;

	for (i = 0; i < f->nr; i++)
		if (f->objs[i].live && f->objs[i].h == h)
			return &f->objs[i];
	return NULL;
}

static int wb_evict(void *ctx, unsigned long h)
{
	struct wb_fixture *f = ctx;
	struct wb_obj *o = wb_find(f, h);
	u8 *p;

	f->calls++;
	if (f->free_on_first) {
		unsigned int i;

		for (i = 0; i < f->free_on_first; i++) {
			zspp_free(f->pool, f->victims[i]->h);
			f->victims[i]->live = false;
		}
		f->free_on_first = 0;
	}
	if (!o) {
		f->refused++;
		return -EBUSY;
	}
	o->evicted++;
	if (h == f->stuck)
		return -EEXIST;
	if (f->keep)
		return 0;
	p = zspp_map_object(f->pool, h, ZSPP_MM_RO);
	if (check(p, o->size, o->seed) != -1)
		f->bad_bytes++;
	zspp_free(f->pool, h);
	o->live = false;
	zspp_unmap_object(f->pool, h);
	return 0;
}

static int wb_init(struct kunit *test)
{
	struct wb_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->objs = kunit_kcalloc(test, 1024, sizeof(*f->objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->objs);
	KUNIT_ASSERT_EQ(test, zspp_create_pool_evictable("kunit-wb", 8, wb_evict, f, &f->pool), 0);
	test->priv = f;
	return 0;
}

static void wb_exit(struct kunit *test)
{
	struct wb_fixture *f = test->priv;
	struct zspp_pool_stats st;
	unsigned int i;

	for (i = 0; i < f->nr; i++)
		if (f->objs[i].live)
			zspp_free(f->pool, f->objs[i].h);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(f->pool), 0);
	zspp_pool_stats(f->pool, &st);
	KUNIT_EXPECT_EQ(test, st.objects, 0UL);
	KUNIT_EXPECT_EQ(test, st.pages, 0UL);
	KUNIT_EXPECT_EQ(test, st.bad_handles, 0UL);
	KUNIT_EXPECT_EQ(test, f->bad_bytes, 0UL);
	zspp_destroy_pool(f->pool);
}

/* Fill exactly one new zspage of the class serving @size (its others are full). */
static unsigned int wb_fill_zspage(struct kunit *test, struct wb_fixture *f, size_t size, u8 *scratch)
{
	struct zspp_class_stats cs;
	unsigned int idx = serving(f->pool, (size - ZSPP_MIN_ALLOC_SIZE + ZSPP_CLASS_DELTA - 1) / ZSPP_CLASS_DELTA);
	unsigned int k, first = f->nr;
	unsigned long pages_before;

	KUNIT_ASSERT_EQ(test, zspp_class_stats(f->pool, idx, &cs), 0);
	KUNIT_ASSERT_EQ(test, cs.obj_used % cs.objs_per_zspage, 0UL);
	pages_before = cs.pages_used;
	KUNIT_ASSERT_LE(test, f->nr + cs.objs_per_zspage, 1024u);
	for (k = 0; k < cs.objs_per_zspage; k++) {
		struct wb_obj *o = &f->objs[f->nr++];

		o->size = size;
		o->seed = 31 * f->nr + size;
		KUNIT_ASSERT_EQ(test, zspp_malloc(f->pool, size, GFP_KERNEL, &o->h), 0);
		write_obj(f->pool, o->h, size, o->seed, k % NR_W, scratch);
		o->live = true;
	}
	zspp_class_stats(f->pool, idx, &cs);
	KUNIT_EXPECT_EQ(test, cs.pages_used, pages_before + cs.pages_per_zspage);
	return first;
}

static void wb_verify_live(struct kunit *test, struct wb_fixture *f, u8 *scratch)
{
	unsigned int i;

	for (i = 0; i < f->nr; i++)
		if (f->objs[i].live)
			KUNIT_EXPECT_EQ_MSG(test, read_obj(f->pool, f->objs[i].h, f->objs[i].size, f->objs[i].seed,
							   i % NR_R, scratch), -1L, "object %u", i);
}

/* The oldest zspage goes first; each of its objects is evicted exactly once. */
static void reclaim_evicts_oldest_zspage_once(struct kunit *test)
{
	struct wb_fixture *f = test->priv;
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned int a, b, c, i;
	struct zspp_pool_stats st;
	unsigned long reclaimed = 0, pages;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	a = wb_fill_zspage(test, f, 300, scratch);
	b = wb_fill_zspage(test, f, 1000, scratch);
	c = wb_fill_zspage(test, f, 2000, scratch);
	pages = zspp_get_total_pages(f->pool);
	KUNIT_ASSERT_EQ(test, zspp_reclaim(f->pool, 1, &reclaimed), 0);
	for (i = 0; i < f->nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, f->objs[i].evicted, i < b ? 1u : 0u, "object %u", i);
	zspp_pool_stats(f->pool, &st);
	KUNIT_EXPECT_EQ(test, st.pages_reclaimed, reclaimed);
	KUNIT_EXPECT_EQ(test, zspp_get_total_pages(f->pool), pages - reclaimed);
	KUNIT_EXPECT_EQ(test, st.objs_written_back, (unsigned long)(b - a));
	KUNIT_EXPECT_EQ(test, st.reclaim_deferred_frees, (unsigned long)(b - a));
	KUNIT_EXPECT_EQ(test, st.objects, (unsigned long)(f->nr - b));
	KUNIT_EXPECT_EQ(test, st.reclaim_fail, 0UL);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(f->pool), 0);
	wb_verify_live(test, f, scratch);
	/* Next: the middle one, then the youngest. */
	KUNIT_ASSERT_EQ(test, zspp_reclaim(f->pool, 1, NULL), 0);
	for (i = b; i < f->nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, f->objs[i].evicted, i < c ? 1u : 0u, "object %u", i);
	KUNIT_EXPECT_EQ(test, f->refused, 0UL);
}

/* Frees by others during a reclaim wait, are never evicted, and complete. */
static void reclaim_defers_concurrent_frees(struct kunit *test)
{
	struct wb_fixture *f = test->priv;
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned int a, n, i;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	a = wb_fill_zspage(test, f, 500, scratch);
	n = f->nr - a;
	wb_fill_zspage(test, f, 1500, scratch);
	KUNIT_ASSERT_GE(test, n, 4u);
	f->victims[0] = &f->objs[a + n - 1];
	f->victims[1] = &f->objs[a + 2];
	f->free_on_first = 2;
	KUNIT_ASSERT_EQ(test, zspp_reclaim(f->pool, 1, NULL), 0);
	for (i = a; i < a + n; i++)
		KUNIT_EXPECT_EQ_MSG(test, f->objs[i].evicted,
				    (i == a + 2 || i == a + n - 1) ? 0u : 1u, "object %u", i);
	zspp_pool_stats(f->pool, &st);
	KUNIT_EXPECT_EQ(test, st.reclaim_deferred_frees, (unsigned long)n);
	KUNIT_EXPECT_EQ(test, st.objs_written_back, (unsigned long)(n - 2));
	KUNIT_EXPECT_EQ(test, st.objects, (unsigned long)(f->nr - a - n));
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(f->pool), 0);
	wb_verify_live(test, f, scratch);
}

/* A failing evict puts the zspage back; after 8 failures reclaim gives up. */
static void reclaim_failure_keeps_objects(struct kunit *test)
{
	struct wb_fixture *f = test->priv;
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned long reclaimed = 1;
	unsigned int a;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	a = wb_fill_zspage(test, f, 700, scratch);
	f->stuck = f->objs[a + 2].h;
	KUNIT_EXPECT_EQ(test, zspp_reclaim(f->pool, 1, &reclaimed), -EAGAIN);
	KUNIT_EXPECT_EQ(test, reclaimed, 0UL);
	KUNIT_EXPECT_EQ(test, f->objs[a + 2].evicted, 8u);
	zspp_pool_stats(f->pool, &st);
	KUNIT_EXPECT_EQ(test, st.reclaim_fail, 8UL);
	KUNIT_EXPECT_EQ(test, st.objs_written_back, 2UL);
	KUNIT_EXPECT_EQ(test, st.objects, (unsigned long)(f->nr - a - 2));
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(f->pool), 0);
	wb_verify_live(test, f, scratch);
	/* An evict that returns 0 but keeps the object is a failure too. */
	f->stuck = 0;
	f->keep = true;
	KUNIT_EXPECT_EQ(test, zspp_reclaim(f->pool, 1, NULL), -EAGAIN);
	f->keep = false;
	KUNIT_ASSERT_EQ(test, zspp_reclaim(f->pool, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, zspp_get_total_pages(f->pool), 0UL);
	KUNIT_EXPECT_EQ(test, zspp_reclaim(f->pool, 1, NULL), -EAGAIN);
	/* A pool created without evict cannot reclaim. */
	{
		struct zspp_pool *plain;

		KUNIT_ASSERT_EQ(test, zspp_create_pool("kunit-plain", 4, &plain), 0);
		KUNIT_EXPECT_EQ(test, zspp_reclaim(plain, 1, NULL), -EINVAL);
		zspp_destroy_pool(plain);
	}
}

struct reclaim_arg {
	struct wb_fixture *f;
	atomic_t *stop;
	unsigned long pages, calls;
	struct completion done;
};

static int reclaim_thread(void *data)
{
	struct reclaim_arg *r = data;

	while (!atomic_read(r->stop)) {
		unsigned long got = 0;

		if (!zspp_reclaim(r->f->pool, 4, &got))
			r->pages += got;
		r->calls++;
		if (r->calls % 8 == 0)
			zspp_compact(r->f->pool);
		msleep(1);
	}
	complete(&r->done);
	return 0;
}

/*
 * Churn threads (malloc/free/compact/migrate, their frees of objects under
 * reclaim deferred) in shared classes while a reclaim thread evicts in a loop
 * and CPU 1 goes offline/online. The test's own objects, in a class the
 * threads do not use, are written back; the threads' are refused.
 */
static void reclaim_under_churn_and_hotplug(struct kunit *test)
{
	struct wb_fixture *f = test->priv;
	unsigned int nthreads = 2 * max(2u, num_online_cpus()), i, hotplugs = 0;
	struct churn_arg *args = kunit_kcalloc(test, nthreads, sizeof(*args), GFP_KERNEL);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct reclaim_arg r = { .f = f };
	struct zspp_pool_stats st;
	atomic_t stop = ATOMIC_INIT(0), rstop = ATOMIC_INIT(0);
	struct task_struct *t;

	KUNIT_ASSERT_NOT_NULL(test, args);
	KUNIT_ASSERT_NOT_NULL(test, scratch);
	/* Six zspages' worth of the test's own objects, in a class no thread uses. */
	for (i = 0; i < 6; i++)
		wb_fill_zspage(test, f, 600, scratch);
	r.stop = &rstop;
	init_completion(&r.done);
	for (i = 0; i < nthreads; i++) {
		args[i] = (struct churn_arg){ .pool = f->pool, .size = 1 + ((i / 2) * 1237 + i % 2) % ZSPP_MAX_ALLOC_SIZE,
					      .ops = 10000, .stop = &stop, .migrate = i % 2 };
		init_completion(&args[i].done);
		t = kthread_run(churn_thread, &args[i], "zspp-kunit-wb%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	t = kthread_run(reclaim_thread, &r, "zspp-kunit-reclaim");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	hotplugs = wait_churn(test, args, nthreads, true);
	atomic_set(&rstop, 1);
	wait_for_completion(&r.done);
	for (i = 0; i < nthreads; i++)
		KUNIT_EXPECT_EQ_MSG(test, args[i].errors, 0L, "thread %u", i);
	zspp_pool_stats(f->pool, &st);
	KUNIT_EXPECT_GT(test, r.pages, 0UL);
	KUNIT_EXPECT_EQ(test, st.pages_reclaimed, r.pages);
	kunit_info(test, "%u threads, %u hotplug cycles, %lu reclaim calls, %lu pages reclaimed, %lu evicts refused, %lu frees deferred",
		   nthreads, hotplugs, r.calls, r.pages, f->refused, st.reclaim_deferred_frees);
	wb_verify_live(test, f, scratch);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(f->pool), 0);
}


/*
 * zspp driven the way 6.1 zswap drives its zpool in writeback
 * (zswap_writeback_entry, Documentation/zswap-contract.rst): evict maps the
 * handle first, reads the entry key from the object's header, and only then
 * looks the entry up under the tree spinlock; other tasks invalidate entries
 * at any time, their frees reaching zspp under that spinlock. An entry
 * invalidated before the lookup is "found invalidated": unmap, return 0.
 */
struct zs61_entry {
	unsigned long h;
	u32 seed;
	u16 size;
	bool live;
};

struct zs61 {
	struct zspp_pool *pool;
	spinlock_t tree_lock;
	struct zs61_entry *e;
	unsigned int nr;
	atomic_t stop;
	atomic_long_t written_back, found_invalidated, invalidated, bad_bytes, null_maps, reclaim_calls, evicts;
	unsigned long evicting;		/* the handle evict was called with */
	struct completion done[4];
};

static int zs61_evict(void *ctx, unsigned long h)
{
	struct zs61 *z = ctx;
	struct zs61_entry *e;
	u8 *p;
	u32 key;

	/*
	 * Another CPU may invalidate the entry from here on; one evict in four
	 * waits a little first (a preemption), which the aiming thread uses.
	 */
	WRITE_ONCE(z->evicting, h);
	if (atomic_long_inc_return(&z->evicts) % 4 == 0)
		usleep_range(100, 300);
	p = zspp_map_object(z->pool, h, ZSPP_MM_RO);
	if (!p) {
		/* 6.1 zswap dereferences it: an oops in its shrink worker. */
		atomic_long_inc(&z->null_maps);
		return -ENOMEM;
	}
	memcpy(&key, p, sizeof(key));
	spin_lock(&z->tree_lock);
	e = key < z->nr ? &z->e[key] : NULL;
	if (!e || !e->live || e->h != h) {
		spin_unlock(&z->tree_lock);
		zspp_unmap_object(z->pool, h);
		atomic_long_inc(&z->found_invalidated);
		return 0;
	}
	e->live = false;	/* the writeback holds the entry now */
	spin_unlock(&z->tree_lock);
	if (check(p + sizeof(key), e->size - sizeof(key), e->seed) != -1)
		atomic_long_inc(&z->bad_bytes);
	spin_lock(&z->tree_lock);
	zspp_free(z->pool, h);	/* zswap_entry_put under the tree lock */
	spin_unlock(&z->tree_lock);
	zspp_unmap_object(z->pool, h);
	atomic_long_inc(&z->written_back);
	return 0;
}

struct zs61_thread {
	struct zs61 *z;
	unsigned int idx;
};

/* zswap_frontswap_invalidate_page in a loop, on random entries. */
static int zs61_invalidate_thread(void *data)
{
	struct zs61_thread *a = data;
	struct zs61 *z = a->z;

	while (!atomic_read(&z->stop)) {
		struct zs61_entry *e = &z->e[get_random_u32() % z->nr];

		if (a->idx == 0) {
			/* Aim at the entry under evict (its task exiting). */
			unsigned long h = READ_ONCE(z->evicting);
			unsigned int k;

			for (k = 0; h && k < z->nr; k++)
				if (z->e[k].h == h)
					e = &z->e[k];
		}
		spin_lock(&z->tree_lock);
		if (e->live) {
			e->live = false;
			zspp_free(z->pool, e->h);
			atomic_long_inc(&z->invalidated);
		}
		spin_unlock(&z->tree_lock);
		usleep_range(50, 200);
	}
	complete(&z->done[a->idx]);
	return 0;
}

/* zswap's shrink worker: zpool_shrink(pool, 1, NULL) in a loop. */
static int zs61_shrink_thread(void *data)
{
	struct zs61 *z = data;

	while (!atomic_read(&z->stop)) {
		(void)zspp_reclaim(z->pool, 1, NULL);
		atomic_long_inc(&z->reclaim_calls);
		if (atomic_long_read(&z->reclaim_calls) % 16 == 0)
			zspp_compact(z->pool);
		cond_resched();
	}
	complete(&z->done[3]);
	return 0;
}

static void writeback_the_zswap_way_with_invalidations(struct kunit *test)
{
	struct zs61 *z = kunit_kzalloc(test, sizeof(*z), GFP_KERNEL);
	struct zs61_thread targs[3];
	u8 *buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned int i, hotplugs = 0, left = 0;
	unsigned long deadline;
	struct task_struct *t;

	KUNIT_ASSERT_NOT_NULL(test, z);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	z->nr = 3000;
	z->e = kunit_kcalloc(test, z->nr, sizeof(*z->e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, z->e);
	spin_lock_init(&z->tree_lock);
	KUNIT_ASSERT_EQ(test, zspp_create_pool_evictable("kunit-zswap61", 8, zs61_evict, z, &z->pool), 0);
	for (i = 0; i < z->nr; i++) {
		struct zs61_entry *e = &z->e[i];
		u32 key = i;

		e->size = 64 + (i * 797) % 3900;
		e->seed = 7 * i + 1;
		KUNIT_ASSERT_EQ(test, zspp_malloc(z->pool, e->size, GFP_KERNEL, &e->h), 0);
		memcpy(buf, &key, sizeof(key));
		fill(buf + sizeof(key), e->size - sizeof(key), e->seed);
		zspp_obj_write(z->pool, e->h, buf, e->size);
		e->live = true;
	}
	for (i = 0; i < 4; i++)
		init_completion(&z->done[i]);
	for (i = 0; i < 3; i++) {
		targs[i] = (struct zs61_thread){ .z = z, .idx = i };
		t = kthread_run(zs61_invalidate_thread, &targs[i], "zspp-kunit-inval%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	t = kthread_run(zs61_shrink_thread, z, "zspp-kunit-shrink");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	deadline = jiffies + 8 * HZ;
	while (time_before(jiffies, deadline) && atomic_long_read(&z->invalidated) < z->nr / 2) {
		if (IS_ENABLED(CONFIG_HOTPLUG_CPU) && num_possible_cpus() > 1 && cpu_online(1) && !remove_cpu(1)) {
			msleep(10);
			KUNIT_EXPECT_EQ(test, add_cpu(1), 0);
			hotplugs++;
		}
		msleep(20);
	}
	atomic_set(&z->stop, 1);
	for (i = 0; i < 4; i++)
		wait_for_completion(&z->done[i]);
	zspp_pool_stats(z->pool, &st);
	kunit_info(test, "%u hotplug cycles, %ld reclaim calls, %lu pages reclaimed, %ld written back, %ld found invalidated, %ld invalidations, %lu deferred frees",
		   hotplugs, atomic_long_read(&z->reclaim_calls), st.pages_reclaimed, atomic_long_read(&z->written_back),
		   atomic_long_read(&z->found_invalidated), atomic_long_read(&z->invalidated), st.reclaim_deferred_frees);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&z->null_maps), 0L);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&z->bad_bytes), 0L);
	KUNIT_EXPECT_EQ(test, st.bad_handles, 0UL);
	KUNIT_EXPECT_GT(test, atomic_long_read(&z->written_back), 0L);
	KUNIT_EXPECT_GT(test, atomic_long_read(&z->found_invalidated), 0L);
	KUNIT_EXPECT_EQ(test, st.objs_written_back, (unsigned long)atomic_long_read(&z->written_back));
	KUNIT_EXPECT_EQ(test, st.evict_stale, (unsigned long)atomic_long_read(&z->found_invalidated));
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(z->pool), 0);
	for (i = 0; i < z->nr; i++) {
		struct zs61_entry *e = &z->e[i];
		u8 *p;

		if (!e->live)
			continue;
		left++;
		p = zspp_map_object(z->pool, e->h, ZSPP_MM_RO);
		KUNIT_EXPECT_NOT_NULL(test, p);
		if (p) {
			KUNIT_EXPECT_EQ_MSG(test, check(p + 4, e->size - 4, e->seed), -1L, "entry %u", i);
			zspp_unmap_object(z->pool, e->h);
		}
		zspp_free(z->pool, e->h);
	}
	KUNIT_EXPECT_EQ(test, st.objects, (unsigned long)left);
	zspp_pool_stats(z->pool, &st);
	KUNIT_EXPECT_EQ(test, st.objects, 0UL);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(z->pool), 0);
	zspp_destroy_pool(z->pool);
}

static struct kunit_case zspp_writeback_cases[] = {
	KUNIT_CASE(reclaim_evicts_oldest_zspage_once),
	KUNIT_CASE(reclaim_defers_concurrent_frees),
	KUNIT_CASE(reclaim_failure_keeps_objects),
	KUNIT_CASE(reclaim_under_churn_and_hotplug),
	KUNIT_CASE(writeback_the_zswap_way_with_invalidations),
	{}
};


#ifdef ZSPP_FOLD
/* ------------------------------------------------------------------ */
/* Folding (CONFIG_ZSPP_FOLD)                                          */

static unsigned long folded_objs(struct zspp_pool *pool)
{
	struct zspp_pool_stats st;

	zspp_pool_stats(pool, &st);
	return st.objs_folded;
}

/* A written copy of @seed's bytes with byte @at flipped (@at < 0: none). */
static unsigned long fold_obj(struct kunit *test, struct zspp_pool *pool, size_t size, u32 seed, long at,
			      enum write_api api, u8 *scratch)
{
	unsigned long h;

	KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h), 0);
	if (at < 0) {
		write_obj(pool, h, size, seed, api, scratch);
	} else {
		fill(scratch, size, seed);
		scratch[at] ^= 0x5a;
		KUNIT_EXPECT_EQ(test, zspp_obj_write(pool, h, scratch, size), 0);
	}
	return h;
}

/* Compare @h's bytes with @seed's, byte @at flipped if @at >= 0. */
static bool fold_same(struct zspp_pool *pool, unsigned long h, size_t size, u32 seed, long at, u8 *scratch)
{
	const u8 *p = zspp_obj_read_begin(pool, h, scratch);
	size_t i;
	bool ok = p != NULL;

	for (i = 0; ok && i < size; i++)
		ok = p[i] == (u8)(pattern(seed, i) ^ ((long)i == at ? 0x5a : 0));
	if (p)
		zspp_obj_read_end(pool, h, (void *)p);
	return ok;
}

/*
 * Every class: three copies (each written through another API) and two
 * near-copies (first or last byte differs). The copies fold, the near-copies
 * never do; pages_folded is what the pool gave back; every byte survives.
 */
static void fold_duplicates_every_class(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	unsigned int n = zspp_nr_classes(pool), i, k, classes = 0;
	unsigned long *h = kunit_kcalloc(test, n * 5, sizeof(*h), GFP_KERNEL);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct zspp_pool_stats before, after;
	struct zspp_class_stats cs;
	unsigned long per_class = 0, freed;

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, scratch);
	for (i = 0; i < n; i++) {
		size_t size = ZSPP_MIN_ALLOC_SIZE + i * ZSPP_CLASS_DELTA;

		if (serving(pool, i) != i)
			continue;
		classes++;
		for (k = 0; k < 3; k++)
			h[5 * i + k] = fold_obj(test, pool, size, 900 + i, -1, k, scratch);
		h[5 * i + 3] = fold_obj(test, pool, size, 900 + i, 0, W_OBJ_WRITE, scratch);
		h[5 * i + 4] = fold_obj(test, pool, size, 900 + i, size - 1, W_OBJ_WRITE, scratch);
	}
	zspp_pool_stats(pool, &before);
	freed = zspp_fold(pool);
	zspp_pool_stats(pool, &after);
	KUNIT_EXPECT_EQ(test, after.objs_folded, 2UL * classes);
	KUNIT_EXPECT_EQ(test, after.objects, before.objects);
	KUNIT_EXPECT_EQ(test, after.pages_folded - before.pages_folded, freed);
	KUNIT_EXPECT_EQ(test, before.pages - after.pages, freed);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
	for (i = 0; i < n; i++) {
		size_t size = ZSPP_MIN_ALLOC_SIZE + i * ZSPP_CLASS_DELTA;

		if (zspp_class_stats(pool, i, &cs) == 0)
			per_class += cs.folded;
		if (serving(pool, i) != i)
			continue;
		for (k = 0; k < 3; k++)
			KUNIT_EXPECT_TRUE_MSG(test, fold_same(pool, h[5 * i + k], size, 900 + i, -1, scratch),
					      "class %u copy %u", i, k);
		KUNIT_EXPECT_TRUE(test, fold_same(pool, h[5 * i + 3], size, 900 + i, 0, scratch));
		KUNIT_EXPECT_TRUE(test, fold_same(pool, h[5 * i + 4], size, 900 + i, size - 1, scratch));
		for (k = 0; k < 5; k++)
			zspp_free(pool, h[5 * i + k]);
	}
	KUNIT_EXPECT_EQ(test, per_class, after.objs_folded);
	KUNIT_EXPECT_EQ(test, folded_objs(pool), 0UL);
}

/* Every order of freeing four sharers: the others keep their bytes. */
static void fold_every_free_order(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned int perm, k, j;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	for (perm = 0; perm < 24; perm++) {
		unsigned long h[4];
		unsigned int order[4] = { 0, 1, 2, 3 }, left = perm;
		bool freed[4] = { false };

		/* The perm-th permutation (factorial number system). */
		for (k = 0; k < 4; k++) {
			unsigned int pick = k + left % (4 - k), t = order[pick];

			left /= 4 - k;
			for (j = pick; j > k; j--)
				order[j] = order[j - 1];
			order[k] = t;
		}
		for (k = 0; k < 4; k++)
			h[k] = fold_obj(test, pool, 2500, 77, -1, k % NR_W, scratch);
		zspp_fold(pool);
		KUNIT_ASSERT_EQ(test, folded_objs(pool), 3UL);
		for (k = 0; k < 4; k++) {
			zspp_free(pool, h[order[k]]);
			freed[order[k]] = true;
			KUNIT_EXPECT_EQ(test, folded_objs(pool), k < 3 ? 2UL - k : 0UL);
			for (j = 0; j < 4; j++)
				if (!freed[j])
					KUNIT_EXPECT_TRUE(test, fold_same(pool, h[j], 2500, 77, -1, scratch));
			KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
		}
	}
}

/* A write (every API) to one sharer gives it its own copy. */
static void fold_write_after_fold(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned int api, k;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	for (api = 0; api < NR_W; api++) {
		unsigned long h[3], cow;

		for (k = 0; k < 3; k++)
			h[k] = fold_obj(test, pool, 3000, 55, -1, W_OBJ_WRITE, scratch);
		zspp_fold(pool);
		KUNIT_ASSERT_EQ(test, folded_objs(pool), 2UL);
		zspp_pool_stats(pool, &st);
		cow = st.fold_cow;
		write_obj(pool, h[1], 3000, 56, api, scratch);
		zspp_pool_stats(pool, &st);
		KUNIT_EXPECT_EQ(test, st.fold_cow, cow + 1);
		KUNIT_EXPECT_EQ(test, st.objs_folded, 1UL);
		KUNIT_EXPECT_TRUE(test, fold_same(pool, h[0], 3000, 55, -1, scratch));
		KUNIT_EXPECT_TRUE(test, fold_same(pool, h[1], 3000, 56, -1, scratch));
		KUNIT_EXPECT_TRUE(test, fold_same(pool, h[2], 3000, 55, -1, scratch));
		KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
		for (k = 0; k < 3; k++)
			zspp_free(pool, h[k]);
	}
}

/* Every hash forced equal: the byte compare refuses every different pair. */
static void fold_forced_collision(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	const unsigned int n = 200;
	unsigned long *h = kunit_kcalloc(test, n, sizeof(*h), GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned int k;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	KUNIT_ASSERT_NOT_NULL(test, h);
	zspp_debug_fold_hash_bits(pool, 0);
	for (k = 0; k < n; k++)	/* 150 distinct, 50 near-copies of #0 */
		h[k] = fold_obj(test, pool, 700, k < 150 ? 300 + k : 300, k < 150 ? -1 : (long)k, W_OBJ_WRITE,
				scratch);
	zspp_fold(pool);
	zspp_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.objs_folded, 0UL);
	KUNIT_EXPECT_GT(test, st.fold_collisions, 0UL);
	for (k = 0; k < n; k++) {
		KUNIT_EXPECT_TRUE(test, fold_same(pool, h[k], 700, k < 150 ? 300 + k : 300, k < 150 ? -1 : (long)k,
						  scratch));
		zspp_free(pool, h[k]);
	}
	zspp_debug_fold_hash_bits(pool, 64);
}

/*
 * Compaction and page migration of shared slots: every sharer's handle
 * follows (zspp_debug_validate checks each one's location word).
 */
static void fold_compaction_and_migration(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	const unsigned int n = 1200;
	unsigned long *h = kunit_kcalloc(test, n, sizeof(*h), GFP_KERNEL);
	struct zspp_pool_stats before, after;
	unsigned int k, migrated = 0;

	KUNIT_ASSERT_NOT_NULL(test, scratch);
	KUNIT_ASSERT_NOT_NULL(test, h);
	/* Every 4th object a copy of one of 5 objects, the rest distinct. */
	for (k = 0; k < n; k++)
		h[k] = fold_obj(test, pool, 1100, k % 4 ? 5000 + k : 40 + k % 5, -1, k % NR_W, scratch);
	zspp_fold(pool);
	KUNIT_EXPECT_GT(test, folded_objs(pool), 250UL);
	for (k = 0; k < n; k += 2) {	/* free half of the distinct ones */
		if (k % 4) {
			zspp_free(pool, h[k]);
			h[k] = 0;
		}
	}
	zspp_pool_stats(pool, &before);
	zspp_compact(pool);
	zspp_pool_stats(pool, &after);
	KUNIT_EXPECT_GT(test, after.objs_moved, before.objs_moved);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
#ifdef CONFIG_MIGRATION
	for (k = 0; k < n; k++) {
		struct page *page = h[k] ? zspp_debug_handle_page(pool, h[k]) : NULL;

		if (page && emulate_migration(page) == 0)
			migrated++;
	}
	KUNIT_EXPECT_GT(test, migrated, 0u);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
#endif
	for (k = 0; k < n; k++) {
		if (!h[k])
			continue;
		KUNIT_EXPECT_TRUE_MSG(test, fold_same(pool, h[k], 1100, k % 4 ? 5000 + k : 40 + k % 5, -1, scratch),
				      "object %u", k);
		zspp_free(pool, h[k]);
	}
}

/* Writeback of shared objects: each sharer is evicted once, as zswap does. */
struct fold_wb {
	struct zspp_pool *pool;
	unsigned long h[40];
	unsigned int evicted[40];
	unsigned long bad, unknown;
};

static int fold_wb_evict(void *ctx, unsigned long h)
{
	struct fold_wb *w = ctx;
	unsigned int k;
	u8 *p;

	for (k = 0; k < ARRAY_SIZE(w->h) && w->h[k] != h; k++)
		;
	if (k == ARRAY_SIZE(w->h)) {
		w->unknown++;
		return -EINVAL;
	}
	w->evicted[k]++;
	p = zspp_map_object(w->pool, h, ZSPP_MM_RO);
	if (check(p, 1800, 60 + k % 2) != -1)
		w->bad++;
	zspp_free(w->pool, h);	/* zswap frees inside evict, still mapped */
	zspp_unmap_object(w->pool, h);
	w->h[k] = 0;
	return 0;
}

static void fold_evict_shared(struct kunit *test)
{
	struct fold_wb *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct zspp_pool_stats st;
	unsigned long reclaimed = 0;
	unsigned int k;

	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_NOT_NULL(test, scratch);
	KUNIT_ASSERT_EQ(test, zspp_create_pool_evictable("kunit-fold-wb", 8, fold_wb_evict, w, &w->pool), 0);
	for (k = 0; k < ARRAY_SIZE(w->h); k++)
		w->h[k] = fold_obj(test, w->pool, 1800, 60 + k % 2, -1, k % NR_W, scratch);
	zspp_fold(w->pool);
	KUNIT_EXPECT_EQ(test, folded_objs(w->pool), 38UL);
	KUNIT_EXPECT_EQ(test, zspp_reclaim(w->pool, 1, &reclaimed), 0);
	KUNIT_EXPECT_GT(test, reclaimed, 0UL);
	zspp_pool_stats(w->pool, &st);
	KUNIT_EXPECT_EQ(test, st.objects, 0UL);
	KUNIT_EXPECT_EQ(test, st.pages, 0UL);
	KUNIT_EXPECT_EQ(test, st.objs_folded, 0UL);
	KUNIT_EXPECT_EQ(test, st.reclaim_deferred_frees, 40UL);
	for (k = 0; k < ARRAY_SIZE(w->h); k++)
		KUNIT_EXPECT_EQ_MSG(test, w->evicted[k], 1u, "sharer %u", k);
	KUNIT_EXPECT_EQ(test, w->bad, 0UL);
	KUNIT_EXPECT_EQ(test, w->unknown, 0UL);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(w->pool), 0);
	zspp_destroy_pool(w->pool);
}

/*
 * Fold passes against churn threads writing few distinct contents (so
 * their objects fold while they read, free, compact and migrate), with CPU
 * hotplug; lockdep and KASAN watch.
 */
static void fold_under_churn_and_hotplug(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	unsigned int nthreads = 4, i, hotplugs = 0, passes = 0;
	struct churn_arg *args = kunit_kcalloc(test, nthreads, sizeof(*args), GFP_KERNEL);
	atomic_t stop = ATOMIC_INIT(0);
	unsigned long most = 0;
	bool done;

	KUNIT_ASSERT_NOT_NULL(test, args);
	for (i = 0; i < nthreads; i++) {
		struct task_struct *t;

		args[i] = (struct churn_arg){ .pool = pool, .size = i < 2 ? 1500 : 3000, .ops = 6000,
					      .stop = &stop, .migrate = i % 2, .copies = true };
		init_completion(&args[i].done);
		t = kthread_run(churn_thread, &args[i], "zspp-kunit-fold-%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	do {
		zspp_fold(pool);
		passes++;
		most = max(most, folded_objs(pool));
		hotplugs += wait_churn(test, args, 0, true); /* one CPU 1 off/on cycle */
		done = true;
		for (i = 0; i < nthreads; i++)
			done &= completion_done(&args[i].done);
	} while (!done);
	for (i = 0; i < nthreads; i++)
		KUNIT_EXPECT_EQ_MSG(test, args[i].errors, 0L, "thread %u", i);
	KUNIT_EXPECT_GT(test, most, 0UL);
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
	kunit_info(test, "%u fold passes, at most %lu objects folded, %u hotplug cycles", passes, most, hotplugs);
}

static struct kunit_case zspp_fold_cases[] = {
	KUNIT_CASE(fold_duplicates_every_class),
	KUNIT_CASE(fold_every_free_order),
	KUNIT_CASE(fold_write_after_fold),
	KUNIT_CASE(fold_forced_collision),
	KUNIT_CASE(fold_compaction_and_migration),
	KUNIT_CASE(fold_evict_shared),
	KUNIT_CASE(fold_under_churn_and_hotplug),
	{}
};
#endif /* ZSPP_FOLD */

static struct kunit_suite zspp_class_suite = {
	.name = "zspp_size_classes", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_class_cases,
};
static struct kunit_suite zspp_data_suite = {
	.name = "zspp_data", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_data_cases,
};
static struct kunit_suite zspp_handle_suite = {
	.name = "zspp_handles", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_handle_cases,
};
static struct kunit_suite zspp_error_suite = {
	.name = "zspp_errors", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_error_cases,
};
static struct kunit_suite zspp_compaction_suite = {
	.name = "zspp_compaction", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_compaction_cases,
};
static struct kunit_suite zspp_concurrency_suite = {
	.name = "zspp_concurrency", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_concurrency_cases,
};

static struct kunit_suite zspp_writeback_suite = {
	.name = "zspp_writeback", .init = wb_init, .exit = wb_exit,
	.test_cases = zspp_writeback_cases,
};

#ifdef ZSPP_FOLD
static struct kunit_suite zspp_fold_suite = {
	.name = "zspp_fold", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_fold_cases,
};

kunit_test_suites(&zspp_class_suite, &zspp_data_suite, &zspp_handle_suite,
		  &zspp_error_suite, &zspp_compaction_suite, &zspp_concurrency_suite,
		  &zspp_writeback_suite, &zspp_fold_suite);
#else
kunit_test_suites(&zspp_class_suite, &zspp_data_suite, &zspp_handle_suite,
		  &zspp_error_suite, &zspp_compaction_suite, &zspp_concurrency_suite,
		  &zspp_writeback_suite);
#endif

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for zspp");
