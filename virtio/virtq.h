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

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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
	/*
	 * Set by the transport, not by virtq_pop(): the queue's generation
	 * when the chain was taken, and where the live one is (NULL: it never
	 * changes). A reset or QueueReady = 0 moves it on. A device that keeps state a reset
	 * clears checks it before committing: virtio_chain_current(), device.h.
	 */
	const atomic_uint *gen_now;
	unsigned int gen;
	struct virtq_buf bufs[VIRTQ_MAX_CHAIN];
};

struct virtq {
	/* Set by the driver through the transport */
	uint16_t num; /* a power of two once enabled: ring slots wrap with num - 1 */
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
	bool fenced;	     /* a full fence since the last push (virtq_need_interrupt) */
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

/*
 * The per-request ring operations below are static inline: they run for
 * every request and every notification, and a call each would cost more than
 * most of them do (docs/PERFORMANCE.md counts the instructions).
 */

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

static inline uint16_t virtq_load16_acquire(const uint8_t *p)
{
	/* Pairs with the driver's write barrier before it publishes idx. */
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static inline uint16_t virtq_le16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Walks and validates the chain at the next available slot (virtq.c). */
enum virtq_pop_result virtq_pop_chain(struct virtq *vq, struct virtq_chain *chain,
				      uint16_t avail_idx);

/* Take the next available chain. */
static inline enum virtq_pop_result virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	uint16_t avail_idx;

	if (!vq->ready || vq->broken)
		return VIRTQ_EMPTY;
	avail_idx = virtq_load16_acquire(vq->avail + 2);
	if (avail_idx == vq->last_avail)
		return VIRTQ_EMPTY;
	return virtq_pop_chain(vq, chain, avail_idx);
}

/* Return a chain to the driver with `len` bytes written into it. */
static inline void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	uint8_t *elem = vq->used + 4 + 8 * (vq->used_idx & (vq->num - 1));
	uint32_t id = head;

	memcpy(elem, &id, 4);
	memcpy(elem + 4, &len, 4);
	vq->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n((uint16_t *)(vq->used + 2), vq->used_idx, __ATOMIC_RELEASE);
	vq->fenced = false;
}

/*
 * After a batch of pushes: does the driver want an interrupt (used_event with
 * event idx, else the NO_INTERRUPT flag)? Reads the driver's hints only.
 */
static inline bool virtq_need_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled, now = vq->used_idx;

	if (old == now)
		return false;
	vq->signalled = now;
	/*
	 * Our used->idx store must be ordered before reading the driver's
	 * hints: a full fence, unless virtq_arm_notify() made one since the
	 * last push (the usual end of a notification's work).
	 */
	if (!vq->fenced)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		uint16_t used_event = virtq_le16_at(vq->avail + 4 + 2 * vq->num);

		/* 2.7.10: interrupt iff used_event lies in (old, now] */
		return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
	}
	return !(virtq_le16_at(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/*
 * Before going idle: with event idx, publish avail_event (which available
 * index to notify us at); true if more work arrived meanwhile. Writes the
 * used ring.
 */
static inline bool virtq_arm_notify(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx) {
		uint16_t v = vq->last_avail;

		memcpy(vq->used + 4 + 8 * vq->num, &v, sizeof(v));
	}
	/* Publish avail_event before re-reading avail->idx, or a notify could be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->fenced = true;
	return virtq_load16_acquire(vq->avail + 2) != vq->last_avail;
}

#endif
