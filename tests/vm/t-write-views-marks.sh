#!/bin/sh
# VM scenario: marks and read-only views of a device the kernel writes.
#
# `dmsetup message dl 0 mark <label>` appends a MARK record, prints its seq
# and returns with it durable (status: newest == durable == the mark). Read-only
# views (`2 view <seq>`) opened next to the live device, while it goes on
# writing, show exactly the device as it was at each mark, at a plain write's
# seq, and at seq 0 (the origin): whole-device checksums equal the ones taken
# at that time, after overwrites, discards and write-zeroes that came later.
# Views refuse writes and discards (with and without --readonly) and marks,
# and change nothing. Marks survive a reactivation and dlog-tool dump shows
# them with their labels and seqs. Invalid labels (empty, 64 characters, a
# slash, a space, a star, non-ASCII, ...) are refused with a non-zero exit and
# change nothing (newest seq unchanged); labels of 63 characters and of every
# allowed character class are accepted. An XFS made with `mkfs.xfs -s
# size=512` on the stacked device (512-byte origin) mounts, keeps a file
# across a reactivation, checks clean (xfs_repair -n), and a view at a mark
# taken between two versions of the file mounts and shows the old one. The
# origin is never written.
#
# Inside the VM: origin A = the first 64 MiB of /dev/vdb (random data), delta
# A = the first 32 MiB of /dev/vdc; origin B = the next 320 MiB of /dev/vdb
# (XFS wants 300 MB), delta B = the first 128 MiB of /dev/vdd; module loaded.
set -eu

origin_size=131072			# sectors: 64 MiB
xfs_size=655360				# sectors: 320 MiB
delta_size=65536			# sectors: 32 MiB, to keep dlog-tool check quick
origin=/dev/mapper/dlorigin
delta=/dev/mapper/dldelta
dev=/dev/mapper/dl
src=/tmp/src
mnt=/tmp/mnt

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
dsum() { echo 3 >/proc/sys/vm/drop_caches; sum "$1"; }

cleanup() {
	umount "$mnt" 2>/dev/null || true
	for d in dlv dlv2 dl dlx dlxv dlorigin dldelta dlxorigin dlxdelta; do
		dmsetup remove "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

# Field N (1-based, after "<start> <len> deltalog") of the status of device $1.
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }

# write_at SECTOR COUNT SRC_SECTOR: one O_DIRECT write of COUNT sectors of $src.
write_at() {
	dd if="$src" of="$dev" bs=$(($2 * 512)) count=1 skip=$(($3 * 512)) iflag=skip_bytes \
		seek=$(($1 * 512)) oflag=seek_bytes,direct conv=notrunc status=none ||
		fail "write of $2 sectors at sector $1"
}

# mark LABEL: the mark's seq (what dmsetup message printed); it must be a
# number above the newest seq before, and the newest and durable seq after.
mark() {
	before=$(status_field dl 4)
	out=$(dmsetup message dl 0 mark "$1") || fail "mark $1 refused"
	[ -n "$out" ] && [ "$out" -eq "$out" ] 2>/dev/null || fail "mark $1 printed '$out', not a seq"
	[ "$out" -gt "$before" ] || fail "mark $1: seq $out, newest was $before"
	[ "$(status_field dl 4)" = "$out" ] || fail "mark $1: newest seq $(status_field dl 4), mark $out"
	[ "$(status_field dl 5)" = "$out" ] || fail "mark $1: durable seq $(status_field dl 5), mark $out"
	echo "$out"
}

# view NAME SEQ [--readonly]: a view table of origin A at SEQ.
view() {
	dmsetup create "$1" ${3:-} --table "$table 2 view $2" || fail "view at seq $2 refused"
	[ "$(status_field "$1" 7)" = view ] || fail "view state: $(dmsetup status "$1")"
}

# bad_label LABEL: the mark message fails and changes nothing.
bad_label() {
	before=$(dmsetup status dl)
	if dmsetup message dl 0 mark "$1" >/dev/null 2>&1; then
		fail "label '$1' accepted"
	fi
	[ "$(dmsetup status dl)" = "$before" ] || fail "a refused mark '$1' changed the status"
	ok "label '$1' refused, status unchanged"
}

dmsetup targets | grep -q '^deltalog ' || fail "dmsetup targets does not list deltalog"
dmsetup create dlorigin --table "0 $origin_size linear /dev/vdb 0"
dmsetup create dldelta --table "0 $delta_size linear /dev/vdc 0"
size=$(blockdev --getsz "$origin")
echo "== an origin full of random data ($size sectors), an empty delta"
dd if=/dev/urandom of="$origin" bs=1M count=$((size / 2048)) oflag=direct status=none
dd if=/dev/urandom of="$src" bs=1M count=4 status=none
dd if=/dev/zero of="$delta" bs=4096 count=2 oflag=direct status=none
origin_sum=$(sum "$origin")
table="0 $size deltalog $origin $delta"
dmsetup create dl --table "$table"

echo "== writes, a mark, more writes, discards, a mark, writes"
write_at 1000 64 0
write_at 5003 5 100			# not 4 KiB aligned
write_at 40000 2048 200			# 1 MiB
m1=$(mark before)
sum1=$(dsum "$dev")
echo "mark 'before' = seq $m1, device $sum1"
write_at 1016 8 3000			# inside the first write
write_at 39990 20 3100			# across the start of the 1 MiB write
blkdiscard -o $((40500 * 512)) -l $((100 * 512)) "$dev" || fail "blkdiscard"
blkdiscard -z -o $((1040 * 512)) -l $((16 * 512)) "$dev" || fail "blkdiscard -z"
write_at 100000 300 4000
m2=$(mark after.writes:2)
sum2=$(dsum "$dev")
echo "mark 'after.writes:2' = seq $m2, device $sum2"
write_at 1000 2048 5000			# over everything near the start
sync "$dev"
s3=$(status_field dl 4)
[ "$(status_field dl 5)" = "$s3" ] || fail "durable seq $(status_field dl 5) != newest $s3 after a flush"
sum3=$(dsum "$dev")
echo "a plain write: seq $s3, device $sum3"
[ "$sum1" != "$sum2" ] && [ "$sum2" != "$sum3" ] && [ "$sum1" != "$origin_sum" ] ||
	fail "the writes did not change the device"
ok "marks: seqs $m1 and $m2, durable when the message returns"

echo "== views next to the live device, while it goes on writing"
view dlv "$m1" --readonly
view dlv2 "$m2"
write_at 1100 50 6000			# the live device moves on
write_at 60000 128 6100
[ "$(dsum /dev/mapper/dlv)" = "$sum1" ] || fail "view at mark 'before' (seq $m1) differs from the device then"
[ "$(dsum /dev/mapper/dlv2)" = "$sum2" ] || fail "view at mark 'after.writes:2' (seq $m2) differs"
ok "views at both marks equal the device as it was"
got=$(dd if=/dev/mapper/dlv iflag=direct bs=66048 status=none | sha256sum | cut -d' ' -f1)
[ "$got" = "$sum1" ] || fail "view at seq $m1 read with O_DIRECT reads of 64.5 KiB differs"

echo "== views refuse writes, discards and marks, and change nothing"
dmesg -c >/dev/null
for v in dlv dlv2; do
	if dd if="$src" of="/dev/mapper/$v" bs=4096 count=1 seek=10 oflag=direct conv=notrunc status=none 2>/dev/null; then
		fail "a write to view $v succeeded"
	fi
	if dd if="$src" of="/dev/mapper/$v" bs=4096 count=1 seek=10 conv=notrunc,fsync status=none 2>/dev/null; then
		fail "a page-cache write + fsync to view $v succeeded"
	fi
	if blkdiscard -o 0 -l 4096 "/dev/mapper/$v" 2>/dev/null; then
		fail "a discard on view $v succeeded"
	fi
	if dmsetup message "$v" 0 mark on-a-view >/dev/null 2>&1; then
		fail "a mark on view $v succeeded"
	fi
done
[ "$(dsum /dev/mapper/dlv)" = "$sum1" ] || fail "view at seq $m1 changed"
[ "$(dsum /dev/mapper/dlv2)" = "$sum2" ] || fail "view at seq $m2 changed"
ok "writes, discards and marks refused on views (read-only and not)"
dmsetup remove dlv
dmsetup remove dlv2
sync "$dev"
sum4=$(dsum "$dev")
newest=$(status_field dl 4)

echo "== invalid labels are refused and change nothing"
bad_label ""
bad_label "$(printf 'x%.0s' $(seq 64))"
bad_label "bad/label"
bad_label "with space"
bad_label "star*"
bad_label "semi;colon"
bad_label "comma,"
bad_label "at@sign"
bad_label "$(printf 'caf\303\251')"
bad_label "tab$(printf '\t')x"
if dmsetup message dl 0 mark >/dev/null 2>&1; then fail "mark without a label accepted"; fi
if dmsetup message dl 0 mark a b >/dev/null 2>&1; then fail "mark with two labels accepted"; fi
[ "$(status_field dl 4)" = "$newest" ] || fail "refused marks changed the newest seq"
long=$(printf 'L%.0s' $(seq 63))
m3=$(mark "$long")
m4=$(mark "AZaz09._:-")
[ "$m4" -gt "$m3" ] || fail "mark seqs do not increase: $m3 then $m4"
ok "labels of 63 characters and of every allowed class accepted: seqs $m3, $m4"

echo "== marks survive a reactivation; dlog-tool dump shows them"
dmsetup remove dl
dlog-tool dump "$delta" >/tmp/dump.out
for m in "$m1 before" "$m2 after.writes:2" "$m3 $long" "$m4 AZaz09._:-"; do
	grep -qE "^#${m%% *} .* MARK ${m#* }( |$)" /tmp/dump.out ||
		{ grep MARK /tmp/dump.out >&2; fail "dlog-tool dump lacks the mark #${m%% *} ${m#* }"; }
done
n=$(grep -c ' MARK ' /tmp/dump.out)
[ "$n" = 4 ] || { grep MARK /tmp/dump.out >&2; fail "dlog-tool dump shows $n marks, expected 4"; }
dmsetup create dl --table "$table"
[ "$(status_field dl 4)" = "$m4" ] || fail "newest seq after a reactivation: $(status_field dl 4), expected $m4"
[ "$(dsum "$dev")" = "$sum4" ] || fail "device changed across a reactivation"
for v in "$m1 $sum1" "$m2 $sum2" "$s3 $sum3" "0 $origin_sum" "$((m1 - 1)) $sum1"; do
	view dlv "${v%% *}" --readonly
	[ "$(dsum /dev/mapper/dlv)" = "${v#* }" ] || fail "view at seq ${v%% *} after a reactivation differs"
	dmsetup remove dlv
done
ok "views at seqs $m1, $m2, $s3, 0 and $((m1 - 1)) equal the device then"
dmsetup remove dl
dlog-tool check "$delta" --origin "$origin" >/tmp/check.out 2>&1 ||
	{ cat /tmp/check.out >&2; fail "dlog-tool check"; }
grep -q ': 0 fatal, 0 warnings$' /tmp/check.out || { cat /tmp/check.out >&2; fail "dlog-tool check: warnings"; }
[ "$(sum "$origin")" = "$origin_sum" ] || fail "origin A changed"
ok "dlog-tool check clean, origin A unchanged"

echo "== XFS with 512-byte sectors on the stacked device"
modprobe xfs
dmsetup create dlxorigin --table "0 $xfs_size linear /dev/vdb $origin_size"
xorigin=/dev/mapper/dlxorigin
dmsetup create dlxdelta --table "0 $((delta_size * 4)) linear /dev/vdd 0"
dd if=/dev/zero of=/dev/mapper/dlxdelta bs=4096 count=2 oflag=direct status=none
xorigin_sum=$(dd if="$xorigin" bs=1M count=16 status=none | sha256sum)
xtable="0 $xfs_size deltalog $xorigin /dev/mapper/dlxdelta"
dmsetup create dlx --table "$xtable"
[ "$(blockdev --getss /dev/mapper/dlx)" = 512 ] || fail "logical block size of the stacked device"
mkfs.xfs -q -f -s size=512 /dev/mapper/dlx || fail "mkfs.xfs -s size=512"
mkdir -p "$mnt"
mount /dev/mapper/dlx "$mnt" || fail "mount the XFS"
dd if="$src" of="$mnt/file" bs=1M count=2 status=none
v1=$(sum "$mnt/file")
umount "$mnt"
xm=$(dmsetup message dlx 0 mark xfs-v1) || fail "mark on the XFS device"
mount /dev/mapper/dlx "$mnt"
dd if=/dev/urandom of="$mnt/file" bs=1M count=1 conv=notrunc status=none
v2=$(sum "$mnt/file")
umount "$mnt"
dmsetup remove dlx
dmsetup create dlx --table "$xtable"
xfs_repair -n /dev/mapper/dlx >/tmp/xfs_repair.log 2>&1 || { cat /tmp/xfs_repair.log >&2; fail "xfs_repair -n"; }
mount /dev/mapper/dlx "$mnt"
[ "$(sum "$mnt/file")" = "$v2" ] || fail "XFS file changed across a reactivation"
umount "$mnt"
ok "XFS (512-byte sectors) made, mounted, file kept across a reactivation, xfs_repair -n clean"
dmsetup create dlxv --readonly --table "$xtable 2 view $xm"
mount -o ro,norecovery /dev/mapper/dlxv "$mnt" || fail "mount the view at mark xfs-v1"
[ "$(sum "$mnt/file")" = "$v1" ] || fail "the view at mark xfs-v1 does not show the first version"
umount "$mnt"
dmsetup remove dlxv
dmsetup remove dlx
[ "$(dd if="$xorigin" bs=1M count=16 status=none | sha256sum)" = "$xorigin_sum" ] || fail "origin B changed"
ok "a view at mark xfs-v1 (seq $xm) mounts and shows the first version; origin B unchanged"
echo "PASS t-write-views-marks"
