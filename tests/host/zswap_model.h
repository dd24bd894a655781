// SPDX-License-Identifier: GPL-2.0
// Models of how zswap drives its zpool, written from Debian's mm/zswap.c of
// 6.1 (linux-source-6.1, 6.1.192) and 6.12 (linux-source-6.12, 6.12.117):
// the same zpool calls, in the same order, under the same kind of locks.
// They are what the host tests call zspp through when they claim "as zswap
// does" (Documentation/zswap-contract.rst lists each rule and its test).
//
// Compression is left out: an entry's object is a seeded pattern of its
// compressed length, so every byte can be checked. The rbtree is a std::map,
// the tree spinlock is a fake::CallerSpinlock (the fake then flags anything
// zspp does under it that may sleep), the swap device is a map of pages.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "test_util.h"

namespace zt {

// The gfp both kernels' zswap_store passes to zpool_malloc: __GFP_NORETRY |
// __GFP_NOWARN | __GFP_KSWAPD_RECLAIM, plus __GFP_HIGHMEM | __GFP_MOVABLE as
// zpool_malloc_support_movable() is true for zspp. No __GFP_DIRECT_RECLAIM:
// the allocation must not sleep (the fake flags it if it does).
constexpr zspp_gfp_t kStoreGfp = 0x1000u | 0x2000u | FAKE_GFP_KSWAPD_RECLAIM | FAKE_GFP_HIGHMEM | FAKE_GFP_MOVABLE;

// ---- Debian 6.1: zswap with zpool evict (zswap_writeback_entry) ------------------
class Zswap61 {
public:
	// 6.1 prepends struct zswap_header { swp_entry_t swpentry; } when the
	// zpool can evict (zpool_evictable(): zspp's 6.1 driver has .shrink).
	static constexpr size_t kHeader = sizeof(uint64_t);

	// Where writeback stands when the race hook runs (zswap_writeback_entry).
	enum class Point {
		kBeforeMap,     // evict called, nothing done yet
		kAfterMap,      // zpool_map_handle done, header read, tree not yet searched
		kAfterFind,     // entry found and referenced; before __read_swap_cache_async
		kBeforeUnmap,   // written back and both puts done; the handle still mapped
	};
	static const char *name(Point p)
	{
		switch (p) {
		case Point::kBeforeMap: return "BeforeMap";
		case Point::kAfterMap: return "AfterMap";
		case Point::kAfterFind: return "AfterFind";
		case Point::kBeforeUnmap: return "BeforeUnmap";
		}
		return "?";
	}

	struct Entry {
		uint64_t offset;
		unsigned long handle;
		uint32_t length; // compressed length (without the header)
		uint32_t seed;
		int refcount;
		bool in_tree;
	};

	explicit Zswap61(zspp_pool **pool) : pool_(pool) {}
	~Zswap61()
	{
		for (auto &[off, e] : tree_)
			delete e;
	}
	Zswap61(const Zswap61 &) = delete;
	Zswap61 &operator=(const Zswap61 &) = delete;

	// zswap_zpool_ops.evict, for zspp_create_pool_evictable.
	static int evict_thunk(void *ctx, unsigned long handle)
	{
		return static_cast<Zswap61 *>(ctx)->writeback_entry(handle);
	}

	// Called at each Point of writeback with the handle and the swap offset
	// its header names. Tests free (invalidate) it here, from another thread.
	std::function<void(Point, unsigned long, uint64_t)> race;
	// __read_swap_cache_async(GFP_KERNEL) may enter direct reclaim, which
	// may store pages into zswap: a nested zpool_malloc + map WO while this
	// task holds the evicted handle mapped RO. Called there when set.
	std::function<void()> swap_cache_alloc;
	// Outcome of the swap cache lookup (ZSWAP_SWAPCACHE_NEW normally).
	std::function<bool(uint64_t)> swap_cache_exists;

	// zswap_frontswap_store, from zpool_malloc on: the handle is mapped WO
	// and filled, then the entry goes in the tree (a duplicate is dropped
	// there, its free under the tree lock).
	bool store(uint64_t offset, uint32_t seed, uint32_t length)
	{
		unsigned long handle = 0;
		if (zspp_malloc(*pool_, kHeader + length, kStoreGfp, &handle)) {
			reject_alloc_fail++;
			return false;
		}
		auto *buf = static_cast<uint8_t *>(zspp_map_object(*pool_, handle, ZSPP_MM_WO));
		EXPECT_NE(buf, nullptr) << "map WO of a fresh handle";
		if (!buf)
			return false;
		// The header is read by an evict that may map this handle before
		// the entry is in the tree (6.1 zswap reads it before any lock: its
		// race, not zspp's, which only carries the bytes): one relaxed
		// atomic store here and a relaxed load there say so, for TSan.
		static_assert(kHeader == sizeof(uint64_t));
		__atomic_store_n(reinterpret_cast<uint64_t *>(buf), offset, __ATOMIC_RELAXED);
		std::vector<uint8_t> data = pattern(seed, length);
		memcpy(buf + kHeader, data.data(), length);
		zspp_unmap_object(*pool_, handle);

		auto *e = new Entry{offset, handle, length, seed, 1, true};
		tree_lock_.lock();
		auto it = tree_.find(offset);
		if (it != tree_.end()) {
			// zswap_rb_insert -EEXIST: zswap_duplicate_entry++, erase, put.
			Entry *dup = it->second;
			erase_locked(dup);
			put_locked(dup);
		}
		tree_[offset] = e;
		stored_pages++;
		tree_lock_.unlock();
		return true;
	}

	// zswap_frontswap_load: find_get under the tree lock, map RO, decompress
	// (here: compare every byte), unmap, put.
	bool load(uint64_t offset)
	{
		// swap_readpage holds the swap cache folio locked across the load:
		// no writeback of (nor invalidation of the swap slot behind) this
		// offset meanwhile.
		SwapCachePage page(this, offset);
		if (!page.locked)
			return false;
		tree_lock_.lock();
		Entry *e = find_get_locked(offset);
		tree_lock_.unlock();
		if (!e)
			return false;
		auto *src = static_cast<const uint8_t *>(zspp_map_object(*pool_, e->handle, ZSPP_MM_RO));
		EXPECT_NE(src, nullptr) << "map RO of a referenced entry";
		if (src) {
			EXPECT_EQ(memcmp(src, &e->offset, kHeader), 0) << "header of offset " << offset;
			EXPECT_EQ(first_diff(src + kHeader, pattern(e->seed, e->length).data(), e->length), -1)
				<< "load of offset " << offset;
			zspp_unmap_object(*pool_, e->handle);
		}
		tree_lock_.lock();
		put_locked(e);
		tree_lock_.unlock();
		return true;
	}

	// zswap_frontswap_invalidate_page: erase and put under the tree lock
	// (the free reaches the zpool here, spinlock held, unless a writeback
	// still holds a reference).
	bool invalidate(uint64_t offset)
	{
		// The swap slot cannot be freed while its swap cache folio exists
		// (SWAP_HAS_CACHE): never during a load or a writeback of it.
		if (swap_cache_busy(offset))
			return false;
		tree_lock_.lock();
		auto it = tree_.find(offset);
		if (it == tree_.end()) {
			tree_lock_.unlock();
			return false;
		}
		Entry *e = it->second;
		erase_locked(e);
		put_locked(e);
		tree_lock_.unlock();
		return true;
	}

	// zswap_writeback_entry, line for line (zpool_can_sleep_mapped() is
	// true for zspp: the handle stays mapped to the end).
	int writeback_entry(unsigned long handle)
	{
		EXPECT_EQ(fake::locks_held(), 0) << "evict called with a spinlock held";
		hook(Point::kBeforeMap, handle);
		// "extract swpentry from data": dereferenced without a NULL check.
		auto *zhdr = static_cast<const uint8_t *>(zspp_map_object(*pool_, handle, ZSPP_MM_RO));
		if (!zhdr) {
			ADD_FAILURE() << "zpool_map_handle returned NULL in evict: 6.1 zswap oopses here";
			null_maps++;
			return -12;
		}
		// Racy with a store still filling this handle (see store()).
		uint64_t offset = __atomic_load_n(reinterpret_cast<const uint64_t *>(zhdr), __ATOMIC_RELAXED);
		hook(Point::kAfterMap, handle, offset);

		tree_lock_.lock();
		Entry *e = find_get_locked(offset);
		if (!e) {
			// "entry was invalidated"
			tree_lock_.unlock();
			zspp_unmap_object(*pool_, handle);
			found_invalidated++;
			return 0;
		}
		tree_lock_.unlock();
		EXPECT_EQ(e->handle, handle) << "the entry found names another handle";
		hook(Point::kAfterFind, handle, offset);

		int ret = 0;
		if (swap_cache_alloc)
			swap_cache_alloc();
		SwapCachePage page(this, offset); // ZSWAP_SWAPCACHE_NEW: locked
		if (!page.locked || (swap_cache_exists && swap_cache_exists(offset))) {
			ret = -17; // ZSWAP_SWAPCACHE_EXIST: -EEXIST
		} else {
			tree_lock_.lock();
			bool current = e->in_tree && tree_[offset] == e;
			tree_lock_.unlock();
			if (!current) {
				ret = -12; // invalidated and recycled meanwhile: -ENOMEM
			} else {
				// decompress from the mapped object, then __swap_writepage
				const uint8_t *src = zhdr + kHeader;
				EXPECT_EQ(first_diff(src, pattern(e->seed, e->length).data(), e->length), -1)
					<< "writeback of offset " << offset << " read different bytes";
				std::lock_guard<std::mutex> g(disk_mu_);
				disk_[offset] = Disk{e->seed, e->length};
				written_back_pages++;
			}
		}
		tree_lock_.lock();
		put_locked(e); // drop local reference
		if (ret == 0) {
			// refcount 1: still in the tree, drop it (free); 0: freed by
			// the put above because an invalidation came during writeback.
			auto it = tree_.find(offset);
			if (it != tree_.end() && it->second == e) {
				erase_locked(e);
				put_locked(e);
			}
		}
		tree_lock_.unlock();
		page.release(); // written (or dropped): the swap slot may be reused
		hook(Point::kBeforeUnmap, handle, offset);
		zspp_unmap_object(*pool_, handle);
		return ret;
	}

	// Shrink worker: zpool_shrink(pool, 1, NULL).
	int shrink_worker()
	{
		int r = zspp_reclaim(*pool_, 1, nullptr);
		if (r)
			reject_reclaim_fail++;
		return r;
	}

	// Every entry in the tree loads with its bytes; every page written back
	// is on the "disk" with its bytes. Returns the number of entries.
	size_t verify_all()
	{
		std::vector<uint64_t> offs;
		tree_lock_.lock();
		for (auto &[off, e] : tree_)
			offs.push_back(off);
		tree_lock_.unlock();
		for (uint64_t off : offs)
			EXPECT_TRUE(load(off)) << off;
		return offs.size();
	}

	size_t entries()
	{
		tree_lock_.lock();
		size_t n = tree_.size();
		tree_lock_.unlock();
		return n;
	}
	std::vector<uint64_t> offsets()
	{
		std::vector<uint64_t> v;
		tree_lock_.lock();
		for (auto &[off, e] : tree_)
			v.push_back(off);
		tree_lock_.unlock();
		return v;
	}
	unsigned long handle_of(uint64_t offset)
	{
		tree_lock_.lock();
		auto it = tree_.find(offset);
		unsigned long h = it == tree_.end() ? 0 : it->second->handle;
		tree_lock_.unlock();
		return h;
	}
	bool on_disk(uint64_t offset)
	{
		std::lock_guard<std::mutex> g(disk_mu_);
		return disk_.count(offset) != 0;
	}

	// zswap's own counters (debugfs names).
	std::atomic<unsigned long> written_back_pages{0}, reject_reclaim_fail{0}, reject_alloc_fail{0},
		stored_pages{0}, found_invalidated{0}, null_maps{0}, frees{0};

private:
	struct Disk {
		uint32_t seed, length;
	};

	// A locked folio in the swap cache for @offset while it lives (a load,
	// or the page writeback allocated); none if one exists already.
	struct SwapCachePage {
		SwapCachePage(Zswap61 *z, uint64_t off) : z_(z), off_(off)
		{
			std::lock_guard<std::mutex> g(z_->cache_mu_);
			locked = z_->swap_cache_.insert(off_).second;
		}
		~SwapCachePage() { release(); }
		// The folio unlocked and gone from the swap cache.
		void release()
		{
			if (!locked)
				return;
			std::lock_guard<std::mutex> g(z_->cache_mu_);
			z_->swap_cache_.erase(off_);
			locked = false;
		}
		Zswap61 *z_;
		uint64_t off_;
		bool locked;
	};
	bool swap_cache_busy(uint64_t off)
	{
		std::lock_guard<std::mutex> g(cache_mu_);
		return swap_cache_.count(off) != 0;
	}

	void hook(Point p, unsigned long handle, uint64_t offset = ~0ull)
	{
		if (race) {
			if (offset == ~0ull) { // before the map: read the header the way zspp would show it
				offset = header_unlocked(handle);
			}
			race(p, handle, offset);
		}
	}
	// The offset the handle's header holds (the test knows the handle is
	// mapped-able here: before the map, the handle is live).
	uint64_t header_unlocked(unsigned long handle)
	{
		uint64_t off = ~0ull;
		tree_lock_.lock();
		for (auto &[o, e] : tree_)
			if (e->handle == handle)
				off = o;
		tree_lock_.unlock();
		return off;
	}
	// Tree lock held.
	Entry *find_get_locked(uint64_t offset)
	{
		auto it = tree_.find(offset);
		if (it == tree_.end())
			return nullptr;
		it->second->refcount++;
		return it->second;
	}
	void erase_locked(Entry *e)
	{
		if (e->in_tree) {
			tree_.erase(e->offset);
			e->in_tree = false;
		}
	}
	// zswap_entry_put: the last reference frees the zpool object, tree lock held.
	void put_locked(Entry *e)
	{
		EXPECT_GT(e->refcount, 0);
		if (--e->refcount == 0) {
			erase_locked(e);
			zspp_free(*pool_, e->handle); // spinlock held: must not sleep
			frees++;
			stored_pages--;
			delete e;
		}
	}

	zspp_pool **pool_;
	fake::CallerSpinlock tree_lock_; // tree->lock, a spinlock
	std::map<uint64_t, Entry *> tree_;
	std::mutex disk_mu_;
	std::map<uint64_t, Disk> disk_;
	std::mutex cache_mu_;
	std::set<uint64_t> swap_cache_; // offsets with a (locked) swap cache folio
};

} // namespace zt
