// systemd names and quoting (manager/src/tab/unit_name.cpp): fixed cases,
// and, where systemd-escape is installed, the same answers as it gives.
#include "tab/unit_name.hpp"

#include <gtest/gtest.h>

#include <array>
#include <fcntl.h>
#include <optional>
#include <cstdio>
#include <memory>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace deltalogctl::tab;

namespace {

// systemd-escape's answer, nullopt when it is not installed or refuses.
std::optional<std::string> systemd_escape(bool path, const std::string &text)
{
	if (access("/usr/bin/systemd-escape", X_OK) != 0)
		return std::nullopt;
	std::array<int, 2> fds{};
	if (pipe(fds.data()) != 0)
		return std::nullopt;
	const pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		const int null = ::open("/dev/null", O_WRONLY);
		dup2(null, 2);
		if (path)
			execl("/usr/bin/systemd-escape", "systemd-escape", "--path", "--", text.c_str(), nullptr);
		else
			execl("/usr/bin/systemd-escape", "systemd-escape", "--", text.c_str(), nullptr);
		_exit(127);
	}
	close(fds[1]);
	std::string out;
	char buf[512];
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		out.append(buf, static_cast<std::size_t>(n));
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return std::nullopt;
	if (!out.empty() && out.back() == '\n')
		out.pop_back();
	return out;
}

const std::vector<std::string> names = {
	"box", "my-box", "a.b_c:d", ".hidden", "x.", "sp ace", "tab\tbed", "back\\slash", "per%cent",
	"dollar$", "quo\"te", "ünïcödé", "a/b", "-lead", "UPPER09", "\x7f", "\xff\xfe",
};

const std::vector<std::string> paths = {
	"/", "/dev/sdb1", "/dev/disk/by-uuid/0b5e-11ab", "//dev//sdb/", "/dev/./sdb", "/dev/disk/by-label/My\\x20Disk",
	"/dev/disk/by-partlabel/root\\x2fdelta", "/dev/mapper/my-box", "/dev/.x", "/dev/ünï",
};

// A fixed case: the text and what the function under test makes of it.
struct Case {
	std::string in;
	std::string out;
};

} // namespace

TEST(UnitName, Escape)
{
	const Case cases[] = {
		{"box", "box"},
		{"my-box", "my\\x2dbox"},
		{".hidden", "\\x2ehidden"},
		{"x.", "x."},
		{"a/b", "a-b"},
		{"sp ace", "sp\\x20ace"},
		{"back\\slash", "back\\x5cslash"},
		{"ü", "\\xc3\\xbc"},
	};
	for (const Case &c : cases)
		EXPECT_EQ(unit_name_escape(c.in), c.out) << c.in;
}

TEST(UnitName, PathEscape)
{
	const Case cases[] = {
		{"/", "-"},
		{"/dev/sdb1", "dev-sdb1"},
		{"//dev//sdb/", "dev-sdb"},
		{"/dev/./sdb", "dev-sdb"},
		{"/dev/disk/by-uuid/0b5e-11ab", "dev-disk-by\\x2duuid-0b5e\\x2d11ab"},
		{"/dev/.x", "dev-.x"},
	};
	for (const Case &c : cases)
		EXPECT_EQ(unit_name_path_escape(c.in), c.out) << c.in;
	for (const char *refused : {"/dev/../sdb", "dev/sdb", ""})
		EXPECT_FALSE(unit_name_path_escape(refused)) << refused;
	EXPECT_EQ(device_unit("/dev/disk/by-label/My\\x20Disk"), "dev-disk-by\\x2dlabel-My\\x5cx20Disk.device");
}

TEST(UnitName, SameAsSystemdEscape)
{
	if (!systemd_escape(false, "x"))
		GTEST_SKIP() << "systemd-escape is not installed";
	for (const std::string &n : names)
		EXPECT_EQ(unit_name_escape(n), systemd_escape(false, n)) << n;
	for (const std::string &p : paths)
		EXPECT_EQ(unit_name_path_escape(p), systemd_escape(true, p)) << p;
}

TEST(UnitName, UdevEncode)
{
	const Case cases[] = {
		{"0b5e-11ab", "0b5e-11ab"},
		{"My Disk", "My\\x20Disk"},
		{"root/delta", "root\\x2fdelta"},
		{"a#+-.:=@_b", "a#+-.:=@_b"},
		{"a\\b", "a\\x5cb"},
		{"données", "données"},			// valid UTF-8 stays
		{"x\xc3", "x\\xc3"},			// a broken sequence does not
		{"\xe0\x80\x80", "\\xe0\\x80\\x80"},	// nor an overlong one
	};
	for (const Case &c : cases)
		EXPECT_EQ(udev_encode(c.in), c.out) << c.in;
}

TEST(UnitName, Specifiers)
{
	EXPECT_EQ(specifier_escape("100% sure"), "100%% sure");
	EXPECT_EQ(specifier_escape("plain"), "plain");
}

TEST(UnitName, ExecWords)
{
	const Case cases[] = {
		{"/usr/sbin/deltalogctl", "/usr/sbin/deltalogctl"},
		{"@last-good-boot", "@last-good-boot"},
		{"#12", "\"#12\""},
		{"a b", "\"a b\""},
		{"/dev/disk/by-label/My\\x20Disk", "\"/dev/disk/by-label/My\\\\x20Disk\""},
		{"say \"hi\"", "\"say \\\"hi\\\"\""},
		{"50%", "50%%"},
		{"$HOME", "$$HOME"},
		{"", "\"\""},
		{"it's", "\"it's\""},
	};
	for (const Case &c : cases)
		EXPECT_EQ(exec_word(c.in), c.out) << c.in;
}
