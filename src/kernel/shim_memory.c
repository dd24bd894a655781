// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of include/zspp/shim.h: memory (kmalloc, slab caches, kvmalloc), the
 * gfp values the core names, and the constants it shares with the kernel.
 * Thin wrappers the C++ core calls instead of kernel headers (the
 * Rust-for-Linux "helpers" idea); one file per section of shim.h.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/gfp.h>
#include <linux/mm.h>
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
