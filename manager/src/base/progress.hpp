// Progress of long work (merge, check) on a terminal: one line on stderr,
// redrawn at most a few times a second; nothing at all when stderr is not a
// terminal, so scripts and logs stay clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace deltalogctl {

class Progress {
public:
	// what: "merging"; total: the units of work (bytes when bytes is set).
	Progress(std::string what, std::uint64_t total, bool bytes = true);
	Progress(const Progress &) = delete;
	Progress &operator=(const Progress &) = delete;
	~Progress();	// clears the line

	void update(std::uint64_t done);
	bool shown() const { return enabled_; }

private:
	void draw(std::uint64_t done);

	std::string what_;
	std::uint64_t total_;
	bool bytes_;
	bool enabled_;
	bool drawn_ = false;
	std::chrono::steady_clock::time_point start_, last_;
};

} // namespace deltalogctl
