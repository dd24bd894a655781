// SPDX-License-Identifier: GPL-2.0
// src/kernel/area.c, the real file, on the mock kernel: bounce areas got,
// found and put by tasks on two simulated CPUs, against CPU hot-unplug and
// re-online, with the other side run at every sched point of each path
// (mock/kmock.h). The protocol these check is at the top of area.c.
#include <cstring>

#include "harness.h"

namespace {

struct task_struct T = { "T" }, U = { "U" }, V = { "V" };

constexpr size_t kObj = 3000;

void fill(unsigned char *p, unsigned int seed)
{
	for (size_t i = 0; i < kObj; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

bool holds(const unsigned char *p, unsigned int seed)
{
	for (size_t i = 0; i < kObj; i++)
		if (p[i] != (unsigned char)(seed * 131 + i * 7 + (i >> 8)))
			return false;
	return true;
}

// A spanning object as Pool::map/unmap (src/core/pool.cpp) use areas: map
// pins and copies out (not for WO); unmap finds this task's area, copies
// back (not for RO), puts it and unpins. An unmap that finds no area is the
// core's bad handle: it returns with the zspage still pinned.
struct Obj {
	explicit Obj(unsigned long h, unsigned int seed) : handle(h) { fill(bytes, seed); }
	unsigned long handle;
	unsigned char bytes[kObj];
	int pins = 0;
	unsigned int bad_unmaps = 0;
};

unsigned char *map(Obj &o, int mode)
{
	auto *buf = static_cast<unsigned char *>(zspp_area_get(o.handle, mode));

	o.pins++;
	if (mode != ZSPP_MM_WO)
		memcpy(buf, o.bytes, kObj);
	return buf;
}

// As Pool::unmap_area(): end() gives a read-only area back itself.
void unmap(Obj &o)
{
	int mode = ZSPP_MM_RO;
	void *buf = zspp_area_end(o.handle, &mode);

	if (!buf) {
		o.bad_unmaps++;
		return;
	}
	if (mode != ZSPP_MM_RO) {
		memcpy(o.bytes, buf, kObj);
		zspp_area_put(buf);
	}
	o.pins--;
}

class Areas : public KernelTest {
protected:
	void SetUp() override
	{
		KernelTest::SetUp();
		ASSERT_EQ(zspp_areas_init(), 0);
		allocs_ = zspp_areas_allocated();
	}
	void TearDown() override
	{
		if (!exited_)
			zspp_areas_exit();
		KernelTest::TearDown();
	}
	// Areas allocated since SetUp (after the per-CPU ones of init).
	long allocs() const { return zspp_areas_allocated() - allocs_; }

	bool exited_ = false;

private:
	long allocs_ = 0;
};

class HotUnplug : public Areas {
protected:
	void expect_unmapped_and_freed(const struct Obj &o, unsigned int seed, const std::string &where);
	void unmap_at_every_point_of_cpu_dead(unsigned long base, unsigned int seed,
					      const std::function<void(Obj &)> &map_on_cpu1, unsigned int expect);
};

// T maps @o for writing on CPU 1, writes @seed through the map and moves to
// CPU 0: the state in which bug 3 (issue 28) lost the unmap.
unsigned char *map_on_cpu1_and_move(Obj &o, unsigned int seed)
{
	unsigned char *buf = nullptr;

	run_as(1, &T, [&] {
		buf = map(o, ZSPP_MM_RW);
		fill(buf, seed);
	});
	return buf;
}

} // namespace

// What every interleaving must leave: the unmap found its area, copied the
// write back and unpinned; once a grace period has passed, only CPU 0's area
// is left (CPU 1's went exactly once: a second free is an ASan report).
void HotUnplug::expect_unmapped_and_freed(const Obj &o, unsigned int seed, const std::string &where)
{
	EXPECT_EQ(o.bad_unmaps, 0u) << "the unmap found no area (sched point: " << where << ")";
	EXPECT_EQ(o.pins, 0) << where;
	EXPECT_TRUE(holds(o.bytes, seed)) << "the write map's bytes were not copied back (" << where << ")";
	kmock_rcu_grace_period();
	EXPECT_EQ(pages(), 1) << "CPU 1's area leaked (" << where << ")";
	EXPECT_EQ(kmock_warnings(), 0ul) << where;
}

// The moved task's unmap of an Obj (handles @base + n, seeded @seed) that
// @map_on_cpu1 mapped on CPU 1, run at each sched point n of
// zspp_cpu_dead(1) in turn (each spin_lock before it locks, each atomic
// read-modify-write), then after it; every run must leave what
// expect_unmapped_and_freed() says, the Obj holding @expect.
void HotUnplug::unmap_at_every_point_of_cpu_dead(unsigned long base, unsigned int seed,
						  const std::function<void(Obj &)> &map_on_cpu1, unsigned int expect)
{
	unsigned int windows = 0;

	for (unsigned int n = 1;; n++) {
		Obj o(base + n, seed);
		std::function<void()> unmap_t = [&] { run_as(0, &T, [&] { unmap(o); }); };
		std::string where = "after cpu_dead";

		SCOPED_TRACE("sched point " + std::to_string(n));
		map_on_cpu1(o);
		at_point(nullptr, n, &unmap_t);
		ASSERT_EQ(kmock_cpu_down(1), 0);
		bool fired = kmock_point_fired();
		if (fired) {
			where = kmock_point_fired_at();
			windows++;
		} else {
			kmock_at_point(nullptr, 0, nullptr, nullptr);
			unmap_t();
		}
		fprintf(stderr, "unmap at sched point %u of cpu_dead: %s\n", n, where.c_str());
		expect_unmapped_and_freed(o, expect, where);
		ASSERT_EQ(kmock_cpu_up(1), 0);
		ASSERT_EQ(pages(), 2);
		if (!fired)
			break;
	}
	// At least the listing's lock and the handshake.
	EXPECT_GE(windows, 2u);
}

// Bug 3: a task that mapped for writing on CPU 1 and moved to CPU 0. With
// the per-CPU pointer cleared before the area was listed, the unmap at the
// spin_lock of the listing found nothing.
TEST_F(HotUnplug, UnmapAtEveryPointOfCpuDead)
{
	ASSERT_NO_FATAL_FAILURE(
		unmap_at_every_point_of_cpu_dead(0x1000, 1, [](Obj &o) { map_on_cpu1_and_move(o, 2); }, 2));
}

// The same with a read-only map, whose unmap is zspp_area_end() alone: the
// moved task's end finds the area and gives it back exactly once (a second
// free is an ASan report).
TEST_F(HotUnplug, ReadOnlyEndAtEveryPointOfCpuDead)
{
	ASSERT_NO_FATAL_FAILURE(unmap_at_every_point_of_cpu_dead(
		0x3000, 5, [](Obj &o) { run_as(1, &T, [&] { EXPECT_TRUE(holds(map(o, ZSPP_MM_RO), 5)); }); }, 5));
}

// end() of a read-only map gives the area back; of a write map it keeps it
// for the caller's copy back and put().
TEST_F(Areas, EndReleasesReadOnlyOnly)
{
	Obj ro(0x4001, 6), rw(0x4002, 7);
	int mode = -1;

	run_as(0, &T, [&] {
		void *buf = zspp_area_get(ro.handle, ZSPP_MM_RO);
		EXPECT_EQ(zspp_area_end(ro.handle, &mode), buf);
		EXPECT_EQ(mode, ZSPP_MM_RO);
		EXPECT_EQ(zspp_area_find(ro.handle, &mode), nullptr) << "a read-only end puts the area";
		EXPECT_EQ(zspp_area_get(rw.handle, ZSPP_MM_RW), buf) << "the CPU's area is idle again";
		mode = -1;
		EXPECT_EQ(zspp_area_end(rw.handle, &mode), buf);
		EXPECT_EQ(mode, ZSPP_MM_RW);
		EXPECT_EQ(zspp_area_find(rw.handle, &mode), buf) << "a write map's end keeps the area";
		zspp_area_put(buf);
		EXPECT_EQ(zspp_area_end(rw.handle, &mode), nullptr);
	});
	EXPECT_EQ(allocs(), 0) << "the per-CPU area served both";
	EXPECT_EQ(kmock_warnings(), 0ul);
}

// The other way round: CPU 1 goes down (its whole cpu_dead) at each sched
// point of the moved task's unmap.
TEST_F(HotUnplug, CpuDeadAtEveryPointOfUnmap)
{
	unsigned int windows = 0;

	for (unsigned int n = 1;; n++) {
		Obj o(0x2000 + n, 3);
		std::function<void()> down = [&] { EXPECT_EQ(kmock_cpu_down(1), 0); };
		std::string where = "after the unmap";

		SCOPED_TRACE("sched point " + std::to_string(n));
		map_on_cpu1_and_move(o, 4);
		at_point(nullptr, n, &down);
		run_as(0, &T, [&] { unmap(o); });
		bool fired = kmock_point_fired();
		if (fired) {
			where = kmock_point_fired_at();
			windows++;
		} else {
			kmock_at_point(nullptr, 0, nullptr, nullptr);
			ASSERT_EQ(kmock_cpu_down(1), 0);
		}
		fprintf(stderr, "cpu_dead at sched point %u of the unmap: %s\n", n, where.c_str());
		expect_unmapped_and_freed(o, 4, where);
		ASSERT_EQ(kmock_cpu_up(1), 0);
		if (!fired)
			break;
	}
	EXPECT_GE(windows, 1u);
}

// put() inside cpu_dead, between the unhooking and the handshake: put sees
// no ORPHAN and leaves the area; cpu_dead sees BUSY clear and frees it.
TEST_F(HotUnplug, PutBeforeTheOrphanHandshake)
{
	Obj o(7, 5);
	std::function<void()> unmap_t = [&] { run_as(0, &T, [&] { unmap(o); }); };

	map_on_cpu1_and_move(o, 6);
	at_point("atomic_fetch_or", 1, &unmap_t);
	ASSERT_EQ(kmock_cpu_down(1), 0);
	ASSERT_TRUE(kmock_point_fired());
	EXPECT_EQ(kmock_rcu_pending(), 1u) << "cpu_dead frees the area (after a grace period)";
	expect_unmapped_and_freed(o, 6, "before the handshake");
	ASSERT_EQ(kmock_cpu_up(1), 0);
}

// put() after cpu_dead: the orphan waits on area_busy, held; the holder's
// find() gets it from there, and its put() sees ORPHAN and frees it.
TEST_F(HotUnplug, PutAfterTheOrphanHandshake)
{
	Obj o(7, 7);

	map_on_cpu1_and_move(o, 8);
	ASSERT_EQ(kmock_cpu_down(1), 0);
	EXPECT_EQ(kmock_rcu_pending(), 0u) << "a held area must outlive cpu_dead";
	EXPECT_EQ(pages(), 2);
	run_as(0, &T, [&] { unmap(o); });
	EXPECT_EQ(kmock_rcu_pending(), 1u) << "put frees the orphan";
	expect_unmapped_and_freed(o, 8, "after the handshake");
	ASSERT_EQ(kmock_cpu_up(1), 0);
}

// An idle per-CPU area goes with its CPU, after a grace period: find() on
// another CPU may have loaded the pointer.
TEST_F(HotUnplug, IdleAreaGoesWithItsCpu)
{
	ASSERT_EQ(kmock_cpu_down(1), 0);
	EXPECT_EQ(pages(), 2);
	EXPECT_EQ(kmock_rcu_pending(), 1u);
	kmock_rcu_grace_period();
	EXPECT_EQ(pages(), 1);
	ASSERT_EQ(kmock_cpu_up(1), 0);
	EXPECT_EQ(pages(), 2);
}

// Re-online: prepare() gives CPU 1 a new area (the pointer was cleared),
// which a get() there claims, while the old one, still held by a task that
// moved away, stays that task's until it unmaps.
TEST_F(HotUnplug, PrepareAfterDead)
{
	Obj o(9, 9), p(9, 10);	/* one handle, two tasks' maps (find tells them apart by owner) */
	unsigned char *old_buf = map_on_cpu1_and_move(o, 11), *new_buf = nullptr;

	ASSERT_EQ(kmock_cpu_down(1), 0);
	ASSERT_EQ(kmock_cpu_up(1), 0);
	EXPECT_EQ(allocs(), 1) << "prepare allocates CPU 1's new area";
	run_as(1, &U, [&] { new_buf = map(p, ZSPP_MM_RW); fill(new_buf, 12); });
	EXPECT_EQ(allocs(), 1) << "U's get claims CPU 1's new per-CPU area, not a spare";
	EXPECT_NE(new_buf, old_buf);
	EXPECT_EQ(pages(), 3);
	// T's find scans CPU 1's new area first and must not take it.
	run_as(1, &T, [&] {
		int mode = -1;
		EXPECT_EQ(zspp_area_find(9, &mode), old_buf);
		EXPECT_EQ(mode, ZSPP_MM_RW);
	});
	run_as(0, &T, [&] { unmap(o); });
	run_as(0, &U, [&] { unmap(p); });
	EXPECT_TRUE(holds(o.bytes, 11));
	EXPECT_TRUE(holds(p.bytes, 12));
	EXPECT_EQ(o.pins + p.pins, 0);
	kmock_rcu_grace_period();
	EXPECT_EQ(pages(), 2);
	// CPU 1's new area is idle again: the next get there takes it.
	run_as(1, &V, [&] {
		EXPECT_EQ(zspp_area_get(1, ZSPP_MM_RO), new_buf);
		zspp_area_put(new_buf);
	});
}

// A task that moved CPUs while mapped finds its area on the old CPU's
// pointer; other tasks, other tags and the new CPU's own area do not match.
TEST_F(Areas, FindFromATaskThatMovedCpus)
{
	unsigned char *t_buf = nullptr, *u_buf = nullptr;
	int mode = -1;

	run_as(1, &T, [&] { t_buf = static_cast<unsigned char *>(zspp_area_get(5, ZSPP_MM_WO)); });
	run_as(0, &U, [&] { u_buf = static_cast<unsigned char *>(zspp_area_get(5, ZSPP_MM_RO)); });
	EXPECT_EQ(allocs(), 0) << "each took its CPU's area";
	run_as(0, &T, [&] {
		EXPECT_EQ(zspp_area_find(5, &mode), t_buf);
		EXPECT_EQ(mode, ZSPP_MM_WO);
		EXPECT_EQ(zspp_area_find(6, &mode), nullptr);
	});
	run_as(1, &U, [&] {
		EXPECT_EQ(zspp_area_find(5, &mode), u_buf);
		EXPECT_EQ(mode, ZSPP_MM_RO);
	});
	run_as(1, &V, [&] { EXPECT_EQ(zspp_area_find(5, &mode), nullptr); });
	run_as(0, &T, [&] { zspp_area_put(t_buf); });
	run_as(1, &U, [&] { zspp_area_put(u_buf); });
	run_as(0, &T, [&] { EXPECT_EQ(zspp_area_find(5, &mode), nullptr) << "put areas are found no more"; });
}

// The local area busy: get() takes a spare (allocating one the first time),
// never waits; put() returns it to the spare list, the next get() reuses it.
TEST_F(Areas, GetWhenThePerCpuAreaIsBusy)
{
	void *t_buf = nullptr, *u_buf = nullptr, *v_buf = nullptr;
	int mode = -1;

	run_as(0, &T, [&] { t_buf = zspp_area_get(1, ZSPP_MM_RW); });
	EXPECT_EQ(allocs(), 0);
	run_as(0, &U, [&] { u_buf = zspp_area_get(2, ZSPP_MM_RW); });
	EXPECT_EQ(allocs(), 1) << "a new spare";
	EXPECT_NE(u_buf, t_buf);
	run_as(1, &U, [&] {
		EXPECT_EQ(zspp_area_find(2, &mode), u_buf) << "a spare is found from any CPU";
		zspp_area_put(u_buf);
	});
	EXPECT_EQ(pages(), 3) << "the spare is kept";
	EXPECT_EQ(kmock_rcu_pending(), 0u);
	run_as(0, &V, [&] {
		v_buf = zspp_area_get(3, ZSPP_MM_RO);
		EXPECT_EQ(v_buf, u_buf) << "the spare is reused";
		EXPECT_EQ(zspp_area_find(3, &mode), v_buf);
		EXPECT_EQ(mode, ZSPP_MM_RO);
	});
	EXPECT_EQ(allocs(), 1);
	run_as(0, &V, [&] { zspp_area_put(v_buf); });
	run_as(0, &T, [&] { zspp_area_put(t_buf); });
	run_as(0, &U, [&] { EXPECT_EQ(zspp_area_get(4, ZSPP_MM_RW), t_buf) << "the per-CPU area first"; });
	run_as(0, &U, [&] { zspp_area_put(t_buf); });
}

// At most one spare per possible CPU is kept; the rest are freed at put.
TEST_F(Areas, SparesAreCapped)
{
	void *bufs[6];

	run_as(0, &T, [&] {
		for (unsigned int i = 0; i < 6; i++)
			bufs[i] = zspp_area_get(100 + i, ZSPP_MM_RW);
	});
	EXPECT_EQ(allocs(), 5);
	run_as(1, &T, [&] {
		for (unsigned int i = 0; i < 6; i++)
			zspp_area_put(bufs[i]);
	});
	EXPECT_EQ(pages(), 2 + 2) << "the per-CPU areas and num_possible_cpus() spares";
	EXPECT_EQ(kmock_rcu_pending(), 0u) << "spares go at once: find() reads them only under area_lock";
}

// get() never fails: without memory for a non-sleeping allocation it
// sleeps for it, without I/O (zswap's store path maps).
TEST_F(Areas, GetFallsBackToASleepingNoioAllocation)
{
	void *t_buf = nullptr, *u_buf = nullptr;

	run_as(0, &T, [&] { t_buf = zspp_area_get(1, ZSPP_MM_RW); });
	kmock_fail_nowait = true;
	run_as(0, &U, [&] { u_buf = zspp_area_get(2, ZSPP_MM_RW); });
	kmock_fail_nowait = false;
	ASSERT_NE(u_buf, nullptr);
	EXPECT_TRUE(kmock_last_page_gfp & KMOCK_GFP_NOFAIL);
	EXPECT_TRUE(kmock_last_page_gfp & KMOCK_GFP_DIRECT_RECLAIM);
	EXPECT_FALSE(kmock_last_page_gfp & KMOCK_GFP_IO);
	run_as(0, &U, [&] { zspp_area_put(u_buf); });
	run_as(0, &T, [&] { zspp_area_put(t_buf); });
}

// put() by a task that does not hold the area warns and leaves it alone.
TEST_F(Areas, PutByAnotherTaskWarns)
{
	void *buf = nullptr;
	int mode;

	run_as(0, &T, [&] { buf = zspp_area_get(1, ZSPP_MM_RW); });
	run_as(0, &U, [&] { zspp_area_put(buf); });
	EXPECT_EQ(kmock_warnings(), 1ul);
	expected_warnings_ = 1;
	run_as(1, &T, [&] {
		EXPECT_EQ(zspp_area_find(1, &mode), buf);
		zspp_area_put(buf);
	});
}

// Module exit frees every area: per-CPU ones (through cpu_dead, after a
// grace period it waits for), spares, and an orphan put after its CPU died.
TEST_F(Areas, ExitFreesEverything)
{
	Obj o(3, 1);
	void *bufs[3];

	run_as(0, &T, [&] {
		for (unsigned int i = 0; i < 3; i++)
			bufs[i] = zspp_area_get(10 + i, ZSPP_MM_RW);
		for (unsigned int i = 0; i < 3; i++)
			zspp_area_put(bufs[i]);
	});
	map_on_cpu1_and_move(o, 2);
	ASSERT_EQ(kmock_cpu_down(1), 0);
	run_as(0, &T, [&] { unmap(o); });
	ASSERT_EQ(kmock_cpu_up(1), 0);
	EXPECT_GT(pages(), 2);
	zspp_areas_exit();
	exited_ = true;
	EXPECT_EQ(kmock_rcu_pending(), 0u) << "exit waits for the RCU frees (rcu_barrier)";
	EXPECT_EQ(pages(), 0);
}

// zspp_debug_set_cpu_dead_hook (KUnit's way in): the hook runs once the
// dead CPU's area is off its pointer and before the handshake, for that
// CPU only, outside area_lock; an unmap from there finds the area.
static Obj *hooked_obj;
static unsigned int hook_calls;

static void unmap_from_the_hook(unsigned int cpu)
{
	hook_calls++;
	EXPECT_EQ(cpu, 1u);
	EXPECT_EQ(kmock_preempt_count[kmock_cpu], 0) << "area_lock is held";
	run_as(0, &T, [] { unmap(*hooked_obj); });
}

TEST_F(HotUnplug, CpuDeadHookRunsInTheWindow)
{
	Obj o(11, 13);

	map_on_cpu1_and_move(o, 14);
	hooked_obj = &o;
	hook_calls = 0;
	zspp_debug_set_cpu_dead_hook(unmap_from_the_hook);
	ASSERT_EQ(kmock_cpu_down(1), 0);
	zspp_debug_set_cpu_dead_hook(nullptr);
	EXPECT_EQ(hook_calls, 1u);
	EXPECT_EQ(kmock_rcu_pending(), 1u) << "cpu_dead freed it (put came before the handshake)";
	expect_unmapped_and_freed(o, 14, "in the cpu_dead hook");
	EXPECT_EQ(zspp_debug_areas(), 1);
	ASSERT_EQ(kmock_cpu_up(1), 0);
	EXPECT_EQ(zspp_debug_areas(), 2);
}
