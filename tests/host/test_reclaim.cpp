// SPDX-License-Identifier: GPL-2.0
// Writeback (zspp_reclaim): the LRU order, evict called exactly
// once per live object of the victim, frees during reclaim deferred and
// completed, failures putting the zspage back, and compaction, malloc and
// migration running from inside evict never touching the victim.
#include "test_util.h"

#include <functional>
#include <map>
#include <random>
#include <set>

using namespace zt;

namespace {

class Reclaim : public TrackedPoolTest {
protected:
	void SetUp() override
	{
		fake::fail_off();
		fake::reset_events();
		baseline_ = fake::live();
		ASSERT_EQ(zspp_create_pool_evictable("test", chain(), &Reclaim::evict_thunk, this, &pool_), 0);
	}

	void TearDown() override
	{
		fake::set_resched_hook(nullptr);
		fake::flush_work();
		TrackedPoolTest::TearDown();
	}

	static int evict_thunk(void *ctx, unsigned long handle)
	{
		auto *self = static_cast<Reclaim *>(ctx);
		EXPECT_EQ(fake::locks_held(), 0) << "evict called with a spinlock held";
		self->evicted_.push_back(handle);
		return self->on_evict_ ? self->on_evict_(handle) : self->writeback(handle);
	}

	// What zswap does: map the handle, save the data elsewhere, free the
	// handle while it is still mapped, then unmap.
	int writeback(unsigned long h)
	{
		auto it = objs_.find(h);
		EXPECT_NE(it, objs_.end()) << "evict of a handle nobody owns";
		if (it == objs_.end())
			return -1;
		Obj o = it->second;
		void *p = zspp_map_object(pool_, h, ZSPP_MM_RO);
		EXPECT_NE(p, nullptr);
		if (!p)
			return -1;
		std::vector<uint8_t> data(static_cast<uint8_t *>(p), static_cast<uint8_t *>(p) + o.size);
		EXPECT_EQ(first_diff(data.data(), pattern(o.seed, o.size).data(), o.size), -1)
			<< "evict saw different bytes";
		zspp_free(pool_, h);
		zspp_unmap_object(pool_, h);
		objs_.erase(it);
		swapped_[o.seed] = std::move(data);
		return 0;
	}

	// Fill exactly one new zspage of the class serving @size.
	std::vector<unsigned long> fill_zspage(size_t size)
	{
		unsigned idx = serving_index_of(chain(), size);
		unsigned objs = class_stats(pool_, idx).objs_per_zspage;
		std::vector<unsigned long> hs;
		for (unsigned i = 0; i < objs; i++)
			hs.push_back(add(size));
		const void *zs = zspage_of(hs[0]);
		for (unsigned long h : hs)
			EXPECT_EQ(zspage_of(h), zs);
		return hs;
	}

	void verify_all()
	{
		verify_objects();
		for (auto &[seed, data] : swapped_)
			ASSERT_EQ(first_diff(data.data(), pattern(seed, data.size()).data(), data.size()), -1);
	}

	unsigned pages_of(size_t size)
	{
		return class_stats(pool_, serving_index_of(chain(), size)).pages_per_zspage;
	}

	std::map<uint32_t, std::vector<uint8_t>> swapped_;
	std::vector<unsigned long> evicted_;
	std::function<int(unsigned long)> on_evict_;
};

TEST(ReclaimApi, NotEvictableOrNoCallback)
{
	zspp_pool *pool = nullptr;
	ASSERT_EQ(zspp_create_pool("plain", 4, &pool), 0);
	unsigned long r = 99;
	EXPECT_EQ(zspp_reclaim(pool, 1, &r), -ZSPP_EINVAL);
	zspp_destroy_pool(pool);
	pool = nullptr;
	EXPECT_EQ(zspp_create_pool_evictable("x", 4, nullptr, nullptr, &pool), -ZSPP_EINVAL);
	EXPECT_EQ(pool, nullptr);
	EXPECT_EQ(zspp_create_pool_evictable("x", 0, [](void *, unsigned long) { return 0; }, nullptr, &pool),
		  -ZSPP_EINVAL);
}

TEST_P(Reclaim, EmptyPoolIsEAgain)
{
	unsigned long r = 99;
	EXPECT_EQ(zspp_reclaim(pool_, 1, &r), -ZSPP_EAGAIN);
	EXPECT_EQ(r, 0u);
	EXPECT_EQ(zspp_reclaim(pool_, 0, nullptr), 0);
	EXPECT_TRUE(evicted_.empty());
}

// The oldest zspage goes first, each of its objects evicted exactly once,
// and only its objects; everything else is untouched.
TEST_P(Reclaim, EvictsTheLeastRecentlyAllocatedIntoZspage)
{
	std::vector<unsigned long> old = fill_zspage(300);
	std::vector<unsigned long> mid = fill_zspage(1000);
	std::vector<unsigned long> young = fill_zspage(2000);
	unsigned long before = zspp_get_total_pages(pool_);
	unsigned long r = 0;
	ASSERT_EQ(zspp_reclaim(pool_, 1, &r), 0);
	EXPECT_EQ(r, pages_of(300));
	EXPECT_EQ(std::multiset<unsigned long>(evicted_.begin(), evicted_.end()),
		  std::multiset<unsigned long>(old.begin(), old.end()));
	EXPECT_EQ(zspp_get_total_pages(pool_), before - pages_of(300));
	PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.pages_reclaimed, pages_of(300));
	EXPECT_EQ(s.objs_written_back, old.size());
	EXPECT_EQ(s.reclaim_deferred_frees, old.size()) << "zswap frees inside evict: every free deferred";
	EXPECT_EQ(s.objects, mid.size() + young.size());
	EXPECT_EQ(s.reclaim_fail, 0u);
	validate();
	verify_all();
	// A freed handle is gone: its word was cleared.
	for (unsigned long h : mid)
		EXPECT_NE(zspp_obj_size(pool_, h), 0u);

	evicted_.clear();
	ASSERT_EQ(zspp_reclaim(pool_, 1, &r), 0);
	EXPECT_EQ(std::set<unsigned long>(evicted_.begin(), evicted_.end()),
		  std::set<unsigned long>(mid.begin(), mid.end()));
	verify_all();
}

// Allocating into a zspage moves it to the LRU head.
TEST_P(Reclaim, AllocationRefreshesTheLru)
{
	std::vector<unsigned long> a = fill_zspage(300);
	remove(a.back()); // room for one more
	std::vector<unsigned long> b = fill_zspage(1000);
	add(300);         // lands in a's zspage: it is now the newest
	ASSERT_EQ(zspp_reclaim(pool_, 1, nullptr), 0);
	EXPECT_EQ(std::set<unsigned long>(evicted_.begin(), evicted_.end()),
		  std::set<unsigned long>(b.begin(), b.end()));
	verify_all();
}

// Asking for more pages than one zspage reclaims several, oldest first.
TEST_P(Reclaim, ReclaimsUntilEnoughPages)
{
	fill_zspage(300);
	fill_zspage(1000);
	std::vector<unsigned long> c = fill_zspage(2000);
	unsigned long want = pages_of(300) + 1, r = 0;
	ASSERT_EQ(zspp_reclaim(pool_, want, &r), 0);
	EXPECT_GE(r, want);
	EXPECT_EQ(r, pages_of(300) + pages_of(1000));
	EXPECT_EQ(objs_.size(), c.size());
	validate();
	verify_all();
}

// Frees by other tasks while the zspage is under reclaim wait for it, are
// never evicted, and complete; a second free of such a handle is caught.
TEST_P(Reclaim, FreesDuringReclaimAreDeferredAndCompleted)
{
	std::vector<unsigned long> v = fill_zspage(500);
	fill_zspage(1500);
	ASSERT_GE(v.size(), 4u);
	unsigned long victim_last = v.back(), victim_third = v[2];
	const Obj third = objs_[victim_third];
	bool once = false;
	on_evict_ = [&](unsigned long h) {
		if (!once) {
			once = true;
			// An invalidation on another CPU: free two objects not yet evicted.
			remove(victim_last);
			remove(victim_third);
			EXPECT_EQ(zspp_obj_size(pool_, victim_last), 0u) << "a deferred-freed handle is not live";
			// Still mappable with its bytes until the reclaim ends: 6.1
			// zswap's evict maps before it finds the entry gone.
			for (ReadApi api : {ReadApi::kMapRO, ReadApi::kReadBegin, ReadApi::kMapRW}) {
				std::vector<uint8_t> got = read_obj(pool_, victim_third, third.size, api);
				EXPECT_EQ(first_diff(got.data(), pattern(third.seed, third.size).data(), third.size), -1)
					<< name(api) << " of a handle whose free waits for the reclaim";
			}
			zspp_free(pool_, victim_third); // double free: detected, ignored
		}
		return writeback(h);
	};
	ASSERT_EQ(zspp_reclaim(pool_, 1, nullptr), 0);
	EXPECT_EQ(std::count(evicted_.begin(), evicted_.end(), victim_last), 0);
	EXPECT_EQ(std::count(evicted_.begin(), evicted_.end(), victim_third), 0);
	EXPECT_EQ(evicted_.size(), v.size() - 2);
	PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.reclaim_deferred_frees, v.size());
	EXPECT_EQ(s.bad_handles, 1u); // the double free
	EXPECT_EQ(fake::bad_handle_warnings(), 1u);
	validate();
	verify_all();
}

// An evict that fails keeps the rest of the zspage: it goes back to its
// class (allocatable, LRU head), objects intact; nothing freed: -EAGAIN.
TEST_P(Reclaim, FailedEvictPutsTheZspageBack)
{
	std::vector<unsigned long> v = fill_zspage(700);
	remove(v.back());
	v.pop_back();
	unsigned long stuck = v[2]; // say, its swap slot is busy
	on_evict_ = [&](unsigned long h) { return h == stuck ? -17 /* -EEXIST */ : writeback(h); };
	unsigned long r = 99;
	EXPECT_EQ(zspp_reclaim(pool_, 1, &r), -ZSPP_EAGAIN);
	EXPECT_EQ(r, 0u);
	PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.objs_written_back, 2u) << "the two objects before the stuck one";
	EXPECT_EQ(s.reclaim_fail, 8u) << "retried, then gave up";
	EXPECT_EQ(std::count(evicted_.begin(), evicted_.end(), stuck), 8);
	EXPECT_EQ(s.objects, objs_.size());
	EXPECT_EQ(objs_.size(), v.size() - 2);
	validate();
	verify_all();
	// Back in its class: the next malloc of that size fills its free slots.
	unsigned long h = add(700);
	EXPECT_EQ(zspage_of(h), zspage_of(objs_.begin()->first));
	// And once evict works again, it is reclaimed.
	on_evict_ = nullptr;
	ASSERT_EQ(zspp_reclaim(pool_, 1, &r), 0);
	EXPECT_TRUE(objs_.empty());
	validate();
}

// evict returning 0 without freeing must not free anything nor loop forever.
TEST_P(Reclaim, EvictThatKeepsTheObjectIsAFailure)
{
	std::vector<unsigned long> v = fill_zspage(900);
	on_evict_ = [](unsigned long) { return 0; };
	EXPECT_EQ(zspp_reclaim(pool_, 1, nullptr), -ZSPP_EAGAIN);
	EXPECT_EQ(pool_stats(pool_).reclaim_fail, 8u) << "gives up after 8 zspages";
	EXPECT_EQ(pool_stats(pool_).objects, v.size());
	validate();
	verify_all();
}

// From inside evict (another CPU, in effect): malloc never lands in the
// victim, compaction never moves its objects, migration may move its pages.
TEST_P(Reclaim, MallocCompactionAndMigrationDuringEvict)
{
	std::vector<unsigned long> v = fill_zspage(400);
	// Sparse younger zspages of the same class so compaction has work.
	std::vector<unsigned long> w1 = fill_zspage(400), w2 = fill_zspage(400);
	for (size_t i = 0; i < w1.size(); i += 2)
		remove(w1[i]);
	for (size_t i = 1; i < w2.size(); i += 2)
		remove(w2[i]);
	const void *victim = zspage_of(v[0]);
	bool migrated = false;
	on_evict_ = [&](unsigned long h) {
		unsigned long n = add(400);
		EXPECT_NE(zspage_of(n), victim) << "malloc used a zspage under reclaim";
		zspp_compact(pool_);
		if (!migrated) {
			// Move the victim's first page: handles are re-pointed.
			zspp_page *pg = static_cast<zspp_page *>(zspp_debug_handle_page(pool_, v.back()));
			migrated = fake::migrate_page(pg) == fake::MigrateResult::kMoved;
		}
		return writeback(h);
	};
	ASSERT_EQ(zspp_reclaim(pool_, 1, nullptr), 0);
	EXPECT_TRUE(migrated);
	EXPECT_EQ(evicted_.size(), v.size());
	for (unsigned long h : v)
		EXPECT_EQ(objs_.count(h), 0u);
	EXPECT_GT(pool_stats(pool_).pages_migrated, 0u);
	validate();
	verify_all();
}

// A random mix of malloc, free, reclaim, compaction: every object is either
// in the pool or was written back, byte for byte, and the counts add up.
TEST_P(Reclaim, RandomModel)
{
	std::mt19937_64 rng(GetParam() * 7919);
	unsigned long total = 0;
	for (int step = 0; step < 4000; step++) {
		unsigned op = rng() % 100;
		if (op < 60 || objs_.empty()) {
			add(1 + rng() % 3000);
			total++;
		} else if (op < 90) {
			auto it = objs_.begin();
			std::advance(it, rng() % objs_.size());
			remove(it->first);
		} else if (op < 97) {
			unsigned long r = 0;
			int ret = zspp_reclaim(pool_, 1 + rng() % 8, &r);
			EXPECT_TRUE(ret == 0 ? r > 0 : ret == -ZSPP_EAGAIN && r == 0) << ret << " " << r;
		} else {
			zspp_compact(pool_);
		}
		if (step % 500 == 0)
			validate();
	}
	validate();
	verify_all();
	PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.objects, objs_.size());
	EXPECT_EQ(s.objs_written_back, swapped_.size());
	EXPECT_GT(s.pages_reclaimed, 0u);
}

INSTANTIATE_TEST_SUITE_P(Chains, Reclaim, ::testing::Values(1u, 4u, 8u, 16u), chain_name);

} // namespace
