#!/bin/sh
# initramfs/grub.d/42_deltalog against a stand-in deltalogctl and
# grub-mkconfig_lib: a submenu with one entry per mark label, newest first,
# each with deltalog.rollback=NAME:@LABEL; nothing without a root line, an
# active root or marks.
#
#   test-grub-snippet.sh SNIPPET
set -eu
snippet=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$tmp/lib" "$tmp/boot"
# What 42_deltalog uses of grub-mkconfig_lib, as simple as can be.
cat >"$tmp/lib/grub-mkconfig_lib" <<'LIB'
grub_file_is_not_garbage() { test -f "$1"; }
version_find_latest() { printf '%s\n' "$@" | sort -V | tail -n 1; }
make_system_path_relative_to_its_root() { echo "/boot-rel"; }
prepare_grub_to_access_device() { echo "search --fs-uuid --set=root $1"; }
grub_add_tab() { sed 's/^/\t/'; }
grub_quote() { sed "s/'/'\\\\''/g"; }
gettext_printf() { fmt=$1; shift; printf "$fmt" "$@"; }
LIB
touch "$tmp/boot/vmlinuz-6.1.0-50-cloud-amd64" "$tmp/boot/vmlinuz-6.1.0-56-cloud-amd64" \
	"$tmp/boot/initrd.img-6.1.0-56-cloud-amd64"
# deltalogctl: the root line's device, and its status with three marks
# (last-good-boot twice: its newest counts).
cat >"$tmp/deltalogctl" <<'CTL'
#!/bin/sh
case "$1" in
boot-root) [ -e "$DIR/no-root" ] || echo /dev/mapper/sys ;;
status)
	[ "$2" = sys ] || exit 1
	[ -e "$DIR/no-marks" ] && { echo '{"name": "sys", "marks": []}'; exit 0; }
	cat <<'J'
{"name": "sys", "history": {"marks": 3}, "marks": [
 {"label": "last-good-boot", "seq": 10, "time_ns": 1763900000000000000},
 {"label": "before-upgrade", "seq": 20, "time_ns": 1763990000000000000},
 {"label": "last-good-boot", "seq": 30, "time_ns": 1764000000000000000}], "log_error": null}
J
	;;
esac
CTL
chmod +x "$tmp/deltalogctl"

run()
{
	DIR=$tmp DELTALOG_CTL=$tmp/deltalogctl DELTALOG_BOOT_DIR=$tmp/boot pkgdatadir=$tmp/lib \
		GRUB_DEVICE=/dev/mapper/sys GRUB_DEVICE_BOOT=/dev/vda1 GRUB_CMDLINE_LINUX="console=ttyS0" \
		GRUB_CMDLINE_LINUX_DEFAULT=quiet "$@" sh "$snippet" 2>"$tmp/stderr"
}
export DIR="$tmp"

out=$(run env)
echo "$out" | grep -q "^submenu 'Roll back the root (sys) to a mark'" || fail "no submenu: $out"
[ "$(echo "$out" | grep -c 'menuentry ')" = 2 ] || fail "not one entry per label: $out"
first=$(echo "$out" | grep 'menuentry ' | head -n 1)
case $first in
*"rolled back to @last-good-boot"*) ;;
*) fail "the newest label is not first: $first" ;;
esac
echo "$out" | grep -q "linux /boot-rel/vmlinuz-6.1.0-56-cloud-amd64 root=/dev/mapper/sys ro console=ttyS0 quiet deltalog.rollback=sys:@before-upgrade$" ||
	fail "no linux line for @before-upgrade with the newest kernel: $out"
echo "$out" | grep -q "initrd /boot-rel/initrd.img-6.1.0-56-cloud-amd64" || fail "no initrd line: $out"
echo "$out" | grep -q "search --fs-uuid --set=root /dev/vda1" || fail "/boot not prepared: $out"
[ "$(echo "$out" | grep -c '{')" = "$(echo "$out" | grep -c '}')" ] || fail "unbalanced braces: $out"

out=$(run env GRUB_DELTALOG_MAX_MARKS=1)
[ "$(echo "$out" | grep -c 'menuentry ')" = 1 ] || fail "GRUB_DELTALOG_MAX_MARKS=1 ignored: $out"
[ -z "$(run env GRUB_DISABLE_DELTALOG=true)" ] || fail "GRUB_DISABLE_DELTALOG=true ignored"
touch "$tmp/no-marks"
[ -z "$(run env)" ] || fail "a submenu without marks"
rm "$tmp/no-marks"
touch "$tmp/no-root"
[ -z "$(run env)" ] || fail "a submenu without a root line"
rm "$tmp/no-root" "$tmp/boot/initrd.img-6.1.0-56-cloud-amd64"
[ -z "$(run env)" ] || fail "a submenu without an initramfs"
grep -q "no initramfs for 6.1.0-56-cloud-amd64" "$tmp/stderr" || fail "no word about the missing initramfs"
echo "1 passed, 0 failed"
