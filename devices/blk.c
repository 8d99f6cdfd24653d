// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk device: requests from the virtqueue to a raw image file.
 *
 * A request (5.2.6) is a device-readable header { le32 type; le32 reserved;
 * le64 sector; }, data, and a device-writable status byte at the very end.
 * With VERSION_1 the driver may split these over descriptors any way it
 * likes (ANY_LAYOUT, 2.7.4.3), so the code below works on byte offsets into
 * the chain's readable and writable halves, never on descriptor boundaries.
 *
 * Every check runs before any I/O: a rejected request writes nothing to the
 * image and nothing to guest memory except its status byte (used len 1).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../virtio/chain.h"
#include "../vmm/log.h"
#include "blk.h"

#define BLK_HDR_SIZE 16
#define BLK_ICE_HDR_SIZE 32 /* with VIRTIO_BLK_F_ICE, for IN, OUT and FLUSH */
#define DISCARD_SEG_SIZE 16 /* { le64 sector; le32 num_sectors; le32 flags; } */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

/* All of it or an error (EINTR retried, short counts continued: devices/disk.c). */
static int blk_rw(struct blk_dev *b, struct iovec *iov, int cnt, uint64_t off, bool write)
{
	return disk_rw(&b->disk, iov, cnt, off, write);
}

/* sector + sectors within capacity, without overflow. */
static bool blk_range_ok(const struct blk_dev *b, uint64_t sector, uint64_t sectors)
{
	return sector <= b->capacity && sectors <= b->capacity - sector;
}

static pthread_key_t bounce_key;
static pthread_once_t bounce_once = PTHREAD_ONCE_INIT;

static void bounce_key_init(void)
{
	pthread_key_create(&bounce_key, free);
}

/* This vCPU thread's bounce buffer: allocated on its first ICE request, never per request. */
static uint8_t *blk_bounce(void)
{
	static __thread uint8_t *bounce;

	if (!bounce) {
		pthread_once(&bounce_once, bounce_key_init);
		bounce = malloc(BLK_ICE_BOUNCE);
		if (bounce)
			pthread_setspecific(bounce_key, bounce); /* freed at thread exit */
	}
	return bounce;
}

static int blk_pio(struct blk_dev *b, uint8_t *buf, size_t len, uint64_t off, bool write)
{
	return disk_pio(&b->disk, buf, len, off, write);
}

/*
 * OUT: encrypt with the key the request pinned (every data unit under that
 * one key: devices/ice.h) into the bounce buffer, a chunk of whole data
 * units at a time, and write the chunk: the guest's buffers are never
 * modified by a write (they may be its page cache). Units that lie within
 * one guest buffer (the usual case) are encrypted straight from guest memory
 * into the bounce buffer, with no extra copy; a unit that straddles guest
 * buffers, at any byte, is gathered into the bounce buffer first.
 */
static uint8_t blk_crypt_write(struct blk_dev *b, const struct virtq_chain *c, uint64_t data_off,
			       uint64_t len, uint64_t pos, const struct blk_crypto *cr,
			       struct ice_key *k, uint32_t du)
{
	uint64_t chunk = BLK_ICE_BOUNCE / du * du, done, n, i, avail, run;
	uint8_t *bounce = blk_bounce(), *g;
	struct chain_pos gp = { 0, 0 };
	int err;

	if (!bounce)
		return VIRTIO_BLK_S_IOERR;
	chain_pos_skip(c, false, &gp, data_off);
	g = chain_pos_ptr(c, false, &gp, &avail);
	if (avail >= len && len <= chunk) { /* the usual case: the data is one buffer */
		if (ice_key_crypt_to(k, cr->dun, g, bounce, len, true) ||
		    blk_pio(b, bounce, len, pos, true))
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	}
	for (done = 0; done < len; done += n) {
		n = len - done < chunk ? len - done : chunk;
		for (i = 0; i < n; i += run) {
			uint64_t dun = cr->dun + (done + i) / du;

			g = chain_pos_ptr(c, false, &gp, &avail);
			run = (avail < n - i ? avail : n - i) / du * du;
			if (run) {
				err = ice_key_crypt_to(k, dun, g, bounce + i, run, true);
				chain_pos_skip(c, false, &gp, run);
			} else {
				run = du;
				chain_pos_copy(c, false, &gp, bounce + i, du, false);
				err = ice_key_crypt_to(k, dun, bounce + i, bounce + i, du, true);
			}
			if (err)
				return VIRTIO_BLK_S_IOERR;
		}
		if (blk_pio(b, bounce, n, pos + done, true))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * IN: read the ciphertext straight into the guest's buffers (one preadv, as
 * for a plain read) and decrypt it there, in place: the buffers are the
 * device's to write, and ciphertext is what a read without the key returns
 * anyway. Units that lie within one guest buffer are decrypted where they
 * are; a unit that straddles guest buffers is gathered into the bounce
 * buffer, decrypted there and scattered back.
 */
static uint8_t blk_crypt_read(struct blk_dev *b, const struct virtq_chain *c, uint64_t len,
			      uint64_t pos, const struct blk_crypto *cr, struct ice_key *k,
			      uint32_t du)
{
	int cnt = chain_iov(c, true, 0, len, b->iov), err;
	uint8_t *bounce, *g = b->iov[0].iov_base; /* now: disk_rw moves the iovec on */
	struct chain_pos gp = { 0, 0 }, at;
	uint64_t i, avail, run;

	if (blk_rw(b, b->iov, cnt, pos, false) < 0)
		return VIRTIO_BLK_S_IOERR;
	if (cnt == 1) /* the usual case: the data is one buffer */
		return ice_key_crypt_to(k, cr->dun, g, g, len, false) ? VIRTIO_BLK_S_IOERR
								      : VIRTIO_BLK_S_OK;
	for (i = 0; i < len; i += run) {
		uint64_t dun = cr->dun + i / du;

		g = chain_pos_ptr(c, true, &gp, &avail);
		run = (avail < len - i ? avail : len - i) / du * du;
		if (run) {
			err = ice_key_crypt_to(k, dun, g, g, run, false);
			chain_pos_skip(c, true, &gp, run);
		} else {
			run = du;
			bounce = blk_bounce();
			if (!bounce)
				return VIRTIO_BLK_S_IOERR;
			at = gp;
			chain_pos_copy(c, true, &gp, bounce, du, false);
			err = ice_key_crypt_to(k, dun, bounce, bounce, du, false);
			chain_pos_copy(c, true, &at, bounce, du, true);
		}
		if (err)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * ICE: slot in range and loaded, whole data units, last DUN <= 2^64 - 1.
 * The slot's key is pinned once, for the whole request: a PROGRAM or EVICT
 * meanwhile affects the next request, never part of this one.
 */
/* Not inlined: the plain path stays as lean as it was (make reqpath-count). */
static __attribute__((noinline)) uint8_t blk_ice_rw(struct blk_dev *b, const struct virtq_chain *c,
						    uint64_t data_off, uint64_t len, uint64_t pos,
						    const struct blk_crypto *cr, bool write)
{
	struct ice_key *k = ice_key_pin(b->ice, cr->slot);
	uint32_t du = k ? ice_key_check(k, cr->dun, len) : 0;
	uint8_t status = VIRTIO_BLK_S_IOERR;

	if (du && write)
		status = blk_crypt_write(b, c, data_off, len, pos, cr, k, du);
	else if (du)
		status = blk_crypt_read(b, c, len, pos, cr, k, du);
	ice_key_unpin(k);
	if (status == VIRTIO_BLK_S_OK)
		atomic_fetch_add_explicit(write ? &b->du_encrypted : &b->du_decrypted, len / du,
					  memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&b->ice_refused, 1, memory_order_relaxed);
	return status;
}

static uint8_t blk_read_write(struct blk_dev *b, const struct virtq_chain *c, uint64_t sector,
			      uint32_t hdr_len, const struct blk_crypto *cr, bool write)
{
	/* IN: data is every writable byte but the status; OUT: every readable byte after the header. */
	uint64_t len = write ? c->readable_len - hdr_len : c->writable_len - 1;
	int cnt;

	if (write ? c->writable_len != 1 : c->readable_len != hdr_len)
		return VIRTIO_BLK_S_IOERR; /* a data buffer in the wrong direction */
	if (write && b->disk.ro)
		return VIRTIO_BLK_S_IOERR;
	if (len == 0 || len % VIRTIO_BLK_SECTOR ||
	    !blk_range_ok(b, sector, len / VIRTIO_BLK_SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (cr)
		return blk_ice_rw(b, c, write ? hdr_len : 0, len, sector * VIRTIO_BLK_SECTOR, cr,
				  write);
	cnt = chain_iov(c, !write, write ? hdr_len : 0, len, b->iov);
	if (blk_rw(b, b->iov, cnt, sector * VIRTIO_BLK_SECTOR, write) < 0)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/* One DISCARD or WRITE_ZEROES range, already validated (hole, zero range or zeroes: disk.c). */
static int blk_zero_range(struct blk_dev *b, uint64_t off, uint64_t len, bool discard, bool unmap)
{
	return disk_zero_range(&b->disk, off, len, discard, unmap);
}

static uint8_t blk_discard_zeroes(struct blk_dev *b, const struct virtq_chain *c, bool discard)
{
	uint64_t data = c->readable_len - BLK_HDR_SIZE;
	unsigned int nseg = (unsigned int)(data / DISCARD_SEG_SIZE), i;
	struct {
		uint64_t sector;
		uint32_t num, flags;
	} seg[BLK_MAX_DISCARD_SEG]; /* the wire layout, little-endian like the host */
	_Static_assert(sizeof(seg[0]) == DISCARD_SEG_SIZE, "discard segment layout");

	if (c->writable_len != 1 || data == 0 || data % DISCARD_SEG_SIZE ||
	    nseg > BLK_MAX_DISCARD_SEG || b->disk.ro)
		return VIRTIO_BLK_S_IOERR;
	/* One copy, then check every segment: a bad one leaves the image untouched. */
	chain_copy(c, false, BLK_HDR_SIZE, seg, data, false);
	for (i = 0; i < nseg; i++) {
		/* 5.2.6.2: unmap is for WRITE_ZEROES only; other flag bits are reserved. */
		if (discard ? seg[i].flags != 0
			    : (seg[i].flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (seg[i].num > BLK_MAX_DISCARD_SECTORS ||
		    !blk_range_ok(b, seg[i].sector, seg[i].num))
			return VIRTIO_BLK_S_IOERR;
	}
	for (i = 0; i < nseg; i++) {
		if (blk_zero_range(b, seg[i].sector * VIRTIO_BLK_SECTOR,
				   (uint64_t)seg[i].num * VIRTIO_BLK_SECTOR, discard,
				   seg[i].flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) < 0)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * Without VIRTIO_BLK_F_FLUSH negotiated (it is offered) the disk is
 * write-through: a write is stable once completed (virtio 1.2, 5.2.6), so it
 * completes only after fdatasync. OUT and WRITE_ZEROES (reads must return
 * zeroes after it) come through here; not DISCARD, which leaves the data
 * undefined, so there is nothing for it to make durable.
 */
static uint8_t blk_write_through(struct blk_dev *b, uint8_t status, uint64_t features)
{
	if (status != VIRTIO_BLK_S_OK || virtio_has_feature(features, VIRTIO_BLK_F_FLUSH))
		return status;
	return disk_flush(&b->disk) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/* GET_ID (5.2.6): the id, NUL-padded to the whole data buffer; returns the bytes written. */
static uint32_t blk_get_id(const struct blk_dev *b, const struct virtq_chain *c)
{
	static const uint8_t zeroes[256];
	uint32_t n = c->writable_len - 1, id = n < VIRTIO_BLK_ID_BYTES ? n : VIRTIO_BLK_ID_BYTES;
	struct chain_pos p = { 0, 0 };

	/*
	 * Up to 20 bytes, not NUL-terminated if all 20 are used. A longer
	 * buffer gets NULs up to its status byte: the used length counts every
	 * byte from the first one (2.7.8.2), and all of them are written.
	 */
	chain_pos_copy(c, true, &p, (void *)b->serial, id, true);
	for (n -= id; n; n -= id) {
		id = n < sizeof(zeroes) ? n : sizeof(zeroes);
		chain_pos_copy(c, true, &p, (void *)zeroes, id, true);
	}
	return c->writable_len;
}

/*
 * The request header in one copy where the first buffer holds it (Linux's
 * always holds the whole header): v4's 56 bytes or the ICE header's 32 if
 * that buffer is that long, else the 16 bytes every request has. Returns the
 * bytes copied; the caller has checked that the chain has 16 readable bytes.
 */
static uint32_t blk_hdr_fetch(const struct virtq_chain *c, uint8_t hdr[BLK_V4_HDR_SIZE])
{
	const struct virtq_buf *b0 = &c->bufs[0];

	/* Constant sizes: each copy is a few moves, not a call. */
	if (!b0->device_writable && b0->len >= BLK_V4_HDR_SIZE) {
		memcpy(hdr, b0->host, BLK_V4_HDR_SIZE);
		return BLK_V4_HDR_SIZE;
	}
	if (!b0->device_writable && b0->len >= BLK_ICE_HDR_SIZE) {
		memcpy(hdr, b0->host, BLK_ICE_HDR_SIZE);
		return BLK_ICE_HDR_SIZE;
	}
	chain_copy(c, false, 0, hdr, BLK_HDR_SIZE, false);
	return BLK_HDR_SIZE;
}

/* The header's bytes up to `len` (checked readable), if blk_hdr_fetch() did not get them. */
static void blk_hdr_more(const struct virtq_chain *c, uint8_t *hdr, uint32_t have, uint32_t len)
{
	if (have < len)
		chain_copy(c, false, have, hdr + have, len - have, false);
}

/*
 * Process one validated request chain with the negotiated features; writes
 * the status byte and returns the used length, or -1 if the chain has no
 * device-writable last byte to put a status in (nothing touched).
 */
static int64_t blk_handle_chain(void *dev, unsigned int q, const struct virtq_chain *c,
				uint64_t features)
{
	struct blk_dev *b = dev;
	const struct virtq_buf *last = c->nbufs ? &c->bufs[c->nbufs - 1] : NULL;
	uint8_t hdr[BLK_V4_HDR_SIZE], status; /* the longest header: v4's */
	uint32_t type, hdr_len = BLK_HDR_SIZE, have;
	int64_t used = 1;
	struct blk_crypto crypto, *cr = NULL;
	uint64_t sector;

	/* Only a guest-programmed v2 disk and a v4 disk have a second queue (blk_open). */
	if (q == BLK_CTRL_QUEUE)
		return b->ctrl ? blk_ctrl_handle(b, c, features) : blk_keyq_handle(b, c, features);
	/* No device-writable last byte: nowhere to put a status, so touch nothing. */
	if (!last || !last->device_writable)
		return -1;
	if (c->readable_len < BLK_HDR_SIZE) {
		status = VIRTIO_BLK_S_IOERR;
		goto done;
	}
	have = blk_hdr_fetch(c, hdr);
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);

	if (b->ctrl && type >= VIRTIO_BLK_T_CRYPTO_OUT && type <= VIRTIO_BLK_T_CRYPTO_PREPARE_KEY) {
		/* v4's types (docs/ICE.md "The v4 format"); IN and OUT stay plain */
		if (type > VIRTIO_BLK_T_CRYPTO_IN ||
		    !virtio_has_feature(features, VIRTIO_BLK_F_INLINE_ENCRYPTION)) {
			status = blk_v4_request(b, c, features, type, &used); /* blk_ctrl.c */
			goto done;
		}
		/* CRYPTO_OUT, CRYPTO_IN: the header, then a 40-byte crypto message */
		hdr_len = BLK_V4_HDR_SIZE;
		if (c->readable_len < BLK_V4_HDR_SIZE) {
			status = VIRTIO_BLK_S_IOERR;
			goto done;
		}
		blk_hdr_more(c, hdr, have, BLK_V4_HDR_SIZE);
		if (ice_v4_crypto_msg(hdr + BLK_HDR_SIZE, &b->ctrl->caps, &crypto.slot,
				      &crypto.dun) != ICE_V4_S_OK) {
			atomic_fetch_add_explicit(&b->ice_refused, 1, memory_order_relaxed);
			status = VIRTIO_BLK_S_IOERR;
			goto done;
		}
		type = type == VIRTIO_BLK_T_CRYPTO_OUT ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
		cr = &crypto;
	} else if (!b->ctrl && virtio_has_feature(features, VIRTIO_BLK_F_ICE) &&
		   (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT ||
		    type == VIRTIO_BLK_T_FLUSH)) {
		/*
		 * v2: with ICE negotiated, IN/OUT/FLUSH carry a 32-byte header
		 * (docs/ICE.md). Bit 22 is VIRTIO_BLK_F_ICE only on a v2 disk.
		 */
		hdr_len = BLK_ICE_HDR_SIZE;
		if (c->readable_len < BLK_ICE_HDR_SIZE) {
			status = VIRTIO_BLK_S_IOERR;
			goto done;
		}
		blk_hdr_more(c, hdr, have, BLK_ICE_HDR_SIZE);
		/* payload: u8 slot, u8 activate, reserved (ignored), le64 data_unit_num */
		crypto.slot = hdr[16];
		memcpy(&crypto.dun, hdr + 24, 8);
		if (hdr[17] > 1) {
			status = VIRTIO_BLK_S_IOERR;
			goto done;
		}
		if (hdr[17] == 1 && type != VIRTIO_BLK_T_FLUSH)
			cr = &crypto;
	}

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		/* One call site: the compiler inlines the hot path here. */
		status = blk_read_write(b, c, sector, hdr_len, cr, type == VIRTIO_BLK_T_OUT);
		if (type == VIRTIO_BLK_T_OUT)
			status = blk_write_through(b, status, features);
		else if (status == VIRTIO_BLK_S_OK)
			used = c->writable_len; /* data + status */
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Fails for good once an fdatasync (or a write) has failed: disk.c says why. */
		if (c->readable_len != hdr_len || c->writable_len != 1)
			status = VIRTIO_BLK_S_IOERR;
		else
			status = disk_flush(&b->disk) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (c->readable_len != BLK_HDR_SIZE || c->writable_len < 2) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		used = blk_get_id(b, c);
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = blk_discard_zeroes(b, c, type == VIRTIO_BLK_T_DISCARD);
		if (type == VIRTIO_BLK_T_WRITE_ZEROES)
			status = blk_write_through(b, status, features);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
done:
	last->host[last->len - 1] = status;
	return used;
}

/*
 * A malformed chain (virtio/virtq.h) whose last descriptor is device-writable:
 * IOERR in its last byte, used length 1 — the driver reads the status from
 * its own buffer, so anything else would count as success.
 */
static uint32_t blk_virtio_fail(void *dev, unsigned int q, const struct virtq_chain *c)
{
	const struct virtq_buf *last = &c->bufs[c->nbufs - 1];

	(void)dev, (void)q;
	last->host[last->len - 1] = VIRTIO_BLK_S_IOERR;
	return 1;
}

/* PROGRAMs done so far on the key or control queue */
static unsigned long blk_programs(const struct blk_dev *b)
{
	if (b->keyq)
		return atomic_load(&b->keyq->programs);
	return b->ctrl ? atomic_load(&b->ctrl->programs) : 0;
}

/*
 * Device reset (Status = 0): a guest-programmed disk (v2 key queue, v4) forgets
 * every key (docs/ICE.md).
 */
static void blk_reset(void *dev)
{
	struct blk_dev *b = dev;

	/* Never waits for I/O: a request that pinned a key finishes with it (ice.h). */
	if (b->keyq || b->ctrl)
		ice_store_evict_all(b->ice);
	/* fault=fail-reprogram: the driver's next PROGRAM restores a lost key. */
	if (b->key_fault == BLK_FAULT_FAIL_REPROGRAM && blk_programs(b) &&
	    !atomic_exchange(&b->fault_spent, true))
		atomic_store(&b->fault_armed, true);
}

/*
 * v2: the key queue programs the engine VIRTIO_BLK_F_ICE describes; v4: keys
 * come over the control queue. Not one without the other.
 */
static bool blk_features_ok(void *dev, uint64_t features)
{
	struct blk_dev *b = dev;

	if (b->ctrl)
		return !virtio_has_feature(features, VIRTIO_BLK_F_INLINE_ENCRYPTION) ||
		       virtio_has_feature(features, VIRTIO_BLK_F_CTRL_VQ);
	return !virtio_has_feature(features, VIRTIO_BLK_F_ICE_KEYQ) ||
	       virtio_has_feature(features, VIRTIO_BLK_F_ICE);
}

static const struct virtio_device_ops blk_virtio_ops = {
	.handle = blk_handle_chain,
	.fail = blk_virtio_fail,
	.reset = blk_reset,
	.features_ok = blk_features_ok,
};

static void put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/*
 * The logical block size: block=N's, else 512, or on an ICE disk its largest
 * data unit. Linux splits requests only at logical-block boundaries, so a
 * block at least as large as a data unit is what guarantees that no request
 * reaching the device holds part of one (docs/ICE.md, "Logical block size");
 * block=N smaller than that is for testing that a driver copes.
 */
static uint32_t blk_block_size(const struct blk_dev *b)
{
	if (b->block_size)
		return b->block_size;
	if (!b->ice)
		return VIRTIO_BLK_SECTOR;
	return VIRTIO_BLK_SECTOR << (31 - __builtin_clz(ice_du_mask(b->ice)));
}

/* struct virtio_blk_config (5.2.4), little-endian, and the ICE crypto fields. */
static void blk_fill_config(struct blk_dev *b)
{
	uint8_t *c = b->config;
	uint16_t slot_info;

	memset(c, 0, sizeof(b->config));
	memcpy(c + 0x00, &b->capacity, 8);     /* capacity */
	put_le32(c + 0x08, BLK_SIZE_MAX);      /* size_max */
	put_le32(c + 0x0c, BLK_SEG_MAX);       /* seg_max */
	put_le32(c + 0x14, blk_block_size(b)); /* blk_size */
	if (b->many_queues) {
		c[0x22] = BLK_MANY_QUEUES & 0xff; /* num_queues */
		c[0x23] = BLK_MANY_QUEUES >> 8;
	}
	put_le32(c + 0x24, BLK_MAX_DISCARD_SECTORS);   /* max_discard_sectors */
	put_le32(c + 0x28, BLK_MAX_DISCARD_SEG);       /* max_discard_seg */
	put_le32(c + 0x2c, BLK_DISCARD_ALIGN_SECTORS); /* discard_sector_alignment */
	put_le32(c + 0x30, BLK_MAX_DISCARD_SECTORS);   /* max_write_zeroes_sectors */
	put_le32(c + 0x34, BLK_MAX_DISCARD_SEG);       /* max_write_zeroes_seg */
	c[0x38] = 1;				       /* write_zeroes_may_unmap */
	if (b->ctrl) {
		ice_v4_config(&b->ctrl->caps, c + ICE_V4_CFG_OFF); /* enc_characteristics */
	} else if (b->ice) {
		slot_info = ice_slot_info(b->ice);
		memcpy(c + 0x60, &slot_info, 2);	    /* crypto.slot_info */
		put_le32(c + 0x64, ice_capability(b->ice)); /* crypto.capability */
	}
}

/* --disk ...,fault=: what the disk will do, said at start-up. */
static int blk_arm_fault(struct blk_dev *b, const struct blk_opts *o)
{
	static const char *const what[] = {
		[BLK_FAULT_LOSE_PROGRAM] = "lose-program: the first PROGRAM command will not be "
					   "completed until the guest resets the device",
		[BLK_FAULT_BREAK_QUEUE] = "break-queue: the first PROGRAM command will be "
					  "completed with a used-ring id out of range",
		[BLK_FAULT_FAIL_REPROGRAM] = "fail-reprogram: the first PROGRAM command after "
					     "the first reset that follows a PROGRAM will fail",
	};

	if (!b->keyq && !b->ctrl) {
		pr_err("disk %s: fault=%.*s: the disk takes no key commands (its keys file "
		       "provisions the slots)",
		       o->path, (int)strcspn(what[o->key_fault], ":"), what[o->key_fault]);
		return -1;
	}
	/* fail-reprogram is armed by a reset (blk_reset()) */
	atomic_store(&b->fault_armed, o->key_fault != BLK_FAULT_FAIL_REPROGRAM);
	pr_info("disk %s: fault=%s", o->path, what[o->key_fault]);
	return 0;
}

int blk_open(struct blk_dev *b, const struct blk_opts *o)
{
	uint64_t features = 1ULL << VIRTIO_F_RING_INDIRECT_DESC | 1ULL << VIRTIO_F_RING_EVENT_IDX |
			    1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
			    1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH;

	memset(b, 0, sizeof(*b));
	b->ice = o->ice;
	b->block_size = o->block_size;
	b->many_queues = o->many_queues;
	b->key_fault = o->key_fault;
	/* memset above gives the NUL padding GET_ID wants; 20 bytes need no terminator. */
	if (o->serial)
		memcpy(b->serial, o->serial, strnlen(o->serial, sizeof(b->serial)));
	if (disk_open(&b->disk, o->path, o->ro) < 0)
		return -1;
	b->capacity = b->disk.size / VIRTIO_BLK_SECTOR;
	if (b->capacity == 0) {
		pr_err("disk %s: empty (the image must be at least 512 bytes)", o->path);
		goto fail;
	}
	if (b->disk.size % VIRTIO_BLK_SECTOR)
		pr_info("disk %s: size is not a multiple of 512; the last %llu bytes are not "
			"visible to the guest",
			o->path, (unsigned long long)(b->disk.size % VIRTIO_BLK_SECTOR));
	if (o->ice && o->spec == BLK_ICE_V4) { /* keys on the control queue */
		if (blk_ctrl_open(b, o->path) < 0)
			goto fail;
		features |= 1ULL << VIRTIO_BLK_F_CTRL_VQ | 1ULL << VIRTIO_BLK_F_INLINE_ENCRYPTION;
	} else if (o->ice) { /* only a disk with keyslots offers ICE (no "hw_enabled" field) */
		features |= 1ULL << VIRTIO_BLK_F_ICE;
	}
	if (o->ice && o->spec == BLK_ICE_V2 && ice_guest_programmed(o->ice)) {
		if (blk_keyq_open(b) < 0)
			goto fail;
		features |= 1ULL << VIRTIO_BLK_F_ICE_KEYQ;
	}
	if (o->key_fault != BLK_FAULT_NONE && blk_arm_fault(b, o) < 0)
		goto fail;
	if (blk_block_size(b) > VIRTIO_BLK_SECTOR && b->disk.size % blk_block_size(b))
		pr_info("disk %s: size is not a multiple of its %u-byte logical block (block=N, or "
			"the largest ICE data unit); the guest may not see the last %llu bytes",
			o->path, blk_block_size(b),
			(unsigned long long)(b->disk.size % blk_block_size(b)));
	if (o->many_queues) {
		features |= 1ULL << VIRTIO_BLK_F_MQ;
		pr_info("disk %s: fault=many-queues: the disk claims %u request queues; it has one",
			o->path, BLK_MANY_QUEUES);
	}
	if (o->ro)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	else
		features |= 1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	blk_fill_config(b);
	b->vdev = (struct virtio_device){
		.device_id = VIRTIO_ID_BLOCK,
		.ops = &blk_virtio_ops,
		.dev = b,
		.features = features,
		.num_queues = b->keyq || b->ctrl ? 2 : 1, /* BLK_REQUEST_QUEUE, BLK_CTRL_QUEUE */
		.config = b->config,
		.config_size = o->ice ? VIRTIO_BLK_CONFIG_SIZE_ICE : VIRTIO_BLK_CONFIG_SIZE,
	};
	return 0;
fail:
	blk_close(b);
	return -1;
}

enum blk_key_fault blk_program_fault(struct blk_dev *b)
{
	if (!atomic_load_explicit(&b->fault_armed, memory_order_relaxed) ||
	    !atomic_exchange(&b->fault_armed, false))
		return BLK_FAULT_NONE;
	return b->key_fault;
}

int64_t blk_fault_chain(enum blk_key_fault f)
{
	if (f == BLK_FAULT_LOSE_PROGRAM)
		return VIRTIO_CHAIN_KEPT;
	if (f == BLK_FAULT_BREAK_QUEUE)
		return VIRTIO_CHAIN_BAD_ID;
	return 0;
}

void blk_ice_summary(struct blk_dev *b, const char *path)
{
	unsigned long enc = atomic_load(&b->du_encrypted), dec = atomic_load(&b->du_decrypted);
	unsigned long refused = atomic_load(&b->ice_refused);

	if (!b->ice)
		return;
	if (b->ctrl)
		pr_info("disk %s: ICE (v4): %lu data units encrypted, %lu decrypted, %lu requests "
			"refused; control queue: %lu PROGRAM, %lu EVICT; wrapped keys: %lu IMPORT, "
			"%lu GENERATE, %lu PREPARE, %lu DERIVE_SW_SECRET",
			path, enc, dec, refused, atomic_load(&b->ctrl->programs),
			atomic_load(&b->ctrl->evicts), atomic_load(&b->ctrl->wrapped_cmds[2]),
			atomic_load(&b->ctrl->wrapped_cmds[1]),
			atomic_load(&b->ctrl->wrapped_cmds[3]),
			atomic_load(&b->ctrl->wrapped_cmds[0]));
	else if (b->keyq)
		pr_info("disk %s: ICE: %lu data units encrypted, %lu decrypted, %lu requests "
			"refused; key queue: %lu PROGRAM, %lu EVICT or EVICT_ALL",
			path, enc, dec, refused, atomic_load(&b->keyq->programs),
			atomic_load(&b->keyq->evicts));
	else
		pr_info("disk %s: ICE: %lu data units encrypted, %lu decrypted, %lu requests "
			"refused",
			path, enc, dec, refused);
}

void blk_close(struct blk_dev *b)
{
	blk_keyq_close(b);
	blk_ctrl_close(b);
	disk_close(&b->disk); /* also drops the flock; safe if never opened */
}
