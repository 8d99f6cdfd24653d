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
run_case() {
	name=$1
	shift
	t0=$(now_ms)
	"$@" </dev/null >"$out/$name.log" 2>&1
	echo $? >"$out/$name.status"
	t1=$(now_ms)
	echo $((t1 - t0)) >"$out/$name.ms"
}

boot() { # boot NAME CPUS EXTRA_CMDLINE [icevmm options...]
	name=$1 cpus=$2 extra=$3
	shift 3
	run_case "$name" "$icevmm" --kernel "$image" --initrd "$initrd" --cpus "$cpus" \
		--mem 256M --timeout 120 --cmdline "$base $extra" "$@"
}

for c in "$@"; do
	case "$c" in
	boot1) boot boot1 1 "" ;;
	boot2) boot boot2 2 "" ;;
	debug_exit) boot debug_exit 1 "icevmm.exit=5" ;;
	reset) boot reset 1 "icevmm.mode=reboot" ;;
	timeout) boot timeout 2 "icevmm.mode=hang" --timeout 2 ;;
	sigterm)
		# SIGTERM while the guest runs: icevmm stops its vCPUs and exits 128 + 15.
		t0=$(now_ms)
		"$icevmm" --kernel "$image" --initrd "$initrd" --cpus 2 --timeout 120 \
			--cmdline "$base icevmm.mode=hang" </dev/null >"$out/sigterm.log" 2>&1 &
		pid=$!
		sleep 3
		kill -TERM "$pid"
		wait "$pid"
		echo $? >"$out/sigterm.status"
		echo $(($(now_ms) - t0)) >"$out/sigterm.ms"
		;;
	bad_kernel)
		head -c 4096 "$initrd" >"$out/not-an-image"
		run_case bad_kernel "$icevmm" --kernel "$out/not-an-image"
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
		# The bare-metal ICE self-test (firmware/ice-selftest) on a zeroed
		# ICE disk; run-all.sh checks what it wrote with check.py.
		cp "$assets/ice.img" /tmp/ice.img
		run_case ice_selftest "$icevmm" --kernel "$assets/ice-selftest.Image" --mem 64M \
			--timeout 60 --disk "/tmp/ice.img,ice=$assets/keys.conf"
		cp /tmp/ice.img "$out/ice.img"
		rm -f /tmp/ice.img
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
	dump_dtb) run_case dump_dtb "$icevmm" --kernel "$image" --cpus 2 --dump-dtb "$out/guest.dtb" ;;
	*) echo "cases.sh: unknown case $c" >&2 ;;
	esac
done
