/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk (virtio 1.2, section 5.2) on a raw image file. The device logic
 * is transport-agnostic; virtio-mmio carries it (virtio/mmio.h).
 */
#ifndef ICEVMM_BLK_H
#define ICEVMM_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../virtio/mmio.h"
#include "disk.h"
#include "ice.h"

#define VIRTIO_ID_BLOCK 2

/* Request types (5.2.6) */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Status byte */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_F_ICE 22 /* inline encryption, docs/ICE.md */

#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_CONFIG_SIZE 0x60	/* struct virtio_blk_config up to and incl. zoned */
#define VIRTIO_BLK_CONFIG_SIZE_ICE 0x68 /* ... plus the crypto fields at 0x60 */

/*
 * ICE data moves through a bounce buffer of this size, one per vCPU thread,
 * in chunks of whole data units (the largest unit is 64 KiB).
 */
#define BLK_ICE_BOUNCE (128 * 1024)

/*
 * What we tell the driver in config space. SEG_MAX and SIZE_MAX are hints
 * for the driver: the device accepts any chain the queue can hold, each
 * buffer checked on its own.
 */
#define BLK_SEG_MAX (VIRTQ_MAX_SIZE - 2) /* header and status take two descriptors */
#define BLK_SIZE_MAX (1U << 20)
#define BLK_MAX_DISCARD_SECTORS 0x400000U /* 2 GiB per segment */
#define BLK_MAX_DISCARD_SEG 16
#define BLK_DISCARD_ALIGN_SECTORS 8 /* 4 KiB: what a hole in the image can be */

struct blk_opts {
	const char *path;
	bool ro;
	const char *serial;    /* up to 20 bytes; NULL: empty */
	struct ice_store *ice; /* keyslots: offer VIRTIO_BLK_F_ICE; NULL: a plain disk */
};

struct blk_dev {
	/* The image, and its sticky flush error: a device reset never touches it. */
	struct disk disk;
	uint64_t capacity; /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES];
	struct ice_store *ice;
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE_ICE];
	struct virtio_mmio transport;
	/* Scratch for the request being processed (used under the queue lock) */
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Opens and locks the image; prints "disk PATH: reason" and returns -1 on error. */
int blk_open(struct blk_dev *b, const struct blk_opts *o, const struct guest_mem *mem,
	     const struct irq_line *irq);
void blk_close(struct blk_dev *b);

/*
 * Process one validated request chain; writes the status byte (if the chain
 * has one) and returns the used length to report. Exposed for unit tests.
 */
uint32_t blk_handle_chain(struct blk_dev *b, const struct virtq_chain *c);

#endif
