/* SPDX-License-Identifier: GPL-2.0 */
/* Mock: `current` is kmock_current, which the test sets (struct task_struct in kmock.h). */
#ifndef KMOCK_LINUX_SCHED_H
#define KMOCK_LINUX_SCHED_H

#include <linux/kernel.h>

#define current (kmock_current)

#endif
