#!/usr/bin/env bash
# `make bench`: every benchmark, one table, and build/bench.json (a list of
# rows {"name", "value", "unit", "reference", "ratio"}). What each row means:
# docs/PERFORMANCE.md.
#   1. device-path throughput and key-queue commands, no KVM (tests/bench/devbench.c),
#      and a v4 disk's hardware-wrapped key commands (tests/bench/hwkeybench.c)
#   2. instructions per request and per key command under callgrind
#      (tests/bench/reqpath-callgrind.sh)
#   3. boot timing and memory overhead of an arm64 and an x86_64 guest: in
#      the nested rigs here (software emulation, not bare-metal figures),
#      natively on a host of the guest's architecture with a usable KVM
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
host_arch=$(uname -m | sed -e 's/aarch64/arm64/')
O="$root/build/$host_arch"
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
RUNS=${BENCH_BOOT_RUNS:-5}
case "$RUNS" in
'' | *[!0-9]*) RUNS=0 ;;
esac
if [ "$RUNS" -lt 5 ]; then
	echo "run-bench: BENCH_BOOT_RUNS must be a number >= 5 (the boot rows are medians)" >&2
	exit 2
fi
rows=$(mktemp)
skipped=$(mktemp)
share=
trap 'rm -f "$rows" "$skipped"; [ -z "$share" ] || [ "${KEEP:-0}" = 1 ] || rm -rf "$share"' EXIT

echo "== device path (fake guest, image in /dev/shm): overhead = device / (cipher + I/O)" >&2
"$O/tests/bench/devbench" >>"$rows"
echo "== hardware-wrapped key commands (v4): overhead = device / libgcrypt's own work" >&2
"$O/tests/bench/hwkeybench" >>"$rows"

if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
	echo "== instructions per 4 KiB request and per key command (callgrind)" >&2
	"$here/reqpath-callgrind.sh" "$O" 2000 >>"$rows"
else
	echo "instr_*: valgrind is not installed" >>"$skipped"
fi

# rig_bench ARCH: boot and memory rows of an ARCH guest (Debian's kernel and
# the rig's busybox initramfs), natively on an ARCH host whose /dev/kvm can run
# it, in the nested rig otherwise. arm64's rows keep their historical names;
# x86_64's end in _x86_64.
rig_bench() {
	local arch=$1 guest="$CACHE/$1" where sfx=
	[ "$arch" = arm64 ] || sfx=_$arch
	export RIG_ARCH=$arch
	"$root/tests/system/fetch-guest.sh"
	"$root/tests/system/mkinitramfs.sh" l2 "$guest/l2.cpio.gz"
	share=$(mktemp -d "$CACHE/bench-share.XXXXXX")
	cp "$root/build/$arch/icevmm" "$guest/Image" "$guest/l2.cpio.gz" "$here/bench-l1.sh" "$share/"
	# 32 AES-256-XTS slots with made-up keys (distinct halves).
	{
		printf '[ice]\nalgorithm = aes-xts\nkey_bits = 256\ndata_unit_sizes = 4096\nmax_slots = 32\n'
		for i in $(seq 0 31); do
			printf '[slot %d]\nkey = %s%s\n' "$i" \
				"$(printf 'data %d' "$i" | sha256sum | cut -c1-64)" \
				"$(printf 'tweak %d' "$i" | sha256sum | cut -c1-64)"
		done
	} >"$share/keys32.conf"
	chmod 600 "$share/keys32.conf"
	if [ "$host_arch" = "$arch" ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then
		where="$arch: native KVM"
		sh "$share/bench-l1.sh" "$share" "$RUNS"
	else
		where="$arch: nested rig (QEMU TCG L1), software emulation"
		echo "sh /host/bench-l1.sh /host $RUNS" >"$share/job.sh"
		echo "== $arch boot and memory in the $where ($RUNS boots)" >&2
		"$root/tests/system/run-l1.sh" "$share" >"$share/l1.console" 2>&1 ||
			{ tail -n 20 "$share/l1.console" >&2; exit 1; }
	fi
	/usr/bin/python3 - "$share/out" "$RUNS" "$where" "$arch" "$sfx" >>"$rows" <<'PY'
import json, re, statistics, sys
out, runs, where, arch, sfx = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
walls, firsts = [], []
for i in range(1, runs + 1):
    log = open(f"{out}/boot.{i}.log").read()
    m = re.search(r"boot-timer: guest rang with \d+: ([\d.]+) ms wall, ([\d.]+) ms CPU since "
                  r"icevmm started; first KVM_RUN at ([\d.]+) ms", log)
    if not m:
        sys.exit(f"{arch} boot {i}: no boot-timer line in icevmm's log:\n{log}")
    walls.append(float(m.group(1)))
    firsts.append(float(m.group(3)))
def row(name, value, unit, **extra):
    print(json.dumps({"name": name, "value": value, "unit": unit, "reference": None,
                      "ratio": None, "note": where, **extra}))
# The boot rows: the median of the runs, with the spread next to it.
def spread_row(name, values):
    row(name, round(statistics.median(values), 1), "ms", runs=len(values),
        min=round(min(values), 1), max=round(max(values), 1))
spread_row(f"boot_to_init_ms_{arch}", walls)
spread_row(f"first_kvm_run_ms_{arch}", firsts)
for cpus in (1, 2):
    total, ram, anon, ram_anon = map(int, open(f"{out}/mem.{cpus}.txt").read().split())
    row(f"rss_overhead_mib_{cpus}vcpu{sfx}", round((total - ram) / 1024, 3), "MiB")
    row(f"anon_overhead_mib_{cpus}vcpu{sfx}", round((anon - ram_anon) / 1024, 3), "MiB")
PY
	[ "${KEEP:-0}" = 1 ] || rm -rf "$share"
	share=
}

if [ "${BENCH_NO_RIG:-0}" = 1 ]; then
	echo "boot_to_init_ms_*, first_kvm_run_ms_*, rss_overhead_mib_*: BENCH_NO_RIG=1" >>"$skipped"
else
	# BENCH_RIGS="x86_64" (or "arm64"): only that guest's rows.
	case " ${BENCH_RIGS:-arm64 x86_64} " in *" arm64 "*) rig_bench arm64 ;; esac
	case " ${BENCH_RIGS:-arm64 x86_64} " in
	*" x86_64 "*)
		# The x86_64 rig needs this host's icevmm to be an x86_64 one.
		if [ "$host_arch" = x86_64 ]; then
			rig_bench x86_64
		else
			echo "*_x86_64: the x86_64 rig runs on x86_64 hosts only" >>"$skipped"
		fi
		;;
	esac
fi

/usr/bin/python3 - "$rows" "$skipped" "$root/build/bench.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in rows:
    r.setdefault("note", None)
with open(sys.argv[3], "w") as f:
    json.dump(rows, f, indent=1)
print(f"{'row':34} {'value':>12} {'unit':20} {'reference':>10} {'ratio':>7}")
for r in rows:
    ref = r["reference"]
    ref = "" if ref is None else str(ref) if isinstance(ref, int) else f"{ref:.2f}"
    ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f}"
    spread = f"  median of {r['runs']}: min {r['min']}, max {r['max']}" if "runs" in r else ""
    print(f"{r['name']:34} {r['value']:>12} {r['unit']:20} {ref:>10} {ratio:>7}{spread}")
for line in open(sys.argv[2]):
    print("skipped:", line.strip())
notes = {r["note"] for r in rows if r["note"]}
for n in notes:
    print(f"boot and memory rows: {n}")
print(f"written: {sys.argv[3]}")
PY
