/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mock RCU: readers are counted per CPU; call_rcu() queues, and a grace
 * period (kmock_rcu_grace_period(), rcu_barrier()) runs the queue, which is
 * a violation while any reader is inside its critical section.
 */
#ifndef KMOCK_LINUX_RCUPDATE_H
#define KMOCK_LINUX_RCUPDATE_H

#include <linux/percpu.h>

#define rcu_read_lock() ((void)kmock_rcu_depth[kmock_cpu]++)
void rcu_read_unlock(void);
void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
void rcu_barrier(void);

#endif
