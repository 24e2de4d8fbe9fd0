// deltalogctl's output helpers (manager/src/base/output.cpp).
#include "base/output.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

using namespace deltalogctl;

TEST(CtlOutput, HumanSizeUsesBinaryUnits)
{
	EXPECT_EQ(human_size(0), "0 B");
	EXPECT_EQ(human_size(1023), "1023 B");
	EXPECT_EQ(human_size(1024), "1.0 KiB");
	EXPECT_EQ(human_size(1536), "1.5 KiB");
	EXPECT_EQ(human_size(256ull << 20), "256.0 MiB");
	EXPECT_EQ(human_size(3ull << 40), "3.0 TiB");
}

TEST(CtlOutput, HumanDurationRoundsDown)
{
	EXPECT_EQ(human_duration(0), "0 s");
	EXPECT_EQ(human_duration(59'999'999'999), "59 s");
	EXPECT_EQ(human_duration(60'000'000'000), "1 min");
	EXPECT_EQ(human_duration(3600'000'000'000), "1 h");
	EXPECT_EQ(human_duration(12000'000'000'000), "3 h 20 min");
	EXPECT_EQ(human_duration(187200'000'000'000), "2 d 4 h");
}

TEST(CtlOutput, LocalTimeFollowsTz)
{
	const char *old = std::getenv("TZ");
	const std::string saved = old ? old : "";
	setenv("TZ", "UTC0", 1);
	tzset();
	EXPECT_EQ(local_time(1'700'000'000'123'456'789), "2023-11-14 22:13:20");
	EXPECT_EQ(local_time(1'700'000'000'123'456'789, true), "2023-11-14 22:13:20.123");
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	EXPECT_EQ(local_time(1'700'000'000'000'000'000), "2023-11-14 23:13:20");
	if (old)
		setenv("TZ", saved.c_str(), 1);
	else
		unsetenv("TZ");
	tzset();
}

TEST(CtlOutput, TableAlignsColumns)
{
	Table t({"NAME", "SIZE", "STATE"}, {false, true, false});
	t.add({"box", "1.0 GiB", "active"});
	t.add({"longer-name", "12 B", "full"});
	EXPECT_EQ(t.render(), "NAME            SIZE  STATE\n"
			      "box          1.0 GiB  active\n"
			      "longer-name     12 B  full\n");
}
