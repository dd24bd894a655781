// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_fold (CONFIG_ZSPP_FOLD; built only then): identical objects stored
 * once, and every way a shared object is freed, written, compacted,
 * migrated, evicted and churned.
 */
#include "helpers.h"

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

struct kunit_suite zspp_fold_suite = {
	.name = "zspp_fold", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_fold_cases,
};
