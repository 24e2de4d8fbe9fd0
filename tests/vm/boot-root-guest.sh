#!/bin/sh
# The guest half of t-boot-root.host (not a scenario of its own: run-all runs
# t-*.sh only): `deltalogctl boot-root`, what the initramfs-tools script runs,
# on a tab file and a kernel command line given to it. Two boots share the
# disks (tests/vm/run --disk-dir):
#
#   boot-root-guest.sh cut     boot 1: the policies, a missing device; then a
#                              log of 64 MiB with the marks early and
#                              to-commit (S), 1 MiB written after S, a merge
#                              up to S, and a power cut (sysrq b) while the
#                              merge copies
#   boot-root-guest.sh check   boot 2: the log's commit up to S is
#                              unfinished; boot=rollback-to=@early (before
#                              S) is refused and changes nothing;
#                              boot=rollback rolls back to S (the whole
#                              device reads the state at S, the MiB written
#                              after it is gone); the kernel finishes the
#                              commit: the origin reads the state at S
#
# Disks: /dev/vdb the origin, /dev/vdc the delta, /dev/vdd the checksums
# boot 2 compares with.
set -eu
step=$1
tab=/tmp/deltalogtab
failed=0

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failed=1; }

# boot_root EXPECTED-STATUS ARGS...: runs boot-root, its output in $out.
boot_root()
{
	expected=$1
	shift
	st=0
	out=$(deltalogctl boot-root --tab "$tab" "$@" 2>&1) || st=$?
	echo "$out" | sed 's/^/    | /'
	[ "$st" = "$expected" ] || { fail "boot-root $*: exit $st, expected $expected"; return 1; }
}

says() # TEXT: the last boot-root said TEXT
{
	case $out in
	*"$1"*) ok "boot-root says: $1" ;;
	*) fail "boot-root does not say: $1" ;;
	esac
}

# sha DEV [DD-ARGS]: sha256 of DEV (read past the page cache: the merge
# writes the origin behind it).
sha() { dev=$1; shift; dd if="$dev" bs=1M iflag=direct status=none "$@" | sha256sum | cut -d' ' -f1; }
newest() { deltalogctl status box --json | tr -d ' \n' | grep -o '"newest":[0-9]*' | cut -d: -f2; }
merged() { deltalogctl status box --json | tr -d ' \n' | grep -o '"merged":[0-9]*' | cut -d: -f2; }
state() { deltalogctl status box --json | tr -d ' \n' | grep -o '"state":"[a-z]*"' | cut -d'"' -f4; }

if [ "$step" = cut ]; then
	origin_sum=$(sha256sum /dev/vdb | cut -d' ' -f1)
	deltalogctl create box /dev/vdb /dev/vdc >/dev/null
	dd if=/dev/urandom of=/dev/mapper/box bs=1M count=4 oflag=direct status=none
	deltalogctl mark box clean >/dev/null
	dd if=/dev/urandom of=/dev/mapper/box bs=1M count=4 seek=8 oflag=direct status=none
	after_mark=$(dd if=/dev/mapper/box bs=1M count=16 status=none | sha256sum | cut -d' ' -f1)
	deltalogctl deactivate box >/dev/null

	echo "box /dev/vdb /dev/vdc x-initrd.attach" >"$tab"
	boot_root 0 --cmdline "quiet" --dry-run
	says "deltalogctl activate box /dev/vdb /dev/vdc"
	boot_root 0 --cmdline "deltalog.boot=box:rollback-to=@clean"
	says "boot policy: rollback to @clean"
	[ "$(dd if=/dev/mapper/box bs=1M count=16 status=none | sha256sum | cut -d' ' -f1)" != "$after_mark" ] &&
		ok "rolled back to @clean" || fail "not rolled back to @clean"
	boot_root 0 --cmdline ""
	says "already active"
	deltalogctl deactivate box >/dev/null

	echo "box /dev/vdb /dev/vdc x-initrd.attach,boot=rollback" >"$tab"
	boot_root 0 --cmdline ""
	[ "$(dd if=/dev/mapper/box bs=1M status=none | sha256sum | cut -d' ' -f1)" = "$origin_sum" ] &&
		ok "boot=rollback: the device is its origin again" || fail "boot=rollback: the device is not its origin"
	deltalogctl deactivate box >/dev/null

	echo "gone /dev/vdb /dev/nonexistent x-initrd.attach" >"$tab"
	boot_root 1 --cmdline "" --wait 1
	says "/dev/nonexistent did not appear within 1 s"

	# An unfinished commit: 64 MiB logged with the marks early and
	# to-commit (S), 1 MiB written after S, a merge up to S while a reader
	# keeps the device busy (merge_rate applies: seconds), and the power
	# cut while the superblock says MERGING.
	echo "box /dev/vdb /dev/vdc x-initrd.attach" >"$tab"
	boot_root 0 --cmdline ""
	dd if=/dev/urandom of=/dev/mapper/box bs=1M count=32 oflag=direct status=none
	deltalogctl mark box early >/dev/null
	dd if=/dev/urandom of=/dev/mapper/box bs=1M count=32 seek=32 oflag=direct status=none
	deltalogctl mark box to-commit >/dev/null
	at_s=$(sha /dev/mapper/box)
	mib_at_s=$(sha /dev/mapper/box count=1 skip=100)
	dd if=/dev/urandom of=/dev/mapper/box bs=1M count=1 seek=100 oflag=direct conv=fsync status=none
	after_s=$(sha /dev/mapper/box)
	[ "$after_s" != "$at_s" ] && ok "the MiB after S changed the device" || fail "the MiB after S changed nothing"
	# The device at S and after it, and the MiB at S, for boot 2 (on /dev/vdd).
	echo "$at_s $after_s $mib_at_s" | dd of=/dev/vdd conv=fsync status=none
	fio --name=busy --filename=/dev/mapper/box --rw=randread --bs=4k --direct=1 --rate_iops=200 \
		--time_based --runtime=60 >/dev/null 2>&1 &
	sleep 1
	deltalogctl merge box --until @to-commit --yes >/dev/null
	i=0
	while [ "$(state)" != merging ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 1
	if [ "$(state)" != merging ]; then
		fail "the merge was over before the cut (state $(state))"
		exit 1
	fi
	echo "cutting the power during the merge (merged $(merged), newest $(newest))"
	[ "$failed" = 0 ] || exit 1
	echo b >/proc/sysrq-trigger
	sleep 10
	exit 1
fi

# check
sb_field() { dlog-tool sb /dev/vdc | sed -n "s/^$1=//p"; }
[ "$(sb_field merging)" = 1 ] && ok "the superblock says MERGING" ||
	fail "the superblock does not say MERGING: the cut missed the merge"
S=$(sb_field merge_target_seq)
next=$(sb_field next_seq)
dd if=/dev/vdd bs=512 count=1 status=none | tr -d '\0' >/tmp/sums
read -r at_s after_s mib_at_s </tmp/sums

# A rollback to before S: refused, the device stays down, the log as it was.
echo "box /dev/vdb /dev/vdc x-initrd.attach,boot=rollback-to=@early" >"$tab"
boot_root 1 --cmdline ""
says "mark early) is before the end of an interrupted commit: the history up to seq $S is being committed"
says "The oldest state left to roll back to is"
says "(seq $S, mark to-commit)."
[ ! -e /dev/mapper/box ] && ok "rollback-to=@early: not activated" || fail "rollback-to=@early: activated"
[ "$(sb_field merging)/$(sb_field merge_target_seq)/$(sb_field next_seq)" = "1/$S/$next" ] &&
	ok "rollback-to=@early: the log is unchanged" || fail "rollback-to=@early: the log changed"

# boot=rollback: back to S, the commit finished by the kernel.
echo "box /dev/vdb /dev/vdc x-initrd.attach,boot=rollback" >"$tab"
boot_root 0 --cmdline ""
says "boot policy: rollback"
says "A commit up to #$S was interrupted: it is finished first"
says "(seq $S, mark to-commit) before activating: throwing away"
[ -b /dev/mapper/box ] && ok "/dev/mapper/box is active" || fail "/dev/mapper/box is not active"
[ "$(sha /dev/mapper/box)" = "$at_s" ] && ok "the device reads the state at #$S (merge $(state))" ||
	fail "the device does not read the state at #$S"
[ "$(sha /dev/mapper/box count=1 skip=100)" = "$mib_at_s" ] && ok "the MiB written after #$S is gone" ||
	fail "the MiB written after #$S is still there"
i=0
while [ "$(state)" = merging ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(state)" = active ] && [ "$(merged)" = "$S" ] && ok "the kernel finished the commit (merged $(merged))" ||
	fail "the commit did not finish (state $(state), merged $(merged))"
[ "$(sha /dev/mapper/box)" = "$at_s" ] && ok "the device still reads the state at #$S" ||
	fail "the device changed when the commit finished"
deltalogctl deactivate box >/dev/null
origin=$(sha /dev/vdb)
[ "$origin" = "$at_s" ] && ok "the origin holds the state at #$S" || fail "the origin is not the state at #$S"
[ "$origin" != "$after_s" ] && ok "the origin is not the state after #$S" || fail "the origin is the state after #$S"
# Nothing is left to roll back.
boot_root 0 --cmdline ""
says "boot policy: rollback"
says "no rollback needed"
deltalogctl deactivate box >/dev/null
exit "$failed"
