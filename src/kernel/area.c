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
 * every CPU's), with preemption off, which is an RCU read-side section
 * ("under RCU" below), and put() finds the area from its buffer (the buffer
 * page's private field) and releases it with one atomic. end() is find()
 * and, for a read-only map, put() in one call: the unmap of a spanning
 * object that was only read needs nothing else from the area. Only spares,
 * and per-CPU areas whose CPU died (orphans), are on area_busy, under
 * area_lock.
 *
 * The protocol
 * ------------
 * - A per-CPU area's state word: AREA_BUSY while a task holds it, AREA_ORPHAN
 *   once its CPU died. get() sets BUSY (cmpxchg 0 -> BUSY), put() clears it
 *   (fetch_andnot), zspp_cpu_dead() sets ORPHAN (fetch_or). Both bits set
 *   means: held, and its CPU is gone. These RMWs are fully ordered and act on
 *   one word, so of put() and cpu_dead() exactly one sees the other's bit:
 *   that one unlists and frees the area. Freeing goes through call_rcu(),
 *   because a find() of another task may have loaded the pointer and be
 *   reading @owner.
 * - @owner is written only by the task that holds the area and cleared
 *   (before the release) by that task's put(): a find() that reads
 *   @owner == current owns the area, and only then reads @tag.
 * - The per-CPU pointer is written only by prepare() and cpu_dead(), which
 *   the hotplug core serialises. prepare() publishes a fully initialised
 *   area with a release store (find() reads it with READ_ONCE: an address
 *   dependency).
 * - cpu_dead(@cpu) runs after @cpu has gone, in the hotplug control task on
 *   another CPU, in this order: (1) list the area on area_busy under
 *   area_lock, (2) clear the per-CPU pointer, (3) set ORPHAN; if BUSY was
 *   clear, unlist and free.
 *
 * Why each interleaving is right
 * ------------------------------
 * get() vs cpu_dead(): get() reads and claims the local area with
 * preemption off, so @cpu cannot finish going down meanwhile; a task that
 * claimed @cpu's area did so before @cpu died, and cpu_dead() (which runs
 * after the hotplug core has synchronised with the dead CPU) sees BUSY.
 * After the death no task runs on @cpu, so no get() reads its pointer; get()
 * never looks at another CPU's area. area_claim() may run after cpu_dead()
 * (the holder was preempted between the cmpxchg and the claim): it writes
 * only fields cpu_dead() does not read, and find() reads @tag only once
 * @owner is current.
 *
 * find() by the holder T (on another CPU: @cpu is dead) vs cpu_dead():
 *  - before (2): the per-CPU pointer still names the area; the RCU scan of
 *    every possible CPU finds it.
 *  - after (2): the scan misses, and find() takes area_lock. Its scan read
 *    the cleared pointer, which cpu_dead() wrote after releasing area_lock
 *    in (1); had find()'s critical section come first, its read of the
 *    pointer would have happened before that release and so before the
 *    clear. So area_busy already holds the area, and only T's own put()
 *    can take it off. This is why (1) comes before (2): the other order
 *    opens a window in which the area is in neither place, and an unmap
 *    there warns about a bad handle, drops a write map's bytes, leaves the
 *    zspage pinned and leaks the area.
 * find() by any other task: @owner is never its own, whichever copy of the
 * pointer it reads; a freed area is still valid memory until its grace
 * period ends, as find() reads it with preemption off.
 *
 * put() by T vs cpu_dead():
 *  - put() before (3): fetch_andnot sees no ORPHAN and returns, leaving the
 *    area where it is (listed or not); (3) then sees BUSY clear and cpu_dead()
 *    unlists (listed in (1)) and frees it.
 *  - put() after (3): fetch_andnot sees ORPHAN, so cpu_dead() saw BUSY and
 *    left it; put() unlists (the list_add of (1) is ordered before (3),
 *    which put()'s RMW read) and frees it.
 *  Either way, once. An idle per-CPU area (no holder) is freed by cpu_dead()
 *  itself; on area_busy between (1) and its unlisting, its NULL @owner
 *  matches no find().
 *
 * prepare() after cpu_dead() (the CPU comes back): the pointer is NULL, so a
 * new area is allocated. An orphan still held stays on area_busy until its
 * holder puts it: the holder's find() may see the new area first in its
 * scan, but the new area's @owner is not the holder, so find() goes on to
 * area_busy; a get() on the new CPU claims the new area.
 *
 * Spares move between area_spare and area_busy under area_lock only, are
 * found only under it and never reach a per-CPU pointer, so they are freed
 * at once. areas_exit() (no area may be held then) removes the cpuhp state,
 * which runs cpu_dead() for every online CPU and so frees each idle per-CPU
 * area, then frees the spares and waits for the RCU callbacks
 * (rcu_barrier()) before the module text goes.
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
static atomic_long_t area_live = ATOMIC_LONG_INIT(0);
/* Test hook (zspp_debug_set_cpu_dead_hook): runs inside cpu_dead's window. */
static void (*cpu_dead_hook)(unsigned int cpu);

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
	atomic_long_inc(&area_live);
	return a;
}

static void area_free_now(struct zspp_area *a)
{
	set_page_private(virt_to_page(a->buf), 0);
	free_page((unsigned long)a->buf);
	kfree(a);
	atomic_long_dec(&area_live);
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

/*
 * @a (a per-CPU area under RCU, a listed one under area_lock, or NULL):
 * ours for @tag? @owner first: @tag is ours to read only if the area is.
 */
static bool area_mine(struct zspp_area *a, unsigned long tag)
{
	return a && READ_ONCE(a->owner) == current && a->tag == tag;
}

/*
 * The area this task got for @tag, or NULL. Once area_mine() has said so it
 * stays ours (BUSY is ours to clear, and only our release frees it), so it
 * is used after the lockless section ends.
 */
static struct zspp_area *area_lookup(unsigned long tag)
{
	struct zspp_area *a, *found = NULL;
	int cpu;

	/*
	 * Preemption off is an RCU read-side section (call_rcu() waits for
	 * it, since RCU's flavours were consolidated in 4.20), and on a
	 * PREEMPT_RCU kernel (Debian's: PREEMPT_DYNAMIC) two calls cheaper than
	 * rcu_read_lock()/unlock(): this is once per unmap of a spanning
	 * object.
	 */
	preempt_disable();
	a = this_cpu_read(zspp_cpu_area);
	if (!area_mine(a, tag)) {
		/* Moved to another CPU while mapped: rare, and still no lock. */
		for_each_possible_cpu(cpu) {
			a = READ_ONCE(per_cpu(zspp_cpu_area, cpu));
			if (area_mine(a, tag))
				break;
			a = NULL;
		}
	}
	preempt_enable();
	if (a)
		return a;

	/* A spare, or a per-CPU area whose CPU died while it was held. */
	spin_lock(&area_lock);
	list_for_each_entry(a, &area_busy, node) {
		if (area_mine(a, tag)) {
			found = a;
			break;
		}
	}
	spin_unlock(&area_lock);
	return found;
}

/* Give back @a, which the calling task holds. */
static void area_release(struct zspp_area *a)
{
	bool free_it = false;

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

void *zspp_area_find(unsigned long tag, int *mode)
{
	struct zspp_area *a = area_lookup(tag);

	if (!a)
		return NULL;
	*mode = a->mode;
	return a->buf;
}

void *zspp_area_end(unsigned long tag, int *mode)
{
	struct zspp_area *a = area_lookup(tag);
	void *buf;

	if (!a)
		return NULL;
	*mode = a->mode;
	buf = a->buf;
	if (a->mode == ZSPP_MM_RO)
		area_release(a);
	return buf;
}

void zspp_area_put(void *buf)
{
	struct zspp_area *a = (struct zspp_area *)page_private(virt_to_page(buf));

	if (WARN_ON_ONCE(!a || a->buf != buf || a->owner != current))
		return;
	area_release(a);
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
	/* Publish it initialised: another CPU's find() may scan it at once. */
	smp_store_release(per_cpu_ptr(&zspp_cpu_area, cpu), a);
	return 0;
}

/* The order of the steps is the protocol's (top of this file). */
static int zspp_cpu_dead(unsigned int cpu)
{
	struct zspp_area *a = per_cpu(zspp_cpu_area, cpu);
	void (*hook)(unsigned int cpu);

	if (!a)
		return 0;
	/*
	 * (1) List it first: a task that mapped on @cpu and has moved may still
	 * hold the area, and its find() must see it somewhere at every moment.
	 */
	spin_lock(&area_lock);
	list_add(&a->node, &area_busy);
	spin_unlock(&area_lock);
	/*
	 * (2) Only then unhook it. No get() can reach it any more (nothing runs
	 * on @cpu); prepare() allocates a new one if @cpu comes back.
	 */
	WRITE_ONCE(*per_cpu_ptr(&zspp_cpu_area, cpu), NULL);
	/*
	 * Where an unmap by a task that has moved must still find the area
	 * (KUnit unmaps from here): process context, area_lock not held.
	 */
	hook = READ_ONCE(cpu_dead_hook);
	if (hook)
		hook(cpu);
	/* (3) The handshake: whoever of put() and us sees the other's bit frees. */
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

long zspp_debug_areas(void)
{
	return atomic_long_read(&area_live);
}

void zspp_debug_set_cpu_dead_hook(void (*fn)(unsigned int cpu))
{
	WRITE_ONCE(cpu_dead_hook, fn);
}
