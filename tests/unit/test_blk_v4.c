// SPDX-License-Identifier: GPL-2.0
/*
 * A v4 ICE disk (devices/blk_ctrl.c, docs/ICE.md "The v4 format"), driven as
 * a guest driver would: queue 0 carries requests (CRYPTO_IN and CRYPTO_OUT
 * among them), queue 1 (the control queue) carries PROGRAM, EVICT and
 * GET_CRYPTO_MODES, both through the virtio-mmio registers and rings in the
 * fake guest memory.
 *
 * What a slot holds is never taken from the device's word: check_slot() does
 * a CRYPTO_OUT and a CRYPTO_IN through it and compares the image with the
 * engine's ciphertext under the key the test believes the slot holds (or
 * expects IOERR and an untouched image and buffer for an empty slot).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../../devices/ice_hwkey.h"
#include "guest.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1ULL << (n))
#define F_V4                                                                                       \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_CTRL_VQ) | BIT(VIRTIO_BLK_F_INLINE_ENCRYPTION))
#define QSIZE 32
#define IMG_SIZE (1024 * 1024)
#define S_LIVE 0xf
#define POISON 0xa5
#define OK ICE_V4_S_OK
#define IOERR ICE_V4_S_IOERR
#define UNSUPP ICE_V4_S_UNSUPP
#define NO_USED 0xffffffffu

/* virtio-mmio registers (4.2.2) */
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_CONFIG 0x100

#define NSLOTS 32
#define CHECK_LEN 4096		  /* a multiple of every data unit of the default engine */
#define CHECK_SECTOR(s) (8 * (s)) /* one 4 KiB range per slot for check_slot() */

static struct test_guest g, cq;
static struct blk_dev dev;
static struct virtio_mmio transport;
static struct ice_store st;
static char img[TG_PATH_MAX];
static bool dev_is_open;

/*
 * cq_chain()'s guest-memory snapshot (8 MiB copied and compared a command)
 * is skipped under ThreadSanitizer, whose memcpy/memcmp checks make it take
 * minutes (make tsan is for the race; make unit-run checks every snapshot).
 */
#ifdef __SANITIZE_THREAD__
#define CQ_SNAPSHOTS false
#else
#define CQ_SNAPSHOTS true
#endif

/* What the test believes each slot holds: du 0 = empty. */
static uint8_t model_key[NSLOTS][64];
static uint32_t model_du[NSLOTS];

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fill(uint8_t *buf, size_t len, unsigned int seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

/* A 64-byte key whose XTS halves differ. */
static void make_key(uint8_t *key, unsigned int seed)
{
	fill(key, 64, seed);
	key[0] = 0x00;
	key[32] = 0x01;
}

/* The device on a fresh store; wkey: a keys file's wrapping key, or NULL. */
static void dev_open_with(uint8_t du_mask, unsigned int max_slots, uint64_t features,
			  const uint8_t *wkey)
{
	struct blk_opts o = { .path = img, .ice = &st, .spec = BLK_ICE_V4 };

	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, du_mask, max_slots, 0),
			 0);
	st.guest_keys = true;
	if (wkey) {
		st.wrapping_key = ice_secure_alloc(ICE_HWKEY_WRAPPING_KEY_SIZE);
		ck_assert_ptr_nonnull(st.wrapping_key);
		memcpy(st.wrapping_key, wkey, ICE_HWKEY_WRAPPING_KEY_SIZE);
	}
	dev.disk.fd = -1;
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
	dev_is_open = true;
	ck_assert_ptr_nonnull(dev.ctrl);
	ck_assert_ptr_null(dev.keyq);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, features, QSIZE), S_LIVE);
	ck_assert_uint_eq(tg_queue_attach(&cq, &g, &transport, BLK_CTRL_QUEUE, QSIZE), 1);
	memset(model_du, 0, sizeof(model_du));
}

static void dev_open(uint8_t du_mask, unsigned int max_slots, uint64_t features)
{
	dev_open_with(du_mask, max_slots, features, NULL);
}

static void dev_close(void)
{
	if (!dev_is_open)
		return;
	blk_close(&dev);
	ice_store_free(&st);
	dev_is_open = false;
}

static void setup(void)
{
	ck_assert_int_eq(ice_global_init(ice_secmem_size(ice_secmem_keys(NSLOTS, 1) + 8)), 0);
	tg_init(&g);
	ck_assert_int_eq(tg_image_create(img, NULL, 0, IMG_SIZE), 0);
	dev_open(0x0f, NSLOTS, F_V4);
}

static void teardown(void)
{
	dev_close();
	unlink(img);
	tg_fini(&g);
}

/* The driver re-initialises with features: queue 0 and the control queue. */
static void reinit(uint64_t features)
{
	ck_assert_uint_eq(tg_driver_init(&g, &transport, features, QSIZE), S_LIVE);
	ck_assert_uint_eq(tg_queue_attach(&cq, &g, &transport, BLK_CTRL_QUEUE, QSIZE), 1);
}

/* ---- the control queue, as a driver sends commands ---- */

/* A command's readable part: the header, then a key_desc. */
#define CMD_SIZE ICE_V4_CTRL_BUF_SIZE

static void cmd_hdr(uint8_t *c, uint32_t type)
{
	memset(c, 0, CMD_SIZE);
	put32(c, type);
}

/* A PROGRAM of slot, AES-256-XTS, raw, du bytes, dun_bytes 8. */
static void cmd_program(uint8_t *c, uint32_t slot, uint32_t du, const uint8_t *key)
{
	uint8_t *kd = c + ICE_V4_OUTHDR_SIZE;

	cmd_hdr(c, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM);
	put32(kd + ICE_V4_KD_SLOT, slot);
	memcpy(kd + ICE_V4_KD_BYTES, key, 64);
	put32(kd + ICE_V4_KD_KEY_SIZE, 64);
	put32(kd + ICE_V4_KD_CRYPTO_MODE, ICE_V4_MODE_AES_256_XTS);
	put32(kd + ICE_V4_KD_KEY_TYPE, ICE_V4_KEY_TYPE_RAW);
	put32(kd + ICE_V4_KD_DU_BITS, (uint32_t)__builtin_ctz(du));
	put32(kd + ICE_V4_KD_DUN_BYTES, 8);
}

struct seg {
	uint32_t len;
	bool writable;
};

/*
 * Send one chain on the control queue: the readable segments carry bytes[]
 * in order, the writable ones start as POISON. With check_memory, checks
 * that the device wrote no guest byte but the used ring, the first
 * `reply` writable bytes and the last byte of the last segment if that one
 * is writable (the status). Returns the used length (NO_USED: not
 * completed); *status is the last byte of the last segment, and the first
 * writable bytes are copied to out (if not NULL).
 */
static uint32_t cq_chain(const uint8_t *bytes, const struct seg *segs, unsigned int n,
			 uint8_t *status, uint8_t *out, uint32_t reply, bool check_memory)
{
	struct tg_buf bufs[QSIZE];
	uint64_t gpa, diff, wgpa = 0;
	uint32_t id, len = NO_USED, len2;
	unsigned int i, off = 0;
	uint16_t head;
	uint8_t *snap;

	ck_assert_uint_le(n, QSIZE);
	for (i = 0; i < n; i++) {
		/* a gap after each buffer: a stray write lands outside every buffer */
		gpa = tg_alloc(&g, segs[i].len + 16, 8);
		bufs[i] = (struct tg_buf){ gpa, segs[i].len, segs[i].writable };
		if (segs[i].writable) {
			memset(tg_ptr(&g, gpa), POISON, segs[i].len);
			if (!wgpa)
				wgpa = gpa;
		} else {
			memcpy(tg_ptr(&g, gpa), bytes + off, segs[i].len);
			off += segs[i].len;
		}
	}
	head = tg_add(&cq, bufs, n);
	snap = check_memory && CQ_SNAPSHOTS ? tg_snapshot(&g) : NULL;
	tg_write32(&transport, R_QUEUE_NOTIFY, BLK_CTRL_QUEUE);
	if (tg_get_used(&cq, &id, &len)) {
		ck_assert_uint_eq(id, head);
		ck_assert_msg(!tg_get_used(&cq, &id, &len2), "one command, two used elements");
	}
	gpa = bufs[n - 1].gpa + bufs[n - 1].len - 1;
	*status = *(uint8_t *)tg_ptr(&g, gpa);
	if (out && wgpa)
		memcpy(out, tg_ptr(&g, wgpa), reply);
	if (!snap)
		return len;
	if (segs[n - 1].writable)
		tg_snapshot_accept(&g, snap, gpa, 1);
	if (reply)
		tg_snapshot_accept(&g, snap, wgpa, reply);
	tg_snapshot_accept_used(&cq, snap);
	diff = tg_snapshot_diff(&g, snap);
	free(snap);
	ck_assert_msg(diff == 0, "the control queue wrote guest memory at 0x%llx",
		      (unsigned long long)diff);
	return len;
}

/* The well-formed chain of a key-descriptor command; returns its status (used len 1). */
static uint8_t cq_send_kd(const uint8_t *c, bool check_memory)
{
	static const struct seg std[] = { { CMD_SIZE, false }, { 1, true } };
	uint8_t status;

	ck_assert_uint_eq(cq_chain(c, std, 2, &status, NULL, 0, check_memory), 1);
	return status;
}

static uint8_t cq_program(uint32_t slot, uint32_t du, const uint8_t *key)
{
	uint8_t c[CMD_SIZE];

	cmd_program(c, slot, du, key);
	return cq_send_kd(c, true);
}

static uint8_t cq_evict(uint32_t slot)
{
	uint8_t c[CMD_SIZE];

	cmd_hdr(c, VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT);
	put32(c + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_SLOT, slot);
	return cq_send_kd(c, true);
}

/* PROGRAM that must succeed; the model follows. */
static void program_ok(uint32_t slot, uint32_t du, unsigned int key_seed)
{
	make_key(model_key[slot], key_seed);
	ck_assert_uint_eq(cq_program(slot, du, model_key[slot]), OK);
	model_du[slot] = du;
}

static unsigned long programs(void)
{
	return atomic_load(&dev.ctrl->programs);
}

static unsigned long evicts(void)
{
	return atomic_load(&dev.ctrl->evicts);
}

/* ---- requests on queue 0 ---- */

/*
 * One request on queue 0: a header of hdr_len bytes (hdr), len data bytes
 * split at an odd byte over two descriptors (so a data unit straddles them),
 * a status byte. Returns the status; *used is the used length. A read's data
 * is copied to data.
 */
static uint8_t req(const uint8_t *hdr, uint32_t hdr_len, bool write, uint8_t *data, uint32_t len,
		   uint32_t *used)
{
	uint64_t h = tg_alloc(&g, hdr_len, 8), d = tg_alloc(&g, len, 8), s = tg_alloc(&g, 1, 1);
	uint32_t id, cut = len / 3 | 1;
	struct tg_buf b[4] = { { h, hdr_len, false },
			       { d, cut, !write },
			       { d + cut, len - cut, !write },
			       { s, 1, true } };
	uint8_t *status = tg_ptr(&g, s);

	memcpy(tg_ptr(&g, h), hdr, hdr_len);
	if (write)
		memcpy(tg_ptr(&g, d), data, len);
	else
		memset(tg_ptr(&g, d), POISON, len);
	*status = POISON;
	tg_submit(&g, &transport, b, 4);
	ck_assert_msg(tg_get_used(&g, &id, used), "the request was not completed");
	if (!write)
		memcpy(data, tg_ptr(&g, d), len);
	return *status;
}

/* The 56-byte header of CRYPTO_OUT / CRYPTO_IN. */
static void crypto_hdr(uint8_t *hdr, bool write, uint64_t sector, uint32_t slot, uint64_t dun)
{
	memset(hdr, 0, BLK_V4_HDR_SIZE);
	put32(hdr, write ? VIRTIO_BLK_T_CRYPTO_OUT : VIRTIO_BLK_T_CRYPTO_IN);
	put64(hdr + 8, sector);
	put32(hdr + 16, slot);
	put64(hdr + 24, dun);
}

/* CRYPTO_OUT or CRYPTO_IN; checks the used length. */
static uint8_t io(bool write, uint32_t slot, uint64_t sector, uint64_t dun, uint8_t *data,
		  uint32_t len)
{
	uint8_t hdr[BLK_V4_HDR_SIZE], status;
	uint32_t used;

	crypto_hdr(hdr, write, sector, slot, dun);
	status = req(hdr, sizeof(hdr), write, data, len, &used);
	ck_assert_uint_eq(used, status == VIRTIO_BLK_S_OK && !write ? len + 1 : 1);
	return status;
}

static void image_read(uint64_t off, uint8_t *buf, size_t len)
{
	int fd = open(img, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* What AES-256-XTS under key/du from dun makes of in (another store: a reference). */
static void ref_crypt(const uint8_t *key, uint32_t du, uint64_t dun, const uint8_t *in,
		      uint8_t *out, size_t len, bool encrypt)
{
	struct ice_store ref;

	ck_assert_int_eq(ice_store_init(&ref, ICE_ALG_AES_XTS, ICE_KEY_256, 0x7f, 1, 0), 0);
	ck_assert_int_eq(ice_slot_program(&ref, 0, key, 64, du), 0);
	ck_assert_int_eq(ice_crypt_to(&ref, 0, dun, in, out, len, encrypt), 0);
	ice_store_free(&ref);
}

/*
 * The slot holds what the model says, seen through I/O: with a key, a
 * CRYPTO_OUT stores that key's ciphertext and a CRYPTO_IN gives the
 * plaintext back; empty, both fail with IOERR, the image and the read
 * buffer untouched.
 */
static void check_slot(unsigned int slot)
{
	static unsigned int round;
	uint8_t plain[CHECK_LEN], want[CHECK_LEN], before[CHECK_LEN], got[CHECK_LEN],
		poison[CHECK_LEN];
	uint64_t sector = CHECK_SECTOR(slot), dun = 0xfff0 + slot * 3;

	fill(plain, CHECK_LEN, 1000 + slot * 37 + round++);
	memset(poison, POISON, CHECK_LEN);
	image_read(sector * 512, before, CHECK_LEN);
	if (model_du[slot]) {
		ck_assert_msg(io(true, slot, sector, dun, plain, CHECK_LEN) == VIRTIO_BLK_S_OK,
			      "slot %u: a write failed", slot);
		ref_crypt(model_key[slot], model_du[slot], dun, plain, want, CHECK_LEN, true);
		image_read(sector * 512, got, CHECK_LEN);
		ck_assert_msg(!memcmp(got, want, CHECK_LEN), "slot %u: not the expected key", slot);
		ck_assert_uint_eq(io(false, slot, sector, dun, got, CHECK_LEN), VIRTIO_BLK_S_OK);
		ck_assert_mem_eq(got, plain, CHECK_LEN);
	} else {
		ck_assert_msg(io(true, slot, sector, dun, plain, CHECK_LEN) == VIRTIO_BLK_S_IOERR,
			      "slot %u: a write on an empty slot did not fail", slot);
		image_read(sector * 512, got, CHECK_LEN);
		ck_assert_mem_eq(got, before, CHECK_LEN);
		ck_assert_uint_eq(io(false, slot, sector, dun, got, CHECK_LEN), VIRTIO_BLK_S_IOERR);
		ck_assert_mem_eq(got, poison, CHECK_LEN);
	}
}

static uint64_t offered(void)
{
	uint64_t f;

	tg_write32(&transport, R_DEVICE_FEATURES_SEL, 0);
	f = tg_read32(&transport, R_DEVICE_FEATURES);
	tg_write32(&transport, R_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)tg_read32(&transport, R_DEVICE_FEATURES) << 32;
}

static uint32_t queue_num_max(unsigned int q)
{
	tg_write32(&transport, R_QUEUE_SEL, q);
	return tg_read32(&transport, R_QUEUE_NUM_MAX);
}

/* ---- 1. what the device says of itself ---- */

START_TEST(offers_v4_not_v2)
{
	uint32_t w0 = tg_read32(&transport, R_CONFIG + 0x60);
	uint32_t w1 = tg_read32(&transport, R_CONFIG + 0x64);

	ck_assert_uint_eq(VIRTIO_BLK_F_CTRL_VQ, 22);
	ck_assert_uint_eq(VIRTIO_BLK_F_INLINE_ENCRYPTION, 23);
	ck_assert(offered() & BIT(VIRTIO_BLK_F_CTRL_VQ));
	ck_assert(offered() & BIT(VIRTIO_BLK_F_INLINE_ENCRYPTION));
	ck_assert(!(offered() & BIT(VIRTIO_BLK_F_ICE_KEYQ)));
	ck_assert_uint_eq(queue_num_max(0), VIRTQ_MAX_SIZE);
	ck_assert_uint_eq(queue_num_max(1), VIRTQ_MAX_SIZE);
	ck_assert_uint_eq(queue_num_max(2), 0);
	/* enc_characteristics: max_slots 32, max_dun_bytes 8, key_types RAW and HW_WRAPPED */
	ck_assert_uint_eq(w0, 32 | 8 << 16 |
				      (uint32_t)(ICE_V4_KEY_TYPES_RAW | ICE_V4_KEY_TYPES_HW_WRAPPED)
					      << 24);
	ck_assert_uint_eq(w1, 0);
	/* blk_size: the largest data unit, so no request holds part of one */
	ck_assert_uint_eq(tg_read32(&transport, R_CONFIG + 0x14), 4096);
}
END_TEST

START_TEST(inline_encryption_needs_ctrl_vq)
{
	ck_assert_uint_eq(tg_driver_init(&g, &transport,
					 BIT(VIRTIO_F_VERSION_1) |
						 BIT(VIRTIO_BLK_F_INLINE_ENCRYPTION),
					 QSIZE),
			  1 | 2);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, BIT(VIRTIO_F_VERSION_1), QSIZE), S_LIVE);
	ck_assert_uint_eq(tg_driver_init(&g, &transport,
					 BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_CTRL_VQ),
					 QSIZE),
			  S_LIVE);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_V4, QSIZE), S_LIVE);
}
END_TEST

/* modes[0] = 0, modes[1] (AES-256-XTS) = data units 512..4096: bits 9..12 */
static const uint8_t want_modes[ICE_V4_MODES_SIZE] = { 0, 0, 0, 0, 0x00, 0x1e, 0, 0 };

START_TEST(get_crypto_modes_on_both_queues)
{
	static const struct seg ctrl[] = { { ICE_V4_OUTHDR_SIZE, false },
					   { ICE_V4_MODES_SIZE, true },
					   { 1, true } };
	uint8_t c[CMD_SIZE], out[ICE_V4_MODES_SIZE], big[16], hdr[ICE_V4_OUTHDR_SIZE] = { 0 };
	uint8_t status;
	uint32_t used;

	cmd_hdr(c, VIRTIO_BLK_T_GET_CRYPTO_MODES);
	ck_assert_uint_eq(cq_chain(c, ctrl, 3, &status, out, sizeof(out), true), 9);
	ck_assert_uint_eq(status, OK);
	ck_assert_mem_eq(out, want_modes, sizeof(out));

	/* the request queue: header, 8 writable bytes of reply, status */
	put32(hdr, VIRTIO_BLK_T_GET_CRYPTO_MODES);
	ck_assert_uint_eq(req(hdr, sizeof(hdr), false, out, sizeof(out), &used), OK);
	ck_assert_uint_eq(used, 9);
	ck_assert_mem_eq(out, want_modes, sizeof(out));
	/* any other shape there: IOERR, used 1 */
	ck_assert_uint_eq(req(hdr, sizeof(hdr), false, big, sizeof(big), &used), IOERR);
	ck_assert_uint_eq(used, 1);

	/* a 1 KiB-only engine says so */
	dev_close();
	dev_open(0x02, 4, F_V4);
	ck_assert_uint_eq(cq_chain(c, ctrl, 3, &status, out, sizeof(out), true), 9);
	ck_assert_uint_eq(status, OK);
	ck_assert_uint_eq(out[5], 0x04); /* bit 10 */
	ck_assert_uint_eq(out[4] | out[6] | out[7], 0);
	ck_assert_uint_eq(tg_read32(&transport, R_CONFIG + 0x60) & 0xffff, 4);
}
END_TEST

/* ---- 2. every command through the device ---- */

START_TEST(program_then_crypto_out_and_in)
{
	uint8_t data[8192], want[8192], got[8192];

	program_ok(5, 4096, 1);
	ck_assert_uint_eq(programs(), 1);
	fill(data, sizeof(data), 2);
	ck_assert_uint_eq(io(true, 5, 16, 77, data, sizeof(data)), VIRTIO_BLK_S_OK);
	ref_crypt(model_key[5], 4096, 77, data, want, sizeof(data), true);
	image_read(16 * 512, got, sizeof(got));
	ck_assert_mem_eq(got, want, sizeof(got));
	ck_assert_uint_eq(io(false, 5, 16, 77, got, sizeof(got)), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(got, data, sizeof(got));
	ck_assert_uint_eq(atomic_load(&dev.du_encrypted), 2);
	ck_assert_uint_eq(atomic_load(&dev.du_decrypted), 2);
	/* a plain IN of the same range: the ciphertext, as stored */
	{
		uint8_t hdr[ICE_V4_OUTHDR_SIZE] = { 0 };
		uint32_t used;

		put32(hdr, VIRTIO_BLK_T_IN);
		put64(hdr + 8, 16);
		ck_assert_uint_eq(req(hdr, sizeof(hdr), false, got, sizeof(got), &used),
				  VIRTIO_BLK_S_OK);
		ck_assert_mem_eq(got, want, sizeof(got));
	}
}
END_TEST

START_TEST(program_every_du_and_replace)
{
	static const uint32_t dus[] = { 512, 1024, 2048, 4096 };

	for (unsigned int i = 0; i < ARRAY_SIZE(dus); i++) {
		program_ok(i, dus[i], 10 + i);
		check_slot(i);
	}
	/* replace: the new key and data unit size, at once */
	program_ok(1, 4096, 20);
	check_slot(1);
	program_ok(NSLOTS - 1, 512, 21);
	check_slot(NSLOTS - 1);
	ck_assert_uint_eq(programs(), 6);
}
END_TEST

START_TEST(evict)
{
	program_ok(3, 4096, 30);
	program_ok(4, 512, 31);
	ck_assert_uint_eq(cq_evict(3), OK);
	model_du[3] = 0;
	check_slot(3);
	check_slot(4);
	ck_assert_uint_eq(cq_evict(3), OK); /* already empty: fine */
	ck_assert_uint_eq(evicts(), 2);
	ck_assert_uint_eq(cq_evict(NSLOTS), IOERR);
	ck_assert_uint_eq(cq_evict(0xffffffffu), IOERR);
	ck_assert_uint_eq(evicts(), 2);
	/* the whole key descriptor may come along (Linux's evict has it): only slot counts */
	{
		uint8_t c[CMD_SIZE];

		cmd_program(c, 4, 512, model_key[4]);
		put32(c, VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT);
		ck_assert_uint_eq(cq_send_kd(c, true), OK);
		model_du[4] = 0;
		check_slot(4);
	}
}
END_TEST

/* ---- 3. refusals: IOERR, the slot unchanged, nothing written but the status ---- */

static const struct {
	const char *what;
	unsigned int field; /* offset in the key descriptor */
	uint32_t value;
} bad_fields[] = {
	{ "slot = max_slots", ICE_V4_KD_SLOT, NSLOTS },
	{ "slot 2^32 - 1", ICE_V4_KD_SLOT, 0xffffffffu },
	{ "crypto mode 0", ICE_V4_KD_CRYPTO_MODE, 0 },
	{ "crypto mode 2", ICE_V4_KD_CRYPTO_MODE, 2 },
	{ "key type 0", ICE_V4_KD_KEY_TYPE, 0 },
	{ "key type hw-wrapped (not offered)", ICE_V4_KD_KEY_TYPE, ICE_V4_KEY_TYPE_HW_WRAPPED },
	{ "key type 3", ICE_V4_KD_KEY_TYPE, 3 },
	{ "data unit 256", ICE_V4_KD_DU_BITS, 8 },
	{ "data unit 8192 (not offered)", ICE_V4_KD_DU_BITS, 13 },
	{ "data unit bits 32", ICE_V4_KD_DU_BITS, 32 },
	{ "data unit bits 2^32 - 1", ICE_V4_KD_DU_BITS, 0xffffffffu },
	{ "dun_bytes 0", ICE_V4_KD_DUN_BYTES, 0 },
	{ "dun_bytes 9", ICE_V4_KD_DUN_BYTES, 9 },
	{ "key_size 32", ICE_V4_KD_KEY_SIZE, 32 },
	{ "key_size 63", ICE_V4_KD_KEY_SIZE, 63 },
	{ "key_size 65", ICE_V4_KD_KEY_SIZE, 65 },
	{ "key_size 128", ICE_V4_KD_KEY_SIZE, 128 },
	{ "key_size 0", ICE_V4_KD_KEY_SIZE, 0 },
};

/* Slot 7 holds a key before each refusal, and still holds it after. */
static void refusal_prepare(void)
{
	program_ok(7, 2048, 40);
}

static void refusal_changed_nothing(unsigned long programs_before)
{
	ck_assert_uint_eq(programs(), programs_before);
	check_slot(7);
	check_slot(8);
}

START_TEST(refusal_field)
{
	uint8_t c[CMD_SIZE], key[64];
	unsigned long before;

	refusal_prepare();
	before = programs();
	make_key(key, 41);
	cmd_program(c, 7, 4096, key);
	put32(c + ICE_V4_OUTHDR_SIZE + bad_fields[_i].field, bad_fields[_i].value);
	ck_assert_msg(cq_send_kd(c, true) == IOERR, "%s: not refused", bad_fields[_i].what);
	refusal_changed_nothing(before);
}
END_TEST

START_TEST(refusal_equal_halves)
{
	uint8_t c[CMD_SIZE], key[64];
	unsigned long before;

	refusal_prepare();
	before = programs();
	fill(key, 32, 42);
	memcpy(key + 32, key, 32);
	cmd_program(c, 7, 4096, key);
	ck_assert_uint_eq(cq_send_kd(c, true), IOERR);
	refusal_changed_nothing(before);
}
END_TEST

/*
 * Every byte the command does not use: the header's ioprio and sector (12
 * bytes) and the 64 key bytes past key_size. A non-zero one is IOERR.
 */
START_TEST(refusal_every_unused_byte)
{
	uint8_t c[CMD_SIZE], key[64];
	unsigned long before;
	unsigned int i, n = 0;

	refusal_prepare();
	before = programs();
	make_key(key, 43);
	for (i = 4; i < CMD_SIZE; i++) {
		bool unused = i < ICE_V4_OUTHDR_SIZE ||
			      (i >= ICE_V4_OUTHDR_SIZE + ICE_V4_KD_BYTES + 64 &&
			       i < ICE_V4_OUTHDR_SIZE + ICE_V4_KD_KEY_SIZE);

		if (!unused)
			continue;
		cmd_program(c, 7, 4096, key);
		c[i] = 0x40;
		ck_assert_msg(cq_send_kd(c, false) == IOERR, "byte %u: not refused", i);
		n++;
	}
	ck_assert_uint_eq(n, 12 + 64);
	/* EVICT's unused header bytes too */
	cmd_hdr(c, VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT);
	put32(c + ICE_V4_OUTHDR_SIZE, 7);
	c[8] = 1; /* sector */
	ck_assert_uint_eq(cq_send_kd(c, true), IOERR);
	ck_assert_uint_eq(evicts(), 0);
	refusal_changed_nothing(before);
}
END_TEST

/* Unknown types, request-queue types: UNSUPP, nothing else. */
START_TEST(unsupported_types)
{
	static const uint32_t unknown[] = { VIRTIO_BLK_T_IN,
					    VIRTIO_BLK_T_OUT,
					    VIRTIO_BLK_T_FLUSH,
					    VIRTIO_BLK_T_CRYPTO_OUT,
					    VIRTIO_BLK_T_CRYPTO_IN,
					    36,
					    0xffffffffu };
	uint8_t c[CMD_SIZE], status;
	unsigned long before;
	unsigned int i;

	refusal_prepare();
	before = programs();
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		static const struct seg s[] = { { CMD_SIZE, false }, { 1, true } };

		cmd_program(c, 7, 4096, model_key[7]);
		put32(c, unknown[i]);
		ck_assert_uint_eq(cq_chain(c, s, 2, &status, NULL, 0, true), 1);
		ck_assert_msg(status == UNSUPP, "type %u: status %u", unknown[i], status);
	}
	refusal_changed_nothing(before);
}
END_TEST

/* ---- hardware-wrapped keys (devices/blk_hwkey.c) ---- */

/*
 * A key_blob command (IMPORT, PREPARE, DERIVE_SW_SECRET) or GENERATE (key
 * NULL): its status; the reply, reply_len bytes, in out. Checks the used
 * length: reply and status when OK, the status alone (reply untouched)
 * otherwise.
 */
static uint8_t hw_cmd(uint32_t type, const uint8_t *key, uint32_t key_len, uint8_t *out)
{
	uint8_t c[CMD_SIZE], status, poison[ICE_V4_KEY_BLOB_SIZE];
	uint32_t req, reply, used;
	struct seg s[3];

	ck_assert(ice_v4_ctrl_shape(type, &req, &reply));
	cmd_hdr(c, type);
	if (key) {
		put32(c + ICE_V4_OUTHDR_SIZE + ICE_V4_KB_KEY_SIZE, key_len);
		memcpy(c + ICE_V4_OUTHDR_SIZE + ICE_V4_KB_KEY, key, key_len);
	}
	s[0] = (struct seg){ ICE_V4_OUTHDR_SIZE + req, false };
	s[1] = (struct seg){ reply, true };
	s[2] = (struct seg){ 1, true };
	used = cq_chain(c, s, 3, &status, out, reply, true);
	if (status == OK) {
		ck_assert_uint_eq(used, reply + 1);
	} else {
		ck_assert_uint_eq(used, 1);
		memset(poison, POISON, sizeof(poison));
		ck_assert_mem_eq(out, poison, reply); /* nothing of a refused command's reply */
	}
	return status;
}

/* A long-term or ephemeral blob from a key_blob reply: its size is the blob's. */
static const uint8_t *blob_of(const uint8_t *reply, enum ice_hwkey_kind kind)
{
	static const uint8_t zero[ICE_V4_KEY_MAX];

	ck_assert_uint_eq(reply[0] | reply[1] << 8 | reply[2] << 16 | (uint32_t)reply[3] << 24,
			  ICE_HWKEY_BLOB_SIZE);
	ck_assert_uint_eq(reply[4], ICE_HWKEY_VERSION);
	ck_assert_uint_eq(reply[5], kind);
	ck_assert_mem_eq(reply + 4 + ICE_HWKEY_BLOB_SIZE, zero,
			 ICE_V4_KEY_MAX - ICE_HWKEY_BLOB_SIZE);
	return reply + 4;
}

/* PROGRAM slot with the wrapped key blob: its status; the model gets key when OK. */
static uint8_t program_wrapped(uint32_t slot, const uint8_t *blob, const uint8_t *inline_key)
{
	uint8_t c[CMD_SIZE], *kd = c + ICE_V4_OUTHDR_SIZE, status;

	cmd_program(c, slot, 4096, model_key[slot]);
	memset(kd + ICE_V4_KD_BYTES, 0, ICE_V4_KEY_MAX);
	memcpy(kd + ICE_V4_KD_BYTES, blob, ICE_HWKEY_BLOB_SIZE);
	put32(kd + ICE_V4_KD_KEY_SIZE, ICE_HWKEY_BLOB_SIZE);
	put32(kd + ICE_V4_KD_KEY_TYPE, ICE_V4_KEY_TYPE_HW_WRAPPED);
	status = cq_send_kd(c, true);
	if (status == OK) {
		memcpy(model_key[slot], inline_key, 64);
		model_du[slot] = 4096;
	}
	return status;
}

static unsigned long wrapped_cmds(uint32_t type)
{
	return atomic_load(&dev.ctrl->wrapped_cmds[type - VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET]);
}

/*
 * IMPORT, PREPARE, DERIVE_SW_SECRET and PROGRAM of a wrapped key: the slot
 * encrypts with the KDF's inline-encryption key of the imported key, the
 * secret is the KDF's; the ephemeral blob outlives a reset.
 */
START_TEST(wrapped_key_life)
{
	uint8_t raw[64], want[64], lt[ICE_V4_KEY_BLOB_SIZE], eph[ICE_V4_KEY_BLOB_SIZE], secret[32],
		eph_blob[ICE_HWKEY_BLOB_SIZE];

	make_key(raw, 120); /* its first 32 bytes: the raw key */
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, raw, 32, lt), OK);
	ck_assert(!memmem(lt, sizeof(lt), raw, 8)); /* the raw key never comes back */
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, blob_of(lt, ICE_HWKEY_LONG_TERM),
				 ICE_HWKEY_BLOB_SIZE, eph),
			  OK);
	memcpy(eph_blob, blob_of(eph, ICE_HWKEY_EPHEMERAL), ICE_HWKEY_BLOB_SIZE);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET, eph_blob,
				 ICE_HWKEY_BLOB_SIZE, secret),
			  OK);
	ck_assert_int_eq(ice_hwkey_sw_secret(raw, want), 0);
	ck_assert_mem_eq(secret, want, 32);
	ck_assert_int_eq(ice_hwkey_inline_key(raw, want), 0);
	ck_assert_uint_eq(program_wrapped(5, eph_blob, want), OK);
	check_slot(5);
	ck_assert_uint_eq(programs(), 1);
	ck_assert_uint_eq(wrapped_cmds(VIRTIO_BLK_T_CRYPTO_IMPORT_KEY), 1);
	ck_assert_uint_eq(wrapped_cmds(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY), 1);
	ck_assert_uint_eq(wrapped_cmds(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET), 1);
	/* Raw and wrapped keys side by side */
	program_ok(6, 4096, 121);
	check_slot(6);
	check_slot(5);
	/* A reset empties the slots but keeps the ephemeral key: the blob programs again. */
	tg_write32(&transport, R_STATUS, 0);
	reinit(F_V4);
	memset(model_du, 0, sizeof(model_du));
	check_slot(5);
	ck_assert_uint_eq(program_wrapped(5, eph_blob, want), OK);
	check_slot(5);
	/* PREPARE again: another ephemeral blob of the same key */
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, blob_of(lt, ICE_HWKEY_LONG_TERM),
				 ICE_HWKEY_BLOB_SIZE, eph),
			  OK);
	ck_assert(memcmp(blob_of(eph, ICE_HWKEY_EPHEMERAL), eph_blob, ICE_HWKEY_BLOB_SIZE));
	ck_assert_uint_eq(program_wrapped(9, blob_of(eph, ICE_HWKEY_EPHEMERAL), want), OK);
	check_slot(9);
}
END_TEST

/* GENERATE: a long-term blob of a key nobody saw, usable like an imported one. */
START_TEST(wrapped_key_generate)
{
	uint8_t lt[ICE_V4_KEY_BLOB_SIZE], lt2[ICE_V4_KEY_BLOB_SIZE], eph[ICE_V4_KEY_BLOB_SIZE],
		s1[32], s2[32];

	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_GENERATE_KEY, NULL, 0, lt), OK);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_GENERATE_KEY, NULL, 0, lt2), OK);
	ck_assert(memcmp(blob_of(lt, ICE_HWKEY_LONG_TERM), blob_of(lt2, ICE_HWKEY_LONG_TERM),
			 ICE_HWKEY_BLOB_SIZE));
	ck_assert_uint_eq(wrapped_cmds(VIRTIO_BLK_T_CRYPTO_GENERATE_KEY), 2);
	/* Two generated keys: two software secrets */
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, blob_of(lt, ICE_HWKEY_LONG_TERM),
				 ICE_HWKEY_BLOB_SIZE, eph),
			  OK);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET,
				 blob_of(eph, ICE_HWKEY_EPHEMERAL), ICE_HWKEY_BLOB_SIZE, s1),
			  OK);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, blob_of(lt2, ICE_HWKEY_LONG_TERM),
				 ICE_HWKEY_BLOB_SIZE, eph),
			  OK);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET,
				 blob_of(eph, ICE_HWKEY_EPHEMERAL), ICE_HWKEY_BLOB_SIZE, s2),
			  OK);
	ck_assert(memcmp(s1, s2, 32));
}
END_TEST

/*
 * Blobs of the wrong kind, with a flipped byte, or of another device: IOERR,
 * no reply, no slot changed.
 */
START_TEST(wrapped_key_refusals)
{
	uint8_t raw[64], lt[ICE_V4_KEY_BLOB_SIZE], eph[ICE_V4_KEY_BLOB_SIZE],
		out[ICE_V4_KEY_BLOB_SIZE], bad[ICE_HWKEY_BLOB_SIZE], inline_key[64];
	const uint8_t *ltb, *ephb;
	unsigned long before;
	unsigned int i;

	make_key(raw, 122);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, raw, 32, lt), OK);
	ltb = blob_of(lt, ICE_HWKEY_LONG_TERM);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, ltb, ICE_HWKEY_BLOB_SIZE, eph),
			  OK);
	ephb = blob_of(eph, ICE_HWKEY_EPHEMERAL);
	ck_assert_int_eq(ice_hwkey_inline_key(raw, inline_key), 0);
	refusal_prepare();
	before = programs();
	/* The wrong kind, each way */
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, ephb, ICE_HWKEY_BLOB_SIZE, out),
			  IOERR);
	ck_assert_uint_eq(
		hw_cmd(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET, ltb, ICE_HWKEY_BLOB_SIZE, out), IOERR);
	ck_assert_uint_eq(program_wrapped(7, ltb, inline_key), IOERR);
	/* A flipped bit anywhere in the blob */
	for (i = 0; i < ICE_HWKEY_BLOB_SIZE; i++) {
		memcpy(bad, ephb, sizeof(bad));
		bad[i] ^= 0x10;
		ck_assert_uint_eq(program_wrapped(7, bad, inline_key), IOERR);
		ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET, bad,
					 ICE_HWKEY_BLOB_SIZE, out),
				  IOERR);
		memcpy(bad, ltb, sizeof(bad));
		bad[i] ^= 0x10;
		ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, bad, ICE_HWKEY_BLOB_SIZE,
					 out),
				  IOERR);
	}
	refusal_changed_nothing(before);
	ck_assert_uint_eq(wrapped_cmds(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY), 1);
	ck_assert_uint_eq(wrapped_cmds(VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET), 0);

	/*
	 * Another run of the device (no wrapping key in a keys file): neither
	 * blob of this one is taken.
	 */
	dev_close();
	dev_open(0x0f, NSLOTS, F_V4);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, ltb, ICE_HWKEY_BLOB_SIZE, out),
			  IOERR);
	ck_assert_uint_eq(program_wrapped(7, ephb, inline_key), IOERR);
	check_slot(7);
}
END_TEST

/*
 * With a keys file's wrapping key, long-term blobs outlive the run: another
 * device with the same key prepares them; its ephemeral blobs do not.
 */
START_TEST(wrapped_key_long_term_key)
{
	uint8_t raw[64], wkey[64], lt[ICE_V4_KEY_BLOB_SIZE], eph[ICE_V4_KEY_BLOB_SIZE],
		eph2[ICE_V4_KEY_BLOB_SIZE], inline_key[64], back[32];

	dev_close();
	make_key(wkey, 123);
	dev_open_with(0x0f, NSLOTS, F_V4, wkey);
	make_key(raw, 124);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, raw, 32, lt), OK);
	/* Wrapped under that key, as docs/ICE.md says */
	ck_assert_int_eq(ice_hwkey_unwrap(wkey, ICE_HWKEY_LONG_TERM,
					  blob_of(lt, ICE_HWKEY_LONG_TERM), ICE_HWKEY_BLOB_SIZE,
					  back),
			 0);
	ck_assert_mem_eq(back, raw, 32);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, blob_of(lt, ICE_HWKEY_LONG_TERM),
				 ICE_HWKEY_BLOB_SIZE, eph),
			  OK);
	dev_close();
	dev_open_with(0x0f, NSLOTS, F_V4, wkey);
	ck_assert_int_eq(ice_hwkey_inline_key(raw, inline_key), 0);
	ck_assert_uint_eq(program_wrapped(3, blob_of(eph, ICE_HWKEY_EPHEMERAL), inline_key), IOERR);
	ck_assert_uint_eq(hw_cmd(VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, blob_of(lt, ICE_HWKEY_LONG_TERM),
				 ICE_HWKEY_BLOB_SIZE, eph2),
			  OK);
	ck_assert_uint_eq(program_wrapped(3, blob_of(eph2, ICE_HWKEY_EPHEMERAL), inline_key), OK);
	check_slot(3);
}
END_TEST

/* Chains of another shape: IOERR in the last byte if it is writable, else NEEDS_RESET. */
static const struct shape {
	const char *what;
	unsigned int n;
	struct seg segs[4];
	uint32_t used;
	bool needs_reset;
} shapes[] = {
	{ "151 readable bytes", 2, { { CMD_SIZE - 1, false }, { 1, true } }, 1, false },
	{ "169 readable bytes", 2, { { CMD_SIZE + 1, false }, { 1, true } }, 1, false },
	{ "only the header", 2, { { ICE_V4_OUTHDR_SIZE, false }, { 1, true } }, 1, false },
	{ "15 readable bytes", 2, { { 15, false }, { 1, true } }, 1, false },
	{ "a reply PROGRAM does not have",
	  3,
	  { { CMD_SIZE, false }, { 8, true }, { 1, true } },
	  1,
	  false },
	{ "a 2-byte status", 2, { { CMD_SIZE, false }, { 2, true } }, 1, false },
	{ "no readable bytes", 1, { { 1, true } }, 1, false },
	{ "the status byte read-only", 2, { { CMD_SIZE, false }, { 1, false } }, 0, true },
	{ "nothing writable", 1, { { CMD_SIZE, false } }, 0, true },
};

START_TEST(wrong_shape)
{
	const struct shape *sh = &shapes[_i];
	uint8_t bytes[CMD_SIZE + 8] = { 0 }, key[64], status;
	unsigned long before;
	uint32_t used;

	refusal_prepare();
	before = programs();
	make_key(key, 50);
	cmd_program(bytes, 8, 4096, key);
	used = cq_chain(bytes, sh->segs, sh->n, &status, NULL, 0, true);
	ck_assert_msg(used == sh->used, "%s: used length %u, want %u", sh->what, used, sh->used);
	if (sh->segs[sh->n - 1].writable)
		ck_assert_msg(status == IOERR, "%s: status %u", sh->what, status);
	ck_assert_msg(!!(tg_read32(&transport, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET) ==
			      sh->needs_reset,
		      "%s: DEVICE_NEEDS_RESET %s", sh->what, sh->needs_reset ? "clear" : "set");
	if (sh->needs_reset) { /* the driver's reset empties slot 7: program it again */
		reinit(F_V4);
		program_ok(7, 2048, 40);
		before++;
	}
	refusal_changed_nothing(before);
}
END_TEST

/* The command split over descriptors at every byte: the same command. */
START_TEST(command_split_any_way)
{
	uint8_t c[CMD_SIZE];
	unsigned int cut;

	for (cut = 1; cut < CMD_SIZE; cut += 7) {
		struct seg s[3] = { { cut, false }, { CMD_SIZE - cut, false }, { 1, true } };
		uint8_t status;

		make_key(model_key[9], 60 + cut);
		cmd_program(c, 9, 1024, model_key[9]);
		ck_assert_uint_eq(cq_chain(c, s, 3, &status, NULL, 0, false), 1);
		ck_assert_msg(status == OK, "cut at %u: status %u", cut, status);
	}
	model_du[9] = 1024;
	check_slot(9);
}
END_TEST

/* ---- 4. negotiation ---- */

/*
 * A driver that did not negotiate the control queue gets IOERR for every
 * command there; one that negotiated only the control queue gets UNSUPP for
 * the crypto commands and the crypto request types.
 */
START_TEST(commands_need_their_features)
{
	uint8_t key[64], data[4096], hdr[BLK_V4_HDR_SIZE];
	uint32_t used;

	make_key(key, 70);
	reinit(BIT(VIRTIO_F_VERSION_1));
	ck_assert_uint_eq(cq_program(3, 4096, key), IOERR);
	ck_assert_uint_eq(cq_evict(3), IOERR);
	ck_assert_uint_eq(ice_slot_du(&st, 3), 0);
	crypto_hdr(hdr, true, 8, 3, 0);
	fill(data, sizeof(data), 71);
	ck_assert_uint_eq(req(hdr, sizeof(hdr), true, data, sizeof(data), &used),
			  VIRTIO_BLK_S_UNSUPP);
	reinit(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_CTRL_VQ));
	ck_assert_uint_eq(cq_program(3, 4096, key), UNSUPP);
	ck_assert_uint_eq(ice_slot_du(&st, 3), 0);
	ck_assert_uint_eq(req(hdr, sizeof(hdr), true, data, sizeof(data), &used),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(programs(), 0);
	ck_assert_uint_eq(evicts(), 0);
	ck_assert_uint_eq(atomic_load(&dev.du_encrypted), 0);
}
END_TEST

/* The control queue is queue 1: a notify of queue 0 or 2 does not serve it. */
START_TEST(control_queue_is_index_1)
{
	uint64_t cmd = tg_alloc(&g, CMD_SIZE, 8), s = tg_alloc(&g, 1, 1);
	struct tg_buf b[2] = { { cmd, CMD_SIZE, false }, { s, 1, true } };
	uint32_t id, len;

	make_key(model_key[9], 75);
	cmd_program(tg_ptr(&g, cmd), 9, 4096, model_key[9]);
	*(uint8_t *)tg_ptr(&g, s) = POISON;
	tg_add(&cq, b, 2);
	tg_write32(&transport, R_QUEUE_NOTIFY, 0);
	tg_write32(&transport, R_QUEUE_NOTIFY, 2);
	ck_assert(!tg_get_used(&cq, &id, &len));
	ck_assert_uint_eq(ice_slot_du(&st, 9), 0);
	tg_write32(&transport, R_QUEUE_NOTIFY, 1);
	ck_assert(tg_get_used(&cq, &id, &len));
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, s), OK);
	model_du[9] = 4096;
	check_slot(9);
}
END_TEST

/* ---- 5. CRYPTO_IN / CRYPTO_OUT refusals ---- */

START_TEST(crypto_request_refusals)
{
	uint8_t hdr[BLK_V4_HDR_SIZE], data[8192], before[8192], got[8192], poison[8192];
	uint32_t used;
	unsigned int i;

	/*
	 * Slot 0 holds a key and DUN 0 is valid: a message wrongly taken as
	 * slot 0, DUN 0 would be served, so only the check makes it IOERR.
	 */
	program_ok(0, 4096, 79);
	program_ok(6, 4096, 80);
	program_ok(2, 512, 81);
	fill(data, sizeof(data), 82);
	memset(poison, POISON, sizeof(poison));
	image_read(64 * 512, before, sizeof(before));
	/* every unused byte of the crypto message: unused[4], dun[1..3] */
	for (i = 16 + 4; i < BLK_V4_HDR_SIZE; i++) {
		if (i >= 24 && i < 32)
			continue; /* dun[0] */
		crypto_hdr(hdr, true, 64, 0, 0);
		hdr[i] = 1;
		ck_assert_msg(req(hdr, sizeof(hdr), true, data, 4096, &used) == IOERR,
			      "write, byte %u: not refused", i);
		crypto_hdr(hdr, false, 64, 0, 0);
		hdr[i] = 1;
		ck_assert_msg(req(hdr, sizeof(hdr), false, got, 4096, &used) == IOERR,
			      "read, byte %u: not refused", i);
		ck_assert_mem_eq(got, poison, 4096);
	}
	/* the summary counts each refused request: 28 unused bytes, both ways */
	ck_assert_uint_eq(atomic_load(&dev.ice_refused), 2 * 28);
	/* slots: past max_slots, empty */
	ck_assert_uint_eq(io(true, NSLOTS, 64, 5, data, 4096), IOERR);
	ck_assert_uint_eq(io(true, 0xffffffffu, 64, 5, data, 4096), IOERR);
	ck_assert_uint_eq(io(true, 3, 64, 5, data, 4096), IOERR);
	/* not whole data units of the slot's key */
	ck_assert_uint_eq(io(true, 6, 64, 5, data, 4096 + 512), IOERR);
	ck_assert_uint_eq(io(false, 6, 64, 5, got, 2048), IOERR);
	/* units past DUN 2^64 - 1: two units from the last DUN */
	ck_assert_uint_eq(io(true, 6, 64, UINT64_MAX, data, 8192), IOERR);
	ck_assert_uint_eq(io(true, 2, 64, UINT64_MAX - 6, data, 4096), IOERR);
	/* a header cut short: only 40 bytes readable before the status */
	crypto_hdr(hdr, true, 64, 6, 5);
	{
		uint64_t h = tg_alloc(&g, 40, 8), s = tg_alloc(&g, 1, 1);
		struct tg_buf b[2] = { { h, 40, false }, { s, 1, true } };
		uint32_t id;

		memcpy(tg_ptr(&g, h), hdr, 40);
		tg_submit(&g, &transport, b, 2);
		ck_assert(tg_get_used(&g, &id, &used));
		ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, s), IOERR);
	}
	image_read(64 * 512, got, sizeof(got));
	ck_assert_mem_eq(got, before, sizeof(got));
	ck_assert_uint_eq(atomic_load(&dev.du_encrypted), 0);
	/* and 7 more: 3 slots, 2 partial units, 2 DUN overflows (not the short header) */
	ck_assert_uint_eq(atomic_load(&dev.ice_refused), 2 * 28 + 7);
	/* the last DUN itself is fine */
	ck_assert_uint_eq(io(true, 6, 64, UINT64_MAX, data, 4096), OK);
	ck_assert_uint_eq(io(true, 2, 64, UINT64_MAX - 7, data, 4096), OK);
	/* key commands on the request queue: UNSUPP, not served */
	for (i = VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM; i <= VIRTIO_BLK_T_CRYPTO_PREPARE_KEY; i++) {
		uint8_t c[CMD_SIZE];

		cmd_program(c, 9, 4096, model_key[6]);
		put32(c, i);
		ck_assert_uint_eq(req(c, sizeof(c), true, data, 512, &used), UNSUPP);
		ck_assert_uint_eq(used, 1);
	}
	ck_assert_uint_eq(ice_slot_du(&st, 9), 0);
}
END_TEST

/* ---- 6. reset ---- */

START_TEST(reset_empties_every_slot)
{
	unsigned int s;

	program_ok(0, 512, 90);
	program_ok(5, 4096, 91);
	program_ok(31, 2048, 92);
	check_slot(5);
	tg_write32(&transport, R_STATUS, 0);
	for (s = 0; s < NSLOTS; s++)
		ck_assert_msg(ice_slot_du(&st, s) == 0, "slot %u survived the reset", s);
	reinit(F_V4);
	memset(model_du, 0, sizeof(model_du));
	for (s = 0; s < NSLOTS; s++)
		check_slot(s);
	program_ok(5, 4096, 91);
	check_slot(5);
}
END_TEST

/*
 * fault=lose-program: the first PROGRAM is kept, neither completed nor
 * applied, like a device that stopped answering; the commands after it are
 * served, and after a reset the driver programs the slot again.
 */
START_TEST(lose_program_keeps_the_first_program)
{
	static const struct seg std[] = { { CMD_SIZE, false }, { 1, true } };
	uint8_t c[CMD_SIZE], key[64], status;

	dev.key_fault = BLK_FAULT_LOSE_PROGRAM;
	atomic_store(&dev.fault_armed, true);
	make_key(key, 93);
	cmd_program(c, 5, 4096, key);
	ck_assert_uint_eq(cq_chain(c, std, 2, &status, NULL, 0, true), NO_USED);
	ck_assert_uint_eq(status, POISON);
	ck_assert_uint_eq(programs(), 0);
	ck_assert_uint_eq(ice_slot_du(&st, 5), 0);
	check_slot(5);
	/* Once only: the next PROGRAM, on another slot, is served. */
	program_ok(6, 4096, 94);
	check_slot(6);
	ck_assert_uint_eq(programs(), 1);
	tg_write32(&transport, R_STATUS, 0);
	reinit(F_V4);
	memset(model_du, 0, sizeof(model_du));
	program_ok(5, 4096, 93);
	check_slot(5);
	check_slot(6);
}
END_TEST

/*
 * fault=break-queue: the first PROGRAM is completed with used id QSIZE, one
 * past the last descriptor (a driver must take the ring for broken: Linux's
 * virtqueue_get_buf() marks it so), used length 0; nothing is programmed and
 * no byte of the chain is written. Once only.
 */
START_TEST(break_queue_completes_the_first_program_out_of_range)
{
	struct tg_buf bufs[2] = {
		{ tg_alloc(&g, CMD_SIZE, 8), CMD_SIZE, false },
		{ tg_alloc(&g, 1, 1), 1, true },
	};
	uint8_t *status = tg_ptr(&g, bufs[1].gpa), key[64];
	uint32_t id, len;

	dev.key_fault = BLK_FAULT_BREAK_QUEUE;
	atomic_store(&dev.fault_armed, true);
	make_key(key, 96);
	cmd_program(tg_ptr(&g, bufs[0].gpa), 5, 4096, key);
	*status = POISON;
	tg_add(&cq, bufs, 2);
	tg_write32(&transport, R_QUEUE_NOTIFY, BLK_CTRL_QUEUE);
	ck_assert(tg_get_used(&cq, &id, &len));
	ck_assert_uint_eq(id, QSIZE);
	ck_assert_uint_eq(len, 0);
	ck_assert(!tg_get_used(&cq, &id, &len));
	ck_assert_uint_eq(*status, POISON);
	ck_assert_uint_eq(programs(), 0);
	check_slot(5);
	program_ok(6, 4096, 97);
	check_slot(6);
}
END_TEST

/*
 * fault=fail-reprogram: a reset before any PROGRAM (the driver's probe) arms
 * nothing; the first reset after one does, and the next PROGRAM (the driver
 * restoring its key) fails with IOERR, the slot left empty. Once only.
 */
START_TEST(fail_reprogram_fails_the_first_program_after_a_reset)
{
	uint8_t key[64];

	dev.key_fault = BLK_FAULT_FAIL_REPROGRAM;
	tg_write32(&transport, R_STATUS, 0);
	reinit(F_V4);
	program_ok(5, 4096, 98);
	check_slot(5);
	tg_write32(&transport, R_STATUS, 0);
	reinit(F_V4);
	memset(model_du, 0, sizeof(model_du));
	make_key(key, 98);
	ck_assert_uint_eq(cq_program(5, 4096, key), IOERR);
	ck_assert_uint_eq(programs(), 1);
	check_slot(5);
	program_ok(5, 4096, 98);
	check_slot(5);
	tg_write32(&transport, R_STATUS, 0);
	reinit(F_V4);
	memset(model_du, 0, sizeof(model_du));
	program_ok(5, 4096, 99);
	check_slot(5);
}
END_TEST

/*
 * A PROGRAM chain taken before a reset (its generation is not the queue's
 * any more) changes nothing, and its status byte is left alone; handed to
 * the control-queue handler directly, as the transport would have.
 */
START_TEST(stale_program_chain_never_lands)
{
	uint64_t cmd = tg_alloc(&g, CMD_SIZE, 8), s = tg_alloc(&g, 1, 1);
	static struct virtq_chain c;
	atomic_uint gen = 3;
	uint8_t *status = tg_ptr(&g, s);

	make_key(model_key[5], 95);
	c = (struct virtq_chain){
		.nbufs = 2, .readable_len = CMD_SIZE, .writable_len = 1, .gen_now = &gen, .gen = 2
	};
	c.bufs[0] = (struct virtq_buf){ tg_ptr(&g, cmd), CMD_SIZE, false };
	c.bufs[1] = (struct virtq_buf){ status, 1, true };
	cmd_program(tg_ptr(&g, cmd), 5, 4096, model_key[5]);
	*status = POISON;
	ck_assert_int_eq(blk_ctrl_handle(&dev, &c, F_V4), 1);
	ck_assert_uint_eq(*status, POISON);
	ck_assert_uint_eq(programs(), 0);
	check_slot(5);
	c.gen = 3;
	cmd_program(tg_ptr(&g, cmd), 5, 4096, model_key[5]);
	ck_assert_int_eq(blk_ctrl_handle(&dev, &c, F_V4), 1);
	ck_assert_uint_eq(*status, OK);
	model_du[5] = 4096;
	check_slot(5);
}
END_TEST

/* ---- 7. the control queue against I/O through the same slot ---- */

/*
 * Thread 1 programs slot RACE_SLOT with key A, then B, then evicts it,
 * through the control queue, in a loop; this thread writes and reads 64 KiB
 * (16 data units of 4 KiB) through that slot with CRYPTO_OUT and CRYPTO_IN.
 * Every completed write leaves data that is entirely A's ciphertext or
 * entirely B's (each unit checked, so a mix is named); every completed read
 * likewise decrypts entirely under one key; a request on the empty slot gets
 * IOERR and touches nothing. Bounded by counts, not time. make tsan runs it
 * under ThreadSanitizer.
 */
#define RACE_SLOT 7
#define RACE_LEN (64 * 1024)
#define RACE_DU 4096
#define RACE_UNITS (RACE_LEN / RACE_DU)
#define RACE_SECTOR 512	       /* 256 KiB in: away from check_slot()'s ranges */
#define RACE_DUN 0xfffffff8ull /* the units cross DUN 2^32 */
#define RACE_MIN 1500
#define RACE_MAX 20000
#define RACE_MAX_CYCLES 1000000

static uint8_t race_a[64], race_b[64];
static atomic_bool race_stop;
static atomic_uint race_cycles;

/* Three commands laid out once in guest memory: PROGRAM A, PROGRAM B, EVICT. */
static void *race_programmer(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg;
	unsigned int k, n;

	for (n = 0; n < RACE_MAX_CYCLES && !atomic_load(&race_stop); n++) {
		for (k = 0; k < 3; k++) {
			struct tg_buf b[2] = { { base + 256 * k, CMD_SIZE, false },
					       { base + 256 * k + 200, 1, true } };
			uint8_t *status = tg_ptr(&g, base + 256 * k + 200);
			uint32_t id, len;

			*status = POISON;
			tg_add(&cq, b, 2);
			tg_write32(&transport, R_QUEUE_NOTIFY, BLK_CTRL_QUEUE);
			if (!tg_get_used(&cq, &id, &len) || len != 1 || *status != OK)
				return (void *)(uintptr_t)(k + 1);
		}
		atomic_fetch_add(&race_cycles, 1);
	}
	return NULL;
}

/* 64 KiB through RACE_SLOT, split over descriptors of odd sizes (units straddle some). */
static uint8_t race_req(bool write, uint64_t base, uint8_t *data)
{
	static const uint32_t pieces[] = { 12288, 5000, 7288, 8192, 1, 4095, 16384, 12288 };
	struct tg_buf bufs[2 + ARRAY_SIZE(pieces)];
	uint8_t *status = tg_ptr(&g, base + 64);
	uint64_t gpa = base + 128;
	uint32_t id, len;
	unsigned int i;

	crypto_hdr(tg_ptr(&g, base), write, RACE_SECTOR, RACE_SLOT, RACE_DUN);
	*status = POISON;
	bufs[0] = (struct tg_buf){ base, BLK_V4_HDR_SIZE, false };
	for (i = 0; i < ARRAY_SIZE(pieces); gpa += pieces[i], i++)
		bufs[1 + i] = (struct tg_buf){ gpa, pieces[i], !write };
	bufs[1 + i] = (struct tg_buf){ base + 64, 1, true };
	if (write)
		memcpy(tg_ptr(&g, base + 128), data, RACE_LEN);
	else
		memset(tg_ptr(&g, base + 128), POISON, RACE_LEN);
	tg_add(&g, bufs, 2 + ARRAY_SIZE(pieces));
	tg_kick(&transport);
	ck_assert_msg(tg_get_used(&g, &id, &len), "the request was not completed");
	ck_assert_uint_eq(len, *status == VIRTIO_BLK_S_OK && !write ? RACE_LEN + 1 : 1);
	if (!write)
		memcpy(data, tg_ptr(&g, base + 128), RACE_LEN);
	return *status;
}

/* 0 or 1 if every unit of data matches that candidate, else -1 and the first unit that does not. */
static int race_which(const uint8_t *data, const uint8_t *cand0, const uint8_t *cand1,
		      unsigned int *bad_unit)
{
	unsigned int u, which = memcmp(data, cand0, RACE_DU) ? 1 : 0;
	const uint8_t *cand = which ? cand1 : cand0;

	for (u = 0; u < RACE_UNITS; u++) {
		if (memcmp(data + u * RACE_DU, cand + u * RACE_DU, RACE_DU)) {
			*bad_unit = u;
			return -1;
		}
	}
	return (int)which;
}

START_TEST(program_evict_race_through_control_queue)
{
	static uint8_t plain[RACE_LEN], ct[2][RACE_LEN], other[2][RACE_LEN], cur[RACE_LEN],
		got[RACE_LEN], poison[RACE_LEN];
	unsigned int i, seen[3] = { 0 }, rseen[3] = { 0 }, cur_key, bad;
	uint64_t io_base = tg_alloc(&g, RACE_LEN + 128, 64), cq_base = tg_alloc(&g, 768, 64);
	uint8_t status;
	pthread_t t;
	void *ret;
	int which;

	make_key(race_a, 150);
	make_key(race_b, 151);
	fill(plain, RACE_LEN, 152);
	memset(poison, POISON, RACE_LEN);
	ref_crypt(race_a, RACE_DU, RACE_DUN, plain, ct[0], RACE_LEN, true);
	ref_crypt(race_b, RACE_DU, RACE_DUN, plain, ct[1], RACE_LEN, true);
	/* what a read gives of A's ciphertext under B, and of B's under A */
	ref_crypt(race_b, RACE_DU, RACE_DUN, ct[0], other[0], RACE_LEN, false);
	ref_crypt(race_a, RACE_DU, RACE_DUN, ct[1], other[1], RACE_LEN, false);

	cmd_program(tg_ptr(&g, cq_base), RACE_SLOT, RACE_DU, race_a);
	cmd_program(tg_ptr(&g, cq_base + 256), RACE_SLOT, RACE_DU, race_b);
	cmd_hdr(tg_ptr(&g, cq_base + 512), VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT);
	put32(tg_ptr(&g, cq_base + 512 + ICE_V4_OUTHDR_SIZE), RACE_SLOT);

	/* the range starts as plain under A */
	ck_assert_uint_eq(cq_program(RACE_SLOT, RACE_DU, race_a), OK);
	ck_assert_uint_eq(race_req(true, io_base, plain), VIRTIO_BLK_S_OK);
	image_read(RACE_SECTOR * 512, cur, RACE_LEN);
	ck_assert_mem_eq(cur, ct[0], RACE_LEN);
	cur_key = 0;
	atomic_store(&race_stop, false);
	atomic_store(&race_cycles, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, race_programmer, (void *)(uintptr_t)cq_base), 0);
	for (i = 0; i < RACE_MIN || (i < RACE_MAX && (!seen[0] || !seen[1] || !seen[2] ||
						      !rseen[0] || !rseen[1] || !rseen[2]));
	     i++) {
		status = race_req(true, io_base, plain);
		image_read(RACE_SECTOR * 512, cur, RACE_LEN);
		if (status == VIRTIO_BLK_S_OK) {
			which = race_which(cur, ct[0], ct[1], &bad);
			ck_assert_msg(which >= 0,
				      "write %u: unit %u is not under unit 0's key (a mix of keys)",
				      i, bad);
			cur_key = (unsigned int)which;
			seen[which]++;
		} else {
			ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
			ck_assert_mem_eq(cur, ct[cur_key], RACE_LEN); /* untouched */
			seen[2]++;
		}
		status = race_req(false, io_base, got);
		if (status == VIRTIO_BLK_S_OK) {
			/* under the key it was written with: plain; under the other: other[] */
			which = race_which(got, plain, other[cur_key], &bad);
			ck_assert_msg(which >= 0, "read %u: unit %u decrypted under another key", i,
				      bad);
			rseen[which]++;
		} else {
			ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
			ck_assert_mem_eq(got, poison, RACE_LEN); /* no data written */
			rseen[2]++;
		}
	}
	atomic_store(&race_stop, true);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_msg(ret == NULL, "control command %lu (1 PROGRAM A, 2 PROGRAM B, 3 EVICT) failed",
		      (unsigned long)(uintptr_t)ret);
	fprintf(stderr,
		"v4 race: %u writes (A %u, B %u, IOERR %u), %u reads (same key %u, other key "
		"%u, IOERR %u); %u PROGRAM A/PROGRAM B/EVICT cycles\n",
		i, seen[0], seen[1], seen[2], i, rseen[0], rseen[1], rseen[2],
		atomic_load(&race_cycles));
	/* the thread stops between cycles: whole cycles, plus the first PROGRAM A */
	ck_assert_uint_eq(programs(), 1 + 2 * (unsigned long)atomic_load(&race_cycles));
	ck_assert_uint_eq(evicts(), atomic_load(&race_cycles));
	ck_assert_uint_gt(seen[0] + seen[1], 0);
	ck_assert_uint_gt(rseen[0] + rseen[1], 0);
}
END_TEST

/* ---- 8. start-up: what a v4 disk refuses ---- */

START_TEST(open_refuses_what_v4_cannot_be)
{
	struct blk_opts o = { .path = img, .ice = &st, .spec = BLK_ICE_V4 };

	dev_close();
	/* another algorithm */
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x0f, 8, 0), 0);
	st.guest_keys = true;
	dev.disk.fd = -1;
	ck_assert_int_eq(blk_open(&dev, &o), -1);
	ck_assert_ptr_null(dev.ctrl);
	ice_store_free(&st);
	/* host-provisioned (a keys file with slots, or guest_keys = no) */
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 8, 0), 0);
	st.guest_keys = false;
	ck_assert_int_eq(blk_open(&dev, &o), -1);
	ck_assert_ptr_null(dev.ctrl);
	ice_store_free(&st);
	/* a v2 disk of the same store: no control queue, bit 22 is VIRTIO_BLK_F_ICE */
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 8, 0), 0);
	st.guest_keys = true;
	o.spec = BLK_ICE_V2;
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
	dev_is_open = true;
	ck_assert_ptr_null(dev.ctrl);
	ck_assert_ptr_nonnull(dev.keyq);
	ck_assert(offered() & BIT(VIRTIO_BLK_F_ICE));
	ck_assert(!(offered() & BIT(VIRTIO_BLK_F_INLINE_ENCRYPTION)));
}
END_TEST

/*
 * block=512 on a v4 disk with 4096-byte data units: the config says 512 (for
 * testing that a driver copes), and a request with part of a unit is refused.
 */
START_TEST(block_size_below_the_data_unit)
{
	struct blk_opts o = { .path = img, .ice = &st, .spec = BLK_ICE_V4, .block_size = 512 };
	uint8_t key[64], data[4096];

	dev_close();
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 8, 0), 0);
	st.guest_keys = true;
	dev.disk.fd = -1;
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
	dev_is_open = true;
	ck_assert_uint_eq(tg_read32(&transport, R_CONFIG + 0x14), 512);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_V4, QSIZE), S_LIVE);
	ck_assert_uint_eq(tg_queue_attach(&cq, &g, &transport, BLK_CTRL_QUEUE, QSIZE), 1);
	make_key(key, 90);
	fill(data, sizeof(data), 91);
	ck_assert_uint_eq(cq_program(1, 4096, key), OK);
	ck_assert_uint_eq(io(true, 1, 8, 7, data, 4096), OK);
	ck_assert_uint_eq(io(true, 1, 8, 7, data, 2048), IOERR);
	ck_assert_uint_eq(atomic_load(&dev.ice_refused), 1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("blk_v4");
	TCase *ops = tcase_create("ops");
	TCase *ref = tcase_create("refusals");
	TCase *feat = tcase_create("features");
	TCase *rst = tcase_create("reset");
	TCase *race = tcase_create("race");
	TCase *all[] = { ops, ref, feat, rst, race };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 120); /* qemu-user, ThreadSanitizer */
		suite_add_tcase(s, all[i]);
	}
	tcase_add_test(ops, offers_v4_not_v2);
	tcase_add_test(ops, get_crypto_modes_on_both_queues);
	tcase_add_test(ops, program_then_crypto_out_and_in);
	tcase_add_test(ops, program_every_du_and_replace);
	tcase_add_test(ops, evict);
	tcase_add_test(ops, command_split_any_way);
	tcase_add_loop_test(ref, refusal_field, 0, (int)ARRAY_SIZE(bad_fields));
	tcase_add_test(ref, refusal_equal_halves);
	tcase_add_test(ref, refusal_every_unused_byte);
	tcase_add_test(ref, unsupported_types);
	tcase_add_test(ref, wrapped_key_life);
	tcase_add_test(ref, wrapped_key_generate);
	tcase_add_test(ref, wrapped_key_refusals);
	tcase_add_test(ref, wrapped_key_long_term_key);
	tcase_add_loop_test(ref, wrong_shape, 0, (int)ARRAY_SIZE(shapes));
	tcase_add_test(ref, crypto_request_refusals);
	tcase_add_test(feat, inline_encryption_needs_ctrl_vq);
	tcase_add_test(feat, commands_need_their_features);
	tcase_add_test(feat, control_queue_is_index_1);
	tcase_add_test(feat, open_refuses_what_v4_cannot_be);
	tcase_add_test(feat, block_size_below_the_data_unit);
	tcase_add_test(rst, reset_empties_every_slot);
	tcase_add_test(rst, stale_program_chain_never_lands);
	tcase_add_test(rst, lose_program_keeps_the_first_program);
	tcase_add_test(rst, break_queue_completes_the_first_program_out_of_range);
	tcase_add_test(rst, fail_reprogram_fails_the_first_program_after_a_reset);
	tcase_add_test(race, program_evict_race_through_control_queue);
	return s;
}
