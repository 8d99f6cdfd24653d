// SPDX-License-Identifier: GPL-2.0
/* Fake guest memory and a scripted virtio driver; see guest.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "guest.h"

static void tg_set_irq(void *ctx, unsigned int irq, int level)
{
	struct test_guest *g = ctx;

	(void)irq;
	if (level && !g->irq_level)
		g->irq_raises++;
	g->irq_level = level;
}

void tg_init(struct test_guest *g)
{
	memset(g, 0, sizeof(*g));
	gmem_init(&g->mem, calloc(1, TG_SIZE), TG_BASE, TG_SIZE);
	if (!g->mem.host)
		abort();
	g->irq = (struct irq_line){ .set_level = tg_set_irq, .ctx = g, .irq = 5 };
	g->next_free = TG_BASE + 4096; /* keep page 0 free: tests use it for odd layouts */
}

int tg_blk_open(struct test_guest *g, struct blk_dev *b, struct virtio_mmio *t,
		const struct blk_opts *o)
{
	if (blk_open(b, o) < 0)
		return -1;
	virtio_mmio_init(t, &b->vdev, &g->mem, &g->irq, &g->stopping);
	return 0;
}

void tg_fini(struct test_guest *g)
{
	free(g->mem.host);
	g->mem.host = NULL;
}

uint64_t tg_alloc(struct test_guest *g, uint64_t size, uint64_t align)
{
	uint64_t gpa;

	if (g->parent) /* one allocator per guest */
		return tg_alloc(g->parent, size, align);
	gpa = (g->next_free + align - 1) & ~(align - 1);
	if (gpa + size > TG_BASE + TG_SIZE)
		abort();
	g->next_free = gpa + size;
	memset(tg_ptr(g, gpa), 0, size);
	return gpa;
}

void *tg_ptr(struct test_guest *g, uint64_t gpa)
{
	return g->mem.host + (gpa - TG_BASE);
}

uint32_t tg_read32(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v;

	virtio_mmio_read(t, off, &v, 4);
	return v;
}

void tg_write32(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_write(t, off, &v, 4);
}

uint32_t tg_driver_init(struct test_guest *g, struct virtio_mmio *t, uint64_t features,
			uint16_t num)
{
	g->num = num;
	g->desc = tg_alloc(g, 16ULL * num, 16);
	g->avail = tg_alloc(g, 6 + 2ULL * num, 2);
	g->used = tg_alloc(g, 6 + 8ULL * num, 4);
	g->avail_idx = g->used_seen = g->next_desc = 0;

	tg_write32(t, 0x070, 0);     /* reset */
	tg_write32(t, 0x070, 1);     /* ACKNOWLEDGE */
	tg_write32(t, 0x070, 1 | 2); /* DRIVER */
	tg_write32(t, 0x024, 0);     /* DriverFeaturesSel */
	tg_write32(t, 0x020, (uint32_t)features);
	tg_write32(t, 0x024, 1);
	tg_write32(t, 0x020, (uint32_t)(features >> 32));
	tg_write32(t, 0x070, 1 | 2 | 8); /* FEATURES_OK */
	if (!(tg_read32(t, 0x070) & 8))
		return tg_read32(t, 0x070);
	tg_write32(t, 0x030, 0);   /* QueueSel */
	tg_write32(t, 0x038, num); /* QueueNum */
	tg_write32(t, 0x080, (uint32_t)g->desc);
	tg_write32(t, 0x084, (uint32_t)(g->desc >> 32));
	tg_write32(t, 0x090, (uint32_t)g->avail);
	tg_write32(t, 0x094, (uint32_t)(g->avail >> 32));
	tg_write32(t, 0x0a0, (uint32_t)g->used);
	tg_write32(t, 0x0a4, (uint32_t)(g->used >> 32));
	tg_write32(t, 0x044, 1);	     /* QueueReady */
	tg_write32(t, 0x070, 1 | 2 | 8 | 4); /* DRIVER_OK */
	return tg_read32(t, 0x070);
}

uint32_t tg_queue_attach(struct test_guest *kq, struct test_guest *g, struct virtio_mmio *t,
			 unsigned int q, uint16_t num)
{
	*kq = *g;
	kq->parent = g;
	kq->qidx = q;
	kq->num = num;
	kq->desc = tg_alloc(g, 16ULL * num, 16);
	kq->avail = tg_alloc(g, 6 + 2ULL * num, 2);
	kq->used = tg_alloc(g, 6 + 8ULL * num, 4);
	kq->avail_idx = kq->used_seen = kq->next_desc = 0;
	tg_write32(t, 0x030, q);   /* QueueSel */
	tg_write32(t, 0x038, num); /* QueueNum */
	tg_write32(t, 0x080, (uint32_t)kq->desc);
	tg_write32(t, 0x084, (uint32_t)(kq->desc >> 32));
	tg_write32(t, 0x090, (uint32_t)kq->avail);
	tg_write32(t, 0x094, (uint32_t)(kq->avail >> 32));
	tg_write32(t, 0x0a0, (uint32_t)kq->used);
	tg_write32(t, 0x0a4, (uint32_t)(kq->used >> 32));
	tg_write32(t, 0x044, 1); /* QueueReady */
	return tg_read32(t, 0x044);
}

void tg_desc(struct test_guest *g, uint64_t table, uint16_t idx, uint64_t addr, uint32_t len,
	     uint16_t flags, uint16_t next)
{
	uint8_t *d = tg_ptr(g, (table ? table : g->desc) + 16ULL * idx);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

void tg_publish(struct test_guest *g, uint16_t head)
{
	uint8_t *a = tg_ptr(g, g->avail);

	memcpy(a + 4 + 2 * (g->avail_idx % g->num), &head, 2);
	g->avail_idx++;
	memcpy(a + 2, &g->avail_idx, 2);
}

void tg_kick(struct virtio_mmio *t)
{
	tg_write32(t, 0x050, 0);
}

uint16_t tg_submit(struct test_guest *g, struct virtio_mmio *t, const struct tg_buf *bufs,
		   unsigned int n)
{
	uint16_t head = tg_add(g, bufs, n);

	tg_write32(t, 0x050, g->qidx); /* QueueNotify */
	return head;
}

bool tg_get_used(struct test_guest *g, uint32_t *id, uint32_t *len)
{
	uint8_t *u = tg_ptr(g, g->used);
	uint16_t idx;
	uint8_t *e;

	memcpy(&idx, u + 2, 2);
	if (idx == g->used_seen)
		return false;
	e = u + 4 + 8 * (g->used_seen % g->num);
	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
	g->used_seen++;
	return true;
}

void tg_set_used_event(struct test_guest *g, uint16_t v)
{
	memcpy((uint8_t *)tg_ptr(g, g->avail) + 4 + 2 * g->num, &v, 2);
}

uint16_t tg_avail_event(struct test_guest *g)
{
	uint16_t v;

	memcpy(&v, (uint8_t *)tg_ptr(g, g->used) + 4 + 8 * g->num, 2);
	return v;
}

uint16_t tg_add(struct test_guest *g, const struct tg_buf *bufs, unsigned int n)
{
	uint16_t head = g->next_desc % g->num;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint16_t idx = (head + i) % g->num;

		tg_desc(g, 0, idx, bufs[i].gpa, bufs[i].len,
			(bufs[i].writable ? VIRTQ_DESC_F_WRITE : 0) |
				(i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
			(uint16_t)((idx + 1) % g->num));
	}
	g->next_desc = (uint16_t)((head + n) % g->num);
	tg_publish(g, head);
	return head;
}

uint8_t *tg_snapshot(struct test_guest *g)
{
	uint8_t *snap = malloc(g->mem.size);

	if (!snap)
		abort();
	memcpy(snap, g->mem.host, g->mem.size);
	return snap;
}

void tg_snapshot_accept(struct test_guest *g, uint8_t *snap, uint64_t gpa, uint64_t len)
{
	memcpy(snap + (gpa - TG_BASE), tg_ptr(g, gpa), len);
}

void tg_snapshot_accept_used(struct test_guest *g, uint8_t *snap)
{
	tg_snapshot_accept(g, snap, g->used, 6 + 8ULL * g->num);
}

uint64_t tg_snapshot_diff(struct test_guest *g, const uint8_t *snap)
{
	uint64_t i;

	if (!memcmp(snap, g->mem.host, g->mem.size))
		return 0;
	for (i = 0; snap[i] == g->mem.host[i]; i++)
		;
	return TG_BASE + i;
}

int tg_image_create(char *path, const void *content, size_t len, uint64_t size)
{
	static const char *const dirs[] = { "/dev/shm", "/tmp" };
	unsigned int i;
	int fd = -1;

	for (i = 0; i < 2 && fd < 0; i++) {
		snprintf(path, TG_PATH_MAX, "%s/icevmm-test-XXXXXX", dirs[i]);
		fd = mkstemp(path);
	}
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    (len && pwrite(fd, content, len, 0) != (ssize_t)len)) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

long long tg_image_diff(const char *path, const void *expect, size_t len)
{
	const uint8_t *e = expect;
	uint8_t *buf = malloc(len + 1);
	long long diff = -1;
	ssize_t n = 0;
	size_t i;
	int fd;

	if (!buf)
		abort();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		n = pread(fd, buf, len + 1, 0); /* one byte more: the file must not be longer */
	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	for (i = 0; i < len && i < (size_t)n; i++) {
		if (buf[i] != e[i])
			break;
	}
	if (i < len || (size_t)n != len)
		diff = (long long)i;
	free(buf);
	return diff;
}
