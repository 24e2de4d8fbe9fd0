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

} // namespace

TEST(UnitName, Escape)
{
	EXPECT_EQ(unit_name_escape("box"), "box");
	EXPECT_EQ(unit_name_escape("my-box"), "my\\x2dbox");
	EXPECT_EQ(unit_name_escape(".hidden"), "\\x2ehidden");
	EXPECT_EQ(unit_name_escape("x."), "x.");
	EXPECT_EQ(unit_name_escape("a/b"), "a-b");
	EXPECT_EQ(unit_name_escape("sp ace"), "sp\\x20ace");
	EXPECT_EQ(unit_name_escape("back\\slash"), "back\\x5cslash");
	EXPECT_EQ(unit_name_escape("ü"), "\\xc3\\xbc");
}

TEST(UnitName, PathEscape)
{
	EXPECT_EQ(unit_name_path_escape("/"), "-");
	EXPECT_EQ(unit_name_path_escape("/dev/sdb1"), "dev-sdb1");
	EXPECT_EQ(unit_name_path_escape("//dev//sdb/"), "dev-sdb");
	EXPECT_EQ(unit_name_path_escape("/dev/./sdb"), "dev-sdb");
	EXPECT_EQ(unit_name_path_escape("/dev/disk/by-uuid/0b5e-11ab"), "dev-disk-by\\x2duuid-0b5e\\x2d11ab");
	EXPECT_EQ(unit_name_path_escape("/dev/.x"), "dev-.x");
	EXPECT_FALSE(unit_name_path_escape("/dev/../sdb"));
	EXPECT_FALSE(unit_name_path_escape("dev/sdb"));
	EXPECT_FALSE(unit_name_path_escape(""));
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
	EXPECT_EQ(udev_encode("0b5e-11ab"), "0b5e-11ab");
	EXPECT_EQ(udev_encode("My Disk"), "My\\x20Disk");
	EXPECT_EQ(udev_encode("root/delta"), "root\\x2fdelta");
	EXPECT_EQ(udev_encode("a#+-.:=@_b"), "a#+-.:=@_b");
	EXPECT_EQ(udev_encode("a\\b"), "a\\x5cb");
	EXPECT_EQ(udev_encode("données"), "données");		// valid UTF-8 stays
	EXPECT_EQ(udev_encode("x\xc3"), "x\\xc3");		// a broken sequence does not
	EXPECT_EQ(udev_encode("\xe0\x80\x80"), "\\xe0\\x80\\x80");	// nor an overlong one
}

TEST(UnitName, Specifiers)
{
	EXPECT_EQ(specifier_escape("100% sure"), "100%% sure");
	EXPECT_EQ(specifier_escape("plain"), "plain");
}

TEST(UnitName, ExecWords)
{
	EXPECT_EQ(exec_word("/usr/sbin/deltalogctl"), "/usr/sbin/deltalogctl");
	EXPECT_EQ(exec_word("@last-good-boot"), "@last-good-boot");
	EXPECT_EQ(exec_word("#12"), "\"#12\"");
	EXPECT_EQ(exec_word("a b"), "\"a b\"");
	EXPECT_EQ(exec_word("/dev/disk/by-label/My\\x20Disk"), "\"/dev/disk/by-label/My\\\\x20Disk\"");
	EXPECT_EQ(exec_word("say \"hi\""), "\"say \\\"hi\\\"\"");
	EXPECT_EQ(exec_word("50%"), "50%%");
	EXPECT_EQ(exec_word("$HOME"), "$$HOME");
	EXPECT_EQ(exec_word(""), "\"\"");
	EXPECT_EQ(exec_word("it's"), "\"it's\"");
}
