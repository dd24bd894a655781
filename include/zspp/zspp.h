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
 *     called with preemption or interrupts disabled and spinlocks held, but
 *     not from interrupt (hardirq, softirq, NMI) context: zspp's locks are
 *     plain spinlocks, as zsmalloc's class locks are.
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

/**
 * zspp_core_init() - Module-wide setup of the core (the handle cache).
 * @handle_cache: the handle cache's slab name, kept until zspp_core_exit():
 *                one per module (zspp.ko and zsmalloc.ko may be loaded
 *                together, and slab_nomerge or slub_debug give each cache
 *                its own /sys/kernel/slab entry, which a second cache of the
 *                same name cannot have)
 *
 * Call once, before any pool is created; undo with zspp_core_exit().
 *
 * Context: Process context, may sleep.
 * Return: 0, or a negative errno (-ENOMEM) if the handle cache could not be
 * created.
 */
int zspp_core_init(const char *handle_cache);
/**
 * zspp_core_exit() - Undo zspp_core_init().
 *
 * Call after the last pool is destroyed.
 *
 * Context: Process context, may sleep.
 */
void zspp_core_exit(void);

/**
 * zspp_create_pool() - Create a pool.
 * @name: the pool's name; copied (at most 31 characters)
 * @chain_size: at most this many 0-order pages per zspage
 *              (ZSPP_MIN_CHAIN..ZSPP_MAX_CHAIN)
 * @pool: set to the new pool on success
 *
 * Context: Process context, may sleep.
 * Return: 0 and sets *@pool, or -EINVAL (bad @chain_size) or -ENOMEM.
 */
int zspp_create_pool(const char *name, unsigned int chain_size,
		     struct zspp_pool **pool);

/**
 * typedef zspp_evict_t - Write one object back, for zspp_reclaim().
 * @ctx: the @ctx given to zspp_create_pool_evictable()
 * @handle: the object to write back
 *
 * It may free @handle while the handle is mapped: frees of a zspage's
 * objects during its reclaim are deferred until the reclaim ends, so the
 * handle stays valid until then. A handle freed by another task before or
 * during its evict still maps, with its bytes, so that evict can find out
 * that its entry is gone.
 *
 * Context: Process context with no zspp lock held; may sleep.
 * Return: 0 once the object is written elsewhere and its handle freed, or a
 * negative errno to keep the object.
 */
typedef int (*zspp_evict_t)(void *ctx, unsigned long handle);
/**
 * zspp_create_pool_evictable() - Create a pool with writeback.
 * @name: the pool's name; copied (at most 31 characters)
 * @chain_size: at most this many 0-order pages per zspage
 *              (ZSPP_MIN_CHAIN..ZSPP_MAX_CHAIN)
 * @evict: called by zspp_reclaim() for each object of a zspage it empties
 * @ctx: passed to @evict
 * @pool: set to the new pool on success
 *
 * An evictable pool keeps its zspages on an LRU (most recently
 * allocated-into first); zspp_reclaim() walks it from the tail and calls
 * @evict for each object of a zspage.
 *
 * Context: Process context, may sleep.
 * Return: 0 and sets *@pool, or -EINVAL (bad @chain_size, or no @evict) or
 * -ENOMEM.
 */
int zspp_create_pool_evictable(const char *name, unsigned int chain_size,
			       zspp_evict_t evict, void *ctx,
			       struct zspp_pool **pool);

/**
 * zspp_reclaim() - Write back least recently used zspages.
 * @pool: an evictable pool (zspp_create_pool_evictable())
 * @pages: stop once this many pages are freed (or 8 zspages could not be)
 * @reclaimed: if non-NULL, set to the pages freed
 *
 * Calls the pool's evict for each object of each zspage it empties, with no
 * zspp lock held.
 *
 * Context: Process context, may sleep.
 * Return: 0, -EINVAL if the pool is not evictable, or -EAGAIN if nothing
 * was freed.
 */
int zspp_reclaim(struct zspp_pool *pool, unsigned long pages,
		 unsigned long *reclaimed);

/**
 * zspp_destroy_pool() - Destroy a pool.
 * @pool: the pool (NULL: nothing is done)
 *
 * Objects still allocated are reported (once) and freed.
 *
 * Context: Process context, may sleep.
 */
void zspp_destroy_pool(struct zspp_pool *pool);

/**
 * zspp_malloc() - Allocate an object.
 * @pool: the pool
 * @size: bytes (1..ZSPP_MAX_ALLOC_SIZE)
 * @gfp: used for zspage pages and metadata
 * @handle: set to the object's handle (never 0) on success
 *
 * Nothing is leaked on failure.
 *
 * Context: May sleep iff @gfp allows it.
 * Return: 0 and sets *@handle, or -EINVAL (@size 0 or above
 * ZSPP_MAX_ALLOC_SIZE) or -ENOMEM.
 */
int zspp_malloc(struct zspp_pool *pool, size_t size, zspp_gfp_t gfp,
		unsigned long *handle);

/**
 * zspp_free() - Free an object.
 * @pool: the pool
 * @handle: from zspp_malloc(); a handle zspp did not hand out warns once and
 *          is ignored
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary"); never sleeps.
 */
void zspp_free(struct zspp_pool *pool, unsigned long handle);

/**
 * zspp_map_object() - Map an object (zsmalloc's zs_map_object() API).
 * @pool: the pool
 * @handle: the object
 * @mode: what is copied in at map and out at zspp_unmap_object()
 *
 * An object that spans two pages is copied to a bounce area. The caller may
 * sleep between map and unmap: nothing zspp holds across the pair disables
 * preemption or holds a spinlock. A task may hold maps of several handles at
 * once (6.1 zswap's writeback stores, hence maps WO, from direct reclaim
 * while it holds the evicted handle mapped); each is unmapped by the task
 * that mapped it. With CONFIG_ZSPP_FOLD a write map (ZSPP_MM_WO/RW) of a
 * shared object first gives it its own copy.
 *
 * Context: Process context, may sleep (it may allocate a bounce area with
 * GFP_NOIO when every pre-allocated one is busy).
 * Return: the object's bytes, valid until zspp_unmap_object(); NULL for a
 * bad handle, or with CONFIG_ZSPP_FOLD when a write map of a shared object
 * could get no zspage for its copy, or could not be copied because maps or
 * reads of its zspage stayed in flight for a short wait (the copy moves the
 * handle, and a pinned zspage's handles never move: Documentation/locking.rst,
 * "Pins"; counted in fold_cow_busy; try again once they have ended).
 */
void *zspp_map_object(struct zspp_pool *pool, unsigned long handle,
		      enum zspp_mapmode mode);
/**
 * zspp_unmap_object() - Undo zspp_map_object().
 * @pool: the pool
 * @handle: the object, mapped by this task
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary"); never sleeps.
 */
void zspp_unmap_object(struct zspp_pool *pool, unsigned long handle);

/**
 * zspp_map_object_local() - Map an object without sleeping (zsmalloc's
 * zs_map_object() contract).
 * @pool: the pool
 * @handle: the object
 * @mode: what is copied in at map and out at zspp_unmap_object_local()
 * @local_copy: ZSPP_MAX_ALLOC_SIZE bytes the caller owns until the unmap,
 *              used instead of a bounce area for an object that spans two
 *              pages
 *
 * For callers that map in atomic context (zram maps under its slot
 * bit-spinlock, with preemption off): no area is got, so nothing sleeps.
 * Pair with zspp_unmap_object_local() and the same @mode and @local_copy.
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary"); never sleeps.
 * Return: the object's bytes (in its page, or @local_copy), valid until the
 * unmap; NULL for a bad handle, or with CONFIG_ZSPP_FOLD when a write map
 * of a shared object could not get its own copy without waiting.
 */
void *zspp_map_object_local(struct zspp_pool *pool, unsigned long handle,
			    enum zspp_mapmode mode, void *local_copy);
/**
 * zspp_unmap_object_local() - Undo zspp_map_object_local().
 * @pool: the pool
 * @handle: the object
 * @mode: the map's mode
 * @local_copy: the map's @local_copy (written back for a write map of an
 *              object that spans two pages)
 *
 * Context: as zspp_map_object_local(); never sleeps.
 */
void zspp_unmap_object_local(struct zspp_pool *pool, unsigned long handle,
			     enum zspp_mapmode mode, void *local_copy);

/**
 * zspp_obj_read_begin() - Start reading an object (the read/write API,
 * zsmalloc's zs_obj_read_begin()).
 * @pool: the pool
 * @handle: the object
 * @local_copy: room for the object's size, used if it spans two pages
 *
 * Pair with zspp_obj_read_end(), passing what this returned. The caller may
 * sleep between the two.
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary").
 * Return: a pointer to the object's bytes: straight into the pool page, or,
 * for an object that spans two pages, @local_copy.
 */
void *zspp_obj_read_begin(struct zspp_pool *pool, unsigned long handle,
			  void *local_copy);
/**
 * zspp_obj_read_end() - End a read started by zspp_obj_read_begin().
 * @pool: the pool
 * @handle: the object
 * @handle_mem: what zspp_obj_read_begin() returned
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary").
 */
void zspp_obj_read_end(struct zspp_pool *pool, unsigned long handle,
		       void *handle_mem);
/**
 * zspp_obj_write() - Write an object's bytes (the read/write API).
 * @pool: the pool
 * @handle: the object
 * @src: the bytes
 * @len: how many (at most the size the object was allocated with)
 *
 * With CONFIG_ZSPP_FOLD a shared object is given its own copy first. An
 * object never folded (not yet written, or the option off) never needs one.
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary"); never sleeps.
 * Return: 0, or -EINVAL (bad handle), or, with CONFIG_ZSPP_FOLD, -ENOMEM:
 * the object was shared, its class had no free slot for the private copy and
 * none could be allocated without sleeping (nothing was written), or -EBUSY:
 * the object was shared and a map or read of its zspage was in flight (this
 * task's own read_begin of it included), so it could not be moved to its own
 * copy (nothing was written; counted in fold_cow_busy).
 */
int zspp_obj_write(struct zspp_pool *pool, unsigned long handle,
		   const void *src, size_t len);

/**
 * zspp_obj_size() - The size of an object.
 * @pool: the pool
 * @handle: the object
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary"); never sleeps.
 * Return: the size passed to zspp_malloc(), or 0 for a bad handle.
 */
size_t zspp_obj_size(struct zspp_pool *pool, unsigned long handle);

/**
 * zspp_compact() - Compact a pool.
 * @pool: the pool
 *
 * Move objects out of the emptiest zspages into the fullest ones of each
 * class, free the emptied zspages and release the pages past the objects of
 * the part-full one left. The pages the moves need are got first, with
 * GFP_NOWAIT: if that fails the class stops where it is, never with more
 * pages than it had. One at a time per pool: a concurrent call returns 0 at
 * once.
 *
 * Context: Process context, may sleep (drops its locks between zspages).
 * Return: the pages freed, net of the pages the moves attached.
 */
unsigned long zspp_compact(struct zspp_pool *pool);
/**
 * zspp_compactable_pages() - What zspp_compact() could free now.
 * @pool: the pool
 *
 * Context: Any context; never sleeps (reads counters without locks).
 * Return: the pages zspp_compact() could free, a snapshot.
 */
unsigned long zspp_compactable_pages(struct zspp_pool *pool);

/**
 * zspp_get_total_pages() - The pages a pool holds.
 * @pool: the pool
 *
 * Context: Any context; never sleeps.
 * Return: the pages currently held by the pool for zspages.
 */
unsigned long zspp_get_total_pages(struct zspp_pool *pool);

/*
 * ZSPP_POOL_STATS(X) / ZSPP_POOL_FOLD_STATS(X): every field of struct
 * zspp_pool_stats, in order, as X(name, kind, what). This one list makes
 * the struct, the pool's counters and zspp_pool_stats()
 * (src/core/pool.h, pool.cpp) and the debugfs summary
 * (src/kernel/debugfs.c); Documentation/stats.rst explains each.
 * kind: counter (an atomic counter of the pool, copied as it is) or
 * derived (computed by zspp_pool_stats() from other state).
 */
#define ZSPP_POOL_STATS(X)                                                                  \
	X(pages, counter, "zspage pages held")                                              \
	X(zspages, counter, "zspages")                                                      \
	X(objects, counter, "objects allocated")                                            \
	X(bytes_stored, counter, "sum of sizes passed to zspp_malloc")                      \
	X(bytes_slots, counter, "sum of the class sizes of those objects")                  \
	X(bytes_metadata, derived, "descriptors + fold records (kmalloc buckets) + handles") \
	X(malloc_fail, counter, "zspp_malloc calls that returned -ENOMEM")                  \
	X(bad_handles, counter, "frees/maps of handles zspp did not hand out")              \
	X(compactions, counter, "zspp_compact runs that did work")                          \
	X(auto_compactions, counter, "compactions zspp started itself (compact_slack)")    \
	X(objs_moved, counter, "objects moved by compaction")                               \
	X(pages_compacted, counter, "pages freed by compaction")                            \
	X(pages_trimmed, counter, "pages compaction released past a zspage's last object") \
	X(pages_migrated, counter, "zspage pages moved by page migration")                  \
	X(deferred_frees, counter, "zspage frees left to the worker (page locked)")         \
	X(pages_reclaimed, counter, "pages freed by zspp_reclaim (writeback)")              \
	X(objs_written_back, counter, "evicts that returned 0 and freed the handle")        \
	X(evict_stale, counter, "evicts that returned 0 without freeing it themselves")     \
	X(reclaim_fail, counter, "zspages reclaim gave up on (evict failed)")               \
	X(reclaim_deferred_frees, counter, "frees that waited for a reclaim")
/* CONFIG_ZSPP_FOLD (all 0 without it), Documentation/folding.rst */
#define ZSPP_POOL_FOLD_STATS(X)                                                            \
	X(pages_folded, counter, "pages freed by fold passes (incl. their compaction)")     \
	X(objs_folded, counter, "objects now sharing another object's slot")                \
	X(bytes_folded, counter, "slot bytes those objects do not occupy")                  \
	X(fold_collisions, counter, "equal hash and size, different bytes: not merged")     \
	X(fold_cow, counter, "write maps/obj_writes that unshared an object")               \
	X(fold_cow_busy, counter, "write maps/obj_writes of a shared object refused: pinned") \
	X(fold_passes, counter, "fold passes run")

struct zspp_pool_stats {
#define ZSPP_POOL_STAT_FIELD(name, kind, what) unsigned long name;
	ZSPP_POOL_STATS(ZSPP_POOL_STAT_FIELD)
	ZSPP_POOL_FOLD_STATS(ZSPP_POOL_STAT_FIELD)
#undef ZSPP_POOL_STAT_FIELD
};
/**
 * zspp_pool_stats() - A pool's counters.
 * @pool: the pool
 * @stats: filled in (Documentation/stats.rst)
 *
 * Each counter is read on its own: together they are not one snapshot.
 *
 * Context: Any context; never sleeps.
 */
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
/**
 * zspp_nr_classes() - The number of size-class indices.
 * @pool: the pool
 *
 * Context: Any context; never sleeps.
 * Return: the number of size-class indices, merged ones included.
 */
unsigned int zspp_nr_classes(struct zspp_pool *pool);
/**
 * zspp_class_stats() - One size class's counters.
 * @pool: the pool
 * @idx: the class index (below zspp_nr_classes())
 * @stats: filled in
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary"); never sleeps.
 * Return: 0, 1 if @idx is merged into a larger class (@stats then describe
 * nothing of its own), or -EINVAL (@idx out of range).
 */
int zspp_class_stats(struct zspp_pool *pool, unsigned int idx,
		     struct zspp_class_stats *stats);

/**
 * zspp_debug_validate() - Check a pool's invariants (for tests).
 * @pool: the pool
 *
 * Walk every class and zspage and check the allocator's invariants (counts,
 * free lists, reverse map, handle encoding), logging the first
 * inconsistency.
 *
 * Context: Takes each class's spinlock in turn; never sleeps.
 * Return: 0, or -EINVAL if an invariant does not hold.
 */
int zspp_debug_validate(struct zspp_pool *pool);

/**
 * zspp_debug_handle_page() - Where an object lives (test hook).
 * @pool: the pool
 * @handle: the object
 *
 * Only meaningful while nothing can move the object.
 *
 * Context: Task context, atomic allowed (preemption or interrupts off,
 * spinlocks held); not interrupt context (plain spinlocks:
 * Documentation/locking.rst, "Context summary"); never sleeps.
 * Return: the struct page holding the first byte of @handle's object, or
 * NULL for a bad handle.
 */
void *zspp_debug_handle_page(struct zspp_pool *pool, unsigned long handle);

/**
 * zspp_debug_descriptor_size() - A zspage descriptor's size (test hook).
 * @pages: pages per zspage
 * @objs: slots per zspage
 *
 * What a zspage of a pool without writeback asks kmalloc for: the size-class
 * table picks each class's chain by the bytes per slot of its tail waste plus
 * this, at kmalloc's size for it (KUnit checks the choice against the
 * kernel's kmalloc_size_roundup()).
 *
 * Context: Any context.
 * Return: the descriptor's bytes.
 */
size_t zspp_debug_descriptor_size(unsigned int pages, unsigned int objs);

/**
 * zspp_debug_areas() - Bounce areas that exist now (test hook).
 *
 * Module-wide: the per-CPU areas, the spares and the areas held by a map of
 * an object that spans pages. An area freed after an RCU grace period (a
 * per-CPU one whose CPU went offline) counts until that period ends: call
 * rcu_barrier() first to see it gone.
 *
 * Context: Any context.
 * Return: the areas allocated and not yet freed.
 */
long zspp_debug_areas(void);

/**
 * zspp_debug_set_cpu_dead_hook() - Run a function inside CPU hot-unplug (test hook).
 * @fn: called with the dying CPU's number, or NULL to remove the hook
 *
 * @fn runs in the bounce areas' CPU-dead callback (the hotplug control task,
 * process context, the CPU hotplug lock held for writing, no zspp lock held)
 * at the point where the dead CPU's area is no longer reachable through its
 * per-CPU pointer and its owner may not have released it yet: an unmap by
 * a task that mapped on that CPU and moved must still find it there
 * (src/kernel/area.c). @fn may sleep and wait for such a task.
 *
 * Context: Process context; set and clear it around a remove_cpu().
 */
void zspp_debug_set_cpu_dead_hook(void (*fn)(unsigned int cpu));

#ifdef ZSPP_FOLD
/**
 * zspp_fold() - Store objects with identical bytes once (CONFIG_ZSPP_FOLD).
 * @pool: the pool
 *
 * Find objects of a class with identical bytes (xxh64, then a full compare)
 * and store them once, then compact what that freed
 * (Documentation/folding.rst). One pass at a time per pool: a concurrent
 * call returns 0 at once.
 *
 * Context: Process context, may sleep; drops its locks between small
 * batches.
 * Return: the pages freed.
 */
unsigned long zspp_fold(struct zspp_pool *pool);
/**
 * zspp_debug_fold_hash_bits() - Make fold hashes collide (test hook).
 * @pool: the pool
 * @bits: keep only the low @bits bits (0..64; 64, the default, keeps all)
 *        of each object's hash
 *
 * Different objects then collide; folding must still never merge them.
 *
 * Context: Any context; never sleeps.
 */
void zspp_debug_fold_hash_bits(struct zspp_pool *pool, unsigned int bits);
#endif

/**
 * zspp_pool_name() - A pool's name.
 * @pool: the pool
 *
 * Context: Any context; never sleeps.
 * Return: the name given at creation (the pool's copy, valid until it is
 * destroyed).
 */
const char *zspp_pool_name(struct zspp_pool *pool);
/**
 * zspp_pool_set_compact_slack() - Let the pool compact itself.
 * @pool: the pool
 * @permille: 0 (off, the default) or 1..1000: when a free leaves the pool's
 *            pages holding more than @permille/1000 of their bytes in no
 *            object's slot (free slots, and the tails no slot fits), and at
 *            least 64 pages, a work item compacts the pool, as the shrinker
 *            would. It runs again only once that slack has grown by another
 *            1/32 of the pool past what the last run left (what is pinned or
 *            in the classes' geometry stays).
 *
 * The compaction shrinker runs only under global memory pressure (on 6.12,
 * reclaim inside a memory cgroup calls memcg-aware shrinkers only, and
 * zsmalloc's and zspp's are not): a pool whose users churn inside a cgroup
 * otherwise keeps its holes until the whole machine is short of memory.
 *
 * Context: Task context, atomic allowed; never sleeps.
 */
void zspp_pool_set_compact_slack(struct zspp_pool *pool, unsigned int permille);
/**
 * zspp_pool_chain_size() - A pool's chain_size.
 * @pool: the pool
 *
 * Context: Any context; never sleeps.
 * Return: the chain_size given at creation.
 */
unsigned int zspp_pool_chain_size(struct zspp_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* ZSPP_ZSPP_H */
