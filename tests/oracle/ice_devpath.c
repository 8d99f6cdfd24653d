// SPDX-License-Identifier: GPL-2.0
/*
 * One ICE write and read through the real device path, for the oracle test:
 * a fake guest (tests/unit/guest.c) negotiates VIRTIO_BLK_F_ICE and sends a
 * VIRTIO_BLK_T_OUT with activate=1 whose data is scattered over descriptors
 * at odd byte boundaries; the ciphertext that lands in the image is written
 * to OUT. Then an IN with activate=1 must give the plaintext back, and the
 * guest's write buffer must be unchanged.
 *
 *   ice_devpath KEYS SLOT DUN IN OUT     (exit 0: done; OUT = ciphertext)
 *
 * With --keyq the disk is guest-programmed instead (`--disk PATH,ice` with no
 * keys file: AES-256-XTS, data units 512-4096, 32 slots, every slot empty):
 * the fake guest negotiates VIRTIO_BLK_F_ICE_KEYQ and loads KEYFILE's 64 raw
 * bytes into SLOT with data unit DU through a PROGRAM on the key queue (its
 * 80 bytes split over three descriptors), then does the same write and read.
 *
 *   ice_devpath --keyq KEYFILE DU SLOT DUN IN OUT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../unit/guest.h"

#define SECTOR 8 /* the request's first sector: not at offset 0, on purpose */
#define MAX_DATA (1u << 20)

static int die(const char *msg)
{
	fprintf(stderr, "ice_devpath: %s\n", msg);
	return 1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(MAX_DATA + 1);

	*len = f && buf ? fread(buf, 1, MAX_DATA + 1, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

static struct virtio_mmio transport; /* carries the disk */

/* PROGRAM slot with key (64 bytes) and data unit du through the key queue; the status. */
static uint8_t keyq_program(struct test_guest *g, struct test_guest *kq, struct virtio_mmio *t,
			    uint8_t slot, uint32_t du, const uint8_t *key)
{
	uint64_t cmd = tg_alloc(g, ICE_KEYQ_CMD_SIZE, 8), status = tg_alloc(g, 1, 1);
	struct tg_buf bufs[4] = { { cmd, 5, false },
				  { cmd + 5, 30, false },
				  { cmd + 35, ICE_KEYQ_CMD_SIZE - 35, false },
				  { status, 1, true } };
	uint8_t *c = tg_ptr(g, cmd), *s = tg_ptr(g, status);
	uint32_t op = ICE_KEYQ_OP_PROGRAM, id, used;

	memcpy(c + ICE_KEYQ_OFF_OP, &op, 4); /* le32: the hosts we build for are little-endian */
	c[ICE_KEYQ_OFF_SLOT] = slot;
	c[ICE_KEYQ_OFF_DU_MASK] = (uint8_t)(du / 512);
	c[ICE_KEYQ_OFF_KEY_LEN] = 64;
	memcpy(c + ICE_KEYQ_OFF_KEY, key, 64);
	*s = 0xff;
	tg_submit(kq, t, bufs, 4);
	if (!tg_get_used(kq, &id, &used) || used != 1)
		return 0xff;
	/* A driver wipes its command buffer after each command (docs/ICE.md). */
	memset(c, 0, ICE_KEYQ_CMD_SIZE);
	return *s;
}

/* Header (split in two descriptors), data in pieces of odd sizes, status. */
static uint8_t request(struct test_guest *g, struct virtio_mmio *t, uint32_t type, uint8_t slot,
		       uint64_t dun, uint64_t data, size_t len)
{
	static const uint32_t pieces[] = { 1, 333, 4095, 17, 8192, 511 };
	struct tg_buf bufs[64];
	uint64_t hdr = tg_alloc(g, 32, 8), status = tg_alloc(g, 1, 1);
	uint8_t *h = tg_ptr(g, hdr), activate = 1;
	uint64_t sector = SECTOR;
	unsigned int n = 0, i = 0;
	uint32_t id, used;
	size_t off = 0;

	memset(h, 0, 32);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	h[16] = slot;
	h[17] = activate;
	memcpy(h + 24, &dun, 8);
	bufs[n++] = (struct tg_buf){ hdr, 7, false };
	bufs[n++] = (struct tg_buf){ hdr + 7, 25, false };
	while (off < len && n < 62) {
		uint32_t p = n == 61 ? (uint32_t)(len - off) : pieces[i++ % 6];

		p = p < len - off ? p : (uint32_t)(len - off);
		bufs[n++] = (struct tg_buf){ data + off, p, type == VIRTIO_BLK_T_IN };
		off += p;
	}
	bufs[n++] = (struct tg_buf){ status, 1, true };
	tg_submit(g, t, bufs, n);
	if (!tg_get_used(g, &id, &used))
		return 0xff;
	return *(uint8_t *)tg_ptr(g, status);
}

int main(int argc, char **argv)
{
	static struct test_guest g, kq;
	static struct blk_dev dev;
	static struct ice_store store;
	char img[] = "/dev/shm/icevmm-oracle-XXXXXX";
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_ICE;
	uint64_t wbuf, rbuf, dun;
	uint8_t *plain, *cipher, *key = NULL, slot;
	bool keyq = argc > 1 && !strcmp(argv[1], "--keyq");
	size_t len, key_len = 0;
	uint32_t du = 0;
	FILE *out;
	int fd;

	if (keyq) {
		argv += 2; /* KEYFILE DU SLOT DUN IN OUT: SLOT onwards as without it */
		argc -= 2;
	}
	if (argc != 6)
		return die("usage: ice_devpath KEYS SLOT DUN IN OUT, or "
			   "ice_devpath --keyq KEYFILE DU SLOT DUN IN OUT");
	slot = (uint8_t)atoi(argv[2]);
	dun = strtoull(argv[3], NULL, 0);
	plain = slurp(argv[4], &len);
	if (!len || len > MAX_DATA)
		return die("input must be 1 byte to 1 MiB");
	if (keyq) {
		key = slurp(argv[0], &key_len);
		du = (uint32_t)atoi(argv[1]);
		if (key_len != 64)
			return die("KEYFILE must hold 64 bytes (AES-256-XTS)");
		if (ice_global_init(ice_secmem_size(ice_secmem_keys(32, 1))) ||
		    ice_store_init(&store, ICE_ALG_AES_XTS, ICE_KEY_256, 0x0f, 32, 0))
			return die("cannot make the default engine");
		store.guest_keys = true;
		features |= 1ULL << VIRTIO_BLK_F_ICE_KEYQ;
	} else if (ice_store_load_file(&store, argv[1], false)) {
		return die("cannot load the keys file");
	}
	fd = mkstemp(img);
	if (fd < 0 || ftruncate(fd, SECTOR * 512 + (off_t)len + 65536) < 0)
		return die("cannot create the image");
	close(fd);
	tg_init(&g);
	if (tg_blk_open(&g, &dev, &transport, &(struct blk_opts){ .path = img, .ice = &store }) < 0)
		return die("blk_open failed");
	unlink(img);
	if (!(tg_driver_init(&g, &transport, features, 256) & 4))
		return die("feature negotiation failed");
	if (keyq) {
		if (tg_queue_attach(&kq, &g, &transport, BLK_KEY_QUEUE, 16) != 1)
			return die("the key queue did not come up");
		if (keyq_program(&g, &kq, &transport, slot, du, key) != ICE_KEYQ_S_OK)
			return die("PROGRAM on the key queue failed (status != 0)");
		memset(key, 0, key_len);
	}
	wbuf = tg_alloc(&g, len, 1);
	rbuf = tg_alloc(&g, len, 1);
	memcpy(tg_ptr(&g, wbuf), plain, len);
	if (request(&g, &transport, VIRTIO_BLK_T_OUT, slot, dun, wbuf, len) != 0)
		return die("the write was refused (status != 0)");
	if (memcmp(tg_ptr(&g, wbuf), plain, len))
		return die("the device modified the guest's write buffer");
	cipher = malloc(len);
	if (!cipher || pread(dev.disk.fd, cipher, len, SECTOR * 512) != (ssize_t)len)
		return die("cannot read the image back");
	out = fopen(argv[5], "wb");
	if (!out || fwrite(cipher, 1, len, out) != len || fclose(out))
		return die("cannot write OUT");
	if (request(&g, &transport, VIRTIO_BLK_T_IN, slot, dun, rbuf, len) != 0)
		return die("the read was refused (status != 0)");
	if (memcmp(tg_ptr(&g, rbuf), plain, len))
		return die("reading back with activate=1 did not give the plaintext");
	blk_close(&dev);
	ice_store_free(&store);
	return 0;
}
