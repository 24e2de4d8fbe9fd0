#!/usr/bin/env bash
# dlog-tool end to end on files: what the VM scenarios rely on (exit
# statuses, "seq=N" and key=value output, images, check).
# Usage: test-dlog-tool.sh PATH-TO-dlog-tool
set -euo pipefail

tool=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/dlog-tool-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_status() {	# expect_status N command...
	local want=$1 got=0
	shift
	"$@" >out 2>err || got=$?
	[ "$got" = "$want" ] || fail "$* exited $got, expected $want: $(cat err)"
}

truncate -s 8M delta
head -c 1M /dev/urandom >origin
cp origin origin.orig

expect_status 0 "$tool" format delta origin
grep -q '^meta_block_size=512$' out || fail "format output"
"$tool" sb delta >sb
grep -q '^next_seq=1$' sb || fail "sb next_seq"
grep -Eq '^uuid=[0-9a-f-]{36}$' sb || fail "sb uuid"
grep -Eq '^origin_fingerprint=0x[0-9a-f]{8}$' sb || fail "sb fingerprint"

[ "$("$tool" mark delta before)" = seq=1 ] || fail "mark seq"
head -c 4096 /dev/urandom >v1
[ "$("$tool" append-write delta --origin-sector 16 --file v1 --sectors 8)" = seq=2 ] || fail "write seq"
[ "$("$tool" append-write delta --origin-sector 3 --pattern 0xab --sectors 2 --no-csum)" = seq=3 ] || fail "pattern seq"
[ "$("$tool" append-zero delta 100 50 --discard)" = seq=4 ] || fail "zero seq"

"$tool" image delta origin --at 1 | cmp -s - origin.orig || fail "image at the mark is not the origin"
"$tool" image delta origin >img
cmp -s <(dd if=img bs=512 skip=16 count=8 status=none) v1 || fail "written data"
[ "$(dd if=img bs=512 skip=3 count=2 status=none | tr -d '\253' | wc -c)" = 0 ] || fail "pattern"
[ "$(dd if=img bs=512 skip=100 count=50 status=none | tr -d '\0' | wc -c)" = 0 ] || fail "zeros"
cmp -s origin origin.orig || fail "the origin was written"

"$tool" dump delta >dump
[ "$(awk '/MARK/ {print $1}' dump | tr -d '#')" = 1 ] || fail "dump MARK line"
grep -q '^#4 .* ZERO origin 100+50 discard' dump || fail "dump ZERO line"
"$tool" dump delta --json | grep -q '"kind":"mark","status":"live","block":0,"slot":0,"label":"before"' ||
	fail "dump --json"

expect_status 0 "$tool" check delta --origin origin
expect_status 0 "$tool" stop delta
grep -q '^clean_seq=4$' out || fail "stop"
"$tool" sb delta | grep -q '^next_seq=5$' || fail "next_seq after stop"

[ "$("$tool" rollback delta 2)" = seq=5 ] || fail "rollback seq"
"$tool" image delta origin | cmp -s - <("$tool" image delta origin --at 2) || fail "rollback image"
expect_status 0 "$tool" merge delta origin 5
"$tool" image delta origin --at 2 >/dev/null 2>&1 && fail "image before merged_seq"
expect_status 0 "$tool" check delta --origin origin --json
grep -q '"fatal":false' out || fail "check --json"

# Damage: check says so (exit 1), other commands fail cleanly (exit 1).
printf 'garbage' | dd of=delta bs=1 seek=100 conv=notrunc status=none
printf 'garbage' | dd of=delta bs=1 seek=4196 conv=notrunc status=none
expect_status 1 "$tool" check delta
grep -q 'fatal: superblock A: checksum mismatch' out || fail "check text: $(cat out)"
expect_status 1 "$tool" dump delta
grep -q '^dlog-tool: dump: no valid superblock' err || fail "error message: $(cat err)"

# Usage errors: exit 2.
expect_status 2 "$tool"
expect_status 2 "$tool" frobnicate
expect_status 2 "$tool" dump
expect_status 2 "$tool" dump delta --bogus
expect_status 2 "$tool" append-write delta --origin-sector 0 --sectors 1
expect_status 2 "$tool" append-zero delta x 1
echo "dlog-tool: all good"
