/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk with VIRTIO_BLK_F_ICE: the constants, the 32-byte request
 * header and the 80-byte key-queue command (virtio 1.2 5.2; the ICE
 * additions as in docs/ICE.md).
 */
#ifndef ICE_SELFTEST_ICEBLK_H
#define ICE_SELFTEST_ICEBLK_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_ICE 22
#define VIRTIO_BLK_F_ICE_KEYQ 63 /* the key queue: index 1 (no VIRTIO_BLK_F_MQ) */

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* struct virtio_blk_config offsets (from the start of config space, mmio 0x100) */
#define VIRTIO_BLK_CFG_CAPACITY 0x00   /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_BLK_SIZE 0x14   /* le32, logical block size */
#define VIRTIO_BLK_CFG_SLOT_INFO 0x60  /* le16: max_slots << 8 | slot_offset */
#define VIRTIO_BLK_CFG_CAPABILITY 0x64 /* le32: alg << 24 | du_mask << 16 | key_size << 8 */

#define VIRTIO_BLK_SECTOR 512
#define ICE_HDR_LEN 32
#define ICE_PLAIN_HDR_LEN 16 /* the header without the crypto payload */

/* IN, OUT and FLUSH once ICE is negotiated; all fields little-endian (as we are). */
struct ice_hdr {
	uint32_t type;
	uint32_t ioprio; /* reserved */
	uint64_t sector;
	uint8_t slot;
	uint8_t activate; /* 0 plain, 1 en/decrypt, anything else is an error */
	uint16_t reserved1;
	uint32_t reserved2;
	uint64_t dun; /* data unit number of the first data unit */
};

_Static_assert(sizeof(struct ice_hdr) == ICE_HDR_LEN, "ICE header is 32 bytes");
_Static_assert(offsetof(struct ice_hdr, slot) == 16, "slot at 16");
_Static_assert(offsetof(struct ice_hdr, dun) == 24, "data_unit_num at 24");

/* Key-queue ops; the status byte takes VIRTIO_BLK_S_* values. */
#define ICE_KEYQ_OP_PROGRAM 1
#define ICE_KEYQ_OP_EVICT 2
#define ICE_KEYQ_OP_EVICT_ALL 3
#define ICE_KEYQ_CMD_LEN 80
#define ICE_KEYQ_KEY_MAX 64

/* A key-queue command: 80 device-readable bytes, then one writable status byte. */
struct ice_keyq_cmd {
	uint32_t op;
	uint8_t slot;
	uint8_t du_mask; /* PROGRAM: one bit, data unit = 512 << bit */
	uint8_t key_len;
	uint8_t reserved;
	uint64_t reserved2;
	uint8_t key[ICE_KEYQ_KEY_MAX];
};

_Static_assert(sizeof(struct ice_keyq_cmd) == ICE_KEYQ_CMD_LEN, "key command is 80 bytes");
_Static_assert(offsetof(struct ice_keyq_cmd, key) == 16, "key at 16");

/*
 * The v4 draft (docs/ICE.md "The v4 format"): bit 22 is the control queue
 * (queue 1) there, bit 23 inline encryption; a disk speaks v2 or v4.
 */
#define VIRTIO_BLK_F_CTRL_VQ 22
#define VIRTIO_BLK_F_INLINE_ENCRYPTION 23

#define VIRTIO_BLK_T_CRYPTO_OUT 27
#define VIRTIO_BLK_T_CRYPTO_IN 28
#define VIRTIO_BLK_T_GET_CRYPTO_MODES 29
#define VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM 30
#define VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT 31

/* struct virtio_blk_enc_characteristics, at 0x60 of config space */
#define V4_CFG_MAX_SLOTS 0x60	  /* le16 */
#define V4_CFG_MAX_DUN_BYTES 0x62 /* u8 */
#define V4_CFG_KEY_TYPES 0x63	  /* u8: bit 0 raw, bit 1 hardware-wrapped */

/* CRYPTO_OUT / CRYPTO_IN: the 16-byte header, then the crypto message. */
struct v4_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
	uint32_t slot;
	uint8_t unused[4];
	uint64_t dun[4]; /* icevmm: dun[0] only (max_dun_bytes 8) */
};

#define V4_HDR_LEN 56
_Static_assert(sizeof(struct v4_hdr) == V4_HDR_LEN, "v4 crypto header is 56 bytes");

/* A control-queue command: the 16-byte header, then a key descriptor. */
struct v4_key_cmd {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
	uint32_t slot;
	uint8_t bytes[128];
	uint32_t key_size;
	uint32_t crypto_mode; /* 1: AES-256-XTS */
	uint32_t key_type;    /* 1: raw */
	uint32_t du_bits;     /* data unit = 1 << du_bits bytes */
	uint32_t dun_bytes;
};

#define V4_KEY_CMD_LEN 168
_Static_assert(sizeof(struct v4_key_cmd) == V4_KEY_CMD_LEN, "v4 key command is 168 bytes");
_Static_assert(offsetof(struct v4_key_cmd, key_size) == 148, "key_size at 16 + 132");

#endif
