#!/bin/sh
# VM scenario: the kernel target and the userspace format library agree.
#
# 1. Userspace (dlog-tool) formats a delta and writes a history into it:
#    writes of every size and alignment, overlapping writes, zeroed ranges,
#    marks, a rollback, a clean stop. The kernel activates it: its status shows
#    the seqs userspace wrote, the stacked device equals `dlog-tool image`, and
#    a read-only view at each point equals `dlog-tool image --at`.
# 2. The kernel formats an empty delta; `dlog-tool sb` and `dlog-tool check`
#    read it as valid with the uuid and geometry the kernel logged; userspace
#    appends to it and the kernel serves that.
# 3. A small delta whose data ring wraps several times, with userspace merges
#    freeing the oldest records: the kernel serves the wrapped ring.
#    Activated and removed without a write, the kernel leaves the log as it
#    is (only the superblock records the clean stop); then the kernel writes
#    on top of the userspace history (writes, a discard, a mark), and
#    dlog-tool image, dump and image --at read what it appended.
# The kernel never changes the origin.
#
# Inside the VM: /dev/vdb holds the origin (its first 64 MiB, as a dm-linear
# device, to keep whole-device checksums quick under emulation), /dev/vdc and
# /dev/vdd the deltas; module loaded.
set -eu

origin_size=131072
origin=/dev/mapper/dlorigin
delta=/dev/vdc
delta2=/dev/vdd

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
devno() { cat "/sys/class/block/${1#/dev/}/dev"; }
seq_of() { sed -n 's/^seq=//p'; }	# the seq dlog-tool printed
key() { sed -n "s/^$1=//p"; }		# a key=value line of dlog-tool's output

cleanup() {
	for d in dl dlv dlsmall dlorigin; do
		dmsetup remove "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

# Field N (1-based, after "<start> <len> deltalog") of the status of device $1.
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }

# check_device NAME ORIGIN DELTA: the stacked device equals dlog-tool's image,
# read through the page cache and with direct I/O in odd sizes.
check_device() {
	want=$(dlog-tool image "$3" "$2" | sha256sum | cut -d' ' -f1)
	[ "$(sum "/dev/mapper/$1")" = "$want" ] || fail "$1 differs from dlog-tool image"
	got=$(dd if="/dev/mapper/$1" iflag=direct bs=3584 status=none | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$1 read with 3.5 KiB direct I/O differs from dlog-tool image"
}

# check_view ORIGIN DELTA SEQ: a view at SEQ equals dlog-tool image --at SEQ.
check_view() {
	size=$(blockdev --getsz "$1")
	dmsetup create dlv --readonly --table "0 $size deltalog $1 $2 2 view $3"
	[ "$(status_field dlv 7)" = view ] || fail "view state: $(dmsetup status dlv)"
	want=$(dlog-tool image "$2" "$1" --at "$3" | sha256sum | cut -d' ' -f1)
	got=$(dd if=/dev/mapper/dlv iflag=direct bs=61440 status=none | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "view at seq $3 differs from dlog-tool image --at $3"
	dmsetup remove dlv
	ok "view at seq $3 equals dlog-tool image --at $3"
}

dmsetup create dlorigin --table "0 $origin_size linear /dev/vdb 0"
size=$(blockdev --getsz "$origin")
echo "== an origin full of random data ($size sectors)"
dd if=/dev/urandom of="$origin" bs=1M count=$((size / 2048)) oflag=direct status=none
origin_sum=$(sum "$origin")

echo "== 1. userspace writes a history, the kernel serves it"
dd if=/dev/zero of="$delta" bs=4096 count=2 oflag=direct status=none
dlog-tool format "$delta" "$origin" >/tmp/format.out
uuid=$(key uuid </tmp/format.out)
echo "formatted by dlog-tool: uuid $uuid"
dd if=/dev/urandom of=/tmp/w4k bs=4096 count=1 status=none
dd if=/dev/urandom of=/tmp/w1m bs=1M count=1 status=none
dd if=/dev/urandom of=/tmp/w100 bs=512 count=100 status=none

m1=$(dlog-tool mark "$delta" before-anything | seq_of)
dlog-tool append-write "$delta" --origin-sector 16 --file /tmp/w4k --sectors 8 >/dev/null
dlog-tool append-write "$delta" --origin-sector 3 --pattern 0xab --sectors 2 --no-csum >/dev/null
dlog-tool append-write "$delta" --origin-sector 20000 --file /tmp/w1m --sectors 2048 >/dev/null
# Overwrites: inside, across the start, across the end of the 1 MiB write.
dlog-tool append-write "$delta" --origin-sector 20500 --file /tmp/w100 --sectors 100 >/dev/null
dlog-tool append-write "$delta" --origin-sector 19990 --pattern 0x11 --sectors 20 >/dev/null
dlog-tool append-write "$delta" --origin-sector 22040 --pattern 0x22 --sectors 16 >/dev/null
dlog-tool append-zero "$delta" 100 50 --discard >/dev/null
dlog-tool append-zero "$delta" 21000 300 >/dev/null
m2=$(dlog-tool mark "$delta" middle.point:2 | seq_of)
# Enough small writes to fill several metadata blocks, and the last sectors.
i=0
while [ $i -lt 40 ]; do
	dlog-tool append-write "$delta" --origin-sector $((40000 + i * 37)) \
		--pattern $((i + 1)) --sectors $((i % 9 + 1)) >/dev/null
	i=$((i + 1))
done
dlog-tool append-write "$delta" --origin-sector $((size - 8)) --pattern 0x77 --sectors 8 >/dev/null
# A rollback voids two writes; the history goes on after it.
keep=$(dlog-tool append-write "$delta" --origin-sector 60000 --pattern 0x33 --sectors 8 | seq_of)
dlog-tool append-write "$delta" --origin-sector 60000 --pattern 0x44 --sectors 8 >/dev/null
dlog-tool append-write "$delta" --origin-sector 70000 --pattern 0x55 --sectors 64 >/dev/null
rb=$(dlog-tool rollback "$delta" "$keep" | seq_of)
newest=$(dlog-tool append-write "$delta" --origin-sector 60004 --pattern 0x66 --sectors 2 | seq_of)
dlog-tool stop "$delta" >/dev/null
echo "userspace history: marks at $m1 and $m2, rollback $rb to $keep, newest $newest"
# The delta past the superblock (8 KiB: copies A and B).
log_sum() { dd if="$delta" bs=4096 skip=2 count=8190 status=none | sha256sum; }
delta_sum=$(log_sum)

dmsetup create dl --table "0 $size deltalog $origin $delta"
echo "status: $(dmsetup status dl)"
[ "$(status_field dl 3)" = "$m1" ] || fail "oldest seq: expected $m1"
[ "$(status_field dl 4)" = "$newest" ] || fail "newest seq: expected $newest"
[ "$(status_field dl 5)" = "$newest" ] || fail "durable seq: expected $newest"
[ "$(status_field dl 6)" = 0 ] || fail "merged seq: expected 0"
[ "$(status_field dl 7)" = active ] || fail "state: expected active"
ok "status shows the seqs userspace wrote"
check_device dl "$origin" "$delta"
ok "the stacked device equals dlog-tool image"
dmsetup remove dl

for s in 0 "$m1" $((m1 + 3)) "$m2" $((m2 + 20)) "$rb" "$newest"; do
	check_view "$origin" "$delta" "$s"
done
[ "$(log_sum)" = "$delta_sum" ] || fail "the kernel changed the log without a write"
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"
dlog-tool check "$delta" --origin "$origin" >/dev/null || fail "dlog-tool check after the kernel used the delta"
ok "origin and log unchanged, dlog-tool check clean"

echo "== the kernel writes on top of the userspace history"
dmsetup create dl --table "0 $size deltalog $origin $delta"
dd if=/tmp/w1m of=/dev/mapper/dl bs=65536 count=1 seek=$((20480 / 128)) oflag=direct status=none
dd if=/tmp/w100 of=/dev/mapper/dl bs=10240 count=1 seek=$((59995 * 512)) oflag=direct,seek_bytes \
	conv=notrunc status=none
blkdiscard -o $((21100 * 512)) -l $((64 * 512)) /dev/mapper/dl
km=$(dmsetup message dl 0 mark kernel-mark) || fail "mark"
[ "$km" -gt "$newest" ] || fail "the kernel's mark got seq $km, not above $newest"
dd if=/tmp/w4k of=/dev/mapper/dl bs=4096 count=1 seek=1 oflag=direct,dsync status=none
kernel_newest=$(status_field dl 4)
dev_sum=$(sum /dev/mapper/dl)
dmsetup remove dl
[ "$(dlog-tool image "$delta" "$origin" | sha256sum | cut -d' ' -f1)" = "$dev_sum" ] ||
	fail "dlog-tool image differs from what the kernel wrote"
dlog-tool dump "$delta" | grep -qE "^#$km .* MARK kernel-mark( |\$)" || fail "dlog-tool dump lacks the kernel's mark"
for s in "$m2" "$newest" "$km" "$kernel_newest"; do
	check_view "$origin" "$delta" "$s"
done
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"
ok "kernel records after userspace ones: dlog-tool image, dump and views agree (seqs $((newest + 1))..$kernel_newest)"

echo "== 2. the kernel formats, userspace reads"
dd if=/dev/zero of="$delta2" bs=4096 count=2 oflag=direct status=none
dmesg -c >/dev/null
dmsetup create dl --table "0 $size deltalog $origin $delta2"
line=$(dmesg | grep -F "formatted delta $(devno "$delta2")") || fail "no 'formatted delta' line"
echo "kernel: ${line#*deltalog: }"
dmsetup remove dl
dlog-tool sb "$delta2" >/tmp/sb.out
k_uuid=$(echo "$line" | sed -n 's/.* uuid \([0-9a-f-]*\),.*/\1/p')
[ "$(key uuid </tmp/sb.out)" = "$k_uuid" ] || fail "uuid: kernel $k_uuid, dlog-tool $(key uuid </tmp/sb.out)"
echo "$line" | grep -qF "metadata $(key meta_blocks </tmp/sb.out) blocks of $(key meta_block_size </tmp/sb.out) bytes at sector $(key meta_start </tmp/sb.out)," ||
	fail "metadata geometry differs: $(cat /tmp/sb.out)"
echo "$line" | grep -qF "data $(key data_sectors </tmp/sb.out) sectors at sector $(key data_start </tmp/sb.out)," ||
	fail "data geometry differs"
echo "$line" | grep -qF "origin $size sectors lbs 512 fingerprint $(key origin_fingerprint </tmp/sb.out | sed 's/^0x//')" ||
	fail "origin identity differs"
[ "$(key delta_sectors </tmp/sb.out)" = "$(blockdev --getsz "$delta2")" ] || fail "delta_sectors"
[ "$(key next_seq </tmp/sb.out)" = 1 ] || fail "next_seq"
# Format writes generations 1 and 2; the clean stop at removal may add one.
[ "$(key generation </tmp/sb.out)" -ge 2 ] && [ "$(key valid_a </tmp/sb.out)" = 1 ] &&
	[ "$(key valid_b </tmp/sb.out)" = 1 ] || fail "both copies valid, generation at least 2"
dlog-tool check "$delta2" --origin "$origin" >/tmp/check.out || { cat /tmp/check.out; fail "dlog-tool check"; }
ok "dlog-tool reads the kernel's superblock: uuid $k_uuid, same geometry and fingerprint, check clean"
w=$(dlog-tool append-write "$delta2" --origin-sector 8 --file /tmp/w4k --sectors 8 | seq_of)
dmsetup create dl --table "0 $size deltalog $origin $delta2"
[ "$(status_field dl 4)" = "$w" ] || fail "newest seq after userspace append"
check_device dl "$origin" "$delta2"
dmsetup remove dl
ok "userspace appended to the kernel-formatted delta and the kernel serves it"

echo "== 3. a data ring that wraps, userspace merges"
dmsetup create dlsmall --table "0 16384 linear $delta 0"
small=/dev/mapper/dlsmall
dd if=/dev/zero of="$small" bs=4096 count=2 oflag=direct status=none
dlog-tool format "$small" "$origin" --meta-block-size 4096 >/dev/null
i=1
while [ $i -le 20 ]; do
	s=$(( (i * 12347) % (size - 2048) ))
	n=$(dlog-tool append-write "$small" --origin-sector "$s" --file /tmp/w1m --sectors 2048 | seq_of)
	[ $((i % 5)) = 0 ] && dlog-tool append-zero "$small" $((s + 10)) 30 >/dev/null
	if [ $((i % 4)) = 0 ]; then
		dlog-tool merge "$small" "$origin" $((n - 2)) >/dev/null
	fi
	i=$((i + 1))
done
dlog-tool dump "$small" | grep '^data:' || true
merged=$(dlog-tool sb "$small" | key merged_seq)
dmsetup create dl --table "0 $size deltalog $origin $small"
echo "status: $(dmsetup status dl)"
[ "$(status_field dl 6)" = "$merged" ] || fail "merged seq: expected $merged"
check_device dl "$origin" "$small"
dmsetup remove dl
check_view "$origin" "$small" "$merged"
check_view "$origin" "$small" $((merged + 2))
ok "wrapped data ring served"
dmsetup remove dlsmall
echo "PASS t-target-userspace-log"
