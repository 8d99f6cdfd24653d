#!/usr/bin/env bash
# Instructions per virtio-blk request on the device path, counted by callgrind
# (deterministic, unlike time). Counted: everything inside virtio_mmio_write
# (the QueueNotify decode, popping and validating the chain, the request, the
# used ring, the interrupt) and the driver's InterruptACK write. Not counted:
# libgcrypt's work (gcry_cipher_encrypt/decrypt/setiv, inclusive) and the
# syscalls (the glibc wrappers of preadv/pwritev/pread/pwrite, inclusive;
# valgrind never sees the kernel). So a change to icevmm's request path shows
# up as an exact number.
#
#   reqpath-callgrind.sh BUILD_DIR [COUNT]
# Prints JSON rows like devbench: {"name": "instr_blk_read_4k", "value": N, ...}
set -euo pipefail
bin="$1/tests/bench/reqpath"
count=${2:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
excluded='^(gcry_cipher_(en|de)crypt|gcry_cipher_setiv|(__)?(libc_)?p(read|write)v?(64)?(v2)?)$'
for kind in blk ice; do
	for op in read write; do
		out="$tmp/cg.$kind.$op"
		valgrind --tool=callgrind --toggle-collect=virtio_mmio_write \
			--callgrind-out-file="$out" "$bin" "$op" "$count" 4096 \
			"$([ "$kind" = ice ] && echo ice || echo plain)" 2>"$tmp/log"
		total=$(awk '/^summary:/ { print $2 }' "$out")
		# Inclusive cost of the excluded functions (they never call each other).
		skip=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
			awk -v re="$excluded" '$1 ~ /^[0-9,]+$/ {
				n = $1; gsub(",", "", n); f = $3; sub(/^.*:/, "", f)
				sub(/ .*/, "", f); if (f ~ re) s += n } END { print s + 0 }')
		printf '{"name": "instr_%s_%s_4k", "value": %d, "unit": "instructions/request", ' \
			"$kind" "$op" $(((total - skip) / count))
		printf '"reference": null, "ratio": null}\n'
	done
done
