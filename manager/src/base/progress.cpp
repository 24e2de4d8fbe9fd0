#include "base/progress.hpp"

#include "base/output.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace deltalogctl {

Progress::Progress(std::string what, std::uint64_t total, bool bytes)
	: what_(std::move(what)), total_(total), bytes_(bytes), enabled_(stderr_is_terminal()),
	  start_(std::chrono::steady_clock::now()), last_(start_)
{
}

Progress::~Progress()
{
	if (drawn_)
		std::fputs("\r\033[K", stderr);	// not fmt: a destructor must not throw
}

void Progress::update(std::uint64_t done)
{
	if (!enabled_)
		return;
	const auto now = std::chrono::steady_clock::now();
	if (drawn_ && done < total_ && now - last_ < std::chrono::milliseconds(200))
		return;
	last_ = now;
	draw(done);
}

void Progress::draw(std::uint64_t done)
{
	constexpr int width = 30;
	const double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
	const int filled = static_cast<int>(frac * width);
	const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
	std::string rate;
	if (bytes_ && secs > 0.5)
		rate = fmt::format(", {}/s", human_size(static_cast<std::uint64_t>(static_cast<double>(done) / secs)));
	const std::string amount = bytes_ ? fmt::format("{} of {}", human_size(done), human_size(total_))
					  : fmt::format("{} of {}", done, total_);
	fmt::print(stderr, "\r\033[K{} [{}{}] {:3.0f}%  {}{}", what_, std::string(filled, '#'),
		   std::string(width - filled, '.'), frac * 100, amount, rate);
	std::fflush(stderr);
	drawn_ = true;
}

} // namespace deltalogctl
