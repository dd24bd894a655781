/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only door from the C++ core (src/core/) to the kernel.
 *
 * Implemented by src/kernel/shim_*.c (one file per section below) and area.c
 * in the module and by tests/host/fake_shim.cpp
 * in userspace. Plain C, opaque types, no kernel header: the core never sees
 * a struct page or a spinlock_t. Each declaration says whether it may sleep.
 * Version differences between kernels live behind this line, never above it.
 */
#ifndef ZSPP_SHIM_H
#define ZSPP_SHIM_H

#if !defined(__KERNEL__) && !defined(__cplusplus)
#include <stdbool.h>
#endif

#include "zspp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x86-64 only (the shim BUILD_BUG_ONs these against the kernel's values). */
#define ZSPP_PAGE_SHIFT 12
#define ZSPP_PAGE_SIZE (1ul << ZSPP_PAGE_SHIFT)

/* Linux errno values the core returns (negated). */
#define ZSPP_EAGAIN 11
#define ZSPP_ENOMEM 12
#define ZSPP_EBUSY 16
#define ZSPP_EINVAL 22
#define ZSPP_ENOSPC 28

/* GFP_KERNEL, for allocations made in process context at pool setup. */
extern const zspp_gfp_t zspp_gfp_kernel;
/* GFP_NOIO | __GFP_NOWARN: may sleep, no I/O (zswap's store path maps). */
extern const zspp_gfp_t zspp_gfp_noio;
/* GFP_NOWAIT | __GFP_NOWARN: never sleeps (contexts that must not). */
extern const zspp_gfp_t zspp_gfp_nowait;

/* ---- memory (may sleep iff gfp allows; __GFP_HIGHMEM/MOVABLE are stripped) */
void *zspp_kmalloc(size_t size, zspp_gfp_t gfp);
void zspp_kfree(const void *ptr);			/* never sleeps; NULL ok */
/* What a zspp_kmalloc(@size) really takes (its kmalloc bucket): the bytes
 * metadata costs, as bytes_metadata counts them. Never sleeps. */
size_t zspp_kmalloc_size(size_t size);

struct zspp_cache;					/* a kmem_cache */
struct zspp_cache *zspp_cache_create(const char *name, unsigned int size); /* sleeps */
void zspp_cache_destroy(struct zspp_cache *cache);		/* sleeps */
void *zspp_cache_alloc(struct zspp_cache *cache, zspp_gfp_t gfp);
void zspp_cache_free(struct zspp_cache *cache, void *obj);	/* never sleeps */

/* ---- pages: real 0-order struct pages, allocated with the caller's gfp */
struct zspp_page;					/* a struct page */
struct zspp_page *zspp_page_alloc(zspp_gfp_t gfp);
void zspp_page_free(struct zspp_page *page);		/* never sleeps */
/* Kernel address of the page's memory (no highmem on x86-64): never sleeps. */
void *zspp_page_address(struct zspp_page *page);
unsigned long zspp_page_pfn(struct zspp_page *page);
/* The page whose memory @addr (from zspp_page_address) lies in: never sleeps. */
struct zspp_page *zspp_virt_to_page(const void *addr);
/* Record which zspage owns a page (page->private); marks the page as zspp's. */
void zspp_page_set_owner(struct zspp_page *page, void *owner);
void zspp_page_clear_owner(struct zspp_page *page);
/* The owner recorded for @pfn, or NULL if the pfn is invalid or not zspp's. */
void *zspp_pfn_owner(unsigned long pfn);
/*
 * zspp_pfn_owner() for a pfn in a memory section where zspp has had a page
 * (the core keeps that map: MemmapSeen, src/core/pool.h): the section is
 * present, so its part of the memory map is mapped and pfn_valid(), most of
 * a lookup's cost, can be skipped (a handle is resolved on every map, unmap,
 * read and free). A pfn outside those sections goes to zspp_pfn_owner(), so
 * a forged or stale handle word is still refused, never dereferenced blind.
 * NULL if the page is not marked private; the caller checks the owner it
 * gets (magic, pool) before trusting it. Never sleeps.
 *
 * Kbuild defines ZSPP_MEMMAP_VIEW where the memory map is virtually
 * contiguous and populated per section (CONFIG_SPARSEMEM_VMEMMAP, every
 * x86-64 Debian kernel): the lookup is then three loads inline, over a view
 * of the memmap the shim fills at module init (zspp_memmap_init(),
 * src/kernel/shim_pages.c, which also checks the section size below).
 */
#define ZSPP_SECTION_PFN_SHIFT 15	/* 128 MiB sections (x86-64) */
#ifdef ZSPP_MEMMAP_VIEW
struct zspp_memmap_view {
	unsigned long base;		/* (unsigned long)vmemmap */
	unsigned long stride;		/* sizeof(struct page) */
	unsigned long private_offset;	/* offsetof(struct page, private) */
	unsigned long private_flag;	/* 1ul << PG_private, in page->flags */
};
extern struct zspp_memmap_view zspp_memmap;
static inline void *zspp_pfn_owner_present(unsigned long pfn)
{
	unsigned long page = zspp_memmap.base + pfn * zspp_memmap.stride;

	if (!(*(const volatile unsigned long *)page & zspp_memmap.private_flag))
		return (void *)0;
	return *(void *const volatile *)(page + zspp_memmap.private_offset);
}
#else
void *zspp_pfn_owner_present(unsigned long pfn);
#endif

/*
 * ---- page migration (Documentation/locking.rst, "Page migration")
 * A zspage's pages are movable once built. The kernel calls the movable
 * callbacks with the page locked; zspp frees a zspage only with every page
 * locked (trylock where it cannot sleep, else from a worker), so a page lock
 * keeps its zspage alive.
 */
/*
 * Make a fresh page part of a zspage, in this order: store its kernel address
 * at *@addr (the zspage's addrs[] entry), record @owner as its owner (as
 * zspp_page_set_owner), then mark it movable (nothing without
 * CONFIG_MIGRATION): from then on migration may move it, and finds it in
 * place. One call, not three: it runs on malloc's growth path, about once
 * per two mallocs of a multi-page class. Never sleeps.
 */
void zspp_page_attach(struct zspp_page *page, void *owner, char **addr);
bool zspp_page_trylock(struct zspp_page *page);		/* never sleeps */
void zspp_page_lock(struct zspp_page *page);		/* sleeps */
void zspp_page_unlock(struct zspp_page *page);
/* Page locked by the caller: drop movable and owner, unlock, free. */
void zspp_page_free_locked(struct zspp_page *page);

/* A work item running @fn(@arg) in process context. */
struct zspp_work;
struct zspp_work *zspp_work_create(void (*fn)(void *), void *arg);	/* sleeps */
void zspp_work_kick(struct zspp_work *work);			/* never sleeps */
void zspp_work_destroy(struct zspp_work *work);	/* waits for a running/pending run */

/* Core side of the movable callbacks (src/core/migrate.cpp). @owner is the
 * page's owner as recorded by zspp_page_set_owner; the page is locked. */
bool zspp_core_page_isolate(void *owner);
/* Returns 0 (moved; @dst now owned), or -EAGAIN (busy: mapped or being freed). */
int zspp_core_page_migrate(void *owner, struct zspp_page *dst, struct zspp_page *src);

/* ---- locks */
struct zspp_spinlock;
/*
 * What a lock protects (Documentation/locking.rst): each kind is its own
 * lockdep class, so lockdep reports name the lock and check the order per
 * kind (one class for every lock of a kind, as zsmalloc's class->lock).
 */
enum zspp_lock_kind {
	ZSPP_LOCK_CLASS,	/* SizeClass::lock: a size class's zspages */
	ZSPP_LOCK_DEFER,	/* Pool::defer_lock_: the deferred-free list */
	ZSPP_LOCK_KINDS
};
/* sleeps; NULL on -ENOMEM */
struct zspp_spinlock *zspp_spin_alloc(enum zspp_lock_kind kind);
void zspp_spin_free(struct zspp_spinlock *lock);
/*
 * Complain (lockdep splat in the kernel, a violation in the host tests'
 * fake shim) unless the calling task holds @lock. Built where lock checking
 * runs (ZSPP_LOCKDEP: a kernel with CONFIG_LOCKDEP, the host tests); else
 * nothing, so the production hot paths carry no call. Never sleeps.
 */
#ifdef ZSPP_LOCKDEP
void zspp_lockdep_assert_held(struct zspp_spinlock *lock);
#else
static inline void zspp_lockdep_assert_held(struct zspp_spinlock *lock) { (void)lock; }
#endif
#if defined(__cplusplus) && defined(ZSPP_DIRECT_SPINLOCK)
/*
 * Kbuild defines ZSPP_DIRECT_SPINLOCK where spin_lock() and spin_unlock() are
 * the exported _raw_spin_lock()/_raw_spin_unlock() on the spinlock_t's raw
 * lock at offset 0 (not PREEMPT_RT, neither inlined; src/kernel/shim_locks.c checks
 * it against the kernel's headers): the core calls them itself, one call per
 * lock or unlock instead of two (each class lock is taken about twice per
 * malloc + write; Documentation/benchmarks.md). The C files keep the
 * out-of-line functions.
 */
void _raw_spin_lock(struct zspp_spinlock *lock);
void _raw_spin_unlock(struct zspp_spinlock *lock);
static inline void zspp_spin_lock(struct zspp_spinlock *lock) { _raw_spin_lock(lock); }
static inline void zspp_spin_unlock(struct zspp_spinlock *lock) { _raw_spin_unlock(lock); }
#else
void zspp_spin_lock(struct zspp_spinlock *lock);
void zspp_spin_unlock(struct zspp_spinlock *lock);
#endif

/*
 * ---- bounce areas for objects that span two pages (classic map API)
 * get: returns a ZSPP_PAGE_SIZE buffer owned by the calling task until put,
 *      remembering (@tag, @mode) for find. MAY SLEEP; never fails. Never
 *      waits for another task's area (so no lock order with the caller's
 *      own locks): the local CPU's area if idle, else a spare, else a new one.
 * find: the buffer this task got for @tag (and its mode), or NULL.
 * end: find, and if the area's mode is ZSPP_MM_RO, put it too: the buffer
 *      is then only an answer (found), not the caller's any more. Else the
 *      caller still holds it and puts it. Never sleeps.
 * put: release a buffer from get. Never sleeps.
 */
void *zspp_area_get(unsigned long tag, int mode);
void *zspp_area_find(unsigned long tag, int *mode);
void *zspp_area_end(unsigned long tag, int *mode);
void zspp_area_put(void *buf);

/*
 * ---- memory-pressure hook: a shrinker whose count is
 * zspp_compactable_pages(@pool) and whose scan is zspp_compact(@pool).
 * register may sleep and returns NULL if none could be set up (the pool
 * then works without one); unregister waits for a running scan.
 */
struct zspp_shrinker;
struct zspp_shrinker *zspp_shrinker_register(const char *name, struct zspp_pool *pool);
void zspp_shrinker_unregister(struct zspp_shrinker *shrinker);

/*
 * ---- CONFIG_ZSPP_FOLD only (src/kernel/shim_memory.c builds these with the option)
 * xxh64 (seed 0) of the concatenation of two pieces (@b may be NULL when
 * @blen is 0): an object that spans two pages, hashed in place. Never sleeps.
 */
unsigned long long zspp_xxh64(const void *a, size_t alen, const void *b, size_t blen);
/* kvmalloc(GFP_KERNEL): sleeps; NULL on -ENOMEM. kvfree: NULL ok. */
void *zspp_kvmalloc(size_t size);
void zspp_kvfree(void *ptr);

/* ---- misc */
void zspp_cond_resched(void);				/* sleeps */
/* An identity of the calling task (`current`), only compared; never sleeps. */
const void *zspp_current_task(void);
/* WARN once (with a backtrace) about a bad handle; never sleeps. */
void zspp_warn_bad_handle(const char *what, unsigned long handle);
void zspp_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void zspp_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif

#endif /* ZSPP_SHIM_H */
