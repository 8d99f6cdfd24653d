// SPDX-License-Identifier: GPL-2.0
/*
 * The ICE key queue of a virtio-blk disk (VIRTIO_BLK_F_ICE_KEYQ, docs/ICE.md
 * "Key queue"): the guest's PROGRAM, EVICT and EVICT_ALL commands, applied
 * to the disk's keyslot store while requests run on the other queue.
 *
 * Ordering with a device reset: the transport moves the queue's generation
 * on, then calls the reset hook, which evicts every slot under the store's
 * key_lock. A PROGRAM commits under that same lock only while its chain is
 * current (ice_slot_program_if()), so a command that raced with a reset
 * is either wiped by it or never lands: the fresh device has empty slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/log.h"
#include "blk.h"

int blk_keyq_open(struct blk_dev *b)
{
	struct blk_keyq *kq = calloc(1, sizeof(*kq));

	if (!kq)
		goto nomem;
	/* The driver sees the engine through these two words: judge commands by them too. */
	if (ice_keyq_caps_from_config(&kq->caps, ice_slot_info(b->ice), ice_capability(b->ice)))
		goto fail;
	/* The only copy of a guest's key outside libgcrypt's handles: locked, wiped. */
	kq->cmd = ice_secure_alloc(ICE_KEYQ_CMD_SIZE);
	if (!kq->cmd)
		goto nomem;
	b->keyq = kq;
	return 0;
nomem:
	pr_err("ICE key queue: out of (locked) memory");
fail:
	free(kq);
	return -1;
}

void blk_keyq_close(struct blk_dev *b)
{
	if (!b->keyq)
		return;
	ice_secure_free(b->keyq->cmd);
	free(b->keyq);
	b->keyq = NULL;
}

/*
 * An accepted command against the store: a key-queue status, or -1 for a
 * PROGRAM a device reset cancelled (its completion never reaches the driver).
 */
static int keyq_apply(struct blk_dev *b, const struct ice_keyq_cmd *cmd,
		      const struct virtq_chain *c)
{
	struct blk_keyq *kq = b->keyq;
	int err;

	switch (cmd->op) {
	case ICE_KEYQ_OP_PROGRAM:
		/* A key libgcrypt refuses, or a reset meanwhile: the slot is unchanged. */
		err = ice_slot_program_if(b->ice, cmd->slot, cmd->key, cmd->key_len, cmd->du_size,
					  virtio_chain_still_current, c);
		if (err)
			return err == -ECANCELED ? -1 : ICE_KEYQ_S_IOERR;
		atomic_fetch_add_explicit(&kq->programs, 1, memory_order_relaxed);
		return ICE_KEYQ_S_OK;
	case ICE_KEYQ_OP_EVICT:
		ice_slot_evict(b->ice, cmd->slot);
		break;
	case ICE_KEYQ_OP_EVICT_ALL:
		ice_store_evict_all(b->ice);
		break;
	}
	atomic_fetch_add_explicit(&kq->evicts, 1, memory_order_relaxed);
	return ICE_KEYQ_S_OK;
}

/*
 * One chain of the key queue; returns the used length (1: the status byte),
 * or -1 for a chain with no status byte (used length 0, DEVICE_NEEDS_RESET),
 * as on the request queue.
 */
int64_t blk_keyq_handle(struct blk_dev *b, const struct virtq_chain *c, uint64_t features)
{
	struct blk_keyq *kq = b->keyq;
	enum blk_key_fault fault = BLK_FAULT_NONE;
	struct ice_keyq_cmd cmd;
	uint8_t *status;
	int64_t faulty;
	int s;

	switch (ice_keyq_read(c, kq->cmd, &status)) {
	case ICE_KEYQ_CHAIN_NO_STATUS:
		return -1;
	case ICE_KEYQ_CHAIN_MALFORMED:
		*status = ICE_KEYQ_S_IOERR;
		return 1;
	case ICE_KEYQ_CHAIN_OK:
		break;
	}
	/*
	 * The queue exists for a driver that negotiated the key queue; one
	 * that did not gets IOERR for every command, and nothing changes.
	 */
	if (!virtio_has_feature(features, VIRTIO_BLK_F_ICE_KEYQ))
		s = ICE_KEYQ_S_IOERR;
	else if ((s = ice_keyq_parse(kq->cmd, &kq->caps, &cmd)) == ICE_KEYQ_S_OK &&
		 cmd.op == ICE_KEYQ_OP_PROGRAM)
		fault = blk_program_fault(b);
	if (fault == BLK_FAULT_FAIL_REPROGRAM) /* unless a reset took the chain back */
		s = virtio_chain_current(c) ? ICE_KEYQ_S_IOERR : -1;
	else if (s == ICE_KEYQ_S_OK && fault == BLK_FAULT_NONE)
		s = keyq_apply(b, &cmd, c);
	explicit_bzero(kq->cmd, ICE_KEYQ_CMD_SIZE);
	if ((faulty = blk_fault_chain(fault)))
		return faulty;
	/* After a reset the buffers are the driver's again: leave them alone. */
	if (s >= 0)
		*status = (uint8_t)s;
	return 1;
}
