// SPDX-License-Identifier: GPL-2.0
// Userspace implementation of include/zspp/shim.h for the host tests and the
// fuzzer, plus the knobs the tests turn (tests/host/fake_shim.cpp).
//
// What the fake checks on every call (each breach is a "violation": counted,
// printed, and asserted to be zero by every test's fixture):
//   - a call the shim says MAY SLEEP (kmalloc/cache_alloc/page_alloc with a
//     gfp that allows direct reclaim, cache_create/destroy, spin_alloc,
//     area_get, cond_resched) made while the calling thread holds a zspp
//     spinlock;
//   - taking a second spinlock while holding one (locking.rst: one class lock
//     at a time), unlocking a lock the thread does not hold, freeing a held
//     lock;
//   - kfree/cache_free/page_free of something the fake did not hand out (or
//     already took back), freeing a page whose owner is still set (the
//     kernel's "bad page state"), destroying a cache with live objects;
//   - area_put of a buffer the calling thread did not get.
//
// Memory handed to the core is never zeroed (pages, kmalloc and cache objects
// are filled with junk) so the core cannot rely on zeroed memory, and freed
// memory is poisoned before it is released so ASan sees use-after-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include <zspp/shim.h>

// Kernel 6.1 gfp bit values (only what the fake interprets).
#define FAKE_GFP_HIGHMEM 0x02u
#define FAKE_GFP_MOVABLE 0x08u
#define FAKE_GFP_DIRECT_RECLAIM 0x400u
#define FAKE_GFP_KSWAPD_RECLAIM 0x800u
#define FAKE_GFP_KERNEL 0xcc0u                   /* IO|FS|DIRECT_RECLAIM|KSWAPD_RECLAIM */
#define FAKE_GFP_ATOMIC 0xa20u                   /* HIGH|ATOMIC|KSWAPD_RECLAIM: never sleeps */
#define FAKE_GFP_NOWAIT FAKE_GFP_KSWAPD_RECLAIM  /* never sleeps */
#define FAKE_GFP_NOIO (FAKE_GFP_DIRECT_RECLAIM | FAKE_GFP_KSWAPD_RECLAIM | 0x2000u /*NOWARN*/)
/* What zswap 6.1 passes to zpool_malloc. */
#define FAKE_GFP_ZSWAP (FAKE_GFP_KERNEL | 0x1000u /*NORETRY*/ | 0x2000u /*NOWARN*/ | FAKE_GFP_HIGHMEM | FAKE_GFP_MOVABLE)

namespace fake {

// ---- live objects (leak detection) ------------------------------------------
struct Counters {
	long pages = 0;          // zspp_page_alloc'd and not freed
	long kmallocs = 0;       // zspp_kmalloc'd and not kfree'd
	long kmalloc_bytes = 0;
	long cache_objs = 0;     // zspp_cache_alloc'd and not freed (quarantine excluded)
	long caches = 0;
	long spinlocks = 0;
	long areas = 0;          // bounce areas got and not put
	long shrinkers = 0;      // registered and not unregistered
	long work_items = 0;     // zspp_work_create'd and not destroyed
	bool operator==(const Counters &o) const
	{
		return pages == o.pages && kmallocs == o.kmallocs && kmalloc_bytes == o.kmalloc_bytes &&
		       cache_objs == o.cache_objs && caches == o.caches && spinlocks == o.spinlocks &&
		       areas == o.areas && shrinkers == o.shrinkers && work_items == o.work_items;
	}
	bool operator!=(const Counters &o) const { return !(*this == o); }
};
Counters live();
std::string to_string(const Counters &c);

// ---- failure injection ------------------------------------------------------
// Allocation points that can fail. zspp_area_get never fails (shim.h).
enum AllocKind : unsigned {
	kKmalloc = 1u << 0,
	kCacheAlloc = 1u << 1,
	kPageAlloc = 1u << 2,
	kSpinAlloc = 1u << 3,
	kCacheCreate = 1u << 4,
	kShrinkerRegister = 1u << 5, // register returns NULL: the pool runs without one
	kWorkCreate = 1u << 6,
	kAllKinds = 0x7fu,
};
// Attempts at allocation points (of every kind, failed or not) since start.
unsigned long alloc_calls();
unsigned long alloc_calls(AllocKind kind);
// Make the @n-th attempt from now (1-based) at an allocation point of one of
// @kinds fail (just that one). n == 0 disarms.
void fail_nth(unsigned long n, unsigned kinds = kAllKinds);
// Make each attempt at one of @kinds fail with probability @p (seeded).
void fail_random(double p, uint64_t seed, unsigned kinds = kAllKinds);
void fail_off();
// Failures injected since start.
unsigned long injected_failures();
// The kind of the last injected failure (0 if none yet).
unsigned last_failed_kind();
const char *kind_name(unsigned kind);
// The gfp passed to the last call at an allocation point of @kind (0 if none).
zspp_gfp_t last_gfp(AllocKind kind);

// RAII: count the allocation points of a sequence, or fail one of them.
class FailNth {
public:
	explicit FailNth(unsigned long n, unsigned kinds = kAllKinds) { fail_nth(n, kinds); }
	~FailNth() { fail_off(); }
};

// ---- contract violations (see the top of this file) -------------------------
unsigned long violations();
std::string last_violation();
// zspp's spinlocks the calling thread holds right now.
int locks_held();
// A spinlock of zspp's user (zswap's tree lock, the swap cluster lock):
// while one is held, anything in zspp that may sleep is a violation, as in
// the kernel. zspp's "one class lock at a time" rule does not count it.
class CallerSpinlock {
public:
	void lock();
	void unlock();

private:
	std::mutex mu_;
};

// ---- bad handles and logging ------------------------------------------------
unsigned long bad_handle_warnings();
std::string last_bad_handle_what();
unsigned long log_errors();
unsigned long log_infos();
std::string last_log_error();
// Silence the stderr echo of log lines and warnings (counting continues).
void set_quiet(bool quiet);

// ---- pages --------------------------------------------------------------------
// If @p lies in a live fake page: that page's owner (set_owner), else nullptr.
// @in_page (optional) is set to whether p is inside any live page at all.
void *owner_of_address(const void *p, bool *in_page = nullptr);
// Live page-owner registrations (pages with an owner set).
long owned_pages();

// ---- handle cache quarantine ------------------------------------------------
// Freed cache objects are not returned to malloc at once: up to @max of them
// stay allocated (readable, so a double free of a handle is a meaningful,
// ASan-clean test) with their contents treated per @poison. Older ones are
// released for real.
enum class FreedPoison {
	kKeep,     // leave whatever the core left (the core zeroes freed handles)
	kFreelist, // overwrite the first word with a pointer, like SLUB's freelist
	kPattern,  // fill with 0x6b (the kernel's POISON_FREE)
};
void set_cache_quarantine(std::size_t max, FreedPoison poison);

// ---- bounce areas -------------------------------------------------------------
// Areas ever handed out by zspp_area_get (module-wide, like areas_allocated).
unsigned long areas_got();
// The byte a fresh area is filled with (so WO maps can be checked).
constexpr uint8_t kAreaJunk = 0xa5;
// Release the areas the calling thread still holds (after a test showed one
// leaked, so later tests start clean). Returns how many there were.
long drop_thread_areas();

// ---- shrinkers (memory pressure) -------------------------------------------------
// Run every registered shrinker once, as reclaim would: count
// (zspp_compactable_pages), then scan (zspp_compact) if the count is non-zero.
// Returns the pages the scans reported freed; @counted gets the counts' sum.
unsigned long shrink_all(unsigned long *counted = nullptr);
long registered_shrinkers();
// Whether the shrinker registered for @pool exists.
bool has_shrinker(const zspp_pool *pool);

// ---- work items (zspp_work_*) ------------------------------------------------------
// By default each work item has its own thread (a workqueue). In manual
// mode (set before the pool is created) kicks only mark the item pending and
// run_pending_work() runs them on the calling thread.
void set_work_manual(bool manual);
unsigned long run_pending_work();
// Threaded mode: wait until no work item is pending or running.
void flush_work();

// ---- page migration (what the kernel's migration core does) ---------------------
enum class MigrateResult { kMoved, kBusy, kIsolateFailed, kNotMovable, kLocked, kReleased };
// The live fake page containing @p (nullptr if none).
zspp_page *page_of_address(const void *p);
bool page_is_movable(zspp_page *page);
// Migrate @src as the kernel does: trylock it, isolate
// (zspp_core_page_isolate), unlock, run @between (the window in which the
// page is isolated but unlocked: zspp may map, compact or free meanwhile),
// lock it again; if zspp released it meanwhile, stop (kReleased); else
// allocate a destination and call zspp_core_page_migrate. On success the old
// page is freed (owner and movable dropped) and the new one is movable; on
// -EAGAIN the destination is freed and the page stays.
MigrateResult migrate_page(zspp_page *src, const std::function<void()> &between = nullptr);
// Migrate a live page picked by @r (any fake page: non-zspp ones are
// refused), safe against concurrent frees (it holds a page reference).
MigrateResult migrate_random_page(uint64_t r);

// ---- scheduling points ------------------------------------------------------------
// Called (on the calling thread) from every zspp_cond_resched, i.e. wherever
// the core says it may sleep between steps (compaction between zspages), so
// a test can interleave other pool calls deterministically. Not re-entered
// from within itself. Pass nullptr to remove.
void set_resched_hook(std::function<void()> hook);
unsigned long resched_calls();
// Called (on the calling thread) from zspp_spin_lock just before it takes a
// lock, when the thread holds no zspp lock and is not already in a hook:
// what the hook does happens in the window between the caller's unlocked
// reads (racy hints, the handle word) and its locked section, as another
// CPU's task would. The hook usually counts calls (lock_calls()) to act at
// one chosen acquisition, and may call the pool. nullptr removes it.
void set_lock_hook(std::function<void()> hook);
// zspp_spin_lock calls since start.
unsigned long lock_calls();
// RAII for set_lock_hook / set_resched_hook: removed at scope end.
struct LockHook {
	explicit LockHook(std::function<void()> hook) { set_lock_hook(std::move(hook)); }
	~LockHook() { set_lock_hook(nullptr); }
};

// ---- reset --------------------------------------------------------------------
// Zero the event counters (violations, warnings, logs, injected failures).
// Live-object counters are never reset.
void reset_events();

} // namespace fake
