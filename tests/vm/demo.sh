#!/bin/sh
# make demo: a guided tour of what dm-deltalog does today, run inside the VM.
# /dev/vdb plays the disk to protect (the origin), /dev/vdc the delta.
#
# Protect a disk with plain dmsetup, work on the filesystem, mark a point,
# break things, look at the past through a read-only view, roll back, and
# commit (merge) into the origin up to a mark. The kernel target does the
# logging; rollback and merge are offline, done here by dlog-tool (the test
# CLI of the format library) until deltalogctl and online merge land.
# Every step is checked: the tour fails if anything is not as shown.
set -eu

origin=/dev/vdb
delta=/dev/vdc
mnt=/mnt/demo

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
fail() { echo "DEMO FAILED: $*" >&2; exit 1; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
field() { dmsetup status box | awk -v n="$1" '{ print $(n + 3) }'; }

mkdir -p $mnt

say "A disk with a filesystem and a file on it (the origin)"
run mkfs.ext4 -q -F -b 4096 -L demo "$origin"
mount "$origin" $mnt
echo "the report, version 1" >$mnt/report.txt
umount $mnt
origin_sum=$(sum "$origin")
echo "origin checksum: $origin_sum"

say "Protect it: stack dm-deltalog over the origin and an empty delta"
run dd if=/dev/zero of="$delta" bs=4096 count=2 status=none
size=$(blockdev --getsz "$origin")
run dmsetup create box --table "0 $size deltalog $origin $delta"
run dmsetup table box
echo "status: used/total data (4 KiB), used/total metadata blocks, oldest, newest,"
echo "        durable and merged seq, state, index extents and bytes"
run dmsetup status box

say "Work on the protected disk: every write goes to the log, none to the origin"
run mount /dev/mapper/box $mnt
echo "the report, version 2 (reviewed)" >$mnt/report.txt
run cp -r /etc $mnt/etc-backup
run sync
run cat $mnt/report.txt
run dmsetup status box

say "Mark this moment (the filesystem is frozen around the mark: a clean point)"
run dmsetup suspend box
echo '$ dmsetup message box 0 mark before-upgrade'
mark=$(dmsetup message box 0 mark before-upgrade)
run dmsetup resume box
echo "mark 'before-upgrade' is seq $mark"

say "Break things: an 'upgrade' that goes wrong"
run rm -rf $mnt/etc-backup
echo "garbage" >$mnt/report.txt
run dd if=/dev/urandom of=$mnt/junk bs=1M count=8 status=none
run sync
run ls $mnt
run cat $mnt/report.txt

say "Look at the past without touching the present: a read-only view at the mark"
run dmsetup create box-then --readonly --table "0 $size deltalog $origin $delta 2 view $mark"
mkdir -p /mnt/then
run mount -o ro,noload /dev/mapper/box-then /mnt/then
run cat /mnt/then/report.txt
run ls /mnt/then
[ "$(cat /mnt/then/report.txt)" = "the report, version 2 (reviewed)" ] || fail "the view shows the wrong report"
umount /mnt/then
run dmsetup remove box-then

say "Roll back to the mark (offline: the device is closed first)"
umount $mnt
run dmsetup remove box
run dlog-tool rollback "$delta" "$mark"
run dmsetup create box --table "0 $size deltalog $origin $delta"
run mount /dev/mapper/box $mnt
run cat $mnt/report.txt
run ls $mnt
[ "$(cat $mnt/report.txt)" = "the report, version 2 (reviewed)" ] || fail "rollback did not bring the report back"
[ -d $mnt/etc-backup ] && [ ! -e $mnt/junk ] || fail "rollback did not restore the files"
echo "origin checksum still $(sum "$origin")"
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed before any merge"

say "Keep working after the rollback, then commit the history up to the mark"
echo "the report, version 3 (after the rollback)" >$mnt/report.txt
run sync
umount $mnt
run dmsetup remove box
run dlog-tool merge "$delta" "$origin" "$mark"
echo "the origin now holds the state at the mark:"
mount -o ro,noload "$origin" $mnt
run cat $mnt/report.txt
[ "$(cat $mnt/report.txt)" = "the report, version 2 (reviewed)" ] || fail "the merge did not write the mark's state"
umount $mnt
echo "and the protected device still has the newer writes on top:"
run dmsetup create box --table "0 $size deltalog $origin $delta"
run dmsetup status box
mount /dev/mapper/box $mnt
run cat $mnt/report.txt
[ "$(cat $mnt/report.txt)" = "the report, version 3 (after the rollback)" ] || fail "the writes after the mark were lost"
umount $mnt
run e2fsck -fn /dev/mapper/box
run dmsetup remove box
echo
echo "Tour complete."
