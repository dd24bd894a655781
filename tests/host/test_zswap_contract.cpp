// SPDX-License-Identifier: GPL-2.0
// zspp called the way zswap really calls it (zswap_model.h, written from
// mm/zswap.c of Debian's 6.1 and 6.12), not in an order that suits zspp.
// Each test names the rule of Documentation/zswap-contract.rst it checks.
#include "zswap_model.h"

#include <random>
#include <thread>

using namespace zt;

namespace {

// Runs @fn on another thread (another task, for zspp) and waits for it.
template <typename Fn>
void on_other_task(Fn fn)
{
	std::thread t(fn);
	t.join();
}

// ---- 6.1: zpool with evict ---------------------------------------------------------

class Contract61Base : public PoolTest {
protected:
	void SetUp() override
	{
		fake::fail_off();
		fake::reset_events();
		baseline_ = fake::live();
		zswap_ = new Zswap61(&pool_);
		ASSERT_EQ(zspp_create_pool_evictable("zswap61", chain(), &Zswap61::evict_thunk, zswap_, &pool_), 0);
	}

	void TearDown() override
	{
		fake::set_resched_hook(nullptr);
		if (pool_) {
			for (uint64_t off : zswap_->offsets())
				zswap_->invalidate(off);
			fake::flush_work();
		}
		PoolTest::TearDown();
		delete zswap_;
	}

	// Store @n pages of compressed lengths spread over the classes.
	void fill(unsigned n, uint32_t seed = 1)
	{
		std::mt19937 rng(seed);
		for (unsigned i = 0; i < n; i++) {
			uint64_t off = next_offset_++;
			ASSERT_TRUE(zswap_->store(off, seed * 100000 + i, 64 + rng() % 3900));
		}
	}

	// What must hold after any sequence: zspp and zswap agree on what is
	// stored, on what was written back and on what was found invalidated;
	// no handle was refused; every stored byte reads back.
	void check_agreement()
	{
		validate();
		PoolStats s = pool_stats(pool_);
		EXPECT_EQ(zswap_->null_maps.load(), 0u);
		EXPECT_EQ(s.bad_handles, 0u) << "zspp refused a handle zswap used (last: "
					     << fake::last_bad_handle_what() << ")";
		EXPECT_EQ(s.objects, zswap_->entries());
		EXPECT_EQ(s.objs_written_back, zswap_->written_back_pages.load());
		EXPECT_EQ(s.evict_stale, zswap_->found_invalidated.load());
		EXPECT_EQ(zswap_->verify_all(), s.objects);
	}

	Zswap61 *zswap_ = nullptr;
	uint64_t next_offset_ = 1;
};

class Contract61 : public Contract61Base, public ::testing::WithParamInterface<unsigned> {
protected:
	unsigned chain() const override { return GetParam(); }
};

// The defect this file was written for: reclaim has chosen a handle, then,
// before zswap's evict maps it, another CPU invalidates its swap slot and the
// free reaches zspp. zswap_writeback_entry maps the handle anyway and reads
// the swap entry from its header without a NULL check: the map must give the
// object's bytes (before the fix: NULL, a "bad handle (map)" warning, and an
// oops in the shrink worker).
TEST_P(Contract61, EvictMapsAHandleFreedJustBeforeTheMap)
{
	fill(400);
	unsigned long raced = 0;
	uint64_t raced_off = 0;
	zswap_->race = [&](Zswap61::Point p, unsigned long h, uint64_t off) {
		if (p != Zswap61::Point::kBeforeMap || raced)
			return;
		raced = h;
		raced_off = off;
		on_other_task([&] { EXPECT_TRUE(zswap_->invalidate(off)); });
	};
	ASSERT_EQ(zswap_->shrink_worker(), 0);
	ASSERT_NE(raced, 0u);
	EXPECT_EQ(zswap_->null_maps.load(), 0u);
	EXPECT_EQ(zswap_->found_invalidated.load(), 1u) << "the evict saw the header and found no entry";
	EXPECT_FALSE(zswap_->on_disk(raced_off)) << "an invalidated page was written back";
	PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.evict_stale, 1u) << "counted apart from the pages written back";
	EXPECT_EQ(s.objs_written_back, zswap_->written_back_pages.load());
	EXPECT_EQ(fake::bad_handle_warnings(), 0u);
	check_agreement();
}

// The same handle freed by another task at each point of the writeback:
// before the map, between map and lookup, between lookup and unmap (the
// writeback then fails its "still current" check: -ENOMEM, zspage back), and
// just before the unmap (the offset stored again and dropped by another task
// while the old, freed handle is still mapped).
class Contract61AtPoint : public Contract61Base,
			  public ::testing::WithParamInterface<std::tuple<Zswap61::Point, unsigned>> {
protected:
	unsigned chain() const override { return std::get<1>(GetParam()); }
	Zswap61::Point point() const { return std::get<0>(GetParam()); }
};

TEST_P(Contract61AtPoint, InvalidationOfTheHandleUnderEvict)
{
	fill(600);
	unsigned raced = 0;
	const Zswap61::Point at = point();
	zswap_->race = [&](Zswap61::Point p, unsigned long h, uint64_t off) {
		if (p != at || raced >= 5)
			return;
		raced++;
		on_other_task([&] {
			if (at == Zswap61::Point::kBeforeUnmap) {
				// The swap slot recycled: stored again, then dropped.
				ASSERT_TRUE(zswap_->store(off, 777000 + raced, 1500));
				EXPECT_TRUE(zswap_->load(off));
				EXPECT_TRUE(zswap_->invalidate(off));
			} else {
				EXPECT_TRUE(zswap_->invalidate(off));
			}
		});
	};
	for (int i = 0; i < 12 && raced < 5; i++)
		(void)zswap_->shrink_worker();
	EXPECT_EQ(raced, 5u);
	switch (at) {
	case Zswap61::Point::kBeforeMap:
	case Zswap61::Point::kAfterMap:
		EXPECT_EQ(zswap_->found_invalidated.load(), 5u);
		EXPECT_EQ(pool_stats(pool_).evict_stale, 5u);
		break;
	case Zswap61::Point::kAfterFind:
		// The writeback's "still current" check fails: -ENOMEM, and the
		// free comes from the writeback's own put (not counted stale).
		EXPECT_EQ(zswap_->found_invalidated.load(), 0u);
		EXPECT_EQ(pool_stats(pool_).evict_stale, 0u);
		break;
	case Zswap61::Point::kBeforeUnmap:
		EXPECT_EQ(zswap_->found_invalidated.load(), 0u);
		break;
	}
	check_agreement();
}

INSTANTIATE_TEST_SUITE_P(Points, Contract61AtPoint,
			 ::testing::Combine(::testing::Values(Zswap61::Point::kBeforeMap, Zswap61::Point::kAfterMap,
							      Zswap61::Point::kAfterFind, Zswap61::Point::kBeforeUnmap),
					    ::testing::Values(1u, 4u, 8u, 16u)),
			 [](const auto &info) {
				 return std::string(Zswap61::name(std::get<0>(info.param))) + "_chain" +
					std::to_string(std::get<1>(info.param));
			 });

// zswap_writeback_entry keeps the handle mapped across
// __read_swap_cache_async(GFP_KERNEL), whose direct reclaim may store pages
// into zswap: a nested malloc + map WO (spanning objects: a second bounce
// area) by the task that holds the evicted handle mapped.
TEST_P(Contract61, NestedStoreWhileTheEvictedHandleIsMapped)
{
	fill(300);
	unsigned nested = 0;
	zswap_->swap_cache_alloc = [&] {
		nested++;
		ASSERT_TRUE(zswap_->store(next_offset_++, 900000 + nested, 3000 + nested % 900));
	};
	for (int i = 0; i < 6; i++)
		(void)zswap_->shrink_worker();
	EXPECT_GT(nested, 0u);
	EXPECT_GT(zswap_->written_back_pages.load(), 0u);
	check_agreement();
}

// -EEXIST (the page is in the swap cache already) keeps the rest of the
// zspage; a concurrent invalidation of such an object still frees it.
TEST_P(Contract61, SwapCacheHitFailsTheEvictAndKeepsTheObject)
{
	fill(200);
	unsigned hits = 0;
	zswap_->swap_cache_exists = [&](uint64_t off) { return off % 3 == 0 && ++hits; };
	zswap_->race = [&](Zswap61::Point p, unsigned long, uint64_t off) {
		if (p == Zswap61::Point::kAfterFind && off % 3 == 0 && off % 2 == 0)
			on_other_task([&] { zswap_->invalidate(off); });
	};
	for (int i = 0; i < 10; i++)
		(void)zswap_->shrink_worker();
	EXPECT_GT(hits, 0u);
	check_agreement();
}

// The shrink worker against tasks that store, load and invalidate (process
// exit, munmap, swapoff) all the time, with compaction (the shrinker) and
// page migration on a third task: every byte checked, the counters agree.
TEST_P(Contract61, ShrinkWorkerAgainstInvalidatingTasks)
{
	fill(500);
	std::atomic<bool> stop{false};
	std::atomic<uint64_t> next{100000};
	auto churn = [&](uint32_t seed) {
		std::mt19937_64 rng(seed);
		std::vector<uint64_t> mine;
		while (!stop.load()) {
			unsigned op = rng() % 10;
			if (op < 4 || mine.empty()) {
				uint64_t off = next++;
				if (zswap_->store(off, uint32_t(off), 64 + rng() % 3900))
					mine.push_back(off);
			} else if (op < 7) {
				zswap_->load(mine[rng() % mine.size()]);
			} else {
				size_t i = rng() % mine.size();
				zswap_->invalidate(mine[i]);
				mine[i] = mine.back();
				mine.pop_back();
			}
		}
	};
	std::thread a(churn, 11), b(churn, 22);
	std::thread c([&] {
		std::mt19937_64 rng(33);
		while (!stop.load()) {
			zspp_compact(pool_);
			fake::migrate_random_page(rng());
			fake::run_pending_work();
		}
	});
	// The original entries are invalidated while the worker writes back.
	std::thread d([&] {
		for (uint64_t off = 1; off < next_offset_ && !stop.load(); off += 2) {
			zswap_->invalidate(off);
			std::this_thread::yield();
		}
	});
	for (int i = 0; i < 300; i++)
		(void)zswap_->shrink_worker();
	stop = true;
	a.join();
	b.join();
	c.join();
	d.join();
	fake::flush_work();
	EXPECT_GT(zswap_->written_back_pages.load(), 0u);
	check_agreement();
}

INSTANTIATE_TEST_SUITE_P(Chains, Contract61, ::testing::Values(1u, 4u, 8u, 16u), chain_name);

// ---- 6.12: zpool without evict ---------------------------------------------------
// 6.12 zswap keeps its own LRU and writes back by itself; the zpool sees
// malloc (kStoreGfp), map WO + memcpy + unmap under the per-CPU acomp mutex,
// map RO + unmap under it on load and on writeback (after the swap cache
// page is secured), and frees from invalidation under the swap cluster lock
// (a spinlock); total_pages is read at any time (zswap_total_pages, from
// the shrinker and the pool limit check).
class Contract612 : public ChainPoolTest {
protected:
	struct Entry {
		unsigned long handle;
		uint32_t seed, length;
	};

	bool store(uint64_t off, uint32_t seed, uint32_t length)
	{
		std::lock_guard<std::mutex> acomp(acomp_mu_); // acomp_ctx_get_cpu_lock
		unsigned long h = 0;
		if (zspp_malloc(pool_, length, kStoreGfp, &h))
			return false;
		void *buf = zspp_map_object(pool_, h, ZSPP_MM_WO);
		EXPECT_NE(buf, nullptr);
		if (!buf)
			return false;
		memcpy(buf, pattern(seed, length).data(), length);
		zspp_unmap_object(pool_, h);
		std::lock_guard<std::mutex> g(xa_mu_);
		EXPECT_EQ(xa_.count(off), 0u);
		xa_[off] = Entry{h, seed, length};
		return true;
	}

	// zswap_decompress: map RO under the acomp mutex, unmap.
	void decompress(const Entry &e)
	{
		std::lock_guard<std::mutex> acomp(acomp_mu_);
		auto *src = static_cast<const uint8_t *>(zspp_map_object(pool_, e.handle, ZSPP_MM_RO));
		ASSERT_NE(src, nullptr);
		EXPECT_EQ(first_diff(src, pattern(e.seed, e.length).data(), e.length), -1);
		zspp_unmap_object(pool_, e.handle);
	}

	// zswap_entry_free from invalidation: under the cluster spinlock.
	void free_entry(const Entry &e)
	{
		cluster_lock_.lock();
		zspp_free(pool_, e.handle);
		cluster_lock_.unlock();
	}

	// Load (exclusive: the entry is freed after it), writeback (the same
	// from the zswap side) and invalidation all take the entry out first.
	bool take(uint64_t off, Entry *e)
	{
		std::lock_guard<std::mutex> g(xa_mu_);
		auto it = xa_.find(off);
		if (it == xa_.end())
			return false;
		*e = it->second;
		xa_.erase(it);
		return true;
	}

	void TearDown() override
	{
		for (auto &[off, e] : xa_)
			free_entry(e);
		xa_.clear();
		fake::flush_work();
		ChainPoolTest::TearDown();
	}

	std::mutex acomp_mu_, xa_mu_;
	std::map<uint64_t, Entry> xa_;
	fake::CallerSpinlock cluster_lock_; // the swap cluster lock
};

TEST_P(Contract612, StoreLoadWritebackInvalidateFromSeveralTasks)
{
	std::atomic<bool> stop{false};
	std::atomic<uint64_t> next{1};
	std::atomic<unsigned long> ops{0};
	auto worker = [&](uint32_t seed) {
		std::mt19937_64 rng(seed);
		std::vector<uint64_t> mine;
		for (int i = 0; i < 3000; i++) {
			unsigned op = rng() % 10;
			Entry e;
			if (op < 5 || mine.empty()) {
				uint64_t off = next++;
				if (store(off, uint32_t(off * 7), 32 + rng() % 4000))
					mine.push_back(off);
				continue;
			}
			size_t k = rng() % mine.size();
			uint64_t off = mine[k];
			mine[k] = mine.back();
			mine.pop_back();
			if (!take(off, &e))
				continue;
			if (op < 9)
				decompress(e); // load or writeback: read, then free
			free_entry(e);
			ops++;
		}
	};
	std::thread reader([&] {
		while (!stop.load()) {
			(void)zspp_get_total_pages(pool_); // zswap_total_pages, any time
			fake::shrink_all();
			std::this_thread::yield();
		}
	});
	std::thread mover([&] {
		std::mt19937_64 rng(5);
		while (!stop.load()) {
			fake::migrate_random_page(rng());
			fake::run_pending_work();
		}
	});
	std::thread a(worker, 1), b(worker, 2);
	a.join();
	b.join();
	stop = true;
	reader.join();
	mover.join();
	fake::flush_work();
	EXPECT_GT(ops.load(), 0u);
	validate();
	PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.objects, xa_.size());
	EXPECT_EQ(s.bad_handles, 0u);
	for (auto &[off, e] : xa_)
		decompress(e);
}

INSTANTIATE_TEST_SUITE_P(Chains, Contract612, ::testing::Values(1u, 8u, 16u), chain_name);

} // namespace
