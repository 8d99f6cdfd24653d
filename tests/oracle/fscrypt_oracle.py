#!/usr/bin/python3
"""A host-side fscrypt oracle: what Linux 6.12 writes for an encrypted file.

From a master key it derives fscrypt's keys the way the kernel does
(fs/crypto/hkdf.c, keysetup.c, keyring.c of Linux 6.12), forms the data unit
numbers (DUNs) of each v2 policy (crypto.c fscrypt_generate_iv(),
inline_crypt.c fscrypt_generate_dun()), and recomputes the ciphertext of a
file's data units, independently of icevmm's engine and of the kernel: Python's
`cryptography` for AES, the standard library's hmac/hashlib for HKDF-SHA512,
SipHash-2-4 written here. docs/FSCRYPT.md has a worked example.

  fscrypt_oracle.py keyid  MASTER
  fscrypt_oracle.py derive MASTER --policy P [--contents C] [--uuid U] [--nonce N]
                           [--keys-out FILE [--slot S] [--data-unit DU]]
  fscrypt_oracle.py dun    [MASTER] --policy P [--ino I] --lblk L [--data-unit DU]
  fscrypt_oracle.py verify MASTER --policy P [--contents C] [--uuid U] [--ino I]
                           [--nonce N] --image IMG --extents FILE --plaintext FILE
                           [--data-unit DU] [--image-offset BYTES]
  fscrypt_oracle.py dm-decrypt --key HEX [--hw-wrapped] --image IMG --offset BYTES
                           --length BYTES [--sector-size N] [--iv-offset SECTORS] --out FILE
MASTER is --master-key HEX or --master-key-file FILE (raw bytes, 16 to 64),
and --hw-wrapped if it is the raw key (32 bytes) of a hardware-wrapped key:
fscrypt then keys its HKDF with the engine's software secret (the key
identifier with context 8 instead of 1), and the
contents are encrypted with the engine's inline-encryption key (IV_INO_LBLK
policies only; Documentation/filesystems/fscrypt.rst "Hardware-wrapped keys").
dm-decrypt decrypts a dm-inlinecrypt mapping (aes-xts-plain64, DUN = the
crypto sector's index counted from --iv-offset 512-byte sectors) from an image.
P: default | iv_ino_lblk_64 | iv_ino_lblk_32. C: aes-256-xts (default) |
aes-128-cbc (AES-128-CBC-ESSIV). --extents takes the output of the guest
helper `icefs extents FILE` ("LOGICAL PHYSICAL LENGTH FLAGS" per line, bytes).
Exit status: 0 success (verify: every data unit matched), 1 a mismatch or an
error (one precise message), 2 usage.
"""
import argparse
import hashlib
import hmac
import os
import re
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# fs/crypto/fscrypt_private.h (Linux 6.12)
HKDF_CONTEXT_KEY_IDENTIFIER = 1  # info = <empty>
HKDF_CONTEXT_PER_FILE_ENC_KEY = 2  # info = file nonce
HKDF_CONTEXT_DIRECT_KEY = 3  # info = mode number (not used here)
HKDF_CONTEXT_IV_INO_LBLK_64_KEY = 4  # info = mode number || fs UUID
HKDF_CONTEXT_DIRHASH_KEY = 5  # info = file nonce (not used here)
HKDF_CONTEXT_IV_INO_LBLK_32_KEY = 6  # info = mode number || fs UUID
HKDF_CONTEXT_INODE_HASH_KEY = 7  # info = <empty>
HKDF_CONTEXT_KEY_IDENTIFIER_FOR_HW_WRAPPED_KEY = 8  # info = <empty> (Linux 6.15)
KEY_IDENTIFIER_SIZE = 16  # include/uapi/linux/fscrypt.h
NONCE_SIZE = 16

# Contents modes: include/uapi/linux/fscrypt.h numbers, keysetup.c key sizes,
# and the matching icevmm keys-file engine (docs/ICE.md).
CONTENTS = {
    "aes-256-xts": {"num": 1, "keysize": 64, "ice": ("aes-xts", 256)},
    "aes-128-cbc": {"num": 5, "keysize": 16, "ice": ("essiv-aes-cbc", 128)},
}
CONTENTS["aes-128-cbc-essiv"] = CONTENTS["aes-128-cbc"]
POLICIES = ("default", "iv_ino_lblk_64", "iv_ino_lblk_32")

# FIEMAP_EXTENT_* flags (include/uapi/linux/fiemap.h) that mean the bytes at
# fe_physical are not the file's data units as written: refused.
FIEMAP_BAD = {0x2: "UNKNOWN", 0x4: "DELALLOC", 0x8: "ENCODED", 0x100: "NOT_ALIGNED",
              0x200: "DATA_INLINE", 0x400: "DATA_TAIL"}
FIEMAP_EXTENT_UNWRITTEN = 0x800
# ENCODED together with DATA_ENCRYPTED: the encoding is the encryption itself
# (f2fs in Linux 6.1 sets both on an encrypted file), which is what we check.
FIEMAP_EXTENT_ENCODED = 0x8
FIEMAP_EXTENT_DATA_ENCRYPTED = 0x80

MASK64 = (1 << 64) - 1


class OracleError(Exception):
    pass


# --- primitives -------------------------------------------------------------

def hkdf_extract(ikm, salt=b"", hash_name="sha512"):
    """RFC 5869 section 2.2; no salt = HashLen zero bytes (as fscrypt does)."""
    if not salt:
        salt = bytes(hashlib.new(hash_name).digest_size)
    return hmac.new(salt, ikm, hash_name).digest()


def hkdf_expand(prk, info, length, hash_name="sha512"):
    """RFC 5869 section 2.3."""
    out, prev, counter = b"", b"", 1
    while len(out) < length:
        prev = hmac.new(prk, prev + info + bytes([counter]), hash_name).digest()
        out += prev
        counter += 1
    return out[:length]


def fscrypt_hkdf(master_key, context, info, length):
    """fscrypt_init_hkdf() + fscrypt_hkdf_expand(): unsalted HKDF-SHA512,
    info = "fscrypt\\0" || context byte || info."""
    prk = hkdf_extract(master_key)
    return hkdf_expand(prk, b"fscrypt\0" + bytes([context]) + info, length)


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK64


def siphash24(key, data):
    """SipHash-2-4 (Aumasson and Bernstein), 16-byte key, 64-bit result."""
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rounds(n):
        for _ in range(n):
            v[0] = (v[0] + v[1]) & MASK64
            v[1] = _rotl(v[1], 13) ^ v[0]
            v[0] = _rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & MASK64
            v[3] = _rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & MASK64
            v[3] = _rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & MASK64
            v[1] = _rotl(v[1], 17) ^ v[2]
            v[2] = _rotl(v[2], 32)

    tail = len(data) % 8
    for off in range(0, len(data) - tail, 8):
        m = struct.unpack_from("<Q", data, off)[0]
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    last = (len(data) & 0xff) << 56
    last |= int.from_bytes(data[len(data) - tail:], "little")
    v[3] ^= last
    rounds(2)
    v[0] ^= last
    v[2] ^= 0xff
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def le128(n):
    return n.to_bytes(16, "little")


def aes_ecb(key, data):
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def encrypt_unit(contents, key, dun, unit):
    """One data unit, as blk-crypto (and fscrypt's own path) encrypts it."""
    if contents == "aes-256-xts":
        # IV = the DUN as a 128-bit little-endian number (fscrypt_iv.index)
        enc = Cipher(algorithms.AES(key), modes.XTS(le128(dun))).encryptor()
    else:
        # essiv(cbc(aes),sha256): IV = AES-256_{SHA-256(K)}(LE128(DUN))
        iv = aes_ecb(hashlib.sha256(key).digest(), le128(dun))
        enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(unit) + enc.finalize()


# --- hardware-wrapped keys ---------------------------------------------------

# Documentation/block/inline-encryption.rst, "Hardware-wrapped keys": the KDF
# an engine uses (NIST SP 800-108, counter mode, AES-256-CMAC), its label, and
# the contexts of the inline-encryption key and of the software secret.
HW_KDF_LABEL = bytes.fromhex("0000400000000000000020")
HW_CONTEXT_INLINE_KEY = b"inline encryption key" + bytes.fromhex("000000000000024300825000000000")
HW_CONTEXT_SW_SECRET = b"raw secret" + bytes.fromhex("000000000000000000021700805000000000")


def hw_kdf(key, context, length):
    """Block i (from 1): CMAC(key, BE32(i) || label || 0 || context || BE32(8 * length))."""
    from cryptography.hazmat.primitives.cmac import CMAC
    out = b""
    for i in range(1, length // 16 + 1):
        c = CMAC(algorithms.AES(key))
        c.update(struct.pack(">I", i) + HW_KDF_LABEL + b"\0" + context +
                 struct.pack(">I", 8 * length))
        out += c.finalize()
    return out


def hw_inline_key(raw_key):
    """The 64-byte AES-256-XTS key an engine programs for a wrapped key."""
    return hw_kdf(raw_key, HW_CONTEXT_INLINE_KEY, 64)


def hw_sw_secret(raw_key):
    """The 32-byte software secret: fscrypt's HKDF input instead of the master key."""
    return hw_kdf(raw_key, HW_CONTEXT_SW_SECRET, 32)


# --- fscrypt ----------------------------------------------------------------

def hkdf_secret(master_key, hw_wrapped=False):
    """What fscrypt keys its HKDF with: the master key, or for a wrapped key
    the software secret the engine derives (keyring.c add_master_key())."""
    return hw_sw_secret(master_key) if hw_wrapped else master_key


def key_identifier(master_key, hw_wrapped=False):
    """keyring.c add_master_key(): what FS_IOC_ADD_ENCRYPTION_KEY returns. A
    wrapped key's identifier has its own HKDF context (Linux 6.15)."""
    ctx = (HKDF_CONTEXT_KEY_IDENTIFIER_FOR_HW_WRAPPED_KEY if hw_wrapped
           else HKDF_CONTEXT_KEY_IDENTIFIER)
    return fscrypt_hkdf(hkdf_secret(master_key, hw_wrapped), ctx, b"", KEY_IDENTIFIER_SIZE)


def parse_uuid(text):
    h = text.replace("-", "")
    if not re.fullmatch(r"[0-9a-fA-F]{32}", h):
        raise OracleError(f"--uuid {text!r} is not a UUID (32 hex digits, dashes optional)")
    return bytes.fromhex(h)


def contents_key(master_key, policy, contents="aes-256-xts", uuid=None, nonce=None,
                 hw_wrapped=False):
    """The key blk-crypto (or the fs-layer cipher) gets for a file's contents:
    keysetup.c fscrypt_setup_v2_file_key(). A wrapped key goes to the engine
    as it is, which encrypts with its inline-encryption key."""
    mode = CONTENTS[contents]
    if hw_wrapped:
        if policy == "default" or contents != "aes-256-xts":
            raise OracleError("a hardware-wrapped key needs an IV_INO_LBLK policy and "
                              "aes-256-xts contents (fscrypt.rst)")
        return hw_inline_key(master_key)
    if policy == "default":
        if nonce is None or len(nonce) != NONCE_SIZE:
            raise OracleError("a default policy needs the file's --nonce (32 hex digits)")
        return fscrypt_hkdf(master_key, HKDF_CONTEXT_PER_FILE_ENC_KEY, nonce,
                            mode["keysize"])
    if contents != "aes-256-xts":
        raise OracleError(f"{policy} needs aes-256-xts contents (policy.c)")
    if uuid is None:
        raise OracleError(f"{policy} needs the filesystem's --uuid")
    ctx = (HKDF_CONTEXT_IV_INO_LBLK_64_KEY if policy == "iv_ino_lblk_64"
           else HKDF_CONTEXT_IV_INO_LBLK_32_KEY)
    return fscrypt_hkdf(master_key, ctx, bytes([mode["num"]]) + uuid, mode["keysize"])


def hashed_ino(master_key, ino, hw_wrapped=False):
    """keysetup.c fscrypt_hash_inode_number(): (u32)SipHash-2-4(ino), keyed
    with HKDF context 7 read as two little-endian u64s."""
    key = fscrypt_hkdf(hkdf_secret(master_key, hw_wrapped), HKDF_CONTEXT_INODE_HASH_KEY,
                       b"", 16)
    return siphash24(key, struct.pack("<Q", ino)) & 0xffffffff


def dun_of(policy, index, ino=None, hashed=None):
    """crypto.c fscrypt_generate_iv(): index = data unit index in the file."""
    if policy == "default":
        return index
    if index > 0xffffffff:
        raise OracleError(f"data unit index {index} does not fit {policy}'s 32 bits")
    if policy == "iv_ino_lblk_64":
        if ino is None or not 0 < ino <= 0xffffffff:
            raise OracleError("iv_ino_lblk_64 needs --ino (1 to 2^32 - 1)")
        return ino << 32 | index
    return (hashed + index) & 0xffffffff


def parse_extents(text, du):
    """Lines "LOGICAL PHYSICAL LENGTH FLAGS" (icefs extents)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        f = line.split()
        try:
            if len(f) != 4:
                raise ValueError
            log, phys, length, flags = int(f[0]), int(f[1]), int(f[2]), int(f[3], 16)
        except ValueError:
            raise OracleError(f"extents line {n}: {line!r} is not "
                              "'LOGICAL PHYSICAL LENGTH 0xFLAGS'") from None
        checked = flags
        if flags & FIEMAP_EXTENT_DATA_ENCRYPTED:
            checked &= ~FIEMAP_EXTENT_ENCODED
        bad = [name for bit, name in FIEMAP_BAD.items() if checked & bit]
        if bad:
            raise OracleError(f"extents line {n}: FIEMAP_EXTENT_{'|'.join(bad)}: "
                              "the data is not at a plain physical location")
        if log % du or phys % du or length % du:
            raise OracleError(f"extents line {n}: {line!r} is not aligned to the "
                              f"{du}-byte data unit")
        out.append((log, phys, length, flags))
    return out


def verify(master_key, policy, contents, uuid, ino, nonce, image, extents,
           plaintext, du, image_offset=0, hw_wrapped=False):
    """Returns (units checked, extents used). Checks every data unit; if any
    differs from the recomputed ciphertext, raises OracleError naming the
    first one and how many differ."""
    key = contents_key(master_key, policy, contents, uuid, nonce, hw_wrapped)
    if policy == "iv_ino_lblk_32" and not ino:
        raise OracleError("iv_ino_lblk_32 needs --ino")
    hashed = hashed_ino(master_key, ino, hw_wrapped) if policy == "iv_ino_lblk_32" else None
    units = -(-len(plaintext) // du)
    # The page cache holds zeroes past EOF: the last unit is encrypted padded.
    padded = plaintext + bytes(units * du - len(plaintext))
    used = set()
    checked = bad = 0
    first = ""
    with open(image, "rb") as img:
        for i in range(units):
            off = i * du
            plain = padded[off:off + du]
            ext = next((e for e in extents if e[0] <= off < e[0] + e[2]), None)
            if ext is None or ext[3] & FIEMAP_EXTENT_UNWRITTEN:
                if any(plain):
                    where = "in no extent" if ext is None else "in an unwritten extent"
                    raise OracleError(f"file offset {off}: data unit {i} is {where}, "
                                      "but the plaintext there is not all zero")
                continue  # a hole reads as zeroes: nothing on disk to check
            used.add(ext)
            phys = ext[1] + (off - ext[0])
            dun = dun_of(policy, i, ino, hashed)
            want = encrypt_unit(contents, key, dun, plain)
            img.seek(image_offset + phys)
            got = img.read(du)
            checked += 1
            if got == want:
                continue
            if len(got) < du:
                raise OracleError(f"file offset {off}: physical offset {phys} is past "
                                  f"the end of {image}")
            if not bad:
                b = next(j for j in range(du) if got[j] != want[j])
                first = (f"file offset {off} (data unit {i}, DUN {dun:#x}), physical offset "
                         f"{phys}: byte {b} is {got[b]:#04x}, expected {want[b]:#04x}"
                         + (" (the plaintext is on the disk unencrypted)"
                            if got == plain else ""))
            bad += 1
    if bad:
        # One unit wrong is a corruption; all of them, a wrong key or DUN.
        raise OracleError(f"{first}; {bad} of {checked} data units differ")
    return checked, len(used)


def dm_decrypt(key, image, offset, length, sector_size, iv_offset, out):
    """A dm-inlinecrypt mapping's plaintext (drivers/md/dm-inlinecrypt.c:
    DUN = (iv_offset + 512-byte sector in the target) / (sector_size / 512));
    key is the AES-256-XTS key the engine uses. Returns the sectors written."""
    per = sector_size // 512
    if sector_size & (sector_size - 1) or not 512 <= sector_size <= 4096:
        raise OracleError("--sector-size is a power of 2 from 512 to 4096")
    if length % sector_size or iv_offset % per:
        raise OracleError("--length and --iv-offset must be whole crypto sectors")
    with open(image, "rb") as img, open(out, "wb") as f:
        img.seek(offset)
        for i in range(length // sector_size):
            unit = img.read(sector_size)
            if len(unit) < sector_size:
                raise OracleError(f"{image} ends inside the mapping (sector {i})")
            dun = iv_offset // per + i
            dec = Cipher(algorithms.AES(key), modes.XTS(le128(dun))).decryptor()
            f.write(dec.update(unit) + dec.finalize())
    return length // sector_size


def write_keys_file(path, contents, key, slot, du):
    """An icevmm keys file (docs/ICE.md "Keys files"), mode 0600."""
    alg, bits = CONTENTS[contents]["ice"]
    text = ("; fscrypt_oracle.py derive: one fscrypt contents key -- a secret\n"
            f"[ice]\nalgorithm = {alg}\nkey_bits = {bits}\ndata_unit_sizes = {du}\n\n"
            f"[slot {slot}]\nkey = {key.hex()}\ndata_unit_size = {du}\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


# --- command line -----------------------------------------------------------

def read_master(args):
    if args.master_key is not None and args.master_key_file is not None:
        raise OracleError("give --master-key or --master-key-file, not both")
    if args.master_key is not None:
        if not re.fullmatch(r"([0-9a-fA-F]{2})+", args.master_key):
            raise OracleError("--master-key is not hex")
        key = bytes.fromhex(args.master_key)
    elif args.master_key_file is not None:
        with open(args.master_key_file, "rb") as f:
            key = f.read()
    else:
        raise OracleError("the master key is needed: --master-key HEX or --master-key-file FILE")
    if not 16 <= len(key) <= 64:
        raise OracleError(f"a master key is 16 to 64 bytes, this one {len(key)}")
    if getattr(args, "hw_wrapped", False) and len(key) != 32:
        raise OracleError(f"the raw key of a hardware-wrapped key is 32 bytes, this one {len(key)}")
    return key


def parse_hex_arg(text, n, what):
    if text is None:
        return None
    if not re.fullmatch(r"[0-9a-fA-F]{%d}" % (2 * n), text):
        raise OracleError(f"{what} {text!r} is not {2 * n} hex digits")
    return bytes.fromhex(text)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def master(sp):
        sp.add_argument("--master-key", metavar="HEX")
        sp.add_argument("--master-key-file", metavar="FILE")
        sp.add_argument("--hw-wrapped", action="store_true",
                        help="the raw key of a hardware-wrapped key (32 bytes)")

    def policy(sp):
        sp.add_argument("--policy", choices=POLICIES, required=True)
        sp.add_argument("--contents", choices=sorted(CONTENTS), default="aes-256-xts")
        sp.add_argument("--uuid", help="filesystem UUID (IV_INO_LBLK policies)")
        sp.add_argument("--nonce", metavar="HEX", help="the file's nonce (default policy)")

    sp = sub.add_parser("keyid", help="the master key's identifier (as add-key prints)")
    master(sp)
    sp = sub.add_parser("derive", help="a file's contents key, or an icevmm keys file")
    master(sp)
    policy(sp)
    sp.add_argument("--keys-out", metavar="FILE", help="write an icevmm keys file instead")
    sp.add_argument("--slot", type=int, default=0)
    sp.add_argument("--data-unit", type=int, default=4096)
    sp = sub.add_parser("dun", help="the DUN of a file's data unit")
    master(sp)
    sp.add_argument("--policy", choices=POLICIES, required=True)
    sp.add_argument("--ino", type=int)
    sp.add_argument("--lblk", type=int, required=True,
                    help="data unit index in the file (= block with 4 KiB units)")
    sp = sub.add_parser("verify", help="the file's data units on an image")
    master(sp)
    policy(sp)
    sp.add_argument("--ino", type=int)
    sp.add_argument("--image", required=True)
    sp.add_argument("--extents", required=True, help="`icefs extents` output")
    sp.add_argument("--plaintext", required=True)
    sp.add_argument("--data-unit", type=int, default=4096)
    sp.add_argument("--image-offset", type=int, default=0,
                    help="byte offset of the filesystem in the image")
    sp = sub.add_parser("dm-decrypt", help="a dm-inlinecrypt mapping's plaintext")
    sp.add_argument("--key", required=True, metavar="HEX",
                    help="the mapping's 64-byte key, or with --hw-wrapped the 32-byte raw key "
                    "of its wrapped key")
    sp.add_argument("--hw-wrapped", action="store_true")
    sp.add_argument("--image", required=True)
    sp.add_argument("--offset", type=int, default=0, help="the mapping's start in the image, bytes")
    sp.add_argument("--length", type=int, required=True, help="bytes")
    sp.add_argument("--sector-size", type=int, default=4096)
    sp.add_argument("--iv-offset", type=int, default=0, help="512-byte sectors")
    sp.add_argument("--out", required=True)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if args.cmd == "keyid":
            print(key_identifier(read_master(args), args.hw_wrapped).hex())
        elif args.cmd == "derive":
            mk = read_master(args)
            key = contents_key(mk, args.policy, args.contents,
                               parse_uuid(args.uuid) if args.uuid else None,
                               parse_hex_arg(args.nonce, NONCE_SIZE, "--nonce"),
                               args.hw_wrapped)
            if args.keys_out:
                write_keys_file(args.keys_out, args.contents, key, args.slot, args.data_unit)
                print(f"wrote {args.keys_out}: slot {args.slot}, "
                      f"{CONTENTS[args.contents]['ice'][0]}, data unit {args.data_unit}")
            else:
                print(key.hex())
        elif args.cmd == "dun":
            hashed = None
            if args.policy == "iv_ino_lblk_32":
                if not args.ino:
                    raise OracleError("iv_ino_lblk_32 needs --ino")
                hashed = hashed_ino(read_master(args), args.ino, args.hw_wrapped)
            print(dun_of(args.policy, args.lblk, args.ino, hashed))
        elif args.cmd == "verify":
            du = args.data_unit
            if du & (du - 1) or not 512 <= du <= 65536:
                raise OracleError("--data-unit is a power of 2 from 512 to 65536")
            with open(args.extents) as f:
                extents = parse_extents(f.read(), du)
            with open(args.plaintext, "rb") as f:
                plaintext = f.read()
            checked, used = verify(
                read_master(args), args.policy, args.contents,
                parse_uuid(args.uuid) if args.uuid else None, args.ino,
                parse_hex_arg(args.nonce, NONCE_SIZE, "--nonce"), args.image,
                extents, plaintext, du, args.image_offset, args.hw_wrapped)
            print(f"verify: OK: {checked} data units of {du} bytes at {used} extents "
                  f"match ({args.policy}, {args.contents}"
                  f"{', hardware-wrapped key' if args.hw_wrapped else ''})")
        elif args.cmd == "dm-decrypt":
            raw = parse_hex_arg(args.key, 32 if args.hw_wrapped else 64, "--key")
            key = hw_inline_key(raw) if args.hw_wrapped else raw
            n = dm_decrypt(key, args.image, args.offset, args.length, args.sector_size,
                           args.iv_offset, args.out)
            print(f"dm-decrypt: {n} sectors of {args.sector_size} bytes to {args.out}")
    except (OracleError, OSError) as e:
        print(f"fscrypt_oracle: {args.cmd}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
