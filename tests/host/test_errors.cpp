// SPDX-License-Identifier: GPL-2.0
// Errors: bad sizes and chain sizes, -ENOMEM injected at every
// allocation point (nothing leaks, the pool stays consistent), and bad
// handles of every kind (warned about, change nothing).
#include "test_util.h"

#include <climits>
#include <map>
#include <random>

using namespace zt;

namespace {

constexpr unsigned long kSentinel = 0xdead0000beefUL;

// Pool statistics that a rejected call must leave alone.
void expect_same_stats(const PoolStats &a, const PoolStats &b, const char *what)
{
	EXPECT_EQ(a.pages, b.pages) << what;
	EXPECT_EQ(a.zspages, b.zspages) << what;
	EXPECT_EQ(a.objects, b.objects) << what;
	EXPECT_EQ(a.bytes_stored, b.bytes_stored) << what;
	EXPECT_EQ(a.bytes_slots, b.bytes_slots) << what;
	EXPECT_EQ(a.bytes_metadata, b.bytes_metadata) << what;
	EXPECT_EQ(a.malloc_fail, b.malloc_fail) << what;
}

// ---- sizes and chain sizes ------------------------------------------------------

class ErrorsPool : public PoolTest {};

TEST_F(ErrorsPool, MallocRejectsBadSizes)
{
	unsigned long keep = must_malloc(100);
	owned_.push_back(keep);
	PoolStats before = pool_stats(pool_);
	unsigned long calls = fake::alloc_calls();
	for (size_t size : {size_t(0), size_t(ZSPP_MAX_ALLOC_SIZE + 1), size_t(8192), size_t(1) << 32, SIZE_MAX,
			    SIZE_MAX - 4095}) {
		unsigned long h = kSentinel;
		EXPECT_EQ(zspp_malloc(pool_, size, kGfp, &h), -ZSPP_EINVAL) << "size " << size;
		EXPECT_EQ(-ZSPP_EINVAL, -22);
		EXPECT_EQ(h, kSentinel) << "handle written on failure";
	}
	EXPECT_EQ(fake::alloc_calls(), calls) << "a rejected size allocated something";
	expect_same_stats(pool_stats(pool_), before, "bad size");
	EXPECT_EQ(pool_stats(pool_).malloc_fail, 0u) << "-EINVAL is not a malloc failure";
	// The limits themselves are fine.
	owned_.push_back(must_malloc(1));
	owned_.push_back(must_malloc(ZSPP_MAX_ALLOC_SIZE));
}

TEST(Errors, CreatePoolRejectsBadChain)
{
	fake::Counters before = fake::live();
	for (unsigned chain : {0u, 17u, 100u, UINT_MAX}) {
		zspp_pool *pool = reinterpret_cast<zspp_pool *>(kSentinel);
		EXPECT_EQ(zspp_create_pool("bad", chain, &pool), -ZSPP_EINVAL) << "chain " << chain;
		EXPECT_EQ(pool, reinterpret_cast<zspp_pool *>(kSentinel)) << "pool written on failure";
	}
	EXPECT_EQ(fake::live(), before);
	for (unsigned chain = ZSPP_MIN_CHAIN; chain <= ZSPP_MAX_CHAIN; chain++) {
		zspp_pool *pool = nullptr;
		ASSERT_EQ(zspp_create_pool("good", chain, &pool), 0) << "chain " << chain;
		EXPECT_EQ(zspp_pool_chain_size(pool), chain);
		EXPECT_EQ(zspp_debug_validate(pool), 0);
		zspp_destroy_pool(pool);
	}
	EXPECT_EQ(fake::live(), before);
	EXPECT_EQ(fake::violations(), 0u) << fake::last_violation();
}

TEST(Errors, PoolNameIsCopiedAndTruncated)
{
	char name[64];
	snprintf(name, sizeof(name), "%s", "zswap1");
	zspp_pool *a = nullptr, *b = nullptr, *c = nullptr;
	ASSERT_EQ(zspp_create_pool(name, 4, &a), 0);
	name[0] = 'X'; // the pool keeps its own copy
	EXPECT_STREQ(zspp_pool_name(a), "zswap1");
	std::string longname(100, 'n');
	ASSERT_EQ(zspp_create_pool(longname.c_str(), 4, &b), 0);
	EXPECT_EQ(std::string(zspp_pool_name(b)), std::string(31, 'n')) << "at most 31 characters";
	ASSERT_EQ(zspp_create_pool(nullptr, 4, &c), 0);
	EXPECT_STREQ(zspp_pool_name(c), "");
	zspp_destroy_pool(a);
	zspp_destroy_pool(b);
	zspp_destroy_pool(c);
}

// The caller's gfp reaches the page and slab allocators (zspp.h: "the
// caller's gfp is used for zspage pages and metadata").
TEST_F(ErrorsPool, MallocUsesCallersGfp)
{
	for (zspp_gfp_t gfp : {FAKE_GFP_ZSWAP, FAKE_GFP_ATOMIC, FAKE_GFP_NOWAIT, FAKE_GFP_KERNEL}) {
		unsigned long h = 0;
		ASSERT_EQ(zspp_malloc(pool_, 3000, gfp, &h), 0);
		owned_.push_back(h);
		EXPECT_EQ(fake::last_gfp(fake::kCacheAlloc), gfp);
		// Fill the zspage so that the next malloc needs a new one.
		ClassStats cs = class_stats(pool_, class_of(h));
		for (unsigned i = 1; i < cs.objs_per_zspage; i++)
			owned_.push_back(must_malloc(3000));
		ASSERT_EQ(zspp_malloc(pool_, 3000, gfp, &h), 0); // needs a new zspage
		owned_.push_back(h);
		EXPECT_EQ(fake::last_gfp(fake::kPageAlloc), gfp);
		EXPECT_EQ(fake::last_gfp(fake::kKmalloc), gfp) << "descriptor kmalloc'd with the caller's gfp";
		for (unsigned i = 1; i < cs.objs_per_zspage; i++)
			owned_.push_back(must_malloc(3000));
	}
}

// ---- -ENOMEM at every allocation point ------------------------------------------------

// A malloc sequence that needs new zspages in several classes, some of them
// several pages long, with frees in between so later mallocs reuse slots.
struct Step {
	bool is_free;
	size_t size;    // malloc
	size_t victim;  // free: index of an earlier malloc step
};

std::vector<Step> make_sequence()
{
	std::vector<Step> seq;
	std::mt19937 rng(7);
	const size_t sizes[] = {1, 32, 100, 700, 1500, 2800, 3000, 3500, 4096};
	std::vector<size_t> mallocs;
	for (int i = 0; i < 90; i++) {
		if (i % 7 == 6 && mallocs.size() > 2) {
			size_t pick = rng() % mallocs.size();
			seq.push_back({true, 0, mallocs[pick]});
			mallocs.erase(mallocs.begin() + long(pick));
		} else {
			mallocs.push_back(seq.size());
			seq.push_back({false, sizes[rng() % 9] - (rng() % 2), 0});
			if (seq.back().size == 0)
				seq.back().size = 1;
		}
	}
	return seq;
}

class EnomemEveryPoint : public ::testing::TestWithParam<std::tuple<unsigned, zspp_gfp_t>> {};

TEST_P(EnomemEveryPoint, MallocSequence)
{
	const unsigned chain = std::get<0>(GetParam());
	const zspp_gfp_t gfp = std::get<1>(GetParam());
	const std::vector<Step> seq = make_sequence();
	fake::reset_events();
	const fake::Counters base = fake::live();

	// Dry run: how many allocation points, and which step each belongs to.
	std::vector<size_t> point_step; // allocation point (0-based) -> step
	{
		zspp_pool *pool = nullptr;
		ASSERT_EQ(zspp_create_pool("enomem", chain, &pool), 0);
		std::vector<unsigned long> hs(seq.size(), 0);
		for (size_t i = 0; i < seq.size(); i++) {
			unsigned long before = fake::alloc_calls();
			if (seq[i].is_free) {
				zspp_free(pool, hs[seq[i].victim]);
				hs[seq[i].victim] = 0;
			} else {
				ASSERT_EQ(zspp_malloc(pool, seq[i].size, gfp, &hs[i]), 0);
			}
			for (unsigned long n = before; n < fake::alloc_calls(); n++)
				point_step.push_back(i);
		}
		for (unsigned long h : hs)
			if (h)
				zspp_free(pool, h);
		zspp_destroy_pool(pool);
	}
	ASSERT_GT(point_step.size(), 40u);
	ASSERT_EQ(fake::live(), base);
	size_t hinted = 0; // failures of a page a stale hint asked for

	for (size_t n = 1; n <= point_step.size(); n++) {
		SCOPED_TRACE("failing allocation point " + std::to_string(n) + " of " +
			     std::to_string(point_step.size()));
		zspp_pool *pool = nullptr;
		ASSERT_EQ(zspp_create_pool("enomem", chain, &pool), 0);
		const unsigned long injected = fake::injected_failures();
		std::vector<unsigned long> hs(seq.size(), 0);
		std::map<unsigned long, std::pair<size_t, uint32_t>> live; // handle -> (size, seed)
		size_t failed_step = SIZE_MAX;
		fake::fail_nth(n);
		for (size_t i = 0; i < seq.size(); i++) {
			if (seq[i].is_free) {
				unsigned long h = hs[seq[i].victim];
				if (h) {
					zspp_free(pool, h);
					live.erase(h);
				}
				continue;
			}
			unsigned long h = kSentinel;
			int r = zspp_malloc(pool, seq[i].size, gfp, &h);
			if (r == 0) {
				hs[i] = h;
				live[h] = {seq[i].size, uint32_t(i + 1)};
				zspp_obj_write(pool, h, pattern(uint32_t(i + 1), seq[i].size).data(), seq[i].size);
			} else {
				ASSERT_EQ(r, -ZSPP_ENOMEM) << "step " << i;
				ASSERT_EQ(h, kSentinel) << "handle written on failure";
				ASSERT_EQ(failed_step, SIZE_MAX) << "a second malloc failed (step " << i << ")";
				failed_step = i;
				ASSERT_EQ(zspp_debug_validate(pool), 0);
			}
		}
		fake::fail_off();
		ASSERT_EQ(fake::injected_failures(), injected + 1);
		PoolStats ps = pool_stats(pool);
		if (failed_step == SIZE_MAX) {
			// The page a stale "next slot needs a page" hint asked for
			// (locking.rst, "Racy reads"): the slot taken under the
			// lock had its page, so no malloc may fail for it.
			EXPECT_EQ(fake::last_failed_kind(), unsigned(fake::kPageAlloc))
				<< "a failed allocation other than a hinted page failed no malloc";
			EXPECT_EQ(ps.malloc_fail, 0u);
			hinted++;
			failed_step = point_step[n - 1];
		} else {
			// Allocation points before the failing one are the same as in the dry run.
			ASSERT_EQ(failed_step, point_step[n - 1]) << "the wrong malloc failed";
			EXPECT_EQ(ps.malloc_fail, 1u);
		}
		EXPECT_EQ(ps.objects, live.size());
		EXPECT_EQ(zspp_debug_validate(pool), 0);
		for (auto &[h, o] : live) {
			std::vector<uint8_t> got = read_obj(pool, h, o.first, ReadApi::kReadBegin);
			ASSERT_EQ(first_diff(got.data(), pattern(o.second, o.first).data(), o.first), -1);
		}
		// After the failure the pool still allocates.
		unsigned long extra = 0;
		ASSERT_EQ(zspp_malloc(pool, seq[failed_step].size, gfp, &extra), 0);
		zspp_free(pool, extra);
		for (auto &[h, o] : live)
			zspp_free(pool, h);
		EXPECT_EQ(zspp_get_total_pages(pool), 0u);
		EXPECT_EQ(zspp_debug_validate(pool), 0);
		zspp_destroy_pool(pool);
		ASSERT_EQ(fake::live(), base) << "leak: " << fake::to_string(fake::live());
	}
	// Most points fail their malloc: the hint is stale only after frees.
	EXPECT_LT(hinted, point_step.size() / 4) << hinted << " of " << point_step.size();
	EXPECT_EQ(fake::violations(), 0u) << fake::last_violation();
	EXPECT_EQ(fake::log_errors(), 0u) << fake::last_log_error();
}

std::string enomem_name(const ::testing::TestParamInfo<std::tuple<unsigned, zspp_gfp_t>> &info)
{
	zspp_gfp_t g = std::get<1>(info.param);
	return "chain" + std::to_string(std::get<0>(info.param)) +
	       (g == FAKE_GFP_ATOMIC ? "_atomic" : g == FAKE_GFP_ZSWAP ? "_zswap" : "_kernel");
}

INSTANTIATE_TEST_SUITE_P(All, EnomemEveryPoint,
			 ::testing::Combine(::testing::Values(1u, 4u, 8u, 16u),
					    ::testing::Values(FAKE_GFP_ZSWAP, FAKE_GFP_ATOMIC)),
			 enomem_name);

// Random failures (20%) at every kind of allocation point during churn.
TEST_F(ErrorsPool, MallocRandomFailuresNeverCorrupt)
{
	std::mt19937 rng(99);
	std::map<unsigned long, std::pair<size_t, uint32_t>> live;
	unsigned long enomem = 0;
	fake::fail_random(0.2, 1234);
	for (int i = 0; i < 4000; i++) {
		if (live.size() < 20 || rng() % 3) {
			size_t size = 1 + rng() % 4096;
			unsigned long h = kSentinel;
			int r = zspp_malloc(pool_, size, FAKE_GFP_ZSWAP, &h);
			if (r) {
				ASSERT_EQ(r, -ZSPP_ENOMEM);
				ASSERT_EQ(h, kSentinel);
				enomem++;
				continue;
			}
			live[h] = {size, uint32_t(i)};
			zspp_obj_write(pool_, h, pattern(uint32_t(i), size).data(), size);
		} else {
			auto it = live.begin();
			std::advance(it, rng() % live.size());
			zspp_free(pool_, it->first);
			live.erase(it);
		}
		if (i % 250 == 0)
			validate();
	}
	fake::fail_off();
	EXPECT_GT(enomem, 100u);
	EXPECT_EQ(pool_stats(pool_).malloc_fail, enomem);
	EXPECT_EQ(pool_stats(pool_).objects, live.size());
	for (auto &[h, o] : live) {
		std::vector<uint8_t> got = read_obj(pool_, h, o.first, ReadApi::kMapRO);
		ASSERT_EQ(first_diff(got.data(), pattern(o.second, o.first).data(), o.first), -1);
		owned_.push_back(h);
	}
}

// create_pool with each of its allocations failing in turn: -ENOMEM and
// nothing leaked, or (shrinker registration) a working pool without one.
TEST(Errors, CreatePoolEnomemAtEveryAllocationPoint)
{
	for (unsigned chain : {1u, 8u, 16u}) {
		fake::reset_events();
		const fake::Counters base = fake::live();
		unsigned long before = fake::alloc_calls();
		zspp_pool *pool = nullptr;
		ASSERT_EQ(zspp_create_pool("create", chain, &pool), 0);
		const unsigned long points = fake::alloc_calls() - before;
		zspp_destroy_pool(pool);
		ASSERT_GT(points, 2u);
		ASSERT_EQ(fake::live(), base);
		unsigned leaks = 0;
		for (unsigned long n = 1; n <= points; n++) {
			const fake::Counters it_base = fake::live();
			pool = reinterpret_cast<zspp_pool *>(kSentinel);
			fake::fail_nth(n);
			int r = zspp_create_pool("create", chain, &pool);
			fake::fail_off();
			if (r == 0) {
				// Only an optional part may fail without failing create.
				EXPECT_FALSE(fake::has_shrinker(pool)) << "point " << n << " failed but create succeeded";
				unsigned long h = 0;
				EXPECT_EQ(zspp_malloc(pool, 500, kGfp, &h), 0);
				zspp_free(pool, h);
				EXPECT_EQ(zspp_debug_validate(pool), 0);
				zspp_destroy_pool(pool);
			} else {
				EXPECT_EQ(r, -ZSPP_ENOMEM) << "point " << n;
				EXPECT_EQ(pool, reinterpret_cast<zspp_pool *>(kSentinel));
			}
			fake::Counters now = fake::live();
			if (now != it_base) {
				if (leaks++ < 3)
					ADD_FAILURE() << "chain " << chain << ": create_pool failing at allocation point "
						      << n << " of " << points << " (" << fake::kind_name(fake::last_failed_kind())
						      << ") leaked: now " << fake::to_string(now)
						      << ", before " << fake::to_string(it_base);
			}
		}
		EXPECT_EQ(leaks, 0u) << "chain " << chain << ": allocation points whose failure leaked";
		EXPECT_EQ(fake::violations(), 0u) << fake::last_violation();
	}
}

// Module init failing (the handle cache), and a pool before init.
TEST(Errors, CoreInitEnomemAndPoolWithoutCore)
{
	zspp_core_exit();
	zspp_pool *pool = reinterpret_cast<zspp_pool *>(kSentinel);
	EXPECT_EQ(zspp_create_pool("nocore", 4, &pool), -ZSPP_EINVAL);
	EXPECT_EQ(pool, reinterpret_cast<zspp_pool *>(kSentinel));
	fake::fail_nth(1, fake::kCacheCreate);
	EXPECT_EQ(zspp_core_init("zspp_handle"), -ZSPP_ENOMEM);
	fake::fail_off();
	ASSERT_EQ(zspp_core_init("zspp_handle"), 0);
	ASSERT_EQ(zspp_create_pool("core", 4, &pool), 0);
	zspp_destroy_pool(pool);
}

// ---- bad handles -------------------------------------------------------------------------

class BadHandle : public PoolTest {
protected:
	void SetUp() override
	{
		PoolTest::SetUp();
		fake::set_quiet(true);
		for (size_t size : {40, 700, 3000, 4096}) {
			for (int i = 0; i < 6; i++) {
				unsigned long h = must_malloc(size);
				zspp_obj_write(pool_, h, pattern(uint32_t(h), size).data(), size);
				keep_[h] = size;
				owned_.push_back(h);
			}
		}
	}
	void TearDown() override
	{
		fake::set_quiet(false);
		fake::set_cache_quarantine(1u << 16, fake::FreedPoison::kKeep);
		PoolTest::TearDown();
	}

	// Feed @h to zspp_free and every other entry point: each must warn and
	// change nothing.
	void expect_rejected(unsigned long h, const std::string &what)
	{
		SCOPED_TRACE(what);
		PoolStats before = pool_stats(pool_);
		fake::Counters live = fake::live();
		unsigned long warns = fake::bad_handle_warnings();
		zspp_free(pool_, h);
		EXPECT_EQ(fake::bad_handle_warnings(), warns + 1) << "free did not warn";
		EXPECT_EQ(pool_stats(pool_).bad_handles, before.bad_handles + 1);
		EXPECT_EQ(zspp_map_object(pool_, h, ZSPP_MM_RW), nullptr);
		std::vector<uint8_t> local(4096);
		EXPECT_EQ(zspp_obj_read_begin(pool_, h, local.data()), nullptr);
		zspp_obj_write(pool_, h, local.data(), 16);
		EXPECT_EQ(zspp_obj_size(pool_, h), 0u);
		zspp_unmap_object(pool_, h);
		zspp_obj_read_end(pool_, h, local.data());
		EXPECT_EQ(fake::bad_handle_warnings(), warns + 6) << "map/read_begin/write/unmap/read_end";
		expect_same_stats(pool_stats(pool_), before, what.c_str());
		EXPECT_EQ(fake::live(), live);
		EXPECT_EQ(zspp_debug_validate(pool_), 0);
		EXPECT_EQ(fake::locks_held(), 0);
		for (auto &[k, size] : keep_) {
			std::vector<uint8_t> got = read_obj(pool_, k, size, ReadApi::kReadBegin);
			ASSERT_EQ(first_diff(got.data(), pattern(uint32_t(k), size).data(), size), -1)
				<< "a live object changed";
		}
	}

	std::map<unsigned long, size_t> keep_;
};

TEST_F(BadHandle, NullAndMisaligned)
{
	expect_rejected(0, "handle 0");
	unsigned long some = keep_.begin()->first;
	for (unsigned long off = 1; off < 8; off++)
		expect_rejected(some + off, "misaligned by " + std::to_string(off));
}

TEST_F(BadHandle, FreedHandleUnderEverySlabPoison)
{
	for (auto poison : {fake::FreedPoison::kKeep, fake::FreedPoison::kFreelist, fake::FreedPoison::kPattern}) {
		fake::set_cache_quarantine(1u << 16, poison);
		for (size_t size : {40, 700, 3000}) {
			unsigned long h = must_malloc(size);
			zspp_free(pool_, h);
			// The slot stays allocated in the fake's quarantine, so this
			// reads memory the test still owns (ASan-clean).
			expect_rejected(h, "double free, poison " + std::to_string(int(poison)) + " size " +
						   std::to_string(size));
		}
	}
}

// Heap words the test controls, shaped like (or almost like) live handles.
TEST_F(BadHandle, ForgedWords)
{
	alignas(8) static uint64_t forged[4];
	auto *cell = &forged[0];
	const unsigned long h = keep_.begin()->first;
	const uint64_t live_word = word_of(h);
	const uint64_t pfn = probe::loc_pfn(live_word);
	const unsigned size = probe::loc_size(live_word), idx = probe::loc_idx(live_word);
	auto try_word = [&](uint64_t w, const std::string &what) {
		*cell = w;
		expect_rejected(reinterpret_cast<unsigned long>(cell), what);
	};
	try_word(live_word, "a copy of a live handle's word (reverse map names another handle)");
	try_word(0, "zero word");
	try_word(~0ull, "all ones");
	try_word(probe::loc_make(pfn, size, probe::zspage_info(zspage_of(h)).objs), "slot index past the zspage");
	try_word(probe::loc_make(pfn, size, 4095), "slot 4095");
	try_word(probe::loc_make(pfn, size > 2048 ? 32 : 4096, idx), "right zspage, size of another class");
	try_word(probe::loc_make(pfn, 1, idx), "size 1");
	try_word(probe::loc_make(pfn, ZSPP_MAX_ALLOC_SIZE, idx), "the largest size");
	for (unsigned i = 0; i < zspp_nr_classes(pool_); i++) {
		int ret;
		class_stats(pool_, i, &ret);
		if (ret == 1) {
			try_word(probe::loc_make(pfn, probe::index_slot_size(i), idx), "a size of a merged class index");
			break;
		}
	}
	try_word(probe::loc_make(pfn + 1, size, idx), "pfn of the zspage's second page or a stranger");
	try_word(probe::loc_make(uintptr_t(cell) >> 12, size, idx), "pfn of a heap page");
	std::mt19937_64 rng(5);
	for (int i = 0; i < 200; i++)
		try_word(rng(), "random word " + std::to_string(i));
}

// A handle of another pool: its word names a zspage this pool does not own.
TEST_F(BadHandle, HandleOfAnotherPool)
{
	zspp_pool *other = nullptr;
	ASSERT_EQ(zspp_create_pool("other", chain(), &other), 0);
	for (size_t size : {40, 700, 3000, 4096}) {
		unsigned long h = 0;
		ASSERT_EQ(zspp_malloc(other, size, kGfp, &h), 0);
		expect_rejected(h, "handle of another pool, size " + std::to_string(size));
		EXPECT_EQ(zspp_obj_size(other, h), size) << "still fine in its own pool";
		zspp_free(other, h);
	}
	EXPECT_EQ(zspp_debug_validate(other), 0);
	zspp_destroy_pool(other);
}

TEST_F(BadHandle, ObjWriteLongerThanObjectIsTruncated)
{
	// Neighbours in one zspage: writing past the first must not reach them.
	std::vector<unsigned long> hs;
	for (int i = 0; i < 8; i++) {
		hs.push_back(must_malloc(100));
		zspp_obj_write(pool_, hs.back(), pattern(50 + i, 100).data(), 100);
		owned_.push_back(hs.back());
	}
	unsigned long warns = fake::bad_handle_warnings();
	std::vector<uint8_t> big = pattern(77, 4096);
	zspp_obj_write(pool_, hs[3], big.data(), big.size());
	EXPECT_EQ(fake::bad_handle_warnings(), warns + 1);
	std::vector<uint8_t> got = read_obj(pool_, hs[3], 100, ReadApi::kReadBegin);
	EXPECT_EQ(first_diff(got.data(), big.data(), 100), -1) << "the first size bytes are written";
	for (int i = 0; i < 8; i++) {
		if (i == 3)
			continue;
		got = read_obj(pool_, hs[i], 100, ReadApi::kReadBegin);
		EXPECT_EQ(first_diff(got.data(), pattern(50 + i, 100).data(), 100), -1) << "neighbour " << i;
	}
	EXPECT_EQ(zspp_obj_size(pool_, hs[3]), 100u);
}

} // namespace
