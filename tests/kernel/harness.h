// SPDX-License-Identifier: GPL-2.0
// What the suites of tests/kernel/ share: the mock's controls, the files
// under test's declarations, and a fixture that resets the simulated
// machine before each test and checks after it that nothing leaked and the
// mock saw no warning and no context violation the test did not expect.
#ifndef ZSPP_KERNEL_HARNESS_H
#define ZSPP_KERNEL_HARNESS_H

#include <gtest/gtest.h>

#include <functional>

extern "C" {
#include "mock/kmock.h"
#include <zspp/shim.h>
#include "internal.h"
}

// Run @fn as @task on @cpu (another CPU's task), then come back.
inline void run_as(unsigned int cpu, struct task_struct *task, const std::function<void()> &fn)
{
	unsigned int saved_cpu = kmock_cpu;
	struct task_struct *saved = kmock_current;

	kmock_cpu = cpu;
	kmock_current = task;
	fn();
	kmock_cpu = saved_cpu;
	kmock_current = saved;
}

// kmock_at_point() with a std::function (kept alive by the caller).
inline void at_point(const char *what, unsigned int nth, std::function<void()> *fn)
{
	kmock_at_point(what, nth, [](void *arg) { (*static_cast<std::function<void()> *>(arg))(); }, fn);
}

class KernelTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		kmock_reset(2);
		objects_ = kmock_live_objects();
		pages_ = kmock_live_pages();
	}
	void TearDown() override
	{
		kmock_rcu_grace_period();
		EXPECT_EQ(kmock_live_objects(), objects_) << "kmalloc objects leaked";
		EXPECT_EQ(kmock_live_pages(), pages_) << "pages leaked";
		EXPECT_EQ(kmock_warnings(), expected_warnings_);
		EXPECT_EQ(kmock_violations(), 0ul) << kmock_last_violation();
	}
	// Pages allocated since SetUp.
	long pages() const { return kmock_live_pages() - pages_; }

	unsigned long expected_warnings_ = 0;

private:
	long objects_ = 0, pages_ = 0;
};

#endif
