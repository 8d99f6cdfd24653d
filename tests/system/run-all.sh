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

[ -x "$ICEVMM" ] || { echo "run-all: $ICEVMM is missing: make ARCH=arm64 first" >&2; exit 2; }
"$here/fetch-guest.sh"
"$here/mkinitramfs.sh" l2 "$GUEST/l2.cpio.gz"

share=$(mktemp -d "$CACHE/rig-share.XXXXXX")
trap 'rm -rf "$share"' EXIT
cp "$ICEVMM" "$share/icevmm"
cp "$GUEST/Image" "$share/Image"
cp "$GUEST/l2.cpio.gz" "$share/l2.cpio.gz"
cp "$here/cases.sh" "$share/cases.sh"

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
	expect "$d" bad_kernel 1 "not a bootable arm64 Image: no arm64 Image magic"
	expect "$d" missing_initrd 1 "initrd /nonexistent: No such file or directory"
	expect "$d" mem0 2 "--mem '0'"
	expect "$d" cpus0 2 "--cpus '0'"
	expect "$d" small_mem 1 "increase --mem"
	expect "$d" dump_dtb 0
	if [ "$(od -An -tx1 -N4 "$d/guest.dtb" 2>/dev/null | tr -d ' ')" = d00dfeed ]; then
		pass "dump_dtb: $d/guest.dtb is a flattened device tree"
	else
		fail "dump_dtb: no FDT magic in the dumped file"
	fi
}

ALL_CASES="boot1 boot2 debug_exit reset timeout bad_kernel missing_initrd mem0 cpus0 small_mem dump_dtb"

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
