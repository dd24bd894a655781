// SPDX-License-Identifier: GPL-2.0
// Every read the core makes without the lock that guards the value
// (Documentation/locking.rst, "Racy reads") fed a stale value: what it may
// cost is time or a spare page, never a failed operation, a lost pin or a
// lost byte. Stale values are made with the fake shim's hooks: the lock hook
// runs pool calls in the window between a caller's unlocked read and its
// locked section, as another CPU's task would.
#include "test_util.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

using namespace zt;

namespace {

class RacyReads : public TrackedPoolTest {
protected:
	void TearDown() override
	{
		fake::set_lock_hook(nullptr);
		fake::set_resched_hook(nullptr);
		TrackedPoolTest::TearDown();
	}

	// The class serving @size, when its zspages have at least @pages pages.
	bool class_has_pages(size_t size, unsigned pages)
	{
		return class_stats(pool_, serving_index_of(chain(), size)).pages_per_zspage >= pages;
	}

	// malloc(@size) while every page allocation fails: the handle, or 0.
	unsigned long malloc_without_pages(size_t size, int *err)
	{
		unsigned long h = 0;
		fake::fail_random(1.0, 1, fake::kPageAlloc);
		*err = zspp_malloc(pool_, size, FAKE_GFP_ZSWAP, &h);
		fake::fail_off();
		if (*err == 0) {
			uint32_t seed = next_seed_++;
			EXPECT_EQ(zspp_obj_write(pool_, h, pattern(seed, size).data(), size), 0);
			objs_[h] = Obj{size, seed};
		}
		return h;
	}
};

// The "next slot needs a page" hint, left set by a malloc, made stale by a
// free: the next malloc takes the freed slot, whose page is there, so it
// must succeed while the page allocator fails (zswap allocates without
// direct reclaim: under pressure it does). It used to return -ENOMEM.
TEST_P(RacyReads, NeedsPageHintStaleAfterFree)
{
	const size_t size = 3000; // slot 2 ends in page 2
	if (!class_has_pages(size, 3))
		GTEST_SKIP() << "needs zspages of 3 pages or more";
	unsigned long h1 = add(size), h2 = add(size);
	ASSERT_EQ(zspage_of(h1), zspage_of(h2));
	ASSERT_EQ(slot_of(h2), 1u);
	// The hint now says the next slot (2) needs page 2.
	remove(h1);
	const unsigned long pages = zspp_get_total_pages(pool_);
	const unsigned long injected = fake::injected_failures();
	int err = 0;
	unsigned long h = malloc_without_pages(size, &err);
	EXPECT_EQ(fake::injected_failures(), injected + 1) << "the stale hint was not read";
	ASSERT_EQ(err, 0) << "a malloc that needed no page failed";
	EXPECT_EQ(slot_of(h), 0u);
	EXPECT_EQ(zspp_get_total_pages(pool_), pages);
	EXPECT_EQ(pool_stats(pool_).malloc_fail, 0u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_objects());
}

// The same hint made stale by compaction, which emptied the zspage it
// described: another zspage has a free slot with its page.
TEST_P(RacyReads, NeedsPageHintStaleAfterCompaction)
{
	const size_t size = 3000;
	if (!class_has_pages(size, 4))
		GTEST_SKIP() << "needs zspages of 4 pages or more";
	const unsigned objs = class_stats(pool_, serving_index_of(chain(), size)).objs_per_zspage;
	std::vector<unsigned long> a, b;
	for (unsigned i = 0; i < objs; i++)
		a.push_back(add(size));
	b.push_back(add(size));
	b.push_back(add(size)); // the hint: b's slot 2 needs its page
	ASSERT_NE(zspage_of(a[0]), zspage_of(b[0]));
	for (unsigned i = 0; i < 3; i++)
		remove(a[i]); // a: three free slots with their pages
	ASSERT_GT(zspp_compact(pool_), 0u);
	const void *zs = zspage_of(b[0]);
	ASSERT_EQ(zs, zspage_of(a[3])) << "compaction moved b's objects into a";
	const unsigned long injected = fake::injected_failures();
	int err = 0;
	unsigned long h = malloc_without_pages(size, &err);
	EXPECT_EQ(fake::injected_failures(), injected + 1) << "the stale hint was not read";
	ASSERT_EQ(err, 0) << "a malloc that needed no page failed";
	EXPECT_EQ(zspage_of(h), zs);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_objects());
}

// The hint read as "no page needed" while, by the time the lock is taken,
// the slot malloc will take needs one (another task took the last slot with
// a page in the window): malloc drops the lock, gets the page and succeeds.
// The cost is one more lock round trip.
TEST_P(RacyReads, NeedsPageHintStaleTheOtherWay)
{
	const size_t size = 3000; // slots 0-3 end in pages 0-2, slot 4 in page 3
	if (!class_has_pages(size, 4) || class_stats(pool_, serving_index_of(chain(), size)).objs_per_zspage < 5)
		GTEST_SKIP() << "needs zspages of 5 slots of 3000 bytes or more";
	for (int i = 0; i < 3; i++)
		add(size); // the hint: slot 3 has its page (page 2)
	const unsigned long pages = zspp_get_total_pages(pool_);
	unsigned long calls = 0, other = 0;
	fake::set_lock_hook([&] {
		if (++calls == 1)
			other = add(size); // slot 3
	});
	unsigned long h = add(size);
	fake::set_lock_hook(nullptr);
	ASSERT_NE(other, 0u);
	EXPECT_EQ(slot_of(other), 3u);
	EXPECT_EQ(slot_of(h), 4u);
	EXPECT_EQ(zspp_get_total_pages(pool_), pages + 1) << "page 3 attached for slot 4";
	EXPECT_EQ(pool_stats(pool_).malloc_fail, 0u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_objects());
}

// The shrinker's count (compactable_pages) is a racy snapshot: stale high
// (everything freed before the scan) the scan finds nothing and frees
// nothing; stale low (0, then the pool fragments) the scan still compacts.
TEST_P(RacyReads, ShrinkerCountStale)
{
	fragment(0.3, chain(), 800);
	const unsigned long counted = zspp_compactable_pages(pool_);
	ASSERT_GT(counted, 0u);
	std::vector<unsigned long> hs;
	for (auto &[h, o] : objs_)
		hs.push_back(h);
	for (unsigned long h : hs)
		remove(h);
	EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	EXPECT_EQ(zspp_compact(pool_), 0u) << "nothing left to compact";
	validate();
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
	fragment(0.3, chain() + 1, 800);
	const unsigned long pages = zspp_get_total_pages(pool_);
	const unsigned long freed = zspp_compact(pool_);
	EXPECT_GT(freed, 0u) << "a count read as 0 earlier does not stop a scan";
	EXPECT_EQ(zspp_get_total_pages(pool_), pages - freed);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_objects());
}

// The handle word read by class_of() before the class lock is taken: in
// the window, compaction or page migration moves the object (the word
// changes, its class does not). free, map, read_begin and obj_size re-read
// it under the lock and act on the object where it is now.
TEST_P(RacyReads, HandleWordMovesBeforeTheLock)
{
	const size_t size = 1000;
	const unsigned objs = class_stats(pool_, serving_index_of(chain(), size)).objs_per_zspage;
	ASSERT_GE(objs, 2u);
	for (bool migrate : {false, true}) {
		for (int op = 0; op < 4; op++) {
			SCOPED_TRACE(std::string(migrate ? "migration" : "compaction") + ", op " + std::to_string(op));
			// A: full less one slot; B: the victim alone (compaction's
			// source: the emptiest zspage, moved into A).
			std::vector<unsigned long> a;
			for (unsigned i = 0; i < objs; i++)
				a.push_back(add(size));
			unsigned long victim = add(size);
			ASSERT_NE(zspage_of(victim), zspage_of(a[0]));
			remove(a.back());
			a.pop_back();
			const uint64_t word = word_of(victim);
			unsigned long calls = 0;
			bool moved = false;
			fake::set_lock_hook([&] {
				if (++calls != 1)
					return;
				if (migrate) {
					auto *page = static_cast<zspp_page *>(zspp_debug_handle_page(pool_, victim));
					moved = fake::migrate_page(page) == fake::MigrateResult::kMoved;
				} else {
					moved = zspp_compact(pool_) > 0;
				}
			});
			const Obj o = objs_[victim];
			std::vector<uint8_t> local(o.size);
			switch (op) {
			case 0:
				remove(victim);
				break;
			case 1: {
				void *p = zspp_map_object(pool_, victim, ZSPP_MM_RO);
				fake::set_lock_hook(nullptr);
				ASSERT_NE(p, nullptr);
				EXPECT_EQ(first_diff(static_cast<uint8_t *>(p), pattern(o.seed, o.size).data(), o.size), -1);
				zspp_unmap_object(pool_, victim);
				break;
			}
			case 2: {
				void *p = zspp_obj_read_begin(pool_, victim, local.data());
				fake::set_lock_hook(nullptr);
				ASSERT_NE(p, nullptr);
				EXPECT_EQ(first_diff(static_cast<uint8_t *>(p), pattern(o.seed, o.size).data(), o.size), -1);
				zspp_obj_read_end(pool_, victim, p);
				break;
			}
			case 3:
				EXPECT_EQ(zspp_obj_size(pool_, victim), o.size);
				break;
			}
			fake::set_lock_hook(nullptr);
			EXPECT_TRUE(moved) << "the mover ran in the window";
			if (op != 0)
				EXPECT_NE(word_of(victim), word) << "the object moved in the window";
			EXPECT_EQ(fake::bad_handle_warnings(), 0u);
			validate();
			ASSERT_NO_FATAL_FAILURE(verify_objects());
			std::vector<unsigned long> hs;
			for (auto &[h, ob] : objs_)
				hs.push_back(h);
			for (unsigned long h : hs)
				remove(h);
		}
	}
}

// A pin dropped while a mover looks (the pin count read under the class
// lock, decremented without it): a mover that still saw it skips the
// zspage this time; the next compaction moves it. Nothing moves under a
// live pin.
TEST_P(RacyReads, PinDroppedWhileCompactionLooks)
{
	fragment(0.2, 77, 800);
	std::map<const void *, unsigned long> one_per_zspage;
	for (auto &[h, o] : objs_)
		one_per_zspage.emplace(zspage_of(h), h);
	std::vector<std::pair<unsigned long, void *>> pins;
	std::vector<std::vector<uint8_t>> locals;
	for (auto &[zs, h] : one_per_zspage) {
		locals.emplace_back(objs_[h].size);
		pins.push_back({h, zspp_obj_read_begin(pool_, h, locals.back().data())});
	}
	// Each pin is dropped just before compaction takes a class lock: some
	// zspages are seen pinned, some not; either way no object of a zspage
	// pinned at the time it was looked at moves.
	size_t next = 0;
	fake::set_lock_hook([&] {
		if (next < pins.size()) {
			zspp_obj_read_end(pool_, pins[next].first, pins[next].second);
			next++;
		}
	});
	zspp_compact(pool_);
	fake::set_lock_hook(nullptr);
	for (; next < pins.size(); next++)
		zspp_obj_read_end(pool_, pins[next].first, pins[next].second);
	zspp_compact(pool_);
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u) << "every pin gone: fully compacted";
	EXPECT_EQ(fake::bad_handle_warnings(), 0u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_objects());
}

#ifdef ZSPP_FOLD
// fold_active, read by release_zspage (bury) with no lock: a zspage emptied
// while a fold pass runs on its class is parked for the pass, else freed.
// Stale 1 here: the free reads 1 while the pass is paused, the pass then
// ends (fold_active 0, graveyard emptied) before the free takes the lock.
// The free must see 0 under the lock and free the zspage itself: nothing
// leaked (the fixture's live counters), nothing freed twice (ASan).
TEST_P(RacyReads, FoldActiveStaleWhenTheZspageIsReleased)
{
	const size_t size = 700;
	std::vector<unsigned long> hs;
	const unsigned objs = class_stats(pool_, serving_index_of(chain(), size)).objs_per_zspage;
	for (unsigned i = 0; i < objs; i++)
		hs.push_back(add(size)); // distinct contents: nothing folds
	std::mutex mu;
	std::condition_variable cv;
	bool paused = false, go = false, done = false;
	fake::set_resched_hook([&] { // on the pass's thread, fold_active 1
		std::unique_lock<std::mutex> l(mu);
		if (paused)
			return;
		paused = true;
		cv.notify_all();
		cv.wait(l, [&] { return go; });
	});
	std::thread pass([&] {
		zspp_fold(pool_);
		std::lock_guard<std::mutex> l(mu);
		done = true;
		cv.notify_all();
	});
	{
		std::unique_lock<std::mutex> l(mu);
		cv.wait(l, [&] { return paused; });
	}
	for (size_t i = 0; i + 1 < hs.size(); i++)
		remove(hs[i]);
	// The last free: its first lock is free's own, the second bury's,
	// which it takes only after reading fold_active as 1.
	const std::thread::id me = std::this_thread::get_id();
	unsigned calls = 0;
	bool stale = false;
	fake::set_lock_hook([&] {
		if (std::this_thread::get_id() != me || ++calls != 2)
			return;
		std::unique_lock<std::mutex> l(mu);
		go = true;
		cv.notify_all();
		cv.wait(l, [&] { return done; }); // the pass ended: fold_active 0
		stale = true;
	});
	ASSERT_GT(zspp_get_total_pages(pool_), 0u);
	remove(hs.back());
	fake::set_lock_hook(nullptr);
	{
		std::lock_guard<std::mutex> l(mu);
		go = true;
		cv.notify_all();
	}
	pass.join();
	fake::set_resched_hook(nullptr);
	EXPECT_TRUE(stale) << "the free did not read fold_active as 1";
	EXPECT_EQ(zspp_get_total_pages(pool_), 0u) << "the emptied zspage was not freed";
	validate();
}
#endif

INSTANTIATE_TEST_SUITE_P(Chains, RacyReads, ::testing::Values(1u, 4u, 8u, 16u), chain_name);

} // namespace
