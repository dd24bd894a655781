// SPDX-License-Identifier: GPL-2.0
/*
 * zspp module: parameters, init and exit. The allocator itself is the C++
 * core in src/core/; this file wires it to the kernel.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>

#include <zspp/zspp.h>
#include "internal.h"

/* Read-only at runtime: pools are built with the value in force at creation. */
module_param_cb(chain_size, &zspp_chain_size_ops, &zspp_chain_size, 0444);
MODULE_PARM_DESC(chain_size,
		 "Max 0-order pages chained into one zspage: 1-16, or auto (the default: 16, or 8 for a pool that writes back, i.e. 6.1's zswap); set at load time");

module_param_cb(compact_slack, &zspp_compact_slack_ops, &zspp_compact_slack, 0444);
MODULE_PARM_DESC(compact_slack,
		 "A pool compacts itself (a work item) when frees leave more than this permille of its bytes in no object's slot: 0 (off) to 1000, or auto (the default: 50); set at load time (Documentation/design.rst)");

static int __init zspp_init(void)
{
	int ret;

	zspp_memmap_init();
	ret = zspp_core_init("zspp_handle");
	if (ret)
		return ret;
	ret = zspp_areas_init();
	if (ret) {
		zspp_core_exit();
		return ret;
	}
	zspp_debugfs_init("zspp");
	zspp_zpool_register("zspp");
	if (zspp_chain_size)
		pr_info("zspp: loaded (chain_size=%u)\n", zspp_chain_size);
	else
		pr_info("zspp: loaded (chain_size=auto: %u, %u with writeback)\n",
			zspp_pool_chain(false), zspp_pool_chain(true));
	return 0;
}

static void __exit zspp_exit(void)
{
	/* The module refcount (zpool driver owner) keeps us loaded while zswap uses a pool. */
	zspp_zpool_unregister();
	zspp_debugfs_exit();
	zspp_areas_exit();
	zspp_core_exit();
}

module_init(zspp_init);
module_exit(zspp_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("zspp developers");
MODULE_DESCRIPTION("zspp: compressed-memory allocator (zsmalloc design in C++) with a zpool driver");
MODULE_VERSION(ZSPP_VERSION);
MODULE_ALIAS("zpool-zspp");
