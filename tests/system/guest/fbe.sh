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
# EXTRA (fbe.params) adds steps to the write phase:
#   two_writers  copy the files from two processes at once (run with 2 vCPUs)
#   split        max_sectors_kb 6 on vda: 8 KiB writes and reads of "split"
#   freeze       suspend-to-idle with pm_test=devices (the device is reset and
#                the driver reprograms its keys), then read every file back
#                from the disk
#   freeze_io    the same while a writer copies files into the directory:
#                the files it wrote before, across and after the reset read
#                back intact
#   recover      first, a write whose key's PROGRAM the device never answers
#                (icevmm's fault=lose-program, write phase only): it fails after
#                the driver's 30 s wait, the driver resets the device, and
#                everything after it works; with fault=break-queue the PROGRAM
#                completes on a broken ring and the write fails at once
#                (reported: "recover_time: START END", /proc/uptime)
#   stale        after freeze, under fault=fail-reprogram (the device refused
#                the key the driver restored): reads of the files fail, then
#                removing the key and adding it again programs it anew
#   remove_key   at the end, remove the master key: the files' contents must
#                become unreadable (icevmm counts the EVICT)
#   hw_more      (with WRAP) refusals, a generated and a raw key beside the
#                wrapped one (tests/system/guest/fbe-hw.sh), in both phases
#   throughput   sequential 4 KiB-block writes (then fsync) and reads (after
#                drop_caches) of 32 MiB, encrypted and not: "throughput:" lines
# WRAP='import': the master key is a hardware-wrapped key's raw key, imported
# and prepared on the v4 disk (fbe-hw.sh).
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
	# The feature bits the driver accepted, bit 0 first
	say "features: $(cat /sys/block/vda/device/features 2>/dev/null)"
	if [ -d /sys/block/vda/queue/crypto ]; then
		say "crypto: num_keyslots=$(cat /sys/block/vda/queue/crypto/num_keyslots)" \
			"max_dun_bits=$(cat /sys/block/vda/queue/crypto/max_dun_bits)" \
			"modes=$(ls /sys/block/vda/queue/crypto/modes | tr '\n' ',')" \
			"key_types=$(ls /sys/block/vda/queue/crypto | grep '_keys$' | tr '\n' ',')"
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
# shellcheck source=fbe-hw.sh
[ -n "${WRAP:-}" ] && . /tests/fbe-hw.sh
opts=inlinecrypt
# f2fs's garbage collector would move blocks after the extents were reported.
[ "$FSTYPE" = f2fs ] && opts=inlinecrypt,background_gc=off
# Mount and add the master key (a filesystem's keyring goes with its mount).
mount_fs() {
	check "mount -o $opts" mount -t "$FSTYPE" -o "$opts" /dev/vda /mnt/fs
	if [ -n "${WRAP:-}" ]; then
		hw_mount
		return
	fi
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
	copy_files() { # copy_files N K: every K-th file from the N-th, frag aside
		i=0
		for f in $FILES; do
			i=$((i + 1))
			[ "$f" = frag ] || [ $((i % $2)) -ne "$1" ] && continue
			cp "/payload/files/$f" "/mnt/fs/enc/$f" || echo "copy $f failed"
		done
	}
	case " ${EXTRA:-} " in
	*" recover "*)
		# The write needs a keyslot: its PROGRAM is lost, the write fails.
		t0=$(cut -d' ' -f1 /proc/uptime)
		if dd if=/dev/zero of=/mnt/fs/enc/lost bs=4096 count=16 conv=fsync 2>/dev/null; then
			say "recover: the write under the lost PROGRAM succeeded"
		else
			say "recover: the write under the lost PROGRAM failed"
		fi
		say "recover_time: $t0 $(cut -d' ' -f1 /proc/uptime)"
		i=0
		while [ "$i" -lt 60 ] && ! dmesg | grep -q 'device reset, .* back'; do
			sleep 1
			i=$((i + 1))
		done
		rm -f /mnt/fs/enc/lost
		say "recovered: $(dmesg | grep -E 'virtio_blk.*(command|device reset)' | sed 's/^\[[ 0-9.]*\] //' | tr '\n' '|')"
		;;
	esac
	case " ${EXTRA:-} " in
	*" two_writers "*)
		# Two writers at once, one per vCPU: keys are programmed and evicted
		# on the key queue while the other vCPU's requests are in flight.
		copy_files 0 2 >/tmp/w0.log 2>&1 &
		copy_files 1 2 >/tmp/w1.log 2>&1 &
		wait
		check "two writers" sh -c '! cat /tmp/w0.log /tmp/w1.log | grep .'
		;;
	*)
		copy_files 0 1 >/tmp/w0.log 2>&1
		check "copy the files" sh -c '! grep . /tmp/w0.log'
		;;
	esac
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
	case " ${EXTRA:-} " in
	*" split "*)
		# A 6 KiB request limit is not a whole number of 4 KiB data units:
		# the block layer must still never cut one (the logical block is one).
		check "max_sectors_kb 6" sh -c 'echo 6 >/sys/block/vda/queue/max_sectors_kb'
		say "split: max_sectors_kb=$(cat /sys/block/vda/queue/max_sectors_kb)"
		check "8 KiB writes" dd if=/payload/files/f5-1048576 of=/mnt/fs/enc/split bs=8192
		check "sync" sync
		check "drop caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches'
		check "8 KiB reads" sh -c \
			'dd if=/mnt/fs/enc/split bs=8192 2>/dev/null | cmp - /payload/files/f5-1048576'
		say "file split ino $(icefs ino /mnt/fs/enc/split) nonce" \
			"$(icefs nonce /mnt/fs/enc/split) size $(stat -c %s /mnt/fs/enc/split)"
		icefs extents /mnt/fs/enc/split | sed "s/^/extent split /" >>"$out"
		;;
	esac
	case " ${EXTRA:-} " in
	*" throughput "*)
		for where in enc plain; do
			p=/mnt/fs/big-$where
			[ "$where" = enc ] && p=/mnt/fs/enc/big
			t0=$(cut -d' ' -f1 /proc/uptime)
			check "throughput write" dd if=/dev/zero of="$p" bs=4096 count=8192 conv=fsync
			t1=$(cut -d' ' -f1 /proc/uptime)
			check "drop caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches'
			t2=$(cut -d' ' -f1 /proc/uptime)
			check "throughput read" dd if="$p" of=/dev/null bs=4096
			t3=$(cut -d' ' -f1 /proc/uptime)
			say "throughput: $where 32 MiB write ${t0}..${t1} s, read ${t2}..${t3} s"
			rm -f "$p"
		done
		;;
	esac
	case " ${EXTRA:-} " in
	*" freeze "*)
		# Suspend-to-idle, devices only: virtio_blk's freeze resets the
		# device (every keyslot empty), restore reprograms the keys.
		echo 1 >/sys/module/suspend/parameters/pm_test_delay 2>/dev/null
		check "pm_test devices" sh -c 'echo devices >/sys/power/pm_test'
		check "suspend to idle" sh -c 'echo freeze >/sys/power/state'
		check "drop caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches'
		say "freeze: done"
		;;
	*" freeze_io "*)
		# A device reset under I/O: the writer's requests are in flight or
		# queued when the suspend freezes the queue and resets the device.
		echo 1 >/sys/module/suspend/parameters/pm_test_delay 2>/dev/null
		check "pm_test devices" sh -c 'echo devices >/sys/power/pm_test'
		(
			i=0
			while [ "$i" -lt 16 ]; do
				cp /payload/files/f5-1048576 "/mnt/fs/enc/io$i" || echo "io$i failed"
				sync
				i=$((i + 1))
			done
		) >/tmp/io.log 2>&1 &
		io_pid=$!
		sleep 1
		check "suspend to idle" sh -c 'echo freeze >/sys/power/state'
		wait "$io_pid"
		check "the writer" sh -c '! grep . /tmp/io.log'
		check "drop caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches'
		check "files written across the reset" sh -c \
			'for i in $(seq 0 15); do cmp /mnt/fs/enc/io$i /payload/files/f5-1048576 || exit 1; done'
		rm -f /mnt/fs/enc/io*
		say "freeze: done"
		say "freeze_io: done, 16 files of 1 MiB written across it read back"
		;;
	esac
	case " ${EXTRA:-} " in
	*" stale "*)
		# The driver's PROGRAM after the reset failed: its slot is stale,
		# and requests under the key fail in the driver (icevmm counts no
		# refused request). A new PROGRAM brings the key back: removing it
		# evicts its slot, adding it again programs one.
		n=0
		for f in $FILES; do
			cat "/mnt/fs/enc/$f" >/dev/null 2>&1 || n=$((n + 1))
		done
		say "stale: $n of $(echo $FILES | wc -w) files unreadable"
		check "remove-key" icefs remove-key /mnt/fs "$keyid"
		keyid=$(icefs add-key /mnt/fs </payload/master.key) || {
			say "FBE-FAIL add-key again"
			finish 91
		}
		;;
	esac
fi
check "sha256 of every file" sh -c "cd /mnt/fs/enc && sha256sum -c /payload/sha256sums"
case " ${EXTRA:-} " in *" hw_more "*) hw_more ;; esac
if [ "$phase" = write ]; then
	case " ${EXTRA:-} " in
	*" remove_key "*)
		# Lock: the key goes, its slot is evicted, the contents are gone.
		check "remove-key" icefs remove-key /mnt/fs "$keyid"
		say "removed: $(icefs key-status /mnt/fs "$keyid")"
		check "contents unreadable" sh -c \
			'for x in /mnt/fs/enc/*; do ! cat "$x" >/dev/null 2>&1 || exit 1; done'
		;;
	esac
fi
check "umount" umount /mnt/fs
finish 0
