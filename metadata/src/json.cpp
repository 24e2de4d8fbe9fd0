#include "deltalog/json.hpp"

#include <fmt/format.h>

namespace deltalog {

std::string json_escape(std::string_view s)
{
	std::string out = "\"";
	for (unsigned char c : s) {
		switch (c) {
		case '"':
			out += "\\\"";
			break;
		case '\\':
			out += "\\\\";
			break;
		case '\n':
			out += "\\n";
			break;
		case '\r':
			out += "\\r";
			break;
		case '\t':
			out += "\\t";
			break;
		default:
			if (c < 0x20 || c >= 0x7f)
				out += fmt::format("\\u{:04x}", c);	// bytes, not UTF-8
			else
				out += static_cast<char>(c);
		}
	}
	return out + "\"";
}

void JsonWriter::separate()
{
	if (after_key_) {
		after_key_ = false;
		return;
	}
	if (!first_.empty()) {
		if (!first_.back())
			out_ += ',';
		first_.back() = false;
	}
}

JsonWriter &JsonWriter::begin_object()
{
	separate();
	out_ += '{';
	first_.push_back(true);
	return *this;
}

JsonWriter &JsonWriter::end_object()
{
	out_ += '}';
	first_.pop_back();
	return *this;
}

JsonWriter &JsonWriter::begin_array()
{
	separate();
	out_ += '[';
	first_.push_back(true);
	return *this;
}

JsonWriter &JsonWriter::end_array()
{
	out_ += ']';
	first_.pop_back();
	return *this;
}

JsonWriter &JsonWriter::key(std::string_view k)
{
	separate();
	out_ += json_escape(k);
	out_ += ':';
	after_key_ = true;
	return *this;
}

JsonWriter &JsonWriter::value(std::string_view s)
{
	separate();
	out_ += json_escape(s);
	return *this;
}

JsonWriter &JsonWriter::value(std::uint64_t v)
{
	separate();
	out_ += fmt::format("{}", v);
	return *this;
}

JsonWriter &JsonWriter::value(std::int64_t v)
{
	separate();
	out_ += fmt::format("{}", v);
	return *this;
}

JsonWriter &JsonWriter::value(bool v)
{
	separate();
	out_ += v ? "true" : "false";
	return *this;
}

JsonWriter &JsonWriter::null()
{
	separate();
	out_ += "null";
	return *this;
}

} // namespace deltalog
