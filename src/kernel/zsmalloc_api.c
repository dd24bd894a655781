// SPDX-License-Identifier: GPL-2.0
/*
 * zsmalloc.ko over zspp: Linux 6.1's zs_* API (the ten symbols zram.ko
 * imports) with zsmalloc's semantics, and the zpool driver "zsmalloc", both
 * backed by the same C++ core as zspp.ko. Named zsmalloc so that the stock
 * zram.ko (and zswap's zpool=zsmalloc) bind to it in place of the kernel's
 * zsmalloc.ko when depmod prefers it (Documentation/zram.rst). Its exports
 * see the same <linux/zsmalloc.h> as mm/zsmalloc.c, so genksyms gives them
 * the same modversions CRCs.
 *
 * Context rules are zsmalloc's, stricter than zspp's zpool ones: zram calls
 * zs_malloc with preemption off (a gfp without direct reclaim) and maps
 * under its slot bit-spinlock, inside zcomp_stream_get(). So a map here never
 * sleeps: it uses zspp_map_object_local() with a per-CPU buffer for objects
 * that span two pages, held with preemption off until zs_unmap_object(), as
 * zsmalloc's own per-CPU mapping area is.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/zsmalloc.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/percpu.h>
#include <linux/local_lock.h>
#include <linux/preempt.h>
#include <linux/bug.h>

#include <zspp/zspp.h>
#include "internal.h"

module_param_cb(chain_size, &zspp_chain_size_ops, &zspp_chain_size, 0444);
MODULE_PARM_DESC(chain_size,
		 "Max 0-order pages chained into one zspage: 1-16, or auto (the default: 16, or 8 for a zswap pool that writes back); set at load time");
module_param_cb(compact_slack, &zspp_compact_slack_ops, &zspp_compact_slack, 0444);
MODULE_PARM_DESC(compact_slack,
		 "A pool compacts itself (a work item) when frees leave more than this permille of its bytes in no object's slot: 0 (off) to 1000, or auto (the default: 50); set at load time");

/* zsmalloc's ZS_MAX_ALLOC_SIZE (mm/zsmalloc.c, not in the header). */
#define ZS_MAX_ALLOC_SIZE PAGE_SIZE

/*
 * struct zs_pool stays opaque here, as in <linux/zsmalloc.h>: genksyms
 * would fold a definition of it into every export's CRC. Callers' pool
 * pointers are a struct zspp_zs_pool.
 */
struct zspp_zs_pool {
	struct zspp_pool *pool;
	void *debugfs;
	size_t huge_class_size;
};

static struct zspp_zs_pool *zs(struct zs_pool *pool)
{
	return (struct zspp_zs_pool *)pool;
}

/*
 * One map at a time per CPU, preemption off from zs_map_object() to
 * zs_unmap_object() (zsmalloc's mapping_area has the same local_lock): the
 * buffer an object spanning two pages is copied to, and what the unmap needs.
 */
struct zs_map_cpu {
	local_lock_t lock;
	void *buf;			/* ZS_MAX_ALLOC_SIZE bytes */
	unsigned long handle;
	enum zspp_mapmode mode;
};

static DEFINE_PER_CPU(struct zs_map_cpu, zs_map_cpu) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

/*
 * The smallest request zsmalloc's meaning of "huge" covers in this pool: the
 * first size whose class keeps one object in a one-page zspage, so storing
 * it saves nothing over the page itself (zram then stores such pages
 * uncompressed). zsmalloc on 6.1 chains at most 4 pages, so its huge
 * classes start near 3.2 KiB; zspp's table packs even 4096-byte slots
 * several to a zspage once chain_size is 2 or more, so there no class is
 * huge and this is PAGE_SIZE: only pages that do not compress below a page
 * are stored as they are (chain_size=1: 2049). A class index merged into a
 * larger one reports the geometry of the class that serves it; requests
 * land in the first index whose size is at least theirs.
 */
static size_t zspp_huge_class_size(struct zspp_pool *pool)
{
	unsigned int i, n = zspp_nr_classes(pool);
	struct zspp_class_stats cs;
	size_t below = 0;

	for (i = 0; i < n; i++) {
		if (zspp_class_stats(pool, i, &cs) < 0)
			break;
		if (cs.objs_per_zspage == 1 && cs.pages_per_zspage == 1)
			return below + 1;
		below = cs.size;
	}
	/* No huge class: nothing is worth storing uncompressed but a full page. */
	return ZS_MAX_ALLOC_SIZE;
}

struct zs_pool *zs_create_pool(const char *name)
{
	struct zspp_zs_pool *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	/* No writeback here: zram does its own (to its backing device). */
	if (zspp_create_pool(name, zspp_pool_chain(false), &p->pool)) {
		kfree(p);
		return NULL;
	}
	zspp_pool_set_compact_slack(p->pool, zspp_pool_compact_slack());
	p->huge_class_size = zspp_huge_class_size(p->pool);
	p->debugfs = zspp_debugfs_add(p->pool);
	return (struct zs_pool *)p;
}
EXPORT_SYMBOL_GPL(zs_create_pool);

void zs_destroy_pool(struct zs_pool *pool)
{
	struct zspp_zs_pool *p = zs(pool);

	zspp_debugfs_remove(p->debugfs);
	zspp_destroy_pool(p->pool);
	kfree(p);
}
EXPORT_SYMBOL_GPL(zs_destroy_pool);

/*
 * A handle, or an ERR_PTR value (-EINVAL for a size zsmalloc refuses,
 * -ENOMEM), as 6.1's zsmalloc: zram tests it with IS_ERR(). zspp's handles
 * are slab addresses, never in the error range, and never 0.
 */
unsigned long zs_malloc(struct zs_pool *pool, size_t size, gfp_t gfp)
{
	unsigned long handle;
	int err;

	if (unlikely(!size || size > ZS_MAX_ALLOC_SIZE))
		return (unsigned long)ERR_PTR(-EINVAL);
	err = zspp_malloc(zs(pool)->pool, size, (__force zspp_gfp_t)gfp, &handle);
	if (err)
		return (unsigned long)ERR_PTR(err);
	return handle;
}
EXPORT_SYMBOL_GPL(zs_malloc);

/* zsmalloc ignores 0 and error values: zram frees a failed zs_malloc's result. */
void zs_free(struct zs_pool *pool, unsigned long handle)
{
	if (IS_ERR_OR_NULL((void *)handle))
		return;
	zspp_free(zs(pool)->pool, handle);
}
EXPORT_SYMBOL_GPL(zs_free);

size_t zs_huge_class_size(struct zs_pool *pool)
{
	return zs(pool)->huge_class_size;
}
EXPORT_SYMBOL_GPL(zs_huge_class_size);

void *zs_map_object(struct zs_pool *pool, unsigned long handle, enum zs_mapmode mm)
{
	struct zs_map_cpu *m;
	enum zspp_mapmode mode;

	/* zsmalloc BUG()s here: its per-CPU area cannot be shared with an IRQ. */
	WARN_ON_ONCE(in_interrupt());
	switch (mm) {
	case ZS_MM_RO:
		mode = ZSPP_MM_RO;
		break;
	case ZS_MM_WO:
		mode = ZSPP_MM_WO;
		break;
	case ZS_MM_RW:
	default:
		mode = ZSPP_MM_RW;
		break;
	}
	/* Held until zs_unmap_object(), even for a bad handle: it always comes. */
	local_lock(&zs_map_cpu.lock);
	m = this_cpu_ptr(&zs_map_cpu);
	m->handle = handle;
	m->mode = mode;
	return zspp_map_object_local(zs(pool)->pool, handle, mode, m->buf);
}
EXPORT_SYMBOL_GPL(zs_map_object);

void zs_unmap_object(struct zs_pool *pool, unsigned long handle)
{
	struct zs_map_cpu *m = this_cpu_ptr(&zs_map_cpu);

	WARN_ON_ONCE(m->handle != handle);
	zspp_unmap_object_local(zs(pool)->pool, handle, m->mode, m->buf);
	m->handle = 0;
	local_unlock(&zs_map_cpu.lock);
}
EXPORT_SYMBOL_GPL(zs_unmap_object);

unsigned long zs_get_total_pages(struct zs_pool *pool)
{
	return zspp_get_total_pages(zs(pool)->pool);
}
EXPORT_SYMBOL_GPL(zs_get_total_pages);

/*
 * The pages compaction freed, net of the pages its moves gave destinations;
 * zspp's pages_compacted counts the same, shrinker-driven runs included, as
 * zsmalloc's does.
 */
unsigned long zs_compact(struct zs_pool *pool)
{
	return zspp_compact(zs(pool)->pool);
}
EXPORT_SYMBOL_GPL(zs_compact);

void zs_pool_stats(struct zs_pool *pool, struct zs_pool_stats *stats)
{
	struct zspp_pool_stats s;

	zspp_pool_stats(zs(pool)->pool, &s);
	atomic_long_set(&stats->pages_compacted, s.pages_compacted);
}
EXPORT_SYMBOL_GPL(zs_pool_stats);

static void zs_map_bufs_free(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		kfree(per_cpu_ptr(&zs_map_cpu, cpu)->buf);
		per_cpu_ptr(&zs_map_cpu, cpu)->buf = NULL;
	}
}

/* One buffer per possible CPU, up front: maps cannot allocate. */
static int zs_map_bufs_alloc(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		void *buf = kmalloc(ZS_MAX_ALLOC_SIZE, GFP_KERNEL);

		if (!buf) {
			zs_map_bufs_free();
			return -ENOMEM;
		}
		per_cpu_ptr(&zs_map_cpu, cpu)->buf = buf;
	}
	return 0;
}

static int __init zspp_zsmalloc_init(void)
{
	int ret;

	/* A map's local copy holds any object zs_malloc accepts. */
	BUILD_BUG_ON(ZS_MAX_ALLOC_SIZE > ZSPP_MAX_ALLOC_SIZE);
	ret = zs_map_bufs_alloc();
	if (ret)
		return ret;
	zspp_memmap_init();
	ret = zspp_core_init("zspp_zsmalloc_handle");
	if (ret)
		goto out_bufs;
	/* The zpool driver's maps (zswap's) use zspp's bounce areas. */
	ret = zspp_areas_init();
	if (ret)
		goto out_core;
	zspp_debugfs_init("zspp-zsmalloc");
	zspp_zpool_register("zsmalloc");
	pr_info("zsmalloc: zspp %s provides zsmalloc (zs_* API and zpool driver zsmalloc; chain_size=%u)\n",
		ZSPP_VERSION, zspp_pool_chain(false));
	return 0;
out_core:
	zspp_core_exit();
out_bufs:
	zs_map_bufs_free();
	return ret;
}

static void __exit zspp_zsmalloc_exit(void)
{
	/* zram holds a reference (its imports); zswap's pools hold the driver's. */
	zspp_zpool_unregister();
	zspp_debugfs_exit();
	zspp_areas_exit();
	zspp_core_exit();
	zs_map_bufs_free();
}

module_init(zspp_zsmalloc_init);
module_exit(zspp_zsmalloc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("zspp developers");
MODULE_DESCRIPTION("zsmalloc API (6.1) and zpool driver zsmalloc backed by zspp");
MODULE_VERSION(ZSPP_VERSION);
MODULE_ALIAS("zpool-zsmalloc");
