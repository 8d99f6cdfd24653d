// SPDX-License-Identifier: GPL-2.0
/*
 * The ICE key-queue command (devices/ice_keyq.h): every op, every refusal of
 * docs/ICE.md's command table, the chain shapes, and that the caller's key
 * buffer holds nothing after a refusal. Chains are built by hand over a
 * "guest memory" arena filled with a guard pattern, so the tests also see that
 * reading a command writes no guest byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "../../devices/ice.h"
#include "../../devices/ice_keyq.h"
#include "guest.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The default engine: AES-256-XTS, data units 512-4096, 32 slots. */
#define CAP_XTS256 (0u << 24 | 0x0fu << 16 | 3u << 8)
#define SLOT_INFO_32 (32u << 8)

static const uint8_t zero80[ICE_KEYQ_CMD_SIZE];

static struct ice_keyq_caps caps_of(uint16_t slot_info, uint32_t capability)
{
	struct ice_keyq_caps caps;

	ck_assert_int_eq(ice_keyq_caps_from_config(&caps, slot_info, capability), 0);
	return caps;
}

/* A key of len bytes whose halves differ everywhere. */
static void key_fill(uint8_t *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		key[i] = (uint8_t)(i < len / 2 ? 0x10 + i : 0xa0 + i);
}

static void cmd_make(uint8_t *buf, uint32_t op, uint8_t slot, uint8_t du_mask, uint8_t key_len)
{
	memset(buf, 0, ICE_KEYQ_CMD_SIZE);
	buf[0] = (uint8_t)op;
	buf[1] = (uint8_t)(op >> 8);
	buf[2] = (uint8_t)(op >> 16);
	buf[3] = (uint8_t)(op >> 24);
	buf[4] = slot;
	buf[5] = du_mask;
	buf[6] = key_len;
	if (op == ICE_KEYQ_OP_PROGRAM)
		key_fill(buf + ICE_KEYQ_OFF_KEY, key_len);
}

/* Parse must refuse buf with exactly `status`, wipe all 80 bytes and clear cmd. */
static void expect_refused(uint8_t *buf, const struct ice_keyq_caps *caps, uint8_t status,
			   const char *what)
{
	struct ice_keyq_cmd cmd;

	memset(&cmd, 0x5a, sizeof(cmd));
	ck_assert_msg(ice_keyq_parse(buf, caps, &cmd) == status, "%s: want status %u", what,
		      status);
	ck_assert_msg(!memcmp(buf, zero80, sizeof(zero80)), "%s: buffer not wiped", what);
	ck_assert_uint_eq(cmd.op, 0);
	ck_assert_ptr_null(cmd.key);
	ck_assert_uint_eq(cmd.key_len, 0);
}

/* Parse must accept buf, leave its bytes alone, and return the command. */
static struct ice_keyq_cmd expect_ok(uint8_t *buf, const struct ice_keyq_caps *caps)
{
	uint8_t copy[ICE_KEYQ_CMD_SIZE];
	struct ice_keyq_cmd cmd;

	memcpy(copy, buf, sizeof(copy));
	ck_assert_uint_eq(ice_keyq_parse(buf, caps, &cmd), ICE_KEYQ_S_OK);
	ck_assert_mem_eq(buf, copy, sizeof(copy));
	return cmd;
}

/* --- capabilities --- */

static struct ice_store st; /* large: static */

START_TEST(test_caps_default_engine)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32 | 7, CAP_XTS256);

	ck_assert_uint_eq(caps.max_slots, 32);
	ck_assert_uint_eq(caps.du_mask, 0x0f);
	ck_assert_uint_eq(caps.key_len, 64);
}
END_TEST

/* Every combination the store accepts: the caps' key length is the store's. */
START_TEST(test_caps_match_store)
{
	unsigned int alg, ks, n = 0;

	for (alg = 0; alg <= 3; alg++) {
		for (ks = 1; ks <= 3; ks++) {
			struct ice_keyq_caps caps;

			if (ice_store_init(&st, alg, ks, 0x81, 9, 3))
				continue;
			ck_assert_int_eq(ice_keyq_caps_from_config(&caps, ice_slot_info(&st),
								   ice_capability(&st)),
					 0);
			ck_assert_uint_eq(caps.key_len, ice_key_len(&st));
			ck_assert_uint_eq(caps.max_slots, 9);
			ck_assert_uint_eq(caps.du_mask, 0x81);
			ice_store_free(&st);
			n++;
		}
	}
	ck_assert_uint_eq(n,
			  9); /* XTS 128/256, BitLocker 128/256, ECB 128/192/256, ESSIV 128/256 */
}
END_TEST

START_TEST(test_caps_refused)
{
	static const struct {
		uint16_t slot_info;
		uint32_t cap;
	} bad[] = {
		{ SLOT_INFO_32, 4u << 24 | 0x0f << 16 | 3 << 8 },    /* algorithm 4 */
		{ SLOT_INFO_32, 0xffu << 24 | 0x0f << 16 | 3 << 8 }, /* algorithm 255 */
		{ SLOT_INFO_32, 0x0f << 16 | 0 << 8 },		     /* key size 0 */
		{ SLOT_INFO_32, 0x0f << 16 | 4 << 8 },		     /* key size 4 */
		{ SLOT_INFO_32, 0x00 << 16 | 3 << 8 },		     /* no data unit */
		{ 0x0005, CAP_XTS256 },				     /* no slots */
	};
	struct ice_keyq_caps caps;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&caps, 0x5a, sizeof(caps));
		ck_assert_int_eq(ice_keyq_caps_from_config(&caps, bad[i].slot_info, bad[i].cap),
				 -EINVAL);
		ck_assert_uint_eq(caps.max_slots, 0);
		ck_assert_uint_eq(caps.key_len, 0);
	}
}
END_TEST

/* --- every op --- */

START_TEST(test_program_ok)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256);
	static const uint8_t slots[] = { 0, 1, 31 };
	uint8_t buf[ICE_KEYQ_CMD_SIZE], key[64];
	unsigned int bit, i;

	key_fill(key, sizeof(key));
	for (i = 0; i < ARRAY_SIZE(slots); i++) {
		for (bit = 0; bit < 4; bit++) {
			struct ice_keyq_cmd cmd;

			cmd_make(buf, ICE_KEYQ_OP_PROGRAM, slots[i], 1u << bit, 64);
			cmd = expect_ok(buf, &caps);
			ck_assert_uint_eq(cmd.op, ICE_KEYQ_OP_PROGRAM);
			ck_assert_uint_eq(cmd.slot, slots[i]);
			ck_assert_uint_eq(cmd.du_size, 512u << bit);
			ck_assert_ptr_eq(cmd.key, buf + 16);
			ck_assert_uint_eq(cmd.key_len, 64);
			ck_assert_mem_eq(cmd.key, key, 64);
		}
	}
}
END_TEST

/* Data units up to 64 KiB, and a 16-byte key with the rest of key[] zero. */
START_TEST(test_program_other_engines)
{
	/* ESSIV AES-128, every data unit size, 255 slots */
	struct ice_keyq_caps caps = caps_of(255u << 8, 3u << 24 | 0xffu << 16 | 1u << 8);
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	struct ice_keyq_cmd cmd;

	ck_assert_uint_eq(caps.key_len, 16);
	cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 254, 0x80, 16);
	cmd = expect_ok(buf, &caps);
	ck_assert_uint_eq(cmd.slot, 254);
	ck_assert_uint_eq(cmd.du_size, 65536);
	ck_assert_uint_eq(cmd.key_len, 16);
	ck_assert_ptr_eq(cmd.key, buf + 16);

	/* Not XTS: equal halves are just a key. */
	cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 0, 0x01, 16);
	memset(buf + 16, 0x42, 16);
	cmd = expect_ok(buf, &caps);
	ck_assert_uint_eq(cmd.du_size, 512);
}
END_TEST

START_TEST(test_evict_ok)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256);
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	struct ice_keyq_cmd cmd;

	cmd_make(buf, ICE_KEYQ_OP_EVICT, 0, 0, 0);
	cmd = expect_ok(buf, &caps);
	ck_assert_uint_eq(cmd.op, ICE_KEYQ_OP_EVICT);
	ck_assert_uint_eq(cmd.slot, 0);
	ck_assert_uint_eq(cmd.du_size, 0);
	ck_assert_ptr_null(cmd.key);
	ck_assert_uint_eq(cmd.key_len, 0);

	cmd_make(buf, ICE_KEYQ_OP_EVICT, 31, 0, 0);
	cmd = expect_ok(buf, &caps);
	ck_assert_uint_eq(cmd.op, ICE_KEYQ_OP_EVICT);
	ck_assert_uint_eq(cmd.slot, 31);
}
END_TEST

START_TEST(test_evict_all_ok)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256);
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	struct ice_keyq_cmd cmd;

	cmd_make(buf, ICE_KEYQ_OP_EVICT_ALL, 0, 0, 0);
	cmd = expect_ok(buf, &caps);
	ck_assert_uint_eq(cmd.op, ICE_KEYQ_OP_EVICT_ALL);
	ck_assert_uint_eq(cmd.slot, 0);
	ck_assert_uint_eq(cmd.du_size, 0);
	ck_assert_ptr_null(cmd.key);
	ck_assert_uint_eq(cmd.key_len, 0);
}
END_TEST

/* --- refusals --- */

START_TEST(test_unknown_ops)
{
	static const uint32_t ops[] = { 0,	 4,	     5,		 0x100,	    0x101,
					0x10001, 0x01000001, 0x80000003, 0xffffffff };
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256);
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		/* A well-formed PROGRAM body: only the op is wrong. */
		cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 1, 0x08, 64);
		memcpy(buf, &ops[i], 4); /* the hosts are little-endian */
		expect_refused(buf, &caps, ICE_KEYQ_S_UNSUPP, "unknown op");
		/* Garbage in every other field: still UNSUPP, not IOERR. */
		memset(buf, 0xee, sizeof(buf));
		memcpy(buf, &ops[i], 4);
		expect_refused(buf, &caps, ICE_KEYQ_S_UNSUPP, "unknown op, garbage fields");
	}
}
END_TEST

/* slot boundaries: 0 and max_slots - 1 accepted, max_slots and 255 refused (EVICT too). */
START_TEST(test_slot_bounds)
{
	static const uint32_t ops[] = { ICE_KEYQ_OP_PROGRAM, ICE_KEYQ_OP_EVICT };
	static const unsigned int max[] = { 1, 32, 255 };
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	unsigned int i, m;

	for (m = 0; m < ARRAY_SIZE(max); m++) {
		struct ice_keyq_caps caps = caps_of((uint16_t)(max[m] << 8), CAP_XTS256);

		for (i = 0; i < ARRAY_SIZE(ops); i++) {
			uint8_t kl = ops[i] == ICE_KEYQ_OP_PROGRAM ? 64 : 0;
			uint8_t du = ops[i] == ICE_KEYQ_OP_PROGRAM ? 0x01 : 0;

			cmd_make(buf, ops[i], 0, du, kl);
			ck_assert_uint_eq(expect_ok(buf, &caps).slot, 0);
			cmd_make(buf, ops[i], (uint8_t)(max[m] - 1), du, kl);
			ck_assert_uint_eq(expect_ok(buf, &caps).slot, max[m] - 1);
			if (max[m] < 256) {
				cmd_make(buf, ops[i], (uint8_t)max[m], du, kl);
				if (max[m] < 255)
					expect_refused(buf, &caps, ICE_KEYQ_S_IOERR,
						       "slot == max_slots");
				else
					expect_refused(buf, &caps, ICE_KEYQ_S_IOERR, "slot 255");
			}
			cmd_make(buf, ops[i], 255, du, kl);
			expect_refused(buf, &caps, ICE_KEYQ_S_IOERR, "slot 255");
		}
	}
}
END_TEST

START_TEST(test_evict_all_slot_nonzero)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256);
	static const uint8_t slots[] = { 1, 31, 32, 255 };
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(slots); i++) {
		cmd_make(buf, ICE_KEYQ_OP_EVICT_ALL, slots[i], 0, 0);
		expect_refused(buf, &caps, ICE_KEYQ_S_IOERR, "EVICT_ALL with a slot");
	}
}
END_TEST

START_TEST(test_du_mask_refused)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256); /* mask 0x0f */
	static const uint8_t masks[] = {
		0x00,			      /* none */
		0x03, 0x09, 0x0f, 0x81, 0xff, /* two bits or more */
		0x10, 0x20, 0x40, 0x80,	      /* one bit, outside the capability */
	};
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(masks); i++) {
		cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 3, masks[i], 64);
		expect_refused(buf, &caps, ICE_KEYQ_S_IOERR, "du_mask");
	}
	/* A capability with a hole: 512 and 4096 only. */
	caps = caps_of(SLOT_INFO_32, 0x09u << 16 | 3u << 8);
	cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 3, 0x02, 64);
	expect_refused(buf, &caps, ICE_KEYQ_S_IOERR, "du_mask in the hole");
	cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 3, 0x08, 64);
	ck_assert_uint_eq(expect_ok(buf, &caps).du_size, 4096);
}
END_TEST

START_TEST(test_key_len_refused)
{
	struct ice_keyq_caps xts = caps_of(SLOT_INFO_32, CAP_XTS256);
	struct ice_keyq_caps essiv = caps_of(SLOT_INFO_32, 3u << 24 | 0x0fu << 16 | 1u << 8);
	static const uint8_t xts_lens[] = { 0, 16, 32, 63, 65, 80, 255 };
	static const uint8_t essiv_lens[] = { 0, 15, 17, 32, 64 };
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xts_lens); i++) {
		cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 0, 0x01, 0);
		key_fill(buf + 16, 64);
		buf[ICE_KEYQ_OFF_KEY_LEN] = xts_lens[i];
		expect_refused(buf, &xts, ICE_KEYQ_S_IOERR, "key_len (XTS-256)");
	}
	for (i = 0; i < ARRAY_SIZE(essiv_lens); i++) {
		cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 0, 0x01, essiv_lens[i]);
		expect_refused(buf, &essiv, ICE_KEYQ_S_IOERR, "key_len (ESSIV-128)");
	}
}
END_TEST

/*
 * Every byte an op does not use, made non-zero in turn (with 0x01 and 0x80):
 * the reserved u8 and le64 for every op, key bytes past key_len for PROGRAM,
 * du_mask/key_len/key for EVICT and EVICT_ALL, slot for EVICT_ALL.
 */
static void unused_fields(uint32_t op, const struct ice_keyq_caps *caps, uint8_t slot,
			  uint8_t du_mask, uint8_t key_len)
{
	static const uint8_t vals[] = { 0x01, 0x80 };
	uint8_t buf[ICE_KEYQ_CMD_SIZE];
	unsigned int off, v, n = 0;

	for (off = 4; off < ICE_KEYQ_CMD_SIZE; off++) {
		bool used = (off == ICE_KEYQ_OFF_SLOT && op != ICE_KEYQ_OP_EVICT_ALL) ||
			    (op == ICE_KEYQ_OP_PROGRAM &&
			     (off == ICE_KEYQ_OFF_DU_MASK || off == ICE_KEYQ_OFF_KEY_LEN ||
			      (off >= ICE_KEYQ_OFF_KEY &&
			       off < ICE_KEYQ_OFF_KEY + (unsigned int)key_len)));

		if (used)
			continue;
		for (v = 0; v < ARRAY_SIZE(vals); v++) {
			cmd_make(buf, op, slot, du_mask, key_len);
			expect_ok(buf, caps); /* the base command is good */
			buf[off] = vals[v];
			ck_assert_msg(ice_keyq_parse(buf, caps, &(struct ice_keyq_cmd){ 0 }) ==
					      ICE_KEYQ_S_IOERR,
				      "op %u: byte %u = %#x accepted", op, off, vals[v]);
			ck_assert_msg(!memcmp(buf, zero80, sizeof(zero80)),
				      "op %u: byte %u: buffer not wiped", op, off);
			n++;
		}
	}
	ck_assert_uint_gt(n, 0);
}

START_TEST(test_unused_fields_nonzero)
{
	struct ice_keyq_caps xts = caps_of(SLOT_INFO_32, CAP_XTS256);
	struct ice_keyq_caps essiv = caps_of(SLOT_INFO_32, 3u << 24 | 0x0fu << 16 | 1u << 8);

	unused_fields(ICE_KEYQ_OP_PROGRAM, &xts, 5, 0x08, 64);	 /* reserved only */
	unused_fields(ICE_KEYQ_OP_PROGRAM, &essiv, 5, 0x02, 16); /* + key[16..64) */
	unused_fields(ICE_KEYQ_OP_EVICT, &xts, 5, 0, 0);
	unused_fields(ICE_KEYQ_OP_EVICT_ALL, &xts, 0, 0, 0);
}
END_TEST

START_TEST(test_xts_equal_halves)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256);
	struct ice_keyq_caps xts128 = caps_of(SLOT_INFO_32, 0x0fu << 16 | 1u << 8);
	uint8_t buf[ICE_KEYQ_CMD_SIZE];

	/*
	 * Equal halves pass the command check: the store refuses them as it
	 * loads the slot, the one place that rule lives (test_blk_keyq's
	 * "equal XTS halves" gets IOERR from the device).
	 */
	cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 2, 0x08, 64);
	memcpy(buf + 16 + 32, buf + 16, 32);
	ck_assert_uint_eq(expect_ok(buf, &caps).key_len, 64);

	cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 2, 0x08, 32);
	memcpy(buf + 16 + 16, buf + 16, 16);
	ck_assert_uint_eq(expect_ok(buf, &xts128).key_len, 32);

	/* Halves that differ in their last byte only are a good key. */
	cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 2, 0x08, 64);
	memcpy(buf + 16 + 32, buf + 16, 32);
	buf[16 + 63] ^= 1;
	ck_assert_uint_eq(expect_ok(buf, &caps).key_len, 64);
	/* and in their first byte only */
	cmd_make(buf, ICE_KEYQ_OP_PROGRAM, 2, 0x08, 64);
	memcpy(buf + 16 + 32, buf + 16, 32);
	buf[16 + 32] ^= 0x80;
	ck_assert_uint_eq(expect_ok(buf, &caps).key_len, 64);
}
END_TEST

/* --- chains --- */

/*
 * "Guest memory": an arena of guard bytes. Buffers are laid out one after
 * the other with a gap of 3 guard bytes, the readable ones filled with the
 * command in order.
 */
#define GUARD 0xa5
static uint8_t arena[4096], arena_copy[4096];
static struct virtq_chain chain;

struct seg {
	uint32_t len;
	bool w;
};

static void chain_build(const struct seg *segs, unsigned int n, const uint8_t *cmd, size_t cmd_len)
{
	size_t pos = 1, rd = 0; /* odd start: no alignment assumed */
	unsigned int i;

	memset(arena, GUARD, sizeof(arena));
	memset(&chain, 0, sizeof(chain));
	chain.head = 7;
	for (i = 0; i < n; i++) {
		struct virtq_buf *b = &chain.bufs[chain.nbufs++];

		ck_assert_uint_lt(pos + segs[i].len + 3, sizeof(arena));
		b->host = arena + pos;
		b->len = segs[i].len;
		b->device_writable = segs[i].w;
		if (segs[i].w) {
			chain.writable_len += segs[i].len;
		} else {
			size_t k;

			for (k = 0; k < segs[i].len; k++, rd++)
				arena[pos + k] = rd < cmd_len ? cmd[rd] : (uint8_t)(0xc0 + k);
			chain.readable_len += segs[i].len;
		}
		pos += segs[i].len + 3;
	}
	memcpy(arena_copy, arena, sizeof(arena));
}

static uint8_t *last_byte(void)
{
	const struct virtq_buf *b = &chain.bufs[chain.nbufs - 1];

	return b->host + b->len - 1;
}

/* Read the chain: want `expect`; the arena must be untouched. */
static void read_expect(enum ice_keyq_chain expect, uint8_t *buf, uint8_t **status)
{
	ck_assert_int_eq(ice_keyq_read(&chain, buf, status), expect);
	ck_assert_msg(!memcmp(arena, arena_copy, sizeof(arena)), "guest memory written");
	if (expect != ICE_KEYQ_CHAIN_OK)
		ck_assert_msg(!memcmp(buf, zero80, sizeof(zero80)), "buffer not zero");
}

static void program_cmd(uint8_t *cmd)
{
	cmd_make(cmd, ICE_KEYQ_OP_PROGRAM, 9, 0x04, 64);
}

START_TEST(test_chain_whole)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256);
	const struct seg segs[] = { { 80, false }, { 1, true } };
	uint8_t cmd[ICE_KEYQ_CMD_SIZE], buf[ICE_KEYQ_CMD_SIZE], *status;
	struct ice_keyq_cmd c;

	program_cmd(cmd);
	chain_build(segs, ARRAY_SIZE(segs), cmd, sizeof(cmd));
	memset(buf, 0x5a, sizeof(buf));
	read_expect(ICE_KEYQ_CHAIN_OK, buf, &status);
	ck_assert_mem_eq(buf, cmd, sizeof(cmd));
	ck_assert_ptr_eq(status, chain.bufs[1].host);
	ck_assert_uint_eq(ice_keyq_parse(buf, &caps, &c), ICE_KEYQ_S_OK);
	ck_assert_uint_eq(c.slot, 9);
	ck_assert_uint_eq(c.du_size, 2048);
	ck_assert_ptr_eq(c.key, buf + 16);
	ck_assert_mem_eq(c.key, cmd + 16, 64);
}
END_TEST

/* ANY_LAYOUT: every two-way split, odd many-way splits, one byte per buffer. */
START_TEST(test_chain_splits)
{
	static const struct seg odd[] = { { 1, false },	 { 2, false },	{ 3, false },
					  { 5, false },	 { 7, false },	{ 11, false },
					  { 13, false }, { 17, false }, { 21, false },
					  { 1, true } };
	static const struct seg hdr_split[] = { { 3, false },  { 4, false },  { 9, false },
						{ 47, false }, { 17, false }, { 1, true } };
	uint8_t cmd[ICE_KEYQ_CMD_SIZE], buf[ICE_KEYQ_CMD_SIZE], *status;
	struct seg segs[ICE_KEYQ_CMD_SIZE + 1];
	unsigned int k;

	program_cmd(cmd);
	for (k = 1; k < ICE_KEYQ_CMD_SIZE; k++) {
		segs[0] = (struct seg){ k, false };
		segs[1] = (struct seg){ ICE_KEYQ_CMD_SIZE - k, false };
		segs[2] = (struct seg){ 1, true };
		chain_build(segs, 3, cmd, sizeof(cmd));
		read_expect(ICE_KEYQ_CHAIN_OK, buf, &status);
		ck_assert_mem_eq(buf, cmd, sizeof(cmd));
		ck_assert_ptr_eq(status, last_byte());
	}
	chain_build(odd, ARRAY_SIZE(odd), cmd, sizeof(cmd));
	read_expect(ICE_KEYQ_CHAIN_OK, buf, &status);
	ck_assert_mem_eq(buf, cmd, sizeof(cmd));
	ck_assert_ptr_eq(status, last_byte());

	chain_build(hdr_split, ARRAY_SIZE(hdr_split), cmd, sizeof(cmd));
	read_expect(ICE_KEYQ_CHAIN_OK, buf, &status);
	ck_assert_mem_eq(buf, cmd, sizeof(cmd));

	for (k = 0; k < ICE_KEYQ_CMD_SIZE; k++)
		segs[k] = (struct seg){ 1, false };
	segs[k] = (struct seg){ 1, true };
	chain_build(segs, k + 1, cmd, sizeof(cmd));
	read_expect(ICE_KEYQ_CHAIN_OK, buf, &status);
	ck_assert_mem_eq(buf, cmd, sizeof(cmd));
	ck_assert_ptr_eq(status, last_byte());
}
END_TEST

/* Wrong shapes whose last buffer is device-writable: MALFORMED, status = its last byte. */
START_TEST(test_chain_malformed)
{
	static const struct {
		struct seg segs[4];
		unsigned int n;
		const char *what;
	} cases[] = {
		{ { { 79, false }, { 1, true } }, 2, "79 readable bytes" },
		{ { { 81, false }, { 1, true } }, 2, "81 readable bytes" },
		{ { { 40, false }, { 41, false }, { 1, true } }, 3, "81 readable, split" },
		{ { { 40, false }, { 39, false }, { 1, true } }, 3, "79 readable, split" },
		{ { { 80, false }, { 2, true } }, 2, "2 writable bytes in one buffer" },
		{ { { 80, false }, { 1, true }, { 1, true } }, 3, "2 writable buffers" },
		{ { { 1, true } }, 1, "no readable bytes" },
		{ { { 1, true }, { 80, false }, { 1, true } }, 3, "a writable buffer first" },
		{ { { 1, true }, { 79, false }, { 1, true } },
		  3,
		  "a writable byte first, 80 in all" },
		{ { { 80, false }, { 4096 - 100, true } }, 2, "a large writable buffer" },
	};
	uint8_t cmd[ICE_KEYQ_CMD_SIZE], buf[ICE_KEYQ_CMD_SIZE], *status;
	unsigned int i;

	program_cmd(cmd);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		chain_build(cases[i].segs, cases[i].n, cmd, sizeof(cmd));
		memset(buf, 0x5a, sizeof(buf));
		status = NULL;
		ck_assert_msg(ice_keyq_read(&chain, buf, &status) == ICE_KEYQ_CHAIN_MALFORMED, "%s",
			      cases[i].what);
		ck_assert_msg(!memcmp(arena, arena_copy, sizeof(arena)), "%s: guest memory written",
			      cases[i].what);
		ck_assert_msg(!memcmp(buf, zero80, sizeof(zero80)), "%s: buffer not zero",
			      cases[i].what);
		ck_assert_msg(status == last_byte(), "%s: status byte", cases[i].what);
	}
}
END_TEST

/* Wrong shapes with no device-writable last buffer: NO_STATUS, nothing to write. */
START_TEST(test_chain_no_status)
{
	static const struct {
		struct seg segs[3];
		unsigned int n;
		const char *what;
	} cases[] = {
		{ { { 0, false } }, 0, "an empty chain" },
		{ { { 80, false } }, 1, "no writable byte" },
		{ { { 81, false } }, 1, "81 readable, no writable byte" },
		{ { { 40, false }, { 40, false } }, 2, "split, no writable byte" },
		{ { { 1, true }, { 80, false } }, 2, "a writable buffer before the readable ones" },
	};
	uint8_t cmd[ICE_KEYQ_CMD_SIZE], buf[ICE_KEYQ_CMD_SIZE], *status;
	unsigned int i;

	program_cmd(cmd);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		chain_build(cases[i].segs, cases[i].n, cmd, sizeof(cmd));
		memset(buf, 0x5a, sizeof(buf));
		status = arena;
		ck_assert_msg(ice_keyq_read(&chain, buf, &status) == ICE_KEYQ_CHAIN_NO_STATUS, "%s",
			      cases[i].what);
		ck_assert_msg(!memcmp(arena, arena_copy, sizeof(arena)), "%s: guest memory written",
			      cases[i].what);
		ck_assert_msg(!memcmp(buf, zero80, sizeof(zero80)), "%s: buffer not zero",
			      cases[i].what);
		ck_assert_ptr_null(status);
	}
}
END_TEST

/*
 * Read then refuse: the key that came out of the chain is gone from the
 * caller's buffer, and the guest's copy is the guest's business.
 */
START_TEST(test_chain_refused_key_wiped)
{
	struct ice_keyq_caps caps = caps_of(SLOT_INFO_32, CAP_XTS256);
	const struct seg segs[] = { { 20, false }, { 60, false }, { 1, true } };
	uint8_t cmd[ICE_KEYQ_CMD_SIZE], buf[ICE_KEYQ_CMD_SIZE], *status;
	struct ice_keyq_cmd c;

	program_cmd(cmd);
	cmd[ICE_KEYQ_OFF_RESERVED2 + 7] = 1; /* top byte of the reserved le64 */
	chain_build(segs, ARRAY_SIZE(segs), cmd, sizeof(cmd));
	read_expect(ICE_KEYQ_CHAIN_OK, buf, &status);
	ck_assert_mem_eq(buf + 16, cmd + 16, 64); /* the key is in buf ... */
	ck_assert_uint_eq(ice_keyq_parse(buf, &caps, &c), ICE_KEYQ_S_IOERR);
	ck_assert_mem_eq(buf, zero80, sizeof(zero80)); /* ... and then not */
	ck_assert_ptr_null(c.key);
}
END_TEST

/*
 * Chains as the virtqueue really pops them from a (fake) guest's rings:
 * direct descriptors at odd guest addresses, an indirect table of 81
 * one-byte buffers, and a writable buffer before readable ones, which the
 * virtqueue itself already refuses (2.7.4.2) and which then has no status.
 */
static struct test_guest g;
static struct virtq vq;
static struct virtq_chain popped;

static void ring_setup(void)
{
	tg_init(&g);
	memset(&vq, 0, sizeof(vq));
	g.num = vq.num = 16;
	g.desc = vq.desc_gpa = tg_alloc(&g, 16 * 16, 16);
	g.avail = vq.avail_gpa = tg_alloc(&g, 6 + 2 * 16, 2);
	g.used = vq.used_gpa = tg_alloc(&g, 6 + 8 * 16, 4);
	ck_assert_int_eq(virtq_enable(&vq, &g.mem, false, true), 0);
}

static void ring_teardown(void)
{
	tg_fini(&g);
}

/* Put the command at gpa (len bytes of it, from offset from). */
static void guest_put(uint64_t gpa, const uint8_t *cmd, size_t from, size_t len)
{
	memcpy(tg_ptr(&g, gpa), cmd + from, len);
}

START_TEST(test_ring_direct)
{
	uint8_t cmd[ICE_KEYQ_CMD_SIZE], buf[ICE_KEYQ_CMD_SIZE], *status, *snap;
	uint64_t base = tg_alloc(&g, 4096, 4096);
	struct tg_buf bufs[] = {
		{ base + 1, 5, false },
		{ base + 101, 30, false },
		{ base + 301, 45, false },
		{ base + 999, 1, true },
	};
	unsigned int i;
	size_t off = 0;

	program_cmd(cmd);
	for (i = 0; i < 3; off += bufs[i].len, i++)
		guest_put(bufs[i].gpa, cmd, off, bufs[i].len);
	tg_add(&g, bufs, ARRAY_SIZE(bufs));
	ck_assert_int_eq(virtq_pop(&vq, &popped), VIRTQ_CHAIN);
	snap = tg_snapshot(&g);
	ck_assert_int_eq(ice_keyq_read(&popped, buf, &status), ICE_KEYQ_CHAIN_OK);
	ck_assert_uint_eq(tg_snapshot_diff(&g, snap), 0);
	free(snap);
	ck_assert_mem_eq(buf, cmd, sizeof(cmd));
	ck_assert_ptr_eq(status, tg_ptr(&g, base + 999));
}
END_TEST

START_TEST(test_ring_indirect)
{
	uint8_t cmd[ICE_KEYQ_CMD_SIZE], buf[ICE_KEYQ_CMD_SIZE], *status;
	uint64_t table = tg_alloc(&g, 16 * 81, 16), data = tg_alloc(&g, 2 * 81, 1);
	unsigned int i;

	program_cmd(cmd);
	for (i = 0; i < 81; i++) {
		bool w = i == 80;

		if (!w)
			guest_put(data + 2 * i, cmd, i, 1);
		tg_desc(&g, table, (uint16_t)i, data + 2 * i, 1,
			(w ? VIRTQ_DESC_F_WRITE : 0) | (w ? 0 : VIRTQ_DESC_F_NEXT),
			(uint16_t)(i + 1));
	}
	tg_desc(&g, 0, 0, table, 16 * 81, VIRTQ_DESC_F_INDIRECT, 0);
	tg_publish(&g, 0);
	ck_assert_int_eq(virtq_pop(&vq, &popped), VIRTQ_CHAIN);
	ck_assert_uint_eq(popped.nbufs, 81);
	ck_assert_int_eq(ice_keyq_read(&popped, buf, &status), ICE_KEYQ_CHAIN_OK);
	ck_assert_mem_eq(buf, cmd, sizeof(cmd));
	ck_assert_ptr_eq(status, tg_ptr(&g, data + 160));
}
END_TEST

START_TEST(test_ring_writable_first)
{
	uint8_t buf[ICE_KEYQ_CMD_SIZE], *status;
	uint64_t base = tg_alloc(&g, 4096, 4096);
	const struct tg_buf wr_first[] = { { base, 1, true }, { base + 16, 80, false } };
	const struct tg_buf wr_both[] = { { base, 1, true },
					  { base + 16, 80, false },
					  { base + 200, 1, true } };

	/* The virtqueue refuses it; its last descriptor is readable: no status. */
	tg_add(&g, wr_first, ARRAY_SIZE(wr_first));
	ck_assert_int_eq(virtq_pop(&vq, &popped), VIRTQ_BAD_CHAIN);
	ck_assert_uint_eq(popped.nbufs, 0);
	ck_assert_int_eq(ice_keyq_read(&popped, buf, &status), ICE_KEYQ_CHAIN_NO_STATUS);
	/* With a writable last byte, the bad chain keeps it, and it is malformed for us too. */
	tg_add(&g, wr_both, ARRAY_SIZE(wr_both));
	ck_assert_int_eq(virtq_pop(&vq, &popped), VIRTQ_BAD_CHAIN);
	ck_assert_uint_eq(popped.nbufs, 1);
	ck_assert_int_eq(ice_keyq_read(&popped, buf, &status), ICE_KEYQ_CHAIN_MALFORMED);
	ck_assert_ptr_eq(status, tg_ptr(&g, base + 200));
	ck_assert_mem_eq(buf, zero80, sizeof(zero80));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("keyq");
	TCase *tc = tcase_create("keyq");

	tcase_add_test(tc, test_caps_default_engine);
	tcase_add_test(tc, test_caps_match_store);
	tcase_add_test(tc, test_caps_refused);
	tcase_add_test(tc, test_program_ok);
	tcase_add_test(tc, test_program_other_engines);
	tcase_add_test(tc, test_evict_ok);
	tcase_add_test(tc, test_evict_all_ok);
	tcase_add_test(tc, test_unknown_ops);
	tcase_add_test(tc, test_slot_bounds);
	tcase_add_test(tc, test_evict_all_slot_nonzero);
	tcase_add_test(tc, test_du_mask_refused);
	tcase_add_test(tc, test_key_len_refused);
	tcase_add_test(tc, test_unused_fields_nonzero);
	tcase_add_test(tc, test_xts_equal_halves);
	tcase_add_test(tc, test_chain_whole);
	tcase_add_test(tc, test_chain_splits);
	tcase_add_test(tc, test_chain_malformed);
	tcase_add_test(tc, test_chain_no_status);
	tcase_add_test(tc, test_chain_refused_key_wiped);
	suite_add_tcase(s, tc);

	tc = tcase_create("ring");
	tcase_add_checked_fixture(tc, ring_setup, ring_teardown);
	tcase_add_test(tc, test_ring_direct);
	tcase_add_test(tc, test_ring_indirect);
	tcase_add_test(tc, test_ring_writable_first);
	suite_add_tcase(s, tc);
	return s;
}
