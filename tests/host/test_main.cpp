// SPDX-License-Identifier: GPL-2.0
// gtest main for the host suites: module-wide setup (zspp_core_init) around
// every test, as the module does around every pool.
#include <gtest/gtest.h>

#include <cstdio>

#include <zspp/zspp.h>

#include "fake_shim.h"

namespace {

class CoreEnvironment : public ::testing::Environment {
public:
	void SetUp() override
	{
		before_ = fake::live();
		ASSERT_EQ(zspp_core_init("zspp_handle"), 0);
	}
	void TearDown() override
	{
		zspp_core_exit();
		EXPECT_EQ(fake::live(), before_) << "module-wide leak: " << fake::to_string(fake::live());
	}

private:
	fake::Counters before_;
};

} // namespace

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);
	::testing::AddGlobalTestEnvironment(new CoreEnvironment);
	return RUN_ALL_TESTS();
}
