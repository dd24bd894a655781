// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of include/zspp/shim.h: thin wrappers the C++ core calls
 * instead of kernel headers (the Rust-for-Linux "helpers" idea). The bounce
 * areas for objects that span two pages are in area.c.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/sched.h>
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

/*
 * One lockdep class per kind of lock (not per call site: every lock comes
 * from here), so a report names the lock and the order is checked per kind.
 */
static struct lock_class_key zspp_lock_keys[ZSPP_LOCK_KINDS];
static const char *const zspp_lock_names[ZSPP_LOCK_KINDS] = {
	[ZSPP_LOCK_CLASS] = "zspp_class->lock",
	[ZSPP_LOCK_DEFER] = "zspp_pool->defer_lock",
};

struct zspp_spinlock *zspp_spin_alloc(enum zspp_lock_kind kind)
{
	spinlock_t *lock;

	if (WARN_ON_ONCE((unsigned int)kind >= ZSPP_LOCK_KINDS))
		return NULL;
	lock = kmalloc(sizeof(*lock), GFP_KERNEL);
	if (lock) {
		spin_lock_init(lock);
		lockdep_set_class_and_name(lock, &zspp_lock_keys[kind], zspp_lock_names[kind]);
	}
	return (struct zspp_spinlock *)lock;
}

#ifdef ZSPP_LOCKDEP
void zspp_lockdep_assert_held(struct zspp_spinlock *lock)
{
	lockdep_assert_held((spinlock_t *)lock);
}
#endif

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
