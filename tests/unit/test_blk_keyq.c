// SPDX-License-Identifier: GPL-2.0
/*
 * The ICE key queue of a guest-programmed virtio-blk disk (devices/blk_keyq.c,
 * docs/ICE.md "Key queue"), driven as a guest driver would: queue 0 carries
 * requests, queue 1 (the key queue) carries PROGRAM / EVICT / EVICT_ALL, both
 * through the virtio-mmio registers and rings in the fake guest memory.
 *
 * What a slot holds is never taken from the device's word: check_slot() does
 * a write and a read through it on queue 0 and compares the image with the
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
#include "guest.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1ULL << (n))
#define F_ICE (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_ICE))
#define F_GUEST (F_ICE | BIT(VIRTIO_BLK_F_ICE_KEYQ))
#define QSIZE 32
#define IMG_SIZE (1024 * 1024)
#define S_LIVE 0xf
#define POISON 0xa5

/* virtio-mmio registers (4.2.2) */
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070

#define NSLOTS 32
#define CHECK_LEN 4096		  /* a multiple of every data unit of the default engine */
#define CHECK_SECTOR(s) (8 * (s)) /* one 4 KiB range per slot for check_slot() */

static struct test_guest g, kq;
static struct blk_dev dev;
static struct virtio_mmio transport;
static struct ice_store st;
static char img[TG_PATH_MAX];
static bool dev_is_open;
/*
 * kq_chain() without its guest-memory snapshot (8 MiB copied and compared a
 * command): for loops of many rounds, and under ThreadSanitizer, whose
 * memcpy/memcmp checks made the snapshots take minutes (make tsan is for the
 * races; make unit-run checks every snapshot).
 */
#ifdef __SANITIZE_THREAD__
#define KQ_LEAN_DEFAULT true
#else
#define KQ_LEAN_DEFAULT false
#endif
static bool kq_lean = KQ_LEAN_DEFAULT;

/* What the test believes each slot holds: du 0 = empty. */
static uint8_t model_key[NSLOTS][64];
static uint32_t model_du[NSLOTS];

static void fill(uint8_t *buf, size_t len, unsigned int seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

/* A 64-byte key whose XTS halves differ (any prefix of it too). */
static void make_key(uint8_t *key, unsigned int seed)
{
	fill(key, 64, seed);
	key[0] = 0x00;
	key[16] = 0x01;
	key[32] = 0x02;
	key[48] = 0x03;
}

static void dev_open(enum ice_alg alg, enum ice_key_size ks, uint8_t du_mask,
		     unsigned int max_slots, bool guest_keys, uint64_t features)
{
	struct blk_opts o = { .path = img, .ice = &st };

	ck_assert_int_eq(ice_store_init(&st, alg, ks, du_mask, max_slots, 0), 0);
	st.guest_keys = guest_keys;
	dev.disk.fd = -1;
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
	dev_is_open = true;
	ck_assert_uint_eq(tg_driver_init(&g, &transport, features, QSIZE), S_LIVE);
	if (dev.keyq)
		ck_assert_uint_eq(tg_queue_attach(&kq, &g, &transport, BLK_KEY_QUEUE, QSIZE), 1);
	memset(model_du, 0, sizeof(model_du));
}

static void dev_close(void)
{
	if (!dev_is_open)
		return;
	blk_close(&dev);
	ice_store_free(&st);
	dev_is_open = false;
}

/* A device of another engine, on the same image. */
static void dev_reopen(enum ice_alg alg, enum ice_key_size ks, uint8_t du_mask,
		       unsigned int max_slots, bool guest_keys, uint64_t features)
{
	dev_close();
	dev_open(alg, ks, du_mask, max_slots, guest_keys, features);
}

/* The default engine of `--disk PATH,ice`: AES-256-XTS, 512-4096, 32 slots, guest keys. */
static void setup(void)
{
	/* every slot, one in flight, one pinner, and reference stores */
	ck_assert_int_eq(ice_global_init(ice_secmem_size(ice_secmem_keys(NSLOTS, 1) + 8)), 0);
	tg_init(&g);
	ck_assert_int_eq(tg_image_create(img, NULL, 0, IMG_SIZE), 0);
	dev_open(ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, NSLOTS, true, F_GUEST);
}

static void teardown(void)
{
	dev_close();
	unlink(img);
	tg_fini(&g);
}

/* The driver re-initialises after a reset: queue 0 and, if there is one, the key queue. */
static void reinit(uint64_t features)
{
	ck_assert_uint_eq(tg_driver_init(&g, &transport, features, QSIZE), S_LIVE);
	if (dev.keyq)
		ck_assert_uint_eq(tg_queue_attach(&kq, &g, &transport, BLK_KEY_QUEUE, QSIZE), 1);
}

/* ---- the key queue, as a driver sends commands ---- */

static void cmd_make(uint8_t *c, uint32_t op, uint8_t slot, uint8_t du_mask, uint8_t key_len,
		     const uint8_t *key)
{
	memset(c, 0, ICE_KEYQ_CMD_SIZE);
	c[0] = (uint8_t)op;
	c[1] = (uint8_t)(op >> 8);
	c[2] = (uint8_t)(op >> 16);
	c[3] = (uint8_t)(op >> 24);
	c[4] = slot;
	c[5] = du_mask;
	c[6] = key_len;
	if (key)
		memcpy(c + ICE_KEYQ_OFF_KEY, key, key_len < 64 ? key_len : 64);
}

struct seg {
	uint32_t len;
	bool writable;
};

#define NO_USED 0xffffffffu

/*
 * Send one chain on the key queue: the readable segments carry bytes[] in
 * order (bytes must be as long as they are together), the writable ones
 * start as POISON. Checks that the device wrote no guest byte but the used
 * ring and the last byte of the last segment if that one is writable (the
 * status), and that it completed at most one element. Returns the used
 * length (NO_USED: not completed); *status is the last byte of the last
 * segment.
 */
static uint32_t kq_chain(const uint8_t *bytes, const struct seg *segs, unsigned int n,
			 uint8_t *status)
{
	struct tg_buf bufs[QSIZE];
	uint64_t gpa, diff;
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
		} else {
			memcpy(tg_ptr(&g, gpa), bytes + off, segs[i].len);
			off += segs[i].len;
		}
	}
	head = tg_add(&kq, bufs, n);
	snap = kq_lean ? NULL : tg_snapshot(&g);
	tg_write32(&transport, R_QUEUE_NOTIFY, BLK_KEY_QUEUE);
	if (tg_get_used(&kq, &id, &len)) {
		ck_assert_uint_eq(id, head);
		ck_assert_msg(!tg_get_used(&kq, &id, &len2), "one command, two used elements");
	} else {
		len = NO_USED;
	}
	gpa = bufs[n - 1].gpa + bufs[n - 1].len - 1;
	*status = *(uint8_t *)tg_ptr(&g, gpa);
	if (!snap)
		return len;
	if (segs[n - 1].writable)
		tg_snapshot_accept(&g, snap, gpa, 1);
	tg_snapshot_accept_used(&kq, snap);
	diff = tg_snapshot_diff(&g, snap);
	free(snap);
	ck_assert_msg(diff == 0, "the key queue wrote guest memory at 0x%llx",
		      (unsigned long long)diff);
	return len;
}

/* The well-formed chain: 80 readable bytes, one status byte. Returns the status (used len 1). */
static uint8_t kq_send(const uint8_t *c)
{
	static const struct seg std[] = { { ICE_KEYQ_CMD_SIZE, false }, { 1, true } };
	uint8_t status;

	ck_assert_uint_eq(kq_chain(c, std, 2, &status), 1);
	return status;
}

static uint8_t kq_program(uint8_t slot, uint32_t du, const uint8_t *key, uint8_t key_len)
{
	uint8_t c[ICE_KEYQ_CMD_SIZE];

	cmd_make(c, ICE_KEYQ_OP_PROGRAM, slot, (uint8_t)(du / 512), key_len, key);
	return kq_send(c);
}

/* PROGRAM that must succeed; the model follows. */
static void program_ok(uint8_t slot, uint32_t du, unsigned int key_seed)
{
	make_key(model_key[slot], key_seed);
	ck_assert_uint_eq(kq_program(slot, du, model_key[slot], (uint8_t)ice_key_len(&st)),
			  ICE_KEYQ_S_OK);
	model_du[slot] = du;
}

static uint8_t kq_evict(uint8_t slot)
{
	uint8_t c[ICE_KEYQ_CMD_SIZE];

	cmd_make(c, ICE_KEYQ_OP_EVICT, slot, 0, 0, NULL);
	return kq_send(c);
}

static uint8_t kq_evict_all(void)
{
	uint8_t c[ICE_KEYQ_CMD_SIZE];

	cmd_make(c, ICE_KEYQ_OP_EVICT_ALL, 0, 0, 0, NULL);
	return kq_send(c);
}

static unsigned long programs(void)
{
	return atomic_load(&dev.keyq->programs);
}

static unsigned long evicts(void)
{
	return atomic_load(&dev.keyq->evicts);
}

/* ---- requests on queue 0 ---- */

/*
 * One IN or OUT of len bytes through `slot` with activate=1 at sector/dun,
 * the data in two descriptors split at an odd byte (so a data unit
 * straddles them). Returns the status and checks the used length; a read's
 * data is copied to data.
 */
static uint8_t io(bool write, uint8_t slot, uint64_t sector, uint64_t dun, uint8_t *data,
		  uint32_t len)
{
	uint64_t h = tg_alloc(&g, 32, 8), d = tg_alloc(&g, len, 8), s = tg_alloc(&g, 1, 1);
	uint32_t type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, id, used, cut = len / 3 | 1;
	struct tg_buf b[4] = {
		{ h, 32, false }, { d, cut, !write }, { d + cut, len - cut, !write }, { s, 1, true }
	};
	uint8_t *hdr = tg_ptr(&g, h), *status = tg_ptr(&g, s);

	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	hdr[16] = slot;
	hdr[17] = 1; /* activate */
	memcpy(hdr + 24, &dun, 8);
	if (write)
		memcpy(tg_ptr(&g, d), data, len);
	else
		memset(tg_ptr(&g, d), POISON, len);
	*status = POISON;
	tg_submit(&g, &transport, b, 4);
	ck_assert_msg(tg_get_used(&g, &id, &used), "the request was not completed");
	if (*status == VIRTIO_BLK_S_OK && !write)
		ck_assert_uint_eq(used, len + 1);
	else
		ck_assert_uint_eq(used, 1);
	if (!write)
		memcpy(data, tg_ptr(&g, d), len);
	return *status;
}

static void image_read(uint64_t off, uint8_t *buf, size_t len)
{
	int fd = open(img, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* What a store of st's engine makes of in under key/du from dun (another store: a reference). */
static void ref_crypt(const uint8_t *key, uint32_t du, uint64_t dun, const uint8_t *in,
		      uint8_t *out, size_t len, bool encrypt)
{
	struct ice_store ref;

	ck_assert_int_eq(ice_store_init(&ref, st.alg, st.key_size, st.du_mask, 1, 0), 0);
	ck_assert_int_eq(ice_slot_program(&ref, 0, key, ice_key_len(&ref), du), 0);
	ck_assert_int_eq(ice_crypt_to(&ref, 0, dun, in, out, len, encrypt), 0);
	ice_store_free(&ref);
}

/*
 * The slot holds what the model says, seen through I/O: with a key, a write
 * stores that key's ciphertext and a read gives the plaintext back; empty,
 * both fail with IOERR, the image and the read buffer untouched.
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
		ck_assert_msg(io(true, (uint8_t)slot, sector, dun, plain, CHECK_LEN) ==
				      VIRTIO_BLK_S_OK,
			      "slot %u: a write failed", slot);
		ref_crypt(model_key[slot], model_du[slot], dun, plain, want, CHECK_LEN, true);
		image_read(sector * 512, got, CHECK_LEN);
		ck_assert_msg(!memcmp(got, want, CHECK_LEN), "slot %u: not the expected key", slot);
		ck_assert_uint_eq(io(false, (uint8_t)slot, sector, dun, got, CHECK_LEN),
				  VIRTIO_BLK_S_OK);
		ck_assert_mem_eq(got, plain, CHECK_LEN);
	} else {
		ck_assert_msg(io(true, (uint8_t)slot, sector, dun, plain, CHECK_LEN) ==
				      VIRTIO_BLK_S_IOERR,
			      "slot %u: a write on an empty slot did not fail", slot);
		image_read(sector * 512, got, CHECK_LEN);
		ck_assert_mem_eq(got, before, CHECK_LEN);
		ck_assert_uint_eq(io(false, (uint8_t)slot, sector, dun, got, CHECK_LEN),
				  VIRTIO_BLK_S_IOERR);
		ck_assert_mem_eq(got, poison, CHECK_LEN);
	}
}

/* ---- 1. every op through the device ---- */

/* PROGRAM a slot, write through it, and find the engine's ciphertext in the image. */
START_TEST(program_then_encrypted_write)
{
	uint8_t key[64], data[4096], want[4096], got[4096], hdr[32] = { 0 }, *p;
	uint64_t h = tg_alloc(&g, 32, 8), d = tg_alloc(&g, 4096, 512), s = tg_alloc(&g, 1, 1);
	struct tg_buf b[3] = { { h, 32, false }, { d, 4096, false }, { s, 1, true } };
	uint32_t id, len, type = VIRTIO_BLK_T_OUT;
	uint64_t sector = 8, dun = 77;
	struct ice_store ref;
	int fd;

	for (unsigned int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (unsigned int i = 0; i < 4096; i++)
		data[i] = (uint8_t)(i * 13);
	ck_assert_uint_eq(kq_program(5, 4096, key, 64), ICE_KEYQ_S_OK);
	ck_assert_uint_eq(programs(), 1);

	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	hdr[16] = 5; /* slot */
	hdr[17] = 1; /* activate */
	memcpy(hdr + 24, &dun, 8);
	memcpy(tg_ptr(&g, h), hdr, 32);
	memcpy(tg_ptr(&g, d), data, 4096);
	p = tg_ptr(&g, s);
	*p = 0xff;
	tg_submit(&g, &transport, b, 3);
	ck_assert(tg_get_used(&g, &id, &len));
	ck_assert_uint_eq(*p, VIRTIO_BLK_S_OK);

	/* The same key through the engine directly (the offline command's path). */
	ck_assert_int_eq(ice_store_init(&ref, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 32, 0), 0);
	ck_assert_int_eq(ice_slot_program(&ref, 0, key, 64, 4096), 0);
	ck_assert_int_eq(ice_crypt_to(&ref, 0, dun, data, want, 4096, true), 0);
	ice_store_free(&ref);
	fd = open(img, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, got, 4096, (off_t)sector * 512), 4096);
	close(fd);
	ck_assert_mem_eq(got, want, 4096);
	ck_assert_uint_eq(atomic_load(&dev.du_encrypted), 1); /* the summary's counters */
	ck_assert_uint_eq(atomic_load(&dev.du_decrypted), 0);

	/* Read it back through the slot (decrypted), then fail one: only done units count. */
	type = VIRTIO_BLK_T_IN;
	memcpy(tg_ptr(&g, h), &type, 4);
	b[1].writable = true;
	memset(tg_ptr(&g, d), 0, 4096);
	tg_submit(&g, &transport, b, 3);
	ck_assert(tg_get_used(&g, &id, &len));
	ck_assert_uint_eq(*p, VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(tg_ptr(&g, d), data, 4096);
	ck_assert_uint_eq(atomic_load(&dev.du_decrypted), 1);
	((uint8_t *)tg_ptr(&g, h))[16] = 6; /* an empty slot */
	tg_submit(&g, &transport, b, 3);
	ck_assert(tg_get_used(&g, &id, &len));
	ck_assert_uint_eq(*p, VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(atomic_load(&dev.du_encrypted), 1);
	ck_assert_uint_eq(atomic_load(&dev.du_decrypted), 1);
}
END_TEST

/* Every data unit size, the first and last slot, and a PROGRAM that replaces a key. */
START_TEST(program_every_du_and_replace)
{
	unsigned int s;

	for (s = 0; s < NSLOTS; s++)
		check_slot(s); /* the store starts empty */
	program_ok(0, 512, 1);
	program_ok(1, 1024, 2);
	program_ok(2, 2048, 3);
	program_ok(31, 4096, 4);
	ck_assert_uint_eq(programs(), 4);
	ck_assert_uint_eq(evicts(), 0);
	check_slot(0);
	check_slot(1);
	check_slot(2);
	check_slot(31);
	check_slot(3);
	/* another key and another data unit size in slot 0: both change */
	program_ok(0, 4096, 5);
	ck_assert_uint_eq(programs(), 5);
	check_slot(0);
	check_slot(1);
	/* every slot at once, each with its own key, then each replaced */
	for (s = 0; s < NSLOTS; s++)
		program_ok((uint8_t)s, 512u << (s % 4), 10 + s);
	for (s = 0; s < NSLOTS; s++)
		check_slot(s);
	for (s = 0; s < NSLOTS; s++)
		program_ok((uint8_t)s, 4096u >> (s % 4), 50 + s);
	for (s = 0; s < NSLOTS; s++)
		check_slot(s);
	ck_assert_uint_eq(programs(), 5 + 2 * NSLOTS);
}
END_TEST

START_TEST(evict_one_slot)
{
	program_ok(3, 4096, 10);
	program_ok(4, 512, 11);
	check_slot(3);
	ck_assert_uint_eq(kq_evict(3), ICE_KEYQ_S_OK);
	model_du[3] = 0;
	ck_assert_uint_eq(evicts(), 1);
	ck_assert_uint_eq(programs(), 2);
	check_slot(3); /* IOERR for IN and OUT, nothing written */
	check_slot(4); /* the neighbour keeps its key */
	/* an empty slot: OK, nothing changes (the counter counts accepted commands) */
	ck_assert_uint_eq(kq_evict(3), ICE_KEYQ_S_OK);
	ck_assert_uint_eq(kq_evict(20), ICE_KEYQ_S_OK);
	ck_assert_uint_eq(kq_evict(31), ICE_KEYQ_S_OK);
	ck_assert_uint_eq(evicts(), 4);
	check_slot(3);
	check_slot(4);
	check_slot(20);
	/* and the slot takes a key again */
	program_ok(3, 1024, 12);
	check_slot(3);
}
END_TEST

START_TEST(evict_all_slots)
{
	unsigned int s;

	program_ok(0, 4096, 20);
	program_ok(7, 512, 21);
	program_ok(31, 2048, 22);
	ck_assert_uint_eq(kq_evict_all(), ICE_KEYQ_S_OK);
	memset(model_du, 0, sizeof(model_du));
	ck_assert_uint_eq(evicts(), 1);
	ck_assert_uint_eq(programs(), 3);
	for (s = 0; s < NSLOTS; s++)
		check_slot(s);
	/* on an empty store too */
	ck_assert_uint_eq(kq_evict_all(), ICE_KEYQ_S_OK);
	ck_assert_uint_eq(evicts(), 2);
	program_ok(7, 4096, 23);
	check_slot(7);
	check_slot(0);
}
END_TEST

/*
 * ANY_LAYOUT (2.7.4.3): the 80 bytes may come in any number of readable
 * descriptors, cut anywhere. Each cut programs a different key, so a byte
 * taken from the wrong place would show in the ciphertext.
 */
START_TEST(command_split_any_way)
{
	static const uint32_t three[][3] = { { 1, 1, 78 }, { 16, 48, 16 }, { 7, 9, 64 },
					     { 78, 1, 1 }, { 4, 4, 72 },   { 15, 2, 63 } };
	uint8_t c[ICE_KEYQ_CMD_SIZE], status;
	struct seg segs[QSIZE];
	unsigned int k, i, n = 0;

	for (k = 1; k < ICE_KEYQ_CMD_SIZE; k++, n++) {
		make_key(model_key[6], 100 + k);
		cmd_make(c, ICE_KEYQ_OP_PROGRAM, 6, 0x08, 64, model_key[6]);
		segs[0] = (struct seg){ k, false };
		segs[1] = (struct seg){ ICE_KEYQ_CMD_SIZE - k, false };
		segs[2] = (struct seg){ 1, true };
		ck_assert_uint_eq(kq_chain(c, segs, 3, &status), 1);
		ck_assert_msg(status == ICE_KEYQ_S_OK, "cut at %u: status %u", k, status);
		model_du[6] = 4096;
		check_slot(6);
	}
	for (k = 0; k < ARRAY_SIZE(three); k++, n++) {
		make_key(model_key[6], 200 + k);
		cmd_make(c, ICE_KEYQ_OP_PROGRAM, 6, 0x01, 64, model_key[6]);
		for (i = 0; i < 3; i++)
			segs[i] = (struct seg){ three[k][i], false };
		segs[3] = (struct seg){ 1, true };
		ck_assert_uint_eq(kq_chain(c, segs, 4, &status), 1);
		ck_assert_uint_eq(status, ICE_KEYQ_S_OK);
		model_du[6] = 512;
		check_slot(6);
	}
	/* 31 readable pieces (the longest chain the ring takes): 30 x 2 bytes, then 20 */
	make_key(model_key[6], 300);
	cmd_make(c, ICE_KEYQ_OP_PROGRAM, 6, 0x04, 64, model_key[6]);
	for (i = 0; i < 30; i++)
		segs[i] = (struct seg){ 2, false };
	segs[30] = (struct seg){ 20, false };
	segs[31] = (struct seg){ 1, true };
	ck_assert_uint_eq(kq_chain(c, segs, 32, &status), 1);
	ck_assert_uint_eq(status, ICE_KEYQ_S_OK);
	model_du[6] = 2048;
	n++;
	check_slot(6);
	/* EVICT split too */
	cmd_make(c, ICE_KEYQ_OP_EVICT, 6, 0, 0, NULL);
	segs[0] = (struct seg){ 5, false };
	segs[1] = (struct seg){ 75, false };
	segs[2] = (struct seg){ 1, true };
	ck_assert_uint_eq(kq_chain(c, segs, 3, &status), 1);
	ck_assert_uint_eq(status, ICE_KEYQ_S_OK);
	model_du[6] = 0;
	check_slot(6);
	ck_assert_uint_eq(programs(), n);
	ck_assert_uint_eq(evicts(), 1);
}
END_TEST

/*
 * With VIRTIO_F_RING_INDIRECT_DESC (2.7.5.3) the command may sit in an
 * indirect table, split there too: one descriptor in the ring.
 */
START_TEST(command_in_indirect_table)
{
	uint64_t table = tg_alloc(&g, 16 * 4, 16), cmd = tg_alloc(&g, ICE_KEYQ_CMD_SIZE, 8);
	uint64_t s = tg_alloc(&g, 1, 1);
	uint16_t head;
	uint32_t id, len;

	reinit(F_GUEST | BIT(VIRTIO_F_RING_INDIRECT_DESC));
	make_key(model_key[17], 400);
	cmd_make(tg_ptr(&g, cmd), ICE_KEYQ_OP_PROGRAM, 17, 0x02, 64, model_key[17]);
	tg_desc(&kq, table, 0, cmd, 3, VIRTQ_DESC_F_NEXT, 1);
	tg_desc(&kq, table, 1, cmd + 3, 60, VIRTQ_DESC_F_NEXT, 2);
	tg_desc(&kq, table, 2, cmd + 63, 17, VIRTQ_DESC_F_NEXT, 3);
	tg_desc(&kq, table, 3, s, 1, VIRTQ_DESC_F_WRITE, 0);
	head = kq.next_desc;
	kq.next_desc = (uint16_t)((head + 1) % kq.num);
	tg_desc(&kq, 0, head, table, 16 * 4, VIRTQ_DESC_F_INDIRECT, 0);
	*(uint8_t *)tg_ptr(&g, s) = POISON;
	tg_publish(&kq, head);
	tg_write32(&transport, R_QUEUE_NOTIFY, BLK_KEY_QUEUE);
	ck_assert(tg_get_used(&kq, &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, s), ICE_KEYQ_S_OK);
	model_du[17] = 1024;
	check_slot(17);
	ck_assert_uint_eq(programs(), 1);
}
END_TEST

/* ---- 2. every refusal: exact status, used length 1, nothing changed ---- */

struct refusal {
	const char *what;
	uint32_t op;
	uint8_t slot, du_mask, key_len;
	bool key;	   /* a key in key[0..64) (a PROGRAM's, or junk for EVICT*) */
	bool equal_halves; /* XTS halves equal */
	int poke;	   /* -1, or an offset to set to poke_val */
	uint8_t poke_val;
	uint8_t want;
};

#define P ICE_KEYQ_OP_PROGRAM
#define E ICE_KEYQ_OP_EVICT
#define EA ICE_KEYQ_OP_EVICT_ALL
#define IOERR ICE_KEYQ_S_IOERR
#define UNSUPP ICE_KEYQ_S_UNSUPP

/* Against slot 3 holding key "old" (4096) and slot 4 empty; the default engine. */
static const struct refusal refusals[] = {
	{ "PROGRAM slot 32 (= max_slots)", P, 32, 0x08, 64, true, false, -1, 0, IOERR },
	{ "PROGRAM slot 255", P, 255, 0x08, 64, true, false, -1, 0, IOERR },
	{ "EVICT slot 32 (= max_slots)", E, 32, 0, 0, false, false, -1, 0, IOERR },
	{ "EVICT slot 255", E, 255, 0, 0, false, false, -1, 0, IOERR },
	{ "du_mask empty", P, 3, 0x00, 64, true, false, -1, 0, IOERR },
	{ "du_mask two bits", P, 3, 0x03, 64, true, false, -1, 0, IOERR },
	{ "du_mask two bits, one outside", P, 3, 0x18, 64, true, false, -1, 0, IOERR },
	{ "du_mask 8 KiB (outside 0x0f)", P, 3, 0x10, 64, true, false, -1, 0, IOERR },
	{ "du_mask 64 KiB (outside 0x0f)", P, 3, 0x80, 64, true, false, -1, 0, IOERR },
	{ "du_mask all bits", P, 3, 0xff, 64, true, false, -1, 0, IOERR },
	{ "key_len 0", P, 3, 0x08, 0, true, false, -1, 0, IOERR },
	{ "key_len 32 (AES-128-XTS)", P, 3, 0x08, 32, true, false, -1, 0, IOERR },
	{ "key_len 63", P, 3, 0x08, 63, true, false, -1, 0, IOERR },
	{ "key_len 65", P, 3, 0x08, 65, true, false, -1, 0, IOERR },
	{ "key_len 255", P, 3, 0x08, 255, true, false, -1, 0, IOERR },
	{ "equal XTS halves", P, 3, 0x08, 64, true, true, -1, 0, IOERR },
	{ "PROGRAM reserved byte 7", P, 3, 0x08, 64, true, false, 7, 0x01, IOERR },
	{ "PROGRAM reserved byte 7 = 0x80", P, 3, 0x08, 64, true, false, 7, 0x80, IOERR },
	{ "PROGRAM le64 byte 8", P, 3, 0x08, 64, true, false, 8, 0x01, IOERR },
	{ "PROGRAM le64 byte 11", P, 3, 0x08, 64, true, false, 11, 0x40, IOERR },
	{ "PROGRAM le64 byte 15", P, 3, 0x08, 64, true, false, 15, 0x80, IOERR },
	{ "EVICT reserved byte 7", E, 3, 0, 0, false, false, 7, 0x01, IOERR },
	{ "EVICT le64 byte 8", E, 3, 0, 0, false, false, 8, 0x01, IOERR },
	{ "EVICT le64 byte 15", E, 3, 0, 0, false, false, 15, 0xff, IOERR },
	{ "EVICT du_mask", E, 3, 0x08, 0, false, false, -1, 0, IOERR },
	{ "EVICT key_len", E, 3, 0, 64, false, false, -1, 0, IOERR },
	{ "EVICT key and key_len", E, 3, 0x08, 64, true, false, -1, 0, IOERR },
	{ "EVICT key byte 0", E, 3, 0, 0, false, false, 16, 0x01, IOERR },
	{ "EVICT key byte 63", E, 3, 0, 0, false, false, 79, 0x01, IOERR },
	{ "EVICT_ALL slot 3", EA, 3, 0, 0, false, false, -1, 0, IOERR },
	{ "EVICT_ALL slot 255", EA, 255, 0, 0, false, false, -1, 0, IOERR },
	{ "EVICT_ALL reserved byte 7", EA, 0, 0, 0, false, false, 7, 0x01, IOERR },
	{ "EVICT_ALL le64 byte 8", EA, 0, 0, 0, false, false, 8, 0x01, IOERR },
	{ "EVICT_ALL le64 byte 14", EA, 0, 0, 0, false, false, 14, 0x10, IOERR },
	{ "EVICT_ALL du_mask", EA, 0, 0x01, 0, false, false, -1, 0, IOERR },
	{ "EVICT_ALL key_len", EA, 0, 0, 64, false, false, -1, 0, IOERR },
	{ "EVICT_ALL key byte 0", EA, 0, 0, 0, false, false, 16, 0x01, IOERR },
	{ "EVICT_ALL key byte 40", EA, 0, 0, 0, false, false, 56, 0x20, IOERR },
	{ "EVICT_ALL key byte 63", EA, 0, 0, 0, false, false, 79, 0x80, IOERR },
	{ "op 0", 0, 3, 0x08, 64, true, false, -1, 0, UNSUPP },
	{ "op 4", 4, 3, 0x08, 64, true, false, -1, 0, UNSUPP },
	{ "op 0x101 (PROGRAM in the low byte)", 0x101, 3, 0x08, 64, true, false, -1, 0, UNSUPP },
	{ "op 0x01000002 (EVICT in the low byte)", 0x01000002, 3, 0, 0, false, false, -1, 0,
	  UNSUPP },
	{ "op 0xffffffff", 0xffffffff, 3, 0, 0, false, false, -1, 0, UNSUPP },
	/* an unknown op is judged on nothing else (its fields are unknown) */
	{ "op 5 with reserved bytes set", 5, 3, 0, 0, false, false, 8, 0x01, UNSUPP },
};

static void refusal_prepare(void)
{
	program_ok(3, 4096, 40);
	ck_assert_uint_eq(programs(), 1);
	ck_assert_uint_eq(evicts(), 0);
}

static void refusal_changed_nothing(void)
{
	ck_assert_uint_eq(programs(), 1);
	ck_assert_uint_eq(evicts(), 0);
	check_slot(3); /* still the old key */
	check_slot(4); /* still empty */
	check_slot(31);
}

START_TEST(refusal)
{
	const struct refusal *r = &refusals[_i];
	uint8_t c[ICE_KEYQ_CMD_SIZE], key[64], status;

	refusal_prepare();
	make_key(key, 41);
	if (r->equal_halves)
		memcpy(key + 32, key, 32);
	cmd_make(c, r->op, r->slot, r->du_mask, 0, r->key ? key : NULL);
	if (r->key)
		memcpy(c + ICE_KEYQ_OFF_KEY, key, 64); /* whatever key_len says */
	c[ICE_KEYQ_OFF_KEY_LEN] = r->key_len;
	if (r->poke >= 0)
		c[r->poke] = r->poke_val;
	status = kq_send(c); /* used length 1, no other guest byte written */
	ck_assert_msg(status == r->want, "%s: status %u, want %u", r->what, status, r->want);
	refusal_changed_nothing();
}
END_TEST

/* Every byte of key[] is judged for EVICT and EVICT_ALL, and every reserved byte for all ops. */
START_TEST(refusal_every_unused_byte)
{
	static const uint32_t ops[] = { P, E, EA };
	uint8_t c[ICE_KEYQ_CMD_SIZE], key[64];
	unsigned int o, off;

	refusal_prepare();
	make_key(key, 42);
	for (o = 0; o < ARRAY_SIZE(ops); o++) {
		for (off = ICE_KEYQ_OFF_RESERVED; off < ICE_KEYQ_CMD_SIZE; off++) {
			if (ops[o] == P && off >= ICE_KEYQ_OFF_KEY)
				break; /* the key: all 64 bytes used */
			cmd_make(c, ops[o], ops[o] == EA ? 0 : 3, ops[o] == P ? 0x08 : 0,
				 ops[o] == P ? 64 : 0, ops[o] == P ? key : NULL);
			c[off] = (uint8_t)(1u << (off % 8));
			ck_assert_msg(kq_send(c) == IOERR, "op %u, byte %u set: not refused",
				      ops[o], off);
			ck_assert_uint_eq(ice_slot_du(&st, 3), 4096);
		}
	}
	refusal_changed_nothing();
}
END_TEST

/*
 * Another engine: AES-128-XTS (key_len 32, so key[32..64) is unused), data
 * units 1 KiB and 4 KiB only (so 512 is outside the capability although it
 * is inside the default's), 8 slots.
 */
START_TEST(refusal_short_key_engine)
{
	uint8_t c[ICE_KEYQ_CMD_SIZE], key[64];
	unsigned int off;

	dev_reopen(ICE_ALG_AES_XTS, ICE_KEY_128, 0x0a, 8, true, F_GUEST);
	ck_assert_uint_eq(dev.keyq->caps.key_len, 32);
	program_ok(3, 4096, 50);
	program_ok(7, 1024, 51);
	check_slot(3);
	check_slot(7);
	make_key(key, 52);
	/* key bytes past key_len: each one */
	for (off = ICE_KEYQ_OFF_KEY + 32; off < ICE_KEYQ_CMD_SIZE; off++) {
		cmd_make(c, P, 3, 0x08, 32, key);
		c[off] = 0x01;
		ck_assert_msg(kq_send(c) == IOERR, "key byte %u past key_len: not refused",
			      off - ICE_KEYQ_OFF_KEY);
	}
	cmd_make(c, P, 3, 0x08, 64, key);
	ck_assert_uint_eq(kq_send(c), IOERR); /* the default engine's length */
	cmd_make(c, P, 3, 0x08, 16, key);
	ck_assert_uint_eq(kq_send(c), IOERR);
	cmd_make(c, P, 3, 0x01, 32, key); /* 512: not offered here */
	ck_assert_uint_eq(kq_send(c), IOERR);
	cmd_make(c, P, 3, 0x04, 32, key); /* 2048: not offered here */
	ck_assert_uint_eq(kq_send(c), IOERR);
	cmd_make(c, P, 8, 0x08, 32, key); /* max_slots 8 */
	ck_assert_uint_eq(kq_send(c), IOERR);
	cmd_make(c, E, 8, 0, 0, NULL);
	ck_assert_uint_eq(kq_send(c), IOERR);
	memcpy(key + 16, key, 16); /* equal 16-byte halves */
	cmd_make(c, P, 3, 0x08, 32, key);
	ck_assert_uint_eq(kq_send(c), IOERR);
	ck_assert_uint_eq(programs(), 2);
	ck_assert_uint_eq(evicts(), 0);
	check_slot(3);
	check_slot(7);
	check_slot(0);
	/* and the good command still works: 1 KiB into slot 3 */
	program_ok(3, 1024, 53);
	check_slot(3);
}
END_TEST

/* ESSIV-AES-128-CBC: key_len 16; "equal halves" mean nothing there. */
START_TEST(essiv_engine_program)
{
	uint8_t c[ICE_KEYQ_CMD_SIZE], key[64];

	dev_reopen(ICE_ALG_ESSIV_AES_CBC, ICE_KEY_128, 0x09, 4, true, F_GUEST);
	ck_assert_uint_eq(dev.keyq->caps.key_len, 16);
	make_key(key, 60);
	cmd_make(c, P, 1, 0x08, 32, key);
	ck_assert_uint_eq(kq_send(c), IOERR);
	cmd_make(c, P, 1, 0x08, 16, key);
	c[ICE_KEYQ_OFF_KEY + 16] = 1;
	ck_assert_uint_eq(kq_send(c), IOERR);
	model_du[1] = 0;
	check_slot(1);
	/* a key whose 8-byte halves are equal is an ordinary AES-128 key */
	memcpy(key + 8, key, 8);
	memcpy(model_key[1], key, 16);
	ck_assert_uint_eq(kq_program(1, 4096, key, 16), ICE_KEYQ_S_OK);
	model_du[1] = 4096;
	check_slot(1);
	ck_assert_uint_eq(programs(), 1);
}
END_TEST

/* Chains of the wrong shape, each carrying a valid PROGRAM of slot 3. */
struct shape {
	const char *what;
	unsigned int n;
	struct seg segs[5];
	uint32_t used; /* NO_USED never: the device always completes */
	bool needs_reset;
};

static const struct shape shapes[] = {
	{ "79 readable bytes", 2, { { 79, false }, { 1, true } }, 1, false },
	{ "81 readable bytes", 2, { { 81, false }, { 1, true } }, 1, false },
	{ "81 readable bytes in two", 3, { { 80, false }, { 1, false }, { 1, true } }, 1, false },
	{ "a status of 2 bytes", 2, { { 80, false }, { 2, true } }, 1, false },
	{ "writable byte, then status", 3, { { 80, false }, { 1, true }, { 1, true } }, 1, false },
	{ "64 writable, then status", 3, { { 80, false }, { 64, true }, { 1, true } }, 1, false },
	{ "no readable bytes", 1, { { 1, true } }, 1, false },
	{ "all 81 bytes writable", 1, { { 81, true } }, 1, false },
	/* virtq_pop() refuses it; the fail hook puts IOERR in its last byte */
	{ "readable after writable",
	  4,
	  { { 40, false }, { 1, true }, { 40, false }, { 1, true } },
	  1,
	  false },
	{ "the status byte read-only", 2, { { 80, false }, { 1, false } }, 0, true },
	{ "81 readable bytes, nothing writable", 1, { { 81, false } }, 0, true },
	{ "80 readable bytes, nothing writable", 1, { { 80, false } }, 0, true },
};

START_TEST(wrong_shape)
{
	const struct shape *sh = &shapes[_i];
	uint8_t bytes[256] = { 0 }, key[64], status;
	uint32_t used;

	refusal_prepare();
	make_key(key, 70);
	cmd_make(bytes, P, 3, 0x08, 64, key);
	used = kq_chain(bytes, sh->segs, sh->n, &status);
	ck_assert_msg(used == sh->used, "%s: used length %u, want %u", sh->what, used, sh->used);
	if (sh->segs[sh->n - 1].writable)
		ck_assert_msg(status == IOERR, "%s: status %u", sh->what, status);
	ck_assert_msg(!!(tg_read32(&transport, R_STATUS) & VIRTIO_STATUS_NEEDS_RESET) ==
			      sh->needs_reset,
		      "%s: DEVICE_NEEDS_RESET %s", sh->what, sh->needs_reset ? "clear" : "set");
	refusal_changed_nothing();
}
END_TEST

/* ---- 3. feature negotiation ---- */

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

START_TEST(keyq_offered_with_guest_keys_only)
{
	uint8_t key[64];

	/* guest-programmed: both bits, two queues */
	ck_assert(offered() & BIT(VIRTIO_BLK_F_ICE));
	ck_assert(offered() & BIT(VIRTIO_BLK_F_ICE_KEYQ));
	ck_assert_uint_eq(VIRTIO_BLK_F_ICE_KEYQ, 63);
	ck_assert_uint_eq(queue_num_max(0), VIRTQ_MAX_SIZE);
	ck_assert_uint_eq(queue_num_max(1), VIRTQ_MAX_SIZE);
	ck_assert_uint_eq(queue_num_max(2), 0);

	/* host-provisioned (a keys file with slots, or guest_keys = no): ICE, no key queue */
	dev_close();
	make_key(key, 80);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 32, 0), 0);
	st.guest_keys = false;
	ck_assert_int_eq(ice_slot_program(&st, 2, key, 64, 4096), 0);
	dev.disk.fd = -1;
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport,
				     &(struct blk_opts){ .path = img, .ice = &st }),
			 0);
	dev_is_open = true;
	ck_assert_ptr_null(dev.keyq);
	ck_assert(offered() & BIT(VIRTIO_BLK_F_ICE));
	ck_assert(!(offered() & BIT(VIRTIO_BLK_F_ICE_KEYQ)));
	ck_assert_uint_eq(queue_num_max(0), VIRTQ_MAX_SIZE);
	ck_assert_uint_eq(queue_num_max(1), 0);
	/* a driver that asks for it anyway: not offered, so FEATURES_OK stays clear */
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_GUEST, QSIZE), 1 | 2);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_ICE, QSIZE), S_LIVE);
	ck_assert_uint_eq(ice_slot_du(&st, 2), 4096);

	/* an empty store with guest_keys off: the same, ICE without a key queue */
	dev_close();
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 32, 0), 0);
	st.guest_keys = false;
	dev.disk.fd = -1;
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport,
				     &(struct blk_opts){ .path = img, .ice = &st }),
			 0);
	dev_is_open = true;
	ck_assert(offered() & BIT(VIRTIO_BLK_F_ICE));
	ck_assert(!(offered() & BIT(VIRTIO_BLK_F_ICE_KEYQ)));
	ck_assert_uint_eq(queue_num_max(1), 0);

	/* a plain disk: neither */
	dev_close();
	dev.disk.fd = -1;
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &(struct blk_opts){ .path = img }), 0);
	ck_assert_ptr_null(dev.keyq);
	ck_assert(!(offered() & BIT(VIRTIO_BLK_F_ICE)));
	ck_assert(!(offered() & BIT(VIRTIO_BLK_F_ICE_KEYQ)));
	ck_assert_uint_eq(queue_num_max(1), 0);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_GUEST, QSIZE), 1 | 2);
	blk_close(&dev);
}
END_TEST

START_TEST(keyq_without_ice_fails_features_ok)
{
	/* both offered; accepting KEYQ alone is refused */
	ck_assert_uint_eq(tg_driver_init(&g, &transport,
					 BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_ICE_KEYQ),
					 QSIZE),
			  1 | 2);
	/* and the usual combinations are fine */
	ck_assert_uint_eq(tg_driver_init(&g, &transport, BIT(VIRTIO_F_VERSION_1), QSIZE), S_LIVE);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_ICE, QSIZE), S_LIVE);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_GUEST, QSIZE), S_LIVE);
}
END_TEST

/*
 * ICE without KEYQ on a guest-programmed disk: a driver that does not
 * program keys (blk_keyq.c's decision). Its queue 1 still exists, and every
 * command there gets IOERR and changes nothing.
 */
START_TEST(ice_without_keyq_commands_ioerr)
{
	uint8_t key[64];

	reinit(F_ICE);
	ck_assert(!virtio_mmio_has_feature(&transport, VIRTIO_BLK_F_ICE_KEYQ));
	make_key(key, 90);
	ck_assert_uint_eq(kq_program(3, 4096, key, 64), IOERR);
	check_slot(3);
	/* a slot loaded behind the guest's back (as a test can): EVICT and EVICT_ALL leave it */
	make_key(model_key[5], 91);
	ck_assert_int_eq(ice_slot_program(&st, 5, model_key[5], 64, 2048), 0);
	model_du[5] = 2048;
	ck_assert_uint_eq(kq_evict(5), IOERR);
	ck_assert_uint_eq(kq_evict_all(), IOERR);
	{
		uint8_t c[ICE_KEYQ_CMD_SIZE];

		cmd_make(c, 9, 0, 0, 0, NULL); /* even an unknown op: IOERR, not UNSUPP */
		ck_assert_uint_eq(kq_send(c), IOERR);
	}
	ck_assert_uint_eq(programs(), 0);
	ck_assert_uint_eq(evicts(), 0);
	check_slot(3);
	check_slot(5);
	/* neither ICE nor KEYQ: the same (and no ICE header on queue 0 either) */
	reinit(BIT(VIRTIO_F_VERSION_1));
	ck_assert_uint_eq(ice_slot_du(&st, 5), 0); /* the reset emptied it */
	ck_assert_int_eq(ice_slot_program(&st, 5, model_key[5], 64, 2048), 0);
	ck_assert_uint_eq(kq_program(3, 4096, key, 64), IOERR);
	ck_assert_uint_eq(kq_evict_all(), IOERR);
	ck_assert_uint_eq(programs(), 0);
	ck_assert_uint_eq(evicts(), 0);
	ck_assert_uint_eq(ice_slot_du(&st, 3), 0);
	ck_assert_uint_eq(ice_slot_du(&st, 5), 2048);
}
END_TEST

/* The key queue is queue 1: a notify of queue 0 or 2 does not serve it. */
START_TEST(key_queue_is_index_1)
{
	uint64_t cmd = tg_alloc(&g, ICE_KEYQ_CMD_SIZE, 8), s = tg_alloc(&g, 1, 1);
	struct tg_buf b[2] = { { cmd, ICE_KEYQ_CMD_SIZE, false }, { s, 1, true } };
	uint32_t id, len;

	make_key(model_key[9], 95);
	cmd_make(tg_ptr(&g, cmd), P, 9, 0x08, 64, model_key[9]);
	*(uint8_t *)tg_ptr(&g, s) = POISON;
	tg_add(&kq, b, 2);
	tg_write32(&transport, R_QUEUE_NOTIFY, 0);
	tg_write32(&transport, R_QUEUE_NOTIFY, 2);
	ck_assert(!tg_get_used(&kq, &id, &len));
	ck_assert_uint_eq(ice_slot_du(&st, 9), 0);
	tg_write32(&transport, R_QUEUE_NOTIFY, 1);
	ck_assert(tg_get_used(&kq, &id, &len));
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(*(uint8_t *)tg_ptr(&g, s), ICE_KEYQ_S_OK);
	model_du[9] = 4096;
	check_slot(9);
}
END_TEST

/* ---- 4. reset ---- */

START_TEST(reset_empties_every_slot)
{
	unsigned int s;

	program_ok(0, 512, 100);
	program_ok(5, 4096, 101);
	program_ok(31, 2048, 102);
	check_slot(5);
	tg_write32(&transport, R_STATUS, 0);
	for (s = 0; s < NSLOTS; s++)
		ck_assert_msg(ice_slot_du(&st, s) == 0, "slot %u survived the reset", s);
	reinit(F_GUEST);
	memset(model_du, 0, sizeof(model_du));
	for (s = 0; s < NSLOTS; s++)
		check_slot(s);
	/* the driver reprograms (blk_crypto_reprogram_all_keys) */
	program_ok(5, 4096, 101);
	check_slot(5);
	check_slot(0);
}
END_TEST

/*
 * fault=lose-program: the first PROGRAM is kept, neither completed nor
 * applied, like a device that stopped answering; the commands after it are
 * served, and after a reset the driver programs the slot again.
 */
START_TEST(lose_program_keeps_the_first_program)
{
	static const struct seg std[] = { { ICE_KEYQ_CMD_SIZE, false }, { 1, true } };
	uint8_t c[ICE_KEYQ_CMD_SIZE], key[64], status;

	dev.key_fault = BLK_FAULT_LOSE_PROGRAM;
	atomic_store(&dev.fault_armed, true);
	make_key(key, 103);
	cmd_make(c, ICE_KEYQ_OP_PROGRAM, 5, 4096 / 512, (uint8_t)ice_key_len(&st), key);
	ck_assert_uint_eq(kq_chain(c, std, 2, &status), NO_USED);
	ck_assert_uint_eq(status, POISON);
	ck_assert_uint_eq(programs(), 0);
	ck_assert_uint_eq(ice_slot_du(&st, 5), 0);
	check_slot(5);
	/* Once only: the next PROGRAM, on another slot, is served. */
	program_ok(6, 4096, 104);
	check_slot(6);
	ck_assert_uint_eq(programs(), 1);
	tg_write32(&transport, R_STATUS, 0);
	reinit(F_GUEST);
	memset(model_du, 0, sizeof(model_du));
	program_ok(5, 4096, 103);
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
		{ tg_alloc(&g, ICE_KEYQ_CMD_SIZE, 8), ICE_KEYQ_CMD_SIZE, false },
		{ tg_alloc(&g, 1, 1), 1, true },
	};
	uint8_t *status = tg_ptr(&g, bufs[1].gpa), key[64];
	uint32_t id, len;

	dev.key_fault = BLK_FAULT_BREAK_QUEUE;
	atomic_store(&dev.fault_armed, true);
	make_key(key, 105);
	cmd_make(tg_ptr(&g, bufs[0].gpa), ICE_KEYQ_OP_PROGRAM, 5, 4096 / 512,
		 (uint8_t)ice_key_len(&st), key);
	*status = POISON;
	tg_add(&kq, bufs, 2);
	tg_write32(&transport, R_QUEUE_NOTIFY, BLK_KEY_QUEUE);
	ck_assert(tg_get_used(&kq, &id, &len));
	ck_assert_uint_eq(id, QSIZE);
	ck_assert_uint_eq(len, 0);
	ck_assert(!tg_get_used(&kq, &id, &len));
	ck_assert_uint_eq(*status, POISON);
	ck_assert_uint_eq(programs(), 0);
	check_slot(5);
	program_ok(6, 4096, 106);
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
	reinit(F_GUEST);
	program_ok(5, 4096, 107);
	check_slot(5);
	tg_write32(&transport, R_STATUS, 0);
	reinit(F_GUEST);
	memset(model_du, 0, sizeof(model_du));
	make_key(key, 107);
	ck_assert_uint_eq(kq_program(5, 4096, key, (uint8_t)ice_key_len(&st)), ICE_KEYQ_S_IOERR);
	ck_assert_uint_eq(programs(), 1);
	check_slot(5);
	program_ok(5, 4096, 107);
	check_slot(5);
	tg_write32(&transport, R_STATUS, 0);
	reinit(F_GUEST);
	memset(model_du, 0, sizeof(model_du));
	program_ok(5, 4096, 108);
	check_slot(5);
}
END_TEST

/* guest_keys false: the reset hook leaves the keys file's keys alone. */
START_TEST(reset_keeps_host_provisioned_keys)
{
	dev_close();
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 32, 0), 0);
	st.guest_keys = false;
	make_key(model_key[2], 110);
	make_key(model_key[30], 111);
	ck_assert_int_eq(ice_slot_program(&st, 2, model_key[2], 64, 4096), 0);
	ck_assert_int_eq(ice_slot_program(&st, 30, model_key[30], 64, 512), 0);
	dev.disk.fd = -1;
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport,
				     &(struct blk_opts){ .path = img, .ice = &st }),
			 0);
	dev_is_open = true;
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_ICE, QSIZE), S_LIVE);
	memset(model_du, 0, sizeof(model_du));
	model_du[2] = 4096;
	model_du[30] = 512;
	check_slot(2);
	check_slot(30);
	tg_write32(&transport, R_STATUS, 0);
	ck_assert_uint_eq(ice_slot_du(&st, 2), 4096);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_ICE, QSIZE), S_LIVE);
	check_slot(2);
	check_slot(30);
	check_slot(3);
}
END_TEST

/* The store's half of the reset guard, deterministically: a generation that moved on. */
static atomic_uint gen_live;

static bool gen_still(const void *seen)
{
	return atomic_load(&gen_live) == *(const unsigned int *)seen;
}

/* PROGRAM of slot under the generation seen, against gen_live. */
static int program_seen(unsigned int slot, const uint8_t *key, uint32_t du, unsigned int seen)
{
	return ice_slot_program_if(&st, slot, key, 64, du, gen_still, &seen);
}

START_TEST(program_current_after_generation_moved)
{
	uint8_t a[64], b[64];

	atomic_store(&gen_live, 7);
	make_key(a, 120);
	make_key(b, 121);
	/* empty slot: stays empty */
	ck_assert_int_eq(program_seen(4, a, 4096, 6), -ECANCELED);
	ck_assert_uint_eq(ice_slot_du(&st, 4), 0);
	check_slot(4);
	/* loaded slot: keeps its key and data unit size */
	ck_assert_int_eq(program_seen(4, a, 4096, 7), 0);
	memcpy(model_key[4], a, 64);
	model_du[4] = 4096;
	check_slot(4);
	ck_assert_int_eq(program_seen(4, b, 512, 6), -ECANCELED);
	atomic_store(&gen_live, 8);
	ck_assert_int_eq(program_seen(4, b, 512, 7), -ECANCELED);
	ck_assert_uint_eq(ice_slot_du(&st, 4), 4096);
	check_slot(4);
	/* other refusals are still what they were: not -ECANCELED */
	ck_assert_int_eq(program_seen(32, b, 512, 8), -EINVAL);
	memcpy(b + 32, b, 32);
	ck_assert_int_eq(program_seen(4, b, 512, 8), -EINVAL);
	check_slot(4);
}
END_TEST

/*
 * The device's half: a PROGRAM chain taken before a reset (its generation is
 * not the queue's any more) changes nothing, and its status byte is left
 * alone (after a reset the buffer is the driver's again). The chain is
 * handed to the key-queue handler directly, as the transport would have
 * after popping it; the handler is what reads the generation.
 */
START_TEST(stale_program_chain_never_lands)
{
	uint64_t cmd = tg_alloc(&g, ICE_KEYQ_CMD_SIZE, 8), s = tg_alloc(&g, 1, 1);
	static struct virtq_chain c;
	atomic_uint gen = 3;
	uint8_t *status = tg_ptr(&g, s);

	program_ok(4, 512, 130);
	make_key(model_key[5], 131);
	c = (struct virtq_chain){ .nbufs = 2,
				  .readable_len = ICE_KEYQ_CMD_SIZE,
				  .writable_len = 1,
				  .gen_now = &gen,
				  .gen = 2 };
	c.bufs[0] = (struct virtq_buf){ tg_ptr(&g, cmd), ICE_KEYQ_CMD_SIZE, false };
	c.bufs[1] = (struct virtq_buf){ status, 1, true };
	cmd_make(tg_ptr(&g, cmd), P, 5, 0x08, 64, model_key[5]);
	*status = POISON;
	ck_assert_int_eq(blk_keyq_handle(&dev, &c, F_GUEST), 1);
	ck_assert_uint_eq(*status, POISON);
	cmd_make(tg_ptr(&g, cmd), P, 4, 0x08, 64, model_key[5]);
	ck_assert_int_eq(blk_keyq_handle(&dev, &c, F_GUEST), 1);
	ck_assert_uint_eq(*status, POISON);
	ck_assert_uint_eq(programs(), 1);
	check_slot(5); /* still empty */
	check_slot(4); /* still the old key */
	/* the same chain, current: it lands */
	c.gen = 3;
	cmd_make(tg_ptr(&g, cmd), P, 5, 0x08, 64, model_key[5]);
	ck_assert_int_eq(blk_keyq_handle(&dev, &c, F_GUEST), 1);
	ck_assert_uint_eq(*status, ICE_KEYQ_S_OK);
	model_du[5] = 4096;
	check_slot(5);
}
END_TEST

/*
 * The same through the transport, with real threads: one sends PROGRAMs of
 * two slots on the key queue while the other resets the device. Once the
 * Status = 0 write returns, every slot is empty and stays empty, whatever the
 * PROGRAMs did (landed before, cancelled, or never served).
 */
#define RESET_ROUNDS 300

static pthread_barrier_t reset_bar;
static uint8_t reset_status[2];
static uint32_t reset_used[2];

static void *reset_programmer(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg;
	unsigned int i;

	pthread_barrier_wait(&reset_bar);
	for (i = 0; i < 2; i++) {
		struct tg_buf b[2] = { { base + 128 * i, ICE_KEYQ_CMD_SIZE, false },
				       { base + 128 * i + 96, 1, true } };
		uint32_t id;

		tg_add(&kq, b, 2);
		tg_write32(&transport, R_QUEUE_NOTIFY, BLK_KEY_QUEUE);
		if (!tg_get_used(&kq, &id, &reset_used[i]))
			reset_used[i] = NO_USED;
		reset_status[i] = *(uint8_t *)tg_ptr(&g, base + 128 * i + 96);
	}
	return NULL;
}

START_TEST(program_races_reset)
{
	unsigned int r, i, landed = 0, refused = 0, unserved = 0;
	unsigned long committed = 0, before;
	volatile unsigned int spin;
	uint8_t key[64];
	pthread_t t;

	ck_assert_int_eq(pthread_barrier_init(&reset_bar, NULL, 2), 0);
	kq_lean = true;
	for (r = 0; r < RESET_ROUNDS; r++) {
		uint64_t base = tg_alloc(&g, 256, 64);

		program_ok(12, 4096, 140); /* slot 12 has a key before the reset */
		before = programs();
		make_key(key, 141 + r);
		cmd_make(tg_ptr(&g, base), P, 12, 0x01, 64, key);
		cmd_make(tg_ptr(&g, base + 128), P, 13, 0x08, 64, key);
		*(uint8_t *)tg_ptr(&g, base + 96) = POISON;
		*(uint8_t *)tg_ptr(&g, base + 128 + 96) = POISON;
		ck_assert_int_eq(
			pthread_create(&t, NULL, reset_programmer, (void *)(uintptr_t)base), 0);
		pthread_barrier_wait(&reset_bar);
		for (spin = 0; spin < (r % 50) * 40; spin++)
			;
		tg_write32(&transport, R_STATUS, 0);
		ck_assert_msg(ice_slot_du(&st, 12) == 0 && ice_slot_du(&st, 13) == 0,
			      "round %u: a slot kept a key across the reset", r);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_msg(ice_slot_du(&st, 12) == 0 && ice_slot_du(&st, 13) == 0,
			      "round %u: a PROGRAM landed after the reset", r);
		committed += programs() - before;
		for (i = 0; i < 2; i++) {
			if (reset_used[i] == NO_USED)
				unserved++;
			else if (reset_status[i] == ICE_KEYQ_S_OK)
				landed++;
			else
				refused++;
			ck_assert(reset_used[i] == NO_USED || reset_used[i] == 1);
		}
		reinit(F_GUEST);
	}
	pthread_barrier_destroy(&reset_bar);
	kq_lean = KQ_LEAN_DEFAULT;
	/* A PROGRAM cancelled by the generation, or not served, is never completed. */
	fprintf(stderr,
		"program vs reset: %u rounds, %u PROGRAMs: committed before the reset (then "
		"wiped) %lu, of which completed %u; completed with IOERR %u; not completed %u\n",
		RESET_ROUNDS, 2 * RESET_ROUNDS, committed, landed, refused, unserved);
	ck_assert_uint_eq(refused, 0); /* a PROGRAM cancelled by a reset is never completed */
	memset(model_du, 0, sizeof(model_du));
	check_slot(12);
	check_slot(13);
}
END_TEST

/* ---- 5. the race, through both queues ---- */

/*
 * Thread 1 programs slot RACE_SLOT with key A, then B, then evicts it (EVICT
 * and EVICT_ALL in turn), through the key queue, in a loop; this thread writes and reads 64 KiB
 * (16 data units of 4 KiB) through that slot on queue 0. Every completed
 * write leaves data that is entirely A's ciphertext or entirely B's (each
 * unit checked, so a mix is named); every completed read likewise decrypts
 * entirely under one key; a request on the empty slot gets IOERR and touches
 * nothing. Bounded by counts, not time.
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

/*
 * Four commands laid out once in guest memory: PROGRAM A, PROGRAM B, EVICT,
 * EVICT_ALL. A cycle sends A, B, then EVICT (even cycles) or EVICT_ALL (odd).
 */
static void *race_programmer(void *arg)
{
	uint64_t base = (uint64_t)(uintptr_t)arg;
	unsigned int i, n;

	for (n = 0; n < RACE_MAX_CYCLES && !atomic_load(&race_stop); n++) {
		for (i = 0; i < 3; i++) {
			unsigned int k = i < 2 ? i : 2 + n % 2;
			struct tg_buf b[2] = { { base + 128 * k, ICE_KEYQ_CMD_SIZE, false },
					       { base + 128 * k + 96, 1, true } };
			uint8_t *status = tg_ptr(&g, base + 128 * k + 96);
			uint32_t id, len;

			*status = POISON;
			tg_add(&kq, b, 2);
			tg_write32(&transport, R_QUEUE_NOTIFY, BLK_KEY_QUEUE);
			if (!tg_get_used(&kq, &id, &len) || len != 1 || *status != ICE_KEYQ_S_OK)
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
	uint8_t *hdr = tg_ptr(&g, base), *status = tg_ptr(&g, base + 64);
	uint32_t type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, id, len;
	uint64_t sector = RACE_SECTOR, dun = RACE_DUN, gpa = base + 128;
	unsigned int i;

	memset(hdr, 0, 32);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	hdr[16] = RACE_SLOT;
	hdr[17] = 1;
	memcpy(hdr + 24, &dun, 8);
	*status = POISON;
	bufs[0] = (struct tg_buf){ base, 32, false };
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

/*
 * Which of the candidates data equals, unit by unit: 0 or 1 if every unit
 * matches that one, -1 (and the first unit that does not fit) otherwise.
 */
static int race_which(const uint8_t *data, const uint8_t *cand0, const uint8_t *cand1,
		      unsigned int *bad_unit)
{
	bool m0[RACE_UNITS], m1[RACE_UNITS], all0 = true, all1 = true;
	unsigned int u;

	for (u = 0; u < RACE_UNITS; u++) {
		m0[u] = !memcmp(data + u * RACE_DU, cand0 + u * RACE_DU, RACE_DU);
		m1[u] = !memcmp(data + u * RACE_DU, cand1 + u * RACE_DU, RACE_DU);
		all0 &= m0[u];
		all1 &= m1[u];
	}
	if (all0 || all1)
		return all0 ? 0 : 1;
	/* the first unit that differs from what unit 0 is (unit 0 if it is neither) */
	for (u = 0; u < RACE_UNITS; u++) {
		if (m0[0] ? !m0[u] : m1[0] ? !m1[u] : true)
			break;
	}
	*bad_unit = u;
	return -1;
}

START_TEST(program_evict_race_through_key_queue)
{
	static uint8_t plain[RACE_LEN], ct[2][RACE_LEN], other[2][RACE_LEN], cur[RACE_LEN],
		got[RACE_LEN], poison[RACE_LEN];
	unsigned int i, seen[3] = { 0 }, rseen[3] = { 0 }, cur_key, bad;
	uint64_t io_base = tg_alloc(&g, RACE_LEN + 128, 64), kq_base = tg_alloc(&g, 512, 64);
	uint8_t status;
	pthread_t t;
	void *ret;
	int which;

	fill(race_a, 64, 150);
	fill(race_b, 64, 151);
	race_a[0] ^= 1; /* halves differ: fill() never repeats 32 bytes, but be sure */
	fill(plain, RACE_LEN, 152);
	memset(poison, POISON, RACE_LEN);
	ref_crypt(race_a, RACE_DU, RACE_DUN, plain, ct[0], RACE_LEN, true);
	ref_crypt(race_b, RACE_DU, RACE_DUN, plain, ct[1], RACE_LEN, true);
	/* what a read gives of A's ciphertext under B, and of B's under A */
	ref_crypt(race_b, RACE_DU, RACE_DUN, ct[0], other[0], RACE_LEN, false);
	ref_crypt(race_a, RACE_DU, RACE_DUN, ct[1], other[1], RACE_LEN, false);

	cmd_make(tg_ptr(&g, kq_base), P, RACE_SLOT, RACE_DU / 512, 64, race_a);
	cmd_make(tg_ptr(&g, kq_base + 128), P, RACE_SLOT, RACE_DU / 512, 64, race_b);
	cmd_make(tg_ptr(&g, kq_base + 256), E, RACE_SLOT, 0, 0, NULL);
	cmd_make(tg_ptr(&g, kq_base + 384), EA, 0, 0, 0, NULL);

	/* the range starts as plain under A */
	ck_assert_uint_eq(kq_program(RACE_SLOT, RACE_DU, race_a, 64), ICE_KEYQ_S_OK);
	ck_assert_uint_eq(race_req(true, io_base, plain), VIRTIO_BLK_S_OK);
	image_read(RACE_SECTOR * 512, cur, RACE_LEN);
	ck_assert_mem_eq(cur, ct[0], RACE_LEN);
	cur_key = 0;
	atomic_store(&race_stop, false);
	atomic_store(&race_cycles, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, race_programmer, (void *)(uintptr_t)kq_base), 0);
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
	ck_assert_msg(ret == NULL, "key queue command %lu (1 A, 2 B, 3 EVICT, 4 EVICT_ALL) failed",
		      (unsigned long)(uintptr_t)ret);
	fprintf(stderr,
		"keyq race: %u writes (A %u, B %u, IOERR %u), %u reads (same key %u, other key "
		"%u, IOERR %u); %u PROGRAM A/PROGRAM B/EVICT(_ALL) cycles\n",
		i, seen[0], seen[1], seen[2], i, rseen[0], rseen[1], rseen[2],
		atomic_load(&race_cycles));
	/* the thread stops between cycles: whole cycles, plus the first PROGRAM A */
	ck_assert_uint_eq(programs(), 1 + 2 * (unsigned long)atomic_load(&race_cycles));
	ck_assert_uint_eq(evicts(), atomic_load(&race_cycles));
	ck_assert_uint_gt(seen[0] + seen[1], 0);
	ck_assert_uint_gt(rseen[0] + rseen[1], 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("blk key queue");
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
	tcase_add_test(ops, program_then_encrypted_write);
	tcase_add_test(ops, program_every_du_and_replace);
	tcase_add_test(ops, evict_one_slot);
	tcase_add_test(ops, evict_all_slots);
	tcase_add_test(ops, command_split_any_way);
	tcase_add_test(ops, command_in_indirect_table);

	tcase_add_loop_test(ref, refusal, 0, (int)ARRAY_SIZE(refusals));
	tcase_add_test(ref, refusal_every_unused_byte);
	tcase_add_test(ref, refusal_short_key_engine);
	tcase_add_test(ref, essiv_engine_program);
	tcase_add_loop_test(ref, wrong_shape, 0, (int)ARRAY_SIZE(shapes));

	tcase_add_test(feat, keyq_offered_with_guest_keys_only);
	tcase_add_test(feat, keyq_without_ice_fails_features_ok);
	tcase_add_test(feat, ice_without_keyq_commands_ioerr);
	tcase_add_test(feat, key_queue_is_index_1);

	tcase_add_test(rst, reset_empties_every_slot);
	tcase_add_test(rst, reset_keeps_host_provisioned_keys);
	tcase_add_test(rst, lose_program_keeps_the_first_program);
	tcase_add_test(rst, break_queue_completes_the_first_program_out_of_range);
	tcase_add_test(rst, fail_reprogram_fails_the_first_program_after_a_reset);
	tcase_add_test(rst, program_current_after_generation_moved);
	tcase_add_test(rst, stale_program_chain_never_lands);
	tcase_add_test(rst, program_races_reset);

	tcase_add_test(race, program_evict_race_through_key_queue);
	return s;
}
