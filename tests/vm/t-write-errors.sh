#!/bin/sh
# VM scenario: a full log, low_water, and I/O errors under the write path.
#
# 1. low_water: a dm event is raised when the free data space drops below the
#    mark, and not before (`dmsetup info -o events`, `dmsetup wait`).
# 2. Full log (on_full error): a 12 MiB delta fills up under synchronous
#    writes; the write that does not fit fails with EIO, and so does the same
#    write again; the status says `full`; a flush still succeeds; the device
#    reads exactly what was acknowledged (and, of the write that failed, at
#    most its first sectors: the part of it that fitted before the end of the
#    data ring); after a reactivation too, and `dlog-tool image` of the delta
#    equals it, `dlog-tool check` is clean. Then a 4 MiB delta whose metadata
#    ring fills first, under 512-byte writes: the same, and marks are refused.
# 3. Failed mode: the delta is a dm-linear device switched to dm-error under
#    the target. The next synchronous write fails with EIO, the status says
#    `failed`, a dm event is raised; writes, flushes, discards and marks fail,
#    reads of unlogged data go on; writes still fail once the delta works
#    again (until the table is reloaded). After a reactivation, every write
#    made durable by a flush before the error is there, the acknowledged but
#    unflushed ones form a prefix (each region all old or all new), the failed
#    write is not there, the device works again and the log checks clean.
# 4. Origin read errors (a range of the origin switched to dm-error) reach the
#    reader as EIO for sectors never written; sectors logged over the bad
#    range read fine and can be written; the state stays `active`.
# 5. What t-target-table.sh does not cover: a second writable device over a
#    delta in use is refused; messages on a writable device that cannot take
#    them (full, failed, extra arguments) fail and change nothing.
# The origin is never written.
#
# Inside the VM: the origin is the first 64 MiB of /dev/vdb (random data);
# deltas: 12 MiB of /dev/vdc (full log), the next 4 MiB (full metadata
# ring), 64 MiB of /dev/vdd (errors);
# module loaded.
set -eu

origin_size=131072			# sectors: 64 MiB
small_size=24576			# sectors: 12 MiB
err_size=131072				# sectors: 64 MiB
origin=/dev/mapper/dlorigin
small=/dev/mapper/dlsmall
errdelta=/dev/mapper/dlerrdelta
dev=/dev/mapper/dl
src=/tmp/src
ref=/tmp/ref

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
dsum() { echo 3 >/proc/sys/vm/drop_caches; sum "$1"; }

cleanup() {
	for d in dl dl2 dlsmall dlerrdelta dlorigin; do
		dmsetup remove "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

# Field N (1-based, after "<start> <len> deltalog") of the status of device $1.
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }
events() { dmsetup info -c --noheadings -o events "$1" | tr -d ' '; }

# put DEV OFF LEN SRCOFF [FLAGS]: one O_DIRECT write of LEN bytes of $src at
# byte OFF of DEV (extra oflag FLAGS, e.g. dsync); its status is dd's.
put() {
	dd if="$src" of="$1" bs="$3" count=1 skip="$4" iflag=skip_bytes seek="$2" \
		oflag=seek_bytes,direct${5:+,$5} conv=notrunc status=none 2>/tmp/dd.err
}
# put_ref OFF LEN SRCOFF: the same write to the reference.
put_ref() {
	dd if="$src" of="$ref" bs="$2" count=1 skip="$3" iflag=skip_bytes seek="$1" \
		oflag=seek_bytes conv=notrunc status=none
}
# region DEV OFF LEN: sha256 of LEN bytes at OFF of DEV (a block device is
# read with O_DIRECT).
region() {
	if [ -b "$1" ]; then iflag=skip_bytes,direct; else iflag=skip_bytes; fi
	dd if="$1" bs="$3" count=1 skip="$2" iflag="$iflag" status=none | sha256sum | cut -d' ' -f1
}

# torn_prefix DEV OFF LEN SRCOFF: the range of a write that failed holds its
# first sectors (any number, maybe none: the part of a bio split at the end of
# the data ring that fitted) and the reference's data after them; prints that
# number of sectors and puts them in the reference.
torn_prefix() {
	dd if="$1" of=/tmp/got bs="$3" count=1 skip="$2" iflag=skip_bytes,direct status=none
	dd if="$src" of=/tmp/new bs="$3" count=1 skip="$4" iflag=skip_bytes status=none
	dd if="$ref" of=/tmp/old bs="$3" count=1 skip="$2" iflag=skip_bytes status=none
	j=$(cmp -l /tmp/got /tmp/new 2>/dev/null | awk 'NR == 1 { print int(($1 - 1) / 512); f = 1 } END { if (!f) print '"$(($3 / 512))"' }')
	cmp -l /tmp/got /tmp/old 2>/dev/null | awk -v j="$j" '
		int(($1 - 1) / 512) >= j { printf "sector %d of the failed write is neither old nor new\n", int(($1 - 1) / 512); exit 1 }' >&2 ||
		return 1
	[ "$j" = 0 ] || put_ref "$2" $((j * 512)) "$4"
	echo "$j"
}

# refused_msg DEV MESSAGE...: the message fails and the status stays the same.
refused_msg() {
	d=$1
	shift
	before=$(dmsetup status "$d")
	if dmsetup message "$d" 0 "$@" >/dev/null 2>&1; then
		fail "message accepted on $d ($(echo "$before" | awk '{ print $10 }')): $*"
	fi
	[ "$(dmsetup status "$d")" = "$before" ] || fail "a refused message changed the status: $*"
	ok "message refused, status unchanged: $*"
}

# check_clean DELTA: dlog-tool check finds nothing fatal; with "strict",
# no warning either.
check_clean() {
	dlog-tool check "$1" --origin "$origin" >/tmp/check.out 2>&1 ||
		{ cat /tmp/check.out >&2; fail "dlog-tool check $1: fatal findings"; }
	if [ "${2:-}" = strict ] && ! grep -q ': 0 fatal, 0 warnings$' /tmp/check.out; then
		cat /tmp/check.out >&2
		fail "dlog-tool check $1: warnings"
	fi
	ok "dlog-tool check: $(tail -n 1 /tmp/check.out)"
}

dmsetup targets | grep -q '^deltalog ' || fail "dmsetup targets does not list deltalog"
dmsetup create dlorigin --table "0 $origin_size linear /dev/vdb 0"
size=$(blockdev --getsz "$origin")
echo "== an origin full of random data ($size sectors)"
dd if=/dev/urandom of="$origin" bs=1M count=$((size / 2048)) oflag=direct status=none
dd if=/dev/urandom of="$src" bs=1M count=16 status=none
origin_sum=$(sum "$origin")
dd if="$origin" of="$ref" bs=1M status=none

echo "== 1. low_water raises a dm event when free space drops below it"
dmsetup create dlsmall --table "0 $small_size linear /dev/vdc 0"
dd if=/dev/zero of="$small" bs=4096 count=2 oflag=direct status=none
table="0 $size deltalog $origin $small"
dmsetup create dl --table "$table 2 on_full error"
total=$(status_field dl 1 | cut -d/ -f2)
low=$((total - 512))			# crossed once 2 MiB are used
dmsetup reload dl --table "$table 4 on_full error low_water $low"
dmsetup resume dl
echo "data ring: $total blocks of 4 KiB; low_water $low; status: $(dmsetup status dl)"
ev0=$(events dl)
put "$dev" 0 $((1 << 20)) 0 dsync || { cat /tmp/dd.err >&2; fail "a 1 MiB write"; }
put_ref 0 $((1 << 20)) 0
[ "$(events dl)" = "$ev0" ] || fail "an event before free space dropped below low_water (used $(status_field dl 1))"
put "$dev" $((1 << 20)) $((2 << 20)) $((1 << 20)) dsync || { cat /tmp/dd.err >&2; fail "a 2 MiB write"; }
put_ref $((1 << 20)) $((2 << 20)) $((1 << 20))
timeout 10 dmsetup wait dl "$ev0" >/dev/null || fail "no dm event after free space dropped below low_water"
ev1=$(events dl)
[ "$ev1" -gt "$ev0" ] || fail "event counter $ev0 -> $ev1"
ok "dm event raised ($ev0 -> $ev1) once used data reached $(status_field dl 1)"

echo "== 2. the log fills up: synchronous 64 KiB writes until one fails"
chunk=65536
start=$((8 << 20))
n=0
while [ $n -lt 256 ]; do
	if ! put "$dev" $((start + n * chunk)) "$chunk" $((n * chunk)) dsync; then
		grep -q 'Input/output error' /tmp/dd.err || { cat /tmp/dd.err >&2; fail "write $n failed, but not with EIO"; }
		break
	fi
	put_ref $((start + n * chunk)) "$chunk" $((n * chunk))
	n=$((n + 1))
done
[ $n -lt 256 ] || fail "16 MiB of writes fit in a 12 MiB delta"
[ $n -gt 0 ] || fail "no write fit"
echo "$n writes of 64 KiB acknowledged, write $n failed with EIO; status: $(dmsetup status dl)"
torn=$(torn_prefix "$dev" $((start + n * chunk)) "$chunk" $((n * chunk))) ||
	fail "the failed write left more than a prefix of itself"
[ "$torn" = 0 ] || fail "the write that failed left its first $torn sectors: a refused write must be refused whole"
[ "$(status_field dl 7)" = full ] || fail "state $(status_field dl 7), expected full"
if put "$dev" $((start + n * chunk)) "$chunk" $((n * chunk)) dsync; then
	fail "the same write succeeded at once on a full log"
fi
# Fill what is left with 4 KiB writes.
k=0
while put "$dev" $((k * 4096)) 4096 $((k * 4096 + 512)) dsync; do
	put_ref $((k * 4096)) 4096 $((k * 4096 + 512))
	k=$((k + 1))
	[ $k -lt 64 ] || fail "64 writes of 4 KiB after the log was full"
done
[ "$(status_field dl 7)" = full ] || fail "state $(status_field dl 7), expected full"
sync "$dev" || fail "a flush failed on a full log"
[ "$(status_field dl 5)" = "$(status_field dl 4)" ] || fail "durable != newest after a flush: $(dmsetup status dl)"
want=$(sum "$ref")
[ "$(dsum "$dev")" = "$want" ] || fail "the full device differs from what was acknowledged"
ok "full: EIO, status full, $k more 4 KiB writes fit, flush fine, reads equal what was acknowledged"
refused_msg dl mark a b
dmsetup remove dl
check_clean "$small" strict
[ "$(dlog-tool image "$small" "$origin" | sha256sum | cut -d' ' -f1)" = "$want" ] ||
	fail "dlog-tool image of the full delta differs from what was acknowledged"
dmsetup create dl --table "$table 2 on_full error"
echo "reactivated: $(dmsetup status dl)"
[ "$(dsum "$dev")" = "$want" ] || fail "the full device differs after a reactivation"
if put "$dev" $((start + n * chunk)) "$chunk" $((n * chunk)) dsync; then
	fail "a 64 KiB write succeeded on a full log after a reactivation"
fi
[ "$(dsum "$dev")" = "$want" ] || fail "a refused write changed the device"
dmsetup remove dl
dmsetup remove dlsmall
ok "full log reactivated: same device, dlog-tool image equals it, check clean"

echo "== the metadata ring fills up first: 4000 writes of 512 B on a 4 MiB delta"
dmsetup create dlsmall --table "0 8192 linear /dev/vdc $small_size"
dd if=/dev/zero of="$small" bs=4096 count=2 oflag=direct status=none
dd if="$origin" of="$ref" bs=1M status=none
dmsetup create dl --table "0 $size deltalog $origin $small"
# Write i: sector 2i, filled with byte i % 200 + 1; once the ring is full,
# every later write fails too (nothing frees room).
awk 'BEGIN { for (i = 0; i < 4000; i++) printf "pwrite -q -S 0x%x -b 512 %d 512\n", i % 200 + 1, i * 1024 }' >/tmp/cmds
xfs_io -d "$dev" </tmp/cmds >/tmp/xfs_io.out 2>&1 || true
errors=$(grep -c 'Input/output error' /tmp/xfs_io.out || true)
[ "$errors" -gt 0 ] || fail "4000 records fit in the metadata ring of a 4 MiB delta"
head -n $((4000 - errors)) /tmp/cmds | xfs_io "$ref" >/dev/null 2>&1
echo "$((4000 - errors)) writes fit, $errors failed with EIO; status: $(dmsetup status dl)"
[ "$(status_field dl 7)" = full ] || fail "state $(status_field dl 7), expected full"
refused_msg dl mark no-room-for-me
sync "$dev" || fail "a flush failed on a full log"
want=$(sum "$ref")
[ "$(dsum "$dev")" = "$want" ] || fail "the device differs from the writes that fit"
dmsetup remove dl
check_clean "$small" strict
dmsetup create dl --table "0 $size deltalog $origin $small"
[ "$(dsum "$dev")" = "$want" ] || fail "the device differs after a reactivation"
dmsetup remove dl
dmsetup remove dlsmall
ok "metadata ring full: EIO, status full, mark refused, the writes that fit kept across a reactivation"

echo "== 3. the delta fails under the target"
dmsetup create dlerrdelta --table "0 $err_size linear /dev/vdd 0"
dd if=/dev/zero of="$errdelta" bs=4096 count=2 oflag=direct status=none
dd if="$origin" of="$ref" bs=1M status=none
etable="0 $size deltalog $origin $errdelta 2 commit_ms 60000"
dmsetup create dl --table "$etable"
# Regions of 64 KiB, 1 MiB apart: 0-7 flushed, 8-15 acknowledged only,
# 16 the write that meets the error.
r=0
while [ $r -lt 16 ]; do
	put "$dev" $((r << 20)) "$chunk" $((r * chunk)) || { cat /tmp/dd.err >&2; fail "write to region $r"; }
	[ $r = 7 ] && { sync "$dev" || fail "flush"; }
	r=$((r + 1))
done
durable=$(status_field dl 5)
echo "regions 0-7 flushed (durable seq $durable), 8-15 acknowledged: $(dmsetup status dl)"
ev0=$(events dl)
dmsetup suspend dlerrdelta
dmsetup load dlerrdelta --table "0 $err_size error"
dmsetup resume dlerrdelta
if put "$dev" $((16 << 20)) "$chunk" $((16 * chunk)) dsync; then
	fail "a synchronous write succeeded with the delta failing"
fi
[ "$(status_field dl 7)" = failed ] || fail "state $(status_field dl 7), expected failed"
[ "$(events dl)" -gt "$ev0" ] || fail "no dm event when the target failed"
echo "status: $(dmsetup status dl)"
if put "$dev" $((20 << 20)) 4096 0; then fail "a write succeeded in failed mode"; fi
if sync "$dev" 2>/dev/null; then fail "a flush succeeded in failed mode"; fi
if blkdiscard -o $((21 << 20)) -l 4096 "$dev" 2>/dev/null; then fail "a discard succeeded in failed mode"; fi
refused_msg dl mark in-failed-mode
region "$dev" $((30 << 20)) "$chunk" >/dev/null || fail "a read of unlogged data failed in failed mode"
[ "$(region "$dev" $((30 << 20)) "$chunk")" = "$(region "$origin" $((30 << 20)) "$chunk")" ] ||
	fail "unlogged data reads wrong in failed mode"
ok "failed: EIO, status failed, dm event; writes, flush, discard, mark refused; reads go on"
dmsetup suspend dlerrdelta
dmsetup load dlerrdelta --table "0 $err_size linear /dev/vdd 0"
dmsetup resume dlerrdelta
if put "$dev" $((20 << 20)) 4096 0 dsync; then fail "a write succeeded in failed mode once the delta came back"; fi
[ "$(status_field dl 7)" = failed ] || fail "state $(status_field dl 7) once the delta came back"
ok "still failed once the delta works again"

echo "== the log after the failure"
dmsetup remove dl
check_clean "$errdelta"
dmsetup create dl --table "$etable"
echo "reactivated: $(dmsetup status dl)"
[ "$(status_field dl 7)" = active ] || fail "state $(status_field dl 7) after a reactivation"
[ "$(status_field dl 4)" -ge "$durable" ] || fail "newest seq $(status_field dl 4) < durable seq $durable before the failure"
echo 3 >/proc/sys/vm/drop_caches
r=0
seen=
while [ $r -le 16 ]; do
	got=$(region "$dev" $((r << 20)) "$chunk")
	if [ "$got" = "$(region "$src" $((r * chunk)) "$chunk")" ]; then
		seen="${seen}n"
	elif [ "$got" = "$(region "$origin" $((r << 20)) "$chunk")" ]; then
		seen="${seen}o"
	else
		fail "region $r is neither the old nor the new data"
	fi
	r=$((r + 1))
done
echo "regions 0-16, n = new data, o = origin: $seen"
case $seen in
nnnnnnnn*) ;;
*) fail "a write made durable before the failure is lost" ;;
esac
case $seen in
*o) ;;
*) fail "the write that failed is there" ;;
esac
case $seen in
*on*) fail "the writes that survived are not a prefix" ;;
esac
ok "durable writes kept, unflushed ones a prefix ($seen), the failed write absent"
put "$dev" $((40 << 20)) "$chunk" 0 dsync || fail "a write after the reactivation"
[ "$(region "$dev" $((40 << 20)) "$chunk")" = "$(region "$src" 0 "$chunk")" ] || fail "readback after the reactivation"
ok "the reactivated device writes again"

echo "== 4. origin read errors reach the reader"
# Sectors 32 MiB .. 33 MiB of the origin fail; 32 MiB + 64 KiB is logged first.
bad=$((32 << 20))
put "$dev" $((bad + chunk)) "$chunk" 0 dsync || fail "write over the future bad range"
dmsetup suspend dlorigin
printf '0 %d linear /dev/vdb 0\n%d 2048 error\n%d %d linear /dev/vdb %d\n' \
	$((bad / 512)) $((bad / 512)) $((bad / 512 + 2048)) $((size - bad / 512 - 2048)) \
	$((bad / 512 + 2048)) | dmsetup load dlorigin
dmsetup resume dlorigin
if dd if="$dev" of=/dev/null bs=4096 count=1 skip=$((bad / 4096)) iflag=direct status=none 2>/tmp/dd.err; then
	fail "a read of a bad origin sector succeeded"
fi
grep -q 'Input/output error' /tmp/dd.err || { cat /tmp/dd.err >&2; fail "not EIO from a bad origin sector"; }
[ "$(region "$dev" $((bad + chunk)) "$chunk")" = "$(region "$src" 0 "$chunk")" ] ||
	fail "logged data over bad origin sectors"
put "$dev" $((bad + 4096)) 4096 8192 dsync || fail "a write over bad origin sectors"
[ "$(region "$dev" $((bad + 4096)) 4096)" = "$(region "$src" 8192 4096)" ] ||
	fail "readback of a write over bad origin sectors"
[ "$(status_field dl 7)" = active ] || fail "state $(status_field dl 7) after origin read errors"
dmsetup suspend dlorigin
dmsetup load dlorigin --table "0 $size linear /dev/vdb 0"
dmsetup resume dlorigin
ok "EIO for bad origin sectors, logged ones read and write fine, state active"

echo "== 5. a delta in use is refused to a second writer; messages"
if dmsetup create dl2 --table "0 $size deltalog $origin $errdelta" 2>/dev/null; then
	fail "a second writable device over the same delta was created"
fi
dmsetup remove dl2 2>/dev/null || true
put "$dev" $((41 << 20)) 4096 0 dsync || fail "the first device broke after a refused second one"
refused_msg dl mark
refused_msg dl mark one two
refused_msg dl frobnicate
ok "second writer refused"
dmsetup remove dl
check_clean "$errdelta"
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"
ok "origin unchanged: $origin_sum"
echo "PASS t-write-errors"
