// The known-bad (and a few good) delta images kept under tests/unit/images/
// and the fuzzer's seed corpus under tests/fuzz/corpus/, made by the format
// library itself with a fixed uuid, clock and origin, then damaged byte by
// byte. Deterministic: test_images.cpp regenerates them and compares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlt::images {

using Bytes = std::vector<std::byte>;

// Every image is the first bytes of a delta of delta_sectors sectors (the
// rest is zeros), made for an origin of origin_sectors sectors whose content
// is origin_content().
constexpr std::uint64_t delta_sectors = 2072;	// 8 metadata blocks of 512, 2048 data
constexpr std::uint64_t origin_sectors = 256;
Bytes origin_content();

// name -> prefix bytes. Names end in ".img".
std::map<std::string, Bytes> bad_images();
std::map<std::string, Bytes> corpus();

// Extends a prefix with zeros to the whole delta.
Bytes expand(const Bytes &prefix);

} // namespace dlt::images
