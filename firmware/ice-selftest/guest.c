// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-programmed plan (plan.h, PLAN_GUEST_*): a disk given as
 * `--disk IMG,ice`, whose keyslots only the guest fills, through the key
 * queue (VIRTIO_BLK_F_ICE_KEYQ, queue 1; docs/ICE.md "Key queue"):
 *
 *   -  VERSION_1|ICE_KEYQ without ICE: FEATURES_OK refused
 *   -  bring-up with both queues; every slot empty (I/O through one: IOERR)
 *   P  PROGRAM slots 3, 17, 31, then refusals aimed at them   key queue
 *   W, R, X  K, L, M written, read back, read raw             request queue
 *   V  EVICT slot 17 (twice) and slot 0: L through 17 IOERR, K and M fine
 *   -  device reset, bring-up again: every slot empty, the disk unchanged
 *   P2 PROGRAM slot 3 with key 3 and 1 KiB units, slot 31 with key 2 again
 *   W  N through the new slot 3; N and M read back, K through it garbled
 *   V2 EVICT_ALL: every slot empty again
 *   Z  the malformed-write area is still zero
 *
 * tests/system/ice-selftest/check.py decrypts K, L, M and N from the image
 * with the same keys, which it reads from plan.h.
 */
#include <stdbool.h>
#include <stdint.h>

#include "blkio.h"
#include "iceblk.h"
#include "lib.h"
#include "plan.h"
#include "report.h"
#include "selftest.h"
#include "virtio.h"

#define GREGION_ROW(n, i, s, d, u, sec, b, sp, k, r) { #n, i, s, d, u, sec, b, sp, k, r },
static const struct region gregions[] = { PLAN_GUEST_REGIONS(GREGION_ROW) };
#define NGREGIONS (sizeof(gregions) / sizeof(gregions[0]))

/* Regions by their place in PLAN_GUEST_REGIONS. */
enum { K, L, M, N };
#define ROUND0 3 /* K, L, M: written before the reset; N after */
_Static_assert(NGREGIONS == 4 && ROUND0 <= BATCH_REGIONS, "plan.h: K, L, M, then N");

#define GKEY_ROW(id, hex) [id] = hex,
static const char *const key_hex[] = { PLAN_GUEST_KEYS(GKEY_ROW) };
#define NKEYS (sizeof(key_hex) / sizeof(key_hex[0]))
static uint8_t keys[NKEYS][PLAN_GUEST_KEY_LEN];

struct keyq_row {
	const char *name;
	uint32_t op;
	uint8_t slot, du_mask, key_len;
	unsigned int key, poke_off;
	uint8_t poke_val, layout, status;
};

#define KEYQ_ROW(n, op, s, m, kl, k, po, pv, lay, st) { n, op, s, m, kl, k, po, pv, lay, st },
static const struct keyq_row program_rows[] = { PLAN_KEYQ_PROGRAM(KEYQ_ROW) };
static const struct keyq_row evict_rows[] = { PLAN_KEYQ_EVICT(KEYQ_ROW) };
static const struct keyq_row reprogram_rows[] = { PLAN_KEYQ_REPROGRAM(KEYQ_ROW) };
static const struct keyq_row evict_all_rows[] = { PLAN_KEYQ_EVICT_ALL(KEYQ_ROW) };
#define MAX_KEYQ 24 /* commands per batch: at most 4 descriptors each, 64 in all */
#define NROWS(t) (sizeof(t) / sizeof(t[0]))
#define ROWS(t) t, NROWS(t)
_Static_assert(NROWS(program_rows) <= MAX_KEYQ && NROWS(evict_rows) <= MAX_KEYQ &&
		       NROWS(reprogram_rows) <= MAX_KEYQ && NROWS(evict_all_rows) <= MAX_KEYQ,
	       "a key batch fits the queue");
#define KEYQ_LAYOUT_SPLIT 1
#define KEYQ_LAYOUT_SHORT 2

static struct ice_keyq_cmd kcmd[MAX_KEYQ] __attribute__((aligned(64)));
static uint8_t kstatus[MAX_KEYQ];

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* plan.h's keys as bytes: 128 lowercase hex digits each. */
static bool parse_keys(void)
{
	unsigned int k, i;

	for (k = 0; k < NKEYS; k++) {
		const char *h = key_hex[k];

		for (i = 0; i < PLAN_GUEST_KEY_LEN; i++) {
			int hi = hex_nibble(h[2 * i]), lo = hi < 0 ? -1 : hex_nibble(h[2 * i + 1]);

			if (lo < 0)
				return false;
			keys[k][i] = (uint8_t)(hi << 4 | lo);
		}
		if (h[2 * i] || !memcmp(keys[k], keys[k] + 32, 32))
			return false;
	}
	return true;
}

bool guest_keys_ready(void)
{
	static bool parsed;

	if (!parsed)
		parsed = check(parse_keys(), "plan.h: %u guest keys of 64 bytes, halves differ",
			       (unsigned int)NKEYS);
	return parsed;
}

const uint8_t *guest_key(unsigned int id)
{
	return keys[id < NKEYS ? id : 0];
}

static void build_cmd(struct ice_keyq_cmd *c, const struct keyq_row *r)
{
	memset(c, 0, sizeof(*c));
	c->op = r->op;
	c->slot = r->slot;
	c->du_mask = r->du_mask;
	c->key_len = r->key_len;
	if (r->key < NKEYS) {
		memcpy(c->key, keys[r->key],
		       r->key_len < ICE_KEYQ_KEY_MAX ? r->key_len : ICE_KEYQ_KEY_MAX);
	} else if (r->key == PLAN_KEY_EQUAL_HALVES) {
		memcpy(c->key, keys[0], 32);
		memcpy(c->key + 32, keys[0], 32);
	}
	if (r->poke_off)
		((uint8_t *)c)[r->poke_off] = r->poke_val;
}

/* One batch of key-queue commands, one QueueNotify; each checked for status and used length. */
static void keyq_batch(const struct virtio_dev *d, const char *what, const struct keyq_row *rows,
		       unsigned int n)
{
	int head[MAX_KEYQ];
	unsigned int i;

	vq_batch_begin(&vq_key);
	for (i = 0; i < n; i++) {
		uint8_t *c = (uint8_t *)&kcmd[i];
		struct vq_seg segs[4];
		unsigned int ns = 0;

		build_cmd(&kcmd[i], &rows[i]);
		kstatus[i] = 0xff; /* the device must write a status */
		/* Any split of the 80 bytes is the same command (ANY_LAYOUT). */
		if (rows[i].layout == KEYQ_LAYOUT_SPLIT) {
			segs[ns++] = (struct vq_seg){ c, 5, false };
			segs[ns++] = (struct vq_seg){ c + 5, 70, false };
			segs[ns++] = (struct vq_seg){ c + 75, 5, false };
		} else {
			segs[ns++] = (struct vq_seg){ c,
						      rows[i].layout == KEYQ_LAYOUT_SHORT
							      ? ICE_KEYQ_CMD_LEN - 1
							      : ICE_KEYQ_CMD_LEN,
						      false };
		}
		segs[ns++] = (struct vq_seg){ &kstatus[i], 1, true };
		head[i] = vq_add_chain(&vq_key, segs, ns);
	}
	batch_run(d, &vq_key, what, n);
	for (i = 0; i < n; i++) {
		uint32_t used = vq_used_len(&vq_key, head[i]);

		check(head[i] >= 0 && kstatus[i] == rows[i].status && used == 1,
		      "key queue: %s: status %u (want %u) used %u", rows[i].name, kstatus[i],
		      rows[i].status, used);
	}
}

/* virtio 1.2 3.1.1 step 6 and docs/ICE.md: the key queue needs the engine it programs. */
static void keyq_without_ice(const struct virtio_dev *d)
{
	const uint64_t f = 1UL << VIRTIO_F_VERSION_1 | 1UL << VIRTIO_BLK_F_ICE_KEYQ;
	bool kept;

	virtio_reset(d);
	virtio_add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER);
	kept = virtio_negotiate(d, f);
	check(!kept, "FEATURES_OK refused for VERSION_1|ICE_KEYQ without ICE");
	virtio_add_status(d, VIRTIO_STATUS_FAILED);
}

static uint8_t raw_before[ROUND0][REGION_MAX];

void guest_plan(const struct virtio_dev *d)
{
	unsigned int i;
	bool same;

	if (!guest_keys_ready())
		return;
	keyq_without_ice(d);
	if (!disk_init(d, true))
		return;
	io_disk_begin(false);
	{
		const struct slot_io io[] = { { &gregions[K], 3, WANT_IOERR },
					      { &gregions[M], 31, WANT_IOERR },
					      { NULL, 0, WANT_IOERR } };

		io_slot_batch(d, "fresh device: every slot empty", io, 3);
	}
	keyq_batch(d, "P (program, then refusals)", ROWS(program_rows));
	io_writes(d, gregions, ROUND0);
	io_reads(d, gregions, ROUND0);
	io_raw_reads(d, gregions, ROUND0);
	for (i = 0; i < ROUND0; i++)
		memcpy(raw_before[i], io_raw(i), gregions[i].bytes);

	keyq_batch(d, "V (evict)", ROWS(evict_rows));
	{
		const struct slot_io io[] = { { &gregions[L], 17, WANT_IOERR },
					      { NULL, 17, WANT_IOERR },
					      { &gregions[K], 3, WANT_PATTERN },
					      { &gregions[M], 31, WANT_PATTERN } };

		io_slot_batch(d, "after EVICT slot 17", io, 4);
	}

	/* Device reset (Status = 0): the slots empty, the disk as it was. */
	if (!check(disk_init(d, true), "re-initialised after the device reset"))
		return;
	{
		const struct slot_io io[] = { { &gregions[K], 3, WANT_IOERR },
					      { &gregions[L], 17, WANT_IOERR },
					      { &gregions[M], 31, WANT_IOERR },
					      { NULL, 31, WANT_IOERR } };

		io_slot_batch(d, "after the reset: every slot empty", io, 4);
	}
	io_raw_reads(d, gregions, ROUND0);
	for (same = true, i = 0; i < ROUND0; i++)
		same = same && !memcmp(raw_before[i], io_raw(i), gregions[i].bytes);
	check(same, "the reset left K, L, M on the disk byte for byte");

	keyq_batch(d, "P2 (reprogram)", ROWS(reprogram_rows));
	io_writes(d, &gregions[N], 1);
	{
		const struct slot_io io[] = { { &gregions[N], 3, WANT_PATTERN },
					      { &gregions[M], 31, WANT_PATTERN },
					      { &gregions[K], 3, WANT_GARBLED } };

		io_slot_batch(d, "after reprogramming slots 3 and 31", io, 3);
	}
	io_raw_reads(d, &gregions[N], 1);

	keyq_batch(d, "V2 (evict all)", ROWS(evict_all_rows));
	{
		const struct slot_io io[] = { { &gregions[N], 3, WANT_IOERR },
					      { &gregions[M], 31, WANT_IOERR },
					      { NULL, 3, WANT_IOERR } };

		io_slot_batch(d, "after EVICT_ALL: every slot empty", io, 3);
	}
	io_bad_area(d);
	virtio_reset(d); /* leave the device quiet */
}
