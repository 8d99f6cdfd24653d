/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueue, device side (virtio 1.2, section 2.7). The driver owns the
 * descriptor table and the available ring, the device owns the used ring; all
 * three live in guest memory, which a hostile guest may change at any moment.
 * So: every address goes through gmem_ptr(), every descriptor is copied once
 * and only the copy is validated and used, and every index read from the
 * rings is bounds-checked. Chain length (2.7.5.3.1, 2.7.5.3.2): the direct
 * descriptors of a chain are at most the queue size (this also ends loops),
 * the entries of an indirect table at most the table's own length, and the
 * whole chain at most VIRTQ_MAX_CHAIN descriptors (our QueueNumMax) — so a
 * driver on a small queue may still send VIRTQ_MAX_CHAIN-long chains through
 * an indirect table, as Linux does.
 *
 * The functions here do no locking: the transport serialises all of them for
 * one queue (virtio/mmio.h).
 */
#ifndef ICEVMM_VIRTQ_H
#define ICEVMM_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "../vmm/guest_mem.h"

#define VIRTQ_MAX_SIZE 256	       /* QueueNumMax we offer: a power of two (2.7.10.1) */
#define VIRTQ_MAX_CHAIN VIRTQ_MAX_SIZE /* descriptors in one chain, indirect ones included */

/* Descriptor flags (2.7.5) */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

/* One validated buffer of a chain: guest memory the device may touch. */
struct virtq_buf {
	uint8_t *host; /* checked host pointer to the whole buffer */
	uint32_t len;
	bool device_writable;
};

/*
 * A popped descriptor chain, after validation: its non-empty buffers in
 * order. For VIRTQ_BAD_CHAIN, bufs[0] is the chain's last descriptor if that
 * is a device-writable buffer of at least one byte in guest RAM (nbufs 1),
 * else nbufs is 0.
 */
struct virtq_chain {
	uint16_t head; /* id to return in the used ring */
	unsigned int nbufs;
	uint32_t readable_len; /* sum of device-readable buffer lengths */
	uint32_t writable_len; /* sum of device-writable buffer lengths */
	struct virtq_buf bufs[VIRTQ_MAX_CHAIN];
};

struct virtq {
	/* Set by the driver through the transport */
	uint16_t num;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the rings, checked when the queue was enabled */
	const struct guest_mem *mem;
	uint8_t *desc, *avail, *used;
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;	/* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	/* Device state */
	uint16_t last_avail; /* next available-ring slot to consume */
	uint16_t used_idx;   /* our copy of used->idx */
	uint16_t signalled;  /* used_idx when we last interrupted (event idx) */
	bool broken;	     /* the driver broke the ring protocol: stop using it */
};

enum virtq_pop_result {
	VIRTQ_EMPTY = 0,
	VIRTQ_CHAIN = 1,     /* *chain is valid */
	VIRTQ_BAD_CHAIN = 2, /* head is valid but the chain is not: see struct virtq_chain */
	VIRTQ_BROKEN = 3,    /* the available ring itself is corrupt: the queue is dead */
};

/* Check the ring addresses against guest memory and enable the queue. */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem, bool event_idx, bool indirect);
void virtq_reset(struct virtq *vq);

/* Take the next available chain. */
enum virtq_pop_result virtq_pop(struct virtq *vq, struct virtq_chain *chain);
/* Return a chain to the driver with `len` bytes written into it. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
/*
 * After a batch of pushes: does the driver want an interrupt (used_event with
 * event idx, else the NO_INTERRUPT flag)? Reads the driver's hints only.
 */
bool virtq_need_interrupt(struct virtq *vq);
/*
 * Before going idle: with event idx, publish avail_event (which available
 * index to notify us at); true if more work arrived meanwhile. Writes the
 * used ring.
 */
bool virtq_arm_notify(struct virtq *vq);

#endif
