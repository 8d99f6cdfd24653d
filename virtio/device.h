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

struct virtio_device_ops {
	/*
	 * Serve one validated chain of queue q, on the thread that took the
	 * driver's notification, with the negotiated features; returns the used
	 * length (bytes written into the chain), or -1 for a request that has
	 * nowhere to report its failure: the transport completes it with used
	 * length 0 and sets DEVICE_NEEDS_RESET. Called for one queue at a time.
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
	 * nothing to clear.
	 */
	void (*reset)(void *dev);
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

#endif
