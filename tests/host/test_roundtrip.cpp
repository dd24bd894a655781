// SPDX-License-Identifier: GPL-2.0
// Round trips (the read/write and map APIs): every size 1..4096 written with
// every write API and read back, byte for byte, with every read API, while all
// of them stay allocated (so objects share zspages and straddle page
// boundaries).
#include "test_util.h"

#include <algorithm>
#include <random>
#include <tuple>

using namespace zt;

namespace {

struct Live {
	unsigned long h;
	size_t size;
	uint32_t seed;
};

constexpr ReadApi kReaders[] = {ReadApi::kReadBegin, ReadApi::kMapRO, ReadApi::kMapRW};
constexpr WriteApi kWriters[] = {WriteApi::kObjWrite, WriteApi::kMapWO, WriteApi::kMapRW};

void expect_content(zspp_pool *pool, const Live &o, ReadApi api)
{
	std::vector<uint8_t> want = pattern(o.seed, o.size);
	std::vector<uint8_t> got = read_obj(pool, o.h, o.size, api);
	ASSERT_EQ(got.size(), o.size);
	long d = first_diff(got.data(), want.data(), o.size);
	ASSERT_EQ(d, -1) << "size " << o.size << " via " << name(api) << ": first bad byte " << d;
}

class RoundTrip : public PoolTest, public ::testing::WithParamInterface<std::tuple<unsigned, WriteApi>> {
protected:
	unsigned chain() const override { return std::get<0>(GetParam()); }
};

TEST_P(RoundTrip, EverySizeEveryApi)
{
	const WriteApi first = std::get<1>(GetParam());
	std::vector<Live> live;
	size_t stored = 0;
	for (size_t size = 1; size <= ZSPP_MAX_ALLOC_SIZE; size++) {
		Live o{must_malloc(size), size, uint32_t(size * 2)};
		ASSERT_EQ(zspp_obj_size(pool_, o.h), size);
		write_obj(pool_, o.h, pattern(o.seed, size), first);
		for (ReadApi r : kReaders)
			ASSERT_NO_FATAL_FAILURE(expect_content(pool_, o, r));
		// Rewrite with another API and read again.
		WriteApi second = kWriters[(size + int(first) + 1) % 3];
		o.seed++;
		write_obj(pool_, o.h, pattern(o.seed, size), second);
		for (ReadApi r : kReaders)
			ASSERT_NO_FATAL_FAILURE(expect_content(pool_, o, r));
		live.push_back(o);
		stored += size;
		if (size % 128 == 0 || size == ZSPP_MAX_ALLOC_SIZE) {
			validate();
			PoolStats s = pool_stats(pool_);
			ASSERT_EQ(s.objects, live.size());
			ASSERT_EQ(s.bytes_stored, stored);
		}
	}
	ASSERT_EQ(fake::live().areas, baseline_.areas) << "every map was unmapped";
	// Nothing was overwritten by a neighbour.
	for (const Live &o : live)
		ASSERT_NO_FATAL_FAILURE(expect_content(pool_, o, kReaders[o.size % 3]));
	// Free in a random order, checking the survivors now and then.
	std::mt19937 rng(unsigned(chain()) * 7 + unsigned(first));
	std::shuffle(live.begin(), live.end(), rng);
	while (!live.empty()) {
		zspp_free(pool_, live.back().h);
		live.pop_back();
		if (live.size() % 512 == 0) {
			validate();
			for (size_t i = 0; i < live.size(); i += 7)
				ASSERT_NO_FATAL_FAILURE(expect_content(pool_, live[i], kReaders[i % 3]));
		}
	}
	validate();
	EXPECT_EQ(zspp_get_total_pages(pool_), 0u);
	EXPECT_EQ(pool_stats(pool_).objects, 0u);
	EXPECT_EQ(fake::live().pages, baseline_.pages);
	EXPECT_EQ(fake::bad_handle_warnings(), 0u);
}

std::string roundtrip_name(const ::testing::TestParamInfo<std::tuple<unsigned, WriteApi>> &info)
{
	const char *w[] = {"ObjWrite", "MapWO", "MapRW"};
	return "chain" + std::to_string(std::get<0>(info.param)) + "_" + w[int(std::get<1>(info.param))];
}

INSTANTIATE_TEST_SUITE_P(All, RoundTrip,
			 ::testing::Combine(::testing::Values(1u, 4u, 8u, 16u), ::testing::ValuesIn(kWriters)),
			 roundtrip_name);

// Each serving class's boundary: the largest size it takes, and one byte on
// either side, many of each interleaved, in the class the table says.
class Boundaries : public ChainPoolTest {};

TEST_P(Boundaries, ClassBoundariesPlusMinusOne)
{
	std::vector<Live> live;
	uint32_t seed = 1;
	for (unsigned i = 0; i < zspp_nr_classes(pool_); i++) {
		int ret;
		ClassStats cs = class_stats(pool_, i, &ret);
		if (ret != 0)
			continue;
		for (int rep = 0; rep < 5; rep++) {
			for (long d = -1; d <= 1; d++) {
				long size = long(cs.size) + d;
				if (size < 1 || size > long(ZSPP_MAX_ALLOC_SIZE))
					continue;
				Live o{must_malloc(size_t(size)), size_t(size), seed++};
				unsigned want = serving_index_of(chain(), size_t(size));
				ASSERT_EQ(class_of(o.h), want) << "size " << size;
				ASSERT_EQ(want, d <= 0 ? i : serving_index_of(chain(), cs.size + 1));
				write_obj(pool_, o.h, pattern(o.seed, o.size), kWriters[seed % 3]);
				live.push_back(o);
			}
		}
	}
	validate();
	for (const Live &o : live)
		ASSERT_NO_FATAL_FAILURE(expect_content(pool_, o, kReaders[o.seed % 3]));
	for (const Live &o : live)
		zspp_free(pool_, o.h);
}

INSTANTIATE_TEST_SUITE_P(Chains, Boundaries, ::testing::Values(1u, 2u, 4u, 8u, 16u), chain_name);

} // namespace
