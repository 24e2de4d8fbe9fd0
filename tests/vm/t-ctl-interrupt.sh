#!/bin/sh
# VM scenario: an online commit (merge) that is waited for, interrupted,
# refused around, taken down and finished.
#
# A log of random 4 KiB writes on a 64 MiB origin (/dev/vdb) and delta
# (/dev/vdc), a mark, more writes. The table is reloaded with a slow
# merge_rate and a reader keeps the device busy, so the commit takes a
# while. `deltalogctl merge --until @m --wait` gets SIGINT while the kernel
# copies: it stops waiting (exit 1, saying the commit goes on), the commit
# goes on (status: merging, running, progress moves), the device reads
# exactly as before. While it runs: rollback and remove are refused (naming
# the running commit), a merge to an earlier point is refused (unfinished)
# and so is one to a later point (running). deactivate stops the copy, and
# activate says the kernel finishes it, which it does; `merge --wait` to the
# same point then just waits: the origin equals the device at the mark, the
# device is unchanged, and check finds the log clean.
set -eu

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
field() { dmsetup status box | awk -v n="$1" '{ print $(n + 3) }'; }

# Small devices (dm-linear over the disks): whole-device checksums are cheap.
dmsetup create dlorigin --table "0 131072 linear /dev/vdb 0"
dmsetup create dldelta --table "0 131072 linear /dev/vdc 0"
origin=/dev/mapper/dlorigin
delta=/dev/mapper/dldelta
dev=/dev/mapper/box
reader=
cleanup() {
	[ -z "$reader" ] || kill "$reader" 2>/dev/null || true
	for d in box dlorigin dldelta; do dmsetup remove $d 2>/dev/null || true; done
}
trap cleanup EXIT

dd if=/dev/urandom of="$origin" bs=1M count=64 oflag=direct status=none
origin_sum=$(sum "$origin")
dd if=/dev/zero of="$delta" bs=1M count=1 status=none
deltalogctl create box "$origin" "$delta" >/dev/null || fail "create"
fio --name=w --filename="$dev" --rw=randwrite --bs=4k --size=16M --direct=1 --ioengine=psync \
	--randrepeat=1 --minimal >/dev/null || fail "fio"
deltalogctl mark box m >/dev/null || fail "mark"
mark=$(field 4)
mark_sum=$(sum "$dev")
dd if=/dev/urandom of="$dev" bs=4k count=64 seek=100 oflag=direct status=none
device_sum=$(sum "$dev")
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed before any merge"
ok "a log of random 4 KiB writes, a mark (seq $mark), more writes"

# 512 KiB/s while in use: the 16 MiB commit takes about 30 s while a
# steady reader (one process: a loop of dd would leave gaps of more than
# the 100 ms that count as idle under emulation) keeps the device busy.
dmsetup reload box --table "$(dmsetup table box) 2 merge_rate 512"
dmsetup resume box
fio --name=reader --filename="$dev" --rw=randread --bs=4k --direct=1 --time_based --runtime=600 \
	--rate_iops=200 --output=/dev/null >/dev/null 2>&1 &
reader=$!
# fio takes a while to start under emulation: the merge must start busy.
reads() { awk '{ print $1 }' "/sys/block/$(dmsetup info -c --noheadings -o blkdevname box)/stat"; }
first=$(reads)
i=0
while [ $(($(reads) - first)) -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
	[ $i -lt 600 ] || fail "the reader never started"
done

deltalogctl merge box --until @m --yes --wait >/tmp/out 2>&1 &
pid=$!
i=0
while [ "$(field 12)" != running ] || [ "$(field 11)" = "0/0" ] || [ "$(field 11 | cut -d/ -f1)" = 0 ]; do
	sleep 0.05
	i=$((i + 1))
	[ $i -lt 600 ] || { cat /tmp/out; fail "the commit never started copying: $(dmsetup status box)"; }
done
kill -INT $pid
status=0
wait $pid || status=$?
[ "$status" = 1 ] || { cat /tmp/out; fail "merge --wait after ^C: exit $status, expected 1"; }
grep -q "goes on in the background" /tmp/out || { cat /tmp/out; fail "merge --wait after ^C does not say the commit goes on"; }
[ "$(field 7)" = merging ] && [ "$(field 12)" = running ] ||
	fail "after ^C the commit should still run: $(dmsetup status box)"
[ "$(field 10)" = "$mark" ] || fail "merge target $(field 10), expected the mark's seq $mark"
[ "$(sum "$dev")" = "$device_sum" ] || fail "the device reads differently while the commit runs"
ok "^C stops waiting, not the commit: $(dmsetup status box | cut -d' ' -f10-)"

refuse() {
	what=$1
	text=$2
	shift 2
	status=0
	"$@" >/tmp/out 2>&1 </dev/null || status=$?
	[ "$status" = 1 ] || { cat /tmp/out; fail "$what: exit $status, expected 1"; }
	grep -q "$text" /tmp/out || { cat /tmp/out; fail "$what: the message lacks '$text'"; }
	[ "$(sum "$dev")" = "$device_sum" ] || fail "$what changed the device"
	ok "$what refused: $(head -n 1 /tmp/out)"
}
refuse "merge to an earlier point" "is unfinished" deltalogctl merge box --until "#1" --yes
refuse "merge to a later point" "is running" deltalogctl merge box --until now --yes
refuse "rollback under a running commit" "is running" deltalogctl rollback box --to @m --yes
refuse "remove under a running commit" "is running" deltalogctl remove box --yes
[ "$(field 12)" = running ] || fail "the commit ended during the refusals (too fast: nothing more tested)"

# deactivate needs the device closed: the copy then runs at full speed
# until deactivate stops it (usually before the end).
kill "$reader"
wait "$reader" 2>/dev/null || true
reader=
deltalogctl deactivate box >/dev/null || fail "deactivate"
deltalogctl activate box "$origin" "$delta" >/tmp/out || { cat /tmp/out; fail "activate"; }
if grep -q "was interrupted" /tmp/out; then
	grep -q "finishes it in the background" /tmp/out ||
		{ cat /tmp/out; fail "activate does not say the kernel finishes the commit"; }
	ok "deactivate stopped the commit; activate resumes it"
else
	echo "note: the commit finished before deactivate stopped it"
fi
[ "$(sum "$dev")" = "$device_sum" ] || fail "the device reads differently after reactivation"

deltalogctl merge box --until "#$mark" --yes --wait >/tmp/out 2>&1 || { cat /tmp/out; fail "waiting for the commit"; }
grep -Eq "Committed|Nothing to commit" /tmp/out || { cat /tmp/out; fail "merge --wait does not say it committed"; }
[ "$(field 6)" = "$mark" ] || fail "merged seq $(field 6), expected $mark"
[ "$(field 7)" = active ] && [ "$(field 12)" = none ] || fail "after the commit: $(dmsetup status box)"
[ "$(sum "$dev")" = "$device_sum" ] || fail "the commit changed the device"
deltalogctl deactivate box >/dev/null
[ "$(sum "$origin")" = "$mark_sum" ] || fail "after the commit the origin is not the device at the mark"
deltalogctl check "$delta" --origin "$origin" >/tmp/out || { cat /tmp/out; fail "check"; }
ok "the commit finished: the origin equals the device at the mark, the log checks clean"
