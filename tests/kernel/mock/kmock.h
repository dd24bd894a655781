/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mock kernel's controls (tests/kernel/mock/kmock.c): one simulated
 * machine in one host thread. Which CPU "runs" and which task is `current`
 * are two variables the test sets; another CPU's task runs by setting them
 * and calling into the code under test, either between two calls of the
 * test, or *inside* a call, at a sched point: the mock's spin_lock() (before
 * it takes the lock), its atomic read-modify-writes and xchg/cmpxchg (before
 * they act) each count as one. kmock_at_point(NULL, n, fn, arg) runs
 * fn(arg) at the n-th sched point from now, once, as if another CPU's task
 * had run entirely in that window: so every interleaving of a short path
 * with another task's whole operation can be enumerated by n (a name, such
 * as "atomic_fetch_or", counts only the points of that name).
 *
 * Included by the mock linux/ headers (C) and by the tests (C++).
 */
#ifndef KMOCK_H
#define KMOCK_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NR_CPUS 4
#define KMOCK_NR_PAGES 1024

struct task_struct {
	const char *comm;
};

/* The machine: CPUs 0..kmock_nr_cpus-1 possible (and online at reset). */
extern unsigned int kmock_nr_cpus;
extern unsigned int kmock_cpu;			/* the CPU running now */
extern struct task_struct *kmock_current;	/* `current` */
extern struct task_struct kmock_task0;		/* current after reset */

/* Reset everything but leaks (the live counts carry over: tests check them). */
void kmock_reset(unsigned int nr_cpus);
bool kmock_cpu_online(unsigned int cpu);
/*
 * CPU hotplug as the kernel's control task does it: @cpu offline, then each
 * registered state's teardown callback (dead) for it, run by a "cpuhp" task
 * on the lowest other online CPU; up: the startup callbacks (prepare), then
 * online. Return the first callback's error (up) or 0.
 */
int kmock_cpu_down(unsigned int cpu);
int kmock_cpu_up(unsigned int cpu);
extern struct task_struct kmock_cpuhp_task;

/* Sched points (see the top). */
typedef void (*kmock_fn)(void *arg);
void kmock_at_point(const char *what, unsigned int nth, kmock_fn fn, void *arg);
/* Whether the last kmock_at_point's fn has run, and at which point ("what"). */
bool kmock_point_fired(void);
const char *kmock_point_fired_at(void);
void kmock_point(const char *what);	/* called by the mock headers */

/* RCU: call_rcu() queues; a grace period runs the queue (no reader may be active). */
void kmock_rcu_grace_period(void);
unsigned int kmock_rcu_pending(void);

/*
 * Accounting: live kmalloc objects and pages, WARN*() hits (every hit,
 * not once per site: each test sees its own), and context violations (a
 * sleep or sleeping allocation while atomic or under RCU, a lock taken
 * twice, an unlock of a free lock, ...), each also printed to stderr.
 */
long kmock_live_objects(void);
long kmock_live_pages(void);
unsigned long kmock_warnings(void);
unsigned long kmock_violations(void);
const char *kmock_last_violation(void);
void kmock_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kmock_warn(const char *file, int line, const char *cond);

/* gfp bits, named by the mock's linux/gfp.h (the meaning, not the kernel's values). */
#define KMOCK_GFP_HIGHMEM		0x02u
#define KMOCK_GFP_MOVABLE		0x08u
#define KMOCK_GFP_IO			0x40u
#define KMOCK_GFP_FS			0x80u
#define KMOCK_GFP_ZERO			0x100u
#define KMOCK_GFP_DIRECT_RECLAIM	0x400u
#define KMOCK_GFP_KSWAPD_RECLAIM	0x800u
#define KMOCK_GFP_NOWARN		0x2000u
#define KMOCK_GFP_NOFAIL		0x8000u

/* Preemption disabled (spinlocks held) and RCU readers, per CPU. */
extern int kmock_preempt_count[NR_CPUS];
extern int kmock_rcu_depth[NR_CPUS];

/* Allocation faults: while set, allocations that may not sleep fail. */
extern bool kmock_fail_nowait;
/* The gfp of the last page / kmalloc allocation (as the caller passed it). */
extern unsigned int kmock_last_page_gfp, kmock_last_kmalloc_gfp;

#ifdef __cplusplus
}
#endif

#endif /* KMOCK_H */
