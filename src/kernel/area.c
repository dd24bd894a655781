// SPDX-License-Identifier: GPL-2.0
/*
 * The bounce areas of include/zspp/shim.h (zspp_area_get/find/put) and
 * their CPU-hotplug state.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/percpu.h>
#include <linux/cpuhotplug.h>
#include <linux/sched.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/atomic.h>
#include <linux/bug.h>

#include <zspp/shim.h>
#include "internal.h"

/*
 * Bounce areas (Documentation/locking.rst, "Mapping areas").
 *
 * A map of an object that spans two pages needs a linear buffer that the
 * caller may hold while sleeping. Each CPU has one (allocated by a dynamic
 * cpuhp PREPARE state); when it is busy, a spare from a small global list is
 * used, and when none is left a new one is allocated. get() never waits for
 * another task's area, so holding an area creates no lock order with the
 * caller's own locks (6.1 zswap maps under its acomp mutex on store and
 * takes that mutex while mapped on load).
 *
 * The per-CPU area is the fast path of every spanning map, so it takes no
 * lock: get() claims it with a cmpxchg of its state, find() looks at the
 * local CPU's area first (then, for a task that moved CPUs while mapped, at
 * every CPU's, under RCU), and put() finds the area from its buffer (the
 * buffer page's private field) and releases it with one atomic. Only spares,
 * and per-CPU areas whose CPU died while they were held (orphans), are on
 * area_busy, under area_lock.
 *
 * A per-CPU area's state word: AREA_BUSY while owned, AREA_ORPHAN once its
 * CPU went offline. Whoever sees the other bit frees it (after an RCU grace
 * period: find() may be reading it). @owner is written only by the task that
 * holds the area, and cleared before the area is released, so a task that
 * reads @owner == current owns the area.
 */
#define AREA_BUSY	1
#define AREA_ORPHAN	2

struct zspp_area {
	struct list_head node;		/* area_busy or area_spare, under area_lock */
	unsigned long tag;		/* the handle mapped */
	struct task_struct *owner;	/* NULL while idle */
	int mode;
	bool percpu;
	atomic_t state;			/* per-CPU areas only */
	void *buf;			/* PAGE_SIZE; its page's private -> this */
	struct rcu_head rcu;
};

static DEFINE_PER_CPU(struct zspp_area *, zspp_cpu_area);
static DEFINE_SPINLOCK(area_lock);
static LIST_HEAD(area_busy);
static LIST_HEAD(area_spare);
static unsigned int area_nr_spare;
static enum cpuhp_state area_hp_state;
static atomic_long_t area_allocs = ATOMIC_LONG_INIT(0);

static struct zspp_area *area_alloc(gfp_t gfp)
{
	struct zspp_area *a = kzalloc(sizeof(*a), gfp);

	if (!a)
		return NULL;
	a->buf = (void *)__get_free_page(gfp);
	if (!a->buf) {
		kfree(a);
		return NULL;
	}
	set_page_private(virt_to_page(a->buf), (unsigned long)a);
	INIT_LIST_HEAD(&a->node);
	atomic_long_inc(&area_allocs);
	return a;
}

static void area_free_now(struct zspp_area *a)
{
	set_page_private(virt_to_page(a->buf), 0);
	free_page((unsigned long)a->buf);
	kfree(a);
}

static void area_free_rcu(struct rcu_head *head)
{
	area_free_now(container_of(head, struct zspp_area, rcu));
}

/* Per-CPU areas may be under find()'s eyes until a grace period passes. */
static void area_free(struct zspp_area *a)
{
	if (a->percpu)
		call_rcu(&a->rcu, area_free_rcu);
	else
		area_free_now(a);
}

static void area_claim(struct zspp_area *a, unsigned long tag, int mode)
{
	a->tag = tag;
	a->mode = mode;
	WRITE_ONCE(a->owner, current);
}

void *zspp_area_get(unsigned long tag, int mode)
{
	struct zspp_area *a;

	might_sleep();
	preempt_disable();	/* this CPU's area cannot go away under us */
	a = this_cpu_read(zspp_cpu_area);
	if (a && atomic_cmpxchg(&a->state, 0, AREA_BUSY) != 0)
		a = NULL;
	preempt_enable();
	if (a) {
		area_claim(a, tag, mode);
		return a->buf;
	}

	spin_lock(&area_lock);
	a = list_first_entry_or_null(&area_spare, struct zspp_area, node);
	if (a) {
		list_del_init(&a->node);
		area_nr_spare--;
	}
	spin_unlock(&area_lock);
	if (!a)
		a = area_alloc(GFP_NOWAIT | __GFP_NOWARN);
	if (!a) {
		/* NOIO: reclaim cannot recurse into swap (and so into zswap). */
		a = area_alloc(GFP_NOIO | __GFP_NOFAIL);
	}
	area_claim(a, tag, mode);
	spin_lock(&area_lock);
	list_add(&a->node, &area_busy);
	spin_unlock(&area_lock);
	return a->buf;
}

/* RCU read side: @a is a per-CPU area (or NULL); ours for @tag? */
static bool area_mine(struct zspp_area *a, unsigned long tag)
{
	return a && READ_ONCE(a->owner) == current && a->tag == tag;
}

void *zspp_area_find(unsigned long tag, int *mode)
{
	struct zspp_area *a;
	void *buf = NULL;
	int cpu;

	rcu_read_lock();
	a = raw_cpu_read(zspp_cpu_area);
	if (!area_mine(a, tag)) {
		/* Moved to another CPU while mapped: rare, and still no lock. */
		for_each_possible_cpu(cpu) {
			a = READ_ONCE(per_cpu(zspp_cpu_area, cpu));
			if (area_mine(a, tag))
				break;
			a = NULL;
		}
	}
	if (a) {
		*mode = a->mode;
		buf = a->buf;
	}
	rcu_read_unlock();
	if (buf)
		return buf;

	/* A spare, or a per-CPU area whose CPU died while it was held. */
	spin_lock(&area_lock);
	list_for_each_entry(a, &area_busy, node) {
		if (a->tag == tag && a->owner == current) {
			*mode = a->mode;
			buf = a->buf;
			break;
		}
	}
	spin_unlock(&area_lock);
	return buf;
}

void zspp_area_put(void *buf)
{
	struct zspp_area *a = (struct zspp_area *)page_private(virt_to_page(buf));
	bool free_it = false;

	if (WARN_ON_ONCE(!a || a->buf != buf || a->owner != current))
		return;
	WRITE_ONCE(a->owner, NULL);
	if (a->percpu) {
		/* Full barrier: owner is clear before anyone can claim it. */
		if (!(atomic_fetch_andnot(AREA_BUSY, &a->state) & AREA_ORPHAN))
			return;
		spin_lock(&area_lock);
		list_del_init(&a->node);	/* zspp_cpu_dead listed it */
		spin_unlock(&area_lock);
		area_free(a);
		return;
	}
	spin_lock(&area_lock);
	list_del_init(&a->node);
	if (area_nr_spare < num_possible_cpus()) {
		list_add(&a->node, &area_spare);
		area_nr_spare++;
	} else {
		free_it = true;
	}
	spin_unlock(&area_lock);
	if (free_it)
		area_free(a);
}

static int zspp_cpu_prepare(unsigned int cpu)
{
	struct zspp_area *a;

	if (per_cpu(zspp_cpu_area, cpu))
		return 0;
	a = area_alloc(GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->percpu = true;
	atomic_set(&a->state, 0);
	per_cpu(zspp_cpu_area, cpu) = a;
	return 0;
}

static int zspp_cpu_dead(unsigned int cpu)
{
	struct zspp_area *a = xchg(per_cpu_ptr(&zspp_cpu_area, cpu), NULL);

	if (!a)
		return 0;
	/*
	 * A task that mapped on @cpu may still hold the area: list it first,
	 * so that the holder's find() still sees it and its put(), seeing
	 * ORPHAN, can unlist and free it.
	 */
	spin_lock(&area_lock);
	list_add(&a->node, &area_busy);
	spin_unlock(&area_lock);
	if (!(atomic_fetch_or(AREA_ORPHAN, &a->state) & AREA_BUSY)) {
		spin_lock(&area_lock);
		list_del_init(&a->node);
		spin_unlock(&area_lock);
		area_free(a);
	}
	return 0;
}

int zspp_areas_init(void)
{
	int ret = cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, "mm/zspp:prepare",
				    zspp_cpu_prepare, zspp_cpu_dead);

	if (ret < 0)
		return ret;
	area_hp_state = ret;
	return 0;
}

void zspp_areas_exit(void)
{
	struct zspp_area *a, *tmp;

	cpuhp_remove_state(area_hp_state);
	WARN_ON(!list_empty(&area_busy));
	list_for_each_entry_safe(a, tmp, &area_spare, node)
		area_free(a);
	INIT_LIST_HEAD(&area_spare);
	area_nr_spare = 0;
	/* The per-CPU areas go after a grace period: before the module text. */
	rcu_barrier();
}

long zspp_areas_allocated(void)
{
	return atomic_long_read(&area_allocs);
}
