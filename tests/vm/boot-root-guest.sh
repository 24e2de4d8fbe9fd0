#!/bin/sh
# The guest half of t-boot-root.host (not a scenario of its own: run-all runs
# t-*.sh only): `deltalogctl boot-root`, what the initramfs-tools script runs,
# on a tab file and a kernel command line given to it. Two boots share the
# disks (tests/vm/run --disk-dir):
#
#   boot-root-guest.sh cut     boot 1: the policies, a missing device; then a
#                              log of 64 MiB, a mark, a merge up to it, and
#                              a power cut (sysrq b) while the merge copies
#   boot-root-guest.sh check   boot 2: the log's commit is unfinished;
#                              boot-root with boot=rollback brings the device
#                              up WITHOUT the rollback and says so; the kernel
#                              finishes the commit; nothing was rolled back
#
# Disks: /dev/vdb the origin, /dev/vdc the delta, /dev/vdd the checksum
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

	# An unfinished commit: 64 MiB logged, a mark, a merge up to it while
	# a reader keeps the device busy (merge_rate applies: seconds), and
	# the power cut while the superblock says MERGING.
	echo "box /dev/vdb /dev/vdc x-initrd.attach" >"$tab"
	boot_root 0 --cmdline ""
	dd if=/dev/urandom of=/dev/mapper/box bs=1M count=64 oflag=direct status=none
	deltalogctl mark box to-commit >/dev/null
	dd if=/dev/urandom of=/dev/mapper/box bs=1M count=1 seek=100 oflag=direct conv=fsync status=none
	# What the device holds, for boot 2 (on /dev/vdd).
	dd if=/dev/mapper/box bs=1M count=101 status=none | sha256sum | cut -d' ' -f1 |
		dd of=/dev/vdd conv=fsync status=none
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
held=$(dd if=/dev/vdd bs=64 count=1 status=none | tr -d '\0\n')
echo "box /dev/vdb /dev/vdc x-initrd.attach,boot=rollback" >"$tab"
boot_root 0 --cmdline ""
says "a commit into its origin is unfinished"
says "WITHOUT the boot policy 'rollback'"
[ -b /dev/mapper/box ] && ok "/dev/mapper/box is active" || fail "/dev/mapper/box is not active"
i=0
while [ "$(state)" = merging ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(state)" = active ] && ok "the kernel finished the commit (merged $(merged))" ||
	fail "the commit did not finish (state $(state))"
[ "$(dd if=/dev/mapper/box bs=1M count=101 status=none | sha256sum | cut -d' ' -f1)" = "$held" ] &&
	ok "nothing was rolled back: the device holds what it held before the cut" ||
	fail "the device does not hold what it held before the cut"
deltalogctl deactivate box >/dev/null
# Once the commit is done, the policy applies again.
boot_root 0 --cmdline ""
says "boot policy: rollback"
deltalogctl deactivate box >/dev/null
exit "$failed"
