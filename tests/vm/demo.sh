#!/bin/sh
# make demo: a guided tour of what dm-deltalog does today, run inside the VM.
# /dev/vdb plays the disk to protect (the origin), /dev/vdc the delta.
#
# Today the target protects a disk, reads through to it, and serves a log
# written by the userspace format library; the kernel write path, deltalogctl
# and merges come next (see README.md), and this tour grows with them.
set -eu

origin=/dev/vdb
delta=/dev/vdc

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A disk with a filesystem and a file on it (the origin)"
run mkfs.ext4 -q -F -b 4096 -L demo "$origin"
mkdir -p /mnt/demo
mount "$origin" /mnt/demo
echo "the report, version 1" >/mnt/demo/report.txt
run cat /mnt/demo/report.txt
umount /mnt/demo
origin_sum=$(sha256sum "$origin" | cut -d' ' -f1)
echo "origin checksum: $origin_sum"

say "Protect it: stack dm-deltalog over the origin and an empty delta"
run dd if=/dev/zero of="$delta" bs=4096 count=2 status=none
size=$(blockdev --getsz "$origin")
run dmsetup create box --table "0 $size deltalog $origin $delta"
run dmsetup table box
echo "status: used/total data, used/total metadata, oldest, newest, durable, merged seq, state"
run dmsetup status box
dmesg | grep -i deltalog | tail -n 2

say "Reads go through to the origin: the stacked device is byte-identical"
stacked_sum=$(sha256sum /dev/mapper/box | cut -d' ' -f1)
echo "stacked checksum: $stacked_sum"
[ "$stacked_sum" = "$origin_sum" ]
run mount -o ro,noload /dev/mapper/box /mnt/demo
run cat /mnt/demo/report.txt
umount /mnt/demo

say "Time travel from a log: userspace writes history, the kernel serves it"
run dmsetup remove box
# Same length as version 1: the file's size is in its inode, not in this block.
printf 'the report, broken!!!\n' >/tmp/v2
block=$(debugfs -R "bmap /report.txt 0" "$origin" 2>/dev/null)
blocks_per_4k=8
sector=$((block * blocks_per_4k))
dd if=/dev/zero of=/tmp/v2.blk bs=4096 count=1 status=none
dd if=/tmp/v2 of=/tmp/v2.blk conv=notrunc status=none
run dlog-tool mark "$delta" before-edit
run dlog-tool append-write "$delta" --origin-sector "$sector" --file /tmp/v2.blk --sectors 8
run dlog-tool dump "$delta"
run dmsetup create box --table "0 $size deltalog $origin $delta"
run dmsetup status box
run mount -o ro,noload /dev/mapper/box /mnt/demo
echo "now (newest seq):"
run cat /mnt/demo/report.txt
umount /mnt/demo
mark_seq=$(dlog-tool dump "$delta" | awk '/MARK/ {print $1}' | tr -d '#' | tail -n 1)
run dmsetup create box-then --readonly \
	--table "0 $size deltalog $origin $delta 2 view $mark_seq"
run mount -o ro,noload /dev/mapper/box-then /mnt/demo
echo "a read-only view as of the mark 'before-edit' (seq $mark_seq):"
run cat /mnt/demo/report.txt
umount /mnt/demo
run dmsetup remove box-then
run dmsetup remove box

say "The origin was never written"
after=$(sha256sum "$origin" | cut -d' ' -f1)
echo "origin checksum before: $origin_sum"
echo "origin checksum after:  $after"
[ "$after" = "$origin_sum" ]
echo
echo "Tour complete."
