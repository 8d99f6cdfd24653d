#!/bin/sh
# /init of the L1 test VM (QEMU TCG with EL2 or AMD SVM, so this kernel has /dev/kvm).
# Mounts the host's 9p share on /host, runs /host/job.sh there with the
# console as stdin/stdout, stores its exit status in /host/job.status (QEMU's
# own exit status says nothing about what happened in here) and powers off.
# Status 125 means the job could not be run at all.
# PID 1 must never exit (the kernel would panic), hence no "set -e".
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

# Modules in dependency order, as mkinitramfs.sh resolved them. Parameters
# come from the kernel command line as modprobe takes them (busybox insmod
# does not look there): kvm_amd.vgif=0 (run-l1.sh, x86_64) loads kvm-amd.ko
# with vgif=0.
read -r cmdline </proc/cmdline
while read -r ko; do
	mod=${ko##*/}
	mod=$(echo "${mod%.ko}" | tr - _)
	params=
	for arg in $cmdline; do
		case "$arg" in "$mod".*=*) params="$params ${arg#"$mod".}" ;; esac
	done
	# shellcheck disable=SC2086 # a list of parameters
	if ! insmod "$ko" $params; then
		echo "ICEVMM-L1: insmod $ko$params failed"
	elif [ -n "$params" ]; then
		echo "ICEVMM-L1: $mod loaded with$params"
	fi
done </etc/modules.order

if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 host /host; then
	echo "ICEVMM-L1: cannot mount the 9p share 'host' on /host"
	poweroff -f
fi

# icevmm.heartbeat=N (run-l1.sh): touch /host/.l1-alive every N seconds, so
# the host can tell a busy L1 from a hung one.
for arg in $cmdline; do
	case "$arg" in
	icevmm.heartbeat=*)
		beat=${arg#icevmm.heartbeat=}
		(while :; do
			touch /host/.l1-alive
			sleep "$beat"
		done) &
		# For the rig's own test (cases.sh rig_hang), which stops it.
		echo $! >/tmp/heartbeat.pid
		;;
	esac
done

status=125
if [ ! -c /dev/kvm ]; then
	echo "ICEVMM-L1: /dev/kvm is missing (no EL2 or SVM in this QEMU?)"
elif [ ! -f /host/job.sh ]; then
	echo "ICEVMM-L1: /host/job.sh is missing"
else
	cd /host && {
		sh /host/job.sh
		status=$?
	}
	cd /
fi
echo "$status" >/host/job.status
sync
poweroff -f
