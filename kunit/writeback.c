// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_writeback: zspp_reclaim through an evict callback that plays
 * zswap_writeback_entry, and 6.1 zswap's own pattern with invalidations.
 */
#include "helpers.h"

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

struct kunit_suite zspp_writeback_suite = {
	.name = "zspp_writeback", .init = wb_init, .exit = wb_exit,
	.test_cases = zspp_writeback_cases,
};
