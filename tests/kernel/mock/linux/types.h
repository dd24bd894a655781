/* SPDX-License-Identifier: GPL-2.0 */
/* Mock: the kernel's basic types over the host's. */
#ifndef KMOCK_LINUX_TYPES_H
#define KMOCK_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef unsigned int gfp_t;

#define __force

struct list_head {
	struct list_head *next, *prev;
};

struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

#endif
