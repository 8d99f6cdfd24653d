// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio version 2 register interface (virtio 1.2, 4.2.2, table
 * "MMIO Device Register Layout"). Registers below 0x100 are 32 bits wide;
 * accesses of any other width, and unknown offsets, are ignored (reads give
 * 0). Device configuration space at 0x100 answers any width byte-exactly.
 */
#include <errno.h>
#include <libfdt.h>
#include <string.h>

#include "../vmm/log.h"
#include "mmio.h"

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_MMIO_VERSION 2
#define VIRTIO_MMIO_VENDOR 0x76656369 /* "icev" */

enum {
	REG_MAGIC = 0x000,
	REG_VERSION = 0x004,
	REG_DEVICE_ID = 0x008,
	REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010,
	REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020,
	REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034,
	REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044,
	REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060,
	REG_INTERRUPT_ACK = 0x064,
	REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080,
	REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090,
	REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0,
	REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_CONFIG_GENERATION = 0x0fc,
};

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *ops, void *dev,
		      const struct guest_mem *mem, const struct irq_line *irq,
		      uint64_t device_features, unsigned int num_queues, const uint8_t *config,
		      uint32_t config_size)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->queue_lock, NULL);
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	t->irq = *irq;
	/* Modern only: VERSION_1 is always offered and always required. */
	t->device_features = device_features | (1ULL << VIRTIO_F_VERSION_1);
	t->num_queues = num_queues < VIRTIO_MMIO_MAX_QUEUES ? num_queues : VIRTIO_MMIO_MAX_QUEUES;
	t->queue_num_max = VIRTQ_MAX_SIZE;
	t->config = config;
	t->config_size = config_size;
}

bool virtio_mmio_has_feature(const struct virtio_mmio *t, unsigned int bit)
{
	return (t->features >> bit) & 1;
}

static struct virtq *selected_queue(struct virtio_mmio *t)
{
	return t->queue_sel < t->num_queues ? &t->vqs[t->queue_sel] : NULL;
}

/* Called with the lock held. */
static void virtio_mmio_reset(struct virtio_mmio *t)
{
	unsigned int i;

	pthread_mutex_lock(&t->queue_lock);
	if (t->ops->reset)
		t->ops->reset(t);
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&t->vqs[i]);
	pthread_mutex_unlock(&t->queue_lock);
	t->status = 0;
	t->driver_features = t->features = 0;
	t->device_features_sel = t->driver_features_sel = t->queue_sel = 0;
	if (t->interrupt_status) {
		t->interrupt_status = 0;
		irq_line_set(&t->irq, 0);
	}
}

static void config_read(struct virtio_mmio *t, uint64_t off, uint8_t *data, uint32_t len)
{
	uint32_t i;

	/* Byte by byte so that any width, and any overlap with the end, is exact. */
	for (i = 0; i < len; i++)
		data[i] = off + i < t->config_size ? t->config[off + i] : 0;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtq *vq = selected_queue(t);

	switch (off) {
	case REG_MAGIC:
		return VIRTIO_MMIO_MAGIC;
	case REG_VERSION:
		return VIRTIO_MMIO_VERSION;
	case REG_DEVICE_ID:
		return t->ops->device_id;
	case REG_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case REG_DEVICE_FEATURES:
		return t->device_features_sel < 2
			       ? (uint32_t)(t->device_features >> (32 * t->device_features_sel))
			       : 0;
	case REG_QUEUE_NUM_MAX:
		return vq ? t->queue_num_max : 0;
	case REG_QUEUE_READY:
		return vq ? vq->ready : 0;
	case REG_INTERRUPT_STATUS:
		return t->interrupt_status;
	case REG_STATUS:
		return t->status;
	case REG_CONFIG_GENERATION:
		return t->config_generation;
	}
	return 0;
}

void virtio_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct virtio_mmio *t = opaque;
	uint32_t v;

	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG_OFFSET) {
		config_read(t, off - VIRTIO_MMIO_CONFIG_OFFSET, data, len);
	} else if (len == 4) {
		v = reg_read(t, off);
		memcpy(data, &v, 4);
	} else {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&t->lock);
}

static void set_high(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | (uint64_t)hi << 32;
}

static void set_low(uint64_t *v, uint32_t lo)
{
	*v = (*v & ~0xffffffffULL) | lo;
}

/* Status writes drive the initialisation state machine (3.1.1). */
static void status_write(struct virtio_mmio *t, uint32_t v)
{
	uint32_t newly = v & ~t->status;

	if (v == 0) {
		virtio_mmio_reset(t);
		return;
	}
	/*
	 * The driver only ever sets bits (3.1.1); clearing one takes a reset.
	 * This keeps negotiated features fixed while queues run, and
	 * DEVICE_NEEDS_RESET set until the reset.
	 */
	if (t->status & ~v)
		return;
	if (newly & VIRTIO_STATUS_FEATURES_OK) {
		/* Refuse (leave FEATURES_OK clear) anything we did not offer, and legacy. */
		if ((t->driver_features & ~t->device_features) ||
		    !(t->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
		else
			t->features = t->driver_features;
	}
	if ((newly & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
		v &= ~VIRTIO_STATUS_DRIVER_OK; /* DRIVER_OK without features: not live */
	t->status = v;
}

static void queue_ready_write(struct virtio_mmio *t, struct virtq *vq, uint32_t v)
{
	int err = 0;

	pthread_mutex_lock(&t->queue_lock);
	if (!v)
		vq->ready = false;
	else if (t->status & VIRTIO_STATUS_NEEDS_RESET)
		err = -EBUSY; /* a broken queue comes back only through a device reset */
	else if (!vq->ready)
		err = virtq_enable(vq, t->mem, virtio_mmio_has_feature(t, VIRTIO_F_RING_EVENT_IDX));
	pthread_mutex_unlock(&t->queue_lock);
	if (err)
		pr_guest("virtio-mmio: queue %u: rings outside guest RAM or misaligned; not "
			 "enabled",
			 t->queue_sel);
}

/* Returns the queue to notify, or -1. Called with the lock held. */
static int reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct virtq *vq = selected_queue(t);
	bool queue_writable = vq && !vq->ready; /* ring setup is frozen while live */
	bool features_open = !(t->status & VIRTIO_STATUS_FEATURES_OK);

	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		t->device_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		if (features_open && t->driver_features_sel == 0)
			set_low(&t->driver_features, v);
		else if (features_open && t->driver_features_sel == 1)
			set_high(&t->driver_features, v);
		break;
	case REG_DRIVER_FEATURES_SEL:
		t->driver_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
		if (queue_writable)
			vq->num = v <= t->queue_num_max ? (uint16_t)v : 0;
		break;
	case REG_QUEUE_READY:
		if (vq)
			queue_ready_write(t, vq, v);
		break;
	case REG_QUEUE_NOTIFY:
		/* 4.2.3.3: the value is the queue index */
		if (v < t->num_queues && (t->status & VIRTIO_STATUS_DRIVER_OK))
			return (int)v;
		break;
	case REG_INTERRUPT_ACK:
		t->interrupt_status &= ~v;
		if (!t->interrupt_status)
			irq_line_set(&t->irq, 0);
		break;
	case REG_STATUS:
		status_write(t, v);
		break;
	case REG_QUEUE_DESC_LOW:
		if (queue_writable)
			set_low(&vq->desc_gpa, v);
		break;
	case REG_QUEUE_DESC_HIGH:
		if (queue_writable)
			set_high(&vq->desc_gpa, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
		if (queue_writable)
			set_low(&vq->avail_gpa, v);
		break;
	case REG_QUEUE_DRIVER_HIGH:
		if (queue_writable)
			set_high(&vq->avail_gpa, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
		if (queue_writable)
			set_low(&vq->used_gpa, v);
		break;
	case REG_QUEUE_DEVICE_HIGH:
		if (queue_writable)
			set_high(&vq->used_gpa, v);
		break;
	}
	return -1;
}

/*
 * The driver broke the ring protocol (2.1.2): flag DEVICE_NEEDS_RESET and
 * tell the driver with a configuration-change interrupt. Only a reset revives
 * the device.
 */
static void virtio_mmio_needs_reset(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	t->interrupt_status |= VIRTIO_MMIO_INT_CONFIG;
	irq_line_set(&t->irq, 1);
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct virtio_mmio *t = opaque;
	bool was_broken, newly_broken, need_irq;
	unsigned int q;
	uint32_t v;
	int notify;

	/* The device config is read-only here; narrow register writes are ignored. */
	if (off >= VIRTIO_MMIO_CONFIG_OFFSET || len != 4)
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&t->lock);
	notify = reg_write(t, off, v);
	pthread_mutex_unlock(&t->lock);
	if (notify < 0)
		return;
	/* The request work runs outside the register lock: other vCPUs keep going. */
	q = (unsigned int)notify;
	pthread_mutex_lock(&t->queue_lock);
	was_broken = t->vqs[q].broken;
	need_irq = t->ops->notify(t, q);
	newly_broken = !was_broken && t->vqs[q].broken;
	pthread_mutex_unlock(&t->queue_lock);
	if (newly_broken)
		virtio_mmio_needs_reset(t);
	if (need_irq)
		virtio_mmio_signal_used(t);
}

void virtio_mmio_signal_used(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	t->interrupt_status |= VIRTIO_MMIO_INT_VRING;
	irq_line_set(&t->irq, 1);
	pthread_mutex_unlock(&t->lock);
}

static int virtio_mmio_dt_node(const struct mmio_dev *dev, const struct dt_ctx *ctx)
{
	int err = dt_begin_mmio_node(ctx, dev, "virtio_mmio", "virtio,mmio");

	/* The device reads guest RAM through the CPU's cache-coherent view. */
	if (!err)
		err = fdt_property(ctx->fdt, "dma-coherent", NULL, 0);
	if (!err)
		err = fdt_end_node(ctx->fdt);
	return err;
}

const struct mmio_dev_ops virtio_mmio_ops = {
	.read = virtio_mmio_read,
	.write = virtio_mmio_write,
	.dt_node = virtio_mmio_dt_node,
};
