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
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/blk.h"

#define FUZZ_BASE 0x40000000ULL
#define FUZZ_RAM (64 * 1024)
#define FUZZ_IMAGE (1 << 20)
#define FUZZ_HDR 24
#define FUZZ_OP 8
#define FUZZ_MAX_OPS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram;
static struct guest_mem mem;
static struct blk_dev *dev;

static void no_irq(void *ctx, unsigned int irq, int level)
{
	(void)ctx, (void)irq, (void)level;
}

static void fuzz_setup(void)
{
	struct irq_line irq = { .set_level = no_irq };
	char path[] = "/dev/shm/icevmm-fuzz-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, FUZZ_IMAGE) < 0)
		abort();
	close(fd);
	ram = calloc(1, FUZZ_RAM);
	dev = calloc(1, sizeof(*dev));
	if (!ram || !dev)
		abort();
	mem = (struct guest_mem){ .host = ram, .gpa_base = FUZZ_BASE, .size = FUZZ_RAM };
	if (blk_open(dev, &(struct blk_opts){ .path = path, .serial = "fuzz" }, &mem, &irq) < 0)
		abort();
	unlink(path); /* the open fd keeps it alive */
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
	virtio_mmio_write(&dev->transport, off, &v, 4);
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

	if (!dev)
		fuzz_setup();
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
			virtio_mmio_write(&dev->transport, off, &val, width);
		else
			virtio_mmio_read(&dev->transport, off, &val, width);
	}
	wr32(0x050, 0);
	return 0;
}
