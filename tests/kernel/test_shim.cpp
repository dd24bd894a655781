// SPDX-License-Identifier: GPL-2.0
// src/kernel/shim_*.c's glue, the real files, on the mock kernel: the gfp it
// hands the allocators, page owners by pfn, locks, warnings and logging.
#include <string>

#include "harness.h"

class Shim : public KernelTest {};

static zspp_gfp_t gfp(unsigned int flags)
{
	return (zspp_gfp_t)flags;
}

// Slab memory cannot be highmem or movable: those bits are stripped (the
// mock's kmalloc counts them as a violation).
TEST_F(Shim, SlabAllocationsDropHighmemAndMovable)
{
	void *p = zspp_kmalloc(100, gfp(zspp_gfp_noio | KMOCK_GFP_HIGHMEM | KMOCK_GFP_MOVABLE));

	ASSERT_NE(p, nullptr);
	EXPECT_EQ(kmock_last_kmalloc_gfp, (unsigned int)zspp_gfp_noio);
	zspp_kfree(p);
	zspp_kfree(nullptr);

	struct zspp_cache *c = zspp_cache_create("kmock", 48);
	ASSERT_NE(c, nullptr);
	p = zspp_cache_alloc(c, gfp(zspp_gfp_nowait | KMOCK_GFP_MOVABLE));
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(kmock_last_kmalloc_gfp, (unsigned int)zspp_gfp_nowait);
	zspp_cache_free(c, p);
	zspp_cache_destroy(c);
	EXPECT_EQ(zspp_kmalloc_size(100), 128u);
}

// The gfp sets the core uses: NOIO may sleep but not start I/O, NOWAIT may
// not sleep; neither warns on failure.
TEST_F(Shim, GfpSets)
{
	EXPECT_TRUE(zspp_gfp_kernel & KMOCK_GFP_DIRECT_RECLAIM);
	EXPECT_TRUE(zspp_gfp_kernel & KMOCK_GFP_IO);
	EXPECT_TRUE(zspp_gfp_noio & KMOCK_GFP_DIRECT_RECLAIM);
	EXPECT_FALSE(zspp_gfp_noio & (KMOCK_GFP_IO | KMOCK_GFP_FS));
	EXPECT_FALSE(zspp_gfp_nowait & KMOCK_GFP_DIRECT_RECLAIM);
	EXPECT_TRUE(zspp_gfp_noio & KMOCK_GFP_NOWARN);
	EXPECT_TRUE(zspp_gfp_nowait & KMOCK_GFP_NOWARN);
}

// A page's owner is found again from its pfn while it is set, and only
// then; virt_to_page maps any address inside the page back to it. The mock
// kernel has no CONFIG_MIGRATION: __GFP_MOVABLE is dropped (a movable page
// that cannot move would pin its pageblock).
TEST_F(Shim, PageOwnersByPfn)
{
	int owner;
	struct zspp_page *page = zspp_page_alloc(gfp(zspp_gfp_noio | KMOCK_GFP_MOVABLE));

	ASSERT_NE(page, nullptr);
	EXPECT_FALSE(kmock_last_page_gfp & KMOCK_GFP_MOVABLE);
	char *addr = static_cast<char *>(zspp_page_address(page));
	EXPECT_EQ(zspp_virt_to_page(addr + ZSPP_PAGE_SIZE - 1), page);
	unsigned long pfn = zspp_page_pfn(page);
	EXPECT_EQ(zspp_pfn_owner(pfn), nullptr) << "not zspp's yet";
	zspp_page_set_owner(page, &owner);
	EXPECT_EQ(zspp_pfn_owner(pfn), &owner);
	EXPECT_EQ(zspp_pfn_owner(0), nullptr) << "an invalid pfn";
	zspp_page_clear_owner(page);
	EXPECT_EQ(zspp_pfn_owner(pfn), nullptr);
	zspp_page_free(page);	/* the mock flags a free of a PagePrivate page */
}

// A zspp spinlock is a real spinlock: held, the CPU is atomic (the mock
// flags sleeping there); released, it is not.
TEST_F(Shim, SpinlockMakesTheCpuAtomic)
{
	struct zspp_spinlock *lock = zspp_spin_alloc(ZSPP_LOCK_CLASS);

	ASSERT_NE(lock, nullptr);
	zspp_spin_lock(lock);
	EXPECT_EQ(kmock_preempt_count[kmock_cpu], 1);
	zspp_spin_unlock(lock);
	EXPECT_EQ(kmock_preempt_count[kmock_cpu], 0);
	zspp_cond_resched();
	zspp_spin_free(lock);
	EXPECT_EQ(kmock_violations(), 0ul);
}

TEST_F(Shim, CurrentTaskWarningsAndLogs)
{
	struct task_struct t = { "t" };

	run_as(1, &t, [&] { EXPECT_EQ(zspp_current_task(), &t); });
	EXPECT_EQ(zspp_current_task(), &kmock_task0);
	zspp_warn_bad_handle("unmap", 0x1234);
	EXPECT_EQ(kmock_warnings(), 1ul);
	expected_warnings_ = 1;
	// The core's printf-style logs go through printk's %pV.
	testing::internal::CaptureStderr();
	zspp_log_err("zspp: %s %d\n", "pool", 42);
	zspp_log_info("zspp: %#lx\n", 255ul);
	std::string out = testing::internal::GetCapturedStderr();
	EXPECT_NE(out.find("printk(err): zspp: pool 42"), std::string::npos) << out;
	EXPECT_NE(out.find("printk(info): zspp: 0xff"), std::string::npos) << out;
}
