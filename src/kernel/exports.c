// SPDX-License-Identifier: GPL-2.0
/* The public API (include/zspp/zspp.h) is implemented in C++; export it here. */
#include <linux/module.h>
#include <linux/export.h>

#include <zspp/zspp.h>

EXPORT_SYMBOL_GPL(zspp_create_pool);
EXPORT_SYMBOL_GPL(zspp_destroy_pool);
EXPORT_SYMBOL_GPL(zspp_create_pool_evictable);
EXPORT_SYMBOL_GPL(zspp_reclaim);
EXPORT_SYMBOL_GPL(zspp_pool_set_compact_slack);
EXPORT_SYMBOL_GPL(zspp_malloc);
EXPORT_SYMBOL_GPL(zspp_free);
EXPORT_SYMBOL_GPL(zspp_map_object);
EXPORT_SYMBOL_GPL(zspp_unmap_object);
EXPORT_SYMBOL_GPL(zspp_obj_read_begin);
EXPORT_SYMBOL_GPL(zspp_obj_read_end);
EXPORT_SYMBOL_GPL(zspp_obj_write);
EXPORT_SYMBOL_GPL(zspp_obj_size);
EXPORT_SYMBOL_GPL(zspp_get_total_pages);
EXPORT_SYMBOL_GPL(zspp_pool_stats);
EXPORT_SYMBOL_GPL(zspp_nr_classes);
EXPORT_SYMBOL_GPL(zspp_class_stats);
EXPORT_SYMBOL_GPL(zspp_debug_validate);
EXPORT_SYMBOL_GPL(zspp_pool_name);
EXPORT_SYMBOL_GPL(zspp_pool_chain_size);
EXPORT_SYMBOL_GPL(zspp_compact);
EXPORT_SYMBOL_GPL(zspp_compactable_pages);
EXPORT_SYMBOL_GPL(zspp_debug_handle_page);
EXPORT_SYMBOL_GPL(zspp_debug_descriptor_size);
EXPORT_SYMBOL_GPL(zspp_debug_areas);
EXPORT_SYMBOL_GPL(zspp_debug_set_cpu_dead_hook);
#ifdef ZSPP_FOLD
EXPORT_SYMBOL_GPL(zspp_fold);
EXPORT_SYMBOL_GPL(zspp_debug_fold_hash_bits);
#endif
