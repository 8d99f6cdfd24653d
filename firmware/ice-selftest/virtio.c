// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio transport and split virtqueue, driver side (virtio 1.2:
 * 3.1.1 device initialization, 4.2.3 virtio-mmio driver requirements,
 * 2.7 split virtqueues). Two queues, polled; the rings live in our BSS,
 * which the MMU maps Normal write-back inner-shareable, like the VMM's view.
 */
#include "io.h"
#include "lib.h"
#include "virtio.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VQ_TIMEOUT_SECONDS 10
#define USED_LEN_NONE 0xffffffffU

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags; /* 0: we want used-buffer interrupts (they stay masked; we ACK) */
	uint16_t idx;
	uint16_t ring[VQ_SIZE];
	uint16_t used_event;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[VQ_SIZE];
	uint16_t avail_event;
};

/* 2.7.10.1 needs 16/2/4-byte alignment; page-aligned keeps each ring on its own pages. */
struct vq_rings {
	struct virtq_desc desc[VQ_SIZE] __attribute__((aligned(4096)));
	struct virtq_avail avail __attribute__((aligned(4096)));
	struct virtq_used used __attribute__((aligned(4096)));
};

static struct vq_rings req_rings, key_rings;

struct vq vq_req = {
	.index = 0, .desc = req_rings.desc, .avail = &req_rings.avail, .used = &req_rings.used
};
/* Queue 1: the key queue of a disk without VIRTIO_BLK_F_MQ (docs/ICE.md). */
struct vq vq_key = {
	.index = 1, .desc = key_rings.desc, .avail = &key_rings.avail, .used = &key_rings.used
};

uint32_t virtio_read32(const struct virtio_dev *d, uint32_t off)
{
	return readl(d->base + off);
}

void virtio_write32(const struct virtio_dev *d, uint32_t off, uint32_t v)
{
	writel(v, d->base + off);
}

uint16_t virtio_config16(const struct virtio_dev *d, uint32_t off)
{
	return readw(d->base + VIRTIO_MMIO_CONFIG + off);
}

uint32_t virtio_config32(const struct virtio_dev *d, uint32_t off)
{
	return readl(d->base + VIRTIO_MMIO_CONFIG + off);
}

uint64_t virtio_config64(const struct virtio_dev *d, uint32_t off)
{
	uint32_t gen, lo, hi;

	do {
		gen = virtio_read32(d, VIRTIO_MMIO_CONFIG_GENERATION);
		lo = virtio_config32(d, off);
		hi = virtio_config32(d, off + 4);
	} while (gen != virtio_read32(d, VIRTIO_MMIO_CONFIG_GENERATION));
	return (uint64_t)hi << 32 | lo;
}

/* The architected counter (CNTVCT_EL0) bounds every wait. */
static uint64_t deadline(unsigned int seconds)
{
	isb();
	return sysreg_read(cntvct_el0) + sysreg_read(cntfrq_el0) * seconds;
}

static bool expired(uint64_t when)
{
	isb();
	return sysreg_read(cntvct_el0) > when;
}

bool virtio_reset(const struct virtio_dev *d)
{
	uint64_t end = deadline(VQ_TIMEOUT_SECONDS);

	virtio_write32(d, VIRTIO_MMIO_STATUS, 0);
	while (virtio_read32(d, VIRTIO_MMIO_STATUS) != 0)
		if (expired(end))
			return false;
	return true;
}

void virtio_add_status(const struct virtio_dev *d, uint32_t bits)
{
	virtio_write32(d, VIRTIO_MMIO_STATUS, virtio_read32(d, VIRTIO_MMIO_STATUS) | bits);
}

uint64_t virtio_device_features(const struct virtio_dev *d)
{
	uint64_t f;

	virtio_write32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)virtio_read32(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	virtio_write32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | virtio_read32(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

bool virtio_negotiate(const struct virtio_dev *d, uint64_t features)
{
	virtio_write32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	virtio_write32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	virtio_write32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	virtio_write32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	virtio_add_status(d, VIRTIO_STATUS_FEATURES_OK);
	/* 3.1.1 step 6: the device may refuse by leaving FEATURES_OK clear. */
	return virtio_read32(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

static void write64(const struct virtio_dev *d, uint32_t low_reg, uint64_t v)
{
	virtio_write32(d, low_reg, (uint32_t)v);
	virtio_write32(d, low_reg + 4, (uint32_t)(v >> 32));
}

uint32_t vq_num_max(const struct virtio_dev *d, unsigned int index)
{
	virtio_write32(d, VIRTIO_MMIO_QUEUE_SEL, index);
	return virtio_read32(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

const char *vq_setup(const struct virtio_dev *d, struct vq *q)
{
	virtio_write32(d, VIRTIO_MMIO_QUEUE_SEL, q->index);
	if (virtio_read32(d, VIRTIO_MMIO_QUEUE_READY))
		return "queue already ready after reset";
	if (virtio_read32(d, VIRTIO_MMIO_QUEUE_NUM_MAX) < VQ_SIZE)
		return "QueueNumMax below our queue size";
	/*
	 * Fresh rings: after a device reset the device starts again from index
	 * 0, and a used->idx left from before must not look like completions.
	 */
	memset(q->desc, 0, sizeof(struct virtq_desc) * VQ_SIZE);
	memset(q->avail, 0, sizeof(*q->avail));
	memset(q->used, 0, sizeof(*q->used));
	q->next_desc = q->avail_idx = q->used_seen = q->in_flight = 0;
	virtio_write32(d, VIRTIO_MMIO_QUEUE_NUM, VQ_SIZE);
	write64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uintptr_t)q->desc);
	write64(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uintptr_t)q->avail);
	write64(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uintptr_t)q->used);
	/* Ring memory must be in place before the device may look at it. */
	dsb(sy);
	virtio_write32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (virtio_read32(d, VIRTIO_MMIO_QUEUE_READY) != 1)
		return "QueueReady did not read back 1";
	return 0;
}

void vq_batch_begin(struct vq *q)
{
	/* The previous batch is fully back, so the whole table is free again. */
	q->next_desc = 0;
	q->in_flight = 0;
}

int vq_add_chain(struct vq *q, const struct vq_seg *segs, unsigned int n)
{
	unsigned int head = q->next_desc, i;

	if (n == 0 || n > VQ_SIZE - head || q->in_flight == VQ_SIZE)
		return -1;
	for (i = 0; i < n; i++) {
		struct virtq_desc *dsc = &q->desc[head + i];

		dsc->addr = (uintptr_t)segs[i].addr; /* identity map: VA = guest PA */
		dsc->len = segs[i].len;
		dsc->flags = (uint16_t)((segs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
					(i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		dsc->next = (uint16_t)(i + 1 < n ? head + i + 1 : 0);
	}
	q->next_desc = (uint16_t)(head + n);
	q->used_len[head] = USED_LEN_NONE;
	q->avail->ring[q->avail_idx % VQ_SIZE] = (uint16_t)head;
	q->avail_idx++;
	q->in_flight++;
	return (int)head;
}

void vq_kick(const struct virtio_dev *d, struct vq *q)
{
	/* 2.7.13.3: descriptors and ring entries before the index that publishes them */
	dmb(ishst);
	WRITE_ONCE(q->avail->idx, q->avail_idx);
	/*
	 * 2.7.13.4: the index must be visible before the notification. The
	 * notify is a Device-memory store, so order it with a full DSB.
	 */
	dsb(sy);
	virtio_write32(d, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

bool vq_wait_batch(const struct virtio_dev *d, struct vq *q, uint32_t *isr)
{
	uint64_t end = deadline(VQ_TIMEOUT_SECONDS);
	uint16_t target = (uint16_t)(q->used_seen + q->in_flight);
	bool ok = true;

	while (READ_ONCE(q->used->idx) != target) {
		if (expired(end)) {
			ok = false;
			break;
		}
	}
	/* Read the elements (and the data they describe) only after the index. */
	dmb(ishld);
	while (q->used_seen != READ_ONCE(q->used->idx)) {
		struct virtq_used_elem e = q->used->ring[q->used_seen % VQ_SIZE];

		if (e.id < VQ_SIZE && q->used_len[e.id] == USED_LEN_NONE)
			q->used_len[e.id] = e.len;
		else
			ok = false; /* an id we never made available, or twice */
		q->used_seen++;
	}
	/* 4.2.2: acknowledge what we saw, so the (masked) line drops. */
	*isr = virtio_read32(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	if (*isr)
		virtio_write32(d, VIRTIO_MMIO_INTERRUPT_ACK, *isr);
	q->in_flight = 0;
	return ok;
}

uint32_t vq_used_len(const struct vq *q, int head)
{
	return head >= 0 && head < VQ_SIZE ? q->used_len[head] : USED_LEN_NONE;
}
