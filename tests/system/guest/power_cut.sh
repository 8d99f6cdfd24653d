#!/bin/sh
# In-guest half of the power-cut test (runs in L2 as /tests/power_cut.sh,
# busybox sh). vda: L1's own disk, raw; vdb: 4 MiB of the host's random bytes.
# Copies vdb onto vda at 3 MiB and fsyncs vda: fsync on a block device sends
# a FLUSH (sync(2) alone would not: in Linux 6.1 it writes a raw block
# device's pages but flushes only filesystems). Then says so and waits to be
# killed, with vda still open in icevmm: when a block device's last user
# closes it, L1 writes its dirty pages back, which would hide a FLUSH that did
# nothing. The host checks the bytes in the file behind L1's disk.
if ! dd if=/dev/vdb of=/dev/vda bs=1048576 seek=3 count=4 conv=fsync 2>/tmp/err; then
	echo "power-cut: dd onto vda failed"
	cat /tmp/err
	exit 1
fi
echo "POWER-CUT-SYNCED"
while :; do
	sleep 3600
done
