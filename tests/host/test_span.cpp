// SPDX-License-Identifier: GPL-2.0
// Slot positions: objects at every slot position of a zspage, for every class
// and chain length, including every slot that straddles a page boundary.
#include "test_util.h"

#include <random>

using namespace zt;

namespace {

struct Obj {
	unsigned long h;
	size_t size;
	uint32_t seed;
};

enum class SizeMode { kFullSlot, kSmallest, kRandomInClass };

class Span : public PoolTest, public ::testing::WithParamInterface<std::tuple<unsigned, SizeMode>> {
protected:
	unsigned chain() const override { return std::get<0>(GetParam()); }
};

TEST_P(Span, EverySlotOfEveryClass)
{
	const SizeMode mode = std::get<1>(GetParam());
	std::mt19937 rng(chain() * 31 + unsigned(mode));
	unsigned prev_slot = 0; // largest size of the previous serving class
	unsigned classes = 0, spanning_total = 0;
	for (unsigned ci = 0; ci < zspp_nr_classes(pool_); ci++) {
		int ret;
		ClassStats cs = class_stats(pool_, ci, &ret);
		if (ret != 0)
			continue;
		classes++;
		const unsigned lo = prev_slot + 1, hi = cs.size;
		prev_slot = cs.size;
		SCOPED_TRACE("class " + std::to_string(ci) + " slot " + std::to_string(cs.size) + " sizes " +
			     std::to_string(lo) + ".." + std::to_string(hi));
		std::vector<Obj> objs;
		for (unsigned n = 0; n < cs.objs_per_zspage; n++) {
			size_t size = mode == SizeMode::kFullSlot ? hi
				      : mode == SizeMode::kSmallest ? lo
								    : std::uniform_int_distribution<unsigned>(lo, hi)(rng);
			Obj o{must_malloc(size), size, ci * 4096 + n + 1};
			objs.push_back(o);
		}
		// Exactly one full zspage, every slot index used once.
		ClassStats after = class_stats(pool_, ci);
		ASSERT_EQ(after.obj_used, cs.objs_per_zspage);
		ASSERT_EQ(after.obj_allocated, cs.objs_per_zspage);
		ASSERT_EQ(after.pages_used, cs.pages_per_zspage);
		ASSERT_EQ(after.fullness[ZSPP_NR_FULLNESS - 1], 1u);
		const void *zs = zspage_of(objs[0].h);
		ASSERT_NE(zs, nullptr);
		std::vector<bool> seen(cs.objs_per_zspage, false);
		for (const Obj &o : objs) {
			ASSERT_EQ(zspage_of(o.h), zs);
			unsigned idx = slot_of(o.h);
			ASSERT_LT(idx, cs.objs_per_zspage);
			ASSERT_FALSE(seen[idx]) << "slot " << idx << " given twice";
			seen[idx] = true;
		}
		// Write every object (alternating APIs), then check each one.
		for (size_t k = 0; k < objs.size(); k++) {
			const Obj &o = objs[k];
			write_obj(pool_, o.h, pattern(o.seed, o.size), WriteApi(k % 3));
		}
		for (size_t k = 0; k < objs.size(); k++) {
			const Obj &o = objs[k];
			unsigned idx = slot_of(o.h);
			bool spans = slot_spans(idx, cs.size, o.size);
			spanning_total += spans;
			std::vector<uint8_t> want = pattern(o.seed, o.size);
			// read_begin: into the page, or the caller's copy iff the object spans.
			std::vector<uint8_t> local(o.size);
			void *p = zspp_obj_read_begin(pool_, o.h, local.data());
			ASSERT_NE(p, nullptr);
			if (spans) {
				EXPECT_EQ(p, local.data()) << "slot " << idx << " spans: expected the local copy";
			} else {
				EXPECT_EQ(fake::owner_of_address(p), zs) << "slot " << idx << ": not in its zspage";
				EXPECT_EQ(uintptr_t(p) % ZSPP_PAGE_SIZE, (uint64_t(idx) * cs.size) % ZSPP_PAGE_SIZE)
					<< "slot " << idx << " at the wrong offset";
			}
			ASSERT_EQ(first_diff(static_cast<uint8_t *>(p), want.data(), o.size), -1) << "slot " << idx;
			zspp_obj_read_end(pool_, o.h, p);
			// map: into the page, or a bounce area iff the object spans.
			void *m = zspp_map_object(pool_, o.h, ZSPP_MM_RO);
			ASSERT_NE(m, nullptr);
			bool in_page = false;
			const void *owner = fake::owner_of_address(m, &in_page);
			EXPECT_EQ(in_page, !spans) << "slot " << idx;
			if (!spans) {
				EXPECT_EQ(owner, zs);
			}
			ASSERT_EQ(first_diff(static_cast<uint8_t *>(m), want.data(), o.size), -1) << "slot " << idx;
			zspp_unmap_object(pool_, o.h);
		}
		validate();
		for (const Obj &o : objs)
			zspp_free(pool_, o.h);
		ASSERT_EQ(zspp_get_total_pages(pool_), 0u);
	}
	EXPECT_GT(classes, 10u);
	if (chain() == 1)
		EXPECT_EQ(spanning_total, 0u) << "one-page zspages cannot have spanning objects";
	else
		EXPECT_GT(spanning_total, 0u);
	EXPECT_EQ(fake::live().areas, baseline_.areas);
}

std::string span_name(const ::testing::TestParamInfo<std::tuple<unsigned, SizeMode>> &info)
{
	const char *m[] = {"FullSlot", "Smallest", "RandomInClass"};
	return "chain" + std::to_string(std::get<0>(info.param)) + "_" + m[int(std::get<1>(info.param))];
}

INSTANTIATE_TEST_SUITE_P(All, Span,
			 ::testing::Combine(::testing::Values(1u, 2u, 4u, 8u, 16u),
					    ::testing::Values(SizeMode::kFullSlot, SizeMode::kSmallest,
							      SizeMode::kRandomInClass)),
			 span_name);

// Several zspages per class, objects interleaved across classes: every
// object of a full zspage is next to objects written through other APIs.
class SpanMixed : public ChainPoolTest {};

TEST_P(SpanMixed, ManyZspagesInterleaved)
{
	std::mt19937 rng(chain());
	std::vector<Obj> objs;
	uint32_t seed = 1;
	for (int round = 0; round < 3; round++) {
		for (size_t size = 1 + round; size <= ZSPP_MAX_ALLOC_SIZE; size += 1 + rng() % 61) {
			Obj o{must_malloc(size), size, seed++};
			write_obj(pool_, o.h, pattern(o.seed, o.size), WriteApi(rng() % 3));
			objs.push_back(o);
		}
	}
	validate();
	for (const Obj &o : objs) {
		std::vector<uint8_t> got = read_obj(pool_, o.h, o.size, ReadApi(o.seed % 3));
		ASSERT_EQ(first_diff(got.data(), pattern(o.seed, o.size).data(), o.size), -1) << "size " << o.size;
	}
	for (const Obj &o : objs)
		zspp_free(pool_, o.h);
}

INSTANTIATE_TEST_SUITE_P(Chains, SpanMixed, ::testing::Values(1u, 8u, 16u), chain_name);

} // namespace
