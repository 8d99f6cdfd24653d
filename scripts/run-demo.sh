#!/usr/bin/env bash
# `make run`: boot the default guest (the project's kernel with the
# virtio_blk ICE series, make guest-kernel, + the project's busybox
# initramfs) with icevmm on a guest-programmed ICE disk and show its console;
# on arm64 then boot the ICE self-test on two disks of its own
# (scripts/demo.sh). With a terminal on stdin the guest gives you a shell
# (leave with `poweroff` or Ctrl-A x); without one (CI) it runs the FBE demo
# (an encrypted directory with -o inlinecrypt) and powers off by itself.
#
#   run-demo.sh [arm64|x86_64]    the guest's architecture (default: the host's)
#
# On a host of that architecture with a usable /dev/kvm icevmm runs natively.
# Anywhere else it runs inside the nested rig (an L1 of that architecture in
# QEMU TCG), transparently; the exit status is icevmm's either way.
#
# Environment: CPUS (default 1), MEM (default 256M), GUEST_CMDLINE (extra
# kernel parameters for the guest).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
host_arch=$(uname -m | sed -e 's/aarch64/arm64/')
arch=${1:-$host_arch}
case "$arch" in
arm64 | x86_64) ;;
*)
	echo "usage: $0 [arm64|x86_64]" >&2
	exit 2
	;;
esac
export RIG_ARCH=$arch
GUEST="$CACHE/$arch"
cpus=${CPUS:-1}
mem=${MEM:-256M}

"$root/tests/system/fetch-guest.sh"
# Linux 7.3's driver speaks the v4 draft, 6.12's the v2 one.
export GUEST_KERNEL=${GUEST_KERNEL:-7.3}
spec=v4
[ "$GUEST_KERNEL" = 7.3 ] || spec=v2
"$root/scripts/guest-kernel.sh" "$arch" >&2
kernel=$("$root/scripts/guest-kernel.sh" --print-path "$arch")
# Everything is built into that kernel: an initramfs without modules.
"$root/tests/system/mkinitramfs.sh" l2 "$GUEST/fbe.cpio.gz" --modules ""

mode="demo"
[ -t 0 ] && mode="shell"
# The full boot log: under nested emulation each console byte costs a VM exit
# (~14 KB, about 3 s here), which is worth it for a demo; tests use "quiet".
cmdline="console=ttyS0 panic=-1 icevmm.mode=$mode ${GUEST_CMDLINE:-}"

# Everything the demo needs in one directory: shared into L1 over 9p, or used
# in place natively. The disk is fresh each time; the keys are the published
# DEMO keys of the self-test (tests/system/ice-selftest/keys.conf), chmod 600.
dir=$(mktemp -d "$CACHE/run-share.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$root/build/$arch/icevmm" "$here/demo.sh" "$dir/"
# The bare-metal self-test is an arm64 program.
[ "$arch" != arm64 ] || cp "$root/build/firmware/ice-selftest.Image" "$dir/"
cp "$kernel" "$dir/Image"
cp "$GUEST/fbe.cpio.gz" "$dir/l2.cpio.gz"
install -m 600 "$root/tests/system/ice-selftest/keys.conf" "$dir/keys.conf"
# The guest's disk: ext4 ready for fscrypt (4 KiB blocks, the ICE's logical block).
mkfs.ext4 -q -F -b 4096 -O encrypt,stable_inodes "$dir/demo.img" 64M
# The self-test's disks: host-provisioned (DEMO keys) and guest-programmed.
head -c $((1 << 20)) /dev/zero >"$dir/selftest.img"
head -c $((1 << 20)) /dev/zero >"$dir/guest.img"

rc=0
# kvm_pvm's /dev/kvm cannot run a stock guest (icevmm refuses it, README.md).
if [ "$host_arch" = "$arch" ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then
	sh "$dir/demo.sh" "$dir" "$mode" "$cpus" "$mem" "$cmdline" "$spec" || rc=$?
	exit "$rc"
fi

echo "icevmm: no usable $arch /dev/kvm here; running inside the nested rig ($arch L1 in QEMU)" >&2
# In L1 the disk lives in tmpfs (v9fs has no fallocate).
cat >"$dir/job.sh" <<JOB
mkdir -p /tmp/demo && cp /host/* /tmp/demo/ && chmod 600 /tmp/demo/keys.conf
sh /tmp/demo/demo.sh /tmp/demo $mode $cpus $mem "$cmdline" $spec
JOB
interactive=()
[ "$mode" = shell ] && interactive=(--interactive)
"$root/tests/system/run-l1.sh" "${interactive[@]}" "$dir" || rc=$?
exit "$rc"
