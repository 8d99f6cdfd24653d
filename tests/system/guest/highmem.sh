#!/bin/sh
# In-guest half of the highmem case (runs in L2 as /tests/highmem.sh): the
# guest got more RAM than fits below the 32-bit hole (x86_64: 3 GiB), so
# icevmm put the rest at 4 GiB. Reports MemTotal, then writes and reads back
# 64 MiB through tmpfs (pages the kernel may take from either side of the
# hole). Exit 0 if the kernel sees more than 4 GiB of RAM and the data came
# back intact.
read -r _ total _ </proc/meminfo
echo "highmem: MemTotal ${total} kB"
[ "$total" -gt 4194304 ] || exit 1
# On x86_64 the Normal zone is the RAM above 4 GiB: it must exist.
normal=$(awk '/zone +Normal/ { z = 1 } z && $1 == "present" { print $2; exit }' /proc/zoneinfo)
echo "highmem: zone Normal (above 4 GiB): ${normal:-0} pages"
[ "${normal:-0}" -gt 0 ] || exit 6
mkdir -p /tmp/hm && mount -t tmpfs -o size=160m tmpfs /tmp/hm || exit 2
dd if=/dev/urandom of=/tmp/hm/a bs=1048576 count=64 2>/dev/null || exit 3
sum1=$(sha256sum </tmp/hm/a)
cp /tmp/hm/a /tmp/hm/b 2>/dev/null || exit 4
sum2=$(sha256sum </tmp/hm/b)
[ "$sum1" = "$sum2" ] || exit 5
echo "highmem: 64 MiB copied intact"
exit 0
