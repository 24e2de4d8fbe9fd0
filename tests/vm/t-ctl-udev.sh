#!/bin/sh
# VM scenario: deltalogctl with udev running, as on a real system.
#
# vm-init runs every scenario without udev (DM_DISABLE_UDEV=1: libdevmapper
# makes the /dev/mapper nodes). Here systemd-udevd runs with lvm2's
# device-mapper rules, and deltalogctl takes its other path: a udev cookie
# on every create, resume and remove, udev making /dev/mapper/NAME (a link to
# dm-N) and the /dev/disk/by-id links, and 95-dm-notify.rules completing the
# cookie. The story: create, write, mark, a view at the mark, rollback to
# it, merge up to it, deactivate, and activate refused twice (a delta made
# for another origin; its UUID taken by another device, refused by the
# kernel with a cookie set); last, a raw write and a deactivate at once
# (udev's watch probes the device after the write). After every step: the
# node and links are there (or gone), udev's database has the device's
# DM_UUID, the data is what it should be (whole-device checksums), and no
# cookie or semaphore is left.
#
# Our rules (63-deltalog.rules, where make install puts them, running
# deltalogctl udev-probe): /dev/deltalog/NAME comes and goes with the device
# and its views; the delta carries the probe's properties (a delta, nothing
# to mount) and no by-uuid link; while the device is active, the
# filesystem's /dev/disk/by-uuid and by-label links lead to it, never to the
# origin (which is marked as such), as soon as deltalogctl returns; after
# deactivate they lead back to the origin. udevd's log, kept at debug
# level, holds no error about our rules or the probe (Debian 12's udevadm
# has no verify: a rule udevd cannot parse is logged when it loads them).
set -eu

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

origin=/dev/vdb
delta=/dev/vdc
other=/dev/vdd
mnt=/tmp/udev-mnt
mkdir -p "$mnt"
byid=/dev/disk/by-id
udevd_log=/tmp/udevd.log

udevd=
for p in /usr/lib/systemd/systemd-udevd /lib/systemd/systemd-udevd; do
	if [ -x "$p" ]; then udevd=$p; break; fi
done
if [ -z "$udevd" ] || ! command -v udevadm >/dev/null; then
	fail "no systemd-udevd in the VM: install udev on the host (tools/deps) and rebuild the initramfs"
fi
# udevadm info pages its output when stdout is a terminal (hvc0 is one).
export SYSTEMD_PAGER=cat

cleanup() {
	umount "$mnt" 2>/dev/null || true
	for d in box-view box squat; do dmsetup remove "$d" 2>/dev/null || true; done
	udevadm control --exit 2>/dev/null || true
}
trap cleanup EXIT

# deltalogctl, with a time limit: a wait on a cookie that udev never
# completes would otherwise hang the run until its timeout.
ctl() {
	rc=0
	timeout 120 deltalogctl "$@" || rc=$?
	[ "$rc" != 124 ] || fail "deltalogctl $* hung for 120 s (a udev cookie never completed?)"
	return "$rc"
}

# No udev cookie and no SysV semaphore left (libdevmapper makes one
# semaphore per cookie and destroys it once the wait is over).
no_cookies() {
	n=$(dmsetup udevcookies | grep -c '^0x' || true)
	[ "$n" = 0 ] || { dmsetup udevcookies; fail "$1: $n udev cookies left behind"; }
	if command -v ipcs >/dev/null; then
		n=$(ipcs -s | grep -c '^0x' || true)
		[ "$n" = 0 ] || { ipcs -s; fail "$1: $n semaphores left behind"; }
	fi
}

# prop DEV KEY: KEY's value in udev's database for DEV ("" when unset).
prop() {
	udevadm info --query=property --name="$1" | sed -n "s/^$2=//p"
}

# leads_to LINK DEV: the link is there and leads to DEV's node.
leads_to() {
	[ -L "$1" ] && [ "$(readlink -f "$1")" = "$(readlink -f "$2")" ]
}

# is_up NAME: /dev/mapper/NAME is udev's link to the device's node, with the
# kernel's major:minor; udev's by-id links and /dev/deltalog/NAME lead to it;
# udev's database holds its name and DM_UUID (DELTALOG-...). Sets $uuid.
is_up() {
	node=/dev/mapper/$1
	[ -b "$node" ] || fail "$node is not a block device"
	[ -L "$node" ] || fail "$node is not a link made by udev (libdevmapper made a node itself?)"
	want=$(dmsetup info -c --noheadings -o major,minor "$1") || fail "dmsetup info $1"
	got=$(stat -L -c '%Hr:%Lr' "$node")
	[ "$got" = "$want" ] || fail "$node is $got, the device is $want"
	uuid=$(dmsetup info -c --noheadings -o uuid "$1")
	case $uuid in DELTALOG-?*) ;; *) fail "$1 has the UUID '$uuid', not DELTALOG-..." ;; esac
	real=$(readlink -f "$node")
	for l in "$byid/dm-name-$1" "$byid/dm-uuid-$uuid" "/dev/deltalog/$1"; do
		[ -L "$l" ] || fail "udev made no $l"
		[ "$(readlink -f "$l")" = "$real" ] || fail "$l leads to $(readlink -f "$l"), not $real"
	done
	udevadm info --query=property --name="$node" >/tmp/props || fail "udevadm info $node"
	grep -qx "DM_UUID=$uuid" /tmp/props || { cat /tmp/props; fail "udev's database lacks DM_UUID=$uuid"; }
	grep -qx "DM_NAME=$1" /tmp/props || { cat /tmp/props; fail "udev's database lacks DM_NAME=$1"; }
}

# is_gone NAME [UUID]: no device, no /dev/mapper/NAME, no by-id links, no
# /dev/deltalog/NAME.
is_gone() {
	! dmsetup info "$1" >/dev/null 2>&1 || fail "the device $1 still exists"
	for l in "/dev/mapper/$1" "$byid/dm-name-$1" ${2:+"$byid/dm-uuid-$2"} "/dev/deltalog/$1"; do
		if [ -e "$l" ] || [ -L "$l" ]; then fail "$l is left behind"; fi
	done
}

# fs_links_to DEV WHAT: the filesystem's by-uuid and by-label links lead to DEV.
fs_links_to() {
	leads_to "/dev/disk/by-uuid/$fs_uuid" "$1" ||
		fail "$2: /dev/disk/by-uuid/$fs_uuid leads to $(readlink -f "/dev/disk/by-uuid/$fs_uuid"), not $1"
	leads_to /dev/disk/by-label/udevbox "$1" ||
		fail "$2: /dev/disk/by-label/udevbox leads to $(readlink -f /dev/disk/by-label/udevbox), not $1"
}

# is_delta NAME: the delta has the probe's properties (NAME: its device's
# name, "" when it is not active), and no by-uuid or by-label link.
is_delta() {
	udevadm info --query=property --name="$delta" >/tmp/props || fail "udevadm info $delta"
	for p in DELTALOG_ROLE=delta DELTALOG_SUPERBLOCK=ok "DELTALOG_UUID=${box_uuid#DELTALOG-}" \
		ID_FS_TYPE=deltalog_delta ID_FS_USAGE=other UDISKS_IGNORE=1; do
		grep -qx "$p" /tmp/props || { cat /tmp/props; fail "the delta lacks $p"; }
	done
	[ "$(prop "$delta" DELTALOG_NAME)" = "$1" ] || { cat /tmp/props; fail "the delta's DELTALOG_NAME is not '$1'"; }
	! grep -q '^ID_FS_UUID' /tmp/props || { cat /tmp/props; fail "the delta has a filesystem UUID"; }
	for l in /dev/disk/by-uuid/* /dev/disk/by-label/*; do
		[ -e "$l" ] || continue
		[ "$(readlink -f "$l")" != "$delta" ] || fail "$l leads to the delta"
	done
}

# is_origin NAME: the origin is marked as held by NAME ("": not marked).
is_origin() {
	if [ -n "$1" ]; then
		[ "$(prop "$origin" DELTALOG_ROLE)" = origin ] && [ "$(prop "$origin" DELTALOG_NAME)" = "$1" ] &&
			[ "$(prop "$origin" UDISKS_IGNORE)" = 1 ] ||
			{ udevadm info --query=property --name="$origin"; fail "the origin is not marked as $1's"; }
	else
		[ -z "$(prop "$origin" DELTALOG_ROLE)$(prop "$origin" UDISKS_IGNORE)" ] ||
			{ udevadm info --query=property --name="$origin"; fail "the origin is still marked"; }
	fi
}

# ---- udev -----------------------------------------------------------------

rules=
for d in /usr/local/lib/udev/rules.d /usr/lib/udev/rules.d; do
	[ -f "$d/63-deltalog.rules" ] && rules=$d/63-deltalog.rules
done
[ -n "$rules" ] || fail "no 63-deltalog.rules in the VM (make userspace makes it)"
probe=$(sed -n 's|^IMPORT{program}="\([^ ]*\) udev-probe .*|\1|p' "$rules")
[ -x "$probe" ] || fail "$rules runs '$probe', which is not there"
# In the foreground (its log on stderr), at debug level: what it logs about
# our rules and the probe's runs is checked at the end.
"$udevd" --debug >"$udevd_log" 2>&1 &
for i in $(seq 100); do
	[ -S /run/udev/control ] && break
	sleep 0.1
done
[ -S /run/udev/control ] || { cat "$udevd_log"; fail "udevd has no /run/udev/control"; }
udevadm trigger --action=add --subsystem-match=block || fail "udevadm trigger"
udevadm settle --timeout=60 || fail "udevadm settle"
# From here on deltalogctl and dmsetup see udev and sync with it.
unset DM_DISABLE_UDEV
no_cookies "before anything"
ok "systemd-udevd runs ($("$udevd" --version)) with the device-mapper rules and $rules ($probe)"

# ---- create -----------------------------------------------------------------

# No lazy init: nothing writes in the background, so checksums are stable.
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -L udevbox "$origin" 256M
origin_sum=$(sum "$origin")
fs_uuid=$(blkid -s UUID -o value "$origin")
udevadm trigger --action=change --settle "$origin" "$delta" || fail "udevadm trigger"
fs_links_to "$origin" "before create"
is_origin ""

ctl create box "$origin" "$delta" >/tmp/out 2>&1 || { cat /tmp/out; fail "create"; }
is_up box
box_uuid=$uuid
grep -qx "ID_FS_TYPE=ext4" /tmp/props || { cat /tmp/props; fail "udev's blkid did not see the ext4 on box"; }
# At once: the device's own uevent (deltalogctl waited for it) outranks
# the origin's links.
fs_links_to /dev/mapper/box "right after create"
no_cookies "create"
[ "$(sum /dev/mapper/box)" = "$origin_sum" ] || fail "the new device differs from the origin"
udevadm settle --timeout=60 || fail "udevadm settle"
fs_links_to /dev/mapper/box "after create, settled"
is_delta box
is_origin box
ok "create: /dev/mapper/box -> $(readlink /dev/mapper/box) ($want), by-id links, /dev/deltalog/box, DM_UUID=$box_uuid, ID_FS_TYPE=ext4 from udev"
ok "create: by-uuid/$fs_uuid and by-label/udevbox lead to box, the origin is marked, the delta is a deltalog_delta"

# ---- write, mark, view ------------------------------------------------------

mount /dev/mapper/box "$mnt"
echo two >"$mnt/report.txt"
cp -r /etc "$mnt/etc-copy"
dd if=/dev/urandom of="$mnt/blob" bs=64k count=40 status=none
umount "$mnt"
ctl mark box good >/tmp/out || { cat /tmp/out; fail "mark"; }
mark_sum=$(sum /dev/mapper/box)
[ "$mark_sum" != "$origin_sum" ] || fail "the writes changed nothing"
no_cookies "mark"
ok "written and marked: $(cat /tmp/out)"

mount /dev/mapper/box "$mnt"
rm -rf "$mnt/etc-copy"
echo three >"$mnt/report.txt"
dd if=/dev/urandom of="$mnt/junk" bs=1M count=4 status=none
umount "$mnt"
broken_sum=$(sum /dev/mapper/box)
[ "$broken_sum" != "$mark_sum" ] || fail "breaking changed nothing"

ctl view box --at @good box-view >/tmp/out 2>&1 || { cat /tmp/out; fail "view"; }
is_up box-view
view_uuid=$uuid
[ "$view_uuid" != "$box_uuid" ] || fail "the view has box's UUID"
no_cookies "view"
[ "$(sum /dev/mapper/box-view)" = "$mark_sum" ] || fail "the view at @good differs from the device at the mark"
is_up box
udevadm settle --timeout=60 || fail "udevadm settle"
fs_links_to /dev/mapper/box "with a view open"
is_origin box
ok "view: /dev/mapper/box-view and its links ($view_uuid), equal to box at the mark; by-uuid stays with box"

ctl deactivate box-view >/tmp/out 2>&1 || { cat /tmp/out; fail "deactivate box-view"; }
is_gone box-view "$view_uuid"
no_cookies "deactivate box-view"
is_up box
ok "deactivate box-view: its node and links are gone, box's stay"

# ---- rollback, merge --------------------------------------------------------

ctl rollback box --to @good --yes >/tmp/out 2>&1 || { cat /tmp/out; fail "rollback"; }
is_up box
[ "$uuid" = "$box_uuid" ] || fail "box came back with the UUID $uuid, not $box_uuid"
no_cookies "rollback"
[ "$(sum /dev/mapper/box)" = "$mark_sum" ] || fail "after the rollback the device differs from the mark"
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"
fs_links_to /dev/mapper/box "right after rollback"
udevadm settle --timeout=60 || fail "udevadm settle"
fs_links_to /dev/mapper/box "after rollback, settled"
is_origin box
is_delta box
ok "rollback to @good: box taken down and back ($want), node and links back, equal to the mark"

mount /dev/mapper/box "$mnt"
echo four >"$mnt/report.txt"
umount "$mnt"
after_sum=$(sum /dev/mapper/box)
ctl merge box --until @good --yes --wait >/tmp/out 2>&1 || { cat /tmp/out; fail "merge"; }
is_up box
[ "$uuid" = "$box_uuid" ] || fail "box came back with the UUID $uuid, not $box_uuid"
no_cookies "merge"
[ "$(sum /dev/mapper/box)" = "$after_sum" ] || fail "the merge changed the device"
ok "merge up to @good (online): box, its node and links stay, unchanged"

ctl deactivate box >/tmp/out 2>&1 || { cat /tmp/out; fail "deactivate box"; }
is_gone box "$box_uuid"
no_cookies "deactivate box"
[ "$(sum "$origin")" = "$mark_sum" ] || fail "after the merge the origin is not the device at the mark"
fs_links_to "$origin" "right after deactivate"
udevadm settle --timeout=60 || fail "udevadm settle"
fs_links_to "$origin" "after deactivate, settled"
is_origin ""
is_delta ""
ok "deactivate box: node and links gone; the origin is the device at the mark, by-uuid and by-label lead to it again"

# ---- refusals ---------------------------------------------------------------

# A delta made for another origin: refused before any device is made.
status=0
ctl activate box "$other" "$delta" >/tmp/out 2>&1 || status=$?
[ "$status" = 1 ] || { cat /tmp/out; fail "activate over another origin: exit $status, expected 1"; }
is_gone box "$box_uuid"
no_cookies "activate over another origin"
ok "activate over another origin refused, nothing left: $(head -n 1 /tmp/out)"

# The device's UUID taken by another device: the kernel refuses the create
# ioctl, which ran with a cookie; libdevmapper must complete it.
modprobe dm-zero
dmsetup create squat --uuid "$box_uuid" --table "0 8 zero" || fail "dmsetup create squat"
no_cookies "dmsetup create squat"
status=0
ctl activate box "$origin" "$delta" >/tmp/out 2>&1 || status=$?
[ "$status" = 1 ] || { cat /tmp/out; fail "activate with its UUID taken: exit $status, expected 1"; }
grep -q "squat" /tmp/out || { cat /tmp/out; fail "the refusal does not name the device that has the UUID"; }
is_gone box
no_cookies "activate with its UUID taken"
[ "$(readlink -f "$byid/dm-uuid-$box_uuid")" = "$(readlink -f /dev/mapper/squat)" ] ||
	fail "the dm-uuid link no longer leads to squat"
dmsetup remove squat || fail "dmsetup remove squat"
is_gone squat "$box_uuid"
no_cookies "dmsetup remove squat"
ok "activate with its UUID taken refused, nothing left: $(head -n 1 /tmp/out)"

# ---- activate again ---------------------------------------------------------

ctl activate box "$origin" "$delta" >/tmp/out 2>&1 || { cat /tmp/out; fail "activate"; }
is_up box
[ "$uuid" = "$box_uuid" ] || fail "box came back with the UUID $uuid, not $box_uuid"
no_cookies "activate"
[ "$(sum /dev/mapper/box)" = "$after_sum" ] || fail "activate does not give the same device"
ok "activate: node and links back, the device is the same"

# A raw write to the device, closed: udev's watch (60-persistent-storage-dm
# sets it) sends a change event and probes the device with blkid while
# deactivate starts. Neither may trip over the other.
dd if=/dev/urandom of=/tmp/raw bs=4k count=16 status=none
dd if=/tmp/raw of=/dev/mapper/box bs=4k seek=50000 conv=fsync status=none
ctl deactivate box >/tmp/out 2>&1 || { cat /tmp/out; fail "deactivate box right after a write"; }
is_gone box "$box_uuid"
no_cookies "deactivate box right after a write"
ctl activate box "$origin" "$delta" >/tmp/out 2>&1 || { cat /tmp/out; fail "activate"; }
is_up box
dd if=/dev/mapper/box bs=4k count=16 skip=50000 status=none | cmp -s - /tmp/raw ||
	fail "the raw write is lost"
ctl deactivate box >/tmp/out 2>&1 || { cat /tmp/out; fail "deactivate box"; }
is_gone box "$box_uuid"
no_cookies "deactivate box"
[ "$(sum "$origin")" = "$mark_sum" ] || fail "the origin changed after the merge"
udevadm control --ping || fail "udevd is gone"
ok "a raw write, deactivate at once, activate: the write is kept, node and links come and go"

# ---- udevd's log ------------------------------------------------------------

udevadm control --exit || fail "udevadm control --exit"
wait
# Rules it could not parse, and runs of the probe that failed, wrote on
# stderr (udevd logs a program's stderr), or timed out.
bad='invalid|unknown|ignor|error|fail|warn|not supported|deprecat|timed out|timeout|kill|\(err\)|returned'
# The probe's own output ('...'(out) 'UDISKS_IGNORE=1') is not judged.
if grep -E '63-deltalog\.rules|udev-probe' "$udevd_log" | grep -v "'(out) '" | grep -Ei "$bad" >/tmp/bad; then
	cat /tmp/bad
	fail "udevd's log has the lines above about our rules or the probe"
fi
n=$(grep -c 'udev-probe' "$udevd_log" || true)
[ "$n" -gt 0 ] || fail "udevd's log shows no run of the probe"
# Other rules' complaints are shown, not judged.
grep -Ei 'error|fail|invalid' "$udevd_log" | grep -v 'returned 0' | head -n 20 || true
ok "udevd's log: $(wc -l <"$udevd_log") lines, $n about the probe, none that says something is wrong with our rules or the probe"
