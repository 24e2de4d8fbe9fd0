// Device: RAII file access in whole sectors.
#include "deltalog/device.hpp"
#include "deltalog/errors.hpp"

#include "helpers.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>

using deltalog::Device;
using deltalog::IoError;

TEST(Device, FileGeometry)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("f"), 100);
	Device d = dlt::open_ro(dir.path("f"));
	EXPECT_EQ(d.sectors(), 100u);
	EXPECT_EQ(d.logical_block_size(), 512u);
	EXPECT_EQ(d.physical_block_size(), 512u);
	EXPECT_FALSE(d.is_block_device());
	EXPECT_FALSE(d.writable());
}

TEST(Device, ReadWriteRoundTrip)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("f"), 16);
	Device d = dlt::open_rw(dir.path("f"));
	auto data = dlt::pattern(3 * 512, 7);
	d.write(5, data);
	d.flush();
	dlt::Bytes back(3 * 512);
	d.read(5, back);
	EXPECT_EQ(back, data);
	EXPECT_EQ(dlt::read_at(dir.path("f"), 5 * 512, 3 * 512), data);
}

TEST(Device, PastTheEndIsAnIoError)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("f"), 16);
	Device d = dlt::open_rw(dir.path("f"));
	dlt::Bytes b(2 * 512);
	EXPECT_THROW(d.read(15, b), IoError);
	EXPECT_THROW(d.write(15, b), IoError);
	EXPECT_NO_THROW(d.read(14, b));
}

TEST(Device, PartialSectorsAreRefused)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("f"), 16);
	Device d = dlt::open_rw(dir.path("f"));
	dlt::Bytes b(100);
	EXPECT_THROW(d.read(0, b), std::invalid_argument);
}

TEST(Device, ReadOnlyRefusesWrites)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("f"), 16);
	Device d = dlt::open_ro(dir.path("f"));
	dlt::Bytes b(512);
	EXPECT_THROW(d.write(0, b), IoError);
}

TEST(Device, MissingFileIsAnIoError)
{
	dlt::TempDir dir;
	EXPECT_THROW(dlt::open_ro(dir.path("nope")), IoError);
}

TEST(Device, DirectoryIsRefused)
{
	dlt::TempDir dir;
	EXPECT_THROW(dlt::open_ro(dir.path("")), IoError);
}

TEST(Device, UniqueFdClosesAndMoves)
{
	dlt::TempDir dir;
	dlt::create_file(dir.path("f"), 1);
	int raw = ::open(dir.path("f").c_str(), O_RDONLY);
	ASSERT_GE(raw, 0);
	{
		deltalog::UniqueFd a(raw);
		deltalog::UniqueFd b(std::move(a));
		EXPECT_FALSE(a);
		EXPECT_EQ(b.get(), raw);
	}
	EXPECT_EQ(fcntl(raw, F_GETFD), -1);	// closed
}
