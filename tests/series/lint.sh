#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Static checks of the Linux driver series (firmware/linux/series*/), for
# review findings that no guest can observe: what the driver does with a
# key buffer after it is freed, and how it sets up its control queue. The
# runtime findings have system tests (tests/system/run-all.sh: fbe_block512,
# fbe_recover, fbe_many_queues, fbe_ecb and their fbe_v4_ twins).
#
# Usage: tests/series/lint.sh [SERIES_DIR...] (default: both series). Reads
# the lines the series' patches add, in the order of SERIES_DIR/series.
# Exit status: 0, or 1 with a line for each finding.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -gt 0 ] || set -- "$root/firmware/linux/series" "$root/firmware/linux/series-7.3"
bad=0
finding() {
	echo "series-lint: $dir: $*"
	bad=1
}
for dir in "$@"; do
	added=$(mktemp)
	# quilt's format: a patch name a line, # comments
	grep -v '^[[:space:]]*\(#\|$\)' "$dir/series" | while read -r p; do
		grep '^+' "$dir/$p" | grep -v '^+++'
	done >"$added"
	# A buffer that carries keys goes with kfree_sensitive(), never kfree().
	if grep -qE '\<kfree\((vblk->keyq_buf|vblk->ctrl\.buf|ctrl->buf)\)' "$added"; then
		finding "a key command buffer freed with kfree(), not kfree_sensitive()"
	fi
	if ! grep -qE '\<kfree_sensitive\((vblk->keyq_buf|vblk->ctrl\.buf)\)' "$added"; then
		finding "no kfree_sensitive() of the key command buffer"
	fi
	# No buffer contexts the driver does not use, to rule out indirect
	# descriptors: GFP_ATOMIC with the ring's descriptors as the fallback.
	if grep -qE '\.ctx[[:space:]]*=[[:space:]]*true' "$added"; then
		finding "a virtqueue asks for buffer contexts it never uses (.ctx = true)"
	fi
	# Encryption is decided by the crypt context, never by the keyslot alone:
	# a request with a context and no keyslot must fail, not go out plain.
	if grep -qE 'if \(req->crypt_keyslot\)' "$added"; then
		finding "a request is encrypted only if it has a keyslot (fails open)"
	fi
	if ! grep -q 'BLK_STS_NOTSUPP' "$added"; then
		finding "no request with a crypt context is refused (BLK_STS_NOTSUPP)"
	fi
	# Queue counts in unsigned int: the device's num_queues (up to 65535)
	# plus one must not wrap.
	if grep -qE '^\+[[:space:]]*unsigned short .*(num_all|keyq_index)' "$added"; then
		finding "queue counts in unsigned short (num_queues + 1 wraps)"
	fi
	rm -f "$added"
	[ "$bad" = 1 ] || echo "series-lint: $dir: clean"
done
exit "$bad"
