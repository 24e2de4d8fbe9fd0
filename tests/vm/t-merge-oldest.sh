#!/bin/sh
# VM scenario: on_full merge_oldest keeps a sliding window of history.
#
# A 64 MiB origin (random data) with an 8 MiB delta and `on_full
# merge_oldest`:
# 1. fio writes three times the log's size (random writes of 4-64 KiB,
#    O_DIRECT, iodepth 8) and verifies every block: no write fails, the
#    kernel merged the oldest history many times (merged seq and oldest seq
#    moved forward while fio ran), the origin equals a view at the merged
#    seq (the state the merges committed), and a reactivation reads the
#    same device; dlog-tool check finds the log clean.
# 2. ext4 on the device: files worth twice the log are written and synced;
#    they read back intact after a remount, e2fsck -fn is clean.
# 3. An open view pins the history it shows: with a view at the oldest seq
#    nothing can be merged, so a write that finds the log full fails and
#    the kernel log says why; once the view is gone, writes succeed again.
# 4. Merges after a rollback: write A, mark, write B, roll back to the mark
#    (dlog-tool, offline), write C. The ROLLBACK record is a record of the
#    log, not history: merges up to the mark, up to the ROLLBACK's seq and
#    up to the newest write leave the origin at A, A, then A+C (never B; an
#    image built with dd is the reference), and status's oldest seq is the
#    oldest live record each time (the ROLLBACK once the mark is merged).
#    Then another rollback, and fio writes three times the log over the
#    upper half of the device: merge_oldest merges through the ROLLBACK and
#    its voided records, no write fails, the lower half is still A+C+D
#    (never E), the origin equals a view at the merged seq, and everything
#    merged leaves the origin equal to the device; dlog-tool check is clean.
set -eu

fail() { echo "FAIL: $*" >&2; dmesg | grep deltalog | tail -n 20 >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { echo 3 >/proc/sys/vm/drop_caches; sha256sum "$1" | cut -d' ' -f1; }
field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }
# Until no merge runs (one may have started on its own).
wait_merge() {
	i=0
	while [ "$(field dl 12)" = running ]; do
		sleep 0.2
		i=$((i + 1))
		[ $i -lt 300 ] || fail "a merge never ended"
	done
}
# The origin holds the state a view at the merged seq shows.
origin_is_merged_state() {
	merged=$(field dl 6)
	dmsetup create dlv --readonly --table "0 $size deltalog $origin $delta 2 view $merged"
	[ "$(sum /dev/mapper/dlv)" = "$(sum "$origin")" ] || fail "the origin differs from a view at the merged seq $merged"
	dmsetup remove dlv
}

size=131072				# sectors: 64 MiB
origin=/dev/mapper/dlorigin
delta=/dev/mapper/dldelta
dev=/dev/mapper/dl
mnt=/tmp/mnt
table="0 $size deltalog $origin $delta 2 on_full merge_oldest"
cleanup() {
	umount "$mnt" 2>/dev/null || true
	for d in dlv dl dlorigin dldelta; do dmsetup remove $d 2>/dev/null || true; done
}
trap cleanup EXIT

dmsetup create dlorigin --table "0 $size linear /dev/vdb 0"
dmsetup create dldelta --table "0 16384 linear /dev/vdc 0"
dd if=/dev/urandom of="$origin" bs=1M count=64 oflag=direct status=none
dd if=/dev/zero of="$delta" bs=1M count=1 status=none
dmsetup create dl --table "$table"
data_blocks=$(field dl 1 | cut -d/ -f2)
ok "a $((data_blocks * 4 / 1024)) MiB data ring over a 64 MiB origin, on_full merge_oldest"

echo "== 1. three times the log, verified"
start=$(date +%s)
fio --name=w --filename="$dev" --rw=randwrite --bsrange=4k-64k --size=64M --io_size=24M \
	--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c --do_verify=1 --randrepeat=1 \
	--minimal >/tmp/fio1 2>&1 &
fio=$!
oldest_seen=
while kill -0 $fio 2>/dev/null; do
	o=$(field dl 3)
	case " $oldest_seen " in *" $o "*) ;; *) oldest_seen="$oldest_seen $o" ;; esac
	sleep 0.5
done
wait $fio || { cat /tmp/fio1; fail "fio: a write or its verify failed"; }
merged=$(field dl 6)
[ "$merged" -gt 0 ] || fail "nothing was merged: $(dmsetup status dl)"
[ "$(field dl 3)" -gt "$merged" ] || fail "oldest seq $(field dl 3) is not past the merged seq $merged"
set -- $oldest_seen
[ $# -ge 3 ] || fail "the oldest seq did not move while fio ran (seen:$oldest_seen)"
merges=$(dmesg | grep -c "to make room" || true)
[ "$merges" -ge 3 ] || fail "only $merges merges of the oldest history"
ok "fio wrote 24 MiB and verified it; $merges merges ($(( $(date +%s) - start )) s), oldest seqs seen:$oldest_seen"

# Wait for a merge that may still run, then compare the origin with a view
# at the merged seq.
wait_merge
origin_is_merged_state
ok "the origin is the device at the merged seq $merged"

dev_sum=$(sum "$dev")
dmsetup remove dl
dlog-tool check "$delta" --origin "$origin" >/tmp/check 2>&1 || { cat /tmp/check; fail "dlog-tool check"; }
grep -q ': 0 fatal, 0 warnings$' /tmp/check || { cat /tmp/check; fail "dlog-tool check: warnings"; }
dmsetup create dl --table "$table"
[ "$(sum "$dev")" = "$dev_sum" ] || fail "the device reads differently after reactivation"
ok "reactivation reads the same device; the log checks clean"

echo "== 2. ext4, twice the log in files"
mkfs.ext4 -q -E nodiscard "$dev"
mkdir -p "$mnt"
mount "$dev" "$mnt"
n=0
while [ $n -lt 16 ]; do
	dd if=/dev/urandom of="$mnt/f$n" bs=1M count=1 status=none
	n=$((n + 1))
done
sync
(cd "$mnt" && sha256sum f* >/tmp/files.sum)
umount "$mnt"
e2fsck -fn "$dev" >/tmp/fsck 2>&1 || { cat /tmp/fsck; fail "e2fsck"; }
mount "$dev" "$mnt"
(cd "$mnt" && sha256sum -c /tmp/files.sum >/dev/null) || fail "files differ after a remount"
umount "$mnt"
ok "16 MiB of files on ext4 through an 8 MiB log: intact, e2fsck clean (merged seq $(field dl 6))"

echo "== 3. a view pins the history it shows"
wait_merge
oldest=$(field dl 3)
dmsetup create dlv --readonly --table "0 $size deltalog $origin $delta 2 view $oldest"
dmesg -c >/dev/null
if dd if=/dev/urandom of="$dev" bs=1M count=16 oflag=direct status=none 2>/dev/null; then
	fail "16 MiB went into an 8 MiB log while a view pinned all of its history"
fi
dmesg | grep -q "no history can be merged to make room (an open view pins it)" ||
	fail "the kernel log does not say why writes failed"
[ "$(field dl 6)" -le "$oldest" ] || fail "merged past the view: merged seq $(field dl 6), view $oldest"
ok "with a view at seq $oldest, writes past the log's size fail and the kernel says why"
dmsetup remove dlv
sleep 1.1	# the target retries merging a second after it found nothing to merge
dd if=/dev/urandom of="$dev" bs=1M count=16 oflag=direct status=none || fail "writes still fail without the view"
ok "without the view, 16 MiB go in again (merged seq $(field dl 6))"

echo "== 4. merges after a rollback"
merge_to() {
	dmsetup message dl 0 merge "$1"
	wait_merge
	[ "$(field dl 6)" = "$1" ] || fail "merge $1: $(dmsetup status dl)"
}
put() { dd if="$1" of="$dev" bs=1M seek="$2" oflag=direct conv=notrunc status=none; }
expect() { dd if="$1" of=/tmp/expected bs=1M seek="$2" conv=notrunc status=none; }
low_sum() { echo 3 >/proc/sys/vm/drop_caches; dd if="$1" bs=1M count=32 status=none | sha256sum | cut -d' ' -f1; }
rollback_to() {
	dmsetup remove dl
	out=$(dlog-tool rollback "$delta" "$1") || fail "dlog-tool rollback to $1"
	echo "$out" | sed -n 's/^seq=//p'
	dmsetup create dl --table "$table"
}
wait_merge
dmsetup remove dl
dd if=/dev/zero of="$delta" bs=1M count=1 status=none
dmsetup create dl --table "$table"
dd if="$origin" of=/tmp/expected bs=1M status=none
for f in a:2 b:1 c:1 d:1 e:1; do
	dd if=/dev/urandom of="/tmp/${f%:*}" bs=1M count="${f#*:}" status=none
done

put /tmp/a 0
expect /tmp/a 0
first=$(field dl 3)
mark=$(dmsetup message dl 0 mark before-b)
mark_sum=$(sum /tmp/expected)
put /tmp/b 1
put /tmp/b 40
[ "$(sum "$dev")" != "$mark_sum" ] || fail "B changed nothing (nothing tested)"
rb=$(rollback_to "$mark")
[ "$(sum "$dev")" = "$mark_sum" ] || fail "after the rollback to the mark the device is not A"
[ "$(field dl 3)" = "$first" ] && [ "$(field dl 4)" = "$rb" ] && [ "$(field dl 6)" = 0 ] ||
	fail "after the rollback (A from seq $first, mark $mark, ROLLBACK $rb): $(dmsetup status dl)"
put /tmp/c 16
expect /tmp/c 16
c_first=$((rb + 1))
newest=$(field dl 4)
[ "$(sum "$dev")" = "$(sum /tmp/expected)" ] || fail "the device is not A+C"
ok "A from seq $first, mark $mark, B rolled back (ROLLBACK $rb), C seq $c_first..$newest"

merge_to "$mark"
[ "$(field dl 3)" = "$rb" ] || fail "merged up to the mark: oldest seq $(field dl 3), expected the ROLLBACK $rb"
[ "$(sum "$origin")" = "$mark_sum" ] || fail "merged up to the mark: the origin is not A"
merge_to "$rb"
[ "$(field dl 3)" = "$c_first" ] || fail "merged up to the ROLLBACK: oldest seq $(field dl 3), expected $c_first"
[ "$(sum "$origin")" = "$mark_sum" ] || fail "merged up to the ROLLBACK: the origin is not A"
merge_to "$newest"
[ "$(field dl 3)" = 0 ] || fail "merged up to the newest: oldest seq $(field dl 3), expected 0"
[ "$(sum "$origin")" = "$(sum /tmp/expected)" ] || fail "merged up to the newest: the origin is not A+C"
[ "$(sum "$dev")" = "$(sum /tmp/expected)" ] || fail "after the merges the device is not A+C"
ok "merges up to the mark, the ROLLBACK and the newest: origin A, A, A+C; oldest seq $rb, $c_first, 0"

put /tmp/d 2
expect /tmp/d 2
mark=$(dmsetup message dl 0 mark before-e)
put /tmp/e 4
put /tmp/e 8
[ "$(low_sum "$dev")" != "$(low_sum /tmp/expected)" ] || fail "E changed nothing (nothing tested)"
rb=$(rollback_to "$mark")
[ "$(low_sum "$dev")" = "$(low_sum /tmp/expected)" ] || fail "after the second rollback the device is not A+C+D"
dmesg -c >/dev/null
fio --name=w --filename="$dev" --offset=32M --size=32M --rw=randwrite --bsrange=4k-64k \
	--io_size=24M --direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c --do_verify=1 \
	--randrepeat=0 --minimal >/tmp/fio4 2>&1 || { cat /tmp/fio4; fail "fio: a write or its verify failed"; }
wait_merge
merged=$(field dl 6)
merges=$(dmesg | grep -c "to make room" || true)
[ "$merged" -gt "$rb" ] && [ "$merges" -ge 3 ] ||
	fail "merge_oldest after the ROLLBACK $rb: $merges merges, merged seq $merged"
[ "$(low_sum "$dev")" = "$(low_sum /tmp/expected)" ] || fail "after fio the lower half is not A+C+D"
origin_is_merged_state
ok "after a rollback (ROLLBACK $rb), fio wrote 24 MiB: $merges merges, merged seq $merged, lower half A+C+D"

merge_to "$(field dl 4)"
dev_sum=$(sum "$dev")
[ "$(sum "$origin")" = "$dev_sum" ] || fail "everything merged: the origin differs from the device"
dmsetup remove dl
[ "$(low_sum "$origin")" = "$(low_sum /tmp/expected)" ] || fail "the origin's lower half is not A+C+D"
dlog-tool check "$delta" --origin "$origin" >/tmp/check 2>&1 || { cat /tmp/check; fail "dlog-tool check"; }
grep -q ': 0 fatal, 0 warnings$' /tmp/check || { cat /tmp/check; fail "dlog-tool check: warnings"; }
ok "everything merged: origin = device, lower half A+C+D; the log checks clean"
