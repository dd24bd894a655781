// SPDX-License-Identifier: GPL-2.0
// CONFIG_ZSPP_FOLD (make -C tests/host FOLD=1 test): identical objects share
// one slot. Every test checks every byte of every object afterwards, and the
// fixture's TearDown checks validate() (which walks every Share record and
// every sharer's handle), leaks and shim-contract violations (the fake
// refuses any allocation under a zspp spinlock).
#include "test_util.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <random>
#include <set>
#include <thread>

using namespace zt;

#ifndef ZSPP_FOLD

// Off, the API still reports the fold counters, all zero.
TEST_F(PoolTest, FoldOffCountersStayZero)
{
	for (int i = 0; i < 64; i++) {
		unsigned long h = must_malloc(100);
		zspp_obj_write(pool_, h, pattern(1, 100).data(), 100);
		owned_.push_back(h);
	}
	PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.pages_folded + s.objs_folded + s.bytes_folded + s.fold_collisions + s.fold_cow + s.fold_cow_busy +
			  s.fold_passes,
		  0u);
	EXPECT_EQ(class_stats(pool_, serving_index_of(kDefaultChain, 100)).folded, 0u);
}

#else

namespace {

class Fold : public TrackedPoolTest {
protected:
	// An object with @seed's content (several objects may share a seed).
	unsigned long add_seeded(size_t size, uint32_t seed)
	{
		unsigned long h = must_malloc(size);
		EXPECT_EQ(zspp_obj_write(pool_, h, pattern(seed, size).data(), size), 0);
		objs_[h] = Obj{size, seed};
		return h;
	}
	// A copy of @seed's content with byte @at changed.
	unsigned long add_near(size_t size, uint32_t seed, size_t at)
	{
		std::vector<uint8_t> d = pattern(seed, size);
		d[at] ^= 0x5a;
		unsigned long h = must_malloc(size);
		EXPECT_EQ(zspp_obj_write(pool_, h, d.data(), size), 0);
		near_[h] = d;
		return h;
	}
	void verify_all()
	{
		verify_objects();
		for (auto &[h, d] : near_) {
			std::vector<uint8_t> got = read_obj(pool_, h, d.size(), ReadApi::kReadBegin);
			ASSERT_EQ(first_diff(got.data(), d.data(), d.size()), -1) << "near-duplicate changed";
		}
	}
	void TearDown() override
	{
		for (auto &[h, d] : near_)
			owned_.push_back(h);
		near_.clear();
		TrackedPoolTest::TearDown();
	}
	unsigned long folded() { return pool_stats(pool_).objs_folded; }

	std::map<unsigned long, std::vector<uint8_t>> near_;
};

// One size per class (its slot size) plus the smallest size it serves.
std::vector<size_t> one_size_per_class(unsigned chain)
{
	std::vector<size_t> sizes;
	std::set<unsigned> seen;
	for (size_t size = 1; size <= ZSPP_MAX_ALLOC_SIZE; size++) {
		if (seen.insert(serving_index_of(chain, size)).second)
			sizes.push_back(size);
	}
	return sizes;
}

} // namespace

// Three copies and two near-copies (first and last byte differ) in every
// class: the copies fold (2 per class), the near-copies never do.
TEST_P(Fold, DuplicatesAndNearDuplicatesInEveryClass)
{
	std::vector<size_t> sizes = one_size_per_class(chain());
	uint32_t seed = 1000;
	for (size_t size : sizes) {
		for (int c = 0; c < 3; c++)
			add_seeded(size, seed);
		add_near(size, seed, 0);
		add_near(size, seed, size - 1);
		seed++;
	}
	validate();
	const PoolStats before = pool_stats(pool_);
	zspp_fold(pool_);
	validate();
	const PoolStats after = pool_stats(pool_);
	// A near-copy of one byte differs from its seed's copies; two near-copies
	// of a 1-byte object are equal to each other (both flipped the same byte).
	unsigned long expect = 2 * sizes.size() + std::count(sizes.begin(), sizes.end(), 1);
	EXPECT_EQ(after.objs_folded, expect);
	EXPECT_EQ(after.objects, before.objects) << "folding frees slots, never handles";
	EXPECT_EQ(after.fold_passes, before.fold_passes + 1);
	EXPECT_EQ(sum_over_classes(pool_, [](const ClassStats &cs) { return cs.folded; }), after.objs_folded)
		<< "classes' folded column adds up";
	ASSERT_NO_FATAL_FAILURE(verify_all());
	// A second pass finds nothing new.
	zspp_fold(pool_);
	EXPECT_EQ(folded(), expect);
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// Objects never written (fresh slots hold junk) are never folded, even if
// their junk is equal; nor are they after an RO map.
TEST_P(Fold, UnwrittenObjectsNeverFold)
{
	std::vector<unsigned long> hs;
	for (int i = 0; i < 200; i++)
		hs.push_back(must_malloc(64));
	for (unsigned long h : hs) {
		void *p = zspp_map_object(pool_, h, ZSPP_MM_RO);
		ASSERT_NE(p, nullptr);
		zspp_unmap_object(pool_, h);
	}
	zspp_fold(pool_);
	EXPECT_EQ(folded(), 0u);
	for (unsigned long h : hs)
		zspp_free(pool_, h);
}

// Every order of freeing the sharers of one object: each free leaves the
// others intact, the last one frees the slot (and the pool's pages).
TEST_P(Fold, EveryFreeOrderOfFiveSharers)
{
	std::vector<int> order(5);
	std::iota(order.begin(), order.end(), 0);
	int perms = 0;
	do {
		std::vector<unsigned long> hs;
		for (int i = 0; i < 5; i++)
			hs.push_back(add_seeded(777, 42));
		zspp_fold(pool_);
		ASSERT_EQ(folded(), 4u);
		for (size_t k = 0; k < order.size(); k++) {
			remove(hs[order[k]]);
			EXPECT_EQ(folded(), k < 4 ? 3 - k : 0u);
			validate();
			ASSERT_NO_FATAL_FAILURE(verify_all());
		}
		EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
		perms++;
	} while (std::next_permutation(order.begin(), order.end()) && perms < 40);
}

// A free of a sharer that was never the kept copy, then of the kept copy,
// with other objects around; a double free of a sharer is caught.
TEST_P(Fold, DoubleFreeOfASharerIsCaught)
{
	fake::set_quiet(true);
	unsigned long a = add_seeded(300, 7), b = add_seeded(300, 7), c = add_seeded(300, 7);
	zspp_fold(pool_);
	ASSERT_EQ(folded(), 2u);
	remove(b);
	zspp_free(pool_, b);
	EXPECT_EQ(fake::bad_handle_warnings(), 1u);
	EXPECT_EQ(pool_stats(pool_).bad_handles, 1u);
	remove(a);
	ASSERT_NO_FATAL_FAILURE(verify_all());
	remove(c);
	fake::set_quiet(false);
}

// A write (any API) to one sharer gives it its own copy: no other sharer
// sees it; obj_write beyond... the sharers keep their bytes.
TEST_P(Fold, WriteAfterFoldCopiesOnWrite)
{
	for (WriteApi api : {WriteApi::kObjWrite, WriteApi::kMapWO, WriteApi::kMapRW}) {
		std::vector<unsigned long> hs;
		for (int i = 0; i < 4; i++)
			hs.push_back(add_seeded(1500, 99));
		zspp_fold(pool_);
		ASSERT_EQ(folded(), 3u) << name(api);
		const unsigned long cow = pool_stats(pool_).fold_cow;
		write_obj(pool_, hs[1], pattern(5000, 1500), api);
		objs_[hs[1]].seed = 5000;
		EXPECT_EQ(pool_stats(pool_).fold_cow, cow + 1) << name(api);
		EXPECT_EQ(folded(), 2u) << name(api);
		validate();
		ASSERT_NO_FATAL_FAILURE(verify_all());
		// A second write to the now private copy copies nothing.
		write_obj(pool_, hs[1], pattern(5001, 1500), api);
		objs_[hs[1]].seed = 5001;
		EXPECT_EQ(pool_stats(pool_).fold_cow, cow + 1);
		ASSERT_NO_FATAL_FAILURE(verify_all());
		for (unsigned long h : hs)
			remove(h);
	}
}

// The copy needs a slot: with the class full and no page to be had,
// obj_write fails with -ENOMEM and a write map returns NULL; nothing changes.
TEST_P(Fold, CopyOnWriteWithoutMemoryFailsCleanly)
{
	// Fill whole zspages of one class with one object's copies.
	const size_t size = 2000;
	std::vector<unsigned long> hs;
	for (int i = 0; i < 64; i++)
		hs.push_back(add_seeded(size, 3));
	zspp_fold(pool_);
	// Refill: the class's zspages get full again with distinct objects.
	const unsigned idx = serving_index_of(chain(), size);
	for (int i = 0; class_stats(pool_, idx).obj_allocated != class_stats(pool_, idx).obj_used; i++)
		add_seeded(size, 10000 + i);
	ASSERT_GT(folded(), 0u);
	const unsigned long before = folded();
	{
		fake::FailNth f(1, fake::kPageAlloc | fake::kKmalloc);
		EXPECT_EQ(zspp_obj_write(pool_, hs[0], pattern(4, size).data(), size), -ZSPP_ENOMEM);
	}
	EXPECT_EQ(fake::last_gfp(fake::kKmalloc) & FAKE_GFP_DIRECT_RECLAIM, 0u) << "obj_write never sleeps";
	{
		fake::FailNth f(1, fake::kPageAlloc | fake::kKmalloc);
		EXPECT_EQ(zspp_map_object(pool_, hs[0], ZSPP_MM_WO), nullptr);
	}
	EXPECT_EQ(folded(), before);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
	// With memory, the same write succeeds.
	EXPECT_EQ(zspp_obj_write(pool_, hs[0], pattern(4, size).data(), size), 0);
	objs_[hs[0]].seed = 4;
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// The pin rule (locking.rst, "Pins") against the copy on write: the copy
// moves the writer's handle to another zspage, but a read or map of the
// shared slot's zspage resolves its handle again, unlocked, to drop its pin.
// So a write of a shared object whose zspage is pinned is refused (-EBUSY,
// NULL from a map): nothing moves, nothing is written, and the reader's
// read_end/unmap drops the pin it took. Before, the write moved the handle,
// read_end unpinned the copy's zspage (left migratable under the writer's
// map) and the first zspage stayed pinned for ever.
TEST_P(Fold, WriteOfASharedObjectWhoseZspageIsPinnedIsRefused)
{
	const size_t size = 1200;
	for (int pin_kind = 0; pin_kind < 3; pin_kind++) {
		for (WriteApi api : {WriteApi::kObjWrite, WriteApi::kMapWO, WriteApi::kMapRW}) {
			SCOPED_TRACE(std::string(name(api)) + ", pin " + std::to_string(pin_kind));
			unsigned long h1 = add_seeded(size, 31), h2 = add_seeded(size, 31);
			unsigned long other = add_seeded(size, 32); // same zspage, never shared
			zspp_fold(pool_);
			ASSERT_EQ(folded(), 1u);
			const void *zs = zspage_of(h1);
			ASSERT_EQ(zs, zspage_of(h2));
			ASSERT_EQ(zs, zspage_of(other));
			const uint64_t word = word_of(h1);
			// The pin: this task's read of h1 (a task that reads, writes,
			// then ends its read), a map of h1, or a read of another
			// object of the same zspage.
			std::vector<uint8_t> local(size);
			unsigned long pinned = pin_kind == 2 ? other : h1;
			void *rp = nullptr;
			if (pin_kind == 1)
				rp = zspp_map_object(pool_, pinned, ZSPP_MM_RO);
			else
				rp = zspp_obj_read_begin(pool_, pinned, local.data());
			ASSERT_NE(rp, nullptr);
			const unsigned long busy = pool_stats(pool_).fold_cow_busy;
			std::vector<uint8_t> data = pattern(777, size);
			switch (api) {
			case WriteApi::kObjWrite:
				EXPECT_EQ(zspp_obj_write(pool_, h1, data.data(), size), -ZSPP_EBUSY);
				break;
			default:
				EXPECT_EQ(zspp_map_object(pool_, h1, api == WriteApi::kMapWO ? ZSPP_MM_WO : ZSPP_MM_RW),
					  nullptr);
				break;
			}
			EXPECT_EQ(pool_stats(pool_).fold_cow_busy, busy + 1);
			EXPECT_EQ(word_of(h1), word) << "the handle moved under a pin";
			EXPECT_EQ(folded(), 1u);
			EXPECT_EQ(fake::bad_handle_warnings(), 0u);
			if (pin_kind == 1)
				zspp_unmap_object(pool_, pinned);
			else
				zspp_obj_read_end(pool_, pinned, rp);
			EXPECT_EQ(fake::bad_handle_warnings(), 0u) << "read_end/unmap found its pin";
			// The pin is gone: the zspage's page migrates.
			auto *page = static_cast<zspp_page *>(zspp_debug_handle_page(pool_, h1));
			EXPECT_EQ(int(fake::migrate_page(page)), int(fake::MigrateResult::kMoved))
				<< "the zspage stayed pinned";
			validate();
			ASSERT_NO_FATAL_FAILURE(verify_all());
			// Unpinned, the same write copies and succeeds.
			write_obj(pool_, h1, data, api);
			objs_[h1].seed = 777;
			EXPECT_EQ(folded(), 0u);
			validate();
			ASSERT_NO_FATAL_FAILURE(verify_all());
			remove(h1);
			remove(h2);
			remove(other);
		}
	}
}

// Forced collisions (the hash cut to 1 bit): every object is a candidate
// of many others, the byte compare refuses all but true copies.
TEST_P(Fold, ForcedHashCollisionsNeverMergeDifferentBytes)
{
	zspp_debug_fold_hash_bits(pool_, 0); // every object hashes to 0
	std::vector<unsigned long> hs;
	for (int i = 0; i < 300; i++)
		hs.push_back(add_seeded(500, 20000 + i));
	for (int i = 0; i < 20; i++)
		add_near(500, 20000, size_t(i) * 25);
	zspp_fold(pool_);
	const PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.objs_folded, 0u);
	EXPECT_GT(s.fold_collisions, 20u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
	for (unsigned long h : hs)
		remove(h);
	// The near-copies go too: which objects a pass meets first depends on
	// the class's zspage layout, and 20 colliding leftovers could fill the
	// probe window before the copies below are indexed.
	for (auto &[h, d] : near_)
		zspp_free(pool_, h);
	near_.clear();
	// With few enough candidates, true copies among colliding objects
	// still fold: A and B three times each, two near-copies of A.
	for (int i = 0; i < 3; i++) {
		add_seeded(500, 1);
		add_seeded(500, 2);
	}
	add_near(500, 1, 10);
	add_near(500, 1, 20);
	zspp_fold(pool_);
	EXPECT_EQ(folded(), 4u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// pages_folded is what folding gave back: the pool's pages drop by exactly
// that, and by at least the space the shared copies occupied.
TEST_P(Fold, PagesFoldedMatchesWhatWasSaved)
{
	const size_t size = 1024;
	for (int i = 0; i < 400; i++)
		add_seeded(size, 7 + i % 4); // 4 distinct objects, 100 copies each
	const PoolStats before = pool_stats(pool_);
	unsigned long freed = zspp_fold(pool_);
	const PoolStats after = pool_stats(pool_);
	EXPECT_EQ(after.objs_folded, 396u);
	EXPECT_EQ(after.pages_folded - before.pages_folded, freed);
	EXPECT_EQ(before.pages - after.pages, freed);
	const unsigned slot = class_stats(pool_, serving_index_of(chain(), size)).size;
	const unsigned zs_pages = class_stats(pool_, serving_index_of(chain(), size)).pages_per_zspage;
	// 396 slots freed; all but at most one zspage's worth become free pages.
	EXPECT_GE(freed + zs_pages, 396ul * slot / ZSPP_PAGE_SIZE);
	EXPECT_EQ(after.bytes_folded, 396ul * slot);
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// More copies than one record holds: 600 copies fold into 3 kept slots
// (256 + 256 + 88); after frees, the next pass merges records.
TEST_P(Fold, ManyCopiesAndRecordMerge)
{
	std::vector<unsigned long> hs;
	for (int i = 0; i < 600; i++)
		hs.push_back(add_seeded(200, 31));
	zspp_fold(pool_);
	EXPECT_EQ(folded(), 597u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
	// Free 400: the remaining 200 fit one record again.
	std::mt19937 rng(GetParam());
	std::shuffle(hs.begin(), hs.end(), rng);
	for (int i = 0; i < 400; i++)
		remove(hs[i]);
	validate();
	zspp_fold(pool_);
	EXPECT_EQ(folded(), 199u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// Compaction moves shared slots: every sharer's handle follows.
TEST_P(Fold, CompactionMovesSharedObjects)
{
	std::mt19937 rng(GetParam() * 7 + 1);
	std::vector<unsigned long> fillers;
	for (int i = 0; i < 1500; i++) {
		if (i % 5 == 0)
			add_seeded(700, 50 + i % 7); // copies of 7 objects, interleaved
		else
			fillers.push_back(add(700));
	}
	zspp_fold(pool_);
	ASSERT_GT(folded(), 0u);
	std::shuffle(fillers.begin(), fillers.end(), rng);
	for (size_t i = 0; i < fillers.size() * 3 / 4; i++)
		remove(fillers[i]);
	const PoolStats before = pool_stats(pool_);
	zspp_compact(pool_);
	const PoolStats after = pool_stats(pool_);
	EXPECT_GT(after.objs_moved, before.objs_moved);
	EXPECT_EQ(after.objs_folded, before.objs_folded);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// Page migration of shared slots' pages (first pages re-point every sharer).
TEST_P(Fold, MigrationMovesSharedObjects)
{
	for (int i = 0; i < 300; i++) // 30 objects (all sizes), 10 copies each
		add_seeded(1 + (i % 30 * 137) % 4096, 60 + i % 30);
	zspp_fold(pool_);
	ASSERT_GT(folded(), 0u);
	std::set<zspp_page *> pages;
	for (auto &[h, o] : objs_)
		pages.insert(static_cast<zspp_page *>(zspp_debug_handle_page(pool_, h)));
	for (zspp_page *p : pages)
		ASSERT_EQ(int(fake::migrate_page(p)), int(fake::MigrateResult::kMoved));
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// Fold with its allocations failing (index table, spare records): what it
// folded stays folded, nothing leaks, every byte stays.
TEST_P(Fold, FoldUnderAllocationFailures)
{
	for (int i = 0; i < 500; i++) // 45 objects, 11-12 copies each
		add_seeded(1 + (i % 45 * 131) % 3000, 70 + i % 45);
	for (unsigned long n = 1; n <= 12; n++) {
		fake::FailNth f(n, fake::kKmalloc);
		zspp_fold(pool_);
		validate();
	}
	ASSERT_NO_FATAL_FAILURE(verify_all());
	zspp_fold(pool_);
	EXPECT_GT(folded(), 0u);
	ASSERT_NO_FATAL_FAILURE(verify_all());
}

// Fold against concurrent churn (malloc/write/read/free, compaction,
// migration) on other threads.
TEST_P(Fold, ConcurrentChurn)
{
	std::atomic<bool> stop{false};
	std::atomic<unsigned long> errors{0};
	auto churn = [&](uint32_t seed) {
		std::mt19937 rng(seed);
		std::vector<std::pair<unsigned long, uint32_t>> mine;
		while (!stop.load()) {
			if (mine.size() < 300 && rng() % 3) {
				uint32_t s = 90 + rng() % 5; // few contents: lots of copies
				unsigned long h;
				if (zspp_malloc(pool_, 800, kGfp, &h))
					continue;
				std::vector<uint8_t> d = pattern(s, 800);
				void *p = zspp_map_object(pool_, h, ZSPP_MM_WO);
				memcpy(p, d.data(), 800);
				zspp_unmap_object(pool_, h);
				mine.push_back({h, s});
			} else if (!mine.empty()) {
				size_t i = rng() % mine.size();
				std::vector<uint8_t> got = read_obj(pool_, mine[i].first, 800, ReadApi(rng() % 2));
				if (got != pattern(mine[i].second, 800))
					errors++;
				if (rng() % 4 == 0) { // rewrite: a COW when shared
					uint32_t s = 90 + rng() % 5;
					if (zspp_obj_write(pool_, mine[i].first, pattern(s, 800).data(), 800) == 0)
						mine[i].second = s;
				}
				if (rng() % 2) {
					zspp_free(pool_, mine[i].first);
					mine[i] = mine.back();
					mine.pop_back();
				}
			}
		}
		for (auto &[h, s] : mine) {
			if (read_obj(pool_, h, 800, ReadApi::kReadBegin) != pattern(s, 800))
				errors++;
			zspp_free(pool_, h);
		}
	};
	std::thread t1(churn, GetParam()), t2(churn, GetParam() + 100);
	std::mt19937 rng(GetParam());
	unsigned long most_folded = 0;
	// At least 60 passes, and on until the churn's objects were folded and
	// one was rewritten while shared (bounded: 20 s).
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
	for (int i = 0; i < 60 || ((!most_folded || !pool_stats(pool_).fold_cow) &&
				   std::chrono::steady_clock::now() < deadline); i++) {
		zspp_fold(pool_);
		most_folded = std::max(most_folded, folded());
		if (i % 3 == 0)
			zspp_compact(pool_);
		fake::migrate_random_page(rng());
		std::this_thread::yield();
	}
	stop = true;
	t1.join();
	t2.join();
	EXPECT_EQ(errors.load(), 0u);
	EXPECT_GT(most_folded, 0u) << "the churn's copies were folded at some point";
	EXPECT_GT(pool_stats(pool_).fold_cow, 0u) << "and rewritten while shared";
	validate();
}

INSTANTIATE_TEST_SUITE_P(Chains, Fold, ::testing::Values(1u, 4u, 8u, 16u), chain_name);

// ---- writeback of shared objects ----------------------------------------------------
// Every sharer of a shared slot is evicted (the user frees each from inside
// evict, frees deferred); the zspage is freed when the last one goes.
class FoldEvict : public TrackedPoolTest {
protected:
	void SetUp() override
	{
		fake::fail_off();
		fake::reset_events();
		baseline_ = fake::live();
		ASSERT_EQ(zspp_create_pool_evictable("fold-evict", chain(), &FoldEvict::evict, this, &pool_), 0);
	}
	static int evict(void *ctx, unsigned long h)
	{
		auto *self = static_cast<FoldEvict *>(ctx);
		EXPECT_EQ(fake::locks_held(), 0);
		if (h == self->refuse_)
			return -ZSPP_EAGAIN;
		auto it = self->objs_.find(h);
		EXPECT_NE(it, self->objs_.end()) << "evict of a handle nobody owns";
		if (it == self->objs_.end())
			return -1;
		// As zswap: read it (written back), free it while still mapped.
		std::vector<uint8_t> got = read_obj(self->pool_, h, it->second.size, ReadApi::kMapRO);
		EXPECT_EQ(got, pattern(it->second.seed, it->second.size)) << "evict saw different bytes";
		self->evicted_.push_back(h);
		self->remove(h);
		return 0;
	}
	unsigned long add_seeded(size_t size, uint32_t seed)
	{
		unsigned long h = must_malloc(size);
		EXPECT_EQ(zspp_obj_write(pool_, h, pattern(seed, size).data(), size), 0);
		objs_[h] = Obj{size, seed};
		return h;
	}
	std::vector<unsigned long> evicted_;
	unsigned long refuse_ = 0;
};

TEST_P(FoldEvict, EverySharerIsEvictedOnce)
{
	std::vector<unsigned long> all;
	for (int i = 0; i < 40; i++)
		all.push_back(add_seeded(900, 5 + i % 2));
	zspp_fold(pool_);
	ASSERT_EQ(pool_stats(pool_).objs_folded, 38u);
	ASSERT_EQ(pool_stats(pool_).zspages, 1u) << "2 slots left after fold + compaction";
	// That zspage's pages, as many as its slots have reached so far.
	const unsigned long pages = pool_stats(pool_).pages;
	unsigned long reclaimed = 0;
	ASSERT_EQ(zspp_reclaim(pool_, 1, &reclaimed), 0);
	EXPECT_EQ(reclaimed, pages);
	std::multiset<unsigned long> ev(evicted_.begin(), evicted_.end());
	EXPECT_EQ(ev, std::multiset<unsigned long>(all.begin(), all.end())) << "every sharer evicted exactly once";
	const PoolStats s = pool_stats(pool_);
	EXPECT_EQ(s.objs_folded, 0u);
	EXPECT_EQ(s.objects, 0u);
	EXPECT_EQ(s.reclaim_deferred_frees, 40u) << "each freed from inside evict: deferred";
	validate();
}

// A reclaim whose evict refuses one sharer: that sharer and the slot stay,
// the others are gone, the zspage goes back.
TEST_P(FoldEvict, RefusedSharerKeepsTheSlot)
{
	std::vector<unsigned long> all;
	for (int i = 0; i < 10; i++)
		all.push_back(add_seeded(900, 5));
	zspp_fold(pool_);
	ASSERT_EQ(pool_stats(pool_).objs_folded, 9u);
	refuse_ = all[4];
	unsigned long reclaimed = 0;
	EXPECT_EQ(zspp_reclaim(pool_, 1, &reclaimed), -ZSPP_EAGAIN);
	EXPECT_EQ(objs_.count(all[4]), 1u);
	validate();
	ASSERT_NO_FATAL_FAILURE(verify_objects());
	refuse_ = 0;
}

INSTANTIATE_TEST_SUITE_P(Chains, FoldEvict, ::testing::Values(1u, 8u), chain_name);

#endif
