#!/bin/sh
# VM scenario: the test VM itself works, so that other scenarios can trust it.
#
# The dm-deltalog target is registered (nothing is skipped: without the module
# this fails), the promised tools and kernel modules are there, the three spare
# disks are there and big enough, a file written
# to a fresh ext4 on /dev/vdb reads back with the same checksum and the
# filesystem checks clean, and fio verifies what it wrote to /dev/vdc.
#
# Inside the VM: /dev/vdb ext4, /dev/vdc fio, /dev/vdd only checked for size.
set -eu

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

mnt=/tmp/smoke-mnt
cleanup() { umount "$mnt" 2>/dev/null || true; }
trap cleanup EXIT

# The module under test is loaded.
dmsetup targets | grep -q '^deltalog ' || fail "dmsetup targets does not list deltalog"
ok "target: $(dmsetup targets | grep '^deltalog ')"

# The tools DESIGN.md promises, and the kernel modules scenarios stack with.
for t in dmsetup blkid fio mkfs.ext4 e2fsck sha256sum cmp dd mkfs.xfs losetup \
	blockdev wipefs modprobe; do
	command -v "$t" >/dev/null || fail "$t is not on PATH"
done
for m in dm-flakey dm-snapshot dm-thin-pool dm-log-writes dm-delay null_blk loop xfs; do
	modprobe "$m" || fail "modprobe $m"
done
ok "tools on PATH, dm-flakey dm-snapshot dm-thin-pool dm-log-writes null_blk loop xfs load"

# Three spare disks of at least 256 MiB.
for d in vdb vdc vdd; do
	[ -b "/dev/$d" ] || fail "/dev/$d is missing"
	bytes=$(blockdev --getsize64 "/dev/$d")
	[ "$bytes" -ge $((256 << 20)) ] || fail "/dev/$d has only $bytes bytes"
	ok "/dev/$d: $((bytes >> 20)) MiB"
done

# A file on a real ext4 survives umount and mount, and the fs checks clean.
mkfs.ext4 -q -F /dev/vdb
mkdir -p "$mnt"
mount /dev/vdb "$mnt"
dd if=/dev/urandom of="$mnt/data" bs=1M count=16 status=none
want=$(sha256sum "$mnt/data" | cut -d' ' -f1)
umount "$mnt"
mount -o ro /dev/vdb "$mnt"
got=$(sha256sum "$mnt/data" | cut -d' ' -f1)
umount "$mnt"
[ "$got" = "$want" ] || fail "ext4 file changed: $want -> $got"
e2fsck -fn /dev/vdb >/tmp/e2fsck.log 2>&1 || { cat /tmp/e2fsck.log >&2; fail "e2fsck -fn /dev/vdb"; }
ok "ext4 on /dev/vdb: 16 MiB file read back ($want), e2fsck clean"

# fio writes with checksums for a few seconds, then reads everything back.
fio --name=smoke --filename=/dev/vdc --ioengine=libaio --direct=1 \
	--rw=randwrite --bs=4k --size=64M --iodepth=8 --runtime=5 --time_based=0 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --eta=never --output=/tmp/fio.log ||
	{ cat /tmp/fio.log >&2; fail "fio verify on /dev/vdc"; }
grep -q 'err= 0' /tmp/fio.log || { cat /tmp/fio.log >&2; fail "fio reported errors"; }
ok "fio randwrite + crc32c verify on /dev/vdc"

echo "smoke: all good"
