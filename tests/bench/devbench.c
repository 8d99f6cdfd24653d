// SPDX-License-Identifier: GPL-2.0
/*
 * Device-path throughput of virtio-blk, plain and with ICE, measured against
 * the work that cannot be avoided, in the same process and the same run:
 *   I/O only:     preadv/pwritev of the same bytes at the same offsets
 *   cipher only:  libgcrypt AES-256-XTS over the same bytes, 4 KiB units
 * Requests go through the transport's QueueNotify entry point exactly as a
 * vCPU exit delivers them (fake guest memory, tests/unit/guest.c), to an
 * image in /dev/shm. overhead = device time / (cipher-only + I/O-only).
 *
 * Each row is measured in ROUNDS rounds, device and reference back to back
 * within a round (so machine noise hits both), the device first in even
 * rounds and second in odd ones, each run on image data the previous run did
 * not touch (next_req), and the median round is reported. Output: one JSON
 * object per line on stdout:
 *   {"name": ..., "value": us/request, "unit": "us/request",
 *    "reference": us/request, "ratio": overhead}
 *
 * Then the key queue of a guest-programmed disk (VIRTIO_BLK_F_ICE_KEYQ), the
 * same way: PROGRAM and EVICT commands one at a time through queue 1, against
 * libgcrypt's own work for them (keyq_bench.h), in us/command.
 */
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../unit/guest.h"
#include "keyq_bench.h"

#define IMAGE_BYTES (64u << 20)
#define DU 4096
#define ROUNDS 7
#define MAX_QD 32
#define QSIZE 256	  /* a power of two: the driver wraps its ring index with a mask */
#define KQ_COMMANDS 16384 /* per round, a multiple of KQB_SLOTS */

static struct test_guest g;
static struct blk_dev dev;
static struct virtio_mmio transport;
static struct ice_store store;
static uint8_t key[64];
static int image_fd;
static gcry_cipher_hd_t ref_cipher;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

struct req {
	uint64_t hdr, data, status; /* guest addresses */
	uint8_t *h, *st;	    /* the header and the status byte, as the host sees them */
};

static struct req reqs[MAX_QD];

/*
 * The fake driver keeps request i's chain (header, data, status) in
 * descriptors 3i..3i+2 and writes them once per row, as a driver with
 * preallocated descriptors would; per request it only fills in the header's
 * sector and DUN, arms the status byte and publishes the head. Building
 * requests is the guest's work, not the device's: kept this small, the
 * device time is the device's (docs/PERFORMANCE.md).
 */
static void prepare_chains(bool ice, bool write, uint32_t size)
{
	uint32_t type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	uint16_t d;

	for (unsigned int i = 0; i < MAX_QD; i++) {
		struct req *r = &reqs[i];

		d = (uint16_t)(3 * i);
		tg_desc(&g, 0, d, r->hdr, ice ? 32 : 16, VIRTQ_DESC_F_NEXT, d + 1);
		tg_desc(&g, 0, d + 1, r->data, size,
			VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE), d + 2);
		tg_desc(&g, 0, d + 2, r->status, 1, VIRTQ_DESC_F_WRITE, 0);
		r->h = tg_ptr(&g, r->hdr);
		r->st = tg_ptr(&g, r->status);
		memset(r->h, 0, 32);
		memcpy(r->h, &type, 4);
		r->h[16] = 0;	/* slot */
		r->h[17] = ice; /* activate */
	}
}

/*
 * Where in the image the next run starts, device or reference alike: each
 * run goes on from where the last one stopped, so neither side reads what
 * the other has just brought into the host's caches. (When both started at
 * offset 0, whichever ran second in a round found the first one's 16 MiB
 * still in the CPU's last-level cache: ice_read_4k measured 1.102 with the
 * device first, 1.078 with the reference first.)
 */
static uint64_t next_req;

/* The image offset of request n of a run that started at `first`. */
static uint64_t req_offset(uint64_t first, uint64_t n, uint32_t size)
{
	return (first + n) % (IMAGE_BYTES / size) * size;
}

/* count requests of `size` bytes, qd at a time, through the device. */
static double run_device(bool ice, bool write, uint32_t size, unsigned int qd, unsigned int count)
{
	uint64_t first = next_req, n = 0;
	uint8_t *avail = tg_ptr(&g, g.avail), *used = tg_ptr(&g, g.used);
	uint16_t mask = (uint16_t)(g.num - 1), used_idx;
	double t0;

	prepare_chains(ice, write, size);
	t0 = now_us();
	while (n < count) {
		unsigned int i;

		for (i = 0; i < qd; i++, n++) {
			uint64_t off = req_offset(first, n, size), sector = off / 512,
				 dun = off / DU;
			uint16_t head = (uint16_t)(3 * i);

			memcpy(reqs[i].h + 8, &sector, 8);
			memcpy(reqs[i].h + 24, &dun, 8);
			*reqs[i].st = 0xff;
			memcpy(avail + 4 + 2 * ((g.avail_idx + i) & mask), &head, 2);
		}
		g.avail_idx = (uint16_t)(g.avail_idx + qd);
		memcpy(avail + 2, &g.avail_idx, 2);
		tg_kick(&transport);
		memcpy(&used_idx, used + 2, 2);
		for (i = 0; i < qd; i++)
			if (*reqs[i].st != 0)
				break;
		if (used_idx != g.avail_idx || i < qd) {
			fprintf(stderr, "devbench: request failed\n");
			exit(1);
		}
		g.used_seen = used_idx;
		tg_write32(&transport, 0x064, 1); /* InterruptACK */
		tg_set_used_event(&g, g.used_seen);
	}
	next_req = first + count;
	return (now_us() - t0) / count;
}

/*
 * The same bytes, in the same guest buffers, with nothing but the syscalls
 * and the cipher.
 */
static double run_reference(bool ice, bool write, uint32_t size, unsigned int qd,
			    unsigned int count)
{
	uint64_t first = next_req, n;
	uint8_t iv[16] = { 0 };
	double t0 = now_us();

	for (n = 0; n < count; n++) {
		uint64_t off = req_offset(first, n, size), dun = off / DU;
		uint8_t *buf = tg_ptr(&g, reqs[n % qd].data);
		struct iovec iov = { buf, size };
		ssize_t r;

		if (!write)
			r = preadv(image_fd, &iov, 1, (off_t)off);
		for (uint32_t u = 0; ice && u < size; u += DU, dun++) {
			memcpy(iv, &dun, 8);
			gcry_cipher_setiv(ref_cipher, iv, 16);
			if (write)
				gcry_cipher_encrypt(ref_cipher, buf + u, DU, NULL, 0);
			else
				gcry_cipher_decrypt(ref_cipher, buf + u, DU, NULL, 0);
		}
		if (write)
			r = pwritev(image_fd, &iov, 1, (off_t)off);
		if (r != (ssize_t)size) {
			fprintf(stderr, "devbench: reference I/O failed\n");
			exit(1);
		}
	}
	next_req = first + count;
	return (now_us() - t0) / count;
}

/* Raw libgcrypt AES-256-XTS alone over size bytes in 4 KiB units: us per request. */
static void cipher_only_row(uint32_t size)
{
	unsigned int count = size >= (64u << 10) ? 256 : 4096, n;
	uint8_t *buf = tg_ptr(&g, reqs[0].data), iv[16] = { 0 };
	double t0 = now_us(), us;

	for (n = 0; n < count; n++) {
		for (uint32_t u = 0; u < size; u += DU) {
			uint64_t dun = (uint64_t)n * (size / DU) + u / DU;

			memcpy(iv, &dun, 8);
			gcry_cipher_setiv(ref_cipher, iv, 16);
			gcry_cipher_encrypt(ref_cipher, buf + u, DU, NULL, 0);
		}
	}
	us = (now_us() - t0) / count;
	printf("{\"name\": \"aes256xts_cipher_only_%uk\", \"value\": %.2f, "
	       "\"unit\": \"us/request\", \"reference\": null, \"ratio\": null}\n",
	       size >> 10, us);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The rows whose name contains this (devbench's argument); NULL: every row. */
static const char *only;

static void row(bool ice, bool write, uint32_t size, unsigned int qd)
{
	unsigned int count = size >= (64u << 10) ? 256 : 4096, r, mid = ROUNDS / 2;
	double dev_us[ROUNDS], ref_us[ROUNDS], ratio[ROUNDS], sorted[ROUNDS];
	char name[64];

	snprintf(name, sizeof(name), "%s_%s_%uk_overhead%s", ice ? "ice" : "blk",
		 write ? "write" : "read", size >> 10, qd > 1 ? "_qd32" : "");
	if (only && !strstr(name, only))
		return;
	count = count / qd * qd;
	for (r = 0; r < ROUNDS; r++) {
		/* Which side goes first alternates: whichever ran second gained (docs/PERFORMANCE.md). */
		if (r % 2)
			ref_us[r] = run_reference(ice, write, size, qd, count);
		dev_us[r] = run_device(ice, write, size, qd, count);
		if (!(r % 2))
			ref_us[r] = run_reference(ice, write, size, qd, count);
		ratio[r] = dev_us[r] / ref_us[r];
	}
	memcpy(sorted, ratio, sizeof(sorted));
	qsort(sorted, ROUNDS, sizeof(double), cmp_double);
	for (r = 0; r < ROUNDS && ratio[r] != sorted[mid]; r++)
		;
	printf("{\"name\": \"%s\", \"value\": %.2f, \"unit\": \"us/request\", "
	       "\"reference\": %.2f, \"ratio\": %.3f}\n",
	       name, dev_us[r], ref_us[r], ratio[r]);
	fflush(stdout);
}

static void setup(bool ice)
{
	char path[] = "/dev/shm/icevmm-devbench-XXXXXX";
	/* FLUSH, as Linux negotiates it: else every write is write-through (fdatasync). */
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_EVENT_IDX |
			    1ULL << VIRTIO_BLK_F_FLUSH | (ice ? 1ULL << VIRTIO_BLK_F_ICE : 0);
	uint8_t *fill = malloc(1 << 20);
	unsigned int i;

	image_fd = mkstemp(path);
	if (image_fd < 0 || !fill)
		exit(1);
	/* A populated image: reads must not be served from holes. */
	memset(fill, 0xa5, 1 << 20);
	for (i = 0; i < IMAGE_BYTES >> 20; i++)
		if (pwrite(image_fd, fill, 1 << 20, (off_t)i << 20) != 1 << 20)
			exit(1);
	free(fill);
	tg_init(&g);
	if (tg_blk_open(&g, &dev, &transport,
			&(struct blk_opts){ .path = path, .ice = ice ? &store : NULL }) < 0)
		exit(1);
	unlink(path);
	if (!(tg_driver_init(&g, &transport, features, QSIZE) & 4))
		exit(1);
	for (i = 0; i < MAX_QD; i++) {
		reqs[i].hdr = tg_alloc(&g, 32, 16);
		reqs[i].data = tg_alloc(&g, 128 << 10, 4096);
		reqs[i].status = tg_alloc(&g, 1, 1);
	}
}

static void teardown(void)
{
	blk_close(&dev);
	close(image_fd);
	tg_fini(&g);
}

/*
 * The key queue: a guest-programmed disk (the default engine of `--disk
 * PATH,ice`) with every slot loaded, so each PROGRAM replaces a key, as in a
 * busy keyslot manager (Linux's blk-crypto reprograms its least recently used
 * slot without evicting it first).
 */
static struct ice_store gp_store;
static struct kqb kq;

static void keyq_setup(void)
{
	char path[] = "/dev/shm/icevmm-devbench-XXXXXX";
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_EVENT_IDX |
			    1ULL << VIRTIO_BLK_F_ICE | 1ULL << VIRTIO_BLK_F_ICE_KEYQ;

	image_fd = mkstemp(path);
	if (image_fd < 0 || ftruncate(image_fd, 1 << 20) < 0 ||
	    ice_store_init(&gp_store, ICE_ALG_AES_XTS, ICE_KEY_256, KQB_DU_MASK, KQB_SLOTS, 0))
		exit(1);
	gp_store.guest_keys = true;
	tg_init(&g);
	if (tg_blk_open(&g, &dev, &transport,
			&(struct blk_opts){ .path = path, .ice = &gp_store }) < 0)
		exit(1);
	unlink(path);
	if (!(tg_driver_init(&g, &transport, features, QSIZE) & 4))
		exit(1);
	kqb_attach(&kq, &g, &transport);
	for (unsigned int s = 0; s < KQB_SLOTS; s++)
		kqb_send(&kq, &transport, ICE_KEYQ_OP_PROGRAM, s, s);
}

static void keyq_teardown(void)
{
	blk_close(&dev);
	ice_store_free(&gp_store);
	close(image_fd);
	tg_fini(&g);
}

/* count PROGRAMs through the device, slot after slot: us per command. */
static double program_device(unsigned int count)
{
	double t0 = now_us();

	for (unsigned int n = 0; n < count; n++)
		kqb_send(&kq, &transport, ICE_KEYQ_OP_PROGRAM, n % KQB_SLOTS, n);
	return (now_us() - t0) / count;
}

/* Its floor: a handle keyed with the new key, and the replaced one closed (wiped). */
static double program_floor(unsigned int count)
{
	gcry_cipher_hd_t old = kqb_keyed(0);
	double t0 = now_us();

	for (unsigned int n = 0; n < count; n++) {
		gcry_cipher_hd_t h = kqb_keyed(n);

		gcry_cipher_close(old);
		old = h;
	}
	t0 = (now_us() - t0) / count;
	gcry_cipher_close(old);
	return t0;
}

/* count EVICTs of loaded slots (each batch loaded directly, untimed): us per command. */
static double evict_device(unsigned int count)
{
	double us = 0, t0;

	for (unsigned int n = 0; n < count; n += KQB_SLOTS) {
		for (unsigned int s = 0; s < KQB_SLOTS; s++) {
			uint8_t k[64];

			kqb_key(k, n + s);
			if (ice_slot_program(&gp_store, s, k, sizeof(k), 4096))
				exit(1);
		}
		t0 = now_us();
		for (unsigned int s = 0; s < KQB_SLOTS; s++)
			kqb_send(&kq, &transport, ICE_KEYQ_OP_EVICT, s, 0);
		us += now_us() - t0;
	}
	return us / count;
}

/* Its floor: closing (wiping) a keyed handle. */
static double evict_floor(unsigned int count)
{
	gcry_cipher_hd_t h[KQB_SLOTS];
	double us = 0, t0;

	for (unsigned int n = 0; n < count; n += KQB_SLOTS) {
		for (unsigned int s = 0; s < KQB_SLOTS; s++)
			h[s] = kqb_keyed(n + s);
		t0 = now_us();
		for (unsigned int s = 0; s < KQB_SLOTS; s++)
			gcry_cipher_close(h[s]);
		us += now_us() - t0;
	}
	return us / count;
}

/* A key-queue row and its floor's own row, median round as in row(). */
static void keyq_row(const char *name, const char *floor_name, double (*device)(unsigned int),
		     double (*floor)(unsigned int))
{
	double dev_us[ROUNDS], ref_us[ROUNDS], ratio[ROUNDS], sorted[ROUNDS];
	unsigned int r, mid = ROUNDS / 2;

	for (r = 0; r < ROUNDS; r++) {
		dev_us[r] = device(KQ_COMMANDS);
		ref_us[r] = floor(KQ_COMMANDS);
		ratio[r] = dev_us[r] / ref_us[r];
	}
	memcpy(sorted, ratio, sizeof(sorted));
	qsort(sorted, ROUNDS, sizeof(double), cmp_double);
	for (r = 0; r < ROUNDS && ratio[r] != sorted[mid]; r++)
		;
	printf("{\"name\": \"%s\", \"value\": %.2f, \"unit\": \"us/command\", "
	       "\"reference\": %.2f, \"ratio\": %.3f}\n",
	       name, dev_us[r], ref_us[r], ratio[r]);
	printf("{\"name\": \"%s\", \"value\": %.2f, \"unit\": \"us/command\", "
	       "\"reference\": null, \"ratio\": null}\n",
	       floor_name, ref_us[r]);
	fflush(stdout);
}

/*
 * `devbench`: every row; `devbench keyq`: the key-queue rows alone;
 * `devbench TEXT`: the device-path rows whose name contains TEXT (e.g.
 * `devbench ice_read_4k_overhead`), to compare two builds quickly.
 */
int main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 4096, 128 << 10 };
	bool keyq_only = argc > 1 && !strcmp(argv[1], "keyq");
	const char *why;
	unsigned int i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	/* One host slot; a guest-programmed store's worst case; the floors' handles. */
	if (ice_global_init(ice_secmem_size(1 + ice_secmem_keys(KQB_SLOTS, 1) + KQB_SLOTS)) ||
	    ice_store_init(&store, ICE_ALG_AES_XTS, ICE_KEY_256, 1u << 3, 1, 0) ||
	    ice_slot_load(&store, 0, key, sizeof(key), DU, &why) ||
	    gcry_cipher_open(&ref_cipher, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_XTS, 0) ||
	    gcry_cipher_setkey(ref_cipher, key, sizeof(key)))
		return 1;
	if (argc > 1 && !keyq_only)
		only = argv[1];
	for (int ice = 0; ice < 2 && !keyq_only; ice++) {
		setup(ice);
		for (unsigned int qd = 1; qd <= MAX_QD; qd *= MAX_QD)
			for (i = 0; i < 2; i++)
				for (int w = 0; w < 2; w++)
					row(ice, w, sizes[i], qd);
		if (ice && !only)
			for (i = 0; i < 2; i++)
				cipher_only_row(sizes[i]);
		teardown();
	}
	if (only)
		return 0;
	keyq_setup();
	keyq_row("keyq_program", "aes256xts_key_schedule", program_device, program_floor);
	keyq_row("keyq_evict", "aes256xts_key_close", evict_device, evict_floor);
	keyq_teardown();
	return 0;
}
