#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side check of the disk images the ice-selftest guest wrote.

  /usr/bin/python3 check.py --image IMG --keys keys.conf [--guest-image IMG2] \
      [--v4-image IMG3] --icevmm build/x86_64/icevmm

Reads the test plan from firmware/ice-selftest/plan.h (the same table the
firmware was built from). The host-provisioned disk (--image): checks that
the keys file provisions what the plan expects, then for regions A, B, C
extracts the raw ciphertext, decrypts it with an independent AES-XTS
(Python's `cryptography`, OpenSSL underneath; tweak = DUN as 16-byte
little-endian, one data unit at a time) and with `icevmm ice decrypt`, and
compares both with the pattern; it also encrypts the pattern and compares
with the image. The guest-programmed disk (--guest-image): the same for
regions K, L, M, N with the keys the firmware programmed through the key
queue (PLAN_GUEST_KEYS; N under the key slot 3 got after the reset). The v4
disk (--v4-image, `--disk IMG,ice,spec=v4`): the same regions and keys, which
its guest programmed through the control queue, so the same checks, and its
image must equal the guest-programmed one byte for byte. On each image the
malformed-write area and every other byte outside the regions must still be
zero.
Prints one line per check; exits 1 if any failed, 2 on usage errors.
"""
import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SECTOR = 512
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PLAN = os.path.join(HERE, "..", "..", "..", "firmware", "ice-selftest", "plan.h")


def c_int(text):
    """A C integer literal (decimal or hex, optional U/L suffixes)."""
    return int(re.sub(r"[uUlL]+$", "", text.strip()), 0)


def macro_block(text, name, path):
    """The body of a `#define NAME(X)` table, continuation lines joined."""
    m = re.search(r"#define\s+" + name + r"\(X\)((?:[^\n]*\\\n)*[^\n]*)", text)
    if not m:
        raise ValueError(f"{path}: no {name} table")
    return m.group(1).replace("\\\n", " ")


def parse_plan(path):
    """The PLAN_* numeric #defines, the region tables and the guest keys."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    consts = {}
    for m in re.finditer(r"^#define\s+(PLAN_[A-Z0-9_]+)\s+(0x[0-9a-fA-F]+|\d+)[uUlL]*\b", text,
                         re.M):
        consts[m.group(1)] = c_int(m.group(2))
    regions = {}
    for table in ("PLAN_REGIONS", "PLAN_GUEST_REGIONS"):
        rows = []
        for m in re.finditer(r"X\(([^)]*)\)", macro_block(text, table, path)):
            f = [x.strip() for x in m.group(1).split(",")]
            rows.append(dict(name=f[0], id=c_int(f[1]), slot=c_int(f[2]), du=c_int(f[3]),
                             dun=c_int(f[4]), sector=c_int(f[5]), bytes=c_int(f[6]),
                             key=c_int(f[8]) if len(f) > 8 else None,
                             round=c_int(f[9]) if len(f) > 9 else 0))
        regions[table] = rows
    keys = {}
    for m in re.finditer(r'X\((\d+),((?:\s*"[^"]*")+)\s*\)',
                         macro_block(text, "PLAN_GUEST_KEYS", path)):
        keys[int(m.group(1))] = bytes.fromhex("".join(re.findall(r'"([^"]*)"', m.group(2))))
    return consts, regions, keys


def parse_keys(path):
    """[ice] settings and {slot: (key bytes, data unit size)} of a keys file."""
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"), interpolation=None)
    cp.read(path, encoding="utf-8")
    ice = cp["ice"]
    slots = {}
    for sec in cp.sections():
        m = re.fullmatch(r"slot (\d+)", sec)
        if m:
            slots[int(m.group(1))] = (bytes.fromhex(cp[sec]["key"]),
                                      int(cp[sec]["data_unit_size"]))
    return ice, slots


def pattern(region_id, length, c):
    mul, rmul, add = c["PLAN_PATTERN_MUL"], c["PLAN_PATTERN_REGION_MUL"], c["PLAN_PATTERN_ADD"]
    return bytes((j * mul + region_id * rmul + add) & 0xFF for j in range(length))


def xts(key, dun, du, data, encrypt):
    """AES-XTS per data unit: unit i uses tweak LE128(dun + i)."""
    out = bytearray()
    for i in range(0, len(data), du):
        tweak = ((dun + i // du) % (1 << 128)).to_bytes(16, "little")
        ctx = Cipher(algorithms.AES(key), modes.XTS(tweak))
        op = ctx.encryptor() if encrypt else ctx.decryptor()
        out += op.update(data[i:i + du]) + op.finalize()
    return bytes(out)


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b)) if len(a) != len(b) else -1


def du_mask_of(sizes):
    return sum(1 << ((d // 512).bit_length() - 1) for d in sizes)


def write_keys_file(path, du_sizes, max_slots, slots):
    """A keys file for `icevmm ice decrypt`: {slot: (key, data unit size)}, chmod 600."""
    lines = ["[ice]", "algorithm = aes-xts", "key_bits = 256",
             "data_unit_sizes = " + ", ".join(str(d) for d in du_sizes),
             f"max_slots = {max_slots}", "slot_offset = 0"]
    for slot, (key, du) in sorted(slots.items()):
        lines += [f"[slot {slot}]", f"key = {key.hex()}", f"data_unit_size = {du}"]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", required=True,
                    help="the host-provisioned disk's image after the guest ran")
    ap.add_argument("--keys", required=True, help="the keys file that disk used")
    ap.add_argument("--guest-image",
                    help="the guest-programmed disk's image (--disk IMG,ice) after the guest ran")
    ap.add_argument("--v4-image",
                    help="the v4 disk's image (--disk IMG,ice,spec=v4) after the guest ran")
    ap.add_argument("--icevmm", required=True, help="an icevmm binary this host can run")
    ap.add_argument("--plan", default=DEFAULT_PLAN, help="firmware/ice-selftest/plan.h")
    args = ap.parse_args()

    failures = 0

    def check(ok, what):
        nonlocal failures
        print(("ok    " if ok else "FAIL  ") + what)
        failures += not ok
        return ok

    c, tables, gkeys = parse_plan(args.plan)
    ice, slots = parse_keys(args.keys)

    # The oracle itself: IEEE 1619 XTS vector 2 (docs/ICE.md, "Known answers").
    v2 = xts(bytes([0x11] * 16 + [0x22] * 16), 0x3333333333, 32, bytes([0x44] * 32), True)
    check(v2.hex() == "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0",
          "oracle: cryptography's AES-XTS gives IEEE 1619 vector 2 with tweak LE128(DUN)")

    # The keys file provisions what the plan (and the firmware's config checks) expect.
    dus = [int(x) for x in re.split(r"[,\s]+", ice["data_unit_sizes"].strip()) if x]
    du_mask = du_mask_of(dus)
    ok = (ice["algorithm"] == "aes-xts" and c["PLAN_KEYS_ALG"] == 0 and
          int(ice["key_bits"]) == 256 and c["PLAN_KEYS_KEY_SIZE_ID"] == 3 and
          du_mask == c["PLAN_KEYS_DU_MASK"] and
          int(ice["max_slots"]) == c["PLAN_KEYS_MAX_SLOTS"] and
          int(ice["slot_offset"]) == c["PLAN_KEYS_SLOT_OFFSET"] and
          c["PLAN_SLOT_INFO"] == c["PLAN_KEYS_MAX_SLOTS"] << 8 | c["PLAN_KEYS_SLOT_OFFSET"] and
          c["PLAN_CAPABILITY"] == (c["PLAN_KEYS_ALG"] << 24 | c["PLAN_KEYS_DU_MASK"] << 16 |
                                   c["PLAN_KEYS_KEY_SIZE_ID"] << 8) and
          c["PLAN_KEYS_BLK_SIZE"] == max(dus))
    check(ok, "keys file [ice] matches plan.h (aes-xts, 256, du mask "
          f"{du_mask:#x}, max_slots {ice['max_slots']}, slot_offset {ice['slot_offset']}, "
          f"blk_size {max(dus)})")
    host_regions = tables["PLAN_REGIONS"]
    for r in host_regions:
        key, du = slots.get(r["slot"], (b"", 0))
        check(len(key) == 64 and key[:32] != key[32:] and du == r["du"],
              f"keys file slot {r['slot']}: 64-byte XTS key, distinct halves, "
              f"data unit {du} (plan: {r['du']})")
        r["keyb"] = key

    # The default engine of `--disk IMG,ice` (docs/ICE.md) and the keys the firmware programs.
    gmask, gslots = c["PLAN_GUEST_DU_MASK"], c["PLAN_GUEST_MAX_SLOTS"]
    gdus = [512 << b for b in range(8) if gmask >> b & 1]
    check(gmask == 0x0F and gslots == 32 and c["PLAN_GUEST_SLOT_INFO"] == gslots << 8 and
          c["PLAN_GUEST_CAPABILITY"] == (0 << 24 | gmask << 16 | 3 << 8) and
          c["PLAN_GUEST_BLK_SIZE"] == max(gdus) == 4096 and c["PLAN_GUEST_KEY_LEN"] == 64,
          "plan.h: guest-programmed disk = the default engine (AES-256-XTS, 512..4096, "
          "32 slots, blk_size 4096)")
    klist = list(gkeys.values())
    check(len(gkeys) == 4 and all(len(k) == 64 and k[:32] != k[32:] for k in klist) and
          len({k for k in klist}) == len(klist) and
          not {k for k in klist} & {k for k, _ in slots.values()},
          f"plan.h: {len(gkeys)} guest keys, 64 bytes, distinct halves, none alike nor in keys.conf")
    guest_regions = tables["PLAN_GUEST_REGIONS"]
    for r in guest_regions:
        r["keyb"] = gkeys.get(r["key"], b"")
        check(r["du"] in gdus and r["slot"] < gslots and r["bytes"] % r["du"] == 0,
              f"plan.h: region {r['name']}: slot {r['slot']} < {gslots}, data unit {r['du']} "
              "offered, whole units")

    def check_image(path, regions, what, du_sizes, max_slots):
        with open(path, "rb") as f:
            img = f.read()
        check(len(img) == c["PLAN_DISK_SECTORS"] * SECTOR,
              f"{what}: image is {len(img)} bytes (plan: {c['PLAN_DISK_SECTORS']} sectors)")
        covered = bytearray(len(img))
        tmp = tempfile.mkdtemp(prefix="ice-selftest-check.")
        try:
            for r in regions:
                off, n = r["sector"] * SECTOR, r["bytes"]
                covered[off:off + n] = b"\x01" * n
                raw = img[off:off + n]
                want = pattern(r["id"], n, c)
                key, du = r["keyb"], r["du"]
                label = (f"{what}: region {r['name']} (sector {r['sector']}, {n} bytes, slot "
                         f"{r['slot']}, DU {du}, DUN {r['dun']:#x})")
                check(raw != want and raw != bytes(n),
                      f"{label}: raw bytes are neither plaintext nor zero")
                try:
                    mine = xts(key, r["dun"], du, raw, False)
                except ValueError as e:
                    mine = b""
                    print(f"      cryptography: {e}")
                d = first_diff(mine, want)
                check(d < 0, f"{label}: cryptography AES-XTS decrypts to the pattern" +
                      ("" if d < 0 else f" (first difference at byte {d})"))
                # And the ciphertext is exactly what an independent encryption gives.
                check(len(key) == 64 and xts(key, r["dun"], du, want, True) == raw,
                      f"{label}: cryptography AES-XTS of the pattern equals the image bytes")
                # icevmm refuses keys files readable by group/others: private copies.
                keys600 = os.path.join(tmp, f"keys-{r['name']}.conf")
                write_keys_file(keys600, du_sizes, max_slots, {r["slot"]: (key, du)})
                rpath = os.path.join(tmp, f"region-{r['name']}.bin")
                with open(rpath, "wb") as f:
                    f.write(raw)
                p = subprocess.run([args.icevmm, "ice", "decrypt", "--keys", keys600, "--slot",
                                    str(r["slot"]), "--dun", str(r["dun"]), "--in", rpath],
                                   capture_output=True, check=False)
                d = first_diff(p.stdout, want)
                check(p.returncode == 0 and d < 0,
                      f"{label}: icevmm ice decrypt gives the pattern (exit {p.returncode}" +
                      ("" if d < 0 else f", first difference at byte {d}") + ")")
                if p.returncode:
                    print("      " + p.stderr.decode(errors="replace").strip())
        finally:
            shutil.rmtree(tmp)
        off, n = c["PLAN_BAD_SECTOR"] * SECTOR, c["PLAN_BAD_SECTORS"] * SECTOR
        area = img[off:off + n]
        check(len(area) == n and area == bytes(n),
              f"{what}: malformed-write area (sectors {c['PLAN_BAD_SECTOR']}.."
              f"{c['PLAN_BAD_SECTOR'] + c['PLAN_BAD_SECTORS'] - 1}) is all zero")
        stray = [i for i in range(len(img)) if not covered[i] and img[i]]
        check(not stray, f"{what}: every byte outside regions " +
              ", ".join(r["name"] for r in regions) + " is zero" +
              (f" (first nonzero at byte {stray[0]})" if stray else ""))

    check_image(args.image, host_regions, "host-provisioned", dus, int(ice["max_slots"]))
    if args.guest_image:
        check_image(args.guest_image, guest_regions, "guest-programmed", gdus, gslots)
    if args.v4_image:
        check_image(args.v4_image, guest_regions, "v4", gdus, gslots)
    if args.guest_image and args.v4_image:
        with open(args.guest_image, "rb") as f, open(args.v4_image, "rb") as g:
            a, b = f.read(), g.read()
        d = first_diff(a, b)
        check(d < 0, "v4: the image equals the guest-programmed disk's byte for byte" +
              ("" if d < 0 else f" (first difference at byte {d})"))

    print(f"check.py: {failures} failure(s)" if failures else "check.py: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
