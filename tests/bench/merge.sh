#!/bin/sh
# The merge benchmark's guest half (docs/BENCHMARKS.md, "The online
# merge"). Not a script of its own: tests/bench/run appends it to
# tests/bench/guest.sh (whose helpers it uses: say, fail, stat_of,
# stat_delta, fio_summary, null_dev) and ships the result as the VM's script.
#
# For each regime (in-guest null_blk devices; the VM's virtio disks), three
# devices: the origin O, the delta D, the snapshot's COW store C. Round after
# round:
#
#   merge-seq, merge-rand: the data is sequential 256 KiB writes, or random
#   4 KiB writes, each block once. In an order rotated each round:
#     deltalog  the data written through dm-deltalog (untimed), the device
#               removed, `dlog-bench plan` reads from D the copies the merge
#               will make (for the counters), the device again, `merge
#               <newest seq>` on the idle device (default table), timed from
#               the message until the merge is done (`dlog-bench merge`);
#     raw       the same up to the plan, then `dlog-bench copy`: the plan's
#               copies, same sizes, same limits on what is in flight, from
#               userspace, timed by itself;
#     snapshot  the same writes to `snapshot O C P 8` next to a
#               `snapshot-origin O` (untimed), the snapshot removed, the
#               origin's table replaced by `snapshot-merge O C P 8`, timed
#               from the reload until the merge is done
#               (`dlog-bench snapshot-merge`).
#   One line per run:
#     @merge regime=null round=1 case=rand method=deltalog status=ok seconds=...
#
#   merge-fg: foreground I/O during a merge. A log is written (untimed),
#   then fio (random 4 KiB reads, or writes, queue depth 16) runs for
#   MERGE_FG_RUNTIME seconds after a ramp of 2 s, alone, or with
#   `merge <newest seq>` sent 1 s after fio started, with the default
#   merge_rate or merge_rate 0; the merge's progress is read when fio's
#   measured time begins and when fio ends. One line per run:
#     @fg regime=null round=1 workload=randread mode=alone status=ok ...
#
# Nothing here judges: tests/bench/merge-report makes the tables.

# Settings (tests/bench/run sets them; these are the full run's).
: "${MERGE_ROUNDS:=$ROUNDS}"
: "${MERGE_REGIMES:=$REGIMES}"
: "${MERGE_PHASES:=merge-seq merge-rand merge-fg}"
: "${MERGE_METHODS:=deltalog raw snapshot}"
# Sequential data (MiB), random data (MiB) over the first MERGE_SPAN MiB.
: "${MERGE_SEQ_MIB:=256}" "${MERGE_RAND_MIB:=64}" "${MERGE_SPAN_MIB:=512}"
# The merge's limits (deltalog-merge-copy.c: 8 chunks of at most 1 MiB and
# 256 pieces in flight, a chunk read in one I/O where its data is
# contiguous): the raw copy keeps to them.
: "${MERGE_JOBS:=2048}" "${MERGE_INFLIGHT_KIB:=8192}" "${MERGE_JOB_KIB:=1024}" "${MERGE_IO_KIB:=1024}"
# Foreground: workloads, modes, fio's measured time (s); the log merged
# meanwhile, per regime (KIND:MiB, KIND seq or rand), sized so that the
# merge outlasts fio where it can.
: "${MERGE_FG_WORKLOADS:=randread randwrite}"
: "${MERGE_FG_MODES:=alone rate-default rate-0}"
: "${MERGE_FG_RUNTIME:=5}"
: "${MERGE_NULL_FG_LOG:=rand:128}" "${MERGE_VIRTIO_FG_LOG:=seq:256}"
# null_blk sizes (MiB); the latency regime's time per request (ns).
: "${MERGE_NULL_ORIGIN_MIB:=512}" "${MERGE_NULL_DELTA_MIB:=1024}" "${MERGE_NULL_COW_MIB:=512}"
: "${MERGE_LATENCY_NS:=100000}"

uptime_s() { read -r up _ </proc/uptime && echo "$up"; }
# sub A B: A - B, 3 decimals.
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
# field LINE KEY: the value of KEY=... in a line of key=value words.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# status_field DEV N: field N of dm-deltalog's status (after "deltalog").
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }

m_null_teardown()
{
	local n
	for n in nullb0 nullb1 nullb2; do
		[ -d "/sys/kernel/config/nullb/$n" ] || continue
		echo 0 >"/sys/kernel/config/nullb/$n/power" 2>/dev/null
		rmdir "/sys/kernel/config/nullb/$n"
	done
}

fill() # DEV [MIB]
{
	fio --name=fill --filename="$1" --rw=write --bs=1M --direct=1 --ioengine=libaio \
		--iodepth=4 ${2:+--size=${2}M} --eta=never --output=/tmp/fill.log >/dev/null ||
		{ cat /tmp/fill.log; fail "cannot fill $1"; }
}

# m_regime_setup REGIME: sets O D C, FG_LOG; fills what timed runs write.
m_regime_setup()
{
	case $1 in
	null | latency)
		local ns=
		[ "$1" = null ] || ns=$MERGE_LATENCY_NS
		modprobe null_blk nr_devices=0 || fail "modprobe null_blk"
		m_null_teardown
		null_dev nullb0 "$MERGE_NULL_ORIGIN_MIB" 0 $ns &&
			null_dev nullb1 "$MERGE_NULL_DELTA_MIB" 0 $ns &&
			null_dev nullb2 "$MERGE_NULL_COW_MIB" 0 $ns || fail "cannot create null_blk devices"
		O=/dev/nullb0 D=/dev/nullb1 C=/dev/nullb2
		FG_LOG=$MERGE_NULL_FG_LOG
		# Filled whole: no timed write allocates null_blk memory (the
		# origin gets the merges and copies, the delta fio's writes).
		say "merge $1: filling $O and $D"
		fill "$O"
		fill "$D"
		;;
	virtio)
		O=/dev/vdb D=/dev/vdc C=/dev/vdd
		FG_LOG=$MERGE_VIRTIO_FG_LOG
		# The span every merge writes, so that the host's image file has
		# its blocks before any timed write.
		say "merge virtio: filling the first $MERGE_SPAN_MIB MiB of $O"
		fill "$O" "$MERGE_SPAN_MIB"
		;;
	*) fail "unknown regime $1" ;;
	esac
	NSECT=$(blockdev --getsz "$O")
	[ "$(($(blockdev --getsz "$D") / 2048))" -ge $((MERGE_SEQ_MIB + 64)) ] || fail "$D is too small"
	[ "$((NSECT / 2048))" -ge "$MERGE_SPAN_MIB" ] || fail "$O is smaller than MERGE_SPAN_MIB"
}

zero_head() # DEV: first MiB zeroed: a new delta, a new COW store
{
	dd if=/dev/zero of="$1" bs=1M count=1 oflag=direct status=none
}

m_down()
{
	local n
	for n in bench bench-origin; do
		dmsetup info "$n" >/dev/null 2>&1 && { dmsetup remove "$n" || return 1; }
	done
	return 0
}

# write_data CASE DEV [SEED]: the data of a case, or of the foreground log
# (FG_LOG), written through DEV (untimed). Prints nothing; fio's JSON in
# /tmp/write.json.
write_data()
{
	local kind=$1 mib
	case $kind in
	seq) mib=$MERGE_SEQ_MIB ;;
	rand) mib=$MERGE_RAND_MIB ;;
	fg) kind=${FG_LOG%%:*} mib=${FG_LOG#*:} ;;
	esac
	case $kind in
	seq)
		fio --name=data --filename="$2" --direct=1 --ioengine=libaio --iodepth=4 \
			--rw=write --bs=256k --size="${mib}M" --eta=never \
			--output-format=json --output=/tmp/write.json >/dev/null ;;
	rand)
		# Each block once (fio's random map), over the span.
		fio --name=data --filename="$2" --direct=1 --ioengine=libaio --iodepth=16 \
			--rw=randwrite --bs=4k --size="${MERGE_SPAN_MIB}M" --io_size="${mib}M" \
			--randrepeat=0 --randseed="${3:-1234}" --eta=never \
			--output-format=json --output=/tmp/write.json >/dev/null ;;
	*) return 1 ;;
	esac
}

# The kernel's own count, from its log line at the end of a merge.
merged_sectors()
{
	dmesg | sed -n 's/.*merged up to seq [0-9]*: \([0-9]*\) sectors written to the origin.*/\1/p' | tail -n 1
}

# ---- merge-seq, merge-rand --------------------------------------------------

# One timed method; prints its @merge line. KEYS is "regime=.. round=.. case=..".
# Times: deltalog from just before the message, snapshot from just before
# the reload, until a read of the status sees the merge done (deltalog: at
# the dm event its end raises; snapshot-merge raises none: every 20 ms);
# raw the copy program's own, from its first I/O to the end of its flush.
run_method()
{
	local keys=$1 kind=$2 method=$3 err= t0 t1 w s_o0 s_d0 s_c0 s_o1 s_d1 s_c1 extra= seq secs=
	PLAN_SECTORS=0 PLAN_JOBS=0 PLAN_EXTENTS=0 PLAN_SEQ=0
	case $method in
	deltalog)
		log_data "$keys" "$kind" || err=write
		[ -z "$err" ] && { dmsetup create bench --table "0 $NSECT deltalog $O $D" >/tmp/stack.log 2>&1 || err=setup; }
		if [ -z "$err" ]; then
			seq=$(status_field bench 4)
			[ "$seq" = "$PLAN_SEQ" ] || say "$keys: newest seq $seq, the plan's $PLAN_SEQ"
			s_o0=$(stat_of "$O") s_d0=$(stat_of "$D") s_c0=$(stat_of "$C")
			# The message, then its status at the end's event.
			dlog-bench merge bench "$seq" --timeout 1800 >/tmp/time.log 2>&1 || err=merge
			s_o1=$(stat_of "$O") s_d1=$(stat_of "$D") s_c1=$(stat_of "$C")
			w=$(grep '^@merge-time' /tmp/time.log)
			secs=$(field "$w" seconds)
			extra="before_copy_s=$(field "$w" before_copy) copy_s=$(field "$w" copy) after_copy_s=$(field "$w" after_copy) kernel_sectors=$(merged_sectors)"
		fi
		;;
	raw)
		log_data "$keys" "$kind" || err=write
		if [ -z "$err" ]; then
			s_o0=$(stat_of "$O") s_d0=$(stat_of "$D") s_c0=$(stat_of "$C")
			t0=$(uptime_s)
			dlog-bench copy /tmp/plan "$D" "$O" --jobs "$MERGE_JOBS" \
				--inflight-kib "$MERGE_INFLIGHT_KIB" --io-kib "$MERGE_IO_KIB" \
				>/tmp/time.log 2>&1 || err=copy
			t1=$(uptime_s)
			s_o1=$(stat_of "$O") s_d1=$(stat_of "$D") s_c1=$(stat_of "$C")
			w=$(grep '^@copy' /tmp/time.log)
			secs=$(field "$w" seconds)
			extra="wall_s=$(sub "$t1" "$t0") copy_reads=$(field "$w" reads) copy_writes=$(field "$w" writes)"
		fi
		;;
	snapshot)
		zero_head "$C"
		{ dmsetup create bench-origin --table "0 $NSECT snapshot-origin $O" &&
			dmsetup create bench --table "0 $NSECT snapshot $O $C P 8"; } >/tmp/stack.log 2>&1 || err=setup
		[ -z "$err" ] && { write_data "$kind" /dev/mapper/bench || err=write; }
		if [ -z "$err" ]; then
			w=$(fio_summary /tmp/write.json)
			PLAN_SECTORS=$(($(field "$w" wr_bytes) / 512))
			extra="write_bytes=$(field "$w" wr_bytes) write_ms=$(field "$w" wr_ms)"
			extra="$extra snap_status=$(dmsetup status bench | awk '{ print $4 "," $5 }')"
		fi
		[ -z "$err" ] && { dmsetup remove bench >>/tmp/stack.log 2>&1 || err=setup; }
		if [ -z "$err" ]; then
			s_o0=$(stat_of "$O") s_d0=$(stat_of "$D") s_c0=$(stat_of "$C")
			# The origin's table becomes snapshot-merge (reload, resume),
			# then its status every 20 ms until done.
			dlog-bench snapshot-merge bench-origin "0 $NSECT snapshot-merge $O $C P 8" \
				--timeout 3000 >/tmp/time.log 2>&1 || err=merge
			s_o1=$(stat_of "$O") s_d1=$(stat_of "$D") s_c1=$(stat_of "$C")
			w=$(grep '^@merge-time' /tmp/time.log)
			secs=$(field "$w" seconds)
			extra="$extra load_s=$(field "$w" load)"
		fi
		;;
	esac
	m_down >>/tmp/stack.log 2>&1 || err=${err:-teardown}
	if [ -z "${s_o1:-}" ]; then
		echo "@merge $keys method=$method status=error why=$err msg=$(tr -s ' \n\t' '___' </tmp/stack.log | cut -c1-200)"
		say "$keys $method: $err failed: $(tail -n 3 /tmp/stack.log | tr '\n' ' ')"
		return
	fi
	[ -n "$secs" ] || err=${err:-time}
	[ -z "$err" ] || say "$keys $method: $err failed: $(tail -n 3 /tmp/stack.log /tmp/time.log 2>/dev/null | tr '\n' ' ')"
	echo "@merge $keys method=$method status=${err:-ok} seconds=${secs:-0} plan_sectors=$PLAN_SECTORS" \
		"plan_jobs=$PLAN_JOBS plan_extents=$PLAN_EXTENTS $extra" \
		"$(stat_delta O "$s_o0" "$s_o1")" "$(stat_delta D "$s_d0" "$s_d1")" "$(stat_delta C "$s_c0" "$s_c1")"
	say "$keys $method: ${secs:-?} s, $(awk -v s="$PLAN_SECTORS" -v t="${secs:-0}" 'BEGIN { if (t > 0) printf "%.1f MiB/s", s / 2048 / t }')${err:+ ($err)}"
}

# log_data KEYS CASE: the case's data written through a new dm-deltalog
# device (untimed), the device removed, and the plan of its merge read from
# the delta: /tmp/plan, PLAN_JOBS, PLAN_SECTORS, PLAN_EXTENTS, PLAN_SEQ.
# Nothing may write the origin from here until the merge: the target checks
# the origin's fingerprint when the device comes back.
log_data()
{
	local p
	zero_head "$D"
	if ! { dmsetup create bench --table "0 $NSECT deltalog $O $D" >/tmp/stack.log 2>&1 &&
		write_data "$2" /dev/mapper/bench && m_down >>/tmp/stack.log 2>&1; }; then
		m_down
		return 1
	fi
	echo "@merge-write $1 $(fio_summary /tmp/write.json)"
	if ! dlog-bench plan "$D" --job-kib "$MERGE_JOB_KIB" >/tmp/plan 2>/tmp/plan.err; then
		cat /tmp/plan.err >>/tmp/stack.log
		return 1
	fi
	p=$(tail -n 1 /tmp/plan)
	PLAN_JOBS=$(field "$p" jobs) PLAN_SECTORS=$(field "$p" sectors)
	PLAN_EXTENTS=$(field "$p" extents) PLAN_SEQ=$(field "$p" seq)
}

# merge_case REGIME ROUND CASE: every method in this round's order, each on
# data of its own (the same writes): the raw copy and dm-snapshot's merge
# write the origin, which a log made before them would no longer match.
merge_case()
{
	local keys="regime=$1 round=$2 case=$3" methods n rot i m
	methods=$MERGE_METHODS
	n=$(echo "$methods" | wc -w)
	rot=$((($2 - 1) % n))
	i=0
	for m in $methods $methods; do
		i=$((i + 1))
		[ "$i" -gt "$rot" ] && [ "$i" -le $((rot + n)) ] || continue
		run_method "$keys" "$3" "$m"
	done
}

# ---- merge-fg -------------------------------------------------------------------

# run_fg REGIME ROUND WORKLOAD MODE: prints its @fg line.
run_fg()
{
	local keys="regime=$1 round=$2 workload=$3 mode=$4" table err= seq a= ca= b cb
	local opts summary state running=0 rw seed room
	table="0 $NSECT deltalog $O $D"
	[ "$4" = rate-0 ] && table="$table 2 merge_rate 0"
	# fio stops after MERGE_FG_RUNTIME s (and a 2 s ramp) or once it has
	# moved io_size: writes are capped below the data ring's free room (a
	# full log would fail them), reads go round the span as often as needed.
	room=$(($(blockdev --getsz "$D") / 2048 - ${FG_LOG#*:} - 128))
	case $3 in
	randread) rw=randread seed=5678 room=$((MERGE_SPAN_MIB * 16)) ;;
	randwrite) rw=randwrite seed=4321 ;;
	esac
	zero_head "$D"
	dmsetup create bench --table "$table" >/tmp/stack.log 2>&1 || err=setup
	[ -z "$err" ] && { write_data fg /dev/mapper/bench 1234 || err=write; }
	if [ -z "$err" ]; then
		seq=$(status_field bench 4)
		opts="--filename=/dev/mapper/bench --direct=1 --ioengine=libaio --iodepth=16 --bs=4k"
		opts="$opts --rw=$rw --size=${MERGE_SPAN_MIB}M --io_size=${room}M --ramp_time=2"
		opts="$opts --runtime=$MERGE_FG_RUNTIME --randrepeat=0 --randseed=$seed"
		# shellcheck disable=SC2086 # an option list
		fio --name=fg $opts --eta=never --output-format=json --output=/tmp/fg.json \
			>/dev/null 2>/tmp/fio.err &
		local fio_pid=$! merge_pid=
		if [ "$4" != alone ]; then
			# The merge starts while fio ramps up; its progress is
			# sampled once fio measures (a) and when fio ends (b).
			sleep 1
			dlog-bench merge bench "$seq" --interval-ms 200 --timeout 1800 >/tmp/time.log 2>&1 &
			merge_pid=$!
			sleep 1.2
			a=$(uptime_s) ca=$(status_field bench 11)
		fi
		wait "$fio_pid" || err=${err:-fio}
		if [ "$4" != alone ]; then
			b=$(uptime_s) cb=$(status_field bench 11) state=$(status_field bench 12)
			[ "$state" = running ] && running=1
			wait "$merge_pid" || err=${err:-merge}
		fi
	fi
	m_down >>/tmp/stack.log 2>&1 || err=${err:-teardown}
	if [ -n "$err" ] && [ ! -s /tmp/fg.json ]; then
		echo "@fg $keys status=error why=$err msg=$(tr -s ' \n\t' '___' </tmp/stack.log | cut -c1-200)"
		say "$keys: $err failed: $(tail -n 3 /tmp/stack.log /tmp/fio.err /tmp/time.log 2>/dev/null | tr '\n' ' ')"
		return
	fi
	summary=$(fio_summary /tmp/fg.json)
	rm -f /tmp/fg.json
	local merge= w total end
	if [ "$4" != alone ]; then
		# Blocks copied from a to b, or to the merge's end if that came
		# first (nothing measured if it ended before a).
		w=$(grep '^@merge-time' /tmp/time.log)
		total=$(field "$w" copy_blocks) end=$(field "$w" end)
		[ "$running" = 1 ] || { b=$end cb=$total/$total; }
		if awk -v e="$end" -v a="$a" 'BEGIN { exit !(e <= a) }'; then
			a=0 b=0 ca=0/0 cb=0/0	# done before fio measured: no rate
		elif [ "${ca#*/}" = 0 ]; then
			ca=0/$total		# still reading the log at a
		fi
		merge="merge_running_at_end=$running merge_a=$a merge_b=$b copied_a=${ca%/*} copied_b=${cb%/*}"
		merge="$merge merge_total=$total merge_s=$(field "$w" seconds)"
	fi
	echo "@fg $keys status=${err:-ok} $summary $merge"
	echo "$summary $merge" | awk -v k="$keys" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		ms = v["wr_ms"] > v["rd_ms"] ? v["wr_ms"] : v["rd_ms"]
		b = v["wr_bytes"] + v["rd_bytes"]
		printf "# %s: %.1f MiB/s", k, (ms > 0 ? b / 1048576 / (ms / 1000) : 0)
		if ("merge_b" in v && v["merge_b"] > v["merge_a"])
			printf ", merge %.1f MiB/s", (v["copied_b"] - v["copied_a"]) * 4 / 1024 / (v["merge_b"] - v["merge_a"])
		if ("merge_s" in v)
			printf ", merge done after %.1f s%s", v["merge_s"], (v["merge_running_at_end"] ? " (after fio)" : " (before fio ended)")
		printf "\n"
	}'
}

merge_main()
{
	local regime round kind w modes m n rot i
	echo "@merge-info kernel=$(uname -r) cpus=$(nproc) mem_mib=$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024))" \
		"deltalog=$(dmsetup targets | awk '$1 == "deltalog" { sub(/^v/, "", $2); print $2 }')" \
		"rounds=$MERGE_ROUNDS throttle=${THROTTLE:-none} jobs=$MERGE_JOBS inflight_kib=$MERGE_INFLIGHT_KIB" \
		"job_kib=$MERGE_JOB_KIB io_kib=$MERGE_IO_KIB seq_mib=$MERGE_SEQ_MIB rand_mib=$MERGE_RAND_MIB" \
		"span_mib=$MERGE_SPAN_MIB fg_runtime=$MERGE_FG_RUNTIME"
	modprobe -a dm-snapshot || fail "cannot load dm-snapshot"
	command -v dlog-bench >/dev/null || fail "dlog-bench is not in the VM (build/cmake/bin)"
	for regime in $MERGE_REGIMES; do
		m_regime_setup "$regime"
		echo "@merge-regime regime=$regime origin=$O delta=$D cow=$C sectors=$NSECT fg_log=$FG_LOG latency_ns=$([ "$regime" = latency ] && echo "$MERGE_LATENCY_NS" || echo 0)"
		round=1
		while [ "$round" -le "$MERGE_ROUNDS" ]; do
			for kind in $MERGE_PHASES; do
				case $kind in
				merge-seq) merge_case "$regime" "$round" seq ;;
				merge-rand) merge_case "$regime" "$round" rand ;;
				merge-fg)
					modes=$MERGE_FG_MODES
					n=$(echo "$modes" | wc -w)
					rot=$(((round - 1) % n))
					for w in $MERGE_FG_WORKLOADS; do
						i=0
						for m in $modes $modes; do
							i=$((i + 1))
							[ "$i" -gt "$rot" ] && [ "$i" -le $((rot + n)) ] || continue
							run_fg "$regime" "$round" "$w" "$m"
						done
					done
					;;
				*) fail "unknown merge phase $kind" ;;
				esac
			done
			round=$((round + 1))
		done
		[ "$regime" = virtio ] || m_null_teardown
	done
	echo "@merge-done"
}

[ "${BENCH_MERGE:-1}" = 0 ] || merge_main
