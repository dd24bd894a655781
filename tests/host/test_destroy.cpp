// SPDX-License-Identifier: GPL-2.0
// Destroy: destroying a pool. With live objects it frees every page,
// descriptor, handle, lock and the shrinker, and logs exactly one error;
// otherwise it logs nothing. Other pools are unaffected.
#include "test_util.h"

#include <map>
#include <random>

using namespace zt;

namespace {

class Destroy : public ::testing::TestWithParam<unsigned> {
protected:
	void SetUp() override
	{
		fake::fail_off();
		fake::reset_events();
		fake::set_quiet(true);
		base_ = fake::live();
	}
	void TearDown() override
	{
		fake::set_quiet(false);
		EXPECT_EQ(fake::live(), base_) << "leak: " << fake::to_string(fake::live());
		EXPECT_EQ(fake::owned_pages(), 0);
		EXPECT_EQ(fake::violations(), 0u) << fake::last_violation();
	}

	zspp_pool *make(const char *name)
	{
		zspp_pool *p = nullptr;
		EXPECT_EQ(zspp_create_pool(name, GetParam(), &p), 0);
		return p;
	}

	fake::Counters base_;
};

TEST_P(Destroy, WithLiveObjectsFreesEverythingAndLogsOnce)
{
	zspp_pool *pool = make("live");
	ASSERT_NE(pool, nullptr);
	std::mt19937 rng(GetParam());
	unsigned long n = 0;
	for (size_t size = 1; size <= ZSPP_MAX_ALLOC_SIZE; size += 1 + rng() % 23) {
		for (int k = 0; k < 3; k++) {
			unsigned long h;
			ASSERT_EQ(zspp_malloc(pool, size, kGfp, &h), 0);
			n++;
		}
	}
	// And some full zspages.
	ClassStats cs = class_stats(pool, serving_index_of(GetParam(), 64));
	for (unsigned i = 0; i < 2 * cs.objs_per_zspage; i++) {
		unsigned long h;
		ASSERT_EQ(zspp_malloc(pool, 64, kGfp, &h), 0);
		n++;
	}
	ASSERT_EQ(zspp_debug_validate(pool), 0);
	ASSERT_GT(fake::live().pages, base_.pages);
	zspp_destroy_pool(pool);
	EXPECT_EQ(fake::log_errors(), 1u) << "exactly one error line";
	EXPECT_NE(fake::last_log_error().find(std::to_string(n)), std::string::npos)
		<< "the error names the number of objects (" << n << "): " << fake::last_log_error();
	EXPECT_NE(fake::last_log_error().find("live"), std::string::npos) << "and the pool";
}

TEST_P(Destroy, EmptyOrEmptiedPoolLogsNothing)
{
	zspp_pool *pool = make("empty");
	ASSERT_NE(pool, nullptr);
	zspp_destroy_pool(pool);
	pool = make("emptied");
	std::vector<unsigned long> hs;
	for (size_t size = 1; size <= ZSPP_MAX_ALLOC_SIZE; size += 97) {
		unsigned long h;
		ASSERT_EQ(zspp_malloc(pool, size, kGfp, &h), 0);
		hs.push_back(h);
	}
	for (unsigned long h : hs)
		zspp_free(pool, h);
	zspp_destroy_pool(pool);
	zspp_destroy_pool(nullptr); // tolerated
	EXPECT_EQ(fake::log_errors(), 0u) << fake::last_log_error();
}

TEST_P(Destroy, OtherPoolsUnaffected)
{
	zspp_pool *a = make("a"), *b = make("b");
	ASSERT_NE(a, nullptr);
	ASSERT_NE(b, nullptr);
	std::map<unsigned long, size_t> bh;
	for (size_t size = 10; size <= ZSPP_MAX_ALLOC_SIZE; size += 131) {
		unsigned long h;
		ASSERT_EQ(zspp_malloc(a, size, kGfp, &h), 0);
		ASSERT_EQ(zspp_malloc(b, size, kGfp, &h), 0);
		zspp_obj_write(b, h, pattern(uint32_t(size), size).data(), size);
		bh[h] = size;
	}
	const unsigned long bpages = zspp_get_total_pages(b);
	zspp_destroy_pool(a);
	EXPECT_EQ(fake::log_errors(), 1u);
	EXPECT_EQ(zspp_debug_validate(b), 0);
	EXPECT_EQ(zspp_get_total_pages(b), bpages);
	EXPECT_EQ(fake::live().pages - base_.pages, long(bpages)) << "a's pages all went";
	for (auto &[h, size] : bh) {
		std::vector<uint8_t> got = read_obj(b, h, size, ReadApi::kReadBegin);
		ASSERT_EQ(first_diff(got.data(), pattern(uint32_t(size), size).data(), size), -1);
		zspp_free(b, h);
	}
	EXPECT_EQ(fake::has_shrinker(b), true);
	zspp_destroy_pool(b);
	EXPECT_EQ(fake::log_errors(), 1u);
}

// A pool whose shrinker could not be registered destroys cleanly too; so
// does one that was compacted and one that saw allocation failures.
TEST_P(Destroy, AfterShrinkerFailureCompactionAndEnomem)
{
	fake::fail_nth(1, fake::kShrinkerRegister);
	zspp_pool *pool = make("noshrink");
	fake::fail_off();
	ASSERT_NE(pool, nullptr);
	EXPECT_FALSE(fake::has_shrinker(pool));
	std::vector<unsigned long> hs;
	fake::fail_random(0.1, 3);
	for (int i = 0; i < 2000; i++) {
		unsigned long h;
		if (zspp_malloc(pool, 1 + (i * 61) % 4096, kGfp, &h) == 0)
			hs.push_back(h);
	}
	fake::fail_off();
	for (size_t i = 0; i < hs.size(); i += 2)
		zspp_free(pool, hs[i]);
	zspp_compact(pool);
	EXPECT_EQ(zspp_debug_validate(pool), 0);
	zspp_destroy_pool(pool);
	EXPECT_EQ(fake::log_errors(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Chains, Destroy, ::testing::Values(1u, 4u, 8u, 16u), chain_name);

} // namespace
