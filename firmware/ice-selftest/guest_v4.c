// SPDX-License-Identifier: GPL-2.0
/*
 * The v4 plan (plan.h, PLAN_V4_* and PLAN_CTRL_*): a disk given as
 * `--disk IMG,ice,spec=v4`, which speaks the v4 draft (docs/ICE.md "The v4
 * format"): keys on the control queue (VIRTIO_BLK_F_CTRL_VQ, queue 1),
 * CRYPTO_OUT / CRYPTO_IN on the request queue (INLINE_ENCRYPTION). The
 * same keys and regions as the guest-programmed plan (guest.c), so the image
 * must end up exactly like that disk's:
 *
 *   -  VERSION_1|INLINE_ENCRYPTION without CTRL_VQ: FEATURES_OK refused
 *   -  bring-up with both queues; config; GET_CRYPTO_MODES on each queue
 *   -  every slot empty (I/O through one: IOERR)
 *   P  PROGRAM slots 3, 17, 31, then refusals               control queue
 *   W, R, X  K, L, M written, read back, read raw            request queue
 *   Q  malformed CRYPTO requests, key commands on queue 0    request queue
 *   V  EVICT slot 17 (twice) and slot 0: L IOERR, K and M fine
 *   -  device reset, bring-up again: every slot empty, the disk unchanged
 *   P2 PROGRAM slot 3 with key 3 and 1 KiB units, slot 31 with key 2 again
 *   W  N through the new slot 3; N and M read back, K through it garbled
 *   V2 EVICT slots 3 and 31: every slot empty again
 *   Z  the malformed-write area is still zero
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
enum { K, L, M, N };
#define ROUND0 3

struct ctrl_row {
	const char *name;
	uint32_t type;
	uint32_t slot, du_bits;
	unsigned int key, poke_off;
	uint8_t poke_val, layout, status;
};

#define CTRL_ROW(n, t, s, du, k, po, pv, lay, st) { n, t, s, du, k, po, pv, lay, st },
static const struct ctrl_row program_rows[] = { PLAN_CTRL_PROGRAM(CTRL_ROW) };
static const struct ctrl_row evict_rows[] = { PLAN_CTRL_EVICT(CTRL_ROW) };
static const struct ctrl_row reprogram_rows[] = { PLAN_CTRL_REPROGRAM(CTRL_ROW) };
static const struct ctrl_row evict_rest_rows[] = { PLAN_CTRL_EVICT_REST(CTRL_ROW) };
#define MAX_CTRL 16 /* commands per batch: at most 4 descriptors each, 64 in all */
#define NROWS(t) (sizeof(t) / sizeof(t[0]))
#define ROWS(t) t, NROWS(t)
_Static_assert(NROWS(program_rows) <= MAX_CTRL && NROWS(evict_rows) <= MAX_CTRL &&
		       NROWS(reprogram_rows) <= MAX_CTRL && NROWS(evict_rest_rows) <= MAX_CTRL,
	       "a control batch fits the queue");
#define LAYOUT_SPLIT 1
#define LAYOUT_SHORT 2
#define DUN_BYTES 8 /* what the driver asks of each key: the engine's max_dun_bytes */

static struct v4_key_cmd kcmd[MAX_CTRL] __attribute__((aligned(64)));
static uint8_t kstatus[MAX_CTRL];

static void build_cmd(struct v4_key_cmd *c, const struct ctrl_row *r)
{
	memset(c, 0, sizeof(*c));
	c->type = r->type;
	c->slot = r->slot;
	if (r->key < PLAN_KEY_EQUAL_HALVES) {
		memcpy(c->bytes, guest_key(r->key), PLAN_GUEST_KEY_LEN);
	} else if (r->key == PLAN_KEY_EQUAL_HALVES) {
		memcpy(c->bytes, guest_key(0), 32);
		memcpy(c->bytes + 32, guest_key(0), 32);
	}
	if (r->key != PLAN_KEY_NONE) {
		c->key_size = PLAN_GUEST_KEY_LEN;
		c->crypto_mode = 1; /* AES-256-XTS */
		c->key_type = 1;    /* raw */
		c->du_bits = r->du_bits;
		c->dun_bytes = DUN_BYTES;
	}
	if (r->poke_off)
		((uint8_t *)c)[r->poke_off] = r->poke_val;
}

/* One batch of control commands, one QueueNotify; each checked for status and used length. */
static void ctrl_batch(const struct virtio_dev *d, const char *what, const struct ctrl_row *rows,
		       unsigned int n)
{
	int head[MAX_CTRL];
	unsigned int i;

	vq_batch_begin(&vq_key);
	for (i = 0; i < n; i++) {
		uint8_t *c = (uint8_t *)&kcmd[i];
		struct vq_seg segs[4];
		unsigned int ns = 0;

		build_cmd(&kcmd[i], &rows[i]);
		kstatus[i] = 0xff;		      /* the device must write a status */
		if (rows[i].layout == LAYOUT_SPLIT) { /* ANY_LAYOUT: the same command */
			segs[ns++] = (struct vq_seg){ c, 9, false };
			segs[ns++] = (struct vq_seg){ c + 9, 150, false };
			segs[ns++] = (struct vq_seg){ c + 159, 9, false };
		} else {
			segs[ns++] = (struct vq_seg){ c,
						      rows[i].layout == LAYOUT_SHORT
							      ? V4_KEY_CMD_LEN - 1
							      : V4_KEY_CMD_LEN,
						      false };
		}
		segs[ns++] = (struct vq_seg){ &kstatus[i], 1, true };
		head[i] = vq_add_chain(&vq_key, segs, ns);
	}
	batch_run(d, &vq_key, what, n);
	for (i = 0; i < n; i++) {
		uint32_t used = vq_used_len(&vq_key, head[i]);

		check(head[i] >= 0 && kstatus[i] == rows[i].status && used == 1,
		      "control queue: %s: status %u (want %u) used %u", rows[i].name, kstatus[i],
		      rows[i].status, used);
	}
}

/* GET_CRYPTO_MODES on queue q: the header, 8 bytes of modes, the status. */
static void get_modes(const struct virtio_dev *d, struct vq *q)
{
	static struct ice_hdr hdr __attribute__((aligned(16)));
	static uint32_t modes[2];
	static uint8_t status;
	struct vq_seg segs[3] = { { &hdr, ICE_PLAIN_HDR_LEN, false },
				  { modes, sizeof(modes), true },
				  { &status, 1, true } };
	int head;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = VIRTIO_BLK_T_GET_CRYPTO_MODES;
	modes[0] = modes[1] = 0xffffffff;
	status = 0xff;
	vq_batch_begin(q);
	head = vq_add_chain(q, segs, 3);
	batch_run(d, q, "GET_CRYPTO_MODES", 1);
	check(head >= 0 && status == VIRTIO_BLK_S_OK && vq_used_len(q, head) == 9 &&
		      modes[0] == 0 && modes[1] == PLAN_V4_MODES_1,
	      "GET_CRYPTO_MODES on queue %u: status %u used %u, modes %x %x (want 0 %x)", q->index,
	      status, vq_used_len(q, head), modes[0], modes[1], PLAN_V4_MODES_1);
}

/* virtio 1.2 3.1.1 step 6 and docs/ICE.md: inline encryption needs the control queue. */
static void inline_encryption_without_ctrl_vq(const struct virtio_dev *d)
{
	const uint64_t f = 1UL << VIRTIO_F_VERSION_1 | 1UL << VIRTIO_BLK_F_INLINE_ENCRYPTION;
	bool kept;

	virtio_reset(d);
	virtio_add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER);
	kept = virtio_negotiate(d, f);
	check(!kept, "FEATURES_OK refused for VERSION_1|INLINE_ENCRYPTION without CTRL_VQ");
	virtio_add_status(d, VIRTIO_STATUS_FAILED);
}

/* Reset and bring up with VERSION_1 | CTRL_VQ | INLINE_ENCRYPTION, both queues. */
static bool v4_init(const struct virtio_dev *d)
{
	const uint64_t want = 1UL << VIRTIO_F_VERSION_1 | 1UL << VIRTIO_BLK_F_CTRL_VQ |
			      1UL << VIRTIO_BLK_F_INLINE_ENCRYPTION;
	uint64_t features;
	const char *why;
	uint32_t status, blk_size;

	if (!check(virtio_reset(d), "reset: Status reads back 0"))
		return false;
	virtio_add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER);
	features = virtio_device_features(d);
	if (!check((features & want) == want && !(features >> VIRTIO_BLK_F_ICE_KEYQ & 1),
		   "device features %lx offer VERSION_1, CTRL_VQ and INLINE_ENCRYPTION, not "
		   "ICE_KEYQ",
		   features) ||
	    !check(virtio_negotiate(d, want), "FEATURES_OK kept for exactly "
					      "VERSION_1|CTRL_VQ|INLINE_ENCRYPTION")) {
		virtio_add_status(d, VIRTIO_STATUS_FAILED);
		return false;
	}
	why = vq_setup(d, &vq_req);
	if (!why)
		why = vq_setup(d, &vq_key);
	if (!check(!why, "queues 0 (requests) and 1 (control): %u entries, ready%s%s", VQ_SIZE,
		   why ? ": " : "", why ? why : "")) {
		virtio_add_status(d, VIRTIO_STATUS_FAILED);
		return false;
	}
	check(vq_num_max(d, 2) == 0, "no queue 2: QueueNumMax %u", vq_num_max(d, 2));
	blk_size = virtio_config32(d, VIRTIO_BLK_CFG_BLK_SIZE);
	check(virtio_config16(d, V4_CFG_MAX_SLOTS) == PLAN_V4_MAX_SLOTS &&
		      (virtio_config32(d, V4_CFG_MAX_SLOTS) >> 16 & 0xff) ==
			      PLAN_V4_MAX_DUN_BYTES &&
		      virtio_config32(d, V4_CFG_MAX_SLOTS) >> 24 == PLAN_V4_KEY_TYPES &&
		      virtio_config32(d, 0x64) == 0,
	      "config: max_slots %u, max_dun_bytes %u, key_types %u, unused 0",
	      virtio_config16(d, V4_CFG_MAX_SLOTS),
	      virtio_config32(d, V4_CFG_MAX_SLOTS) >> 16 & 0xff,
	      virtio_config32(d, V4_CFG_MAX_SLOTS) >> 24);
	check((features >> VIRTIO_BLK_F_BLK_SIZE & 1) && blk_size == PLAN_GUEST_BLK_SIZE,
	      "config blk_size %u (want %u: the largest data unit)", blk_size, PLAN_GUEST_BLK_SIZE);
	virtio_add_status(d, VIRTIO_STATUS_DRIVER_OK);
	status = virtio_read32(d, VIRTIO_MMIO_STATUS);
	return check(status == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK),
		     "DRIVER_OK: status %x", status);
}

/*
 * Q: requests the request queue must refuse. Each completes with its status
 * and used length 1, writes nothing (writes go to the malformed-write area,
 * which Z reads back as zeroes).
 */
static void bad_crypto_requests(const struct virtio_dev *d)
{
	enum { UNUSED_BYTE, DUN1, SHORT_HDR, PROGRAM_ON_Q0, NBAD };
	static const char *const name[NBAD] = { "CRYPTO_OUT, an unused byte 1",
						"CRYPTO_OUT, dun[1] = 1",
						"CRYPTO_OUT, 40 header bytes",
						"PROGRAM on the request queue" };
	static const uint8_t want[NBAD] = { VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR,
					    VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP };
	static struct v4_hdr hdr[NBAD] __attribute__((aligned(64)));
	static struct v4_key_cmd prog __attribute__((aligned(64)));
	static uint8_t data[4096] __attribute__((aligned(64))), status[NBAD];
	int head[NBAD];
	unsigned int i;

	memset(data, 0x3c, sizeof(data));
	vq_batch_begin(&vq_req);
	for (i = 0; i < NBAD; i++) {
		struct vq_seg segs[3];

		memset(&hdr[i], 0, sizeof(hdr[i]));
		hdr[i].type = VIRTIO_BLK_T_CRYPTO_OUT;
		hdr[i].sector = PLAN_BAD_SECTOR + PLAN_BAD_STRIDE * i;
		hdr[i].slot = 3; /* programmed: only the fault is refused */
		status[i] = 0xff;
		segs[0] = (struct vq_seg){ &hdr[i], V4_HDR_LEN, false };
		if (i == UNUSED_BYTE)
			hdr[i].unused[2] = 1;
		else if (i == DUN1)
			hdr[i].dun[1] = 1;
		else if (i == SHORT_HDR)
			segs[0].len = 40;
		if (i == PROGRAM_ON_Q0) {
			memset(&prog, 0, sizeof(prog));
			prog.type = VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM;
			prog.slot = 9;
			memcpy(prog.bytes, guest_key(3), PLAN_GUEST_KEY_LEN);
			prog.key_size = PLAN_GUEST_KEY_LEN;
			prog.crypto_mode = prog.key_type = 1;
			prog.du_bits = 12;
			prog.dun_bytes = DUN_BYTES;
			segs[0] = (struct vq_seg){ &prog, V4_KEY_CMD_LEN, false };
			segs[1] = (struct vq_seg){ &status[i], 1, true };
			head[i] = vq_add_chain(&vq_req, segs, 2);
			continue;
		}
		segs[1] = (struct vq_seg){ data, i == SHORT_HDR ? 0 : sizeof(data), false };
		segs[2] = (struct vq_seg){ &status[i], 1, true };
		head[i] = i == SHORT_HDR
				  ? vq_add_chain(&vq_req, (struct vq_seg[]){ segs[0], segs[2] }, 2)
				  : vq_add_chain(&vq_req, segs, 3);
	}
	batch_run(d, &vq_req, "Q (malformed v4 requests)", NBAD);
	for (i = 0; i < NBAD; i++)
		check(head[i] >= 0 && status[i] == want[i] && vq_used_len(&vq_req, head[i]) == 1,
		      "%s: status %u (want %u) used %u", name[i], status[i], want[i],
		      vq_used_len(&vq_req, head[i]));
}

static uint8_t raw_before[ROUND0][REGION_MAX];

void v4_plan(const struct virtio_dev *d)
{
	unsigned int i;
	bool same;

	if (!guest_keys_ready())
		return;
	inline_encryption_without_ctrl_vq(d);
	if (!v4_init(d))
		return;
	get_modes(d, &vq_key);
	get_modes(d, &vq_req);
	io_disk_begin(true);
	{
		const struct slot_io io[] = { { &gregions[K], 3, WANT_IOERR },
					      { &gregions[M], 31, WANT_IOERR },
					      { NULL, 0, WANT_IOERR } };

		io_slot_batch(d, "fresh device: every slot empty", io, 3);
	}
	ctrl_batch(d, "P (program, then refusals)", ROWS(program_rows));
	io_writes(d, gregions, ROUND0);
	io_reads(d, gregions, ROUND0);
	io_raw_reads(d, gregions, ROUND0);
	for (i = 0; i < ROUND0; i++)
		memcpy(raw_before[i], io_raw(i), gregions[i].bytes);
	bad_crypto_requests(d);

	ctrl_batch(d, "V (evict)", ROWS(evict_rows));
	{
		const struct slot_io io[] = { { &gregions[L], 17, WANT_IOERR },
					      { NULL, 17, WANT_IOERR },
					      { &gregions[K], 3, WANT_PATTERN },
					      { &gregions[M], 31, WANT_PATTERN } };

		io_slot_batch(d, "after EVICT slot 17", io, 4);
	}

	/* Device reset (Status = 0): the slots empty, the disk as it was. */
	if (!check(v4_init(d), "re-initialised after the device reset"))
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

	ctrl_batch(d, "P2 (reprogram)", ROWS(reprogram_rows));
	io_writes(d, &gregions[N], 1);
	{
		const struct slot_io io[] = { { &gregions[N], 3, WANT_PATTERN },
					      { &gregions[M], 31, WANT_PATTERN },
					      { &gregions[K], 3, WANT_GARBLED } };

		io_slot_batch(d, "after reprogramming slots 3 and 31", io, 3);
	}
	io_raw_reads(d, &gregions[N], 1);

	ctrl_batch(d, "V2 (evict slots 3 and 31)", ROWS(evict_rest_rows));
	{
		const struct slot_io io[] = { { &gregions[N], 3, WANT_IOERR },
					      { &gregions[M], 31, WANT_IOERR },
					      { NULL, 3, WANT_IOERR } };

		io_slot_batch(d, "after the evictions: every slot empty", io, 3);
	}
	io_bad_area(d);
	virtio_reset(d); /* leave the device quiet */
}
