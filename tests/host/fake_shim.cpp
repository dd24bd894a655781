// SPDX-License-Identifier: GPL-2.0
// Userspace implementation of include/zspp/shim.h. See fake_shim.h for what
// it checks and the controls it offers.
#include "fake_shim.h"

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

// ---- event counters -------------------------------------------------------------
std::atomic<long> g_pages, g_kmallocs, g_kmalloc_bytes, g_cache_objs, g_caches, g_spinlocks, g_areas, g_shrinkers,
	g_work_items;
std::atomic<bool> g_work_manual{false};
std::mutex g_work_mu;
std::unordered_set<zspp_work *> g_works;
std::atomic<unsigned long> g_violations, g_bad_handles, g_log_errors, g_log_infos, g_injected, g_areas_got;
std::atomic<unsigned long> g_alloc_calls[7];
std::atomic<zspp_gfp_t> g_last_gfp[7];
std::atomic<unsigned> g_last_failed_kind;
std::atomic<unsigned long> g_resched_calls;
std::mutex g_hook_mu;
std::function<void()> g_resched_hook;
std::function<void()> g_lock_hook;
std::atomic<unsigned long> g_lock_calls;
thread_local bool t_in_hook;
std::atomic<bool> g_quiet{false};
std::mutex g_text_mu; // guards the strings below
std::string g_last_violation, g_last_bad_handle, g_last_error;

void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void violation(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	g_violations++;
	{
		std::lock_guard<std::mutex> g(g_text_mu);
		g_last_violation = buf;
	}
	// Always printed: a violation is a test failure.
	fprintf(stderr, "[fake-shim] CONTRACT VIOLATION: %s\n", buf);
}

// ---- per-thread state ---------------------------------------------------------------
struct Area {
	void *buf;
	unsigned long tag;
	int mode;
};
struct ThreadState {
	int locks_held = 0;
	int caller_locks = 0; // fake::CallerSpinlock: the user's own spinlocks (zswap's tree lock)
	std::vector<Area> areas; // busy areas this thread got, in order
};
thread_local ThreadState t_state;

void might_sleep(const char *what)
{
	if (t_state.locks_held + t_state.caller_locks)
		violation("%s may sleep but is called with %d spinlock(s) held", what,
			  t_state.locks_held + t_state.caller_locks);
}

// zspp allocates nothing under its spinlocks, not even with a gfp that
// cannot sleep (GFP_ATOMIC dips into reserves; the folding RFC did that in a loop,
// Documentation/folding.rst).
void might_sleep_gfp(const char *what, zspp_gfp_t gfp)
{
	if (t_state.locks_held)
		violation("%s (gfp %#x) called with %d spinlock(s) held: zspp allocates outside its locks", what,
			  gfp, t_state.locks_held);
	else if (t_state.caller_locks && (gfp & FAKE_GFP_DIRECT_RECLAIM))
		violation("%s (gfp %#x) may sleep but the caller holds %d spinlock(s)", what, gfp,
			  t_state.caller_locks);
}

// ---- failure injection ----------------------------------------------------------------
std::mutex g_fail_mu;
unsigned g_fail_kinds;
unsigned long g_fail_countdown; // 0: off
double g_fail_p;
std::mt19937_64 g_fail_rng;

int kind_bit(fake::AllocKind k) { return __builtin_ctz(unsigned(k)); }

// Count one attempt at an allocation point; true if it must fail.
bool should_fail(fake::AllocKind kind, zspp_gfp_t gfp = FAKE_GFP_KERNEL)
{
	g_alloc_calls[kind_bit(kind)]++;
	g_last_gfp[kind_bit(kind)] = gfp;
	std::lock_guard<std::mutex> g(g_fail_mu);
	if (!(g_fail_kinds & kind))
		return false;
	bool fail = false;
	if (g_fail_countdown) {
		if (--g_fail_countdown == 0) {
			fail = true;
			g_fail_kinds = 0;
		}
	} else if (g_fail_p > 0) {
		fail = std::uniform_real_distribution<double>(0, 1)(g_fail_rng) < g_fail_p;
	}
	if (fail) {
		g_injected++;
		g_last_failed_kind = kind;
	}
	static const bool trace = getenv("FAKE_SHIM_TRACE") != nullptr;
	if (trace) {
		fprintf(stderr, "[fake-shim] alloc point %lu: %s%s\n", fake::alloc_calls(), fake::kind_name(kind),
			fail ? " FAILED (injected)" : "");
	}
	return fail;
}

void fill_junk(void *p, size_t n, uint8_t seed)
{
	auto *b = static_cast<uint8_t *>(p);
	for (size_t i = 0; i < n; i++)
		b[i] = uint8_t(seed + i * 37);
}

// ---- kmalloc --------------------------------------------------------------------------
std::mutex g_kmalloc_mu;
std::unordered_map<const void *, size_t> g_kmalloc_live;

// ---- pages -------------------------------------------------------------------------------
constexpr uint32_t kPageMagic = 0x9a6e9a6e;
std::mutex g_page_mu;
std::map<unsigned long, zspp_page *> g_pages_by_pfn; // ordered: owner_of_address
long g_owned_pages;

} // namespace

struct zspp_page {
	uint32_t magic;
	bool has_owner;
	bool movable;
	void *owner;
	void *mem;
	unsigned long pfn;
	// The page lock (a sleeping lock in the kernel).
	std::mutex lock_mu;
	std::condition_variable lock_cv;
	const void *lock_holder = nullptr; // ThreadState of the holder, under lock_mu
	// References held by fake::migrate_page (the kernel's get_page): a free
	// then only detaches the page from zspp; the struct and memory live
	// until the last reference goes.
	int refs = 0;
	bool released = false;
};

struct zspp_work {
	void (*fn)(void *);
	void *arg;
	std::mutex mu;
	std::condition_variable cv;
	bool pending = false, running = false, stopping = false;
	unsigned long runs = 0;
	std::thread thread; // a one-item workqueue (unless the fake runs work manually)
};

struct zspp_cache {
	std::string name;
	unsigned size;
	std::mutex mu;
	std::unordered_set<void *> live;
	std::deque<void *> quarantine;
};

struct zspp_spinlock {
	uint32_t magic;
	zspp_lock_kind kind;
	std::atomic_flag flag = ATOMIC_FLAG_INIT;
	std::atomic<const ThreadState *> holder{nullptr};
};

struct zspp_shrinker {
	zspp_pool *pool;
	std::string name;
};

namespace {
// Registered shrinkers. Held across a scan, so unregister waits for a running
// scan (as unregister_shrinker does). Not a zspp spinlock: scans may sleep.
std::mutex g_shrink_mu;
std::vector<zspp_shrinker *> g_shrinker_list;
constexpr uint32_t kSpinMagic = 0x5b1b10c5;
std::atomic<size_t> g_quarantine_max{1u << 16};
std::atomic<fake::FreedPoison> g_freed_poison{fake::FreedPoison::kKeep};
void *g_last_freed_obj; // for the kFreelist poison (racy on purpose: any pointer will do)
} // namespace

// A fresh fake page: junk-filled memory, registered by pfn, counted live.
static zspp_page *new_page_struct(uint8_t junk)
{
	void *mem = aligned_alloc(ZSPP_PAGE_SIZE, ZSPP_PAGE_SIZE);
	if (!mem)
		abort();
	fill_junk(mem, ZSPP_PAGE_SIZE, junk);
	auto *page = new zspp_page;
	page->magic = kPageMagic;
	page->has_owner = false;
	page->movable = false;
	page->owner = nullptr;
	page->mem = mem;
	page->pfn = uintptr_t(mem) >> ZSPP_PAGE_SHIFT;
	std::lock_guard<std::mutex> g(g_page_mu);
	g_pages_by_pfn[page->pfn] = page;
	g_pages++;
	return page;
}

extern "C" {

const zspp_gfp_t zspp_gfp_kernel = FAKE_GFP_KERNEL;
const zspp_gfp_t zspp_gfp_noio = FAKE_GFP_NOIO;
const zspp_gfp_t zspp_gfp_nowait = FAKE_GFP_NOWAIT;

void *zspp_kvmalloc(size_t size) { return zspp_kmalloc(size, FAKE_GFP_KERNEL); }
void zspp_kvfree(void *ptr) { zspp_kfree(ptr); }

// XXH64 (seed 0) as lib/xxhash.c computes it, over two pieces.
unsigned long long zspp_xxh64(const void *a, size_t alen, const void *b, size_t blen)
{
	static thread_local std::vector<uint8_t> buf;
	buf.assign(static_cast<const uint8_t *>(a), static_cast<const uint8_t *>(a) + alen);
	if (blen)
		buf.insert(buf.end(), static_cast<const uint8_t *>(b), static_cast<const uint8_t *>(b) + blen);
	const uint64_t P1 = 11400714785074694791ull, P2 = 14029467366897019727ull, P3 = 1609587929392839161ull,
		       P4 = 9650029242287828579ull, P5 = 2870177450012600261ull;
	auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
	auto round = [&](uint64_t acc, uint64_t in) { return rotl(acc + in * P2, 31) * P1; };
	auto merge = [&](uint64_t acc, uint64_t v) { return (acc ^ round(0, v)) * P1 + P4; };
	auto rd64 = [](const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; };
	auto rd32 = [](const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return uint64_t(v); };
	const uint8_t *p = buf.data(), *end = p + buf.size();
	uint64_t h;
	if (buf.size() >= 32) {
		uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1;
		for (; p + 32 <= end; p += 32) {
			v1 = round(v1, rd64(p));
			v2 = round(v2, rd64(p + 8));
			v3 = round(v3, rd64(p + 16));
			v4 = round(v4, rd64(p + 24));
		}
		h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
		h = merge(merge(merge(merge(h, v1), v2), v3), v4);
	} else {
		h = P5;
	}
	h += buf.size();
	for (; p + 8 <= end; p += 8)
		h = rotl(h ^ round(0, rd64(p)), 27) * P1 + P4;
	if (p + 4 <= end) {
		h = rotl(h ^ (rd32(p) * P1), 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl(h ^ (*p * P5), 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

// SLUB's kmalloc buckets on x86-64 (kmalloc_size_roundup): 8..8192 with 96
// and 192, then whole pages.
size_t zspp_kmalloc_size(size_t size)
{
	static const size_t buckets[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};
	if (size == 0)
		return 0;
	for (size_t b : buckets)
		if (size <= b)
			return b;
	size_t bytes = ZSPP_PAGE_SIZE;
	while (bytes < size)
		bytes <<= 1;
	return bytes;
}

void *zspp_kmalloc(size_t size, zspp_gfp_t gfp)
{
	might_sleep_gfp("zspp_kmalloc", gfp);
	if (should_fail(fake::kKmalloc, gfp))
		return nullptr;
	void *p = malloc(size ? size : 1);
	if (!p)
		abort();
	fill_junk(p, size, 0xbb);
	{
		std::lock_guard<std::mutex> g(g_kmalloc_mu);
		g_kmalloc_live[p] = size;
	}
	g_kmallocs++;
	g_kmalloc_bytes += long(zspp_kmalloc_size(size));
	return p;
}

void zspp_kfree(const void *ptr)
{
	if (!ptr)
		return;
	size_t size;
	{
		std::lock_guard<std::mutex> g(g_kmalloc_mu);
		auto it = g_kmalloc_live.find(ptr);
		if (it == g_kmalloc_live.end()) {
			violation("zspp_kfree(%p): not a live kmalloc", ptr);
			return;
		}
		size = it->second;
		g_kmalloc_live.erase(it);
	}
	memset(const_cast<void *>(ptr), 0x6b, size);
	g_kmallocs--;
	g_kmalloc_bytes -= long(zspp_kmalloc_size(size));
	free(const_cast<void *>(ptr));
}

struct zspp_cache *zspp_cache_create(const char *name, unsigned int size)
{
	might_sleep("zspp_cache_create");
	if (should_fail(fake::kCacheCreate))
		return nullptr;
	auto *c = new zspp_cache;
	c->name = name ? name : "";
	c->size = size;
	g_caches++;
	return c;
}

void zspp_cache_destroy(struct zspp_cache *cache)
{
	might_sleep("zspp_cache_destroy");
	if (!cache)
		return;
	{
		std::lock_guard<std::mutex> g(cache->mu);
		if (!cache->live.empty()) {
			violation("zspp_cache_destroy(%s): %zu objects still allocated", cache->name.c_str(),
				  cache->live.size());
			for (void *p : cache->live)
				free(p);
			g_cache_objs -= long(cache->live.size());
		}
		for (void *p : cache->quarantine)
			free(p);
	}
	g_caches--;
	delete cache;
}

void *zspp_cache_alloc(struct zspp_cache *cache, zspp_gfp_t gfp)
{
	might_sleep_gfp("zspp_cache_alloc", gfp);
	if (should_fail(fake::kCacheAlloc, gfp))
		return nullptr;
	void *p = aligned_alloc(16, (cache->size + 15) & ~15u);
	if (!p)
		abort();
	fill_junk(p, cache->size, 0xcd);
	{
		std::lock_guard<std::mutex> g(cache->mu);
		cache->live.insert(p);
	}
	g_cache_objs++;
	return p;
}

void zspp_cache_free(struct zspp_cache *cache, void *obj)
{
	if (!obj)
		return;
	void *release = nullptr;
	{
		std::lock_guard<std::mutex> g(cache->mu);
		if (!cache->live.erase(obj)) {
			violation("zspp_cache_free(%s, %p): not a live object (double free?)", cache->name.c_str(),
				  obj);
			return;
		}
		switch (g_freed_poison.load()) {
		case fake::FreedPoison::kKeep:
			break;
		case fake::FreedPoison::kFreelist:
			if (cache->size >= sizeof(void *)) {
				void *next = g_last_freed_obj ? g_last_freed_obj : obj;
				memcpy(obj, &next, sizeof(next));
			}
			break;
		case fake::FreedPoison::kPattern:
			memset(obj, 0x6b, cache->size);
			break;
		}
		g_last_freed_obj = obj;
		cache->quarantine.push_back(obj);
		if (cache->quarantine.size() > g_quarantine_max.load()) {
			release = cache->quarantine.front();
			cache->quarantine.pop_front();
		}
	}
	g_cache_objs--;
	free(release);
}

struct zspp_page *zspp_page_alloc(zspp_gfp_t gfp)
{
	might_sleep_gfp("zspp_page_alloc", gfp);
	if (should_fail(fake::kPageAlloc, gfp))
		return nullptr;
	return new_page_struct(0xcc);
}

static bool page_ok(const zspp_page *page, const char *what)
{
	if (!page || page->magic != kPageMagic) {
		violation("%s(%p): not a live page", what, static_cast<const void *>(page));
		return false;
	}
	return true;
}

static void page_release(struct zspp_page *page)
{
	{
		// One critical section: once off the pfn table nobody can take a
		// new reference, and a reference taken before defers the delete.
		std::lock_guard<std::mutex> g(g_page_mu);
		if (page->has_owner) {
			// The kernel: "BUG: Bad page state" (PG_private set at free).
			violation("zspp_page_free: pfn %#lx still has an owner", page->pfn);
			g_owned_pages--;
			page->has_owner = false;
		}
		page->movable = false;
		g_pages_by_pfn.erase(page->pfn);
		g_pages--;
		if (page->refs > 0) {
			// The kernel's migration core still holds a reference: the page
			// left zspp, its memory goes when migration drops it.
			page->released = true;
			return;
		}
	}
	memset(page->mem, 0x6b, ZSPP_PAGE_SIZE);
	free(page->mem);
	page->magic = 0;
	delete page;
}

void zspp_page_free(struct zspp_page *page)
{
	if (!page_ok(page, "zspp_page_free"))
		return;
	{
		std::lock_guard<std::mutex> g(page->lock_mu);
		if (page->lock_holder)
			violation("zspp_page_free: pfn %#lx is locked (use zspp_page_free_locked)", page->pfn);
	}
	page_release(page);
}

void *zspp_page_address(struct zspp_page *page)
{
	if (!page_ok(page, "zspp_page_address"))
		return nullptr;
	return page->mem;
}

struct zspp_page *zspp_virt_to_page(const void *addr)
{
	std::lock_guard<std::mutex> g(g_page_mu);
	auto it = g_pages_by_pfn.find(uintptr_t(addr) >> ZSPP_PAGE_SHIFT);
	if (it == g_pages_by_pfn.end()) {
		violation("zspp_virt_to_page(%p): not a live page's memory", addr);
		return nullptr;
	}
	return it->second;
}

unsigned long zspp_page_pfn(struct zspp_page *page)
{
	if (!page_ok(page, "zspp_page_pfn"))
		return 0;
	return page->pfn;
}

void zspp_page_set_owner(struct zspp_page *page, void *owner)
{
	if (!page_ok(page, "zspp_page_set_owner"))
		return;
	std::lock_guard<std::mutex> g(g_page_mu);
	if (!page->has_owner)
		g_owned_pages++;
	page->has_owner = true;
	page->owner = owner;
}

void zspp_page_clear_owner(struct zspp_page *page)
{
	if (!page_ok(page, "zspp_page_clear_owner"))
		return;
	std::lock_guard<std::mutex> g(g_page_mu);
	if (page->has_owner)
		g_owned_pages--;
	page->has_owner = false;
	page->owner = nullptr;
}

void *zspp_pfn_owner(unsigned long pfn)
{
	std::lock_guard<std::mutex> g(g_page_mu);
	auto it = g_pages_by_pfn.find(pfn);
	if (it == g_pages_by_pfn.end() || !it->second->has_owner)
		return nullptr;
	return it->second->owner;
}

// The kernel's is three loads inline (a view of the memmap), for pfns in
// sections where zspp has had pages; the fake's memmap has no holes, so
// the answer is zspp_pfn_owner()'s. That the core calls it only for such
// pfns is checked by the core's own MemmapSeen (and the kernel tests).
void *zspp_pfn_owner_present(unsigned long pfn) { return zspp_pfn_owner(pfn); }

void zspp_page_attach(struct zspp_page *page, void *owner, char **addr)
{
	if (!page_ok(page, "zspp_page_attach"))
		return;
	*addr = static_cast<char *>(page->mem);
	std::lock_guard<std::mutex> g(g_page_mu);
	if (page->has_owner || page->movable)
		violation("zspp_page_attach: pfn %#lx is not a fresh page", page->pfn);
	if (!page->has_owner)
		g_owned_pages++;
	page->has_owner = true;
	page->owner = owner;
	page->movable = true;
}

bool zspp_page_trylock(struct zspp_page *page)
{
	if (!page_ok(page, "zspp_page_trylock"))
		return false;
	std::lock_guard<std::mutex> g(page->lock_mu);
	if (page->lock_holder)
		return false;
	page->lock_holder = &t_state;
	return true;
}

void zspp_page_lock(struct zspp_page *page)
{
	might_sleep("zspp_page_lock");
	if (!page_ok(page, "zspp_page_lock"))
		return;
	std::unique_lock<std::mutex> g(page->lock_mu);
	if (page->lock_holder == &t_state) {
		violation("zspp_page_lock: pfn %#lx already locked by this thread (deadlock)", page->pfn);
		abort();
	}
	page->lock_cv.wait(g, [&] { return page->lock_holder == nullptr; });
	page->lock_holder = &t_state;
}

void zspp_page_unlock(struct zspp_page *page)
{
	if (!page_ok(page, "zspp_page_unlock"))
		return;
	std::lock_guard<std::mutex> g(page->lock_mu);
	if (page->lock_holder != &t_state) {
		violation("zspp_page_unlock: pfn %#lx not locked by this thread", page->pfn);
		return;
	}
	page->lock_holder = nullptr;
	page->lock_cv.notify_all();
}

void zspp_page_free_locked(struct zspp_page *page)
{
	if (!page_ok(page, "zspp_page_free_locked"))
		return;
	{
		std::lock_guard<std::mutex> g(page->lock_mu);
		if (page->lock_holder != &t_state) {
			violation("zspp_page_free_locked: pfn %#lx not locked by the caller", page->pfn);
			return;
		}
	}
	// Under the page lock: whoever locks it next sees a page zspp let go.
	{
		std::lock_guard<std::mutex> g(g_page_mu);
		page->movable = false;
		if (page->has_owner)
			g_owned_pages--;
		page->has_owner = false;
		page->owner = nullptr;
	}
	{
		std::lock_guard<std::mutex> g(page->lock_mu);
		page->lock_holder = nullptr;
		page->lock_cv.notify_all();
	}
	page_release(page);
}

static void work_thread(zspp_work *w)
{
	std::unique_lock<std::mutex> g(w->mu);
	for (;;) {
		w->cv.wait(g, [&] { return w->pending || w->stopping; });
		if (w->pending) {
			w->pending = false;
			w->running = true;
			g.unlock();
			w->fn(w->arg);
			g.lock();
			w->running = false;
			w->runs++;
			w->cv.notify_all();
			continue;
		}
		if (w->stopping)
			return;
	}
}

struct zspp_work *zspp_work_create(void (*fn)(void *), void *arg)
{
	might_sleep("zspp_work_create");
	if (should_fail(fake::kWorkCreate))
		return nullptr;
	auto *w = new zspp_work;
	w->fn = fn;
	w->arg = arg;
	if (!g_work_manual.load())
		w->thread = std::thread(work_thread, w);
	{
		std::lock_guard<std::mutex> g(g_work_mu);
		g_works.insert(w);
	}
	g_work_items++;
	return w;
}

void zspp_work_kick(struct zspp_work *work)
{
	std::lock_guard<std::mutex> g(work->mu);
	if (work->stopping)
		violation("zspp_work_kick after zspp_work_destroy began");
	work->pending = true;
	work->cv.notify_all();
}

void zspp_work_destroy(struct zspp_work *work)
{
	might_sleep("zspp_work_destroy");
	if (!work)
		return;
	{
		std::lock_guard<std::mutex> g(g_work_mu);
		if (!g_works.erase(work)) {
			violation("zspp_work_destroy(%p): not a live work item", static_cast<void *>(work));
			return;
		}
	}
	if (work->thread.joinable()) {
		{
			std::unique_lock<std::mutex> g(work->mu);
			// Flush: a pending run still happens, a running one finishes.
			work->cv.wait(g, [&] { return !work->pending && !work->running; });
			work->stopping = true;
			work->cv.notify_all();
		}
		work->thread.join();
	} else if (work->pending) {
		work->pending = false; // manual mode: run what is pending now
		work->fn(work->arg);
	}
	delete work;
	g_work_items--;
}

struct zspp_spinlock *zspp_spin_alloc(zspp_lock_kind kind)
{
	might_sleep("zspp_spin_alloc");
	if (unsigned(kind) >= ZSPP_LOCK_KINDS) {
		violation("zspp_spin_alloc: lock kind %u out of range", unsigned(kind));
		return nullptr;
	}
	if (should_fail(fake::kSpinAlloc))
		return nullptr;
	auto *l = new zspp_spinlock;
	l->magic = kSpinMagic;
	l->kind = kind;
	g_spinlocks++;
	return l;
}

void zspp_spin_free(struct zspp_spinlock *lock)
{
	if (!lock)
		return;
	if (lock->magic != kSpinMagic) {
		violation("zspp_spin_free(%p): not a live lock", static_cast<void *>(lock));
		return;
	}
	if (lock->holder.load())
		violation("zspp_spin_free(%p): lock is held", static_cast<void *>(lock));
	lock->magic = 0;
	delete lock;
	g_spinlocks--;
}

void zspp_spin_lock(struct zspp_spinlock *lock)
{
	if (lock->magic != kSpinMagic) {
		violation("zspp_spin_lock(%p): not a live lock", static_cast<void *>(lock));
		abort();
	}
	if (lock->holder.load() == &t_state) {
		violation("zspp_spin_lock(%p): recursive lock (self-deadlock)", static_cast<void *>(lock));
		abort();
	}
	if (t_state.locks_held)
		violation("zspp_spin_lock: taking a second spinlock (one class lock at a time)");
	g_lock_calls++;
	// The window just before the lock is taken: whatever the hook does, as
	// another CPU's task would, happens between the caller's unlocked reads
	// and its locked section.
	if (!t_in_hook && !t_state.locks_held) {
		std::function<void()> hook;
		{
			std::lock_guard<std::mutex> g(g_hook_mu);
			hook = g_lock_hook;
		}
		if (hook) {
			t_in_hook = true;
			hook();
			t_in_hook = false;
		}
	}
	unsigned spins = 0;
	while (lock->flag.test_and_set(std::memory_order_acquire)) {
		if (++spins % 64 == 0)
			std::this_thread::yield();
	}
	lock->holder.store(&t_state);
	t_state.locks_held++;
}

void zspp_spin_unlock(struct zspp_spinlock *lock)
{
	if (lock->magic != kSpinMagic || lock->holder.load() != &t_state) {
		violation("zspp_spin_unlock(%p): not held by this thread", static_cast<void *>(lock));
		abort();
	}
	lock->holder.store(nullptr);
	t_state.locks_held--;
	lock->flag.clear(std::memory_order_release);
}

#ifdef ZSPP_LOCKDEP
// lockdep_assert_held(): the helpers that need a lock say so, and the host
// tests check it on every call, as the debug kernel does.
void zspp_lockdep_assert_held(struct zspp_spinlock *lock)
{
	if (lock->magic != kSpinMagic) {
		violation("zspp_lockdep_assert_held(%p): not a live lock", static_cast<void *>(lock));
		abort();
	}
	if (lock->holder.load() != &t_state)
		violation("zspp_lockdep_assert_held(%p): lock (kind %u) not held by this thread",
			  static_cast<void *>(lock), unsigned(lock->kind));
}
#endif

void *zspp_area_get(unsigned long tag, int mode)
{
	might_sleep("zspp_area_get");
	void *buf = aligned_alloc(ZSPP_PAGE_SIZE, ZSPP_PAGE_SIZE);
	if (!buf)
		abort();
	memset(buf, fake::kAreaJunk, ZSPP_PAGE_SIZE);
	t_state.areas.push_back(Area{buf, tag, mode});
	g_areas++;
	g_areas_got++;
	return buf;
}

void *zspp_area_find(unsigned long tag, int *mode)
{
	for (auto it = t_state.areas.rbegin(); it != t_state.areas.rend(); ++it) {
		if (it->tag == tag) {
			*mode = it->mode;
			return it->buf;
		}
	}
	return nullptr;
}

void *zspp_area_end(unsigned long tag, int *mode)
{
	void *buf = zspp_area_find(tag, mode);
	if (buf && *mode == ZSPP_MM_RO)
		zspp_area_put(buf); // freed: the caller may only test the pointer
	return buf;
}

void zspp_area_put(void *buf)
{
	for (auto it = t_state.areas.begin(); it != t_state.areas.end(); ++it) {
		if (it->buf == buf) {
			t_state.areas.erase(it);
			memset(buf, 0x6b, ZSPP_PAGE_SIZE);
			free(buf); // so ASan reports any use after unmap
			g_areas--;
			return;
		}
	}
	violation("zspp_area_put(%p): not an area this thread got", buf);
}

struct zspp_shrinker *zspp_shrinker_register(const char *name, struct zspp_pool *pool)
{
	might_sleep("zspp_shrinker_register");
	if (should_fail(fake::kShrinkerRegister))
		return nullptr;
	auto *s = new zspp_shrinker{pool, std::string("zspp-") + (name ? name : "")};
	std::lock_guard<std::mutex> g(g_shrink_mu);
	g_shrinker_list.push_back(s);
	g_shrinkers++;
	return s;
}

void zspp_shrinker_unregister(struct zspp_shrinker *shrinker)
{
	might_sleep("zspp_shrinker_unregister");
	if (!shrinker) {
		violation("zspp_shrinker_unregister(NULL)");
		return;
	}
	std::lock_guard<std::mutex> g(g_shrink_mu); // waits for a running scan
	for (auto it = g_shrinker_list.begin(); it != g_shrinker_list.end(); ++it) {
		if (*it == shrinker) {
			g_shrinker_list.erase(it);
			g_shrinkers--;
			delete shrinker;
			return;
		}
	}
	violation("zspp_shrinker_unregister(%p): not registered", static_cast<void *>(shrinker));
}

const void *zspp_current_task(void)
{
	return &t_state; // one per thread: the threads are the fake's tasks
}

void zspp_cond_resched(void)
{
	might_sleep("zspp_cond_resched");
	g_resched_calls++;
	std::function<void()> hook;
	{
		std::lock_guard<std::mutex> g(g_hook_mu);
		hook = g_resched_hook;
	}
	if (hook && !t_in_hook) {
		t_in_hook = true;
		hook();
		t_in_hook = false;
	}
	std::this_thread::yield();
}

void zspp_warn_bad_handle(const char *what, unsigned long handle)
{
	unsigned long n = g_bad_handles++;
	{
		std::lock_guard<std::mutex> g(g_text_mu);
		g_last_bad_handle = what ? what : "";
	}
	if (n == 0 && !g_quiet.load())
		fprintf(stderr, "[fake-shim] WARN (once): zspp: bad handle %#lx (%s)\n", handle, what);
}

void zspp_log_err(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	g_log_errors++;
	{
		std::lock_guard<std::mutex> g(g_text_mu);
		g_last_error = buf;
	}
	if (!g_quiet.load())
		fprintf(stderr, "[fake-shim] err: %s", buf);
}

void zspp_log_info(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	g_log_infos++;
	if (!g_quiet.load() && getenv("FAKE_SHIM_VERBOSE"))
		fprintf(stderr, "[fake-shim] info: %s", buf);
}

} // extern "C"

// ---- controls ------------------------------------------------------------------------
namespace fake {

Counters live()
{
	Counters c;
	c.pages = g_pages.load();
	c.kmallocs = g_kmallocs.load();
	c.kmalloc_bytes = g_kmalloc_bytes.load();
	c.cache_objs = g_cache_objs.load();
	c.caches = g_caches.load();
	c.spinlocks = g_spinlocks.load();
	c.areas = g_areas.load();
	c.shrinkers = g_shrinkers.load();
	c.work_items = g_work_items.load();
	return c;
}

std::string to_string(const Counters &c)
{
	char buf[256];
	snprintf(buf, sizeof(buf),
		 "{pages %ld, kmallocs %ld (%ld bytes), cache objs %ld, caches %ld, spinlocks %ld, areas %ld, "
		 "shrinkers %ld, work items %ld}",
		 c.pages, c.kmallocs, c.kmalloc_bytes, c.cache_objs, c.caches, c.spinlocks, c.areas, c.shrinkers,
		 c.work_items);
	return buf;
}

unsigned long alloc_calls()
{
	unsigned long n = 0;
	for (auto &c : g_alloc_calls)
		n += c.load();
	return n;
}

unsigned long alloc_calls(AllocKind kind) { return g_alloc_calls[kind_bit(kind)].load(); }

void fail_nth(unsigned long n, unsigned kinds)
{
	std::lock_guard<std::mutex> g(g_fail_mu);
	g_fail_p = 0;
	g_fail_countdown = n;
	g_fail_kinds = n ? kinds : 0;
}

void fail_random(double p, uint64_t seed, unsigned kinds)
{
	std::lock_guard<std::mutex> g(g_fail_mu);
	g_fail_countdown = 0;
	g_fail_p = p;
	g_fail_rng.seed(seed);
	g_fail_kinds = kinds;
}

void fail_off()
{
	std::lock_guard<std::mutex> g(g_fail_mu);
	g_fail_countdown = 0;
	g_fail_p = 0;
	g_fail_kinds = 0;
}

unsigned long injected_failures() { return g_injected.load(); }
unsigned last_failed_kind() { return g_last_failed_kind.load(); }

const char *kind_name(unsigned kind)
{
	static const char *names[] = {"kmalloc",      "cache_alloc",       "page_alloc", "spin_alloc",
				      "cache_create", "shrinker_register", "work_create"};
	return kind ? names[kind_bit(AllocKind(kind))] : "none";
}

zspp_gfp_t last_gfp(AllocKind kind) { return g_last_gfp[kind_bit(kind)].load(); }
unsigned long violations() { return g_violations.load(); }

std::string last_violation()
{
	std::lock_guard<std::mutex> g(g_text_mu);
	return g_last_violation;
}

int locks_held() { return t_state.locks_held; }

void CallerSpinlock::lock()
{
	mu_.lock();
	t_state.caller_locks++;
}

void CallerSpinlock::unlock()
{
	t_state.caller_locks--;
	mu_.unlock();
}
unsigned long bad_handle_warnings() { return g_bad_handles.load(); }

std::string last_bad_handle_what()
{
	std::lock_guard<std::mutex> g(g_text_mu);
	return g_last_bad_handle;
}

unsigned long log_errors() { return g_log_errors.load(); }
unsigned long log_infos() { return g_log_infos.load(); }

std::string last_log_error()
{
	std::lock_guard<std::mutex> g(g_text_mu);
	return g_last_error;
}

void set_quiet(bool quiet) { g_quiet.store(quiet); }

void *owner_of_address(const void *p, bool *in_page)
{
	unsigned long pfn = uintptr_t(p) >> ZSPP_PAGE_SHIFT;
	std::lock_guard<std::mutex> g(g_page_mu);
	auto it = g_pages_by_pfn.find(pfn);
	bool found = it != g_pages_by_pfn.end();
	if (in_page)
		*in_page = found;
	return found && it->second->has_owner ? it->second->owner : nullptr;
}

long owned_pages()
{
	std::lock_guard<std::mutex> g(g_page_mu);
	return g_owned_pages;
}

void set_cache_quarantine(std::size_t max, FreedPoison poison)
{
	g_quarantine_max.store(max);
	g_freed_poison.store(poison);
}

unsigned long areas_got() { return g_areas_got.load(); }

long drop_thread_areas()
{
	long n = long(t_state.areas.size());
	for (Area &a : t_state.areas)
		free(a.buf);
	t_state.areas.clear();
	g_areas -= n;
	return n;
}

unsigned long shrink_all(unsigned long *counted)
{
	std::lock_guard<std::mutex> g(g_shrink_mu);
	unsigned long freed = 0, count = 0;
	for (zspp_shrinker *s : g_shrinker_list) {
		unsigned long c = zspp_compactable_pages(s->pool);
		count += c;
		if (c)
			freed += zspp_compact(s->pool);
	}
	if (counted)
		*counted = count;
	return freed;
}

void set_resched_hook(std::function<void()> hook)
{
	std::lock_guard<std::mutex> g(g_hook_mu);
	g_resched_hook = std::move(hook);
}

unsigned long resched_calls() { return g_resched_calls.load(); }

void set_lock_hook(std::function<void()> hook)
{
	std::lock_guard<std::mutex> g(g_hook_mu);
	g_lock_hook = std::move(hook);
}

unsigned long lock_calls() { return g_lock_calls.load(); }

void set_work_manual(bool manual) { g_work_manual.store(manual); }

unsigned long run_pending_work()
{
	std::vector<zspp_work *> todo;
	{
		std::lock_guard<std::mutex> g(g_work_mu);
		for (zspp_work *w : g_works)
			todo.push_back(w);
	}
	unsigned long ran = 0;
	for (zspp_work *w : todo) {
		bool run;
		{
			std::lock_guard<std::mutex> g(w->mu);
			// A work item with its own thread runs there: leave its kick.
			run = w->pending && !w->thread.joinable();
			if (run)
				w->pending = false;
		}
		if (run) {
			w->fn(w->arg);
			ran++;
		}
	}
	return ran;
}

void flush_work()
{
	std::vector<zspp_work *> todo;
	{
		std::lock_guard<std::mutex> g(g_work_mu);
		for (zspp_work *w : g_works)
			todo.push_back(w);
	}
	for (zspp_work *w : todo) {
		std::unique_lock<std::mutex> g(w->mu);
		if (w->thread.joinable())
			w->cv.wait(g, [&] { return !w->pending && !w->running; });
	}
}

zspp_page *page_of_address(const void *p)
{
	std::lock_guard<std::mutex> g(g_page_mu);
	auto it = g_pages_by_pfn.find(uintptr_t(p) >> ZSPP_PAGE_SHIFT);
	return it == g_pages_by_pfn.end() ? nullptr : it->second;
}

bool page_is_movable(zspp_page *page)
{
	std::lock_guard<std::mutex> g(g_page_mu);
	return page->movable;
}

// Drop the migration core's reference to @page (and free it if zspp
// released it meanwhile).
static void page_put(zspp_page *page)
{
	bool gone;
	{
		std::lock_guard<std::mutex> g(g_page_mu);
		gone = --page->refs == 0 && page->released;
	}
	if (gone) {
		memset(page->mem, 0x6b, ZSPP_PAGE_SIZE);
		free(page->mem);
		page->magic = 0;
		delete page;
	}
}

// @src referenced by the caller (refs), so it stays a valid struct.
static MigrateResult migrate_referenced(zspp_page *src, const std::function<void()> &between)
{
	// As the kernel's migration core (6.1 and 6.12, non-LRU movable pages):
	// isolate_movable_page() tests __PageMovable without the lock (a page
	// that is not movable is never locked: zspp's pages that are not in a
	// zspage yet, like a malloc's spare, stay untouched), trylocks the page,
	// checks PageMovable again, calls isolate_page and unlocks; later
	// migrate_pages() locks the page again, finds it still movable,
	// allocates the new page and calls migrate_page.
	{
		std::lock_guard<std::mutex> g(g_page_mu);
		if (!src->movable)
			return MigrateResult::kNotMovable;
	}
	if (!zspp_page_trylock(src))
		return MigrateResult::kLocked;
	void *owner = nullptr;
	{
		std::lock_guard<std::mutex> g(g_page_mu);
		if (src->movable && src->has_owner)
			owner = src->owner;
	}
	if (!owner) {
		zspp_page_unlock(src);
		return MigrateResult::kNotMovable;
	}
	if (!zspp_core_page_isolate(owner)) {
		zspp_page_unlock(src);
		return MigrateResult::kIsolateFailed;
	}
	zspp_page_unlock(src);
	if (between)
		between(); // isolated, unlocked: zspp may use or free the zspage meanwhile
	zspp_page_lock(src);
	{
		std::lock_guard<std::mutex> g(g_page_mu);
		owner = src->movable && src->has_owner ? src->owner : nullptr;
	}
	if (!owner) {
		// zspp released the page while it was isolated: nothing to move.
		zspp_page_unlock(src);
		return MigrateResult::kReleased;
	}
	zspp_page *dst = new_page_struct(0xdd);
	zspp_page_trylock(dst);
	int rc = zspp_core_page_migrate(owner, dst, src);
	if (rc == 0) {
		{
			std::lock_guard<std::mutex> g(g_page_mu);
			if (!dst->has_owner || dst->owner != owner)
				violation("migrate: the destination page was not given the owner");
			dst->movable = true;
		}
		zspp_page_unlock(dst);
		// The old page leaves zspp (the shim's job after a successful
		// migrate_page): owner and movable go, the page is freed.
		zspp_page_free_locked(src);
		return MigrateResult::kMoved;
	}
	if (rc != -ZSPP_EAGAIN)
		violation("zspp_core_page_migrate returned %d", rc);
	{
		std::lock_guard<std::mutex> g(g_page_mu);
		if (dst->has_owner)
			violation("migrate failed but the destination page has an owner");
	}
	zspp_page_free_locked(dst);
	// putback_movable_pages: the page stays where it was.
	zspp_page_unlock(src);
	return MigrateResult::kBusy;
}

MigrateResult migrate_page(zspp_page *src, const std::function<void()> &between)
{
	{
		std::lock_guard<std::mutex> g(g_page_mu);
		if (src->magic != kPageMagic || src->released)
			return MigrateResult::kNotMovable;
		src->refs++;
	}
	MigrateResult r = migrate_referenced(src, between);
	page_put(src);
	return r;
}

MigrateResult migrate_random_page(uint64_t r)
{
	zspp_page *src = nullptr;
	{
		std::lock_guard<std::mutex> g(g_page_mu);
		if (g_pages_by_pfn.empty())
			return MigrateResult::kNotMovable;
		auto it = g_pages_by_pfn.lower_bound(r % (g_pages_by_pfn.rbegin()->first + 1));
		if (it == g_pages_by_pfn.end())
			it = g_pages_by_pfn.begin();
		src = it->second;
		src->refs++;
	}
	MigrateResult res = migrate_referenced(src, nullptr);
	page_put(src);
	return res;
}

long registered_shrinkers() { return g_shrinkers.load(); }

bool has_shrinker(const zspp_pool *pool)
{
	std::lock_guard<std::mutex> g(g_shrink_mu);
	for (zspp_shrinker *s : g_shrinker_list)
		if (s->pool == pool)
			return true;
	return false;
}

void reset_events()
{
	g_violations = 0;
	g_bad_handles = 0;
	g_log_errors = 0;
	g_log_infos = 0;
	g_injected = 0;
	std::lock_guard<std::mutex> g(g_text_mu);
	g_last_violation.clear();
	g_last_bad_handle.clear();
	g_last_error.clear();
}

} // namespace fake
