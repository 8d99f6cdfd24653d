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

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

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

static uint16_t ring_load16(const uint8_t *p)
{
	/* Pairs with the driver's write barrier before it publishes idx. */
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static uint16_t le16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void le16_put(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * The descriptor-table walk both passes below share: from descriptor *idx of
 * the current table, an indirect descriptor switches to its table. Returns
 * false if the structure is broken (2.7.5.3.1: no nesting, no
 * INDIRECT|NEXT, whole descriptors only, a table in guest RAM). *limit is how
 * many descriptors the current table may still contribute: direct ones at
 * most the queue size, a table's at most its length, and all of them at most
 * VIRTQ_MAX_CHAIN (2.7.5.3.2).
 */
static bool virtq_enter_table(struct virtq *vq, const struct virtq_desc *d, bool *indirect,
			      const uint8_t **table, uint32_t *table_len, uint32_t *limit,
			      uint32_t *count, uint32_t *idx)
{
	if (*indirect || (d->flags & VIRTQ_DESC_F_NEXT) || d->len == 0 || d->len % 16 ||
	    d->len / 16 > VIRTQ_MAX_CHAIN)
		return false;
	*table = gmem_ptr(vq->mem, d->addr, d->len);
	if (!*table)
		return false;
	*table_len = d->len / 16;
	*limit = VIRTQ_MAX_CHAIN - *count < *table_len ? VIRTQ_MAX_CHAIN - *count : *table_len;
	*count = 0;
	*idx = 0;
	*indirect = true;
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
	const uint8_t *table = vq->desc;
	uint32_t table_len = vq->num, limit = vq->num, idx = head, count = 0;
	uint64_t rd = 0, wr = 0;
	bool indirect = false;

	c->head = head;
	c->nbufs = 0;
	for (;;) {
		struct virtq_desc d;
		uint8_t *host;

		/* Copy once: the guest may rewrite the descriptor behind our back. */
		memcpy(&d, table + 16ULL * idx, sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!virtq_enter_table(vq, &d, &indirect, &table, &table_len, &limit,
					       &count, &idx))
				return -EINVAL;
			/* Only with the feature (2.7.5.3.1); the table may still show the end. */
			if (!vq->indirect)
				return -EBADMSG;
			continue;
		}
		/* Direct descriptors at most num, table entries at most its length: ends loops. */
		if (++count > limit)
			return -ELOOP;
		/* A zero-length buffer carries no bytes: nothing to translate. */
		host = d.len ? gmem_ptr(vq->mem, d.addr, d.len) : NULL;
		if (d.len && !host)
			return -EBADMSG;
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			wr += d.len;
		} else {
			/* 2.7.4.2: device-readable buffers come before device-writable ones */
			if (wr)
				return -EBADMSG;
			rd += d.len;
		}
		if (d.len) {
			c->bufs[c->nbufs++] = (struct virtq_buf){
				.host = host,
				.len = d.len,
				.device_writable = d.flags & VIRTQ_DESC_F_WRITE,
			};
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		idx = d.next;
		if (idx >= table_len)
			return -EINVAL;
	}
	if (rd > UINT32_MAX || wr > UINT32_MAX)
		return -EBADMSG;
	c->readable_len = (uint32_t)rd;
	c->writable_len = (uint32_t)wr;
	return 0;
}

/*
 * The slow path for a chain with bad content: walk it again, its structure
 * only, to find its last descriptor. 0 and *last, or -EINVAL if it has no
 * end within the limits.
 */
static int virtq_chain_end(struct virtq *vq, uint16_t head, struct virtq_desc *last)
{
	const uint8_t *table = vq->desc;
	uint32_t table_len = vq->num, limit = vq->num, idx = head, count = 0;
	bool indirect = false;

	for (;;) {
		memcpy(last, table + 16ULL * idx, sizeof(*last));
		if (last->flags & VIRTQ_DESC_F_INDIRECT) {
			if (!virtq_enter_table(vq, last, &indirect, &table, &table_len, &limit,
					       &count, &idx))
				return -EINVAL;
			continue;
		}
		if (++count > limit)
			return -ELOOP;
		if (!(last->flags & VIRTQ_DESC_F_NEXT))
			return 0;
		idx = last->next;
		if (idx >= table_len)
			return -EINVAL;
	}
}

/*
 * A malformed chain: keep only its last descriptor, and only if it is a
 * device-writable buffer in guest RAM, where the device can put an error status.
 */
static void virtq_bad_chain(struct virtq *vq, struct virtq_chain *c, uint16_t head,
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

enum virtq_pop_result virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	struct virtq_desc last;
	uint16_t avail_idx, head;
	int err;

	if (!vq->ready || vq->broken)
		return VIRTQ_EMPTY;
	avail_idx = ring_load16(vq->avail + 2);
	if (avail_idx == vq->last_avail)
		return VIRTQ_EMPTY;
	/* The driver can be at most a full ring ahead of us (2.7.13.3). */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->num) {
		vq->broken = true;
		return VIRTQ_BROKEN;
	}
	head = le16_at(vq->avail + 4 + 2 * (vq->last_avail % vq->num));
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

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	uint8_t *elem = vq->used + 4 + 8 * (vq->used_idx % vq->num);
	uint32_t id = head;

	memcpy(elem, &id, 4);
	memcpy(elem + 4, &len, 4);
	vq->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n((uint16_t *)(vq->used + 2), vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_need_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled, now = vq->used_idx;

	if (old == now)
		return false;
	vq->signalled = now;
	/* Our used->idx store must be ordered before reading the driver's hints. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		uint16_t used_event = le16_at(vq->avail + 4 + 2 * vq->num);

		/* 2.7.10: interrupt iff used_event lies in (old, now] */
		return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
	}
	return !(le16_at(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool virtq_arm_notify(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx)
		le16_put(vq->used + 4 + 8 * vq->num, vq->last_avail);
	/* Publish avail_event before re-reading avail->idx, or a notify could be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ring_load16(vq->avail + 2) != vq->last_avail;
}
