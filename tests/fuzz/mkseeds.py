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


def seed(features, descs, heads, data_bytes, ops=b"", flags=0):
    ram = bytearray(0x300 + len(data_bytes))
    for i, (addr, length, flags, nxt) in enumerate(descs):
        struct.pack_into("<QIHH", ram, DESC + 16 * i, addr, length, flags, nxt)
    struct.pack_into("<HH", ram, AVAIL, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, AVAIL + 4 + 2 * i, h)
    ram[0x300:] = data_bytes
    nops = len(ops) // 8
    hdr = struct.pack("<QHBBIII", features, NUM, flags, nops, DESC, AVAIL, USED)
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
    # ICE disk (flags bit 1): 32-byte headers with slot, activate, DUN
    ice = feats | (1 << 22)

    def ice_req(rtype, sector, slot, activate, dun):
        return struct.pack("<IIQBBHIQ", rtype, 0, sector, slot, activate, 0, 0, dun)
    seeds["ice_write"] = seed(ice, [(a, 32, NEXT, 1), (a + 32, 512, NEXT, 2),
                                    (a + 544, 1, WRITE, 0)], [0],
                              ice_req(1, 2, 0, 1, 77) + bytes(range(256)) * 2 + b"\0", flags=2)
    seeds["ice_read_split"] = seed(ice, [(a, 20, NEXT, 1), (a + 20, 12, NEXT, 2),
                                         (a + 32, 1000, NEXT | WRITE, 3),
                                         (a + 1032, 3096, NEXT | WRITE, 4),
                                         (a + 4128, 1, WRITE, 0)], [0],
                                   ice_req(0, 8, 1, 1, 5) + bytes(4097), flags=2)
    seeds["ice_flush"] = seed(ice, [(a, 32, NEXT, 1), (a + 32, 1, WRITE, 0)], [0],
                              ice_req(4, 0, 0, 1, 0) + b"\0", flags=2)
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus")
