#!/bin/sh
# FBE workload of the system tests (icevmm.mode=script icevmm.script=fbe), on
# the project's guest kernel. The disks:
#   vda  the filesystem under test (made on the host: mkfs.ext4 / mkfs.f2fs)
#   vdb  the payload, read-only: a tar with fbe.params, master.key, sha256sums
#        and files/* (tests/system/fbe/prep.py)
#   vdc  the results, raw: this script writes its report there as text
# fbe.phase=write (default): mount with -o inlinecrypt, add the master key,
# set a v2 policy on /mnt/fs/enc, copy the files in (frag in two halves with
# another file in between: two extents), sync, and report each file's
# inode, nonce and extents (the host recomputes their ciphertext).
# fbe.phase=read: mount again, add the key, and check every file's sha256.
# The report also carries the kernel's fscrypt / blk-crypto lines and the
# disk's crypto sysfs. Exit status: 0, or the number of the step that failed.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
phase=write
for arg in $(cat /proc/cmdline); do
	case "$arg" in fbe.phase=*) phase=${arg#fbe.phase=} ;; esac
done
out=/tmp/report
: >"$out"
say() { echo "$*" >>"$out"; }
step=0
# check WHAT COMMAND...: run it; on failure report and stop with the step number.
check() {
	step=$((step + 1))
	what=$1
	shift
	if ! "$@" >>/tmp/cmd.log 2>&1; then
		say "FBE-FAIL $step: $what"
		sed 's/^/  | /' /tmp/cmd.log | tail -n 5 >>"$out"
		finish "$step"
	fi
	: >/tmp/cmd.log
}
finish() {
	say "kernel: $(dmesg | grep -E 'fscrypt|blk-crypto|virtio_blk|inline' | tr '\n' '|')"
	if [ -d /sys/block/vda/queue/crypto ]; then
		say "crypto: num_keyslots=$(cat /sys/block/vda/queue/crypto/num_keyslots)" \
			"max_dun_bits=$(cat /sys/block/vda/queue/crypto/max_dun_bits)" \
			"modes=$(ls /sys/block/vda/queue/crypto/modes | tr '\n' ',')"
	else
		say "crypto: none"
	fi
	say "FBE-END $1"
	# The report, then the end of it: the host reads up to the first NUL.
	dd if="$out" of=/dev/vdc bs=4096 conv=sync 2>/dev/null
	sync
	umount /mnt/fs 2>/dev/null
	exit "$1"
}

mkdir -p /payload /mnt/fs
check "payload" tar -xf /dev/vdb -C /payload
. /payload/fbe.params
opts=inlinecrypt
# f2fs's garbage collector would move blocks after the extents were reported.
[ "$FSTYPE" = f2fs ] && opts=inlinecrypt,background_gc=off
# Mount and add the master key (a filesystem's keyring goes with its mount).
mount_fs() {
	check "mount -o $opts" mount -t "$FSTYPE" -o "$opts" /dev/vda /mnt/fs
	keyid=$(icefs add-key /mnt/fs </payload/master.key) || {
		say "FBE-FAIL add-key"
		finish 90
	}
}
mount_fs
say "keyid: $keyid"

if [ "$phase" = write ]; then
	flags=
	[ "$POLICY" != default ] && flags="--flags $POLICY"
	check "mkdir" mkdir /mnt/fs/enc
	# shellcheck disable=SC2086 # flags is two words or none
	check "set-policy" icefs set-policy /mnt/fs/enc "$keyid" --contents "$CONTENTS" \
		--filenames "$FILENAMES" $flags
	for f in $FILES; do
		[ "$f" = frag ] && continue
		check "copy $f" cp "/payload/files/$f" "/mnt/fs/enc/$f"
	done
	# frag: its first half, synced (so allocated); another file in the same
	# directory, synced (so right behind it); then the second half.
	check "frag, first half" dd if=/payload/files/frag of=/mnt/fs/enc/frag bs=4096 count=64
	check "sync" sync
	check "spacer" dd if=/dev/zero of=/mnt/fs/enc/spacer bs=4096 count=64
	check "sync" sync
	check "frag, second half" dd if=/payload/files/frag of=/mnt/fs/enc/frag bs=4096 \
		skip=64 seek=64 conv=notrunc
	check "sync" sync
	for f in $FILES; do
		p=/mnt/fs/enc/$f
		say "file $f ino $(icefs ino "$p") nonce $(icefs nonce "$p") size $(stat -c %s "$p")"
		icefs extents "$p" | sed "s/^/extent $f /" >>"$out"
	done
fi
check "sha256 of every file" sh -c "cd /mnt/fs/enc && sha256sum -c /payload/sha256sums"
check "umount" umount /mnt/fs
finish 0
