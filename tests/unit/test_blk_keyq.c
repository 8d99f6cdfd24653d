// SPDX-License-Identifier: GPL-2.0
/*
 * The ICE key queue of a guest-programmed virtio-blk disk (devices/blk_keyq.c,
 * docs/ICE.md "Key queue"), driven as a guest driver would: queue 0 carries
 * requests, queue 1 (the key queue) carries PROGRAM / EVICT / EVICT_ALL, both
 * through the virtio-mmio registers and rings in the fake guest memory.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "guest.h"
#include "unit.h"

#define BIT(n) (1ULL << (n))
#define F_GUEST (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_ICE) | BIT(VIRTIO_BLK_F_ICE_KEYQ))
#define QSIZE 16
#define IMG_SIZE (64 * 1024)
#define S_LIVE 0xf

static struct test_guest g, kq;
static struct blk_dev dev;
static struct virtio_mmio transport;
static struct ice_store st;
static char img[TG_PATH_MAX];

/* The default engine of `--disk PATH,ice`: AES-256-XTS, 512-4096, 32 slots, guest keys. */
static void setup(void)
{
	struct blk_opts o = { .path = img, .ice = &st };

	ck_assert_int_eq(ice_global_init(ice_secmem_size(ice_secmem_keys(32, 1))), 0);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 32, 0), 0);
	st.guest_keys = true;
	dev.disk.fd = -1;
	tg_init(&g);
	ck_assert_int_eq(tg_image_create(img, NULL, 0, IMG_SIZE), 0);
	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, F_GUEST, QSIZE), S_LIVE);
	ck_assert_uint_eq(tg_queue_attach(&kq, &g, &transport, BLK_KEY_QUEUE, QSIZE), 1);
}

static void teardown(void)
{
	blk_close(&dev);
	virtio_mmio_destroy(&transport);
	ice_store_free(&st);
	unlink(img);
	tg_fini(&g);
}

/* Send one 80-byte command on the key queue; returns its status (0xff: not completed). */
static uint8_t keyq_cmd(uint32_t op, uint8_t slot, uint8_t du_mask, const uint8_t *key,
			uint8_t key_len)
{
	uint64_t cmd = tg_alloc(&g, ICE_KEYQ_CMD_SIZE, 8), st_gpa = tg_alloc(&g, 1, 1);
	uint8_t *c = tg_ptr(&g, cmd), *status = tg_ptr(&g, st_gpa);
	struct tg_buf b[2] = { { cmd, ICE_KEYQ_CMD_SIZE, false }, { st_gpa, 1, true } };
	uint32_t id, len;

	memcpy(c, &op, 4);
	c[4] = slot;
	c[5] = du_mask;
	c[6] = key_len;
	if (key)
		memcpy(c + ICE_KEYQ_OFF_KEY, key, key_len);
	*status = 0xff;
	tg_submit(&kq, &transport, b, 2);
	if (!tg_get_used(&kq, &id, &len) || len != 1)
		return 0xff;
	return *status;
}

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
	ck_assert_uint_eq(keyq_cmd(ICE_KEYQ_OP_PROGRAM, 5, 0x08, key, 64), ICE_KEYQ_S_OK);
	ck_assert_uint_eq(atomic_load(&dev.keyq->programs), 1);

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
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("blk key queue");
	TCase *tc = tcase_create("keyq");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, program_then_encrypted_write);
	suite_add_tcase(s, tc);
	return s;
}
