// SPDX-License-Identifier: GPL-2.0
// extern "C" entry points of include/zspp/zspp.h over zspp::Pool.
#include "pool.h"

using zspp::Pool;

namespace {
Pool *to_pool(zspp_pool *p) { return reinterpret_cast<Pool *>(p); }
} // namespace

extern "C" {

int zspp_core_init(const char *handle_cache) { return zspp::core_init(handle_cache).error(); }
void zspp_core_exit(void) { zspp::core_exit(); }

int zspp_create_pool(const char *name, unsigned int chain_size, struct zspp_pool **pool)
{
	zspp::Result<Pool *> r = Pool::create(name, chain_size);
	if (!r.ok())
		return r.error();
	*pool = reinterpret_cast<zspp_pool *>(r.value());
	return 0;
}

int zspp_create_pool_evictable(const char *name, unsigned int chain_size, zspp_evict_t evict, void *ctx,
			       struct zspp_pool **pool)
{
	if (!evict)
		return -ZSPP_EINVAL;
	zspp::Result<Pool *> r = Pool::create(name, chain_size, evict, ctx);
	if (!r.ok())
		return r.error();
	*pool = reinterpret_cast<zspp_pool *>(r.value());
	return 0;
}

void zspp_pool_set_compact_slack(struct zspp_pool *pool, unsigned int permille)
{
	to_pool(pool)->set_compact_slack(permille);
}

int zspp_reclaim(struct zspp_pool *pool, unsigned long pages, unsigned long *reclaimed)
{
	zspp::Result<unsigned long> r = to_pool(pool)->reclaim(pages);
	if (reclaimed)
		*reclaimed = r.ok() ? r.value() : 0;
	return r.error();
}

void zspp_destroy_pool(struct zspp_pool *pool)
{
	if (pool)
		to_pool(pool)->destroy();
}

int zspp_malloc(struct zspp_pool *pool, size_t size, zspp_gfp_t gfp, unsigned long *handle)
{
	zspp::Result<zspp::Handle> r = to_pool(pool)->malloc(size, gfp);
	if (!r.ok())
		return r.error();
	*handle = r.value().raw();
	return 0;
}

void zspp_free(struct zspp_pool *pool, unsigned long handle) { to_pool(pool)->free(zspp::Handle::from_user(handle)); }

void *zspp_map_object(struct zspp_pool *pool, unsigned long handle, enum zspp_mapmode mode)
{
	return to_pool(pool)->map(zspp::Handle::from_user(handle), mode);
}

void zspp_unmap_object(struct zspp_pool *pool, unsigned long handle) { to_pool(pool)->unmap(zspp::Handle::from_user(handle)); }

void *zspp_map_object_local(struct zspp_pool *pool, unsigned long handle, enum zspp_mapmode mode,
			    void *local_copy)
{
	return to_pool(pool)->map_local(zspp::Handle::from_user(handle), mode, local_copy);
}

void zspp_unmap_object_local(struct zspp_pool *pool, unsigned long handle, enum zspp_mapmode mode,
			     void *local_copy)
{
	to_pool(pool)->unmap_local(zspp::Handle::from_user(handle), mode, local_copy);
}

void *zspp_obj_read_begin(struct zspp_pool *pool, unsigned long handle, void *local_copy)
{
	return to_pool(pool)->read_begin(zspp::Handle::from_user(handle), local_copy);
}

void zspp_obj_read_end(struct zspp_pool *pool, unsigned long handle, void *)
{
	to_pool(pool)->read_end(zspp::Handle::from_user(handle));
}

int zspp_obj_write(struct zspp_pool *pool, unsigned long handle, const void *src, size_t len)
{
	return to_pool(pool)->write(zspp::Handle::from_user(handle), src, len).error();
}

size_t zspp_obj_size(struct zspp_pool *pool, unsigned long handle) { return to_pool(pool)->obj_size(zspp::Handle::from_user(handle)); }

unsigned long zspp_compact(struct zspp_pool *pool) { return to_pool(pool)->compact(); }

unsigned long zspp_compactable_pages(struct zspp_pool *pool) { return to_pool(pool)->compactable_pages(); }

unsigned long zspp_get_total_pages(struct zspp_pool *pool) { return to_pool(pool)->total_pages(); }

void zspp_pool_stats(struct zspp_pool *pool, struct zspp_pool_stats *stats) { to_pool(pool)->stats(stats); }

unsigned int zspp_nr_classes(struct zspp_pool *) { return zspp::kNumClassIndices; }

int zspp_class_stats(struct zspp_pool *pool, unsigned int idx, struct zspp_class_stats *stats)
{
	zspp::Result<bool> r = to_pool(pool)->class_stats(idx, stats);
	if (!r.ok())
		return r.error();
	return r.value() ? 1 : 0;
}

int zspp_debug_validate(struct zspp_pool *pool) { return to_pool(pool)->validate().error(); }

void *zspp_debug_handle_page(struct zspp_pool *pool, unsigned long handle)
{
	return to_pool(pool)->handle_page(zspp::Handle::from_user(handle));
}

size_t zspp_debug_descriptor_size(unsigned int pages, unsigned int objs)
{
	return zspp::ZsPage::descriptor_size(pages, objs, false);
}

const char *zspp_pool_name(struct zspp_pool *pool) { return to_pool(pool)->name(); }

unsigned int zspp_pool_chain_size(struct zspp_pool *pool) { return to_pool(pool)->chain(); }

} // extern "C"
