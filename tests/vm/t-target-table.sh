#!/bin/sh
# VM scenario: the deltalog table line.
#
# An origin full of random data and an empty delta: the target formats the
# delta, reads through to the origin byte for byte, prints its table and status
# as documented in docs/dm-deltalog.rst, logs a write to the delta (not the
# origin), keeps the log across reloads and reactivations, never touches the
# origin, and refuses every bad table line and message with its precise error.
# (The write path itself: t-write-*.sh.)
#
# Inside the VM: /dev/vdb origin, /dev/vdc delta, /dev/vdd scratch; module loaded.
set -eu

origin=/dev/vdb
delta=/dev/vdc
scratch=/dev/vdd

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
devno() { cat "/sys/class/block/${1#/dev/}/dev"; }

# Read an unsigned little-endian integer of $3 bytes at byte $2 of $1.
le() { od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '; }
hex() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

cleanup() {
	for d in dl dlv dlbad dlo dlsmall dlother dlshort; do
		dmsetup remove "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

# refused TEXT TABLE: loading TABLE fails and the kernel log holds TEXT.
refused() {
	text=$1
	shift
	dmesg -c >/dev/null
	if dmsetup create dlbad --table "$*" >/dev/null 2>&1; then
		dmsetup remove dlbad
		fail "table accepted: $*"
	fi
	dmsetup remove dlbad >/dev/null 2>&1 || true
	if ! dmesg | grep -qF -- "$text"; then
		dmesg | tail -n 5 >&2
		fail "kernel log lacks \"$text\" for table: $*"
	fi
	ok "refused with \"$text\": $*"
}

# message_fails TEXT MESSAGE...: the message fails and the kernel log holds TEXT.
message_fails() {
	text=$1
	shift
	dmesg -c >/dev/null
	if dmsetup message dl 0 "$@" >/dev/null 2>&1; then
		fail "message accepted: $*"
	fi
	if ! dmesg | grep -qF -- "$text"; then
		dmesg | tail -n 5 >&2
		fail "kernel log lacks \"$text\" for message: $*"
	fi
	ok "message refused with \"$text\": $*"
}

echo "== the target is registered"
dmsetup targets | grep -E '^deltalog +v0\.3\.0$' || fail "no deltalog v0.3.0 in dmsetup targets"

echo "== an origin full of random data, an empty delta"
size=$(blockdev --getsz "$origin")
dd if=/dev/urandom of="$origin" bs=1M count=$((size / 2048)) oflag=direct status=none
dd if=/dev/zero of="$delta" bs=4096 count=2 oflag=direct status=none
origin_sum=$(sum "$origin")
echo "origin $origin: $size sectors, sha256 $origin_sum"

table="0 $size deltalog $origin $delta"
dmesg -c >/dev/null
dmsetup create dl --table "$table"
dmesg | grep -F "formatted delta $(devno "$delta")" || fail "no 'formatted delta' line in the kernel log"

echo "== the superblock the target wrote (FORMAT.md section 3)"
[ "$(hex "$delta" 4 4)" = 444c4c42 ] || fail "copy A magic"
[ "$(hex "$delta" 4100 4)" = 444c4c42 ] || fail "copy B magic"
[ "$(le "$delta" 8 8)" = 0 ] && [ "$(le "$delta" 4104 8)" = 1 ] || fail "blocknr"
[ "$(le "$delta" 24 8)" = 1 ] && [ "$(le "$delta" 4120 8)" = 2 ] || fail "generations"
[ "$(le "$delta" 104 8)" = "$size" ] || fail "origin_sectors"
[ "$(le "$delta" 160 8)" = 1 ] || fail "next_seq"
uuid=$(hex "$delta" 32 16)
[ "$(hex "$delta" 4128 16)" = "$uuid" ] || fail "copies disagree on the uuid"
[ "$uuid" != 00000000000000000000000000000000 ] || fail "zero uuid"
data_sectors=$(le "$delta" 96 8)
meta_blocks=$(le "$delta" 80 8)
echo "uuid $uuid, $meta_blocks metadata blocks, $data_sectors data sectors"
ok "superblock"

echo "== reads go through to the origin"
[ "$(sum /dev/mapper/dl)" = "$origin_sum" ] || fail "stacked device differs from the origin"
[ "$(blockdev --getss /dev/mapper/dl)" = "$(blockdev --getss "$origin")" ] ||
	fail "logical block size differs from the origin's"
ok "whole-device checksum equals the origin's"

echo "== table and status"
expected="0 $size deltalog $(devno "$origin") $(devno "$delta")"
[ "$(dmsetup table dl)" = "$expected" ] || fail "table: '$(dmsetup table dl)', expected '$expected'"
status=$(dmsetup status dl)
echo "status: $status"
expected="0 $size deltalog 0/$((data_sectors / 8)) 0/$meta_blocks 0 0 0 0 active 0 0 0 0/0 none"
[ "$status" = "$expected" ] || fail "status: expected '$expected'"
ok "table and status"

echo "== a write goes to the log, not to the origin"
dd if=/dev/urandom of=/tmp/w4k bs=4096 count=1 status=none
dd if=/tmp/w4k of=/dev/mapper/dl bs=4096 seek=100 oflag=direct,dsync status=none || fail "a write failed"
[ "$(dd if=/dev/mapper/dl bs=4096 skip=100 count=1 iflag=direct status=none | sha256sum)" = \
	"$(sha256sum </tmp/w4k)" ] || fail "the write does not read back"
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the write reached the origin"
dev_sum=$(sum /dev/mapper/dl)
[ "$dev_sum" != "$origin_sum" ] || fail "the write changed nothing"
status=$(dmsetup status dl)
echo "status: $status"
[ "$(echo "$status" | awk '{ print $6, $7, $8, $9 }')" = "1 1 1 0" ] || fail "status after one write: $status"
ok "write logged: seq 1, durable; the origin unchanged"

echo "== reload, remove, reactivate: the log is kept"
dmsetup reload dl --table "$(dmsetup table dl)"
dmsetup resume dl
[ "$(dmsetup table dl)" = "0 $size deltalog $(devno "$origin") $(devno "$delta")" ] || fail "reloaded table"
dmsetup remove dl
dmesg -c >/dev/null
dmsetup create dl --table "$table"
if dmesg | grep -qF "formatted delta"; then fail "reactivation reformatted the delta"; fi
[ "$(hex "$delta" 32 16)" = "$uuid" ] || fail "uuid changed on reactivation"
[ "$(sum /dev/mapper/dl)" = "$dev_sum" ] || fail "stacked device differs after reactivation"
ok "same uuid $uuid, same device"

echo "== optional arguments are printed back (non-default ones) and reload"
dmsetup reload dl --table "$table 8 on_full merge_oldest commit_ms 500 merge_rate 0 low_water 10"
dmsetup resume dl
expected="0 $size deltalog $(devno "$origin") $(devno "$delta") 8 on_full merge_oldest commit_ms 500 low_water 10 merge_rate 0"
[ "$(dmsetup table dl)" = "$expected" ] || fail "table with options: '$(dmsetup table dl)'"
dmsetup reload dl --table "$(dmsetup table dl)"
dmsetup resume dl
[ "$(dmsetup table dl)" = "$expected" ] || fail "table after reloading its own output"
dmsetup reload dl --table "$table 6 on_full error commit_ms 1000 merge_rate 16384"
dmsetup resume dl
[ "$(dmsetup table dl)" = "0 $size deltalog $(devno "$origin") $(devno "$delta")" ] ||
	fail "default options should not be printed"
ok "options"

echo "== a view of seq 0 (the origin) next to the live device"
dmsetup create dlv --readonly --table "$table 2 view 0"
[ "$(dmsetup table dlv)" = "0 $size deltalog $(devno "$origin") $(devno "$delta") 2 view 0" ] ||
	fail "view table: '$(dmsetup table dlv)'"
[ "$(dmsetup status dlv | awk '{ print $10 }')" = view ] || fail "view state: $(dmsetup status dlv)"
[ "$(sum /dev/mapper/dlv)" = "$origin_sum" ] || fail "view differs from the origin"
dmsetup remove dlv
dmsetup create dlv --table "$table 2 view 0"
if dd if=/dev/zero of=/dev/mapper/dlv bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write to a view succeeded"
fi
dmsetup remove dlv
ok "view"

echo "== messages"
message_fails "unknown message: frobnicate" frobnicate
message_fails "mark: invalid label" mark "bad/label"
message_fails "mark: invalid label" mark "$(printf 'x%.0s' $(seq 64))"
message_fails "mark: usage" mark
mark=$(dmsetup message dl 0 mark good-label_1.0:x) || fail "a valid mark was refused"
[ "$mark" = 2 ] || fail "mark printed '$mark', expected seq 2"
ok "mark good-label_1.0:x: seq $mark"
message_fails "merge: invalid sequence number" merge abc
message_fails "merge: usage" merge
message_fails "merge: seq 5 is not in the log" merge 5
message_fails "merge cancel: no merge to cancel" merge cancel
message_fails "merge: usage" merge 1 2

echo "== a second writable device over the delta in use"
refused "Delta is in use by another deltalog device" "$table"
dmsetup remove dl	# the table lines below need the delta to themselves

echo "== bad table lines"
refused "Invalid argument count" "0 $size deltalog $origin"
refused "Too many arguments" "$table 2 view 0 extra"
refused "Invalid number of optional arguments" "$table 3 view 0"
refused "Invalid number of optional arguments" "$table 12 view 0 view 0 view 0 view 0 view 0 view 0"
refused "Invalid number of optional arguments" "$table x"
refused "Error opening origin device" "0 $size deltalog /dev/nonexistent $delta"
refused "Error opening delta device" "0 $size deltalog $origin /dev/nonexistent"
refused "Origin and delta are the same device" "0 $size deltalog $origin $origin"
refused "Unknown optional argument: foo" "$table 2 foo 1"
refused "Invalid commit_ms: 0 (must be 1..60000)" "$table 2 commit_ms 0"
refused "Invalid commit_ms: 60001 (must be 1..60000)" "$table 2 commit_ms 60001"
refused "Invalid commit_ms (must be 1..60000)" "$table 2 commit_ms soon"
refused "commit_ms needs a number" "$table 1 commit_ms"
refused "Duplicate on_full" "$table 4 on_full error on_full merge_oldest"
refused "Duplicate view" "$table 4 view 0 view 0"
refused "Invalid on_full (must be error or merge_oldest)" "$table 2 on_full maybe"
refused "view needs a sequence number" "$table 2 view abc"
refused "view needs a sequence number" "$table 1 view"
refused "View is newer than the log" "$table 2 view 3"
refused "low_water needs a number" "$table 2 low_water lots"
refused "merge_rate needs a number of KiB/s" "$table 1 merge_rate"
refused "Invalid merge_rate (KiB/s, 0 for no limit)" "$table 2 merge_rate fast"
refused "Invalid merge_rate (KiB/s, 0 for no limit)" "$table 2 merge_rate $((1 << 30 + 1))"
refused "Duplicate merge_rate" "$table 4 merge_rate 1 merge_rate 2"
refused "low_water exceeds the data ring" "$table 2 low_water $((data_sectors / 8 + 1))"
refused "Device length must equal origin size" "0 $((size - 8)) deltalog $origin $delta"
refused "Device length must equal origin size" "0 $((size + 8)) deltalog $origin $delta"

echo "== a delta that belongs to another origin"
other_size=$((size - 2048))
dmsetup create dlshort --table "0 $other_size linear $scratch 0"
refused "Delta belongs to an origin of $size sectors, this one has $other_size" \
	"0 $other_size deltalog /dev/mapper/dlshort $delta"
refused "Delta belongs to an origin of another size" \
	"0 $other_size deltalog /dev/mapper/dlshort $delta"
# Same size, other content: the scratch disk padded or cut to the origin's size.
scratch_size=$(blockdev --getsz "$scratch")
dd if=/dev/zero of="$scratch" bs=1M count=16 oflag=direct status=none
if [ "$scratch_size" -ge "$size" ]; then
	dmsetup create dlother --table "0 $size linear $scratch 0"
else
	printf '0 %s linear %s 0\n%s %s zero\n' "$scratch_size" "$scratch" \
		"$scratch_size" $((size - scratch_size)) | dmsetup create dlother
fi
refused "Delta belongs to another origin (fingerprint mismatch)" \
	"0 $size deltalog /dev/mapper/dlother $delta"
dmsetup remove dlother
dmsetup remove dlshort
ok "foreign origins refused"

echo "== damaged superblocks"
dd if="$delta" of=/tmp/sb.img bs=4096 count=2 status=none
flip() { # flip byte $1 of the delta
	b=$(od -An -tu1 -j "$1" -N 1 "$delta" | tr -d ' ')
	printf '%b' "\\0$(printf '%o' $((b ^ 255)))" |
		dd of="$delta" bs=1 seek="$1" conv=notrunc status=none
}
restore() { dd if=/tmp/sb.img of="$delta" bs=4096 count=2 conv=notrunc oflag=direct status=none; }

flip 200
flip 4296
refused "Superblock checksum mismatch" "$table"
restore
flip 4
flip 4100
refused "Bad superblock magic (not a deltalog delta)" "$table"
restore
dd if=/dev/zero of="$delta" bs=4096 count=1 conv=notrunc oflag=direct status=none
refused "First superblock zeroed but second valid; refusing to format" "$table"
restore
# One damaged copy is survivable: the other one is used.
flip 200
dmesg -c >/dev/null
dmsetup create dl --table "$table"
dmesg | grep -qF "superblock copy A ignored: Superblock checksum mismatch" ||
	fail "no warning about the damaged copy"
[ "$(sum /dev/mapper/dl)" = "$dev_sum" ] || fail "reads with one damaged copy"
dmsetup remove dl
restore
ok "damaged superblocks"

echo "== a delta too small to format"
dmsetup create dlsmall --table "0 2048 linear $scratch 0"
dd if=/dev/zero of=/dev/mapper/dlsmall bs=4096 count=2 oflag=direct status=none
refused "Delta too small to format" "0 $size deltalog $origin /dev/mapper/dlsmall"
refused "Delta is not formatted (a view cannot format it)" \
	"0 $size deltalog $origin /dev/mapper/dlsmall 2 view 0"
dmsetup remove dlsmall

echo "== the delta is still good and the origin was never written"
dmsetup create dl --table "$table"
[ "$(hex "$delta" 32 16)" = "$uuid" ] || fail "uuid changed"
[ "$(sum /dev/mapper/dl)" = "$dev_sum" ] || fail "stacked device differs at the end"
dmsetup remove dl
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"
ok "origin unchanged: $origin_sum"
echo "PASS t-target-table"
