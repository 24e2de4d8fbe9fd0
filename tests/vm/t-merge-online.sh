#!/bin/sh
# VM scenario: online merge in the kernel (`dmsetup message dl 0 merge <seq>`).
#
# After every merge up to a target T: the origin (read after dropping the
# caches) equals the device as it was at T; status field 6 (merged seq) is T,
# field 10 (merge target) 0, field 12 (activity) none; field 3 (oldest seq)
# is above T, or 0 when T was the newest record (the log is then empty);
# field 1 (used data blocks) is below what was used when the merge started
# plus what was written while it ran (the history before T was freed); a dm
# event came. Everything is checked by whole-device sha256 sums.
#
# 1. ext4 under load: an ext4 made on the stacked device over a random-filled
#    origin (mkfs discards it all: the merge writes zero extents too), files
#    and fio's files written; mark M taken with the filesystem frozen
#    (fsfreeze), a view at M opened (its sha256 is the state at M). fio (3
#    jobs, iodepth 4, 4-64 KiB random O_DIRECT overwrites of its files,
#    crc32c verify) runs while `merge M` runs, started after fio's first
#    writes. The origin then equals the state at M, and so does the view at
#    M kept open across the merge; fio's verify passes; the files written
#    before M are intact; after umount e2fsck -fn is clean; a reactivation
#    (remove + create) gives the same device, on which fio --verify_only
#    passes; dlog-tool check of the delta is clean with the device removed.
# 2. Each block is copied once: 4000 O_DIRECT 4 KiB writes over 500 distinct
#    blocks, merged up to the newest seq, add exactly 500 x 8 sectors to the
#    write count of the origin's dm node (/sys/block/dm-N/stat, field 7; the
#    merge's flush and its fingerprint read write no sectors), the kernel log
#    says 4000 sectors, and the origin then equals the device.
# 3. Reads are right during a merge: with `merge_rate 512` (KiB/s) and a
#    background load (fio: a 4 KiB O_DIRECT write every 20 ms, of zeros into
#    256 KiB that hold zeros, and a 4 KiB O_DIRECT read every 20 ms of a
#    discarded range: the device stays in use, so the merge is throttled,
#    and its state does not change), whole-device reads (page
#    cache, and O_DIRECT of 64.5 KiB, in turn) during the merge of a log of
#    about 1000 writes (512-byte granular, overwrites), discards and
#    write-zeroes all equal the state at the target: at least 2 of them
#    entirely while the merge runs, and on until it ends. Creating a view at
#    a seq below the running merge's target is refused (dmesg: "merging past
#    seq"). (A round in which the merge went too fast for this is done again
#    on a new log, at most 3 rounds.)
# 4. Views pin history: with a view at V open, `merge W` (W > V) is refused,
#    dmesg names the view ("merge: view 253:N (seq V) shows history before
#    seq W: remove it first"), the status line and the origin do not change,
#    and `merge V2` (V < V2 < W) is refused too; `merge V` is accepted and
#    afterwards the view still shows the state at V, even once new writes
#    have reused the log space the merge freed (the data ring was filled
#    almost full before the merge, so they must).
# 5. Under the same load and merge_rate 512: a merge whose log holds 1 MiB
#    writes (extents of 2048 sectors, copied in 1 MiB jobs) copies at least
#    1 MiB in 6 s. `merge cancel` returns within 5 s: field 12 then
#    says stopped, field 10 keeps the target, field 6 the old merged seq; the
#    origin is the state at the target up to one byte offset (the copy goes
#    in origin order) and the state before the merge after it, and does not
#    change afterwards; the device is right; a merge below the unfinished
#    target is refused (dmesg: "is unfinished"); `merge` again finishes it.
#    `dmsetup suspend` in the middle of a merge returns within 5 s; while
#    suspended the status line and the origin's write count stand still;
#    after the resume the merge goes on and finishes correctly. (A round in
#    which the merge ended before the cancel or the suspend came is done
#    again on a new log, at most 3 rounds.)
# At the end: a reactivation gives the same device, dlog-tool check is clean,
# and the kernel log has no WARNING, BUG or oops. A failed check in part 5
# that leaves the device usable (the three timing checks) is reported and the
# scenario goes on (a stuck cancel or suspend is released by stopping the
# writer); the run still fails at the end. The time of each part is printed.
#
# Inside the VM: part 1: origin = the first 256 MiB of /dev/vdb, delta = the
# first 128 MiB of /dev/vdc; parts 2-5: origin = the next 64 MiB of /dev/vdb,
# delta = the next 32 MiB of /dev/vdc (a data ring of 31 MiB, which wraps).
set -eu

dev=/dev/mapper/dl
mnt=/tmp/mnt
src=/tmp/src				# random bytes the writes take their data from
src_bytes=$((4 << 20))
writer_pid=

fail() {
	echo "FAIL: $*" >&2
	echo "--- dmesg (last 30 lines)" >&2
	dmesg | tail -n 30 >&2
	exit 1
}
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
dsum() { echo 3 >/proc/sys/vm/drop_caches; sum "$1"; }
now() { cut -d' ' -f1 /proc/uptime; }
t_start=$(now)
t_phase=$t_start
# took WHAT: the time since the last call.
took() {
	t=$(now)
	echo "(time: $1: $(awk -v a="$t_phase" -v b="$t" 'BEGIN { printf "%.1f", b - a }') s)"
	t_phase=$t
}

cleanup() {
	if [ -n "$writer_pid" ]; then
		kill -INT "$writer_pid" 2>/dev/null || true
		wait "$writer_pid" 2>/dev/null || true
	fi
	fsfreeze -u "$mnt" 2>/dev/null || true
	umount "$mnt" 2>/dev/null || true
	for d in dlv dlv2 dl dlorigin dldelta dlorigin2 dldelta2; do
		dmsetup remove "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

# Field N (1-based, after "<start> <len> deltalog") of dl's status.
sf() { dmsetup status dl | awk -v n="$1" '{ print $(n + 3) }'; }
used_blocks() { sf 1 | cut -d/ -f1; }
events() { dmsetup info -c --noheadings -o events dl | tr -d ' '; }

# merge SEQ: start a merge; the message returns at once.
merge() {
	dmsetup message dl 0 merge "$1" || fail "merge $1 refused"
}

# wait_merge TARGET [TIMEOUT]: poll the status until the merge up to TARGET
# is done (merged seq TARGET, activity none); fail if it stops or times out.
wait_merge() {
	deadline=$(($(date +%s) + ${2:-180}))
	next=$(($(date +%s) + 5))
	while :; do
		st=$(dmsetup status dl)
		act=$(echo "$st" | awk '{ print $15 }')
		merged=$(echo "$st" | awk '{ print $9 }')
		[ "$act" = none ] && [ "$merged" -ge "$1" ] && break
		[ "$act" = stopped ] && fail "the merge up to $1 stopped: $st"
		echo "$st" | awk '{ split($14, c, "/"); if (c[1] + 0 > c[2] + 0) exit 1 }' ||
			fail "merge progress beyond its total: $st"
		[ "$(date +%s)" -lt "$deadline" ] || fail "the merge up to $1 did not finish in time: $st"
		if [ "$(date +%s)" -ge "$next" ]; then
			echo "merging: $st"
			next=$(($(date +%s) + 5))
		fi
		sleep 0.2
	done
}

# merge_done TARGET SUM USED EVENTS: the checks after every merge (header).
# SUM is the sha256 of the device at TARGET, EVENTS dl's event counter
# before the merge started, USED the used data blocks before it started plus
# the blocks written while it ran, if known (the merge must have freed some
# of the history before TARGET: used data blocks must now be below that).
merge_done() {
	st=$(dmsetup status dl)
	echo "status: $st"
	echo "$st" | awk -v t="$1" -v used="$3" '
	function bad(m) { print "FAIL: after the merge up to " t ": " m > "/dev/stderr"; exit 1 }
	{
		if (NF != 15 || $3 != "deltalog") bad("status has " NF - 3 " fields")
		if ($9 != t) bad("merged seq (field 6) " $9)
		if ($13 != 0 || $14 != "0/0" || $15 != "none") bad("merge fields " $13 " " $14 " " $15)
		if ($10 != "active") bad("state " $10)
		if (!($6 > t || ($6 == 0 && $7 == t))) bad("oldest seq (field 3) " $6 ", newest " $7)
		split($4, d, "/")
		if (d[1] + 0 >= used + 0) bad("used data blocks " d[1] ", not below " used)
	}' || fail "status after the merge up to $1"
	got=$(dsum "$origin")
	[ "$got" = "$2" ] || fail "after the merge up to $1 the origin ($got) is not the state at $1 ($2)"
	[ "$(events)" -gt "$4" ] || fail "no dm event after the merge up to $1 (events $(events), $4 before)"
	ok "merge up to $1: origin = state at $1, merged seq $1, oldest $(sf 3), used blocks $(used_blocks) < $3, dm event"
}

# mark LABEL: the mark's seq.
mark() {
	out=$(dmsetup message dl 0 mark "$1") || fail "mark $1 refused"
	[ -n "$out" ] && [ "$out" -eq "$out" ] 2>/dev/null || fail "mark $1 printed '$out'"
	echo "$out"
}

# ops SEED COUNT ALIGN MINLEN MAXLEN LIMIT: COUNT random writes for xfs_io,
# offsets and lengths multiples of ALIGN bytes, lengths MINLEN..MAXLEN, all
# below byte LIMIT, data from random places of $src.
ops() {
	awk -v seed="$1" -v n="$2" -v a="$3" -v lo="$4" -v hi="$5" -v lim="$6" \
		-v srcb="$src_bytes" -v src="$src" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			len = int((lo + rand() * (hi - lo + 1)) / a) * a
			if (len < a) len = a
			off = int(rand() * (lim - len + 1) / a) * a
			from = int(rand() * (srcb - len + 1))
			printf "pwrite -q -i %s -s %d -b %d %d %d\n", src, from, len, off, len
		}
	}'
}

# run_ops FILE: the xfs_io commands of FILE, O_DIRECT, on the device.
run_ops() {
	if ! xfs_io -d "$dev" <"$1" >/tmp/xfs_io.out 2>&1 ||
		grep -v -e termcap -e 'dumb terminal' /tmp/xfs_io.out | grep -q .; then
		cat /tmp/xfs_io.out >&2
		fail "xfs_io: a write failed"
	fi
}

# writer_start: load that keeps the device in use and does not change its
# state: fio, two jobs, each with an O_DIRECT 4 KiB I/O every 20 ms (no gap
# of 100 ms, after which the merge would count the device as idle and copy
# at full speed): one writes zeros into [$zone, $zone + 256 KiB), which
# holds zeros; one reads [$zone + 512 KiB, $zone + 1 MiB), which was
# discarded, so that the target serves it without disk I/O: its reads never
# wait behind the merge's copies, as a write can, under emulation on a busy
# host for more than 100 ms.
writer_start() {
	fio --direct=1 --ioengine=psync --bs=4k --rate_iops=50 --time_based --runtime=3600 \
		--filename="$dev" --eta=never --output=/tmp/busy.log \
		--name=w --rw=randwrite --offset="$zone" --size=256k --zero_buffers --scramble_buffers=0 \
		--name=r --rw=randread --offset=$((zone + (512 << 10))) --size=512k &
	writer_pid=$!
	# Until it writes.
	n0=$(sf 4)
	i=0
	while [ "$(sf 4)" -lt $((n0 + 3)) ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "the background writer does not write"
		sleep 0.1
	done
}
writer_stop() {
	[ -n "$writer_pid" ] || return 0
	kill -INT "$writer_pid"
	wait "$writer_pid" || true
	writer_pid=
	[ "$(grep -c 'err= 0' /tmp/busy.log)" = 2 ] || { cat /tmp/busy.log >&2; fail "the background load failed"; }
}

# returns_within PID SECONDS: whether process PID (a child) ended in time.
returns_within() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

# late_fail WHAT: a failed check after which the scenario can go on (so that
# one run shows every such failure); the run fails at the end.
late_fails=0
late_fail() {
	echo "FAIL: $*" >&2
	late_fails=$((late_fails + 1))
}

# wait_copied: until the running merge has copied something.
wait_copied() {
	i=0
	while [ "$(sf 11 | cut -d/ -f1)" = 0 ]; do
		[ "$(sf 12)" = running ] || fail "the merge is not running: $(dmsetup status dl)"
		i=$((i + 1))
		[ "$i" -lt 300 ] || fail "the merge copies nothing: $(dmsetup status dl)"
		sleep 0.1
	done
}

# kmark NAME: a line in the kernel log; since NAME: the kernel log after it.
# (The log is never cleared: the check at the end reads all of it.)
kmark() { echo "t-merge-online: $1" >/dev/kmsg; }
since() { dmesg | awk -v m="t-merge-online: $1" 'found; index($0, m) { found = 1 }'; }

# in_dmesg WHAT NAME PATTERN: the kernel log since kmark NAME has PATTERN.
in_dmesg() {
	since "$2" | grep -q -- "$3" || { since "$2" >&2; fail "$1: dmesg lacks '$3'"; }
}

dmsetup targets | grep -q '^deltalog ' || fail "dmsetup targets does not list deltalog"
dd if=/dev/urandom of="$src" bs=1M count=$((src_bytes >> 20)) status=none

###########################################################################
echo "== part 1: ext4 under fio, merged online up to a mark"
size=524288				# sectors: 256 MiB
dmsetup create dlorigin --table "0 $size linear /dev/vdb 0"
dmsetup create dldelta --table "0 262144 linear /dev/vdc 0"	# 128 MiB
origin=/dev/mapper/dlorigin
delta=/dev/mapper/dldelta
dd if=/dev/urandom of="$origin" bs=1M count=$((size / 2048)) oflag=direct status=none
dd if=/dev/zero of="$delta" bs=4096 count=2 oflag=direct status=none
table="0 $size deltalog $origin $delta"
dmsetup create dl --table "$table"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$dev" || fail "mkfs.ext4"
mkdir -p "$mnt"
mount "$dev" "$mnt"
i=0
for kb in 4 17 64 300 1024 2048 4096; do
	i=$((i + 1))
	dd if=/dev/urandom of="$mnt/f$i" bs=1024 count="$kb" status=none
done
mkdir "$mnt/fio"
fio_args="--ioengine=libaio --direct=1 --rw=randwrite --bsrange=4k-64k --iodepth=4
	--numjobs=3 --size=12M --overwrite=1 --fallocate=none --rate=1m --verify=crc32c --verify_fatal=1 --randseed=22
	--group_reporting --eta=never --directory=$mnt/fio"
# Lay out fio's files (written whole) before the mark: fio overwrites them
# during the merge, which copies these older bytes to the origin.
# shellcheck disable=SC2086 # the arguments are split on purpose
fio --name=load $fio_args --create_only=1 --output=/tmp/fio.log ||
	{ cat /tmp/fio.log >&2; fail "fio layout"; }
(cd "$mnt" && find . -name 'f*' -type f | sort | xargs sha256sum) >/tmp/files.sum
sync
took "origin, mkfs, files"

fsfreeze -f "$mnt"
m=$(mark M)
fsfreeze -u "$mnt"
dmsetup create dlv --readonly --table "$table 2 view $m" || fail "view at mark M (seq $m)"
sum_m=$(dsum /dev/mapper/dlv)
echo "mark M = seq $m; the device at M (a view): $sum_m"
took "mark, view sum"

# fio writes 3 x 12 MiB (3072 blocks each), at 1 MiB/s per job so that it
# runs about as long as the merge (which copies 256 MiB, mostly zeros, at 16
# MiB/s while the device is in use).
used=$(($(used_blocks) + 9216))
ev=$(events)
# shellcheck disable=SC2086
fio --name=load $fio_args --do_verify=1 --output=/tmp/fio.log &
fio_pid=$!
n0=$(sf 4)
i=0
while [ "$(sf 4)" -le "$((n0 + 20))" ]; do	# fio is writing
	i=$((i + 1))
	[ "$i" -lt 300 ] || fail "fio does not write: $(dmsetup status dl)"
	kill -0 "$fio_pid" 2>/dev/null || fail "fio ended before the merge started"
	sleep 0.1
done
merge "$m"
kill -0 "$fio_pid" 2>/dev/null || fail "fio ended before the merge started (too fast: give it more to write)"
echo "merge up to $m started while fio writes: $(dmsetup status dl)"
wait_merge "$m"
if kill -0 "$fio_pid" 2>/dev/null; then
	echo "the merge finished while fio was still writing"
else
	echo "fio finished before the merge did"
fi
wait "$fio_pid" || { cat /tmp/fio.log >&2; fail "fio write + verify during the merge"; }
grep -q 'err= 0' /tmp/fio.log || { cat /tmp/fio.log >&2; fail "fio reported errors"; }
grep -E '^ *(READ|WRITE):' /tmp/fio.log
ok "fio (3 jobs, iodepth 4, 4-64 KiB randwrite) verified what it wrote during the merge"
sync
merge_done "$m" "$sum_m" "$used" "$ev"
[ "$(dsum /dev/mapper/dlv)" = "$sum_m" ] || fail "the view at M changed during the merge up to M"
dmsetup remove dlv
ok "the view at M, open across the merge, still shows the state at M"
took "fio + merge"

(cd "$mnt" && sha256sum -c /tmp/files.sum >/dev/null) || fail "files written before M changed"
umount "$mnt"
e2fsck -fn "$dev" >/tmp/e2fsck.log 2>&1 || { cat /tmp/e2fsck.log >&2; fail "e2fsck -fn after the merge"; }
ok "ext4: files intact, e2fsck -fn clean"
sum_dev=$(dsum "$dev")
dmsetup remove dl
dmsetup create dl --table "$table"
[ "$(dsum "$dev")" = "$sum_dev" ] || fail "the device changed across a reactivation"
[ "$(sf 6)" = "$m" ] || fail "merged seq $(sf 6) after a reactivation, expected $m"
mount "$dev" "$mnt"
# shellcheck disable=SC2086
fio --name=load $fio_args --verify_only=1 --output=/tmp/fio.log ||
	{ cat /tmp/fio.log >&2; fail "fio --verify_only after a reactivation"; }
grep -q 'err= 0' /tmp/fio.log || { cat /tmp/fio.log >&2; fail "fio reported errors (verify only)"; }
umount "$mnt"
ok "reactivated: the device is the same, fio --verify_only passes"
dmsetup remove dl
dlog-tool check "$delta" --origin "$origin" >/tmp/check.out 2>&1 ||
	{ cat /tmp/check.out >&2; fail "dlog-tool check"; }
grep -q ': 0 fatal, 0 warnings$' /tmp/check.out || { cat /tmp/check.out >&2; fail "dlog-tool check: warnings"; }
[ "$(dsum "$origin")" = "$sum_m" ] || fail "the origin changed after the merge"
ok "dlog-tool check: $(tail -n 1 /tmp/check.out); the origin is still the state at M"
dmsetup remove dlorigin
dmsetup remove dldelta
took "e2fsck, reactivation, dlog-tool check"

###########################################################################
echo "== part 2: each block is copied once"
size=131072				# sectors: 64 MiB
lim=$((63 << 20))			# random writes stay below
zone=$lim				# the 1 MiB above: for the background load (writer_start)
dmsetup create dlorigin2 --table "0 $size linear /dev/vdb 524288"
dmsetup create dldelta2 --table "0 65536 linear /dev/vdc 262144"	# 32 MiB
origin=/dev/mapper/dlorigin2
delta=/dev/mapper/dldelta2
dd if=/dev/urandom of="$origin" bs=1M count=$((size / 2048)) oflag=direct status=none
dd if=/dev/zero of="$delta" bs=4096 count=2 oflag=direct status=none
table="0 $size deltalog $origin $delta"
dmsetup create dl --table "$table"
ostat=/sys/block/dm-$(dmsetup info -c --noheadings -o minor dlorigin2 | tr -d ' ')/stat
[ -r "$ostat" ] || fail "no $ostat"
# 500 distinct blocks, each written once in turn, then 3500 more writes to
# blocks picked among them.
awk -v src="$src" -v blocks=$((lim / 4096)) 'BEGIN {
	srand(5)
	while (c < 500) {
		b = int(rand() * blocks)
		if (!(b in seen)) { seen[b] = 1; list[c++] = b }
	}
	for (i = 0; i < 4000; i++) {
		b = i < 500 ? list[i] : list[int(rand() * 500)]
		printf "pwrite -q -i %s -s %d -b 4096 %d 4096\n", src, int(rand() * 1023) * 4096, b * 4096
	}
}' >/tmp/ops
[ "$(wc -l </tmp/ops)" -eq 4000 ] || fail "not 4000 writes"
[ "$(awk '{ print $(NF - 1) }' /tmp/ops | sort -u | wc -l)" -eq 500 ] || fail "not 500 distinct blocks"
run_ops /tmp/ops
sync "$dev"
newest=$(sf 4)
sum2=$(dsum "$dev")
used=$(used_blocks)
ev=$(events)
echo "4000 writes over 500 blocks: newest seq $newest, $used data blocks used"
w0=$(awk '{ print $7 }' "$ostat")
kmark part2
merge "$newest"
wait_merge "$newest"
w1=$(awk '{ print $7 }' "$ostat")
merge_done "$newest" "$sum2" "$used" "$ev"
[ "$((w1 - w0))" = 4000 ] || fail "the merge wrote $((w1 - w0)) sectors to the origin, expected 500 x 8 = 4000"
in_dmesg "merge up to $newest" part2 "merged up to seq $newest: 4000 sectors written to the origin"
[ "$(dsum "$dev")" = "$sum2" ] || fail "the device changed during the merge"
ok "4000 writes over 500 blocks: 4000 sectors written to the origin, each block once; origin = device"
took "part 2"

###########################################################################
echo "== part 3: whole-device reads during a merge throttled to 512 KiB/s"
dmsetup reload dl --table "$table 2 merge_rate 512"
dmsetup resume dl
dmsetup table dl | grep -q 'merge_rate 512' || fail "table: $(dmsetup table dl)"
dd if=/dev/zero of="$dev" bs=256k count=1 seek=$((zone / 262144)) oflag=direct conv=notrunc status=none
blkdiscard -o $((zone + (512 << 10))) -l $((512 << 10)) "$dev"
# The merge counts the device as in use when a bio was mapped in the last
# 100 ms: if the emulated machine stalls that long, it copies at full speed
# for a moment. A round in which fewer than 2 reads ran entirely during the
# merge, or that ended before the view was tried, proves too little: then
# another one, on a new log (at most 3).
round=0
while :; do
	round=$((round + 1))
	ops $((30 + round * 10 + 1)) 500 512 512 16384 "$lim" >/tmp/ops		# 512-byte granular
	ops $((30 + round * 10 + 2)) 250 4096 4096 16384 "$lim" >>/tmp/ops
	ops $((30 + round * 10 + 3)) 250 512 512 8192 $((1 << 20)) >>/tmp/ops	# overwrites in the first MiB
	run_ops /tmp/ops
	mid=$(mark "T3.$round-mid")
	blkdiscard -o $(((5 + round) << 20)) -l $((256 << 10)) "$dev"
	blkdiscard -o $((((20 + round) << 20) + 1536)) -l $((300 << 10)) "$dev"
	blkdiscard -z -o $(((40 + round) << 20)) -l $((128 << 10)) "$dev"
	ops $((30 + round * 10 + 4)) 30 512 512 16384 "$lim" >/tmp/ops		# over some of them
	run_ops /tmp/ops
	t3=$(mark "T3.$round")
	sum3=$(dsum "$dev")
	used=$(used_blocks)
	n_before=$(sf 4)
	ev=$(events)
	echo "round $round: mark T3.$round = seq $t3, device $sum3, $used data blocks used"
	writer_start
	t_merge=$(now)
	merge "$t3"
	# A view below the running merge's target is refused.
	viewed=0
	kmark "part3-view-$round"
	if wait_copied; then
		if dmsetup create dlv2 --table "$table 2 view $mid" 2>/dev/null; then
			fail "a view at seq $mid created while a merge up to $t3 runs"
		fi
		dmsetup info dlv2 >/dev/null 2>&1 && fail "a device dlv2 is left behind"
		if [ "$(sf 12)" = running ]; then
			in_dmesg "view at $mid during the merge up to $t3" "part3-view-$round" \
				"is merging past seq $mid"
			viewed=1
		fi
	fi
	reads=0
	during=0
	spanned=0
	while :; do
		a=$(sf 12)
		if [ $((reads % 2)) = 0 ]; then
			got=$(dsum "$dev")
			how="page cache"
		else
			echo 3 >/proc/sys/vm/drop_caches
			got=$(dd if="$dev" iflag=direct bs=66048 status=none | sha256sum | cut -d' ' -f1)
			how="O_DIRECT 64.5 KiB"
		fi
		b=$(sf 12)
		reads=$((reads + 1))
		[ "$got" = "$sum3" ] || fail "read $reads ($how) during the merge differs from the state at T3.$round"
		echo "read $reads ($how): right; merge before: $a, after: $b ($(sf 11) blocks)"
		[ "$a" = running ] && [ "$b" = running ] && during=$((during + 1))
		[ "$a" = running ] && [ "$b" = none ] && spanned=1
		[ "$b" = running ] || break
		[ "$reads" -lt 60 ] || fail "the merge still runs after 60 whole-device reads"
	done
	wait_merge "$t3"
	echo "the merge took $(awk -v a="$t_merge" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s under load"
	writer_stop
	merge_done "$t3" "$sum3" $((used + $(sf 4) - n_before)) "$ev"
	[ "$(dsum "$dev")" = "$sum3" ] || fail "the device after the merge"
	[ "$during" -lt 2 ] || [ "$viewed" = 0 ] || break
	[ "$round" -lt 3 ] || fail "in 3 rounds, the merge never lasted 2 whole-device reads and a view's creation"
	echo "the merge went too fast ($during whole-device reads entirely during it, view tried: $viewed): another round"
done
ok "a view at seq $mid is refused while a merge up to $t3 runs (dmesg: merging past seq $mid)"
ok "$reads whole-device reads equal the state at T3.$round, $during of them entirely during the merge$([ "$spanned" = 1 ] && echo ', one across its end')"
took "part 3"

###########################################################################
echo "== part 4: a view pins history"
# Fill the data ring almost full, so that writes after the merge up to V
# must reuse the space it frees.
total=$(sf 1 | cut -d/ -f2)
fill=$(((total - $(used_blocks) - 640) / 256))	# MiB, leaving 2.5 MiB free
[ "$fill" -ge 8 ] || fail "data ring too small: $(dmsetup status dl)"
awk -v n="$fill" -v lim="$lim" -v src="$src" 'BEGIN {
	srand(41)
	for (i = 0; i < n; i++)
		printf "pwrite -q -i %s -s %d -b 1048576 %d 1048576\n", src,
			int(rand() * 3072) * 1024, int(rand() * (lim / 512 - 2048)) * 512
}' >/tmp/ops
run_ops /tmp/ops
v=$(mark V)
sum_v=$(dsum "$dev")
ops 42 20 4096 4096 16384 "$lim" >/tmp/ops
run_ops /tmp/ops
v2=$(mark V2)
ops 43 20 4096 4096 16384 "$lim" >/tmp/ops
run_ops /tmp/ops
w=$(mark W)
echo "marks V = $v (after $fill MiB), V2 = $v2, W = $w; $(sf 1) data blocks used"
dmsetup create dlv --table "$table 2 view $v" || fail "view at V (seq $v)"
[ "$(dsum /dev/mapper/dlv)" = "$sum_v" ] || fail "the view at V is not the device at V"
st=$(dmsetup status dl)
sum_o=$(dsum "$origin")
kmark part4
if dmsetup message dl 0 merge "$w" 2>/dev/null; then
	fail "merge $w accepted with a view at $v open"
fi
# The kernel names a device by its number (dm_device_name()).
vname=$(dmsetup info -c --noheadings -o major,minor --separator : dlv | tr -d ' ')
in_dmesg "merge $w with a view at $v" part4 "merge: view $vname (seq $v) shows history before seq $w: remove it first"
[ "$(dmsetup status dl)" = "$st" ] || fail "the refused merge changed the status: $(dmsetup status dl)"
[ "$(dsum "$origin")" = "$sum_o" ] || fail "the refused merge changed the origin"
ok "merge $w refused with the view at $v open (dmesg names it); status and origin unchanged"
if dmsetup message dl 0 merge "$v2" 2>/dev/null; then
	fail "merge $v2 accepted with a view at $v open"
fi
used=$(used_blocks)
free_before=$((total - used))
ev=$(events)
merge "$v"
wait_merge "$v"
merge_done "$v" "$sum_v" "$used" "$ev"
# Write more than the space that was free before the merge: the ring moves
# on into what the merge freed.
n=$((free_before / 256 + 2))
awk -v n="$n" -v lim="$lim" -v src="$src" 'BEGIN {
	srand(44)
	for (i = 0; i < n; i++)
		printf "pwrite -q -i %s -s %d -b 1048576 %d 1048576\n", src,
			int(rand() * 3072) * 1024, int(rand() * (lim / 512 - 2048)) * 512
}' >/tmp/ops
run_ops /tmp/ops
echo "$n MiB written after the merge (free before it: $free_before blocks): $(sf 1) data blocks used"
[ "$(dsum /dev/mapper/dlv)" = "$sum_v" ] || fail "the view at V changed after the merge up to V and later writes"
dmsetup remove dlv
ok "merge $v accepted with the view at $v open; the view still shows the state at V after writes reused the freed space"
took "part 4"

###########################################################################
echo "== part 5: progress under load, merge cancel, a suspend during a merge"
# The log since V holds the 1 MiB writes above: extents of 2048 sectors,
# copied as jobs of 1 MiB. Under constant load at 512 KiB/s such a job takes
# 2 s; 6 s are enough for about 3 MiB (768 blocks), and the few small writes
# before them (in origin order) are far less than the 256 blocks asked for.
k0=$(mark K0)
sum_k0=$(dsum "$dev")
used=$(used_blocks)
n_before=$(sf 4)
ev=$(events)
writer_start
merge "$k0"
sleep 6
st=$(dmsetup status dl)
echo "after 6 s under load: $st"
copied=$(echo "$st" | awk '{ split($14, c, "/"); print c[1] }')
if [ "$(echo "$st" | awk '{ print $15 }')" = running ] && [ "$copied" -lt 256 ]; then
	late_fail "a merge throttled to 512 KiB/s copied only $copied blocks in 6 s while the device was in use (expected about 700: extents of 1 MiB make no progress under load?): $st"
fi
writer_stop
wait_merge "$k0"
merge_done "$k0" "$sum_k0" $((used + $(sf 4) - n_before)) "$ev"
took "part 5: progress under load"

# merge cancel. The merge must still run when the cancel comes: a round in
# which it had finished proves nothing; then another one (at most 3).
round=0
while :; do
	round=$((round + 1))
	ops $((50 + round)) 300 4096 4096 32768 "$lim" >/tmp/ops
	head -n 150 /tmp/ops >/tmp/ops1
	tail -n 150 /tmp/ops >/tmp/ops2
	run_ops /tmp/ops1
	k1=$(mark "K1.$round")
	run_ops /tmp/ops2
	k=$(mark "K.$round")
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$dev" of=/tmp/at_k bs=1M status=none
	sum_k=$(sum /tmp/at_k)
	dd if="$origin" of=/tmp/before bs=1M status=none
	sum_before=$(sum /tmp/before)
	m0=$(sf 6)
	used=$(used_blocks)
	n_before=$(sf 4)
	ev=$(events)
	echo "round $round: marks K1.$round = $k1, K.$round = $k; $used data blocks used"
	writer_start
	merge "$k"
	cancel_rc=1
	if wait_copied; then
		t_cancel=$(now)
		dmsetup message dl 0 merge cancel &
		cancel_pid=$!
		if ! returns_within "$cancel_pid" 5; then
			late_fail "merge cancel has not returned after 5 s while the device is in use: $(dmsetup status dl)"
			sleep 2
			echo "2 s later: $(dmsetup status dl); stopping the writer"
			writer_stop
		fi
		cancel_rc=0
		wait "$cancel_pid" || cancel_rc=$?
		echo "merge cancel took $(awk -v a="$t_cancel" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s (exit $cancel_rc)"
	fi
	writer_stop
	st=$(dmsetup status dl)
	if [ "$cancel_rc" = 0 ] && [ "$(echo "$st" | awk '{ print $15 }')" = stopped ]; then
		break
	fi
	# It finished first.
	echo "cancel after the end of the merge ($st)"
	wait_merge "$k"
	merge_done "$k" "$sum_k" $((used + $(sf 4) - n_before)) "$ev"
	[ "$round" -lt 3 ] || fail "in 3 rounds, the merge always ended before the cancel"
	echo "the merge up to $k ended before the cancel: another round"
done
echo "cancelled: $st"
echo "$st" | awk -v k="$k" -v m="$m0" '{ exit !($15 == "stopped" && $13 == k && $9 == m) }' ||
	fail "after merge cancel: activity, target, merged seq: $st"
echo 3 >/proc/sys/vm/drop_caches
# The copy goes in origin order and waits for every job at a safe point: the
# origin is the state at K up to a point and the state before after it.
if first=$(cmp "$origin" /tmp/at_k 2>/dev/null); then
	fail "the origin is the state at K: the merge up to $k finished although cancelled"
fi
first=$(echo "$first" | awk '{ for (i = 1; i < NF; i++) if ($i == "byte" || $i == "char") { sub(",", "", $(i + 1)); print $(i + 1) } }')
[ -n "$first" ] || fail "cmp"
cut=$(((first - 1) / 512 * 512))
cmp -i "$cut" "$origin" /tmp/before >/dev/null 2>&1 ||
	fail "after the cancel the origin differs from the state before the merge after byte $cut (where it stops being the state at K)"
sum_c=$(sum "$origin")
[ "$sum_c" != "$sum_before" ] || fail "nothing was merged before the cancel"
copied=$(echo "$st" | awk '{ print $14 }')
[ "$(dsum "$dev")" = "$sum_k" ] || fail "the device after the cancel is not the state at K"
kmark part5-below
if dmsetup message dl 0 merge "$k1" 2>/dev/null; then
	fail "merge $k1 accepted below the unfinished merge up to $k"
fi
in_dmesg "merge $k1 below an unfinished merge" part5-below "is unfinished"
sleep 1
[ "$(dsum "$origin")" = "$sum_c" ] || fail "the origin changed after the cancel"
ok "merge cancel: stopped after $copied blocks; origin = state at K below byte $cut, untouched from there on, and stays so; device right; merge $k1 refused"
merge "$k"
wait_merge "$k"
merge_done "$k" "$sum_k" $((used + $(sf 4) - n_before)) "$ev"
rm -f /tmp/at_k /tmp/before
took "part 5: cancel"

# A suspend in the middle of a merge; again, a round in which the merge had
# finished before proves nothing.
round=0
while :; do
	round=$((round + 1))
	ops $((60 + round)) 300 4096 4096 32768 "$lim" >/tmp/ops
	run_ops /tmp/ops
	s=$(mark "S.$round")
	sum_s=$(dsum "$dev")
	used=$(used_blocks)
	n_before=$(sf 4)
	ev=$(events)
	echo "round $round: mark S.$round = $s; $used data blocks used"
	writer_start
	merge "$s"
	suspended=0
	if wait_copied; then
		t_susp=$(now)
		dmsetup suspend dl &
		suspend_pid=$!
		if ! returns_within "$suspend_pid" 5; then
			late_fail "dmsetup suspend has not returned after 5 s while the device is in use: $(dmsetup status dl)"
			sleep 2
			echo "2 s later: $(dmsetup status dl); stopping the writer"
			writer_stop
		fi
		wait "$suspend_pid" || fail "dmsetup suspend failed"
		echo "dmsetup suspend took $(awk -v a="$t_susp" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"
		suspended=1
	fi
	st=$(dmsetup status dl)
	echo "$st" | awk -v s="$s" '{ exit !($13 == s && $15 != "none") }' && break
	# It finished first.
	echo "suspended after the end of the merge ($st)"
	[ "$suspended" = 0 ] || dmsetup resume dl
	writer_stop
	wait_merge "$s"
	merge_done "$s" "$sum_s" $((used + $(sf 4) - n_before)) "$ev"
	[ "$round" -lt 3 ] || fail "in 3 rounds, the merge always ended before the suspend"
	echo "the merge up to $s ended before the suspend: another round"
done
w0=$(awk '{ print $7 }' "$ostat")
echo "suspended: $st"
sleep 1
[ "$(dmsetup status dl)" = "$st" ] || fail "the status moved while suspended: $st -> $(dmsetup status dl)"
[ "$(awk '{ print $7 }' "$ostat")" = "$w0" ] || fail "the origin was written while suspended"
dmsetup resume dl
echo "resumed: $(dmsetup status dl)"
sleep 1
st=$(dmsetup status dl)
echo "$st" | awk -v s="$s" '{ exit !($15 == "running" || ($15 == "none" && $9 == s)) }' ||
	fail "the merge did not go on after the resume: $st"
writer_stop
wait_merge "$s"
merge_done "$s" "$sum_s" $((used + $(sf 4) - n_before)) "$ev"
[ "$(dsum "$dev")" = "$sum_s" ] || fail "the device after the merge up to S"
ok "a suspend paused the merge up to $s (status and origin still), the resume went on to finish it"
took "part 5: suspend"

###########################################################################
echo "== the end: reactivation, dlog-tool check, kernel log"
dmsetup remove dl
dmsetup create dl --table "$table"
[ "$(dsum "$dev")" = "$sum_s" ] || fail "the device changed across a reactivation"
[ "$(sf 6)" = "$s" ] || fail "merged seq $(sf 6) after a reactivation, expected $s"
dmsetup remove dl
dlog-tool check "$delta" --origin "$origin" >/tmp/check.out 2>&1 ||
	{ cat /tmp/check.out >&2; fail "dlog-tool check"; }
grep -q ': 0 fatal, 0 warnings$' /tmp/check.out || { cat /tmp/check.out >&2; fail "dlog-tool check: warnings"; }
[ "$(dsum "$origin")" = "$sum_s" ] || fail "the origin changed"
ok "reactivated: same device; dlog-tool check: $(tail -n 1 /tmp/check.out)"
if dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace:|kernel BUG' >&2; then
	fail "the kernel log has a splat"
fi
took "the end"
[ "$late_fails" = 0 ] || fail "$late_fails checks failed (the FAIL lines above)"
echo "(total: $(awk -v a="$t_start" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s)"
echo "PASS t-merge-online"
