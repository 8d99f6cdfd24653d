#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Inputs of one FBE system-test case, all from one seed (FBE_SEED reproduces a run).

    prep.py --seed N --case NAME --out DIR [--fs ext4|f2fs] [--policy iv_ino_lblk_64|iv_ino_lblk_32|default]
            [--contents aes-256-xts|aes-128-cbc] [--disk ice|v4|plain|essiv|ecb] [--kernel 6.12|7.3]
            [--block N] [--fault NAME] [--like CASE] [--files N] [--wrap import]

Writes into DIR:
  NAME.params       shell variables for the host (run-all.sh): UUID, HASH_SEED, KEY, POLICY, ...
  NAME-payload.tar  what the guest gets on a read-only disk: fbe.params (the guest's copy
                    of the parameters), master.key (raw, 64 bytes), sha256sums, files/NAME
With --wrap import the master key is the 32-byte raw key of a hardware-wrapped key,
imported on the v4 disk, whose keys file (NAME.keys) holds the long-term wrapping key; the
payload also carries raw.key (a 64-byte raw key for a second directory), host.blob (the
master key wrapped here, with Python's AES-GCM, as a long-term blob under that wrapping key)
and foreign.blob (the same under another wrapping key), both as hex.
The files have sizes chosen to cover a partial first block, a partial last block, whole
blocks and a file big enough for several extents; their bytes are random (from the seed).
"""
import argparse
import hashlib
import io
import random
import tarfile
import uuid

# Sizes (bytes): a partial block, a block less one byte, exactly a block, a few blocks and
# a tail, a larger file. And "frag", 512 KiB, which the guest writes in two halves with
# another file in between, so that it has two extents.
SIZES = [1, 4095, 4096, 3 * 4096 + 100, 256 * 1024 + 7, 1024 * 1024]
FRAG_SIZE = 512 * 1024


def wrap_blob(wrapping_key, raw_key, rng):
    """A long-term blob of icevmm's format (docs/ICE.md, "Hardware-wrapped keys"),
    made independently of icevmm: version 1, kind 1, a 12-byte nonce, the key
    under AES-256-GCM with AAD "icevmm hw-wrapped key" || version || kind, the tag."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    head = bytes([1, 1])
    nonce = rng.randbytes(12)
    return head + nonce + AESGCM(wrapping_key).encrypt(
        nonce, raw_key, b"icevmm hw-wrapped key" + head)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fs", default="ext4", choices=["ext4", "f2fs"])
    ap.add_argument("--policy", default="iv_ino_lblk_64",
                    choices=["iv_ino_lblk_64", "iv_ino_lblk_32", "default"])
    ap.add_argument("--contents", default="aes-256-xts", choices=["aes-256-xts", "aes-128-cbc"])
    ap.add_argument("--disk", default="ice", choices=["ice", "v4", "plain", "essiv", "ecb"],
                    help="ice: --disk IMG,ice (the default engine); v4: --disk IMG,ice,spec=v4 "
                    "(the v4 draft, Linux 7.3's driver); plain: no ICE (the kernel "
                    "encrypts through blk-crypto-fallback); essiv, ecb: --disk IMG,ice=KEYS "
                    "with a keys file (NAME.keys) that describes such an engine, no slots")
    ap.add_argument("--kernel", default="6.12", choices=["6.12", "7.3"],
                    help="the guest kernel: the project's 6.12 (v2 driver) or 7.3 (v4 driver)")
    ap.add_argument("--block", type=int, default=0, choices=[0, 512, 1024, 2048, 4096],
                    help="the ICE disk's logical block size (--disk ...,block=N); 0: the "
                    "default (the largest data unit). Below 4096 the driver offers no "
                    "4096-byte data unit, so fscrypt falls back to blk-crypto-fallback")
    ap.add_argument("--fault", default="",
                    choices=["", "lose-program", "break-queue", "fail-reprogram", "many-queues"],
                    help="icevmm's --disk ...,fault=F on the ICE disk: a key-command fault "
                    "in the write phase (the driver recovers), many-queues in both (the "
                    "driver does not use the engine, fscrypt falls back)")
    ap.add_argument("--like", metavar="CASE",
                    help="the same key, UUIDs and files as CASE (a cross-check)")
    ap.add_argument("--cpus", type=int, default=1, help="the guest's vCPUs")
    ap.add_argument("--extra", default="",
                    help="extra steps of the guest's write phase (tests/system/guest/fbe.sh)")
    ap.add_argument("--files", type=int, default=0,
                    help="extra small files (for the key-per-file case); default none")
    ap.add_argument("--wrap", default="", choices=["", "import"],
                    help="import: the master key is a hardware-wrapped key's raw key (v4)")
    a = ap.parse_args()
    if a.wrap and a.disk != "v4":
        ap.error("--wrap needs --disk v4")

    rng = random.Random(f"{a.seed}:{a.like or a.case}")
    key = bytes(rng.getrandbits(8) for _ in range(32 if a.wrap else 64))
    fs_uuid = uuid.UUID(bytes=bytes(rng.getrandbits(8) for _ in range(16)), version=4)
    hash_seed = uuid.UUID(bytes=bytes(rng.getrandbits(8) for _ in range(16)), version=4)
    filenames = "aes-256-cts" if a.contents == "aes-256-xts" else "aes-128-cts"

    files = {f"f{i}-{n}": n for i, n in enumerate(SIZES)}
    files["frag"] = FRAG_SIZE
    for i in range(a.files):
        files[f"small{i:03d}"] = 4096 + i
    data = {name: rng.randbytes(n) for name, n in files.items()}

    params = {
        "CASE": a.case,
        "FSTYPE": a.fs,
        "SEED": str(a.seed),
        "POLICY": a.policy,
        "CONTENTS": a.contents,
        "FILENAMES": filenames,
        "UUID": str(fs_uuid),
        "HASH_SEED": str(hash_seed),
        "FILES": " ".join(files),
        "DISK": a.disk,
        "KERNEL": a.kernel,
        "BLOCK": str(a.block),
        "FAULT": a.fault,
        "CPUS": str(a.cpus),
        "EXTRA": a.extra,
        "WRAP": a.wrap,
        # What the guest kernel must say (fs/crypto/inline_crypt.c): the mode, and
        # "blk-crypto (native)" on the ICE, "blk-crypto-fallback" without it.
        "MODE_NAME": "AES-256-XTS" if a.contents == "aes-256-xts" else "AES-128-CBC-ESSIV",
        # AES-ECB has no Linux mode: the driver registers no profile.
        "IMPL": "native" if a.disk in ("ice", "v4", "essiv") and a.block in (0, 4096)
        and a.fault != "many-queues" else "fallback",
    }
    engines = {"essiv": "essiv-aes-cbc\nkey_bits = 128", "ecb": "aes-ecb\nkey_bits = 256"}
    if a.disk in engines:
        with open(f"{a.out}/{a.case}.keys", "w") as f:
            f.write(f"[ice]\nalgorithm = {engines[a.disk]}\ndata_unit_sizes = 512, 4096\n")
    extra_files = {}
    if a.wrap:
        wrapping_key = rng.randbytes(32)
        with open(f"{a.out}/{a.case}.keys", "w") as f:
            f.write("; a system test's engine: v4, hardware-wrapped keys\n"
                    f"[ice]\nalgorithm = aes-xts\nkey_bits = 256\ndata_unit_sizes = 512, 4096\n"
                    f"wrapping_key = {wrapping_key.hex()}\n")
        extra_files["raw.key"] = rng.randbytes(64)
        extra_files["host.blob"] = wrap_blob(wrapping_key, key, rng).hex().encode() + b"\n"
        extra_files["foreign.blob"] = (wrap_blob(rng.randbytes(32), key, rng).hex().encode()
                                       + b"\n")
    with open(f"{a.out}/{a.case}.params", "w") as f:
        for k, v in params.items():
            f.write(f"{k}='{v}'\n")
        f.write(f"KEY='{key.hex()}'\n")

    def add(tar, name, blob):
        ti = tarfile.TarInfo(name)
        ti.size = len(blob)
        ti.mode = 0o600
        tar.addfile(ti, io.BytesIO(blob))

    sums = "".join(f"{hashlib.sha256(data[n]).hexdigest()}  {n}\n" for n in files)
    guest_params = "".join(f"{k}='{v}'\n" for k, v in params.items())
    with tarfile.open(f"{a.out}/{a.case}-payload.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
        add(tar, "fbe.params", guest_params.encode())
        add(tar, "master.key", key)
        for name, blob in extra_files.items():
            add(tar, name, blob)
        add(tar, "sha256sums", sums.encode())
        for n in files:
            add(tar, f"files/{n}", data[n])
    print(f"{a.case}: seed {a.seed}, {len(files)} files, policy {a.policy}, uuid {fs_uuid}")


if __name__ == "__main__":
    main()
