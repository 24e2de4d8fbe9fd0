// The device's content at a seq (FORMAT.md section 8): an extent map from
// origin sector ranges to where their data is (origin, data ring, zeros),
// newest record wins; and materialising image bytes from it.
#pragma once

#include "deltalog/device.hpp"
#include "deltalog/log.hpp"
#include "deltalog/records.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <vector>

namespace deltalog {

enum class Source : std::uint8_t { origin, data, zero };
const char *source_name(Source source);	// "origin", "data", "zero"

struct Extent {
	std::uint64_t start = 0;	// origin sector
	std::uint64_t length = 0;	// sectors
	Source source = Source::origin;
	std::uint64_t data_pos = 0;	// Source::data: data ring position of `start`
	std::uint64_t seq = 0;		// the record it comes from (0: origin)

	bool operator==(const Extent &) const = default;
};

class ExtentMap {
public:
	// Lays a WRITE or ZERO record over the map (other kinds change nothing).
	void apply(const Record &rec);
	// The logged extents, sorted and non-overlapping (never Source::origin).
	std::vector<Extent> extents() const;
	// [start, start + length) in full, unlogged gaps as Source::origin.
	std::vector<Extent> lookup(std::uint64_t start, std::uint64_t length) const;
	std::size_t size() const { return pieces_.size(); }

private:
	struct Piece {
		std::uint64_t end;
		Source source;
		std::uint64_t data_pos;
		std::uint64_t seq;
	};
	std::map<std::uint64_t, Piece> pieces_;	// keyed by start
};

// The live records with seq <= `seq`, in seq order. Throws ResolveError if
// seq < merged_seq (that state is gone: it is in the origin, overwritten).
ExtentMap state_at(const LogState &log, std::uint64_t seq);

// Bytes of the image at a state: origin sectors [sector, sector + out/512).
void read_image(const LogState &log, const ExtentMap &map, const Device &delta,
		const Device &origin, std::uint64_t sector, std::span<std::byte> out);

// The whole image, in chunks of up to 1 MiB, in order.
void write_image(const LogState &log, const ExtentMap &map, const Device &delta,
		 const Device &origin,
		 const std::function<void(std::span<const std::byte>)> &sink);

} // namespace deltalog
