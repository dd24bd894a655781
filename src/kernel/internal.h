/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the module's C files (not part of the shim). */
#ifndef ZSPP_KERNEL_INTERNAL_H
#define ZSPP_KERNEL_INTERNAL_H

#include <zspp/zspp.h>

/*
 * params.c: the chain_size (pages per zspage, 1..16; 0: auto) and
 * compact_slack parameters and their ops; each module declares them itself.
 */
extern unsigned int zspp_chain_size;
extern unsigned int zspp_compact_slack;
#define ZSPP_COMPACT_SLACK_AUTO (~0u)
struct kernel_param_ops;
extern const struct kernel_param_ops zspp_chain_size_ops;
extern const struct kernel_param_ops zspp_compact_slack_ops;

/*
 * The chain a new zpool pool gets. auto: 16, as compaction releases the
 * pages past a part-full zspage's last object (so a long chain costs no
 * holes after churn; compact_slack runs it inside memory cgroups too, where
 * no shrinker does) and longer zspages waste less of their tail; 8 for a
 * pool that writes back (6.1's zswap), where writeback empties a whole
 * zspage per shrink call, so 16 would write back twice as much at once
 * (Documentation/writeback.rst).
 */
static inline unsigned int zspp_pool_chain(bool evictable)
{
	return zspp_chain_size ? zspp_chain_size : evictable ? 8 : 16;
}

/*
 * The compact_slack a new pool gets. auto: 50 permille, for every pool: under
 * a memory cgroup's limit neither zsmalloc's nor zspp's shrinker runs (they
 * are not memcg aware), so without it the holes a churning program leaves
 * stay until the whole machine is short of memory
 * (Documentation/benchmarks.md, "Churn": at chain 16, peaks 1.01-1.02x
 * zsmalloc's without, 0.65-0.91x with 50, about 3 object copies per page
 * freed). Pools that write back (6.1's zswap) get it too: compaction never
 * sees a zspage under reclaim (Documentation/locking.rst, "Writeback"), and
 * the one zswap entry the writeback end-to-end test once left behind with it
 * was the test's own tmpfs file, swapped out (tests/e2e/guest-init.sh,
 * exiters()).
 */
static inline unsigned int zspp_pool_compact_slack(void)
{
	if (zspp_compact_slack != ZSPP_COMPACT_SLACK_AUTO)
		return zspp_compact_slack;
	return 50;
}

/* migrate.c: the movable callbacks zspp_page_attach (shim_pages.c) sets. */
#ifdef CONFIG_MIGRATION
struct movable_operations;
extern const struct movable_operations zspp_mops;
#endif

/* area.c: per-CPU bounce areas (a dynamic cpuhp state). */
/* Fills the memmap view of zspp_pfn_owner_bounded() (shim.h): before any pool. */
void zspp_memmap_init(void);
int zspp_areas_init(void);
void zspp_areas_exit(void);
long zspp_areas_allocated(void);

/* debugfs.c: @root is the top directory's name (one per module). */
void zspp_debugfs_init(const char *root);
void zspp_debugfs_exit(void);
/* Returns an opaque cookie for zspp_debugfs_remove (NULL if none). */
void *zspp_debugfs_add(struct zspp_pool *pool);
void zspp_debugfs_remove(void *cookie);

/* fold.c (CONFIG_ZSPP_FOLD): the background fold worker of a zpool pool. */
#ifdef ZSPP_FOLD
void *zspp_fold_worker_start(struct zspp_pool *pool);	/* NULL: none */
void zspp_fold_worker_stop(void *cookie);
#else
static inline void *zspp_fold_worker_start(struct zspp_pool *pool) { return NULL; }
static inline void zspp_fold_worker_stop(void *cookie) { }
#endif

/* zpool.c: registers the zpool driver named @type (a string that lives on). */
void zspp_zpool_register(const char *type);
int zspp_zpool_unregister(void);

#endif
