#!/usr/bin/env bash
# `make run`: boot the default guest (Debian's arm64 kernel + the project's
# busybox initramfs) with icevmm and show its console. With a terminal on
# stdin the guest gives you a shell (leave with `poweroff` or Ctrl-A x);
# without one (CI) it prints its marker and powers off by itself.
#
# On an arm64 host with a usable /dev/kvm icevmm runs natively. Anywhere else
# it runs inside the nested rig (an arm64 L1 in QEMU TCG), transparently; the
# exit status is icevmm's either way.
#
# Environment: CPUS (default 1), MEM (default 256M), GUEST_CMDLINE (extra
# kernel parameters for the guest).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
GUEST="$CACHE/arm64"
ICEVMM="$root/build/arm64/icevmm"
cpus=${CPUS:-1}
mem=${MEM:-256M}

"$root/tests/system/fetch-guest.sh"
"$root/tests/system/mkinitramfs.sh" l2 "$GUEST/l2.cpio.gz"

mode="test"
[ -t 0 ] && mode="shell"
# The full boot log: under nested emulation each console byte costs a VM exit
# (~14 KB, about 3 s here), which is worth it for a demo; tests use "quiet".
cmdline="console=ttyS0 panic=-1 icevmm.mode=$mode ${GUEST_CMDLINE:-}"

if [ "$(uname -m)" = aarch64 ] && [ -w /dev/kvm ]; then
	exec "$ICEVMM" --kernel "$GUEST/Image" --initrd "$GUEST/l2.cpio.gz" \
		--cpus "$cpus" --mem "$mem" --cmdline "$cmdline"
fi

echo "icevmm: no usable arm64 /dev/kvm here; running inside the nested rig (arm64 L1 in QEMU)" >&2
share=$(mktemp -d "$CACHE/run-share.XXXXXX")
trap 'rm -rf "$share"' EXIT
cp "$ICEVMM" "$GUEST/Image" "$GUEST/l2.cpio.gz" "$share/"
cat >"$share/job.sh" <<JOB
/host/icevmm --kernel /host/Image --initrd /host/l2.cpio.gz --cpus $cpus --mem $mem \
	--cmdline "$cmdline"
JOB
interactive=()
[ "$mode" = shell ] && interactive=(--interactive)
rc=0
"$root/tests/system/run-l1.sh" "${interactive[@]}" "$share" || rc=$?
exit "$rc"
