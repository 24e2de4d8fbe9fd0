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
set -eu

fail() { echo "FAIL: $*" >&2; dmesg | grep deltalog | tail -n 20 >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { echo 3 >/proc/sys/vm/drop_caches; sha256sum "$1" | cut -d' ' -f1; }
field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }

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
i=0
while [ "$(field dl 12)" = running ]; do
	sleep 0.2
	i=$((i + 1))
	[ $i -lt 300 ] || fail "a merge never ended"
done
merged=$(field dl 6)
dmsetup create dlv --readonly --table "0 $size deltalog $origin $delta 2 view $merged"
[ "$(sum /dev/mapper/dlv)" = "$(sum "$origin")" ] || fail "the origin differs from a view at the merged seq $merged"
dmsetup remove dlv
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
i=0
while [ "$(field dl 12)" = running ]; do
	sleep 0.2
	i=$((i + 1))
	[ $i -lt 300 ] || fail "a merge never ended"
done
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
