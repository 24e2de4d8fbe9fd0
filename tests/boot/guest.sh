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

# What every boot must show: the root and /data on their protected devices,
# /data mounted by UUID= and that UUID naming the protected device.
check_system()
{
	check "the root is mounted from /dev/mapper/root" \
		test "$(findmnt -n -o SOURCE /)" = /dev/mapper/root
	check "deltalog@data.service is active" systemctl -q is-active deltalog@data.service
	rules=
	for f in /usr/lib/udev/rules.d/*deltalog* /usr/local/lib/udev/rules.d/*deltalog* \
		/etc/udev/rules.d/*deltalog*; do
		[ -e "$f" ] && rules=$f
	done
	if [ -z "$rules" ]; then
		echo "skip: /data by UUID= (no dm-deltalog udev rules installed: the UUID may name the origin)"
		return
	fi
	check "/data is mounted from /dev/mapper/data" \
		test "$(findmnt -n -o SOURCE /data)" = /dev/mapper/data
	check "/data shows the origin's file" grep -qx "written before protection" /data/origin-file
	check "UUID=$data_uuid resolves to /dev/mapper/data (not the origin)" \
		test "$(readlink -f "/dev/disk/by-uuid/$data_uuid")" = "$(readlink -f /dev/mapper/data)"
	check "blkid -U $data_uuid finds /dev/mapper/data" \
		test "$(readlink -f "$(blkid -U "$data_uuid")")" = "$(readlink -f /dev/mapper/data)"
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
	keep-1) write_file /keep-1 "before the first boot was marked" ;;
	esac
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
		;;
	keep-2)
		check "boot=keep: the file written before the mark survived" grep -q marked /keep-1
		check "boot=keep: the file written after the mark survived (in the log)" \
			grep -q "after the first" /keep-2
		# No commit past the mark to come back to.
		systemctl stop deltalog-commit@root.timer
		check "deltalogctl mark root before-x" deltalogctl mark root before-x
		write_file /keep-3 "after @before-x"
		;;
	rollback-once)
		check "deltalog.rollback=@before-x: what was there at the mark is there" \
			grep -q "after the first" /keep-2
		check "deltalog.rollback=@before-x: what was written after the mark is gone" \
			test ! -e /keep-3
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
