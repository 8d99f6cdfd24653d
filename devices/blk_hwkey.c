// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware-wrapped keys on a v4 disk's control queue (docs/ICE.md,
 * "Hardware-wrapped keys"): IMPORT, GENERATE, PREPARE and DERIVE_SW_SECRET,
 * and the key a PROGRAM of key type 2 puts in its slot. The cryptography is
 * devices/ice_hwkey.c's; this file holds the wrapping keys and serves the
 * commands blk_ctrl.c parsed (devices/ice_v4.c).
 *
 * Two wrapping keys per disk, in libgcrypt's locked memory: the long-term
 * one (the keys file's wrapping_key, or else one drawn for this run, so that
 * long-term blobs then last for the run only: said at start-up), and the
 * ephemeral one, drawn at start-up, kept across device resets (Linux
 * programs the same ephemeral blobs again after a reset) and never across
 * runs, like an engine's per-power-up key. Every unwrapped or derived key
 * lives in the same locked block and is wiped after each command.
 */
#include <stdlib.h>
#include <string.h>

#include "../virtio/chain.h"
#include "../vmm/log.h"
#include "blk.h"
#include "ice_hwkey.h"

struct blk_hwkey {
	uint8_t long_term[ICE_HWKEY_WRAPPING_KEY_SIZE];
	uint8_t ephemeral[ICE_HWKEY_WRAPPING_KEY_SIZE];
	/* Scratch of one command (the control queue serves one at a time) */
	uint8_t raw[ICE_HWKEY_RAW_SIZE];
	uint8_t derived[ICE_HWKEY_INLINE_KEY_SIZE];
	uint8_t reply[ICE_V4_KEY_BLOB_SIZE]; /* a key_blob, or the software secret */
};

static void hwkey_wipe_scratch(struct blk_hwkey *hw)
{
	explicit_bzero(hw->raw, sizeof(hw->raw));
	explicit_bzero(hw->derived, sizeof(hw->derived));
	explicit_bzero(hw->reply, sizeof(hw->reply));
}

int blk_hwkey_open(struct blk_ctrl *cq, const struct ice_store *s, const char *path)
{
	struct blk_hwkey *hw = ice_secure_alloc(sizeof(*hw));

	if (!hw) {
		pr_err("disk %s: hardware-wrapped keys: out of (locked) memory", path);
		return -1;
	}
	if (ice_wrapping_key(s))
		memcpy(hw->long_term, ice_wrapping_key(s), sizeof(hw->long_term));
	else if (ice_hwkey_random(hw->long_term, sizeof(hw->long_term)))
		goto fail;
	if (ice_hwkey_random(hw->ephemeral, sizeof(hw->ephemeral)))
		goto fail;
	if (!ice_wrapping_key(s))
		pr_info("disk %s: no wrapping_key in a keys file: long-term wrapped keys made "
			"in this run will not prepare in another (docs/ICE.md)",
			path);
	cq->hw = hw;
	return 0;
fail:
	pr_err("disk %s: hardware-wrapped keys: no random bytes from the kernel", path);
	ice_secure_free(hw);
	return -1;
}

void blk_hwkey_close(struct blk_ctrl *cq)
{
	ice_secure_free(cq->hw); /* wipes it */
	cq->hw = NULL;
}

/* The key_blob reply of a wrapped key: le32 size, the blob, zeros. */
static void reply_blob(struct blk_hwkey *hw, const uint8_t *wkey, enum ice_hwkey_kind kind,
		       uint32_t *len, int *status)
{
	hw->reply[ICE_V4_KB_KEY_SIZE] = ICE_HWKEY_BLOB_SIZE;
	if (ice_hwkey_wrap(wkey, kind, hw->raw, hw->reply + ICE_V4_KB_KEY))
		return;
	*len = ICE_V4_KEY_BLOB_SIZE;
	*status = ICE_V4_S_OK;
}

int blk_hwkey_command(struct blk_dev *b, const struct ice_v4_cmd *cmd, const struct virtq_chain *c,
		      int64_t *used)
{
	struct blk_ctrl *cq = b->ctrl;
	struct blk_hwkey *hw = cq->hw;
	int status = ICE_V4_S_IOERR;
	uint32_t len = 0;

	memset(hw->reply, 0, sizeof(hw->reply));
	switch (cmd->type) {
	case VIRTIO_BLK_T_CRYPTO_IMPORT_KEY:
		memcpy(hw->raw, cmd->key, ICE_HWKEY_RAW_SIZE);
		reply_blob(hw, hw->long_term, ICE_HWKEY_LONG_TERM, &len, &status);
		break;
	case VIRTIO_BLK_T_CRYPTO_GENERATE_KEY:
		if (!ice_hwkey_random(hw->raw, sizeof(hw->raw)))
			reply_blob(hw, hw->long_term, ICE_HWKEY_LONG_TERM, &len, &status);
		break;
	case VIRTIO_BLK_T_CRYPTO_PREPARE_KEY:
		if (!ice_hwkey_unwrap(hw->long_term, ICE_HWKEY_LONG_TERM, cmd->key, cmd->key_len,
				      hw->raw))
			reply_blob(hw, hw->ephemeral, ICE_HWKEY_EPHEMERAL, &len, &status);
		break;
	case VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET:
		if (!ice_hwkey_unwrap(hw->ephemeral, ICE_HWKEY_EPHEMERAL, cmd->key, cmd->key_len,
				      hw->raw) &&
		    !ice_hwkey_sw_secret(hw->raw, hw->reply)) {
			len = ICE_HWKEY_SW_SECRET_SIZE;
			status = ICE_V4_S_OK;
		}
		break;
	}
	/* After a reset the buffers are the driver's again: no reply, no status. */
	if (status == ICE_V4_S_OK && !virtio_chain_current(c)) {
		status = -1;
	} else if (status == ICE_V4_S_OK) {
		chain_copy(c, true, 0, hw->reply, len, true);
		*used = len + 1;
		atomic_fetch_add_explicit(
			&cq->wrapped_cmds[cmd->type - VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET], 1,
			memory_order_relaxed);
	}
	hwkey_wipe_scratch(hw);
	return status;
}

const uint8_t *blk_hwkey_inline_key(struct blk_ctrl *cq, const uint8_t *blob, size_t len)
{
	struct blk_hwkey *hw = cq->hw;

	if (ice_hwkey_unwrap(hw->ephemeral, ICE_HWKEY_EPHEMERAL, blob, len, hw->raw) ||
	    ice_hwkey_inline_key(hw->raw, hw->derived)) {
		hwkey_wipe_scratch(hw);
		return NULL;
	}
	explicit_bzero(hw->raw, sizeof(hw->raw));
	return hw->derived;
}

void blk_hwkey_done(struct blk_ctrl *cq)
{
	hwkey_wipe_scratch(cq->hw);
}
