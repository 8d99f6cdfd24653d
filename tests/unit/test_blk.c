// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2, 5.2) requests through the virtio-mmio transport,
 * against a real image file. Every request is built by do_req() from a short
 * description; each of its buffers sits between guard bytes, device-writable
 * ones start poisoned, and after completion all of guest RAM is compared with
 * a copy taken before the kick: the device may only have written the request's
 * writable buffers and the used ring. The image is compared byte for byte
 * with what it must contain (expect[]).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "guest.h"
#include "unit.h"

#define SECTORS 64
#define IMG_SIZE (SECTORS * VIRTIO_BLK_SECTOR)
#define SERIAL "icevmm-serial"
#define QSIZE 256
#define GUARD 16 /* bytes on each side of every buffer */
#define GUARD_BYTE 0xee
#define POISON 0xa5 /* device-writable buffers start as this */
#define MAX_DESCS 300
#define MAX_STREAM (64 * 1024)

#define BIT(n) (1ULL << (n))
/* What a rw disk offers (5.2.3; transport bits from 6) */
#define OFFERED_RW                                                                                 \
	(BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |     \
	 BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES) |    \
	 BIT(VIRTIO_F_RING_INDIRECT_DESC) | BIT(VIRTIO_F_RING_EVENT_IDX) |                         \
	 BIT(VIRTIO_F_VERSION_1))
#define OFFERED_RO                                                                                 \
	((OFFERED_RW & ~(BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES))) |            \
	 BIT(VIRTIO_BLK_F_RO))

static struct test_guest g;
static struct blk_dev dev, dev2; /* large: static */
static struct virtio_mmio transport, transport2;
static char img[TG_PATH_MAX], img2[TG_PATH_MAX];
static uint8_t expect[IMG_SIZE];	/* what the image must contain */
static uint8_t in_data[MAX_STREAM + 1]; /* the request's writable bytes after completion */

/* Every byte nonzero and different from its neighbours and from the sector before. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)(1 + (i * 31 + i / VIRTIO_BLK_SECTOR * 7) % 255);
}

static uint64_t offered(struct virtio_mmio *t)
{
	uint64_t f;

	tg_write32(t, 0x014, 1);
	f = (uint64_t)tg_read32(t, 0x010) << 32;
	tg_write32(t, 0x014, 0);
	return f | tg_read32(t, 0x010);
}

/* Open img as dev and bring the device up with everything it offers. */
static void open_disk(bool ro, const char *serial)
{
	struct blk_opts o = { .path = img, .ro = ro, .serial = serial };

	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, offered(&transport), QSIZE), 0xf);
}

static void reopen(bool ro, const char *serial)
{
	blk_close(&dev);
	open_disk(ro, serial);
}

static void setup(void)
{
	size_t i;

	dev.disk.fd = dev2.disk.fd = -1;
	img2[0] = 0;
	tg_init(&g);
	for (i = 0; i < IMG_SIZE; i++)
		expect[i] = pattern(i);
	ck_assert_int_eq(tg_image_create(img, expect, IMG_SIZE, IMG_SIZE), 0);
	open_disk(false, SERIAL);
}

static void teardown(void)
{
	blk_close(&dev);
	blk_close(&dev2);
	unlink(img);
	if (img2[0])
		unlink(img2);
	tg_fini(&g);
}

static void check_image(void)
{
	long long d = tg_image_diff(img, expect, IMG_SIZE);

	ck_assert_msg(d == -1, "image differs from the expected bytes at offset %lld (sector %lld)",
		      d, d / VIRTIO_BLK_SECTOR);
}

/* --- the request builder --- */

struct req {
	uint32_t type;
	uint64_t sector;
	const void *out; /* device-readable data after the header */
	uint32_t out_len;
	uint32_t in_len;  /* device-writable data before the status byte */
	uint32_t hdr_cut; /* send only the first 16 - hdr_cut bytes of the header */
	bool no_status;	  /* no status byte: the chain ends device-readable */
	/*
	 * Descriptor lengths, 0-terminated, carving up the readable bytes
	 * (header + out) and the writable bytes (in + status) in order. NULL:
	 * header, data and status each get their own descriptor.
	 */
	const uint32_t *rd, *wr;
	/* Results */
	uint32_t used_len;
	uint8_t status; /* POISON if the device did not write it */
};

static unsigned int carve(const uint32_t *split, uint32_t a, uint32_t b, uint32_t *lens)
{
	uint64_t sum = 0;
	unsigned int n = 0;

	if (!split) {
		if (a)
			lens[n++] = a;
		if (b)
			lens[n++] = b;
		return n;
	}
	for (; split[n]; n++) {
		ck_assert_uint_lt(n, MAX_DESCS);
		lens[n] = split[n];
		sum += split[n];
	}
	ck_assert_msg(sum == (uint64_t)a + b, "test bug: descriptor split sums to %llu, not %u",
		      (unsigned long long)sum, a + b);
	return n;
}

/* A buffer of len bytes between guard bytes. */
static uint64_t guarded(uint32_t len)
{
	uint64_t gpa = tg_alloc(&g, len + 2 * GUARD, 16);

	memset(tg_ptr(&g, gpa), GUARD_BYTE, len + 2 * GUARD);
	return gpa + GUARD;
}

/*
 * Lay out, submit and complete one request on dev: checks that exactly one
 * used element comes back, with the head's id, and that nothing outside the
 * writable buffers and the used ring changed in guest memory. Leaves the
 * writable bytes in in_data[].
 */
static void do_req(struct req *r)
{
	static uint8_t rbytes[MAX_STREAM];
	static uint32_t rd_len[MAX_DESCS], wr_len[MAX_DESCS];
	static struct tg_buf bufs[2 * MAX_DESCS];
	uint32_t hdr_len = 16 - r->hdr_cut, wlen = r->in_len + !r->no_status, off, id, len;
	unsigned int nrd, nwr, i, n = 0;
	uint64_t diff;
	uint8_t *snap;
	uint16_t head;

	ck_assert(hdr_len + r->out_len <= MAX_STREAM && wlen <= MAX_STREAM);
	ck_assert_msg(!(r->no_status && r->in_len), "test bug: in data would end in the status");
	memcpy(rbytes, &r->type, 4);
	memset(rbytes + 4, 0, 4);
	memcpy(rbytes + 8, &r->sector, 8);
	if (r->out_len)
		memcpy(rbytes + hdr_len, r->out, r->out_len);
	nrd = carve(r->rd, hdr_len, r->out_len, rd_len);
	nwr = carve(r->wr, r->in_len, wlen - r->in_len, wr_len);
	for (off = 0, i = 0; i < nrd; off += rd_len[i], i++, n++) {
		bufs[n] = (struct tg_buf){ .gpa = guarded(rd_len[i]), .len = rd_len[i] };
		memcpy(tg_ptr(&g, bufs[n].gpa), rbytes + off, rd_len[i]);
	}
	for (i = 0; i < nwr; i++, n++) {
		bufs[n] = (struct tg_buf){ .gpa = guarded(wr_len[i]),
					   .len = wr_len[i],
					   .writable = true };
		memset(tg_ptr(&g, bufs[n].gpa), POISON, wr_len[i]);
	}
	ck_assert_uint_le(n, g.num);

	head = tg_add(&g, bufs, n);
	snap = tg_snapshot(&g);
	tg_kick(&transport);

	ck_assert_msg(tg_get_used(&g, &id, &r->used_len), "the request was not completed");
	ck_assert_uint_eq(id, head);
	ck_assert_msg(!tg_get_used(&g, &id, &len), "one request, two used elements");
	for (off = 0, i = nrd; i < n; i++) {
		memcpy(in_data + off, tg_ptr(&g, bufs[i].gpa), bufs[i].len);
		tg_snapshot_accept(&g, snap, bufs[i].gpa, bufs[i].len);
		off += bufs[i].len;
	}
	r->status = r->no_status ? POISON : in_data[wlen - 1];
	tg_snapshot_accept_used(&g, snap);
	diff = tg_snapshot_diff(&g, snap);
	free(snap);
	ck_assert_msg(diff == 0, "device wrote guest memory outside the writable buffers at 0x%llx",
		      (unsigned long long)diff);
}

/* A refused request: status, used.len 1 (the status byte), data and image untouched. */
static void expect_refused(const struct req *r, uint8_t status)
{
	uint32_t i;

	ck_assert_uint_eq(r->status, status);
	ck_assert_uint_eq(r->used_len, 1);
	for (i = 0; i < r->in_len; i++)
		ck_assert_msg(in_data[i] == POISON, "refused request wrote data byte %u", i);
	check_image();
}

static void ioerr(struct req r)
{
	do_req(&r);
	expect_refused(&r, VIRTIO_BLK_S_IOERR);
}

static void unsupp(struct req r)
{
	do_req(&r);
	expect_refused(&r, VIRTIO_BLK_S_UNSUPP);
}

/* A successful IN of n sectors at sector: data, status, used.len = data + 1. */
static void read_ok(struct req r)
{
	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, r.in_len + 1);
	ck_assert_mem_eq(in_data, expect + r.sector * VIRTIO_BLK_SECTOR, r.in_len);
	check_image();
}

/* A successful OUT: status, used.len 1, and the image is expect[] with the data in place. */
static void write_ok(struct req r)
{
	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, 1);
	memcpy(expect + r.sector * VIRTIO_BLK_SECTOR, r.out, r.out_len);
	check_image();
}

static uint64_t cfg(uint32_t off, uint32_t len)
{
	uint64_t v = 0;

	virtio_mmio_read(&transport, VIRTIO_MMIO_CONFIG_OFFSET + off, &v, len);
	return v;
}

/* --- config space and features --- */

START_TEST(config_space_fields)
{
	/* struct virtio_blk_config (5.2.4), each field read at its own width */
	ck_assert_uint_eq(cfg(0x00, 8), SECTORS);		 /* capacity */
	ck_assert_uint_eq(cfg(0x08, 4), 1U << 20);		 /* size_max */
	ck_assert_uint_eq(cfg(0x0c, 4), 254);			 /* seg_max */
	ck_assert_uint_eq(cfg(0x10, 2) | cfg(0x12, 1) << 16, 0); /* geometry */
	ck_assert_uint_eq(cfg(0x14, 4), 512);			 /* blk_size */
	ck_assert_uint_eq(cfg(0x18, 8), 0);			 /* topology */
	ck_assert_uint_eq(cfg(0x24, 4), 0x400000);		 /* max_discard_sectors */
	ck_assert_uint_eq(cfg(0x28, 4), 16);			 /* max_discard_seg */
	ck_assert_uint_eq(cfg(0x2c, 4), 8);			 /* discard_sector_alignment */
	ck_assert_uint_eq(cfg(0x30, 4), 0x400000);		 /* max_write_zeroes_sectors */
	ck_assert_uint_eq(cfg(0x34, 4), 16);			 /* max_write_zeroes_seg */
	ck_assert_uint_eq(cfg(0x38, 1), 1);			 /* write_zeroes_may_unmap */
	ck_assert_uint_eq(cfg(0x39, 1) | cfg(0x3a, 2) << 8, 0);	 /* unused1 */
}
END_TEST

START_TEST(features_of_rw_disk)
{
	uint64_t f = offered(&transport);

	ck_assert(f & BIT(VIRTIO_BLK_F_FLUSH));
	ck_assert(f & BIT(VIRTIO_BLK_F_BLK_SIZE));
	ck_assert(f & BIT(VIRTIO_BLK_F_SEG_MAX));
	ck_assert(f & BIT(VIRTIO_BLK_F_SIZE_MAX));
	ck_assert(f & BIT(VIRTIO_BLK_F_DISCARD));
	ck_assert(f & BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	ck_assert(!(f & BIT(VIRTIO_BLK_F_RO)));
	ck_assert_uint_eq(f, OFFERED_RW);
}
END_TEST

START_TEST(features_of_ro_disk)
{
	uint64_t f;

	reopen(true, SERIAL);
	f = offered(&transport);
	ck_assert(f & BIT(VIRTIO_BLK_F_RO));
	ck_assert(!(f & BIT(VIRTIO_BLK_F_DISCARD)));
	ck_assert(!(f & BIT(VIRTIO_BLK_F_WRITE_ZEROES)));
	ck_assert_uint_eq(f, OFFERED_RO);
}
END_TEST

/*
 * fault=many-queues: VIRTIO_BLK_F_MQ with num_queues 65535 in config space,
 * and still one request queue that works (a driver that bounds what it
 * allocates uses it).
 */
START_TEST(many_queues_fault)
{
	struct blk_opts o = { .path = img, .many_queues = true };

	blk_close(&dev);
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
	ck_assert_uint_eq(offered(&transport), OFFERED_RW | BIT(VIRTIO_BLK_F_MQ));
	ck_assert_uint_eq(cfg(0x22, 2), 65535); /* num_queues */
	ck_assert_uint_eq(tg_driver_init(&g, &transport, offered(&transport), QSIZE), 0xf);
	do_req(&(struct req){ .type = VIRTIO_BLK_T_IN, .sector = 3, .in_len = 512 });
	ck_assert_mem_eq(in_data, expect + 3 * 512, 512);
	ck_assert_uint_eq(in_data[512], VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(capacity_ignores_partial_last_sector)
{
	/* 8 sectors and 100 bytes: the guest sees 8 sectors */
	blk_close(&dev);
	unlink(img);
	ck_assert_int_eq(tg_image_create(img, expect, 8 * 512 + 100, 8 * 512 + 100), 0);
	open_disk(false, NULL);
	ck_assert_uint_eq(cfg(0, 8), 8);
	do_req(&(struct req){ .type = VIRTIO_BLK_T_IN, .sector = 7, .in_len = 512 });
	ck_assert_mem_eq(in_data, expect + 7 * 512, 512);
	do_req(&(struct req){ .type = VIRTIO_BLK_T_IN, .sector = 8, .in_len = 512 });
	ck_assert_uint_eq(in_data[512], VIRTIO_BLK_S_IOERR);
	/* check_image() would compare 64 sectors: put the full image back for teardown */
	blk_close(&dev);
	unlink(img);
	ck_assert_int_eq(tg_image_create(img, expect, IMG_SIZE, IMG_SIZE), 0);
	open_disk(false, NULL);
}
END_TEST

/* --- IN --- */

START_TEST(in_reads_image_bytes)
{
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 3, .in_len = 1024 });
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 0, .in_len = 512 });
}
END_TEST

START_TEST(in_whole_disk_and_last_sector)
{
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 0, .in_len = IMG_SIZE });
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = SECTORS - 1, .in_len = 512 });
}
END_TEST

START_TEST(in_header_split_5_11)
{
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN,
			      .sector = 9,
			      .in_len = 512,
			      .rd = (const uint32_t[]){ 5, 11, 0 } });
}
END_TEST

START_TEST(in_data_split_at_odd_boundaries)
{
	/* 1 + 510 + 3 + 7 + 1000 + 527 = 2048 data bytes, then the status alone */
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN,
			      .sector = 20,
			      .in_len = 2048,
			      .wr = (const uint32_t[]){ 1, 510, 3, 7, 1000, 527, 1, 0 } });
}
END_TEST

START_TEST(in_status_shares_last_data_desc)
{
	/* 700 data bytes, then 324 data bytes + the status in one descriptor */
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN,
			      .sector = 30,
			      .in_len = 1024,
			      .wr = (const uint32_t[]){ 700, 325, 0 } });
	/* everything writable in one descriptor */
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN,
			      .sector = 31,
			      .in_len = 512,
			      .wr = (const uint32_t[]){ 513, 0 } });
}
END_TEST

START_TEST(in_seg_max_data_descriptors)
{
	/* header + 254 data descriptors (seg_max) + status = 256 = the queue size */
	static uint32_t wr[257];
	unsigned int i;

	for (i = 0; i < 253; i++)
		wr[i] = 8;
	wr[253] = 2048 - 253 * 8;
	wr[254] = 1;
	wr[255] = 0;
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 40, .in_len = 2048, .wr = wr });
}
END_TEST

/* --- OUT --- */

static uint8_t wbuf[IMG_SIZE];

static const uint8_t *wdata(uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		wbuf[i] = (uint8_t)(seed + i * 13 + (i >> 8));
	return wbuf;
}

START_TEST(out_writes_exactly_its_sectors)
{
	write_ok((struct req){
		.type = VIRTIO_BLK_T_OUT, .sector = 5, .out = wdata(1024, 1), .out_len = 1024 });
	write_ok((struct req){
		.type = VIRTIO_BLK_T_OUT, .sector = 0, .out = wdata(512, 2), .out_len = 512 });
	/* and it reads back */
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 4, .in_len = 4 * 512 });
}
END_TEST

START_TEST(out_last_sector)
{
	write_ok((struct req){ .type = VIRTIO_BLK_T_OUT,
			       .sector = SECTORS - 1,
			       .out = wdata(512, 3),
			       .out_len = 512 });
}
END_TEST

START_TEST(out_header_shares_data_desc)
{
	write_ok((struct req){ .type = VIRTIO_BLK_T_OUT,
			       .sector = 12,
			       .out = wdata(512, 4),
			       .out_len = 512,
			       .rd = (const uint32_t[]){ 16 + 512, 0 } });
}
END_TEST

START_TEST(out_split_at_odd_boundaries)
{
	/* header 5 + (11 + 3 data) + 509 + 7 + 505: 1040 readable bytes */
	write_ok((struct req){ .type = VIRTIO_BLK_T_OUT,
			       .sector = 33,
			       .out = wdata(1024, 5),
			       .out_len = 1024,
			       .rd = (const uint32_t[]){ 5, 14, 509, 7, 505, 0 } });
}
END_TEST

/* --- FLUSH, GET_ID --- */

START_TEST(flush_ok)
{
	struct req r = { .type = VIRTIO_BLK_T_FLUSH };

	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, 1);
	check_image();
}
END_TEST

START_TEST(flush_on_ro_disk_ok)
{
	struct req r = { .type = VIRTIO_BLK_T_FLUSH };

	reopen(true, NULL);
	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, 1);
}
END_TEST

/*
 * GET_ID into a buf_len-byte buffer (+ status) returns want[0..want_len),
 * NULs after it up to the status byte, and used length buf_len + 1: every
 * byte from the first one is written, so used.len counts them all (2.7.8.2:
 * the device writes at least len bytes from the start of the writable part).
 */
static void get_id(uint32_t buf_len, const void *want, uint32_t want_len)
{
	struct req r = { .type = VIRTIO_BLK_T_GET_ID, .in_len = buf_len };
	uint32_t i;

	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, buf_len + 1);
	ck_assert_mem_eq(in_data, want, want_len);
	for (i = want_len; i < buf_len; i++)
		ck_assert_msg(in_data[i] == 0, "GET_ID byte %u after the id: 0x%02x", i,
			      in_data[i]);
}

START_TEST(get_id_serial_nul_padded)
{
	get_id(20, SERIAL "\0\0\0\0\0\0\0", 20);
}
END_TEST

START_TEST(get_id_20_byte_serial_unterminated)
{
	reopen(false, "ABCDEFGHIJKLMNOPQRST");
	get_id(20, "ABCDEFGHIJKLMNOPQRST", 20);
	/* a bigger buffer still gets 20 bytes, no terminator, then NULs */
	get_id(24, "ABCDEFGHIJKLMNOPQRST", 20);
}
END_TEST

/* Used length = bytes written, status included, for buffers of 20, 21 and 64 bytes. */
START_TEST(get_id_used_length_counts_what_is_written)
{
	get_id(20, SERIAL "\0\0\0\0\0\0\0", 20);
	get_id(21, SERIAL "\0\0\0\0\0\0\0", 20);
	get_id(64, SERIAL "\0\0\0\0\0\0\0", 20);
	reopen(false, "ABCDEFGHIJKLMNOPQRST");
	get_id(21, "ABCDEFGHIJKLMNOPQRST", 20);
	get_id(64, "ABCDEFGHIJKLMNOPQRST", 20);
}
END_TEST

START_TEST(get_id_short_buffer_gets_prefix)
{
	get_id(8, "icevmm-s", 8);
	get_id(1, "i", 1);
}
END_TEST

START_TEST(get_id_long_or_missing_serial)
{
	static const uint8_t zero[20];

	reopen(false, "0123456789abcdefghijKLMNOP"); /* only the first 20 bytes count */
	get_id(20, "0123456789abcdefghij", 20);
	reopen(false, NULL);
	get_id(20, zero, 20);
}
END_TEST

START_TEST(get_id_malformed)
{
	/* no id buffer, only the status */
	ioerr((struct req){ .type = VIRTIO_BLK_T_GET_ID });
	/* a device-readable buffer after the header */
	ioerr((struct req){
		.type = VIRTIO_BLK_T_GET_ID, .out = wdata(20, 9), .out_len = 20, .in_len = 20 });
}
END_TEST

/* --- DISCARD, WRITE_ZEROES --- */

struct seg {
	uint64_t sector;
	uint32_t num, flags;
}; /* struct virtio_blk_discard_write_zeroes, little-endian like the host */
_Static_assert(sizeof(struct seg) == 16, "segment layout");

#define WZ_UNMAP 1

static struct req zreq(uint32_t type, const struct seg *s, unsigned int n)
{
	return (struct req){ .type = type, .out = s, .out_len = n * (uint32_t)sizeof(*s) };
}

static void zero_ok(uint32_t type, const struct seg *s, unsigned int n)
{
	struct req r = zreq(type, s, n);
	unsigned int i;

	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, 1);
	for (i = 0; i < n; i++)
		memset(expect + s[i].sector * 512, 0, (size_t)s[i].num * 512);
	check_image();
}

START_TEST(discard_reads_back_zeroes)
{
	zero_ok(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { 2, 3, 0 } }, 1);
	/* not 4 KiB-aligned, at the end of the disk */
	zero_ok(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { SECTORS - 1, 1, 0 } }, 1);
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 0, .in_len = IMG_SIZE });
}
END_TEST

START_TEST(write_zeroes_two_segments)
{
	zero_ok(VIRTIO_BLK_T_WRITE_ZEROES, (const struct seg[]){ { 1, 1, 0 }, { 10, 2, 0 } }, 2);
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 0, .in_len = 16 * 512 });
}
END_TEST

START_TEST(write_zeroes_unmap)
{
	zero_ok(VIRTIO_BLK_T_WRITE_ZEROES, (const struct seg[]){ { 4, 9, WZ_UNMAP } }, 1);
	zero_ok(VIRTIO_BLK_T_WRITE_ZEROES, (const struct seg[]){ { 17, 1, WZ_UNMAP } }, 1);
}
END_TEST

START_TEST(segments_split_across_descriptors)
{
	static const struct seg s[2] = { { 3, 2, 0 }, { 20, 1, WZ_UNMAP } };
	struct req r = { .type = VIRTIO_BLK_T_WRITE_ZEROES,
			 .out = s,
			 .out_len = sizeof(s),
			 .rd = (const uint32_t[]){ 16 + 5, 20, 7, 0 } };

	/* header + first 5 bytes of a segment in one descriptor, the rest split oddly */
	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	memset(expect + 3 * 512, 0, 2 * 512);
	memset(expect + 20 * 512, 0, 512);
	check_image();
	/* and both segments in the header's descriptor */
	r = (struct req){ .type = VIRTIO_BLK_T_DISCARD,
			  .out = (const struct seg[]){ { 30, 1, 0 }, { 40, 2, 0 } },
			  .out_len = 32,
			  .rd = (const uint32_t[]){ 48, 0 } };
	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	memset(expect + 30 * 512, 0, 512);
	memset(expect + 40 * 512, 0, 2 * 512);
	check_image();
}
END_TEST

START_TEST(discard_16_segments)
{
	struct seg s[16];
	unsigned int i;

	for (i = 0; i < 16; i++)
		s[i] = (struct seg){ .sector = 3 * i + 1, .num = 1 };
	zero_ok(VIRTIO_BLK_T_DISCARD, s, 16);
	for (i = 0; i < 16; i++)
		s[i] = (struct seg){ .sector = 3 * i + 2, .num = 1, .flags = i & 1 ? WZ_UNMAP : 0 };
	zero_ok(VIRTIO_BLK_T_WRITE_ZEROES, s, 16);
}
END_TEST

START_TEST(discard_with_flags_unsupp)
{
	/* 5.2.6.2: unmap is for WRITE_ZEROES only; any other flag bit is reserved */
	unsupp(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { 2, 1, WZ_UNMAP } }, 1));
	unsupp(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { 2, 1, 2 } }, 1));
	unsupp(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { 2, 1, 0x80000000 } }, 1));
	/* the flagged segment is the second one: the first is not applied either */
	unsupp(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { 2, 1, 0 }, { 4, 1, WZ_UNMAP } },
		    2));
}
END_TEST

START_TEST(write_zeroes_reserved_flag_unsupp)
{
	unsupp(zreq(VIRTIO_BLK_T_WRITE_ZEROES, (const struct seg[]){ { 2, 1, 2 } }, 1));
	unsupp(zreq(VIRTIO_BLK_T_WRITE_ZEROES, (const struct seg[]){ { 2, 1, 2 | WZ_UNMAP } }, 1));
	unsupp(zreq(VIRTIO_BLK_T_WRITE_ZEROES,
		    (const struct seg[]){ { 2, 1, 0 }, { 4, 1, 0x80000000 } }, 2));
}
END_TEST

START_TEST(discard_past_capacity_ioerr)
{
	ioerr(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { SECTORS - 1, 2, 0 } }, 1));
	ioerr(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { SECTORS, 1, 0 } }, 1));
	ioerr(zreq(VIRTIO_BLK_T_WRITE_ZEROES, (const struct seg[]){ { UINT64_MAX, 2, 0 } }, 1));
	/* sector * 512 wraps to 0 */
	ioerr(zreq(VIRTIO_BLK_T_WRITE_ZEROES, (const struct seg[]){ { 1ULL << 55, 1, 0 } }, 1));
	/* sector + num_sectors wraps around 2^64 */
	ioerr(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { UINT64_MAX, 2, 0 } }, 1));
	ioerr(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { UINT64_MAX - 1, 0x400000, 0 } },
		   1));
}
END_TEST

START_TEST(bad_second_segment_applies_nothing)
{
	ioerr(zreq(VIRTIO_BLK_T_WRITE_ZEROES,
		   (const struct seg[]){ { 0, 1, 0 }, { SECTORS, 1, 0 } }, 2));
	ioerr(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { 5, 2, 0 }, { SECTORS - 2, 3, 0 } },
		   2));
	ioerr(zreq(VIRTIO_BLK_T_WRITE_ZEROES,
		   (const struct seg[]){ { 6, 1, WZ_UNMAP }, { 1ULL << 55, 1, 0 } }, 2));
}
END_TEST

START_TEST(more_than_16_segments_ioerr)
{
	struct seg s[17];
	unsigned int i;

	for (i = 0; i < 17; i++)
		s[i] = (struct seg){ .sector = i, .num = 1 };
	ioerr(zreq(VIRTIO_BLK_T_DISCARD, s, 17));
	ioerr(zreq(VIRTIO_BLK_T_WRITE_ZEROES, s, 17));
}
END_TEST

START_TEST(segment_list_not_whole_segments_ioerr)
{
	static const struct seg s[2] = { { 1, 1, 0 }, { 3, 1, 0 } };

	ioerr((struct req){ .type = VIRTIO_BLK_T_WRITE_ZEROES, .out = s, .out_len = 24 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_DISCARD, .out = s, .out_len = 8 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_DISCARD, .out = s, .out_len = 31 });
	/* no segment at all */
	ioerr((struct req){ .type = VIRTIO_BLK_T_WRITE_ZEROES });
	/* and a device-writable buffer before the status */
	ioerr((struct req){ .type = VIRTIO_BLK_T_DISCARD, .out = s, .out_len = 16, .in_len = 16 });
}
END_TEST

START_TEST(write_zeroes_on_ro_disk_ioerr)
{
	reopen(true, NULL);
	ioerr(zreq(VIRTIO_BLK_T_WRITE_ZEROES, (const struct seg[]){ { 2, 1, 0 } }, 1));
	ioerr(zreq(VIRTIO_BLK_T_DISCARD, (const struct seg[]){ { 2, 1, 0 } }, 1));
}
END_TEST

/* --- malformed requests: IOERR (or UNSUPP), nothing written but the status --- */

START_TEST(in_past_capacity_ioerr)
{
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .sector = SECTORS, .in_len = 512 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .sector = SECTORS - 1, .in_len = 1024 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 0, .in_len = IMG_SIZE + 512 });
}
END_TEST

START_TEST(out_past_capacity_ioerr)
{
	ioerr((struct req){
		.type = VIRTIO_BLK_T_OUT, .sector = SECTORS, .out = wdata(512, 6), .out_len = 512 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_OUT,
			    .sector = SECTORS - 1,
			    .out = wdata(1024, 6),
			    .out_len = 1024 });
}
END_TEST

START_TEST(sector_overflow_ioerr)
{
	/* sector * 512 wraps around 2^64 to a small offset: must not alias sector 0 */
	static const uint64_t bad[] = { 1ULL << 55, (1ULL << 55) + 1, UINT64_MAX,
					UINT64_MAX - SECTORS, UINT64_MAX / 512 };
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ioerr((struct req){ .type = VIRTIO_BLK_T_OUT,
				    .sector = bad[i],
				    .out = wdata(512, 7),
				    .out_len = 512 });
		ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .sector = bad[i], .in_len = 512 });
	}
}
END_TEST

START_TEST(data_not_sector_multiple_ioerr)
{
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 1, .in_len = 513 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 1, .in_len = 511 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 1, .in_len = 100 });
	ioerr((struct req){
		.type = VIRTIO_BLK_T_OUT, .sector = 1, .out = wdata(513, 8), .out_len = 513 });
	ioerr((struct req){
		.type = VIRTIO_BLK_T_OUT, .sector = 1, .out = wdata(100, 8), .out_len = 100 });
}
END_TEST

START_TEST(no_data_ioerr)
{
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 1 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_OUT, .sector = 1 });
}
END_TEST

START_TEST(in_with_readable_data_ioerr)
{
	ioerr((struct req){
		.type = VIRTIO_BLK_T_IN, .sector = 2, .out = wdata(512, 9), .out_len = 512 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN,
			    .sector = 2,
			    .out = wdata(512, 9),
			    .out_len = 512,
			    .in_len = 512 });
}
END_TEST

START_TEST(out_with_writable_data_ioerr)
{
	ioerr((struct req){ .type = VIRTIO_BLK_T_OUT, .sector = 2, .in_len = 512 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_OUT,
			    .sector = 2,
			    .out = wdata(512, 10),
			    .out_len = 512,
			    .in_len = 512 });
}
END_TEST

START_TEST(short_header_ioerr)
{
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .hdr_cut = 4, .in_len = 512 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .hdr_cut = 15, .in_len = 512 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_FLUSH, .hdr_cut = 1 });
	/* short even for a type the device does not know: IOERR, not UNSUPP */
	ioerr((struct req){ .type = 99, .hdr_cut = 4 });
	ioerr((struct req){ .type = 99, .hdr_cut = 8 });
	/* no header at all, only the status byte */
	ioerr((struct req){ .type = VIRTIO_BLK_T_IN, .hdr_cut = 16 });
}
END_TEST

START_TEST(out_to_ro_disk_ioerr)
{
	reopen(true, NULL);
	ioerr((struct req){
		.type = VIRTIO_BLK_T_OUT, .sector = 3, .out = wdata(512, 11), .out_len = 512 });
	/* reads still work */
	read_ok((struct req){ .type = VIRTIO_BLK_T_IN, .sector = 3, .in_len = 512 });
}
END_TEST

START_TEST(flush_with_data_ioerr)
{
	ioerr((struct req){ .type = VIRTIO_BLK_T_FLUSH, .in_len = 512 });
	ioerr((struct req){ .type = VIRTIO_BLK_T_FLUSH, .out = wdata(512, 12), .out_len = 512 });
}
END_TEST

START_TEST(unknown_type_unsupp)
{
	unsupp((struct req){ .type = 99, .sector = 1 });
	unsupp((struct req){ .type = 99, .sector = 1, .in_len = 512 });
	unsupp((struct req){ .type = 2 /* legacy SCSI */, .out = wdata(512, 13), .out_len = 512 });
	unsupp((struct req){ .type = 0x80000001 /* legacy BARRIER | OUT */,
			     .out = wdata(512, 13),
			     .out_len = 512 });
}
END_TEST

START_TEST(no_status_byte_nothing_written)
{
	struct req out = { .type = VIRTIO_BLK_T_OUT,
			   .sector = 4,
			   .out = wdata(512, 14),
			   .out_len = 512,
			   .no_status = true };
	struct req in = { .type = VIRTIO_BLK_T_IN, .sector = 4, .no_status = true };
	struct req flush = { .type = VIRTIO_BLK_T_FLUSH, .no_status = true };

	/* do_req() checks that guest memory is unchanged but for the used ring */
	do_req(&out);
	ck_assert_uint_eq(out.used_len, 0);
	do_req(&in);
	ck_assert_uint_eq(in.used_len, 0);
	do_req(&flush);
	ck_assert_uint_eq(flush.used_len, 0);
	check_image();
}
END_TEST

/* --- image locking and opening --- */

static int open2(const char *path, bool ro)
{
	struct blk_opts o = { .path = path, .ro = ro };

	return tg_blk_open(&g, &dev2, &transport2, &o);
}

START_TEST(second_open_fails_while_rw_open)
{
	ck_assert_int_eq(open2(img, false), -1);
	ck_assert_int_eq(open2(img, true), -1);
	blk_close(&dev);
	ck_assert_int_eq(open2(img, false), 0);
	blk_close(&dev2);
}
END_TEST

START_TEST(two_ro_opens_share_the_image)
{
	reopen(true, NULL);
	ck_assert_int_eq(open2(img, true), 0);
	blk_close(&dev2);
	ck_assert_int_eq(open2(img, false), -1); /* rw while a ro user holds it */
	blk_close(&dev);
	ck_assert_int_eq(open2(img, false), 0);
}
END_TEST

START_TEST(open_missing_or_empty_image_fails)
{
	ck_assert_int_eq(open2("/nonexistent/icevmm-no-such-image", false), -1);
	ck_assert_int_eq(open2("/nonexistent/icevmm-no-such-image", true), -1);
	ck_assert_int_eq(tg_image_create(img2, NULL, 0, 0), 0);
	ck_assert_int_eq(open2(img2, false), -1);
	ck_assert_int_eq(open2(img2, true), -1);
	unlink(img2);
	ck_assert_int_eq(tg_image_create(img2, expect, 511, 511), 0); /* less than a sector */
	ck_assert_int_eq(open2(img2, false), -1);
	ck_assert_int_eq(open2("/tmp", true), -1); /* a directory */
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("blk");
	TCase *cfg_tc = tcase_create("config");
	TCase *io = tcase_create("read-write");
	TCase *zero = tcase_create("discard-write-zeroes");
	TCase *bad = tcase_create("malformed");
	TCase *lock = tcase_create("open-lock");
	TCase *all[] = { cfg_tc, io, zero, bad, lock };
	unsigned int i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 30);
		suite_add_tcase(s, all[i]);
	}
	tcase_add_test(cfg_tc, config_space_fields);
	tcase_add_test(cfg_tc, features_of_rw_disk);
	tcase_add_test(cfg_tc, features_of_ro_disk);
	tcase_add_test(cfg_tc, many_queues_fault);
	tcase_add_test(cfg_tc, capacity_ignores_partial_last_sector);

	tcase_add_test(io, in_reads_image_bytes);
	tcase_add_test(io, in_whole_disk_and_last_sector);
	tcase_add_test(io, in_header_split_5_11);
	tcase_add_test(io, in_data_split_at_odd_boundaries);
	tcase_add_test(io, in_status_shares_last_data_desc);
	tcase_add_test(io, in_seg_max_data_descriptors);
	tcase_add_test(io, out_writes_exactly_its_sectors);
	tcase_add_test(io, out_last_sector);
	tcase_add_test(io, out_header_shares_data_desc);
	tcase_add_test(io, out_split_at_odd_boundaries);
	tcase_add_test(io, flush_ok);
	tcase_add_test(io, flush_on_ro_disk_ok);
	tcase_add_test(io, get_id_serial_nul_padded);
	tcase_add_test(io, get_id_used_length_counts_what_is_written);
	tcase_add_test(io, get_id_20_byte_serial_unterminated);
	tcase_add_test(io, get_id_short_buffer_gets_prefix);
	tcase_add_test(io, get_id_long_or_missing_serial);

	tcase_add_test(zero, discard_reads_back_zeroes);
	tcase_add_test(zero, write_zeroes_two_segments);
	tcase_add_test(zero, write_zeroes_unmap);
	tcase_add_test(zero, segments_split_across_descriptors);
	tcase_add_test(zero, discard_16_segments);
	tcase_add_test(zero, discard_with_flags_unsupp);
	tcase_add_test(zero, write_zeroes_reserved_flag_unsupp);
	tcase_add_test(zero, discard_past_capacity_ioerr);
	tcase_add_test(zero, bad_second_segment_applies_nothing);
	tcase_add_test(zero, more_than_16_segments_ioerr);
	tcase_add_test(zero, segment_list_not_whole_segments_ioerr);
	tcase_add_test(zero, write_zeroes_on_ro_disk_ioerr);

	tcase_add_test(bad, in_past_capacity_ioerr);
	tcase_add_test(bad, out_past_capacity_ioerr);
	tcase_add_test(bad, sector_overflow_ioerr);
	tcase_add_test(bad, data_not_sector_multiple_ioerr);
	tcase_add_test(bad, no_data_ioerr);
	tcase_add_test(bad, in_with_readable_data_ioerr);
	tcase_add_test(bad, out_with_writable_data_ioerr);
	tcase_add_test(bad, short_header_ioerr);
	tcase_add_test(bad, out_to_ro_disk_ioerr);
	tcase_add_test(bad, flush_with_data_ioerr);
	tcase_add_test(bad, get_id_malformed);
	tcase_add_test(bad, unknown_type_unsupp);
	tcase_add_test(bad, no_status_byte_nothing_written);

	tcase_add_test(lock, second_open_fails_while_rw_open);
	tcase_add_test(lock, two_ro_opens_share_the_image);
	tcase_add_test(lock, open_missing_or_empty_image_fails);
	return s;
}
