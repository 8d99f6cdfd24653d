// SPDX-License-Identifier: GPL-2.0
/*
 * Block requests on the request queue, a batch at a time: every request of
 * a batch in flight together, made available with one QueueNotify; each
 * request checked for its status byte and used length, each buffer for its
 * bytes (virtio 1.2 5.2.6; the ICE header as in docs/ICE.md). A disk speaks
 * v2 (the 32-byte ICE header on IN and OUT) or v4 (CRYPTO_IN and CRYPTO_OUT
 * with a 56-byte header; raw reads are plain INs): io_disk_begin() says which.
 */
#include <stdbool.h>
#include <stdint.h>

#include "blkio.h"
#include "iceblk.h"
#include "lib.h"
#include "plan.h"
#include "report.h"

#define BAD_BYTES_MAX 8192
#define BAD_AREA_BYTES (PLAN_BAD_SECTORS * VIRTIO_BLK_SECTOR)
#define STALE_SLOT 0xee /* activate 0: slot and DUN must be ignored */
#define STALE_DUN 0x5a5a5a5a5a5a5a5aUL
#define SENTINEL 0xa5 /* fills read buffers: what the device must overwrite, or not */
#define MAX_REQS 16
#define MAX_SEGS 20
#define BAD_PATTERN_ID 3 /* data of writes that must fail: not zero, so a stray write shows */

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
	union {
		struct ice_hdr v2;
		struct v4_hdr v4;
	} hdr;
	uint8_t status;
	uint8_t *st; /* where its status byte is: &status, or inside a stage buffer */
	int head;
};

static struct req reqs[MAX_REQS];
static unsigned int nreqs;
static unsigned int bad_next; /* malformed-write sectors handed out on this disk */
static bool v4;		      /* this disk speaks the v4 draft */

/* [header | data] for writes, [data | status] for reads, per batch position */
static uint8_t wstage[BATCH_REGIONS][V4_HDR_LEN + REGION_MAX] __attribute__((aligned(64)));
static uint8_t rstage[BATCH_REGIONS][REGION_MAX + 1] __attribute__((aligned(64)));
static uint8_t rawbuf[BATCH_REGIONS][REGION_MAX] __attribute__((aligned(64)));
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

/* The header of an encrypted request: v2's IN/OUT with the ICE payload, or v4's. */
static uint32_t enc_hdr_len(void)
{
	return v4 ? V4_HDR_LEN : ICE_HDR_LEN;
}

/* A plain request (activate 0): v2's ICE header, v4's 16 bytes. */
static uint32_t raw_hdr_len(void)
{
	return v4 ? ICE_PLAIN_HDR_LEN : ICE_HDR_LEN;
}

static uint8_t *wdata(unsigned int r)
{
	return wstage[r] + enc_hdr_len();
}

void io_disk_begin(bool speaks_v4)
{
	bad_next = 0;
	v4 = speaks_v4;
}

/* The next PLAN_BAD_STRIDE sectors of the malformed-write area. */
static uint64_t bad_sector(void)
{
	return PLAN_BAD_SECTOR +
	       (uint64_t)(bad_next++ % (PLAN_BAD_SECTORS / PLAN_BAD_STRIDE)) * PLAN_BAD_STRIDE;
}

static void batch_begin(void)
{
	vq_batch_begin(&vq_req);
	nreqs = 0;
}

/*
 * A request: v2's header with slot, activate and DUN; on a v4 disk an
 * activate-1 IN or OUT becomes CRYPTO_IN or CRYPTO_OUT (slot, dun[0]) and
 * an activate-0 one a plain request (its 16-byte header: send it so).
 */
static struct req *req_new(uint32_t type, uint64_t sector, uint8_t slot, uint8_t activate,
			   uint64_t dun)
{
	struct req *r = &reqs[nreqs++];

	memset(r, 0, sizeof(*r));
	if (v4 && activate == 1) {
		r->hdr.v4.type = type == VIRTIO_BLK_T_OUT ? VIRTIO_BLK_T_CRYPTO_OUT
							  : VIRTIO_BLK_T_CRYPTO_IN;
		r->hdr.v4.sector = sector;
		r->hdr.v4.slot = slot;
		r->hdr.v4.dun[0] = dun;
	} else {
		r->hdr.v2.type = type;
		r->hdr.v2.sector = sector;
		r->hdr.v2.slot = v4 ? 0 : slot;
		r->hdr.v2.activate = v4 ? 0 : activate;
		r->hdr.v2.dun = v4 ? 0 : dun;
	}
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
	r->head = vq_add_chain(&vq_req, segs, n);
}

static void submit_split_write(struct req *r, const struct region *g, unsigned int i)
{
	struct vq_seg segs[MAX_SEGS];
	unsigned int n = 0;

	memcpy(wstage[i], &r->hdr, enc_hdr_len());
	if (!add_cuts(segs, &n, wstage[i], enc_hdr_len() + g->bytes, split_write_cuts,
		      sizeof(split_write_cuts) / sizeof(split_write_cuts[0]), false) ||
	    n == MAX_SEGS)
		return; /* head stays -1: the request check fails */
	segs[n++] = (struct vq_seg){ &r->status, 1, true };
	r->head = vq_add_chain(&vq_req, segs, n);
}

static void submit_split_read(struct req *r, const struct region *g, unsigned int i)
{
	struct vq_seg segs[MAX_SEGS];
	unsigned int n = 0;

	r->st = &rstage[i][g->bytes];
	*r->st = 0xff;
	if (!add_cuts(segs, &n, (uint8_t *)&r->hdr, enc_hdr_len(), split_hdr_cuts,
		      sizeof(split_hdr_cuts) / sizeof(split_hdr_cuts[0]), false) ||
	    !add_cuts(segs, &n, rstage[i], g->bytes + 1, split_read_cuts,
		      sizeof(split_read_cuts) / sizeof(split_read_cuts[0]), true))
		return;
	r->head = vq_add_chain(&vq_req, segs, n);
}

static bool req_done(const struct req *r, uint8_t status, uint32_t used)
{
	return r->head >= 0 && *r->st == status && vq_used_len(&vq_req, r->head) == used;
}

bool batch_run(const struct virtio_dev *d, struct vq *q, const char *what, unsigned int n)
{
	uint32_t isr, isr_after, status;
	bool ok;

	vq_kick(d, q);
	ok = vq_wait_batch(d, q, &isr);
	isr_after = virtio_read32(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	status = virtio_read32(d, VIRTIO_MMIO_STATUS);
	ok = ok && (isr & VIRTIO_MMIO_INT_VRING) && isr_after == 0 &&
	     !(status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
	return check(ok, "batch %s: %u on queue %u, 1 notify, ISR %x acked to %x, status %x", what,
		     n, q->index, isr, isr_after, status);
}

void io_writes(const struct virtio_dev *d, const struct region *g, unsigned int n)
{
	struct req *rq[BATCH_REGIONS];
	unsigned int r;

	batch_begin();
	for (r = 0; r < n; r++) {
		pattern_fill(wdata(r), g[r].bytes, g[r].id);
		rq[r] = req_new(VIRTIO_BLK_T_OUT, g[r].sector, g[r].slot, 1, g[r].dun);
		if (g[r].split)
			submit_split_write(rq[r], &g[r], r);
		else
			submit_plain(rq[r], enc_hdr_len(), wdata(r), g[r].bytes, false);
	}
	batch_run(d, &vq_req, "W (encrypted writes)", nreqs);
	for (r = 0; r < n; r++) {
		check(req_done(rq[r], VIRTIO_BLK_S_OK, 1),
		      "write %s: slot %u DUN %lx sector %lu, %u bytes%s: status %u used %u",
		      g[r].name, g[r].slot, g[r].dun, g[r].sector, g[r].bytes,
		      g[r].split ? " split" : "", *rq[r]->st, vq_used_len(&vq_req, rq[r]->head));
	}
	/* The device encrypts into its own bounce buffer, never in place. */
	for (r = 0; r < n; r++) {
		uint32_t at = pattern_diff(wdata(r), g[r].bytes, g[r].id);
		bool hdr_ok = !g[r].split || !memcmp(wstage[r], &rq[r]->hdr, enc_hdr_len());

		check(at == g[r].bytes && hdr_ok, "write %s: buffer untouched by the device%s",
		      g[r].name, at == g[r].bytes ? "" : " (modified)");
	}
}

void io_reads(const struct virtio_dev *d, const struct region *g, unsigned int n)
{
	struct req *rq[BATCH_REGIONS];
	unsigned int r;

	batch_begin();
	for (r = 0; r < n; r++) {
		memset(rstage[r], SENTINEL, g[r].bytes + 1);
		rq[r] = req_new(VIRTIO_BLK_T_IN, g[r].sector, g[r].slot, 1, g[r].dun);
		if (g[r].split)
			submit_split_read(rq[r], &g[r], r);
		else
			submit_plain(rq[r], enc_hdr_len(), rstage[r], g[r].bytes, true);
	}
	batch_run(d, &vq_req, "R (decrypting reads)", nreqs);
	for (r = 0; r < n; r++) {
		uint32_t at = pattern_diff(rstage[r], g[r].bytes, g[r].id);

		check(req_done(rq[r], VIRTIO_BLK_S_OK, g[r].bytes + 1) && at == g[r].bytes,
		      "read %s decrypted: status %u used %u, %u of %u bytes match", g[r].name,
		      *rq[r]->st, vq_used_len(&vq_req, rq[r]->head), at, g[r].bytes);
	}
}

void io_raw_reads(const struct virtio_dev *d, const struct region *g, unsigned int n)
{
	struct req *rq[BATCH_REGIONS];
	unsigned int r;

	batch_begin();
	for (r = 0; r < n; r++) {
		memset(rawbuf[r], 0, g[r].bytes);
		rq[r] = req_new(VIRTIO_BLK_T_IN, g[r].sector, STALE_SLOT, 0, STALE_DUN);
		submit_plain(rq[r], raw_hdr_len(), rawbuf[r], g[r].bytes, true);
	}
	batch_run(d, &vq_req, "X (raw reads)", nreqs);
	for (r = 0; r < n; r++) {
		check(req_done(rq[r], VIRTIO_BLK_S_OK, g[r].bytes + 1) &&
			      looks_encrypted(rawbuf[r], g[r].bytes, g[r].id),
		      "raw %s is ciphertext: status %u used %u", g[r].name, *rq[r]->st,
		      vq_used_len(&vq_req, rq[r]->head));
	}
}

const uint8_t *io_raw(unsigned int i)
{
	return rawbuf[i];
}

/* Decrypted under some other key: status OK, yet no 16-byte block of the pattern. */
static bool garbled(const uint8_t *p, const struct region *g)
{
	return looks_encrypted(p, g->bytes, g->id) && !all_bytes(p, g->bytes, SENTINEL);
}

void io_slot_batch(const struct virtio_dev *d, const char *what, const struct slot_io *io,
		   unsigned int n)
{
	static const char *const want_name[] = { "the pattern", "garbled (another key)", "IOERR" };
	struct req *rq[BATCH_REGIONS];
	uint64_t sector[BATCH_REGIONS];
	unsigned int i;

	batch_begin();
	pattern_fill(bad_out, BAD_IO_BYTES, BAD_PATTERN_ID);
	for (i = 0; i < n; i++) {
		const struct region *g = io[i].g;

		if (!g) {
			sector[i] = bad_sector();
			rq[i] = req_new(VIRTIO_BLK_T_OUT, sector[i], io[i].slot, 1, 0);
			submit_plain(rq[i], enc_hdr_len(), bad_out, BAD_IO_BYTES, false);
			continue;
		}
		memset(rstage[i], SENTINEL, g->bytes);
		rq[i] = req_new(VIRTIO_BLK_T_IN, g->sector, io[i].slot, 1, g->dun);
		submit_plain(rq[i], enc_hdr_len(), rstage[i], g->bytes, true);
	}
	batch_run(d, &vq_req, what, nreqs);
	for (i = 0; i < n; i++) {
		const struct region *g = io[i].g;
		uint32_t used = vq_used_len(&vq_req, rq[i]->head);
		bool ok;

		switch (io[i].want) {
		case WANT_PATTERN:
			ok = req_done(rq[i], VIRTIO_BLK_S_OK, g->bytes + 1) &&
			     pattern_diff(rstage[i], g->bytes, g->id) == g->bytes;
			break;
		case WANT_GARBLED:
			ok = req_done(rq[i], VIRTIO_BLK_S_OK, g->bytes + 1) &&
			     garbled(rstage[i], g);
			break;
		default:
			ok = req_done(rq[i], VIRTIO_BLK_S_IOERR, 1) &&
			     (!g || all_bytes(rstage[i], g->bytes, SENTINEL));
			break;
		}
		if (g)
			check(ok, "read %s through slot %u: %s: status %u used %u", g->name,
			      io[i].slot, want_name[io[i].want], *rq[i]->st, used);
		else
			check(ok,
			      "write %u bytes to sector %lu through slot %u: %s: status %u used %u",
			      BAD_IO_BYTES, sector[i], io[i].slot, want_name[io[i].want],
			      *rq[i]->st, used);
	}
}

void io_bad_requests(const struct virtio_dev *d)
{
	struct req *rq[NBAD];
	unsigned int i;

	batch_begin();
	pattern_fill(bad_out, BAD_BYTES_MAX, BAD_PATTERN_ID);
	memset(bad_in, SENTINEL, BAD_BYTES_MAX);
	for (i = 0; i < NBAD; i++) {
		const struct bad_req *b = &bad_reqs[i];
		uint64_t sector = b->type == VIRTIO_BLK_T_FLUSH ? 0 : bad_sector();
		bool in = b->type == VIRTIO_BLK_T_IN;

		rq[i] = req_new(b->type, sector, b->slot, b->activate, b->dun);
		submit_plain(rq[i], b->hdr_len, in ? bad_in : bad_out, b->bytes, in);
	}
	batch_run(d, &vq_req, "E (malformed)", nreqs);
	for (i = 0; i < NBAD; i++) {
		const struct bad_req *b = &bad_reqs[i];
		bool untouched = b->type != VIRTIO_BLK_T_IN ||
				 all_bytes(bad_in, b->bytes, SENTINEL);

		check(req_done(rq[i], b->status, 1) && untouched,
		      "%s: status %u (want %u) used %u%s", b->name, *rq[i]->st, b->status,
		      vq_used_len(&vq_req, rq[i]->head), untouched ? "" : ", data buffer written");
	}
}

void io_bad_area(const struct virtio_dev *d)
{
	struct req *r;

	batch_begin();
	memset(bad_area, SENTINEL, BAD_AREA_BYTES);
	r = req_new(VIRTIO_BLK_T_IN, PLAN_BAD_SECTOR, STALE_SLOT, 0, STALE_DUN);
	submit_plain(r, raw_hdr_len(), bad_area, BAD_AREA_BYTES, true);
	batch_run(d, &vq_req, "Z (raw read of the malformed-write area)", nreqs);
	check(req_done(r, VIRTIO_BLK_S_OK, BAD_AREA_BYTES + 1) &&
		      all_bytes(bad_area, BAD_AREA_BYTES, 0),
	      "sectors %u..%u still zero: status %u", PLAN_BAD_SECTOR,
	      PLAN_BAD_SECTOR + PLAN_BAD_SECTORS - 1, *r->st);
}
