#!/usr/bin/python3
"""The independent oracle for icevmm's inline crypto engine.

Draws random keys, slots, data unit sizes, DUNs and data for every algorithm
and key size the wire format allows, computes the expected ciphertext with
Python's `cryptography` (OpenSSL), and compares it with
  1. the device path: a VIRTIO_BLK_T_OUT with activate=1 through the virtio-blk
     device on a fake guest (tests/oracle/ice_devpath.c), and
  2. the offline command: `icevmm ice encrypt` (and `decrypt` back);
  3. and for a guest-programmed disk (the default engine, AES-256-XTS), a key
     the fake guest loads through the key queue (VIRTIO_BLK_F_ICE_KEYQ,
     `ice_devpath --keyq`) against the same key in a keys file for
     `icevmm ice encrypt`, at data units of 512 and 4096 bytes and DUNs that
     cross 2^32 and end at 2^64 - 1.
For AES-XTS and ESSIV-AES-CBC this is the Linux-compatible result
(blk-crypto-fallback, fscrypt, dm-crypt aes-xts-plain64 / aes-cbc-essiv:sha256).

  ice_oracle.py --build build/x86_64 [--runner qemu-aarch64-static] [--seed N] [--rounds R]
Prints the seed; pass it back with --seed to reproduce a failure.
Must run under Debian's /usr/bin/python3 (python3-cryptography).
"""
import argparse
import hashlib
import os
import random
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ALGS = [("aes-xts", 128), ("aes-xts", 256), ("bitlocker-aes-cbc", 128),
        ("bitlocker-aes-cbc", 256), ("aes-ecb", 128), ("aes-ecb", 192), ("aes-ecb", 256),
        ("essiv-aes-cbc", 128), ("essiv-aes-cbc", 256)]
DU_SIZES = [512 << j for j in range(8)]


def le128(n):
    return (n % (1 << 128)).to_bytes(16, "little")


def aes_ecb(key, data):
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc(key, iv, data):
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def oracle_encrypt(alg, key, du, dun, data):
    """The wire format's definition, one data unit at a time (docs/ICE.md)."""
    if alg == "aes-ecb":
        return aes_ecb(key, data)
    out = b""
    for i in range(len(data) // du):
        unit, n = data[i * du:(i + 1) * du], dun + i
        if alg == "aes-xts":
            enc = Cipher(algorithms.AES(key), modes.XTS(le128(n))).encryptor()
            out += enc.update(unit) + enc.finalize()
        elif alg == "essiv-aes-cbc":
            iv = aes_ecb(hashlib.sha256(key).digest(), le128(n))
            out += aes_cbc(key, iv, unit)
        elif alg == "bitlocker-aes-cbc":
            iv = aes_ecb(key, le128(n * du))  # the full 128-bit product
            out += aes_cbc(key, iv, unit)
    return out


def draw_case(rng, alg, bits):
    key_len = bits // 8 * (2 if alg == "aes-xts" else 1)
    while True:
        key = bytes(rng.getrandbits(8) for _ in range(key_len))
        if alg != "aes-xts" or key[:key_len // 2] != key[key_len // 2:]:
            break
    sizes = sorted(rng.sample(DU_SIZES, rng.randint(1, 3)))
    du = rng.choice(sizes)
    units = rng.randint(1, max(1, min(4, (256 << 10) // du)))
    roll = rng.random()
    if roll < 0.2:  # at the very top: the last DUN is 2^64 - 1
        dun = (1 << 64) - units
    elif roll < 0.4:
        dun = rng.randint(0, 1000)
    else:
        dun = rng.getrandbits(64) % ((1 << 64) - units + 1)
    max_slots = rng.randint(1, 255)
    return {
        "key": key, "sizes": sizes, "du": du, "dun": dun, "max_slots": max_slots,
        "slot": rng.randrange(max_slots),
        "data": bytes(rng.getrandbits(8) for _ in range(units * du)),
    }


def write_keys(path, alg, bits, c):
    with open(path, "w") as f:
        f.write("; oracle test keys (random, throwaway)\n[ice]\n")
        f.write(f"algorithm = {alg}\nkey_bits = {bits}\n")
        f.write("data_unit_sizes = " + ", ".join(map(str, c["sizes"])) + "\n")
        f.write(f"max_slots = {c['max_slots']}\nslot_offset = 0\n\n")
        f.write(f"[slot {c['slot']}]\nkey = {c['key'].hex()}\ndata_unit_size = {c['du']}\n")
    os.chmod(path, 0o600)


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="build directory (icevmm, oracle helper)")
    ap.add_argument("--runner", default="", help="e.g. qemu-aarch64-static for arm64 binaries")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=3, help="cases per algorithm and key size")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().getrandbits(32)
    print(f"ice oracle: seed {seed} (reproduce with --seed {seed})")
    rng = random.Random(seed)
    runner = a.runner.split()
    icevmm = runner + [os.path.join(a.build, "icevmm")]
    devpath = runner + [os.path.join(a.build, "tests/oracle/ice_devpath")]
    failures = cases = 0
    with tempfile.TemporaryDirectory() as tmp:
        keys, plain, out = (os.path.join(tmp, n) for n in ("keys.conf", "plain", "out"))
        for alg, bits in ALGS:
            for _ in range(a.rounds):
                c = draw_case(rng, alg, bits)
                cases += 1
                write_keys(keys, alg, bits, c)
                with open(plain, "wb") as f:
                    f.write(c["data"])
                want = oracle_encrypt(alg, c["key"], c["du"], c["dun"], c["data"])
                what = (f"{alg}-{bits} slot {c['slot']} du {c['du']} dun {c['dun']:#x} "
                        f"{len(c['data'])} bytes")
                checks = []
                r = run(devpath + [keys, str(c["slot"]), str(c["dun"]), plain, out])
                got = open(out, "rb").read() if r.returncode == 0 else None
                checks.append(("device path", r, got == want))
                args = ["--keys", keys, "--slot", str(c["slot"]), "--dun", str(c["dun"])]
                r = run(icevmm + ["ice", "encrypt"] + args, c["data"])
                checks.append(("icevmm ice encrypt", r, r.returncode == 0 and r.stdout == want))
                r = run(icevmm + ["ice", "decrypt"] + args, want)
                checks.append(("icevmm ice decrypt", r,
                               r.returncode == 0 and r.stdout == c["data"]))
                for name, r, ok in checks:
                    if not ok:
                        failures += 1
                        print(f"FAIL  {name}: {what} (exit {r.returncode}) "
                              f"{r.stderr.decode(errors='replace').strip()}")
        # The offline command streams in 256 KiB chunks: the DUN limit must hold
        # across chunks (512 KiB of 4 KiB units ending exactly at 2^64 - 1, and one past).
        c = {"key": bytes(range(64)), "sizes": [4096], "du": 4096, "max_slots": 4, "slot": 1}
        write_keys(keys, "aes-xts", 256, c)
        data = bytes(512 << 10)
        for dun, ok_want in (((1 << 64) - 128, True), ((1 << 64) - 64, False)):
            cases += 1
            r = run(icevmm + ["ice", "encrypt", "--keys", keys, "--slot", "1", "--dun", str(dun)],
                    data)
            want = oracle_encrypt("aes-xts", c["key"], 4096, dun, data) if ok_want else b""
            if (r.returncode == 0) != ok_want or (ok_want and r.stdout != want):
                failures += 1
                print(f"FAIL  icevmm ice encrypt of 128 units at DUN {dun:#x}: exit "
                      f"{r.returncode}, expected {'success' if ok_want else 'a refusal'}")
        # A guest-programmed key (PROGRAM on the key queue) against the offline
        # command with the same key in a keys file, and against the oracle.
        keybin = os.path.join(tmp, "key.bin")
        for du in (512, 4096):
            for where in ("2^32", "2^64"):
                units = rng.randint(2, 8)
                dun = (1 << 32) - rng.randint(1, units - 1) if where == "2^32" else \
                    (1 << 64) - units
                c = draw_case(rng, "aes-xts", 256)
                c.update(sizes=[512, 1024, 2048, 4096], du=du, max_slots=32,
                         slot=rng.randrange(32),
                         data=bytes(rng.getrandbits(8) for _ in range(units * du)))
                cases += 1
                write_keys(keys, "aes-xts", 256, c)
                with open(keybin, "wb") as f:
                    f.write(c["key"])
                os.chmod(keybin, 0o600)
                with open(plain, "wb") as f:
                    f.write(c["data"])
                want = oracle_encrypt("aes-xts", c["key"], du, dun, c["data"])
                what = f"key queue: slot {c['slot']} du {du} dun {dun:#x} {units} units"
                r = run(devpath + ["--keyq", keybin, str(du), str(c["slot"]), str(dun), plain,
                                   out])
                got = open(out, "rb").read() if r.returncode == 0 else None
                r2 = run(icevmm + ["ice", "encrypt", "--keys", keys, "--slot", str(c["slot"]),
                                   "--dun", str(dun)], c["data"])
                for name, rr, ok in (("device path (key queue)", r, got == want),
                                     ("icevmm ice encrypt (same key)", r2,
                                      r2.returncode == 0 and r2.stdout == want),
                                     ("key queue vs icevmm ice encrypt", r2,
                                      got is not None and got == r2.stdout)):
                    if not ok:
                        failures += 1
                        print(f"FAIL  {name}: {what} (exit {rr.returncode}) "
                              f"{rr.stderr.decode(errors='replace').strip()}")
    print(f"ice oracle: {cases} cases, {failures} failure(s), seed {seed}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
