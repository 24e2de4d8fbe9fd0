#!/bin/sh
# VM scenario: a commit (offline merge) stopped by ^C, and everything that
# must then hold until it is finished.
#
# A log of random 4 KiB writes on a 64 MiB origin (/dev/vdb) and delta (/dev/vdc), a
# mark, more writes. `deltalogctl merge --until @m` gets SIGINT while the
# device is down for the merge: the signal is held, the merge stops at the
# next extent, the device comes back (reading exactly as before) in state
# `merging`, and the command exits 1 saying how to finish. Until then,
# rollback and remove are refused (the origin holds part of the commit) and
# a merge to an earlier point is refused; deactivate and activate keep the
# state and say how to finish; running the merge again finishes it: the
# origin equals the device at the mark, the device is unchanged.
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
cleanup() {
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
mark_sum=$(sum "$dev")
dd if=/dev/urandom of="$dev" bs=4k count=64 seek=100 oflag=direct status=none
device_sum=$(sum "$dev")
ok "a log of random 4 KiB writes, a mark, more writes"

# ^C as soon as the device is down for the merge.
deltalogctl merge box --until @m --yes >/tmp/out 2>&1 &
pid=$!
i=0
while dmsetup info box >/dev/null 2>&1; do
	sleep 0.02
	i=$((i + 1))
	[ $i -lt 1500 ] || fail "the merge never took the device down"
done
kill -INT $pid
status=0
wait $pid || status=$?
[ "$status" = 1 ] || { cat /tmp/out; fail "merge after ^C: exit $status, expected 1"; }
grep -q "interrupted after" /tmp/out || { cat /tmp/out; fail "merge after ^C does not say it was interrupted"; }
grep -q "deltalogctl merge box --until '#" /tmp/out || { cat /tmp/out; fail "merge after ^C does not say how to finish"; }
[ -b "$dev" ] || fail "the device did not come back after ^C"
[ "$(field 7)" = merging ] || fail "state $(field 7) after ^C, expected merging"
[ "$(sum "$dev")" = "$device_sum" ] || fail "the device reads differently after the interrupted merge"
[ "$(sum "$origin")" != "$origin_sum" ] || fail "the merge wrote nothing before it stopped (nothing tested)"
ok "^C stops the merge at a safe point: $(grep interrupted /tmp/out | sed 's/.*: interrupted/interrupted/')"

refuse() {
	what=$1
	shift
	before=$(sum "$delta")
	status=0
	"$@" >/tmp/out 2>&1 </dev/null || status=$?
	[ "$status" = 1 ] || { cat /tmp/out; fail "$what: exit $status, expected 1"; }
	grep -q "interrupted" /tmp/out || { cat /tmp/out; fail "$what: the message does not name the interrupted commit"; }
	[ "$(sum "$delta")" = "$before" ] || fail "$what changed the delta"
	[ "$(sum "$dev")" = "$device_sum" ] || fail "$what changed the device"
	ok "$what refused: $(head -n 1 /tmp/out)"
}
refuse "rollback under an unfinished commit" deltalogctl rollback box --to @m --yes
refuse "remove under an unfinished commit" deltalogctl remove box --yes
refuse "a merge to an earlier point" deltalogctl merge box --until "#1" --yes

deltalogctl deactivate box >/dev/null || fail "deactivate"
deltalogctl activate box "$origin" "$delta" >/tmp/out || { cat /tmp/out; fail "activate"; }
grep -q "was interrupted" /tmp/out || { cat /tmp/out; fail "activate does not mention the unfinished commit"; }
[ "$(sum "$dev")" = "$device_sum" ] || fail "the device reads differently after reactivation"
ok "activate keeps the unfinished commit and says so"

deltalogctl merge box --until @m --yes >/tmp/out 2>&1 || { cat /tmp/out; fail "finishing the merge"; }
[ "$(field 7)" = active ] || fail "state $(field 7) after the finished merge"
[ "$(sum "$dev")" = "$device_sum" ] || fail "finishing the merge changed the device"
deltalogctl deactivate box >/dev/null
[ "$(sum "$origin")" = "$mark_sum" ] || fail "after the finished merge the origin is not the device at the mark"
deltalogctl check "$delta" --origin "$origin" >/tmp/out || { cat /tmp/out; fail "check"; }
ok "running the merge again finishes it: the origin equals the device at the mark"
