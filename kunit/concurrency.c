// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_concurrency: sleeping while mapped, maps that move across CPUs (and
 * an unmap while the mapping CPU goes down), and churn threads under CPU
 * hotplug and injected allocation failures.
 */
#include "helpers.h"

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
 * An unmap while the mapping CPU is going down (issue 28, bug 3): a kthread
 * maps a spanning object for writing on CPU 1 (taking CPU 1's bounce area),
 * writes a pattern and moves to CPU 0; the test takes CPU 1 offline, and
 * from inside zspp's CPU-dead callback, once the area is no longer reachable
 * through CPU 1's pointer, the kthread unmaps. The unmap must find the area:
 * the pattern is copied back, no bad handle is reported, the zspage's pin is
 * dropped (migration can move its page again) and the area is freed once.
 */
struct dying_unmap {
	struct zspp_pool *pool;
	unsigned long h;
	size_t size;
	u32 seed;
	int err;
	unsigned int map_cpu;
	bool mapped_it, spanning, hook_ran, timed_out;
	struct completion mapped, go, unmapped;
};

static struct dying_unmap *dying;

static int dying_mapper(void *data)
{
	struct dying_unmap *d = data;
	u8 *p;

	d->err = set_cpus_allowed_ptr(current, cpumask_of(1));
	if (!d->err) {
		p = zspp_map_object(d->pool, d->h, ZSPP_MM_RW);
		d->mapped_it = true;
		d->map_cpu = raw_smp_processor_id();
		d->spanning = virt_to_page(p) != zspp_debug_handle_page(d->pool, d->h);
		fill(p, d->size, d->seed);
		d->err = set_cpus_allowed_ptr(current, cpumask_of(0));
	}
	complete(&d->mapped);
	wait_for_completion(&d->go);
	if (d->mapped_it)
		zspp_unmap_object(d->pool, d->h);
	complete(&d->unmapped);
	return 0;
}

static void unmap_from_cpu_dead(unsigned int cpu)
{
	struct dying_unmap *d = READ_ONCE(dying);

	if (!d || cpu != 1)
		return;
	d->hook_ran = true;
	complete(&d->go);
	if (!wait_for_completion_timeout(&d->unmapped, 60 * HZ))
		d->timed_out = true;
}

static void unmap_while_mapping_cpu_goes_down(struct kunit *test)
{
	struct zspp_pool *pool = fixture_pool(test);
	struct dying_unmap *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	u8 *scratch = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	const size_t size = 3000;	/* the second slot of each zspage spans */
	struct zspp_pool_stats st;
	struct task_struct *t;
	unsigned long h[4];
	long areas;
	unsigned int k;
	int down;
	u8 *p;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU))
		kunit_skip(test, "needs CONFIG_HOTPLUG_CPU");
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_ASSERT_NOT_NULL(test, scratch);
	KUNIT_ASSERT_GE_MSG(test, num_online_cpus(), 2u, "the test kernel must see 2 CPUs");
	KUNIT_ASSERT_TRUE(test, cpu_online(0) && cpu_online(1));
	/* A spanning object: its map is a bounce area, not its page. */
	d->h = 0;
	for (k = 0; k < ARRAY_SIZE(h); k++) {
		KUNIT_ASSERT_EQ(test, zspp_malloc(pool, size, GFP_KERNEL, &h[k]), 0);
		write_obj(pool, h[k], size, 900 + k, W_OBJ_WRITE, scratch);
		p = zspp_map_object(pool, h[k], ZSPP_MM_RO);
		if (!d->h && virt_to_page(p) != zspp_debug_handle_page(pool, h[k]))
			d->h = h[k];
		zspp_unmap_object(pool, h[k]);
	}
	KUNIT_ASSERT_NE_MSG(test, d->h, 0UL, "no object of %zu bytes spans pages", size);
	d->pool = pool;
	d->size = size;
	d->seed = 950;
	init_completion(&d->mapped);
	init_completion(&d->go);
	init_completion(&d->unmapped);
	rcu_barrier();
	areas = zspp_debug_areas();

	t = kthread_run(dying_mapper, d, "zspp-kunit-dying");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wait_for_completion(&d->mapped);
	if (d->err || d->map_cpu != 1 || !d->spanning) {
		complete(&d->go);
		wait_for_completion(&d->unmapped);
		KUNIT_FAIL(test, "the kthread mapped on CPU %u (err %d, spanning %d): wanted a bounce area of CPU 1",
			   d->map_cpu, d->err, d->spanning);
		goto out;
	}

	WRITE_ONCE(dying, d);
	zspp_debug_set_cpu_dead_hook(unmap_from_cpu_dead);
	down = remove_cpu(1);
	zspp_debug_set_cpu_dead_hook(NULL);
	WRITE_ONCE(dying, NULL);
	if (!d->hook_ran) {
		complete(&d->go);
		wait_for_completion(&d->unmapped);
	}
	KUNIT_EXPECT_EQ(test, down, 0);
	KUNIT_EXPECT_TRUE_MSG(test, d->hook_ran, "the unmap did not run inside CPU 1's teardown");
	KUNIT_EXPECT_FALSE(test, d->timed_out);
	/* CPU 1's area is gone (after its grace period), and only it. */
	rcu_barrier();
	KUNIT_EXPECT_EQ_MSG(test, zspp_debug_areas(), areas - 1, "CPU 1's bounce area leaked");
	if (!down)
		KUNIT_EXPECT_EQ(test, add_cpu(1), 0);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, zspp_debug_areas(), areas);

	/* The write made through the map reached the object. */
	KUNIT_EXPECT_EQ_MSG(test, read_obj(pool, d->h, size, d->seed, R_READ_BEGIN, scratch), -1L,
			    "the write map's bytes were lost");
	zspp_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.bad_handles, 0UL);
#ifdef CONFIG_MIGRATION
	/* Unpinned: its page can move again (a mapped zspage's cannot). */
	KUNIT_EXPECT_EQ_MSG(test, emulate_migration(zspp_debug_handle_page(pool, d->h)), 0,
			    "the zspage is still pinned");
	KUNIT_EXPECT_EQ(test, read_obj(pool, d->h, size, d->seed, R_READ_BEGIN, scratch), -1L);
#endif
	KUNIT_EXPECT_EQ(test, zspp_debug_validate(pool), 0);
out:
	for (k = 0; k < ARRAY_SIZE(h); k++)
		zspp_free(pool, h[k]);
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

static struct kunit_case zspp_concurrency_cases[] = {
	KUNIT_CASE(sleep_while_mapped),
	KUNIT_CASE(map_then_move_cpus),
	KUNIT_CASE(unmap_while_mapping_cpu_goes_down),
	KUNIT_CASE(concurrent_churn_with_hotplug),
	KUNIT_CASE(churn_under_faults),
	{}
};

struct kunit_suite zspp_concurrency_suite = {
	.name = "zspp_concurrency", .init = pool_init, .exit = pool_exit,
	.test_cases = zspp_concurrency_cases,
};
