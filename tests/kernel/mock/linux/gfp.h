/* SPDX-License-Identifier: GPL-2.0 */
/* Mock: gfp flags (the kernel's meaning, not its values) and page allocation. */
#ifndef KMOCK_LINUX_GFP_H
#define KMOCK_LINUX_GFP_H

#include <linux/types.h>
#include "../kmock.h"

#define __GFP_HIGHMEM		KMOCK_GFP_HIGHMEM
#define __GFP_MOVABLE		KMOCK_GFP_MOVABLE
#define __GFP_IO		KMOCK_GFP_IO
#define __GFP_FS		KMOCK_GFP_FS
#define __GFP_ZERO		KMOCK_GFP_ZERO
#define __GFP_DIRECT_RECLAIM	KMOCK_GFP_DIRECT_RECLAIM
#define __GFP_KSWAPD_RECLAIM	KMOCK_GFP_KSWAPD_RECLAIM
#define __GFP_NOWARN		KMOCK_GFP_NOWARN
#define __GFP_NOFAIL		KMOCK_GFP_NOFAIL
#define __GFP_RECLAIM		(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)

#define GFP_KERNEL	(__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_NOIO	(__GFP_RECLAIM)
#define GFP_NOWAIT	(__GFP_KSWAPD_RECLAIM)

struct page;
/* Page-aligned host memory with a struct page (linux/mm.h: virt_to_page). */
struct page *alloc_page(gfp_t gfp);
void __free_page(struct page *page);
unsigned long __get_free_page(gfp_t gfp);
void free_page(unsigned long addr);

#endif
