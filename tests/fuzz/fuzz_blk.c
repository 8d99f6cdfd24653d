// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes become a guest's memory, its queue
 * registers and a script of MMIO accesses, then QueueNotify. The virtio-mmio
 * transport, the split virtqueue and virtio-blk must survive all of it under
 * ASan + UBSan, never touch memory outside guest RAM, never hang.
 *
 * Input layout (little-endian; short inputs are zero-padded):
 *   0  le64 driver features       8  le16 queue size      10 u8 flags
 *  11  u8  number of MMIO ops    12  le32 desc offset     16 le32 avail offset
 *  20  le32 used offset           24  ops: n x { u8 width_sel; u8 pad; le16 off; le32 value }
 *   …  the rest: guest RAM contents from guest-physical FUZZ_BASE
 * Ring "offsets" are relative to FUZZ_BASE unless flags bit 0 asks for raw
 * guest-physical addresses (so wrap-around and far-away addresses get tried).
 * Flags bit 1 picks the ICE disk (VIRTIO_BLK_F_ICE offered, AES-256-XTS,
 * slots 0-3 loaded with 512- and 4096-byte data units) instead of the plain one.
 *
 * Every input starts from scratch: a fresh image (zero-filled, but for a
 * fixed pattern in its first and last 64 KiB), a freshly opened device and
 * transport, zeroed guest RAM. Only the key store (read-only to the device)
 * lives across inputs, so every finding reproduces from its input alone.
 *
 * The device's promise "a rejected request leaves the image unchanged" is
 * checked too: the fake device wrapper hands each chain to blk, and when the
 * status it wrote is not OK, the image must be byte-identical to before.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../virtio/mmio.h"

#define FUZZ_BASE 0x40000000ULL
#define FUZZ_RAM (64 * 1024)
#define FUZZ_IMAGE (1 << 20)
#define FUZZ_HDR 24
#define FUZZ_OP 8
#define FUZZ_MAX_OPS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram;
static struct guest_mem mem;
static struct ice_store store;
static bool store_ready;
static struct blk_dev dev;
static struct virtio_mmio transport;
static struct virtio_device checked; /* dev.vdev with its handle wrapped */
static struct virtio_device_ops checked_ops;
static uint8_t *shadow, *now; /* the image as of the last OK request; scratch */

static void no_irq(void *ctx, unsigned int irq, int level)
{
	(void)ctx, (void)irq, (void)level;
}

static void image_read(uint8_t *buf)
{
	if (pread(dev.disk.fd, buf, FUZZ_IMAGE, 0) != FUZZ_IMAGE)
		abort();
}

/*
 * blk's handle, then: a request that failed must not have changed the image.
 * The shadow copy is the image after the last successful request (failed ones
 * must not change it), so one read per request suffices.
 */
static int64_t checked_handle(void *d, unsigned int q, const struct virtq_chain *c,
			      uint64_t features)
{
	const struct virtq_buf *last = c->nbufs ? &c->bufs[c->nbufs - 1] : NULL;
	int64_t used;

	used = dev.vdev.ops->handle(d, q, c, features);
	/* The status byte, read back from guest RAM: nothing else runs meanwhile. */
	if (used > 0 && last->host[last->len - 1] == VIRTIO_BLK_S_OK) {
		image_read(shadow);
	} else if (used > 0) {
		image_read(now);
		if (memcmp(shadow, now, FUZZ_IMAGE)) {
			fprintf(stderr, "fuzz_blk: a request with status %u changed the image\n",
				last->host[last->len - 1]);
			abort();
		}
	}
	return used;
}

static void fuzz_setup(void)
{
	uint8_t key[64];
	const char *why;

	ram = calloc(1, FUZZ_RAM);
	shadow = malloc(FUZZ_IMAGE);
	now = malloc(FUZZ_IMAGE);
	if (!ram || !shadow || !now || ice_global_init(ice_secmem_size(8)) ||
	    ice_store_init(&store, ICE_ALG_AES_XTS, ICE_KEY_256, 0x9 /* 512, 4096 */, 8, 0))
		abort();
	mem = (struct guest_mem){ .host = ram, .gpa_base = FUZZ_BASE, .size = FUZZ_RAM };
	for (unsigned int i = 0; i < 4; i++) {
		for (unsigned int j = 0; j < sizeof(key); j++)
			key[j] = (uint8_t)(i * 64 + j);
		if (ice_slot_load(&store, i, key, sizeof(key), i & 1 ? 4096 : 512, &why))
			abort();
	}
	store_ready = true;
}

/* A fresh image, device and transport for this input. */
static void open_disk(struct ice_store *ice)
{
	struct irq_line irq = { .set_level = no_irq };
	char path[] = "/dev/shm/icevmm-fuzz-XXXXXX";
	int fd = mkstemp(path);
	uint8_t pattern[64 * 1024];

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + i / 512);
	if (fd < 0 || ftruncate(fd, FUZZ_IMAGE) < 0 ||
	    pwrite(fd, pattern, sizeof(pattern), 0) != sizeof(pattern) ||
	    pwrite(fd, pattern, sizeof(pattern), FUZZ_IMAGE - sizeof(pattern)) != sizeof(pattern))
		abort();
	close(fd);
	memset(shadow, 0, FUZZ_IMAGE);
	memcpy(shadow, pattern, sizeof(pattern));
	memcpy(shadow + FUZZ_IMAGE - sizeof(pattern), pattern, sizeof(pattern));
	if (blk_open(&dev, &(struct blk_opts){ .path = path, .serial = "fuzz", .ice = ice }) < 0)
		abort();
	unlink(path); /* the open fd keeps it alive */
	checked_ops = *dev.vdev.ops;
	checked_ops.handle = checked_handle;
	checked = dev.vdev;
	checked.ops = &checked_ops;
	virtio_mmio_init(&transport, &checked, &mem, &irq, NULL);
}

static uint64_t get(const uint8_t *in, size_t size, size_t off, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | (off + (size_t)i < size ? in[off + (size_t)i] : 0);
	return v;
}

static void wr32(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&transport, off, &v, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t features = get(data, size, 0, 8);
	uint32_t num = (uint32_t)get(data, size, 8, 2);
	uint8_t flags = (uint8_t)get(data, size, 10, 1);
	unsigned int nops = (unsigned int)get(data, size, 11, 1) % (FUZZ_MAX_OPS + 1);
	uint64_t ring[3];
	size_t payload = FUZZ_HDR + (size_t)nops * FUZZ_OP;
	unsigned int i;

	if (!store_ready)
		fuzz_setup();
	open_disk((flags & 2) ? &store : NULL);
	for (i = 0; i < 3; i++) {
		uint64_t off = get(data, size, 12 + 4 * i, 4);

		ring[i] = (flags & 1) ? off | (off << 32) : FUZZ_BASE + off;
	}
	memset(ram, 0, FUZZ_RAM);
	if (size > payload)
		memcpy(ram, data + payload, size - payload < FUZZ_RAM ? size - payload : FUZZ_RAM);

	/* The driver's initialisation sequence (virtio 1.2, 3.1.1) with fuzzed values. */
	wr32(0x070, 0);
	wr32(0x070, 3);
	wr32(0x024, 0);
	wr32(0x020, (uint32_t)features);
	wr32(0x024, 1);
	wr32(0x020, (uint32_t)(features >> 32));
	wr32(0x070, 11);
	wr32(0x030, 0);
	wr32(0x038, num);
	wr32(0x080, (uint32_t)ring[0]);
	wr32(0x084, (uint32_t)(ring[0] >> 32));
	wr32(0x090, (uint32_t)ring[1]);
	wr32(0x094, (uint32_t)(ring[1] >> 32));
	wr32(0x0a0, (uint32_t)ring[2]);
	wr32(0x0a4, (uint32_t)(ring[2] >> 32));
	wr32(0x044, 1);
	wr32(0x070, 15);
	wr32(0x050, 0);

	/* Then whatever register accesses the input asks for, any width. */
	for (i = 0; i < nops; i++) {
		size_t o = FUZZ_HDR + (size_t)i * FUZZ_OP;
		uint8_t sel = (uint8_t)get(data, size, o, 1);
		uint32_t width = 1U << (sel & 3);
		uint64_t off = get(data, size, o + 2, 2) % 0x200;
		uint64_t val = get(data, size, o + 4, 4);

		if (sel & 0x80)
			virtio_mmio_write(&transport, off, &val, width);
		else
			virtio_mmio_read(&transport, off, &val, width);
	}
	wr32(0x050, 0);
	blk_close(&dev);
	virtio_mmio_destroy(&transport);
	return 0;
}
