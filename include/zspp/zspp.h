/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zspp: a compressed-memory allocator (zsmalloc's design, reimplemented in C++).
 *
 * Public in-kernel API. Plain C so that kernel C code, the C++ core and the
 * userspace host tests all include the same declarations.
 *
 * Context rules (see Documentation/locking.rst):
 *   - zspp_create_pool/zspp_destroy_pool: process context, may sleep.
 *   - zspp_malloc: may sleep iff @gfp allows it (the caller's gfp is used for
 *     zspage pages and metadata).
 *   - zspp_free, zspp_obj_write, zspp_obj_read_begin/end: never sleep; may be
 *     called with preemption disabled.
 *   - zspp_map_object: process context, MAY SLEEP (it may allocate a bounce
 *     area with GFP_NOIO when every pre-allocated one is busy). The caller may
 *     sleep between map and unmap: nothing zspp holds across the pair
 *     disables preemption or holds a spinlock. A task may hold maps of
 *     several handles at once (6.1 zswap's writeback stores, hence maps WO,
 *     from direct reclaim while it holds the evicted handle mapped); each
 *     is unmapped by the task that mapped it.
 *   - zspp_unmap_object: never sleeps.
 */
#ifndef ZSPP_ZSPP_H
#define ZSPP_ZSPP_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__KERNEL__)
#include <linux/types.h>
#elif defined(ZSPP_FREESTANDING)	/* the C++ core inside the module */
typedef __SIZE_TYPE__ size_t;
#else
#include <stddef.h>
#endif

/* Matches the kernel's gfp_t (an unsigned int) without needing its headers. */
typedef unsigned int zspp_gfp_t;

struct zspp_pool;

enum zspp_mapmode {
	ZSPP_MM_RW = 0,	/* read and write: copy in at map, copy out at unmap */
	ZSPP_MM_RO = 1,	/* read only: nothing is copied back */
	ZSPP_MM_WO = 2,	/* write only: nothing is copied in */
};

/* Largest object zspp stores (bytes). Larger requests get -EINVAL. */
#define ZSPP_MAX_ALLOC_SIZE 4096u
/* Smallest slot; smaller requests are rounded up to it. */
#define ZSPP_MIN_ALLOC_SIZE 32u
/* Size-class granularity. */
#define ZSPP_CLASS_DELTA 16u
/* Bounds of the chain_size (pages per zspage) parameter. */
#define ZSPP_MIN_CHAIN 1u
#define ZSPP_MAX_CHAIN 16u

/*
 * Module-wide setup of the core (the handle cache): once, before any pool;
 * zspp_core_exit after the last pool is destroyed. Process context.
 */
int zspp_core_init(void);
void zspp_core_exit(void);

/*
 * Create a pool whose zspages chain at most @chain_size (1..16) 0-order
 * pages. @name is copied (at most 31 characters).
 * Returns 0 and sets *@pool, or -EINVAL (bad chain_size) / -ENOMEM.
 */
int zspp_create_pool(const char *name, unsigned int chain_size,
		     struct zspp_pool **pool);

/*
 * Writeback. An evictable pool keeps its zspages on an LRU (most
 * recently allocated-into first); zspp_reclaim() walks it from the tail and
 * calls @evict for each object of a zspage. @evict returns 0 once it has
 * written the object elsewhere and freed its handle (it may do so while the
 * handle is mapped: frees of a zspage's objects during its reclaim are
 * deferred until the reclaim ends, so the handle stays valid until then;
 * a handle freed by another task before or during its evict still maps, with
 * its bytes, so that evict can find out that its entry is gone),
 * or a negative errno to keep the object. It runs in process context with no
 * zspp lock held and may sleep.
 */
typedef int (*zspp_evict_t)(void *ctx, unsigned long handle);
int zspp_create_pool_evictable(const char *name, unsigned int chain_size,
			       zspp_evict_t evict, void *ctx,
			       struct zspp_pool **pool);

/*
 * Evict least recently used zspages until @pages pages are freed (or 8
 * zspages could not be freed). Sets *@reclaimed (if non-NULL) to the pages
 * freed. Returns 0, -EINVAL if the pool is not evictable, or -EAGAIN if
 * nothing was freed. Process context, may sleep.
 */
int zspp_reclaim(struct zspp_pool *pool, unsigned long pages,
		 unsigned long *reclaimed);

/* Destroy @pool. Objects still allocated are reported (once) and freed. */
void zspp_destroy_pool(struct zspp_pool *pool);

/*
 * Allocate @size bytes. Returns 0 and sets *@handle (never 0), or
 * -EINVAL (size 0 or above ZSPP_MAX_ALLOC_SIZE) or -ENOMEM. Nothing is
 * leaked on failure.
 */
int zspp_malloc(struct zspp_pool *pool, size_t size, zspp_gfp_t gfp,
		unsigned long *handle);

/* Free @handle. A handle zspp did not hand out warns once and is ignored. */
void zspp_free(struct zspp_pool *pool, unsigned long handle);

/* Classic mapping API (seed 002). See the context rules above. */
void *zspp_map_object(struct zspp_pool *pool, unsigned long handle,
		      enum zspp_mapmode mode);
void zspp_unmap_object(struct zspp_pool *pool, unsigned long handle);

/*
 * Newer mapping API (seed 003). read_begin returns a pointer to the object:
 * straight into the pool page, or, for an object that spans two pages, into
 * @local_copy (which must hold the object's size). Pair with read_end,
 * passing what read_begin returned. obj_write copies @len bytes (at most the
 * size the object was allocated with) into the object and returns 0, or
 * -EINVAL (bad handle), or, with CONFIG_ZSPP_FOLD, -ENOMEM: the object was
 * shared, its class had no free slot for the private copy and none could be
 * allocated without sleeping (nothing was written).
 *
 * With CONFIG_ZSPP_FOLD a write map (ZSPP_MM_WO/RW) of a shared object
 * likewise gives it its own copy first; if no zspage can be had (GFP_NOIO)
 * map returns NULL. An object never folded (not yet written, or the option
 * off) never needs one.
 */
void *zspp_obj_read_begin(struct zspp_pool *pool, unsigned long handle,
			  void *local_copy);
void zspp_obj_read_end(struct zspp_pool *pool, unsigned long handle,
		       void *handle_mem);
int zspp_obj_write(struct zspp_pool *pool, unsigned long handle,
		   const void *src, size_t len);

/* Size of the object behind @handle as passed to zspp_malloc (0 if bad). */
size_t zspp_obj_size(struct zspp_pool *pool, unsigned long handle);

/*
 * Compact: move objects out of the emptiest zspages into the fullest ones of
 * each class and free the emptied zspages. Returns pages freed. Process
 * context, may sleep (drops locks between zspages). One at a time per pool:
 * a concurrent call returns 0 at once.
 */
unsigned long zspp_compact(struct zspp_pool *pool);
/* Pages zspp_compact could free now (a snapshot). Never sleeps. */
unsigned long zspp_compactable_pages(struct zspp_pool *pool);

/* Pages currently held by the pool for zspages. */
unsigned long zspp_get_total_pages(struct zspp_pool *pool);

struct zspp_pool_stats {
	unsigned long pages;		/* zspage pages held */
	unsigned long zspages;
	unsigned long objects;		/* objects allocated */
	unsigned long bytes_stored;	/* sum of sizes passed to zspp_malloc */
	unsigned long bytes_slots;	/* sum of the class sizes of those objects */
	unsigned long bytes_metadata;	/* zspage descriptors (kmalloc) + handles */
	unsigned long malloc_fail;	/* zspp_malloc calls that returned -ENOMEM */
	unsigned long bad_handles;	/* frees/maps of handles zspp did not hand out */
	unsigned long compactions;	/* zspp_compact runs that did work */
	unsigned long objs_moved;	/* objects moved by compaction */
	unsigned long pages_compacted;	/* pages freed by compaction */
	unsigned long pages_migrated;	/* zspage pages moved by page migration */
	unsigned long deferred_frees;	/* zspage frees left to the worker (page locked) */
	unsigned long pages_reclaimed;	/* pages freed by zspp_reclaim (writeback) */
	unsigned long objs_written_back; /* evicts that returned 0 and freed the handle */
	unsigned long evict_stale;	/* evicts that returned 0 without freeing it themselves
					 * (freed by another task, or later: the entry was gone) */
	unsigned long reclaim_fail;	/* zspages reclaim gave up on (evict failed) */
	unsigned long reclaim_deferred_frees; /* frees that waited for a reclaim */
	/* CONFIG_ZSPP_FOLD (all 0 without it), Documentation/folding.rst */
	unsigned long pages_folded;	/* pages freed by fold passes (incl. their compaction) */
	unsigned long objs_folded;	/* objects now sharing another object's slot */
	unsigned long bytes_folded;	/* slot bytes those objects do not occupy */
	unsigned long fold_collisions;	/* equal hash and size, different bytes: not merged */
	unsigned long fold_cow;		/* write maps/obj_writes that unshared an object */
	unsigned long fold_passes;
};
void zspp_pool_stats(struct zspp_pool *pool, struct zspp_pool_stats *stats);

#define ZSPP_NR_FULLNESS 12	/* 0%, <10%, 10-19%, ..., 90-99%, 100% */

struct zspp_class_stats {
	unsigned int size;		/* slot size in bytes */
	unsigned int pages_per_zspage;
	unsigned int objs_per_zspage;
	unsigned int merged;		/* 1 if this index shares a class with a larger index */
	unsigned long fullness[ZSPP_NR_FULLNESS]; /* zspages per fullness group */
	unsigned long obj_allocated;	/* slots in this class's zspages */
	unsigned long obj_used;		/* slots holding an object */
	unsigned long pages_used;
	unsigned long freeable;		/* pages compaction could free */
	unsigned long folded;		/* objects sharing another's slot (CONFIG_ZSPP_FOLD) */
};
/* Number of size-class indices (including merged ones). */
unsigned int zspp_nr_classes(struct zspp_pool *pool);
/*
 * Fill @stats for class index @idx. Returns 0, 1 if @idx is merged into a
 * larger class (stats describe nothing of its own), or -EINVAL.
 */
int zspp_class_stats(struct zspp_pool *pool, unsigned int idx,
		     struct zspp_class_stats *stats);

/*
 * Walk every class and zspage and check the allocator's invariants (counts,
 * free lists, reverse map, handle encoding). Returns 0 or -EINVAL, logging
 * the first inconsistency. Takes each class lock in turn; for tests.
 */
int zspp_debug_validate(struct zspp_pool *pool);

/*
 * Test hook: the struct page holding the first byte of @handle's object
 * (NULL for a bad handle). Only meaningful while nothing can move it.
 */
void *zspp_debug_handle_page(struct zspp_pool *pool, unsigned long handle);

#ifdef ZSPP_FOLD
/*
 * CONFIG_ZSPP_FOLD (Documentation/folding.rst): find objects of a class
 * with identical bytes (xxh64, then a full compare) and store them once,
 * then compact what that freed. Returns pages freed. Process context, may
 * sleep; drops its locks between small batches. One pass at a time per
 * pool: a concurrent call returns 0 at once.
 */
unsigned long zspp_fold(struct zspp_pool *pool);
/*
 * Test hook: keep only the low @bits bits (0..64; 64, the default, keeps
 * all) of each object's hash, so that different objects collide; folding
 * must still never merge them.
 */
void zspp_debug_fold_hash_bits(struct zspp_pool *pool, unsigned int bits);
#endif

const char *zspp_pool_name(struct zspp_pool *pool);
unsigned int zspp_pool_chain_size(struct zspp_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* ZSPP_ZSPP_H */
