// SPDX-License-Identifier: GPL-2.0
// Compaction (zspp_compact, the shrinker): pages freed as promised, objects
// and handles intact, pinned zspages left alone, one compaction at a time,
// no lock held between zspages. Interleavings are driven from the fake
// shim's cond_resched hook, which compaction calls between zspages.
#include "test_util.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

using namespace zt;

namespace {

class Compaction : public TrackedPoolTest {
protected:
	void TearDown() override
	{
		fake::set_resched_hook(nullptr);
		TrackedPoolTest::TearDown();
	}

	void verify_all() { verify_objects(); }

	unsigned long sum_freeable_without_auto_ = 0;

	unsigned long sum_freeable()
	{
		return sum_over_classes(pool_, [](const ClassStats &cs) { return cs.freeable; });
	}
};

TEST_P(Compaction, FreesWhatItPromisesAndKeepsEveryObject)
{
	fragment(0.3, chain());
	validate();
	const unsigned long promised = zspp_compactable_pages(pool_);
	ASSERT_EQ(promised, sum_freeable());
	ASSERT_GT(promised, 0u);
	const unsigned long pages = zspp_get_total_pages(pool_);
	// Where each object is: its zspage and slot.
	std::map<unsigned long, std::pair<const void *, unsigned>> where;
	for (auto &[h, o] : objs_)
		where[h] = {zspage_of(h), slot_of(h)};
	const PoolStats before = pool_stats(pool_);
	// Count moves at every scheduling point (between source zspages), where
	// an object moved at most once since the last one (into another zspage,
	// or to the front of its own before a trim).
	unsigned long moved = 0;
	auto count_moves = [&] {
		for (auto &[h, z] : where) {
			std::pair<const void *, unsigned> now{zspage_of(h), slot_of(h)};
			moved += now != z;
			z = now;
		}
	};
	fake::set_resched_hook(count_moves);
	const unsigned long freed = zspp_compact(pool_);
	fake::set_resched_hook(nullptr);
	count_moves();
	validate();
	// The count is an upper bound (a move may give a destination its next
	// page); what compaction does is exact: every class ends packed, its
	// objects in full zspages and one part-full zspage holding only the
	// pages its objects reach.
	EXPECT_LE(freed, promised);
	EXPECT_GT(freed, 0u);
	for (unsigned ci = 0; ci < zspp_nr_classes(pool_); ci++) {
		int ret;
		ClassStats cs = class_stats(pool_, ci, &ret);
		if (ret != 0)
			continue;
		EXPECT_LT(cs.obj_allocated - cs.obj_used, cs.objs_per_zspage) << "class " << ci;
		EXPECT_EQ(cs.pages_used, packed_pages(cs, cs.obj_used)) << "class " << ci;
	}
	EXPECT_EQ(zspp_get_total_pages(pool_), pages - freed);
	EXPECT_EQ(fake::live().pages - baseline_.pages, long(pages - freed)) << "pages really released";
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
	EXPECT_EQ(sum_freeable(), 0u);
	const PoolStats after = pool_stats(pool_);
	EXPECT_EQ(after.objs_moved - before.objs_moved, moved);
	EXPECT_EQ(after.pages_compacted - before.pages_compacted, freed);
	if (chain() > 1) // one-page zspages have no page past their last object
		EXPECT_GT(after.pages_trimmed - before.pages_trimmed, 0u);
	else
		EXPECT_EQ(after.pages_trimmed, before.pages_trimmed);
	EXPECT_EQ(after.compactions, before.compactions + 1);
	EXPECT_EQ(after.objects, before.objects);
	EXPECT_EQ(after.bytes_stored, before.bytes_stored);
	EXPECT_EQ(after.bytes_slots, before.bytes_slots);
	ASSERT_NO_FATAL_FAILURE(verify_all()); // same handles, same bytes

	// Nothing left to do: a second run frees nothing and is not counted.
	EXPECT_EQ(zspp_compact(pool_), 0u);
	EXPECT_EQ(pool_stats(pool_).compactions, after.compactions);
	// The pool keeps working.
	for (int i = 0; i < 200; i++)
		add(1 + (i * 37) % 4096);
	ASSERT_NO_FATAL_FAILURE(verify_all());
	validate();
}

// Zspages fill their pages from the front: a zspage starts with page 0 and
// gets each next page only when a slot first reaches into it; a freed slot
// is reused before any new page is taken; a full zspage has its chain.
TEST_P(Compaction, ZspagePagesComeAsSlotsReachThem)
{
	const size_t size = 3000;
	ClassStats cs = class_stats(pool_, serving_index_of(chain(), size));
	auto pages_for = [&](unsigned long slots) { return (slots * cs.size - 1) / ZSPP_PAGE_SIZE + 1; };
	std::vector<unsigned long> hs;
	for (unsigned k = 1; k <= cs.objs_per_zspage; k++) {
		hs.push_back(add(size));
		ASSERT_EQ(zspp_get_total_pages(pool_), pages_for(k)) << k << " objects";
		ASSERT_EQ(fake::live().pages - baseline_.pages, long(pages_for(k)));
	}
	EXPECT_EQ(zspp_get_total_pages(pool_), cs.pages_per_zspage);
	if (hs.size() >= 3) {
		// Free the last slot and one in the middle: the two come back
		// without a page taken.
		remove(hs.back());
		remove(hs[hs.size() / 2]);
		add(size);
		add(size);
		EXPECT_EQ(zspp_get_total_pages(pool_), cs.pages_per_zspage);
	}
	// The next one starts a zspage with one page.
	add(size);
	EXPECT_EQ(zspp_get_total_pages(pool_), cs.pages_per_zspage + 1);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// A malloc whose slot needs the zspage's next page fails cleanly when that
// page cannot be had (nothing leaks, nothing changes), and the next one
// takes it.
TEST_P(Compaction, MallocWithoutItsNextPageFailsCleanly)
{
	const size_t size = 3000;
	ClassStats cs = class_stats(pool_, serving_index_of(chain(), size));
	if (cs.pages_per_zspage == 1)
		GTEST_SKIP() << "one-page zspages have no next page";
	add(size); // page 0: slot 0 (3000 B) and the start of slot 1
	const long live = fake::live().pages;
	unsigned long h = 0;
	{
		fake::FailNth f(1, fake::kPageAlloc);
		EXPECT_EQ(zspp_malloc(pool_, size, FAKE_GFP_ZSWAP, &h), -ENOMEM);
	}
	EXPECT_EQ(fake::live().pages, live);
	EXPECT_EQ(zspp_get_total_pages(pool_), 1u);
	validate();
	add(size);
	EXPECT_EQ(zspp_get_total_pages(pool_), 2u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// Compaction into a destination whose next slot has no page yet gives it
// that page (taken without sleeping), and counts what it freed net of it;
// with no page to be had it stops, every object intact.
TEST_P(Compaction, MovesIntoSlotsThatNeedTheirPage)
{
	const size_t size = 3000;
	ClassStats cs = class_stats(pool_, serving_index_of(chain(), size));
	if (cs.pages_per_zspage < 4)
		GTEST_SKIP() << "needs zspages of several pages";
	for (bool fail : {false, true}) {
		SCOPED_TRACE(fail ? "page allocation failing" : "pages available");
		// A: full, then 70% freed (its pages stay); B: 60% filled from the
		// front (pages for that only).
		std::vector<unsigned long> a, b;
		for (unsigned k = 0; k < cs.objs_per_zspage; k++)
			a.push_back(add(size));
		for (unsigned k = 0; k < cs.objs_per_zspage * 6 / 10; k++)
			b.push_back(add(size));
		ASSERT_NE(zspage_of(a[0]), zspage_of(b[0]));
		for (unsigned k = 0; k < cs.objs_per_zspage * 7 / 10; k++)
			remove(a[k]);
		const unsigned long pages = zspp_get_total_pages(pool_);
		unsigned long freed;
		{
			fake::FailNth f(fail ? 1 : 0, fake::kPageAlloc);
			freed = zspp_compact(pool_);
		}
		validate();
		ASSERT_NO_FATAL_FAILURE(verify_all());
		EXPECT_EQ(zspp_get_total_pages(pool_), pages - freed);
		EXPECT_EQ(fake::live().pages - baseline_.pages, long(pages - freed));
		if (!fail) {
			EXPECT_GT(freed, 0u);
			EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
			EXPECT_EQ(fake::last_gfp(fake::kPageAlloc), zspp_gfp_nowait) << "the shrinker may run compaction";
		}
		for (auto &[h, o] : std::map<unsigned long, Obj>(objs_))
			remove(h);
		EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	}
}

// A destination filled from the front needs a page per page of objects it
// takes; the shrinker gets them with GFP_NOWAIT, which may fail at any one.
// Wherever the allocations stop, compaction gives back what its moves
// emptied and never ends with more pages than it found (it used to keep the
// pages it had attached and the source's emptied ones, and return 0).
TEST_P(Compaction, NeverEndsOwingPagesWhereverAllocationStops)
{
	const size_t size = 3000;
	ClassStats cs = class_stats(pool_, serving_index_of(chain(), size));
	if (cs.pages_per_zspage < 4)
		GTEST_SKIP() << "needs zspages of several pages";
	const unsigned n = cs.objs_per_zspage;
	unsigned long cut_short = 0;
	for (unsigned nth = 1; nth <= cs.pages_per_zspage + 1; nth++) {
		SCOPED_TRACE("page allocation " + std::to_string(nth) + " fails");
		// S: full, then its first 60% freed (its objects sit in its top
		// pages); D: 50% filled from the front, no hole (pages for that
		// only). S is the source, D needs a page for every page it takes.
		std::vector<unsigned long> s, d;
		for (unsigned k = 0; k < n; k++)
			s.push_back(add(size));
		for (unsigned k = 0; k < n / 2; k++)
			d.push_back(add(size));
		ASSERT_NE(zspage_of(s[0]), zspage_of(d[0]));
		for (unsigned k = 0; k < n * 6 / 10; k++)
			remove(s[k]);
		const unsigned long pages = zspp_get_total_pages(pool_);
		unsigned long freed;
		{
			fake::FailNth f(nth, fake::kPageAlloc);
			freed = zspp_compact(pool_);
		}
		validate();
		ASSERT_NO_FATAL_FAILURE(verify_all());
		EXPECT_EQ(zspp_get_total_pages(pool_), pages - freed);
		EXPECT_EQ(fake::live().pages - baseline_.pages, long(pages - freed));
		cut_short += zspp_compactable_pages(pool_) != 0;
		// What is left is still compactable, and finishes with pages.
		freed += zspp_compact(pool_);
		validate();
		EXPECT_EQ(zspp_get_total_pages(pool_), pages - freed);
		EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
		for (auto &[h, o] : std::map<unsigned long, Obj>(objs_))
			remove(h);
		EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	}
	EXPECT_GT(cut_short, 0u) << "no failure hit a compaction half-way";
}

TEST_P(Compaction, EmptyPoolAndFullZspagesHaveNothingToDo)
{
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
	EXPECT_EQ(zspp_compact(pool_), 0u);
	// Exactly full zspages.
	ClassStats cs = class_stats(pool_, serving_index_of(chain(), 700));
	for (unsigned i = 0; i < 3 * cs.objs_per_zspage; i++)
		add(700);
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
	EXPECT_EQ(zspp_compact(pool_), 0u);
	EXPECT_EQ(pool_stats(pool_).compactions, 0u);
	EXPECT_EQ(pool_stats(pool_).objs_moved, 0u);
}

// Objects are moved from the emptiest zspages into the fullest ones.
TEST_P(Compaction, EmptiestSourceFullestDestination)
{
	ClassStats cs = class_stats(pool_, serving_index_of(chain(), 64));
	ASSERT_GE(cs.objs_per_zspage, 20u);
	const unsigned objs = cs.objs_per_zspage;
	std::map<const void *, std::vector<unsigned long>> by_zs;
	for (unsigned i = 0; i < 4 * objs; i++) {
		unsigned long h = add(64);
		by_zs[zspage_of(h)].push_back(h);
	}
	ASSERT_EQ(by_zs.size(), 4u);
	// Fill levels: 90%, 10%, 50%, 30% -> 1.8 zspages of objects in 4: two can go.
	const double levels[] = {0.9, 0.1, 0.5, 0.3};
	std::vector<const void *> order; // by fill level
	int k = 0;
	for (auto &[zs, hs] : by_zs) {
		unsigned keep = std::max(1u, unsigned(levels[k++] * objs));
		while (hs.size() > keep) {
			remove(hs.back());
			hs.pop_back();
		}
		order.push_back(zs);
	}
	std::sort(order.begin(), order.end(), [&](auto a, auto b) { return by_zs[a].size() < by_zs[b].size(); });
	const unsigned long trimmed_before = pool_stats(pool_).pages_trimmed;
	const unsigned long freed = zspp_compact(pool_);
	validate();
	// Two whole zspages, and the pages past the last object of the one left
	// part-full (0.8 of a zspage: trimmed when it spans several pages).
	const unsigned long trimmed = pool_stats(pool_).pages_trimmed - trimmed_before;
	EXPECT_EQ(freed, 2 * cs.pages_per_zspage + trimmed);
	EXPECT_LT(trimmed, cs.pages_per_zspage) << "the part-full zspage keeps the pages its objects reach";
	// The two emptiest are gone; the fullest is now full and nothing moved out of it.
	std::set<const void *> now;
	for (auto &[h, o] : objs_)
		now.insert(zspage_of(h));
	EXPECT_EQ(now.count(order[0]), 0u) << "emptiest zspage survived";
	EXPECT_EQ(now.count(order[1]), 0u) << "second emptiest zspage survived";
	for (unsigned long h : by_zs[order[3]])
		EXPECT_EQ(zspage_of(h), order[3]) << "an object left the fullest zspage";
	EXPECT_EQ(probe::zspage_info(order[3]).inuse, objs) << "the fullest zspage was filled first";
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// A pinned zspage (read_begin here; map below) is never a source: its
// objects stay put and direct pointers stay valid.
TEST_P(Compaction, PinnedZspagesAreNotMoved)
{
	fragment(0.2, 100);
	// Pin one object in every zspage (read_begin may nest; maps may not).
	std::map<const void *, unsigned long> pinned;
	for (auto &[h, o] : objs_)
		pinned.emplace(zspage_of(h), h);
	std::vector<std::vector<uint8_t>> locals;
	std::vector<std::pair<unsigned long, void *>> pins;
	for (auto &[zs, h] : pinned) {
		locals.emplace_back(objs_[h].size);
		pins.push_back({h, zspp_obj_read_begin(pool_, h, locals.back().data())});
		ASSERT_NE(pins.back().second, nullptr);
	}
	ASSERT_GT(zspp_compactable_pages(pool_), 0u);
	std::map<unsigned long, const void *> where;
	for (auto &[h, o] : objs_)
		where[h] = zspage_of(h);
	EXPECT_EQ(zspp_compact(pool_), 0u) << "every zspage is pinned: nothing may move";
	for (auto &[h, o] : objs_)
		ASSERT_EQ(zspage_of(h), where[h]) << "an object of a pinned zspage moved";
	for (auto &[h, p] : pins) {
		const Obj &o = objs_[h];
		ASSERT_EQ(first_diff(static_cast<uint8_t *>(p), pattern(o.seed, o.size).data(), o.size), -1);
	}
	for (auto &[h, p] : pins)
		zspp_obj_read_end(pool_, h, p);
	EXPECT_GT(zspp_compact(pool_), 0u) << "unpinned: now it compacts";
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// A classic map held across compaction: the mapped object stays put and its
// RW write-back lands in the right place.
TEST_P(Compaction, MapHeldAcrossCompaction)
{
	fragment(0.25, 7);
	for (size_t size : {300, 3000}) {
		unsigned long h = add(size);
		auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RW));
		ASSERT_NE(p, nullptr);
		const void *zs = zspage_of(h);
		zspp_compact(pool_);
		EXPECT_EQ(zspage_of(h), zs);
		std::vector<uint8_t> data = pattern(999, size);
		memcpy(p, data.data(), size);
		zspp_unmap_object(pool_, h);
		objs_[h].seed = 999;
		validate();
	}
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// Between zspages compaction holds no lock (the fake flags a might-sleep
// call under a spinlock) and the pool is fully usable; a nested compaction
// returns 0 at once.
TEST_P(Compaction, PoolUsableBetweenZspages)
{
	fragment(0.3, 11);
	std::mt19937_64 rng(3);
	unsigned long hooks = 0, nested = 0;
	fake::set_resched_hook([&] {
		hooks++;
		EXPECT_EQ(fake::locks_held(), 0);
		nested += zspp_compact(pool_);
		// malloc, write, read, free in the middle of a compaction.
		for (int i = 0; i < 5; i++)
			add(1 + rng() % 4096);
		for (int i = 0; i < 3 && objs_.size() > 10; i++) {
			auto it = objs_.begin();
			std::advance(it, rng() % objs_.size());
			remove(it->first);
		}
		auto it = objs_.begin();
		std::advance(it, rng() % objs_.size());
		std::vector<uint8_t> got = read_obj(pool_, it->first, it->second.size, ReadApi::kMapRO);
		EXPECT_EQ(first_diff(got.data(), pattern(it->second.seed, it->second.size).data(), it->second.size),
			  -1);
	});
	unsigned long freed = zspp_compact(pool_);
	fake::set_resched_hook(nullptr);
	EXPECT_GT(hooks, 0u) << "compaction never reached a scheduling point";
	EXPECT_GT(freed, 0u);
	EXPECT_EQ(nested, 0u) << "a compaction ran inside another";
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// The shrinker: registered per pool, counts what compaction could free,
// scans by compacting; unregistered at destroy.
TEST_P(Compaction, ShrinkerCountsAndScans)
{
	EXPECT_TRUE(fake::has_shrinker(pool_));
	fragment(0.3, 5);
	unsigned long counted = 0;
	const unsigned long promised = zspp_compactable_pages(pool_);
	const unsigned long freed = fake::shrink_all(&counted);
	EXPECT_EQ(counted, promised);
	EXPECT_LE(freed, promised); // an upper bound (see FreesWhatItPromisesAndKeepsEveryObject)
	EXPECT_GT(freed, 0u);
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
	counted = 1;
	EXPECT_EQ(fake::shrink_all(&counted), 0u);
	EXPECT_EQ(counted, 0u);
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// compact_slack: frees that leave more than the given share of the pool's
// bytes in no object's slot kick a work item that compacts the pool, with
// no shrinker and no caller asking; off (0) nothing moves; once compacted,
// what is left (the classes' tails) does not make it run again.
TEST_P(Compaction, CompactsItselfPastItsSlack)
{
	for (unsigned permille : {0u, 125u}) {
		SCOPED_TRACE(permille);
		zspp_pool_set_compact_slack(pool_, permille);
		fragment(1.0, 5); // nothing freed yet
		fake::flush_work();
		const PoolStats before = pool_stats(pool_);
		EXPECT_EQ(before.auto_compactions, 0u) << "a full pool has no slack";
		std::mt19937_64 rng(9);
		std::vector<unsigned long> hs;
		for (auto &[h, o] : objs_)
			hs.push_back(h);
		for (unsigned long h : hs)
			if (rng() % 10 < 6)
				remove(h);
		fake::flush_work();
		const PoolStats after = pool_stats(pool_);
		validate();
		ASSERT_NO_FATAL_FAILURE(verify_all());
		if (!permille) {
			EXPECT_EQ(after.auto_compactions, 0u);
			EXPECT_EQ(after.objs_moved, before.objs_moved) << "off: nothing moves";
			sum_freeable_without_auto_ = zspp_compactable_pages(pool_);
			EXPECT_GT(sum_freeable_without_auto_, 0u);
		} else {
			EXPECT_GT(after.auto_compactions, 0u);
			EXPECT_GT(after.pages_compacted, before.pages_compacted);
			// Its last run packed the pool; the frees since grew the
			// slack by less than 1/32 of the pool (else it ran again),
			// which can make at most that many pages, plus one per class,
			// compactable again.
			const unsigned long classes = sum_over_classes(pool_, [](const ClassStats &cs) {
				return cs.obj_used ? 1ul : 0ul;
			});
			EXPECT_LE(zspp_compactable_pages(pool_), after.pages / 32 + 1 + classes);
			EXPECT_LT(zspp_compactable_pages(pool_), sum_freeable_without_auto_) << "it compacted less than nothing";
			// The floor: frees of a few more objects do not run it again.
			// The three smallest: objs_ is ordered by handle address, so
			// its first three could be any size, and three 4 KiB objects
			// can be more than 1/32 of a small pool (a flaky run did that).
			const unsigned long runs = after.auto_compactions;
			std::vector<std::pair<size_t, unsigned long>> by_size;
			for (auto &[h, o] : objs_)
				by_size.emplace_back(o.size, h);
			std::sort(by_size.begin(), by_size.end());
			for (size_t i = 0; i < 3 && i < by_size.size(); i++)
				remove(by_size[i].second);
			fake::flush_work();
			EXPECT_EQ(pool_stats(pool_).auto_compactions, runs);
		}
		std::vector<unsigned long> rest;
		for (auto &[h, o] : objs_)
			rest.push_back(h);
		for (unsigned long h : rest)
			remove(h);
		zspp_compact(pool_);
		fake::flush_work();
	}
}

INSTANTIATE_TEST_SUITE_P(Chains, Compaction, ::testing::Values(1u, 2u, 8u, 16u), chain_name);

} // namespace
