// SPDX-License-Identifier: GPL-2.0
// Shared helpers for the host gtest suites: a pool fixture that checks for
// leaks and shim-contract violations after every test, pattern helpers and
// read/write helpers over every access API.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <zspp/zspp.h>

#include "core_probe.h"
#include "fake_shim.h"

namespace zt {

constexpr zspp_gfp_t kGfp = FAKE_GFP_KERNEL;
constexpr unsigned kDefaultChain = 8;

// Deterministic per-(seed, index) byte pattern; distinct seeds give distinct
// contents for every size >= 1.
inline uint8_t pattern_byte(uint32_t seed, size_t i)
{
	uint32_t x = seed * 0x9e3779b1u + uint32_t(i) * 0x85ebca6bu;
	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 13;
	return uint8_t(x);
}

inline std::vector<uint8_t> pattern(uint32_t seed, size_t n)
{
	std::vector<uint8_t> v(n);
	for (size_t i = 0; i < n; i++)
		v[i] = pattern_byte(seed, i);
	return v;
}

// Index of the first differing byte, or -1.
inline long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return long(i);
	return -1;
}

// ---- access helpers (gtest non-fatal failures on misuse signals) ------------
enum class WriteApi { kObjWrite, kMapWO, kMapRW };
enum class ReadApi { kReadBegin, kMapRO, kMapRW };

inline const char *name(WriteApi a)
{
	return a == WriteApi::kObjWrite ? "obj_write" : a == WriteApi::kMapWO ? "map WO" : "map RW";
}
inline const char *name(ReadApi a)
{
	return a == ReadApi::kReadBegin ? "read_begin" : a == ReadApi::kMapRO ? "map RO" : "map RW";
}

inline void write_obj(zspp_pool *pool, unsigned long h, const std::vector<uint8_t> &data, WriteApi api)
{
	switch (api) {
	case WriteApi::kObjWrite:
		zspp_obj_write(pool, h, data.data(), data.size());
		break;
	case WriteApi::kMapWO:
	case WriteApi::kMapRW: {
		void *p = zspp_map_object(pool, h, api == WriteApi::kMapWO ? ZSPP_MM_WO : ZSPP_MM_RW);
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(fake::locks_held(), 0) << "map returned with a spinlock held";
		memcpy(p, data.data(), data.size());
		zspp_unmap_object(pool, h);
		break;
	}
	}
}

inline std::vector<uint8_t> read_obj(zspp_pool *pool, unsigned long h, size_t size, ReadApi api)
{
	std::vector<uint8_t> out(size);
	switch (api) {
	case ReadApi::kReadBegin: {
		std::vector<uint8_t> local(size);
		void *p = zspp_obj_read_begin(pool, h, local.data());
		EXPECT_NE(p, nullptr);
		if (!p)
			return {};
		EXPECT_EQ(fake::locks_held(), 0) << "read_begin returned with a spinlock held";
		memcpy(out.data(), p, size);
		zspp_obj_read_end(pool, h, p);
		break;
	}
	case ReadApi::kMapRO:
	case ReadApi::kMapRW: {
		void *p = zspp_map_object(pool, h, api == ReadApi::kMapRO ? ZSPP_MM_RO : ZSPP_MM_RW);
		EXPECT_NE(p, nullptr);
		if (!p)
			return {};
		EXPECT_EQ(fake::locks_held(), 0) << "map returned with a spinlock held";
		memcpy(out.data(), p, size);
		zspp_unmap_object(pool, h);
		break;
	}
	}
	return out;
}

// ---- white-box decoding ---------------------------------------------------------------
// The location word a live handle points to.
inline uint64_t word_of(unsigned long h) { return *reinterpret_cast<const uint64_t *>(h); }
inline unsigned slot_of(unsigned long h) { return probe::loc_idx(word_of(h)); }
// The zspage descriptor holding @h's object (via the page owner, as the core does).
inline const void *zspage_of(unsigned long h) { return zspp_pfn_owner(probe::loc_pfn(word_of(h))); }
// The (serving) class index of the zspage holding @h's object.
inline unsigned class_of(unsigned long h) { return probe::zspage_info(zspage_of(h)).class_index; }

// Does an object of @objsize in slot @idx of a class with @slot_size straddle a page?
inline bool slot_spans(uint32_t idx, uint32_t slot_size, size_t objsize)
{
	return (uint64_t(idx) * slot_size) % ZSPP_PAGE_SIZE + objsize > ZSPP_PAGE_SIZE;
}

// The C API names a struct and a function alike: these are the structs.
using PoolStats = struct zspp_pool_stats;
using ClassStats = struct zspp_class_stats;

inline PoolStats pool_stats(zspp_pool *pool)
{
	PoolStats s;
	memset(&s, 0xff, sizeof(s));
	zspp_pool_stats(pool, &s);
	return s;
}

inline ClassStats class_stats(zspp_pool *pool, unsigned idx, int *ret = nullptr)
{
	ClassStats s;
	memset(&s, 0xff, sizeof(s));
	int r = zspp_class_stats(pool, idx, &s);
	if (ret)
		*ret = r;
	return s;
}

// The sum of @field over the classes that are not merged.
template <typename Field>
inline unsigned long sum_over_classes(zspp_pool *pool, Field field)
{
	unsigned long n = 0;
	for (unsigned i = 0; i < zspp_nr_classes(pool); i++) {
		int ret;
		ClassStats cs = class_stats(pool, i, &ret);
		if (ret == 0)
			n += field(cs);
	}
	return n;
}

// The pages @used objects of class @cs take packed from the front (full
// zspages, then one holding only the pages the rest reach): what compaction
// leaves. Written here apart from the core's packed_pages().
inline unsigned long packed_pages(const ClassStats &cs, unsigned long used)
{
	unsigned long rest = used % cs.objs_per_zspage;
	return used / cs.objs_per_zspage * cs.pages_per_zspage + (rest ? (rest * cs.size - 1) / ZSPP_PAGE_SIZE + 1 : 0);
}

// The index serving @size (after merging), as the pool reports it.
inline unsigned serving_index_of(unsigned chain, size_t size)
{
	return probe::serving_index(probe::class_index_for(size), chain);
}

// ---- fixture ----------------------------------------------------------------------------------
// Each test gets a fresh pool. TearDown checks: validate() == 0, no shim
// contract violation, no log error unless expected, and that destroying the
// pool brings the fake's live counters back to where they were.
class PoolTest : public ::testing::Test {
protected:
	virtual unsigned chain() const { return kDefaultChain; }

	void SetUp() override
	{
		fake::fail_off();
		fake::reset_events();
		baseline_ = fake::live();
		ASSERT_EQ(zspp_create_pool("test", chain(), &pool_), 0);
		ASSERT_NE(pool_, nullptr);
	}

	void TearDown() override
	{
		fake::fail_off();
		if (pool_) {
			EXPECT_EQ(zspp_debug_validate(pool_), 0);
			for (unsigned long h : owned_)
				zspp_free(pool_, h);
			owned_.clear();
			EXPECT_EQ(zspp_debug_validate(pool_), 0);
			EXPECT_EQ(zspp_get_total_pages(pool_), 0u) << "pages left after freeing every object";
			zspp_destroy_pool(pool_);
			pool_ = nullptr;
		}
		EXPECT_EQ(fake::violations(), 0u) << "last: " << fake::last_violation();
		EXPECT_EQ(fake::log_errors(), expected_log_errors_) << "last: " << fake::last_log_error();
		EXPECT_EQ(fake::live(), baseline_)
			<< "leak: now " << fake::to_string(fake::live()) << " baseline " << fake::to_string(baseline_);
		EXPECT_EQ(fake::locks_held(), 0);
	}

	unsigned long must_malloc(size_t size, zspp_gfp_t gfp = kGfp)
	{
		unsigned long h = 0;
		int r = zspp_malloc(pool_, size, gfp, &h);
		EXPECT_EQ(r, 0) << "malloc(" << size << ")";
		EXPECT_NE(h, 0u);
		EXPECT_EQ(h % 8, 0u) << "handles are 8-aligned";
		return h;
	}

	void validate() { ASSERT_EQ(zspp_debug_validate(pool_), 0); }

	zspp_pool *pool_ = nullptr;
	fake::Counters baseline_;
	std::vector<unsigned long> owned_; // freed by TearDown
	unsigned long expected_log_errors_ = 0;
};

// A PoolTest parameterised by chain size.
class ChainPoolTest : public PoolTest, public ::testing::WithParamInterface<unsigned> {
protected:
	unsigned chain() const override { return GetParam(); }
};

// A ChainPoolTest whose objects are tracked with the seed of their content,
// for suites that move objects around (compaction, migration, writeback) and
// then check every byte. Objects still tracked are freed by TearDown.
struct Obj {
	size_t size;
	uint32_t seed;
};

class TrackedPoolTest : public ChainPoolTest {
protected:
	void TearDown() override
	{
		for (auto &[h, o] : objs_)
			owned_.push_back(h);
		objs_.clear();
		ChainPoolTest::TearDown();
	}

	unsigned long add(size_t size)
	{
		unsigned long h = must_malloc(size);
		uint32_t seed = next_seed_++;
		zspp_obj_write(pool_, h, pattern(seed, size).data(), size);
		objs_[h] = Obj{size, seed};
		return h;
	}

	void remove(unsigned long h)
	{
		zspp_free(pool_, h);
		objs_.erase(h);
	}

	// Fill several classes with @n objects, then free each with
	// probability 1 - @keep: sparse zspages for compaction to work on.
	void fragment(double keep, uint64_t seed, int n = 1500)
	{
		std::mt19937_64 rng(seed);
		for (int i = 0; i < n; i++)
			add(rng() % 2 ? 200 + rng() % 300 : 1 + rng() % 4096);
		std::vector<unsigned long> hs;
		for (auto &[h, o] : objs_)
			hs.push_back(h);
		for (unsigned long h : hs)
			if (double(rng() % 1000) / 1000 >= keep)
				remove(h);
	}

	void verify_objects()
	{
		for (auto &[h, o] : objs_) {
			ASSERT_EQ(zspp_obj_size(pool_, h), o.size);
			std::vector<uint8_t> got = read_obj(pool_, h, o.size, ReadApi(o.seed % 3));
			ASSERT_EQ(first_diff(got.data(), pattern(o.seed, o.size).data(), o.size), -1)
				<< "object of " << o.size << " bytes changed";
		}
	}

	std::map<unsigned long, Obj> objs_;
	uint32_t next_seed_ = 1;
};

inline std::string chain_name(const ::testing::TestParamInfo<unsigned> &info)
{
	return "chain" + std::to_string(info.param);
}

} // namespace zt
