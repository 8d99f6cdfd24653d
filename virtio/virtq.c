// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue, device side. Ring layouts (virtio 1.2, 2.7):
 *   descriptor table: num x { le64 addr; le32 len; le16 flags; le16 next; }
 *   available ring:   le16 flags; le16 idx; le16 ring[num]; le16 used_event;
 *   used ring:        le16 flags; le16 idx; { le32 id; le32 len; }[num]; le16 avail_event;
 * Hosts are little-endian (arm64, x86_64), like virtio 1.x rings.
 */
#include <errno.h>
#include <string.h>

#include "virtq.h"

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static uint64_t desc_table_size(uint16_t num)
{
	return 16ULL * num;
}

static uint64_t avail_size(uint16_t num)
{
	return 4 + 2ULL * num + 2;
}

static uint64_t used_size(uint16_t num)
{
	return 4 + 8ULL * num + 2;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem, bool event_idx, bool indirect)
{
	uint16_t n = vq->num;

	/* 2.7: the queue size is a power of two; 2.7.10.1 alignment: 16, 2, 4 */
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)) || vq->desc_gpa % 16 ||
	    vq->avail_gpa % 2 || vq->used_gpa % 4)
		return -EINVAL;
	vq->desc = gmem_ptr(mem, vq->desc_gpa, desc_table_size(n));
	vq->avail = gmem_ptr(mem, vq->avail_gpa, avail_size(n));
	vq->used = gmem_ptr(mem, vq->used_gpa, used_size(n));
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	vq->mem = mem;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->last_avail = vq->used_idx = vq->signalled = 0;
	vq->broken = false;
	vq->ready = true;
	return 0;
}

/*
 * Where a chain walk is (both passes below): descriptor idx of the current
 * table, which may still contribute `left` descriptors — direct ones at most
 * the queue size, a table's at most its length, and all of them at most
 * VIRTQ_MAX_CHAIN (2.7.5.3.2). Counting down bounds every walk: it ends loops.
 */
struct virtq_walker {
	const uint8_t *table;
	uint32_t table_len, left, idx;
	bool indirect;
};

/*
 * An indirect descriptor d: switch to its table. False if the structure is
 * broken (2.7.5.3.1: no nesting, no INDIRECT|NEXT, whole descriptors only, a
 * table in guest RAM). Inlined, so the walker stays in registers.
 */
static inline __attribute__((always_inline)) bool
virtq_enter_table(const struct virtq *vq, const struct virtq_desc *d, struct virtq_walker *w)
{
	uint32_t direct = vq->num - w->left; /* descriptors so far: all direct (no nesting) */

	if (w->indirect || (d->flags & VIRTQ_DESC_F_NEXT) || d->len == 0 || d->len % 16 ||
	    d->len / 16 > VIRTQ_MAX_CHAIN)
		return false;
	w->table = gmem_ptr(vq->mem, d->addr, d->len);
	if (!w->table)
		return false;
	w->table_len = d->len / 16;
	w->left = VIRTQ_MAX_CHAIN - direct < w->table_len ? VIRTQ_MAX_CHAIN - direct : w->table_len;
	w->idx = 0;
	w->indirect = true;
	return true;
}

/*
 * Walk the chain starting at head into *c. Returns 0 for a good chain,
 * -EBADMSG for one whose content is wrong (a buffer outside guest RAM, a
 * readable buffer after a writable one, an indirect descriptor without
 * VIRTIO_F_RING_INDIRECT_DESC), another negative errno for a broken structure.
 */
static int virtq_walk(struct virtq *vq, uint16_t head, struct virtq_chain *c)
{
	struct virtq_walker w = { vq->desc, vq->num, vq->num, head, false };
	const struct guest_mem *mem = vq->mem;
	struct virtq_buf *b = c->bufs;
	uint64_t rd = 0, wr = 0;

	for (;;) {
		struct virtq_desc d;

		/* Copy once: the guest may rewrite the descriptor behind our back. */
		memcpy(&d, w.table + 16ULL * w.idx, sizeof(d));
		if (__builtin_expect(d.flags & VIRTQ_DESC_F_INDIRECT, 0)) {
			if (!virtq_enter_table(vq, &d, &w))
				return -EINVAL;
			/* Only with the feature (2.7.5.3.1); the table may still show the end. */
			if (!vq->indirect)
				return -EBADMSG;
			continue;
		}
		if (!w.left--)
			return -ELOOP;
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			wr += d.len;
		} else {
			/* 2.7.4.2: device-readable buffers come before device-writable ones */
			if (wr)
				return -EBADMSG;
			rd += d.len;
		}
		/* A zero-length buffer carries no bytes: nothing to translate or keep. */
		if (d.len) {
			b->host = gmem_ptr(mem, d.addr, d.len);
			if (!b->host)
				return -EBADMSG;
			b->len = d.len;
			b->device_writable = d.flags & VIRTQ_DESC_F_WRITE;
			b++;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		w.idx = d.next;
		if (w.idx >= w.table_len)
			return -EINVAL;
	}
	if ((rd | wr) > UINT32_MAX)
		return -EBADMSG;
	c->head = head;
	c->nbufs = (unsigned int)(b - c->bufs);
	c->readable_len = (uint32_t)rd;
	c->writable_len = (uint32_t)wr;
	return 0;
}

/*
 * The slow path for a chain with bad content: walk it again, its structure
 * only, to find its last descriptor. 0 and *last, or -EINVAL if it has no
 * end within the limits.
 */
static __attribute__((noinline, cold)) int virtq_chain_end(struct virtq *vq, uint16_t head,
							   struct virtq_desc *last)
{
	struct virtq_walker w = { vq->desc, vq->num, vq->num, head, false };

	for (;;) {
		memcpy(last, w.table + 16ULL * w.idx, sizeof(*last));
		if (last->flags & VIRTQ_DESC_F_INDIRECT) {
			if (!virtq_enter_table(vq, last, &w))
				return -EINVAL;
			continue;
		}
		if (!w.left--)
			return -ELOOP;
		if (!(last->flags & VIRTQ_DESC_F_NEXT))
			return 0;
		w.idx = last->next;
		if (w.idx >= w.table_len)
			return -EINVAL;
	}
}

/*
 * A malformed chain: keep only its last descriptor, and only if it is a
 * device-writable buffer in guest RAM, where the device can put an error status.
 */
static __attribute__((noinline, cold)) void virtq_bad_chain(struct virtq *vq, struct virtq_chain *c,
							    uint16_t head,
							    const struct virtq_desc *last)
{
	uint8_t *host = last && last->len && (last->flags & VIRTQ_DESC_F_WRITE)
				? gmem_ptr(vq->mem, last->addr, last->len)
				: NULL;

	c->head = head;
	c->nbufs = 0;
	c->readable_len = c->writable_len = 0;
	if (host) {
		c->bufs[0] = (struct virtq_buf){ .host = host,
						 .len = last->len,
						 .device_writable = true };
		c->nbufs = 1;
		c->writable_len = last->len;
	}
}

/* virtq_pop() found avail_idx != last_avail: take that chain. */
enum virtq_pop_result virtq_pop_chain(struct virtq *vq, struct virtq_chain *chain,
				      uint16_t avail_idx)
{
	struct virtq_desc last;
	uint16_t head;
	int err;

	/* The driver can be at most a full ring ahead of us (2.7.13.3). */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->num) {
		vq->broken = true;
		return VIRTQ_BROKEN;
	}
	head = virtq_le16_at(vq->avail + 4 + 2 * (vq->last_avail & (vq->num - 1)));
	vq->last_avail++;
	if (head >= vq->num) {
		/* Not even an id we could hand back: the ring is garbage. */
		vq->broken = true;
		return VIRTQ_BROKEN;
	}
	err = virtq_walk(vq, head, chain);
	if (err) {
		if (err == -EBADMSG && virtq_chain_end(vq, head, &last))
			err = -EINVAL;
		virtq_bad_chain(vq, chain, head, err == -EBADMSG ? &last : NULL);
		return VIRTQ_BAD_CHAIN;
	}
	return VIRTQ_CHAIN;
}
