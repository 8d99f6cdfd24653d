/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ice-selftest test plan: the one table both sides follow. The firmware
 * includes it; the host checker (tests/system/ice-selftest/check.py) parses
 * the PLAN_* #defines and the X(...) rows of PLAN_REGIONS, PLAN_GUEST_KEYS
 * and PLAN_GUEST_REGIONS below, and checks that the keys file
 * (tests/system/ice-selftest/keys.conf) agrees with the PLAN_KEYS_* values
 * and with each region's slot and data unit size.
 * Keep every #define a plain number (or one string) and every row on one line.
 *
 * Three kinds of disk, each with its own plan; the firmware tells them apart
 * by VIRTIO_BLK_F_INLINE_ENCRYPTION (v4 only) and VIRTIO_BLK_F_ICE_KEYQ
 * (offered only by a guest-programmed v2 disk):
 *   host-provisioned  (--disk IMG,ice=keys.conf): PLAN_KEYS_*, PLAN_REGIONS,
 *                     PLAN_BAD_REQUESTS;
 *   guest-programmed  (--disk IMG,ice, the default engine): PLAN_GUEST_*,
 *                     the firmware programs its own keys via the key queue;
 *   v4                (--disk IMG,ice,spec=v4): PLAN_V4_*, PLAN_CTRL_*, and
 *                     PLAN_GUEST_KEYS and PLAN_GUEST_REGIONS again.
 */
#ifndef ICE_SELFTEST_PLAN_H
#define ICE_SELFTEST_PLAN_H

/* What keys.conf provisions ([ice] section); config space must say the same. */
#define PLAN_KEYS_ALG 0		/* algorithm id 0: AES-XTS */
#define PLAN_KEYS_KEY_SIZE_ID 3 /* 256 bits per AES key (a 64-byte XTS key) */
#define PLAN_KEYS_DU_MASK 0x09	/* bit 0: 512 B, bit 3: 4096 B */
#define PLAN_KEYS_MAX_SLOTS 8
#define PLAN_KEYS_SLOT_OFFSET 0
#define PLAN_SLOT_INFO 0x0800	   /* max_slots << 8 | slot_offset */
#define PLAN_CAPABILITY 0x00090300 /* alg << 24 | du_mask << 16 | key_size_id << 8 */
#define PLAN_KEYS_BLK_SIZE 4096	   /* config blk_size: the largest data unit */

/* The disk run.sh creates: 1 MiB of zeroes. */
#define PLAN_DISK_SECTORS 2048

/*
 * Encrypted regions, written with activate = 1, read back decrypted and raw:
 *   X(name, id, slot, data unit size, first DUN, sector, bytes, split)
 * split 0: header, data and status in one descriptor each.
 * split 1: header over 2 descriptors (the second also carries data), data
 * over many at odd byte boundaries; reads end with data + status in one.
 * C: its last DUN is exactly 2^64 - 1, which is allowed.
 */
#define PLAN_REGIONS(X)                                                                            \
	X(A, 0, 1, 4096, 1000, 0, 8192, 0)                                                         \
	X(B, 1, 2, 512, 7, 64, 2048, 1)                                                            \
	X(C, 2, 5, 4096, 0xfffffffffffffffe, 128, 8192, 0)

/* Byte j of the region with id r: (j * MUL + r * REGION_MUL + ADD) & 0xff. */
#define PLAN_PATTERN_MUL 131
#define PLAN_PATTERN_REGION_MUL 17
#define PLAN_PATTERN_ADD 5

/*
 * Malformed requests: each must complete with VIRTIO_BLK_S_IOERR (1) and
 * write nothing. Writes among them go to PLAN_BAD_SECTOR + 16 * index, so
 * the area [PLAN_BAD_SECTOR, + PLAN_BAD_SECTORS) must read back as zeroes.
 *   X(name, type, header bytes, slot, activate, DUN, data bytes, status)
 * type: 0 IN, 1 OUT, 4 FLUSH. The last row is the one that must succeed.
 */
#define PLAN_BAD_SECTOR 256
#define PLAN_BAD_SECTORS 256
#define PLAN_BAD_STRIDE 16 /* sectors per malformed request */

#define PLAN_BAD_REQUESTS(X)                                                                       \
	X("OUT activate=2", 1, 32, 1, 2, 0, 4096, 1)                                               \
	X("OUT slot 7 (no key)", 1, 32, 7, 1, 0, 4096, 1)                                          \
	X("OUT slot 8 (>= max_slots)", 1, 32, 8, 1, 0, 4096, 1)                                    \
	X("OUT 512 B on 4 KiB slot 1", 1, 32, 1, 1, 0, 512, 1)                                     \
	X("OUT last DUN past 2^64-1", 1, 32, 5, 1, 0xffffffffffffffff, 8192, 1)                    \
	X("IN 16-byte header", 0, 16, 1, 1, 0, 4096, 1)                                            \
	X("OUT 16-byte header", 1, 16, 1, 1, 0, 0, 1)                                              \
	X("FLUSH activate=3", 4, 32, 0, 3, 0, 0, 1)                                                \
	X("FLUSH activate=1", 4, 32, 0, 1, 0, 0, 0)

/*
 * Guest-programmed disk: the default engine of `--disk IMG,ice` (docs/ICE.md):
 * AES-256-XTS, data units 512..4096, 32 slots, all empty at start and after
 * every device reset. Its logical block (blk_size) is the largest data unit.
 */
#define PLAN_GUEST_DU_MASK 0x0f
#define PLAN_GUEST_MAX_SLOTS 32
#define PLAN_GUEST_SLOT_INFO 0x2000	 /* 32 << 8 | 0 */
#define PLAN_GUEST_CAPABILITY 0x000f0300 /* alg 0, du_mask 0x0f, key size id 3 */
#define PLAN_GUEST_BLK_SIZE 4096
#define PLAN_GUEST_KEY_LEN 64

/*
 * The keys the firmware programs (made-up, test-only byte sequences, each
 * 64 bytes: the data key, then the tweak key, which differ): X(id, hex).
 * check.py decrypts with these.
 */
#define PLAN_GUEST_KEYS(X)                                                                         \
	X(0, "1734516e8ba8c5e2ff1c39567390adcae704213e5b7895b2cfec092643607d9a"                    \
	     "b7d4f10e2b4865829fbcd9f613304d6a87a4c1defb1835526f8ca9c6e3001d3a")                   \
	X(1, "0227c4e98eb350751a3fdcc1e68ba84d721734d9fee380a54a6f0c31d6fb98bd"                    \
	     "a24764092ed3f095ba5f7c61062bc8ed92b754791e0320c5ea8fac51761b38dd")                   \
	X(2, "1d7a6744a18eebc835127f5cb9a683e0cd2a177451be9bf8e5c22f0c6956b390"                    \
	     "fddac724016e4ba895f2df3c19066340ad8af7d4311e7b5845a28fecc9361370")                   \
	X(3, "f81d325774698ea3c0e51a3f5c71968ba8cde20724597e93b0d5caef0c21467b"                    \
	     "98bdd2f714092e436085badffc11362b486d82a7c4f91e3350756a8facc1e61b")

/*
 * Guest-programmed regions: X(name, id, slot, data unit size, first DUN,
 * sector, bytes, split, key, round). Round 0 is written before the device
 * reset, round 1 after it, with slot 3 reprogrammed to key 3 and 1 KiB units.
 * M: its last DUN is exactly 2^64 - 1; L: DUN 0.
 */
#define PLAN_GUEST_REGIONS(X)                                                                      \
	X(K, 3, 3, 4096, 5000, 0, 8192, 0, 0, 0)                                                   \
	X(L, 4, 17, 512, 0, 64, 2048, 1, 1, 0)                                                     \
	X(M, 5, 31, 4096, 0xfffffffffffffffe, 128, 8192, 0, 2, 0)                                  \
	X(N, 6, 3, 1024, 0x0123456789abcdef, 192, 4096, 0, 3, 1)

/*
 * Key-queue commands (docs/ICE.md, "Key queue"), one batch per table, each
 * with all its commands in flight on one QueueNotify, processed in order:
 *   X(name, op, slot, du_mask, key_len, key, poke offset, poke value, layout, status)
 * key: a PLAN_GUEST_KEYS id, PLAN_KEY_NONE (zeros) or PLAN_KEY_EQUAL_HALVES
 * (key 0's first half twice). poke: after building, byte [offset] = value
 * (offset 0: none). layout: 0 command, status one descriptor each; 1 the
 * command over 5 + 70 + 5 bytes; 2 only 79 command bytes (malformed).
 * status: 0 OK, 1 IOERR, 2 UNSUPP. The refusals aim at programmed slots
 * with another key: the I/O after them shows they changed nothing.
 */
#define PLAN_KEY_NONE 15
#define PLAN_KEY_EQUAL_HALVES 14

#define PLAN_KEYQ_PROGRAM(X)                                                                       \
	X("PROGRAM slot 3 key 0 DU 4096", 1, 3, 0x08, 64, 0, 0, 0, 0, 0)                           \
	X("PROGRAM slot 17 key 1 DU 512 (split)", 1, 17, 0x01, 64, 1, 0, 0, 1, 0)                  \
	X("PROGRAM slot 31 key 2 DU 4096", 1, 31, 0x08, 64, 2, 0, 0, 0, 0)                         \
	X("PROGRAM slot 32 (>= max_slots)", 1, 32, 0x08, 64, 3, 0, 0, 0, 1)                        \
	X("PROGRAM slot 255", 1, 255, 0x08, 64, 3, 0, 0, 0, 1)                                     \
	X("EVICT slot 32 (>= max_slots)", 2, 32, 0, 0, PLAN_KEY_NONE, 0, 0, 0, 1)                  \
	X("op 4 (unknown)", 4, 3, 0, 0, PLAN_KEY_NONE, 0, 0, 0, 2)                                 \
	X("op 0 (unknown)", 0, 3, 0, 0, PLAN_KEY_NONE, 0, 0, 0, 2)                                 \
	X("PROGRAM du_mask 0x09 (two bits)", 1, 3, 0x09, 64, 3, 0, 0, 0, 1)                        \
	X("PROGRAM du_mask 0", 1, 3, 0, 64, 3, 0, 0, 0, 1)                                         \
	X("PROGRAM du_mask 0x10 (8 KiB, not offered)", 1, 3, 0x10, 64, 3, 0, 0, 0, 1)              \
	X("PROGRAM key_len 32", 1, 3, 0x08, 32, 3, 0, 0, 0, 1)                                     \
	X("PROGRAM reserved u8 = 1", 1, 3, 0x08, 64, 3, 7, 1, 0, 1)                                \
	X("PROGRAM reserved le64 bit 32", 1, 3, 0x08, 64, 3, 12, 1, 0, 1)                          \
	X("PROGRAM equal XTS halves", 1, 17, 0x01, 64, PLAN_KEY_EQUAL_HALVES, 0, 0, 0, 1)          \
	X("EVICT slot 3 with key_len 64", 2, 3, 0, 64, PLAN_KEY_NONE, 0, 0, 0, 1)                  \
	X("EVICT slot 3 with a key byte", 2, 3, 0, 0, PLAN_KEY_NONE, 79, 1, 0, 1)                  \
	X("EVICT_ALL with slot 3", 3, 3, 0, 0, PLAN_KEY_NONE, 0, 0, 0, 1)                          \
	X("PROGRAM slot 31 in 79 bytes", 1, 31, 0x08, 64, 3, 0, 0, 2, 1)

#define PLAN_KEYQ_EVICT(X)                                                                         \
	X("EVICT slot 17", 2, 17, 0, 0, PLAN_KEY_NONE, 0, 0, 0, 0)                                 \
	X("EVICT slot 17 again (empty)", 2, 17, 0, 0, PLAN_KEY_NONE, 0, 0, 0, 0)                   \
	X("EVICT slot 0 (never programmed)", 2, 0, 0, 0, PLAN_KEY_NONE, 0, 0, 0, 0)

#define PLAN_KEYQ_REPROGRAM(X)                                                                     \
	X("PROGRAM slot 3 key 3 DU 1024", 1, 3, 0x02, 64, 3, 0, 0, 0, 0)                           \
	X("PROGRAM slot 31 key 2 DU 4096", 1, 31, 0x08, 64, 2, 0, 0, 0, 0)

#define PLAN_KEYQ_EVICT_ALL(X) X("EVICT_ALL", 3, 0, 0, 0, PLAN_KEY_NONE, 0, 0, 0, 0)

/*
 * v4 disk (--disk IMG,ice,spec=v4; docs/ICE.md "The v4 format"): the same
 * default engine, keys and regions as the guest-programmed disk (so its image
 * must end up byte for byte like that one), programmed through the control
 * queue (queue 1) instead, with CRYPTO_OUT / CRYPTO_IN on the request queue.
 * Config: max_slots 32, max_dun_bytes 8, key_types raw and hardware-wrapped
 * (1 | 2); GET_CRYPTO_MODES:
 * AES-256-XTS with data units 512..4096 (bits 9..12).
 */
#define PLAN_V4_MAX_SLOTS 32
#define PLAN_V4_MAX_DUN_BYTES 8
#define PLAN_V4_KEY_TYPES 3
#define PLAN_V4_MODES_1 0x1e00

/*
 * Control-queue commands, one batch per table:
 *   X(name, type, slot, du_bits, key, poke offset, poke value, layout, status)
 * key, poke, layout and status as for the key queue above; the poke offset is
 * into the 168-byte command (16-byte header, then the key descriptor:
 * slot 16, bytes 20, key_size 148, crypto_mode 152, key_type 156,
 * data_unit_size_bits 160, dun_bytes 164); layout 2 sends 167 bytes.
 */
#define PLAN_CTRL_PROGRAM(X)                                                                       \
	X("PROGRAM slot 3 key 0 DU 4096", 30, 3, 12, 0, 0, 0, 0, 0)                                \
	X("PROGRAM slot 17 key 1 DU 512 (split)", 30, 17, 9, 1, 0, 0, 1, 0)                        \
	X("PROGRAM slot 31 key 2 DU 4096", 30, 31, 12, 2, 0, 0, 0, 0)                              \
	X("PROGRAM slot 32 (>= max_slots)", 30, 32, 12, 3, 0, 0, 0, 1)                             \
	X("PROGRAM crypto mode 2", 30, 3, 12, 3, 152, 2, 0, 1)                                     \
	X("PROGRAM key type hw-wrapped, 64 key bytes", 30, 3, 12, 3, 156, 2, 0, 1)                 \
	X("PROGRAM DU 8192 (not offered)", 30, 3, 13, 3, 0, 0, 0, 1)                               \
	X("PROGRAM dun_bytes 9", 30, 3, 12, 3, 164, 9, 0, 1)                                       \
	X("PROGRAM key_size 32", 30, 3, 12, 3, 148, 32, 0, 1)                                      \
	X("PROGRAM a byte past key_size", 30, 3, 12, 3, 84, 1, 0, 1)                               \
	X("PROGRAM header sector 1", 30, 3, 12, 3, 8, 1, 0, 1)                                     \
	X("PROGRAM equal XTS halves", 30, 17, 9, PLAN_KEY_EQUAL_HALVES, 0, 0, 0, 1)                \
	X("EVICT slot 32 (>= max_slots)", 31, 32, 0, PLAN_KEY_NONE, 0, 0, 0, 1)                    \
	X("type 99 (unknown)", 99, 3, 12, 3, 0, 0, 0, 2)                                           \
	X("CRYPTO_OUT on the control queue", 27, 3, 12, 3, 0, 0, 0, 2)                             \
	X("PROGRAM slot 31 in 167 bytes", 30, 31, 12, 3, 0, 0, 2, 1)

#define PLAN_CTRL_EVICT(X)                                                                         \
	X("EVICT slot 17", 31, 17, 0, PLAN_KEY_NONE, 0, 0, 0, 0)                                   \
	X("EVICT slot 17 again (empty)", 31, 17, 0, PLAN_KEY_NONE, 0, 0, 0, 0)                     \
	X("EVICT slot 0 (never programmed), key bytes along", 31, 0, 12, 3, 0, 0, 0, 0)

#define PLAN_CTRL_REPROGRAM(X)                                                                     \
	X("PROGRAM slot 3 key 3 DU 1024", 30, 3, 10, 3, 0, 0, 0, 0)                                \
	X("PROGRAM slot 31 key 2 DU 4096", 30, 31, 12, 2, 0, 0, 0, 0)

#define PLAN_CTRL_EVICT_REST(X)                                                                    \
	X("EVICT slot 3", 31, 3, 0, PLAN_KEY_NONE, 0, 0, 0, 0)                                     \
	X("EVICT slot 31", 31, 31, 0, PLAN_KEY_NONE, 0, 0, 0, 0)

#endif
