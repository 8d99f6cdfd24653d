/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-mmio (version 2) driver side with split virtqueues, polled: the
 * request queue and, on a guest-programmed disk, the ICE key queue. Just
 * what the self-test needs: no interrupts, no event index, no indirect
 * descriptors.
 */
#ifndef ICE_SELFTEST_VIRTIO_H
#define ICE_SELFTEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

/* virtio-mmio registers (virtio 1.2, 4.2.2) */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */

/* Device status (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_F_VERSION_1 32
#define VIRTIO_MMIO_INT_VRING 1

/* Our queues: 64 entries; the largest batch (E) takes 24 descriptors, W 20. */
#define VQ_SIZE 64

struct virtio_dev {
	uintptr_t base;
};

struct virtq_desc;
struct virtq_avail;
struct virtq_used;

/* One split virtqueue of ours: its rings (in BSS) and the driver's indices. */
struct vq {
	unsigned int index; /* QueueSel */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t next_desc; /* first free descriptor of this batch */
	uint16_t avail_idx; /* our shadow of avail->idx */
	uint16_t used_seen; /* used->idx we have consumed up to */
	uint16_t in_flight; /* chains added in this batch */
	uint32_t used_len[VQ_SIZE];
};

/* The two queues (virtio.c owns their rings): requests, and the key queue. */
extern struct vq vq_req, vq_key;

/* One buffer of a descriptor chain. */
struct vq_seg {
	const void *addr;
	uint32_t len;
	bool device_writes; /* VIRTQ_DESC_F_WRITE */
};

uint32_t virtio_read32(const struct virtio_dev *d, uint32_t off);
void virtio_write32(const struct virtio_dev *d, uint32_t off, uint32_t v);

/* Device configuration space at its own width (4.2.2.2). */
uint16_t virtio_config16(const struct virtio_dev *d, uint32_t off);
uint32_t virtio_config32(const struct virtio_dev *d, uint32_t off);
/* A 64-bit field: two 32-bit reads, retried while ConfigGeneration moves (2.5.1). */
uint64_t virtio_config64(const struct virtio_dev *d, uint32_t off);

/* Status = 0 and wait for it to read back 0 (4.2.3.1.1). Returns false on timeout. */
bool virtio_reset(const struct virtio_dev *d);
void virtio_add_status(const struct virtio_dev *d, uint32_t bits);
uint64_t virtio_device_features(const struct virtio_dev *d);
/* Write DriverFeatures, set FEATURES_OK and read it back (3.1.1 steps 5-6). */
bool virtio_negotiate(const struct virtio_dev *d, uint64_t features);

/*
 * Set up and enable queue q->index with q's BSS rings, zeroed (4.2.3.2):
 * also right after a device reset. Returns 0 or why.
 */
const char *vq_setup(const struct virtio_dev *d, struct vq *q);
/* QueueNumMax of queue index (0: no such queue). */
uint32_t vq_num_max(const struct virtio_dev *d, unsigned int index);

/* A batch: chains added after vq_batch_begin() are made available by one vq_kick(). */
void vq_batch_begin(struct vq *q);
/* Add a chain; returns its head descriptor id, or -1 if the table is full. */
int vq_add_chain(struct vq *q, const struct vq_seg *segs, unsigned int n);
/* Publish the batch (avail->idx) and write QueueNotify once, with q's index. */
void vq_kick(const struct virtio_dev *d, struct vq *q);
/*
 * Poll the used ring until every chain of the batch is back (or timeout),
 * then read and acknowledge InterruptStatus. Returns false on timeout or on
 * a used element naming no chain of ours; *isr gets InterruptStatus as read.
 */
bool vq_wait_batch(const struct virtio_dev *d, struct vq *q, uint32_t *isr);
/* Used length the device reported for the chain with this head. */
uint32_t vq_used_len(const struct vq *q, int head);

#endif
