#!/bin/sh
# VM scenario: the seed story, typed as a user would, checked by whole-device
# checksums and files.
#
# ext4 on /dev/vdb (the origin); deltalogctl create protects it with /dev/vdc
# as the delta; files written, a mark, a time noted, things broken. Then:
# a view at the mark equals the device at the mark; rollback to the mark and
# rollback to the time give back exactly the device at that point; a merge up
# to the mark makes the origin equal to the device at the mark, and the
# device keeps the writes after it; deactivate and activate give the same
# device; dlog-tool/deltalogctl check find the log clean. The origin never
# changes before the merge.
set -eu

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

origin=/dev/vdb
delta=/dev/vdc
dev=/dev/mapper/box
mnt=/tmp/story-mnt
mkdir -p "$mnt"
cleanup() {
	umount "$mnt" 2>/dev/null || true
	for d in box-view box; do dmsetup remove "$d" 2>/dev/null || true; done
}
trap cleanup EXIT

# No lazy init: nothing writes in the background, so checksums are stable.
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -L story "$origin" 256M
mount "$origin" "$mnt"
echo one >"$mnt/report.txt"
umount "$mnt"
origin_sum=$(sum "$origin")
dd if=/dev/urandom of="$delta" bs=1M count=1 status=none

deltalogctl create box "$origin" "$delta" --force >/tmp/out 2>&1 || { cat /tmp/out; fail "create"; }
grep -q "protects $origin" /tmp/out || { cat /tmp/out; fail "create did not say what it protects"; }
[ -b "$dev" ] || fail "$dev missing after create"
[ "$(sum "$dev")" = "$origin_sum" ] || fail "the new device differs from the origin"
ok "create: $dev shows the origin"

# Work, then mark with the filesystem unmounted (its image is then exact).
mount "$dev" "$mnt"
echo two >"$mnt/report.txt"
cp -r /etc "$mnt/etc-copy"
dd if=/dev/urandom of="$mnt/blob" bs=64k count=40 status=none
umount "$mnt"
deltalogctl mark box good >/tmp/out || fail "mark"
grep -q "@good" /tmp/out || fail "mark did not echo its label"
mark_sum=$(sum "$dev")
sleep 1.1
good_time=$(date +%H:%M:%S)
sleep 1.1
ok "mark: @good at $good_time"

mount "$dev" "$mnt"
rm -rf "$mnt/etc-copy"
echo three >"$mnt/report.txt"
dd if=/dev/urandom of="$mnt/junk" bs=1M count=4 status=none
umount "$mnt"
broken_sum=$(sum "$dev")
[ "$broken_sum" != "$mark_sum" ] || fail "breaking changed nothing"
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"

# The log lists the mark and what came after; --json parses as one object.
deltalogctl log box --since @good >/tmp/log || fail "log"
grep -q "write" /tmp/log || { cat /tmp/log; fail "log --since @good shows no write"; }
deltalogctl log box --json | grep -q '"label":"good"' || fail "log --json lacks the mark"
deltalogctl status box --json | grep -q '"state":"active"' || fail "status --json"
deltalogctl list | grep -q '^box ' || fail "list does not show box"
ok "log, status and list show the history"

# A view at the mark is the device at the mark.
deltalogctl view box --at @good box-view >/dev/null || fail "view"
[ "$(sum /dev/mapper/box-view)" = "$mark_sum" ] || fail "the view at @good differs from the device at the mark"
deltalogctl deactivate box-view >/dev/null || fail "deactivate the view"
ok "view at @good equals the device at the mark"

# Rollback to the time noted after the mark: exactly the device at the mark.
deltalogctl rollback box --to "$good_time" --yes >/tmp/out || { cat /tmp/out; fail "rollback --to $good_time"; }
grep -q "throws away" /tmp/out || { cat /tmp/out; fail "rollback did not say what it throws away"; }
[ "$(sum "$dev")" = "$mark_sum" ] || fail "after rollback to $good_time the device differs from the mark"
[ "$(sum "$origin")" = "$origin_sum" ] || fail "the origin changed"
ok "rollback to $good_time gives the device at the mark back"

# More writes, then commit up to the mark: the origin becomes the mark.
mount "$dev" "$mnt"
echo four >"$mnt/report.txt"
umount "$mnt"
after_sum=$(sum "$dev")
deltalogctl merge box --until @good --yes --wait >/tmp/out || { cat /tmp/out; fail "merge"; }
[ "$(sum "$dev")" = "$after_sum" ] || fail "the merge changed the device"
deltalogctl deactivate box >/dev/null || fail "deactivate"
[ "$(sum "$origin")" = "$mark_sum" ] || fail "after the merge the origin is not the device at the mark"
ok "merge up to @good: the origin equals the device at the mark"

# Rolling back before the commit point is refused and changes nothing.
deltalogctl activate box "$origin" "$delta" >/dev/null || fail "activate"
[ "$(sum "$dev")" = "$after_sum" ] || fail "activate does not give the same device"
status=0
deltalogctl rollback box --to "#1" --yes >/tmp/out 2>&1 || status=$?
[ "$status" = 1 ] || { cat /tmp/out; fail "rollback before the commit point: exit $status, expected 1"; }
grep -qi "commit" /tmp/out || { cat /tmp/out; fail "the refusal does not say the history was committed"; }
[ "$(sum "$dev")" = "$after_sum" ] || fail "the refused rollback changed the device"
ok "rollback before the commit point refused: $(head -n 1 /tmp/out)"

mount "$dev" "$mnt"
[ "$(cat "$mnt/report.txt")" = four ] || fail "the newest file content is lost"
umount "$mnt"
e2fsck -fn "$dev" >/dev/null 2>&1 || fail "e2fsck on the device"
deltalogctl deactivate box >/dev/null
deltalogctl check "$delta" --origin "$origin" >/tmp/out || { cat /tmp/out; fail "check"; }
ok "the log checks clean: $(tail -n 1 /tmp/out)"
