// SPDX-License-Identifier: GPL-2.0
/*
 * Compaction under memory pressure: one shrinker per pool (as zsmalloc),
 * counting the pages compaction could free and compacting on scan.
 * (6.1 API: an embedded struct shrinker and register_shrinker(fmt).)
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/shrinker.h>

#include <zspp/shim.h>

struct zspp_shrinker {
	struct shrinker shrinker;
	struct zspp_pool *pool;
};

static unsigned long zspp_shrink_count(struct shrinker *s, struct shrink_control *sc)
{
	struct zspp_shrinker *zs = container_of(s, struct zspp_shrinker, shrinker);
	unsigned long pages = zspp_compactable_pages(zs->pool);

	return pages ? pages : SHRINK_EMPTY;
}

static unsigned long zspp_shrink_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct zspp_shrinker *zs = container_of(s, struct zspp_shrinker, shrinker);
	unsigned long freed = zspp_compact(zs->pool);

	return freed ? freed : SHRINK_STOP;
}

struct zspp_shrinker *zspp_shrinker_register(const char *name, struct zspp_pool *pool)
{
	struct zspp_shrinker *zs = kzalloc(sizeof(*zs), GFP_KERNEL);

	if (!zs)
		return NULL;
	zs->pool = pool;
	zs->shrinker.count_objects = zspp_shrink_count;
	zs->shrinker.scan_objects = zspp_shrink_scan;
	zs->shrinker.batch = 0;
	zs->shrinker.seeks = DEFAULT_SEEKS;
	if (register_shrinker(&zs->shrinker, "zspp-%s", name)) {
		pr_info("zspp: pool %s runs without a shrinker\n", name);
		kfree(zs);
		return NULL;
	}
	return zs;
}

void zspp_shrinker_unregister(struct zspp_shrinker *zs)
{
	unregister_shrinker(&zs->shrinker);
	kfree(zs);
}
