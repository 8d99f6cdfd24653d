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

#include "../vmm/aml.h"
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
	REG_SHM_LEN_LOW = 0x0b0,
	REG_SHM_LEN_HIGH = 0x0b4,
	REG_SHM_BASE_LOW = 0x0b8,
	REG_SHM_BASE_HIGH = 0x0bc,
	REG_CONFIG_GENERATION = 0x0fc,
};

static const atomic_bool never_stopping;

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device *vdev,
		      const struct guest_mem *mem, const struct irq_line *irq,
		      const atomic_bool *stopping)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	vmm_lock_init(&t->lock);
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		vmm_lock_init(&t->proc[i].lock);
		/* What a device checks before it commits (virtio_chain_current()). */
		t->proc[i].chain.gen_now = &t->qs[i].epoch;
	}
	t->vdev = vdev;
	t->mem = mem;
	t->irq = *irq;
	t->stopping = stopping ? stopping : &never_stopping; /* one load per notify */
	/* Modern only: VERSION_1 is always offered and always required. */
	t->device_features = vdev->features | (1ULL << VIRTIO_F_VERSION_1);
	/* A device with more queues needs VIRTIO_MMIO_MAX_QUEUES raised (mmio.h). */
	t->num_queues = vdev->num_queues < VIRTIO_MMIO_MAX_QUEUES ? vdev->num_queues
								  : VIRTIO_MMIO_MAX_QUEUES;
	t->queue_num_max = VIRTQ_MAX_SIZE;
}

bool virtio_mmio_has_feature(struct virtio_mmio *t, unsigned int bit)
{
	bool on;

	vmm_lock(&t->lock);
	on = virtio_has_feature(t->features, bit);
	vmm_unlock(&t->lock);
	return on;
}

static struct virtio_mmio_queue *selected_queue(struct virtio_mmio *t)
{
	return t->queue_sel < t->num_queues ? &t->qs[t->queue_sel] : NULL;
}

/*
 * Under lock: the queue's set-up changed (reset, QueueReady). The request
 * processor sees the new epoch at its next check; a reset or QueueReady = 0
 * then waits for it (drain, in virtio_mmio_write()).
 */
static void queue_new_epoch(struct virtio_mmio_queue *q)
{
	atomic_fetch_add_explicit(&q->epoch, 1, memory_order_release);
}

/* Called with the lock held; never waits for a proc lock (see mmio.h). */
static void virtio_mmio_reset(struct virtio_mmio *t)
{
	unsigned int i;

	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		queue_new_epoch(&t->qs[i]);
		virtq_reset(&t->qs[i].setup);
	}
	if (t->vdev->ops->reset) /* after the epochs: no new request starts on the old state */
		t->vdev->ops->reset(t->vdev->dev);
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
		data[i] = off + i < t->vdev->config_size ? t->vdev->config[off + i] : 0;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtio_mmio_queue *q = selected_queue(t);

	switch (off) {
	case REG_MAGIC:
		return VIRTIO_MMIO_MAGIC;
	case REG_VERSION:
		return VIRTIO_MMIO_VERSION;
	case REG_DEVICE_ID:
		return t->vdev->device_id;
	case REG_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case REG_DEVICE_FEATURES:
		return t->device_features_sel < 2
			       ? (uint32_t)(t->device_features >> (32 * t->device_features_sel))
			       : 0;
	case REG_QUEUE_NUM_MAX:
		return q ? t->queue_num_max : 0;
	case REG_QUEUE_READY:
		return q ? q->setup.ready : 0;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
	case REG_SHM_BASE_LOW:
	case REG_SHM_BASE_HIGH:
		/* 4.2.2: length -1 (all ones) for a region that does not exist; we have none */
		return 0xffffffff;
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

	vmm_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG_OFFSET) {
		config_read(t, off - VIRTIO_MMIO_CONFIG_OFFSET, data, len);
	} else if (len == 4) {
		v = reg_read(t, off);
		memcpy(data, &v, 4);
	} else {
		memset(data, 0, len);
	}
	vmm_unlock(&t->lock);
}

static void set_high(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | (uint64_t)hi << 32;
}

static void set_low(uint64_t *v, uint32_t lo)
{
	*v = (*v & ~0xffffffffULL) | lo;
}

/*
 * Status writes drive the initialisation state machine (3.1.1). A reset
 * adds every queue to *drain (virtio_mmio_write() waits for them).
 */
static void status_write(struct virtio_mmio *t, uint32_t v, unsigned int *drain)
{
	uint32_t newly = v & ~t->status;

	if (v == 0) {
		virtio_mmio_reset(t);
		*drain = (1u << VIRTIO_MMIO_MAX_QUEUES) - 1;
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
		    !(t->driver_features & (1ULL << VIRTIO_F_VERSION_1)) ||
		    (t->vdev->ops->features_ok &&
		     !t->vdev->ops->features_ok(t->vdev->dev, t->driver_features)))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
		else
			t->features = t->driver_features;
	}
	if ((newly & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
		v &= ~VIRTIO_STATUS_DRIVER_OK; /* DRIVER_OK without features: not live */
	t->status = v;
}

/*
 * Under lock: enabling validates the rings now; the processor picks them up
 * by epoch. Disabling a live queue adds it to *drain.
 */
static void queue_ready_write(struct virtio_mmio *t, struct virtio_mmio_queue *q, uint32_t v,
			      unsigned int *drain)
{
	int err = 0;

	if (!v) {
		if (q->setup.ready) {
			q->setup.ready = false;
			queue_new_epoch(q);
			*drain |= 1u << t->queue_sel;
		}
	} else if (t->status & VIRTIO_STATUS_NEEDS_RESET) {
		err = -EBUSY; /* a broken queue comes back only through a device reset */
	} else if (!q->setup.ready) {
		err = virtq_enable(&q->setup, t->mem,
				   virtio_has_feature(t->features, VIRTIO_F_RING_EVENT_IDX),
				   virtio_has_feature(t->features, VIRTIO_F_RING_INDIRECT_DESC));
		if (!err)
			queue_new_epoch(q);
	}
	if (err)
		pr_guest("virtio-mmio: queue %u: rings outside guest RAM or misaligned; not "
			 "enabled",
			 t->queue_sel);
}

/* The selected queue's set-up, if the driver may still change it: not while live. */
static struct virtq *writable_queue(struct virtio_mmio *t)
{
	struct virtio_mmio_queue *q = selected_queue(t);

	return q && !q->setup.ready ? &q->setup : NULL;
}

/*
 * Called with the lock held; adds the queues a reset or QueueReady = 0 took
 * away to *drain. Each case looks up only what it needs: InterruptACK comes
 * with every interrupt. (QueueNotify never gets here: virtio_mmio_write.)
 */
static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v, unsigned int *drain)
{
	struct virtio_mmio_queue *q;
	struct virtq *vq;

	switch (off) {
	case REG_INTERRUPT_ACK:
		t->interrupt_status &= ~v;
		if (!t->interrupt_status)
			irq_line_set(&t->irq, 0);
		break;
	case REG_DEVICE_FEATURES_SEL:
		t->device_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		if (t->status & VIRTIO_STATUS_FEATURES_OK)
			break; /* frozen once negotiated */
		if (t->driver_features_sel == 0)
			set_low(&t->driver_features, v);
		else if (t->driver_features_sel == 1)
			set_high(&t->driver_features, v);
		break;
	case REG_DRIVER_FEATURES_SEL:
		t->driver_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
		if ((vq = writable_queue(t)))
			vq->num = v <= t->queue_num_max ? (uint16_t)v : 0;
		break;
	case REG_QUEUE_READY:
		if ((q = selected_queue(t)))
			queue_ready_write(t, q, v, drain);
		break;
	case REG_STATUS:
		status_write(t, v, drain);
		break;
	case REG_QUEUE_DESC_LOW:
		if ((vq = writable_queue(t)))
			set_low(&vq->desc_gpa, v);
		break;
	case REG_QUEUE_DESC_HIGH:
		if ((vq = writable_queue(t)))
			set_high(&vq->desc_gpa, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
		if ((vq = writable_queue(t)))
			set_low(&vq->avail_gpa, v);
		break;
	case REG_QUEUE_DRIVER_HIGH:
		if ((vq = writable_queue(t)))
			set_high(&vq->avail_gpa, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
		if ((vq = writable_queue(t)))
			set_low(&vq->used_gpa, v);
		break;
	case REG_QUEUE_DEVICE_HIGH:
		if ((vq = writable_queue(t)))
			set_high(&vq->used_gpa, v);
		break;
	}
}

/*
 * The driver broke the ring protocol (2.1.2): flag DEVICE_NEEDS_RESET and
 * tell the driver with a configuration-change interrupt — unless the queue
 * was reset since the request began (the fresh device is not broken).
 */
static void virtio_mmio_needs_reset(struct virtio_mmio *t, unsigned int q, unsigned int epoch)
{
	vmm_lock(&t->lock);
	if (atomic_load_explicit(&t->qs[q].epoch, memory_order_relaxed) == epoch) {
		t->status |= VIRTIO_STATUS_NEEDS_RESET;
		t->interrupt_status |= VIRTIO_MMIO_INT_CONFIG;
		irq_line_set(&t->irq, 1);
	}
	vmm_unlock(&t->lock);
}

/* The cold ends of the request loop: out of line, so the loop stays small. */
static __attribute__((noinline, cold)) void queue_broken(struct virtio_mmio *t, unsigned int q,
							 unsigned int epoch)
{
	pr_guest("virtio-mmio: queue %u: the guest corrupted the available ring; queue stopped "
		 "until the device is reset",
		 q);
	virtio_mmio_needs_reset(t, q, epoch);
}

static __attribute__((noinline, cold)) void chain_unfailable(struct virtio_mmio *t, unsigned int q,
							     unsigned int epoch)
{
	/* No status byte to fail it with: the driver must hear of it. */
	pr_guest("virtio-mmio: queue %u: malformed request (chain %u) without a status buffer; "
		 "device needs reset",
		 q, t->proc[q].chain.head);
	virtio_mmio_needs_reset(t, q, epoch);
}

/* Under proc[q].lock: raise a used-buffer interrupt unless the queue was reset since `epoch`. */
static void virtio_mmio_raise_used(struct virtio_mmio *t, unsigned int q, unsigned int epoch)
{
	vmm_lock(&t->lock);
	if (atomic_load_explicit(&t->qs[q].epoch, memory_order_relaxed) == epoch) {
		t->interrupt_status |= VIRTIO_MMIO_INT_VRING;
		irq_line_set(&t->irq, 1);
	}
	vmm_unlock(&t->lock);
}

/* Under proc[q].lock: after completions, a used-buffer interrupt if the driver wants one. */
static inline void virtio_mmio_signal_used(struct virtio_mmio *t, unsigned int q,
					   unsigned int epoch)
{
	if (virtq_need_interrupt(&t->proc[q].vq))
		virtio_mmio_raise_used(t, q, epoch);
}

/* Keep serving the queue: it was not reset since `epoch`, and the VM is not stopping. */
static inline bool queue_running(struct virtio_mmio_queue *mq, unsigned int epoch,
				 const atomic_bool *stopping)
{
	return atomic_load_explicit(&mq->epoch, memory_order_acquire) == epoch &&
	       !atomic_load_explicit(stopping, memory_order_relaxed);
}

/*
 * Before every write to the used ring; false: the queue was reset since, do
 * not write. (The reset's drain waits for us anyway: this only keeps a request
 * that ends during a reset out of the old ring.)
 */
static inline bool ring_live(struct virtio_mmio_queue *mq, unsigned int epoch)
{
	return atomic_load_explicit(&mq->epoch, memory_order_relaxed) == epoch;
}

/*
 * Under proc[q].lock: queue q was set up again since the processor last ran;
 * take the new rings (lock order: proc lock, then lock). False if it was
 * reset again meanwhile.
 */
static __attribute__((noinline)) bool queue_take_setup(struct virtio_mmio *t, unsigned int q,
						       unsigned int epoch)
{
	struct virtio_mmio_proc *p = &t->proc[q];

	vmm_lock(&t->lock);
	if (atomic_load_explicit(&t->qs[q].epoch, memory_order_relaxed) == epoch) {
		p->vq = t->qs[q].setup;
		p->epoch = epoch;
		p->features = t->features;
		p->chain.gen = epoch;
	}
	vmm_unlock(&t->lock);
	return p->epoch == epoch;
}

/*
 * One chain popped from queue q: let the device serve it; returns the used
 * length, or -1 if it could not even fail it (no status buffer).
 */
static inline int64_t serve_chain(struct virtio_mmio *t, unsigned int q, enum virtq_pop_result r,
				  uint64_t features)
{
	const struct virtio_device *d = t->vdev;
	const struct virtq_chain *c = &t->proc[q].chain;

	if (r == VIRTQ_CHAIN)
		return d->ops->handle(d->dev, q, c, features);
	/* A malformed chain fails loudly: an error status where its status would be. */
	if (c->nbufs && d->ops->fail)
		return d->ops->fail(d->dev, q, c);
	return -1;
}

/*
 * The driver notified queue q (under `epoch`): serve it on this thread until
 * the ring is empty, the queue is reset, or the VM stops. Takes proc[q].lock.
 */
static void virtio_mmio_process(struct virtio_mmio *t, unsigned int q, unsigned int epoch)
{
	const atomic_bool *stopping = t->stopping;
	struct virtio_mmio_queue *mq = &t->qs[q];
	struct virtio_mmio_proc *p = &t->proc[q];
	struct virtq *vq = &p->vq;
	enum virtq_pop_result r;
	unsigned int budget;
	uint64_t features;
	int64_t len;

	vmm_lock(&p->lock);
	if (p->epoch != epoch && !queue_take_setup(t, q, epoch))
		goto out;
	/* Fixed while the queue lives: changing the features takes a reset (a new epoch). */
	features = p->features;
	budget = vq->num;
	for (;;) {
		r = virtq_pop(vq, &p->chain); /* reads guest memory only */
		if (r == VIRTQ_EMPTY) {
			/* Before going idle, arm the notification. */
			if (atomic_load_explicit(stopping, memory_order_relaxed) ||
			    !ring_live(mq, epoch) || !virtq_arm_notify(vq))
				break;
			continue; /* requests that raced with our last look */
		}
		/*
		 * The check between requests, once per request, right before its
		 * I/O: nothing is served for a queue reset since, or a VM that is
		 * stopping. (A chain popped but not served is never completed:
		 * the reset queue's rings are set up afresh, the stopping VM ends.)
		 */
		if (!queue_running(mq, epoch, stopping))
			break;
		if (r == VIRTQ_BROKEN) {
			queue_broken(t, q, epoch);
			break;
		}
		len = serve_chain(t, q, r, features);
		if (len == VIRTIO_CHAIN_KEPT)
			continue;
		if (!ring_live(mq, epoch))
			goto out;
		if (len == VIRTIO_CHAIN_BAD_ID) /* vq->num: one past the last descriptor */
			virtq_push(vq, vq->num, 0);
		else
			virtq_push(vq, p->chain.head, len < 0 ? 0 : (uint32_t)len);
		if (len == -1)
			chain_unfailable(t, q, epoch);
		/* A full ring's worth: interrupt now, not after the last request. */
		if (!--budget) {
			virtio_mmio_signal_used(t, q, epoch);
			budget = vq->num;
		}
	}
	virtio_mmio_signal_used(t, q, epoch);
out:
	vmm_unlock(&p->lock);
}

/*
 * Queue q was reset or disabled (its epoch moved on, under lock): wait until
 * no request taken under an older epoch is being served. The processor holds
 * proc[q].lock for the whole of a request, I/O included, and leaves at its
 * next check of the epoch; so once the lock is ours, whatever the old request
 * wrote into guest memory (data, status byte) is written, and nothing of the
 * old queue is written any more. Called without the register lock: only the
 * vCPU whose write reset the queue waits, and other vCPUs' register
 * accesses never wait for I/O.
 */
static void queue_drain(struct virtio_mmio *t, unsigned int q)
{
	vmm_lock(&t->proc[q].lock);
	vmm_unlock(&t->proc[q].lock);
}

/*
 * QueueNotify (4.2.3.3: the value is the queue index), the one register
 * write of every request, takes no register lock: it reads the queue's epoch
 * (acquire), then DRIVER_OK. A reset bumps the epochs before it clears the
 * status, and a queue is enabled again (a new epoch, release) only after
 * that: so a notify that sees a live epoch also sees the status that goes
 * with it, and one that raced with a reset is served under an epoch whose
 * queue is gone (queue_take_setup finds it not ready, or moved on).
 */
static void queue_notify(struct virtio_mmio *t, uint32_t q)
{
	unsigned int epoch;

	if (q >= t->num_queues)
		return;
	epoch = atomic_load_explicit(&t->qs[q].epoch, memory_order_acquire);
	if (atomic_load_explicit(&t->status, memory_order_relaxed) & VIRTIO_STATUS_DRIVER_OK)
		virtio_mmio_process(t, q, epoch); /* on this vCPU, outside the register lock */
}

void virtio_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct virtio_mmio *t = opaque;
	unsigned int drain = 0, q;
	uint32_t v;

	/* The device config is read-only here; narrow register writes are ignored. */
	if (off >= VIRTIO_MMIO_CONFIG_OFFSET || len != 4)
		return;
	memcpy(&v, data, 4);
	if (off == REG_QUEUE_NOTIFY) {
		queue_notify(t, v);
		return;
	}
	vmm_lock(&t->lock);
	reg_write(t, off, v, &drain);
	vmm_unlock(&t->lock);
	/*
	 * virtio 1.2 2.4.1: after a reset the device does not touch the queues;
	 * the driver owns their buffers again once this write returns.
	 */
	for (q = 0; drain; q++, drain >>= 1)
		if (drain & 1)
			queue_drain(t, q);
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

/*
 * LNRO0005: the ACPI ID of a virtio-mmio transport (Linux's virtio_mmio
 * binds to it through its ACPI match table and reads the register window
 * and the interrupt from _CRS).
 */
static int virtio_mmio_acpi_node(const struct mmio_dev *dev, const struct acpi_ctx *ctx)
{
	acpi_begin_device(ctx, dev, "VR", "LNRO0005");
	aml_end(ctx->aml); /* after an error: does nothing */
	return aml_error(ctx->aml);
}

const struct mmio_dev_ops virtio_mmio_ops = {
	.read = virtio_mmio_read,
	.write = virtio_mmio_write,
	.dt_node = virtio_mmio_dt_node,
	.acpi_node = virtio_mmio_acpi_node,
};
