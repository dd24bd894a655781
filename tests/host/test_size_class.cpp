// SPDX-License-Identifier: GPL-2.0
// Size classes: the size-class table (size_class_table.h), checked against an
// independent brute-force computation and against what a live pool reports.
#include "test_util.h"

#include <algorithm>
#include <numeric>
#include <random>

using namespace zt;
using probe::Geometry;

namespace {

constexpr unsigned kChains[] = {1, 2, 4, 8, 16};
constexpr unsigned kPage = ZSPP_PAGE_SIZE;

// Independent geometry: enumerate every chain length, rank by the exact
// bytes per slot (tail waste + the descriptor at what the shim's kmalloc
// takes for it, a rational compared with 128-bit products), break ties by
// fewer pages. The fake shim's kmalloc sizes are SLUB's buckets, written
// apart from the core's estimate, so this also checks that estimate.
struct Candidate {
	unsigned pages, objs;
	unsigned long waste;
	unsigned long cost; // waste + descriptor bytes
};

Candidate brute_geometry(unsigned size, unsigned chain)
{
	std::vector<Candidate> c;
	for (unsigned p = 1; p <= chain; p++) {
		unsigned long bytes = (unsigned long)p * kPage;
		unsigned objs = unsigned(bytes / size);
		unsigned long waste = bytes - (unsigned long)objs * size;
		// Descriptors stay slab objects, with room for the evictable prefix.
		if (p > 1 && probe::descriptor_size(p, objs, false) > 8192 - 64)
			continue;
		c.push_back({p, objs, waste, waste + zspp_kmalloc_size(probe::descriptor_size(p, objs, false))});
	}
	std::stable_sort(c.begin(), c.end(), [](const Candidate &a, const Candidate &b) {
		// a.cost / a.objs < b.cost / b.objs
		unsigned __int128 l = (unsigned __int128)a.cost * b.objs;
		unsigned __int128 r = (unsigned __int128)b.cost * a.objs;
		if (l != r)
			return l < r;
		return a.pages < b.pages;
	});
	return c.front();
}

} // namespace

TEST(SizeClass, EverySizeMapsToSmallestFittingIndex)
{
	EXPECT_EQ(probe::num_class_indices(), 255u);
	for (unsigned s = 1; s <= ZSPP_MAX_ALLOC_SIZE; s++) {
		unsigned idx = probe::class_index_for(s);
		ASSERT_LT(idx, probe::num_class_indices()) << "size " << s;
		unsigned slot = probe::index_slot_size(idx);
		ASSERT_GE(slot, s) << "size " << s << " does not fit its slot";
		if (idx > 0) {
			ASSERT_LT(probe::index_slot_size(idx - 1), s) << "size " << s << " would fit a smaller slot";
		}
		// Independent formula: round up to 16, at least 32.
		unsigned want = std::max(32u, (s + 15) / 16 * 16);
		ASSERT_EQ(slot, want) << "size " << s;
	}
	for (unsigned i = 0; i < probe::num_class_indices(); i++) {
		EXPECT_EQ(probe::index_slot_size(i), 32 + 16 * i);
		EXPECT_EQ(probe::class_index_for(probe::index_slot_size(i)), i) << "slot sizes map to themselves";
	}
}

class SizeClassChain : public ::testing::TestWithParam<unsigned> {};

TEST_P(SizeClassChain, GeometryIsLeastBytesPerSlot)
{
	unsigned chain = GetParam();
	for (unsigned i = 0; i < probe::num_class_indices(); i++) {
		unsigned size = probe::index_slot_size(i);
		Geometry g = probe::geometry_for(size, chain);
		Candidate want = brute_geometry(size, chain);
		ASSERT_EQ(g.pages, want.pages) << "size " << size << " chain " << chain;
		ASSERT_EQ(g.objs, want.objs) << "size " << size << " chain " << chain;
		// Waste formula.
		ASSERT_EQ(g.waste, g.pages * kPage - g.objs * size);
		ASSERT_EQ(g.waste, want.waste);
		ASSERT_LT(g.waste, size) << "a zspage never wastes a whole slot";
		ASSERT_GE(g.pages, 1u);
		ASSERT_LE(g.pages, chain);
		ASSERT_GE(g.objs, 1u);
		// What the descriptor and the handle encoding can hold.
		ASSERT_LT(g.objs, probe::zspage_no_free());
		ASSERT_LE(g.objs, 1u << probe::loc_idx_bits());
		ASSERT_LE(g.pages, 255u);
	}
}

TEST_P(SizeClassChain, MergedIndicesHaveTheGeometryOfTheirServingClass)
{
	unsigned chain = GetParam();
	unsigned merged = 0;
	for (unsigned i = 0; i < probe::num_class_indices(); i++) {
		unsigned s = probe::serving_index(i, chain);
		ASSERT_GE(s, i);
		ASSERT_LT(s, probe::num_class_indices());
		ASSERT_FALSE(probe::index_merges_up(s, chain));
		Geometry gi = probe::geometry_for(probe::index_slot_size(i), chain);
		Geometry gs = probe::geometry_for(probe::index_slot_size(s), chain);
		if (s != i) {
			merged++;
			ASSERT_EQ(gi.pages, gs.pages) << "index " << i << " merged into " << s;
			ASSERT_EQ(gi.objs, gs.objs) << "index " << i << " merged into " << s;
		}
		// Independent: merging is exactly "same (pages, objs) as the next index".
		if (i + 1 < probe::num_class_indices()) {
			Candidate a = brute_geometry(probe::index_slot_size(i), chain);
			Candidate b = brute_geometry(probe::index_slot_size(i + 1), chain);
			bool same = a.pages == b.pages && a.objs == b.objs;
			ASSERT_EQ(probe::index_merges_up(i, chain), same) << "index " << i;
		}
	}
	EXPECT_FALSE(probe::index_merges_up(probe::num_class_indices() - 1, chain));
	EXPECT_GT(merged, 0u) << "large classes always merge (one object per zspage)";
	unsigned max_objs = 0;
	for (unsigned i = 0; i < probe::num_class_indices(); i++)
		max_objs = std::max(max_objs, brute_geometry(probe::index_slot_size(i), chain).objs);
	EXPECT_EQ(probe::max_objs_per_zspage(chain), max_objs);
}

// The live pool reports the same table through zspp_class_stats.
TEST_P(SizeClassChain, PoolClassStatsMatchTable)
{
	unsigned chain = GetParam();
	zspp_pool *pool = nullptr;
	ASSERT_EQ(zspp_create_pool("sc", chain, &pool), 0);
	EXPECT_EQ(zspp_pool_chain_size(pool), chain);
	ASSERT_EQ(zspp_nr_classes(pool), probe::num_class_indices());
	for (unsigned i = 0; i < probe::num_class_indices(); i++) {
		int ret = -1;
		ClassStats cs = class_stats(pool, i, &ret);
		unsigned s = probe::serving_index(i, chain);
		Geometry g = probe::geometry_for(probe::index_slot_size(s), chain);
		EXPECT_EQ(ret, s == i ? 0 : 1) << "index " << i;
		EXPECT_EQ(cs.merged, s == i ? 0u : 1u) << "index " << i;
		// A merged index may report its own slot size or its serving class's
		// (zspp.h: "stats describe nothing of its own"); geometry is shared.
		if (s == i)
			EXPECT_EQ(cs.size, probe::index_slot_size(i)) << "index " << i;
		else
			EXPECT_TRUE(cs.size == probe::index_slot_size(i) || cs.size == probe::index_slot_size(s))
				<< "index " << i << " reports size " << cs.size;
		EXPECT_EQ(cs.pages_per_zspage, g.pages) << "index " << i;
		EXPECT_EQ(cs.objs_per_zspage, g.objs) << "index " << i;
		if (ret == 0) {
			EXPECT_EQ(cs.obj_used, 0u);
			EXPECT_EQ(cs.obj_allocated, 0u);
			EXPECT_EQ(cs.pages_used, 0u);
			for (unsigned f = 0; f < ZSPP_NR_FULLNESS; f++)
				EXPECT_EQ(cs.fullness[f], 0u);
		}
	}
	int ret = 0;
	class_stats(pool, probe::num_class_indices(), &ret);
	EXPECT_EQ(ret, -ZSPP_EINVAL);
	class_stats(pool, ~0u, &ret);
	EXPECT_EQ(ret, -ZSPP_EINVAL);
	zspp_destroy_pool(pool);
}

// Every size lands in the smallest non-merged class whose slot holds it, as
// observed through the pool's class statistics.
TEST_P(SizeClassChain, MallocLandsInSmallestServingClass)
{
	unsigned chain = GetParam();
	fake::Counters before = fake::live();
	zspp_pool *pool = nullptr;
	ASSERT_EQ(zspp_create_pool("sc", chain, &pool), 0);
	std::vector<std::pair<unsigned, unsigned>> serving; // (slot size, index), from the pool
	for (unsigned i = 0; i < zspp_nr_classes(pool); i++) {
		int ret;
		ClassStats cs = class_stats(pool, i, &ret);
		if (ret == 0)
			serving.push_back({cs.size, i});
	}
	ASSERT_FALSE(serving.empty());
	ASSERT_EQ(serving.back().first, ZSPP_MAX_ALLOC_SIZE);
	std::vector<unsigned long> used(probe::num_class_indices(), 0);
	std::vector<unsigned long> handles;
	for (unsigned s = 1; s <= ZSPP_MAX_ALLOC_SIZE; s++) {
		auto it = std::find_if(serving.begin(), serving.end(), [&](auto &c) { return c.first >= s; });
		ASSERT_NE(it, serving.end());
		unsigned want = it->second;
		unsigned long h = 0;
		ASSERT_EQ(zspp_malloc(pool, s, kGfp, &h), 0);
		handles.push_back(h);
		used[want]++;
		EXPECT_EQ(zspp_obj_size(pool, h), s);
		ClassStats cs = class_stats(pool, want);
		ASSERT_EQ(cs.obj_used, used[want]) << "size " << s << " should land in index " << want;
		EXPECT_EQ(class_of(h), want);
	}
	EXPECT_EQ(zspp_debug_validate(pool), 0);
	for (unsigned long h : handles)
		zspp_free(pool, h);
	EXPECT_EQ(zspp_get_total_pages(pool), 0u);
	zspp_destroy_pool(pool);
	EXPECT_EQ(fake::live(), before);
}

INSTANTIATE_TEST_SUITE_P(Chains, SizeClassChain, ::testing::ValuesIn(kChains), chain_name);

TEST(SizeClass, FullnessGroupMatchesDefinition)
{
	// 0: empty, 1: <10%, 2: 10-19%, ..., 10: 90-99%, 11: full.
	for (unsigned objs = 1; objs <= 2048; objs += (objs < 64 ? 1 : 37)) {
		for (unsigned inuse = 0; inuse <= objs; inuse++) {
			unsigned want;
			if (inuse == 0) {
				want = 0;
			} else if (inuse == objs) {
				want = 11;
			} else { // the decile d with d*10% <= inuse/objs < (d+1)*10%
				for (want = 1; !(10 * (want - 1) * objs <= 100 * inuse && 100 * inuse < 10 * want * objs);)
					want++;
			}
			ASSERT_EQ(probe::fullness_group(inuse, objs), want) << inuse << "/" << objs;
		}
	}
}

TEST(SizeClass, LocationRoundTrips)
{
	std::mt19937_64 rng(42);
	for (int n = 0; n < 100000; n++) {
		uint64_t pfn = rng() & ((1ull << probe::loc_pfn_bits()) - 1);
		uint32_t size = 1 + uint32_t(rng() % ZSPP_MAX_ALLOC_SIZE);
		uint32_t idx = uint32_t(rng() % (1u << probe::loc_idx_bits()));
		uint64_t w = probe::loc_make(pfn, size, idx);
		ASSERT_EQ(probe::loc_pfn(w), pfn);
		ASSERT_EQ(probe::loc_size(w), size);
		ASSERT_EQ(probe::loc_class(w), probe::class_index_for(size));
		ASSERT_EQ(probe::loc_idx(w), idx);
		// Independent layout: [pfn : 40][size - 1 : 12][slot : 12].
		ASSERT_EQ(w, (pfn << 24) | (uint64_t(size - 1) << 12) | idx);
	}
}
