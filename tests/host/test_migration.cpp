// SPDX-License-Identifier: GPL-2.0
// Page migration (zspp_core_page_isolate/migrate) and the deferred zspage
// free. The fake shim plays the kernel's migration core (fake::migrate_page):
// trylock, isolate, unlock, [window], lock, migrate, release the loser.
#include "test_util.h"

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

using namespace zt;

namespace {

class Migration : public TrackedPoolTest {
protected:
	void TearDown() override
	{
		fake::flush_work();
		TrackedPoolTest::TearDown();
	}

	void verify_all() { verify_objects(); }

	zspp_page *page_of(unsigned long h) { return static_cast<zspp_page *>(zspp_debug_handle_page(pool_, h)); }
};

TEST_P(Migration, ZspagePagesAreOwnedAndMovable)
{
	for (size_t size = 1; size <= ZSPP_MAX_ALLOC_SIZE; size += 97)
		add(size);
	for (auto &[h, o] : objs_) {
		zspp_page *p = page_of(h);
		ASSERT_NE(p, nullptr);
		EXPECT_TRUE(fake::page_is_movable(p));
		EXPECT_EQ(zspp_pfn_owner(zspp_page_pfn(p)), zspage_of(h));
	}
	EXPECT_EQ(zspp_debug_handle_page(pool_, 0), nullptr);
}

// Migrate every page of every zspage (first pages too, which re-points the
// handles): objects, handles and statistics survive; old pages are freed.
TEST_P(Migration, EveryPageMovesAndObjectsFollow)
{
	std::mt19937 rng(GetParam());
	for (int i = 0; i < 600; i++)
		add(1 + rng() % 4096);
	validate();
	const PoolStats before = pool_stats(pool_);
	const long pages_live = fake::live().pages;
	std::map<unsigned long, const void *> where;
	for (auto &[h, o] : objs_)
		where[h] = zspage_of(h);
	// The pages objects start in (most pages of most zspages).
	std::set<zspp_page *> pages;
	for (auto &[h, o] : objs_)
		pages.insert(page_of(h));
	unsigned long moved = 0;
	for (zspp_page *p : pages) {
		fake::MigrateResult r = fake::migrate_page(p);
		ASSERT_EQ(int(r), int(fake::MigrateResult::kMoved));
		moved++;
		if (moved % 50 == 0)
			validate();
	}
	validate();
	const PoolStats after = pool_stats(pool_);
	EXPECT_EQ(after.pages_migrated - before.pages_migrated, moved);
	EXPECT_EQ(after.pages, before.pages);
	EXPECT_EQ(after.objects, before.objects);
	EXPECT_EQ(fake::live().pages, pages_live) << "one page freed for each one allocated";
	for (auto &[h, o] : objs_) {
		EXPECT_EQ(zspage_of(h), where[h]) << "the descriptor stays, its pages change";
		EXPECT_TRUE(fake::page_is_movable(page_of(h)));
		EXPECT_EQ(probe::loc_pfn(word_of(h)), probe::zspage_info(zspage_of(h)).pfn0);
	}
	ASSERT_NO_FATAL_FAILURE(verify_all());
	// The pool keeps working on the new pages.
	for (int i = 0; i < 100; i++)
		add(1 + rng() % 4096);
	for (int i = 0; i < 300 && !objs_.empty(); i++)
		remove(objs_.begin()->first);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// A pinned zspage (map or read_begin) cannot be isolated; a pin taken after
// isolation makes the migration fail with -EAGAIN and nothing moves.
TEST_P(Migration, PinnedZspagesStay)
{
	unsigned long h = add(3000);
	zspp_page *p = page_of(h);
	void *m = zspp_map_object(pool_, h, ZSPP_MM_RO);
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(int(fake::migrate_page(p)), int(fake::MigrateResult::kIsolateFailed));
	zspp_unmap_object(pool_, h);
	std::vector<uint8_t> local(3000);
	void *r = zspp_obj_read_begin(pool_, h, local.data());
	EXPECT_EQ(int(fake::migrate_page(p)), int(fake::MigrateResult::kIsolateFailed));
	zspp_obj_read_end(pool_, h, r);
	// Pinned between isolate and migrate.
	void *m2 = nullptr;
	fake::MigrateResult res = fake::migrate_page(p, [&] { m2 = zspp_map_object(pool_, h, ZSPP_MM_RW); });
	EXPECT_EQ(int(res), int(fake::MigrateResult::kBusy));
	ASSERT_NE(m2, nullptr);
	EXPECT_EQ(page_of(h), p) << "nothing moved while pinned";
	zspp_unmap_object(pool_, h);
	EXPECT_EQ(int(fake::migrate_page(p)), int(fake::MigrateResult::kMoved));
	EXPECT_NE(page_of(h), p);
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// zspp frees the zspage while its page is isolated (unlocked): the page
// leaves zspp at once and migration finds it released.
TEST_P(Migration, FreeWhileIsolated)
{
	unsigned long first = add(700);
	const void *zs = zspage_of(first);
	zspp_page *p = page_of(first);
	const long pages_before = fake::live().pages;
	const unsigned pages_per = probe::zspage_info(zs).present_pages;
	fake::MigrateResult res = fake::migrate_page(p, [&] {
		for (auto it = objs_.begin(); it != objs_.end();) {
			unsigned long h = it->first;
			++it;
			if (zspage_of(h) == zs)
				remove(h);
		}
	});
	EXPECT_EQ(int(res), int(fake::MigrateResult::kReleased));
	fake::flush_work();
	EXPECT_EQ(fake::live().pages, pages_before - long(pages_per));
	EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	validate();
}

// Compaction in the isolation window (the zspage may be a source and go
// away, or a destination and gain objects): whatever happens, every object
// reads back.
TEST_P(Migration, CompactionWhileIsolated)
{
	std::mt19937 rng(GetParam() + 5);
	for (int i = 0; i < 800; i++)
		add(1 + rng() % 4096);
	std::vector<unsigned long> hs;
	for (auto &[h, o] : objs_)
		hs.push_back(h);
	for (unsigned long h : hs)
		if (rng() % 10 < 7)
			remove(h);
	std::map<int, int> outcomes;
	for (int round = 0; round < 20 && !objs_.empty(); round++) {
		auto it = objs_.begin();
		std::advance(it, rng() % objs_.size());
		zspp_page *p = page_of(it->first);
		fake::MigrateResult res = fake::migrate_page(p, [&] {
			zspp_compact(pool_);
			for (int i = 0; i < 10; i++)
				add(1 + rng() % 4096);
		});
		outcomes[int(res)]++;
		validate();
		ASSERT_NO_FATAL_FAILURE(verify_all());
	}
	fake::flush_work();
	validate();
	RecordProperty("moved", outcomes[int(fake::MigrateResult::kMoved)]);
	RecordProperty("released", outcomes[int(fake::MigrateResult::kReleased)]);
}

// Trimming (compaction releasing the pages past a part-full zspage's last
// object) with migration at the page where the zspage's last slot starts:
// one zspage of a class of four pages or more, filled.
struct FullZspage {
	size_t size = 0;
	ClassStats cs{};
	std::vector<unsigned long> hs; // slot order
	const void *zs = nullptr;
	zspp_page *last = nullptr;     // where the last slot starts
	unsigned keep_objs = 0;        // the lower half, kept
	unsigned keep_pages = 0;       // the pages they reach
	unsigned last_index = 0;       // index of `last` in the zspage
};

class TrimMigration : public Migration {
protected:
	// False: no class of four pages or more at this chain.
	bool fill_one(FullZspage *f)
	{
		for (size_t sz = 1024; sz <= 4096 && !f->size; sz += 16) {
			f->cs = class_stats(pool_, serving_index_of(chain(), sz));
			if (f->cs.pages_per_zspage >= 4)
				f->size = f->cs.size;
		}
		if (!f->size)
			return false;
		for (unsigned i = 0; i < f->cs.objs_per_zspage; i++)
			f->hs.push_back(add(f->size));
		f->zs = zspage_of(f->hs[0]);
		EXPECT_EQ(zspage_of(f->hs.back()), f->zs);
		EXPECT_EQ(probe::zspage_info(f->zs).present_pages, f->cs.pages_per_zspage);
		f->last = page_of(f->hs.back());
		f->keep_objs = f->cs.objs_per_zspage / 2;
		f->keep_pages = unsigned((f->keep_objs * f->size - 1) / 4096) + 1;
		f->last_index = unsigned((f->cs.objs_per_zspage - 1ul) * f->size / 4096);
		EXPECT_GE(f->last_index, f->keep_pages) << "the page must be past the kept objects";
		return true;
	}
};

// A trim in the isolation window: the page leaves zspp and migration finds
// it released, as for a zspage freed while isolated.
TEST_P(TrimMigration, TrimWhileIsolated)
{
	FullZspage f;
	if (!fill_one(&f))
		GTEST_SKIP() << "no class of four pages or more at this chain";
	const long pages_before = fake::live().pages;
	unsigned long freed = 0;
	fake::MigrateResult res = fake::migrate_page(f.last, [&] {
		for (unsigned i = f.keep_objs; i < f.hs.size(); i++)
			remove(f.hs[i]);
		freed = zspp_compact(pool_);
	});
	EXPECT_EQ(int(res), int(fake::MigrateResult::kReleased)) << "the trimmed page was migrated";
	EXPECT_EQ(freed, f.cs.pages_per_zspage - f.keep_pages);
	EXPECT_EQ(probe::zspage_info(f.zs).present_pages, f.keep_pages);
	EXPECT_EQ(pool_stats(pool_).pages_trimmed, freed);
	fake::flush_work();
	EXPECT_EQ(fake::live().pages, pages_before - long(freed));
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
	// The zspage grows again as its slots are taken.
	for (unsigned i = f.keep_objs; i < f.cs.objs_per_zspage; i++)
		add(f.size);
	EXPECT_EQ(probe::zspage_info(f.zs).present_pages, f.cs.pages_per_zspage);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// A page whose lock migration holds is not trimmed (nor the pages below it:
// the pages there stay 0..n-1); once unlocked, the next compaction trims.
TEST_P(TrimMigration, TrimLeavesALockedPage)
{
	FullZspage f;
	if (!fill_one(&f))
		GTEST_SKIP() << "no class of four pages or more at this chain";
	for (unsigned i = f.keep_objs; i < f.hs.size(); i++)
		remove(f.hs[i]);
	const long pages_before = fake::live().pages;
	// The last slot may start on the page before the last one.
	const unsigned above = f.cs.pages_per_zspage - 1 - f.last_index;
	ASSERT_TRUE(zspp_page_trylock(f.last)); // as migration's isolate does
	EXPECT_EQ(zspp_compact(pool_), above) << "only pages above the locked one may go";
	EXPECT_EQ(probe::zspage_info(f.zs).present_pages, f.last_index + 1);
	EXPECT_GT(zspp_compactable_pages(pool_), 0u);
	EXPECT_EQ(fake::live().pages, pages_before - long(above));
	zspp_page_unlock(f.last);
	validate();
	EXPECT_EQ(zspp_compact(pool_), f.last_index + 1 - f.keep_pages);
	EXPECT_EQ(probe::zspage_info(f.zs).present_pages, f.keep_pages);
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
	EXPECT_EQ(fake::live().pages, pages_before - long(f.cs.pages_per_zspage - f.keep_pages));
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// A page locked by migration when its zspage empties: the free is deferred
// to the worker, which completes once the page lock is dropped.
TEST_P(Migration, FreeWithPageLockedIsDeferred)
{
	unsigned long h = add(2000);
	zspp_page *p = page_of(h);
	const PoolStats before = pool_stats(pool_);
	const long pages_before = fake::live().pages;
	std::atomic<int> phase{0};
	std::thread locker([&] { // the migration core holding the page lock
		ASSERT_TRUE(zspp_page_trylock(p));
		phase = 1;
		while (phase.load() != 2)
			std::this_thread::yield();
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		zspp_page_unlock(p);
	});
	while (phase.load() != 1)
		std::this_thread::yield();
	remove(h); // never sleeps: trylock fails, the worker takes it
	EXPECT_EQ(pool_stats(pool_).deferred_frees, before.deferred_frees + 1);
	EXPECT_EQ(zspp_get_total_pages(pool_), pool_stats(pool_).pages);
	phase = 2;
	locker.join();
	// The worker sleeps on the page lock, then frees.
	for (int i = 0; i < 2000 && fake::live().pages != pages_before - long(before.pages); i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	fake::flush_work();
	EXPECT_EQ(fake::live().pages, pages_before - long(before.pages));
	EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	validate();
}

// destroy with a deferred free outstanding waits for the page lock.
TEST_P(Migration, DestroyFinishesDeferredFrees)
{
	const fake::Counters base = baseline_;
	unsigned long h = add(2000);
	zspp_page *p = page_of(h);
	std::atomic<int> phase{0};
	std::thread locker([&] {
		ASSERT_TRUE(zspp_page_trylock(p));
		phase = 1;
		while (phase.load() != 2)
			std::this_thread::yield();
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		zspp_page_unlock(p);
	});
	while (phase.load() != 1)
		std::this_thread::yield();
	remove(h);
	phase = 2;
	zspp_destroy_pool(pool_); // waits for the page lock
	pool_ = nullptr;
	locker.join();
	EXPECT_EQ(fake::live(), base);
}

// Workers churn while a migrator moves random pages and a shrinker compacts.
class MigrationThreads : public ChainPoolTest {};

TEST_P(MigrationThreads, MigrateUnderLoad)
{
	constexpr int kWorkers = 3;
	std::atomic<bool> stop{false};
	std::atomic<unsigned long> moved{0}, busy{0}, failures{0};
	std::thread migrator([&] {
		std::mt19937_64 rng(GetParam());
		while (!stop.load()) {
			fake::MigrateResult r = fake::migrate_random_page(rng());
			if (r == fake::MigrateResult::kMoved)
				moved++;
			else if (r == fake::MigrateResult::kBusy)
				busy++;
		}
	});
	std::thread shrinker([&] {
		while (!stop.load()) {
			fake::shrink_all();
			std::this_thread::sleep_for(std::chrono::microseconds(200));
		}
	});
	std::vector<std::thread> workers;
	for (int w = 0; w < kWorkers; w++) {
		workers.emplace_back([&, w] {
			std::mt19937_64 rng(w * 77 + GetParam());
			std::map<unsigned long, std::pair<size_t, std::vector<uint8_t>>> mine;
			for (int op = 0; op < 4000; op++) {
				unsigned r = unsigned(rng() % 10);
				if (mine.size() < 50 || r < 4) {
					size_t size = 1 + rng() % 4096;
					unsigned long h;
					if (zspp_malloc(pool_, size, kGfp, &h) != 0) {
						failures++;
						return;
					}
					std::vector<uint8_t> d = pattern(uint32_t(rng()), size);
					write_obj(pool_, h, d, WriteApi(rng() % 3));
					mine[h] = {size, std::move(d)};
				} else if (r < 7) {
					auto it = mine.begin();
					std::advance(it, rng() % mine.size());
					zspp_free(pool_, it->first);
					mine.erase(it);
				} else {
					auto it = mine.begin();
					std::advance(it, rng() % mine.size());
					std::vector<uint8_t> got =
						read_obj(pool_, it->first, it->second.first, ReadApi(rng() % 3));
					if (first_diff(got.data(), it->second.second.data(), it->second.first) != -1) {
						failures++;
						ADD_FAILURE() << "object changed under migration";
						return;
					}
				}
			}
			for (auto &[h, v] : mine) {
				std::vector<uint8_t> got = read_obj(pool_, h, v.first, ReadApi::kReadBegin);
				if (first_diff(got.data(), v.second.data(), v.first) != -1) {
					failures++;
					ADD_FAILURE() << "object changed under migration (final check)";
				}
				zspp_free(pool_, h);
			}
		});
	}
	for (auto &t : workers)
		t.join();
	stop = true;
	migrator.join();
	shrinker.join();
	fake::flush_work();
	EXPECT_EQ(failures.load(), 0u);
	EXPECT_GT(moved.load(), 0u) << "the migrator never moved a page";
	validate();
	EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	RecordProperty("migrated", int(moved.load()));
	RecordProperty("busy", int(busy.load()));
}

INSTANTIATE_TEST_SUITE_P(Chains, Migration, ::testing::Values(1u, 4u, 8u, 16u), chain_name);
INSTANTIATE_TEST_SUITE_P(Chains, TrimMigration, ::testing::Values(1u, 4u, 8u, 16u), chain_name);
INSTANTIATE_TEST_SUITE_P(Chains, MigrationThreads, ::testing::Values(1u, 8u, 16u), chain_name);

} // namespace
