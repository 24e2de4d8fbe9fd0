#!/bin/sh
# VM scenario: read-your-writes through the kernel write path.
#
# Every write to the stacked device is applied to a reference copy too (a file
# in /tmp), and the whole device, read back after dropping the caches, must
# equal the reference byte for byte after each kind of I/O:
#   - writes through the page cache at odd byte offsets and sizes (the page
#     cache reads, modifies and writes whole pages back);
#   - O_DIRECT writes of 512-byte granularity (not 4 KiB aligned), and of
#     4 KiB..1 MiB, partial overwrites, extents straddling logged and unlogged
#     sectors, large bios (4 and 8 MiB, split by the block layer);
#   - discards (blkdiscard) and write-zeroes (blkdiscard -z): zeros after;
#     then writes into the zeroed ranges again.
# Reads with odd O_DIRECT sizes see the same bytes as page-cache reads. The
# device rebuilt by a reactivation (dmsetup remove + create, which recovers
# the log from the delta) is the same device, and `dlog-tool image` of the
# kernel-written delta is that device too; `dlog-tool check` finds the log
# clean. Then concurrent I/O: fio with 3 jobs, iodepth 8, block sizes from
# 512 B to 256 KiB, crc32c verification; again while the device is suspended
# and resumed and its table reloaded, over and over (each suspend a clean
# stop), and the same data verified again after a reactivation; an ext4 on top with files written and synced checks
# clean (e2fsck -fn) and keeps its files across a reactivation. The status
# stays sane throughout (durable == newest after a flush or a reactivation),
# and the origin is never written.
#
# Inside the VM: the origin is the first 64 MiB of /dev/vdb (dm-linear, full
# of random data), the delta the first 128 MiB of /dev/vdc; module loaded.
set -eu

origin_size=131072			# sectors: 64 MiB
delta_size=262144			# sectors: 128 MiB (dlog-tool check reads
					# its whole metadata ring: keep it small)
origin=/dev/mapper/dlorigin
delta=/dev/mapper/dldelta
dev=/dev/mapper/dl
ref=/tmp/ref				# the reference copy of the device
src=/tmp/src				# random data the writes take their bytes from
src_bytes=$((8 << 20))
mnt=/tmp/mnt

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
now() { cut -d' ' -f1 /proc/uptime; }

cleanup() {
	umount "$mnt" 2>/dev/null || true
	for d in dl dlorigin dldelta; do
		dmsetup remove "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

# Field N (1-based, after "<start> <len> deltalog") of the status of device $1.
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }

# put MODE OFF LEN SRC: LEN bytes of $src from byte SRC to byte OFF of the
# device, through the page cache (MODE buf) or with O_DIRECT (MODE direct),
# and to the same place of the reference.
put() {
	case $1 in
	buf) oflag=seek_bytes ;;
	direct) oflag=seek_bytes,direct ;;
	*) fail "put: mode $1" ;;
	esac
	dd if="$src" of="$dev" bs="$3" count=1 skip="$4" iflag=skip_bytes,fullblock \
		seek="$2" oflag="$oflag" conv=notrunc status=none ||
		fail "write of $3 bytes at byte $2 ($1)"
	dd if="$src" of="$ref" bs="$3" count=1 skip="$4" iflag=skip_bytes,fullblock \
		seek="$2" oflag=seek_bytes conv=notrunc status=none
}

# zero_ref OFF LEN: zeros in the reference, where the device got a discard.
zero_ref() {
	dd if=/dev/zero of="$ref" bs="$2" count=1 iflag=fullblock seek="$1" oflag=seek_bytes \
		conv=notrunc status=none
}

# discard OFF LEN / zeroout OFF LEN: blkdiscard and blkdiscard -z (BLKDISCARD
# and BLKZEROOUT), both of which must read back as zeros.
discard() {
	blkdiscard -o "$1" -l "$2" "$dev" || fail "blkdiscard -o $1 -l $2"
	zero_ref "$1" "$2"
}
zeroout() {
	blkdiscard -z -o "$1" -l "$2" "$dev" || fail "blkdiscard -z -o $1 -l $2"
	zero_ref "$1" "$2"
}

# run_ops FILE: every "MODE OFF LEN SRC" line of FILE as a put, the device's
# writes in one xfs_io process (each a single pwrite of LEN bytes), the
# reference's in another.
run_ops() {
	mode=$(awk 'NR == 1 { print $1 }' "$1")
	awk '{ printf "pwrite -q -i %s -s %d -b %d %d %d\n", src, $4, $3, $2, $3 }' src="$src" "$1" >/tmp/ops.xfs_io
	direct=
	[ "$mode" = direct ] && direct=-d
	# shellcheck disable=SC2086 # $direct is empty or one option
	# (Reading commands from stdin, xfs_io warns that it has no termcap.)
	if ! xfs_io $direct "$dev" </tmp/ops.xfs_io >/tmp/xfs_io.out 2>&1 ||
		grep -v -e termcap -e 'dumb terminal' /tmp/xfs_io.out | grep -q .; then
		cat /tmp/xfs_io.out >&2
		fail "xfs_io: a $mode write failed"
	fi
	xfs_io "$ref" </tmp/ops.xfs_io >/dev/null 2>&1 || fail "xfs_io on the reference"
	echo "$(wc -l <"$1") $mode writes"
}

# gen_ops SEED COUNT MODE ALIGN MINLEN MAXLEN: COUNT random writes of MODE,
# offsets and lengths multiples of ALIGN bytes, lengths MINLEN..MAXLEN.
gen_ops() {
	awk -v seed="$1" -v n="$2" -v mode="$3" -v a="$4" -v lo="$5" -v hi="$6" \
		-v dev=$((origin_size * 512)) -v srcb="$src_bytes" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			len = int((lo + rand() * (hi - lo + 1)) / a) * a
			if (len < a) len = a
			off = int(rand() * (dev - len + 1) / a) * a
			from = int(rand() * (srcb - len + 1))
			printf "%s %d %d %d\n", mode, off, len, from
		}
	}'
}

# same_as_ref WHAT [BS]: the whole device equals the reference, read through
# the page cache after dropping it, and, with BS, with O_DIRECT reads of BS
# bytes (reads that start and end inside extents).
same_as_ref() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	want=$(sum "$ref")
	got=$(sum "$dev")
	if [ "$got" != "$want" ]; then
		cmp -l "$dev" "$ref" 2>/dev/null | awk 'NR == 1 { f = $1 } END { print "differing bytes:", NR, "the first at byte", f - 1, "(sector", int((f - 1) / 512) ")" }' >&2
		fail "$1: the device differs from the reference"
	fi
	if [ -n "${2:-}" ]; then
		got=$(dd if="$dev" iflag=direct bs="$2" status=none | sha256sum | cut -d' ' -f1)
		[ "$got" = "$want" ] || fail "$1: O_DIRECT reads of $2 bytes differ from the reference"
		ok "$1: the device equals the reference ($want), O_DIRECT reads of $2 bytes too"
	else
		ok "$1: the device equals the reference ($want)"
	fi
}

# status_sane: the status line has its 12 fields, with used <= total,
# oldest <= newest, durable <= newest, state active; with "durable", also
# durable == newest.
status_sane() {
	st=$(dmsetup status dl)
	echo "status: $st"
	echo "$st" | awk -v durable="${1:-}" '
	function fail(m) { print "FAIL: status: " m > "/dev/stderr"; bad = 1; exit 1 }
	{
		if (NF != 15 || $3 != "deltalog") fail("expected 12 fields after deltalog, got " NF - 3)
		split($4, d, "/"); split($5, m, "/")
		if (d[1] !~ /^[0-9]+$/ || d[2] !~ /^[0-9]+$/ || d[1] + 0 > d[2] + 0) fail("data " $4)
		if (m[1] !~ /^[0-9]+$/ || m[2] !~ /^[0-9]+$/ || m[1] + 0 > m[2] + 0) fail("meta " $5)
		for (i = 6; i <= 9; i++) if ($i !~ /^[0-9]+$/) fail("field " i - 3 " is " $i)
		if ($6 + 0 > $7 + 0) fail("oldest " $6 " > newest " $7)
		if ($8 + 0 > $7 + 0) fail("durable " $8 " > newest " $7)
		if (durable != "" && $8 != $7) fail("durable " $8 " != newest " $7)
		if ($10 != "active") fail("state " $10)
		if ($11 !~ /^[0-9]+$/ || $12 !~ /^[0-9]+$/) fail("index fields " $11 " " $12)
		if ($13 != 0 || $14 != "0/0" || $15 != "none") fail("merge fields " $13 " " $14 " " $15)
	}' || exit 1
}

# reactivate: remove the device (a clean stop) and load it again from the
# delta; the device must read the same.
reactivate() {
	dmsetup remove dl
	dmsetup create dl --table "$table"
}

# logs_agree SHA256 [check]: dlog-tool reads what the kernel wrote, with the
# device removed: its image of the delta is the device (SHA256), and with
# "check" its checker finds the log clean (it reads all the data: slow under
# emulation, so once, at the end).
logs_agree() {
	dmsetup remove dl
	if [ -n "${2:-}" ]; then
		dlog-tool check "$delta" --origin "$origin" >/tmp/check.out 2>&1 ||
			{ cat /tmp/check.out >&2; fail "dlog-tool check: fatal findings"; }
		grep -q ': 0 fatal, 0 warnings$' /tmp/check.out ||
			{ cat /tmp/check.out >&2; fail "dlog-tool check: warnings"; }
		ok "dlog-tool check: $(cat /tmp/check.out)"
	fi
	got=$(dlog-tool image "$delta" "$origin" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$1" ] || fail "dlog-tool image of the delta differs from the device ($got)"
	ok "dlog-tool image of the delta equals the device"
	dmsetup create dl --table "$table"
}

t0=$(now)
dmsetup targets | grep -q '^deltalog ' || fail "dmsetup targets does not list deltalog"
dmsetup create dlorigin --table "0 $origin_size linear /dev/vdb 0"
dmsetup create dldelta --table "0 $delta_size linear /dev/vdc 0"
size=$(blockdev --getsz "$origin")
bytes=$((size * 512))
echo "== an origin full of random data ($size sectors), an empty delta"
dd if=/dev/urandom of="$origin" bs=1M count=$((size / 2048)) oflag=direct status=none
dd if=/dev/zero of="$delta" bs=4096 count=2 oflag=direct status=none
dd if="$origin" of="$ref" bs=1M status=none
dd if=/dev/urandom of="$src" bs=1M count=$((src_bytes >> 20)) status=none
origin_sum=$(sum "$origin")
echo "origin sha256 $origin_sum"
table="0 $size deltalog $origin $delta"
dmsetup create dl --table "$table"
[ "$(blockdev --getss "$dev")" = 512 ] || fail "logical block size $(blockdev --getss "$dev"), expected 512"
same_as_ref "fresh device"

echo "== writes through the page cache at odd byte offsets and sizes"
gen_ops 11 25 buf 1 1 700 >/tmp/ops
gen_ops 12 25 buf 1 701 150000 >>/tmp/ops
run_ops /tmp/ops
same_as_ref "page-cache writes"

echo "== O_DIRECT writes, 512-byte granular (mostly not 4 KiB aligned)"
gen_ops 21 60 direct 512 512 65536 >/tmp/ops
run_ops /tmp/ops
same_as_ref "512-byte granular O_DIRECT writes"

echo "== O_DIRECT writes of 4 KiB .. 1 MiB"
for sz in 4096 8192 16384 32768 65536 131072 262144 524288 1048576; do
	gen_ops "$sz" 3 direct 4096 "$sz" "$sz"
done >/tmp/ops
run_ops /tmp/ops
same_as_ref "4 KiB .. 1 MiB O_DIRECT writes"

echo "== partial overwrites and extents straddling logged and unlogged sectors"
x=$((40 << 20))				# a range no write touched yet
put direct "$x" 65536 1000000			# logged: [x, x + 64K)
put direct $((x + 8192)) 4096 2000000		# inside it
put direct $((x + 62976)) 512 3000000		# its last sector but one
put direct $((x + 65024)) 512 3100000		# its last sector
put direct $((x - 4096)) 8192 4000000		# unlogged -> logged
put direct $((x + 61440)) 16384 5000000		# logged -> unlogged
put buf $((x + 100)) 5000 6000000		# page cache, odd, over all of it
put direct $((x - 1536)) 70656 7000000		# covers every piece, 512-granular
put direct $((x + 1024)) 1536 7100000		# small, inside the cover
for o in 0 512 3584 4096 61440 65536; do	# read pieces that span boundaries
	a=$(dd if="$dev" bs=512 skip=$(((x + o) / 512 - 3)) count=11 iflag=direct status=none | sha256sum)
	b=$(dd if="$ref" bs=512 skip=$(((x + o) / 512 - 3)) count=11 status=none | sha256sum)
	[ "$a" = "$b" ] || fail "11 sectors around byte $((x + o)) differ from the reference"
done
same_as_ref "partial overwrites and straddling extents"

echo "== large bios: 4 MiB and 8 MiB O_DIRECT writes"
put direct $((9 << 20)) $((4 << 20)) 0
put direct $(((20 << 20) + 1536)) $((4 << 20)) 512
put direct $((bytes - (8 << 20))) $((8 << 20)) 0	# up to the last sector
same_as_ref "large bios"

echo "== discards and write-zeroes read back as zeros"
discard $((x - 8192)) 81920			# over every piece written above
zeroout $((9 << 20)) $((1 << 20))		# inside the 4 MiB write
discard $(((11 << 20) + 512)) $((3 << 20))	# straddles its end, 512-granular
zeroout $((30 << 20)) 1536			# three sectors
discard $((bytes - 4096)) 4096			# the last 4 KiB
zeroout 0 $((2 << 20))				# the start of the device
discard $((48 << 20)) $((10 << 20))		# a large range, split by the block layer
same_as_ref "discards and write-zeroes"
echo "== writes into the zeroed ranges"
put direct $((x - 4096)) 12288 123456
put buf $(((11 << 20) + 777)) 3333 234567
put direct $((48 << 20)) 1536 345678
same_as_ref "writes over zeroed ranges" 1049088
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"
ok "origin unchanged"

echo "== the device flushed, then rebuilt from the delta"
sync "$dev"
status_sane durable
[ "$(status_field dl 4)" -gt 0 ] || fail "newest seq is 0 after writes"
[ "$(status_field dl 8)" -gt 0 ] || fail "no index extents after writes"
ref_sum=$(sum "$ref")
reactivate
status_sane durable
same_as_ref "after a reactivation" 3584
logs_agree "$ref_sum"
t1=$(now)
echo "(read-your-writes: $(echo "$t1 - $t0" | bc) s)"

echo "== concurrent I/O: fio, 3 jobs, iodepth 8, 512 B .. 256 KiB, crc32c verify"
fio_args="--ioengine=libaio --direct=1 --rw=randwrite --iodepth=8 --numjobs=3
	--size=8M --offset_increment=16M --bssplit=512/10:4k/35:12k/10:64k/25:256k/20
	--verify=crc32c --verify_fatal=1 --group_reporting --eta=never"
# shellcheck disable=SC2086 # the arguments are split on purpose
fio --name=rw --filename="$dev" $fio_args --do_verify=1 --output=/tmp/fio.log ||
	{ cat /tmp/fio.log >&2; fail "fio write + verify"; }
grep -q 'err= 0' /tmp/fio.log || { cat /tmp/fio.log >&2; fail "fio reported errors"; }
grep -E '^ *(READ|WRITE):' /tmp/fio.log
ok "fio: concurrent writes verified"

echo "== fio again (over half of that), while the device is suspended, resumed and reloaded"
fio_args="$fio_args --offset=4M --randseed=7"
# shellcheck disable=SC2086
fio --name=rw --filename="$dev" $fio_args --do_verify=1 --output=/tmp/fio.log &
fio_pid=$!
cycles=0
while kill -0 "$fio_pid" 2>/dev/null; do
	if [ $((cycles % 2)) = 0 ]; then
		dmsetup suspend dl
	else	# a new table: it loads the log only after the old one stopped
		dmsetup reload dl --table "$table 2 commit_ms $((50 + cycles))"
	fi
	dmsetup resume dl
	cycles=$((cycles + 1))
	sleep 0.2
done
wait "$fio_pid" || { cat /tmp/fio.log >&2; fail "fio write + verify across suspends and reloads"; }
grep -q 'err= 0' /tmp/fio.log || { cat /tmp/fio.log >&2; fail "fio reported errors"; }
[ "$cycles" -ge 2 ] || fail "only $cycles suspends while fio ran"
dmsetup reload dl --table "$table"
dmsetup resume dl
ok "fio verified across $cycles suspend/resume and reload cycles"
sync "$dev"
status_sane durable
dd if="$dev" of="$ref" bs=1M status=none
reactivate
# shellcheck disable=SC2086
fio --name=rw --filename="$dev" $fio_args --verify_only=1 --output=/tmp/fio.log ||
	{ cat /tmp/fio.log >&2; fail "fio verify after a reactivation"; }
grep -q 'err= 0' /tmp/fio.log || { cat /tmp/fio.log >&2; fail "fio reported errors (verify only)"; }
same_as_ref "after fio and a reactivation"
ok "fio: the data verified again after a reactivation"
t2=$(now)
echo "(fio: $(echo "$t2 - $t1" | bc) s)"

echo "== ext4 on the stacked device"
mkfs.ext4 -q -F "$dev"
mkdir -p "$mnt"
mount "$dev" "$mnt"
i=0
for kb in 1 3 4 7 64 100 513 1024 2047 4096; do
	i=$((i + 1))
	dd if=/dev/urandom of="$mnt/f$i" bs=1024 count="$kb" status=none
done
mkdir "$mnt/dir"
dd if="$src" of="$mnt/dir/src" bs=1M count=3 status=none
dd if=/dev/urandom of="$mnt/f1" bs=1024 count=5 seek=1 conv=notrunc status=none
(cd "$mnt" && find . -type f | sort | xargs sha256sum) >/tmp/files.sum
sync
umount "$mnt"
e2fsck -fn "$dev" >/tmp/e2fsck.log 2>&1 || { cat /tmp/e2fsck.log >&2; fail "e2fsck -fn"; }
ok "ext4: $(wc -l </tmp/files.sum) files written, e2fsck -fn clean"
dd if="$dev" of="$ref" bs=1M status=none
reactivate
same_as_ref "ext4 after a reactivation"
mount -o ro "$dev" "$mnt"
(cd "$mnt" && sha256sum -c /tmp/files.sum >/dev/null) || fail "ext4 files changed after a reactivation"
umount "$mnt"
e2fsck -fn "$dev" >/tmp/e2fsck.log 2>&1 || { cat /tmp/e2fsck.log >&2; fail "e2fsck -fn after a reactivation"; }
ok "ext4: files intact and e2fsck -fn clean after a reactivation"
status_sane durable
logs_agree "$(sum "$ref")" check

dmsetup remove dl
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"
ok "origin unchanged: $origin_sum"
echo "(ext4: $(echo "$(now) - $t2" | bc) s)"
echo "PASS t-write-readback"
