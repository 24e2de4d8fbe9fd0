#!/bin/bash
# VM scenario: the kernel writes into a data ring that wraps.
#
# A small delta (8 MiB: a data ring of about 7.7 MiB) is filled most of the
# way by the kernel; userspace merges the oldest records into the origin
# (dlog-tool merge, offline), which frees the start of the ring; the kernel
# then writes 1 MiB O_DIRECT bios that do not fit in the contiguous space left
# at the ring's end, so they are split there and continue at its start. The
# device equals a reference copy, after a reactivation too, and `dlog-tool
# image` and `check` agree. Then the log fills up: writes fail with an I/O
# error and the status says `full`, the log stays valid, and a smaller write
# that still fits is accepted.
#
# Inside the VM: the origin is the first 32 MiB of /dev/vdb, the delta the
# first 8 MiB of /dev/vdc (dm-linear devices).
set -eu

size=65536		# origin sectors (32 MiB)
origin=/dev/mapper/dlorigin
delta=/dev/mapper/dldelta
dev=/dev/mapper/dl

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }

cleanup() {
	for d in dl dldelta dlorigin; do
		dmsetup remove "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

dmsetup create dlorigin --table "0 $size linear /dev/vdb 0"
dmsetup create dldelta --table "0 16384 linear /dev/vdc 0"
dd if=/dev/urandom of=$origin bs=1M count=32 status=none
dd if=/dev/zero of=$delta bs=4k count=2 status=none
cp $origin /tmp/ref

# write SEEK_MIB COUNT_MIB: 1 MiB O_DIRECT writes to the device and the reference.
write() {
	dd if=/dev/urandom of=/tmp/chunk bs=1M count="$2" status=none
	dd if=/tmp/chunk of=$dev bs=1M seek="$1" oflag=direct status=none
	dd if=/tmp/chunk of=/tmp/ref bs=1M seek="$1" conv=notrunc status=none
}

dmsetup create dl --table "0 $size deltalog $origin $delta"
total=$(field dl 1 | cut -d/ -f2)
write 0 4
write 8 2
dmsetup remove dl

# Merge the first 4 MiB of records: the start of the ring is free again.
merge_to=$(dlog-tool dump $delta | grep ' WRITE ' | sed -n 4p | awk '{ print substr($1, 2) }')
dlog-tool merge $delta $origin "$merge_to" >/dev/null
dmsetup create dl --table "0 $size deltalog $origin $delta"
[ "$(field dl 6)" = "$merge_to" ] || fail "merged seq $(field dl 6), expected $merge_to"

# About 1.7 MiB are left at the ring's end: the second MiB straddles it.
write 12 3
[ "$(sum $dev)" = "$(sum /tmp/ref)" ] || fail "device differs from the reference after wrapping"
dmsetup remove dl
# Records on the ring's second lap have data positions past its size.
ring=$(dlog-tool sb $delta | sed -n 's/^data_sectors=//p')
wrapped=$(dlog-tool dump $delta | sed -n 's/.* WRITE .* data \([0-9]*\) .*/\1/p' |
	awk -v r="$ring" '$1 >= r' | wc -l)
[ "$wrapped" -gt 0 ] || fail "no record on the ring's second lap (ring $ring sectors)"
dlog-tool check $delta --origin $origin >/tmp/check || { cat /tmp/check; fail "dlog-tool check"; }
[ "$(dlog-tool image $delta $origin | sha256sum | cut -d' ' -f1)" = "$(sum /tmp/ref)" ] ||
	fail "dlog-tool image differs from the reference"
dmsetup create dl --table "0 $size deltalog $origin $delta"
[ "$(sum $dev)" = "$(sum /tmp/ref)" ] || fail "reactivated device differs from the reference"
ok "writes split at the ring's end and continued at its start ($wrapped WRITE records); reactivation and dlog-tool agree"

# Fill the log: a write that does not fit fails, the log stays as it was.
before=$(field dl 4)
if dd if=/dev/urandom of=$dev bs=1M count=8 seek=16 oflag=direct status=none 2>/dev/null; then
	fail "an 8 MiB write into a full log succeeded"
fi
[ "$(field dl 7)" = full ] || fail "state $(field dl 7), expected full"
dmsetup remove dl
dlog-tool check $delta --origin $origin >/tmp/check || { cat /tmp/check; fail "dlog-tool check after full"; }
dmsetup create dl --table "0 $size deltalog $origin $delta"
newest=$(field dl 4)
[ "$newest" -ge "$before" ] || fail "newest seq went back from $before to $newest"
# The records that made it are the first pieces of the 8 MiB write; the rest
# was refused: the device equals the reference plus whatever the log has.
dd if=$dev of=/tmp/ref bs=1M skip=16 seek=16 count=8 conv=notrunc status=none
[ "$(dlog-tool image $delta $origin | sha256sum | cut -d' ' -f1)" = "$(sum $dev)" ] ||
	fail "after the full log, dlog-tool image differs from the device"
dd if=/dev/urandom of=$dev bs=4k count=1 seek=10 oflag=direct status=none ||
	fail "a 4 KiB write that fits was refused"
ok "full log: writes refused with EIO, state full, log valid, a small write still fits"
dmsetup remove dl
echo "wrap: all good"
