/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Batches of block requests on the request queue (queue 0) and their checks,
 * shared by both plans (plan.h): encrypted writes, decrypting reads, raw
 * reads, the malformed requests, reads and writes through a slot whose
 * state the plan knows, the malformed-write area.
 */
#ifndef ICE_SELFTEST_BLKIO_H
#define ICE_SELFTEST_BLKIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"

#define REGION_MAX 8192	  /* bytes of the largest region */
#define BATCH_REGIONS 4	  /* regions (or slot requests) per batch, at most */
#define BAD_IO_BYTES 4096 /* a write through a slot that must fail */

/* An encrypted region of plan.h (PLAN_REGIONS or PLAN_GUEST_REGIONS). */
struct region {
	const char *name;
	unsigned int id; /* selects the data pattern */
	uint8_t slot;
	uint32_t du;
	uint64_t dun;
	uint64_t sector;
	uint32_t bytes;
	bool split;
	unsigned int key;   /* guest-programmed: PLAN_GUEST_KEYS id */
	unsigned int round; /* guest-programmed: 0 before the reset, 1 after */
};

/*
 * Start a disk: the malformed-write sectors are handed out from the start
 * again; v4: encrypted requests are CRYPTO_IN/OUT, raw ones plain IN/OUT.
 */
void io_disk_begin(bool v4);

/* Kick the batch on q, wait for all of it, acknowledge the interrupt: one check. */
bool batch_run(const struct virtio_dev *d, struct vq *q, const char *what, unsigned int n);

/* W: write g[0..n) encrypted (activate 1), in one batch; buffers untouched. */
void io_writes(const struct virtio_dev *d, const struct region *g, unsigned int n);
/* R: read g[0..n) back decrypted: the pattern. */
void io_reads(const struct virtio_dev *d, const struct region *g, unsigned int n);
/* X: read g[0..n) raw (activate 0, stale slot and DUN): ciphertext. */
void io_raw_reads(const struct virtio_dev *d, const struct region *g, unsigned int n);
/* The bytes the last io_raw_reads() got for g[i]. */
const uint8_t *io_raw(unsigned int i);

/* What a request through a slot must give. */
enum io_want {
	WANT_PATTERN, /* OK, and the data is the region's pattern */
	WANT_GARBLED, /* OK, but decrypted under another key: no 16-byte block of the pattern */
	WANT_IOERR,   /* IOERR, used length 1, the read buffer untouched */
};

/*
 * A read of region g through slot (activate 1, g's DUN), or with g NULL a
 * BAD_IO_BYTES write through slot to the next malformed-write sectors.
 */
struct slot_io {
	const struct region *g;
	uint8_t slot;
	enum io_want want;
};

void io_slot_batch(const struct virtio_dev *d, const char *what, const struct slot_io *io,
		   unsigned int n);

/* E: the malformed requests of PLAN_BAD_REQUESTS. */
void io_bad_requests(const struct virtio_dev *d);
/* Z: the malformed-write area reads back all zero. */
void io_bad_area(const struct virtio_dev *d);

#endif
