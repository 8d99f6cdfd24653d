#!/usr/bin/env python3
"""Writes the fuzz target's seed corpus: well-formed virtio-blk requests, ICE
key-queue commands and v4 control commands in the input layout described in fuzz_blk.c, so the
fuzzer starts from inputs that reach deep into the request path and, through
slots the guest programmed, the crypto path. Run: tests/fuzz/mkseeds.py
tests/fuzz/corpus"""
import os
import struct
import sys

F_INDIRECT, F_EVENT_IDX, F_VERSION_1 = 1 << 28, 1 << 29, 1 << 32
BLK = (1 << 1) | (1 << 2) | (1 << 6) | (1 << 9) | (1 << 13) | (1 << 14)
F_ICE, F_ICE_KEYQ = 1 << 22, 1 << 63
F_CTRL_VQ, F_INLINE_ENC = 1 << 22, 1 << 23  # v4: bit 22 means the control queue
NEXT, WRITE, INDIRECT = 1, 2, 4
NUM, KNUM = 8, 32
# Queue 0 (requests) and queue 1 (the key queue): each its own table and rings.
DESC, AVAIL, USED = 0x000, 0x100, 0x200
KDESC, KAVAIL, KUSED = 0x300, 0x500, 0x580
DATA = 0x700
BASE = 0x40000000
FLAG_HOST_ICE, FLAG_GUEST_ICE, FLAG_V4 = 2, 4, 8
PROGRAM, EVICT, EVICT_ALL = 1, 2, 3
MMIO_READ, MMIO_WRITE, RAM_WRITE, REINIT = 0x02, 0x82, 0x42, 0xc2  # 4-byte width


def op(sel, off, value=0):
    return struct.pack("<BBHI", sel, 0, off, value)


def seed(features, descs, heads, data_bytes, ops=b"", flags=0, kdescs=(), kheads=()):
    ram = bytearray(DATA + len(data_bytes))
    for table, avail, ds, hs in ((DESC, AVAIL, descs, heads), (KDESC, KAVAIL, kdescs, kheads)):
        for i, (addr, length, dflags, nxt) in enumerate(ds):
            struct.pack_into("<QIHH", ram, table + 16 * i, addr, length, dflags, nxt)
        struct.pack_into("<HH", ram, avail, 0, len(hs))
        for i, h in enumerate(hs):
            struct.pack_into("<H", ram, avail + 4 + 2 * i, h)
    ram[DATA:] = data_bytes
    nops = len(ops) // 8
    hdr = struct.pack("<QHBBIIIHHIII", features, NUM, flags, nops, DESC, AVAIL, USED,
                      KNUM, 0, KDESC, KAVAIL, KUSED)
    assert len(hdr) == 40
    return hdr + ops + bytes(ram)


def req(rtype, sector, extra=b""):
    return struct.pack("<IIQ", rtype, 0, sector) + extra


def ice_req(rtype, sector, slot, activate, dun):
    return struct.pack("<IIQBBHIQ", rtype, 0, sector, slot, activate, 0, 0, dun)


def key_cmd(opcode, slot=0, du_mask=0, key=b""):
    """The 80-byte key-queue command (docs/ICE.md), then a status byte."""
    return struct.pack("<IBBBBQ", opcode, slot, du_mask, len(key), 0, 0) + \
        key.ljust(64, b"\0") + b"\xff"


def v4_hdr(rtype, sector=0):
    return struct.pack("<IIQ", rtype, 0, sector)


def v4_kd(slot, du_bits=0, key=b"", key_type=0, mode=0, dun_bytes=0):
    """The 152-byte v4 key descriptor."""
    return struct.pack("<I", slot) + key.ljust(128, b"\0") + \
        struct.pack("<IIIII", len(key), mode, key_type, du_bits, dun_bytes)


def v4_program(slot, du_bits, key):
    return v4_hdr(30) + v4_kd(slot, du_bits, key, key_type=1, mode=1, dun_bytes=8)


def v4_req(rtype, sector, slot, dun, unused=0):
    """CRYPTO_OUT (27) / CRYPTO_IN (28): header and crypto message, 56 bytes."""
    return v4_hdr(rtype, sector) + struct.pack("<IIQQQQ", slot, unused, dun, 0, 0, 0)


def test_key(n):
    """AES-256-XTS: two different 32-byte halves."""
    return bytes((n * 64 + i * 7 + 1) & 0xff for i in range(64))


def key_chains(cmds, at):
    """Descriptors (2 per command) and heads for commands stored from guest address `at`."""
    descs, heads, blob = [], [], b""
    for c in cmds:
        heads.append(len(descs))
        descs += [(at + len(blob), 80, NEXT, len(descs) + 1), (at + len(blob) + 80, 1, WRITE, 0)]
        blob += c
    return descs, heads, blob


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
    ops = op(MMIO_READ, 0x100) + op(MMIO_WRITE, 0x064, 1) + op(0x00, 0x160)
    seeds["two_and_ops"] = seed(feats, [(a, 16, NEXT, 1), (a + 16, 1, WRITE, 0),
                                        (a + 32, 16, NEXT, 3), (a + 48, 1, WRITE, 0)],
                                [0, 2], req(4, 0) + b"\0" * 16 + req(8, 0) + b"\0", ops)
    # Host-provisioned ICE disk (flags bit 1): 32-byte headers with slot, activate, DUN
    ice = feats | F_ICE
    seeds["ice_write"] = seed(ice, [(a, 32, NEXT, 1), (a + 32, 512, NEXT, 2),
                                    (a + 544, 1, WRITE, 0)], [0],
                              ice_req(1, 2, 0, 1, 77) + bytes(range(256)) * 2 + b"\0",
                              flags=FLAG_HOST_ICE)
    seeds["ice_read_split"] = seed(ice, [(a, 20, NEXT, 1), (a + 20, 12, NEXT, 2),
                                         (a + 32, 1000, NEXT | WRITE, 3),
                                         (a + 1032, 3096, NEXT | WRITE, 4),
                                         (a + 4128, 1, WRITE, 0)], [0],
                                   ice_req(0, 8, 1, 1, 5) + bytes(4097), flags=FLAG_HOST_ICE)
    seeds["ice_flush"] = seed(ice, [(a, 32, NEXT, 1), (a + 32, 1, WRITE, 0)], [0],
                              ice_req(4, 0, 0, 1, 0) + b"\0", flags=FLAG_HOST_ICE)

    # Guest-programmed ICE disk (flags bit 2): queue 1 is the key queue. The
    # commands sit at `a`, the request after them; queue 1 is notified first.
    gk = ice | F_ICE_KEYQ
    gp = FLAG_GUEST_ICE

    def guest(cmds, rdescs, rheads, rdata, ops=b""):
        kd, kh, blob = key_chains(cmds, a)
        r = a + len(blob)
        return seed(gk, [(r + x, n, f, nxt) for x, n, f, nxt in rdescs], rheads, blob + rdata,
                    ops, gp, kd, kh)

    write_4k = ([(0, 32, NEXT, 1), (32, 4096, NEXT, 2), (4128, 1, WRITE, 0)], [0])
    read_4k = ([(0, 32, NEXT, 1), (32, 4096, NEXT | WRITE, 2), (4128, 1, WRITE, 0)], [0])
    text = bytes((i * 13) & 0xff for i in range(4096))
    # PROGRAM slot 3 (4 KiB units), then an encrypted 4 KiB write through it
    seeds["gp_program_write"] = guest([key_cmd(PROGRAM, 3, 0x08, test_key(3))], *write_4k,
                                      ice_req(1, 8, 3, 1, 77) + text + b"\xff")
    # PROGRAM slot 0 (512-byte units), a decrypting 4 KiB read through it
    seeds["gp_program_read"] = guest([key_cmd(PROGRAM, 0, 0x01, test_key(0))], *read_4k,
                                     ice_req(0, 16, 0, 1, 5) + bytes(4097))
    # PROGRAM slot 31 (1 KiB units), read split across guest buffers, 2 KiB units elsewhere
    seeds["gp_program_split"] = guest(
        [key_cmd(PROGRAM, 31, 0x02, test_key(31)), key_cmd(PROGRAM, 1, 0x04, test_key(1))],
        [(0, 20, NEXT, 1), (20, 12, NEXT, 2), (32, 1000, NEXT | WRITE, 3),
         (1032, 1048, NEXT | WRITE, 4), (2080, 1, WRITE, 0)], [0],
        ice_req(0, 4, 31, 1, 9) + bytes(2049))
    # PROGRAM, write through it, then (guest-RAM ops) EVICT and the write again: IOERR
    kd, kh, blob = key_chains([key_cmd(PROGRAM, 5, 0x08, test_key(5)), key_cmd(EVICT, 5)], a)
    ops = op(RAM_WRITE, KAVAIL, 2 << 16) + op(RAM_WRITE, KAVAIL + 4, kh[0] | kh[1] << 16) + \
        op(MMIO_WRITE, 0x050, 1) + \
        op(RAM_WRITE, AVAIL, 2 << 16) + op(RAM_WRITE, AVAIL + 4, 0) + op(MMIO_WRITE, 0x050, 0)
    r = a + len(blob)
    seeds["gp_program_evict"] = seed(
        gk, [(r + x, n, f, nxt) for x, n, f, nxt in write_4k[0]], [0],
        blob + ice_req(1, 24, 5, 1, 3) + text + b"\xff", ops, gp, kd, kh[:1])
    # Two PROGRAMs and EVICT_ALL, then a request through one of them: IOERR
    seeds["gp_evict_all"] = guest(
        [key_cmd(PROGRAM, 0, 0x08, test_key(0)), key_cmd(PROGRAM, 7, 0x01, test_key(7)),
         key_cmd(EVICT_ALL)], *read_4k, ice_req(0, 0, 7, 1, 0) + bytes(4097))
    # PROGRAM and write; a device reset (Status = 0), the driver's set-up again,
    # and the same ring: the write comes again and finds the slot empty
    ops = op(MMIO_WRITE, 0x070, 0) + op(REINIT, 0) + op(MMIO_WRITE, 0x050, 0)
    seeds["gp_reset"] = guest([key_cmd(PROGRAM, 2, 0x08, test_key(2))], *write_4k,
                              ice_req(1, 32, 2, 1, 1) + text + b"\xff", ops)
    # Refusals: equal halves, two du bits, slot 32, wrong key_len, reserved byte,
    # unknown op, EVICT_ALL with a slot; then a command split 16 + 64 + 1
    bad = [key_cmd(PROGRAM, 1, 0x08, bytes(32) * 2), key_cmd(PROGRAM, 1, 0x09, test_key(1)),
           key_cmd(PROGRAM, 32, 0x08, test_key(1)), key_cmd(PROGRAM, 1, 0x08, test_key(1)[:32]),
           key_cmd(EVICT, 1)[:7] + b"\x01" + key_cmd(EVICT, 1)[8:], key_cmd(4, 0),
           key_cmd(EVICT_ALL, 3)]
    kd, kh, blob = key_chains(bad, a)
    split = key_cmd(PROGRAM, 9, 0x04, test_key(9))
    at = a + len(blob)
    n = len(kd)
    kd += [(at, 16, NEXT, n + 1), (at + 16, 64, NEXT, n + 2), (at + 80, 1, WRITE, 0)]
    kh.append(n)
    r = at + len(split)
    seeds["gp_refusals"] = seed(
        gk, [(r + x, n_, f, nxt) for x, n_, f, nxt in write_4k[0]], [0],
        blob + split + ice_req(1, 8, 9, 1, 2) + text + b"\xff", b"", gp, kd, kh)
    # Chains of the wrong shape: 79 readable bytes, a 2-byte status, no status at all
    c = key_cmd(EVICT, 1)
    kd = [(a, 79, NEXT, 1), (a + 79, 1, WRITE, 0), (a + 80, 80, NEXT, 3), (a + 160, 2, WRITE, 0),
          (a + 162, 80, 0, 0)]
    seeds["gp_bad_shape"] = seed(gk, [], [], c + c[:80] + b"\xff\xff" + c[:80], b"", gp, kd,
                                 [0, 2, 4])
    # The key queue without VIRTIO_BLK_F_ICE_KEYQ negotiated: IOERR for every command
    kd, kh, blob = key_chains([key_cmd(PROGRAM, 4, 0x08, test_key(4))], a)
    seeds["gp_not_negotiated"] = seed(ice, [], [], blob, b"", gp, kd, kh)
    # A v4 disk (flags bit 3): queue 1 is the control queue; CRYPTO_OUT and
    # CRYPTO_IN carry a 40-byte crypto message (docs/ICE.md "The v4 format").
    v4 = feats | F_CTRL_VQ | F_INLINE_ENC

    def v4_chains(cmds, at):
        """Descriptors and heads for (request part, reply length) commands from `at`."""
        descs, heads, blob = [], [], b""
        for part, reply in cmds:
            heads.append(len(descs))
            n = len(descs)
            if reply:
                descs += [(at + len(blob), len(part), NEXT, n + 1),
                          (at + len(blob) + len(part), reply, NEXT | WRITE, n + 2),
                          (at + len(blob) + len(part) + reply, 1, WRITE, 0)]
            else:
                descs += [(at + len(blob), len(part), NEXT, n + 1),
                          (at + len(blob) + len(part), 1, WRITE, 0)]
            blob += part + bytes(reply) + b"\xff"
        return descs, heads, blob

    def v4_seed(cmds, rdescs, rheads, rdata, ops=b"", features=v4):
        kd, kh, blob = v4_chains(cmds, a)
        r = a + len(blob)
        return seed(features, [(r + x, n, f, nxt) for x, n, f, nxt in rdescs], rheads,
                    blob + rdata, ops, FLAG_V4, kd, kh)

    v4_write = ([(0, 56, NEXT, 1), (56, 4096, NEXT, 2), (4152, 1, WRITE, 0)], [0])
    v4_read = ([(0, 56, NEXT, 1), (56, 4096, NEXT | WRITE, 2), (4152, 1, WRITE, 0)], [0])
    seeds["v4_program_write"] = v4_seed([(v4_program(3, 12, test_key(3)), 0)], *v4_write,
                                        v4_req(27, 8, 3, 77) + text + b"\xff")
    seeds["v4_program_read"] = v4_seed([(v4_program(0, 9, test_key(0)), 0)], *v4_read,
                                       v4_req(28, 16, 0, 5) + bytes(4097))
    seeds["v4_modes_evict"] = v4_seed(
        [(v4_hdr(29), 8), (v4_program(5, 10, test_key(5)), 0), (v4_hdr(31) + v4_kd(5), 0)],
        [(0, 16, NEXT, 1), (16, 8, NEXT | WRITE, 2), (24, 1, WRITE, 0)], [0],
        v4_hdr(29) + bytes(9))
    seeds["v4_refusals"] = v4_seed(
        [(v4_program(1, 12, bytes(32) * 2), 0), (v4_program(1, 13, test_key(1)), 0),
         (v4_program(32, 12, test_key(1)), 0), (v4_hdr(34) + bytes(132), 132),
         (v4_hdr(30, sector=1) + v4_kd(1), 0), (v4_hdr(7), 0)],
        *v4_write, v4_req(27, 8, 1, 2, unused=1) + text + b"\xff")
    seeds["v4_not_negotiated"] = v4_seed([(v4_program(4, 12, test_key(4)), 0)], *v4_write,
                                         v4_req(27, 8, 4, 0) + text + b"\xff",
                                         features=feats | F_CTRL_VQ)
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus")
