/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mock: the page lock is a flag (one host thread runs every simulated CPU,
 * so a lock that is held is a violation, not a wait).
 */
#ifndef KMOCK_LINUX_PAGEMAP_H
#define KMOCK_LINUX_PAGEMAP_H

#include <linux/mm.h>

bool trylock_page(struct page *page);
void lock_page(struct page *page);
void unlock_page(struct page *page);

#endif
