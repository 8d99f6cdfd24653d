/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-mmio transport, version 2 (virtio 1.2, section 4.2.2), modern only.
 * Device-agnostic: a device (virtio-blk, ...) plugs in through
 * virtio_device_ops and never sees the registers.
 */
#ifndef ICEVMM_VIRTIO_MMIO_H
#define ICEVMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../vmm/bus.h"
#include "../vmm/guest_mem.h"
#include "../vmm/irq.h"
#include "virtq.h"

/* Feature bits defined by the transport/ring layer (6) */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

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

#define VIRTIO_MMIO_MAX_QUEUES 4
#define VIRTIO_MMIO_CONFIG_OFFSET 0x100

struct virtio_mmio;

struct virtio_device_ops {
	uint32_t device_id;
	/*
	 * The driver wrote QueueNotify for queue `q`: process it, on the vCPU
	 * thread that took the exit. Returns true if the driver should get a
	 * used-buffer interrupt. Runs under queue_lock.
	 */
	bool (*notify)(struct virtio_mmio *t, unsigned int q);
	/* The driver reset the device (Status = 0). Runs under queue_lock. */
	void (*reset)(struct virtio_mmio *t);
};

struct virtio_mmio {
	/*
	 * Two locks, always taken in this order: `lock` guards the registers
	 * (vCPUs may exit concurrently), `queue_lock` serialises request
	 * processing against queue setup and reset. Request work holds only
	 * queue_lock, so register accesses from other vCPUs never wait on I/O.
	 */
	pthread_mutex_t lock;
	pthread_mutex_t queue_lock;
	const struct virtio_device_ops *ops;
	void *dev; /* the device's own state */
	const struct guest_mem *mem;
	struct irq_line irq;

	uint64_t device_features;
	uint64_t driver_features; /* what the driver wrote */
	uint64_t features;	  /* negotiated: valid once FEATURES_OK is set */
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status;
	uint32_t interrupt_status;
	uint32_t config_generation;
	unsigned int num_queues;
	uint16_t queue_num_max;
	struct virtq vqs[VIRTIO_MMIO_MAX_QUEUES];

	/* Device configuration space, read-only to the driver, byte-exact */
	const uint8_t *config;
	uint32_t config_size;
};

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *ops, void *dev,
		      const struct guest_mem *mem, const struct irq_line *irq,
		      uint64_t device_features, unsigned int num_queues, const uint8_t *config,
		      uint32_t config_size);
void virtio_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len);
void virtio_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len);
/* Devices call this after completing requests: sets InterruptStatus and raises the line. */
void virtio_mmio_signal_used(struct virtio_mmio *t);
bool virtio_mmio_has_feature(const struct virtio_mmio *t, unsigned int bit);

extern const struct mmio_dev_ops virtio_mmio_ops;

#endif
