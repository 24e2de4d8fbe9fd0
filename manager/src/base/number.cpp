#include "base/number.hpp"

#include <charconv>

namespace deltalogctl {

std::optional<std::uint64_t> parse_decimal(std::string_view s)
{
	// For an unsigned type from_chars takes digits only: no '+', no '-',
	// no blank, no base prefix; the end check refuses what follows them.
	std::uint64_t v = 0;
	const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size())
		return std::nullopt;
	return v;
}

} // namespace deltalogctl
