// SPDX-License-Identifier: GPL-2.0
// The pin rule (Documentation/locking.rst, "Pins"): while an object of a
// zspage is mapped or read, no handle of that zspage moves and none of its
// pages goes, because unmap/read_end resolve the handle again, with no lock,
// to drop the pin. Every mover asks ZsPage::pinned(); one test per mover
// pins a zspage the mover would otherwise pick, checks that nothing moved
// (the handle word, the page) and that the mover does its work once the pin
// is dropped. Compaction's source and page migration are covered in
// test_compaction.cpp (PinnedZspagesAreNotMoved) and test_migration.cpp
// (PinnedZspagesStay); fold's copy on write in test_fold.cpp.
#include "test_util.h"

#include <map>
#include <set>

using namespace zt;

namespace {

// A pin of @h as a reader (read_begin) or a mapper (map RO).
class Pin {
public:
	Pin(zspp_pool *pool, unsigned long h, size_t size, bool map) : pool_(pool), h_(h), map_(map), local_(size)
	{
		p_ = map ? zspp_map_object(pool, h, ZSPP_MM_RO) : zspp_obj_read_begin(pool, h, local_.data());
		EXPECT_NE(p_, nullptr);
	}
	~Pin() { drop(); }
	void drop()
	{
		if (!p_)
			return;
		if (map_)
			zspp_unmap_object(pool_, h_);
		else
			zspp_obj_read_end(pool_, h_, p_);
		p_ = nullptr;
	}

private:
	zspp_pool *pool_;
	unsigned long h_;
	bool map_;
	std::vector<uint8_t> local_;
	void *p_ = nullptr;
};

class PinRule : public TrackedPoolTest {
public:
	// What an evict callback does with what it wrote back.
	void forget(unsigned long h) { remove(h); }
};

// Trim: a class's one part-full zspage, packed, gives back the pages past
// its last object, unless it is pinned.
TEST_P(PinRule, TrimLeavesAPinnedZspage)
{
	const size_t size = 3000; // 4 objects reach page 2; 1 object page 0
	if (class_stats(pool_, serving_index_of(chain(), size)).pages_per_zspage < 3)
		GTEST_SKIP() << "needs zspages of 3 pages or more";
	for (bool map : {false, true}) {
		SCOPED_TRACE(map ? "map" : "read_begin");
		std::vector<unsigned long> hs;
		for (int i = 0; i < 4; i++)
			hs.push_back(add(size));
		remove(hs[1]);
		remove(hs[2]); // slots 1, 2 free; slot 3 (pages 2) would move to 1
		const uint64_t word = word_of(hs[3]);
		const unsigned long pages = zspp_get_total_pages(pool_);
		ASSERT_GT(zspp_compactable_pages(pool_), 0u);
		{
			Pin pin(pool_, hs[0], size, map);
			EXPECT_EQ(zspp_compact(pool_), 0u) << "a pinned zspage was trimmed";
			EXPECT_EQ(word_of(hs[3]), word) << "an object of a pinned zspage moved";
			EXPECT_EQ(zspp_get_total_pages(pool_), pages);
		}
		EXPECT_GT(zspp_compact(pool_), 0u) << "unpinned, it is trimmed";
		EXPECT_EQ(pool_stats(pool_).pages_trimmed > 0, true);
		validate();
		ASSERT_NO_FATAL_FAILURE(verify_objects());
		remove(hs[0]);
		remove(hs[3]);
	}
}

// Writeback: the LRU's oldest zspage, pinned, is passed over for the next
// one (its objects would be evicted and freed under the pin).
TEST_P(PinRule, WritebackPassesOverAPinnedZspage)
{
	zspp_destroy_pool(pool_);
	pool_ = nullptr;
	std::vector<unsigned long> evicted;
	auto evict = [](void *ctx, unsigned long h) -> int {
		auto *self = static_cast<std::pair<PinRule *, std::vector<unsigned long> *> *>(ctx);
		self->second->push_back(h);
		self->first->forget(h);
		return 0;
	};
	std::pair<PinRule *, std::vector<unsigned long> *> ctx{this, &evicted};
	ASSERT_EQ(zspp_create_pool_evictable("pins", chain(), evict, &ctx, &pool_), 0);
	const size_t size = 1000;
	const unsigned objs = class_stats(pool_, serving_index_of(chain(), size)).objs_per_zspage;
	std::vector<unsigned long> old, young;
	for (unsigned i = 0; i < objs; i++)
		old.push_back(add(size));
	for (unsigned i = 0; i < objs; i++)
		young.push_back(add(size));
	ASSERT_NE(zspage_of(old[0]), zspage_of(young[0]));
	const uint64_t word = word_of(old[0]);
	{
		Pin pin(pool_, old[1], size, false);
		unsigned long r = 0;
		ASSERT_EQ(zspp_reclaim(pool_, 1, &r), 0);
		EXPECT_EQ(std::set<unsigned long>(evicted.begin(), evicted.end()),
			  std::set<unsigned long>(young.begin(), young.end()))
			<< "the pinned oldest zspage was evicted";
		EXPECT_EQ(word_of(old[0]), word);
	}
	evicted.clear();
	unsigned long r = 0;
	ASSERT_EQ(zspp_reclaim(pool_, 1, &r), 0);
	EXPECT_EQ(std::set<unsigned long>(evicted.begin(), evicted.end()),
		  std::set<unsigned long>(old.begin(), old.end()))
		<< "unpinned, it goes";
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_objects());
}

#ifdef ZSPP_FOLD
// Fold's merges: a pinned zspage is neither visited (its objects folded
// into others) nor a candidate (others folded into it).
TEST_P(PinRule, FoldLeavesAPinnedZspage)
{
	const size_t size = 700;
	for (bool map : {false, true}) {
		SCOPED_TRACE(map ? "map" : "read_begin");
		unsigned long a = must_malloc(size), b = must_malloc(size);
		std::vector<uint8_t> data = pattern(4242, size);
		ASSERT_EQ(zspp_obj_write(pool_, a, data.data(), size), 0);
		ASSERT_EQ(zspp_obj_write(pool_, b, data.data(), size), 0);
		objs_[a] = Obj{size, 4242};
		objs_[b] = Obj{size, 4242};
		const uint64_t wa = word_of(a), wb = word_of(b);
		{
			Pin pin(pool_, a, size, map);
			zspp_fold(pool_);
			EXPECT_EQ(pool_stats(pool_).objs_folded, 0u) << "a pinned zspage's objects were folded";
			EXPECT_EQ(word_of(a), wa);
			EXPECT_EQ(word_of(b), wb);
		}
		zspp_fold(pool_);
		EXPECT_EQ(pool_stats(pool_).objs_folded, 1u) << "unpinned, they fold";
		validate();
		ASSERT_NO_FATAL_FAILURE(verify_objects());
		remove(a);
		remove(b);
	}
}
#endif

INSTANTIATE_TEST_SUITE_P(Chains, PinRule, ::testing::Values(1u, 4u, 8u, 16u), chain_name);

} // namespace
