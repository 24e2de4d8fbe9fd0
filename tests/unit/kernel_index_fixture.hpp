// The fixture of the tests of the kernel's extent index and of its queue of
// inserts (test_kernel_index.cpp, test_kernel_pending.cpp): the shared node
// pool set up and torn down around each test, which must fire no
// WARN_ON_ONCE and leave no memory behind.
#ifndef DELTALOG_TESTS_KERNEL_INDEX_FIXTURE_HPP
#define DELTALOG_TESTS_KERNEL_INDEX_FIXTURE_HPP

extern "C" {
#include "deltalog-index.h"
#include "kshim.h"
}

#include <gtest/gtest.h>

class KernelIndex : public ::testing::Test {
protected:
	void SetUp() override
	{
		ASSERT_EQ(deltalog_index_init(), 0);
		warnings_ = kshim_warnings;
		live_ = kshim_live;
	}
	void TearDown() override
	{
		deltalog_index_exit();
		EXPECT_EQ(kshim_warnings, warnings_) << "WARN_ON_ONCE fired";
		EXPECT_EQ(kshim_live, live_) << "memory leaked";
	}

	unsigned long warnings_ = 0;
	long live_ = 0;
};

#endif
