// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of include/zspp/shim.h: spinlocks, one lockdep class per kind.
 * Thin wrappers the C++ core calls instead of kernel headers (the
 * Rust-for-Linux "helpers" idea); one file per section of shim.h.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/bug.h>

#include <zspp/shim.h>
#include "internal.h"

/*
 * One lockdep class per kind of lock (not per call site: every lock comes
 * from here), so a report names the lock and the order is checked per kind.
 */
static struct lock_class_key zspp_lock_keys[ZSPP_LOCK_KINDS];
static const char *const zspp_lock_names[ZSPP_LOCK_KINDS] = {
	[ZSPP_LOCK_CLASS] = "zspp_class->lock",
	[ZSPP_LOCK_DEFER] = "zspp_pool->defer_lock",
};

struct zspp_spinlock *zspp_spin_alloc(enum zspp_lock_kind kind)
{
	spinlock_t *lock;

	if (WARN_ON_ONCE((unsigned int)kind >= ZSPP_LOCK_KINDS))
		return NULL;
	lock = kmalloc(sizeof(*lock), GFP_KERNEL);
	if (lock) {
		spin_lock_init(lock);
		lockdep_set_class_and_name(lock, &zspp_lock_keys[kind], zspp_lock_names[kind]);
	}
	return (struct zspp_spinlock *)lock;
}

#ifdef ZSPP_LOCKDEP
void zspp_lockdep_assert_held(struct zspp_spinlock *lock)
{
	lockdep_assert_held((spinlock_t *)lock);
}
#endif

void zspp_spin_free(struct zspp_spinlock *lock)
{
	kfree(lock);
}

#ifdef ZSPP_DIRECT_SPINLOCK
/*
 * The C++ core calls _raw_spin_lock()/_raw_spin_unlock() on a zspp_spinlock
 * itself (include/zspp/shim.h): right only where spin_lock()/spin_unlock()
 * are exactly those calls on the raw lock at the start of the spinlock_t.
 */
#if defined(CONFIG_PREEMPT_RT) || defined(CONFIG_INLINE_SPIN_LOCK) || !defined(CONFIG_UNINLINE_SPIN_UNLOCK)
#error "ZSPP_DIRECT_SPINLOCK: spin_lock()/spin_unlock() are not _raw_spin_lock()/_raw_spin_unlock() here"
#endif
static_assert(offsetof(spinlock_t, rlock) == 0);
#endif

void zspp_spin_lock(struct zspp_spinlock *lock)
{
	spin_lock((spinlock_t *)lock);
}

void zspp_spin_unlock(struct zspp_spinlock *lock)
{
	spin_unlock((spinlock_t *)lock);
}
