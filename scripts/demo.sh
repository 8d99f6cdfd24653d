#!/bin/sh
# The demo that `make run` plays, wherever KVM is (natively, or inside the
# nested rig's L1 with busybox sh):
#   1. the default guest (Debian's kernel + the project's busybox initramfs)
#      with an ICE disk (vda) whose keyslots come from the DEMO keys file;
#   2. a second, short run: the bare-metal ICE self-test on the same disk,
#      and on a second, guest-programmed disk (`,ice`: no keys file) whose
#      keys the self-test programs itself through the key queue.
# Exit status: the first run's (icevmm's own), or 1 if the self-test failed.
#
#   demo.sh DIR MODE CPUS MEM CMDLINE
# DIR holds icevmm, Image, l2.cpio.gz, ice-selftest.Image, keys.conf (0600)
# demo.img and guest.img; MODE is shell or test.
dir=$1 mode=$2 cpus=$3 mem=$4 cmdline=$5
disk="$dir/demo.img,ice=$dir/keys.conf,serial=icevmm-demo"

if [ "$mode" = shell ]; then
	"$dir/icevmm" --kernel "$dir/Image" --initrd "$dir/l2.cpio.gz" --cpus "$cpus" \
		--mem "$mem" --cmdline "$cmdline" --disk "$disk"
else
	"$dir/icevmm" --kernel "$dir/Image" --initrd "$dir/l2.cpio.gz" --cpus "$cpus" \
		--mem "$mem" --cmdline "$cmdline" --disk "$disk" </dev/null
fi
status=$?
echo
echo "icevmm demo: the guest ended with status $status; second run: the bare-metal ICE self-test"
echo "icevmm demo: on the same disk (vda, VIRTIO_BLK_F_ICE, AES-256-XTS, DEMO keys) and on a"
echo "icevmm demo: guest-programmed one (vdb, VIRTIO_BLK_F_ICE_KEYQ: the self-test loads its own keys)"
"$dir/icevmm" --kernel "$dir/ice-selftest.Image" --mem 64M --timeout 60 --disk "$disk" \
	--disk "$dir/guest.img,ice" </dev/null
selftest=$?
if [ "$selftest" -ne 0 ]; then
	echo "icevmm demo: the ICE self-test FAILED (icevmm exit status $selftest; 64 + N: N failures)"
	exit 1
fi
echo "icevmm demo: the ICE self-test passed and powered off (PSCI SYSTEM_OFF, status 0)"
exit "$status"
