/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a virtio device (virtio-blk, ...) is to a transport: its identity,
 * what it offers, and a function per request. The device never sees the
 * transport, its registers or its locks; the transport pops validated chains
 * (virtio/virtq.h), hands them to the device, and returns them to the driver.
 */
#ifndef ICEVMM_VIRTIO_DEVICE_H
#define ICEVMM_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

/* Feature bits defined by the transport/ring layer (6) */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* virtio_device_ops.handle(): a chain the device never completes */
#define VIRTIO_CHAIN_KEPT (-2)
/* ... and one it completes with a used id out of range (a broken ring) */
#define VIRTIO_CHAIN_BAD_ID (-3)

struct virtio_device_ops {
	/*
	 * Serve one validated chain of queue q, on the thread that took the
	 * driver's notification, with the negotiated features; returns the used
	 * length (bytes written into the chain), or -1 for a request that has
	 * nowhere to report its failure: the transport completes it with used
	 * length 0 and sets DEVICE_NEEDS_RESET. Calls for one queue come one at a
	 * time; calls for different queues may run at once, on different threads.
	 * VIRTIO_CHAIN_KEPT: the device keeps the chain and never completes it,
	 * like a device that stopped answering (fault injection); a reset gives
	 * the driver its buffers back (virtio 1.2 2.4.1). VIRTIO_CHAIN_BAD_ID:
	 * the transport completes it with used length 0 and an id no descriptor
	 * has, which a driver must take for a broken ring (fault injection;
	 * Linux marks the virtqueue broken).
	 */
	int64_t (*handle)(void *dev, unsigned int q, const struct virtq_chain *c,
			  uint64_t features);
	/*
	 * A malformed chain whose last descriptor is a device-writable buffer,
	 * c->bufs[0]: write the device's error status there, return the used
	 * length. NULL: such chains complete with used length 0.
	 */
	uint32_t (*fail)(void *dev, unsigned int q, const struct virtq_chain *c);
	/*
	 * The driver reset the device (Status = 0, 2.4.1): drop what a reset
	 * clears in the device itself (ICE: guest-programmed keys). Called
	 * under the transport's register lock, maybe while a request that began
	 * before the reset is still being served on another thread: it must
	 * not wait for I/O or for request processing (virtio/mmio.h). NULL:
	 * nothing to clear. So a device never calls into the transport (e.g.
	 * virtio_mmio_has_feature(), which takes the register lock) while
	 * holding a lock its reset hook takes: that would deadlock.
	 */
	void (*reset)(void *dev);
	/*
	 * The driver sets FEATURES_OK with these features, all of them
	 * offered (3.1.1): false refuses the combination (FEATURES_OK stays
	 * clear), for features that depend on each other. Under the register
	 * lock. NULL: any subset of the offered features.
	 */
	bool (*features_ok)(void *dev, uint64_t features);
};

struct virtio_device {
	uint32_t device_id;
	const struct virtio_device_ops *ops;
	void *dev;	   /* the device's own state, passed to ops */
	uint64_t features; /* offered; the transport adds VERSION_1 */
	unsigned int num_queues;
	const uint8_t *config; /* device configuration space, read-only to the driver */
	uint32_t config_size;
};

static inline bool virtio_has_feature(uint64_t features, unsigned int bit)
{
	return (features >> bit) & 1;
}

/*
 * Has the chain's queue been reset (or disabled) since the transport took
 * the chain? Then its completion will never reach the driver, and whatever
 * it would change in the device must not outlive the reset. A device
 * checks this under the lock its reset hook also takes, right before it
 * commits: the transport moves the generation on before it calls reset(),
 * so either the device sees the new generation here or reset() runs after
 * the commit and clears it.
 */
static inline bool virtio_chain_current(const struct virtq_chain *c)
{
	return !c->gen_now || atomic_load(c->gen_now) == c->gen;
}

/* The same for a callback that takes the chain as a plain pointer (ice_slot_program_if()). */
static inline bool virtio_chain_still_current(const void *chain)
{
	return virtio_chain_current(chain);
}

#endif
