// systemd unit names and unit file quoting (see unit_name.hpp).
#include "tab/unit_name.hpp"

#include <vector>

namespace deltalogctl::tab {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string &out, unsigned char c)
{
	out += "\\x";
	out += hex_digits[c >> 4];
	out += hex_digits[c & 15];
}

bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The length of the valid UTF-8 multi-byte sequence at text[i], 0 if there
// is none (an ASCII byte, or a broken sequence).
std::size_t utf8_sequence(std::string_view text, std::size_t i)
{
	const auto c = static_cast<unsigned char>(text[i]);
	std::size_t len = 0;
	std::uint32_t cp = 0;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (i + len > text.size())
		return 0;
	for (std::size_t k = 1; k < len; k++) {
		const auto cc = static_cast<unsigned char>(text[i + k]);
		if ((cc & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (cc & 0x3f);
	}
	// Overlong forms, surrogates and code points past U+10FFFF.
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

} // namespace

std::string unit_name_escape(std::string_view text)
{
	std::string out;
	out.reserve(text.size() * 2);
	for (std::size_t i = 0; i < text.size(); i++) {
		const auto c = static_cast<unsigned char>(text[i]);
		if (c == '/')
			out += '-';
		else if ((i == 0 && c == '.') || !(is_alnum(c) || c == ':' || c == '_' || c == '.'))
			append_hex(out, c);
		else
			out += static_cast<char>(c);
	}
	return out;
}

std::optional<std::string> unit_name_path_escape(std::string_view path)
{
	if (path.empty() || path[0] != '/')
		return std::nullopt;
	std::vector<std::string_view> parts;
	std::size_t pos = 0;
	while (pos < path.size()) {
		const std::size_t end = std::min(path.find('/', pos), path.size());
		const std::string_view part = path.substr(pos, end - pos);
		if (part == "..")
			return std::nullopt;
		if (!part.empty() && part != ".")
			parts.push_back(part);
		pos = end + 1;
	}
	if (parts.empty())
		return std::string("-");
	std::string joined;
	for (const std::string_view part : parts) {
		if (!joined.empty())
			joined += '/';
		joined += part;
	}
	return unit_name_escape(joined);
}

std::optional<std::string> device_unit(std::string_view path)
{
	auto escaped = unit_name_path_escape(path);
	if (escaped)
		*escaped += ".device";
	return escaped;
}

std::string udev_encode(std::string_view value)
{
	std::string out;
	for (std::size_t i = 0; i < value.size();) {
		const auto c = static_cast<unsigned char>(value[i]);
		if (const std::size_t seq = utf8_sequence(value, i)) {
			out += value.substr(i, seq);
			i += seq;
			continue;
		}
		if (is_alnum(c) || std::string_view("#+-.:=@_").find(static_cast<char>(c)) != std::string_view::npos)
			out += static_cast<char>(c);
		else
			append_hex(out, c);
		i++;
	}
	return out;
}

std::string specifier_escape(std::string_view text)
{
	std::string out;
	for (const char c : text) {
		out += c;
		if (c == '%')
			out += '%';
	}
	return out;
}

std::string exec_word(std::string_view word)
{
	bool plain = !word.empty();
	for (const char c : word)
		if (!is_alnum(static_cast<unsigned char>(c)) &&
		    std::string_view("/._:=@+,-%$").find(c) == std::string_view::npos)
			plain = false;
	std::string out;
	if (!plain)
		out += '"';
	for (const char c : word) {
		if (c == '%' || c == '$')
			out += c;
		else if (!plain && (c == '\\' || c == '"'))
			out += '\\';
		out += c;
	}
	if (!plain)
		out += '"';
	return out;
}

} // namespace deltalogctl::tab
