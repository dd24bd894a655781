/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mock: a small mem_map of KMOCK_NR_PAGES struct pages, each backing one
 * page-aligned host allocation while allocated; pfn = index + KMOCK_PFN_BASE.
 * virt_to_page() of an address outside every allocated page is a violation
 * (and returns NULL).
 */
#ifndef KMOCK_LINUX_MM_H
#define KMOCK_LINUX_MM_H

#include <linux/gfp.h>
#include <linux/kernel.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define KMOCK_PFN_BASE 0x100ul

struct page {
	unsigned long flags;
	unsigned long private;
	void *virt;		/* NULL: free */
};

#define PG_private 1ul
#define PG_locked 2ul	/* linux/pagemap.h */

extern struct page kmock_mem_map[KMOCK_NR_PAGES];

#define page_private(page) ((page)->private)
#define set_page_private(page, v) ((void)((page)->private = (v)))
#define PagePrivate(page) (!!((page)->flags & PG_private))
#define SetPagePrivate(page) ((void)((page)->flags |= PG_private))
#define ClearPagePrivate(page) ((void)((page)->flags &= ~PG_private))

struct page *virt_to_page(const void *addr);
/* No CONFIG_MIGRATION: a page is never movable. */
#define __PageMovable(page) ((void)(page), false)
#define __ClearPageMovable(page) ((void)(page))
/* The mock's pages have one reference: put_page() frees. */
void put_page(struct page *page);
void *page_address(const struct page *page);
#define page_to_pfn(page) ((unsigned long)((page) - kmock_mem_map) + KMOCK_PFN_BASE)
#define pfn_valid(pfn) ((pfn) >= KMOCK_PFN_BASE && (pfn) < KMOCK_PFN_BASE + KMOCK_NR_PAGES)
#define pfn_to_page(pfn) (&kmock_mem_map[(pfn) - KMOCK_PFN_BASE])

#endif
