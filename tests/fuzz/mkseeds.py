#!/usr/bin/env python3
"""Writes the fuzz target's seed corpus: well-formed virtio-blk requests in the
input layout described in fuzz_blk.c, so the fuzzer starts from inputs that
reach deep into the request path. Run: tests/fuzz/mkseeds.py tests/fuzz/corpus"""
import os
import struct
import sys

F_INDIRECT, F_EVENT_IDX, F_VERSION_1 = 1 << 28, 1 << 29, 1 << 32
BLK = (1 << 1) | (1 << 2) | (1 << 6) | (1 << 9) | (1 << 13) | (1 << 14)
NEXT, WRITE, INDIRECT = 1, 2, 4
NUM = 8
DESC, AVAIL, USED, DATA = 0x000, 0x100, 0x200, 0x300
BASE = 0x40000000


def seed(features, descs, heads, data_bytes, ops=b""):
    ram = bytearray(0x300 + len(data_bytes))
    for i, (addr, length, flags, nxt) in enumerate(descs):
        struct.pack_into("<QIHH", ram, DESC + 16 * i, addr, length, flags, nxt)
    struct.pack_into("<HH", ram, AVAIL, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, AVAIL + 4 + 2 * i, h)
    ram[0x300:] = data_bytes
    nops = len(ops) // 8
    hdr = struct.pack("<QHBBIII", features, NUM, 0, nops, DESC, AVAIL, USED)
    return hdr + ops + bytes(ram)


def req(rtype, sector, extra=b""):
    return struct.pack("<IIQ", rtype, 0, sector) + extra


def main(out):
    os.makedirs(out, exist_ok=True)
    feats = F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | BLK
    a = BASE + DATA
    seeds = {}
    # IN: header | 512 data | status, three descriptors
    seeds["in"] = seed(feats, [(a, 16, NEXT, 1), (a + 16, 512, NEXT | WRITE, 2),
                               (a + 528, 1, WRITE, 0)], [0], req(0, 3) + bytes(513))
    # OUT: header and data in one descriptor, status alone
    seeds["out"] = seed(feats, [(a, 16 + 512, NEXT, 1), (a + 528, 1, WRITE, 0)], [0],
                        req(1, 5) + bytes(range(256)) * 2 + b"\0")
    seeds["flush"] = seed(feats, [(a, 16, NEXT, 1), (a + 16, 1, WRITE, 0)], [0],
                          req(4, 0) + b"\0")
    seeds["get_id"] = seed(feats, [(a, 16, NEXT, 1), (a + 16, 21, WRITE, 0)], [0],
                           req(8, 0) + bytes(21))
    seg = struct.pack("<QII", 8, 8, 0)
    seeds["discard"] = seed(feats, [(a, 32, NEXT, 1), (a + 32, 1, WRITE, 0)], [0],
                            req(11, 0, seg) + b"\0")
    seeds["write_zeroes"] = seed(feats, [(a, 32, NEXT, 1), (a + 32, 1, WRITE, 0)], [0],
                                 req(13, 0, struct.pack("<QII", 16, 8, 1)) + b"\0")
    # Indirect: one main descriptor pointing at a 3-entry table
    table = struct.pack("<QIHH", a + 48, 16, NEXT, 1) + \
        struct.pack("<QIHH", a + 64, 512, NEXT | WRITE, 2) + \
        struct.pack("<QIHH", a + 576, 1, WRITE, 0)
    seeds["indirect"] = seed(feats, [(a, 48, INDIRECT, 0)], [0],
                             table + req(0, 1) + bytes(513))
    # Two requests in one notify, plus a few register reads/writes (any width)
    ops = struct.pack("<BBHI", 0x02, 0, 0x100, 0) + struct.pack("<BBHI", 0x82, 0, 0x064, 1) + \
        struct.pack("<BBHI", 0x00, 0, 0x160, 0)
    seeds["two_and_ops"] = seed(feats, [(a, 16, NEXT, 1), (a + 16, 1, WRITE, 0),
                                        (a + 32, 16, NEXT, 3), (a + 48, 1, WRITE, 0)],
                                [0, 2], req(4, 0) + b"\0" * 16 + req(8, 0) + b"\0", ops)
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus")
