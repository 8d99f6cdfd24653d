#!/bin/sh
# shellcheck disable=SC2016 # the sh -c snippets expand in the child
# In-guest virtio-blk test (runs in L2 as /tests/blk.sh, busybox sh).
# vda: read-write ext4 with data.bin + data.sha256; vdb: read-only ext4 with
# ro.bin + ro.sha256. Exit status = the first failed step (0: all passed);
# init reports it through debug-exit. Every step prints one line.
step=0
check() { # check DESCRIPTION COMMAND...
	step=$((step + 1))
	desc=$1
	shift
	if "$@" >/tmp/out 2>&1; then
		echo "blk-test ok $step: $desc"
	else
		echo "blk-test FAIL $step: $desc"
		sed 's/^/    /' /tmp/out
		exit "$step"
	fi
}
mkdir -p /mnt/rw /mnt/ro
check "vda serial is icevmm-test-rw (GET_ID)" grep -qx icevmm-test-rw /sys/block/vda/serial
check "vda is writable, vdb read-only" sh -c '[ "$(cat /sys/block/vda/ro)" = 0 ] && [ "$(cat /sys/block/vdb/ro)" = 1 ]'
check "mount vda (ext4)" mount -t ext4 /dev/vda /mnt/rw
check "vda: data.bin checksum" sh -c 'cd /mnt/rw && sha256sum -c data.sha256'
check "vda: write new.bin + checksum" sh -c 'head -c 3145728 /dev/urandom >/mnt/rw/new.bin && cd /mnt/rw && sha256sum new.bin >new.sha256'
check "vda: remove data.bin (fstrim gets something to free)" rm /mnt/rw/data.bin
check "sync" sync
check "fstrim vda" fstrim -v /mnt/rw
check "vda: new.bin reads back after drop_caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches && cd /mnt/rw && sha256sum -c new.sha256'
check "umount vda" umount /mnt/rw
check "mount vdb read-only" mount -t ext4 -o ro /dev/vdb /mnt/ro
check "vdb: ro.bin checksum" sh -c 'cd /mnt/ro && sha256sum -c ro.sha256'
check "vdb: writing the block device fails" sh -c '! dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null'
check "vdb: creating a file fails" sh -c '! touch /mnt/ro/x 2>/dev/null'
check "umount vdb" umount /mnt/ro
exit 0
