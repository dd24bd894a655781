// SPDX-License-Identifier: GPL-2.0
/*
 * The zpool driver "zspp" over the public API, for the 6.1 zpool API and the
 * 6.12 one (src/kernel/compat.h). zswap finds it by
 * request_module("zpool-zspp") or, once loaded, by name. zsmalloc.ko
 * (src/kernel/zsmalloc_api.c) registers the same driver as "zsmalloc".
 */
#include <linux/module.h>
#include <linux/zpool.h>
#include <linux/slab.h>

#include <zspp/zspp.h>
#include "internal.h"
#include "compat.h"

struct zspp_zpool {
	struct zspp_pool *pool;
	void *debugfs;
	void *fold_worker;	/* CONFIG_ZSPP_FOLD, else NULL */
#if ZSPP_ZPOOL_HAS_EVICT
	/* The zpool user's writeback hook (zswap_writeback_entry), if any. */
	const struct zpool_ops *ops;
	struct zpool *zpool;
#endif
};

#if ZSPP_ZPOOL_HAS_EVICT
/* zspp_evict_t over zpool_ops->evict: called by zspp_reclaim, may sleep. */
static int zspp_zpool_evict(void *ctx, unsigned long handle)
{
	struct zspp_zpool *zp = ctx;

	return zp->ops->evict(zp->zpool, handle);
}

/*
 * Evictable only when the user can write objects back: then zspp keeps its
 * zspage LRU and zswap prepends its header for evict to find the swap
 * entry. Otherwise .shrink returns -EINVAL.
 */
static int zspp_zpool_new_pool(struct zspp_zpool *zp, const char *name,
			       const struct zpool_ops *ops, struct zpool *zpool)
{
	zp->ops = ops;
	zp->zpool = zpool;
	if (ops && ops->evict)
		return zspp_create_pool_evictable(name, zspp_pool_chain(true),
						  zspp_zpool_evict, zp, &zp->pool);
	return zspp_create_pool(name, zspp_pool_chain(false), &zp->pool);
}

static void *zspp_zpool_create(const char *name, gfp_t gfp,
			       const struct zpool_ops *ops, struct zpool *zpool)
#else
/* 6.12: zswap keeps its own LRU and writes back by itself; no evict. */
#define zspp_zpool_new_pool(zp, name, ops, zpool) \
	zspp_create_pool(name, zspp_pool_chain(false), &(zp)->pool)

static void *zspp_zpool_create(const char *name, gfp_t gfp)
#endif
{
	struct zspp_zpool *zp = kzalloc(sizeof(*zp), gfp);
	int err;

	if (!zp)
		return NULL;
	err = zspp_zpool_new_pool(zp, name, ops, zpool);
	if (err) {
		kfree(zp);
		return NULL;
	}
	zspp_pool_set_compact_slack(zp->pool, zspp_pool_compact_slack());
	zp->debugfs = zspp_debugfs_add(zp->pool);
	zp->fold_worker = zspp_fold_worker_start(zp->pool);
	return zp;
}

static void zspp_zpool_destroy(void *p)
{
	struct zspp_zpool *zp = p;

	/* Nothing may start a fold or compaction once the pool goes. */
	zspp_fold_worker_stop(zp->fold_worker);
	zspp_debugfs_remove(zp->debugfs);
	zspp_destroy_pool(zp->pool);
	kfree(zp);
}

static int zspp_zpool_malloc(void *p, size_t size, gfp_t gfp, unsigned long *handle)
{
	struct zspp_zpool *zp = p;

	return zspp_malloc(zp->pool, size, (__force zspp_gfp_t)gfp, handle);
}

static void zspp_zpool_free(void *p, unsigned long handle)
{
	struct zspp_zpool *zp = p;

	zspp_free(zp->pool, handle);
}

static void *zspp_zpool_map(void *p, unsigned long handle, enum zpool_mapmode mm)
{
	struct zspp_zpool *zp = p;
	enum zspp_mapmode mode;

	switch (mm) {
	case ZPOOL_MM_RO:
		mode = ZSPP_MM_RO;
		break;
	case ZPOOL_MM_WO:
		mode = ZSPP_MM_WO;
		break;
	case ZPOOL_MM_RW:
	default:
		mode = ZSPP_MM_RW;
		break;
	}
	return zspp_map_object(zp->pool, handle, mode);
}

static void zspp_zpool_unmap(void *p, unsigned long handle)
{
	struct zspp_zpool *zp = p;

	zspp_unmap_object(zp->pool, handle);
}

#if ZSPP_ZPOOL_HAS_EVICT
/*
 * zswap's shrink worker asks for one page when its pool limit is hit. The
 * writeback itself happens in evict (zswap_writeback_entry); see
 * Documentation/writeback.rst.
 */
static int zspp_zpool_shrink(void *p, unsigned int pages, unsigned int *reclaimed)
{
	struct zspp_zpool *zp = p;
	unsigned long done = 0;
	int err;

	err = zspp_reclaim(zp->pool, pages, &done);
	if (reclaimed)
		*reclaimed = done;
	return err;
}
#endif

#if ZSPP_ZPOOL_TOTAL_PAGES
static u64 zspp_zpool_total_pages(void *p)
{
	struct zspp_zpool *zp = p;

	return zspp_get_total_pages(zp->pool);
}
#else
static u64 zspp_zpool_total_size(void *p)
{
	struct zspp_zpool *zp = p;

	return (u64)zspp_get_total_pages(zp->pool) << PAGE_SHIFT;
}
#endif

static struct zpool_driver zspp_zpool_driver = {
	/* .type: set by zspp_zpool_register() */
	.owner =		THIS_MODULE,
	.create =		zspp_zpool_create,
	.destroy =		zspp_zpool_destroy,
	/* zspage pages are movable (src/kernel/migrate.c) when the kernel migrates. */
	.malloc_support_movable = IS_ENABLED(CONFIG_MIGRATION),
	.malloc =		zspp_zpool_malloc,
	.free =			zspp_zpool_free,
#if ZSPP_ZPOOL_HAS_EVICT
	.shrink =		zspp_zpool_shrink,
#endif
	/*
	 * Maps may sleep: nothing held across map/unmap disables preemption,
	 * so 6.1 zswap decompresses straight from the pool instead of copying
	 * into a GFP_ATOMIC bounce buffer that can fail (Documentation/reliability.rst).
	 */
	.sleep_mapped =		true,
	.map =			zspp_zpool_map,
	.unmap =		zspp_zpool_unmap,
#if ZSPP_ZPOOL_TOTAL_PAGES
	.total_pages =		zspp_zpool_total_pages,
#else
	.total_size =		zspp_zpool_total_size,
#endif
};

void zspp_zpool_register(const char *type)
{
	/* zspp.ko: "zspp"; zsmalloc.ko: "zsmalloc", in place of zsmalloc's own. */
	zspp_zpool_driver.type = (char *)type;
	zpool_register_driver(&zspp_zpool_driver);
}

int zspp_zpool_unregister(void)
{
	return zpool_unregister_driver(&zspp_zpool_driver);
}
