#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""No plaintext on the disk: leak.py IMAGE DIR

Exit 1 (and print the offsets) if any whole 4 KiB block of any file in DIR
appears at a 4 KiB-aligned offset of IMAGE (where a filesystem with 4 KiB
blocks would have put it); 0 otherwise. Blocks of all zeroes are not counted.
"""
import os
import sys

BLOCK = 4096


def main():
    image, folder = sys.argv[1], sys.argv[2]
    plain = set()
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        for i in range(0, len(data) - BLOCK + 1, BLOCK):
            if any(data[i:i + BLOCK]):
                plain.add(data[i:i + BLOCK])
    hits = []
    with open(image, "rb") as f:
        off = 0
        while blk := f.read(BLOCK):
            if blk in plain:
                hits.append(off)
            off += len(blk)
    for off in hits[:10]:
        print(f"plaintext block at image offset {off}")
    print(f"leak: {len(plain)} plaintext blocks looked for, {len(hits)} found")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
