#!/bin/sh
# make demo: a guided tour of dm-deltalog and deltalogctl, run inside the VM.
# /dev/vdb plays the disk to protect (the origin), /dev/vdc the delta.
#
# Protect a disk, work on its filesystem, mark a point, break things, look
# at the past through a read-only view, roll back to a time, commit up to the
# mark. Every step is checked: the tour fails if anything is not as shown.
set -eu

origin=/dev/vdb
delta=/dev/vdc
mnt=/mnt/demo

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
fail() { echo "DEMO FAILED: $*" >&2; exit 1; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p $mnt /mnt/then

say "A disk with a filesystem and a file on it (the origin)"
run mkfs.ext4 -q -F -b 4096 -L demo "$origin"
mount "$origin" $mnt
echo "the report, version 1" >$mnt/report.txt
umount $mnt
origin_sum=$(sum "$origin")
echo "origin checksum: $origin_sum"

say "Protect it: from now on every write is logged on $delta, none goes to $origin"
dd if=/dev/zero of="$delta" bs=1M count=1 status=none
run deltalogctl create box "$origin" "$delta"
run deltalogctl list

say "Work on the protected disk"
run mount /dev/mapper/box $mnt
echo "the report, version 2 (reviewed)" >$mnt/report.txt
run cp -r /etc $mnt/etc-backup
run sync
run cat $mnt/report.txt

say "Mark this moment (the filesystem is frozen for the mark: a clean point)"
run deltalogctl mark box before-upgrade
sleep 1.1
before=$(date +%H:%M:%S)
echo "(and remember the time: it is $before)"
sleep 1.1

say "Break things: an 'upgrade' that goes wrong"
run rm -rf $mnt/etc-backup
echo "garbage" >$mnt/report.txt
run dd if=/dev/urandom of=$mnt/junk bs=1M count=8 status=none
run sync
run ls $mnt
run cat $mnt/report.txt

say "What happened since the mark: the log, newest first"
run deltalogctl log box --since @before-upgrade | tail -n 8
run deltalogctl status box

say "Look at the past without touching the present: a read-only view at the mark"
run deltalogctl view box --at @before-upgrade box-then
run mount -o ro,noload /dev/mapper/box-then /mnt/then
run cat /mnt/then/report.txt
[ "$(cat /mnt/then/report.txt)" = "the report, version 2 (reviewed)" ] || fail "the view shows the wrong report"
umount /mnt/then
run deltalogctl deactivate box-then

say "Roll back to $before (the device must be closed: unmount first)"
umount $mnt
run deltalogctl rollback box --to "$before" --yes
run mount /dev/mapper/box $mnt
run cat $mnt/report.txt
run ls $mnt
[ "$(cat $mnt/report.txt)" = "the report, version 2 (reviewed)" ] || fail "rollback did not bring the report back"
[ -d $mnt/etc-backup ] && [ ! -e $mnt/junk ] || fail "rollback did not restore the files"
echo "origin checksum still $(sum "$origin")"
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed before any merge"

say "Keep working after the rollback, then commit the history up to the mark, online: the filesystem stays mounted"
echo "the report, version 3 (after the rollback)" >$mnt/report.txt
run sync
run deltalogctl merge box --until @before-upgrade --yes --wait
run cat $mnt/report.txt
umount $mnt

say "The origin now holds the state at the mark (looked at with the device down)"
run deltalogctl deactivate box
mount -o ro,noload "$origin" $mnt
run cat $mnt/report.txt
[ "$(cat $mnt/report.txt)" = "the report, version 2 (reviewed)" ] || fail "the merge did not write the mark's state"
umount $mnt

say "And the protected device still has the newer writes on top"
run deltalogctl activate box "$origin" "$delta"
mount /dev/mapper/box $mnt
run cat $mnt/report.txt
[ "$(cat $mnt/report.txt)" = "the report, version 3 (after the rollback)" ] || fail "the writes after the mark were lost"
umount $mnt
run e2fsck -fn /dev/mapper/box
run deltalogctl status box
run deltalogctl deactivate box
echo
echo "Tour complete."
