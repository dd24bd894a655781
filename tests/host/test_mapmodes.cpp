// SPDX-License-Identifier: GPL-2.0
// Map modes: the classic map API's modes, the pin it takes, and what the
// context rules in zspp.h promise (no lock held across map/unmap).
#include "test_util.h"

#include <atomic>
#include <thread>

using namespace zt;

namespace {

class MapModes : public PoolTest {
protected:
	// Allocate objects of @size until one lands in a slot that straddles a
	// page (or one that does not, if !want_span). The others stay allocated
	// (TearDown frees them).
	unsigned long alloc_where(size_t size, bool want_span)
	{
		unsigned slot = class_stats(pool_, serving_index_of(chain(), size)).size;
		for (int n = 0; n < 256; n++) {
			unsigned long h = must_malloc(size);
			owned_.push_back(h);
			write_obj(pool_, h, pattern(uint32_t(h), size), WriteApi::kObjWrite);
			if (slot_spans(slot_of(h), slot, size) == want_span)
				return h;
		}
		ADD_FAILURE() << "no " << (want_span ? "" : "non-") << "spanning slot for size " << size;
		return 0;
	}

	void expect_content(unsigned long h, size_t size, uint32_t seed, const char *what)
	{
		for (ReadApi r : {ReadApi::kReadBegin, ReadApi::kMapRO}) {
			std::vector<uint8_t> got = read_obj(pool_, h, size, r);
			ASSERT_EQ(first_diff(got.data(), pattern(seed, size).data(), size), -1)
				<< what << " (read via " << name(r) << ")";
		}
	}

	unsigned mapped_count(unsigned long h) { return probe::zspage_info(zspage_of(h)).mapped; }

	// Sizes (small to large) whose class has slots on both sides of a page
	// boundary and slots within one page, in this pool.
	std::vector<size_t> sizes()
	{
		std::vector<size_t> out;
		for (size_t size : {100, 700, 1100, 1500, 2100, 2600, 3000, 3300, 3700, 4000}) {
			ClassStats cs = class_stats(pool_, serving_index_of(chain(), size));
			bool span = false, single = false;
			for (unsigned i = 0; i < cs.objs_per_zspage; i++)
				(slot_spans(i, cs.size, size) ? span : single) = true;
			if (span && single)
				out.push_back(size);
		}
		EXPECT_GE(out.size(), 5u);
		return out;
	}
};

TEST_F(MapModes, RoDoesNotWriteBack)
{
	for (size_t size : sizes()) {
		unsigned long h = alloc_where(size, true);
		ASSERT_NE(h, 0u);
		write_obj(pool_, h, pattern(1, size), WriteApi::kObjWrite);
		auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RO));
		ASSERT_NE(p, nullptr);
		bool in_page = true;
		fake::owner_of_address(p, &in_page);
		EXPECT_FALSE(in_page) << "a spanning object is mapped through a bounce area";
		ASSERT_EQ(first_diff(p, pattern(1, size).data(), size), -1) << "RO copies in";
		memset(p, 0xee, size); // scribble over the bounce copy
		zspp_unmap_object(pool_, h);
		expect_content(h, size, 1, "RO map wrote back");
	}
}

TEST_F(MapModes, RoOfSinglePageObjectIsDirect)
{
	for (size_t size : sizes()) {
		unsigned long h = alloc_where(size, false);
		ASSERT_NE(h, 0u);
		write_obj(pool_, h, pattern(2, size), WriteApi::kObjWrite);
		auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RO));
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(fake::owner_of_address(p), zspage_of(h)) << "direct pointer into the zspage";
		ASSERT_EQ(first_diff(p, pattern(2, size).data(), size), -1);
		zspp_unmap_object(pool_, h);
	}
}

TEST_F(MapModes, RwRoundTripsModifications)
{
	for (bool span : {true, false}) {
		for (size_t size : sizes()) {
			unsigned long h = alloc_where(size, span);
			ASSERT_NE(h, 0u);
			write_obj(pool_, h, pattern(3, size), WriteApi::kObjWrite);
			auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RW));
			ASSERT_NE(p, nullptr);
			ASSERT_EQ(first_diff(p, pattern(3, size).data(), size), -1) << "RW copies in";
			// Modify every other byte only: the rest must survive too.
			std::vector<uint8_t> want = pattern(3, size);
			for (size_t i = 0; i < size; i += 2)
				p[i] = want[i] = uint8_t(~want[i]);
			zspp_unmap_object(pool_, h);
			std::vector<uint8_t> got = read_obj(pool_, h, size, ReadApi::kReadBegin);
			ASSERT_EQ(first_diff(got.data(), want.data(), size), -1)
				<< "size " << size << (span ? " spanning" : " single-page");
		}
	}
}

TEST_F(MapModes, WoDoesNotCopyIn)
{
	for (size_t size : sizes()) {
		unsigned long h = alloc_where(size, true);
		ASSERT_NE(h, 0u);
		write_obj(pool_, h, pattern(4, size), WriteApi::kObjWrite);
		auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_WO));
		ASSERT_NE(p, nullptr);
		// The fake fills a fresh area with kAreaJunk: WO must leave it so.
		for (size_t i = 0; i < size; i++)
			ASSERT_EQ(p[i], fake::kAreaJunk) << "WO copied the object in (byte " << i << ")";
		memcpy(p, pattern(5, size).data(), size);
		zspp_unmap_object(pool_, h);
		expect_content(h, size, 5, "WO write-back");
	}
	// Single-page objects: WO maps straight into the page; writes land.
	for (size_t size : sizes()) {
		unsigned long h = alloc_where(size, false);
		ASSERT_NE(h, 0u);
		auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_WO));
		ASSERT_NE(p, nullptr);
		memcpy(p, pattern(6, size).data(), size);
		zspp_unmap_object(pool_, h);
		expect_content(h, size, 6, "WO single-page");
	}
}

// zspp_map_object_local (zsmalloc's zs_map_object contract, for zram): under
// a caller's spinlock (so any sleep point of zspp is a violation the fixture
// fails on), every mode round-trips, a spanning object goes through the
// caller's buffer and no bounce area is ever got; the pin is held from map to
// unmap, as for the classic map.
TEST_F(MapModes, LocalMapsNeverSleepNorTakeAreas)
{
	fake::CallerSpinlock slot_lock;
	std::vector<uint8_t> local(ZSPP_MAX_ALLOC_SIZE);
	const unsigned long areas_before = fake::areas_got();
	for (bool span : {true, false}) {
		for (size_t size : sizes()) {
			unsigned long h = alloc_where(size, span);
			ASSERT_NE(h, 0u);
			const char *where = span ? " spanning" : " single-page";
			memset(local.data(), 0x5a, local.size());
			slot_lock.lock();
			auto *p = static_cast<uint8_t *>(zspp_map_object_local(pool_, h, ZSPP_MM_WO, local.data()));
			ASSERT_NE(p, nullptr);
			EXPECT_EQ(p == local.data(), span) << "size " << size << where;
			if (span) { // WO copies nothing in: the caller's bytes are untouched
				ASSERT_EQ(p[0], 0x5a);
			}
			EXPECT_EQ(mapped_count(h), 1u);
			EXPECT_EQ(fake::locks_held(), 0);
			memcpy(p, pattern(11, size).data(), size);
			zspp_unmap_object_local(pool_, h, ZSPP_MM_WO, local.data());
			EXPECT_EQ(mapped_count(h), 0u);

			memset(local.data(), 0, local.size());
			p = static_cast<uint8_t *>(zspp_map_object_local(pool_, h, ZSPP_MM_RO, local.data()));
			ASSERT_NE(p, nullptr);
			ASSERT_EQ(first_diff(p, pattern(11, size).data(), size), -1) << "size " << size << where;
			memset(p, 0xee, span ? size : 0); // RO: a scribble on the copy stays there
			zspp_unmap_object_local(pool_, h, ZSPP_MM_RO, local.data());

			p = static_cast<uint8_t *>(zspp_map_object_local(pool_, h, ZSPP_MM_RW, local.data()));
			ASSERT_NE(p, nullptr);
			ASSERT_EQ(first_diff(p, pattern(11, size).data(), size), -1) << "RW copies in, size " << size;
			std::vector<uint8_t> want = pattern(11, size);
			for (size_t i = 0; i < size; i += 2)
				p[i] = want[i] = uint8_t(~want[i]);
			zspp_unmap_object_local(pool_, h, ZSPP_MM_RW, local.data());
			slot_lock.unlock();
			std::vector<uint8_t> got = read_obj(pool_, h, size, ReadApi::kReadBegin);
			ASSERT_EQ(first_diff(got.data(), want.data(), size), -1) << "size " << size << where;
		}
	}
	EXPECT_EQ(fake::areas_got(), areas_before) << "a local map got a bounce area";
	EXPECT_EQ(fake::bad_handle_warnings(), 0u);
}

// Every map/read_begin/obj_write pins the zspage and every unmap/read_end
// (and the end of obj_write) drops exactly that pin.
TEST_F(MapModes, PinsAreBalanced)
{
	for (bool span : {true, false}) {
		unsigned long h = alloc_where(3000, span);
		ASSERT_NE(h, 0u);
		ASSERT_EQ(mapped_count(h), 0u);
		for (zspp_mapmode m : {ZSPP_MM_RO, ZSPP_MM_RW, ZSPP_MM_WO}) {
			ASSERT_NE(zspp_map_object(pool_, h, m), nullptr);
			EXPECT_EQ(mapped_count(h), 1u);
			EXPECT_EQ(fake::locks_held(), 0);
			zspp_unmap_object(pool_, h);
			EXPECT_EQ(mapped_count(h), 0u);
		}
		std::vector<uint8_t> local(3000);
		void *p = zspp_obj_read_begin(pool_, h, local.data());
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(mapped_count(h), 1u);
		EXPECT_EQ(p == local.data(), span);
		zspp_obj_read_end(pool_, h, p);
		EXPECT_EQ(mapped_count(h), 0u);
		zspp_obj_write(pool_, h, local.data(), 3000);
		EXPECT_EQ(mapped_count(h), 0u);
		// Two readers at once (read_begin nests: it is not a map).
		std::vector<uint8_t> l2(3000);
		void *a = zspp_obj_read_begin(pool_, h, local.data());
		void *b = zspp_obj_read_begin(pool_, h, l2.data());
		EXPECT_EQ(mapped_count(h), 2u);
		zspp_obj_read_end(pool_, h, a);
		zspp_obj_read_end(pool_, h, b);
		EXPECT_EQ(mapped_count(h), 0u);
	}
	EXPECT_EQ(fake::bad_handle_warnings(), 0u);
}

// zspp.h: nothing zspp holds across map/unmap disables preemption or holds a
// spinlock, so the mapping task may sleep and use the pool meanwhile
// (allocate and free in the same class: a held class lock would self-deadlock,
// which the fake spinlock reports).
TEST_F(MapModes, PoolUsableWhileMapped)
{
	for (bool span : {true, false}) {
		unsigned long h = alloc_where(3000, span);
		ASSERT_NE(h, 0u);
		void *p = zspp_map_object(pool_, h, ZSPP_MM_RW);
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(fake::locks_held(), 0);
		zspp_cond_resched(); // "sleeps": the fake flags it if a lock is held
		std::vector<unsigned long> more;
		for (int i = 0; i < 20; i++)
			more.push_back(must_malloc(3000));
		for (unsigned long m : more)
			zspp_free(pool_, m);
		EXPECT_GE(zspp_debug_validate(pool_), 0);
		zspp_unmap_object(pool_, h);
	}
}

// Two tasks map the same spanning object read-only at once: each gets its
// own area with the right bytes.
TEST_F(MapModes, ConcurrentReadOnlyMapsOfOneObject)
{
	const size_t size = 3500;
	unsigned long h = alloc_where(size, true);
	ASSERT_NE(h, 0u);
	write_obj(pool_, h, pattern(7, size), WriteApi::kObjWrite);
	std::atomic<int> bad{0};
	std::atomic<int> mapped{0};
	auto reader = [&] {
		for (int i = 0; i < 200; i++) {
			auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RO));
			if (!p || first_diff(p, pattern(7, size).data(), size) != -1)
				bad++;
			mapped++;
			while (mapped.load() < 2 * (i + 1))
				std::this_thread::yield(); // both hold a map at once
			zspp_unmap_object(pool_, h);
		}
	};
	std::thread t1(reader), t2(reader);
	t1.join();
	t2.join();
	EXPECT_EQ(bad.load(), 0);
	EXPECT_EQ(mapped_count(h), 0u);
}

// zspp.h: "must unmap on the task that mapped". An unmap from another task
// is detected (the area is not found for that task) and warned about; per
// reliability.rst a bad handle must then "change nothing". The mapping task's
// own map must be unaffected: its unmap still writes back and releases the area.
TEST_F(MapModes, UnmapFromWrongTaskChangesNothing)
{
	const size_t size = 3000;
	unsigned long h = alloc_where(size, true);
	ASSERT_NE(h, 0u);
	write_obj(pool_, h, pattern(8, size), WriteApi::kObjWrite);
	auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RW));
	ASSERT_NE(p, nullptr);
	memcpy(p, pattern(9, size).data(), size);
	ASSERT_EQ(mapped_count(h), 1u);

	std::thread([&] { zspp_unmap_object(pool_, h); }).join();
	EXPECT_EQ(fake::bad_handle_warnings(), 1u) << "the wrong-task unmap is reported";
	EXPECT_EQ(mapped_count(h), 1u) << "the wrong-task unmap dropped the mapping task's pin";

	zspp_unmap_object(pool_, h); // the real unmap
	EXPECT_EQ(fake::bad_handle_warnings(), 1u) << "the owner's unmap was rejected";
	EXPECT_EQ(mapped_count(h), 0u);
	EXPECT_EQ(fake::live().areas, baseline_.areas) << "the owner's bounce area leaked";
	std::vector<uint8_t> got = read_obj(pool_, h, size, ReadApi::kReadBegin);
	EXPECT_EQ(first_diff(got.data(), pattern(9, size).data(), size), -1) << "the RW write-back was lost";
	fake::drop_thread_areas(); // so a failure here does not leak into other tests
}

} // namespace
