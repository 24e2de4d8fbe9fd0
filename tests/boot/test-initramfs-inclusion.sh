#!/bin/sh
# Whether the initramfs gets root protection exactly when /etc/deltalogtab
# asks for it (a line with root or x-initrd.attach): the initramfs-tools
# hook, run with the real hook-functions into a scratch DESTDIR, and the
# dracut module's check() in host-only mode (a generic image always takes
# it), sourced with stand-ins of dracut's functions. The boot tests
# (make check-boot) boot the images themselves.
#
#   test-initramfs-inclusion.sh HOOK MODULE_SETUP BINDIR
# BINDIR holds the built deltalogctl and deltalog-generator.
set -eu
hook=$1
module_setup=$2
bindir=$(cd "$3" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$tmp/etc"
cat >"$tmp/root-tab" <<'TAB'
root  /dev/disk/by-id/a  /dev/disk/by-id/b  root,boot=rollback
data  /dev/disk/by-id/c  /dev/disk/by-id/d  -
TAB
cat >"$tmp/attach-tab" <<'TAB'
usr   /dev/disk/by-id/e  /dev/disk/by-id/f  x-initrd.attach
TAB
cat >"$tmp/data-tab" <<'TAB'
data  /dev/disk/by-id/c  /dev/disk/by-id/d  -
TAB

sed "s|@SBINDIR@|$bindir|" "$hook" >"$tmp/hook"
sed -e "s|@SBINDIR@|$bindir|" -e "s|@GENERATORDIR@|$bindir|" "$module_setup" >"$tmp/module-setup.sh"

# hook TAB: runs the initramfs-tools hook with TAB into a new $tmp/dest.
hook()
{
	rm -rf "$tmp/dest"
	mkdir -p "$tmp/dest"
	DESTDIR=$tmp/dest version=0.0.0-none DELTALOG_TAB=$1 verbose=n \
		sh "$tmp/hook" >"$tmp/hook.log" 2>&1 || { cat "$tmp/hook.log"; fail "the hook failed with $1"; }
}

for tab in root-tab attach-tab; do
	hook "$tmp/$tab"
	# /sbin is /usr/sbin in the finished initramfs (merged /usr).
	[ -x "$tmp/dest/sbin/deltalogctl" ] || [ -x "$tmp/dest/usr/sbin/deltalogctl" ] ||
		fail "initramfs-tools, $tab: no /sbin/deltalogctl"
	cmp -s "$tmp/dest/etc/deltalogtab" "$tmp/$tab" || fail "initramfs-tools, $tab: /etc/deltalogtab is not the tab"
	# The module of a kernel that has none: said, not silent.
	grep -q "no dm-deltalog module for kernel 0.0.0-none" "$tmp/hook.log" ||
		fail "initramfs-tools, $tab: no warning about the missing module"
done
for tab in data-tab no-such-tab; do
	hook "$tmp/$tab"
	[ -z "$(find "$tmp/dest" -mindepth 1 -print -quit)" ] ||
		fail "initramfs-tools, $tab: the initramfs got $(find "$tmp/dest" -mindepth 1 | head -n 3)"
done
echo "ok: initramfs-tools takes dm-deltalog for root and x-initrd.attach lines only"

# check_module SYSROOT HOSTONLY: dracut's check() of the module, with the
# tab at SYSROOT/etc/deltalogtab; prints its status.
check_module()
{
	bash -c '
		require_binaries() { [ -x "$1" ]; }
		dracutsysrootdir=$1 hostonly=$2
		. "$3"
		check
		echo "$?"' _ "$1" "$2" "$tmp/module-setup.sh"
}

for tab in root-tab attach-tab data-tab no-such-tab; do
	rm -rf "$tmp/sysroot"
	mkdir -p "$tmp/sysroot/etc"
	[ -e "$tmp/$tab" ] && cp "$tmp/$tab" "$tmp/sysroot/etc/deltalogtab"
	case $tab in
	root-tab | attach-tab) want=0 ;;
	*) want=255 ;;
	esac
	got=$(check_module "$tmp/sysroot" yes)
	[ "$got" = "$want" ] || fail "dracut host-only, $tab: check() returned $got, not $want"
	got=$(check_module "$tmp/sysroot" "")
	[ "$got" = 0 ] || fail "dracut generic, $tab: check() returned $got, not 0"
done
echo "ok: dracut's host-only images take dm-deltalog for root and x-initrd.attach lines only, generic ones always"
