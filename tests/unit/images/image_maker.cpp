#include "image_maker.hpp"

#include "../helpers.hpp"

#include "deltalog/crc32c.hpp"
#include "deltalog/meta_block.hpp"
#include "deltalog/writer.hpp"

#include <algorithm>
#include <cstring>
#include <endian.h>
#include <functional>

using deltalog::Device;
using deltalog::Writer;

namespace dlt::images {
namespace {

// A delta being built in a temp dir.
class Builder {
public:
	Builder()
	{
		delta_ = dir_.path("delta");
		origin_ = dir_.path("origin");
		create_file(delta_, delta_sectors);
		write_file(origin_, origin_content());
		Device d = open_rw(delta_);
		Device o = open_ro(origin_);
		deltalog::FormatOptions f;
		f.layout = small_layout(8, 512);	// ends at delta_sectors
		f.meta_block_size = 512;
		f.uuid = test_uuid;
		f.time_ns = 1'700'000'000'000'000'000ull;
		sb_ = deltalog::format_delta(d, o, f);
	}

	// Runs f with a writer whose clock starts at 1.7e18 + 1 s.
	void write(const std::function<void(Writer &, Device &origin)> &f)
	{
		Device d = open_rw(delta_);
		Device o = open_rw(origin_);
		Writer w(d, [this] { return now_ += 1'000'000; });
		f(w, o);
	}

	Bytes bytes() const { return read_file(delta_); }
	const deltalog::Superblock &sb() const { return sb_; }
	std::uint64_t block_offset(std::uint64_t index) const { return sb_.block_sector(index) * 512; }
	std::uint64_t data_offset(std::uint64_t pos) const { return sb_.data_sector(pos) * 512; }

private:
	TempDir dir_;
	std::string delta_, origin_;
	deltalog::Superblock sb_;
	std::uint64_t now_ = 1'700'000'001'000'000'000ull;
};

Bytes block_data(int seed, std::uint64_t sectors)
{
	return pattern(sectors * 512, static_cast<std::uint32_t>(seed));
}

// Some history: writes (one sector at i * 9, so that their data is
// contiguous in the ring), a discard, a mark, in blocks 0 and 1.
void history(Writer &w, int n = 12)
{
	for (int i = 0; i < n; i++) {
		if (i == 4)
			w.append_mark("before-upgrade");
		else if (i == 7)
			w.append_zero(64, 16, true);
		else
			w.append_write(static_cast<std::uint64_t>(i) * 9 % origin_sectors,
				       block_data(i, 1));
	}
}

void reseal_block(Bytes &img, std::uint64_t off)
{
	std::span<std::byte> blk(img.data() + off, 512);
	std::uint32_t c = htole32(deltalog::block_csum(blk, test_uuid));
	std::memcpy(blk.data(), &c, 4);
}

void reseal_sb(Bytes &img, unsigned copy)
{
	std::span<std::byte> sb(img.data() + copy * 4096, 4096);
	std::uint32_t c = htole32(deltalog::crc32c(sb.subspan(4)));
	std::memcpy(sb.data(), &c, 4);
}

// Drops trailing zero sectors.
Bytes trim(Bytes img)
{
	std::size_t end = img.size();
	while (end >= 512 && std::all_of(img.begin() + static_cast<std::ptrdiff_t>(end - 512),
					 img.begin() + static_cast<std::ptrdiff_t>(end),
					 [](std::byte b) { return b == std::byte{0}; }))
		end -= 512;
	img.resize(std::max<std::size_t>(end, 8192));
	return img;
}

} // namespace

Bytes origin_content()
{
	return pattern(origin_sectors * 512, 4242);
}

Bytes expand(const Bytes &prefix)
{
	Bytes b = prefix;
	b.resize(delta_sectors * 512);
	return b;
}

std::map<std::string, Bytes> bad_images()
{
	std::map<std::string, Bytes> m;

	m["unformatted.img"] = Bytes(8192);

	{	// Healthy: every record kind, a rollback, a merge, a clean stop.
		Builder b;
		b.write([](Writer &w, Device &o) {
			history(w);
			w.rollback(9);
			w.append_write(200, block_data(99, 8));
			w.merge(o, 3);
			w.stop();
		});
		m["good.img"] = trim(b.bytes());
	}
	{	// Both superblock copies damaged: corrupt, not unformatted.
		Builder b;
		Bytes img = b.bytes();
		img[100] ^= std::byte{1};		// copy A: checksum
		std::memcpy(img.data() + 4096 + 4, "XXXX", 4);	// copy B: magic
		m["sb-both-corrupt.img"] = trim(img);
	}
	{	// The current copy (A, generation 3) torn: B (generation 2) is used.
		Builder b;
		b.write([](Writer &w, Device &) {
			history(w, 3);
			w.stop();
		});
		Bytes img = b.bytes();
		img[190] ^= std::byte{0x40};
		m["sb-current-torn.img"] = trim(img);
	}
	{	// A newer format version in both copies.
		Builder b;
		Bytes img = b.bytes();
		for (unsigned c = 0; c < 2; c++) {
			img[c * 4096 + 16] = std::byte{DLOG_VERSION + 1};
			reseal_sb(img, c);
		}
		m["sb-version-next.img"] = trim(img);
	}
	{	// A checksummed block of the log with an unknown record kind.
		Builder b;
		b.write([](Writer &w, Device &) { history(w); w.sync(); });
		Bytes img = b.bytes();
		const std::uint64_t off = b.block_offset(1) + 32 + 1 * 48 + 16;
		img[off] = std::byte{9};
		reseal_block(img, b.block_offset(1));
		m["log-unknown-kind.img"] = trim(img);
	}
	{	// Stopped cleanly, then a block of the log lost.
		Builder b;
		b.write([](Writer &w, Device &) {
			history(w, 25);
			w.stop();
		});
		Bytes img = b.bytes();
		std::fill_n(img.begin() + static_cast<std::ptrdiff_t>(b.block_offset(1)), 512, std::byte{0});
		m["log-lost-block.img"] = trim(img);
	}
	{	// The data of an untrusted record never made it: recovery cuts.
		Builder b;
		std::uint64_t pos = 0;
		b.write([&](Writer &w, Device &) {
			history(w, 3);
			w.sync();
			w.append_write(120, block_data(50, 8));
			pos = w.log().records.back().rec.data_pos;
			w.append_write(128, block_data(51, 8));
		});
		Bytes img = b.bytes();
		img[b.data_offset(pos) + 5] ^= std::byte{0xff};
		m["log-cut.img"] = trim(img);
	}
	{	// Trusted data that does not match its checksum.
		Builder b;
		std::uint64_t pos = 0;
		b.write([&](Writer &w, Device &) {
			w.append_write(120, block_data(50, 8));
			pos = w.log().records.back().rec.data_pos;
			w.stop();
		});
		Bytes img = b.bytes();
		img[b.data_offset(pos) + 5] ^= std::byte{0xff};
		m["log-trusted-data-bad.img"] = trim(img);
	}
	{	// Several kinds of damage at once.
		Builder b;
		std::uint64_t pos = 0;
		b.write([&](Writer &w, Device &) {
			w.append_write(8, block_data(1, 8));
			pos = w.log().records.back().rec.data_pos;
			history(w, 24);
			w.stop();	// copy A current
		});
		Bytes img = b.bytes();
		img[4096 + 300] ^= std::byte{1};			// spare copy B
		img[b.data_offset(pos) + 1] ^= std::byte{1};		// seq 1's data
		img[b.block_offset(1) + 32 + 2 * 48 + 44] = std::byte{1};	// reserved
		reseal_block(img, b.block_offset(1));
		m["multi-damage.img"] = trim(img);
	}
	return m;
}

std::map<std::string, Bytes> corpus()
{
	std::map<std::string, Bytes> m;
	{
		Builder b;
		m["empty.img"] = trim(b.bytes());
	}
	{
		Builder b;
		b.write([](Writer &w, Device &) { history(w); });
		m["history.img"] = trim(b.bytes());
	}
	{	// Both rings wrapped, merged, rolled back.
		Builder b;
		b.write([](Writer &w, Device &o) {
			for (int round = 0; round < 3; round++) {
				for (int i = 0; i < 30; i++)
					w.append_write(static_cast<std::uint64_t>(i * 9) % 240,
						       block_data(round * 30 + i, 1));
				w.merge(o, w.log().newest_seq() - 5);
			}
			w.rollback(w.log().newest_seq() - 2);
			w.append_mark("end");
			w.stop();
		});
		m["wrapped.img"] = trim(b.bytes());
	}
	for (auto &[name, img] : bad_images())
		m[name] = img;
	return m;
}

} // namespace dlt::images
