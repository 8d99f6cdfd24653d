#!/usr/bin/env bash
# System tests: icevmm boots a real Debian kernel + busybox initramfs (L2)
# on real KVM. Without /dev/kvm (these machines) KVM comes from the nested
# rigs: an arm64 L1 Linux in QEMU TCG with emulated EL2, run once with a GICv3
# and once with a GICv2 (the vGIC fallback), and on x86_64 hosts an amd64 L1
# with emulated AMD SVM, where icevmm boots Debian's stock amd64 kernel
# (X86_CASES). On a host with a usable /dev/kvm the cases of its architecture
# also run natively.
#
# The cases run inside L1 (cases.sh) and only record results; every assertion
# is made here, on the host, from the files L1 wrote back through 9p.
#
#   run-all.sh [CASE...]   (make system CASES="CASE..."; RIGS="x86_64" or
#                          RIGS="arm64": only that rig's environments)
#
# With no CASE, every case runs; otherwise only those, each in the
# environments it belongs to (all_cases: GICv3 L1, gicv2_cases: also GICv2),
# and the checks of the other cases are skipped. A failed case's files (its
# log, status, images, the L1 console) are copied to build/system/FAILED-CASE/,
# named in its FAIL line; the run's scratch directory is always removed.
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
# The x86_64 rig's guest: Debian's stock amd64 kernel; icevmm is this host's.
X86_GUEST="$CACHE/x86_64"
if [ "$(uname -m)" = x86_64 ]; then
	RIG_ARCH=x86_64 "$here/fetch-guest.sh"
	RIG_ARCH=x86_64 "$here/mkinitramfs.sh" l2 "$X86_GUEST/l2.cpio.gz"
fi

share=$(mktemp -d "$CACHE/rig-share.XXXXXX")
# KEEP=1 keeps the whole scratch directory (it says where).
if [ "${KEEP:-0}" = 1 ]; then
	trap 'echo "run-all: kept $share"' EXIT
else
	trap 'rm -rf "$share"' EXIT
fi
cp "$ICEVMM" "$share/icevmm"
cp "$GUEST/Image" "$share/Image"
cp "$GUEST/l2.cpio.gz" "$share/l2.cpio.gz"
cp "$here/cases.sh" "$share/cases.sh"
if [ "$(uname -m)" = x86_64 ]; then
	cp "$HOST_ICEVMM" "$share/icevmm-x86_64"
	cp "$X86_GUEST/Image" "$share/Image-x86_64"
	cp "$X86_GUEST/l2.cpio.gz" "$share/l2-x86_64.cpio.gz"
fi

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
head -c $((sectors * 512)) /dev/zero >"$share/ice_selftest.img"

failures=0
kept="$root/build/system"
# The result directory of the environment being checked (out-gicv3, ...).
env_dir=$share
pass() { echo "PASS  $*"; }
# fail "CASE: what went wrong": the text before the first ':' names the case.
# Its files in the result directory $env_dir (CASE.*, CASE-*), its inputs in
# the share (CASE.*, CASE-*) and the L1 console go to build/system/FAILED-CASE/.
fail() {
	local c=${1%%:*} dest
	dest="$kept/FAILED-$c/${env_dir##*/}"
	mkdir -p "$dest"
	find "$env_dir" "$share" -maxdepth 1 -type f \( -name "$c.*" -o -name "$c-*" \
		-o -name "l1-${env_dir##*/out-}.console" \) -exec cp --sparse=always {} "$dest/" \; 2>/dev/null || true
	echo "FAIL  $*  [files: ${dest#"$root"/}]"
	failures=$((failures + 1))
}

# expect_status DIR CASE STATUS [LOG-SUBSTRING...]
# A case that was not selected is skipped.
expect() {
	local dir=$1 name=$2 want=$3 got
	shift 3
	wanted "$name" || return 0
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

# Cases of the run loop and guest RAM (nisv, ram_align, stdout_blocked,
# frozen_disk): see cases.sh for what each does.
CORE_CASES="nisv ram_align stdout_blocked frozen_disk"
check_core_cases() {
	local d=$1 name ms range start end found=
	# A guest ldp from MMIO: SIGBUS in the guest, one line from icevmm, the VM runs on.
	if wanted nisv; then
		expect "$d" nisv 0 "ldp-mmio: SIGBUS" "ICEVMM-L2-LDP-DONE status=0" \
			"that KVM cannot decode"
		if [ "$(grep -c 'that KVM cannot decode' "$d/nisv.log" 2>/dev/null)" = 1 ]; then
			pass "nisv: exactly one icevmm line about the undecodable access"
		else
			fail "nisv: expected one 'cannot decode' line in icevmm's log"
		fi
	fi
	# Guest RAM's host mapping (the one of exactly --mem 256M) on a 2 MiB boundary.
	if wanted ram_align; then
		expect "$d" ram_align 143
		while read -r range _; do
			start=$((16#${range%-*}))
			end=$((16#${range#*-}))
			[ $((end - start)) -eq $((256 << 20)) ] || continue
			found=$range
			if [ $((start % (2 << 20))) -eq 0 ]; then
				pass "ram_align: guest RAM mapped at $range, 2 MiB aligned"
			else
				fail "ram_align: guest RAM mapped at $range, not 2 MiB aligned"
			fi
			break
		done < <(cat "$d/ram_align.maps" 2>/dev/null)
		[ -n "$found" ] || fail "ram_align: no 256 MiB mapping in icevmm's /proc/PID/maps"
	fi
	# SIGTERM ends icevmm within seconds despite a stuck stdout or a frozen disk.
	for name in stdout_blocked frozen_disk; do
		wanted "$name" || continue
		if [ "$name" = frozen_disk ]; then
			expect "$d" "$name" 143 "exiting without them"
		else
			expect "$d" "$name" 143
		fi
		ms=$(cat "$d/$name.ms" 2>/dev/null || echo none)
		case $ms in
		'' | *[!0-9]*) fail "$name: icevmm had not ended 10 s after SIGTERM ($ms)" ;;
		*) pass "$name: icevmm ended $ms ms after SIGTERM" ;;
		esac
	done
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
	expect "$d" timeout 4 "--timeout 2 s expired" "icevmm: vCPU 1: in "
	expect "$d" sigterm 143 "stopping on signal 15"
	expect "$d" sigterm_closed 143 "stopping on signal 15"
	expect "$d" bad_kernel 1 "not a bootable arm64 Image: no arm64 Image magic"
	expect "$d" missing_initrd 1 "initrd /nonexistent: No such file or directory"
	expect "$d" mem0 2 "--mem '0'"
	expect "$d" cpus0 2 "--cpus '0'"
	expect "$d" small_mem 1 "increase --mem"
	expect "$d" boot_profile 0 "boot-timer: guest rang"
	check_blk "$d"
	check_ice_selftest "$d"
	check_core_cases "$d"
	check_seccomp "$d"
	check_dump_dtb "$d"
	for n in $FBE_CASES; do
		check_fbe "$d" "$n"
	done
	check_fbe_perfile "$d" fbe_ext4_perfile
	check_fbe_perfile "$d" fbe_v4_2cpu
	check_fbe_cross "$d"
	check_fbe_lifecycle "$d" fbe_lifecycle
	check_fbe_lifecycle "$d" fbe_v4_lifecycle
	for n in fbe_recover fbe_break_queue fbe_v4_recover fbe_v4_break_queue; do
		check_fbe_recover "$d" $n
	done
	check_fbe_reprogram_fail "$d" fbe_reprogram_fail
	check_fbe_reprogram_fail "$d" fbe_v4_reprogram_fail
	check_fbe_many_queues "$d" fbe_many_queues
	check_fbe_many_queues "$d" fbe_v4_many_queues
	for n in fbe_v4_hw_ext4 fbe_v4_hw_f2fs fbe_v4_hw_lblk32; do
		check_fbe_hw "$d" $n
	done
	check_hwdm "$d"
}

# The ACPI tables of a real run, read by iasl (acpica-tools): every table
# disassembles cleanly and the DSDT has both disks and the UART.
check_dump_acpi() {
	local d=$1 t n
	wanted dump_acpi || return 0
	expect "$d" dump_acpi 0
	for t in rsdp xsdt facp apic dsdt; do
		[ -s "$d/dump_acpi/$t.dat" ] || { fail "dump_acpi: no $t.dat"; return; }
	done
	if ! (cd "$d/dump_acpi" && iasl -d facp.dat apic.dat dsdt.dat) >"$d/dump_acpi.iasl.log" 2>&1; then
		fail "dump_acpi: iasl -d failed"
		sed 's/^/      | /' "$d/dump_acpi.iasl.log" | tail -n 10
		return
	fi
	n=$(grep -c 'LNRO0005' "$d/dump_acpi/dsdt.dsl" || true)
	if [ "$n" = 2 ] && grep -q 'PNP0501' "$d/dump_acpi/dsdt.dsl" &&
		grep -q '_S5' "$d/dump_acpi/dsdt.dsl" &&
		[ "$(grep -c 'Processor Local APIC\]' "$d/dump_acpi/apic.dsl" || true)" = 2 ]; then
		pass "dump_acpi: iasl reads the tables: 2 LNRO0005 disks, the PNP0501 UART, _S5, 2 local APICs"
	else
		fail "dump_acpi: the disassembly lacks a disk, the UART, _S5 or a local APIC ($n LNRO0005)"
	fi
}

check_dump_dtb() {
	local d=$1
	wanted dump_dtb || return 0
	expect "$d" dump_dtb 0
	if [ "$(od -An -tx1 -N4 "$d/dump_dtb.dtb" 2>/dev/null | tr -d ' ')" = d00dfeed ]; then
		pass "dump_dtb: the dumped file is a flattened device tree"
	else
		fail "dump_dtb: no FDT magic in the dumped file"
	fi
}

# virtio-blk: the guest's verdict, then the host's own look at the image.
check_blk() {
	local d=$1 tmp before after
	wanted blk || return 0
	expect "$d" blk 64 "blk-test ok 15: umount vdb"
	[ -f "$d/blk-rw.img" ] || { fail "blk: no image came back from L1"; return; }
	if e2fsck -fn "$d/blk-rw.img" >"$d/blk.e2fsck.log" 2>&1; then
		pass "blk: e2fsck -fn on the image the guest wrote: clean"
	else
		fail "blk: e2fsck -fn found problems"
		sed 's/^/      | /' "$d/blk.e2fsck.log" | tail -n 10
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

# ICE: the guest's own verdict, then an independent look at the images it wrote
# (Python's cryptography and `icevmm ice decrypt`, tests/system/ice-selftest/check.py).
# Three disks: host-provisioned (keys file), guest-programmed (the key queue)
# and v4 (the control queue).
check_ice_selftest() {
	local d=$1 summary kind
	wanted ice_selftest || return 0
	expect "$d" ice_selftest 0
	summary=$(tr -d '\r' <"$d/ice_selftest.log" | grep '^ICE-SELFTEST \(PASS\|FAIL\) ' || true)
	if printf '%s\n' "$summary" | grep -Eqx 'ICE-SELFTEST PASS ([0-9]+)/\1'; then
		pass "ice_selftest: guest says '$summary'"
	else
		fail "ice_selftest: guest summary '${summary:-none}', expected ICE-SELFTEST PASS n/n"
		tr -d '\r' <"$d/ice_selftest.log" | grep FAIL | sed 's/^/      | /' | head -n 20 || true
	fi
	for kind in host-provisioned guest-programmed v4; do
		# On the file, not through a pipe: under pipefail, grep -q leaving at
		# its first match can kill the writer (SIGPIPE) and fail the check.
		if grep -Eq "^ICE-SELFTEST ok: disk [0-9]+: $kind " "$d/ice_selftest.log"; then
			pass "ice_selftest: the guest tested a $kind disk"
		else
			fail "ice_selftest: the guest never tested a $kind disk"
		fi
	done
	# icevmm's account at exit: the guest-programmed disk took the firmware's
	# 5 PROGRAMs and 4 EVICT/EVICT_ALL that succeed (refusals do not count).
	line=$(tr -d '\r' <"$d/ice_selftest.log" | grep '^icevmm: disk /tmp/ice-guest.img: ICE: ' || true)
	if printf '%s\n' "$line" | grep -Eqx 'icevmm: disk /tmp/ice-guest.img: ICE: [1-9][0-9]* data units encrypted, [1-9][0-9]* decrypted, [0-9]+ requests refused; key queue: 5 PROGRAM, 4 EVICT or EVICT_ALL'; then
		pass "ice_selftest: icevmm's summary: '${line#icevmm: }'"
	else
		fail "ice_selftest: icevmm's summary for the guest-programmed disk: '${line:-none}'"
	fi
	# The v4 disk: 5 PROGRAMs and 5 EVICTs succeed (v4 has no EVICT_ALL).
	line=$(tr -d '\r' <"$d/ice_selftest.log" | grep '^icevmm: disk /tmp/ice-v4.img: ICE (v4): ' || true)
	if printf '%s\n' "$line" | grep -Eqx 'icevmm: disk /tmp/ice-v4.img: ICE \(v4\): [1-9][0-9]* data units encrypted, [1-9][0-9]* decrypted, [0-9]+ requests refused; control queue: 5 PROGRAM, 5 EVICT; wrapped keys: 0 IMPORT, 0 GENERATE, 0 PREPARE, 0 DERIVE_SW_SECRET'; then
		pass "ice_selftest: icevmm's summary: '${line#icevmm: }'"
	else
		fail "ice_selftest: icevmm's summary for the v4 disk: '${line:-none}'"
	fi
	if [ -f "$d/ice_selftest.img" ] && [ -f "$d/ice_selftest-guest.img" ] &&
		[ -f "$d/ice_selftest-v4.img" ] &&
		/usr/bin/python3 "$selftest/check.py" --image "$d/ice_selftest.img" \
			--keys "$share/keys.conf" --guest-image "$d/ice_selftest-guest.img" \
			--v4-image "$d/ice_selftest-v4.img" \
			--icevmm "$HOST_ICEVMM" >"$d/ice_selftest.check.log" 2>&1; then
		pass "ice_selftest: check.py: $(grep -c '^ok' "$d/ice_selftest.check.log") host-side checks of the images"
	else
		fail "ice_selftest: check.py failed (or no image came back)"
		sed 's/^/      | /' "$d/ice_selftest.check.log" 2>/dev/null | grep -v '^      | ok' | tail -n 20
	fi
}

# The power cut (FLUSH means durable): L1 gets a disk backed by a host file;
# in L1, icevmm hands that raw disk to L2, which writes 4 MiB of random bytes
# at 3 MiB and fsyncs. When L2 says the fsync returned, L1 writes
# power_cut.synced into the share and run-l1.sh kills its QEMU with SIGKILL:
# what L1 held only in its page cache is gone, what the guest's FLUSH made
# durable is in the file. (Killing icevmm alone proves nothing: L1's page
# cache would survive it.)
run_power_cut() {
	local rc=0
	head -c $((4 << 20)) /dev/urandom >"$share/power_cut.pattern"
	rm -f "$share/power_cut.disk"
	truncate -s 16M "$share/power_cut.disk"
	echo "sh /host/cases.sh /host/out-power_cut /host/icevmm /host/Image /host/l2.cpio.gz power_cut" \
		>"$share/job.sh"
	echo "== nested rig, L1 with GICv3 and a disk of its own: power_cut"
	"$here/run-l1.sh" --disk "$share/power_cut.disk" --kill-on "$env_dir/power_cut.synced" \
		"$share" >"$share/l1-power_cut.console" 2>&1 || rc=$?
	grep '^run-l1: ' "$share/l1-power_cut.console" || true
	if [ "$rc" -ne 0 ]; then
		fail "power_cut: L1 was not killed on power_cut.synced (run-l1.sh status $rc)"
		tail -n 30 "$share/l1-power_cut.console" | sed 's/^/      | /'
	fi
}

# The rig's own safety net (run-l1.sh, cases.sh): an L1 that hangs in its
# second case (rig_hang stops the heartbeat) is killed and booted again, and
# the job resumes at that case; the first case (dump_dtb, no guest) is not
# run again. A short heartbeat makes the hang show within seconds.
run_rig_hang() {
	local rc=0
	printf 'sh /host/cases.sh /host/out-rig_hang /host/icevmm /host/Image %s %s\n' \
		/host/l2.cpio.gz "dump_dtb rig_hang rig_stall" >"$share/job.sh"
	echo "== nested rig, an L1 that hangs once, then a guest that stalls once: rig_hang"
	RIG_HEARTBEAT=2 RIG_ATTEMPTS=2 "$here/run-l1.sh" "$share" \
		>"$share/l1-rig_hang.console" 2>&1 || rc=$?
	grep '^run-l1: ' "$share/l1-rig_hang.console" || true
	[ "$rc" -eq 0 ] || fail "rig_hang: the L1 job ended with status $rc"
}

check_rig_hang() {
	local d=$1 tries
	wanted rig_hang || return 0
	expect "$d" rig_hang 0
	tries="$(cat "$d/dump_dtb.tries" 2>/dev/null) $(cat "$d/rig_hang.tries" 2>/dev/null)"
	if [ "$tries" = "1 2" ] && [ -f "$d/dump_dtb.dtb" ] &&
		grep -q '^run-l1: no heartbeat from L1 for' "$share/l1-rig_hang.console" &&
		grep -q '^run-l1: L1 hung; attempt 1 of 2' "$share/l1-rig_hang.console"; then
		pass "rig_hang: the hung L1 was booted again and its job resumed at the case that hung"
	else
		fail "rig_hang: L1 boots per case (dump_dtb, rig_hang): $tries, expected 1 2, or no hang seen"
		grep '^run-l1: ' "$share/l1-rig_hang.console" | sed 's/^/      | /'
	fi
	# rig_stall (in the same job): its first run stalled (status 4) and is
	# kept beside the second, which booted.
	if [ "$(cat "$d/rig_stall.stall1.rig_stall.status" 2>/dev/null)" = 4 ] &&
		[ -f "$d/rig_stall.stalled" ] &&
		grep -q 'icevmm: vCPU 0: in ' "$d/rig_stall.stall1.rig_stall.log" &&
		[ "$(cat "$d/rig_stall.status" 2>/dev/null)" = 0 ] &&
		grep -q 'ICEVMM-L2-INIT-OK nproc=1' "$d/rig_stall.log"; then
		pass "rig_stall: a stalled guest's case was run again (icevmm reported its vCPUs)"
	else
		fail "rig_stall: expected a stalled first run (status 4) and a second that booted"
	fi
}

check_power_cut() {
	local d=$1 diff
	wanted power_cut || return 0
	if [ ! -f "$d/power_cut.synced" ]; then
		fail "power_cut: L2 never reported its fsync (no power_cut.synced)"
		sed 's/^/      | /' "$d/power_cut.log" 2>/dev/null | tail -n 15
		return
	fi
	diff=$(dd if="$share/power_cut.disk" bs=1M skip=3 count=4 status=none |
		{ cmp -l - "$share/power_cut.pattern" 2>/dev/null || true; } | wc -l)
	if [ "$diff" -eq 0 ] && [ "$(stat -c %s "$share/power_cut.disk")" -eq $((16 << 20)) ]; then
		pass "power_cut: the 4 MiB L2 fsynced are in L1's disk file after QEMU's SIGKILL ($(cat "$d/power_cut.synced") ms to the fsync)"
	else
		fail "power_cut: L1's disk file lacks what L2 fsynced before the SIGKILL ($diff of 4194304 bytes differ)"
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

SECCOMP_CASES="seccomp_tasks seccomp_off seccomp_selftest"
check_seccomp() {
	local d=$1 lines
	if wanted seccomp_tasks; then
		expect "$d" seccomp_tasks 143 "boot-timer: guest rang" "stopping on signal 15"
		seccomp_check_tasks "$d" seccomp_tasks 2
	fi
	if wanted seccomp_off; then
		expect "$d" seccomp_off 143 "seccomp self-test: socket() was allowed" \
			"boot-timer: guest rang"
		seccomp_check_tasks "$d" seccomp_off 0
	fi
	wanted seccomp_selftest || return 0
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

# fscrypt with inlinecrypt on the ICE disk, through the project's guest kernel
# and its virtio_blk driver (firmware/linux): tests/system/guest/fbe.sh writes
# random files under a v2 policy, reports their inodes and extents, and a
# second boot reads them back; the host recomputes every data unit's
# ciphertext with an independent oracle (tests/oracle/fscrypt_oracle.py).
# fbe_*: Linux 6.12 on v2 disks; fbe_v4_*: Linux 7.3 on v4 disks.
FBE_CASES="fbe_ext4 fbe_f2fs fbe_ext4_lblk32 fbe_ext4_perfile fbe_fallback fbe_essiv fbe_ecb fbe_2cpu fbe_lifecycle fbe_block512 fbe_recover fbe_break_queue fbe_reprogram_fail fbe_many_queues"
FBE_CASES="$FBE_CASES fbe_v4_ext4 fbe_v4_f2fs fbe_v4_lblk32 fbe_v4_2cpu fbe_v4_lifecycle fbe_v4_block512 fbe_v4_recover fbe_v4_break_queue fbe_v4_reprogram_fail fbe_v4_many_queues"
# Hardware-wrapped keys (7.3, v4): an imported key on ext4 and f2fs
# (IV_INO_LBLK_64) and ext4 (IV_INO_LBLK_32); check-hw.sh.
FBE_CASES="$FBE_CASES fbe_v4_hw_ext4 fbe_v4_hw_f2fs fbe_v4_hw_lblk32"
# shellcheck source=check-hw.sh
. "$here/check-hw.sh"

# The project's guest kernel for ARCH from SERIES (6.12 or 7.3;
# scripts/guest-kernel.sh: built when its inputs changed, else cached): its
# progress on stderr, its path on stdout.
fbe_guest_kernel() { # fbe_guest_kernel ARCH SERIES
	GUEST_KERNEL=$2 "$root/scripts/guest-kernel.sh" "$1" >&2
	GUEST_KERNEL=$2 "$root/scripts/guest-kernel.sh" --print-path "$1"
}

# fbe_prep NAME FS POLICY [prep.py options]: the case's payload and filesystem
# image in the share.
fbe_prep() {
	local n=$1 fs=$2 policy=$3
	shift 3
	python3 "$here/fbe/prep.py" --seed "$FBE_SEED" --case "$n" --out "$share" --fs "$fs" \
		--policy "$policy" "$@" >/dev/null
	# shellcheck disable=SC1090 # written just now by prep.py
	(
		. "$share/$n.params"
		case "$fs" in
		ext4)
			mkfs.ext4 -q -F -b 4096 -O encrypt,stable_inodes -U "$UUID" \
				-E hash_seed="$HASH_SEED" "$share/$n.img" 64M
			;;
		f2fs)
			head -c $((128 << 20)) /dev/zero >"$share/$n.img"
			mkfs.f2fs -q -f -O encrypt -U "$UUID" "$share/$n.img" >/dev/null
			;;
		esac
	)
}

# A key per file: the driver programmed more keys than the ICE has slots, and
# evicted some (the inodes left the cache at umount).
check_fbe_perfile() { # check_fbe_perfile DIR NAME
	local d=$1 n=$2
	wanted $n || return 0
	fbe_summary "$d" $n write
	if [ "$sum_prog" -gt 32 ] && [ "$sum_ev" -ge 1 ]; then
		pass "$n: $sum_prog PROGRAM commands for 32 slots, and $sum_ev EVICT"
	else
		fail "$n: want more than 32 PROGRAM and an EVICT: '${sum_line:-none}'"
	fi
}

# check_fbe_split DIR NAME: EXTRA split lowered max_sectors_kb on the ICE disk.
check_fbe_split() {
	local line
	line=$(fbe_field "$1/$2-write.report" split:)
	case "$line" in
	max_sectors_kb=[1-6]) pass "$2: 8 KiB writes and reads with $line on the ICE disk" ;;
	*) fail "$2: max_sectors_kb was not lowered: '$line'" ;;
	esac
}

# Split requests, suspend/restore (fbe_v4_lifecycle: with a writer running),
# and the lock (see fbe.sh's EXTRA).
check_fbe_lifecycle() { # check_fbe_lifecycle DIR NAME
	local d=$1 n=$2 rep line
	wanted $n || return 0
	# shellcheck disable=SC1090 # EXTRA
	. "$share/$n.params"
	rep="$d/$n-write.report"
	[ -f "$rep" ] || return 0 # its boot failed: reported already
	check_fbe_split "$d" "$n"
	fbe_summary "$d" $n write
	if [ "$(fbe_field "$rep" freeze:)" = done ] && [ "$sum_prog" -ge 2 ]; then
		pass "$n: after suspend-to-idle the driver programmed its key again ($sum_prog PROGRAM in all)"
	else
		fail "$n: no second PROGRAM after the suspend: '${sum_line:-none}'"
	fi
	line=$(fbe_field "$rep" freeze_io:)
	case " $EXTRA " in
	*" freeze_io "*)
		if [ "${line%%,*}" = done ]; then
			pass "$n: a writer ran across the device reset: $line"
		else
			fail "$n: the reset under I/O: '${line:-no freeze_io line}'"
		fi
		;;
	esac
	line=$(fbe_field "$rep" removed:)
	if [ "${line%% *}" = absent ] && [ "$sum_ev" -ge 1 ]; then
		pass "$n: FS_IOC_REMOVE_ENCRYPTION_KEY: key absent, $sum_ev EVICT, contents unreadable"
	else
		fail "$n: after remove-key: key status '$line', $sum_ev EVICT"
	fi
}

# EXTRA recover: icevmm never answered the first PROGRAM (FAULT lose-program),
# or answered it on a broken ring (break-queue); the write that needed it
# failed, the driver gave up on the queue (after its 30 s wait; at once on the
# broken ring), reset the device and programmed the key again, and everything
# written after it is verified as in every case (check_fbe).
check_fbe_recover() { # check_fbe_recover DIR NAME
	local d=$1 n=$2 rep line why secs
	wanted "$n" || return 0
	# shellcheck disable=SC1090 # FAULT
	. "$share/$n.params"
	rep="$d/$n-write.report"
	[ -f "$rep" ] || return 0 # its boot failed: reported already
	line=$(fbe_field "$rep" recover:)
	if [ "$line" = "the write under the lost PROGRAM failed" ]; then
		pass "$n: $line"
	else
		fail "$n: the lost PROGRAM: '${line:-no recover line}'"
	fi
	why="timed out"
	[ "$FAULT" = break-queue ] && why="on a broken virtqueue"
	line=$(fbe_field "$rep" recovered:)
	case "$line" in
	*"command $why, resetting the device"*"device reset, "*" queue back"*)
		pass "$n: the driver recovered: $line" ;;
	*) fail "$n: no '$why' and reset from the driver: '$line'" ;;
	esac
	# How long the failed write took: the driver's wait for the command.
	secs=$(fbe_field "$rep" recover_time: | awk 'NF == 2 { printf "%d", $2 - $1 }')
	case "$FAULT:${secs:-none}" in
	lose-program:3[0-9]) pass "$n: the driver waited its 30 s for the lost PROGRAM ($secs s)" ;;
	break-queue:[0-4]) pass "$n: the driver gave up on the broken queue at once ($secs s)" ;;
	*) fail "$n: the failed write took ${secs:-?} s under fault=$FAULT" ;;
	esac
	if grep -q "fault=$FAULT: the first PROGRAM command will " "$d/$n-write.log"; then
		pass "$n: icevmm injected fault=$FAULT"
	else
		fail "$n: icevmm did not say it would inject fault=$FAULT"
	fi
}

# EXTRA "freeze stale" with FAULT fail-reprogram: icevmm refused the PROGRAM
# that restored the key after the suspend's reset. The driver failed the
# reads under the key itself (check_fbe: icevmm refused no request, so no
# request reached it with an empty slot); removing and adding the key again
# programmed it, and every file read back (check_fbe).
check_fbe_reprogram_fail() { # check_fbe_reprogram_fail DIR NAME
	local d=$1 n=$2 rep line bad all
	wanted "$n" || return 0
	rep="$d/$n-write.report"
	[ -f "$rep" ] || return 0 # its boot failed: reported already
	line=$(fbe_field "$rep" stale:)
	read -r bad _ all _ <<<"$line"
	if [ "${bad:-0}" != 0 ] && [ "$bad" = "$all" ]; then
		pass "$n: after the failed reprogram, reads under the key failed in the guest: $line"
	else
		fail "$n: after the failed reprogram: '${line:-no stale line}'"
	fi
	fbe_summary "$d" "$n" write
	if [ "$sum_prog" -ge 2 ] && [ "$sum_ref" = 0 ]; then
		pass "$n: the key programmed again after remove/add ($sum_prog PROGRAM), no request refused"
	else
		fail "$n: want 2 PROGRAM and no refused request: '${sum_line:-none}'"
	fi
	if grep -q "fault=fail-reprogram: the first PROGRAM command after " "$d/$n-write.log"; then
		pass "$n: icevmm injected fault=fail-reprogram"
	else
		fail "$n: icevmm did not say it would inject fault=fail-reprogram"
	fi
}

# FAULT many-queues: icevmm claimed 65535 request queues. The driver bounds
# what it sets up: it uses no key or control queue 65535 queues away (so no
# inline encryption; check_fbe saw the fallback and no crypto profile) and
# accepted VIRTIO_BLK_F_MQ (bit 12) with one request queue.
check_fbe_many_queues() { # check_fbe_many_queues DIR NAME
	local d=$1 n=$2 rep line
	wanted "$n" || return 0
	rep="$d/$n-write.report"
	[ -f "$rep" ] || return 0 # its boot failed: reported already
	line=$(fbe_field "$rep" kernel:)
	if printf '%s' "$line" | grep -qE 'after (too many request|[0-9]+ unused) queues, not using it'; then
		pass "$n: the driver refused a key or control queue after 65534 unused queues"
	else
		fail "$n: no 'unused queues, not using it' line from virtio_blk: $line"
	fi
	line=$(fbe_field "$rep" features:)
	if [ "$(printf '%s' "$line" | cut -c13)" = 1 ]; then
		pass "$n: VIRTIO_BLK_F_MQ accepted, the disk works: $line"
	else
		fail "$n: VIRTIO_BLK_F_MQ not accepted: '$line'"
	fi
}

# The fallback's ciphertext equals the ICE's: fbe_fallback ran fbe_ext4's
# workload (same key, UUIDs, files and order) on a plain disk. For every file,
# the data units in logical order, read from each image at its own extents.
check_fbe_cross() {
	local d=$1 f a b ia ib
	wanted fbe_ext4 && wanted fbe_fallback || return 0
	# shellcheck disable=SC1090
	. "$share/fbe_ext4.params"
	for f in $FILES; do
		ia=$(sed -n "s/^file $f ino \([0-9]*\) .*/\1/p" "$d/fbe_ext4-write.report")
		ib=$(sed -n "s/^file $f ino \([0-9]*\) .*/\1/p" "$d/fbe_fallback-write.report")
		a=$(fbe_file_blocks "$d/fbe_ext4.img" "$d/fbe_ext4-write.report" "$f" | sha256sum)
		b=$(fbe_file_blocks "$d/fbe_fallback.img" "$d/fbe_fallback-write.report" "$f" | sha256sum)
		if [ -n "$ia" ] && [ "$ia" = "$ib" ] && [ "$a" = "$b" ]; then
			pass "fbe_fallback: $f (ino $ia): blk-crypto-fallback wrote the ICE's ciphertext, byte for byte"
		else
			fail "fbe_fallback: $f: ino ${ia:-?} / ${ib:-?}, the ciphertexts differ"
		fi
	done
}

# fbe_file_blocks IMAGE REPORT FILE: the file's on-disk blocks, in logical order.
fbe_file_blocks() {
	local lblk phys len flags
	sed -n "s/^extent $3 //p" "$2" | sort -n | while read -r lblk phys len flags; do
		dd if="$1" bs=4096 skip=$((phys / 4096)) count=$((len / 4096)) status=none
	done
}

# fbe_summary DIR NAME PHASE: icevmm's exit summary for the case's ICE disk in
# that boot (v2 or v4): sum_line (the line), sum_enc, sum_dec, sum_ref (refused
# requests), sum_prog, sum_ev (numbers; sum_ref is "none" without a line).
fbe_summary() {
	sum_line=$(grep -E "^icevmm: disk /tmp/$2.img: ICE( \(v4\))?: " "$1/$2-$3.log" || true)
	sum_enc=$(printf '%s' "$sum_line" | sed -n 's/.*: \([0-9]*\) data units encrypted.*/\1/p')
	sum_dec=$(printf '%s' "$sum_line" | sed -n 's/.*encrypted, \([0-9]*\) decrypted.*/\1/p')
	sum_ref=$(printf '%s' "$sum_line" | sed -n 's/.*decrypted, \([0-9]*\) requests refused.*/\1/p')
	sum_prog=$(printf '%s' "$sum_line" | sed -n 's/.* queue: \([0-9]*\) PROGRAM.*/\1/p')
	sum_ev=$(printf '%s' "$sum_line" | sed -n 's/.*PROGRAM, \([0-9]*\) EVICT.*/\1/p')
	: "${sum_enc:=0}" "${sum_dec:=0}" "${sum_ref:=none}" "${sum_prog:=0}" "${sum_ev:=0}"
}

# fbe_field REPORT WORD: the rest of the report's first line that starts with WORD.
fbe_field() {
	sed -n "/^$2 /{s///p;q}" "$1"
}

# check_fbe DIR NAME: what the guest reported, then the image itself.
check_fbe() {
	local d=$1 n=$2 rep st line want other
	wanted "$n" || return 0
	# shellcheck disable=SC1090
	. "$share/$n.params"
	for phase in write read; do
		st=$(cat "$d/$n-$phase.status" 2>/dev/null || echo none)
		rep="$d/$n-$phase.report"
		tr -d '\000' <"$d/$n-$phase-report.img" >"$rep" 2>/dev/null || : >"$rep"
		if [ "$st" = 64 ] && grep -qx 'FBE-END 0' "$rep"; then
			pass "$n: $phase boot: the guest's workload passed ($(cat "$d/$n-$phase.ms") ms)"
		else
			fail "$n: $phase boot: icevmm status $st (64 = the script's 0), report:"
			grep -v '^\(extent\|file\) ' "$rep" | sed 's/^/      | /' | tail -n 12
			tail -n 8 "$d/$n-$phase.log" 2>/dev/null | sed 's/^/      | /'
			return
		fi
	done
	rep="$d/$n-write.report"
	line=$(fbe_field "$rep" kernel:)
	# On the ICE: native, and never the fallback; on a plain disk: the fallback.
	if [ "$IMPL" = native ]; then
		want="fscrypt: $MODE_NAME using blk-crypto (native)" other=blk-crypto-fallback
	else
		want="fscrypt: $MODE_NAME using blk-crypto-fallback" other="blk-crypto (native)"
	fi
	case "$line" in
	*"$want"*)
		if printf '%s' "$line" | grep -qF "$other"; then
			fail "$n: the kernel also said '$other': $line"
		else
			pass "$n: the guest kernel says '$want'"
		fi
		;;
	*) fail "$n: no '$want' line from the guest kernel: $line" ;;
	esac
	if [ "$DISK" = ecb ]; then # a capability Linux has no mode for: one line, no profile
		if printf '%s' "$line" | grep -q 'virtio_blk virtio0: inline encryption capability 0x02[0-9a-f]* .*has no Linux crypto mode'; then
			pass "$n: the driver said once that the AES-ECB engine has no Linux mode"
		else
			fail "$n: no 'has no Linux crypto mode' line from virtio_blk"
		fi
		# ->validate cleared it: no 32-byte headers for an engine nobody uses
		line=$(fbe_field "$rep" features:)
		if [ "$(printf '%s' "$line" | cut -c23,64)" = 00 ]; then
			pass "$n: VIRTIO_BLK_F_ICE (22) and the key queue (63) not negotiated: $line"
		else
			fail "$n: the driver negotiated bit 22 or 63 of an unusable engine: '$line'"
		fi
	fi
	line=$(fbe_field "$rep" crypto:)
	if [ "$IMPL" = fallback ] && [ "$BLOCK" != 0 ]; then
		check_fbe_small_block "$d" "$n" "$line"
		fbe_verify_files "$d" "$n"
		return
	fi
	if [ "$IMPL" = fallback ]; then
		if [ "$line" = none ]; then
			pass "$n: a plain disk has no /sys/block/vda/queue/crypto"
		else
			fail "$n: a plain disk shows a crypto profile: $line"
		fi
		fbe_verify_files "$d" "$n"
		return
	fi
	if printf '%s\n' "$line" | grep -q "num_keyslots=32 .*modes=.*$MODE_NAME"; then
		pass "$n: /sys/block/vda/queue/crypto: $line"
	else
		fail "$n: /sys/block/vda/queue/crypto: '$line', want 32 keyslots and $MODE_NAME"
	fi
	fbe_summary "$d" "$n" write
	if [ "$sum_enc" -gt 0 ] && [ "$sum_prog" -gt 0 ] && [ "$sum_ref" = 0 ]; then
		pass "$n: icevmm encrypted $sum_enc data units, took $sum_prog PROGRAM commands and refused no request"
	else
		fail "$n: icevmm's summary: '${sum_line:-none}'"
	fi
	fbe_summary "$d" "$n" read
	if [ "$sum_dec" -gt 0 ] && [ "$sum_ref" = 0 ]; then
		pass "$n: the second boot decrypted through the ICE: ${sum_line#icevmm: }"
	else
		fail "$n: the second boot decrypted nothing: '${sum_line:-none}'"
	fi
	# The driver relies on nothing at start: it empties every slot at probe
	# (v2: EVICT_ALL; v4: an EVICT per slot), and the unmount evicts the key.
	want=2
	[ "$DISK" = v4 ] && want=33
	if [ "$sum_ev" -ge "$want" ]; then
		pass "$n: the second boot emptied the keyslots at probe ($sum_ev EVICT in all)"
	else
		fail "$n: the second boot sent $sum_ev EVICT, want at least $want (slots emptied at probe)"
	fi
	fbe_verify_files "$d" "$n"
}

# check_fbe_small_block DIR NAME CRYPTO_LINE: an ICE disk whose logical block
# (BLOCK) is smaller than its largest data unit. The driver offers only the
# data units that fit in a block, so ext4's 4096-byte units go through
# blk-crypto-fallback; no request holding part of a data unit reaches icevmm,
# even with requests split at 6 KiB (EXTRA split).
check_fbe_small_block() {
	local d=$1 n=$2 line=$3 sizes=0 du=512 kline
	while [ "$du" -le "$BLOCK" ]; do
		sizes=$((sizes | du))
		du=$((du * 2))
	done
	kline=$(fbe_field "$d/$n-write.report" kernel:)
	if printf '%s' "$kline" | grep -qF "inline encryption AES-256-XTS (data unit sizes $(printf '%#x' $sizes))"; then
		pass "$n: with $BLOCK-byte blocks the driver offers data units of $(printf '%#x' $sizes) bytes only"
	else
		fail "$n: no 'data unit sizes $(printf '%#x' $sizes)' line from virtio_blk: $kline"
	fi
	if printf '%s\n' "$line" | grep -q "num_keyslots=32 .*modes=.*AES-256-XTS"; then
		pass "$n: /sys/block/vda/queue/crypto: $line"
	else
		fail "$n: /sys/block/vda/queue/crypto: '$line', want 32 keyslots and AES-256-XTS"
	fi
	check_fbe_split "$d" "$n"
	fbe_summary "$d" "$n" write
	if [ "$sum_ref" = 0 ] && [ "$sum_enc" = 0 ]; then
		pass "$n: no request with part of a data unit reached icevmm: ${sum_line#icevmm: }"
	else
		fail "$n: icevmm's summary: '${sum_line:-none}', want 0 refused, 0 encrypted"
	fi
}

# fbe_verify_files DIR NAME: the key identifier, every data unit of every file
# against the oracle, and one extent through `icevmm ice decrypt`.
fbe_verify_files() {
	local d=$1 n=$2 rep=$1/$2-write.report tmp f files ino nonce keyid lblk phys len ext dun hw=
	# A wrapped key's raw key: fscrypt's HKDF and the contents key come from the
	# engine's KDF (fscrypt_oracle.py --hw-wrapped).
	[ -z "${WRAP:-}" ] || hw=--hw-wrapped
	keyid=$(python3 "$oracle" keyid --master-key "$KEY" $hw)
	if [ "$(fbe_field "$rep" keyid:)" = "$keyid" ]; then
		pass "$n: the guest's key identifier is the oracle's ($keyid)"
	else
		fail "$n: the guest's key identifier '$(fbe_field "$rep" keyid:)' is not the oracle's $keyid"
	fi
	# Every data unit of every file: the oracle's ciphertext at the reported extents.
	tmp=$(mktemp -d)
	tar -xf "$share/$n-payload.tar" -C "$tmp"
	files=$FILES
	case " $EXTRA " in
	*" split "*) # the file written in 8 KiB requests: f5's bytes
		files="$files split"
		cp "$tmp/files/f5-1048576" "$tmp/files/split"
		;;
	esac
	if python3 "$here/fbe/leak.py" "$d/$n.img" "$tmp/files" >"$tmp/leak.log"; then
		pass "$n: no 4 KiB block of any plaintext file is on the image ($(tail -n 1 "$tmp/leak.log"))"
	else
		fail "$n: plaintext on the image:"
		sed 's/^/      | /' "$tmp/leak.log" | tail -n 5
	fi
	for f in $files; do
		ino=$(sed -n "s/^file $f ino \([0-9]*\) .*/\1/p" "$rep")
		nonce=$(sed -n "s/^file $f .* nonce \([0-9a-f]*\) .*/\1/p" "$rep")
		sed -n "s/^extent $f //p" "$rep" >"$tmp/$f.extents"
		if python3 "$oracle" verify --master-key "$KEY" $hw --policy "$POLICY" --uuid "$UUID" \
			--contents "$CONTENTS" \
			--ino "${ino:-0}" --nonce "${nonce:-0}" --image "$d/$n.img" \
			--extents "$tmp/$f.extents" --plaintext "$tmp/files/$f" >"$tmp/$f.verify" 2>&1; then
			pass "$n: $f (ino $ino, $(wc -l <"$tmp/$f.extents") extent(s)): $(tail -n 1 "$tmp/$f.verify")"
		else
			fail "$n: $f (ino ${ino:-?}): the image is not the oracle's ciphertext"
			sed 's/^/      | /' "$tmp/$f.verify" | tail -n 5
		fi
	done
	# And `icevmm ice decrypt` with the derived key gives the plaintext back
	# (the 1 MiB file's first extent).
	f=$(printf '%s\n' $FILES | grep -- '-1048576$')
	ino=$(sed -n "s/^file $f ino \([0-9]*\) .*/\1/p" "$rep")
	read -r lblk phys len ext <"$tmp/$f.extents"
	nonce=$(sed -n "s/^file $f .* nonce \([0-9a-f]*\) .*/\1/p" "$rep")
	dun=$(python3 "$oracle" dun --master-key "$KEY" $hw --policy "$POLICY" \
		--ino "$ino" --lblk $((lblk / 4096)))
	if [ -n "$hw" ]; then # what a person checking such an image runs
		tar -xOf "$share/$n-payload.tar" master.key >"$tmp/raw.key"
		chmod 600 "$tmp/raw.key"
		"$HOST_ICEVMM" ice derive --raw-key "$tmp/raw.key" --keys-out "$tmp/keys.conf" \
			--slot 0 --data-unit 4096 >/dev/null
	else
		python3 "$oracle" derive --master-key "$KEY" --policy "$POLICY" --uuid "$UUID" \
			--contents "$CONTENTS" --nonce "$nonce" --keys-out "$tmp/keys.conf" --slot 0 \
			--data-unit 4096 >/dev/null
	fi
	dd if="$d/$n.img" of="$tmp/extent.bin" bs=4096 skip=$((phys / 4096)) count=$((len / 4096)) \
		status=none
	if "$HOST_ICEVMM" ice decrypt --keys "$tmp/keys.conf" --slot 0 --dun "$dun" \
		--in "$tmp/extent.bin" --out "$tmp/extent.plain" 2>"$tmp/decrypt.log" &&
		cmp -s "$tmp/extent.plain" <(dd if="$tmp/files/$f" bs=4096 skip=$((lblk / 4096)) \
			count=$((len / 4096)) status=none); then
		pass "$n: icevmm ice decrypt with the derived key: $f's first extent ($len bytes) is its plaintext"
	else
		fail "$n: icevmm ice decrypt of $f's first extent did not give its plaintext"
		sed 's/^/      | /' "$tmp/decrypt.log" | tail -n 3
	fi
	rm -rf "$tmp"
}

# --boot-timer's report of an x86_64 boot (seccomp_tasks rings it at init):
# the set-up's steps, each timed, and none of the probing icevmm's command-line
# prefix (pci=off 8250.nr_uarts=1) exists to stop: PCI configuration space
# (0xcf8-0xcff: 151 accesses without it, 2 with it) and COM2-COM4 (18, 0).
check_x86_boot_report() {
	local d=$1 name=$2 log misses pci com
	log=$(tr -d '\r' <"$d/$name.log")
	if grep -Eq '^icevmm: boot-timer: set-up: files and keys [0-9.]+ ms, VM [0-9.]+ ms, vCPUs [0-9.]+ ms, devices [0-9.]+ ms, guest loaded [0-9.]+ ms, console and sandbox [0-9.]+ ms$' <<<"$log"; then
		pass "$name: $(grep -m1 '^icevmm: boot-timer: set-up: ' <<<"$log" | sed 's/^icevmm: //')"
	else
		fail "$name: no 'boot-timer: set-up:' line with the six steps"
	fi
	misses=$(grep -m1 '^icevmm: boot-timer: port I/O accesses to no device: ' <<<"$log" || true)
	# "0xcf8 x1, 0x2e x20, ...": accesses per port
	pci=$(printf '%s\n' "${misses##*: }" | tr ',' '\n' |
		awk '$1 ~ /^0xcf[89a-f]$/ { n += substr($2, 2) } END { print n + 0 }')
	com=$(printf '%s\n' "${misses##*: }" | tr ',' '\n' |
		awk '$1 ~ /^0x(2f|3e|2e)[89a-f]$/ { n += substr($2, 2) } END { print n + 0 }')
	misses=${misses#icevmm: boot-timer: }
	if [ "$pci" -le 4 ] && [ "$com" -eq 0 ]; then
		pass "$name: $pci PCI and $com COM2-COM4 accesses ('${misses:-no port I/O access to no device}')"
	else
		fail "$name: the guest still probes: $pci PCI and $com COM2-COM4 accesses ('$misses')"
	fi
}

# The x86_64 rig (an amd64 L1 with kvm_amd) boots Debian's stock amd64 kernel.
X86_CASES="boot1 boot2 debug_exit reset reset_triple timeout bad_kernel bad_bzimage blk highmem dump_acpi seccomp_tasks fbe_v4_ext4 boot_profile"
check_x86_cases() {
	local d=$1
	check_boot_cases "$d"
	expect "$d" debug_exit 69 "ICEVMM-L2-INIT-OK"
	expect "$d" reset 3
	expect "$d" reset_triple 3 "triple fault"
	expect "$d" timeout 4 "--timeout 2 s expired" "icevmm: vCPU 1: in "
	expect "$d" bad_kernel 1 "not a bootable x86 bzImage"
	expect "$d" bad_bzimage 1 "not a bootable x86 bzImage"
	check_dump_acpi "$d"
	expect "$d" highmem 64 "highmem: zone Normal (above 4 GiB)" "highmem: 64 MiB copied intact"
	check_blk "$d"
	if wanted seccomp_tasks; then
		expect "$d" seccomp_tasks 143 "boot-timer: guest rang" "stopping on signal 15"
		seccomp_check_tasks "$d" seccomp_tasks 2
		check_x86_boot_report "$d" seccomp_tasks
	fi
	check_fbe "$d" fbe_v4_ext4
	expect "$d" boot_profile 0 "boot-timer: guest rang"
}

ALL_CASES="ice_selftest blk boot1 boot2 debug_exit reset timeout sigterm sigterm_closed bad_kernel missing_initrd mem0 cpus0 small_mem dump_dtb $CORE_CASES $SECCOMP_CASES $FBE_CASES hwdm boot_profile"

# run_l1 ENV CASES...: one L1 boot runs all the cases (an L1 boot costs
# seconds). ENV: gicv3 or gicv2 (arm64 L1), or x86_64 (amd64 L1).
run_l1() {
	local env=$1 rc=0 sfx= opts=(--gic 3)
	shift
	case "$env" in
	gicv2) opts=(--gic 2) ;;
	x86_64) sfx=-x86_64 opts=() ;;
	esac
	printf 'sh /host/cases.sh /host/out-%s /host/icevmm%s /host/Image%s /host/l2%s.cpio.gz %s\n' \
		"$env" "$sfx" "$sfx" "$sfx" "$*" >"$share/job.sh"
	echo "== nested rig, $env L1: $*"
	# A hung L1 is booted again and its job resumes at the case that hung
	# (cases.sh); a case that hangs two L1s is given up. So: up to three
	# hangs in one job, then a boot that finishes it. The heartbeat finds a
	# hung L1 within 90 s; the time limit is only the last resort, wide
	# enough for the gicv3 job (430-650 s, depending on the machine's day).
	RIG_TIMEOUT=${RIG_TIMEOUT:-1500} RIG_ATTEMPTS=4 RIG_ARCH=${sfx:+x86_64} \
		"$here/run-l1.sh" "${opts[@]}" "$share" \
		>"$share/l1-$env.console" 2>&1 || rc=$?
	grep '^run-l1: ' "$share/l1-$env.console" || true # the lock wait, the L1's time
	local d=$share/out-$env f c
	for f in "$d"/*.tries; do
		[ -f "$f" ] && [ "$(cat "$f")" -gt 1 ] || continue
		c=${f##*/}
		c=${c%.tries}
		if [ -f "$d/$c.hung" ]; then
			env_dir=$d fail "$c: hung L1 in two L1 boots; not run a third time"
		else
			echo "== $env: $c hung L1 once; its second run is the one checked"
		fi
	done
	# A stalled guest is run again by cases.sh: say so, with icevmm's report
	# on its vCPUs, and keep the stalled run's files for a look.
	for f in "$d"/*.stalled; do
		[ -f "$f" ] || continue
		c=${f##*/}
		c=${c%.stalled}
		mkdir -p "$kept/STALLED-$c/$env"
		cp --sparse=always "$d/$c.stall1."* "$share/l1-$env.console" "$kept/STALLED-$c/$env/"
		echo "== $env: $c's guest stalled once (status 4); its second run is the one checked" \
			"[files: ${kept#"$root"/}/STALLED-$c/$env]"
		cat "$d/$c.stall1."*.log | grep -e '--timeout' -e 'icevmm: vCPU' | sed 's/^/      | /'
	done
	if [ "$rc" -ne 0 ]; then
		fail "l1-$env: the L1 job ended with status $rc"
		tail -n 30 "$share/l1-$env.console" | sed 's/^/      | /'
	fi
}

# Booted a second time in an L1 with a GICv2 (the vGICv2 fallback).
GICV2_CASES="boot1 boot2"
# Cases with an L1 boot of their own, which they end by killing it (power_cut
# at once; rig_hang as a hung L1, to boot it again).
OWN_L1_CASES="power_cut rig_hang"

# Left out of the default selection to keep make check inside its budget
# (README): each has a twin that runs by default on the same driver path
# (fbe_ext4_perfile: fbe_2cpu; fbe_v4_f2fs: fbe_f2fs and fbe_v4_ext4;
# fbe_v4_lblk32: fbe_ext4_lblk32 and fbe_v4_ext4). CASES=all runs them too.
TWIN_CASES="fbe_ext4_perfile fbe_v4_f2fs fbe_v4_lblk32"
# A measurement, not a test: where a boot's time goes (the guest's
# timestamped log, --boot-timer's exits and accesses to no device).
PROFILE_CASES="boot_profile"

# The cases to run: the command line's ("all": every case), or the default.
if [ $# -eq 0 ]; then
	selected=
	for c in $ALL_CASES $OWN_L1_CASES $X86_CASES; do
		case " $TWIN_CASES $PROFILE_CASES " in *" $c "*) ;; *) selected="$selected $c" ;; esac
	done
elif [ "$*" = all ]; then
	selected="$ALL_CASES $OWN_L1_CASES $X86_CASES"
else
	selected=$*
fi
for c in $selected; do
	case " $ALL_CASES $OWN_L1_CASES $X86_CASES " in
	*" $c "*) rm -rf "$kept/FAILED-$c" "$kept/STALLED-$c" ;;
	*)
		echo "run-all: no case '$c'; the cases: $ALL_CASES $OWN_L1_CASES $X86_CASES" >&2
		exit 2
		;;
	esac
done
# wanted CASE: was CASE selected for this run?
wanted() {
	case " $selected " in *" $1 "*) return 0 ;; esac
	return 1
}
# only LIST: the words of LIST that were selected, in LIST's order.
only() {
	local c out=
	for c in $1; do
		! wanted "$c" || out="$out $c"
	done
	echo "${out# }"
}
if [ $# -eq 0 ]; then
	echo "== the default cases; CASES=all adds their twins ($TWIN_CASES) and $PROFILE_CASES"
else
	echo "== only these cases: $selected"
fi

# The FBE cases need the project's guest kernel (make guest-kernel: built once,
# then cached), an initramfs without Debian's modules (everything is built
# in), and each case's payload and filesystem, all from one seed.
oracle="$root/tests/oracle/fscrypt_oracle.py"
fbe_cases=$(only "$FBE_CASES hwdm")
t_prep=$SECONDS
if [ -n "$fbe_cases" ]; then
	FBE_SEED=${FBE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	echo "== FBE cases ($fbe_cases): FBE_SEED=$FBE_SEED reproduces their keys and files"
	# FBE_KERNEL (an arm64 Image with the 6.12 series and everything built
	# in) and FBE_INITRD test another kernel with the same cases. Only the
	# kernels a selected case boots are built: 6.12 for fbe_*, 7.3 for
	# fbe_v4_* (cases.sh picks fbe-Image[-x86_64][-7.3]).
	v2_cases=$(only "${FBE_CASES%% fbe_v4_*}") v4_cases=$(only "fbe_v4_${FBE_CASES#* fbe_v4_} hwdm")
	[ -z "$v2_cases" ] || cp "${FBE_KERNEL:-$(fbe_guest_kernel arm64 6.12)}" "$share/fbe-Image"
	[ -z "$v4_cases" ] || cp "$(fbe_guest_kernel arm64 7.3)" "$share/fbe-Image-7.3"
	if [ -z "${FBE_INITRD:-}" ]; then
		"$here/mkinitramfs.sh" l2 "$GUEST/fbe.cpio.gz" --modules ""
		FBE_INITRD=$GUEST/fbe.cpio.gz
	fi
	cp "$FBE_INITRD" "$share/fbe.cpio.gz"
	# The x86_64 rig runs the same prepared case (fbe_v4_ext4) on the
	# x86_64 build of the 7.3 kernel (cases.sh picks fbe-Image-x86_64-7.3).
	if [ -n "$(only "$X86_CASES")" ] && wanted fbe_v4_ext4 && [ "$(uname -m)" = x86_64 ]; then
		cp "$(fbe_guest_kernel x86_64 7.3)" "$share/fbe-Image-x86_64-7.3"
		RIG_ARCH=x86_64 "$here/mkinitramfs.sh" l2 "$X86_GUEST/fbe.cpio.gz" --modules ""
		cp "$X86_GUEST/fbe.cpio.gz" "$share/fbe-x86_64.cpio.gz"
	fi
	! wanted fbe_ext4 || fbe_prep fbe_ext4 ext4 iv_ino_lblk_64
	! wanted fbe_f2fs || fbe_prep fbe_f2fs f2fs iv_ino_lblk_64
	! wanted fbe_ext4_lblk32 || fbe_prep fbe_ext4_lblk32 ext4 iv_ino_lblk_32
	# A key per file: more files than the ICE has slots.
	! wanted fbe_ext4_perfile || fbe_prep fbe_ext4_perfile ext4 default --files 40
	# fbe_ext4's workload on a plain disk: blk-crypto-fallback encrypts.
	! wanted fbe_fallback || fbe_prep fbe_fallback ext4 iv_ino_lblk_64 --disk plain --like fbe_ext4
	# Other engines, from keys files without slots: ESSIV (Linux's
	# AES-128-CBC-ESSIV, per-file keys) and AES-ECB (no Linux mode).
	! wanted fbe_essiv || fbe_prep fbe_essiv ext4 default --disk essiv --contents aes-128-cbc
	! wanted fbe_ecb || fbe_prep fbe_ecb ext4 iv_ino_lblk_64 --disk ecb
	# Two writers on two vCPUs, a key per file: PROGRAM and EVICT on the key
	# queue while the other vCPU's requests are in flight.
	! wanted fbe_2cpu || fbe_prep fbe_2cpu ext4 default --files 40 --cpus 2 --extra two_writers
	# 6 KiB request limit; suspend-to-idle (reset, keys reprogrammed); lock.
	! wanted fbe_lifecycle ||
		fbe_prep fbe_lifecycle ext4 iv_ino_lblk_64 --extra "split freeze remove_key"
	# 512-byte logical blocks under 4096-byte data units, 6 KiB requests.
	! wanted fbe_block512 || fbe_prep fbe_block512 ext4 iv_ino_lblk_64 --block 512 --extra split
	# The device never answers the first PROGRAM: the driver resets it.
	! wanted fbe_recover ||
		fbe_prep fbe_recover ext4 iv_ino_lblk_64 --extra recover --fault lose-program
	# ... or completes it with a used id out of range: the ring is broken.
	! wanted fbe_break_queue ||
		fbe_prep fbe_break_queue ext4 iv_ino_lblk_64 --extra recover --fault break-queue
	# The device refuses the PROGRAM that restores the key after a reset.
	! wanted fbe_reprogram_fail ||
		fbe_prep fbe_reprogram_fail ext4 iv_ino_lblk_64 --extra "freeze stale" \
			--fault fail-reprogram
	# A device that claims 65535 request queues: the driver uses none of the
	# engine (its key queue would follow them), and allocates for one.
	! wanted fbe_many_queues || fbe_prep fbe_many_queues ext4 iv_ino_lblk_64 --fault many-queues
	# Linux 7.3 on v4 disks: the same workloads, keys on the control queue.
	v4() { fbe_prep "$1" "$2" "$3" --disk v4 --kernel 7.3 "${@:4}"; }
	! wanted fbe_v4_ext4 || v4 fbe_v4_ext4 ext4 iv_ino_lblk_64
	! wanted fbe_v4_f2fs || v4 fbe_v4_f2fs f2fs iv_ino_lblk_64
	! wanted fbe_v4_lblk32 || v4 fbe_v4_lblk32 ext4 iv_ino_lblk_32
	! wanted fbe_v4_2cpu || v4 fbe_v4_2cpu ext4 default --files 40 --cpus 2 --extra two_writers
	# The device reset under I/O: suspend-to-idle while a writer runs.
	! wanted fbe_v4_lifecycle ||
		v4 fbe_v4_lifecycle ext4 iv_ino_lblk_64 --extra "split freeze_io remove_key"
	! wanted fbe_v4_block512 || v4 fbe_v4_block512 ext4 iv_ino_lblk_64 --block 512 --extra split
	! wanted fbe_v4_recover ||
		v4 fbe_v4_recover ext4 iv_ino_lblk_64 --extra recover --fault lose-program
	! wanted fbe_v4_break_queue ||
		v4 fbe_v4_break_queue ext4 iv_ino_lblk_64 --extra recover --fault break-queue
	! wanted fbe_v4_reprogram_fail ||
		v4 fbe_v4_reprogram_fail ext4 iv_ino_lblk_64 --extra "freeze stale" \
			--fault fail-reprogram
	! wanted fbe_v4_many_queues || v4 fbe_v4_many_queues ext4 iv_ino_lblk_64 --fault many-queues
	# Hardware-wrapped keys: imported, prepared in each boot; on ext4 also
	# the refusals, a generated key and a raw key beside it.
	! wanted fbe_v4_hw_ext4 || v4 fbe_v4_hw_ext4 ext4 iv_ino_lblk_64 --wrap import --extra hw_more
	! wanted fbe_v4_hw_f2fs || v4 fbe_v4_hw_f2fs f2fs iv_ino_lblk_64 --wrap import
	! wanted fbe_v4_hw_lblk32 || v4 fbe_v4_hw_lblk32 ext4 iv_ino_lblk_32 --wrap import
	# dm-inlinecrypt with a raw and a wrapped key (check-hw.sh).
	! wanted hwdm || hwdm_prep
fi

[ -z "$fbe_cases" ] || echo "== FBE kernels and payloads: $((SECONDS - t_prep)) s"

# RIGS="x86_64" (or "arm64") runs only that rig's environments.
RIGS=${RIGS:-arm64 x86_64}
rig() { case " $RIGS " in *" $1 "*) return 0 ;; esac; return 1; }

env_dir=$share/out-gicv3
gicv3=$(only "$ALL_CASES")
rig arm64 || gicv3=
# timed WHAT COMMAND...: run it, then say how long it took (make check's budget).
timed() {
	local what=$1 t0=$SECONDS
	shift
	"$@"
	echo "== $what: $((SECONDS - t0)) s"
}
if [ -n "$gicv3" ]; then
	# shellcheck disable=SC2086 # a list of case names
	timed "gicv3 L1 run" run_l1 gicv3 $gicv3
	timed "gicv3 checks" check_all_cases "$env_dir"
fi
env_dir=$share/out-gicv2
gicv2=$(only "$GICV2_CASES")
rig arm64 || gicv2=
if [ -n "$gicv2" ]; then
	# shellcheck disable=SC2086
	timed "gicv2 L1 run" run_l1 gicv2 $gicv2
	check_boot_cases "$env_dir"
fi
env_dir=$share/out-x86_64
x86=$(only "$X86_CASES")
rig x86_64 || x86=
if [ -n "$x86" ] && [ "$(uname -m)" = x86_64 ]; then
	# shellcheck disable=SC2086
	timed "x86_64 L1 run" run_l1 x86_64 $x86
	timed "x86_64 checks" check_x86_cases "$env_dir"
elif [ -n "$x86" ]; then
	echo "== the x86_64 rig runs on x86_64 hosts only: skipped ($x86)"
fi
env_dir=$share/out-power_cut
if wanted power_cut && rig arm64; then
	timed "power_cut L1 run" run_power_cut
	check_power_cut "$env_dir"
fi
env_dir=$share/out-rig_hang
if wanted rig_hang && rig arm64; then
	timed "rig_hang L1 runs" run_rig_hang
	check_rig_hang "$env_dir"
fi

if [ "$(uname -m)" = aarch64 ] && [ -w /dev/kvm ] && [ -n "$gicv3" ]; then
	echo "== native KVM on this arm64 host"
	env_dir=$share/out-native
	# shellcheck disable=SC2086
	sh "$here/cases.sh" "$env_dir" "$ICEVMM" "$GUEST/Image" "$GUEST/l2.cpio.gz" $gicv3
	check_all_cases "$env_dir"
fi

# kvm_pvm's /dev/kvm runs no stock guest (icevmm refuses it): the rig only.
if [ "$(uname -m)" = x86_64 ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] &&
	[ -n "$x86" ]; then
	echo "== native KVM on this x86_64 host"
	env_dir=$share/out-native-x86_64
	# shellcheck disable=SC2086
	(cd "$share" && sh "$here/cases.sh" "$env_dir" "$share/icevmm-x86_64" \
		"$share/Image-x86_64" "$share/l2-x86_64.cpio.gz" $x86)
	check_x86_cases "$env_dir"
fi

if [ "$failures" -ne 0 ]; then
	echo "system tests: $failures failure(s)"
	exit 1
fi
echo "system tests: all passed"
