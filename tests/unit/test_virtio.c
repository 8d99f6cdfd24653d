// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio transport (virtio 1.2, 4.2.2) and split virtqueue (2.7), driven
 * as a guest driver would: register accesses through virtio_mmio_read/write,
 * rings and buffers in the fake guest memory of guest.c. The device behind
 * the transport is a virtio-blk disk on a small image (reads of one sector
 * make good probe requests); a few tests use a bare fake device instead.
 * Descriptors are laid out by hand right before each publish: a probe read
 * (tg_add) in between may have reused their slots.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../vmm/aml.h"
#include "guest.h"
#include "unit.h"

/* virtio-mmio registers (4.2.2, table "MMIO Device Register Layout") */
enum {
	MMIO_MAGIC = 0x000,
	MMIO_VERSION = 0x004,
	MMIO_DEVICE_ID = 0x008,
	MMIO_VENDOR_ID = 0x00c,
	MMIO_DEVICE_FEATURES = 0x010,
	MMIO_DEVICE_FEATURES_SEL = 0x014,
	MMIO_DRIVER_FEATURES = 0x020,
	MMIO_DRIVER_FEATURES_SEL = 0x024,
	MMIO_QUEUE_SEL = 0x030,
	MMIO_QUEUE_NUM_MAX = 0x034,
	MMIO_QUEUE_NUM = 0x038,
	MMIO_QUEUE_READY = 0x044,
	MMIO_QUEUE_NOTIFY = 0x050,
	MMIO_INTERRUPT_STATUS = 0x060,
	MMIO_INTERRUPT_ACK = 0x064,
	MMIO_STATUS = 0x070,
	MMIO_QUEUE_DESC_LOW = 0x080,
	MMIO_QUEUE_DESC_HIGH = 0x084,
	MMIO_QUEUE_DRIVER_LOW = 0x090,
	MMIO_QUEUE_DRIVER_HIGH = 0x094,
	MMIO_QUEUE_DEVICE_LOW = 0x0a0,
	MMIO_QUEUE_DEVICE_HIGH = 0x0a4,
	MMIO_SHM_SEL = 0x0ac,
	MMIO_SHM_LEN_LOW = 0x0b0,
	MMIO_SHM_LEN_HIGH = 0x0b4,
	MMIO_SHM_BASE_LOW = 0x0b8,
	MMIO_SHM_BASE_HIGH = 0x0bc,
	MMIO_QUEUE_RESET = 0x0c0,
	MMIO_CONFIG_GENERATION = 0x0fc,
	MMIO_CONFIG = 0x100,
};

/* Status bits (2.1) */
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define S_LIVE (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

#define BIT(n) (1ULL << (n))
#define V1 BIT(VIRTIO_F_VERSION_1)
#define F_INDIRECT BIT(VIRTIO_F_RING_INDIRECT_DESC)
#define F_EVENT_IDX BIT(VIRTIO_F_RING_EVENT_IDX)
/* Low word of what the rw disk offers: SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH, DISCARD, WRITE_ZEROES, INDIRECT_DESC, EVENT_IDX */
#define OFFERED_LOW 0x30006246U

#define SECTORS 16
#define IMG_SIZE (SECTORS * VIRTIO_BLK_SECTOR)
#define POISON 0xa5
#define AVAIL_F_NO_INTERRUPT 1

static struct test_guest g;
static struct blk_dev dev;
static struct virtio_mmio transport;
static struct virtio_mmio *const t = &transport;
static char img[TG_PATH_MAX];
static uint8_t image[IMG_SIZE]; /* the image's content */

static void setup(void)
{
	struct blk_opts o = { .path = img, .serial = "virtio-test" };
	size_t i;

	dev.disk.fd = -1;
	tg_init(&g);
	for (i = 0; i < IMG_SIZE; i++)
		image[i] = (uint8_t)(1 + (i * 29 + i / 512 * 5) % 251);
	ck_assert_int_eq(tg_image_create(img, image, IMG_SIZE, IMG_SIZE), 0);
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
}

static void teardown(void)
{
	blk_close(&dev);
	unlink(img);
	tg_fini(&g);
}

static uint32_t rd(uint64_t off)
{
	return tg_read32(t, off);
}

static void wr(uint64_t off, uint32_t v)
{
	tg_write32(t, off, v);
}

/* The driver's whole initialisation; the device must accept it. */
static uint64_t last_features;
static uint16_t last_num;

static void start(uint64_t features, uint16_t num)
{
	last_features = features;
	last_num = num;
	ck_assert_uint_eq(tg_driver_init(&g, t, features, num), S_LIVE);
}

/* Reset, ACK, DRIVER, the features, FEATURES_OK on transport tt: returns Status read back. */
static uint32_t negotiate_on(struct virtio_mmio *tt, uint64_t features)
{
	tg_write32(tt, MMIO_STATUS, 0);
	tg_write32(tt, MMIO_STATUS, S_ACK);
	tg_write32(tt, MMIO_STATUS, S_ACK | S_DRIVER);
	tg_write32(tt, MMIO_DRIVER_FEATURES_SEL, 0);
	tg_write32(tt, MMIO_DRIVER_FEATURES, (uint32_t)features);
	tg_write32(tt, MMIO_DRIVER_FEATURES_SEL, 1);
	tg_write32(tt, MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	tg_write32(tt, MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	return tg_read32(tt, MMIO_STATUS);
}

static uint32_t negotiate(uint64_t features)
{
	return negotiate_on(t, features);
}

/* Program queue 0 and write QueueReady = 1; returns QueueReady read back. */
static uint32_t queue_setup(uint32_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(MMIO_QUEUE_SEL, 0);
	wr(MMIO_QUEUE_NUM, num);
	wr(MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	wr(MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	wr(MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	wr(MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
	wr(MMIO_QUEUE_READY, 1);
	return rd(MMIO_QUEUE_READY);
}

/* Rings for queue 0 of size num in g, as tg_driver_init() lays them out. */
static void alloc_rings(uint16_t num)
{
	g.num = num;
	g.desc = tg_alloc(&g, 16ULL * num, 16);
	g.avail = tg_alloc(&g, 6 + 2ULL * num, 2);
	g.used = tg_alloc(&g, 6 + 8ULL * num, 4);
	g.avail_idx = g.used_seen = g.next_desc = 0;
}

/*
 * Bring the device up with queue 0 of size num whose descriptor table has
 * one spare, valid-looking slot right after its end (index num): an
 * off-by-one in the device's bounds checks would reach it.
 */
static void start_with_spare_desc(uint64_t features, uint16_t num)
{
	last_features = features;
	last_num = num;
	ck_assert_uint_eq(negotiate(features), S_ACK | S_DRIVER | S_FEATURES_OK);
	g.num = num;
	g.desc = tg_alloc(&g, 16ULL * (num + 1), 16);
	g.avail = tg_alloc(&g, 6 + 2ULL * num, 2);
	g.used = tg_alloc(&g, 6 + 8ULL * num, 4);
	g.avail_idx = g.used_seen = g.next_desc = 0;
	ck_assert_uint_eq(queue_setup(num, g.desc, g.avail, g.used), 1);
	wr(MMIO_STATUS, S_LIVE);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE);
}

static uint16_t used_idx(void)
{
	uint16_t v;

	memcpy(&v, (uint8_t *)tg_ptr(&g, g.used) + 2, 2);
	return v;
}

static void set_avail_flags(uint16_t flags)
{
	memcpy(tg_ptr(&g, g.avail), &flags, 2);
}

/* --- probe requests: a read of one sector --- */

struct rreq {
	uint64_t hdr, data, status;
};

static uint64_t hdr_new(uint32_t type, uint64_t sector)
{
	uint64_t gpa = tg_alloc(&g, 16, 16);

	memcpy(tg_ptr(&g, gpa), &type, 4);
	memcpy((uint8_t *)tg_ptr(&g, gpa) + 8, &sector, 8);
	return gpa;
}

static uint64_t buf_new(uint32_t len, uint8_t fill)
{
	uint64_t gpa = tg_alloc(&g, len, 16);

	memset(tg_ptr(&g, gpa), fill, len);
	return gpa;
}

static struct rreq rreq_new(uint64_t sector)
{
	return (struct rreq){ .hdr = hdr_new(VIRTIO_BLK_T_IN, sector),
			      .data = buf_new(512, POISON),
			      .status = buf_new(1, POISON) };
}

/* Chain, publish (no kick); returns the head. */
static uint16_t rreq_add(const struct rreq *r)
{
	const struct tg_buf b[] = {
		{ r->hdr, 16, false },
		{ r->data, 512, true },
		{ r->status, 1, true },
	};

	return tg_add(&g, b, 3);
}

static uint8_t status_of(const struct rreq *r)
{
	return *(uint8_t *)tg_ptr(&g, r->status);
}

/* r, a read of sector, completed correctly (data + status), its buffers are intact. */
static void rreq_check(const struct rreq *r, uint64_t sector)
{
	ck_assert_mem_eq(tg_ptr(&g, r->data), image + sector * 512, 512);
	ck_assert_uint_eq(status_of(r), VIRTIO_BLK_S_OK);
}

/* Next used element is (head, len). */
static void expect_used(uint16_t head, uint32_t len)
{
	uint32_t id, l;

	ck_assert_msg(tg_get_used(&g, &id, &l), "no used element");
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(l, len);
}

static void expect_no_used(void)
{
	uint32_t id, l;

	ck_assert_msg(!tg_get_used(&g, &id, &l), "unexpected used element id %u len %u", id, l);
}

/* Submit a read of sector, kick, check it fully. */
static void read_sector(uint64_t sector)
{
	struct rreq r = rreq_new(sector);
	uint16_t head = rreq_add(&r);

	tg_kick(t);
	expect_used(head, 513);
	expect_no_used();
	rreq_check(&r, sector);
}

static void check_image(void)
{
	long long d = tg_image_diff(img, image, IMG_SIZE);

	ck_assert_msg(d == -1, "image changed at offset %lld", d);
}

/* --- register basics --- */

START_TEST(identification_registers)
{
	ck_assert_uint_eq(rd(MMIO_MAGIC), 0x74726976);
	ck_assert_uint_eq(rd(MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	ck_assert_uint_eq(rd(MMIO_VENDOR_ID), 0x76656369); /* "icev" */
	ck_assert_uint_eq(rd(MMIO_CONFIG_GENERATION), 0);
	ck_assert_uint_eq(rd(MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
}
END_TEST

START_TEST(device_features_windows)
{
	wr(MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(rd(MMIO_DEVICE_FEATURES), OFFERED_LOW);
	wr(MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(rd(MMIO_DEVICE_FEATURES), 1); /* VERSION_1 = bit 32 */
	wr(MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(rd(MMIO_DEVICE_FEATURES), 0);
	wr(MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	ck_assert_uint_eq(rd(MMIO_DEVICE_FEATURES), 0);
	wr(MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(rd(MMIO_DEVICE_FEATURES), OFFERED_LOW);
}
END_TEST

START_TEST(queue_num_max_and_queue_sel_range)
{
	static const uint32_t bad_sel[] = { 1, 3, 4, 0x10000, 0xffffffff };
	static const struct virtq zero;
	unsigned int i, q;

	wr(MMIO_STATUS, S_ACK | S_DRIVER);
	ck_assert_uint_eq(rd(MMIO_QUEUE_NUM_MAX), 256);
	for (i = 0; i < sizeof(bad_sel) / sizeof(bad_sel[0]); i++) {
		wr(MMIO_QUEUE_SEL, bad_sel[i]);
		ck_assert_uint_eq(rd(MMIO_QUEUE_NUM_MAX), 0);
		ck_assert_uint_eq(rd(MMIO_QUEUE_READY), 0);
		/* a whole queue setup on the missing queue changes nothing */
		wr(MMIO_QUEUE_NUM, 8);
		wr(MMIO_QUEUE_DESC_LOW, (uint32_t)TG_BASE);
		wr(MMIO_QUEUE_DRIVER_LOW, (uint32_t)TG_BASE + 0x100);
		wr(MMIO_QUEUE_DEVICE_LOW, (uint32_t)TG_BASE + 0x200);
		wr(MMIO_QUEUE_READY, 1);
		ck_assert_uint_eq(rd(MMIO_QUEUE_READY), 0);
	}
	for (q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		ck_assert_msg(!memcmp(&t->proc[q].vq, &zero, sizeof(zero)), "queue %u changed", q);
	wr(MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(MMIO_QUEUE_NUM_MAX), 256);
	ck_assert_uint_eq(rd(MMIO_QUEUE_READY), 0);
}
END_TEST

START_TEST(narrow_register_accesses_ignored)
{
	static const uint32_t widths[] = { 1, 2, 8 };
	uint8_t buf[8];
	uint64_t v64 = S_ACK;
	uint16_t v16 = 1;
	uint8_t v8 = S_ACK;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		memset(buf, 0xff, sizeof(buf));
		virtio_mmio_read(t, MMIO_MAGIC, buf, widths[i]);
		ck_assert_msg(!memcmp(buf, "\0\0\0\0\0\0\0\0", widths[i]), "%u-byte read of Magic",
			      widths[i]);
		ck_assert_uint_eq(buf[widths[i] % 8], widths[i] == 8 ? 0 : 0xff);
	}
	/* narrow writes: Status stays 0, QueueSel stays 0 */
	virtio_mmio_write(t, MMIO_STATUS, &v8, 1);
	ck_assert_uint_eq(rd(MMIO_STATUS), 0);
	virtio_mmio_write(t, MMIO_STATUS, &v16, 2);
	ck_assert_uint_eq(rd(MMIO_STATUS), 0);
	virtio_mmio_write(t, MMIO_STATUS, &v64, 8);
	ck_assert_uint_eq(rd(MMIO_STATUS), 0);
	virtio_mmio_write(t, MMIO_QUEUE_SEL, &v16, 2);
	ck_assert_uint_eq(rd(MMIO_QUEUE_NUM_MAX), 256);
	/* a register that is set reads 0 through a narrow access */
	wr(MMIO_STATUS, S_ACK);
	memset(buf, 0xff, sizeof(buf));
	virtio_mmio_read(t, MMIO_STATUS, buf, 1);
	ck_assert_uint_eq(buf[0], 0);
	virtio_mmio_read(t, MMIO_STATUS, buf, 2);
	ck_assert_uint_eq(buf[0] | buf[1], 0);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_ACK);
	/* 4 bytes, but not aligned: not a register */
	memset(buf, 0xff, sizeof(buf));
	virtio_mmio_read(t, MMIO_MAGIC + 1, buf, 4);
	ck_assert_uint_eq(buf[0] | buf[1] | buf[2] | buf[3], 0);
}
END_TEST

START_TEST(unknown_offsets_read_zero)
{
	static const uint32_t known[] = {
		MMIO_MAGIC,
		MMIO_VERSION,
		MMIO_DEVICE_ID,
		MMIO_VENDOR_ID,
		MMIO_DEVICE_FEATURES,
		MMIO_DEVICE_FEATURES_SEL,
		MMIO_DRIVER_FEATURES,
		MMIO_DRIVER_FEATURES_SEL,
		MMIO_QUEUE_SEL,
		MMIO_QUEUE_NUM_MAX,
		MMIO_QUEUE_NUM,
		MMIO_QUEUE_READY,
		MMIO_QUEUE_NOTIFY,
		MMIO_INTERRUPT_STATUS,
		MMIO_INTERRUPT_ACK,
		MMIO_STATUS,
		MMIO_QUEUE_DESC_LOW,
		MMIO_QUEUE_DESC_HIGH,
		MMIO_QUEUE_DRIVER_LOW,
		MMIO_QUEUE_DRIVER_HIGH,
		MMIO_QUEUE_DEVICE_LOW,
		MMIO_QUEUE_DEVICE_HIGH,
		MMIO_SHM_SEL,
		MMIO_SHM_LEN_LOW,
		MMIO_SHM_LEN_HIGH,
		MMIO_SHM_BASE_LOW,
		MMIO_SHM_BASE_HIGH,
		MMIO_QUEUE_RESET,
		MMIO_CONFIG_GENERATION,
	};
	uint32_t off, i;

	start(V1, 8); /* registers hold nonzero state */
	for (off = 0; off < MMIO_CONFIG; off += 4) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]) && known[i] != off; i++)
			;
		if (i < sizeof(known) / sizeof(known[0]))
			continue;
		ck_assert_msg(rd(off) == 0, "unknown register 0x%03x reads 0x%x", off, rd(off));
		wr(off, 0xffffffff); /* and writing it does nothing visible */
	}
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE);
	ck_assert_uint_eq(rd(MMIO_QUEUE_READY), 1);
	read_sector(1);
}
END_TEST

/* --- feature negotiation --- */

START_TEST(features_ok_refused_for_unoffered_features)
{
	/* bit 0 (BARRIER), RO (not offered on a rw disk), bit 33, bit 63 */
	static const uint64_t extra[] = { BIT(0), BIT(VIRTIO_BLK_F_RO), BIT(33), BIT(63),
					  BIT(VIRTIO_BLK_F_FLUSH) | BIT(12) };
	unsigned int i;

	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		ck_assert_uint_eq(negotiate(V1 | extra[i]), S_ACK | S_DRIVER);
		ck_assert_uint_eq(t->features, 0);
	}
}
END_TEST

START_TEST(features_ok_refused_without_version_1)
{
	ck_assert_uint_eq(negotiate(0), S_ACK | S_DRIVER);
	ck_assert_uint_eq(negotiate(BIT(VIRTIO_BLK_F_FLUSH) | F_INDIRECT), S_ACK | S_DRIVER);
	ck_assert_uint_eq(t->features, 0);
}
END_TEST

START_TEST(features_ok_accepted_for_offered_features)
{
	uint64_t all = (uint64_t)OFFERED_LOW | V1;

	ck_assert_uint_eq(negotiate(V1), S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(t->features, V1);
	ck_assert_uint_eq(negotiate(all), S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(t->features, all);
	ck_assert(virtio_mmio_has_feature(t, VIRTIO_F_RING_EVENT_IDX));
	ck_assert(virtio_mmio_has_feature(t, VIRTIO_BLK_F_DISCARD));
	ck_assert(!virtio_mmio_has_feature(t, VIRTIO_BLK_F_RO));
}
END_TEST

START_TEST(driver_features_frozen_after_features_ok)
{
	ck_assert_uint_eq(negotiate(V1), S_ACK | S_DRIVER | S_FEATURES_OK);
	wr(MMIO_DRIVER_FEATURES_SEL, 0);
	wr(MMIO_DRIVER_FEATURES, (uint32_t)F_EVENT_IDX);
	wr(MMIO_DRIVER_FEATURES_SEL, 1);
	wr(MMIO_DRIVER_FEATURES, 0);
	ck_assert_uint_eq(t->features, V1);
	ck_assert_uint_eq(t->driver_features, V1);
	/* and the queue indeed runs without event idx: used_event far ahead is ignored */
	alloc_rings(8);
	ck_assert_uint_eq(queue_setup(8, g.desc, g.avail, g.used), 1);
	wr(MMIO_STATUS, S_LIVE);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE);
	tg_set_used_event(&g, 100);
	read_sector(2);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
	ck_assert_int_eq(g.irq_level, 1);
}
END_TEST

START_TEST(driver_ok_without_features_ok_does_not_stick)
{
	struct rreq r;

	wr(MMIO_STATUS, S_ACK);
	wr(MMIO_STATUS, S_ACK | S_DRIVER);
	wr(MMIO_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_ACK | S_DRIVER);
	/* refused FEATURES_OK together with DRIVER_OK: neither sticks */
	ck_assert_uint_eq(negotiate(BIT(VIRTIO_BLK_F_FLUSH)), S_ACK | S_DRIVER);
	wr(MMIO_STATUS, S_LIVE);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_ACK | S_DRIVER);
	/* a queue set up anyway is not served */
	alloc_rings(8);
	queue_setup(8, g.desc, g.avail, g.used);
	r = rreq_new(1);
	rreq_add(&r);
	tg_kick(t);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(status_of(&r), POISON);
}
END_TEST

/* --- reset --- */

START_TEST(reset_clears_device_state)
{
	static const struct virtq zero;

	start(V1 | F_EVENT_IDX | F_INDIRECT, 8);
	read_sector(3);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
	ck_assert_int_eq(g.irq_level, 1);

	wr(MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(g.irq_level, 0);
	ck_assert_uint_eq(rd(MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(t->features, 0);
	ck_assert_uint_eq(t->driver_features, 0);
	ck_assert(!memcmp(&t->qs[0].setup, &zero, sizeof(zero)));
	/* the old rings are no longer served, even with a notify */
	{
		struct rreq r = rreq_new(4);

		rreq_add(&r);
		tg_kick(t);
		ck_assert_uint_eq(status_of(&r), POISON);
		ck_assert_uint_eq(used_idx(), 1);
	}
	/* set up again, without event idx this time: it works, and used_event is not honoured */
	start(V1, 8);
	tg_set_used_event(&g, 100);
	read_sector(5);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
	ck_assert_uint_eq(g.irq_raises, 2);
}
END_TEST

/* --- queue setup --- */

START_TEST(queue_ready_refused_for_bad_rings)
{
	const uint64_t end = TG_BASE + TG_SIZE;
	uint64_t d, a, u;

	ck_assert_uint_eq(negotiate(V1), S_ACK | S_DRIVER | S_FEATURES_OK);
	alloc_rings(8);
	d = g.desc, a = g.avail, u = g.used;
	/* outside guest RAM: past the end, straddling the end, below, far above, wrapping */
	ck_assert_uint_eq(queue_setup(8, end, a, u), 0);
	ck_assert_uint_eq(queue_setup(8, end - 64, a, u), 0);
	ck_assert_uint_eq(queue_setup(8, d, end - 16, u), 0);
	ck_assert_uint_eq(queue_setup(8, d, a, end - 68), 0);
	ck_assert_uint_eq(queue_setup(8, TG_BASE - 4096, a, u), 0);
	ck_assert_uint_eq(queue_setup(8, d, a, 0), 0);
	ck_assert_uint_eq(queue_setup(8, d | 1ULL << 32, a, u), 0);
	ck_assert_uint_eq(queue_setup(8, d, a, 0xfffffffffffffff0ULL), 0);
	/* misaligned: desc to 16, avail to 2, used to 4 */
	ck_assert_uint_eq(queue_setup(8, d + 8, a, u), 0);
	ck_assert_uint_eq(queue_setup(8, d, a + 1, u), 0);
	ck_assert_uint_eq(queue_setup(8, d, a, u + 2), 0);
	/* sizes: 0, not a power of two, above QueueNumMax */
	ck_assert_uint_eq(queue_setup(0, d, a, u), 0);
	ck_assert_uint_eq(queue_setup(3, d, a, u), 0);
	ck_assert_uint_eq(queue_setup(6, d, a, u), 0);
	ck_assert_uint_eq(queue_setup(257, d, a, u), 0);
	ck_assert_uint_eq(queue_setup(512, d, a, u), 0);
	ck_assert_uint_eq(queue_setup(0x10008, d, a, u), 0); /* 8 in the low 16 bits */
	ck_assert(!t->qs[0].setup.ready);
	/* and the good one */
	ck_assert_uint_eq(queue_setup(8, d, a, u), 1);
	wr(MMIO_STATUS, S_LIVE);
	read_sector(6);
}
END_TEST

START_TEST(queue_num_256_and_1_accepted)
{
	ck_assert_uint_eq(negotiate(V1), S_ACK | S_DRIVER | S_FEATURES_OK);
	alloc_rings(1);
	ck_assert_uint_eq(queue_setup(1, g.desc, g.avail, g.used), 1);
	wr(MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(rd(MMIO_QUEUE_READY), 0);
	alloc_rings(256);
	ck_assert_uint_eq(queue_setup(256, g.desc, g.avail, g.used), 1);
	wr(MMIO_STATUS, S_LIVE);
	read_sector(7);
}
END_TEST

START_TEST(queue_frozen_while_ready)
{
	uint64_t other = tg_alloc(&g, 4096, 4096);

	start(V1, 8);
	wr(MMIO_QUEUE_NUM, 16);
	wr(MMIO_QUEUE_DESC_LOW, (uint32_t)other);
	wr(MMIO_QUEUE_DESC_HIGH, 1);
	wr(MMIO_QUEUE_DRIVER_LOW, (uint32_t)other);
	wr(MMIO_QUEUE_DRIVER_HIGH, 1);
	wr(MMIO_QUEUE_DEVICE_LOW, (uint32_t)other);
	wr(MMIO_QUEUE_DEVICE_HIGH, 1);
	wr(MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(t->qs[0].setup.num, 8);
	ck_assert_uint_eq(t->qs[0].setup.desc_gpa, g.desc);
	ck_assert_uint_eq(t->qs[0].setup.avail_gpa, g.avail);
	ck_assert_uint_eq(t->qs[0].setup.used_gpa, g.used);
	ck_assert_uint_eq(rd(MMIO_QUEUE_READY), 1);
	/* the original rings still carry requests, across their wrap (num 8) */
	for (unsigned int i = 0; i < 12; i++)
		read_sector(i % SECTORS);
}
END_TEST

/* --- device configuration space --- */

START_TEST(config_reads_any_width)
{
	uint8_t b[8];
	uint32_t lo, hi;
	uint64_t v = 0;
	unsigned int i;

	/* A disk of 2^32 + 3 sectors (sparse) so both capacity halves matter */
	blk_close(&dev);
	unlink(img);
	ck_assert_int_eq(tg_image_create(img, NULL, 0, ((1ULL << 32) + 3) * 512), 0);
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &(struct blk_opts){ .path = img }), 0);

	lo = rd(MMIO_CONFIG);
	hi = rd(MMIO_CONFIG + 4);
	ck_assert_uint_eq(lo, 3);
	ck_assert_uint_eq(hi, 1);
	virtio_mmio_read(t, MMIO_CONFIG, &v, 8);
	ck_assert_uint_eq(v, (1ULL << 32) + 3);
	for (i = 0; i < 8; i++) {
		b[0] = 0xff;
		virtio_mmio_read(t, MMIO_CONFIG + i, b, 1);
		ck_assert_uint_eq(b[0], i == 0 ? 3 : i == 4 ? 1 : 0);
	}
	memset(b, 0xff, sizeof(b));
	virtio_mmio_read(t, MMIO_CONFIG + 3, b, 2); /* unaligned, across the halves */
	ck_assert_uint_eq(b[0], 0);
	ck_assert_uint_eq(b[1], 1);
	virtio_mmio_read(t, MMIO_CONFIG + 0x0c, b, 2); /* seg_max, 16 bits */
	ck_assert_uint_eq(b[0] | b[1] << 8, 254);
	virtio_mmio_read(t, MMIO_CONFIG + 0x0a, b, 1); /* size_max byte 2 */
	ck_assert_uint_eq(b[0], 0x10);
	ck_assert_uint_eq(rd(MMIO_CONFIG + 0x14), 512);
	/* the last field, and past the end */
	memset(b, 0xff, sizeof(b));
	virtio_mmio_read(t, MMIO_CONFIG + VIRTIO_BLK_CONFIG_SIZE - 4, b, 8);
	ck_assert(!memcmp(b, "\0\0\0\0\0\0\0\0", 8));
	memset(b, 0xff, sizeof(b));
	virtio_mmio_read(t, 0x1000, b, 4);
	ck_assert_uint_eq(b[0] | b[1] | b[2] | b[3], 0);
}
END_TEST

START_TEST(config_writes_ignored)
{
	uint8_t before[VIRTIO_BLK_CONFIG_SIZE], after[VIRTIO_BLK_CONFIG_SIZE];
	uint64_t big = 0xdeadbeefcafef00dULL;
	uint8_t one = 0x77;
	uint32_t i;

	for (i = 0; i < sizeof(before); i++)
		virtio_mmio_read(t, MMIO_CONFIG + i, &before[i], 1);
	ck_assert_uint_eq(before[0], SECTORS);
	wr(MMIO_CONFIG, 0x12345678);
	virtio_mmio_write(t, MMIO_CONFIG + 8, &big, 8);
	virtio_mmio_write(t, MMIO_CONFIG + 0x38, &one, 1);
	virtio_mmio_write(t, MMIO_CONFIG + 0x20, &one, 1); /* writeback */
	for (i = 0; i < sizeof(after); i++)
		virtio_mmio_read(t, MMIO_CONFIG + i, &after[i], 1);
	ck_assert_mem_eq(before, after, sizeof(before));
	ck_assert_mem_eq(dev.config, before, sizeof(before));
}
END_TEST

/*
 * A transport with a fake device: an 11-byte config space 1..11 (followed
 * in memory by a byte the device must never show), two queues.
 */
static const uint8_t fake_config[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xee };
static unsigned int fake_calls, fake_last_q;
/* What the fake device does with a request, if anything; returns the used length. */
static int64_t (*fake_hook)(const struct virtq_chain *c);

static int64_t fake_handle(void *d, unsigned int q, const struct virtq_chain *c, uint64_t f)
{
	(void)d, (void)f;
	fake_calls++;
	fake_last_q = q;
	return fake_hook ? fake_hook(c) : 0;
}

static unsigned int fake_resets;

static void fake_reset(void *d)
{
	(void)d;
	fake_resets++;
}

static const struct virtio_device_ops fake_ops = { .handle = fake_handle, .reset = fake_reset };
static const struct virtio_device fake_dev = {
	.device_id = 42,
	.ops = &fake_ops,
	.num_queues = 2,
	.config = fake_config,
	.config_size = 11,
};
static struct virtio_mmio fake;

static void fake_init(void)
{
	virtio_mmio_init(&fake, &fake_dev, &g.mem, &g.irq, &g.stopping);
	fake_calls = fake_resets = 0;
	fake_last_q = 99;
	fake_hook = NULL;
}

static void fake_read(uint64_t off, uint32_t len, const uint8_t *want)
{
	uint8_t b[16];

	memset(b, 0xff, sizeof(b));
	virtio_mmio_read(&fake, off, b, len);
	ck_assert_msg(!memcmp(b, want, len), "%u-byte config read at 0x%llx", len,
		      (unsigned long long)off);
	ck_assert_uint_eq(b[len], 0xff); /* and not a byte more */
}

/* Status = 0 (and only that) calls the device's reset hook, once per reset. */
START_TEST(status_zero_calls_device_reset)
{
	fake_init();
	ck_assert_uint_eq(fake_resets, 0);
	tg_write32(&fake, MMIO_STATUS, 1);
	tg_write32(&fake, MMIO_STATUS, 1 | 2);
	ck_assert_uint_eq(fake_resets, 0);
	tg_write32(&fake, MMIO_STATUS, 0);
	ck_assert_uint_eq(fake_resets, 1);
	ck_assert_uint_eq(tg_read32(&fake, MMIO_STATUS), 0);
	tg_write32(&fake, MMIO_STATUS, 0); /* a reset of a reset device: still a reset */
	ck_assert_uint_eq(fake_resets, 2);
	/* a driver bringing the device up resets it first (tg_driver_init) */
	ck_assert_uint_eq(tg_driver_init(&g, &fake, V1, 8), S_LIVE);
	ck_assert_uint_eq(fake_resets, 3);
	tg_write32(&fake, MMIO_STATUS, S_LIVE | 64); /* setting bits is no reset */
	ck_assert_uint_eq(fake_resets, 3);
}
END_TEST

START_TEST(config_read_straddling_end)
{
	unsigned int i;

	fake_init();
	ck_assert_uint_eq(tg_read32(&fake, MMIO_DEVICE_ID), 42);
	for (i = 0; i < 11; i++)
		fake_read(MMIO_CONFIG + i, 1, (const uint8_t[]){ (uint8_t)(i + 1) });
	fake_read(MMIO_CONFIG, 4, (const uint8_t[]){ 1, 2, 3, 4 });
	fake_read(MMIO_CONFIG + 8, 2, (const uint8_t[]){ 9, 10 });
	fake_read(MMIO_CONFIG + 3, 8, (const uint8_t[]){ 4, 5, 6, 7, 8, 9, 10, 11 });
	/* straddling the end: zeros past it */
	fake_read(MMIO_CONFIG + 8, 4, (const uint8_t[]){ 9, 10, 11, 0 });
	fake_read(MMIO_CONFIG + 10, 2, (const uint8_t[]){ 11, 0 });
	fake_read(MMIO_CONFIG + 6, 8, (const uint8_t[]){ 7, 8, 9, 10, 11, 0, 0, 0 });
	/* past it */
	fake_read(MMIO_CONFIG + 11, 1, (const uint8_t[]){ 0 });
	fake_read(MMIO_CONFIG + 12, 4, (const uint8_t[]){ 0, 0, 0, 0 });
	fake_read(0x1ff, 1, (const uint8_t[]){ 0 });
	fake_read(0xffff, 8, (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0 });
}
END_TEST

/* --- notifications --- */

START_TEST(notify_before_driver_ok_ignored)
{
	struct rreq r;
	uint16_t head;

	ck_assert_uint_eq(negotiate(V1), S_ACK | S_DRIVER | S_FEATURES_OK);
	alloc_rings(8);
	ck_assert_uint_eq(queue_setup(8, g.desc, g.avail, g.used), 1);
	r = rreq_new(8);
	head = rreq_add(&r);
	tg_kick(t);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(status_of(&r), POISON);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	wr(MMIO_STATUS, S_LIVE);
	tg_kick(t);
	expect_used(head, 513);
	rreq_check(&r, 8);
}
END_TEST

START_TEST(notify_of_missing_queue_ignored)
{
	struct rreq r;
	uint16_t head;

	start(V1, 8);
	r = rreq_new(9);
	head = rreq_add(&r);
	wr(MMIO_QUEUE_NOTIFY, 1);
	wr(MMIO_QUEUE_NOTIFY, 4);
	wr(MMIO_QUEUE_NOTIFY, 0x10000); /* queue 0 in the low 16 bits */
	wr(MMIO_QUEUE_NOTIFY, 0xffffffff);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(status_of(&r), POISON);
	tg_kick(t);
	expect_used(head, 513);
	rreq_check(&r, 9);

	/* the fake device with two queues: notify reaches it only for queue 0 and 1 */
	fake_init();
	tg_write32(&fake, MMIO_STATUS, S_ACK | S_DRIVER);
	tg_write32(&fake, MMIO_DRIVER_FEATURES_SEL, 1);
	tg_write32(&fake, MMIO_DRIVER_FEATURES, 1);
	tg_write32(&fake, MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	/* queue 1: one request waiting, a one-byte writable buffer */
	tg_write32(&fake, MMIO_QUEUE_SEL, 1);
	alloc_rings(4);
	tg_write32(&fake, MMIO_QUEUE_NUM, 4);
	tg_write32(&fake, MMIO_QUEUE_DESC_LOW, (uint32_t)g.desc);
	tg_write32(&fake, MMIO_QUEUE_DRIVER_LOW, (uint32_t)g.avail);
	tg_write32(&fake, MMIO_QUEUE_DEVICE_LOW, (uint32_t)g.used);
	tg_write32(&fake, MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(tg_read32(&fake, MMIO_QUEUE_READY), 1);
	tg_add(&g, (const struct tg_buf[]){ { buf_new(1, POISON), 1, true } }, 1);
	tg_write32(&fake, MMIO_QUEUE_NOTIFY, 1);
	ck_assert_uint_eq(fake_calls, 0); /* not DRIVER_OK yet */
	tg_write32(&fake, MMIO_STATUS, S_LIVE);
	ck_assert_uint_eq(tg_read32(&fake, MMIO_STATUS), S_LIVE);
	tg_write32(&fake, MMIO_QUEUE_NOTIFY, 2);
	tg_write32(&fake, MMIO_QUEUE_NOTIFY, 0xffffffff);
	ck_assert_uint_eq(fake_calls, 0);
	tg_write32(&fake, MMIO_QUEUE_NOTIFY, 1);
	ck_assert_uint_eq(fake_calls, 1);
	ck_assert_uint_eq(fake_last_q, 1);
	tg_write32(&fake, MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(tg_read32(&fake, MMIO_QUEUE_NUM_MAX), 256);
	tg_write32(&fake, MMIO_QUEUE_SEL, 2);
	ck_assert_uint_eq(tg_read32(&fake, MMIO_QUEUE_NUM_MAX), 0);
}
END_TEST

/* --- interrupts --- */

START_TEST(used_interrupt_and_ack)
{
	start(V1, 8);
	ck_assert_int_eq(g.irq_level, 0);
	read_sector(1);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
	ck_assert_int_eq(g.irq_level, 1);
	ck_assert_uint_eq(g.irq_raises, 1);
	wr(MMIO_INTERRUPT_ACK, 2); /* the config bit: not what is pending */
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
	ck_assert_int_eq(g.irq_level, 1);
	wr(MMIO_INTERRUPT_ACK, 1);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(g.irq_level, 0);
	read_sector(2);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
	ck_assert_uint_eq(g.irq_raises, 2);
	/* a notify with nothing new: no interrupt */
	wr(MMIO_INTERRUPT_ACK, 1);
	tg_kick(t);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(g.irq_raises, 2);
}
END_TEST

START_TEST(no_interrupt_flag_without_event_idx)
{
	start(V1, 8);
	set_avail_flags(AVAIL_F_NO_INTERRUPT);
	read_sector(1);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(g.irq_level, 0);
	ck_assert_uint_eq(g.irq_raises, 0);
	ck_assert_uint_eq(tg_avail_event(&g), 0); /* not negotiated: not written */
	set_avail_flags(0);
	tg_set_used_event(&g, 100); /* meaningless without event idx */
	read_sector(2);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
	ck_assert_uint_eq(g.irq_raises, 1);
}
END_TEST

static void ack(void)
{
	wr(MMIO_INTERRUPT_ACK, rd(MMIO_INTERRUPT_STATUS));
	ck_assert_int_eq(g.irq_level, 0);
}

START_TEST(event_idx_used_event_and_avail_event)
{
	struct rreq r[3];
	unsigned int i;

	start(V1 | F_EVENT_IDX, 16);
	/* used_event 0: the first completion (idx 0 -> 1) interrupts */
	read_sector(1);
	ck_assert_uint_eq(g.irq_raises, 1);
	ck_assert_uint_eq(tg_avail_event(&g), 1);
	ack();
	/* used_event far ahead: no interrupt */
	tg_set_used_event(&g, 100);
	read_sector(2);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(g.irq_raises, 1);
	ck_assert_uint_eq(tg_avail_event(&g), 2);
	/* used_event = 2: the completion taking used->idx from 2 to 3 interrupts */
	tg_set_used_event(&g, 2);
	read_sector(3);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
	ck_assert_uint_eq(g.irq_raises, 2);
	ack();
	/* a batch of 3 (idx 3 -> 6) with used_event 4 in the middle: one interrupt */
	tg_set_used_event(&g, 4);
	for (i = 0; i < 3; i++) {
		r[i] = rreq_new(i);
		rreq_add(&r[i]);
	}
	tg_kick(t);
	ck_assert_uint_eq(used_idx(), 6);
	ck_assert_uint_eq(tg_avail_event(&g), 6);
	ck_assert_uint_eq(g.irq_raises, 3);
	for (i = 0; i < 3; i++) {
		expect_used((uint16_t)(9 + 3 * i), 513);
		rreq_check(&r[i], i);
	}
	ack();
	/* used_event already behind (5, now 6 -> 7): no interrupt */
	tg_set_used_event(&g, 5);
	read_sector(4);
	ck_assert_uint_eq(g.irq_raises, 3);
	ck_assert_uint_eq(tg_avail_event(&g), 7);
	/* with event idx the NO_INTERRUPT flag is ignored (2.7.10) */
	set_avail_flags(AVAIL_F_NO_INTERRUPT);
	tg_set_used_event(&g, 7);
	read_sector(5);
	ck_assert_uint_eq(g.irq_raises, 4);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
}
END_TEST

/* --- malformed rings and chains --- */

/*
 * head is published: kick, and check the device completed it as (head, len),
 * wrote nothing in guest memory but the used ring (and the byte at status, if
 * nonzero), and nothing to the image.
 */
static void kick_expect_only(uint16_t head, uint32_t len, uint64_t status)
{
	uint8_t *snap = tg_snapshot(&g);
	uint64_t diff;

	tg_kick(t);
	expect_used(head, len);
	expect_no_used();
	tg_snapshot_accept_used(&g, snap);
	if (status)
		tg_snapshot_accept(&g, snap, status, 1);
	diff = tg_snapshot_diff(&g, snap);
	free(snap);
	ck_assert_msg(diff == 0, "device wrote guest memory at 0x%llx", (unsigned long long)diff);
	check_image();
}

/*
 * A malformed chain whose last descriptor is a writable byte (at status):
 * it fails loudly, IOERR there and used length 1, and the device stays live.
 */
static void expect_chain_failed(uint16_t head, uint64_t status)
{
	*(uint8_t *)tg_ptr(&g, status) = POISON;
	kick_expect_only(head, 1, status);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE);
	read_sector(10);
	check_image();
}

/*
 * A malformed chain without a status byte we can find: used length 0,
 * nothing written, DEVICE_NEEDS_RESET with a configuration interrupt. The
 * queue keeps serving (Linux ignores NEEDS_RESET); then the driver resets
 * and sets the device up again, as start() last did.
 */
static void expect_chain_dropped(uint16_t head)
{
	kick_expect_only(head, 0, 0);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE | S_NEEDS_RESET);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS) & 2, 2);
	ck_assert_int_eq(g.irq_level, 1);
	read_sector(10);
	check_image();
	start(last_features, last_num);
}

/* An OUT request's pieces: header, data (readable), status (writable, poisoned). */
static uint64_t w_hdr, w_data, w_status;

static void out_bufs(void)
{
	w_hdr = hdr_new(VIRTIO_BLK_T_OUT, 2);
	w_data = buf_new(512, 0x5a);
	w_status = buf_new(1, POISON);
}

START_TEST(descriptor_loop_rejected)
{
	/* 0 -> 1 -> 0: header, data, header, ... (an OUT that never ends) */
	start(V1, 8);
	out_bufs();
	tg_desc(&g, 0, 0, w_hdr, 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, w_data, 512, VIRTQ_DESC_F_NEXT, 0);
	tg_publish(&g, 0);
	expect_chain_dropped(0);
	/* 3 -> 4 -> 5 -> 4: a good prefix, then writable buffers forever */
	tg_desc(&g, 0, 3, w_hdr, 16, VIRTQ_DESC_F_NEXT, 4);
	tg_desc(&g, 0, 4, w_status, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
	tg_desc(&g, 0, 5, w_status, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
	tg_publish(&g, 3);
	expect_chain_dropped(3);
	/* 7 -> 7 */
	tg_desc(&g, 0, 7, w_status, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
	tg_publish(&g, 7);
	expect_chain_dropped(7);
}
END_TEST

/*
 * An indirect table of n entries holding a read of sector 1: the header if
 * with_hdr, then the 512 data bytes in n - 1 - with_hdr pieces, then the
 * status. Data and status start poisoned.
 */
static uint64_t read_table(unsigned int n, bool with_hdr, uint64_t *data, uint64_t *status)
{
	uint64_t table = tg_alloc(&g, 16ULL * n, 16);
	unsigned int pieces = n - 1 - with_hdr, e = 0, i;
	uint32_t piece = 512 / pieces;

	*data = buf_new(512, POISON);
	*status = buf_new(1, POISON);
	if (with_hdr) {
		tg_desc(&g, table, 0, hdr_new(VIRTIO_BLK_T_IN, 1), 16, VIRTQ_DESC_F_NEXT, 1);
		e++;
	}
	for (i = 0; i < pieces; i++, e++)
		tg_desc(&g, table, (uint16_t)e, *data + i * piece,
			i + 1 < pieces ? piece : 512 - i * piece,
			VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)(e + 1));
	tg_desc(&g, table, (uint16_t)e, *status, 1, VIRTQ_DESC_F_WRITE, 0);
	return table;
}

/* A read of sector 1 through data/status completed (head, 513) correctly. */
static void expect_read1(uint16_t head, uint64_t data, uint64_t status)
{
	tg_kick(t);
	expect_used(head, 513);
	expect_no_used();
	ck_assert_mem_eq(tg_ptr(&g, data), image + 512, 512);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status), VIRTIO_BLK_S_OK);
}

/*
 * Chain limits (2.7.5.3): direct descriptors at most the queue size, an
 * indirect table at most its own length, the whole chain at most
 * VIRTQ_MAX_CHAIN = seg_max + 2. A request of seg_max data segments through
 * an indirect table works whatever queue size the driver chose.
 */
START_TEST(chain_limits_follow_the_spec)
{
	static const uint16_t sizes[] = { 1, 2, 4, 8, 64, 256 };
	uint64_t data, status, table;
	unsigned int i;
	uint32_t seg_max;

	virtio_mmio_read(t, MMIO_CONFIG + 0x0c, &seg_max, 4);
	ck_assert_uint_eq(seg_max, 254);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		start(V1 | F_INDIRECT, sizes[i]);
		/* header + seg_max data segments + status, all in one table */
		table = read_table(seg_max + 2, true, &data, &status);
		tg_desc(&g, 0, 0, table, (seg_max + 2) * 16, VIRTQ_DESC_F_INDIRECT, 0);
		tg_publish(&g, 0);
		expect_read1(0, data, status);
		if (sizes[i] < 2)
			continue;
		/* header direct, then a table of seg_max + 1: still 256 in all */
		table = read_table(seg_max + 1, false, &data, &status);
		tg_desc(&g, 0, 0, hdr_new(VIRTIO_BLK_T_IN, 1), 16, VIRTQ_DESC_F_NEXT, 1);
		tg_desc(&g, 0, 1, table, (seg_max + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0);
		tg_publish(&g, 0);
		expect_read1(0, data, status);
	}
	/* a direct chain as long as the queue: header, 6 data pieces, status */
	start(V1 | F_INDIRECT, 8);
	data = buf_new(512, POISON);
	status = buf_new(1, POISON);
	tg_desc(&g, 0, 0, hdr_new(VIRTIO_BLK_T_IN, 1), 16, VIRTQ_DESC_F_NEXT, 1);
	for (i = 1; i <= 6; i++)
		tg_desc(&g, 0, (uint16_t)i, data + (i - 1) * 64, i < 6 ? 64 : 512 - 5 * 64,
			VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	tg_desc(&g, 0, 7, status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 0);
	expect_read1(0, data, status);
	/* past the limits: no end we may look for, so no status: dropped */
	table = read_table(VIRTQ_MAX_CHAIN, false, &data, &status);
	tg_desc(&g, 0, 0, hdr_new(VIRTIO_BLK_T_IN, 1), 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, table, VIRTQ_MAX_CHAIN * 16, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 0);
	expect_chain_dropped(0);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status), POISON);
	table = read_table(VIRTQ_MAX_CHAIN + 1, true, &data, &status);
	tg_desc(&g, 0, 2, table, (VIRTQ_MAX_CHAIN + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 2);
	expect_chain_dropped(2);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status), POISON);
}
END_TEST

START_TEST(next_out_of_range_rejected)
{
	uint64_t data, status, table;

	/* an OUT: header -> data -> next = 8 = queue size, where a good status descriptor waits */
	start_with_spare_desc(V1 | F_INDIRECT, 8);
	out_bufs();
	tg_desc(&g, 0, 8, w_status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_desc(&g, 0, 0, w_hdr, 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, w_data, 512, VIRTQ_DESC_F_NEXT, 8);
	tg_publish(&g, 0);
	expect_chain_dropped(0);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, w_status), POISON);
	tg_desc(&g, 0, 4, w_hdr, 16, VIRTQ_DESC_F_NEXT, 5);
	tg_desc(&g, 0, 5, w_data, 512, VIRTQ_DESC_F_NEXT, 0xffff);
	tg_publish(&g, 4);
	expect_chain_dropped(4);
	/* an indirect table of 4 entries given as 3: the third's next = 3 is past its end */
	table = read_table(4, true, &data, &status);
	tg_desc(&g, 0, 2, table, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 2);
	expect_chain_dropped(2);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status), POISON);
	/* given as 4, the same table is a good request */
	tg_desc(&g, 0, 2, table, 4 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 2);
	expect_read1(2, data, status);
}
END_TEST

START_TEST(indirect_table_outside_ram_rejected)
{
	static const uint64_t addr[] = { TG_BASE + TG_SIZE - 32, TG_BASE + TG_SIZE, 0x1000,
					 TG_BASE - 16, 0xfffffffffffffff0ULL };
	unsigned int i;

	start(V1 | F_INDIRECT, 8);
	for (i = 0; i < sizeof(addr) / sizeof(addr[0]); i++) {
		tg_desc(&g, 0, 0, addr[i], 48, VIRTQ_DESC_F_INDIRECT, 0);
		tg_publish(&g, 0);
		expect_chain_dropped(0);
	}
}
END_TEST

START_TEST(indirect_table_bad_length_rejected)
{
	static const uint32_t lens[] = { 40, 47, 49, 8, 0 };
	uint64_t data, status, table;
	unsigned int i;

	start(V1 | F_INDIRECT, 8);
	table = read_table(3, true, &data, &status);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		tg_desc(&g, 0, 0, table, lens[i], VIRTQ_DESC_F_INDIRECT, 0);
		tg_publish(&g, 0);
		expect_chain_dropped(0);
		ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status), POISON);
	}
	/* 48 is right */
	tg_desc(&g, 0, 0, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 0);
	tg_kick(t);
	expect_used(0, 513);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status), 0);
}
END_TEST

START_TEST(nested_indirect_rejected)
{
	uint64_t data, status, inner, outer;

	start(V1 | F_INDIRECT, 8);
	inner = read_table(3, true, &data, &status);
	outer = tg_alloc(&g, 16, 16);
	tg_desc(&g, outer, 0, inner, 48, VIRTQ_DESC_F_INDIRECT, 0);
	tg_desc(&g, 0, 0, outer, 16, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 0);
	expect_chain_dropped(0);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status), POISON);
	/* an indirect entry after a direct one inside the table */
	inner = read_table(3, false, &data, &status);
	outer = tg_alloc(&g, 32, 16);
	tg_desc(&g, outer, 0, hdr_new(VIRTIO_BLK_T_IN, 1), 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, outer, 1, inner, 48, VIRTQ_DESC_F_INDIRECT, 0);
	tg_desc(&g, 0, 1, outer, 32, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 1);
	expect_chain_dropped(1);
}
END_TEST

START_TEST(indirect_with_next_rejected)
{
	uint64_t data, status, table;

	start(V1 | F_INDIRECT, 8);
	table = read_table(3, true, &data, &status);
	out_bufs();
	tg_desc(&g, 0, 0, table, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, w_status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 0);
	expect_chain_dropped(0);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, w_status), POISON);
}
END_TEST

START_TEST(buffer_outside_ram_rejected)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{ 0xfffffffffffff000ULL, 0x2000 }, /* addr + len wraps around 2^64 */
		{ 0xffffffffffffffffULL, 2 },
		/* (addr - RAM base) + len wraps to a small offset inside RAM */
		{ 0xffffffffffffff00ULL, (uint32_t)TG_BASE + 0x200 },
		{ TG_BASE + TG_SIZE - 256, 512 }, /* past the end */
		{ TG_BASE + TG_SIZE, 512 },
		{ TG_BASE - 256, 512 }, /* below RAM */
		{ 0, 512 },
	};
	struct rreq r;
	unsigned int i;

	start(V1, 8);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = rreq_new(1);
		tg_desc(&g, 0, 0, r.hdr, 16, VIRTQ_DESC_F_NEXT, 1);
		tg_desc(&g, 0, 1, bad[i].addr, bad[i].len, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
			2);
		tg_desc(&g, 0, 2, r.status, 1, VIRTQ_DESC_F_WRITE, 0);
		tg_publish(&g, 0);
		expect_chain_failed(0, r.status);
	}
	/* an OUT whose data lies outside: nothing reaches the image */
	out_bufs();
	tg_desc(&g, 0, 0, w_hdr, 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, TG_BASE + TG_SIZE - 511, 512, VIRTQ_DESC_F_NEXT, 2);
	tg_desc(&g, 0, 2, w_status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 0);
	expect_chain_failed(0, w_status);
	/* the header itself outside */
	tg_desc(&g, 0, 0, 0xfffffffffffffff8ULL, 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, w_status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 0);
	expect_chain_failed(0, w_status);
	tg_desc(&g, 0, 0, 0xffffffffffffff00ULL, (uint32_t)TG_BASE + 0x200, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, w_status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 0);
	expect_chain_failed(0, w_status);
}
END_TEST

START_TEST(buffer_ending_at_ram_end_works)
{
	uint64_t data = TG_BASE + TG_SIZE - 512;
	struct rreq r;

	start(V1, 8);
	r = rreq_new(11);
	memset(tg_ptr(&g, data), POISON, 512);
	tg_desc(&g, 0, 0, r.hdr, 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, data, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	tg_desc(&g, 0, 2, r.status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 0);
	tg_kick(t);
	expect_used(0, 513);
	ck_assert_mem_eq(tg_ptr(&g, data), image + 11 * 512, 512);
	ck_assert_uint_eq(status_of(&r), 0);
}
END_TEST

START_TEST(readable_after_writable_rejected)
{
	struct rreq r;

	start(V1, 8);
	r = rreq_new(1);
	tg_desc(&g, 0, 0, r.hdr, 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, r.data, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	tg_desc(&g, 0, 2, hdr_new(VIRTIO_BLK_T_IN, 1), 16, VIRTQ_DESC_F_NEXT, 3);
	tg_desc(&g, 0, 3, r.status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 0);
	expect_chain_failed(0, r.status);
	/* an OUT with its status before the data */
	out_bufs();
	tg_desc(&g, 0, 4, w_hdr, 16, VIRTQ_DESC_F_NEXT, 5);
	tg_desc(&g, 0, 5, w_status, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 6);
	tg_desc(&g, 0, 6, w_data, 512, VIRTQ_DESC_F_NEXT, 7);
	tg_desc(&g, 0, 7, w_status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 4);
	expect_chain_failed(4, w_status);
}
END_TEST

START_TEST(zero_length_descriptors_skipped)
{
	uint8_t want[IMG_SIZE];
	struct rreq r;

	start(V1, 8);
	r = rreq_new(12);
	tg_desc(&g, 0, 0, r.hdr, 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, 0, 0, VIRTQ_DESC_F_NEXT, 2); /* address 0 is not RAM: never looked at */
	tg_desc(&g, 0, 2, r.data, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	tg_desc(&g, 0, 3, 0xfffffffffffff000ULL, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
	tg_desc(&g, 0, 4, r.status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 0);
	tg_kick(t);
	expect_used(0, 513);
	rreq_check(&r, 12);
	/* an OUT with empty descriptors between header, data and status */
	out_bufs();
	tg_desc(&g, 0, 5, w_hdr, 16, VIRTQ_DESC_F_NEXT, 6);
	tg_desc(&g, 0, 6, TG_BASE + TG_SIZE, 0, VIRTQ_DESC_F_NEXT, 7);
	tg_desc(&g, 0, 7, w_data, 512, VIRTQ_DESC_F_NEXT, 0);
	tg_desc(&g, 0, 0, 0, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, w_status, 1, VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 5);
	tg_kick(t);
	expect_used(5, 1);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, w_status), 0);
	memcpy(want, image, IMG_SIZE);
	memset(want + 2 * 512, 0x5a, 512);
	ck_assert_int_eq(tg_image_diff(img, want, IMG_SIZE), -1);
}
END_TEST

/* The queue is dead after a ring-protocol violation; reset revives it. */
static void expect_broken_then_reset(void)
{
	struct rreq r;
	uint8_t *snap = tg_snapshot(&g);
	uint64_t diff;

	tg_kick(t);
	ck_assert_uint_eq(used_idx(), 0);
	tg_snapshot_accept_used(&g, snap);
	diff = tg_snapshot_diff(&g, snap);
	free(snap);
	ck_assert_msg(diff == 0, "device wrote guest memory at 0x%llx", (unsigned long long)diff);
	check_image();
	/* DEVICE_NEEDS_RESET and a configuration-change interrupt */
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE | S_NEEDS_RESET);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 2);
	ck_assert_int_eq(g.irq_level, 1);
	ck_assert_uint_eq(g.irq_raises, 1);
	wr(MMIO_INTERRUPT_ACK, 2);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(g.irq_level, 0);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE | S_NEEDS_RESET); /* until reset */
	/* a good request in the next slot is not served, and no further interrupt */
	r = rreq_new(1);
	rreq_add(&r);
	tg_kick(t);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(status_of(&r), POISON);
	ck_assert_uint_eq(g.irq_raises, 1);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	/* reset and set up again: it works */
	wr(MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(g.irq_level, 0);
	start(V1, 8);
	read_sector(13);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 1);
}

START_TEST(avail_idx_too_far_ahead_breaks_queue)
{
	struct rreq r;
	uint16_t idx = 9;

	start(V1, 8);
	r = rreq_new(1);
	rreq_add(&r); /* a good request in slot 0, but avail->idx = 9 > 8 ahead */
	memcpy((uint8_t *)tg_ptr(&g, g.avail) + 2, &idx, 2);
	expect_broken_then_reset();
	ck_assert_uint_eq(status_of(&r), POISON);
}
END_TEST

START_TEST(avail_idx_far_behind_breaks_queue)
{
	uint16_t idx = 0xfff0;

	start(V1, 8);
	read_sector(1);
	wr(MMIO_INTERRUPT_ACK, 1);
	g.irq_raises = 0;
	memcpy((uint8_t *)tg_ptr(&g, g.avail) + 2, &idx, 2); /* 0xfff0 - 1: 65519 ahead */
	{
		uint8_t *snap = tg_snapshot(&g);

		tg_kick(t);
		ck_assert_uint_eq(used_idx(), 1);
		tg_snapshot_accept_used(&g, snap);
		ck_assert_uint_eq(tg_snapshot_diff(&g, snap), 0);
		free(snap);
	}
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE | S_NEEDS_RESET);
	ck_assert_uint_eq(rd(MMIO_INTERRUPT_STATUS), 2);
}
END_TEST

/* Only a reset revives a broken device: the driver cannot clear bits or re-arm the queue. */
START_TEST(needs_reset_sticks_until_reset)
{
	uint16_t idx = 9;

	start(V1, 8);
	memcpy((uint8_t *)tg_ptr(&g, g.avail) + 2, &idx, 2);
	tg_kick(t);
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE | S_NEEDS_RESET);
	wr(MMIO_STATUS, S_LIVE); /* clearing NEEDS_RESET: ignored */
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE | S_NEEDS_RESET);
	wr(MMIO_QUEUE_SEL, 0);
	wr(MMIO_QUEUE_READY, 0);
	wr(MMIO_QUEUE_READY, 1); /* re-enabling the queue: refused */
	ck_assert_uint_eq(rd(MMIO_QUEUE_READY), 0);
	wr(MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(MMIO_STATUS), 0);
}
END_TEST

/* Status bits are only ever set (3.1.1): features stay as negotiated while queues run. */
START_TEST(status_bits_cannot_be_cleared)
{
	start(V1, 8);
	wr(MMIO_STATUS, 1 | 2); /* drop FEATURES_OK and DRIVER_OK */
	ck_assert_uint_eq(rd(MMIO_STATUS), S_LIVE);
	wr(MMIO_DRIVER_FEATURES_SEL, 0);
	wr(MMIO_DRIVER_FEATURES, 0); /* still frozen */
	read_sector(1);
}
END_TEST

START_TEST(head_out_of_range_breaks_queue)
{
	start(V1, 8);
	tg_publish(&g, 8);
	expect_broken_then_reset();
	start(V1, 8);
	tg_publish(&g, 0xffff);
	g.irq_raises = 0;
	expect_broken_then_reset();
}
END_TEST

/* --- indirect descriptors --- */

START_TEST(indirect_request_works)
{
	uint64_t data, status, table;

	start(V1 | F_INDIRECT, 4);
	table = read_table(4, true, &data, &status); /* header, 2 data pieces, status */
	/* the WRITE flag on a descriptor naming an indirect table is ignored (2.7.5.3.2) */
	tg_desc(&g, 0, 3, table, 4 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	tg_publish(&g, 3);
	expect_read1(3, data, status);
	/* direct descriptors, then one indirect (2.7.5.3.2: the device MUST handle this) */
	table = read_table(3, false, &data, &status);
	tg_desc(&g, 0, 0, hdr_new(VIRTIO_BLK_T_IN, 1), 16, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&g, 0, 1, table, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 0);
	expect_read1(0, data, status);
	/* and direct requests still go through the same ring */
	read_sector(14);
}
END_TEST

/* --- many requests --- */

START_TEST(full_ring_in_one_notify)
{
	enum { N = 256 };
	static uint64_t data[N], status[N];
	unsigned int round, i;

	start(V1 | F_INDIRECT, N);
	for (i = 0; i < N; i++) {
		uint64_t table = tg_alloc(&g, 48, 16);

		data[i] = buf_new(512, POISON);
		status[i] = buf_new(1, POISON);
		tg_desc(&g, table, 0, hdr_new(VIRTIO_BLK_T_IN, i % SECTORS), 16, VIRTQ_DESC_F_NEXT,
			1);
		tg_desc(&g, table, 1, data[i], 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
		tg_desc(&g, table, 2, status[i], 1, VIRTQ_DESC_F_WRITE, 0);
		tg_desc(&g, 0, (uint16_t)i, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
	}
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++) {
			memset(tg_ptr(&g, data[i]), POISON, 512);
			*(uint8_t *)tg_ptr(&g, status[i]) = POISON;
			tg_publish(&g, (uint16_t)(N - 1 - i)); /* in reverse, for variety */
		}
		tg_kick(t);
		ck_assert_uint_eq(used_idx(), (round + 1) * N);
		for (i = 0; i < N; i++) {
			unsigned int head = N - 1 - i;

			expect_used((uint16_t)head, 513);
			ck_assert_mem_eq(tg_ptr(&g, data[head]), image + head % SECTORS * 512, 512);
			ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, status[head]), 0);
		}
		expect_no_used();
		ck_assert_uint_eq(g.irq_raises, round + 1);
		wr(MMIO_INTERRUPT_ACK, 1);
	}
}
END_TEST

START_TEST(indices_wrap_past_65536)
{
	/* 257 rounds of a full ring of 256 GET_ID requests: 65792 requests */
	enum { N = 256, ROUNDS = 257 };
	static uint64_t id[N];
	uint32_t total = 0, eid, elen;
	unsigned int round, i;

	start(V1 | F_INDIRECT | F_EVENT_IDX, N);
	for (i = 0; i < N; i++) {
		uint64_t table = tg_alloc(&g, 32, 16);

		id[i] = buf_new(21, POISON);
		tg_desc(&g, table, 0, hdr_new(VIRTIO_BLK_T_GET_ID, 0), 16, VIRTQ_DESC_F_NEXT, 1);
		tg_desc(&g, table, 1, id[i], 21, VIRTQ_DESC_F_WRITE, 0);
		tg_desc(&g, 0, (uint16_t)i, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
	}
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < N; i++) {
			((uint8_t *)tg_ptr(&g, id[i]))[20] = POISON;
			tg_publish(&g, (uint16_t)i);
		}
		/* interrupt only once the last of this round is used */
		tg_set_used_event(&g, (uint16_t)(total + N - 1));
		tg_kick(t);
		total += N;
		ck_assert_uint_eq(used_idx(), (uint16_t)total);
		ck_assert_uint_eq(tg_avail_event(&g), (uint16_t)total);
		for (i = 0; i < N; i++) {
			ck_assert(tg_get_used(&g, &eid, &elen));
			if (eid != i || elen != 21 || ((uint8_t *)tg_ptr(&g, id[i]))[20] != 0)
				ck_abort_msg("round %u request %u: id %u len %u status %u", round,
					     i, eid, elen, ((uint8_t *)tg_ptr(&g, id[i]))[20]);
		}
		ck_assert_uint_eq(g.irq_raises, round + 1);
		wr(MMIO_INTERRUPT_ACK, 1);
	}
	ck_assert_uint_eq(total, 65792);
	ck_assert_uint_eq(used_idx(), 256);
	ck_assert_mem_eq(tg_ptr(&g, id[N - 1]), "virtio-test\0\0\0\0\0\0\0\0\0", 20);
}
END_TEST

/* --- SHM regions, indirect negotiation, requests without a status --- */

/* 4.2.2: no shared memory regions: length (and base) read as -1 for any SHMSel. */
START_TEST(shm_registers_read_all_ones)
{
	static const uint32_t sel[] = { 0, 1, 255, 0xffffffff };
	unsigned int i;

	start(V1, 8);
	for (i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		wr(MMIO_SHM_SEL, sel[i]);
		ck_assert_uint_eq(rd(MMIO_SHM_LEN_LOW), 0xffffffff);
		ck_assert_uint_eq(rd(MMIO_SHM_LEN_HIGH), 0xffffffff);
		ck_assert_uint_eq(rd(MMIO_SHM_BASE_LOW), 0xffffffff);
		ck_assert_uint_eq(rd(MMIO_SHM_BASE_HIGH), 0xffffffff);
	}
	read_sector(2);
}
END_TEST

/* 2.7.5.3.1: INDIRECT without VIRTIO_F_RING_INDIRECT_DESC is a malformed chain. */
START_TEST(indirect_without_negotiation_refused)
{
	uint64_t data, status, table;

	start(V1, 8);
	table = read_table(3, true, &data, &status);
	tg_desc(&g, 0, 0, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 0);
	expect_chain_failed(0, status);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, data), POISON);
}
END_TEST

/* A well-formed chain with no writable last byte: used 0 and DEVICE_NEEDS_RESET. */
START_TEST(request_without_status_needs_reset)
{
	start(V1, 8);
	out_bufs();
	tg_add(&g, (const struct tg_buf[]){ { w_hdr, 16, false }, { w_data, 512, false } }, 2);
	expect_chain_dropped(0); /* the queue served on meanwhile; now reset and set up again */
	read_sector(3);
}
END_TEST

/* --- a driver on other vCPUs: resets, stops, and interrupts while a notify is served --- */

static pthread_mutex_t slow_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cv = PTHREAD_COND_INITIALIZER;
static bool slow_entered, slow_release;
static uint64_t keep_buf_busy;
/* The driver's write that resets (or disables) the queue has returned. */
static atomic_bool reset_returned;
static bool wrote_after_reset_returned;

/*
 * A slow backend: the request is "in progress" until the test releases it;
 * then it writes its buffer, as a read's data and status would land.
 */
static int64_t slow_hook(const struct virtq_chain *c)
{
	pthread_mutex_lock(&slow_mu);
	slow_entered = true;
	pthread_cond_broadcast(&slow_cv);
	while (!slow_release)
		pthread_cond_wait(&slow_cv, &slow_mu);
	pthread_mutex_unlock(&slow_mu);
	wrote_after_reset_returned = atomic_load(&reset_returned);
	c->bufs[0].host[0] = 0;
	return 1;
}

static void *kick_fake(void *arg)
{
	(void)arg;
	tg_write32(&fake, MMIO_QUEUE_NOTIFY, 0);
	return NULL;
}

/* Another vCPU's write that takes the queue away: Status = 0, or QueueReady = 0. */
static void *reset_fake(void *arg)
{
	if (arg)
		tg_write32(&fake, MMIO_QUEUE_READY, 0); /* queue 0 is selected */
	else
		tg_write32(&fake, MMIO_STATUS, 0);
	atomic_store(&reset_returned, true);
	return NULL;
}

/* Start a slow request on one vCPU thread, then the reset (or disable) on another. */
static void slow_request_then_reset(pthread_t *vcpu, pthread_t *resetter, bool disable,
				    uint64_t *buf)
{
	fake_init();
	fake_hook = slow_hook;
	slow_entered = slow_release = false;
	atomic_store(&reset_returned, false);
	wrote_after_reset_returned = false;
	ck_assert_uint_eq(tg_driver_init(&g, &fake, V1, 8), S_LIVE);
	*buf = buf_new(1, POISON);
	tg_add(&g, (const struct tg_buf[]){ { *buf, 1, true } }, 1);
	tg_add(&g, (const struct tg_buf[]){ { *buf, 1, true } }, 1); /* a second one waits */
	ck_assert_int_eq(pthread_create(vcpu, NULL, kick_fake, NULL), 0);
	pthread_mutex_lock(&slow_mu);
	while (!slow_entered)
		pthread_cond_wait(&slow_cv, &slow_mu);
	pthread_mutex_unlock(&slow_mu);
	ck_assert_int_eq(pthread_create(resetter, NULL, reset_fake, disable ? &fake : NULL), 0);
}

/* Let the slow request finish; true if it was still in progress until now. */
static bool slow_request_release(void)
{
	bool in_progress;

	pthread_mutex_lock(&slow_mu);
	in_progress = !slow_release;
	slow_release = true;
	pthread_cond_broadcast(&slow_cv);
	pthread_mutex_unlock(&slow_mu);
	return in_progress;
}

/*
 * One vCPU is inside a long request; another resets the device. The reset
 * takes effect at once (a third vCPU reads Status 0 and InterruptStatus 0,
 * and sets the queue up again on the same ring memory: register accesses
 * never wait for I/O), but the resetting write returns only once the old
 * request is done: after the reset returns, the driver owns its buffers
 * again and the device must not touch them (virtio 1.2 2.4.1). The old
 * request then completes without touching the new used ring, without an
 * interrupt and without DEVICE_NEEDS_RESET. No timing: the request cannot
 * finish before the test releases it.
 */
START_TEST(reset_while_request_in_progress)
{
	uint8_t used_before[6 + 8 * 8];
	pthread_t vcpu, resetter;
	uint64_t buf;

	slow_request_then_reset(&vcpu, &resetter, false, &buf);
	/* the third vCPU: the reset is visible, registers answer */
	while (tg_read32(&fake, MMIO_STATUS) != 0)
		sched_yield();
	ck_assert_uint_eq(tg_read32(&fake, MMIO_INTERRUPT_STATUS), 0);
	/* the driver sets up again, on the same (re-zeroed) ring memory */
	memset(tg_ptr(&g, g.avail), 0, 6 + 2 * 8);
	memset(tg_ptr(&g, g.used), 0, 6 + 8 * 8);
	tg_write32(&fake, MMIO_STATUS, S_ACK);
	tg_write32(&fake, MMIO_STATUS, S_ACK | S_DRIVER);
	tg_write32(&fake, MMIO_DRIVER_FEATURES_SEL, 1);
	tg_write32(&fake, MMIO_DRIVER_FEATURES, 1);
	tg_write32(&fake, MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	tg_write32(&fake, MMIO_QUEUE_SEL, 0);
	tg_write32(&fake, MMIO_QUEUE_NUM, 8);
	tg_write32(&fake, MMIO_QUEUE_DESC_LOW, (uint32_t)g.desc);
	tg_write32(&fake, MMIO_QUEUE_DRIVER_LOW, (uint32_t)g.avail);
	tg_write32(&fake, MMIO_QUEUE_DEVICE_LOW, (uint32_t)g.used);
	tg_write32(&fake, MMIO_QUEUE_READY, 1);
	tg_write32(&fake, MMIO_STATUS, S_LIVE);
	ck_assert_uint_eq(tg_read32(&fake, MMIO_STATUS), S_LIVE);
	memcpy(used_before, tg_ptr(&g, g.used), sizeof(used_before));
	/* the resetting write still waits for the request in flight */
	ck_assert(!atomic_load(&reset_returned));
	ck_assert(slow_request_release());

	pthread_join(resetter, NULL);
	pthread_join(vcpu, NULL);
	ck_assert(!wrote_after_reset_returned);
	ck_assert_uint_eq(fake_calls, 1); /* the second request belongs to the old queue */
	ck_assert_mem_eq(tg_ptr(&g, g.used), used_before, sizeof(used_before));
	ck_assert_uint_eq(tg_read32(&fake, MMIO_STATUS), S_LIVE); /* no NEEDS_RESET */
	ck_assert_uint_eq(tg_read32(&fake, MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(g.irq_raises, 0);
	ck_assert_int_eq(g.irq_level, 0);
	/* the new queue works */
	fake_hook = NULL;
	g.avail_idx = g.used_seen = g.next_desc = 0;
	tg_add(&g, (const struct tg_buf[]){ { buf, 1, true } }, 1);
	tg_write32(&fake, MMIO_QUEUE_NOTIFY, 0);
	expect_used(0, 0);
	ck_assert_uint_eq(fake_calls, 2);
}
END_TEST

/*
 * The same for QueueReady = 0: the write returns once the queue's request in
 * flight is done, its completion never reaches the used ring, and the
 * request waiting behind it is not served.
 */
START_TEST(queue_disable_while_request_in_progress)
{
	uint16_t used_idx_before;
	pthread_t vcpu, resetter;
	uint64_t buf;

	slow_request_then_reset(&vcpu, &resetter, true, &buf);
	while (tg_read32(&fake, MMIO_QUEUE_READY) != 0)
		sched_yield();
	ck_assert_uint_eq(tg_read32(&fake, MMIO_STATUS), S_LIVE);
	used_idx_before = used_idx();
	ck_assert(!atomic_load(&reset_returned));
	ck_assert(slow_request_release());
	pthread_join(resetter, NULL);
	pthread_join(vcpu, NULL);
	ck_assert(!wrote_after_reset_returned);
	ck_assert_uint_eq(fake_calls, 1);
	ck_assert_uint_eq(used_idx(), used_idx_before);
	ck_assert_uint_eq(g.irq_raises, 0);
}
END_TEST

/*
 * A busy queue: the vCPU keeps serving while another thread works the
 * registers. The guest publishes a new request for every one served, up to a
 * cap that only a device ignoring the reset would reach (it bounds the test
 * if the device is broken); on a loaded machine the resetting thread may wait
 * long for a CPU, so the cap is far beyond any scheduling delay.
 */
#define BUSY_CAP 20000000u
static atomic_uint busy_served;

static int64_t busy_hook(const struct virtq_chain *c)
{
	(void)c;
	atomic_fetch_add(&busy_served, 1);
	if (atomic_load(&busy_served) < BUSY_CAP) /* the guest keeps publishing */
		tg_add(&g, (const struct tg_buf[]){ { keep_buf_busy, 1, true } }, 1);
	return 1;
}

/*
 * Register reads, InterruptACKs and finally a reset from one thread while
 * another serves requests (run under ThreadSanitizer by `make tsan`). After
 * the reset returns, the busy vCPU raises no interrupt and sets no
 * NEEDS_RESET, and it stops serving the reset queue.
 */
START_TEST(registers_and_reset_race_a_busy_queue)
{
	pthread_t vcpu;
	unsigned int i, served;

	fake_init();
	fake_hook = busy_hook;
	atomic_store(&busy_served, 0);
	ck_assert_uint_eq(tg_driver_init(&g, &fake, V1, 8), S_LIVE);
	keep_buf_busy = buf_new(1, POISON);
	tg_add(&g, (const struct tg_buf[]){ { keep_buf_busy, 1, true } }, 1);
	ck_assert_int_eq(pthread_create(&vcpu, NULL, kick_fake, NULL), 0);
	while (atomic_load(&busy_served) < 16)
		sched_yield();
	/* while it serves 256 more (a relaxed load: no ordering between the threads but the device's) */
	for (i = 0;
	     i < 1000000 && atomic_load_explicit(&busy_served, memory_order_relaxed) < 16 + 256;
	     i++) {
		ck_assert_uint_eq(tg_read32(&fake, MMIO_STATUS), S_LIVE);
		if (tg_read32(&fake, MMIO_INTERRUPT_STATUS) & 1)
			tg_write32(&fake, MMIO_INTERRUPT_ACK, 1);
	}
	tg_write32(&fake, MMIO_STATUS, 0);
	served = atomic_load(&busy_served);
	for (i = 0; i < 200; i++) {
		ck_assert_uint_eq(tg_read32(&fake, MMIO_STATUS), 0);
		ck_assert_uint_eq(tg_read32(&fake, MMIO_INTERRUPT_STATUS), 0);
	}
	pthread_join(vcpu, NULL);
	ck_assert_uint_le(atomic_load(&busy_served), served + 1); /* at most the one in flight */
	ck_assert_uint_lt(served, BUSY_CAP);
	ck_assert_uint_eq(tg_read32(&fake, MMIO_STATUS), 0);
	ck_assert_uint_eq(tg_read32(&fake, MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(g.irq_level, 0);
}
END_TEST

/* A driver that keeps publishing: each request it sees served, it adds one more. */
static unsigned int keep_limit, keep_stop_at, keep_irq_at_next_ring;
static uint64_t keep_buf;

static int64_t keep_publishing_hook(const struct virtq_chain *c)
{
	(void)c;
	if (fake_calls == g.num + 1u)
		keep_irq_at_next_ring = g.irq_raises;
	if (g.irq_level)
		tg_write32(&fake, MMIO_INTERRUPT_ACK, 1); /* the driver's handler, elsewhere */
	if (fake_calls == keep_stop_at)
		atomic_store(&g.stopping, true);
	if (fake_calls < keep_limit)
		tg_add(&g, (const struct tg_buf[]){ { keep_buf, 1, true } }, 1);
	return 0;
}

static void keep_publishing_start(unsigned int limit, unsigned int stop_at)
{
	fake_init();
	fake_hook = keep_publishing_hook;
	keep_limit = limit;
	keep_stop_at = stop_at;
	keep_irq_at_next_ring = 0;
	ck_assert_uint_eq(tg_driver_init(&g, &fake, V1, 8), S_LIVE);
	keep_buf = buf_new(1, POISON);
	tg_add(&g, (const struct tg_buf[]){ { keep_buf, 1, true } }, 1);
	tg_write32(&fake, MMIO_QUEUE_NOTIFY, 0);
}

/* Used buffers are signalled at least every queue-size completions, not only at the end. */
START_TEST(interrupt_every_queue_size_completions)
{
	keep_publishing_start(40, 0);
	ck_assert_uint_eq(fake_calls, 40);
	ck_assert_uint_eq(used_idx(), 40);
	/* by the (num + 1)th request, the first num had been signalled */
	ck_assert_uint_ge(keep_irq_at_next_ring, 1);
	/* 40 completions, interrupts at 8, 16, 24, 32 and at the end */
	ck_assert_uint_eq(g.irq_raises, 5);
}
END_TEST

/* The VM is stopping: the notifying vCPU leaves the loop, whatever the guest publishes. */
START_TEST(stop_leaves_the_request_loop)
{
	keep_publishing_start(1000, 20);
	ck_assert_uint_eq(fake_calls, 20);
	ck_assert_uint_eq(used_idx(), 20);
	/* and a notify while stopping serves nothing */
	tg_write32(&fake, MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(fake_calls, 20);
}
END_TEST

/*
 * --- two queues at once, features_ok, and the chain's generation ---
 *
 * A second fake device whose two queues each have their own hook. The
 * transport serves the queues on different threads at the same time, so
 * everything the handlers share with the test is atomic or per queue, and
 * nothing is asserted on a device thread: the handlers record, the test
 * asserts after joining. Every wait for another thread is for a flag, with
 * a safety bound far beyond any scheduling delay (PQ_WAIT_NS): a transport
 * that serialises what it must not fails the test instead of hanging it.
 */
#define PQ_WAIT_NS (10LL * 1000000000LL)
#define PQ_A BIT(1) /* a device feature that needs B */
#define PQ_B BIT(2)
#define PQ_C BIT(5) /* independent of both */

static int64_t (*pq_hook[2])(unsigned int q, const struct virtq_chain *c);
static atomic_uint pq_calls[2];
static uint64_t pq_handled_features[2]; /* each written only by its queue's handler */
static atomic_uint pq_resets;
static void (*pq_reset_hook)(void);
static unsigned int pq_features_ok_calls;
static uint64_t pq_features_ok_seen;

static int64_t pq_handle(void *d, unsigned int q, const struct virtq_chain *c, uint64_t f)
{
	(void)d;
	atomic_fetch_add(&pq_calls[q], 1);
	pq_handled_features[q] = f;
	return pq_hook[q] ? pq_hook[q](q, c) : 0;
}

/* Plain values of the counters (for readable assertion messages) */
static unsigned int pq_call_count(unsigned int q)
{
	return atomic_load(&pq_calls[q]);
}

static unsigned int pq_reset_count(void)
{
	return atomic_load(&pq_resets);
}

static void pq_reset(void *d)
{
	(void)d;
	atomic_fetch_add(&pq_resets, 1);
	if (pq_reset_hook)
		pq_reset_hook();
}

/* Features that depend on each other: A only together with B. */
static bool pq_features_ok(void *d, uint64_t features)
{
	(void)d;
	pq_features_ok_calls++;
	pq_features_ok_seen = features;
	return !(features & PQ_A) || (features & PQ_B);
}

static const struct virtio_device_ops pq_ops = {
	.handle = pq_handle,
	.reset = pq_reset,
	.features_ok = pq_features_ok,
};
static const struct virtio_device pq_dev = {
	.device_id = 43,
	.ops = &pq_ops,
	.features = PQ_A | PQ_B | PQ_C,
	.num_queues = 2,
	.config = fake_config,
	.config_size = 11,
};
static struct virtio_mmio pq;

/* g's helpers (tg_add, tg_get_used) drive one queue: each queue's ring state, swapped in. */
struct pq_ring {
	uint16_t num;
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};
static struct pq_ring pq_rings[2];
static unsigned int pq_cur;

static void pq_use(unsigned int q)
{
	pq_rings[pq_cur] = (struct pq_ring){ g.num,	  g.desc,      g.avail,	   g.used,
					     g.avail_idx, g.used_seen, g.next_desc };
	g.num = pq_rings[q].num;
	g.desc = pq_rings[q].desc;
	g.avail = pq_rings[q].avail;
	g.used = pq_rings[q].used;
	g.avail_idx = pq_rings[q].avail_idx;
	g.used_seen = pq_rings[q].used_seen;
	g.next_desc = pq_rings[q].next_desc;
	pq_cur = q;
}

static uint32_t pq_rd(uint64_t off)
{
	return tg_read32(&pq, off);
}

static void pq_wr(uint64_t off, uint32_t v)
{
	tg_write32(&pq, off, v);
}

static uint32_t pq_negotiate(uint64_t features)
{
	return negotiate_on(&pq, features);
}

/* New rings of size 8 for queue q in g (now the current queue), QueueReady = 1. */
static void pq_queue_setup(unsigned int q)
{
	pq_use(q);
	alloc_rings(8);
	pq_wr(MMIO_QUEUE_SEL, q);
	pq_wr(MMIO_QUEUE_NUM, 8);
	pq_wr(MMIO_QUEUE_DESC_LOW, (uint32_t)g.desc);
	pq_wr(MMIO_QUEUE_DESC_HIGH, (uint32_t)(g.desc >> 32));
	pq_wr(MMIO_QUEUE_DRIVER_LOW, (uint32_t)g.avail);
	pq_wr(MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(g.avail >> 32));
	pq_wr(MMIO_QUEUE_DEVICE_LOW, (uint32_t)g.used);
	pq_wr(MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(g.used >> 32));
	pq_wr(MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(pq_rd(MMIO_QUEUE_READY), 1);
}

static void pq_init(void)
{
	virtio_mmio_init(&pq, &pq_dev, &g.mem, &g.irq, &g.stopping);
	memset(pq_hook, 0, sizeof(pq_hook));
	atomic_store(&pq_calls[0], 0);
	atomic_store(&pq_calls[1], 0);
	atomic_store(&pq_resets, 0);
	pq_reset_hook = NULL;
	pq_features_ok_calls = 0;
	pq_features_ok_seen = 0;
	memset(pq_rings, 0, sizeof(pq_rings));
	pq_cur = 0;
}

/* The driver's whole initialisation with both queues (3.1.1); the device must accept it. */
static void pq_start(uint64_t features)
{
	ck_assert_uint_eq(pq_negotiate(features), S_ACK | S_DRIVER | S_FEATURES_OK);
	pq_queue_setup(1);
	pq_queue_setup(0);
	pq_wr(MMIO_STATUS, S_LIVE);
	ck_assert_uint_eq(pq_rd(MMIO_STATUS), S_LIVE);
}

/* The current queue's used->idx */
static uint16_t pq_used_idx(void)
{
	return used_idx();
}

/* Wait for flag, at most PQ_WAIT_NS (a safety bound, not a timing check). */
static bool pq_wait(atomic_bool *flag)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(flag)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000000000LL + (now.tv_nsec - t0.tv_nsec) >
		    PQ_WAIT_NS)
			return false;
		sched_yield();
	}
	return true;
}

/* A vCPU writing QueueNotify for queue (arg); kicked[q] once the write returned. */
static atomic_bool pq_kicked[2];

static void *pq_kick(void *arg)
{
	unsigned int q = (unsigned int)(uintptr_t)arg;

	tg_write32(&pq, MMIO_QUEUE_NOTIFY, q);
	atomic_store(&pq_kicked[q], true);
	return NULL;
}

static void pq_kick_start(pthread_t *th, unsigned int q)
{
	atomic_store(&pq_kicked[q], false);
	ck_assert_int_eq(pthread_create(th, NULL, pq_kick, (void *)(uintptr_t)q), 0);
}

/*
 * A write that takes queue 0 away (Status = 0, or QueueReady = 0 with queue 0
 * selected) while its request is in flight, from another vCPU: it returns
 * only once that request is done, so it runs on a thread of its own; this
 * returns as soon as its effect is visible (queue 0's epoch moved on).
 */
struct pq_async {
	pthread_t thread;
	uint64_t off;
	uint32_t v;
	atomic_bool returned;
};

static void *pq_async_body(void *arg)
{
	struct pq_async *a = arg;

	pq_wr(a->off, a->v);
	atomic_store(&a->returned, true);
	return NULL;
}

static void pq_wr_async(struct pq_async *a, uint64_t off, uint32_t v)
{
	unsigned int epoch = atomic_load(&pq.qs[0].epoch);

	a->off = off;
	a->v = v;
	atomic_store(&a->returned, false);
	ck_assert_int_eq(pthread_create(&a->thread, NULL, pq_async_body, a), 0);
	while (atomic_load(&pq.qs[0].epoch) == epoch)
		sched_yield();
}

/* A request "in I/O" until the test releases it; then it writes 0x10 + q, used length 1. */
static atomic_bool pq_entered, pq_release;

static int64_t pq_blocking_hook(unsigned int q, const struct virtq_chain *c)
{
	atomic_store(&pq_entered, true);
	while (!atomic_load(&pq_release))
		sched_yield();
	c->bufs[0].host[0] = (uint8_t)(0x10 + q);
	return 1;
}

static int64_t pq_quick_hook(unsigned int q, const struct virtq_chain *c)
{
	c->bufs[0].host[0] = (uint8_t)(0x10 + q);
	return 1;
}

/* Queue 0's request reached the device on vcpu; if it never does, fail without a thread left. */
static void pq_begin_or_fail(pthread_t vcpu)
{
	if (pq_wait(&pq_entered))
		return;
	atomic_store(&pq_release, true);
	pthread_join(vcpu, NULL);
	ck_abort_msg("queue 0's request never reached the device");
}

/*
 * Queue 0's request is stuck in I/O on one vCPU; another vCPU notifies
 * queue 1 (the ICE key queue's situation): its request is served, used and
 * signalled while queue 0's is still in progress. Then queue 0 completes.
 * With one processing lock for all queues, the second vCPU would wait for
 * the first: the bounded wait turns that into a failure.
 */
START_TEST(queues_do_not_wait_for_each_other)
{
	uint64_t buf0, buf1;
	uint16_t head0, head1, used0_during;
	uint32_t id1 = 0, len1 = 0, isr_during;
	unsigned int raises_during, calls0_during;
	bool q0_running, q1_done, got1;
	uint8_t buf0_during, buf1_during;
	pthread_t vcpu0, vcpu1;

	pq_init();
	pq_start(V1);
	pq_hook[0] = pq_blocking_hook;
	pq_hook[1] = pq_quick_hook;
	atomic_store(&pq_entered, false);
	atomic_store(&pq_release, false);
	buf0 = buf_new(1, POISON);
	buf1 = buf_new(1, POISON);
	pq_use(0);
	head0 = tg_add(&g, (const struct tg_buf[]){ { buf0, 1, true } }, 1);
	pq_use(1);
	head1 = tg_add(&g, (const struct tg_buf[]){ { buf1, 1, true } }, 1);

	pq_kick_start(&vcpu0, 0);
	pq_begin_or_fail(vcpu0);
	pq_kick_start(&vcpu1, 1);
	q1_done = pq_wait(&pq_kicked[1]);
	/* what the driver sees now, while queue 0's request is still in I/O */
	pq_use(1);
	got1 = tg_get_used(&g, &id1, &len1);
	buf1_during = *(uint8_t *)tg_ptr(&g, buf1);
	isr_during = pq_rd(MMIO_INTERRUPT_STATUS);
	raises_during = g.irq_raises;
	pq_use(0);
	used0_during = pq_used_idx();
	buf0_during = *(uint8_t *)tg_ptr(&g, buf0);
	calls0_during = pq_call_count(0);
	q0_running = !atomic_load(&pq_kicked[0]);
	pq_wr(MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	/* release queue 0 before any assertion: a failure must not leave a vCPU spinning */
	atomic_store(&pq_release, true);
	pthread_join(vcpu0, NULL);
	pthread_join(vcpu1, NULL);
	ck_assert_msg(q1_done, "queue 1's notify waited for queue 0's request");
	ck_assert(q0_running);

	ck_assert(got1);
	ck_assert_uint_eq(id1, head1);
	ck_assert_uint_eq(len1, 1);
	ck_assert_uint_eq(buf1_during, 0x11);
	ck_assert_uint_eq(isr_during, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(raises_during, 1);
	ck_assert_uint_eq(used0_during, 0);
	ck_assert_uint_eq(buf0_during, POISON);
	ck_assert_uint_eq(calls0_during, 1);
	/* and queue 0's request, released, completes on its own ring with its own interrupt */
	expect_used(head0, 1);
	expect_no_used();
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, buf0), 0x10);
	ck_assert_uint_eq(pq_rd(MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(g.irq_raises, 2);
	ck_assert_int_eq(g.irq_level, 1);
	pq_use(1);
	expect_no_used();
	ck_assert_uint_eq(pq_call_count(0), 1);
	ck_assert_uint_eq(pq_call_count(1), 1);
	ck_assert_uint_eq(pq_rd(MMIO_STATUS), S_LIVE);
}
END_TEST

/*
 * While queue 0's request is in I/O, the driver disables queue 0: queue 1
 * keeps working and signalling (its interrupt depends on its own epoch only),
 * and the released request of the disabled queue 0 is never used.
 */
START_TEST(queue_disabled_while_busy_other_queue_serves)
{
	uint64_t buf0, buf1;
	uint16_t head1, used0_before;
	uint32_t id1 = 0, len1 = 0, isr_during;
	bool q0_running, q1_done, got1, disable_waited;
	pthread_t vcpu0, vcpu1;
	struct pq_async disable;

	pq_init();
	pq_start(V1);
	pq_hook[0] = pq_blocking_hook;
	pq_hook[1] = pq_quick_hook;
	atomic_store(&pq_entered, false);
	atomic_store(&pq_release, false);
	buf0 = buf_new(1, POISON);
	buf1 = buf_new(1, POISON);
	pq_use(0);
	tg_add(&g, (const struct tg_buf[]){ { buf0, 1, true } }, 1);
	used0_before = pq_used_idx();
	pq_use(1);
	head1 = tg_add(&g, (const struct tg_buf[]){ { buf1, 1, true } }, 1);

	pq_kick_start(&vcpu0, 0);
	pq_begin_or_fail(vcpu0);
	pq_wr(MMIO_QUEUE_SEL, 0);
	pq_wr_async(&disable, MMIO_QUEUE_READY, 0);
	pq_kick_start(&vcpu1, 1);
	q1_done = pq_wait(&pq_kicked[1]);
	pq_use(1);
	got1 = tg_get_used(&g, &id1, &len1);
	isr_during = pq_rd(MMIO_INTERRUPT_STATUS);
	q0_running = !atomic_load(&pq_kicked[0]);
	disable_waited = !atomic_load(&disable.returned);
	atomic_store(&pq_release, true);
	pthread_join(vcpu0, NULL);
	pthread_join(vcpu1, NULL);
	pthread_join(disable.thread, NULL);
	ck_assert_msg(q1_done, "queue 1's notify waited for queue 0's request");
	ck_assert(q0_running);
	ck_assert_msg(disable_waited, "QueueReady = 0 returned while its request was in flight");
	ck_assert(got1);
	ck_assert_uint_eq(id1, head1);
	ck_assert_uint_eq(len1, 1);
	ck_assert_uint_eq(isr_during, VIRTIO_MMIO_INT_VRING);
	/* the disabled queue's request: no used entry, no second interrupt, no NEEDS_RESET */
	pq_use(0);
	ck_assert_uint_eq(pq_used_idx(), used0_before);
	ck_assert_uint_eq(g.irq_raises, 1);
	ck_assert_uint_eq(pq_rd(MMIO_STATUS), S_LIVE);
	ck_assert_uint_eq(pq_call_count(0), 1);
	ck_assert_uint_eq(pq_call_count(1), 1);
}
END_TEST

/*
 * features_ok (3.1.1): the device refuses a combination (A without B):
 * FEATURES_OK stays clear for it and for nothing else; the hook sees exactly
 * what the driver wrote, only for feature sets the transport itself accepts,
 * and only when FEATURES_OK is being set.
 */
START_TEST(features_ok_hook_refuses)
{
	static const uint64_t dev_bits[] = { PQ_A, PQ_B, PQ_C };
	unsigned int m, i, calls;
	uint64_t f;

	pq_init();
	for (m = 0; m < 8; m++) {
		bool refuse;

		f = V1;
		for (i = 0; i < 3; i++)
			if (m & (1u << i))
				f |= dev_bits[i];
		refuse = (f & PQ_A) && !(f & PQ_B);
		calls = pq_features_ok_calls;
		pq_features_ok_seen = 0;
		ck_assert_msg(pq_negotiate(f) == (refuse ? S_ACK | S_DRIVER
							 : S_ACK | S_DRIVER | S_FEATURES_OK),
			      "features 0x%llx: Status 0x%x", (unsigned long long)f,
			      pq_rd(MMIO_STATUS));
		ck_assert_uint_eq(pq_features_ok_calls, calls + 1);
		ck_assert_uint_eq(pq_features_ok_seen, f);
		ck_assert_uint_eq(pq.features, refuse ? 0 : f);
		/*
		 * DRIVER_OK: once accepted, no further question; after a refusal,
		 * FEATURES_OK in the same write is asked (and refused) again, and
		 * DRIVER_OK does not stick either.
		 */
		pq_wr(MMIO_STATUS, S_LIVE);
		ck_assert_uint_eq(pq_rd(MMIO_STATUS), refuse ? S_ACK | S_DRIVER : S_LIVE);
		ck_assert_uint_eq(pq_features_ok_calls, calls + (refuse ? 2 : 1));
		ck_assert_uint_eq(pq_features_ok_seen, f);
	}
	/* what the transport refuses by itself never reaches the hook */
	calls = pq_features_ok_calls;
	ck_assert_uint_eq(pq_negotiate(PQ_A | PQ_B), S_ACK | S_DRIVER); /* no VERSION_1 */
	ck_assert_uint_eq(pq_negotiate(V1 | PQ_A | PQ_B | BIT(3)),
			  S_ACK | S_DRIVER); /* not offered */
	ck_assert_uint_eq(pq_features_ok_calls, calls);
	/* refused, the driver may try another set without a reset: asked again, accepted */
	ck_assert_uint_eq(pq_negotiate(V1 | PQ_A), S_ACK | S_DRIVER);
	pq_wr(MMIO_DRIVER_FEATURES_SEL, 0);
	pq_wr(MMIO_DRIVER_FEATURES, (uint32_t)(PQ_A | PQ_B));
	pq_wr(MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(pq_rd(MMIO_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(pq_features_ok_calls, calls + 2);
	ck_assert_uint_eq(pq_features_ok_seen, V1 | PQ_A | PQ_B);
	/* setting FEATURES_OK again (it is already set) asks nothing */
	pq_wr(MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(pq_features_ok_calls, calls + 2);
	/* and the accepted set is what both queues' requests are served with */
	pq_queue_setup(1);
	pq_queue_setup(0);
	pq_wr(MMIO_STATUS, S_LIVE);
	ck_assert_uint_eq(pq_rd(MMIO_STATUS), S_LIVE);
	pq_use(0);
	tg_add(&g, (const struct tg_buf[]){ { buf_new(1, POISON), 1, true } }, 1);
	pq_wr(MMIO_QUEUE_NOTIFY, 0);
	pq_use(1);
	tg_add(&g, (const struct tg_buf[]){ { buf_new(1, POISON), 1, true } }, 1);
	pq_wr(MMIO_QUEUE_NOTIFY, 1);
	ck_assert_uint_eq(pq_call_count(0), 1);
	ck_assert_uint_eq(pq_call_count(1), 1);
	ck_assert_uint_eq(pq_handled_features[0], V1 | PQ_A | PQ_B);
	ck_assert_uint_eq(pq_handled_features[1], V1 | PQ_A | PQ_B);
}
END_TEST

/*
 * virtio_chain_current(): a chain in progress stays current until its queue
 * is reset (Status = 0) or disabled (its QueueReady = 0), and the device's
 * reset hook already sees it stale (the transport moves the generation on
 * before it calls reset(), which is what lets a device commit-or-discard
 * under its own lock). Other queues and other Status writes leave it alone.
 */
static const struct virtq_chain *pq_chain; /* the chain in progress, for the reset hook */
static atomic_bool pq_current_at_entry, pq_current_after;
static int pq_current_in_reset; /* -1: reset hook not called with a chain */

static int64_t pq_gen_hook(unsigned int q, const struct virtq_chain *c)
{
	(void)q;
	pq_chain = c;
	atomic_store(&pq_current_at_entry, virtio_chain_current(c));
	atomic_store(&pq_entered, true);
	while (!atomic_load(&pq_release))
		sched_yield();
	atomic_store(&pq_current_after, virtio_chain_current(c));
	c->bufs[0].host[0] = 0;
	return 1;
}

static void pq_gen_reset(void)
{
	if (pq_chain)
		pq_current_in_reset = virtio_chain_current(pq_chain);
}

/* Queue 0's request in progress on a vCPU (the hook is pq_gen_hook); false if it never came. */
static bool pq_gen_begin(pthread_t *vcpu)
{
	pq_chain = NULL;
	pq_current_in_reset = -1;
	atomic_store(&pq_entered, false);
	atomic_store(&pq_release, false);
	atomic_store(&pq_current_at_entry, false);
	atomic_store(&pq_current_after, true);
	pq_use(0);
	tg_add(&g, (const struct tg_buf[]){ { buf_new(1, POISON), 1, true } }, 1);
	pq_kick_start(vcpu, 0);
	return pq_wait(&pq_entered);
}

START_TEST(chain_current_until_reset)
{
	bool entered, before, other_queue, other_status, in_main_after;
	unsigned int resets;
	struct pq_async reset;
	pthread_t vcpu;

	pq_init();
	pq_hook[0] = pq_gen_hook;
	pq_reset_hook = pq_gen_reset;

	/* 1: Status = 0 while the request is in progress */
	pq_start(V1);
	resets = pq_reset_count();
	entered = pq_gen_begin(&vcpu);
	before = other_queue = other_status = in_main_after = true;
	if (entered) {
		before = virtio_chain_current(pq_chain);
		pq_wr(MMIO_QUEUE_SEL, 1); /* another queue disabled: not this chain's */
		pq_wr(MMIO_QUEUE_READY, 0);
		other_queue = virtio_chain_current(pq_chain);
		pq_wr(MMIO_STATUS, S_LIVE); /* a Status write that is no reset */
		other_status = virtio_chain_current(pq_chain);
		pq_wr_async(&reset, MMIO_STATUS, 0);
		in_main_after = virtio_chain_current(pq_chain);
	}
	atomic_store(&pq_release, true);
	pthread_join(vcpu, NULL);
	if (entered)
		pthread_join(reset.thread, NULL);
	ck_assert_msg(entered, "the request never reached the device");
	ck_assert_msg(atomic_load(&pq_current_at_entry), "not current when the device got it");
	ck_assert(before);
	ck_assert(other_queue);
	ck_assert(other_status);
	ck_assert_uint_eq(pq_reset_count(), resets + 1);
	ck_assert_int_eq(pq_current_in_reset, 0); /* the epoch moved before reset() */
	ck_assert(!in_main_after);
	ck_assert_msg(!atomic_load(&pq_current_after), "still current in the handler");
	ck_assert_uint_eq(pq_used_idx(), 0); /* and it is never used */
	ck_assert_uint_eq(g.irq_raises, 0);

	/* 2: QueueReady = 0 of its own queue: stale, and no reset hook call */
	pq_start(V1);
	resets = pq_reset_count();
	entered = pq_gen_begin(&vcpu);
	before = in_main_after = true;
	if (entered) {
		before = virtio_chain_current(pq_chain);
		pq_wr(MMIO_QUEUE_SEL, 0);
		pq_wr_async(&reset, MMIO_QUEUE_READY, 0);
		in_main_after = virtio_chain_current(pq_chain);
	}
	atomic_store(&pq_release, true);
	pthread_join(vcpu, NULL);
	if (entered)
		pthread_join(reset.thread, NULL);
	ck_assert_msg(entered, "the request never reached the device");
	ck_assert_msg(atomic_load(&pq_current_at_entry), "not current when the device got it");
	ck_assert(before);
	ck_assert(!in_main_after);
	ck_assert_msg(!atomic_load(&pq_current_after), "still current in the handler");
	ck_assert_uint_eq(pq_reset_count(), resets);
	ck_assert_int_eq(pq_current_in_reset, -1);
	ck_assert_uint_eq(pq_used_idx(), 0);
	ck_assert_uint_eq(g.irq_raises, 0);

	/* 3: the queue enabled again (fresh rings): a new chain is current, and it completes */
	memset(tg_ptr(&g, g.avail), 0, 6 + 2 * 8);
	memset(tg_ptr(&g, g.used), 0, 6 + 8 * 8);
	g.avail_idx = g.used_seen = g.next_desc = 0;
	pq_wr(MMIO_QUEUE_SEL, 0);
	pq_wr(MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(pq_rd(MMIO_QUEUE_READY), 1);
	entered = pq_gen_begin(&vcpu);
	atomic_store(&pq_release, true);
	pthread_join(vcpu, NULL);
	ck_assert_msg(entered, "the request never reached the device");
	ck_assert_msg(atomic_load(&pq_current_at_entry), "not current when the device got it");
	ck_assert_msg(atomic_load(&pq_current_after), "a new chain not current");
	expect_used(0, 1);
	ck_assert_uint_eq(g.irq_raises, 1);
}
END_TEST

/* A chain the transport did not take (gen_now NULL) never goes stale; a wrong gen does. */
START_TEST(chain_current_without_a_queue)
{
	atomic_uint now = 7;
	struct virtq_chain c = { .gen_now = NULL, .gen = 3 };

	ck_assert(virtio_chain_current(&c));
	c.gen_now = &now;
	ck_assert(!virtio_chain_current(&c));
	c.gen = 7;
	ck_assert(virtio_chain_current(&c));
	atomic_fetch_add(&now, 1);
	ck_assert(!virtio_chain_current(&c));
}
END_TEST

/* The arch's part of the ACPI seam, faked: a marker where _CRS goes. */
static void crs_marker(const struct acpi_ctx *ctx, const struct mmio_dev *d)
{
	(void)d;
	aml_name(ctx->aml, "_CRS");
	aml_int(ctx->aml, 0x42);
}

/* The transport describes itself to ACPI as LNRO0005, what Linux's virtio_mmio matches. */
START_TEST(acpi_node)
{
	const struct mmio_dev md = { .name = "virtio", .base = 0x1000, .size = 0x200 };
	static const uint8_t want[] = {
		0x5b, 0x82, 0x22, 'V',	'R',  '1',  '0', /* Device(VR10) */
		0x08, '_',  'H',  'I',	'D',  0x0d, 'L',  'N', 'R', 'O',  '0',
		'0',  '0',  '5',  0x00, 0x08, '_',  'U',  'I', 'D', 0x0a, 0x10, /* _UID 16 */
		0x08, '_',  'C',  'R',	'S',  0x0a, 0x42, /* the arch's _CRS */
	};
	uint8_t buf[64];
	struct aml a;
	struct acpi_ctx ctx = { .aml = &a, .index = 16, .add_crs = crs_marker };

	aml_init(&a, buf, sizeof(buf));
	ck_assert_int_eq(virtio_mmio_ops.acpi_node(&md, &ctx), 0);
	ck_assert_int_eq(aml_finish(&a), 0);
	ck_assert_uint_eq(a.len, sizeof(want));
	ck_assert(!memcmp(buf, want, sizeof(want)));

	aml_init(&a, buf, sizeof(want) - 1); /* the error reaches the caller */
	ck_assert_int_eq(virtio_mmio_ops.acpi_node(&md, &ctx), -ENOSPC);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("virtio");
	TCase *regs = tcase_create("registers");
	TCase *neg = tcase_create("negotiation-reset");
	TCase *queue = tcase_create("queue-setup");
	TCase *config = tcase_create("config");
	TCase *irq = tcase_create("notify-interrupts");
	TCase *bad = tcase_create("malformed-rings");
	TCase *many = tcase_create("indirect-many");
	TCase *conc = tcase_create("concurrent-driver");
	TCase *all[] = { regs, neg, queue, config, irq, bad, many, conc };
	unsigned int i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 30);
		suite_add_tcase(s, all[i]);
	}
	tcase_add_test(regs, identification_registers);
	tcase_add_test(regs, acpi_node);
	tcase_add_test(regs, device_features_windows);
	tcase_add_test(regs, queue_num_max_and_queue_sel_range);
	tcase_add_test(regs, narrow_register_accesses_ignored);
	tcase_add_test(regs, unknown_offsets_read_zero);
	tcase_add_test(regs, shm_registers_read_all_ones);

	tcase_add_test(neg, features_ok_refused_for_unoffered_features);
	tcase_add_test(neg, features_ok_refused_without_version_1);
	tcase_add_test(neg, features_ok_accepted_for_offered_features);
	tcase_add_test(neg, driver_features_frozen_after_features_ok);
	tcase_add_test(neg, driver_ok_without_features_ok_does_not_stick);
	tcase_add_test(neg, reset_clears_device_state);

	tcase_add_test(queue, queue_ready_refused_for_bad_rings);
	tcase_add_test(queue, queue_num_256_and_1_accepted);
	tcase_add_test(queue, queue_frozen_while_ready);

	tcase_add_test(config, config_reads_any_width);
	tcase_add_test(config, config_writes_ignored);
	tcase_add_test(config, status_zero_calls_device_reset);
	tcase_add_test(config, config_read_straddling_end);

	tcase_add_test(irq, notify_before_driver_ok_ignored);
	tcase_add_test(irq, notify_of_missing_queue_ignored);
	tcase_add_test(irq, used_interrupt_and_ack);
	tcase_add_test(irq, no_interrupt_flag_without_event_idx);
	tcase_add_test(irq, event_idx_used_event_and_avail_event);

	tcase_add_test(conc, reset_while_request_in_progress);
	tcase_add_test(conc, queue_disable_while_request_in_progress);
	tcase_add_loop_test(conc, registers_and_reset_race_a_busy_queue, 0, 8);
	tcase_add_test(conc, interrupt_every_queue_size_completions);
	tcase_add_test(conc, stop_leaves_the_request_loop);
	tcase_add_test(conc, queues_do_not_wait_for_each_other);
	tcase_add_test(conc, queue_disabled_while_busy_other_queue_serves);
	tcase_add_test(conc, chain_current_until_reset);
	tcase_add_test(neg, features_ok_hook_refuses);
	tcase_add_test(neg, chain_current_without_a_queue);

	tcase_add_test(bad, descriptor_loop_rejected);
	tcase_add_test(bad, chain_limits_follow_the_spec);
	tcase_add_test(bad, indirect_without_negotiation_refused);
	tcase_add_test(bad, request_without_status_needs_reset);
	tcase_add_test(bad, next_out_of_range_rejected);
	tcase_add_test(bad, indirect_table_outside_ram_rejected);
	tcase_add_test(bad, indirect_table_bad_length_rejected);
	tcase_add_test(bad, nested_indirect_rejected);
	tcase_add_test(bad, indirect_with_next_rejected);
	tcase_add_test(bad, buffer_outside_ram_rejected);
	tcase_add_test(bad, buffer_ending_at_ram_end_works);
	tcase_add_test(bad, readable_after_writable_rejected);
	tcase_add_test(bad, zero_length_descriptors_skipped);
	tcase_add_test(bad, avail_idx_too_far_ahead_breaks_queue);
	tcase_add_test(bad, avail_idx_far_behind_breaks_queue);
	tcase_add_test(bad, head_out_of_range_breaks_queue);
	tcase_add_test(bad, needs_reset_sticks_until_reset);
	tcase_add_test(neg, status_bits_cannot_be_cleared);

	tcase_add_test(many, indirect_request_works);
	tcase_add_test(many, full_ring_in_one_notify);
	tcase_add_test(many, indices_wrap_past_65536);
	return s;
}
