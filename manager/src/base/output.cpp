#include "base/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <unistd.h>

namespace deltalogctl {

std::string human_size(std::uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024)
		return fmt::format("{} B", bytes);
	double v = static_cast<double>(bytes) / 1024;
	std::size_t u = 0;
	while (v >= 1024 && u + 1 < std::size(units)) {
		v /= 1024;
		u++;
	}
	return fmt::format("{:.1f} {}", v, units[u]);
}

std::string local_time(std::uint64_t time_ns, bool millis)
{
	const std::time_t secs = static_cast<std::time_t>(time_ns / 1000000000);
	std::tm tm{};
	localtime_r(&secs, &tm);
	char buf[64];
	std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	if (!millis)
		return buf;
	return fmt::format("{}.{:03}", buf, time_ns / 1000000 % 1000);
}

std::string human_duration(std::uint64_t ns)
{
	const std::uint64_t s = ns / 1000000000;
	if (s < 60)
		return fmt::format("{} s", s);
	if (s < 3600)
		return fmt::format("{} min", s / 60);
	if (s < 86400)
		return s % 3600 / 60 ? fmt::format("{} h {} min", s / 3600, s % 3600 / 60)
				     : fmt::format("{} h", s / 3600);
	return s % 86400 / 3600 ? fmt::format("{} d {} h", s / 86400, s % 86400 / 3600)
				: fmt::format("{} d", s / 86400);
}

Table::Table(std::vector<std::string> header, std::vector<bool> right)
	: header_(std::move(header)), right_(std::move(right))
{
	right_.resize(header_.size(), false);
}

void Table::add(std::vector<std::string> row)
{
	row.resize(header_.size());
	rows_.push_back(std::move(row));
}

std::string Table::render() const
{
	std::vector<std::size_t> width(header_.size());
	auto measure = [&](const std::vector<std::string> &row) {
		for (std::size_t i = 0; i < row.size(); i++)
			width[i] = std::max(width[i], row[i].size());
	};
	measure(header_);
	for (const auto &row : rows_)
		measure(row);

	std::string out;
	auto emit = [&](const std::vector<std::string> &row) {
		std::string line;
		for (std::size_t i = 0; i < row.size(); i++) {
			const bool last = i + 1 == row.size();
			if (i)
				line += "  ";
			if (right_[i])
				line += fmt::format("{:>{}}", row[i], width[i]);
			else if (last)
				line += row[i];
			else
				line += fmt::format("{:<{}}", row[i], width[i]);
		}
		while (!line.empty() && line.back() == ' ')
			line.pop_back();
		out += line + "\n";
	};
	emit(header_);
	for (const auto &row : rows_)
		emit(row);
	return out;
}

bool stdout_is_terminal()
{
	return isatty(STDOUT_FILENO) == 1;
}

bool stderr_is_terminal()
{
	return isatty(STDERR_FILENO) == 1;
}

} // namespace deltalogctl
