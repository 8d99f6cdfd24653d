// SPDX-License-Identifier: GPL-2.0
/*
 * The disk backend (devices/disk.c) under injected faults, directly and
 * through virtio-blk requests.
 *
 * This binary is linked with -Wl,--wrap for preadv, pwritev, pwrite,
 * fdatasync and fallocate (see the Makefile): every call the code under test
 * makes on the image's file descriptor goes through the fake below, which
 * counts it and plays a script — a short count, EINTR, EIO — before handing
 * the call to the real function. Calls on other descriptors pass through.
 *
 * What "durable" means is from virtio 1.2, 5.2.6: a completed FLUSH makes
 * every write completed before it stable; if FLUSH was offered but not
 * negotiated (and CONFIG_WCE neither), a write is stable once completed.
 */
#include <errno.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../devices/disk.h"
#include "guest.h"
#include "unit.h"

#define SECTORS 64
#define IMG_SIZE (SECTORS * VIRTIO_BLK_SECTOR)
#define QSIZE 64
#define POISON 0xa5
#define BIT(n) (1ULL << (n))

/* --- the fake --- */

enum fake_call { F_PREADV, F_PWRITEV, F_PWRITE, F_FDATASYNC, F_FALLOCATE, F_NCALLS };

struct fake_act {
	int err;    /* fail with this errno ... */
	size_t max; /* ... or transfer at most this many bytes (0: no limit) */
};

#define FAKE_SCRIPT 16
#define FAKE_LOG 64

static struct {
	int fd; /* the descriptor under test; -1: fake nothing */
	struct fake_act script[F_NCALLS][FAKE_SCRIPT];
	unsigned int nscript[F_NCALLS], next[F_NCALLS];
	unsigned int calls[F_NCALLS];
	int falloc_mode[FAKE_LOG]; /* the mode of each fallocate call */
} fake = { .fd = -1 };

ssize_t __real_preadv(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t __real_pwritev(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t __real_pwrite(int fd, const void *buf, size_t len, off_t off);
int __real_fdatasync(int fd);
int __real_fallocate(int fd, int mode, off_t off, off_t len);
ssize_t __wrap_preadv(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t __wrap_pwritev(int fd, const struct iovec *iov, int cnt, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t len, off_t off);
int __wrap_fdatasync(int fd);
int __wrap_fallocate(int fd, int mode, off_t off, off_t len);

static void fake_reset(int fd)
{
	memset(&fake, 0, sizeof(fake));
	fake.fd = fd;
}

/* Script the next call of kind c (after those already scripted). */
static void fake_push(enum fake_call c, int err, size_t max)
{
	ck_assert_uint_lt(fake.nscript[c], FAKE_SCRIPT);
	fake.script[c][fake.nscript[c]++] = (struct fake_act){ .err = err, .max = max };
}

/* Count a call on fd; returns its scripted action, or NULL to pass it through. */
static const struct fake_act *fake_call(enum fake_call c, int fd)
{
	if (fd != fake.fd || fake.fd < 0)
		return NULL;
	fake.calls[c]++;
	if (fake.next[c] == fake.nscript[c])
		return NULL;
	return &fake.script[c][fake.next[c]++];
}

/* The first `max` bytes of iov[0..cnt) in out[]; returns the count of entries. */
static int iov_trim(const struct iovec *iov, int cnt, size_t max, struct iovec *out)
{
	int n = 0;

	for (; cnt > 0 && max; iov++, cnt--) {
		out[n] = *iov;
		if (out[n].iov_len > max)
			out[n].iov_len = max;
		max -= out[n].iov_len;
		n++;
	}
	return n;
}

static ssize_t fake_rw(enum fake_call c, int fd, const struct iovec *iov, int cnt, off_t off)
{
	const struct fake_act *a = fake_call(c, fd);
	struct iovec trimmed[IOV_MAX];

	if (a && a->err) {
		errno = a->err;
		return -1;
	}
	if (a && a->max) {
		ck_assert_int_le(cnt, IOV_MAX);
		cnt = iov_trim(iov, cnt, a->max, trimmed);
		iov = trimmed;
	}
	return c == F_PREADV ? __real_preadv(fd, iov, cnt, off) : __real_pwritev(fd, iov, cnt, off);
}

ssize_t __wrap_preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return fake_rw(F_PREADV, fd, iov, cnt, off);
}

ssize_t __wrap_pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return fake_rw(F_PWRITEV, fd, iov, cnt, off);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	const struct fake_act *a = fake_call(F_PWRITE, fd);

	if (a && a->err) {
		errno = a->err;
		return -1;
	}
	if (a && a->max && len > a->max)
		len = a->max;
	return __real_pwrite(fd, buf, len, off);
}

int __wrap_fdatasync(int fd)
{
	const struct fake_act *a = fake_call(F_FDATASYNC, fd);

	if (a && a->err) {
		errno = a->err;
		return -1;
	}
	return __real_fdatasync(fd);
}

int __wrap_fallocate(int fd, int mode, off_t off, off_t len)
{
	const struct fake_act *a;

	if (fd == fake.fd && fake.calls[F_FALLOCATE] < FAKE_LOG)
		fake.falloc_mode[fake.calls[F_FALLOCATE]] = mode;
	a = fake_call(F_FALLOCATE, fd);
	if (a && a->err) {
		errno = a->err;
		return -1;
	}
	return __real_fallocate(fd, mode, off, len);
}

/* --- fixtures --- */

static char img[TG_PATH_MAX];
static uint8_t expect[IMG_SIZE]; /* what the image must contain */
static struct disk disk;
static struct test_guest g;
static struct blk_dev dev; /* large: static */
static struct virtio_mmio transport;

static uint8_t pattern(size_t i)
{
	return (uint8_t)(1 + (i * 31 + i / VIRTIO_BLK_SECTOR * 7) % 255);
}

static void check_image(void)
{
	long long d = tg_image_diff(img, expect, IMG_SIZE);

	ck_assert_msg(d == -1, "image differs from the expected bytes at offset %lld", d);
}

static void make_image(void)
{
	size_t i;

	for (i = 0; i < IMG_SIZE; i++)
		expect[i] = pattern(i);
	ck_assert_int_eq(tg_image_create(img, expect, IMG_SIZE, IMG_SIZE), 0);
}

static void disk_setup(void)
{
	fake_reset(-1);
	disk.fd = -1;
	make_image();
	ck_assert_int_eq(disk_open(&disk, img, false), 0);
	fake_reset(disk.fd);
}

static void disk_teardown(void)
{
	fake_reset(-1);
	disk_close(&disk);
	unlink(img);
}

/* The disk's transport: the tests compose it with the device (guest.h). */
static struct virtio_mmio *tport(void)
{
	return &transport;
}

static uint64_t offered(void)
{
	uint64_t f;

	tg_write32(tport(), 0x014, 1);
	f = (uint64_t)tg_read32(tport(), 0x010) << 32;
	tg_write32(tport(), 0x014, 0);
	return f | tg_read32(tport(), 0x010);
}

/* (Re)start the driver: a device reset, then everything offered but `without`. */
static void driver_init(uint64_t without)
{
	uint64_t f = offered();

	ck_assert(f & BIT(VIRTIO_BLK_F_FLUSH)); /* offered: write-through needs it offered */
	ck_assert_uint_eq(tg_driver_init(&g, tport(), f & ~without, QSIZE), 0xf);
}

static void blk_setup(void)
{
	fake_reset(-1);
	dev.disk.fd = -1;
	tg_init(&g);
	make_image();
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &(struct blk_opts){ .path = img }), 0);
	driver_init(0);
	fake_reset(dev.disk.fd);
}

static void blk_teardown(void)
{
	fake_reset(-1);
	blk_close(&dev);
	unlink(img);
	tg_fini(&g);
}

/*
 * One request: a 16-byte header, then `out_len` device-readable bytes, or
 * `in_len` device-writable ones (poisoned), then the status byte. Returns the
 * status (POISON if not written); the request must complete with used length
 * used_len.
 */
static uint8_t do_req(uint32_t type, uint64_t sector, const void *out, uint32_t out_len,
		      uint32_t in_len, uint32_t used_len)
{
	struct tg_buf b[3];
	unsigned int n = 0;
	uint32_t id, len;
	uint16_t head;
	uint8_t *h, *status;

	b[n] = (struct tg_buf){ .gpa = tg_alloc(&g, 16, 16), .len = 16 };
	h = tg_ptr(&g, b[n++].gpa);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	if (out_len) {
		b[n] = (struct tg_buf){ .gpa = tg_alloc(&g, out_len, 16), .len = out_len };
		memcpy(tg_ptr(&g, b[n++].gpa), out, out_len);
	}
	if (in_len) {
		b[n] = (struct tg_buf){ .gpa = tg_alloc(&g, in_len, 16), .len = in_len };
		b[n].writable = true;
		memset(tg_ptr(&g, b[n++].gpa), POISON, in_len);
	}
	b[n] = (struct tg_buf){ .gpa = tg_alloc(&g, 1, 1), .len = 1, .writable = true };
	status = tg_ptr(&g, b[n++].gpa);
	*status = POISON;
	head = tg_submit(&g, tport(), b, n);
	ck_assert_msg(tg_get_used(&g, &id, &len), "the request was not completed");
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, used_len);
	ck_assert_msg(!tg_get_used(&g, &id, &len), "one request, two used elements");
	return *status;
}

static uint8_t flush(void)
{
	return do_req(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0, 1);
}

/* OUT of n bytes at sector; on OK the image must hold them. */
static uint8_t write_sectors(uint64_t sector, uint32_t n, uint8_t seed)
{
	static uint8_t data[8 * VIRTIO_BLK_SECTOR];
	uint8_t status;
	uint32_t i;

	ck_assert_uint_le(n, sizeof(data));
	for (i = 0; i < n; i++)
		data[i] = (uint8_t)(seed + i * 13);
	status = do_req(VIRTIO_BLK_T_OUT, sector, data, n, 0, 1);
	if (status == VIRTIO_BLK_S_OK)
		memcpy(expect + sector * VIRTIO_BLK_SECTOR, data, n);
	return status;
}

/* One DISCARD or WRITE_ZEROES segment. */
static uint8_t zero_req(uint32_t type, uint64_t sector, uint32_t num, uint32_t flags)
{
	uint8_t seg[16];

	memcpy(seg, &sector, 8);
	memcpy(seg + 8, &num, 4);
	memcpy(seg + 12, &flags, 4);
	return do_req(type, 0, seg, sizeof(seg), 0, 1);
}

/* --- disk_rw: short counts, EINTR, EIO --- */

START_TEST(read_short_counts_continued)
{
	static uint8_t a[700], b[1], c[1347]; /* 2048 bytes at odd boundaries */
	struct iovec iov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	const size_t off = 3 * VIRTIO_BLK_SECTOR;

	fake_push(F_PREADV, 0, 1);   /* ends inside a */
	fake_push(F_PREADV, 0, 699); /* ends exactly at a's end */
	fake_push(F_PREADV, 0, 2);   /* all of b, one byte of c */
	ck_assert_int_eq(disk_rw(&disk, iov, 3, off, false), 0);
	ck_assert_uint_eq(fake.calls[F_PREADV], 4);
	ck_assert_mem_eq(a, expect + off, sizeof(a));
	ck_assert_mem_eq(b, expect + off + 700, 1);
	ck_assert_mem_eq(c, expect + off + 701, sizeof(c));
}
END_TEST

START_TEST(write_short_counts_continued)
{
	static uint8_t a[513], c[1535];
	struct iovec iov[2] = { { a, sizeof(a) }, { c, sizeof(c) } };
	const size_t off = 5 * VIRTIO_BLK_SECTOR;

	memset(a, 0x11, sizeof(a));
	memset(c, 0x22, sizeof(c));
	fake_push(F_PWRITEV, 0, 512);
	fake_push(F_PWRITEV, 0, 1);
	fake_push(F_PWRITEV, 0, 1000);
	ck_assert_int_eq(disk_rw(&disk, iov, 2, off, true), 0);
	ck_assert_uint_eq(fake.calls[F_PWRITEV], 4);
	memset(expect + off, 0x11, sizeof(a));
	memset(expect + off + sizeof(a), 0x22, sizeof(c));
	check_image();
	ck_assert_int_eq(disk_flush(&disk), 0); /* short counts are no error */
}
END_TEST

START_TEST(rw_eintr_retried)
{
	static uint8_t buf[1024];

	fake_push(F_PREADV, EINTR, 0);
	fake_push(F_PREADV, 0, 100);
	fake_push(F_PREADV, EINTR, 0);
	ck_assert_int_eq(disk_pio(&disk, buf, sizeof(buf), 512, false), 0);
	ck_assert_uint_eq(fake.calls[F_PREADV], 4);
	ck_assert_mem_eq(buf, expect + 512, sizeof(buf));

	memset(buf, 0x5c, sizeof(buf));
	fake_push(F_PWRITEV, EINTR, 0);
	fake_push(F_PWRITEV, EINTR, 0);
	ck_assert_int_eq(disk_pio(&disk, buf, sizeof(buf), 4096, true), 0);
	ck_assert_uint_eq(fake.calls[F_PWRITEV], 3);
	memset(expect + 4096, 0x5c, sizeof(buf));
	check_image();
	ck_assert_int_eq(disk_flush(&disk), 0); /* EINTR is no error */
}
END_TEST

START_TEST(rw_eio_fails_with_errno)
{
	static uint8_t buf[2048];

	fake_push(F_PREADV, 0, 512);
	fake_push(F_PREADV, EIO, 0);
	errno = 0;
	ck_assert_int_eq(disk_pio(&disk, buf, sizeof(buf), 0, false), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_uint_eq(fake.calls[F_PREADV], 2); /* no retry of a real error */

	fake_push(F_PWRITEV, ENOSPC, 0);
	errno = 0;
	ck_assert_int_eq(disk_pio(&disk, buf, sizeof(buf), 0, true), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_uint_eq(fake.calls[F_PWRITEV], 1);
}
END_TEST

START_TEST(read_past_end_of_file_fails)
{
	static uint8_t buf[1024];

	ck_assert_int_eq(ftruncate(disk.fd, IMG_SIZE - 512), 0); /* the image shrank */
	errno = 0;
	ck_assert_int_eq(disk_pio(&disk, buf, sizeof(buf), IMG_SIZE - 1024, false), -1);
	ck_assert_int_eq(errno, EIO);
}
END_TEST

/* --- disk_flush --- */

START_TEST(flush_eintr_retried)
{
	fake_push(F_FDATASYNC, EINTR, 0);
	fake_push(F_FDATASYNC, EINTR, 0);
	ck_assert_int_eq(disk_flush(&disk), 0);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 3);
	ck_assert_int_eq(disk_flush(&disk), 0);
}
END_TEST

START_TEST(flush_failure_is_sticky)
{
	fake_push(F_FDATASYNC, EIO, 0);
	ck_assert_int_eq(disk_flush(&disk), -1);
	/* fdatasync would succeed now (Linux reports a writeback error once): still failed */
	ck_assert_int_eq(disk_flush(&disk), -1);
	ck_assert_int_eq(disk_flush(&disk), -1);
}
END_TEST

START_TEST(failed_write_poisons_flush)
{
	static uint8_t buf[512];

	fake_push(F_PWRITEV, 0, 100);
	fake_push(F_PWRITEV, EIO, 0); /* after part of it reached the page cache */
	ck_assert_int_eq(disk_pio(&disk, buf, sizeof(buf), 0, true), -1);
	ck_assert_int_eq(disk_flush(&disk), -1);
}
END_TEST

START_TEST(failed_read_does_not_poison_flush)
{
	static uint8_t buf[512];

	fake_push(F_PREADV, EIO, 0);
	ck_assert_int_eq(disk_pio(&disk, buf, sizeof(buf), 0, false), -1);
	ck_assert_int_eq(disk_flush(&disk), 0);
}
END_TEST

/* --- disk_zero_range --- */

START_TEST(zero_range_fallocate_eintr_retried)
{
	fake_push(F_FALLOCATE, EINTR, 0);
	ck_assert_int_eq(disk_zero_range(&disk, 4096, 8192, false, true), 0);
	/* the same punch again, not the next fallback */
	ck_assert_uint_eq(fake.calls[F_FALLOCATE], 2);
	ck_assert_int_eq(fake.falloc_mode[0], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	ck_assert_int_eq(fake.falloc_mode[1], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	ck_assert_uint_eq(fake.calls[F_PWRITE], 0);
	memset(expect + 4096, 0, 8192);
	check_image();
}
END_TEST

START_TEST(zero_range_slow_path_short_and_eintr)
{
	fake_push(F_FALLOCATE, EOPNOTSUPP, 0); /* zero range */
	fake_push(F_PWRITE, 0, 1);
	fake_push(F_PWRITE, EINTR, 0);
	fake_push(F_PWRITE, 0, 1000);
	ck_assert_int_eq(disk_zero_range(&disk, 1024, 3 * 512, false, false), 0);
	ck_assert_uint_eq(fake.calls[F_FALLOCATE], 1);
	ck_assert_int_eq(fake.falloc_mode[0], FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
	ck_assert_uint_eq(fake.calls[F_PWRITE], 4);
	memset(expect + 1024, 0, 3 * 512);
	check_image();
	ck_assert_int_eq(disk_flush(&disk), 0);
}
END_TEST

START_TEST(zero_range_failure_poisons_flush)
{
	fake_push(F_FALLOCATE, EOPNOTSUPP, 0);
	fake_push(F_PWRITE, EIO, 0);
	ck_assert_int_eq(disk_zero_range(&disk, 0, 512, false, false), -1);
	ck_assert_int_eq(disk_flush(&disk), -1);
}
END_TEST

START_TEST(discard_never_fails)
{
	fake_push(F_FALLOCATE, EIO, 0);
	ck_assert_int_eq(disk_zero_range(&disk, 0, 4096, true, false), 0);
	ck_assert_uint_eq(fake.calls[F_FALLOCATE], 1);
	ck_assert_uint_eq(fake.calls[F_PWRITE], 0);
	check_image();
	ck_assert_int_eq(disk_flush(&disk), 0);
}
END_TEST

/* --- through virtio-blk: FLUSH --- */

START_TEST(blk_flush_eintr_ok)
{
	fake_push(F_FDATASYNC, EINTR, 0);
	ck_assert_uint_eq(flush(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 2);
}
END_TEST

START_TEST(blk_flush_error_is_sticky)
{
	ck_assert_uint_eq(write_sectors(2, 512, 1), VIRTIO_BLK_S_OK);
	fake_push(F_FDATASYNC, EIO, 0);
	ck_assert_uint_eq(flush(), VIRTIO_BLK_S_IOERR);
	/* The next fdatasync returns 0 (the error was reported once): the data is still lost. */
	ck_assert_uint_eq(flush(), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(write_sectors(3, 512, 2), VIRTIO_BLK_S_OK); /* writes still work */
	ck_assert_uint_eq(flush(), VIRTIO_BLK_S_IOERR);
	check_image();
}
END_TEST

START_TEST(blk_flush_error_survives_reset)
{
	fake_push(F_FDATASYNC, EIO, 0);
	ck_assert_uint_eq(flush(), VIRTIO_BLK_S_IOERR);
	driver_init(0); /* Status = 0, then the whole initialisation again */
	ck_assert_uint_eq(flush(), VIRTIO_BLK_S_IOERR);
	driver_init(BIT(VIRTIO_BLK_F_FLUSH)); /* a write-through driver gets no durability either */
	ck_assert_uint_eq(write_sectors(0, 512, 3), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(blk_failed_write_poisons_flush)
{
	fake_push(F_PWRITEV, 0, 512);
	fake_push(F_PWRITEV, EIO, 0);
	ck_assert_uint_eq(write_sectors(4, 1024, 4), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(flush(), VIRTIO_BLK_S_IOERR);
}
END_TEST

/* --- through virtio-blk: write-through without FLUSH --- */

START_TEST(blk_write_through_syncs_before_completing)
{
	driver_init(BIT(VIRTIO_BLK_F_FLUSH));
	ck_assert_uint_eq(write_sectors(6, 1024, 5), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 1);
	ck_assert_uint_eq(fake.calls[F_PWRITEV], 1);
	check_image();
	/* WRITE_ZEROES is a write: reads must return zeroes after it (5.2.6.2) */
	ck_assert_uint_eq(zero_req(VIRTIO_BLK_T_WRITE_ZEROES, 8, 2, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 2);
	memset(expect + 8 * VIRTIO_BLK_SECTOR, 0, 2 * VIRTIO_BLK_SECTOR);
	/* Reads and discards (whose data is undefined afterwards) need no sync */
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, 0, NULL, 0, 512, 513), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(zero_req(VIRTIO_BLK_T_DISCARD, 16, 8, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 2);
}
END_TEST

START_TEST(blk_write_through_sync_error_ioerr)
{
	driver_init(BIT(VIRTIO_BLK_F_FLUSH));
	fake_push(F_FDATASYNC, EIO, 0);
	ck_assert_uint_eq(write_sectors(6, 512, 6), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 1);
	/* sticky: fdatasync would succeed now */
	ck_assert_uint_eq(write_sectors(7, 512, 7), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(zero_req(VIRTIO_BLK_T_WRITE_ZEROES, 8, 1, 0), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(blk_write_through_eintr_ok)
{
	driver_init(BIT(VIRTIO_BLK_F_FLUSH));
	fake_push(F_PWRITEV, EINTR, 0);
	fake_push(F_PWRITEV, 0, 3);
	fake_push(F_FDATASYNC, EINTR, 0);
	ck_assert_uint_eq(write_sectors(1, 2048, 8), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake.calls[F_PWRITEV], 3);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 2);
	check_image();
}
END_TEST

/* --- an ICE disk (AES-256-XTS, 4 KiB data units, one host slot) under short reads --- */

#define ICE_DU 4096

static struct ice_store store;
static uint8_t ice_key[64];

static void ice_setup(void)
{
	const char *why;

	for (unsigned int i = 0; i < sizeof(ice_key); i++)
		ice_key[i] = (uint8_t)(i * 5 + 3);
	ck_assert_int_eq(ice_global_init(ice_secmem_size(1)), 0);
	ck_assert_int_eq(ice_store_init(&store, ICE_ALG_AES_XTS, ICE_KEY_256, 1u << 3, 1, 0), 0);
	ck_assert_int_eq(ice_slot_load(&store, 0, ice_key, sizeof(ice_key), ICE_DU, &why), 0);
	fake_reset(-1);
	dev.disk.fd = -1;
	tg_init(&g);
	make_image();
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport,
				     &(struct blk_opts){ .path = img, .ice = &store }),
			 0);
	driver_init(0);
	fake_reset(dev.disk.fd);
}

static void ice_teardown(void)
{
	blk_teardown();
	ice_store_free(&store);
}

/* What an ICE read of the image's bytes [off, off + len) must return: libgcrypt alone. */
static void ice_expect_plain(uint64_t off, uint32_t len, uint8_t *out)
{
	gcry_cipher_hd_t h;
	uint8_t iv[16] = { 0 };

	ck_assert_int_eq(gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_XTS, 0), 0);
	ck_assert_int_eq(gcry_cipher_setkey(h, ice_key, sizeof(ice_key)), 0);
	for (uint32_t u = 0; u < len; u += ICE_DU) {
		uint64_t dun = (off + u) / ICE_DU; /* little-endian host, like the IV */

		memcpy(iv, &dun, 8);
		ck_assert_int_eq(gcry_cipher_setiv(h, iv, 16), 0);
		ck_assert_int_eq(gcry_cipher_decrypt(h, out + u, ICE_DU, expect + off + u, ICE_DU),
				 0);
	}
	gcry_cipher_close(h);
}

/*
 * An ICE IN of `len` bytes at byte offset off (DUN off / 4 KiB, slot 0) into
 * one guest buffer with `guard` poisoned bytes after it, which must stay
 * untouched; the status must be OK and the data the plaintext.
 */
static void ice_read_one_buffer(uint64_t off, uint32_t len, uint32_t guard)
{
	static uint8_t want[2 * ICE_DU];
	uint64_t sector = off / VIRTIO_BLK_SECTOR, dun = off / ICE_DU;
	uint32_t type = VIRTIO_BLK_T_IN, id, used;
	struct tg_buf b[3];
	uint8_t *h, *data;

	ck_assert_uint_le(len, sizeof(want));
	b[0] = (struct tg_buf){ .gpa = tg_alloc(&g, 32, 16), .len = 32 };
	h = tg_ptr(&g, b[0].gpa);
	memset(h, 0, 32);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	h[17] = 1; /* activate, slot 0 */
	memcpy(h + 24, &dun, 8);
	b[1] = (struct tg_buf){ .gpa = tg_alloc(&g, len + guard, 16),
				.len = len,
				.writable = true };
	data = tg_ptr(&g, b[1].gpa);
	memset(data, POISON, len + guard);
	b[2] = (struct tg_buf){ .gpa = tg_alloc(&g, 1, 1), .len = 1, .writable = true };
	*(uint8_t *)tg_ptr(&g, b[2].gpa) = POISON;
	tg_submit(&g, tport(), b, 3);
	ck_assert(tg_get_used(&g, &id, &used));
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, b[2].gpa), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, len + 1);
	ice_expect_plain(off, len, want);
	ck_assert_mem_eq(data, want, len);
	for (uint32_t i = 0; i < guard; i++)
		ck_assert_msg(data[len + i] == POISON, "byte %u after the buffer was written", i);
}

/*
 * The ciphertext lands in the guest's buffer in several short reads
 * (disk_rw continues them, moving its iovec on): the decryption must still
 * start at the buffer's first byte, and not one byte after the buffer changes.
 */
START_TEST(blk_ice_read_short_counts)
{
	fake_push(F_PREADV, 0, 1000); /* ends inside the first data unit */
	fake_push(F_PREADV, 0, 4000); /* ends inside the second */
	ice_read_one_buffer(2 * ICE_DU, 2 * ICE_DU, 4096);
	ck_assert_uint_eq(fake.calls[F_PREADV], 3);
	ice_read_one_buffer(ICE_DU, ICE_DU, 4096); /* and a whole read after it */
}
END_TEST

START_TEST(blk_write_back_does_not_sync)
{
	ck_assert_uint_eq(write_sectors(6, 1024, 9), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(zero_req(VIRTIO_BLK_T_WRITE_ZEROES, 8, 2, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 0);
	ck_assert_uint_eq(flush(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(fake.calls[F_FDATASYNC], 1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("disk");
	TCase *rw = tcase_create("disk");
	TCase *blk = tcase_create("virtio-blk");
	TCase *ice = tcase_create("virtio-blk ICE");

	tcase_add_checked_fixture(rw, disk_setup, disk_teardown);
	tcase_add_checked_fixture(blk, blk_setup, blk_teardown);
	tcase_set_timeout(rw, 30);
	tcase_set_timeout(blk, 30);
	suite_add_tcase(s, rw);
	suite_add_tcase(s, blk);

	tcase_add_test(rw, read_short_counts_continued);
	tcase_add_test(rw, write_short_counts_continued);
	tcase_add_test(rw, rw_eintr_retried);
	tcase_add_test(rw, rw_eio_fails_with_errno);
	tcase_add_test(rw, read_past_end_of_file_fails);
	tcase_add_test(rw, flush_eintr_retried);
	tcase_add_test(rw, flush_failure_is_sticky);
	tcase_add_test(rw, failed_write_poisons_flush);
	tcase_add_test(rw, failed_read_does_not_poison_flush);
	tcase_add_test(rw, zero_range_fallocate_eintr_retried);
	tcase_add_test(rw, zero_range_slow_path_short_and_eintr);
	tcase_add_test(rw, zero_range_failure_poisons_flush);
	tcase_add_test(rw, discard_never_fails);

	tcase_add_test(blk, blk_flush_eintr_ok);
	tcase_add_test(blk, blk_flush_error_is_sticky);
	tcase_add_test(blk, blk_flush_error_survives_reset);
	tcase_add_test(blk, blk_failed_write_poisons_flush);
	tcase_add_test(blk, blk_write_through_syncs_before_completing);
	tcase_add_test(blk, blk_write_through_sync_error_ioerr);
	tcase_add_test(blk, blk_write_through_eintr_ok);
	tcase_add_test(blk, blk_write_back_does_not_sync);

	tcase_add_checked_fixture(ice, ice_setup, ice_teardown);
	tcase_set_timeout(ice, 30);
	suite_add_tcase(s, ice);
	tcase_add_test(ice, blk_ice_read_short_counts);
	return s;
}
