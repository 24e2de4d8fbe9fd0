#!/bin/sh
# VM scenario: an interrupted merge still knows its origin (FORMAT.md 3.1).
#
# A 64 MiB origin whose every sector the log rewrites, a mark, a merge up to
# it slowed down (merge_rate 256 KiB/s with a reader keeping the device busy)
# and cancelled part way: the origin now holds part of the merge, so its
# fingerprint has changed, and the superblock records, for each sampled
# sector, its checksum before the merge and after it. With the device
# removed:
# - another disk of the same size, a copy of the origin that differs in one
#   sampled sector, is refused: by `dlog-tool check --origin` (naming the
#   sector) and by the kernel (the table load fails, nothing is written);
# - the right origin passes `dlog-tool check --origin`, and activating it
#   resumes the merge, which finishes: the origin equals the device at the
#   mark, the other disk was never written.
set -eu

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { echo 3 >/proc/sys/vm/drop_caches; sha256sum "$1" | cut -d' ' -f1; }
field() { dmsetup status dl | awk -v n="$1" '{ print $(n + 3) }'; }

size=131072
origin=/dev/mapper/dlorigin
other=/dev/mapper/dlother
delta=/dev/mapper/dldelta
reader=
cleanup() {
	[ -z "$reader" ] || kill "$reader" 2>/dev/null || true
	for d in dl dlorigin dlother dldelta; do dmsetup remove $d 2>/dev/null || true; done
}
trap cleanup EXIT

dmsetup create dlorigin --table "0 $size linear /dev/vdb 0"
dmsetup create dlother --table "0 $size linear /dev/vdb $size"
dmsetup create dldelta --table "0 196608 linear /dev/vdc 0"
dd if=/dev/urandom of="$origin" bs=1M count=64 oflag=direct status=none
dd if="$origin" of="$other" bs=1M oflag=direct status=none
# The last sampled sector: ((size - 8) * 15 / 15) & ~7 = size - 8.
dd if=/dev/urandom of="$other" bs=512 seek=$((size - 8)) count=1 oflag=direct conv=notrunc status=none
dd if=/dev/zero of="$delta" bs=1M count=1 status=none
table="0 $size deltalog $origin $delta"

dmsetup create dl --table "$table 2 merge_rate 256"
dd if=/dev/urandom of=/dev/mapper/dl bs=1M count=64 oflag=direct status=none
mark=$(dmsetup message dl 0 mark m)
mark_sum=$(sum /dev/mapper/dl)
other_sum=$(sum "$other")
ok "the log rewrites the whole origin; mark at seq $mark"

(while :; do dd if=/dev/mapper/dl of=/dev/null bs=4k count=1 iflag=direct status=none; done) &
reader=$!
dmsetup message dl 0 merge "$mark"
i=0
while [ "$(field 11 | cut -d/ -f1)" = 0 ]; do
	sleep 0.1
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the merge copied nothing: $(dmsetup status dl)"
done
dmsetup message dl 0 merge cancel
kill "$reader"
wait "$reader" 2>/dev/null || true
reader=
[ "$(field 12)" = stopped ] || fail "after cancel: $(dmsetup status dl)"
copied=$(field 11)
dmsetup remove dl
[ "$(sum "$origin")" != "$mark_sum" ] || fail "the merge was not cancelled part way (nothing tested)"
dlog-tool dump "$delta" | grep -q "merging up to seq $mark; origin samples recorded" ||
	{ dlog-tool dump "$delta" | head -n 12; fail "the superblock does not record the samples"; }
ok "merge cancelled after $copied blocks; the superblock records the sampled sectors"

status=0
dlog-tool check "$delta" --origin "$other" >/tmp/check 2>&1 || status=$?
[ "$status" = 1 ] || { cat /tmp/check; fail "dlog-tool check --origin other: exit $status, expected 1"; }
grep -q "origin sector $((size - 8)) is neither as it was before" /tmp/check ||
	{ cat /tmp/check; fail "dlog-tool check does not name the sector"; }
dmesg -c >/dev/null
if dmsetup create dl --table "0 $size deltalog $other $delta" 2>/dev/null; then
	fail "the kernel activated the log over another disk"
fi
dmsetup remove dl 2>/dev/null || true
dmesg | grep -q "Delta belongs to another origin (fingerprint mismatch)" || { dmesg | tail -n 5; fail "kernel: no fingerprint message"; }
dmesg | grep -q "origin sector $((size - 8)) is neither" || { dmesg | tail -n 5; fail "kernel: the sector is not named"; }
[ "$(sum "$other")" = "$other_sum" ] || fail "the other disk was written"
ok "another disk of the same size is refused by dlog-tool check and by the kernel"

dlog-tool check "$delta" --origin "$origin" >/tmp/check 2>&1 || { cat /tmp/check; fail "check of the right origin"; }
dmsetup create dl --table "$table"
i=0
while [ "$(field 6)" != "$mark" ]; do
	sleep 0.2
	i=$((i + 1))
	[ $i -lt 600 ] || fail "the resumed merge never finished: $(dmsetup status dl)"
done
[ "$(sum /dev/mapper/dl)" = "$mark_sum" ] || fail "the device changed"
dmsetup remove dl
[ "$(sum "$origin")" = "$mark_sum" ] || fail "after the resumed merge the origin is not the device at the mark"
[ "$(sum "$other")" = "$other_sum" ] || fail "the other disk was written"
ok "the right origin is recognised; activation resumes the merge, which finishes"
