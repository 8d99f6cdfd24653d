// SPDX-License-Identifier: GPL-2.0
/*
 * Drives N virtio-blk requests through the device exactly as a guest would
 * (fake guest memory, QueueNotify through the transport's MMIO entry point,
 * InterruptACK after each completion), for instruction counting under
 * valgrind --tool=callgrind (tests/bench/reqpath-callgrind.sh).
 *
 *   reqpath read|write COUNT [BYTES [ice|v4]]   (BYTES default 4096)
 * With "ice" the disk has VIRTIO_BLK_F_ICE (AES-256-XTS, 4 KiB data units)
 * and every request has activate=1. With "v4" it is a v4 ICE disk of the same
 * engine (docs/ICE.md "The v4 format"), slot 0 loaded, and every request is a
 * CRYPTO_IN or CRYPTO_OUT (a 56-byte header).
 *
 *   reqpath program|evict COUNT
 * COUNT key commands on queue 1 of a guest-programmed disk (the default
 * engine of `--disk PATH,ice`, every slot loaded): PROGRAMs that each replace
 * a slot's key, or EVICTs of slots loaded beforehand straight through the
 * store (so only the EVICTs go through virtio_mmio_write).
 *
 *   reqpath keysched|keyclose COUNT
 * Their floors, libgcrypt alone (keyq_bench.h): floor_schedule() keys an
 * AES-256-XTS handle and closes the one it replaces; floor_close() closes a
 * keyed handle (keyed outside it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "../unit/guest.h"
#include "keyq_bench.h"

#define IMAGE_SIZE (16u << 20)

static __attribute__((noinline)) gcry_cipher_hd_t floor_schedule(gcry_cipher_hd_t old,
								 unsigned int n)
{
	gcry_cipher_hd_t h = kqb_keyed(n);

	gcry_cipher_close(old);
	return h;
}

static __attribute__((noinline)) void floor_close(gcry_cipher_hd_t h)
{
	gcry_cipher_close(h);
}

static int keyq_main(const char *what, unsigned long count)
{
	static struct test_guest g;
	static struct blk_dev dev;
	static struct virtio_mmio transport;
	static struct ice_store store;
	static struct kqb kq;
	char path[] = "/dev/shm/icevmm-reqpath-XXXXXX";
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_EVENT_IDX |
			    1ULL << VIRTIO_BLK_F_ICE | 1ULL << VIRTIO_BLK_F_ICE_KEYQ;
	gcry_cipher_hd_t h;
	uint8_t key[64];
	unsigned long i;
	int fd;

	if (ice_global_init(ice_secmem_size(ice_secmem_keys(KQB_SLOTS, 1) + 1)))
		return 1;
	if (!strcmp(what, "keysched")) {
		h = kqb_keyed(0);
		for (i = 0; i < count; i++)
			h = floor_schedule(h, (unsigned int)i);
		gcry_cipher_close(h);
		return 0;
	}
	if (!strcmp(what, "keyclose")) {
		for (i = 0; i < count; i++)
			floor_close(kqb_keyed((unsigned int)i));
		return 0;
	}
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0 ||
	    ice_store_init(&store, ICE_ALG_AES_XTS, ICE_KEY_256, KQB_DU_MASK, KQB_SLOTS, 0))
		return 1;
	close(fd);
	store.guest_keys = true;
	tg_init(&g);
	if (tg_blk_open(&g, &dev, &transport, &(struct blk_opts){ .path = path, .ice = &store }) <
	    0)
		return 1;
	unlink(path);
	if (!(tg_driver_init(&g, &transport, features, 256) & 4))
		return 1;
	kqb_attach(&kq, &g, &transport);
	for (i = 0; i < KQB_SLOTS; i++) {
		kqb_key(key, (unsigned int)i);
		if (ice_slot_program(&store, (unsigned int)i, key, sizeof(key), 4096))
			return 1;
	}
	for (i = 0; i < count; i++) {
		unsigned int s = (unsigned int)(i % KQB_SLOTS);

		if (!strcmp(what, "program")) {
			kqb_send(&kq, &transport, ICE_KEYQ_OP_PROGRAM, s, (unsigned int)i);
			continue;
		}
		kqb_key(key, (unsigned int)i);
		if (ice_slot_program(&store, s, key, sizeof(key), 4096))
			return 1;
		kqb_send(&kq, &transport, ICE_KEYQ_OP_EVICT, s, 0);
	}
	blk_close(&dev);
	ice_store_free(&store);
	tg_fini(&g);
	return 0;
}

int main(int argc, char **argv)
{
	static struct test_guest g;
	static struct blk_dev dev;
	static struct virtio_mmio transport;
	static struct ice_store store;
	static uint8_t key[64];
	const char *why;
	bool ice, v4;
	char path[] = "/dev/shm/icevmm-reqpath-XXXXXX";
	uint64_t features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_EVENT_IDX |
			    1ULL << VIRTIO_F_RING_INDIRECT_DESC | 1ULL << VIRTIO_BLK_F_FLUSH;
	uint64_t hdr, data, status;
	unsigned long count, bytes, i;
	bool write;
	int fd;

	if (argc == 3 && (!strcmp(argv[1], "program") || !strcmp(argv[1], "evict") ||
			  !strcmp(argv[1], "keysched") || !strcmp(argv[1], "keyclose")))
		return keyq_main(argv[1], strtoul(argv[2], NULL, 0));
	if (argc < 3 || (strcmp(argv[1], "read") && strcmp(argv[1], "write"))) {
		fprintf(stderr,
			"usage: %s read|write COUNT [BYTES [ice|v4]]\n"
			"       %s program|evict|keysched|keyclose COUNT\n",
			argv[0], argv[0]);
		return 2;
	}
	write = !strcmp(argv[1], "write");
	count = strtoul(argv[2], NULL, 0);
	bytes = argc > 3 ? strtoul(argv[3], NULL, 0) : 4096;
	v4 = argc > 4 && !strcmp(argv[4], "v4");
	ice = v4 || (argc > 4 && !strcmp(argv[4], "ice"));
	if (!bytes || bytes % 512 || bytes > (1u << 20)) {
		fprintf(stderr, "reqpath: BYTES must be a multiple of 512, at most 1 MiB\n");
		return 2;
	}
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, IMAGE_SIZE) < 0)
		return 1;
	close(fd);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	if (ice && (ice_global_init(ice_secmem_size(1)) ||
		    ice_store_init(&store, ICE_ALG_AES_XTS, ICE_KEY_256, 1u << 3, 1, 0) ||
		    ice_slot_load(&store, 0, key, sizeof(key), 4096, &why)))
		return 1;
	store.guest_keys = v4; /* a v4 disk's guest programs it */
	if (v4)
		features |= 1ULL << VIRTIO_BLK_F_CTRL_VQ | 1ULL << VIRTIO_BLK_F_INLINE_ENCRYPTION;
	else if (ice)
		features |= 1ULL << VIRTIO_BLK_F_ICE;
	tg_init(&g);
	if (tg_blk_open(&g, &dev, &transport,
			&(struct blk_opts){ .path = path,
					    .ice = ice ? &store : NULL,
					    .spec = v4 ? BLK_ICE_V4 : BLK_ICE_V2 }) < 0)
		return 1;
	unlink(path);
	if (!(tg_driver_init(&g, &transport, features, 256) & 4))
		return 1;
	/* The driver's reset emptied a v4 disk's slots: load slot 0 again, as its driver would. */
	if (v4 && ice_slot_load(&store, 0, key, sizeof(key), 4096, &why))
		return 1;
	hdr = tg_alloc(&g, BLK_V4_HDR_SIZE, 16);
	data = tg_alloc(&g, bytes, 4096);
	status = tg_alloc(&g, 1, 1);
	memset(tg_ptr(&g, data), 0x5a, bytes);
	for (i = 0; i < count; i++) {
		uint64_t sector = (i * bytes / 512) % (IMAGE_SIZE / 512 - bytes / 512);
		uint32_t type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, id, len;
		const struct tg_buf bufs[] = {
			{ hdr,
			  v4	? BLK_V4_HDR_SIZE
			  : ice ? 32
				: 16,
			  false },
			{ data, (uint32_t)bytes, !write },
			{ status, 1, true },
		};

		uint64_t dun = sector / 8;
		uint8_t *h = tg_ptr(&g, hdr);

		if (v4) /* CRYPTO_OUT / CRYPTO_IN; crypto message: slot 0, dun[0] at 24 */
			type = write ? VIRTIO_BLK_T_CRYPTO_OUT : VIRTIO_BLK_T_CRYPTO_IN;
		memcpy(h, &type, 4);
		memcpy(h + 8, &sector, 8);
		h[17] = ice && !v4; /* v2: activate, slot 0 */
		memcpy(h + 24, &dun, 8);
		tg_submit(&g, &transport, bufs, 3);
		if (!tg_get_used(&g, &id, &len) || *(uint8_t *)tg_ptr(&g, status) != 0)
			return 1;
		tg_write32(&transport, 0x064, 1);   /* InterruptACK, as the driver does */
		tg_set_used_event(&g, g.used_seen); /* and re-arms used_event */
	}
	blk_close(&dev);
	tg_fini(&g);
	return 0;
}
