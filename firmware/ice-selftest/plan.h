/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ice-selftest test plan: the one table both sides follow. The firmware
 * includes it; the host checker (tests/system/ice-selftest/check.py) parses
 * the PLAN_* #defines and the X(...) rows of PLAN_REGIONS below, and checks
 * that the keys file (tests/system/ice-selftest/keys.conf) agrees with the
 * PLAN_KEYS_* values and with each region's slot and data unit size.
 * Keep every #define a plain number and every row on one line.
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

#endif
