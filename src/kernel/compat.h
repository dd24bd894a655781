/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels zspp builds for: Debian 12's
 * stock 6.1 and 6.12 (the only two tested; the cut-over versions below are
 * upstream's, so kernels in between should build but are not tested).
 *
 * Every kernel-version test of the module lives here, as a ZSPP_* switch,
 * and is used only by the C files of src/kernel/. The C++ core never sees
 * one (include/zspp/shim.h is the same on every kernel).
 */
#ifndef ZSPP_KERNEL_COMPAT_H
#define ZSPP_KERNEL_COMPAT_H

#include <linux/version.h>

/*
 * zpool_driver up to 6.4: create(name, gfp, ops, zpool), zpool_ops.evict and
 * the .shrink op (the allocator drives zswap's writeback). 6.5 moved the LRU
 * into zswap ("mm: zswap: remove shrink from zpool interface"): create(name,
 * gfp), no shrink/evict.
 */
#define ZSPP_ZPOOL_HAS_EVICT	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0))

/* zpool_driver.total_size (bytes) became total_pages in 6.10. */
#define ZSPP_ZPOOL_TOTAL_PAGES	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0))

/*
 * Shrinkers: an embedded struct shrinker with register_shrinker(s, fmt, ...)
 * up to 6.6; shrinker_alloc/shrinker_register/shrinker_free from 6.7.
 */
#define ZSPP_HAVE_SHRINKER_ALLOC (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0))

#endif /* ZSPP_KERNEL_COMPAT_H */
