#!/bin/sh
# The guest half of t-powercut.host (not a scenario of its own: run-all runs
# t-*.sh only). Two boots share the disks (tests/vm/run --disk-dir):
#
#   powercut-guest.sh raw cut DELAY     boot 1: write, fsync, cut the power
#   powercut-guest.sh raw check         boot 2: what survived
#   powercut-guest.sh ext4 cut DELAY
#   powercut-guest.sh ext4 check
#
# raw: one writer (a single xfs_io process) writes 4 KiB blocks with O_DIRECT
# to a region of NB blocks of the stacked device, in order: write i goes to
# block i % NB and is filled with the letter of its generation i / NB (A-Z,
# a-z; the origin there holds '.'), and after every K writes it fsyncs the
# device and then appends an acknowledgement (a sector of 0x01) to /dev/vdd
# with O_DIRECT|O_SYNC. DELAY seconds after the writer started, sysrq b cuts
# the power. Boot 2 recovers the log and checks that the region is exactly
# the device after some write S (every block shows the newest write <= S to
# it, or '.' if none: nothing torn, nothing from a later write, no hole),
# with S covering every acknowledged write; that `dlog-tool check` finds no
# fatal damage before and after; and that the origin is unchanged.
#
# ext4: ext4 on the stacked device; the writer creates files of random data,
# fsyncs each, and only then appends "sha256  name" to an acknowledgement log
# on /dev/vdd (O_DIRECT|O_SYNC). Boot 2 recovers the log, mounts (journal
# replay), unmounts, runs e2fsck -fn (must be clean) and checks every
# acknowledged file's checksum.
#
# Disks: /dev/vdb holds the origin (its first 64 MiB, random data), /dev/vdc
# the delta (its first 128 MiB), /dev/vdd the acknowledgements (from sector
# 0) and the origin's checksum (at 8 MiB); commit_ms 100.
set -eu

mode=${1:-}
phase=${2:-}
delay=${3:-}

origin_size=131072			# sectors: 64 MiB
delta_size=262144			# sectors: 128 MiB
origin=/dev/mapper/dlorigin
delta=/dev/mapper/dldelta
dev=/dev/mapper/dl
acks=/dev/vdd
sum_at=$((8 << 20))			# where boot 1 leaves the origin's sha256
region=4096				# first block (4 KiB) of the raw region
NB=512					# blocks in the raw region (2 MiB)
K=8					# writes per fsync
letters=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
maxi=$((52 * NB))			# writes at most: no letter is used twice per block
mnt=/tmp/mnt

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'; }

case $mode/$phase in
raw/cut | ext4/cut) [ -n "$delay" ] || fail "usage: $0 raw|ext4 cut DELAY" ;;
raw/check | ext4/check) ;;
*) fail "usage: $0 raw|ext4 cut DELAY | $0 raw|ext4 check" ;;
esac

dmsetup targets | grep -q '^deltalog ' || fail "dmsetup targets does not list deltalog"
dmsetup create dlorigin --table "0 $origin_size linear /dev/vdb 0"
dmsetup create dldelta --table "0 $delta_size linear /dev/vdc 0"
table="0 $origin_size deltalog $origin $delta 2 commit_ms 100"

# power_cut: after DELAY seconds, the power goes (the VM resets at once: nothing
# is synced, the target gets no suspend).
power_cut() {
	sleep "$delay"
	echo "cutting the power after $delay s"
	echo b >/proc/sysrq-trigger
	sleep 10
	fail "still running after sysrq b"
}

# prepare: origin data (random; '.' in the raw region), an empty delta, no
# acknowledgements; the origin's sha256 kept on /dev/vdd.
prepare() {
	dd if=/dev/urandom of="$origin" bs=1M count=$((origin_size / 2048)) oflag=direct status=none
	tr '\0' '.' </dev/zero | dd of="$origin" bs=4096 seek="$region" count="$NB" \
		iflag=fullblock oflag=direct status=none
	dd if=/dev/zero of="$delta" bs=4096 count=2 oflag=direct status=none
	dd if=/dev/zero of="$acks" bs=1M count=2 oflag=direct status=none
	sum "$origin" | dd of="$acks" bs=4096 seek=$((sum_at / 4096)) conv=sync oflag=direct,sync status=none
	dmsetup create dl --table "$table"
}

# recover: boot 2 finds the log as the power cut left it; dlog-tool must not
# find it fatally damaged, and the target must load it.
recover() {
	dlog-tool check "$delta" --origin "$origin" >/tmp/check.out 2>&1 ||
		{ cat /tmp/check.out >&2; fail "dlog-tool check after the power cut: fatal findings"; }
	ok "dlog-tool check after the power cut: $(tail -n 1 /tmp/check.out)"
	grep -v ': 0 fatal, 0 warnings$' /tmp/check.out || true
	dmesg -c >/dev/null
	dmsetup create dl --table "$table" || { dmesg | tail -n 20 >&2; fail "the target refused the log after the power cut"; }
	dmesg | grep -F 'deltalog' || true
	echo "status: $(dmsetup status dl)"
	[ "$(status_field dl 7)" = active ] || fail "state $(status_field dl 7) after recovery"
	[ "$(status_field dl 5)" = "$(status_field dl 4)" ] || fail "durable seq != newest seq after recovery"
}

# finish: a clean stop; the log checks clean; the origin never changed.
finish() {
	dmsetup remove dl
	dlog-tool check "$delta" --origin "$origin" >/tmp/check.out 2>&1 ||
		{ cat /tmp/check.out >&2; fail "dlog-tool check after the reactivation"; }
	grep -q ': 0 fatal, 0 warnings$' /tmp/check.out || { cat /tmp/check.out >&2; fail "dlog-tool check: warnings"; }
	want=$(dd if="$acks" bs=4096 skip=$((sum_at / 4096)) count=1 status=none | tr -d '\0' | cut -c1-64)
	[ "$(sum "$origin")" = "$want" ] || fail "the origin changed"
	ok "dlog-tool check clean after a clean stop, origin unchanged ($want)"
}

raw_cut() {
	prepare
	# The writer's commands: file 0 is the stacked device (O_DIRECT), file 1
	# the acknowledgement disk (O_DIRECT|O_SYNC).
	awk -v nb="$NB" -v k="$K" -v maxi="$maxi" -v region="$region" -v acks="$acks" 'BEGIN {
		print "open -d -s " acks
		print "file 0"
		for (i = 0; i < maxi; i++) {
			b = i % nb; g = int(i / nb)
			printf "pwrite -q -S 0x%x -b 4096 %d 4096\n", (g < 26 ? 65 + g : 97 + g - 26), (region + b) * 4096
			if ((i + 1) % k == 0) {
				print "fsync"
				print "file 1"
				printf "pwrite -q -S 0x01 -b 512 %d 512\n", ((i + 1) / k - 1) * 512
				print "file 0"
			}
		}
	}' >/tmp/writer.cmds
	echo "writer: $maxi writes of 4 KiB over $NB blocks, fsync + acknowledgement every $K"
	xfs_io -d "$dev" </tmp/writer.cmds >/tmp/writer.out 2>&1 &
	power_cut
}

raw_check() {
	recover
	nacks=$(dd if="$acks" bs=512 count=$((maxi / K)) status=none | tr -d '\0' | wc -c)
	[ $((nacks % 512)) = 0 ] || fail "a torn acknowledgement on $acks"
	acked=$((nacks / 512 * K))		# writes 0 .. acked-1 were acknowledged
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$dev" bs=4096 skip="$region" count="$NB" iflag=direct status=none | fold -w 4096 |
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
				printf "block %d is torn or foreign (starts with \"%s\")\n", b, substr($0, 1, 16)
				bad = 1
				next
			}
			if (c == ".") shows[b] = -1
			else if ((g = index(letters, c)) > 0) shows[b] = (g - 1) * nb + b
			else { printf "block %d holds \"%s\"\n", b, c; bad = 1; next }
			if (shows[b] > s) s = shows[b]
		}
		BEGIN { s = -1 }
		END {
			if (NR != nb) { printf "read %d blocks, expected %d\n", NR, nb; exit 1 }
			if (bad) exit 1
			for (b = 0; b < nb; b++) {
				want = s >= b ? s - (s - b) % nb : -1
				if (shows[b] != want) {
					printf "block %d shows write %d; the device after write %d would show %d\n", b, shows[b], s, want
					bad = 1
				}
			}
			printf "the region is the device after write %d (acknowledged: %d writes)\n", s, acked
			if (s < acked - 1) { print "writes acknowledged after an fsync are lost"; bad = 1 }
			if (s + 1 >= maxi) { print "the writer had finished before the power cut: raise maxi"; bad = 1 }
			if (acked == 0) { print "nothing was acknowledged before the power cut: raise the delay"; bad = 1 }
			exit bad
		}' || fail "the region after the power cut is not a prefix of the writes"
	ok "every acknowledged write is there, and the region is a valid prefix of the writes"
	finish
}

ext4_cut() {
	prepare
	mkfs.ext4 -q "$dev"
	mkdir -p "$mnt"
	mount "$dev" "$mnt"
	echo "writer: files of 4..64 KiB, each fsync'd, then acknowledged"
	(
		i=0
		: >/tmp/acks
		while :; do
			i=$((i + 1))
			f=f$i
			[ $((i % 10)) = 0 ] && { mkdir -p "$mnt/d$i"; f=d$i/f$i; }
			dd if=/dev/urandom of="$mnt/$f" bs=4096 count=$((i % 16 + 1)) conv=fsync status=none
			echo "$(sum "$mnt/$f")  $f" >>/tmp/acks
			dd if=/tmp/acks of="$acks" bs=64k conv=sync oflag=direct,sync status=none
		done
	) &
	power_cut
}

ext4_check() {
	recover
	# Whole lines only: the acknowledgement being written at the cut may be torn.
	dd if="$acks" bs=1M count=1 status=none | tr -d '\0' |
		grep -E '^[0-9a-f]{64}  [a-z0-9/]+$' >/tmp/acks || true
	n=$(wc -l </tmp/acks)
	[ "$n" -gt 0 ] || fail "no file was acknowledged before the power cut: raise the delay"
	mkdir -p "$mnt"
	mount "$dev" "$mnt" || fail "mount after the power cut"
	umount "$mnt"
	e2fsck -fn "$dev" >/tmp/e2fsck.log 2>&1 || { cat /tmp/e2fsck.log >&2; fail "e2fsck -fn after the power cut"; }
	ok "ext4 mounted (journal replayed), e2fsck -fn clean"
	mount -o ro "$dev" "$mnt"
	(cd "$mnt" && sha256sum -c /tmp/acks >/tmp/sha.out 2>&1) ||
		{ grep -v ': OK$' /tmp/sha.out >&2; fail "acknowledged files lost or changed"; }
	echo "files in the filesystem: $(find "$mnt" -type f | wc -l), acknowledged: $n"
	umount "$mnt"
	ok "all $n acknowledged (fsync'd) files intact"
	finish
}

"${mode}_$phase"
