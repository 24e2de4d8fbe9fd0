#!/bin/sh
# VM scenario: every bad input of deltalogctl's contract, typed as a user
# would, gets the documented exit status (1 failed, 2 bad usage), a message
# on stderr that names the problem, and changes nothing.
#
# "Changes nothing" is checked for every refused command, before and after:
# sha256 of every partition the scenario uses (origins, deltas, spares), of
# /dev/mapper/box when it is active, of the partition tables and of an
# image file; the device-mapper devices with their UUID, suspended state
# and open count. A delta that changed is compared byte by byte, so that a
# FAIL says whether only its superblocks changed.
#
# Cases: usage errors (exit 2, "Usage:"); create refusing a delta with ext4
# (and --force using it), mounted devices, the same device twice, a
# partition and its disk, a name that is taken, devices held by another dm
# device, an image file, a path that does not exist; activate refusing a
# blank delta, an ext4 delta, the wrong origin (fingerprint, size), a taken
# name; rollback/deactivate/remove refused while mounted (mark works);
# rollback, and a merge past the view, refused while a view is open (naming it);
# unknown marks, times before the committed history or in the future,
# seqs out of range; a corrupted delta (metadata ring, then both
# superblocks) refused by activate and reported by check; the module not
# loaded; destructive commands without a terminal and without --yes.
# A FAIL line per case that goes wrong; the scenario goes on to the end.
#
# Disks: small MBR partitions, so that whole-device checksums are cheap:
#   /dev/vdb1 4 MiB  the origin (ext4)        /dev/vdb2 4 MiB  spare
#   /dev/vdc1 4 MiB  the delta                /dev/vdc2 4 MiB  ext4 (a delta that is not free)
#   /dev/vdd1 4 MiB  another origin (ext4)    /dev/vdd2 2 MiB  spare (dm-linear, wrong size)
set -eu

failures=0
fail() { echo "FAIL: $*" >&2; exit 1; }	# the scenario itself cannot go on
bad() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }	# one case failed; go on
ok() { echo "ok: $*"; }

origin=/dev/vdb1
delta=/dev/vdc1
fsdelta=/dev/vdc2
other=/dev/vdd1
small=/dev/vdd2
dev=/dev/mapper/box
mnt=/tmp/errors-mnt
img=/tmp/delta.img
mkdir -p "$mnt" /tmp/m-origin /tmp/m-delta

cleanup() {
	for m in "$mnt" /tmp/m-origin /tmp/m-delta; do umount "$m" 2>/dev/null || true; done
	for d in box-view box2 box holder holder2; do dmsetup remove "$d" 2>/dev/null || true; done
	dmsetup targets 2>/dev/null | grep -q '^deltalog ' || modprobe dm-deltalog 2>/dev/null || true
}
trap cleanup EXIT

dmsetup targets | grep -q '^deltalog ' || fail "the dm-deltalog target is not loaded"

# ---- disks -------------------------------------------------------------

# An MBR with Linux partitions: mbr DISK START SECTORS [START SECTORS...].
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
mbr() {
	disk=$1
	shift
	{
		head -c 446 /dev/zero
		n=0
		while [ $# -ge 2 ]; do
			{ printf '0000000083000000'; le32 "$1"; le32 "$2"; } | xxd -r -p
			shift 2
			n=$((n + 1))
		done
		while [ $n -lt 4 ]; do head -c 16 /dev/zero; n=$((n + 1)); done
		printf '55aa' | xxd -r -p
	} >/tmp/mbr
	[ "$(stat -c %s /tmp/mbr)" = 512 ] || fail "the MBR for $disk is $(stat -c %s /tmp/mbr) bytes"
	dd if=/tmp/mbr of="$disk" bs=512 count=1 conv=fsync status=none
	blockdev --rereadpt "$disk"
}
mbr /dev/vdb 2048 8192 10240 8192
mbr /dev/vdc 2048 8192 10240 8192
mbr /dev/vdd 2048 8192 10240 4096
for p in $origin /dev/vdb2 $delta $fsdelta $other $small; do
	[ -b "$p" ] || fail "$p did not appear after the partition table was written"
done
[ "$(blockdev --getsz $other)" = "$(blockdev --getsz $origin)" ] || fail "$other and $origin differ in size"

# No lazy init: nothing writes in the background, so checksums are stable.
# UUIDs from the kernel: mke2fs takes 4 s to make its own in this VM.
mkext4() {
	mkfs.ext4 -q -F -N 64 -U "$(cat /proc/sys/kernel/random/uuid)" \
		-E "lazy_itable_init=0,lazy_journal_init=0,nodiscard,hash_seed=$(cat /proc/sys/kernel/random/uuid)" "$@"
}
mkext4 -L origin "$origin"
mount "$origin" "$mnt"
echo "the origin" >"$mnt/report.txt"
umount "$mnt"
mkext4 -L other "$other"
mount "$other" "$mnt"
echo "another disk" >"$mnt/other.txt"
dd if=/dev/urandom of="$mnt/noise" bs=64k count=4 status=none
umount "$mnt"
mkext4 -L notalog "$fsdelta"
truncate -s 1M "$img"
ok "disks: $origin (ext4), $delta (blank), $fsdelta (ext4), $other (ext4), $small"

# ---- the "nothing changed" check ---------------------------------------

# snapshot DIR: sha256 of every device the scenario uses, read through the
# page cache after dropping it (the target and deltalogctl write past it),
# the partition tables, the image file and the device-mapper devices (name,
# UUID, suspended or not, open count); and a copy of each delta, so that a
# difference can say which bytes changed.
snapshot() {
	rm -rf "$1"
	mkdir -p "$1"
	echo 3 >/proc/sys/vm/drop_caches
	cat $delta >"$1/delta"
	cat $fsdelta >"$1/fsdelta"
	{
		for d in $origin /dev/vdb2 $other $small $dev; do
			[ -b "$d" ] || echo "$d absent"
		done
		# shellcheck disable=SC2046 # one word per device that exists
		sha256sum $(for d in $origin /dev/vdb2 $other $small $dev; do
			[ ! -b "$d" ] || echo "$d"; done) "$img"
		(cd "$1" && sha256sum delta fsdelta)
		echo "partition tables $(head -c 512 /dev/vdb /dev/vdc /dev/vdd | sha256sum)"
		dmsetup info -c --noheadings -o name,uuid,attr,open 2>&1 | sort
	} >"$1/sums"
}
# differences BEFORE AFTER: what differs between two snapshots, if anything.
differences() {
	diff "$1/sums" "$2/sums" | grep '^[-+][^-+]' || true
	for f in delta fsdelta; do
		[ $f = delta ] && d=$delta || d=$fsdelta
		cmp -s "$1/$f" "$2/$f" || cmp -l "$1/$f" "$2/$f" | awk -v d="$d" '
			NR == 1 { first = $1 - 1 } { last = $1 - 1 }
			END { printf "%s: %d bytes differ, from byte %d to byte %d%s\n", d, NR, first, last,
				last < 8192 ? " (in the superblocks)" : "" }'
	done
}
# The state before a refused command is the state after the previous one,
# unless something was done in between: every legitimate change calls
# changed(), and a forgotten one shows as a FAIL, never as a pass.
before=/tmp/snapshot-before
after=/tmp/snapshot-after
changed() { rm -rf "$before"; }
# After writes through a filesystem on /dev/mapper/box: sync, then wait
# until the devices stop changing (the filesystem may still rewrite a block
# with the same data: one more record on the delta).
settle() {
	sync
	snapshot "$before"
	i=0
	while sleep 1 && snapshot "$after" && [ -n "$(differences "$before" "$after")" ]; do
		rm -rf "$before"
		mv "$after" "$before"
		i=$((i + 1))
		[ $i -lt 15 ] || fail "the devices do not settle"
	done
}

# refused STATUS WHAT WORD... -- COMMAND...
# Runs COMMAND (stdin /dev/null) and checks its exit status, that stderr
# holds every WORD (fixed strings, any case), and that nothing changed.
refused() {
	want=$1 what=$2
	shift 2
	words=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		words="$words$1
"
		shift
	done
	[ $# -gt 1 ] || fail "refused: no command for '$what'"
	shift
	[ -d "$before" ] || snapshot "$before"
	rc=0
	"$@" </dev/null >/tmp/out 2>/tmp/err || rc=$?
	problems=
	[ "$rc" = "$want" ] || problems="$problems; exit status $rc, expected $want"
	[ -s /tmp/err ] || problems="$problems; nothing on stderr"
	while IFS= read -r w; do
		[ -z "$w" ] || grep -qiF -e "$w" /tmp/err || problems="$problems; stderr lacks '$w'"
	done <<EOF
$words
EOF
	snapshot "$after"
	diff=$(differences "$before" "$after")
	if [ -n "$diff" ]; then
		problems="$problems; it changed something:
$diff"
		rm -rf "$before"
		mv "$after" "$before"
	fi
	if [ -n "$problems" ]; then
		bad "$what: ${problems#; }
  command: $*
  stdout: $(cat /tmp/out)
  stderr: $(cat /tmp/err)"
		return 0
	fi
	ok "$what: $(head -n 1 /tmp/err)"
}

# succeeds WHAT COMMAND...: a legitimate step; its output is shown on failure.
succeeds() {
	what=$1
	shift
	changed
	"$@" </dev/null >/tmp/out 2>&1 || { cat /tmp/out; fail "$what: $*"; }
}

first_line() { head -n 1 /tmp/out; }

# ---- 1. bad usage: exit 2 and the usage ---------------------------------

label64=$(printf '%064d' 0 | tr 0 a)
refused 2 "no arguments" "Usage:" -- deltalogctl
refused 2 "unknown command" "frobnicate" "Usage:" -- deltalogctl frobnicate box
refused 2 "unknown option" "--frobnicate" "Usage:" -- deltalogctl create box $origin $delta --frobnicate
refused 2 "missing argument" "DELTA" "Usage:" -- deltalogctl create box $origin
refused 2 "extra argument" "'extra'" "Usage:" -- deltalogctl deactivate box extra
refused 2 "abbreviated option" "--ye" "Usage:" -- deltalogctl rollback box --to now --ye
refused 2 "option without its value" "--to" "Usage:" -- deltalogctl rollback box --to
refused 2 "rollback without --to" "--to" "Usage:" -- deltalogctl rollback box --yes
refused 2 "merge without --until" "--until" "Usage:" -- deltalogctl merge box --yes
refused 2 "label with a space" "'a b'" "Usage:" -- deltalogctl mark box "a b"
refused 2 "label of 64 characters" "$label64" "Usage:" -- deltalogctl mark box "$label64"
refused 2 "empty label" "LABEL" "Usage:" -- deltalogctl mark box ""
refused 2 "bad --on-full" "--on-full" "Usage:" -- deltalogctl create box $origin $delta --on-full never
for t in 25:00 yesterday -2x "2026-02-30 10:00" "10:60" "#12a" "@a b"; do
	refused 2 "rollback --to '$t'" "'$t'" "not a time" "Usage:" -- deltalogctl rollback box --to "$t" --yes
done
refused 2 "merge --until 'soon'" "'soon'" "Usage:" -- deltalogctl merge box --until soon --yes
refused 2 "view --at '7pm'" "'7pm'" "Usage:" -- deltalogctl view box --at 7pm box-view
refused 2 "log --since '-3 days'" "'-3 days'" "Usage:" -- deltalogctl log box --since "-3 days"

# Devices that do not exist: exit 1, naming them.
refused 1 "status of an unknown device" "nosuch" -- deltalogctl status nosuch
refused 1 "mark on an unknown device" "nosuch" -- deltalogctl mark nosuch m
refused 1 "rollback of an unknown device" "nosuch" -- deltalogctl rollback nosuch --to now --yes
refused 1 "deactivate an unknown device" "nosuch" -- deltalogctl deactivate nosuch
refused 1 "check of a path that does not exist" "/dev/vdz9" -- deltalogctl check /dev/vdz9

# ---- 2. create ---------------------------------------------------------

refused 1 "create on a delta holding ext4" "$fsdelta" "ext4" "--force" -- \
	deltalogctl create box $origin $fsdelta
succeeds "create --force over ext4" deltalogctl create box $origin $fsdelta --force
grep -q "Wiping an ext4" /tmp/out || { cat /tmp/out; bad "create --force did not say it wipes the ext4"; }
[ -b $dev ] || fail "create --force made no $dev"
[ -z "$(blkid -p -s TYPE -o value $fsdelta)" ] || bad "blkid still finds a filesystem on $fsdelta: $(blkid -p $fsdelta)"
ok "create --force uses a delta holding ext4: $(first_line)"
succeeds "remove" deltalogctl remove box --yes
mkext4 -L notalog "$fsdelta"
changed

mount $origin /tmp/m-origin
changed
refused 1 "create with the origin mounted" "$origin" "/tmp/m-origin" -- \
	deltalogctl create box $origin $delta
umount /tmp/m-origin
mount $fsdelta /tmp/m-delta
changed
refused 1 "create --force with the delta mounted" "$fsdelta" "/tmp/m-delta" -- \
	deltalogctl create box $origin $fsdelta --force
umount /tmp/m-delta
changed

refused 1 "create with origin = delta" "same device" -- deltalogctl create box $origin $origin
# /tmp is nodev: the other name lives in /dev.
devno=$(cat /sys/class/block/${origin#/dev/}/dev)
mknod /dev/origin-alias b "${devno%:*}" "${devno#*:}"
refused 1 "create with the origin under another name as the delta" "same device" "$origin" -- \
	deltalogctl create box $origin /dev/origin-alias
refused 1 "create with the delta a partition of the origin" "/dev/vdb1" "partition" -- \
	deltalogctl create box /dev/vdb /dev/vdb1
refused 1 "create with the origin a partition of the delta" "/dev/vdb" "partition" -- \
	deltalogctl create box /dev/vdb2 /dev/vdb

dmsetup create box --table "0 2048 linear $small 0"
changed
refused 1 "create with a taken name" "box" "exists" -- deltalogctl create box $origin $delta
dmsetup remove box
dmsetup create holder --table "0 2048 linear $delta 0"
changed
refused 1 "create with the delta held by a dm device" "$delta" "held by dm device 'holder'" "dmsetup remove holder" -- \
	deltalogctl create box $origin $delta
dmsetup remove holder
dmsetup create holder2 --table "0 2048 linear $origin 0"
changed
refused 1 "create --force with the origin held by a dm device" "$origin" "held by dm device 'holder2'" -- \
	deltalogctl create box $origin $delta --force
dmsetup remove holder2
changed

refused 1 "create with an image file" "$img" "regular file" "losetup" -- deltalogctl create box $origin $img
refused 1 "create with a path that does not exist" "/dev/vdz9" "does not exist" -- \
	deltalogctl create box $origin /dev/vdz9
refused 1 "create with a directory" "/tmp" "directory" -- deltalogctl create box /tmp $delta

# ---- 3. activate -------------------------------------------------------

refused 1 "activate a blank delta" "$delta" "blank" "deltalogctl create" -- deltalogctl activate box $origin $delta
refused 1 "activate a delta holding ext4" "$fsdelta" "ext4" -- deltalogctl activate box $origin $fsdelta

succeeds "create" deltalogctl create box $origin $delta
mount $dev "$mnt"
echo "protected" >"$mnt/report.txt"
umount "$mnt"
succeeds "deactivate" deltalogctl deactivate box
refused 1 "activate with another origin of the same size" "$other" "fingerprint" "another origin" -- \
	deltalogctl activate box $other $delta
refused 1 "activate with an origin of another size" "$small" "sectors" -- \
	deltalogctl activate box $small $delta
dmsetup create box --table "0 2048 linear $small 0"
changed
refused 1 "activate with a taken name" "box" "exists" -- deltalogctl activate box $origin $delta
dmsetup remove box
succeeds "activate" deltalogctl activate box $origin $delta
refused 1 "activate the same log twice" "box" "exists" -- deltalogctl activate box $origin $delta
refused 1 "activate the same devices under another name" "held by dm device 'box'" "deltalogctl deactivate box" -- \
	deltalogctl activate box2 $origin $delta

# ---- 4. refused while mounted; mark is not ------------------------------

mount -o noatime $dev "$mnt"
echo "mounted" >"$mnt/report.txt"
settle
refused 1 "rollback while mounted" "$mnt" -- deltalogctl rollback box --to "#1" --yes
refused 1 "deactivate while mounted" "$mnt" -- deltalogctl deactivate box
refused 1 "remove while mounted" "$mnt" -- deltalogctl remove box --yes
before_m1=$(date '+%Y-%m-%d %H:%M:%S')
sleep 1.1
succeeds "mark while mounted" deltalogctl mark box m1
grep -q "@m1" /tmp/out || { cat /tmp/out; bad "mark while mounted did not echo @m1"; }
ok "mark works while mounted: $(first_line)"
umount "$mnt"
changed

# ---- 5. and 6. times that name no state ---------------------------------

mount $dev "$mnt"
echo "after m1" >"$mnt/report.txt"
umount "$mnt"
settle
next_year="$(($(date +%Y) + 1))-01-01 00:00"
refused 1 "rollback to an unknown mark" "'nope'" "m1" -- deltalogctl rollback box --to @nope --yes
refused 1 "merge up to an unknown mark" "'nope'" -- deltalogctl merge box --until @nope --yes
refused 1 "view at an unknown mark" "'nope'" -- deltalogctl view box --at @nope box-view
refused 1 "rollback to next year" "future" -- deltalogctl rollback box --to "$next_year" --yes
refused 1 "merge up to next year" "future" -- deltalogctl merge box --until "$next_year" --yes
refused 1 "rollback to a seq out of range" "999999" -- deltalogctl rollback box --to "#999999" --yes
refused 1 "view under a name that is taken" "box" "exists" -- deltalogctl view box --at now box
refused 2 "log --since 'soon' of an active device" "'soon'" "Usage:" -- deltalogctl log box --since soon

succeeds "merge up to @m1" deltalogctl merge box --until @m1 --yes --wait
refused 1 "rollback to a time before the committed history" "committed" -- \
	deltalogctl rollback box --to "$before_m1" --yes
refused 1 "rollback to a time before the log" "before the oldest" -- deltalogctl rollback box --to -1d --yes
refused 1 "rollback to seq 1, committed" "committed" -- deltalogctl rollback box --to "#1" --yes
refused 1 "view at seq 1, committed" "committed" -- deltalogctl view box --at "#1" box-view

# An open view pins the history it shows: no rollback, no merge under it.
succeeds "view at now" deltalogctl view box --at now box-view
changed
refused 1 "rollback while a view is open" "box-view" "deltalogctl deactivate box-view" -- \
	deltalogctl rollback box --to @m1 --yes
refused 1 "merge while a view is open" "box-view" -- deltalogctl merge box --until now --yes
succeeds "remove the view" deltalogctl deactivate box-view
changed

# ---- 9. no terminal and no --yes ----------------------------------------

mount $dev "$mnt"
echo "after merge" >"$mnt/report.txt"
umount "$mnt"
succeeds "mark" deltalogctl mark box m2
mount $dev "$mnt"
echo "after m2" >"$mnt/report.txt"
umount "$mnt"
settle
refused 1 "rollback without a terminal" "--yes" -- deltalogctl rollback box --to @m2
refused 1 "merge without a terminal" "--yes" -- deltalogctl merge box --until now
refused 1 "remove without a terminal" "--yes" -- deltalogctl remove box

# ---- 7. a corrupted delta ------------------------------------------------

succeeds "deactivate" deltalogctl deactivate box
# The metadata ring: from sector 16 to data_start (FORMAT.md 2).
data_start=$(deltalogctl dump $delta --json | tr ',' '\n' | sed -n 's/.*"data_start": *\([0-9]*\).*/\1/p' | head -n 1)
[ "${data_start:-0}" -gt 16 ] || fail "cannot read data_start from deltalogctl dump"
dd if=/dev/urandom of=$delta bs=512 seek=16 count=$((data_start - 16)) conv=fsync status=none
changed
refused 1 "activate with the metadata ring damaged" "damaged" "deltalogctl check" -- \
	deltalogctl activate box $origin $delta
refused 1 "check with the metadata ring damaged" "fatal" -- sh -c "deltalogctl check $delta >&2"
dd if=/dev/urandom of=$delta bs=4096 count=2 conv=fsync status=none
changed
refused 1 "activate with both superblocks damaged" "damaged" "deltalogctl check" -- \
	deltalogctl activate box $origin $delta
refused 1 "check with both superblocks damaged" "fatal" "superblock" -- sh -c "deltalogctl check $delta >&2"

# ---- 8. the module not loaded ---------------------------------------------

! dmsetup ls --target deltalog 2>/dev/null | grep -qv 'No devices found' ||
	fail "deltalog devices are left: $(dmsetup ls --target deltalog)"
# With another dm device up (as on a system with LVM), dm-mod stays; with
# none, modprobe -r takes dm-mod too, and whether opening
# /dev/mapper/control loads it again is up to the kernel's module autoload.
dmsetup create holder --table "0 2048 linear $small 0"
modprobe -r dm-deltalog || fail "modprobe -r dm-deltalog"
! dmsetup targets | grep -q '^deltalog ' || fail "the deltalog target is still registered"
changed
refused 1 "create without the module" "not loaded: modprobe dm-deltalog" -- \
	deltalogctl create box $origin $delta --force
refused 1 "activate without the module" "not loaded: modprobe dm-deltalog" -- \
	deltalogctl activate box $origin $delta
modprobe dm-deltalog || fail "modprobe dm-deltalog"
dmsetup targets | grep -q '^deltalog ' || fail "the deltalog target is not back"
dmsetup remove holder
succeeds "create after modprobe" deltalogctl create box $origin $delta --force
succeeds "remove" deltalogctl remove box --yes
ok "the module is back: $(dmsetup targets | grep '^deltalog ')"

[ "$failures" = 0 ] || fail "$failures cases failed"
ok "every bad input was refused as documented"
