#!/bin/sh
# The guest half of t-merge-powercut.host (not a scenario of its own: run-all
# runs t-*.sh only): power cuts in the middle of an online merge. Two boots
# share the disks (tests/vm/run --disk-dir):
#
#   merge-powercut-guest.sh raw idle|writes cut WHEN   boot 1: log, mark M,
#                                   merge M, cut the power
#   merge-powercut-guest.sh ext4 writes cut WHEN
#   merge-powercut-guest.sh raw|ext4 idle|writes check WHEN   boot 2: the
#                                   merge resumes and finishes; what survived
#
# Boot 1 fills the origin with random data, stacks deltalog (commit_ms 100,
# merge_rate 4096 KiB/s, so that a merge takes seconds while the device is
# in use) and builds a log before a mark M:
#   raw   fio random writes of random data (4 KiB..256 KiB, O_DIRECT) over the
#         device outside a region of NB blocks, a discard and a write-zeroes,
#         and in the region writes 0..W0-1 of the ordered writer of
#         powercut-guest.sh (write i fills block i % NB with the letter of
#         generation i / NB; an fsync and an acknowledgement on /dev/vdd every
#         K writes);
#   ext4  ext4 on the device; a 12 MiB file and small files, each fsync'd
#         and acknowledged (its sha256 on /dev/vdd); the filesystem frozen
#         around the mark, so that the state at M is a clean filesystem.
# Then it writes after M (idle: writes W0..W1-1 of the region, all
# acknowledged, before the merge; writes: the writer keeps writing during the
# merge), records the sha256 of a view at M and checks that the origin is
# still byte-identical to what prepare wrote (no origin write outside a
# merge), makes the origin's writes wait 500 ms (dm-delay, reloaded under
# the running target), starts `merge M` while fio reads 100 random blocks a
# second (the device is in use, so merge_rate applies) and a reader checks
# region blocks (whole; idle: the expected letter), and cuts the power (sysrq
# b) when WHEN comes:
#   copy:P    the copy has done P% of its blocks (field 11 of the status;
#             if a stalled machine let the merge end first, after the end);
#   end:J     J ms after the copy should end at the rate seen so far (J < 0:
#             in the last blocks; J >= 0: in the finish, whose origin flush
#             waits 500 ms in dm-delay, or just after it);
#   delay:D   D seconds after `merge` (anywhere: before the superblock says
#             MERGING, in the copy, after the end).
# Boot 2 shows where the cut landed (`dlog-tool sb`: MERGING, merged seq),
# checks the log (dlog-tool check: nothing fatal), activates the same table:
# an interrupted merge must resume by itself (a merge never started is
# started again, delay:D only) and finish (merged seq M, merge activity
# none) within a timeout. Then: raw: the region is the device after some
# write S covering every acknowledged write (read during the resumed merge,
# after it and after a reactivation: the same S); ext4: mounts (journal
# replay), e2fsck -fn clean, every acknowledged file intact. After a clean
# stop: the origin's sha256 is the view's at M; ext4: the origin is a clean
# filesystem with every file acknowledged before M; dlog-tool check finds
# nothing (0 fatal, 0 warnings); the superblock has merged seq M, no MERGING;
# a reactivation shows merged seq M.
#
# Disks: /dev/vdb holds the origin (its first 32 MiB), /dev/vdc the delta (its
# first 128 MiB), /dev/vdd the acknowledgements (from sector 0) and, at
# 8 MiB, what boot 2 needs (key=value lines: M, the origin's and the view's
# sha256, the number of files acknowledged before M).
set -eu

mode=${1:-}
load=${2:-}
phase=${3:-}
when=${4:-}

origin_size=65536			# sectors: 32 MiB
delta_size=262144			# sectors: 128 MiB
origin=/dev/mapper/dlorigin
delta=/dev/mapper/dldelta
dev=/dev/mapper/dl
view=/dev/mapper/dlview
acks=/dev/vdd
info_at=$((8 << 20))			# where boot 1 leaves what boot 2 needs
rate=4096				# merge_rate, KiB/s
origin_delay=500			# ms: boot 1 delays the merge's origin writes
region=256				# first block (4 KiB) of the raw region (1 MiB)
NB=512					# blocks in the raw region (2 MiB)
K=8					# writes per fsync
W0=$((NB + NB / 2))			# region writes before the mark
W1=$((W0 + NB / 2))			# idle: region writes after the mark
letters=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
maxi=$((52 * NB))			# writes at most: no letter is used twice per block
mnt=/tmp/mnt
merge_timeout=120			# s, boot 2: the resumed merge must finish by then

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

usage="usage: $0 raw|ext4 idle|writes cut|check copy:P|end:J|delay:D"
case $mode/$load in
raw/idle | raw/writes | ext4/writes) ;;
*) fail "$usage" ;;
esac
case $phase/$when in
cut/copy:[0-9]* | cut/end:* | cut/delay:[0-9]*) ;;
check/copy:[0-9]* | check/end:* | check/delay:[0-9]*) ;;
*) fail "$usage" ;;
esac

dmsetup targets | grep -q '^deltalog ' || fail "dmsetup targets does not list deltalog"
dmsetup create dlorigin --table "0 $origin_size linear /dev/vdb 0"
dmsetup create dldelta --table "0 $delta_size linear /dev/vdc 0"
table="0 $origin_size deltalog $origin $delta 4 commit_ms 100 merge_rate $rate"

# info KEY: a value boot 1 recorded on /dev/vdd.
info() {
	dd if="$acks" bs=4096 skip=$((info_at / 4096)) count=1 status=none | tr -d '\0' |
		sed -n "s/^$1=//p"
}

# letter_after B S: what block B of the region holds after writes 0..S.
letter_after() {
	awk -v b="$1" -v s="$2" -v nb="$NB" -v letters="$letters" 'BEGIN {
		if (s < b) { print "."; exit }
		i = s - (s - b) % nb
		print substr(letters, int(i / nb) + 1, 1)
	}'
}

# writer_cmds FROM TO: xfs_io commands for region writes FROM..TO-1, an fsync
# and an acknowledgement after every K (file 0: the device, O_DIRECT; file
# 1: /dev/vdd, O_DIRECT|O_SYNC).
writer_cmds() {
	awk -v from="$1" -v to="$2" -v nb="$NB" -v k="$K" -v region="$region" -v acks="$acks" 'BEGIN {
		print "open -d -s " acks
		print "file 0"
		for (i = from; i < to; i++) {
			b = i % nb; g = int(i / nb)
			printf "pwrite -q -S 0x%x -b 4096 %d 4096\n", (g < 26 ? 65 + g : 97 + g - 26), (region + b) * 4096
			if ((i + 1) % k == 0) {
				print "fsync"
				print "file 1"
				printf "pwrite -q -S 0x01 -b 512 %d 512\n", ((i + 1) / k - 1) * 512
				print "file 0"
			}
		}
	}'
}

# writer_ok OUT: xfs_io printed nothing but its file table (on `file N`).
writer_ok() {
	! grep -vE '^(Cannot read termcap database;|using dumb terminal settings\.| *\[?[0-9]+\]? .*\((foreign|xfs),.*\))$' "$1" >&2
}

#----------------------------------------------------------------------
# Boot 1
#----------------------------------------------------------------------

# prepare: origin data (random; '.' in the raw region), an empty delta, no
# acknowledgements; the origin's sha256 kept for the check before the merge.
prepare() {
	dd if=/dev/urandom of="$origin" bs=1M count=$((origin_size / 2048)) oflag=direct status=none
	tr '\0' '.' </dev/zero | dd of="$origin" bs=4096 seek="$region" count="$NB" \
		iflag=fullblock oflag=direct status=none
	dd if=/dev/zero of="$delta" bs=4096 count=2 oflag=direct status=none
	dd if=/dev/zero of="$acks" bs=1M count=2 oflag=direct status=none
	dd if=/dev/zero of="$acks" bs=4096 seek=$((info_at / 4096)) count=1 oflag=direct status=none
	origin_sum=$(sum "$origin")
	dmsetup create dl --table "$table"
}

# The raw log before the mark: random writes outside the region, a discard
# and a write-zeroes (ZERO records: the merge zeroes the origin there), and
# region writes 0..W0-1, all fsync'd and acknowledged.
raw_before_mark() {
	fio --name=before-mark --filename="$dev" --rw=randwrite --ioengine=psync --direct=1 \
		--bssplit=4k/40:16k/30:64k/20:256k/10 --offset=4M --size=28M --io_size=24M \
		--randrepeat=0 --refill_buffers --eta=never --output=/tmp/fio.out ||
		{ cat /tmp/fio.out >&2; fail "fio before the mark"; }
	blkdiscard -o $((8 << 20)) -l $((1 << 20)) "$dev"
	blkdiscard -z -o $((20 << 20)) -l $((512 << 10)) "$dev"
	writer_cmds 0 "$W0" >/tmp/writer0.cmds
	xfs_io -d "$dev" </tmp/writer0.cmds >/tmp/writer0.out 2>&1 ||
		{ cat /tmp/writer0.out >&2; fail "region writes before the mark"; }
	writer_ok /tmp/writer0.out || fail "region writes before the mark"
	ok "before the mark: fio 24 MiB of random writes, a discard, a write-zeroes, region writes 0..$((W0 - 1))"
}

# ext4 before the mark: a filesystem with files, each fsync'd and acknowledged.
ext4_before_mark() {
	mkfs.ext4 -q -E nodiscard "$dev"
	mkdir -p "$mnt"
	mount "$dev" "$mnt"
	: >/tmp/acks
	dd if=/dev/urandom of="$mnt/big" bs=1M count=12 conv=fsync status=none
	echo "$(sum "$mnt/big")  big" >>/tmp/acks
	mkdir "$mnt/a"
	for i in $(seq 1 24); do
		dd if=/dev/urandom of="$mnt/a/f$i" bs=4096 count=$((i % 16 + 1)) conv=fsync status=none
		echo "$(sum "$mnt/a/f$i")  a/f$i" >>/tmp/acks
	done
	dd if=/tmp/acks of="$acks" bs=64k conv=sync oflag=direct,sync status=none
	nbefore=$(wc -l </tmp/acks)
	ok "before the mark: ext4 with $nbefore files (12 MiB and 24 small ones), each fsync'd"
}

# mark: M, with the filesystem frozen around it (a clean filesystem at M).
mark() {
	[ "$mode" = ext4 ] && fsfreeze -f "$mnt"
	M=$(dmsetup message dl 0 mark before-merge)
	[ "$mode" = ext4 ] && fsfreeze -u "$mnt"
	case $M in '' | *[!0-9]*) fail "mark printed '$M', not a seq" ;; esac
	ok "mark M = seq $M"
}

# view_sum: sha256 of a view at M (the state the merge must leave in the
# origin); ext4: that state is a clean filesystem.
view_sum() {
	dmsetup create dlview --table "0 $origin_size deltalog $origin $delta 2 view $M"
	view_sha=$(sum "$view")
	if [ "$mode" = ext4 ]; then
		e2fsck -fn "$view" >/tmp/e2fsck.log 2>&1 ||
			{ cat /tmp/e2fsck.log >&2; fail "e2fsck -fn of the view at M (the filesystem was frozen)"; }
	fi
	dmsetup remove dlview
	ok "view at M: sha256 $view_sha"
}

# After the mark: idle: region writes W0..W1-1, all acknowledged, then
# nothing; writes: the writer goes on (raw: region writes from W0; ext4:
# more files, each fsync'd and then acknowledged) until the power goes.
after_mark() {
	if [ "$mode" = raw ]; then
		if [ "$load" = idle ]; then
			writer_cmds "$W0" "$W1" >/tmp/writer1.cmds
			xfs_io -d "$dev" </tmp/writer1.cmds >/tmp/writer1.out 2>&1 ||
				{ cat /tmp/writer1.out >&2; fail "region writes after the mark"; }
			writer_ok /tmp/writer1.out || fail "region writes after the mark"
			ok "after the mark: region writes $W0..$((W1 - 1)), then none"
		else
			writer_cmds "$W0" "$maxi" >/tmp/writer1.cmds
			xfs_io -d "$dev" </tmp/writer1.cmds >/tmp/writer1.out 2>&1 &
			echo "writer: region writes from $W0 on, fsync + acknowledgement every $K"
		fi
		return
	fi
	(
		i=0
		while :; do
			i=$((i + 1))
			f=f$i
			[ $((i % 10)) = 0 ] && { mkdir -p "$mnt/d$i"; f=d$i/f$i; }
			dd if=/dev/urandom of="$mnt/$f" bs=4096 count=$((i % 16 + 1)) conv=fsync status=none
			echo "$(sum "$mnt/$f")  $f" >>/tmp/acks
			dd if=/tmp/acks of="$acks" bs=64k conv=sync oflag=direct,sync status=none
		done
	) &
	echo "writer: files of 4..64 KiB, each fsync'd, then acknowledged"
}

# keeper: random 4 KiB reads, 100 a second, so that the device is in use:
# merge_rate applies and the copy takes seconds.
keeper() {
	fio --name=keeper --filename="$dev" --rw=randread --ioengine=psync --direct=1 --bs=4k \
		--rate_iops=100 --time_based --runtime=600 --eta=never --output=/tmp/keeper.out &
	keeper_pid=$!
}

# wait_keeper: fio starts slowly under emulation; wait until it reads.
wait_keeper() {
	stat=/sys/block/$(dmsetup info -c --noheadings -o blkdevname dl)/stat
	i=0
	r0=$(awk '{ print $1 }' "$stat")
	while sleep 0.2; r=$(awk '{ print $1 }' "$stat"); [ $((r - r0)) -lt 5 ]; do
		i=$((i + 1))
		[ "$i" -lt 150 ] || { cat /tmp/keeper.out >&2; fail "the keeper (fio) does not read"; }
		r0=$r
	done
}

# slow_origin: the origin's writes (the merge's) wait origin_delay ms in
# dm-delay, so that a merge takes a second or more even when a stall of the
# keeper lets it run at full speed (the copy has at most 8 MiB in flight);
# writes still waiting there are lost at the cut, as in a disk's queue.
slow_origin() {
	modprobe dm-delay
	dmsetup reload dlorigin --table "0 $origin_size delay /dev/vdb 0 0 /dev/vdb 0 $origin_delay"
	dmsetup resume dlorigin
}

# reader: reads random region blocks while the merge copies. raw: the block
# must be whole (one letter); idle: the one written last.
reader() {
	while :; do
		# shellcheck disable=SC3028 # busybox ash has RANDOM
		b=$((RANDOM % NB))
		dd if="$dev" bs=4096 skip=$((region + b)) count=1 iflag=direct status=none >/tmp/rblock ||
			{ echo "read of block $b failed" >/tmp/reader.bad; exit; }
		if [ "$mode" = raw ]; then
			c=$(head -c 1 /tmp/rblock)
			n=$(tr -d "$c" </tmp/rblock | wc -c)
			[ "$n" = 0 ] || { echo "region block $b is torn during the merge" >/tmp/reader.bad; exit; }
			if [ "$load" = idle ] && [ "$c" != "$(letter_after "$b" $((W1 - 1)))" ]; then
				echo "region block $b holds '$c' during the merge, not '$(letter_after "$b" $((W1 - 1)))'" >/tmp/reader.bad
				exit
			fi
		fi
		sleep 0.05
	done
}

# cut: when WHEN comes, the power goes (nothing is synced, the target gets no
# suspend).
cut_power() {
	start=$(uptime_s)
	case $when in
	delay:*)
		sleep "${when#delay:}"
		st=$(dmsetup status dl)
		;;
	copy:*)
		p=${when#copy:}
		while :; do
			st=$(dmsetup status dl)
			echo "$(uptime_s) $st" >>/tmp/polls
			# shellcheck disable=SC2086 # the status, split into its fields
			set -- $st
			[ "${15}" = stopped ] && fail "the merge stopped: $st"
			if [ "${9}" = "$M" ] && [ "${15}" = none ]; then
				# The machine stalled the keeper: cut after the end instead.
				echo "the merge ended before $p% was copied (polls:"
				sed 's/^/    /' /tmp/polls
				echo ")"
				break
			fi
			echo "${14}" | awk -F/ -v p="$p" '{ exit !($2 > 0 && $1 * 100 >= $2 * p) }' && break
			awk -v s="$start" -v t="$(uptime_s)" 'BEGIN { exit !(t - s > 60) }' &&
				fail "the copy did not reach $p% in 60 s: $st"
			sleep 0.02
		done
		;;
	end:*)
		# When the copy is within a second of its end, sleep the time its
		# remaining blocks take at the rate seen so far, plus J ms.
		j=${when#end:}
		t0='' c0=''
		while :; do
			st=$(dmsetup status dl)
			now=$(uptime_s)
			# shellcheck disable=SC2086 # the status, split into its fields
			set -- $st
			[ "${15}" = stopped ] && fail "the merge stopped: $st"
			[ "${15}" = none ] && break
			copied=${14%/*} total=${14#*/}
			[ -z "$t0" ] && [ "$copied" -gt 0 ] && t0=$now c0=$copied
			nap=$(awk -v c="$copied" -v tot="$total" -v t0="$t0" -v c0="$c0" -v now="$now" \
				-v rate="$rate" -v j="$j" 'BEGIN {
				r = rate / 4
				if (t0 != "" && now - t0 > 0.3 && c > c0) r = (c - c0) / (now - t0)
				if (tot == 0) exit
				left = (tot - c) / r
				if (left <= 1) { n = left + j / 1000; printf "%.3f\n", (n > 0 ? n : 0) }
			}')
			[ -n "$nap" ] && break
			awk -v s="$start" -v t="$now" 'BEGIN { exit !(t - s > 60) }' &&
				fail "the copy did not near its end in 60 s: $st"
			sleep 0.02
		done
		[ -n "${nap:-}" ] && sleep "$nap"
		;;
	esac
	[ ! -e /tmp/reader.bad ] || fail "$(cat /tmp/reader.bad)"
	kill -0 "$keeper_pid" 2>/dev/null || { cat /tmp/keeper.out >&2; fail "the keeper (fio) is gone"; }
	echo "cutting the power ($when) $(awk -v s="$start" -v t="$(uptime_s)" 'BEGIN { printf "%.2f", t - s }') s after the merge began${nap:+, $nap s after}: $st"
	echo b >/proc/sysrq-trigger
	sleep 10
	fail "still running after sysrq b"
}

boot_cut() {
	prepare
	"${mode}_before_mark"
	mark
	after_mark
	keeper
	view_sum
	[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed before the merge"
	ok "the origin is unchanged before the merge ($origin_sum)"
	printf 'M=%s\norigin_sum=%s\nview_sum=%s\nnbefore=%s\n' "$M" "$origin_sum" "$view_sha" "${nbefore:-0}" |
		dd of="$acks" bs=4096 seek=$((info_at / 4096)) conv=sync oflag=direct,sync status=none
	rm -f /tmp/reader.bad
	reader &
	slow_origin
	wait_keeper
	echo "status before the merge: $(dmsetup status dl)"
	dmsetup message dl 0 merge "$M"
	cut_power
}

#----------------------------------------------------------------------
# Boot 2
#----------------------------------------------------------------------

sb_field() { dlog-tool sb "$delta" | sed -n "s/^$1=//p"; }

# region_check [WHAT]: the region is exactly the device after some write S
# (nothing torn, nothing from a later write, no hole), S covering every
# acknowledged write; sets S.
region_check() {
	nacks=$(dd if="$acks" bs=512 count=$((maxi / K)) status=none | tr -d '\0' | wc -c)
	[ $((nacks % 512)) = 0 ] || fail "a torn acknowledgement on $acks"
	acked=$((nacks * K / 512))		# writes 0 .. acked-1 were acknowledged
	S=$(dd if="$dev" bs=4096 skip="$region" count="$NB" iflag=direct status=none | fold -w 4096 |
		awk -v nb="$NB" -v letters="$letters" -v acked="$acked" -v maxi="$maxi" '
		function rep(c,    s) {
			if (!(c in reps)) {
				s = c
				while (length(s) < 4096) s = s s
				reps[c] = s
			}
			return reps[c]
		}
		{
			b = NR - 1
			c = substr($0, 1, 1)
			if (length($0) != 4096 || $0 != rep(c)) {
				printf "block %d is torn or foreign (starts with \"%s\")\n", b, substr($0, 1, 16) >"/dev/stderr"
				bad = 1
				next
			}
			if (c == ".") shows[b] = -1
			else if ((g = index(letters, c)) > 0) shows[b] = (g - 1) * nb + b
			else { printf "block %d holds \"%s\"\n", b, c >"/dev/stderr"; bad = 1; next }
			if (shows[b] > s) s = shows[b]
		}
		BEGIN { s = -1 }
		END {
			if (NR != nb) { printf "read %d blocks, expected %d\n", NR, nb >"/dev/stderr"; exit 1 }
			if (bad) exit 1
			for (b = 0; b < nb; b++) {
				want = s >= b ? s - (s - b) % nb : -1
				if (shows[b] != want) {
					printf "block %d shows write %d; the device after write %d would show %d\n", b, shows[b], s, want >"/dev/stderr"
					bad = 1
				}
			}
			if (s < acked - 1) { printf "write %d is the last one there, but %d writes were acknowledged\n", s, acked >"/dev/stderr"; bad = 1 }
			if (s + 1 >= maxi) { print "the writer had finished before the power cut: raise maxi" >"/dev/stderr"; bad = 1 }
			print s
			exit bad
		}') || fail "the region ${1:-} is not the device after a write that covers the acknowledged ones"
	echo "the region ${1:-}is the device after write $S (acknowledged: $acked writes)"
}

# wait_merge: the merge goes on to M by itself and finishes.
wait_merge() {
	start=$activated
	while :; do
		st=$(dmsetup status dl)
		# shellcheck disable=SC2086 # the status, split into its fields
		set -- $st
		[ "${9}" = "$M" ] && [ "${15}" = none ] && break
		[ "${15}" = stopped ] && { dmesg | grep -F deltalog >&2; fail "the resumed merge stopped: $st"; }
		[ "${15}" = running ] || { dmesg | grep -F deltalog >&2; fail "no merge running, merged seq ${9}, not $M: $st"; }
		awk -v s="$start" -v t="$(uptime_s)" -v m="$merge_timeout" 'BEGIN { exit !(t - s > m) }' &&
			fail "the merge did not finish in $merge_timeout s: $st"
		sleep 0.1
	done
	echo "status: $st"
	[ "${10}" = active ] || fail "state ${10} after the merge, not active"
	[ "${13}" = 0 ] || fail "merge target ${13} after the merge, not 0"
	[ "${8}" = "${7}" ] || fail "durable seq ${8} != newest seq ${7} after the merge"
	ok "the merge finished by itself: merged seq $M ($(awk -v s="$start" -v t="$(uptime_s)" 'BEGIN { printf "%.1f", t - s }') s after activation)"
}

boot_check() {
	M=$(info M)
	[ -n "$M" ] || fail "no record of boot 1 on $acks (did it reach the merge?)"
	merging=$(sb_field merging)
	merged=$(sb_field merged_seq)
	target=$(sb_field merge_target_seq)
	if [ "$merging" = 1 ]; then
		[ "$target" = "$M" ] || fail "the superblock says MERGING up to $target, not $M"
		echo "the cut landed in the merge: the superblock says MERGING up to $target, merged seq $merged"
	elif [ "$merged" = "$M" ]; then
		echo "the cut landed after the merge: merged seq $M in the superblock"
	else
		echo "the cut landed before the merge was recorded: merged seq $merged, no MERGING"
		case $when in delay:*) ;; *) fail "the cut came after copying began, yet the superblock does not say MERGING" ;; esac
	fi

	dlog-tool check "$delta" --origin "$origin" >/tmp/check.out 2>&1 ||
		{ cat /tmp/check.out >&2; fail "dlog-tool check after the power cut: fatal findings"; }
	ok "dlog-tool check after the power cut: $(tail -n 1 /tmp/check.out)"
	grep -v ': 0 fatal, 0 warnings$' /tmp/check.out || true

	dmesg -c >/dev/null
	dmsetup create dl --table "$table" || { dmesg | tail -n 20 >&2; fail "the target refused the log after the power cut"; }
	activated=$(uptime_s)
	echo "status after activation: $(dmsetup status dl)"
	if [ "$merging" = 1 ]; then
		st=$(dmsetup status dl)
		# shellcheck disable=SC2086 # the status, split into its fields
		set -- $st
		[ "${15}" = running ] || { [ "${9}" = "$M" ] && [ "${15}" = none ]; } ||
			fail "the interrupted merge did not resume: $st"
	elif [ "$merged" != "$M" ]; then
		dmsetup message dl 0 merge "$M"
		echo "merge $M started again"
	fi
	# Reads during the resumed merge (they also slow it to merge_rate).
	[ "$mode" = raw ] && region_check "during the resumed merge "
	S1=${S:-}
	wait_merge
	dmesg | grep -F deltalog || true

	if [ "$mode" = raw ]; then
		region_check "after the merge "
		[ "$S" = "$S1" ] || fail "the region changed during the merge: write $S1, then $S"
		[ "$load" = writes ] || [ "$S" = $((W1 - 1)) ] || fail "idle: the region shows write $S, not $((W1 - 1))"
		ok "every acknowledged write is there, and the region is a valid prefix of the writes"
	else
		ext4_files
	fi

	dmsetup remove dl
	want=$(info view_sum)
	[ "$(sum "$origin")" = "$want" ] || fail "the origin is not the state at M (view sha256 $want)"
	ok "the origin is the state at M (sha256 $want)"
	[ "$mode" = ext4 ] && ext4_origin
	dlog-tool check "$delta" --origin "$origin" >/tmp/check.out 2>&1 ||
		{ cat /tmp/check.out >&2; fail "dlog-tool check after the merge"; }
	grep -q ': 0 fatal, 0 warnings$' /tmp/check.out || { cat /tmp/check.out >&2; fail "dlog-tool check after the merge: warnings"; }
	if [ "$(sb_field merged_seq)" != "$M" ] || [ "$(sb_field merging)" != 0 ]; then
		dlog-tool sb "$delta" >&2
		fail "the superblock after the merge: merged seq $(sb_field merged_seq), merging $(sb_field merging)"
	fi
	ok "dlog-tool check clean after a clean stop; superblock: merged seq $M, no MERGING"

	# Once more: the origin's new fingerprint and the merged seq, and the
	# device reads the same from the origin and the rest of the log.
	dmsetup create dl --table "$table" || { dmesg | tail -n 20 >&2; fail "reactivation after the merge"; }
	st=$(dmsetup status dl)
	echo "status after reactivation: $st"
	# shellcheck disable=SC2086 # the status, split into its fields
	set -- $st
	if [ "${9}" != "$M" ] || [ "${15}" != none ] || [ "${10}" != active ]; then
		fail "after reactivation: $st"
	fi
	if [ "$mode" = raw ]; then
		region_check "after reactivation "
		[ "$S" = "$S1" ] || fail "the region changed across the reactivation: write $S1, then $S"
	fi
	dmsetup remove dl
	ok "reactivated: merged seq $M, the device unchanged"
}

# ext4 on the device after the merge: mounts (journal replay), e2fsck -fn
# clean, every acknowledged file intact.
ext4_files() {
	# Whole lines only: the acknowledgement being written at the cut may be torn.
	dd if="$acks" bs=1M count=1 status=none | tr -d '\0' |
		grep -E '^[0-9a-f]{64}  [a-z0-9/]+$' >/tmp/acks || true
	n=$(wc -l </tmp/acks)
	nbefore=$(info nbefore)
	[ "$n" -ge "$nbefore" ] || fail "$n acknowledgements, fewer than the $nbefore made before the mark"
	mkdir -p "$mnt"
	mount "$dev" "$mnt" || fail "mount after the power cut"
	umount "$mnt"
	e2fsck -fn "$dev" >/tmp/e2fsck.log 2>&1 || { cat /tmp/e2fsck.log >&2; fail "e2fsck -fn after the power cut"; }
	ok "ext4 mounted (journal replayed), e2fsck -fn clean"
	mount -o ro "$dev" "$mnt"
	(cd "$mnt" && sha256sum -c /tmp/acks >/tmp/sha.out 2>&1) ||
		{ grep -v ': OK$' /tmp/sha.out >&2; fail "acknowledged files lost or changed"; }
	echo "files in the filesystem: $(find "$mnt" -type f | wc -l), acknowledged: $n ($nbefore before the mark)"
	umount "$mnt"
	ok "all $n acknowledged (fsync'd) files intact"
}

# ext4 in the origin: the clean filesystem of M, with its files.
ext4_origin() {
	e2fsck -fn "$origin" >/tmp/e2fsck.log 2>&1 || { cat /tmp/e2fsck.log >&2; fail "e2fsck -fn of the origin"; }
	head -n "$nbefore" /tmp/acks >/tmp/acks.before
	mount -o ro,noload "$origin" "$mnt"
	(cd "$mnt" && sha256sum -c /tmp/acks.before >/tmp/sha.out 2>&1) ||
		{ grep -v ': OK$' /tmp/sha.out >&2; umount "$mnt"; fail "files of M lost or changed in the origin"; }
	umount "$mnt"
	ok "the origin is a clean ext4 (e2fsck -fn) with the $nbefore files of M intact"
}

"boot_$phase"
