// Output for people: sizes, local times, aligned tables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace deltalogctl {

// 0 B, 512 B, 4.0 KiB, 1.5 GiB (binary units, one decimal from KiB on).
std::string human_size(std::uint64_t bytes);
// The local time of ns since the epoch: "2026-11-23 09:36:12", with
// milliseconds ("09:36:12.345") when asked.
std::string local_time(std::uint64_t time_ns, bool millis = false);
// A duration for people: "45 s", "12 min", "3 h 20 min", "2 d 4 h".
std::string human_duration(std::uint64_t ns);

// Columns padded to their widest cell; columns listed in `right` are right
// aligned (numbers). The last column is never padded.
class Table {
public:
	explicit Table(std::vector<std::string> header, std::vector<bool> right = {});
	void add(std::vector<std::string> row);
	std::string render() const;
	bool empty() const { return rows_.empty(); }

private:
	std::vector<std::string> header_;
	std::vector<bool> right_;
	std::vector<std::vector<std::string>> rows_;
};

bool stdout_is_terminal();
bool stderr_is_terminal();

} // namespace deltalogctl
