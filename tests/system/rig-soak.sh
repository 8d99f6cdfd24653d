#!/usr/bin/env bash
# Soak the nested rig: boot Debian's stock kernel (the rig's L2) with icevmm
# again and again inside one L1, in several L1s one after the other, and count
# what went wrong. The reproducer for rig hangs (docs/RIG.md has the numbers).
#
#   rig-soak.sh [--l1s N] [--boots N] [--verbose] [--only KIND]
#
# --l1s N      L1 boots, one after the other (default 3)
# --boots N    L2 boots in each L1 (default 30)
# --verbose    L2 prints its whole boot log (no `quiet`; a CI user's guest does,
#              and under QEMU 7.2 that hung more often)
# --only KIND  boot only this kind (default: each in turn)
#
# The L2 boots cycle through the kinds the system cases use: boot1 (1 vCPU,
# power-off: status 0), boot2 (2 vCPUs: 0), reset (i8042 or PSCI: 3), and on
# x86_64 reset_triple (triple fault: 3) and highmem (4.5 GiB of RAM, the
# script: 64). Each boot has --timeout 120: a stalled L2 ends with status 4.
# A hung L1 (run-l1.sh: no heartbeat for 90 s, or a soft lockup of 100 s) is
# killed and booted again, and its job resumes after the boot that hung it.
#
# Environment: RIG_ARCH (x86_64, the default here, or arm64), RIG_QEMU
# (run-l1.sh; RIG_QEMU=qemu-system-x86_64 is bookworm's QEMU 7.2) and
# RIG_APPEND (more L1 kernel parameters, module parameters too: an x86_64 L1
# boots with kvm_amd.vgif=0, and RIG_APPEND=kvm_amd.vgif=1 turns vGIF on).
# Prints one line per L1 and a summary; exits 1 if anything went wrong. Keeps
# in build/rig-soak/ each L1's results (boot, kind, status, L1 uptime at start
# and end), the log of every boot that went wrong and the console of every L1
# that hung.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
export RIG_ARCH=${RIG_ARCH:-x86_64}

usage() {
	echo "usage: $0 [--l1s N] [--boots N] [--verbose] [--only KIND]" >&2
	exit 2
}
l1s=3 boots=30 quiet=quiet only=
while [ $# -gt 0 ]; do
	case "$1" in
	--l1s | --boots | --only)
		[ $# -ge 2 ] || usage
		case "$1" in
		--l1s) l1s=$2 ;;
		--boots) boots=$2 ;;
		--only) only=$2 ;;
		esac
		shift 2
		;;
	--verbose)
		quiet=
		shift
		;;
	*) usage ;;
	esac
done
case "$l1s$boots" in '' | *[!0-9]*) usage ;; esac
case "$RIG_ARCH" in
x86_64)
	icevmm=$root/build/x86_64/icevmm
	console=ttyS0
	kinds="boot1 boot2 reset reset_triple highmem"
	qemu="QEMU ${RIG_QEMU:-10 (scripts/rig-qemu.sh)}"
	;;
arm64)
	icevmm=$root/build/arm64/icevmm
	console=ttyAMA0
	kinds="boot1 boot2 reset"
	qemu="QEMU ${RIG_QEMU:-qemu-system-aarch64}"
	;;
*) usage ;;
esac
case " $kinds " in
*" ${only:-boot1} "*) kinds=${only:-$kinds} ;;
*) usage ;;
esac
[ -x "$icevmm" ] || {
	echo "rig-soak: $icevmm is missing: make ARCH=$RIG_ARCH first" >&2
	exit 2
}
"$here/fetch-guest.sh"
"$here/mkinitramfs.sh" l2 "$CACHE/$RIG_ARCH/l2.cpio.gz"

share=$(mktemp -d "$CACHE/rig-soak.XXXXXX")
trap 'rm -rf "$share"' EXIT
cp "$icevmm" "$share/icevmm"
cp "$CACHE/$RIG_ARCH/Image" "$share/Image"
cp "$CACHE/$RIG_ARCH/l2.cpio.gz" "$share/l2.cpio.gz"

# The job in L1 (busybox sh). It resumes: a boot recorded in results is not
# run again, and one that was started but not recorded hung the L1 before.
cat >"$share/job.sh" <<EOF
out=/host/out
mkdir -p \$out
if [ -f \$out/current ]; then
	echo "\$(cat \$out/current) l1-hung -" >>\$out/results
	rm -f \$out/current
fi
i=\$(cat \$out/results 2>/dev/null | wc -l)
set -- $kinds
while [ \$i -lt $boots ]; do
	n=\$((i % \$# + 1))
	eval kind=\\\${\$n}
	opts="--cpus 1 --mem 256M"
	extra=
	case \$kind in
	boot2) opts="--cpus 2 --mem 256M" ;;
	reset) extra="icevmm.mode=reboot" ;;
	reset_triple) extra="icevmm.mode=reboot reboot=t" ;;
	highmem) opts="--cpus 1 --mem 4608M" extra="icevmm.mode=script icevmm.script=highmem" ;;
	esac
	echo "\$i \$kind" >\$out/current
	read -r t0 _ </proc/uptime
	/host/icevmm --kernel /host/Image --initrd /host/l2.cpio.gz \$opts --timeout 120 \\
		--cmdline "console=$console $quiet panic=-1 \$extra" </dev/null >\$out/boot-\$i.log 2>&1
	st=\$?
	read -r t1 _ </proc/uptime
	echo "\$i \$kind \$st \$t0 \$t1" >>\$out/results
	rm -f \$out/current
	i=\$((i + 1))
done
EOF

want() { # the status a kind ends with when all is well
	case $1 in
	reset | reset_triple) echo 3 ;;
	highmem) echo 64 ;;
	*) echo 0 ;;
	esac
}

total=0 bad=0 l1hung=0 stalled=0 wrong=0
rm -rf "$root/build/rig-soak"
mkdir -p "$root/build/rig-soak"
l1args=${RIG_APPEND:-}
[ "$RIG_ARCH" != x86_64 ] || l1args="kvm_amd.vgif=0${l1args:+ $l1args}"
echo "== rig-soak: $RIG_ARCH, $l1s L1s x $boots boots of $kinds${quiet:+, quiet}, $qemu${l1args:+, L1 with $l1args}"
for l in $(seq 1 "$l1s"); do
	rm -rf "$share/out"
	t0=$SECONDS
	rc=0
	# Every hang reboots L1 (at most one per boot, and a few spare); each
	# L1 boot may take as long as all its boots' --timeout.
	RIG_ATTEMPTS=$((boots + 2)) RIG_TIMEOUT=$((boots * 120 + 120)) "$here/run-l1.sh" "$share" >"$share/l1.console" 2>&1 || rc=$?
	# A boot started and never recorded, with no L1 after it: L1 died in it.
	if [ -f "$share/out/current" ]; then
		echo "$(cat "$share/out/current") l1-died - -" >>"$share/out/results"
	fi
	n=0 h=0 s=0 w=0
	while read -r i kind st _; do
		n=$((n + 1))
		case $st in
		l1-hung | l1-died) h=$((h + 1)) ;;
		4) s=$((s + 1)) ;;
		"$(want "$kind")") continue ;;
		*) w=$((w + 1)) ;;
		esac
		echo "   L1 $l boot $i ($kind): $st"
		if [ "$st" != l1-hung ] && [ "$st" != l1-died ]; then
			cp "$share/out/boot-$i.log" "$root/build/rig-soak/L1-$l-boot-$i-$kind.log"
		fi
	done < <(cat "$share/out/results" 2>/dev/null)
	# Every boot's kind, status and L1 uptime at its start and end.
	cp "$share/out/results" "$root/build/rig-soak/L1-$l.results" 2>/dev/null || true
	if [ "$h" -gt 0 ] || [ "$rc" -ne 0 ]; then
		cp "$share/l1.console" "$root/build/rig-soak/L1-$l.console"
	fi
	echo "L1 $l: $n boots, $h L1 hangs or deaths, $s L2 stalls (--timeout), $w other wrong statuses; job status $rc; $((SECONDS - t0)) s"
	total=$((total + n)) l1hung=$((l1hung + h)) stalled=$((stalled + s)) wrong=$((wrong + w))
	[ "$rc" -eq 0 ] || bad=$((bad + 1))
done
echo "rig-soak: $total boots: $l1hung L1 hangs or deaths, $stalled L2 stalls, $wrong wrong statuses, $bad L1 jobs failed"
[ $((l1hung + stalled + wrong + bad)) -eq 0 ]
