#!/usr/bin/env bash
# Boot the L1 VM, a Linux in QEMU TCG that has a /dev/kvm: arm64 with emulated
# EL2 (the default), or with RIG_ARCH=x86_64 amd64 on a CPU model with AMD SVM
# (TCG emulates SVM, not Intel VMX), where L1 loads kvm_amd.  SHARE_DIR is
# mounted in L1 at /host (9p); L1's init runs /host/job.sh there and writes
# its exit status to SHARE_DIR/job.status.
#
#   run-l1.sh [--gic 2|3] [--smp N] [--disk FILE] [--kill-on FILE] [--interactive] SHARE_DIR
#
# --gic           arm64 only
# --disk FILE     a raw disk for L1 (its /dev/vda), backed by the host's FILE
# --kill-on FILE  kill QEMU with SIGKILL as soon as FILE exists (the
#                 power-cut test: L1 writes FILE into the share); then exit 0
#
# Exits with the job's status, or 125 if L1 never recorded one (QEMU's own
# exit status says nothing about what happened inside L1).
# Environment: RIG_TIMEOUT  seconds before QEMU is killed (default 600,
#                           3600 with --interactive)
#              RIG_APPEND   extra L1 kernel parameters (e.g. kvm-arm.mode=nvhe),
#                           module parameters too (init-l1.sh); x86_64 L1s
#                           boot with kvm_amd.vgif=0 before it (docs/RIG.md),
#                           so RIG_APPEND=kvm_amd.vgif=1 turns vGIF back on
#              RIG_QEMU     the QEMU binary (default: arm64 qemu-system-aarch64,
#                           x86_64 the backported one of scripts/rig-qemu.sh;
#                           RIG_QEMU=qemu-system-x86_64 is bookworm's 7.2)
#              RIG_HEARTBEAT seconds between L1's heartbeats (default 10); a
#                           heartbeat 9 times that late, or an L1 soft lockup of
#                           100 s, counts as a hung L1: killed and booted again
#                           (not with --interactive or --kill-on), the same job
#                           in the same share (a job that resumes, as
#                           cases.sh does, goes on where the hang stopped it)
#              RIG_ATTEMPTS L1 boots at most, hangs included (default 2)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
RIG_ARCH=${RIG_ARCH:-arm64}
export RIG_ARCH
GUEST="$CACHE/$RIG_ARCH"

usage() {
	echo "usage: $0 [--gic 2|3] [--smp N] [--disk FILE] [--kill-on FILE] [--interactive] SHARE_DIR" >&2
	exit 2
}

gic=3
smp=2
interactive=0
share=
disk=
kill_on=
while [ $# -gt 0 ]; do
	case "$1" in
	--gic)
		[ $# -ge 2 ] || usage
		gic=$2
		shift 2
		;;
	--smp)
		[ $# -ge 2 ] || usage
		smp=$2
		shift 2
		;;
	--disk)
		[ $# -ge 2 ] || usage
		disk=$2
		shift 2
		;;
	--kill-on)
		[ $# -ge 2 ] || usage
		kill_on=$2
		shift 2
		;;
	--interactive)
		interactive=1
		shift
		;;
	-*) usage ;;
	*)
		[ -z "$share" ] || usage
		share=$1
		shift
		;;
	esac
done
[ -n "$share" ] || usage
case "$gic" in 2 | 3) ;; *) usage ;; esac
case "$smp" in '' | *[!0-9]*) usage ;; esac
if [ ! -d "$share" ]; then
	echo "run-l1: $share is not a directory" >&2
	exit 2
fi
share=$(cd "$share" && pwd)
if [ -n "$disk" ] && [ ! -f "$disk" ]; then
	echo "run-l1: --disk $disk is not a file" >&2
	exit 2
fi
if [ -n "$kill_on" ] && [ "$interactive" -eq 1 ]; then
	usage
fi

# One QEMU at a time: on a 2-core machine two TCG guests double every
# timing, so concurrent callers (make -j) queue on this lock.
mkdir -p "$CACHE"
exec 9>"$CACHE/qemu.lock"
if ! flock -n 9; then
	echo "run-l1: waiting for another QEMU run to finish" >&2
	flock 9
fi

# Both are no-ops when the kernel and image are already up to date. Under
# the lock: the L1 image is shared, and the run that built it boots it.
"$here/fetch-guest.sh"
"$here/mkinitramfs.sh" l1 "$GUEST/l1.cpio.gz"

# A status left over from an earlier run must not be mistaken for this one's.
rm -f "$share/job.status"

# A non-interactive L1 touches SHARE_DIR/.l1-alive every HEARTBEAT_S seconds
# (init-l1.sh); the watcher below takes a stale one for a hung L1.
HEARTBEAT_S=${RIG_HEARTBEAT:-10}
beat=
[ "$interactive" -eq 1 ] || [ -n "$kill_on" ] || beat="icevmm.heartbeat=$HEARTBEAT_S"

case "$RIG_ARCH" in
arm64)
	qemu=(
		"${RIG_QEMU:-qemu-system-aarch64}"
		# virtualization=on emulates EL2, which is what gives L1 a /dev/kvm.
		-M "virt,virtualization=on,gic-version=$gic"
		# Emulating pointer authentication makes TCG ~3.5x slower.
		-cpu "max,pauth=off"
	)
	console=ttyAMA0
	;;
x86_64)
	# QEMU 10 from bookworm-backports (scripts/rig-qemu.sh): bookworm's 7.2
	# hangs now and then running a nested guest on its emulated SVM.
	# Its own data directory, then bookworm's SeaBIOS.
	qdir=$("$here/../../scripts/rig-qemu.sh" --print-dir)
	if [ -n "${RIG_QEMU:-}" ]; then
		qemu=("$RIG_QEMU")
	elif [ -x "$qdir/usr/bin/qemu-system-x86_64" ]; then
		qemu=("$qdir/usr/bin/qemu-system-x86_64" -L "$qdir/usr/share/qemu" -L /usr/share/seabios)
	else
		echo "run-l1: no QEMU 10 in $qdir (scripts/rig-qemu.sh): bookworm's 7.2 runs this L1, and may hang (docs/RIG.md)" >&2
		qemu=(qemu-system-x86_64)
	fi
	# +svm: AMD's virtualization extensions, which kvm_amd in L1 uses.
	qemu+=(-M q35 -cpu max,+svm)
	console=ttyS0
	# No virtual GIF for L2: L1's KVM then intercepts STGI/CLGI itself
	# instead of relying on TCG's emulation of vGIF, and 300 soak boots
	# ran without a hang or stall (docs/RIG.md, "Measuring hangs").
	arch_append=kvm_amd.vgif=0
	;;
*)
	echo "run-l1: RIG_ARCH=$RIG_ARCH: arm64 or x86_64" >&2
	exit 2
	;;
esac
qemu+=(
	-smp "$smp" -m 2048
	-accel "tcg,thread=multi"
	-no-reboot -nic none -display none -monitor none
	-kernel "$GUEST/Image"
	-initrd "$GUEST/l1.cpio.gz"
	# panic=-1: a panic reboots, and -no-reboot turns that into an exit.
	-append "console=$console rdinit=/init quiet panic=-1 $beat ${arch_append:-} ${RIG_APPEND:-}"
	-virtfs "local,path=$share,mount_tag=host,security_model=none,id=host"
)
if [ -n "$disk" ]; then
	# cache=writeback (QEMU's default, spelled out): L1 sees a volatile
	# write cache and sends FLUSH; each write L1 completes has been
	# pwrite()n to FILE, so it survives a SIGKILL of QEMU (the host's page
	# cache is not lost) — what L1 kept in its own page cache does not.
	# virtio-pci like the 9p share, so L1 needs only virtio_blk on top.
	drive="file=$disk,format=raw,if=none,id=d0,cache=writeback"
	qemu+=(-drive "$drive" -device "virtio-blk-pci,drive=d0")
fi

limit=${RIG_TIMEOUT:-600}
[ "$interactive" -eq 0 ] || limit=${RIG_TIMEOUT:-3600}
start=$(date +%s.%N)
rc=0
killed=0
if [ -n "$kill_on" ]; then
	# No timeout(1) here: the SIGKILL must reach QEMU itself.
	rm -f "$kill_on"
	"${qemu[@]}" -serial stdio </dev/null &
	qpid=$!
	deadline=$((SECONDS + limit))
	while kill -0 "$qpid" 2>/dev/null; do
		if [ -e "$kill_on" ]; then
			kill -KILL "$qpid"
			killed=1
			break
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			kill -KILL "$qpid"
			break
		fi
		sleep 0.02
	done
	wait "$qpid" || rc=$?
	[ "$killed" -eq 1 ] || [ "$SECONDS" -lt "$deadline" ] || rc=124
elif [ "$interactive" -eq 1 ]; then
	# No -nographic: its monitor mux would eat Ctrl-A, which must reach
	# icevmm's own escape handling in L1.  signal=off passes Ctrl-C to the
	# guest instead of killing QEMU.  --foreground keeps QEMU in the
	# terminal's foreground process group so it may read the terminal.
	timeout --foreground "$limit" "${qemu[@]}" \
		-chardev stdio,id=con,signal=off -serial chardev:con || rc=$?
else
	# A hung L1 does not recover: seen with the x86_64 L1 under bookworm's
	# QEMU 7.2 (TCG with nested SVM), a few times in ten runs, with and
	# without load on the host — its kernel reports a soft lockup, or the whole L1 stops, its
	# heartbeat included. Either way: stop it at once and boot it again,
	# rather than wait for the timeout. The same job runs again in the same
	# share: one that resumes (cases.sh) goes on at the case that hung.
	# QEMU 10, which runs the x86_64 rig now, has not (docs/RIG.md).
	stale=$((HEARTBEAT_S * 9))
	attempts=${RIG_ATTEMPTS:-2}
	case "$attempts" in '' | *[!0-9]* | 0)
		echo "run-l1: RIG_ATTEMPTS=$attempts: a number of L1 boots, 1 or more" >&2
		exit 2
		;;
	esac
	for attempt in $(seq 1 "$attempts"); do
		rm -f "$share/job.status" "$share/.l1-hung"
		touch "$share/.l1-alive" # from the boot on, until L1's init takes over
		set +o pipefail
		timeout "$limit" "${qemu[@]}" -serial stdio </dev/null 2>&1 |
			while :; do
				r=0
				IFS= read -r -t 5 line || r=$?
				if [ "$r" -gt 128 ]; then
					# A line still being written: keep what came so far.
					[ -z "$line" ] || printf '%s' "$line"
					age=$(($(date +%s) - $(stat -c %Y "$share/.l1-alive" 2>/dev/null || date +%s)))
					[ "$age" -ge "$stale" ] || continue
					echo "run-l1: no heartbeat from L1 for $age s" >&2
					: >"$share/.l1-hung"
					pkill -KILL -f -- "-initrd $GUEST/l1.cpio.gz" || true
					break
				fi
				[ "$r" -eq 0 ] || { [ -z "$line" ] || printf '%s\n' "$line"; break; }
				case "$line" in
				*"soft lockup - CPU#"*"stuck for "[1-9][0-9][0-9]s*)
					if [ ! -e "$share/.l1-hung" ]; then
						: >"$share/.l1-hung"
						pkill -KILL -f -- "-initrd $GUEST/l1.cpio.gz" || true
					fi
					;;
				esac
				printf '%s\n' "$line"
			done
		rc=${PIPESTATUS[0]}
		set -o pipefail
		[ -e "$share/.l1-hung" ] || break
		echo "run-l1: L1 hung; attempt $attempt of $attempts" >&2
	done
	rm -f "$share/.l1-alive"
	rm -f "$share/.l1-hung"
fi
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

if [ "$killed" -eq 1 ]; then
	echo "run-l1: $kill_on appeared: QEMU killed with SIGKILL after ${secs} s" >&2
	exit 0
fi

if [ ! -f "$share/job.status" ]; then
	why="QEMU exited with status $rc"
	[ "$rc" -ne 124 ] || why="QEMU killed after $limit s, see RIG_TIMEOUT"
	echo "run-l1: L1 wrote no job.status ($why, ${secs} s)" >&2
	exit 125
fi
status=$(tr -dc 0-9 <"$share/job.status")
echo "run-l1: job status ${status:-?} after ${secs} s" >&2
exit "${status:-125}"
