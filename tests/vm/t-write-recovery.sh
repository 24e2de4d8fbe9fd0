#!/bin/bash
# VM scenario: what a crash leaves on the delta is recovered as FORMAT.md 6 says.
#
# A crash image is a copy of the delta taken while the target is live (no
# clean stop): records written by the commit_ms timer, with no flush after
# them, are there; the superblock says the log is active. Then:
# 1. The image recovers every record: the device equals the live one, and
#    userspace's image of the delta (dlog-tool image) equals it too.
# 2. The same image with the data of one record that came after the last
#    flush damaged (as if that data never reached the disk): activation cuts
#    the log just before that record (a warning says so), so the device equals
#    the copy saved at the last flush plus the records before the damaged one;
#    the first resume writes a ROLLBACK (FORMAT.md 6.6), later writes go after
#    it, and the next activations and `dlog-tool check` agree, with no check
#    of the data any more.
# 3. A flush covers every write completed before it: after fsync, status
#    says durable == newest.
# The origin is never written.
#
# Inside the VM: /dev/vdb holds the origin (its first 64 MiB, as a dm-linear
# device), /dev/vdc the delta, /dev/vdd the crash images.
set -eu

size=131072		# origin sectors (64 MiB)
origin=/dev/mapper/dlorigin

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
# fsync(2) on the device: a flush (REQ_PREFLUSH) reaches the target.
flush() { dd if=/dev/null of="$1" conv=notrunc,fsync status=none; }
field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }

cleanup() {
	for d in dl dlcrash dlorigin; do
		dmsetup remove "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

dmsetup create dlorigin --table "0 $size linear /dev/vdb 0"
dd if=/dev/urandom of=$origin bs=1M count=64 status=none
origin_sum=$(sum $origin)

dmsetup create dl --table "0 $size deltalog $origin /dev/vdc 2 commit_ms 50"

# Flushed writes, then unflushed ones that the timer commits.
dd if=/dev/urandom of=/dev/mapper/dl bs=4k count=256 seek=100 oflag=direct status=none
flush /dev/mapper/dl
[ "$(field dl 5)" = "$(field dl 4)" ] || fail "after a flush, durable $(field dl 5) != newest $(field dl 4)"
ok "a flush makes every completed write durable (seq $(field dl 5))"
flushed_seq=$(field dl 5)
dd if=/dev/mapper/dl of=/tmp/flushed bs=1M iflag=direct status=none

dd if=/dev/urandom of=/dev/mapper/dl bs=4k count=32 seek=5000 oflag=direct status=none
sleep 1			# > commit_ms: the records are on the delta, unflushed
newest=$(field dl 4)
[ "$newest" -gt "$flushed_seq" ] || fail "no records after the flush"
live_sum=$(sum /dev/mapper/dl)

# The crash image, taken while the target is live.
dd if=/dev/vdc of=/dev/vdd bs=1M iflag=direct oflag=direct status=none

# 1. Everything committed is recovered.
dmsetup create dlcrash --readonly --table "0 $size deltalog $origin /dev/vdd"
[ "$(field dlcrash 4)" = "$newest" ] || fail "crash image: newest $(field dlcrash 4), expected $newest"
[ "$(sum /dev/mapper/dlcrash)" = "$live_sum" ] || fail "crash image differs from the live device"
dmsetup remove dlcrash
[ "$(dlog-tool image /dev/vdd $origin | sha256sum | cut -d' ' -f1)" = "$live_sum" ] ||
	fail "dlog-tool image of the crash image differs from the live device"
ok "crash image: all $newest records recovered; device and dlog-tool image equal the live device"

# 2. Damage the data of the second record after the flush.
victim=$((flushed_seq + 2))
line=$(dlog-tool dump /dev/vdd | grep "^#$victim .* WRITE ")
[ -n "$line" ] || fail "no WRITE record #$victim in the dump"
pos=$(echo "$line" | sed 's/.* data \([0-9]*\) .*/\1/')
osec=$(echo "$line" | sed 's/.* origin \([0-9]*\)+.*/\1/')
data_start=$(dlog-tool sb /dev/vdd | sed -n 's/^data_start=//p')
dd if=/dev/urandom of=/dev/vdd bs=512 count=1 seek=$((data_start + pos)) oflag=direct status=none

dmsetup create dlcrash --table "0 $size deltalog $origin /dev/vdd"
dmesg | grep -q "data of seq $victim .*did not reach the delta" || fail "no warning about the cut at seq $victim"
# Expected: the flushed copy plus the one record kept after the flush.
cp /tmp/flushed /tmp/expected
keep=$(dlog-tool dump /dev/vdd | grep "^#$((flushed_seq + 1)) .* WRITE ")
kpos=$(echo "$keep" | sed 's/.* data \([0-9]*\) .*/\1/')
ksec=$(echo "$keep" | sed 's/.* origin \([0-9]*\)+\([0-9]*\) .*/\1/')
klen=$(echo "$keep" | sed 's/.* origin \([0-9]*\)+\([0-9]*\) .*/\2/')
dd if=/dev/vdd of=/tmp/expected bs=512 skip=$((data_start + kpos)) seek="$ksec" count="$klen" \
	conv=notrunc status=none
[ "$(sum /dev/mapper/dlcrash)" = "$(sum /tmp/expected)" ] ||
	fail "after the cut the device is not the flushed state plus record #$((flushed_seq + 1))"
ok "damaged data of #$victim (origin sector $osec): the log ends at #$((flushed_seq + 1)), the device matches"

dd if=/dev/urandom of=/dev/mapper/dlcrash bs=4k count=16 seek=9000 oflag=direct status=none
after_sum=$(sum /dev/mapper/dlcrash)
dmsetup remove dlcrash
dlog-tool dump /dev/vdd | grep -q "ROLLBACK to #$((flushed_seq + 1))" || fail "no ROLLBACK record after the cut"
dlog-tool check /dev/vdd --origin $origin >/tmp/check || { cat /tmp/check; fail "dlog-tool check after the cut"; }
dmsetup create dlcrash --readonly --table "0 $size deltalog $origin /dev/vdd"
[ "$(sum /dev/mapper/dlcrash)" = "$after_sum" ] || fail "reactivation after the cut differs"
dmsetup remove dlcrash
[ "$(dlog-tool image /dev/vdd $origin | sha256sum | cut -d' ' -f1)" = "$after_sum" ] ||
	fail "dlog-tool image after the cut differs"
ok "ROLLBACK written at resume; later writes survive reactivation; dlog-tool agrees"

dmsetup remove dl
[ "$(sum $origin)" = "$origin_sum" ] || fail "the origin changed"
ok "origin unchanged"
if dmesg | grep -E "WARNING|BUG|Oops" >/dev/null; then fail "kernel splat"; fi
echo "recovery: all good"
