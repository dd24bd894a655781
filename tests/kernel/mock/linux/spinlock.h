/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mock: a spinlock is a flag. One host thread runs every simulated CPU, so
 * taking a held lock would spin for ever: it is a violation and aborts.
 * spin_lock() is a sched point before it takes the lock (kmock.h).
 */
#ifndef KMOCK_LINUX_SPINLOCK_H
#define KMOCK_LINUX_SPINLOCK_H

#include <linux/percpu.h>

typedef struct {
	int locked;
	unsigned int cpu;	/* the CPU that holds it */
} spinlock_t;

#define DEFINE_SPINLOCK(x) spinlock_t x = { 0, 0 }
#define spin_lock_init(l) ((void)((l)->locked = 0))
/* lockdep is off in the mock: classes are names only. */
struct lock_class_key {
	char unused;
};
#define lockdep_set_class_and_name(l, key, name) ((void)(l), (void)(key), (void)(name))
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);

#endif
