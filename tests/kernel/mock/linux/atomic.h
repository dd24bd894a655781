/* SPDX-License-Identifier: GPL-2.0 */
/* Mock: atomics over the compiler's; each read-modify-write is a sched point (kmock.h). */
#ifndef KMOCK_LINUX_ATOMIC_H
#define KMOCK_LINUX_ATOMIC_H

#include <linux/kernel.h>

typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;

#define ATOMIC_INIT(i) { (i) }
#define ATOMIC_LONG_INIT(i) { (i) }

#define atomic_read(v) __atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic_set(v, i) __atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)
#define atomic_long_read(v) __atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)

static inline int atomic_cmpxchg(atomic_t *v, int old, int new)
{
	kmock_point("atomic_cmpxchg");
	__atomic_compare_exchange_n(&v->counter, &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return old;
}

static inline int atomic_fetch_or(int i, atomic_t *v)
{
	kmock_point("atomic_fetch_or");
	return __atomic_fetch_or(&v->counter, i, __ATOMIC_SEQ_CST);
}

static inline int atomic_fetch_andnot(int i, atomic_t *v)
{
	kmock_point("atomic_fetch_andnot");
	return __atomic_fetch_and(&v->counter, ~i, __ATOMIC_SEQ_CST);
}

static inline void atomic_long_inc(atomic_long_t *v)
{
	__atomic_fetch_add(&v->counter, 1, __ATOMIC_RELAXED);
}

static inline void atomic_long_dec(atomic_long_t *v)
{
	__atomic_fetch_sub(&v->counter, 1, __ATOMIC_RELAXED);
}

#define xchg(p, v) ({ kmock_point("xchg"); __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST); })

#endif
