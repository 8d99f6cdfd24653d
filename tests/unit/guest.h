/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake guest for device tests: guest RAM is a host buffer, and these
 * helpers play the guest driver — they program virtio-mmio registers through
 * the same read/write entry points a vCPU exit uses, lay out descriptor
 * tables and rings in "guest memory", and read completions back.
 */
#ifndef ICEVMM_TESTS_GUEST_H
#define ICEVMM_TESTS_GUEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../virtio/mmio.h"

#define TG_BASE 0x40000000ULL
#define TG_SIZE (8ULL << 20)

struct tg_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable; /* device-writable */
};

struct test_guest {
	struct guest_mem mem;
	struct irq_line irq;
	int irq_level;		 /* current level of the device's line */
	unsigned int irq_raises; /* 0 -> 1 transitions */
	uint64_t next_free;	 /* bump allocator for buffers */
	/* The one queue the tests drive */
	uint16_t num;
	uint64_t desc, avail, used;
	uint16_t avail_idx;   /* driver's next avail->idx */
	uint16_t used_seen;   /* used entries consumed by tg_get_used() */
	uint16_t next_desc;   /* next free descriptor (tg_submit allocates linearly) */
	atomic_bool stopping; /* the "VM is stopping" flag the transport is given */
	/* A view of another queue (tg_queue_attach): its index, and the guest it shares */
	unsigned int qidx;
	struct test_guest *parent;
};

struct blk_dev;
struct blk_opts;

void tg_init(struct test_guest *g);
/* blk_open(), then a virtio-mmio transport t for it on this guest's memory and irq. */
int tg_blk_open(struct test_guest *g, struct blk_dev *b, struct virtio_mmio *t,
		const struct blk_opts *o);
void tg_fini(struct test_guest *g);
/* Guest-physical allocation (zeroed), align a power of two. */
uint64_t tg_alloc(struct test_guest *g, uint64_t size, uint64_t align);
void *tg_ptr(struct test_guest *g, uint64_t gpa);

uint32_t tg_read32(struct virtio_mmio *t, uint64_t off);
void tg_write32(struct virtio_mmio *t, uint64_t off, uint32_t v);

/*
 * The driver's initialisation sequence (3.1.1) with `features` and queue 0 of
 * size num. Returns the Status register value read back at the end.
 */
uint32_t tg_driver_init(struct test_guest *g, struct virtio_mmio *t, uint64_t features,
			uint16_t num);

/*
 * Drive a second queue of the same device: kq becomes a view of g (same
 * memory, irq line and allocator) whose ring helpers (tg_submit, tg_add,
 * tg_get_used, ...) work on queue q of size num, set up now through the
 * registers of t (after tg_driver_init). Returns QueueReady read back (1: live).
 */
uint32_t tg_queue_attach(struct test_guest *kq, struct test_guest *g, struct virtio_mmio *t,
			 unsigned int q, uint16_t num);

/* Write descriptor idx of the main table (or of `table` if nonzero). */
void tg_desc(struct test_guest *g, uint64_t table, uint16_t idx, uint64_t addr, uint32_t len,
	     uint16_t flags, uint16_t next);
/* Put head on the available ring and bump avail->idx (does not notify). */
void tg_publish(struct test_guest *g, uint16_t head);
/* QueueNotify for queue 0. */
void tg_kick(struct virtio_mmio *t);
/* Chain bufs[0..n) with NEXT, publish, notify this view's queue. Returns the head. */
uint16_t tg_submit(struct test_guest *g, struct virtio_mmio *t, const struct tg_buf *bufs,
		   unsigned int n);
/* Pop the next used element; false if the device has not completed one. */
bool tg_get_used(struct test_guest *g, uint32_t *id, uint32_t *len);
/* avail->used_event / used->avail_event (event idx) */
void tg_set_used_event(struct test_guest *g, uint16_t v);
uint16_t tg_avail_event(struct test_guest *g);

/* Like tg_submit, but only chains and publishes: no QueueNotify (for batches). */
uint16_t tg_add(struct test_guest *g, const struct tg_buf *bufs, unsigned int n);

/*
 * Checking that a device wrote nothing it should not have: take a copy of all
 * guest RAM, accept the ranges the device may write (the used ring, a status
 * byte, ...) by copying them from guest RAM into the copy, then look for the
 * first byte that still differs.
 */
uint8_t *tg_snapshot(struct test_guest *g); /* free() it */
void tg_snapshot_accept(struct test_guest *g, uint8_t *snap, uint64_t gpa, uint64_t len);
/* gpa of the first byte of guest RAM that differs from snap; 0 if none. */
uint64_t tg_snapshot_diff(struct test_guest *g, const uint8_t *snap);
/* The used ring of the test queue (flags, idx, ring[num], avail_event) */
void tg_snapshot_accept_used(struct test_guest *g, uint8_t *snap);

/*
 * Raw image files: a temporary file (tmpfs if possible) of `size` bytes, the
 * first `len` of them from `content` (the rest a hole). Writes the path into
 * path[TG_PATH_MAX]; 0 or -1.
 */
#define TG_PATH_MAX 64
int tg_image_create(char *path, const void *content, size_t len, uint64_t size);
/* Offset of the first byte where the file differs from expect[0..len), or -1 if equal. */
long long tg_image_diff(const char *path, const void *expect, size_t len);

#endif
