/* SPDX-License-Identifier: GPL-2.0 */
/* Mock: kmalloc and kmem_cache over malloc, counted (kmock_live_objects()). */
#ifndef KMOCK_LINUX_SLAB_H
#define KMOCK_LINUX_SLAB_H

#include <linux/gfp.h>

void *kmalloc(size_t size, gfp_t gfp);
#define kzalloc(size, gfp) kmalloc((size), (gfp) | __GFP_ZERO)
void kfree(const void *ptr);
size_t kmalloc_size_roundup(size_t size);

struct kmem_cache;
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned long flags, void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *cache);
void *kmem_cache_alloc(struct kmem_cache *cache, gfp_t gfp);
void kmem_cache_free(struct kmem_cache *cache, void *obj);

#endif
