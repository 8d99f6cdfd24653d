/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The v4 draft's wire format for inline encryption (docs/ICE.md "The v4
 * format"): key commands on the block control queue (VIRTIO_BLK_F_CTRL_VQ),
 * and the crypto message that follows the header of CRYPTO_IN and CRYPTO_OUT
 * requests (VIRTIO_BLK_F_INLINE_ENCRYPTION). Field layouts are those of the
 * v4 kernel series' uapi header; where the draft is silent, the rules here
 * are icevmm's decisions, written down in docs/ICE.md.
 *
 * No store, no locking, no transport, like devices/ice_keyq.h for v2's key
 * queue: the device reads a command with ice_v4_ctrl_read(), checks it with
 * ice_v4_ctrl_parse(), acts on the store and writes the reply and status.
 *
 * Key hygiene: a command's request part (a key among it) is copied out of
 * guest memory exactly once, by ice_v4_ctrl_read(), into a buffer the caller
 * provides (ICE_V4_CTRL_BUF_SIZE bytes of locked memory). Every refusal wipes
 * it; after an accepted command the caller wipes it once the store has the
 * key. Nothing here logs anything.
 */
#ifndef ICEVMM_ICE_V4_H
#define ICEVMM_ICE_V4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../virtio/virtq.h"

/* Feature bits. A v4 disk never offers v2's VIRTIO_BLK_F_ICE: both are bit 22. */
#define VIRTIO_BLK_F_CTRL_VQ 22
#define VIRTIO_BLK_F_INLINE_ENCRYPTION 23

/* Request types (virtio_blk_outhdr.type) */
#define VIRTIO_BLK_T_CRYPTO_OUT 27	       /* request queues only */
#define VIRTIO_BLK_T_CRYPTO_IN 28	       /* request queues only */
#define VIRTIO_BLK_T_GET_CRYPTO_MODES 29       /* any queue */
#define VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM 30 /* this and below: control queue only */
#define VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT 31
#define VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET 32
#define VIRTIO_BLK_T_CRYPTO_GENERATE_KEY 33
#define VIRTIO_BLK_T_CRYPTO_IMPORT_KEY 34
#define VIRTIO_BLK_T_CRYPTO_PREPARE_KEY 35

/* Status byte: virtio-blk's. */
#define ICE_V4_S_OK 0
#define ICE_V4_S_IOERR 1
#define ICE_V4_S_UNSUPP 2

/* Config space: struct virtio_blk_enc_characteristics, after `zoned`. */
#define ICE_V4_CFG_OFF 0x60
#define ICE_V4_CFG_MAX_SLOTS 0x60     /* le16 */
#define ICE_V4_CFG_MAX_DUN_BYTES 0x62 /* u8 */
#define ICE_V4_CFG_KEY_TYPES 0x63     /* u8, ICE_V4_KEY_TYPES_* */
#define ICE_V4_CFG_END 0x68	      /* after le32 unused at 0x64 */

/* Key types: key_desc.key_type, and bit (1 << (type - 1)) of config's key_types. */
#define ICE_V4_KEY_TYPE_RAW 1
#define ICE_V4_KEY_TYPE_HW_WRAPPED 2
#define ICE_V4_KEY_TYPES_RAW 0x01
#define ICE_V4_KEY_TYPES_HW_WRAPPED 0x02

/* Crypto modes: numbers the draft assigns and never reuses. */
#define ICE_V4_MODE_AES_256_XTS 1
#define ICE_V4_MODE_MAX 1

/* Sizes of the wire structures (all fields little-endian). */
#define ICE_V4_OUTHDR_SIZE 16	  /* le32 type, le32 ioprio, le64 sector */
#define ICE_V4_CRYPTO_MSG_SIZE 40 /* le32 slot, u8 unused[4], le64 dun[4] */
#define ICE_V4_KEY_MAX 128
#define ICE_V4_KEY_DESC_SIZE 152 /* see ICE_V4_KD_* */
#define ICE_V4_KEY_BLOB_SIZE 132 /* le32 key_size, u8 key[128] */
#define ICE_V4_SW_SECRET_SIZE 32
#define ICE_V4_MODES_SIZE (4 * (ICE_V4_MODE_MAX + 1)) /* le32 modes[] */

/* struct virtio_blk_crypto_key_desc */
#define ICE_V4_KD_SLOT 0	  /* le32 */
#define ICE_V4_KD_BYTES 4	  /* u8 bytes[128] */
#define ICE_V4_KD_KEY_SIZE 132	  /* le32 */
#define ICE_V4_KD_CRYPTO_MODE 136 /* le32 */
#define ICE_V4_KD_KEY_TYPE 140	  /* le32 */
#define ICE_V4_KD_DU_BITS 144	  /* le32 data_unit_size_bits */
#define ICE_V4_KD_DUN_BYTES 148	  /* le32 */

/* The raw AES-256-XTS key: data key, then tweak key. */
#define ICE_V4_RAW_KEY_SIZE 64

/* The caller's command buffer: header and the largest request part. */
#define ICE_V4_CTRL_BUF_SIZE (ICE_V4_OUTHDR_SIZE + ICE_V4_KEY_DESC_SIZE)

/*
 * What the engine offers, as config space and GET_CRYPTO_MODES tell the
 * driver: AES-256-XTS only (the one mode the draft defines).
 */
struct ice_v4_caps {
	unsigned int max_slots;
	uint32_t du_sizes;     /* bit i: data units of 2^i bytes (GET_CRYPTO_MODES) */
	uint8_t max_dun_bytes; /* 1..8 */
	uint8_t key_types;     /* ICE_V4_KEY_TYPES_* */
};

/*
 * Bytes of a type's request part (after the header, device-readable) and of
 * its reply part (before the status byte, device-writable) on the control
 * queue. false for a type that is not a control command.
 */
bool ice_v4_ctrl_shape(uint32_t type, uint32_t *req, uint32_t *reply);

enum ice_v4_chain {
	/*
	 * The header and the type's request part are in buf; the writable
	 * side is the type's reply part and one status byte.
	 */
	ICE_V4_CHAIN_OK = 0,
	/*
	 * A type that is no control command (its shape is unknown, so only
	 * the status byte is judged): the caller writes ICE_V4_S_UNSUPP and
	 * completes with used length 1.
	 */
	ICE_V4_CHAIN_UNSUPP = 1,
	/*
	 * Another shape, but the last buffer is device-writable: the caller
	 * writes ICE_V4_S_IOERR (that buffer's last byte) and completes with
	 * used length 1.
	 */
	ICE_V4_CHAIN_MALFORMED = 2,
	/*
	 * No device-writable last buffer: nowhere to report it; used length 0
	 * and DEVICE_NEEDS_RESET. *status is NULL.
	 */
	ICE_V4_CHAIN_NO_STATUS = 3,
};

/*
 * Check a control-queue chain's shape (the header, the request part of its
 * type, the reply part, one status byte: docs/ICE.md) and copy the header
 * and request part into buf, once. *type is the header's type (0 when there
 * is no full header); *status points at the chain's last byte when the last
 * buffer is device-writable.
 */
enum ice_v4_chain ice_v4_ctrl_read(const struct virtq_chain *c, uint8_t *buf, uint32_t *type,
				   uint8_t **status);

/* struct virtio_blk_crypto_key_blob: DERIVE_SW_SECRET, IMPORT, PREPARE */
#define ICE_V4_KB_KEY_SIZE 0 /* le32 */
#define ICE_V4_KB_KEY 4	     /* u8 key[128] */

/* A control command that ice_v4_ctrl_parse() accepted. */
struct ice_v4_cmd {
	uint32_t type;
	unsigned int slot;  /* PROGRAM, EVICT */
	uint32_t du_size;   /* PROGRAM: bytes */
	uint32_t key_type;  /* PROGRAM: ICE_V4_KEY_TYPE_* */
	const uint8_t *key; /* PROGRAM, DERIVE_SW_SECRET, IMPORT, PREPARE: in the caller's buffer */
	size_t key_len;	    /* the same: a raw key, or a wrapped key's blob */
};

/*
 * Check the command ice_v4_ctrl_read() put in buf against caps. Returns
 * ICE_V4_S_OK with *cmd filled (cmd->key points into buf), or ICE_V4_S_IOERR
 * / ICE_V4_S_UNSUPP with buf wiped and *cmd zeroed. The header's ioprio and
 * sector must be 0. PROGRAM: slot < max_slots, crypto mode AES-256-XTS,
 * the raw key type (the one the engine offers for now), a data unit size the
 * engine offers, dun_bytes 1..max_dun_bytes, key_size 64 with unequal halves
 * and zero bytes after it; anything else IOERR. EVICT reads only the slot (a
 * driver may send the whole key descriptor, key included).
 *
 * Hardware-wrapped keys (devices/ice_hwkey.h), only while caps offers that key
 * type: PROGRAM with key type 2 takes an ephemerally-wrapped blob of
 * ICE_HWKEY_BLOB_SIZE bytes; DERIVE_SW_SECRET and PREPARE a blob of that size
 * in their key_blob, IMPORT a raw key of ICE_HWKEY_RAW_SIZE bytes; GENERATE
 * takes nothing. Bytes after key_size must be zero. Whether a blob
 * authenticates is the device's to find out. Without that key type the
 * commands 32 to 35 are UNSUPP and a PROGRAM of key type 2 is IOERR.
 */
uint8_t ice_v4_ctrl_parse(uint8_t *buf, const struct ice_v4_caps *caps, struct ice_v4_cmd *cmd);

/* GET_CRYPTO_MODES' reply: modes[0] = 0, modes[1] = caps->du_sizes. */
void ice_v4_modes(const struct ice_v4_caps *caps, uint8_t out[ICE_V4_MODES_SIZE]);

/* The config fields at ICE_V4_CFG_OFF..ICE_V4_CFG_END (8 bytes, unused zeroed). */
void ice_v4_config(const struct ice_v4_caps *caps, uint8_t out[ICE_V4_CFG_END - ICE_V4_CFG_OFF]);

/*
 * The crypto message of a CRYPTO_IN or CRYPTO_OUT request (the 40 bytes
 * after its header). ICE_V4_S_OK with *slot and *dun set, or ICE_V4_S_IOERR
 * for non-zero unused bytes or a DUN wider than caps->max_dun_bytes. The
 * slot is not judged here: the store refuses an empty or missing one.
 * Inline: it is on every encrypted request's path (make reqpath-count).
 */
static inline uint8_t ice_v4_crypto_msg(const uint8_t msg[ICE_V4_CRYPTO_MSG_SIZE],
					const struct ice_v4_caps *caps, uint32_t *slot,
					uint64_t *dun)
{
	uint64_t d = 0, hi[3];
	uint32_t unused;
	int i;

	/* Zero tests need no byte order: unused[4], then dun[1..3] (64-bit DUNs). */
	memcpy(&unused, msg + 4, 4);
	memcpy(hi, msg + 16, sizeof(hi));
	*slot = 0;
	*dun = 0;
	if (unused | hi[0] | hi[1] | hi[2])
		return ICE_V4_S_IOERR;
	for (i = 7; i >= 0; i--) /* le64 dun[0]; the compiler makes it one load */
		d = d << 8 | msg[8 + i];
	if (caps->max_dun_bytes < 8 && d >> (8 * caps->max_dun_bytes))
		return ICE_V4_S_IOERR;
	*slot = (uint32_t)msg[0] | (uint32_t)msg[1] << 8 | (uint32_t)msg[2] << 16 |
		(uint32_t)msg[3] << 24;
	*dun = d;
	return ICE_V4_S_OK;
}

#endif
