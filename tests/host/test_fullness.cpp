// SPDX-License-Identifier: GPL-2.0
// Handles and fullness groups: handle stability, fullness groups and
// statistics, checked against what the test itself holds (and against the fake
// shim's own accounting).
#include "test_util.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

using namespace zt;

namespace {

// The fullness group of @inuse/@objs by the definition in zspp.h (written
// independently of zspage.h): 0 empty, 1 <10%, 2 10-19%, ..., 10 90-99%, 11 full.
unsigned group_of(unsigned inuse, unsigned objs)
{
	if (inuse == 0)
		return 0;
	if (inuse == objs)
		return 11;
	unsigned g = 1;
	while (!(100 * inuse < 10 * g * objs))
		g++;
	return g;
}

struct Held {
	size_t size;
	uint32_t seed;
};

class Stats : public ChainPoolTest {
protected:
	void SetUp() override
	{
		ChainPoolTest::SetUp();
		after_create_ = fake::live();
	}

	// Recompute every statistic from `held_` and compare.
	void check_all()
	{
		struct PerClass {
			unsigned long used = 0;
			std::map<const void *, unsigned> per_zspage; // zspage -> objects
			std::map<const void *, unsigned> top_slot;   // zspage -> highest slot in use
		};
		std::map<unsigned, PerClass> classes;
		unsigned long stored = 0, slots = 0;
		for (auto &[h, o] : held_) {
			unsigned ci = serving_index_of(chain(), o.size);
			ASSERT_EQ(class_of(h), ci);
			PerClass &pc = classes[ci];
			pc.used++;
			pc.per_zspage[zspage_of(h)]++;
			unsigned &top = pc.top_slot[zspage_of(h)];
			top = std::max(top, probe::loc_idx(word_of(h)));
			stored += o.size;
			slots += probe::index_slot_size(ci);
		}
		unsigned long pages = 0, zspages = 0, desc = 0, compactable = 0;
		for (unsigned ci = 0; ci < zspp_nr_classes(pool_); ci++) {
			int ret;
			ClassStats cs = class_stats(pool_, ci, &ret);
			if (ret != 0) {
				ASSERT_EQ(classes.count(ci), 0u);
				continue;
			}
			PerClass &pc = classes[ci];
			unsigned long nz = pc.per_zspage.size();
			std::vector<unsigned long> groups(ZSPP_NR_FULLNESS, 0);
			for (auto &[zs, n] : pc.per_zspage)
				groups[group_of(n, cs.objs_per_zspage)]++;
			ASSERT_EQ(cs.obj_used, pc.used) << "class " << ci;
			ASSERT_EQ(cs.obj_allocated, nz * cs.objs_per_zspage) << "class " << ci;
			// Pages come as slots reach them: every zspage has those
			// its highest object needs, at most one it does not use yet
			// (the one its next fresh slot may need: none when the highest
			// slot ever used was freed since), never more than its chain.
			unsigned long zs_pages = 0;
			for (auto &[zs, n] : pc.per_zspage) {
				probe::ZsInfo zi = probe::zspage_info(zs);
				unsigned need = unsigned(((pc.top_slot[zs] + 1ul) * cs.size - 1) / 4096) + 1;
				ASSERT_LE(need, zi.present_pages) << "class " << ci;
				ASSERT_LE(zi.present_pages, cs.pages_per_zspage) << "class " << ci;
				zs_pages += zi.present_pages;
			}
			ASSERT_EQ(cs.pages_used, zs_pages) << "class " << ci;
			for (unsigned g = 0; g < ZSPP_NR_FULLNESS; g++)
				ASSERT_EQ(cs.fullness[g], groups[g]) << "class " << ci << " group " << g;
			// The pages beyond the used objects packed from the front
			// (full zspages, then one holding the rest, trimmed).
			unsigned long packed = packed_pages(cs, pc.used);
			unsigned long want = zs_pages > packed ? zs_pages - packed : 0;
			ASSERT_EQ(cs.freeable, want) << "class " << ci;
			compactable += cs.freeable;
			pages += cs.pages_used;
			zspages += nz;
			// Honest: what kmalloc takes, not what was asked for.
			desc += nz * zspp_kmalloc_size(probe::descriptor_size(cs.pages_per_zspage, cs.objs_per_zspage, false));
		}
		PoolStats ps = pool_stats(pool_);
		ASSERT_EQ(ps.pages, pages);
		ASSERT_EQ(zspp_get_total_pages(pool_), pages);
		ASSERT_EQ(ps.zspages, zspages);
		ASSERT_EQ(ps.objects, held_.size());
		ASSERT_EQ(ps.bytes_stored, stored);
		ASSERT_EQ(ps.bytes_slots, slots);
		ASSERT_EQ(ps.bytes_metadata, desc + held_.size() * 8);
		ASSERT_EQ(zspp_compactable_pages(pool_), compactable);
		// The fake's own accounting of what the pool holds beyond its setup.
		fake::Counters now = fake::live();
		ASSERT_EQ(now.pages - after_create_.pages, long(pages));
		ASSERT_EQ(now.cache_objs - after_create_.cache_objs, long(held_.size()));
		ASSERT_EQ(now.kmallocs - after_create_.kmallocs, long(zspages));
		ASSERT_EQ(now.kmalloc_bytes - after_create_.kmalloc_bytes, long(desc));
		ASSERT_EQ(fake::owned_pages(), long(pages)) << "every zspage page has its owner set";
		validate();
	}

	unsigned long alloc(size_t size, uint32_t seed)
	{
		unsigned long h = must_malloc(size);
		EXPECT_EQ(held_.count(h), 0u) << "handle handed out twice";
		held_[h] = Held{size, seed};
		zspp_obj_write(pool_, h, pattern(seed, size).data(), size);
		return h;
	}

	void release(unsigned long h)
	{
		ASSERT_EQ(held_.count(h), 1u);
		zspp_free(pool_, h);
		held_.erase(h);
	}

	void TearDown() override
	{
		for (auto &[h, o] : held_)
			owned_.push_back(h);
		held_.clear();
		ChainPoolTest::TearDown();
	}

	std::map<unsigned long, Held> held_;
	fake::Counters after_create_;
};

TEST_P(Stats, AgreeWithHeldObjectsThroughRandomChurn)
{
	std::mt19937 rng(chain() * 101);
	check_all();
	uint32_t seed = 1;
	for (int step = 0; step < 3000; step++) {
		bool grow = held_.size() < 50 || (rng() % 100) < (step < 1500 ? 65 : 35);
		if (grow) {
			size_t size = rng() % 4 == 0 ? 1 + rng() % 4096 : 100 + rng() % 1400;
			alloc(size, seed++);
		} else {
			auto it = held_.begin();
			std::advance(it, rng() % held_.size());
			release(it->first);
		}
		if (step % 97 == 0) {
			ASSERT_NO_FATAL_FAILURE(check_all()) << "step " << step;
		}
	}
	ASSERT_NO_FATAL_FAILURE(check_all());
	// Handles are stable: every object is still behind the handle it got.
	for (auto &[h, o] : held_) {
		std::vector<uint8_t> got = read_obj(pool_, h, o.size, ReadApi::kReadBegin);
		ASSERT_EQ(first_diff(got.data(), pattern(o.seed, o.size).data(), o.size), -1);
		ASSERT_EQ(zspp_obj_size(pool_, h), o.size);
	}
	while (!held_.empty())
		release(held_.begin()->first);
	ASSERT_NO_FATAL_FAILURE(check_all());
	PoolStats ps = pool_stats(pool_);
	EXPECT_EQ(ps.pages, 0u);
	EXPECT_EQ(ps.zspages, 0u);
	EXPECT_EQ(ps.bytes_metadata, 0u);
	EXPECT_EQ(ps.malloc_fail, 0u);
	EXPECT_EQ(ps.bad_handles, 0u);
}

// Build zspages of one class at chosen fill levels, then check that every
// malloc lands in a zspage of the fullest non-full group, until all are full
// and the next malloc needs a new zspage.
TEST_P(Stats, MallocPicksFullestNonFullZspage)
{
	// A class with enough slots for distinct groups.
	size_t size = 0;
	ClassStats cs{};
	for (size_t s : {32, 48, 64, 80, 96, 112, 128, 160, 200, 256}) {
		cs = class_stats(pool_, serving_index_of(chain(), s));
		if (cs.objs_per_zspage >= 20) {
			size = s;
			break;
		}
	}
	ASSERT_NE(size, 0u);
	const unsigned objs = cs.objs_per_zspage;
	const unsigned ci = serving_index_of(chain(), size);
	// Five full zspages.
	uint32_t seed = 1;
	std::map<const void *, std::vector<unsigned long>> by_zs;
	for (unsigned i = 0; i < 5 * objs; i++) {
		unsigned long h = alloc(size, seed++);
		by_zs[zspage_of(h)].push_back(h);
	}
	ASSERT_EQ(by_zs.size(), 5u);
	// Fill levels: 95%, 15%, 55%, 55%, 35% (two zspages share a group).
	const double levels[] = {0.95, 0.15, 0.55, 0.55, 0.35};
	std::map<const void *, unsigned> inuse;
	int k = 0;
	for (auto &[zs, hs] : by_zs) {
		unsigned keep = std::max(1u, unsigned(levels[k++] * objs));
		while (hs.size() > keep) {
			release(hs.back());
			hs.pop_back();
		}
		inuse[zs] = keep;
	}
	ASSERT_NO_FATAL_FAILURE(check_all());
	unsigned long pages_before = zspp_get_total_pages(pool_);
	// Fill every free slot: each malloc must go to the fullest group.
	unsigned free_slots = 0;
	for (auto &[zs, n] : inuse)
		free_slots += objs - n;
	for (unsigned n = 0; n < free_slots; n++) {
		unsigned best = 0;
		for (auto &[zs, u] : inuse) {
			if (u < objs)
				best = std::max(best, group_of(u, objs));
		}
		unsigned long h = alloc(size, seed++);
		const void *zs = zspage_of(h);
		ASSERT_EQ(inuse.count(zs), 1u) << "malloc made a new zspage while slots were free";
		ASSERT_EQ(group_of(inuse[zs], objs), best)
			<< "malloc " << n << " went to a zspage in group " << group_of(inuse[zs], objs)
			<< ", the fullest non-full group is " << best;
		inuse[zs]++;
		ClassStats now = class_stats(pool_, ci);
		for (unsigned g = 0; g < ZSPP_NR_FULLNESS; g++) {
			unsigned long want = 0;
			for (auto &[z, u] : inuse)
				want += group_of(u, objs) == g;
			ASSERT_EQ(now.fullness[g], want) << "group " << g << " after malloc " << n;
		}
	}
	EXPECT_EQ(zspp_get_total_pages(pool_), pages_before);
	EXPECT_EQ(class_stats(pool_, ci).fullness[ZSPP_NR_FULLNESS - 1], 5u);
	// All full: the next one starts a new zspage.
	unsigned long h = alloc(size, seed++);
	EXPECT_EQ(inuse.count(zspage_of(h)), 0u);
	// With page 0 only: the others come as its slots reach them.
	EXPECT_EQ(zspp_get_total_pages(pool_), pages_before + 1);
	ASSERT_NO_FATAL_FAILURE(check_all());
}

// An emptied zspage is freed at once (the empty group is never populated).
TEST_P(Stats, EmptiedZspageIsFreedAtOnce)
{
	for (size_t size : {32, 1000, 3000, 4096}) {
		ClassStats cs = class_stats(pool_, serving_index_of(chain(), size));
		std::vector<unsigned long> hs;
		for (unsigned i = 0; i < cs.objs_per_zspage; i++)
			hs.push_back(alloc(size, i + 1));
		ASSERT_EQ(zspp_get_total_pages(pool_), cs.pages_per_zspage);
		for (size_t i = 0; i < hs.size(); i++) {
			release(hs[i]);
			ClassStats now = class_stats(pool_, serving_index_of(chain(), size));
			ASSERT_EQ(now.fullness[0], 0u);
			ASSERT_EQ(zspp_get_total_pages(pool_), i + 1 == hs.size() ? 0u : cs.pages_per_zspage);
		}
		ASSERT_NO_FATAL_FAILURE(check_all());
	}
}

INSTANTIATE_TEST_SUITE_P(Chains, Stats, ::testing::Values(1u, 4u, 8u, 16u), chain_name);

} // namespace
