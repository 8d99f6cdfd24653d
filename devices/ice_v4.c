// SPDX-License-Identifier: GPL-2.0
/*
 * The v4 draft's inline-encryption wire format: control-queue command shapes,
 * copy-out and validation, the crypto message of CRYPTO_IN/OUT, and what the
 * device says of itself (devices/ice_v4.h; docs/ICE.md "The v4 format").
 */
#include <string.h>

#include "../virtio/chain.h"
#include "ice.h"
#include "ice_hwkey.h"
#include "ice_v4.h"

/* Little-endian fields decoded byte by byte: no host byte order assumed. */
static uint32_t v4_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void v4_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

bool ice_v4_ctrl_shape(uint32_t type, uint32_t *req, uint32_t *reply)
{
	switch (type) {
	case VIRTIO_BLK_T_GET_CRYPTO_MODES:
		*req = 0;
		*reply = ICE_V4_MODES_SIZE;
		return true;
	case VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM:
	case VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT:
		*req = ICE_V4_KEY_DESC_SIZE;
		*reply = 0;
		return true;
	case VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET:
		*req = ICE_V4_KEY_BLOB_SIZE;
		*reply = ICE_V4_SW_SECRET_SIZE;
		return true;
	case VIRTIO_BLK_T_CRYPTO_GENERATE_KEY:
		*req = 0;
		*reply = ICE_V4_KEY_BLOB_SIZE;
		return true;
	case VIRTIO_BLK_T_CRYPTO_IMPORT_KEY:
	case VIRTIO_BLK_T_CRYPTO_PREPARE_KEY:
		*req = ICE_V4_KEY_BLOB_SIZE;
		*reply = ICE_V4_KEY_BLOB_SIZE;
		return true;
	}
	*req = *reply = 0;
	return false;
}

enum ice_v4_chain ice_v4_ctrl_read(const struct virtq_chain *c, uint8_t *buf, uint32_t *type,
				   uint8_t **status)
{
	const struct virtq_buf *last = c->nbufs ? &c->bufs[c->nbufs - 1] : NULL;
	uint64_t rd = 0, wr = 0;
	uint32_t req, reply;
	unsigned int i;

	*type = 0;
	*status = NULL;
	explicit_bzero(buf, ICE_V4_CTRL_BUF_SIZE);
	if (!last || !last->device_writable || !last->len)
		return ICE_V4_CHAIN_NO_STATUS;
	*status = last->host + last->len - 1;
	/*
	 * Both sides counted here rather than trusted from readable_len and
	 * writable_len; virtq_pop() already refused a readable buffer after a
	 * writable one (2.7.4.2), so the readable side comes first.
	 */
	for (i = 0; i < c->nbufs; i++) {
		if (c->bufs[i].device_writable)
			wr += c->bufs[i].len;
		else
			rd += c->bufs[i].len;
	}
	if (rd < ICE_V4_OUTHDR_SIZE)
		return ICE_V4_CHAIN_MALFORMED;
	chain_copy(c, false, 0, buf, ICE_V4_OUTHDR_SIZE, false);
	*type = v4_le32(buf);
	/* A type with no known shape: nothing but its status byte is judged. */
	if (!ice_v4_ctrl_shape(*type, &req, &reply)) {
		explicit_bzero(buf, ICE_V4_CTRL_BUF_SIZE);
		return ICE_V4_CHAIN_UNSUPP;
	}
	if (rd != ICE_V4_OUTHDR_SIZE + req || wr != (uint64_t)reply + 1) {
		explicit_bzero(buf, ICE_V4_CTRL_BUF_SIZE);
		return ICE_V4_CHAIN_MALFORMED;
	}
	/* The one copy of the request part; only this copy is checked and used. */
	chain_copy(c, false, ICE_V4_OUTHDR_SIZE, buf + ICE_V4_OUTHDR_SIZE, req, false);
	return ICE_V4_CHAIN_OK;
}

static uint8_t v4_program(const uint8_t *kd, const struct ice_v4_caps *caps, struct ice_v4_cmd *cmd)
{
	uint32_t slot = v4_le32(kd + ICE_V4_KD_SLOT);
	uint32_t key_size = v4_le32(kd + ICE_V4_KD_KEY_SIZE);
	uint32_t du_bits = v4_le32(kd + ICE_V4_KD_DU_BITS);
	uint32_t dun_bytes = v4_le32(kd + ICE_V4_KD_DUN_BYTES);
	uint32_t key_type = v4_le32(kd + ICE_V4_KD_KEY_TYPE);
	const uint8_t *key = kd + ICE_V4_KD_BYTES;

	if (slot >= caps->max_slots)
		return ICE_V4_S_IOERR;
	if (v4_le32(kd + ICE_V4_KD_CRYPTO_MODE) != ICE_V4_MODE_AES_256_XTS)
		return ICE_V4_S_IOERR;
	/* A key type the engine offers: bit (type - 1) of key_types. */
	if (key_type < ICE_V4_KEY_TYPE_RAW || key_type > ICE_V4_KEY_TYPE_HW_WRAPPED ||
	    !(caps->key_types & (1u << (key_type - 1))))
		return ICE_V4_S_IOERR;
	if (du_bits >= 32 || !(caps->du_sizes & (1u << du_bits)))
		return ICE_V4_S_IOERR;
	if (dun_bytes < 1 || dun_bytes > caps->max_dun_bytes)
		return ICE_V4_S_IOERR;
	if (key_size !=
		    (key_type == ICE_V4_KEY_TYPE_RAW ? ICE_V4_RAW_KEY_SIZE : ICE_HWKEY_BLOB_SIZE) ||
	    ice_bytes_or(key, key_size, ICE_V4_KEY_MAX))
		return ICE_V4_S_IOERR;
	/* Equal XTS halves, of a raw key or a derived one: the store refuses them (IOERR). */
	cmd->slot = slot;
	cmd->du_size = 1u << du_bits;
	cmd->key_type = key_type;
	cmd->key = key;
	cmd->key_len = key_size;
	return ICE_V4_S_OK;
}

/* A key_blob of exactly size bytes, zero after them. */
static uint8_t v4_key_blob(const uint8_t *kb, uint32_t size, struct ice_v4_cmd *cmd)
{
	if (v4_le32(kb + ICE_V4_KB_KEY_SIZE) != size ||
	    ice_bytes_or(kb + ICE_V4_KB_KEY, size, ICE_V4_KEY_MAX))
		return ICE_V4_S_IOERR;
	cmd->key = kb + ICE_V4_KB_KEY;
	cmd->key_len = size;
	return ICE_V4_S_OK;
}

static uint8_t v4_check(const uint8_t *buf, const struct ice_v4_caps *caps, struct ice_v4_cmd *cmd)
{
	const uint8_t *part = buf + ICE_V4_OUTHDR_SIZE;
	uint32_t type = v4_le32(buf), slot;

	/* ioprio and sector mean nothing to a control command: 0 (docs/ICE.md). */
	if (ice_bytes_or(buf, 4, ICE_V4_OUTHDR_SIZE))
		return ICE_V4_S_IOERR;
	cmd->type = type;
	switch (type) {
	case VIRTIO_BLK_T_GET_CRYPTO_MODES:
		return ICE_V4_S_OK;
	case VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM:
		return v4_program(part, caps, cmd);
	case VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT:
		/* Only the slot: Linux's evict hands the driver the whole key. */
		slot = v4_le32(part + ICE_V4_KD_SLOT);
		if (slot >= caps->max_slots)
			return ICE_V4_S_IOERR;
		cmd->slot = slot;
		return ICE_V4_S_OK;
	}
	/* DERIVE_SW_SECRET, GENERATE, IMPORT, PREPARE: hardware-wrapped keys. */
	if (!(caps->key_types & ICE_V4_KEY_TYPES_HW_WRAPPED))
		return ICE_V4_S_UNSUPP;
	switch (type) {
	case VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET: /* ephemerally-wrapped */
	case VIRTIO_BLK_T_CRYPTO_PREPARE_KEY:	   /* long-term wrapped */
		return v4_key_blob(part, ICE_HWKEY_BLOB_SIZE, cmd);
	case VIRTIO_BLK_T_CRYPTO_IMPORT_KEY:
		return v4_key_blob(part, ICE_HWKEY_RAW_SIZE, cmd);
	case VIRTIO_BLK_T_CRYPTO_GENERATE_KEY:
		return ICE_V4_S_OK;
	}
	return ICE_V4_S_UNSUPP; /* ice_v4_ctrl_read() knows no other type */
}

uint8_t ice_v4_ctrl_parse(uint8_t *buf, const struct ice_v4_caps *caps, struct ice_v4_cmd *cmd)
{
	uint8_t status;

	memset(cmd, 0, sizeof(*cmd));
	status = v4_check(buf, caps, cmd);
	if (status != ICE_V4_S_OK) {
		memset(cmd, 0, sizeof(*cmd));
		explicit_bzero(buf, ICE_V4_CTRL_BUF_SIZE);
	}
	return status;
}

void ice_v4_modes(const struct ice_v4_caps *caps, uint8_t out[ICE_V4_MODES_SIZE])
{
	memset(out, 0, ICE_V4_MODES_SIZE);
	v4_put_le32(out + 4 * ICE_V4_MODE_AES_256_XTS, caps->du_sizes);
}

void ice_v4_config(const struct ice_v4_caps *caps, uint8_t out[ICE_V4_CFG_END - ICE_V4_CFG_OFF])
{
	memset(out, 0, ICE_V4_CFG_END - ICE_V4_CFG_OFF);
	out[ICE_V4_CFG_MAX_SLOTS - ICE_V4_CFG_OFF] = (uint8_t)caps->max_slots;
	out[ICE_V4_CFG_MAX_SLOTS - ICE_V4_CFG_OFF + 1] = (uint8_t)(caps->max_slots >> 8);
	out[ICE_V4_CFG_MAX_DUN_BYTES - ICE_V4_CFG_OFF] = caps->max_dun_bytes;
	out[ICE_V4_CFG_KEY_TYPES - ICE_V4_CFG_OFF] = caps->key_types;
}
