/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-mmio transport, version 2 (virtio 1.2, section 4.2.2), modern only.
 * Device-agnostic: a device (virtio-blk, ...) plugs in as a struct
 * virtio_device (virtio/device.h) and never sees the registers.
 *
 * Locking model. Register accesses never wait for a request's I/O, but for
 * one: the write that resets the device or disables a queue returns only
 * once that queue's request in flight is done (see drain below). Both kinds
 * of lock are struct vmm_lock (vmm/lock.h: inline, for the request path).
 *
 *   lock        the register lock. Guards every register-side field below:
 *               features, selectors, status, interrupt_status, the queue
 *               set-up in qs[].setup, and writes of qs[].epoch. Held only
 *               for register decoding and a few memory writes; no thread
 *               waits for a proc lock, or for any I/O, while holding it.
 *   proc[q].lock  one per queue: serialises request processing on queue q,
 *               and guards its working copy (proc[q]: ring pointers,
 *               last_avail, used_idx, ..., the epoch and features it was
 *               taken under, the chain scratch). Held for the whole of a
 *               notification's work, I/O included. Queues do not wait for
 *               each other: a control queue (ICE keys) is served while a
 *               request queue is busy with I/O. Lock order: proc[q].lock,
 *               then lock (briefly: to signal, to flag NEEDS_RESET, to copy
 *               a new queue set-up); never a proc lock while holding lock,
 *               never two proc locks.
 *   epoch       per queue, written under lock with atomic stores, read
 *               without it with atomic loads: bumped by every reset,
 *               QueueReady = 0 and QueueReady = 1. The request processor
 *               captures it when it starts, copies qs[q].setup into proc[q].vq
 *               when the queue was set up again since its last run, and
 *               checks it between requests (once per request, right
 *               before the device serves it): a reset bumps epochs under
 *               lock, and the processor stops at its next check.
 *   drain       then, with lock released, the vCPU whose write reset the
 *               device (Status = 0) or disabled a live queue
 *               (QueueReady = 0) takes and drops each such queue's proc lock
 *               before its write returns: the request in flight has
 *               finished writing guest memory (its data, its status byte,
 *               the used ring), and no request of the old queue is served
 *               or completed after. virtio 1.2 2.4.1: once the reset is done
 *               the driver owns its buffers and rings again. Other vCPUs'
 *               register accesses do not wait: the reset's effect is
 *               visible to them at once. (The processor also looks at the
 *               epoch before each write to the used ring, a push or
 *               avail_event: a request that ends after a reset began is not
 *               completed into the old ring.)
 *   stopping    the VM's flag (atomic, read-only here): checked between
 *               requests; the processor leaves its loop when it is set.
 *
 * Interrupts and DEVICE_NEEDS_RESET are raised under lock, and only if the
 * queue's epoch is still the one the request started under: nothing a
 * request does reaches a device that was reset after it began. The
 * processor signals used buffers at least every queue-size completions, so a
 * driver that keeps the ring full still sees its first completions early.
 */
#ifndef ICEVMM_VIRTIO_MMIO_H
#define ICEVMM_VIRTIO_MMIO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../vmm/bus.h"
#include "../vmm/guest_mem.h"
#include "../vmm/irq.h"
#include "../vmm/lock.h"
#include "device.h"
#include "virtq.h"

/* Device status bits (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* InterruptStatus bits (4.2.2) */
#define VIRTIO_MMIO_INT_VRING 1
#define VIRTIO_MMIO_INT_CONFIG 2

#define VIRTIO_MMIO_MAX_QUEUES 2 /* virtio-blk: requests, ICE keys */
#define VIRTIO_MMIO_CONFIG_OFFSET 0x100

/* A queue as the driver set it up through the registers. */
struct virtio_mmio_queue {
	struct virtq setup; /* under lock: num, addresses, ready; ring pointers once enabled */
	atomic_uint epoch;  /* see the locking model above */
};

/* The same queue as its request processor works on it: under its own lock. */
struct virtio_mmio_proc {
	struct vmm_lock lock;
	struct virtq vq;	  /* working copy of the queue's setup */
	unsigned int epoch;	  /* the epoch it was copied at */
	uint64_t features;	  /* the features negotiated then */
	struct virtq_chain chain; /* the request being served */
};

struct virtio_mmio {
	struct vmm_lock lock;
	const struct virtio_device *vdev;
	const struct guest_mem *mem;
	struct irq_line irq;
	const atomic_bool *stopping; /* the VM is stopping: leave the request loop */

	/* Under lock */
	uint64_t device_features;
	uint64_t driver_features; /* what the driver wrote */
	uint64_t features;	  /* negotiated: valid once FEATURES_OK is set */
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	atomic_uint status; /* written under lock; QueueNotify reads it without (mmio.c) */
	uint32_t interrupt_status;
	uint32_t config_generation;
	unsigned int num_queues;
	uint16_t queue_num_max;
	struct virtio_mmio_queue qs[VIRTIO_MMIO_MAX_QUEUES];

	/* Each under its own lock */
	struct virtio_mmio_proc proc[VIRTIO_MMIO_MAX_QUEUES];
};

/* stopping may be NULL (never stops); vdev must outlive the transport. */
void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device *vdev,
		      const struct guest_mem *mem, const struct irq_line *irq,
		      const atomic_bool *stopping);
void virtio_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len);
void virtio_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len);
/* Was this feature negotiated? (Takes the register lock.) */
bool virtio_mmio_has_feature(struct virtio_mmio *t, unsigned int bit);

extern const struct mmio_dev_ops virtio_mmio_ops;

#endif
