#!/bin/sh
# dm-inlinecrypt on an ICE disk, with a raw and with a hardware-wrapped key
# (icevmm.mode=script icevmm.script=hwdm; Linux 7.3, a v4 disk). The disks:
#   vda  the ICE disk, 64 MiB: two mappings, each holding an ext4 made on the
#        host (payload ext4.img): "dmraw" on sectors 0..32767 under the raw
#        key raw.key, "dmhw" on 32768..65535 under the wrapped key imported
#        from master.key; the long-term blob in the clear at byte 32 MiB (as
#        Android keeps blobs on a metadata partition)
#   vdb  the payload, read-only: a tar with master.key (32 bytes), raw.key
#        (64 bytes), ext4.img, sha256sums and files/* (tests/system/fbe/prep.py
#        --wrap import, and run-all.sh's hwdm_prep)
#   vdc  the results, raw: this script's report
# hwdm.phase=write: import, prepare, map, copy ext4.img into each mapping,
# mount it, copy the files in. hwdm.phase=read: prepare the stored blob,
# map. Both then mount each mapping, check the files, and report the
# mapping's sha256 after the umount.
# hwdm.phase=plain: vda is a plain disk holding ext4.img: the wrapped key is
# refused by the block layer, dm-inlinecrypt and fscrypt, and the disk has no
# crypto sysfs (blk-crypto-fallback takes no wrapped key).
# Exit status: 0, or the number of the step that failed.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
phase=write
for arg in $(cat /proc/cmdline); do
	case "$arg" in hwdm.phase=*) phase=${arg#hwdm.phase=} ;; esac
done
out=/tmp/report
: >"$out"
say() { echo "$*" >>"$out"; }
step=0
check() { # check WHAT COMMAND...
	step=$((step + 1))
	what=$1
	shift
	if ! "$@" >>/tmp/cmd.log 2>&1; then
		say "HWDM-FAIL $step: $what"
		sed 's/^/  | /' /tmp/cmd.log | tail -n 5 >>"$out"
		finish "$step"
	fi
	: >/tmp/cmd.log
}
finish() {
	say "kernel: $(dmesg | grep -E 'inlinecrypt|device-mapper|virtio_blk|blk-crypto' | tr '\n' '|')"
	say "HWDM-END $1"
	dd if="$out" of=/dev/vdc bs=4096 conv=sync 2>/dev/null
	sync
	exit "$1"
}

mkdir -p /payload /mnt/dm
check "payload" tar -xf /dev/vdb -C /payload
raw_hex=$(od -An -tx1 -v /payload/raw.key | tr -d ' \n')

if [ "$phase" = plain ]; then
	if [ -d /sys/block/vda/queue/crypto ]; then
		say "plain: sysfs crypto: $(ls /sys/block/vda/queue/crypto | tr '\n' ' ')"
	else
		say "plain: sysfs crypto: none"
	fi
	icekey import /dev/vda </payload/master.key >/dev/null 2>/tmp/err &&
		say "plain: import accepted" || say "plain: import refused: $(cat /tmp/err)"
	# Any blob: the refusal comes before anything looks inside it.
	blob=$(echo "$raw_hex" | cut -c1-124)
	echo "$blob" | icekey dm-create dmhw /dev/vda 0 32768 --hw-wrapped >/dev/null 2>/tmp/err &&
		say "plain: dm-inlinecrypt accepted a wrapped key" ||
		say "plain: dm-inlinecrypt refused the wrapped key: $(cat /tmp/err)"
	check "mount -o inlinecrypt" mount -t ext4 -o inlinecrypt /dev/vda /mnt/dm
	echo "$blob" | icefs add-key /mnt/dm --hw-wrapped --hex-stdin >/dev/null 2>/tmp/err &&
		say "plain: fscrypt accepted a wrapped key" ||
		say "plain: fscrypt refused the wrapped key: $(cat /tmp/err)"
	check "umount" umount /mnt/dm
	finish 0
fi

# The long-term blob: made in the write boot, read back in the read boot.
if [ "$phase" = write ]; then
	check "import" sh -c 'icekey import /dev/vda </payload/master.key >/tmp/lt'
	check "store the blob" dd if=/tmp/lt of=/dev/vda bs=4096 seek=8192 count=1 conv=sync,fsync
else
	check "read the blob" sh -c 'dd if=/dev/vda bs=4096 skip=8192 count=1 2>/dev/null |
		tr -d "\000" >/tmp/lt'
fi
check "prepare" sh -c 'icekey prepare /dev/vda </tmp/lt >/tmp/eph'

# map NAME START [--hw-wrapped] <KEY_HEX: a 16 MiB mapping; sets dev.
map() {
	dev=$(icekey dm-create "$@" 2>>/tmp/cmd.log) || check "dm-create $1" false
	say "dm $1: $dev"
}
echo "$raw_hex" >/tmp/raw.hex
map dmraw /dev/vda 0 32768 </tmp/raw.hex
raw_dev=$dev
map dmhw /dev/vda 32768 32768 --hw-wrapped </tmp/eph
hw_dev=$dev
say "sysfs: $(ls /sys/block/vda/queue/crypto | grep '_keys$' | tr '\n' ' ')"

for m in "dmraw $raw_dev" "dmhw $hw_dev"; do
	set -- $m
	if [ "$phase" = write ]; then
		check "$1: ext4 into the mapping" dd if=/payload/ext4.img of="$2" bs=65536 conv=fsync
		check "$1: mount" mount -t ext4 "$2" /mnt/dm
		check "$1: copy the files" cp /payload/files/* /mnt/dm/
		check "$1: umount" umount /mnt/dm
		check "$1: drop caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches'
	fi
	check "$1: mount again" mount -t ext4 "$2" /mnt/dm
	check "$1: sha256 of every file" sh -c "cd /mnt/dm && sha256sum -c /payload/sha256sums"
	check "$1: umount again" umount /mnt/dm
	# What the mapping holds now (each mount rewrites the superblock): the
	# host decrypts the image this boot leaves and compares.
	check "$1: drop caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches'
	say "sha256 $1 $(sha256sum <"$2" | cut -d' ' -f1)"
done
check "dm-remove dmraw" icekey dm-remove dmraw
check "dm-remove dmhw" icekey dm-remove dmhw
finish 0
