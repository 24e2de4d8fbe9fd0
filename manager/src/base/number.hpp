// Numbers read from text: the command line, the tab file, sysfs, the
// kernel's table and status lines. Plain decimal digits and nothing else, the
// whole string: no sign, no blank, no 0x. std::stoul would take " +5" and
// strtoul "-1"; here both are refused, so the command line and the tab file
// accept the same numbers.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace deltalogctl {

// nullopt for anything but one or more digits, and above UINT64_MAX.
std::optional<std::uint64_t> parse_decimal(std::string_view s);

// The same, nullopt too when the value does not fit in T. Callers check
// their own range (1 to 60000, ...) and word their own error.
template <std::unsigned_integral T>
	requires(!std::same_as<T, bool>)
std::optional<T> parse_number(std::string_view s)
{
	const std::optional<std::uint64_t> v = parse_decimal(s);
	if (!v || *v > std::numeric_limits<T>::max())
		return std::nullopt;
	return static_cast<T>(*v);
}

} // namespace deltalogctl
