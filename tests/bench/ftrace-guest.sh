#!/bin/sh
# Where the CPU goes per 4 KiB I/O, dm-linear against dm-deltalog, on null_blk
# as in the benchmark's null regime (tests/bench/guest.sh), with ftrace's
# function_graph tracer. Runs in the test VM:
#
#   tests/vm/run --mem 3072 [--kernel 6.12] --script tests/bench/ftrace-guest.sh
#
# For each phase (write: random 4 KiB first writes; read: random 4 KiB reads
# of the untouched origin) and stack: fio alone (IOPS), then, for each set of
# functions in SETS, fio again with only those traced and one line per
# function:
#
#   @ftrace PHASE STACK SET FUNCTION calls/io N median US p25 US p75 US p90 US mean US
#
# A traced function costs about 1 us more under TCG (its entry and exit
# events), and so does each traced function it calls: compare stacks, and a
# function with an empty one traced alone (deltalog_arm_commit), not absolute
# times. The mean has the host's hiccups in it (a vCPU descheduled), the
# median not. About 10 minutes on an idle host. Nothing here is part of
# make bench or make check.
set -u

# Sets of functions traced together: the sets separated by spaces, the
# functions of a set by commas. Edit to taste.
: "${SETS:=dm_submit_bio,clone_endio,linear_map,deltalog_map,deltalog_end_io
	deltalog_remap_write deltalog_alloc_write deltalog_record_write
	deltalog_index_insert deltalog_leaf_open deltalog_journal_append_io
	deltalog_arm_commit
	deltalog_kick,queue_work_on,try_to_wake_up,native_send_call_func_single_ipi,_raw_spin_lock_irqsave}"
: "${PHASES:=write read}" "${STACKS:=linear deltalog}" "${RUNTIME:=3}"

T=/sys/kernel/tracing
[ -e $T/current_tracer ] || mount -t tracefs nodev $T || exit 1

null_dev()
{
	d=/sys/kernel/config/nullb/$1
	mkdir "$d" && echo "$2" >"$d/size" && echo 1 >"$d/memory_backed" &&
		echo 512 >"$d/blocksize" && echo 0 >"$d/cache_size" && echo 1 >"$d/power"
}
modprobe null_blk nr_devices=0 && null_dev nullb0 512 && null_dev nullb1 768 || exit 1
O=/dev/nullb0 D=/dev/nullb1
# Filled, as in the benchmark: no timed write allocates null_blk memory.
fio --name=fill --filename=$D --rw=write --bs=1M --direct=1 --ioengine=libaio \
	--iodepth=4 --eta=never --output=/dev/null || exit 1
fio --name=fill --filename=$O --rw=write --bs=1M --size=256M --direct=1 --ioengine=libaio \
	--iodepth=4 --eta=never --output=/dev/null || exit 1
N=$(blockdev --getsz $O)

# stack_up STACK PHASE: a new /dev/mapper/bench (a new delta for deltalog).
stack_up()
{
	dd if=/dev/zero of=$D bs=1M count=1 oflag=direct status=none
	case $1 in
	linear)
		t=$D
		[ "$2" = read ] && t=$O
		dmsetup create bench --table "0 $N linear $t 0" ;;
	deltalog) dmsetup create bench --table "0 $N deltalog $O $D" ;;
	esac
}

# run_fio PHASE SECONDS: prints "IOPS I/Os".
run_fio()
{
	rw=randwrite
	[ "$1" = read ] && rw=randread
	fio --name=p --filename=/dev/mapper/bench --direct=1 --randrepeat=0 --randseed=1234 \
		--runtime="$2" --ioengine=libaio --iodepth=16 --rw=$rw --bs=4k --size=256M \
		--eta=never --output-format=terse --output=/tmp/fio.terse >/dev/null || return 1
	# terse v3: read IOPS is field 8, KiB 6; write IOPS 49, KiB 47
	awk -F';' -v rw=$rw '{ if (rw == "randwrite") print $49, $47 / 4; else print $8, $6 / 4 }' /tmp/fio.terse
}

# summarize TAG IOS: durations from the trace, one line per function.
summarize()
{
	awk '/ us +\|/ {
		if (!match($0, /[0-9.]+ us +\|/)) next
		d = substr($0, RSTART, RLENGTH); sub(/ us.*/, "", d)
		n = ""
		if (match($0, /\} \/\* [A-Za-z0-9_.]+/)) n = substr($0, RSTART + 5, RLENGTH - 5)
		else if (match($0, /[A-Za-z0-9_.]+( \[[a-z_0-9]+\])?\(\);/)) { n = substr($0, RSTART, RLENGTH - 3); sub(/ .*/, "", n) }
		if (n != "") print n, d
	}' $T/trace | sort -k1,1 -k2,2n | awk -v ios="$2" -v tag="$1" '
	function out() {
		if (cur != "")
			printf "@ftrace %s %s calls/io %.4f median %.2f p25 %.2f p75 %.2f p90 %.2f mean %.2f\n",
				tag, cur, c / ios, v[int((c + 1) / 2)], v[int((c + 3) / 4)],
				v[int((3 * c + 3) / 4)], v[int((9 * c + 9) / 10)], s / c
	}
	$1 != cur { out(); cur = $1; c = 0; s = 0 }
	{ c++; v[c] = $2; s += $2 }
	END { out() }'
}

for phase in $PHASES; do
	for stack in $STACKS; do
		stack_up "$stack" "$phase" || exit 1
		echo "@fio $phase $stack IOPS,I/Os: $(run_fio "$phase" 4)"
		dmsetup remove bench
		set_no=0
		for set in $SETS; do
			set_no=$((set_no + 1))
			# dm-linear runs none of deltalog's functions.
			if [ "$stack" = linear ] &&
				! echo "$set" | tr , '\n' | grep -qv '^deltalog_'; then
				continue
			fi
			stack_up "$stack" "$phase" || exit 1
			echo nop >$T/current_tracer
			echo 30000 >$T/buffer_size_kb
			: >$T/set_ftrace_filter
			for f in $(echo "$set" | tr , ' '); do
				echo "$f" >>$T/set_ftrace_filter 2>/dev/null
			done
			# An empty filter would trace every function.
			if grep -qv '^#' $T/set_ftrace_filter; then
				echo function_graph >$T/current_tracer
				echo 1 >$T/options/funcgraph-tail
				: >$T/trace
				echo 1 >$T/tracing_on
				r=$(run_fio "$phase" "$RUNTIME")
				echo 0 >$T/tracing_on
				summarize "$phase $stack $set_no" "${r#* }"
				echo nop >$T/current_tracer
			fi
			dmsetup remove bench
		done
	done
done
