#!/bin/sh
# Boot and memory benchmarks, run inside the nested rig's L1 (busybox sh) by
# tests/bench/run-bench.sh. Nested software emulation: these are figures of
# this rig, not of bare metal.
#
#   bench-l1.sh DIR RUNS
# DIR holds icevmm, Image, l2.cpio.gz, keys32.conf (0600, 32 AES-256-XTS
# slots) and writes:
#   DIR/out/boot.N.log        icevmm's stderr of boot N (--boot-timer lines)
#   DIR/out/mem.CPUS.txt      "total_kib ram_kib" from /proc/PID/smaps
dir=$1 runs=$2
out="$dir/out"
mkdir -p "$out" /tmp/bench
base="console=ttyS0 quiet panic=-1"
# Guest files from L1's tmpfs, not the 9p share: time icevmm, not v9fs.
# icevmm itself runs from the share, as in every rig run (and as kvmtool was
# measured): its text is paged in as it is used, where tmpfs would map whole
# runs of the file at each fault (fault-around) and count them as RSS.
cp "$dir/Image" "$dir/l2.cpio.gz" "$dir/keys32.conf" /tmp/bench/
chmod 600 /tmp/bench/keys32.conf
icevmm="$dir/icevmm"
dir=/tmp/bench

# Boot to init: the L2 init rings the boot-timer doorbell first thing.
i=1
while [ "$i" -le "$runs" ]; do
	"$icevmm" --kernel "$dir/Image" --initrd "$dir/l2.cpio.gz" --boot-timer \
		--timeout 120 --cmdline "$base" </dev/null >/dev/null 2>"$out/boot.$i.log"
	echo $? >"$out/boot.$i.status"
	i=$((i + 1))
done

# Memory: icevmm's RSS minus the guest RAM it has touched, while the guest
# sits at its init, with one ICE disk of 32 loaded slots.
mem_case() { # CPUS MEM_MIB
	head -c 1048576 /dev/zero >/tmp/bench/disk.img
	: >"$out/mem.$1.log"
	"$icevmm" --kernel "$dir/Image" --initrd "$dir/l2.cpio.gz" --boot-timer \
		--cpus "$1" --mem "$2M" --timeout 120 --cmdline "$base icevmm.mode=hang" \
		--disk "/tmp/bench/disk.img,ice=$dir/keys32.conf" </dev/null >/dev/null \
		2>"$out/mem.$1.log" &
	pid=$!
	t=0
	while ! grep -q "boot-timer" "$out/mem.$1.log" && [ "$t" -lt 600 ]; do
		sleep 0.2
		t=$((t + 1))
	done
	sleep 2 # let the guest settle at its init
	awk -v ram_kib=$(($2 * 1024)) '
		/^Size:/ { size = $2 }
		/^Rss:/ { total += $2; if (size == ram_kib) ram += $2 }
		/^Anonymous:/ { anon += $2; if (size == ram_kib) ram_anon += $2 }
		END { print total, ram, anon, ram_anon }' "/proc/$pid/smaps" >"$out/mem.$1.txt"
	cp "/proc/$pid/smaps" "$out/mem.$1.smaps"
	kill "$pid"
	wait "$pid" # 143: stopped by our SIGTERM, as intended
}
mem_case 1 256
mem_case 2 512
exit 0
