// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of include/zspp/shim.h: thin wrappers the C++ core calls
 * instead of kernel headers (the Rust-for-Linux "helpers" idea), plus the
 * bounce areas for objects that span two pages.
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
#ifdef ZSPP_FOLD
#include <linux/xxhash.h>
#endif

#include <zspp/shim.h>
#include "internal.h"

static_assert(ZSPP_PAGE_SIZE == PAGE_SIZE && ZSPP_PAGE_SHIFT == PAGE_SHIFT);
static_assert(ZSPP_EAGAIN == EAGAIN && ZSPP_ENOMEM == ENOMEM && ZSPP_EBUSY == EBUSY &&
	      ZSPP_EINVAL == EINVAL && ZSPP_ENOSPC == ENOSPC);
static_assert(sizeof(zspp_gfp_t) == sizeof(gfp_t));
/* Pool pages are used through page_address() across sleeps: no highmem. */
static_assert(!IS_ENABLED(CONFIG_HIGHMEM));

const zspp_gfp_t zspp_gfp_kernel = (__force zspp_gfp_t)GFP_KERNEL;
const zspp_gfp_t zspp_gfp_noio = (__force zspp_gfp_t)(GFP_NOIO | __GFP_NOWARN);
const zspp_gfp_t zspp_gfp_nowait = (__force zspp_gfp_t)(GFP_NOWAIT | __GFP_NOWARN);

#ifdef ZSPP_FOLD
unsigned long long zspp_xxh64(const void *a, size_t alen, const void *b, size_t blen)
{
	struct xxh64_state st;

	if (!blen)
		return xxh64(a, alen, 0);
	xxh64_reset(&st, 0);
	xxh64_update(&st, a, alen);
	xxh64_update(&st, b, blen);
	return xxh64_digest(&st);
}

void *zspp_kvmalloc(size_t size)
{
	return kvmalloc(size, GFP_KERNEL);
}

void zspp_kvfree(void *ptr)
{
	kvfree(ptr);
}
#endif

/* Slab memory cannot be highmem or movable (GFP_SLAB_BUG_MASK). */
static inline gfp_t slab_gfp(zspp_gfp_t gfp)
{
	return (__force gfp_t)gfp & ~(__GFP_HIGHMEM | __GFP_MOVABLE);
}

void *zspp_kmalloc(size_t size, zspp_gfp_t gfp)
{
	return kmalloc(size, slab_gfp(gfp));
}

void zspp_kfree(const void *ptr)
{
	kfree(ptr);
}

size_t zspp_kmalloc_size(size_t size)
{
	return kmalloc_size_roundup(size);
}

struct zspp_cache *zspp_cache_create(const char *name, unsigned int size)
{
	return (struct zspp_cache *)kmem_cache_create(name, size, 0, 0, NULL);
}

void zspp_cache_destroy(struct zspp_cache *cache)
{
	kmem_cache_destroy((struct kmem_cache *)cache);
}

void *zspp_cache_alloc(struct zspp_cache *cache, zspp_gfp_t gfp)
{
	return kmem_cache_alloc((struct kmem_cache *)cache, slab_gfp(gfp));
}

void zspp_cache_free(struct zspp_cache *cache, void *obj)
{
	kmem_cache_free((struct kmem_cache *)cache, obj);
}

static inline struct page *to_page(struct zspp_page *p)
{
	return (struct page *)p;
}

struct zspp_page *zspp_page_alloc(zspp_gfp_t gfp)
{
	gfp_t flags = (__force gfp_t)gfp;

	/* A __GFP_MOVABLE page that cannot move would pin its pageblock. */
	if (!IS_ENABLED(CONFIG_MIGRATION))
		flags &= ~__GFP_MOVABLE;
	return (struct zspp_page *)alloc_page(flags);
}

void zspp_page_free(struct zspp_page *page)
{
	__free_page(to_page(page));
}

void *zspp_page_address(struct zspp_page *page)
{
	return page_address(to_page(page));
}

unsigned long zspp_page_pfn(struct zspp_page *page)
{
	return page_to_pfn(to_page(page));
}

struct zspp_page *zspp_virt_to_page(const void *addr)
{
	return (struct zspp_page *)virt_to_page(addr);
}

void zspp_page_set_owner(struct zspp_page *page, void *owner)
{
	set_page_private(to_page(page), (unsigned long)owner);
	SetPagePrivate(to_page(page));
}

void zspp_page_clear_owner(struct zspp_page *page)
{
	ClearPagePrivate(to_page(page));
	set_page_private(to_page(page), 0);
}

void *zspp_pfn_owner(unsigned long pfn)
{
	struct page *page;

	if (!pfn_valid(pfn))
		return NULL;
	page = pfn_to_page(pfn);
	if (!PagePrivate(page))
		return NULL;
	return (void *)page_private(page);
}

struct zspp_spinlock *zspp_spin_alloc(void)
{
	spinlock_t *lock = kmalloc(sizeof(*lock), GFP_KERNEL);

	if (lock)
		spin_lock_init(lock);	/* one lockdep class: "class->lock" */
	return (struct zspp_spinlock *)lock;
}

void zspp_spin_free(struct zspp_spinlock *lock)
{
	kfree(lock);
}

#ifdef ZSPP_DIRECT_SPINLOCK
/*
 * The C++ core calls _raw_spin_lock()/_raw_spin_unlock() on a zspp_spinlock
 * itself (include/zspp/shim.h): right only where spin_lock()/spin_unlock()
 * are exactly those calls on the raw lock at the start of the spinlock_t.
 */
#if defined(CONFIG_PREEMPT_RT) || defined(CONFIG_INLINE_SPIN_LOCK) || !defined(CONFIG_UNINLINE_SPIN_UNLOCK)
#error "ZSPP_DIRECT_SPINLOCK: spin_lock()/spin_unlock() are not _raw_spin_lock()/_raw_spin_unlock() here"
#endif
static_assert(offsetof(spinlock_t, rlock) == 0);
#endif

void zspp_spin_lock(struct zspp_spinlock *lock)
{
	spin_lock((spinlock_t *)lock);
}

void zspp_spin_unlock(struct zspp_spinlock *lock)
{
	spin_unlock((spinlock_t *)lock);
}

void zspp_cond_resched(void)
{
	cond_resched();
}

const void *zspp_current_task(void)
{
	return current;
}

void zspp_warn_bad_handle(const char *what, unsigned long handle)
{
	WARN_ONCE(1, "zspp: bad handle %#lx (%s)\n", handle, what);
}

void zspp_log_err(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("%pV", &vaf);
	va_end(args);
}

void zspp_log_info(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_info("%pV", &vaf);
	va_end(args);
}

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
