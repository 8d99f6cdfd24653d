#!/bin/sh
# The system-test cases: boot the L2 guest with icevmm and record what
# happened, one case at a time. Runs wherever /dev/kvm works: inside the L1
# VM of the nested rig (busybox sh), or natively on an arm64 host.
#
#   cases.sh OUTDIR ICEVMM IMAGE L2_INITRD CASE...
#
# For each CASE it writes OUTDIR/CASE.log (icevmm's stdout+stderr),
# OUTDIR/CASE.status (icevmm's exit status) and OUTDIR/CASE.ms (wall time).
# It asserts nothing: run-all.sh checks the results on the host.
out=$1 icevmm=$2 image=$3 initrd=$4
shift 4
assets=$(dirname "$icevmm") # disk images prepared by run-all.sh
mkdir -p "$out"

# Milliseconds since boot; busybox date has no sub-second format.
now_ms() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}0"
}

base="console=ttyS0 quiet panic=-1"
# The FBE cases' kernel and initramfs (the project's, per architecture).
case "$(uname -m)" in
x86_64) fbe_kernel=$assets/fbe-Image-x86_64 fbe_initrd=$assets/fbe-x86_64.cpio.gz ;;
*) fbe_kernel=$assets/fbe-Image fbe_initrd=$assets/fbe.cpio.gz ;;
esac
run_case() {
	name=$1
	shift
	t0=$(now_ms)
	"$@" </dev/null >"$out/$name.log" 2>&1
	echo $? >"$out/$name.status"
	t1=$(now_ms)
	echo $((t1 - t0)) >"$out/$name.ms"
}

# term_and_time NAME PID LIMIT_S: SIGTERM to PID, then write to OUTDIR/NAME.ms
# the ms until its main thread has exited (process gone or a zombie: a thread
# blocked in uninterruptible I/O keeps the zombie until that I/O returns), or
# "stuck" if that took over LIMIT_S seconds. The caller reaps PID.
term_and_time() {
	tt_name=$1 tt_pid=$2 tt_limit=$(($3 * 1000))
	tt_t0=$(now_ms)
	kill -TERM "$tt_pid"
	tt_ms=stuck
	while [ $(($(now_ms) - tt_t0)) -lt "$tt_limit" ]; do
		tt_state=$(cut -d' ' -f3 "/proc/$tt_pid/stat" 2>/dev/null)
		if [ -z "$tt_state" ] || [ "$tt_state" = Z ]; then
			tt_ms=$(($(now_ms) - tt_t0))
			break
		fi
		sleep 0.1
	done
	echo "$tt_ms" >"$out/$tt_name.ms"
}

# wait_for LIMIT_S COMMAND...: until COMMAND succeeds, at most LIMIT_S seconds.
wait_for() {
	wf_n=$(($1 * 5))
	shift
	while [ "$wf_n" -gt 0 ] && ! "$@"; do
		sleep 0.2
		wf_n=$((wf_n - 1))
	done
}

# Does a thread of PID sleep in pipe_write (blocked on a full pipe)?
in_pipe_write() {
	cat /proc/"$1"/task/*/wchan 2>/dev/null | grep -q pipe_write
}

# fbe NAME PHASE CPUS [icevmm options...]: the FBE workload (tests/system/guest/
# fbe.sh) on the project's kernel (6.12, or 7.3 if NAME.params says KERNEL='7.3':
# fbe-Image-7.3, fbe-Image-x86_64-7.3): /tmp/NAME.img (made by fbe_case) as the
# ICE disk (v2, or v4 with DISK='v4'; BLOCK='N' sets its logical block), the
# payload read-only, and a fresh report disk, copied out as
# NAME-PHASE-report.img. CASE.log/.status/.ms are NAME-PHASE's.
fbe() {
	fb_name=$1 fb_phase=$2 fb_cpus=$3 fb_ice=,ice fb_kernel=$fbe_kernel
	shift 3
	grep -q "^DISK='plain'" "$assets/$fb_name.params" && fb_ice=
	grep -q "^DISK='v4'" "$assets/$fb_name.params" && fb_ice=,ice,spec=v4
	fb_block=$(sed -n "s/^BLOCK='\([0-9]*\)'/\1/p" "$assets/$fb_name.params")
	[ "${fb_block:-0}" = 0 ] || fb_ice=$fb_ice,block=$fb_block
	# FAULT: a key-command fault in the write phase, many-queues always
	fb_fault=$(sed -n "s/^FAULT='\(.*\)'/\1/p" "$assets/$fb_name.params")
	case "$fb_fault" in
	lose-program | break-queue | fail-reprogram)
		if [ "$fb_phase" = write ]; then fb_ice=$fb_ice,fault=$fb_fault; fi
		;;
	many-queues) fb_ice=$fb_ice,fault=many-queues ;;
	esac
	grep -q "^KERNEL='7.3'" "$assets/$fb_name.params" && fb_kernel=$fbe_kernel-7.3
	if [ -f "$assets/$fb_name.keys" ]; then # an engine for the guest to program
		cp "$assets/$fb_name.keys" "/tmp/$fb_name.keys"
		chmod 600 "/tmp/$fb_name.keys"
		fb_ice=,ice=/tmp/$fb_name.keys
		grep -q "^DISK='v4'" "$assets/$fb_name.params" && fb_ice=$fb_ice,spec=v4
	fi
	head -c 1048576 /dev/zero >"/tmp/$fb_name-report.img"
	run_case "$fb_name-$fb_phase" "$icevmm" --kernel "$fb_kernel" \
		--initrd "$fbe_initrd" --cpus "$fb_cpus" --mem 256M --timeout 300 \
		--cmdline "$base icevmm.mode=script icevmm.script=fbe fbe.phase=$fb_phase" \
		--disk "/tmp/$fb_name.img$fb_ice" --disk "/tmp/$fb_name-payload.tar,ro" \
		--disk "/tmp/$fb_name-report.img" "$@"
	cp "/tmp/$fb_name-report.img" "$out/$fb_name-$fb_phase-report.img"
}

# fbe_case NAME: write, then read back after a fresh boot; the image goes back
# to the host, which checks its ciphertext (run-all.sh check_fbe).
fbe_case() {
	fc_cpus=$(sed -n "s/^CPUS='\([0-9]*\)'/\1/p" "$assets/$1.params")
	cp "$assets/$1.img" "/tmp/$1.img"
	cp "$assets/$1-payload.tar" "/tmp/$1-payload.tar"
	fbe "$1" write "${fc_cpus:-1}"
	fbe "$1" read "${fc_cpus:-1}"
	cp "/tmp/$1.img" "$out/$1.img"
	rm -f "/tmp/$1.img" "/tmp/$1-payload.tar" "/tmp/$1-report.img"
}

# hwdm PHASE DISK_OPTION: tests/system/guest/hwdm.sh's PHASE on the 7.3
# kernel, the payload read-only and a fresh report disk (hwdm-PHASE-report.img).
hwdm() {
	head -c 1048576 /dev/zero >/tmp/hwdm-report.img
	run_case "hwdm-$1" "$icevmm" --kernel "$fbe_kernel-7.3" --initrd "$fbe_initrd" \
		--mem 256M --timeout 300 \
		--cmdline "$base icevmm.mode=script icevmm.script=hwdm hwdm.phase=$1" \
		--disk "$2" --disk /tmp/hwdm-payload.tar,ro --disk /tmp/hwdm-report.img
	cp /tmp/hwdm-report.img "$out/hwdm-$1-report.img"
}

boot() { # boot NAME CPUS EXTRA_CMDLINE [icevmm options...]
	name=$1 cpus=$2 extra=$3
	shift 3
	run_case "$name" "$icevmm" --kernel "$image" --initrd "$initrd" --cpus "$cpus" \
		--mem 256M --timeout 120 --cmdline "$base $extra" "$@"
}

# set_aside CASE TAG: the files of CASE's last run (CASE.*, CASE-*, but not
# its CASE.tries nor runs set aside before) are renamed CASE.TAG.*, kept
# beside the next run's.
set_aside() {
	for f in "$out/$1".* "$out/$1"-*; do
		[ -f "$f" ] || continue
		case "${f##*/}" in
		"$1.tries" | "$1.hung"[0-9]* | "$1.stall1."*) continue ;;
		esac
		mv "$f" "$out/$1.$2.${f##*/}"
	done
}

# stalled CASE: did a guest of CASE's run end by its --timeout (status 4)?
# Only the timeout case means to; in any other the guest stopped making
# progress, as in the x86_64 rig's rare L2 stalls (docs/RIG.md).
stalled() {
	[ "$1" != timeout ] || return 1
	cat "$out/$1".status "$out/$1"-*.status 2>/dev/null | grep -qx 4
}

# sigterm_after CASE T0: SIGTERM the icevmm just started in the background,
# 3 s into its run; CASE's status, and its time since T0 (ms).
sigterm_after() {
	pid=$!
	sleep 3
	kill -TERM "$pid"
	wait "$pid"
	echo $? >"$out/$1.status"
	echo $(($(now_ms) - $2)) >"$out/$1.ms"
}

# run_one CASE: runs CASE (files in OUTDIR, named after it).
run_one() {
	c=$1
	case "$c" in
	boot1) boot boot1 1 "" ;;
	# Where a boot's time goes: the guest's whole log with timestamps, and
	# icevmm's times when init rings the boot-timer doorbell. icevmm, the
	# kernel and the initrd are copied to L1's RAM first: read over the 9p
	# share, their pages (icevmm's code included) would cost the set-up's
	# steps more than icevmm does.
	boot_profile)
		cp "$icevmm" /tmp/profile-icevmm
		cp "$image" /tmp/profile-kernel
		cp "$initrd" /tmp/profile-initrd
		run_case boot_profile /tmp/profile-icevmm --kernel /tmp/profile-kernel \
			--initrd /tmp/profile-initrd --cpus 1 --mem 256M --timeout 120 \
			--cmdline "$base loglevel=8 printk.time=1" --boot-timer
		rm -f /tmp/profile-icevmm /tmp/profile-kernel /tmp/profile-initrd
		;;
	boot2) boot boot2 2 "" ;;
	debug_exit) boot debug_exit 1 "icevmm.exit=5" ;;
	reset) boot reset 1 "icevmm.mode=reboot" ;;
	# x86_64: 4.5 GiB of RAM, 1.5 GiB of it above the 32-bit hole, at 4 GiB
	# (L1 has 2 GiB: icevmm maps guest RAM without reserving it).
	highmem) boot highmem 1 "icevmm.mode=script icevmm.script=highmem" --mem 4608M ;;
	# x86_64: Linux's reboot=t resets by a triple fault (KVM_EXIT_SHUTDOWN).
	reset_triple) boot reset_triple 1 "icevmm.mode=reboot reboot=t" ;;
	timeout) boot timeout 2 "icevmm.mode=hang" --timeout 2 ;;
	sigterm)
		# SIGTERM while the guest runs: icevmm stops its vCPUs and exits 128 + 15.
		t0=$(now_ms)
		"$icevmm" --kernel "$image" --initrd "$initrd" --cpus 2 --timeout 120 \
			--cmdline "$base icevmm.mode=hang" </dev/null >"$out/sigterm.log" 2>&1 &
		sigterm_after sigterm "$t0"
		;;
	sigterm_closed)
		# The same with stdin and stdout closed, as a supervisor may start
		# it: /dev/null takes their place, so the signalfd is not fd 0 (read
		# as console input, the SIGTERM lost) and SIGTERM ends icevmm.
		t0=$(now_ms)
		"$icevmm" --kernel "$image" --initrd "$initrd" --cpus 1 --timeout 30 \
			--cmdline "$base icevmm.mode=hang" <&- >&- 2>"$out/sigterm_closed.log" &
		sigterm_after sigterm_closed "$t0"
		;;
	bad_kernel)
		head -c 4096 "$initrd" >"$out/not-an-image"
		run_case bad_kernel "$icevmm" --kernel "$out/not-an-image"
		;;
	bad_bzimage)
		# A real bzImage cut short: its header promises more than the file has.
		head -c 65536 "$image" >"$out/short-bzImage"
		run_case bad_bzimage "$icevmm" --kernel "$out/short-bzImage"
		;;
	missing_initrd) run_case missing_initrd "$icevmm" --kernel "$image" --initrd /nonexistent ;;
	mem0) run_case mem0 "$icevmm" --kernel "$image" --mem 0 ;;
	cpus0) run_case cpus0 "$icevmm" --kernel "$image" --cpus 0 ;;
	small_mem) run_case small_mem "$icevmm" --kernel "$image" --initrd "$initrd" --mem 16M ;;
	blk)
		# Images icevmm opens live in tmpfs: v9fs has no fallocate, so no
		# hole punching (DISCARD) there. The copy in is dense; fstrim in
		# the guest must make it sparse again.
		cp "$assets/blk-rw.img" /tmp/blk-rw.img
		cp "$assets/blk-ro.img" /tmp/blk-ro.img
		du -k /tmp/blk-rw.img | cut -f1 >"$out/blk.kib-before"
		boot blk 2 "icevmm.mode=script icevmm.script=blk" \
			--disk /tmp/blk-rw.img,serial=icevmm-test-rw --disk /tmp/blk-ro.img,ro
		du -k /tmp/blk-rw.img | cut -f1 >"$out/blk.kib-after"
		cp /tmp/blk-rw.img "$out/blk-rw.img"
		cmp -s "$assets/blk-ro.img" /tmp/blk-ro.img && echo same >"$out/blk.ro-unchanged"
		rm -f /tmp/blk-rw.img /tmp/blk-ro.img
		;;
	ice_selftest)
		# The bare-metal ICE self-test (firmware/ice-selftest) on three zeroed
		# ICE disks: host-provisioned (keys file), guest-programmed (the
		# default engine, keys through the key queue) and v4 (the same
		# engine, keys through the control queue); run-all.sh checks what
		# it wrote with check.py.
		cp "$assets/ice_selftest.img" /tmp/ice.img
		cp "$assets/ice_selftest.img" /tmp/ice-guest.img
		cp "$assets/ice_selftest.img" /tmp/ice-v4.img
		run_case ice_selftest "$icevmm" --kernel "$assets/ice-selftest.Image" --mem 64M \
			--timeout 60 --disk "/tmp/ice.img,ice=$assets/keys.conf" \
			--disk /tmp/ice-guest.img,ice --disk /tmp/ice-v4.img,ice,spec=v4
		cp /tmp/ice.img "$out/ice_selftest.img"
		cp /tmp/ice-guest.img "$out/ice_selftest-guest.img"
		cp /tmp/ice-v4.img "$out/ice_selftest-v4.img"
		rm -f /tmp/ice.img /tmp/ice-guest.img /tmp/ice-v4.img
		;;
	power_cut)
		# L1's /dev/vda is backed by a host file (run-l1.sh --disk). L2
		# gets it raw, writes a pattern onto it and fsyncs; the moment L2
		# says so, power_cut.synced appears in the share and the host
		# SIGKILLs this L1's QEMU. L1 must not write dirty pages back on
		# its own meanwhile (no periodic writeback, no expiry): only
		# icevmm's fdatasync for the guest's FLUSH can have saved the data.
		echo 0 >/proc/sys/vm/dirty_writeback_centisecs
		echo 8640000 >/proc/sys/vm/dirty_expire_centisecs
		cp "$assets/power_cut.pattern" /tmp/power_cut.pattern
		t0=$(now_ms)
		{
			"$icevmm" --kernel "$image" --initrd "$initrd" --mem 256M --timeout 120 \
				--cmdline "$base icevmm.mode=script icevmm.script=power_cut" \
				--disk /dev/vda --disk /tmp/power_cut.pattern,ro </dev/null 2>&1
			echo $? >"$out/power_cut.status"
		} | while IFS= read -r line; do
			printf '%s\n' "$line" >>"$out/power_cut.log"
			case "$line" in
			*POWER-CUT-SYNCED*)
				# Renamed into place: the host acts the moment it exists.
				echo $(($(now_ms) - t0)) >"$out/power_cut.t"
				mv "$out/power_cut.t" "$out/power_cut.synced"
				;;
			esac
		done
		echo $(($(now_ms) - t0)) >"$out/power_cut.ms"
		;;
	nisv)
		# A guest ldp from MMIO (KVM cannot decode it): the guest gets a
		# data abort (SIGBUS), icevmm logs one line and keeps running.
		boot nisv 1 "icevmm.mode=ldp"
		;;
	ram_align)
		# The host mapping of guest RAM while the guest runs; run-all.sh
		# checks that it starts on a 2 MiB boundary.
		"$icevmm" --kernel "$image" --initrd "$initrd" --cpus 1 --mem 256M --timeout 120 \
			--cmdline "$base icevmm.mode=hang" </dev/null >"$out/ram_align.log" 2>&1 &
		pid=$!
		sleep 2
		cat "/proc/$pid/maps" >"$out/ram_align.maps"
		term_and_time ram_align "$pid" 20
		wait "$pid"
		echo $? >"$out/ram_align.status"
		;;
	stdout_blocked)
		# stdout (and stderr) is a FIFO that is full and never read, the
		# guest floods its console: SIGTERM must still end icevmm with
		# 143 within seconds.
		fifo=/tmp/stdout_blocked.fifo
		rm -f "$fifo"
		mkfifo "$fifo"
		# A reader that holds the FIFO open and never reads it.
		# shellcheck disable=SC2217
		sleep 1000 <"$fifo" &
		reader=$!
		cat /dev/zero >"$fifo" &
		filler=$!
		sleep 1
		kill "$filler" # the pipe stays full: its reader never reads
		wait "$filler"
		"$icevmm" --kernel "$image" --initrd "$initrd" --cpus 2 --mem 256M --timeout 120 \
			--cmdline "$base icevmm.mode=flood" </dev/null >"$fifo" 2>&1 &
		pid=$!
		# The guest prints: some thread of icevmm now waits in pipe_write.
		wait_for 90 in_pipe_write "$pid"
		cat /proc/"$pid"/task/*/wchan >"$out/stdout_blocked.wchan" 2>/dev/null
		sleep 1
		term_and_time stdout_blocked "$pid" 10
		grep -q stuck "$out/stdout_blocked.ms" && kill -KILL "$pid"
		wait "$pid"
		echo $? >"$out/stdout_blocked.status"
		kill "$reader"
		wait "$reader"
		rm -f "$fifo"
		;;
	frozen_disk)
		# The disk image sits on a file system that L1 freezes while the
		# guest writes and syncs: a vCPU blocks in pwritev/fdatasync where no
		# kick reaches it. SIGTERM must still end icevmm within seconds.
		# (busybox mke2fs makes ext2; the ext4 driver mounts it and can
		# freeze it.)
		mkdir -p /mnt/frozen
		dd if=/dev/zero of=/tmp/frozen.fs bs=1M count=32 2>/dev/null
		mke2fs -F /tmp/frozen.fs >/dev/null 2>&1
		if ! mount -t ext4 -o loop /tmp/frozen.fs /mnt/frozen; then
			echo "cases.sh: frozen_disk: cannot mount an ext4 on a loop device" \
				>"$out/frozen_disk.log"
			return
		fi
		dd if=/dev/zero of=/mnt/frozen/disk.img bs=1M count=8 2>/dev/null
		"$icevmm" --kernel "$image" --initrd "$initrd" --cpus 1 --mem 256M --timeout 120 \
			--disk /mnt/frozen/disk.img --cmdline "$base icevmm.mode=writesync" \
			</dev/null >"$out/frozen_disk.log" 2>&1 &
		pid=$!
		wait_for 90 grep -q ICEVMM-L2-WRITING "$out/frozen_disk.log"
		sleep 1
		fsfreeze --freeze /mnt/frozen
		sleep 3 # the guest's next write reaches icevmm and blocks there
		grep -H State /proc/"$pid"/task/*/status >"$out/frozen_disk.tasks" 2>/dev/null
		term_and_time frozen_disk "$pid" 10
		fsfreeze --unfreeze /mnt/frozen
		wait "$pid"
		echo $? >"$out/frozen_disk.status"
		umount /mnt/frozen
		rm -f /tmp/frozen.fs
		;;
	seccomp_tasks | seccomp_off)
		# The sandbox on every thread: once the guest's init has run (it rings
		# the boot-timer doorbell; hang mode, 2 vCPUs), record the Seccomp:
		# line of each task of icevmm into CASE.seccomp (2: a filter; 0: none).
		# seccomp_off runs with --no-seccomp, and with --seccomp-selftest,
		# whose forbidden call must then go through.
		opts=
		[ "$c" = seccomp_tasks ] || opts="--no-seccomp --seccomp-selftest"
		t0=$(now_ms)
		# shellcheck disable=SC2086 # opts is a list of options
		"$icevmm" --kernel "$image" --initrd "$initrd" --cpus 2 --timeout 120 \
			--cmdline "$base icevmm.mode=hang" --boot-timer $opts </dev/null >"$out/$c.log" 2>&1 &
		pid=$!
		i=0 # wait (at most 60 s) for the guest's init, and for both vCPU threads
		while { ! grep -q 'boot-timer: guest rang' "$out/$c.log" ||
			[ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -lt 3 ]; } && [ $i -lt 300 ]; do
			sleep 0.2
			i=$((i + 1))
		done
		for t in "/proc/$pid/task/"*; do
			echo "${t##*/} $(grep '^Seccomp:' "$t/status")"
		done >"$out/$c.seccomp"
		kill -TERM "$pid"
		wait "$pid"
		echo $? >"$out/$c.status"
		echo $(($(now_ms) - t0)) >"$out/$c.ms"
		;;
	seccomp_selftest)
		# A forbidden call (socket) right after the filter is loaded: exit 1, one line.
		boot seccomp_selftest 1 "" --seccomp-selftest
		;;
	rig_hang)
		# The rig's own test: the first L1 that runs this case stops its
		# heartbeat and never finishes it, as a hung L1 would; run-l1.sh
		# must take it for hung and boot L1 again, and the job must resume
		# here (the cases before it are not run again).
		if [ "$tries" -eq 0 ]; then
			kill "$(cat /tmp/heartbeat.pid)"
			sleep 100000
		fi
		run_case rig_hang true
		;;
	rig_stall)
		# The rig's own test of a stalled guest: the first run's guest
		# hangs until a 2 s --timeout ends it (status 4); cases.sh must run
		# the case again, and the second run boots normally.
		if [ -f "$out/rig_stall.stalled" ]; then
			boot rig_stall 1 ""
		else
			boot rig_stall 1 "icevmm.mode=hang" --timeout 2
		fi
		;;
	fbe_*) fbe_case "$c" ;;
	hwdm)
		# dm-inlinecrypt with a raw and a wrapped key on a v4 disk, written
		# and read back; then the wrapped key refused on a plain disk.
		cp "$assets/hwdm-payload.tar" /tmp/hwdm-payload.tar
		cp "$assets/hwdm.keys" /tmp/hwdm.keys
		chmod 600 /tmp/hwdm.keys
		head -c $((64 << 20)) /dev/zero >/tmp/hwdm.img
		hwdm write /tmp/hwdm.img,ice=/tmp/hwdm.keys,spec=v4
		hwdm read /tmp/hwdm.img,ice=/tmp/hwdm.keys,spec=v4
		cp /tmp/hwdm.img "$out/hwdm.img"
		tar -xf /tmp/hwdm-payload.tar -C /tmp ext4.img
		hwdm plain /tmp/ext4.img
		rm -f /tmp/hwdm.img /tmp/hwdm-payload.tar /tmp/hwdm-report.img /tmp/ext4.img
		;;
	dump_dtb) run_case dump_dtb "$icevmm" --kernel "$image" --cpus 2 --dump-dtb "$out/dump_dtb.dtb" ;;
	dump_acpi)
		# x86_64: the tables a 2-vCPU guest with two disks would get.
		head -c 1048576 /dev/zero >/tmp/dump_acpi-0.img
		head -c 1048576 /dev/zero >/tmp/dump_acpi-1.img
		run_case dump_acpi "$icevmm" --kernel "$image" --cpus 2 --dump-acpi "$out/dump_acpi" \
			--disk /tmp/dump_acpi-0.img --disk /tmp/dump_acpi-1.img,ro
		rm -f /tmp/dump_acpi-0.img /tmp/dump_acpi-1.img
		;;
	*) echo "cases.sh: unknown case $c" >&2 ;;
	esac
}

# The rig boots L1 again after a hang, with the same job: the cases resume.
# CASE.done: the case finished in an earlier L1 boot, skip it. CASE.tries:
# how many L1 boots started it; one that hung L1 twice is not run a third
# time (CASE.hung says so, and run-all.sh fails it with its logs).
# A case whose guest stalled is run once more at once (CASE.stalled says so;
# the stalled run's files are CASE.stall1.*); a second stall is checked, and
# fails, as any other wrong status.
for c in "$@"; do
	[ ! -e "$out/$c.done" ] || continue
	tries=$(cat "$out/$c.tries" 2>/dev/null || echo 0)
	if [ "$tries" -ge 2 ]; then
		echo "cases.sh: $c hung L1 in $tries L1 boots: not run again" >"$out/$c.hung"
		continue
	fi
	# What the L1 boot that hung left: kept beside the new run's.
	[ "$tries" -eq 0 ] || set_aside "$c" "hung$tries"
	echo $((tries + 1)) >"$out/$c.tries"
	run_one "$c"
	if stalled "$c"; then
		set_aside "$c" stall1
		echo "cases.sh: $c: the guest stalled (status 4); run again" >"$out/$c.stalled"
		run_one "$c"
	fi
	: >"$out/$c.done"
done
