#!/bin/sh
# The demo that `make run` plays, wherever KVM is (natively, or inside the
# nested rig's L1 with busybox sh):
#   1. the default guest (the project's kernel with the virtio_blk ICE series
#      + the project's busybox initramfs) on a guest-programmed ICE disk
#      (vda: `,ice,spec=v4` for Linux 7.3, `,ice` for 6.12): its virtio_blk
#      driver programs the keys fscrypt needs through the control queue (v4)
#      or the key queue (v2); icevmm's summary at exit counts them;
#   2. on arm64 (when DIR has ice-selftest.Image), a second, short run: the
#      bare-metal ICE self-test on two disks of its own, one with the DEMO
#      keys file (host-provisioned) and one guest-programmed whose keys it
#      programs itself.
# Exit status: the first run's (icevmm's own), or 1 if the self-test failed.
#
#   demo.sh DIR MODE CPUS MEM CMDLINE [SPEC]
# DIR holds icevmm, Image, l2.cpio.gz, demo.img, and for the self-test
# ice-selftest.Image, keys.conf (0600), selftest.img and guest.img; MODE is
# shell or demo; SPEC the draft the disk speaks, v4 (the default) or v2.
dir=$1 mode=$2 cpus=$3 mem=$4 cmdline=$5 spec=${6:-v4}
disk="$dir/demo.img,ice,spec=$spec,serial=icevmm-demo"

if [ "$mode" = shell ]; then
	"$dir/icevmm" --kernel "$dir/Image" --initrd "$dir/l2.cpio.gz" --cpus "$cpus" \
		--mem "$mem" --cmdline "$cmdline" --disk "$disk"
else
	"$dir/icevmm" --kernel "$dir/Image" --initrd "$dir/l2.cpio.gz" --cpus "$cpus" \
		--mem "$mem" --cmdline "$cmdline" --disk "$disk" </dev/null
fi
status=$?
[ -f "$dir/ice-selftest.Image" ] || exit "$status"
echo
echo "icevmm demo: the guest ended with status $status; second run: the bare-metal ICE self-test"
echo "icevmm demo: on a disk with the DEMO keys (vda, AES-256-XTS, keys file) and on a"
echo "icevmm demo: guest-programmed one (vdb, VIRTIO_BLK_F_ICE_KEYQ: the self-test loads its own keys)"
"$dir/icevmm" --kernel "$dir/ice-selftest.Image" --mem 64M --timeout 60 \
	--disk "$dir/selftest.img,ice=$dir/keys.conf" --disk "$dir/guest.img,ice" </dev/null
selftest=$?
if [ "$selftest" -ne 0 ]; then
	echo "icevmm demo: the ICE self-test FAILED (icevmm exit status $selftest; 64 + N: N failures)"
	exit 1
fi
echo "icevmm demo: the ICE self-test passed and powered off (PSCI SYSTEM_OFF, status 0)"
exit "$status"
