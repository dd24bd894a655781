// SPDX-License-Identifier: GPL-2.0
/*
 * Compaction under memory pressure: one shrinker per pool (as zsmalloc),
 * counting the pages compaction could free and compacting on scan.
 * Up to 6.6 an embedded struct shrinker and register_shrinker(fmt); from
 * 6.7 shrinker_alloc/shrinker_register/shrinker_free (src/kernel/compat.h).
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/shrinker.h>

#include <zspp/shim.h>
#include "compat.h"

struct zspp_shrinker {
#if ZSPP_HAVE_SHRINKER_ALLOC
	struct shrinker *shrinker;
#else
	struct shrinker shrinker;
#endif
	struct zspp_pool *pool;
};

static struct zspp_shrinker *to_zs(struct shrinker *s)
{
#if ZSPP_HAVE_SHRINKER_ALLOC
	return s->private_data;
#else
	return container_of(s, struct zspp_shrinker, shrinker);
#endif
}

static unsigned long zspp_shrink_count(struct shrinker *s, struct shrink_control *sc)
{
	struct zspp_shrinker *zs = to_zs(s);
	unsigned long pages = zspp_compactable_pages(zs->pool);

	return pages ? pages : SHRINK_EMPTY;
}

static unsigned long zspp_shrink_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct zspp_shrinker *zs = to_zs(s);
	unsigned long freed = zspp_compact(zs->pool);

	return freed ? freed : SHRINK_STOP;
}

static void zspp_shrinker_setup(struct shrinker *s)
{
	s->count_objects = zspp_shrink_count;
	s->scan_objects = zspp_shrink_scan;
	s->batch = 0;
	s->seeks = DEFAULT_SEEKS;
}

struct zspp_shrinker *zspp_shrinker_register(const char *name, struct zspp_pool *pool)
{
	struct zspp_shrinker *zs = kzalloc(sizeof(*zs), GFP_KERNEL);

	if (!zs)
		return NULL;
	zs->pool = pool;
#if ZSPP_HAVE_SHRINKER_ALLOC
	zs->shrinker = shrinker_alloc(0, "zspp-%s", name);
	if (zs->shrinker) {
		zs->shrinker->private_data = zs;
		zspp_shrinker_setup(zs->shrinker);
		shrinker_register(zs->shrinker);
		return zs;
	}
#else
	zspp_shrinker_setup(&zs->shrinker);
	if (!register_shrinker(&zs->shrinker, "zspp-%s", name))
		return zs;
#endif
	pr_info("zspp: pool %s runs without a shrinker\n", name);
	kfree(zs);
	return NULL;
}

void zspp_shrinker_unregister(struct zspp_shrinker *zs)
{
#if ZSPP_HAVE_SHRINKER_ALLOC
	shrinker_free(zs->shrinker);
#else
	unregister_shrinker(&zs->shrinker);
#endif
	kfree(zs);
}
