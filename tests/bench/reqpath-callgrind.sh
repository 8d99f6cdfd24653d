#!/usr/bin/env bash
# Instructions per virtio-blk request on the device path, counted by
# callgrind (deterministic, unlike time): everything executed inside
# virtio_mmio_write — the QueueNotify decode, popping and validating the chain,
# the request, the preadv/pwritev wrapper (not the kernel), the used ring, the
# interrupt — plus the driver's InterruptACK write.
#   reqpath-callgrind.sh BUILD_DIR [COUNT]
set -euo pipefail
bin="$1/tests/bench/reqpath"
count=${2:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for op in read write; do
	valgrind --tool=callgrind --toggle-collect=virtio_mmio_write \
		--callgrind-out-file="$tmp/cg.$op" "$bin" "$op" "$count" 4096 2>"$tmp/log.$op"
	total=$(awk '/^summary:/ { print $2 }' "$tmp/cg.$op")
	printf 'blk_%s_4k: %d instructions per request (%d requests, %s total)\n' \
		"$op" $((total / count)) "$count" "$total"
done
