// A tiny JSON writer (no dependency): objects, arrays, strings with
// escaping, unsigned and signed integers, booleans, null. Output is compact.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace deltalog {

std::string json_escape(std::string_view s);	// with the quotes

class JsonWriter {
public:
	JsonWriter &begin_object();
	JsonWriter &end_object();
	JsonWriter &begin_array();
	JsonWriter &end_array();
	JsonWriter &key(std::string_view k);
	JsonWriter &value(std::string_view s);
	JsonWriter &value(const char *s) { return value(std::string_view(s)); }
	JsonWriter &value(std::uint64_t v);
	JsonWriter &value(std::uint32_t v) { return value(std::uint64_t{v}); }
	JsonWriter &value(std::int64_t v);
	JsonWriter &value(bool v);
	JsonWriter &null();
	// key(k).value(v)
	template <typename T> JsonWriter &field(std::string_view k, T v) { return key(k).value(v); }

	const std::string &str() const { return out_; }

private:
	void separate();
	std::string out_;
	std::vector<bool> first_;	// per open container: nothing written yet
	bool after_key_ = false;
};

} // namespace deltalog
