// SPDX-License-Identifier: GPL-2.0
/*
 * The ICE key-queue command: chain shape, copy-out and validation
 * (devices/ice_keyq.h; the contract is docs/ICE.md "Key queue").
 */
#include <errno.h>
#include <string.h>

#include "../virtio/chain.h"
#include "ice.h"
#include "ice_keyq.h"

int ice_keyq_caps_from_config(struct ice_keyq_caps *caps, uint16_t slot_info, uint32_t capability)
{
	unsigned int alg = capability >> 24, key_size = (capability >> 8) & 0xff;
	bool xts = alg == ICE_ALG_AES_XTS; /* data key then tweak key */

	memset(caps, 0, sizeof(*caps));
	if (alg > 3 || key_size < 1 || key_size > 3 || !(slot_info >> 8) ||
	    !((capability >> 16) & 0xff))
		return -EINVAL;
	caps->max_slots = slot_info >> 8;
	caps->du_mask = (capability >> 16) & 0xff;
	caps->key_len = (uint8_t)(ice_aes_key_bytes(key_size) * (xts ? 2 : 1));
	return 0;
}

enum ice_keyq_chain ice_keyq_read(const struct virtq_chain *c, uint8_t *buf, uint8_t **status)
{
	const struct virtq_buf *last = c->nbufs ? &c->bufs[c->nbufs - 1] : NULL;
	uint64_t rd = 0;
	unsigned int i;

	*status = NULL;
	explicit_bzero(buf, ICE_KEYQ_CMD_SIZE);
	if (!last || !last->device_writable || !last->len)
		return ICE_KEYQ_CHAIN_NO_STATUS;
	*status = last->host + last->len - 1;
	/*
	 * The shape, counted here rather than trusted from readable_len and
	 * writable_len: every buffer before the last one readable, 80 bytes in
	 * all, and the last one a single writable byte. (virtq_pop() already
	 * refuses a readable buffer after a writable one, 2.7.4.2.)
	 */
	if (last->len != 1)
		return ICE_KEYQ_CHAIN_MALFORMED;
	for (i = 0; i + 1 < c->nbufs; i++) {
		if (c->bufs[i].device_writable)
			return ICE_KEYQ_CHAIN_MALFORMED;
		rd += c->bufs[i].len;
	}
	if (rd != ICE_KEYQ_CMD_SIZE)
		return ICE_KEYQ_CHAIN_MALFORMED;
	/* The one copy out of guest memory; only this copy is checked and used. */
	chain_copy(c, false, 0, buf, ICE_KEYQ_CMD_SIZE, false);
	return ICE_KEYQ_CHAIN_OK;
}

static uint8_t keyq_check(const uint8_t *buf, const struct ice_keyq_caps *caps,
			  struct ice_keyq_cmd *cmd)
{
	uint8_t slot = buf[ICE_KEYQ_OFF_SLOT], du_mask = buf[ICE_KEYQ_OFF_DU_MASK];
	uint8_t key_len = buf[ICE_KEYQ_OFF_KEY_LEN];
	const uint8_t *key = buf + ICE_KEYQ_OFF_KEY;
	uint32_t op;

	/* Little-endian fields decoded byte by byte: no host byte order assumed. */
	op = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
	     (uint32_t)buf[3] << 24;
	/* Unknown ops first: which fields they use is unknown, so nothing else is judged. */
	if (op < ICE_KEYQ_OP_PROGRAM || op > ICE_KEYQ_OP_EVICT_ALL)
		return ICE_KEYQ_S_UNSUPP;
	/* Reserved fields of every op (the le64 is room for a key type later). */
	if (ice_bytes_or(buf, ICE_KEYQ_OFF_RESERVED, ICE_KEYQ_OFF_KEY))
		return ICE_KEYQ_S_IOERR;

	switch (op) {
	case ICE_KEYQ_OP_PROGRAM:
		if (slot >= caps->max_slots)
			return ICE_KEYQ_S_IOERR;
		/* Exactly one data unit size, and one the engine offers. */
		if (!du_mask || (du_mask & (du_mask - 1)) || !(du_mask & caps->du_mask))
			return ICE_KEYQ_S_IOERR;
		if (!key_len || key_len != caps->key_len || key_len > ICE_KEYQ_KEY_MAX)
			return ICE_KEYQ_S_IOERR;
		if (ice_bytes_or(key, key_len, ICE_KEYQ_KEY_MAX))
			return ICE_KEYQ_S_IOERR;
		/* Equal XTS halves, and keys libgcrypt refuses: the store's (IOERR). */
		cmd->du_size = 512u << __builtin_ctz(du_mask);
		cmd->key = key;
		cmd->key_len = key_len;
		break;
	case ICE_KEYQ_OP_EVICT:
		/* EVICT of a slot the engine does not have is an error, not a no-op. */
		if (slot >= caps->max_slots)
			return ICE_KEYQ_S_IOERR;
		/* fallthrough */
	case ICE_KEYQ_OP_EVICT_ALL:
		if (op == ICE_KEYQ_OP_EVICT_ALL && slot)
			return ICE_KEYQ_S_IOERR;
		if (du_mask || key_len || ice_bytes_or(key, 0, ICE_KEYQ_KEY_MAX))
			return ICE_KEYQ_S_IOERR;
		break;
	}
	cmd->op = op;
	cmd->slot = slot;
	return ICE_KEYQ_S_OK;
}

uint8_t ice_keyq_parse(uint8_t *buf, const struct ice_keyq_caps *caps, struct ice_keyq_cmd *cmd)
{
	uint8_t status;

	memset(cmd, 0, sizeof(*cmd));
	status = keyq_check(buf, caps, cmd);
	if (status != ICE_KEYQ_S_OK) {
		memset(cmd, 0, sizeof(*cmd));
		explicit_bzero(buf, ICE_KEYQ_CMD_SIZE);
	}
	return status;
}
