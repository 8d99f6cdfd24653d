#!/usr/bin/env bash
# System tests: icevmm boots a real Debian arm64 kernel + busybox initramfs
# (L2) on real KVM. Without /dev/kvm (these machines) KVM comes from the
# nested rig: an arm64 L1 Linux in QEMU TCG with emulated EL2, run once with a
# GICv3 and once with a GICv2 (the vGIC fallback). On an arm64 host with a
# usable /dev/kvm the cases also run natively.
#
# The cases run inside L1 (cases.sh) and only record results; every assertion
# is made here, on the host, from the files L1 wrote back through 9p.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
GUEST="$CACHE/arm64"
ICEVMM="${ICEVMM:-$root/build/arm64/icevmm}"
# An icevmm this host can run, for `icevmm ice decrypt` on the host.
HOST_ICEVMM="${HOST_ICEVMM:-$root/build/$(uname -m | sed -e 's/aarch64/arm64/')/icevmm}"

for f in "$ICEVMM" "$HOST_ICEVMM" "$root/build/firmware/ice-selftest.Image"; do
	[ -e "$f" ] || { echo "run-all: $f is missing: run it through make check" >&2; exit 2; }
done
"$here/fetch-guest.sh"
"$here/mkinitramfs.sh" l2 "$GUEST/l2.cpio.gz"

share=$(mktemp -d "$CACHE/rig-share.XXXXXX")
trap 'rm -rf "$share"' EXIT
cp "$ICEVMM" "$share/icevmm"
cp "$GUEST/Image" "$share/Image"
cp "$GUEST/l2.cpio.gz" "$share/l2.cpio.gz"
cp "$here/cases.sh" "$share/cases.sh"

# Two ext4 images built on the host (mkfs.ext4 -d: no root, no loop device),
# each with a file of random bytes and its checksum.
make_ext4() { # make_ext4 IMAGE NAME
	local dir
	dir=$(mktemp -d)
	head -c 2097152 /dev/urandom >"$dir/$2.bin"
	(cd "$dir" && sha256sum "$2.bin" >"$2.sha256")
	mkfs.ext4 -q -F -d "$dir" "$1" 64M >/dev/null
	rm -rf "$dir"
}
make_ext4 "$share/blk-rw.img" data
make_ext4 "$share/blk-ro.img" ro

# The ICE self-test guest, its keys (git checks files out 0644; icevmm wants
# 0600) and a zeroed disk of the size its plan says.
selftest="$here/ice-selftest"
cp "$root/build/firmware/ice-selftest.Image" "$share/ice-selftest.Image"
install -m 600 "$selftest/keys.conf" "$share/keys.conf"
sectors=$(sed -n 's/^#define PLAN_DISK_SECTORS[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
	"$root/firmware/ice-selftest/plan.h")
head -c $((sectors * 512)) /dev/zero >"$share/ice.img"

failures=0
pass() { echo "PASS  $*"; }
fail() {
	echo "FAIL  $*"
	failures=$((failures + 1))
}

# expect_status DIR CASE STATUS [LOG-SUBSTRING...]
expect() {
	local dir=$1 name=$2 want=$3 got
	shift 3
	got=$(cat "$dir/$name.status" 2>/dev/null || echo none)
	if [ "$got" != "$want" ]; then
		fail "$name: icevmm exit status $got, expected $want"
		sed 's/^/      | /' "$dir/$name.log" 2>/dev/null | tail -n 15
		return
	fi
	for s in "$@"; do
		if ! grep -qF -- "$s" "$dir/$name.log"; then
			fail "$name: output lacks '$s'"
			sed 's/^/      | /' "$dir/$name.log" | tail -n 15
			return
		fi
	done
	pass "$name: status $got${1:+, saw '$*'} ($(cat "$dir/$name.ms") ms)"
}

# The assertions every environment shares. $1: directory with the results.
check_boot_cases() {
	local d=$1
	expect "$d" boot1 0 "ICEVMM-L2-INIT-OK nproc=1"
	expect "$d" boot2 0 "ICEVMM-L2-INIT-OK nproc=2"
}

check_all_cases() {
	local d=$1
	check_boot_cases "$d"
	expect "$d" debug_exit 69 "ICEVMM-L2-INIT-OK"
	expect "$d" reset 3
	expect "$d" timeout 4 "--timeout 2 s expired"
	expect "$d" sigterm 143 "stopping on signal 15"
	expect "$d" bad_kernel 1 "not a bootable arm64 Image: no arm64 Image magic"
	expect "$d" missing_initrd 1 "initrd /nonexistent: No such file or directory"
	expect "$d" mem0 2 "--mem '0'"
	expect "$d" cpus0 2 "--cpus '0'"
	expect "$d" small_mem 1 "increase --mem"
	check_blk "$d"
	check_ice_selftest "$d"
	check_seccomp "$d"
	expect "$d" dump_dtb 0
	if [ "$(od -An -tx1 -N4 "$d/guest.dtb" 2>/dev/null | tr -d ' ')" = d00dfeed ]; then
		pass "dump_dtb: $d/guest.dtb is a flattened device tree"
	else
		fail "dump_dtb: no FDT magic in the dumped file"
	fi
}

# virtio-blk: the guest's verdict, then the host's own look at the image.
check_blk() {
	local d=$1 tmp before after
	expect "$d" blk 64 "blk-test ok 15: umount vdb"
	[ -f "$d/blk-rw.img" ] || { fail "blk: no image came back from L1"; return; }
	if e2fsck -fn "$d/blk-rw.img" >"$d/e2fsck.log" 2>&1; then
		pass "blk: e2fsck -fn on the image the guest wrote: clean"
	else
		fail "blk: e2fsck -fn found problems"
		sed 's/^/      | /' "$d/e2fsck.log" | tail -n 10
	fi
	tmp=$(mktemp -d)
	debugfs -R "cat /new.bin" "$d/blk-rw.img" >"$tmp/new.bin" 2>/dev/null
	debugfs -R "cat /new.sha256" "$d/blk-rw.img" >"$tmp/new.sha256" 2>/dev/null
	if [ -s "$tmp/new.bin" ] && (cd "$tmp" && sha256sum --quiet -c new.sha256); then
		pass "blk: debugfs reads the guest's new.bin ($(stat -c %s "$tmp/new.bin") bytes), checksum matches"
	else
		fail "blk: the guest's new.bin is missing or does not match its checksum"
	fi
	rm -rf "$tmp"
	before=$(cat "$d/blk.kib-before" 2>/dev/null || echo 0)
	after=$(cat "$d/blk.kib-after" 2>/dev/null || echo 0)
	if [ "$after" -gt 0 ] && [ "$after" -lt "$before" ]; then
		pass "blk: fstrim (DISCARD -> hole punching) made the image sparser: $before KiB -> $after KiB allocated"
	else
		fail "blk: image not sparser after fstrim ($before KiB -> $after KiB)"
	fi
	if [ -f "$d/blk.ro-unchanged" ]; then
		pass "blk: the read-only image is byte-for-byte unchanged"
	else
		fail "blk: the read-only image changed"
	fi
}

# ICE: the guest's own verdict, then an independent look at the image it wrote
# (Python's cryptography and `icevmm ice decrypt`, tests/system/ice-selftest/check.py).
check_ice_selftest() {
	local d=$1 summary
	expect "$d" ice_selftest 0
	summary=$(tr -d '\r' <"$d/ice_selftest.log" | grep '^ICE-SELFTEST \(PASS\|FAIL\) ' || true)
	if printf '%s\n' "$summary" | grep -Eqx 'ICE-SELFTEST PASS ([0-9]+)/\1'; then
		pass "ice_selftest: guest says '$summary'"
	else
		fail "ice_selftest: guest summary '${summary:-none}', expected ICE-SELFTEST PASS n/n"
		tr -d '\r' <"$d/ice_selftest.log" | grep FAIL | sed 's/^/      | /' | head -n 20
	fi
	if [ -f "$d/ice.img" ] && /usr/bin/python3 "$selftest/check.py" --image "$d/ice.img" \
		--keys "$share/keys.conf" --icevmm "$HOST_ICEVMM" >"$d/check.log" 2>&1; then
		pass "ice_selftest: check.py: $(grep -c '^ok' "$d/check.log") host-side checks of the image"
	else
		fail "ice_selftest: check.py failed (or no image came back)"
		sed 's/^/      | /' "$d/check.log" 2>/dev/null | grep -v '^      | ok' | tail -n 20
	fi
}

# The seccomp sandbox (vmm/sandbox.c). Every other case runs with it on, too.
# seccomp_check_tasks DIR CASE WANT: every task of icevmm showed "Seccomp: WANT",
# and there were at least 1 + 2 tasks (the main thread and two vCPU threads).
seccomp_check_tasks() {
	local d=$1 name=$2 want=$3 f=$1/$2.seccomp n bad
	n=$(grep -c 'Seccomp:' "$f" 2>/dev/null || echo 0)
	bad=$(grep -vc "Seccomp:[[:space:]]*$want\$" "$f" 2>/dev/null || true)
	if [ "$n" -ge 3 ] && [ "${bad:-0}" -eq 0 ]; then
		pass "$name: all $n tasks of icevmm show 'Seccomp: $want' while the guest runs"
	else
		fail "$name: expected >= 3 tasks, all 'Seccomp: $want'; saw $n tasks:"
		sed 's/^/      | /' "$f" 2>/dev/null
	fi
}

check_seccomp() {
	local d=$1 lines
	expect "$d" seccomp_tasks 143 "boot-timer: guest rang" "stopping on signal 15"
	seccomp_check_tasks "$d" seccomp_tasks 2
	expect "$d" seccomp_off 143 "seccomp self-test: socket() was allowed" \
		"boot-timer: guest rang"
	seccomp_check_tasks "$d" seccomp_off 0
	# arm64's socket is system call 198 (include/uapi/asm-generic/unistd.h).
	expect "$d" seccomp_selftest 1 \
		"icevmm: seccomp: forbidden system call socket (198) in the main thread"
	lines=$(grep -c '^icevmm: ' "$d/seccomp_selftest.log" || true)
	if [ "$lines" = 1 ] && ! grep -q ICEVMM-L2 "$d/seccomp_selftest.log"; then
		pass "seccomp_selftest: one line from icevmm, and the guest never ran"
	else
		fail "seccomp_selftest: expected only the seccomp line, saw:"
		sed 's/^/      | /' "$d/seccomp_selftest.log" | tail -n 10
	fi
}

ALL_CASES="ice_selftest blk boot1 boot2 debug_exit reset timeout sigterm bad_kernel missing_initrd mem0 cpus0 small_mem seccomp_tasks seccomp_off seccomp_selftest dump_dtb"

# run_l1 GIC CASES...: one L1 boot runs all the cases (an L1 boot costs seconds).
run_l1() {
	local gic=$1 rc=0
	shift
	printf 'sh /host/cases.sh /host/out-gicv%s /host/icevmm /host/Image /host/l2.cpio.gz %s\n' \
		"$gic" "$*" >"$share/job.sh"
	echo "== nested rig, L1 with GICv$gic: $*"
	"$here/run-l1.sh" --gic "$gic" "$share" >"$share/l1-gicv$gic.console" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "L1 (GICv$gic) job ended with status $rc"
		tail -n 30 "$share/l1-gicv$gic.console" | sed 's/^/      | /'
	fi
}

# shellcheck disable=SC2086 # a list of case names
run_l1 3 $ALL_CASES
check_all_cases "$share/out-gicv3"
run_l1 2 boot1 boot2
check_boot_cases "$share/out-gicv2"

if [ "$(uname -m)" = aarch64 ] && [ -w /dev/kvm ]; then
	echo "== native KVM on this arm64 host"
	# shellcheck disable=SC2086
	sh "$here/cases.sh" "$share/out-native" "$ICEVMM" "$GUEST/Image" "$GUEST/l2.cpio.gz" $ALL_CASES
	check_all_cases "$share/out-native"
fi

if [ "$failures" -ne 0 ]; then
	echo "system tests: $failures failure(s)"
	exit 1
fi
echo "system tests: all passed"
