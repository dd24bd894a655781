// SPDX-License-Identifier: GPL-2.0
// Model-based random testing: random operations go to zspp and to a
// reference std::map<handle, bytes>; every read is compared byte for byte.
// Single-threaded over several seeds and chain sizes (optionally with
// allocation failures injected), and a multi-threaded variant: four threads
// with their own handles on one pool while another thread compacts through
// the shrinker and another reads statistics.
#include "ref_model.h"
#include "test_util.h"

#include <atomic>
#include <map>
#include <random>
#include <thread>

using namespace zt;
using refmodel::RefModel;
using refmodel::RefObj;

namespace {

// zswap-like sizes: mostly compressed pages of 100..4096 bytes with a bump
// around 1-3 KiB, sometimes tiny, sometimes any size.
size_t random_size(std::mt19937_64 &rng)
{
	unsigned r = unsigned(rng() % 100);
	if (r < 10)
		return 1 + rng() % 100;
	if (r < 25)
		return 1 + rng() % ZSPP_MAX_ALLOC_SIZE;
	if (r < 70)
		return 900 + rng() % 2200;
	return 100 + rng() % 3997;
}

// One model-based worker: owns its handles, drives every access API.
class Worker {
public:
	Worker(zspp_pool *pool, uint64_t seed, bool inject) : pool_(pool), rng_(seed), inject_(inject) {}

	// Returns false (after a gtest failure) on a mismatch.
	void run(int ops, bool single_threaded)
	{
		for (int i = 0; i < ops; i++) {
			step();
			if (::testing::Test::HasFatalFailure() || failures_ > 0)
				return;
			if (single_threaded && i % 200 == 0) {
				ASSERT_EQ(zspp_debug_validate(pool_), 0) << "op " << i;
				check_stats();
			}
		}
	}

	void verify_all()
	{
		for (auto &[h, o] : model_)
			check(h, o, ReadApi(rng_() % 3));
	}

	void free_all()
	{
		for (auto &[h, o] : model_)
			zspp_free(pool_, h);
		model_.clear();
	}

	void check_stats()
	{
		PoolStats s = pool_stats(pool_);
		ASSERT_EQ(s.objects, model_.size());
		ASSERT_EQ(s.bytes_stored, model_.bytes_stored());
	}

	unsigned long mallocs = 0, enomem = 0, frees = 0, writes = 0, reads = 0, compactions = 0;
	int failures_ = 0;

private:
	void check(unsigned long h, const RefObj &o, ReadApi api)
	{
		if (zspp_obj_size(pool_, h) != o.size) {
			failures_++;
			ADD_FAILURE() << "obj_size " << zspp_obj_size(pool_, h) << " != " << o.size;
			return;
		}
		std::vector<uint8_t> got = read_obj(pool_, h, o.size, api);
		reads++;
		long d = o.diff(got.data());
		if (d != -1) {
			failures_++;
			ADD_FAILURE() << "object of " << o.size << " bytes read via " << name(api)
				      << " differs from the model at byte " << d;
		}
	}

	unsigned long pick() { return model_.nth(rng_() % model_.size()); }

	std::vector<uint8_t> random_bytes(size_t n)
	{
		std::vector<uint8_t> v(n);
		uint64_t x = rng_();
		for (size_t i = 0; i < n; i++) {
			if (i % 8 == 0)
				x = x * 6364136223846793005ull + 1442695040888963407ull;
			v[i] = uint8_t(x >> (8 * (i % 8)));
		}
		return v;
	}

	void step()
	{
		unsigned op = unsigned(rng_() % 100);
		if (model_.empty() || op < 30 || (model_.size() < 40 && op < 60)) {
			size_t size = random_size(rng_);
			unsigned long h = 0xfee1;
			if (inject_)
				fake::fail_random(0.05, rng_(), fake::kAllKinds);
			int r = zspp_malloc(pool_, size, FAKE_GFP_ZSWAP, &h);
			if (inject_)
				fake::fail_off();
			if (r == -ZSPP_ENOMEM && inject_) {
				enomem++;
				EXPECT_EQ(h, 0xfee1u);
				return;
			}
			ASSERT_EQ(r, 0) << "malloc(" << size << ")";
			ASSERT_EQ(model_.count(h), 0u) << "handle handed out twice";
			mallocs++;
			RefObj o{size, false, {}};
			if (rng_() % 8) { // usually written at once
				o.data = random_bytes(size);
				o.known = true;
				write_obj(pool_, h, o.data, rng_() % 2 ? WriteApi::kObjWrite : WriteApi::kMapWO);
				writes++;
			}
			model_[h] = std::move(o);
		} else if (op < 55 && model_.size() > 20) {
			unsigned long h = pick();
			zspp_free(pool_, h);
			model_.erase(h);
			frees++;
		} else if (op < 65) {
			// Full or partial obj_write (a prefix).
			unsigned long h = pick();
			RefObj &o = model_[h];
			size_t len = o.known && rng_() % 3 == 0 ? 1 + rng_() % o.size : o.size;
			std::vector<uint8_t> bytes = random_bytes(len);
			zspp_obj_write(pool_, h, bytes.data(), len);
			o.write_prefix(bytes.data(), len);
			writes++;
		} else if (op < 72) {
			// map RW: check what is there, change some bytes.
			unsigned long h = pick();
			RefObj &o = model_[h];
			auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RW));
			ASSERT_NE(p, nullptr);
			if (o.diff(p) != -1) {
				failures_++;
				ADD_FAILURE() << "map RW content differs from the model";
			}
			if (o.known) {
				for (int k = 0; k < 8; k++) {
					size_t at = rng_() % o.size;
					p[at] = o.data[at] = uint8_t(rng_());
				}
			}
			zspp_unmap_object(pool_, h);
			writes++;
		} else if (op < 76) {
			// map WO: replace everything.
			unsigned long h = pick();
			RefObj &o = model_[h];
			o.replace(random_bytes(o.size));
			write_obj(pool_, h, o.data, WriteApi::kMapWO);
			writes++;
		} else if (op < 99) {
			unsigned long h = pick();
			check(h, model_[h], ReadApi(rng_() % 3));
		} else if (single_pool_compaction_) {
			zspp_compact(pool_);
			compactions++;
		}
	}

public:
	bool single_pool_compaction_ = true;

private:
	zspp_pool *pool_;
	std::mt19937_64 rng_;
	bool inject_;
	RefModel model_;
};

struct ModelParam {
	uint64_t seed;
	unsigned chain;
	bool inject;
};

class Model : public PoolTest, public ::testing::WithParamInterface<ModelParam> {
protected:
	unsigned chain() const override { return GetParam().chain; }
};

TEST_P(Model, RandomOpsMatchReference)
{
	Worker w(pool_, GetParam().seed, GetParam().inject);
	ASSERT_NO_FATAL_FAILURE(w.run(15000, true));
	ASSERT_EQ(w.failures_, 0);
	validate();
	ASSERT_NO_FATAL_FAILURE(w.check_stats());
	ASSERT_NO_FATAL_FAILURE(w.verify_all());
	// Compact, then everything must still read back.
	zspp_compact(pool_);
	validate();
	EXPECT_EQ(zspp_compactable_pages(pool_), 0u);
	ASSERT_NO_FATAL_FAILURE(w.verify_all());
	w.free_all();
	validate();
	EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	EXPECT_EQ(fake::live().pages, baseline_.pages);
	EXPECT_GT(w.mallocs, 3000u);
	EXPECT_GT(pool_stats(pool_).objs_moved, 0u) << "compaction never moved an object";
	EXPECT_GT(w.reads, 1000u);
	if (GetParam().inject) {
		EXPECT_GT(w.enomem, 10u);
		EXPECT_EQ(pool_stats(pool_).malloc_fail, w.enomem);
	}
	EXPECT_EQ(fake::bad_handle_warnings(), 0u);
}

std::string model_name(const ::testing::TestParamInfo<ModelParam> &info)
{
	return "seed" + std::to_string(info.param.seed) + "_chain" + std::to_string(info.param.chain) +
	       (info.param.inject ? "_enomem" : "");
}

INSTANTIATE_TEST_SUITE_P(Seeds, Model,
			 ::testing::Values(ModelParam{1, 8, false}, ModelParam{2, 1, false}, ModelParam{3, 2, false},
					   ModelParam{4, 4, false}, ModelParam{5, 16, false}, ModelParam{6, 8, false},
					   ModelParam{7, 3, false}, ModelParam{8, 8, true}, ModelParam{9, 16, true},
					   ModelParam{10, 1, true}),
			 model_name);

// Four workers with their own handles on one pool, while other threads run
// the shrinker (compaction moves objects under the workers' feet), migrate
// zspage pages (as the kernel's migration core) and read statistics. The
// fake spinlock is a real lock.
class ModelThreads : public ChainPoolTest {};

TEST_P(ModelThreads, FourWorkersOnePoolWithShrinkerAndMigration)
{
	constexpr int kWorkers = 4;
	// And the pool's own compaction work item, kicked by the workers' frees.
	zspp_pool_set_compact_slack(pool_, chain() % 2 ? 0 : 100);
	std::vector<std::unique_ptr<Worker>> workers;
	for (int i = 0; i < kWorkers; i++) {
		workers.push_back(std::make_unique<Worker>(pool_, 1000 + i * 17 + chain(), false));
		workers.back()->single_pool_compaction_ = false; // compaction comes from the shrinker thread
	}
	std::atomic<bool> stop{false};
	std::atomic<unsigned long> shrinks{0}, freed{0}, stat_reads{0};
	std::thread shrinker([&] {
		while (!stop.load()) {
			freed += fake::shrink_all();
			shrinks++;
			std::this_thread::yield();
		}
	});
	std::atomic<unsigned long> migrated{0};
	std::thread migrator([&] { // the kernel moving zspage pages meanwhile
		std::mt19937_64 rng(chain());
		while (!stop.load()) {
			if (fake::migrate_random_page(rng()) == fake::MigrateResult::kMoved)
				migrated++;
		}
	});
	std::thread stats([&] {
		while (!stop.load()) {
			PoolStats s = pool_stats(pool_);
			(void)s;
			for (unsigned i = 0; i < zspp_nr_classes(pool_); i += 7)
				class_stats(pool_, i);
			zspp_compactable_pages(pool_);
			stat_reads++;
		}
	});
	std::vector<std::thread> threads;
	for (auto &w : workers)
		threads.emplace_back([&w] { w->run(6000, false); });
	for (auto &t : threads)
		t.join();
	stop = true;
	shrinker.join();
	migrator.join();
	stats.join();
	fake::flush_work();
	for (auto &w : workers)
		EXPECT_EQ(w->failures_, 0);
	validate();
	size_t objects = 0;
	for (auto &w : workers)
		ASSERT_NO_FATAL_FAILURE(w->verify_all());
	zspp_compact(pool_);
	validate();
	for (auto &w : workers) {
		ASSERT_NO_FATAL_FAILURE(w->verify_all());
		w->free_all();
	}
	(void)objects;
	// The frees kick the pool's compaction work: validate() counts a
	// zspage it is releasing in the pool's pages but in no class
	// ("pool totals off (pages 0/7 ...)", about 1 run in 60 under TSan).
	fake::flush_work();
	validate();
	EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	EXPECT_GT(shrinks.load(), 0u);
	EXPECT_GT(pool_stats(pool_).objs_moved, 0u) << "the shrinker never moved an object";
	EXPECT_EQ(fake::bad_handle_warnings(), 0u);
	RecordProperty("shrinker_runs", int(shrinks.load()));
	RecordProperty("pages_compacted", int(freed.load()));
	RecordProperty("pages_migrated", int(migrated.load()));
	EXPECT_GT(migrated.load(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Chains, ModelThreads, ::testing::Values(1u, 4u, 8u, 16u), chain_name);

} // namespace
