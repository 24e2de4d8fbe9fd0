#!/bin/sh
# The boot tests' guest side (tests/boot/run): run by the image's
# deltalog-boot-test-early.service (before multi-user.target, so before
# the boot is marked) and deltalog-boot-test.service (once the system is
# up; the VM powers off after it). The step comes from the kernel command
# line, dltest.step=STEP. Prints "ok: ..." and "FAIL: ..." lines; the exit
# status fails the boot.
#
#   guest.sh early|late
set -u
phase=$1
step=$(sed -n 's/.*dltest\.step=\([a-z0-9-]*\).*/\1/p' /proc/cmdline)
data_uuid=6d1f0b6e-2a7b-4c47-9d0e-5e1a2b3c4d5e
early_uuid=0c9e5d1a-7b3f-4e2d-8a6c-1f2e3d4c5b6a
failed=0

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failed=1; }
check() # DESCRIPTION COMMAND...
{
	what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# The newest sequence number of mark LABEL on device NAME, or nothing.
mark_seq()
{
	deltalogctl status "$1" --json | tr -d ' \n' |
		grep -o "{\"label\":\"$2\",\"seq\":[0-9]*" | tail -n 1 | sed 's/.*://'
}

merged_seq()
{
	deltalogctl status "$1" --json | tr -d ' \n' | grep -o '"merged":[0-9]*' | sed 's/.*://'
}

# Whether the filesystem UUID leads to the device NODE, by udev's link and
# by blkid.
uuid_names() # UUID NODE
{
	[ "$(readlink -f "/dev/disk/by-uuid/$1")" = "$(readlink -f "$2")" ] &&
		[ "$(readlink -f "$(blkid -U "$1")")" = "$(readlink -f "$2")" ]
}

dm_active() # NAME
{
	dmsetup info "$1" >/dev/null 2>&1
}

# /NAME is mounted from /dev/mapper/NAME by UUID= (fstab), that UUID leads
# there and not to the origin, and the origin's file reads TEXT.
check_protected_mount() # NAME UUID TEXT
{
	check "/$1 is mounted from /dev/mapper/$1" test "$(findmnt -n -o SOURCE "/$1")" = "/dev/mapper/$1"
	check "/$1 shows the origin's file" grep -qx "$3" "/$1/origin-file"
	check "UUID=$2 (by-uuid, blkid -U) is /dev/mapper/$1, not the origin" uuid_names "$2" "/dev/mapper/$1"
}

# What every boot must show: the root, /data and /early on their protected
# devices, mounted by UUID= and those UUIDs naming the protected devices;
# /early brought up by the initramfs (x-initrd.attach), not by a unit of the
# main system.
check_system()
{
	check "the root is mounted from /dev/mapper/root" \
		test "$(findmnt -n -o SOURCE /)" = /dev/mapper/root
	check "deltalog@data.service is active" systemctl -q is-active deltalog@data.service
	check "x-initrd.attach: /dev/mapper/early is active" dm_active early
	check "x-initrd.attach: the main system's generator made no unit for early" \
		test ! -e /run/systemd/generator/deltalog@early.service
	rules=
	for f in /usr/lib/udev/rules.d/*deltalog* /usr/local/lib/udev/rules.d/*deltalog* \
		/etc/udev/rules.d/*deltalog*; do
		[ -e "$f" ] && rules=$f
	done
	if [ -z "$rules" ]; then
		echo "skip: /data by UUID= (no dm-deltalog udev rules installed: the UUID may name the origin)"
		return
	fi
	check_protected_mount data "$data_uuid" "written before protection"
	check_protected_mount early "$early_uuid" "on the device the initramfs brings up"
}

# Whether the oneshot UNIT ran this boot and succeeded.
ran_ok() # UNIT
{
	[ "$(systemctl show -P Result "$1")" = success ] &&
		[ "$(systemctl show -P ExecMainExitTimestampMonotonic "$1")" != 0 ]
}

write_file() # PATH TEXT
{
	echo "$2" >"$1" && sync "$1" && sync
}

early()
{
	case $step in
	rollback-1) write_file /rollback-file "boot 1 of boot=rollback" ;;
	keep-1)
		write_file /keep-1 "before the first boot was marked"
		write_file /early/keep-1 "written in boot 1"
		;;
	esac
}

# The data line of /etc/deltalogtab gets OPTIONS.
set_data_options() # OPTIONS
{
	awk -v o="$1" '$1 == "data" { $4 = o } { print }' /etc/deltalogtab >/etc/deltalogtab.new &&
		mv /etc/deltalogtab.new /etc/deltalogtab && sync
}

# grub-mkconfig with /etc/grub.d/42_deltalog: the menu has the submenu, and
# the kernel command line of the entry for mark LABEL goes to the host
# ("grub-cmdline: ..."), which boots it next.
grub_entry() # LABEL
{
	if ! grub-mkconfig -o /run/grub.cfg >/run/grub-mkconfig.log 2>&1; then
		fail "grub-mkconfig with 42_deltalog installed"
		sed 's/^/  /' /run/grub-mkconfig.log
		return
	fi
	ok "grub-mkconfig with 42_deltalog installed"
	check "grub.cfg has the submenu 'Roll back the root (root) to a mark'" \
		grep -q "^submenu 'Roll back the root (root) to a mark'" /run/grub.cfg
	args=$(awk -v want="deltalog.rollback=root:@$1" '$1 == "linux" {
		for (i = 3; i <= NF; i++) if ($i == want) { $1 = ""; $2 = ""; print; exit }
	}' /run/grub.cfg)
	if [ -n "$args" ]; then
		ok "grub.cfg has an entry for @$1"
		echo "grub-cmdline:$args"
	else
		fail "grub.cfg has an entry for @$1"
		grep -n 'deltalog' /run/grub.cfg | sed 's/^/  /'
	fi
}

# Waits up to SECONDS (by the clock: each try can be slow under emulation)
# for COMMAND to succeed.
wait_for() # DESCRIPTION SECONDS COMMAND...
{
	what=$1 limit=$2
	shift 2
	deadline=$(($(date +%s) + limit))
	while ! "$@"; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			fail "$what (waited $limit s)"
			return 1
		fi
		sleep 2
	done
	ok "$what"
}

# Whether NAME's log was committed up to its mark LABEL: something was
# merged, and no LABEL is left past the merged point (a committed mark
# leaves the log with what it covered).
committed_to_mark() # NAME LABEL
{
	merged=$(merged_seq "$1")
	m=$(mark_seq "$1" "$2")
	[ "${merged:-0}" -gt 0 ] && { [ -z "$m" ] || [ "$m" -le "$merged" ]; }
}

late()
{
	check_system
	case $step in
	rollback-1)
		check "the file written in this boot is there" test -f /rollback-file
		;;
	rollback-2)
		check "boot=rollback: the file written in boot 1 is gone" test ! -e /rollback-file
		;;
	keep-1)
		check "deltalog-mark-boot@root.service marked the boot" ran_ok deltalog-mark-boot@root.service
		check "deltalog-commit@root.timer is active" systemctl -q is-active deltalog-commit@root.timer
		wait_for "the commit timer committed up to @last-good-boot" 150 committed_to_mark root last-good-boot
		write_file /keep-2 "after the first boot was marked"
		# The data device's line: boot=rollback-to=@base from now on.
		write_file /data/keep-a "before @base"
		check "deltalogctl mark data base" deltalogctl mark data base
		write_file /data/keep-b "after @base"
		check "the data line of /etc/deltalogtab gets boot=rollback-to=@base" \
			set_data_options boot=rollback-to=@base
		;;
	keep-2)
		check "boot=keep: the file written before the mark survived" grep -q marked /keep-1
		check "boot=keep: the file written after the mark survived (in the log)" \
			grep -q "after the first" /keep-2
		# No commit past the mark to come back to.
		systemctl stop deltalog-commit@root.timer
		check "the device brought up by the initramfs kept boot 1's file" \
			grep -q "boot 1" /early/keep-1
		check "boot=rollback-to=@base (the tab): what data had at @base is there" \
			grep -q "before @base" /data/keep-a
		check "boot=rollback-to=@base (the tab): what data got after @base is gone" \
			test ! -e /data/keep-b
		write_file /data/keep-c "written in boot 2"
		check "deltalogctl mark root before-x" deltalogctl mark root before-x
		write_file /keep-3 "after @before-x"
		grub_entry before-x
		;;
	rollback-once)
		check "GRUB's entry for @before-x: what was there at the mark is there" \
			grep -q "after the first" /keep-2
		check "GRUB's entry for @before-x: what was written after the mark is gone" \
			test ! -e /keep-3
		check "boot=rollback-to=@base (the tab), again: data's file of boot 2 is gone" \
			test ! -e /data/keep-c
		check "boot=rollback-to=@base (the tab), again: data's file from before @base is there" \
			grep -q "before @base" /data/keep-a
		;;
	*)
		fail "unknown step '$step'"
		;;
	esac
	if [ "$failed" != 0 ]; then
		echo "--- deltalogctl list; journal of the deltalog units"
		deltalogctl list
		journalctl -b --no-pager -o short-monotonic | grep -i deltalog | tail -n 60
	fi
}

case $phase in
early) early ;;
late) late ;;
*) fail "unknown phase '$phase'" ;;
esac
exit "$failed"
