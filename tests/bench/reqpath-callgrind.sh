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
# Prints JSON rows like devbench: {"name": "instr_blk_read_4k", "value": N, ...};
# the v4 rows (CRYPTO_IN/OUT on a v4 disk) take v2's ICE rows as reference.
#
# Then the key queue (VIRTIO_BLK_F_ICE_KEYQ): instructions per PROGRAM and per
# EVICT command, everything inside virtio_mmio_write and the InterruptACK,
# libgcrypt included, since keying a handle is the command's work. Their
# reference is libgcrypt alone doing that work (reqpath keysched/keyclose:
# open + setkey of the new key and close of the replaced one; close of one
# keyed handle), also printed as rows of their own.
set -euo pipefail
bin="$1/tests/bench/reqpath"
count=${2:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
excluded='^(gcry_cipher_(en|de)crypt|gcry_cipher_setiv|(__)?(libc_)?p(read|write)v?(64)?(v2)?)$'
declare -A per_req
for kind in blk ice v4; do
	for op in read write; do
		out="$tmp/cg.$kind.$op"
		valgrind --tool=callgrind --toggle-collect=virtio_mmio_write \
			--callgrind-out-file="$out" "$bin" "$op" "$count" 4096 \
			"$([ "$kind" = blk ] && echo plain || echo "$kind")" 2>"$tmp/log"
		total=$(awk '/^summary:/ { print $2 }' "$out")
		# Inclusive cost of the excluded functions (they never call each other).
		skip=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
			awk -v re="$excluded" '$1 ~ /^[0-9,]+$/ {
				n = $1; gsub(",", "", n); f = $3; sub(/^.*:/, "", f)
				sub(/ .*/, "", f); if (f ~ re) s += n } END { print s + 0 }')
		per_req[$kind.$op]=$(((total - skip) / count))
		printf '{"name": "instr_%s_%s_4k", "value": %d, "unit": "instructions/request", ' \
			"$kind" "$op" "${per_req[$kind.$op]}"
		if [ "$kind" = v4 ]; then # v4's CRYPTO_IN/OUT against v2's ICE request
			printf '"reference": %d, "ratio": %s}\n' "${per_req[ice.$op]}" \
				"$(awk -v a="${per_req[v4.$op]}" -v b="${per_req[ice.$op]}" \
					'BEGIN { printf "%.3f", a / b }')"
		else
			printf '"reference": null, "ratio": null}\n'
		fi
	done
done

# instructions per call of what $3 toggles, for reqpath $2 COUNT
count_calls() {
	valgrind --tool=callgrind --toggle-collect="$3" --callgrind-out-file="$tmp/cg.$2" \
		"$bin" "$2" "$1" 2>"$tmp/log"
	echo $(($(awk '/^summary:/ { print $2 }' "$tmp/cg.$2") / $1))
}
kcount=$((count / 4))
for op in program evict; do
	n=$(count_calls "$kcount" "$op" virtio_mmio_write)
	if [ "$op" = program ]; then
		floor=$(count_calls "$kcount" keysched floor_schedule) fname=key_schedule
	else
		floor=$(count_calls "$kcount" keyclose floor_close) fname=key_close
	fi
	printf '{"name": "instr_keyq_%s", "value": %d, "unit": "instructions/command", ' "$op" "$n"
	printf '"reference": %d, "ratio": %s}\n' "$floor" "$(awk -v a="$n" -v b="$floor" \
		'BEGIN { printf "%.3f", a / b }')"
	printf '{"name": "instr_aes256xts_%s", "value": %d, "unit": "instructions/command", ' \
		"$fname" "$floor"
	printf '"reference": null, "ratio": null}\n'
done
