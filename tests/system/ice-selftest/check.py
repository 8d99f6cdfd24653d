#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side check of the disk image the ice-selftest guest wrote.

  /usr/bin/python3 check.py --image IMG --keys keys.conf --icevmm build/x86_64/icevmm

Reads the test plan from firmware/ice-selftest/plan.h (the same table the
firmware was built from), checks that the keys file provisions what the plan
expects, then for regions A, B, C: extracts the raw ciphertext, decrypts it
with an independent AES-XTS (Python's `cryptography`, OpenSSL underneath;
tweak = DUN as 16-byte little-endian, one data unit at a time) and with
`icevmm ice decrypt`, and compares both with the pattern. The malformed-write
area and every other byte outside the regions must still be zero.
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


def parse_plan(path):
    """The PLAN_* numeric #defines and the X(...) rows of PLAN_REGIONS."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    consts = {}
    for m in re.finditer(r"^#define\s+(PLAN_[A-Z0-9_]+)\s+(0x[0-9a-fA-F]+|\d+)[uUlL]*\b", text,
                         re.M):
        consts[m.group(1)] = c_int(m.group(2))
    block = re.search(r"#define\s+PLAN_REGIONS\(X\)(.*?)\n\n", text, re.S)
    if not block:
        raise ValueError(f"{path}: no PLAN_REGIONS table")
    regions = []
    for m in re.finditer(r"X\(([^)]*)\)", block.group(1)):
        f = [x.strip() for x in m.group(1).split(",")]
        regions.append(dict(name=f[0], id=c_int(f[1]), slot=c_int(f[2]), du=c_int(f[3]),
                            dun=c_int(f[4]), sector=c_int(f[5]), bytes=c_int(f[6])))
    return consts, regions


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", required=True, help="the disk image after the guest ran")
    ap.add_argument("--keys", required=True, help="the keys file the disk used")
    ap.add_argument("--icevmm", required=True, help="an icevmm binary this host can run")
    ap.add_argument("--plan", default=DEFAULT_PLAN, help="firmware/ice-selftest/plan.h")
    args = ap.parse_args()

    failures = 0

    def check(ok, what):
        nonlocal failures
        print(("ok    " if ok else "FAIL  ") + what)
        failures += not ok
        return ok

    c, regions = parse_plan(args.plan)
    ice, slots = parse_keys(args.keys)
    with open(args.image, "rb") as f:
        img = f.read()

    # The oracle itself: IEEE 1619 XTS-AES vector 2 (docs/ICE.md, "Known answers").
    v2 = xts(bytes([0x11] * 16 + [0x22] * 16), 0x3333333333, 32, bytes([0x44] * 32), True)
    check(v2.hex() == "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0",
          "oracle: cryptography's AES-XTS gives IEEE 1619 vector 2 with tweak LE128(DUN)")

    # The keys file provisions what the plan (and the firmware's config checks) expect.
    dus = [int(x) for x in re.split(r"[,\s]+", ice["data_unit_sizes"].strip()) if x]
    du_mask = sum(1 << ((d // 512).bit_length() - 1) for d in dus)
    ok = (ice["algorithm"] == "aes-xts" and c["PLAN_KEYS_ALG"] == 0 and
          int(ice["key_bits"]) == 256 and c["PLAN_KEYS_KEY_SIZE_ID"] == 3 and
          du_mask == c["PLAN_KEYS_DU_MASK"] and
          int(ice["max_slots"]) == c["PLAN_KEYS_MAX_SLOTS"] and
          int(ice["slot_offset"]) == c["PLAN_KEYS_SLOT_OFFSET"] and
          c["PLAN_SLOT_INFO"] == c["PLAN_KEYS_MAX_SLOTS"] << 8 | c["PLAN_KEYS_SLOT_OFFSET"] and
          c["PLAN_CAPABILITY"] == (c["PLAN_KEYS_ALG"] << 24 | c["PLAN_KEYS_DU_MASK"] << 16 |
                                   c["PLAN_KEYS_KEY_SIZE_ID"] << 8))
    check(ok, "keys file [ice] matches plan.h (aes-xts, 256, du mask "
          f"{du_mask:#x}, max_slots {ice['max_slots']}, slot_offset {ice['slot_offset']})")
    for r in regions:
        key, du = slots.get(r["slot"], (b"", 0))
        check(len(key) == 64 and key[:32] != key[32:] and du == r["du"],
              f"keys file slot {r['slot']}: 64-byte XTS key, distinct halves, "
              f"data unit {du} (plan: {r['du']})")

    check(len(img) == c["PLAN_DISK_SECTORS"] * SECTOR,
          f"image is {len(img)} bytes (plan: {c['PLAN_DISK_SECTORS']} sectors)")

    # icevmm refuses keys files readable by group/others: a private copy.
    tmp = tempfile.mkdtemp(prefix="ice-selftest-check.")
    try:
        keys600 = os.path.join(tmp, "keys.conf")
        shutil.copyfile(args.keys, keys600)
        os.chmod(keys600, 0o600)
        covered = bytearray(len(img))
        for r in regions:
            off, n = r["sector"] * SECTOR, r["bytes"]
            covered[off:off + n] = b"\x01" * n
            raw = img[off:off + n]
            want = pattern(r["id"], n, c)
            key, du = slots.get(r["slot"], (b"", r["du"]))
            label = (f"region {r['name']} (sector {r['sector']}, {n} bytes, slot {r['slot']}, "
                     f"DUN {r['dun']:#x})")
            check(raw != want and raw != bytes(n), f"{label}: raw bytes are neither plaintext nor zero")
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
            path = os.path.join(tmp, f"region-{r['name']}.bin")
            with open(path, "wb") as f:
                f.write(raw)
            p = subprocess.run([args.icevmm, "ice", "decrypt", "--keys", keys600, "--slot",
                                str(r["slot"]), "--dun", str(r["dun"]), "--in", path],
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
          f"malformed-write area (sectors {c['PLAN_BAD_SECTOR']}.."
          f"{c['PLAN_BAD_SECTOR'] + c['PLAN_BAD_SECTORS'] - 1}) is all zero")
    stray = [i for i in range(len(img)) if not covered[i] and img[i]]
    check(not stray, "every byte outside regions " + ", ".join(r["name"] for r in regions) +
          " is zero" + (f" (first nonzero at byte {stray[0]})" if stray else ""))

    print(f"check.py: {failures} failure(s)" if failures else "check.py: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
