/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ICE key queue's benchmarks (devbench.c, reqpath.c): a guest-programmed
 * disk's key commands sent as Linux's driver sends them — one 80-byte command
 * and its status byte per chain on queue 1, QueueNotify, wait for the used
 * element, InterruptACK — and the floor they are measured against: libgcrypt
 * keying an AES-256-XTS handle in secure memory the way devices/ice.c does
 * (open, setkey; close wipes it).
 */
#ifndef ICEVMM_TESTS_BENCH_KEYQ_BENCH_H
#define ICEVMM_TESTS_BENCH_KEYQ_BENCH_H

#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/blk.h"
#include "../unit/guest.h"

/* The default engine of `--disk PATH,ice`: AES-256-XTS, 512-4096, 32 slots. */
#define KQB_SLOTS 32
#define KQB_DU_MASK 0x0f
#define KQB_DU_BIT 0x08 /* PROGRAM with 4 KiB data units */

/* Key n: 64 bytes whose XTS halves differ (i and i + 32 differ by 224 mod 256). */
static inline void kqb_key(uint8_t *k, unsigned int n)
{
	for (unsigned int i = 0; i < 64; i++)
		k[i] = (uint8_t)(i * 7 + 1 + n * 31);
}

struct kqb {
	struct test_guest q; /* view of queue 1 (tg_queue_attach) */
	uint64_t cmd, status;
};

/* Queue 1 of a device already through tg_driver_init() with the key queue negotiated. */
static inline void kqb_attach(struct kqb *k, struct test_guest *g, struct virtio_mmio *t)
{
	if (tg_queue_attach(&k->q, g, t, BLK_KEY_QUEUE, 16) != 1) {
		fprintf(stderr, "keyq bench: queue 1 did not come up\n");
		exit(1);
	}
	k->cmd = tg_alloc(g, ICE_KEYQ_CMD_SIZE, 16);
	k->status = tg_alloc(g, 1, 1);
}

/* One command, PROGRAM (of key n, 4 KiB units) or EVICT of slot; exits unless it is OK. */
static inline void kqb_send(struct kqb *k, struct virtio_mmio *t, uint32_t op, unsigned int slot,
			    unsigned int n)
{
	const struct tg_buf bufs[] = { { k->cmd, ICE_KEYQ_CMD_SIZE, false },
				       { k->status, 1, true } };
	uint8_t *c = tg_ptr(&k->q, k->cmd), *s = tg_ptr(&k->q, k->status);
	uint32_t id, len;

	memset(c, 0, ICE_KEYQ_CMD_SIZE);
	memcpy(c + ICE_KEYQ_OFF_OP, &op, 4);
	c[ICE_KEYQ_OFF_SLOT] = (uint8_t)slot;
	if (op == ICE_KEYQ_OP_PROGRAM) {
		c[ICE_KEYQ_OFF_DU_MASK] = KQB_DU_BIT;
		c[ICE_KEYQ_OFF_KEY_LEN] = 64;
		kqb_key(c + ICE_KEYQ_OFF_KEY, n);
	}
	*s = 0xff;
	tg_submit(&k->q, t, bufs, 2);
	if (!tg_get_used(&k->q, &id, &len) || len != 1 || *s != ICE_KEYQ_S_OK) {
		fprintf(stderr, "keyq bench: command %u on slot %u failed\n", op, slot);
		exit(1);
	}
	tg_write32(t, 0x064, 1);		  /* InterruptACK, as the driver does */
	tg_set_used_event(&k->q, k->q.used_seen); /* and re-arms used_event */
}

/* The floor of a PROGRAM that replaces a key: what libgcrypt alone does for it. */
static inline gcry_cipher_hd_t kqb_keyed(unsigned int n)
{
	gcry_cipher_hd_t h;
	uint8_t key[64];

	kqb_key(key, n);
	if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_XTS, GCRY_CIPHER_SECURE) ||
	    gcry_cipher_setkey(h, key, sizeof(key))) {
		fprintf(stderr, "keyq bench: libgcrypt refused the key\n");
		exit(1);
	}
	return h;
}

#endif
