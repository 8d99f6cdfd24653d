#!/bin/sh
# /init of the L2 guest that icevmm boots inside L1.
# Kernel command line:
#   icevmm.mode=test   (default) print "ICEVMM-L2-INIT-OK nproc=N", then stop:
#                      with icevmm.exit=N via the debug-exit device (icevmm
#                      exits 64 + (N & 63)), otherwise by power-off (PSCI on
#                      arm64, ACPI on x86_64: icevmm exits 0)
#   icevmm.mode=shell  an interactive shell on the console
#   icevmm.mode=demo   make run's FBE demo (/tests/fbe-demo.sh), then power off
#   icevmm.mode=script icevmm.script=NAME
#                      run /tests/NAME.sh (from tests/system/guest/) and report
#                      its exit status N through debug-exit (icevmm exits 64 + N)
#   icevmm.mode=reboot reboot at once (PSCI SYSTEM_RESET, or on x86_64 the
#                      i8042 reset: icevmm exits 3)
#   icevmm.mode=hang   never stop (for icevmm's --timeout test)
#   icevmm.mode=ldp    a load/store pair from MMIO (/bin/ldp-mmio): the guest
#                      gets SIGBUS from icevmm's injected data abort, prints
#                      "ICEVMM-L2-LDP-DONE status=N", then powers off
#   icevmm.mode=flood  print to the console without end
#   icevmm.mode=writesync
#                      print "ICEVMM-L2-WRITING", then write and fsync /dev/vda
#                      without end
# Dotted parameters are not handed to init, so they are read from /proc/cmdline.
# PID 1 must never exit (the kernel would panic), hence no "set -e".
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# icevmm's doorbells (README.md, "Guest memory map"): debug-exit (icevmm exits
# 64 + (N & 63) when the guest writes N) and boot-timer.
case "$(uname -m)" in
x86_64) debug_exit=0xd0000000 boot_timer=0xd0001000 ;;
*) debug_exit=0x09010000 boot_timer=0x09020000 ;;
esac
# The boot-timer doorbell (logged with --boot-timer; ignored otherwise).
devmem $boot_timer 32 1 2>/dev/null

# Every console byte is a VM exit (slow under nested TCG): only failures talk.
while read -r ko; do
	if ! err=$(insmod "$ko" 2>&1); then
		echo "ICEVMM-L2: insmod ${ko##*/} failed: $err"
	fi
done </etc/modules.order

# The console is interrupt-driven: what a program printed may still sit in
# the UART driver's buffer when we stop the VM. Wait until the 8250's transmit
# counter stops moving before debug-exit or power-off.
drain_console() {
	last=
	while :; do
		now=$(grep -o 'tx:[0-9]*' /proc/tty/driver/serial 2>/dev/null | head -n 1)
		[ "$now" = "$last" ] && return
		last=$now
		sleep 0.05
	done
}

mode='test'
exit_code=
script=
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	icevmm.mode=*) mode=${arg#icevmm.mode=} ;;
	icevmm.exit=*) exit_code=${arg#icevmm.exit=} ;;
	icevmm.script=*) script=${arg#icevmm.script=} ;;
	esac
done

case "$mode" in
test)
	echo "ICEVMM-L2-INIT-OK nproc=$(nproc)"
	if [ -n "$exit_code" ]; then
		drain_console
		devmem $debug_exit 32 "$exit_code" ||
			echo "ICEVMM-L2: debug-exit write failed"
	fi
	;;
shell)
	# Plain "poweroff" signals PID 1, which is this script, not a busybox
	# init: make it mean the immediate power-off.
	printf '%s\n' "alias poweroff='poweroff -f' halt='poweroff -f'" \
		"PS1='icevmm-l2# '" >/etc/shrc
	export ENV=/etc/shrc
	echo "icevmm demo guest — type poweroff to quit, or Ctrl-A x"
	# cttyhack reopens the real console tty (ttyS0) as the controlling
	# terminal of a new session, so job control and Ctrl-C work.
	setsid cttyhack sh
	;;
demo)
	sh /tests/fbe-demo.sh || echo "ICEVMM-L2: the FBE demo failed"
	echo "ICEVMM-L2-INIT-OK nproc=$(nproc)"
	;;
script)
	sh "/tests/$script.sh"
	status=$?
	drain_console
	devmem $debug_exit 32 $status || echo "ICEVMM-L2: debug-exit write failed"
	;;
reboot)
	reboot -f
	;;
hang)
	while :; do sleep 3600; done
	;;
ldp)
	ldp-mmio
	echo "ICEVMM-L2-LDP-DONE status=$?"
	;;
flood)
	while :; do echo "ICEVMM-L2-FLOOD 0123456789abcdefghijklmnopqrstuvwxyz"; done
	;;
writesync)
	echo "ICEVMM-L2-WRITING"
	while :; do dd if=/dev/zero of=/dev/vda bs=4096 count=16 conv=fsync 2>/dev/null; done
	;;
*)
	echo "ICEVMM-L2: unknown icevmm.mode=$mode"
	;;
esac
drain_console
poweroff -f
