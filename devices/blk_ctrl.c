// SPDX-License-Identifier: GPL-2.0
/*
 * Inline encryption as the v4 draft has it (docs/ICE.md "The v4 format"): key
 * commands on the block control queue (VIRTIO_BLK_F_CTRL_VQ, queue 1), and
 * the v4 request types on the request queue (VIRTIO_BLK_F_INLINE_ENCRYPTION)
 * but CRYPTO_IN and CRYPTO_OUT, which blk.c parses on its hot path. The wire
 * format is devices/ice_v4.c's; this file applies it to the keyslot store.
 *
 * Ordering with a device reset is v2's key queue's (devices/blk_keyq.c): a
 * PROGRAM commits under the store's key_lock only while its chain is current,
 * and the reset evicts every slot under that lock after the generation moved
 * on, so a command that raced with a reset never lands in the fresh device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../virtio/chain.h"
#include "../vmm/log.h"
#include "blk.h"
#include "ice_hwkey.h"

/*
 * What the engine offers in v4's terms. v4 defines one crypto mode,
 * AES-256-XTS; the default engine and a keys file's [ice] may describe others
 * for v2, which a v4 disk refuses at start-up.
 */
static int ctrl_caps(const struct ice_store *s, struct ice_v4_caps *caps, const char *path)
{
	if (!ice_is_aes_256_xts(s)) {
		pr_err("disk %s: a v4 ICE disk's engine is AES-256-XTS, the one crypto mode of the "
		       "v4 draft (its keys file says another algorithm or key size)",
		       path);
		return -1;
	}
	if (!ice_guest_programmed(s)) {
		pr_err("disk %s: a v4 ICE disk's keys are programmed by its guest on the control "
		       "queue; its keys file has [slot N] sections or guest_keys = no (those "
		       "describe a v2 disk)",
		       path);
		return -1;
	}
	caps->max_slots = ice_max_slots(s);
	caps->du_sizes = (uint32_t)ice_du_mask(s) << 9; /* bit j of du_mask: 512 << j bytes */
	caps->max_dun_bytes = 8;			/* DUNs are 64-bit (docs/ICE.md) */
	caps->key_types = ICE_V4_KEY_TYPES_RAW | ICE_V4_KEY_TYPES_HW_WRAPPED;
	return 0;
}

int blk_ctrl_open(struct blk_dev *b, const char *path)
{
	struct blk_ctrl *cq = calloc(1, sizeof(*cq));

	if (!cq)
		goto nomem;
	if (ctrl_caps(b->ice, &cq->caps, path))
		goto fail;
	/* The only copy of a guest's key outside libgcrypt's handles: locked, wiped. */
	cq->cmd = ice_secure_alloc(ICE_V4_CTRL_BUF_SIZE);
	if (!cq->cmd)
		goto nomem;
	if (blk_hwkey_open(cq, b->ice, path))
		goto fail;
	b->ctrl = cq;
	return 0;
nomem:
	pr_err("disk %s: ICE control queue: out of (locked) memory", path);
fail:
	if (cq)
		ice_secure_free(cq->cmd);
	free(cq);
	return -1;
}

void blk_ctrl_close(struct blk_dev *b)
{
	if (!b->ctrl)
		return;
	blk_hwkey_close(b->ctrl);
	ice_secure_free(b->ctrl->cmd);
	free(b->ctrl);
	b->ctrl = NULL;
}

/* GET_CRYPTO_MODES' reply, on either queue; returns the used length. */
static int64_t ctrl_modes(const struct blk_dev *b, const struct virtq_chain *c)
{
	uint8_t modes[ICE_V4_MODES_SIZE];

	ice_v4_modes(&b->ctrl->caps, modes);
	chain_copy(c, true, 0, modes, ICE_V4_MODES_SIZE, true);
	return ICE_V4_MODES_SIZE + 1;
}

/*
 * An accepted command against the store: a status, or -1 for a PROGRAM a
 * device reset cancelled (its completion never reaches the driver).
 * *used counts the reply bytes written and the status byte.
 */
static int ctrl_apply(struct blk_dev *b, const struct ice_v4_cmd *cmd, const struct virtq_chain *c,
		      int64_t *used)
{
	struct blk_ctrl *cq = b->ctrl;
	const uint8_t *key = cmd->key;
	size_t key_len = cmd->key_len;
	int err;

	switch (cmd->type) {
	case VIRTIO_BLK_T_GET_CRYPTO_MODES:
		*used = ctrl_modes(b, c);
		return ICE_V4_S_OK;
	case VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM:
		/* A wrapped key: the slot gets the inline-encryption key derived from it. */
		if (cmd->key_type == ICE_V4_KEY_TYPE_HW_WRAPPED) {
			key = blk_hwkey_inline_key(cq, cmd->key, cmd->key_len);
			if (!key)
				return ICE_V4_S_IOERR; /* does not unwrap: the slot is unchanged */
			key_len = ICE_HWKEY_INLINE_KEY_SIZE;
		}
		/* A key libgcrypt refuses, or a reset meanwhile: the slot is unchanged. */
		err = ice_slot_program_if(b->ice, cmd->slot, key, key_len, cmd->du_size,
					  virtio_chain_still_current, c);
		if (cmd->key_type == ICE_V4_KEY_TYPE_HW_WRAPPED)
			blk_hwkey_done(cq);
		if (err)
			return err == -ECANCELED ? -1 : ICE_V4_S_IOERR;
		atomic_fetch_add_explicit(&cq->programs, 1, memory_order_relaxed);
		return ICE_V4_S_OK;
	case VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT:
		ice_slot_evict(b->ice, cmd->slot);
		atomic_fetch_add_explicit(&cq->evicts, 1, memory_order_relaxed);
		return ICE_V4_S_OK;
	case VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET:
	case VIRTIO_BLK_T_CRYPTO_GENERATE_KEY:
	case VIRTIO_BLK_T_CRYPTO_IMPORT_KEY:
	case VIRTIO_BLK_T_CRYPTO_PREPARE_KEY:
		return blk_hwkey_command(b, cmd, c, used);
	}
	return ICE_V4_S_UNSUPP; /* ice_v4_ctrl_parse() accepts no other type */
}

/*
 * One chain of the control queue; returns the used length (the reply bytes
 * written and the status byte), or -1 for a chain with no status byte (used
 * length 0, DEVICE_NEEDS_RESET), as on the request queue.
 */
int64_t blk_ctrl_handle(struct blk_dev *b, const struct virtq_chain *c, uint64_t features)
{
	struct blk_ctrl *cq = b->ctrl;
	struct ice_v4_cmd cmd;
	enum blk_key_fault fault = BLK_FAULT_NONE;
	int64_t used = 1, faulty;
	uint8_t *status;
	uint32_t type;
	int s;

	switch (ice_v4_ctrl_read(c, cq->cmd, &type, &status)) {
	case ICE_V4_CHAIN_NO_STATUS:
		return -1;
	case ICE_V4_CHAIN_UNSUPP:
		*status = ICE_V4_S_UNSUPP;
		return 1;
	case ICE_V4_CHAIN_MALFORMED:
		*status = ICE_V4_S_IOERR;
		return 1;
	case ICE_V4_CHAIN_OK:
		break;
	}
	/*
	 * The queue exists for a driver that negotiated it: one that did not
	 * gets IOERR for every command. Its commands so far are all about
	 * inline encryption: UNSUPP unless that was negotiated too.
	 */
	if (!virtio_has_feature(features, VIRTIO_BLK_F_CTRL_VQ))
		s = ICE_V4_S_IOERR;
	else if (!virtio_has_feature(features, VIRTIO_BLK_F_INLINE_ENCRYPTION))
		s = ICE_V4_S_UNSUPP;
	else if ((s = ice_v4_ctrl_parse(cq->cmd, &cq->caps, &cmd)) == ICE_V4_S_OK &&
		 cmd.type == VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM)
		fault = blk_program_fault(b);
	if (fault == BLK_FAULT_FAIL_REPROGRAM) /* unless a reset took the chain back */
		s = virtio_chain_current(c) ? ICE_V4_S_IOERR : -1;
	else if (s == ICE_V4_S_OK && fault == BLK_FAULT_NONE)
		s = ctrl_apply(b, &cmd, c, &used);
	explicit_bzero(cq->cmd, ICE_V4_CTRL_BUF_SIZE);
	if ((faulty = blk_fault_chain(fault)))
		return faulty;
	/* After a reset the buffers are the driver's again: leave them alone. */
	if (s >= 0)
		*status = (uint8_t)s;
	return used;
}

uint8_t blk_v4_request(struct blk_dev *b, const struct virtq_chain *c, uint64_t features,
		       uint32_t type, int64_t *used)
{
	if (!virtio_has_feature(features, VIRTIO_BLK_F_INLINE_ENCRYPTION))
		return VIRTIO_BLK_S_UNSUPP;
	if (type != VIRTIO_BLK_T_GET_CRYPTO_MODES)
		return VIRTIO_BLK_S_UNSUPP; /* key commands: on the control queue only */
	/* Served on both queues (docs/ICE.md): the header, the modes, the status. */
	if (c->readable_len != ICE_V4_OUTHDR_SIZE || c->writable_len != ICE_V4_MODES_SIZE + 1)
		return VIRTIO_BLK_S_IOERR;
	*used = ctrl_modes(b, c);
	return VIRTIO_BLK_S_OK;
}
