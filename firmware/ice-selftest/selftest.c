// SPDX-License-Identifier: GPL-2.0
/*
 * The self-test proper: find the disk, bring it up with exactly
 * VERSION_1 | VIRTIO_BLK_F_ICE, then run plan.h batch by batch:
 *
 *   W  write A, B, C encrypted (activate 1)          one QueueNotify
 *   R  read them back decrypted into other buffers   one QueueNotify
 *   X  read them raw (activate 0): ciphertext        one QueueNotify
 *   E  the malformed requests, all IOERR but one     one QueueNotify
 *   Z  read the malformed-write area raw: zeroes     one QueueNotify
 *
 * Each batch has its requests in flight together; each request is checked
 * for its status byte and used length, each buffer for its bytes.
 */
#include <stdbool.h>
#include <stdint.h>

#include "fdt.h"
#include "iceblk.h"
#include "lib.h"
#include "mmu.h"
#include "plan.h"
#include "report.h"
#include "selftest.h"
#include "virtio.h"

#define RAM_BASE 0x80000000UL
#define MAPPED_END 0x100000000UL /* mmu.c maps RAM up to 4 GiB */
#define VIRTIO_MMIO_MIN_SIZE 0x200
#define REGION_MAX 8192
#define BAD_BYTES_MAX 8192
#define BAD_AREA_BYTES (PLAN_BAD_SECTORS * VIRTIO_BLK_SECTOR)
#define STALE_SLOT 0xee /* activate 0: slot and DUN must be ignored */
#define STALE_DUN 0x5a5a5a5a5a5a5a5aUL
#define SENTINEL 0xa5 /* fills read buffers: what the device must overwrite, or not */
#define MAX_REQS 16
#define MAX_SEGS 20

struct region {
	const char *name;
	unsigned int id;
	uint8_t slot;
	uint32_t du;
	uint64_t dun;
	uint64_t sector;
	uint32_t bytes;
	bool split;
};

#define REGION_ROW(n, i, s, d, u, sec, b, sp) { #n, i, s, d, u, sec, b, sp },
static const struct region regions[] = { PLAN_REGIONS(REGION_ROW) };
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

struct bad_req {
	const char *name;
	uint32_t type, hdr_len;
	uint8_t slot, activate;
	uint64_t dun;
	uint32_t bytes;
	uint8_t status;
};

#define BAD_ROW(n, t, h, s, a, d, b, st) { n, t, h, s, a, d, b, st },
static const struct bad_req bad_reqs[] = { PLAN_BAD_REQUESTS(BAD_ROW) };
#define NBAD (sizeof(bad_reqs) / sizeof(bad_reqs[0]))

/*
 * Split layouts (plan.h, split 1): lengths of consecutive descriptors over
 * one contiguous buffer; a last descriptor takes whatever is left.
 * Write: [32-byte header | data]: 13 header bytes, then 19 header bytes
 * plus the first data byte, then data at odd boundaries.
 * Read: the header as 7 + 25 bytes; [data | status] ends with the last
 * data bytes and the status byte in one descriptor.
 */
static const uint16_t split_write_cuts[] = { 13, 20, 17, 300, 511, 2, 64, 129, 3, 700, 7, 255 };
static const uint16_t split_hdr_cuts[] = { 7 };
static const uint16_t split_read_cuts[] = { 5, 250, 3, 600, 1, 444, 333, 11, 323 };

/* A request of the current batch. */
struct req {
	struct ice_hdr hdr;
	uint8_t status;
	uint8_t *st; /* where its status byte is: &status, or inside a stage buffer */
	int head;
};

static struct req reqs[MAX_REQS];
static unsigned int nreqs;

/* [header | data] for writes, [data | status] for reads, per region */
static uint8_t wstage[NREGIONS][ICE_HDR_LEN + REGION_MAX] __attribute__((aligned(64)));
static uint8_t rstage[NREGIONS][REGION_MAX + 1] __attribute__((aligned(64)));
static uint8_t rawbuf[NREGIONS][REGION_MAX] __attribute__((aligned(64)));
static uint8_t bad_out[BAD_BYTES_MAX] __attribute__((aligned(64)));
static uint8_t bad_in[BAD_BYTES_MAX] __attribute__((aligned(64)));
static uint8_t bad_area[BAD_AREA_BYTES] __attribute__((aligned(64)));

static uint8_t pattern_byte(unsigned int id, uint32_t j)
{
	return (uint8_t)(j * PLAN_PATTERN_MUL + id * PLAN_PATTERN_REGION_MUL + PLAN_PATTERN_ADD);
}

static void pattern_fill(uint8_t *p, uint32_t len, unsigned int id)
{
	uint32_t j;

	for (j = 0; j < len; j++)
		p[j] = pattern_byte(id, j);
}

/* Offset of the first byte that is not the pattern, or len. */
static uint32_t pattern_diff(const uint8_t *p, uint32_t len, unsigned int id)
{
	uint32_t j;

	for (j = 0; j < len && p[j] == pattern_byte(id, j); j++)
		;
	return j;
}

static bool all_bytes(const uint8_t *p, uint32_t len, uint8_t v)
{
	while (len--)
		if (*p++ != v)
			return false;
	return true;
}

/* Ciphertext: no 16-byte AES block equal to the plaintext's, none all zero. */
static bool looks_encrypted(const uint8_t *raw, uint32_t len, unsigned int id)
{
	uint8_t plain[16];
	uint32_t off, k;

	for (off = 0; off + 16 <= len; off += 16) {
		for (k = 0; k < 16; k++)
			plain[k] = pattern_byte(id, off + k);
		if (!memcmp(raw + off, plain, 16) || all_bytes(raw + off, 16, 0))
			return false;
	}
	return true;
}

static uint8_t *wdata(unsigned int r)
{
	return wstage[r] + ICE_HDR_LEN;
}

static void batch_begin(void)
{
	vq_batch_begin();
	nreqs = 0;
}

static struct req *req_new(uint32_t type, uint64_t sector, uint8_t slot, uint8_t activate,
			   uint64_t dun)
{
	struct req *r = &reqs[nreqs++];

	memset(r, 0, sizeof(*r));
	r->hdr.type = type;
	r->hdr.sector = sector;
	r->hdr.slot = slot;
	r->hdr.activate = activate;
	r->hdr.dun = dun;
	r->status = 0xff; /* no status yet: the device must write one */
	r->st = &r->status;
	r->head = -1;
	return r;
}

/* Cut [base, base + total) into descriptors of the given lengths plus the rest. */
static bool add_cuts(struct vq_seg *segs, unsigned int *n, uint8_t *base, uint32_t total,
		     const uint16_t *cuts, unsigned int ncuts, bool device_writes)
{
	uint32_t off = 0;
	unsigned int i;

	for (i = 0; i < ncuts; i++) {
		if (*n == MAX_SEGS || cuts[i] >= total - off)
			return false;
		segs[(*n)++] = (struct vq_seg){ base + off, cuts[i], device_writes };
		off += cuts[i];
	}
	if (*n == MAX_SEGS)
		return false;
	segs[(*n)++] = (struct vq_seg){ base + off, total - off, device_writes };
	return true;
}

/* The plain layout: header, optional data, status; one descriptor each. */
static void submit_plain(struct req *r, uint32_t hdr_len, void *data, uint32_t len, bool data_in)
{
	struct vq_seg segs[3];
	unsigned int n = 0;

	segs[n++] = (struct vq_seg){ &r->hdr, hdr_len, false };
	if (len)
		segs[n++] = (struct vq_seg){ data, len, data_in };
	segs[n++] = (struct vq_seg){ &r->status, 1, true };
	r->head = vq_add_chain(segs, n);
}

static void submit_split_write(struct req *r, unsigned int ri)
{
	const struct region *g = &regions[ri];
	struct vq_seg segs[MAX_SEGS];
	unsigned int n = 0;

	memcpy(wstage[ri], &r->hdr, ICE_HDR_LEN);
	if (!add_cuts(segs, &n, wstage[ri], ICE_HDR_LEN + g->bytes, split_write_cuts,
		      sizeof(split_write_cuts) / sizeof(split_write_cuts[0]), false) ||
	    n == MAX_SEGS)
		return; /* head stays -1: the request check fails */
	segs[n++] = (struct vq_seg){ &r->status, 1, true };
	r->head = vq_add_chain(segs, n);
}

static void submit_split_read(struct req *r, unsigned int ri)
{
	const struct region *g = &regions[ri];
	struct vq_seg segs[MAX_SEGS];
	unsigned int n = 0;

	r->st = &rstage[ri][g->bytes];
	*r->st = 0xff;
	if (!add_cuts(segs, &n, (uint8_t *)&r->hdr, ICE_HDR_LEN, split_hdr_cuts,
		      sizeof(split_hdr_cuts) / sizeof(split_hdr_cuts[0]), false) ||
	    !add_cuts(segs, &n, rstage[ri], g->bytes + 1, split_read_cuts,
		      sizeof(split_read_cuts) / sizeof(split_read_cuts[0]), true))
		return;
	r->head = vq_add_chain(segs, n);
}

static bool req_done(const struct req *r, uint8_t status, uint32_t used)
{
	return r->head >= 0 && *r->st == status && vq_used_len(r->head) == used;
}

/* Kick the batch, wait for all of it, acknowledge the interrupt: one check. */
static bool batch_run(const struct virtio_dev *d, const char *what)
{
	uint32_t isr, isr_after, status;
	bool ok;

	vq_kick(d);
	ok = vq_wait_batch(d, &isr);
	isr_after = virtio_read32(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	status = virtio_read32(d, VIRTIO_MMIO_STATUS);
	ok = ok && (isr & VIRTIO_MMIO_INT_VRING) && isr_after == 0 &&
	     !(status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
	return check(ok, "batch %s: %u requests, 1 notify, ISR %x acked to %x, status %x", what,
		     nreqs, isr, isr_after, status);
}

static bool find_disk(uintptr_t fdt, struct virtio_dev *d)
{
	struct fdt_reg reg;
	int err;

	if (fdt < RAM_BASE || fdt >= MAPPED_END || fdt % 8)
		return check(false, "fdt address %lx outside mapped RAM", fdt);
	err = fdt_find_compatible((const void *)fdt, "virtio,mmio", &reg);
	if (err)
		return check(false, "fdt at %lx: no virtio,mmio node with a reg (error %u)", fdt,
			     (unsigned int)-err);
	d->base = (uintptr_t)reg.base;
	return check(reg.base < RAM_BASE && reg.size >= VIRTIO_MMIO_MIN_SIZE,
		     "fdt: first virtio,mmio at %lx size %lx", reg.base, reg.size);
}

static void check_config(const struct virtio_dev *d)
{
	uint16_t slot_info = virtio_config16(d, VIRTIO_BLK_CFG_SLOT_INFO);
	uint32_t cap = virtio_config32(d, VIRTIO_BLK_CFG_CAPABILITY);
	uint64_t capacity = virtio_config64(d, VIRTIO_BLK_CFG_CAPACITY);

	check(slot_info == PLAN_SLOT_INFO, "config slot_info %x (want %x)", slot_info,
	      PLAN_SLOT_INFO);
	check(cap == PLAN_CAPABILITY, "config capability %x (want %x)", cap, PLAN_CAPABILITY);
	check(capacity == PLAN_DISK_SECTORS, "config capacity %lu sectors (want %u)", capacity,
	      PLAN_DISK_SECTORS);
}

/* virtio 1.2 3.1.1, with the virtio-mmio specifics of 4.2.3. */
static bool init_device(const struct virtio_dev *d)
{
	const uint64_t want = 1UL << VIRTIO_F_VERSION_1 | 1UL << VIRTIO_BLK_F_ICE;
	uint32_t magic = virtio_read32(d, VIRTIO_MMIO_MAGIC_VALUE);
	uint32_t version = virtio_read32(d, VIRTIO_MMIO_VERSION);
	uint32_t id = virtio_read32(d, VIRTIO_MMIO_DEVICE_ID);
	uint64_t features;
	const char *why;
	uint32_t status;

	if (!check(magic == VIRTIO_MMIO_MAGIC && version == 2 && id == VIRTIO_ID_BLOCK,
		   "virtio-mmio magic %x version %u device id %u", magic, version, id))
		return false;
	if (!check(virtio_reset(d), "reset: Status reads back 0"))
		return false;
	virtio_add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER);
	features = virtio_device_features(d);
	if (!check((features & want) == want, "device features %lx offer VERSION_1 and ICE",
		   features) ||
	    !check(virtio_negotiate(d, want), "FEATURES_OK kept for exactly VERSION_1|ICE")) {
		virtio_add_status(d, VIRTIO_STATUS_FAILED);
		return false;
	}
	why = vq_setup(d);
	if (!check(!why, "queue 0: %u entries, rings in BSS, ready%s%s", VQ_SIZE, why ? ": " : "",
		   why ? why : "")) {
		virtio_add_status(d, VIRTIO_STATUS_FAILED);
		return false;
	}
	check_config(d);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER_OK);
	status = virtio_read32(d, VIRTIO_MMIO_STATUS);
	return check(status == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK),
		     "DRIVER_OK: status %x", status);
}

/* Batch W: every region written encrypted, all in flight at once. */
static void run_writes(const struct virtio_dev *d)
{
	struct req *rq[NREGIONS];
	unsigned int r;

	batch_begin();
	for (r = 0; r < NREGIONS; r++) {
		const struct region *g = &regions[r];

		pattern_fill(wdata(r), g->bytes, g->id);
		rq[r] = req_new(VIRTIO_BLK_T_OUT, g->sector, g->slot, 1, g->dun);
		if (g->split)
			submit_split_write(rq[r], r);
		else
			submit_plain(rq[r], ICE_HDR_LEN, wdata(r), g->bytes, false);
	}
	batch_run(d, "W (encrypted writes)");
	for (r = 0; r < NREGIONS; r++) {
		const struct region *g = &regions[r];

		check(req_done(rq[r], VIRTIO_BLK_S_OK, 1),
		      "write %s: slot %u DUN %lx sector %lu, %u bytes%s: status %u used %u",
		      g->name, g->slot, g->dun, g->sector, g->bytes, g->split ? " split" : "",
		      *rq[r]->st, vq_used_len(rq[r]->head));
	}
	/* The device encrypts into its own bounce buffer, never in place. */
	for (r = 0; r < NREGIONS; r++) {
		const struct region *g = &regions[r];
		uint32_t at = pattern_diff(wdata(r), g->bytes, g->id);
		bool hdr_ok = !g->split || !memcmp(wstage[r], &rq[r]->hdr, ICE_HDR_LEN);

		check(at == g->bytes && hdr_ok, "write %s: buffer untouched by the device%s",
		      g->name, at == g->bytes ? "" : " (modified)");
	}
}

/* Batch R: decrypting reads into fresh buffers must give the pattern back. */
static void run_reads(const struct virtio_dev *d)
{
	struct req *rq[NREGIONS];
	unsigned int r;

	batch_begin();
	for (r = 0; r < NREGIONS; r++) {
		const struct region *g = &regions[r];

		memset(rstage[r], SENTINEL, g->bytes + 1);
		rq[r] = req_new(VIRTIO_BLK_T_IN, g->sector, g->slot, 1, g->dun);
		if (g->split)
			submit_split_read(rq[r], r);
		else
			submit_plain(rq[r], ICE_HDR_LEN, rstage[r], g->bytes, true);
	}
	batch_run(d, "R (decrypting reads)");
	for (r = 0; r < NREGIONS; r++) {
		const struct region *g = &regions[r];
		uint32_t at = pattern_diff(rstage[r], g->bytes, g->id);

		check(req_done(rq[r], VIRTIO_BLK_S_OK, g->bytes + 1) && at == g->bytes,
		      "read %s decrypted: status %u used %u, %u of %u bytes match", g->name,
		      *rq[r]->st, vq_used_len(rq[r]->head), at, g->bytes);
	}
}

/* Batch X: plain reads (stale slot/DUN, activate 0) must show ciphertext. */
static void run_raw_reads(const struct virtio_dev *d)
{
	struct req *rq[NREGIONS];
	unsigned int r;

	batch_begin();
	for (r = 0; r < NREGIONS; r++) {
		const struct region *g = &regions[r];

		memset(rawbuf[r], 0, g->bytes);
		rq[r] = req_new(VIRTIO_BLK_T_IN, g->sector, STALE_SLOT, 0, STALE_DUN);
		submit_plain(rq[r], ICE_HDR_LEN, rawbuf[r], g->bytes, true);
	}
	batch_run(d, "X (raw reads)");
	for (r = 0; r < NREGIONS; r++) {
		const struct region *g = &regions[r];

		check(req_done(rq[r], VIRTIO_BLK_S_OK, g->bytes + 1) &&
			      looks_encrypted(rawbuf[r], g->bytes, g->id),
		      "raw %s is ciphertext: status %u used %u", g->name, *rq[r]->st,
		      vq_used_len(rq[r]->head));
	}
}

/* Batch E: each malformed request fails alone, writes nothing, returns used len 1. */
static void run_bad(const struct virtio_dev *d)
{
	struct req *rq[NBAD];
	unsigned int i;

	batch_begin();
	pattern_fill(bad_out, BAD_BYTES_MAX, NREGIONS); /* not zero: a stray write would show */
	memset(bad_in, SENTINEL, BAD_BYTES_MAX);
	for (i = 0; i < NBAD; i++) {
		const struct bad_req *b = &bad_reqs[i];
		uint64_t sector = b->type == VIRTIO_BLK_T_FLUSH
					  ? 0
					  : PLAN_BAD_SECTOR + (uint64_t)i * PLAN_BAD_STRIDE;
		bool in = b->type == VIRTIO_BLK_T_IN;

		rq[i] = req_new(b->type, sector, b->slot, b->activate, b->dun);
		submit_plain(rq[i], b->hdr_len, in ? bad_in : bad_out, b->bytes, in);
	}
	batch_run(d, "E (malformed)");
	for (i = 0; i < NBAD; i++) {
		const struct bad_req *b = &bad_reqs[i];
		bool untouched = b->type != VIRTIO_BLK_T_IN ||
				 all_bytes(bad_in, b->bytes, SENTINEL);

		check(req_done(rq[i], b->status, 1) && untouched,
		      "%s: status %u (want %u) used %u%s", b->name, *rq[i]->st, b->status,
		      vq_used_len(rq[i]->head), untouched ? "" : ", data buffer written");
	}
}

/* Batch Z: nothing of the rejected writes reached the image. */
static void run_bad_area(const struct virtio_dev *d)
{
	struct req *r;

	batch_begin();
	memset(bad_area, SENTINEL, BAD_AREA_BYTES);
	r = req_new(VIRTIO_BLK_T_IN, PLAN_BAD_SECTOR, STALE_SLOT, 0, STALE_DUN);
	submit_plain(r, ICE_HDR_LEN, bad_area, BAD_AREA_BYTES, true);
	batch_run(d, "Z (raw read of the malformed-write area)");
	check(req_done(r, VIRTIO_BLK_S_OK, BAD_AREA_BYTES + 1) &&
		      all_bytes(bad_area, BAD_AREA_BYTES, 0),
	      "sectors %u..%u still zero: status %u", PLAN_BAD_SECTOR,
	      PLAN_BAD_SECTOR + PLAN_BAD_SECTORS - 1, *r->st);
}

void selftest_main(uintptr_t fdt)
{
	struct virtio_dev dev;

	check(mmu_is_on(), "MMU on, identity map, D and I caches on (SCTLR_EL1.M/C/I)");
	if (find_disk(fdt, &dev) && init_device(&dev)) {
		run_writes(&dev);
		run_reads(&dev);
		run_raw_reads(&dev);
		run_bad(&dev);
		run_bad_area(&dev);
		virtio_reset(&dev); /* leave the device quiet */
	}
	report_finish();
}
