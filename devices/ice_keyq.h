/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ICE key queue (VIRTIO_BLK_F_ICE_KEYQ, docs/ICE.md "Key queue"): the
 * command a guest driver sends to program or evict a keyslot, read out of a
 * validated descriptor chain and checked against the engine's capability.
 * No store, no locking, no virtio transport: the device reads a command with
 * ice_keyq_read(), checks it with ice_keyq_parse(), then acts on the store
 * and writes the status byte.
 *
 * Key hygiene: the 80 command bytes (the key among them) are copied out of
 * guest memory exactly once, by ice_keyq_read(), into a buffer the caller
 * provides — locked memory in the device. Both functions wipe that buffer on
 * every refusal; after an accepted command the caller wipes it once the store
 * has the key. Nothing here logs anything.
 *
 * The caller, per chain (used length 1 whenever there is a status byte):
 *
 *	switch (ice_keyq_read(c, buf, &status)) {
 *	case ICE_KEYQ_CHAIN_NO_STATUS:
 *		return -1;		// used length 0, DEVICE_NEEDS_RESET
 *	case ICE_KEYQ_CHAIN_MALFORMED:
 *		*status = ICE_KEYQ_S_IOERR;
 *		return 1;
 *	case ICE_KEYQ_CHAIN_OK:
 *		s = ice_keyq_parse(buf, &caps, &cmd);
 *		if (s == ICE_KEYQ_S_OK)
 *			s = (act on the store: program / evict / evict all);
 *		explicit_bzero(buf, ICE_KEYQ_CMD_SIZE);
 *		*status = s;
 *		return 1;
 *	}
 */
#ifndef ICEVMM_ICE_KEYQ_H
#define ICEVMM_ICE_KEYQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../virtio/virtq.h"

/* Feature bit: the top of the 64 bits Linux negotiates (device range 50-127). */
#define VIRTIO_BLK_F_ICE_KEYQ 63

/* Command layout (little-endian, 80 bytes), then one device-writable status byte. */
#define ICE_KEYQ_CMD_SIZE 80
#define ICE_KEYQ_OFF_OP 0	 /* le32 op */
#define ICE_KEYQ_OFF_SLOT 4	 /* u8 slot */
#define ICE_KEYQ_OFF_DU_MASK 5	 /* u8 du_mask */
#define ICE_KEYQ_OFF_KEY_LEN 6	 /* u8 key_len */
#define ICE_KEYQ_OFF_RESERVED 7	 /* u8, must be 0 */
#define ICE_KEYQ_OFF_RESERVED2 8 /* le64, must be 0 */
#define ICE_KEYQ_OFF_KEY 16	 /* u8 key[64] */
#define ICE_KEYQ_KEY_MAX 64

/* op */
#define ICE_KEYQ_OP_PROGRAM 1
#define ICE_KEYQ_OP_EVICT 2
#define ICE_KEYQ_OP_EVICT_ALL 3

/* Status byte: the same values as virtio-blk's. */
#define ICE_KEYQ_S_OK 0
#define ICE_KEYQ_S_IOERR 1
#define ICE_KEYQ_S_UNSUPP 2

/*
 * What the engine can do, as its configuration space tells the driver:
 * max_slots, the data unit size mask (bit j: 512 << j bytes) and the key
 * length the algorithm takes (XTS: both halves).
 */
struct ice_keyq_caps {
	unsigned int max_slots;
	uint8_t du_mask;
	uint8_t key_len;
};

/*
 * The caps from the two config-space words (docs/ICE.md): slot_info =
 * max_slots << 8 | slot_offset, capability = algorithm << 24 | du_mask << 16 |
 * key_size_id << 8. 0, or -EINVAL for an algorithm or key size id the wire
 * format does not define, no slots, or no data unit size.
 */
int ice_keyq_caps_from_config(struct ice_keyq_caps *caps, uint16_t slot_info, uint32_t capability);

/* A command that ice_keyq_parse() accepted. */
struct ice_keyq_cmd {
	uint32_t op;
	unsigned int slot;  /* PROGRAM, EVICT: < max_slots; EVICT_ALL: 0 */
	uint32_t du_size;   /* PROGRAM: bytes; else 0 */
	const uint8_t *key; /* PROGRAM: into the caller's buffer; else NULL */
	size_t key_len;	    /* PROGRAM: caps->key_len; else 0 */
};

enum ice_keyq_chain {
	/* 80 readable bytes then 1 writable one: buf holds the command. */
	ICE_KEYQ_CHAIN_OK = 0,
	/*
	 * Another shape, but the last buffer is device-writable: the caller
	 * writes ICE_KEYQ_S_IOERR into *status (that buffer's last byte, as
	 * virtio-blk does) and completes with used length 1.
	 */
	ICE_KEYQ_CHAIN_MALFORMED = 1,
	/*
	 * Another shape and no device-writable last buffer: nowhere to report
	 * it; the caller completes with used length 0 and DEVICE_NEEDS_RESET
	 * (the device's handle() returns -1). *status is NULL.
	 */
	ICE_KEYQ_CHAIN_NO_STATUS = 2,
};

/*
 * Check the chain's shape and copy its 80 readable bytes into buf (the
 * caller's locked ICE_KEYQ_CMD_SIZE bytes), once; *status points at the
 * status byte in guest memory. Any descriptor split is fine (ANY_LAYOUT).
 * Unless it returns ICE_KEYQ_CHAIN_OK, nothing was copied and buf is zeroed.
 * Reads guest memory, writes none.
 */
enum ice_keyq_chain ice_keyq_read(const struct virtq_chain *c, uint8_t *buf, uint8_t **status);

/*
 * Check the command in buf against caps (every rule of docs/ICE.md's command
 * table, in this order: op, reserved fields, then the op's fields). Returns
 * ICE_KEYQ_S_OK with *cmd filled (cmd->key points into buf), or
 * ICE_KEYQ_S_UNSUPP (unknown op) / ICE_KEYQ_S_IOERR with buf wiped. Keys
 * are the store's to judge: equal XTS halves and anything libgcrypt refuses
 * fail when the slot is loaded (ice_slot_load()).
 */
uint8_t ice_keyq_parse(uint8_t *buf, const struct ice_keyq_caps *caps, struct ice_keyq_cmd *cmd);

#endif
