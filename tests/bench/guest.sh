#!/bin/sh
# The benchmark's guest half: runs inside the test VM (tests/vm/run), started
# by tests/bench/run, which puts the settings below in front of this file.
#
# For each regime (in-guest null_blk devices; the VM's throttled virtio disks),
# three backing devices:
#
#   O  the origin: filled with data once per boot, then only read
#   D  the delta: where every stack writes (dm-linear, the COW store of
#      dm-snapshot, dm-thin's data device, dm-log-writes' data device)
#   A  auxiliary: dm-thin's metadata device, dm-log-writes' log device
#
# In the null regime, D and A have no write cache and are filled once per
# boot, so that no write allocates null_blk memory (a cost of the test
# device, which a stack that writes new places would pay on every write);
# fsync4k runs on a second pair, DF and AF, with a write cache, where flushes
# reach the devices.
#
# then, round after round, phase after phase, every stack in turn (the order
# rotates each round): D and A have their first MiB zeroed (and, except for
# the prefilled null_blk pair, are discarded first), the
# stack is built fresh as /dev/mapper/bench (length: the origin's), the
# phase's data is written first where it needs some (untimed), the counters of
# /sys/block/<dev>/stat of the stack and of O, D, A are read, fio runs, the
# counters are read again, the stack is removed (which commits what it
# holds), and O, D, A's counters are read a third time. One line per run:
#
#   @bench regime=null round=1 phase=rand4k-first stack=linear status=ok ...
#
# with fio's figures and the counter deltas (tests/bench/report reads them),
# and fio's JSON on a line "@fio <same keys> <json>". Nothing here judges.
set -u

# Settings (tests/bench/run sets them; these are the full run's).
: "${ROUNDS:=3}"
: "${REGIMES:=null virtio}"
: "${PHASES:=rand4k-first rand4k-over seq256k fsync4k read-untouched read-logged}"
: "${STACKS:=linear deltalog snapshot thin log-writes}"
# log-writes is a reference for the write workloads the issue quotes.
: "${LOGWRITES_PHASES:=rand4k-first seq256k}"
# Per regime: the fio time limit (s), the span of random writes and reads
# (MiB, from offset 0), the prefilled working set for overwrites and reads of
# logged data, the size of sequential and of fsync runs (MiB); the null_blk
# sizes (MiB) and the write cache of D and A (MiB).
: "${NULL_RUNTIME:=8}" "${NULL_SPAN:=256}" "${NULL_WSET:=128}" "${NULL_SEQ:=512}" "${NULL_FSYNC:=32}"
: "${VIRTIO_RUNTIME:=8}" "${VIRTIO_SPAN:=256}" "${VIRTIO_WSET:=32}" "${VIRTIO_SEQ:=512}" "${VIRTIO_FSYNC:=32}"
: "${NULL_ORIGIN_MIB:=512}" "${NULL_DELTA_MIB:=768}" "${NULL_CACHE_MIB:=768}"
: "${IODEPTH:=16}" "${SEQ_IODEPTH:=4}"
: "${THROTTLE:=}"

say() { echo "# $*"; }
fail() { echo "bench-guest: $*" >&2; exit 1; }

# stat_of DEV: the 17 counters of /sys/block/<dev>/stat (missing ones 0).
stat_of()
{
	local name
	name=$(basename "$(readlink -f "$1")")
	case $name in
	dm-*) ;;
	*) [ -e "/sys/block/$name/stat" ] || name=$(dmsetup info -c --noheadings -o blkdevname "$name" 2>/dev/null) ;;
	esac
	awk '{ for (i = 1; i <= 17; i++) printf "%s ", ($i == "" ? 0 : $i); print "" }' "/sys/block/$name/stat"
}

# stat_delta ROLE "BEFORE" "AFTER": ROLE_rio=... ROLE_wsec=... for a report line.
stat_delta()
{
	echo "$2 $3" | awk -v r="$1" '{
		split("rio rmrg rsec rtck wio wmrg wsec wtck infl iotck tiq dio dmrg dsec dtck fio ftck", k, " ")
		for (i = 1; i <= 17; i++)
			if (k[i] !~ /tck|infl|tiq/)
				printf " %s_%s=%d", r, k[i], $(i + 17) - $i
	}'
}

# fio_summary FILE: the figures of a fio JSON output (one job, group
# reporting) as key=value: bytes, I/Os, runtime (ms) and mean latency (us)
# of reads and writes, fsync count. The JSON is fio's pretty print: one key
# per line, braces at the line ends.
fio_summary()
{
	awk '
	{
		line = $0
		opens = gsub(/[{[]/, "&", line); closes = gsub(/[]}]/, "&", line)
		if (match($0, /"[a-z_]+" : [{]/)) {
			key = substr($0, RSTART + 1, RLENGTH - 1); sub(/".*/, "", key)
			if (depth == 3 && (key == "read" || key == "write" || key == "sync")) sec = key
			if (depth == 4 && sec != "") sub4 = key
		}
		if (depth == 4 && sec != "" && match($0, /"(io_bytes|total_ios|runtime)" : [0-9]+/)) {
			split(substr($0, RSTART, RLENGTH), kv, "\"")
			v = $0; sub(/.*: /, "", v); sub(/,.*/, "", v)
			val[sec "_" kv[2]] = v
		}
		if (depth == 5 && sub4 == "lat_ns" && $0 ~ /"mean" :/) {
			v = $0; sub(/.*: /, "", v); sub(/,.*/, "", v)
			val[sec "_lat"] = v
		}
		if (depth == 3 && $0 ~ /"error" :/) { v = $0; sub(/.*: /, "", v); sub(/,.*/, "", v); val["err"] = v }
		depth += opens - closes
		if (depth <= 3) sec = ""
		if (depth <= 4) sub4 = ""
	}
	END {
		printf "rd_bytes=%d rd_ios=%d rd_ms=%d rd_lat_us=%.1f ", val["read_io_bytes"], val["read_total_ios"], val["read_runtime"], val["read_lat"] / 1000
		printf "wr_bytes=%d wr_ios=%d wr_ms=%d wr_lat_us=%.1f ", val["write_io_bytes"], val["write_total_ios"], val["write_runtime"], val["write_lat"] / 1000
		printf "syncs=%d fio_err=%d", val["sync_total_ios"], val["err"]
	}' "$1"
}

# --- backing devices -------------------------------------------------------

# null_dev NAME MIB CACHE_MIB [NS]: a memory-backed null_blk device /dev/NAME with
# discard (which frees its memory). A write cache makes it take flushes
# (without one the block layer drops them before they reach any stack); as
# large as the device, it never evicts: a flush moves what was written since
# the last one from the cache to the backing store. With a cache, every write
# after a flush allocates a cache page, so only fsync4k uses one. With NS,
# every request completes NS nanoseconds after it arrives (a timer).
null_dev()
{
	local d=/sys/kernel/config/nullb/$1
	mkdir "$d" || return 1
	echo "$2" >"$d/size"
	echo 1 >"$d/memory_backed"
	echo 1 >"$d/discard"
	echo 512 >"$d/blocksize"
	echo "$3" >"$d/cache_size"
	if [ -n "${4:-}" ]; then
		echo 2 >"$d/irqmode"
		echo "$4" >"$d/completion_nsec"
	fi
	echo 1 >"$d/power"
	[ -b "/dev/$1" ] || return 1
}

null_teardown()
{
	local n
	for n in nullb0 nullb1 nullb2 nullb3 nullb4; do
		[ -d "/sys/kernel/config/nullb/$n" ] || continue
		echo 0 >"/sys/kernel/config/nullb/$n/power" 2>/dev/null
		rmdir "/sys/kernel/config/nullb/$n"
	done
}

# regime_setup REGIME: sets O D A and the regime's sizes, fills the origin.
regime_setup()
{
	case $1 in
	null)
		modprobe null_blk nr_devices=0 || fail "modprobe null_blk"
		null_dev nullb0 "$NULL_ORIGIN_MIB" 0 &&
			null_dev nullb1 "$NULL_DELTA_MIB" 0 &&
			null_dev nullb2 "$NULL_DELTA_MIB" 0 &&
			null_dev nullb3 "$NULL_DELTA_MIB" "$NULL_CACHE_MIB" &&
			null_dev nullb4 "$NULL_DELTA_MIB" "$NULL_CACHE_MIB" || fail "cannot create null_blk devices"
		O=/dev/nullb0 D=/dev/nullb1 A=/dev/nullb2 DF=/dev/nullb3 AF=/dev/nullb4
		PREFILLED="$D $A"
		say "null: filling $D and $A (their memory stays allocated: no write allocates)"
		for dev in "$D" "$A"; do
			fio --name=fill --filename="$dev" --rw=write --bs=1M --direct=1 --ioengine=libaio \
				--iodepth=4 --eta=never --output=/tmp/fill.log >/dev/null ||
				{ cat /tmp/fill.log; fail "cannot fill $dev"; }
		done
		RUNTIME=$NULL_RUNTIME SPAN=$NULL_SPAN WSET=$NULL_WSET SEQ=$NULL_SEQ FSYNC=$NULL_FSYNC
		;;
	virtio)
		O=/dev/vdb D=/dev/vdc A=/dev/vdd DF=/dev/vdc AF=/dev/vdd PREFILLED=
		RUNTIME=$VIRTIO_RUNTIME SPAN=$VIRTIO_SPAN WSET=$VIRTIO_WSET SEQ=$VIRTIO_SEQ FSYNC=$VIRTIO_FSYNC
		;;
	*) fail "unknown regime $1" ;;
	esac
	NSECT=$(blockdev --getsz "$O")
	local omib=$((NSECT / 2048)) dmib
	dmib=$(($(blockdev --getsz "$D") / 2048))
	[ "$(($(blockdev --getsz "$A") / 2048))" -ge "$dmib" ] || fail "$A is smaller than $D"
	[ "$dmib" -ge "$omib" ] || fail "$D ($dmib MiB) is smaller than the origin $O ($omib MiB)"
	for v in SPAN SEQ; do
		eval "[ \$$v -le $omib ]" || fail "$v is larger than the origin ($omib MiB)"
	done
	# The origin's data: what untouched reads and dm-thin's copies read.
	say "$1: origin $O ($omib MiB), delta $D ($dmib MiB), aux $A; filling $SPAN MiB of the origin"
	fio --name=fill --filename="$O" --rw=write --bs=1M --size="${SPAN}M" --direct=1 \
		--ioengine=libaio --iodepth=4 --eta=never --output=/tmp/fill.log >/dev/null ||
		{ cat /tmp/fill.log; fail "cannot fill the origin $O"; }
}

# --- the stacks --------------------------------------------------------------

# wipe: D and A as new: first MiB zeroed (so that deltalog, the snapshot
# store and the thin pool's metadata are formatted afresh), discarded first
# unless they are in PREFILLED (regime_setup).
wipe()
{
	local dev
	for dev in "$D" "$A"; do
		case " $PREFILLED " in
		*" $dev "*) ;;
		*) blkdiscard "$dev" 2>/dev/null || true ;;
		esac
		dd if=/dev/zero of="$dev" bs=1M count=1 oflag=direct status=none || return 1
	done
}

# use_devices PHASE: D and A for the phase (the flushing pair for fsync4k).
use_devices()
{
	if [ "$1" = fsync4k ]; then
		D=$DF A=$AF
	else
		D=$DW A=$AW
	fi
}

# stack_up STACK PHASE: builds /dev/mapper/bench. The stacks that write in
# place (linear, log-writes) write to D, and read the origin for untouched
# reads.
stack_up()
{
	local target=$D
	[ "$2" = read-untouched ] && target=$O
	case $1 in
	linear)
		dmsetup create bench --table "0 $NSECT linear $target 0" ;;
	log-writes)
		dmsetup create bench --table "0 $NSECT log-writes $target $A" ;;
	deltalog)
		dmsetup create bench --table "0 $NSECT deltalog $O $D" ;;
	snapshot)
		dmsetup create bench --table "0 $NSECT snapshot $O $D P 8" ;;
	thin)
		# 64 KiB blocks (the smallest), no zeroing of new blocks (an
		# external origin's blocks are copied, not zeroed, anyway).
		dmsetup create bench-pool --table \
			"0 $(blockdev --getsz "$D") thin-pool $A $D 128 0 1 skip_block_zeroing" &&
			dmsetup message bench-pool 0 "create_thin 0" &&
			dmsetup create bench --table "0 $NSECT thin /dev/mapper/bench-pool 0 $O"
		;;
	*) echo "unknown stack $1" >&2; return 1 ;;
	esac
}

stack_down()
{
	local rc=0
	if dmsetup info bench >/dev/null 2>&1; then dmsetup remove bench || rc=1; fi
	if dmsetup info bench-pool >/dev/null 2>&1; then dmsetup remove bench-pool || rc=1; fi
	return $rc
}

# --- the phases --------------------------------------------------------------

# Random offsets from a fixed seed. (With randrepeat=1, fio's default, fio
# ignores randseed for offsets: every job would visit blocks in one order.)
fio_base()
{
	echo "--filename=/dev/mapper/bench --direct=1 --eta=never --group_reporting" \
		"--randrepeat=0 --randseed=1234 --output-format=json"
}

# prefill PHASE: what the phase finds written before it starts (untimed):
# WSET MiB of 4 KiB random writes, each block once.
prefill()
{
	case $1 in
	rand4k-over | read-logged)
		# shellcheck disable=SC2046 # fio_base is a list of options
		fio --name=prefill $(fio_base) --ioengine=libaio --iodepth="$IODEPTH" \
			--rw=randwrite --bs=4k --size="${WSET}M" --output=/tmp/prefill.json >/dev/null ||
			return 1
		;;
	esac
}

# phase_opts PHASE: fio options of the timed run. Runs stop at their size or
# at RUNTIME seconds, whichever comes first.
phase_opts()
{
	local t="--runtime=$RUNTIME"
	case $1 in
	rand4k-first) # each block written once, in random order
		echo "$t --ioengine=libaio --iodepth=$IODEPTH --rw=randwrite --bs=4k --size=${SPAN}M" ;;
	rand4k-over) # the prefilled blocks, written again, in another order
		echo "$t --ioengine=libaio --iodepth=$IODEPTH --rw=randwrite --bs=4k --size=${WSET}M --io_size=$((WSET * 2))M --randseed=4321" ;;
	seq256k)
		echo "$t --ioengine=libaio --iodepth=$SEQ_IODEPTH --rw=write --bs=256k --size=${SEQ}M" ;;
	fsync4k) # one write, one fsync (a flush), one at a time
		echo "$t --ioengine=psync --rw=randwrite --bs=4k --fsync=1 --size=${FSYNC}M" ;;
	read-untouched)
		echo "$t --ioengine=libaio --iodepth=$IODEPTH --rw=randread --bs=4k --size=${SPAN}M" ;;
	read-logged) # another seed than the prefill's: not in the order written
		echo "$t --ioengine=libaio --iodepth=$IODEPTH --rw=randread --bs=4k --size=${WSET}M --io_size=$((WSET * 2))M --randseed=5678" ;;
	*) return 1 ;;
	esac
}

# run_one REGIME ROUND PHASE STACK: one measured run; prints its @bench line.
# Counters of O, D, A: O_* from the start of fio to its end, Ox_* during the
# removal of the stack that follows (what it still had to write).
run_one()
{
	local keys="regime=$1 round=$2 phase=$3 stack=$4" opts err=
	local s_user0 s_user1 s_o0 s_d0 s_a0 s_o1 s_d1 s_a1 s_o2 s_d2 s_a2 summary t0 t1
	opts=$(phase_opts "$3") || { echo "@bench $keys status=error why=unknown-phase"; return; }
	use_devices "$3"
	t0=$(date +%s)
	wipe || err=wipe
	[ -z "$err" ] && { stack_up "$4" "$3" >/tmp/stack.log 2>&1 || err=setup; }
	[ -z "$err" ] && { prefill "$3" || err=prefill; }
	if [ -z "$err" ]; then
		s_user0=$(stat_of /dev/mapper/bench)
		s_o0=$(stat_of "$O") s_d0=$(stat_of "$D") s_a0=$(stat_of "$A")
		# shellcheck disable=SC2046,SC2086 # option lists
		fio --name="$3" $(fio_base) $opts --output=/tmp/run.json >/dev/null 2>/tmp/fio.err || err=fio
		s_o1=$(stat_of "$O") s_d1=$(stat_of "$D") s_a1=$(stat_of "$A")
		s_user1=$(stat_of /dev/mapper/bench)
	fi
	stack_down || err=${err:-teardown}
	if [ "$err" = setup ] || [ "$err" = wipe ] || [ "$err" = prefill ]; then
		echo "@bench $keys status=error why=$err msg=$(tr -s ' \n\t' '___' </tmp/stack.log | cut -c1-200)"
		say "$1 round $2 $3 $4: $err failed: $(tail -n 2 /tmp/stack.log | tr '\n' ' ')"
		return
	fi
	s_o2=$(stat_of "$O") s_d2=$(stat_of "$D") s_a2=$(stat_of "$A")
	t1=$(date +%s)
	summary=$(fio_summary /tmp/run.json)
	case $summary in *fio_err=0*) ;; *) err=${err:-fio} ;; esac
	echo "@bench $keys status=${err:-ok} $summary wall_s=$((t1 - t0))" \
		"$(stat_delta user "$s_user0" "$s_user1")" \
		"$(stat_delta O "$s_o0" "$s_o1")" "$(stat_delta Ox "$s_o1" "$s_o2")" \
		"$(stat_delta D "$s_d0" "$s_d1")" "$(stat_delta Dx "$s_d1" "$s_d2")" \
		"$(stat_delta A "$s_a0" "$s_a1")" "$(stat_delta Ax "$s_a1" "$s_a2")"
	echo "@fio $keys $(tr -d '\n' </tmp/run.json)"
	echo "$summary" | awk -v k="$1 round $2 $3 $4" -v e="${err:-}" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		ms = v["wr_ms"] > v["rd_ms"] ? v["wr_ms"] : v["rd_ms"]
		b = v["wr_bytes"] + v["rd_bytes"]; n = v["wr_ios"] + v["rd_ios"]
		if (ms > 0) printf "# %s: %.1f MiB/s, %.0f IOPS%s\n", k, b / 1048576 / (ms / 1000), n / (ms / 1000), (e != "" ? " (" e ")" : "")
		else printf "# %s: no I/O%s\n", k, (e != "" ? " (" e ")" : "")
	}'
	[ "$err" = fio ] && sed 's/^/#   fio: /' /tmp/fio.err | head -n 3
	return 0
}

main()
{
	local regime round phase stack stacks n i rot
	echo "@bench-info kernel=$(uname -r) cpus=$(nproc) mem_mib=$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024))" \
		"crc32c=$(awk '/^name *: crc32c$/ { f = 1 } f && /^driver/ { print $3; exit }' /proc/crypto)" \
		"deltalog=$(dmsetup targets | awk '$1 == "deltalog" { sub(/^v/, "", $2); print $2 }')" \
		"rounds=$ROUNDS throttle=${THROTTLE:-none}"
	modprobe -a dm-snapshot dm-thin-pool dm-log-writes || fail "cannot load the dm targets"
	for regime in $REGIMES; do
		regime_setup "$regime"
		DW=$D AW=$A
		echo "@bench-regime regime=$regime origin=$O delta=$D aux=$A sectors=$NSECT runtime=$RUNTIME" \
			"span_mib=$SPAN wset_mib=$WSET seq_mib=$SEQ fsync_mib=$FSYNC iodepth=$IODEPTH seq_iodepth=$SEQ_IODEPTH"
		round=1
		while [ "$round" -le "$ROUNDS" ]; do
			for phase in $PHASES; do
				# This round's order: the stack list rotated by round - 1.
				stacks=
				for stack in $STACKS; do
					case $stack in log-writes)
						case " $LOGWRITES_PHASES " in *" $phase "*) ;; *) continue ;; esac ;;
					esac
					stacks="$stacks $stack"
				done
				n=$(echo "$stacks" | wc -w)
				rot=$(((round - 1) % n))
				i=0
				for stack in $stacks $stacks; do
					i=$((i + 1))
					[ "$i" -gt "$rot" ] && [ "$i" -le $((rot + n)) ] || continue
					run_one "$regime" "$round" "$phase" "$stack"
				done
			done
			round=$((round + 1))
		done
		use_devices none
		wipe
		[ "$regime" = null ] && null_teardown
	done
	echo "@bench-done"
}

# BENCH_FIO=0 (tests/bench/run --merge-only): only the merge benchmark,
# which tests/bench/run appends after this file (tests/bench/merge.sh).
[ "${BENCH_FIO:-1}" = 0 ] || main
