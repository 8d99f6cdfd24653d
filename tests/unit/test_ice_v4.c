// SPDX-License-Identifier: GPL-2.0
/*
 * The v4 wire format (devices/ice_v4.h): each control command's shape, every
 * refusal of a key descriptor, every unused byte, the chain shapes, the crypto
 * message of CRYPTO_IN/OUT, and what config space and GET_CRYPTO_MODES say.
 * Chains are built by hand over a "guest memory" arena of guard bytes, so the
 * tests also see that reading a command writes no guest byte.
 */
#include <stdint.h>
#include <string.h>

#include "../../devices/ice_hwkey.h"
#include "../../devices/ice_v4.h"
#include "unit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The default engine as a v4 disk shows it: 32 slots, 512 to 4096 bytes, raw keys. */
static const struct ice_v4_caps caps = {
	.max_slots = 32,
	.du_sizes = 0x1e00,
	.max_dun_bytes = 8,
	.key_types = ICE_V4_KEY_TYPES_RAW,
};

static const uint8_t zero_buf[ICE_V4_CTRL_BUF_SIZE];

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A command: header of `type`, then (PROGRAM/EVICT) a good raw key descriptor. */
static void cmd_make(uint8_t *buf, uint32_t type, uint32_t slot)
{
	uint8_t *kd = buf + ICE_V4_OUTHDR_SIZE;
	unsigned int i;

	memset(buf, 0, ICE_V4_CTRL_BUF_SIZE);
	put32(buf, type);
	put32(kd + ICE_V4_KD_SLOT, slot);
	for (i = 0; i < ICE_V4_RAW_KEY_SIZE; i++)
		kd[ICE_V4_KD_BYTES + i] = (uint8_t)(i < 32 ? 0x10 + i : 0xa0 + i);
	put32(kd + ICE_V4_KD_KEY_SIZE, ICE_V4_RAW_KEY_SIZE);
	put32(kd + ICE_V4_KD_CRYPTO_MODE, ICE_V4_MODE_AES_256_XTS);
	put32(kd + ICE_V4_KD_KEY_TYPE, ICE_V4_KEY_TYPE_RAW);
	put32(kd + ICE_V4_KD_DU_BITS, 12);
	put32(kd + ICE_V4_KD_DUN_BYTES, 8);
}

static struct ice_v4_cmd expect_ok(uint8_t *buf)
{
	struct ice_v4_cmd cmd;

	ck_assert_uint_eq(ice_v4_ctrl_parse(buf, &caps, &cmd), ICE_V4_S_OK);
	return cmd;
}

/* Parse against c must refuse buf with exactly `status`, wipe it and clear cmd. */
static void expect_refused_by(const struct ice_v4_caps *c, uint8_t *buf, uint8_t status,
			      const char *what)
{
	struct ice_v4_cmd cmd, zero;

	memset(&zero, 0, sizeof(zero));
	memset(&cmd, 0x5a, sizeof(cmd));
	ck_assert_msg(ice_v4_ctrl_parse(buf, c, &cmd) == status, "%s: status", what);
	ck_assert_msg(!memcmp(buf, zero_buf, sizeof(zero_buf)), "%s: buffer not wiped", what);
	ck_assert_msg(!memcmp(&cmd, &zero, sizeof(cmd)), "%s: cmd not cleared", what);
}

static void expect_refused(uint8_t *buf, uint8_t status, const char *what)
{
	expect_refused_by(&caps, buf, status, what);
}

START_TEST(test_shapes)
{
	static const struct {
		uint32_t type, req, reply;
	} known[] = {
		{ VIRTIO_BLK_T_GET_CRYPTO_MODES, 0, 8 },
		{ VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 152, 0 },
		{ VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT, 152, 0 },
		{ VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET, 132, 32 },
		{ VIRTIO_BLK_T_CRYPTO_GENERATE_KEY, 0, 132 },
		{ VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, 132, 132 },
		{ VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, 132, 132 },
	};
	/* Request-queue types and numbers the draft does not define */
	static const uint32_t unknown[] = {
		0, 1, 4, 8, 26, VIRTIO_BLK_T_CRYPTO_OUT, VIRTIO_BLK_T_CRYPTO_IN, 36, 0x8000001e
	};
	uint32_t req, reply;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		ck_assert(ice_v4_ctrl_shape(known[i].type, &req, &reply));
		ck_assert_uint_eq(req, known[i].req);
		ck_assert_uint_eq(reply, known[i].reply);
	}
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		req = reply = 7;
		ck_assert(!ice_v4_ctrl_shape(unknown[i], &req, &reply));
		ck_assert_uint_eq(req, 0);
		ck_assert_uint_eq(reply, 0);
	}
	/* The wire structures' sizes, as the uapi header lays them out. */
	ck_assert_uint_eq(ICE_V4_KD_DUN_BYTES + 4, ICE_V4_KEY_DESC_SIZE);
	ck_assert_uint_eq(ICE_V4_KD_BYTES + ICE_V4_KEY_MAX, ICE_V4_KD_KEY_SIZE);
	ck_assert_uint_eq(4 + ICE_V4_KEY_MAX, ICE_V4_KEY_BLOB_SIZE);
	ck_assert_uint_eq(ICE_V4_MODES_SIZE, 8);
}
END_TEST

START_TEST(test_program_ok)
{
	static const uint32_t du_bits[] = { 9, 10, 11, 12 };
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE];
	struct ice_v4_cmd cmd;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(du_bits); i++) {
		cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 31);
		put32(buf + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_DU_BITS, du_bits[i]);
		cmd = expect_ok(buf);
		ck_assert_uint_eq(cmd.type, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM);
		ck_assert_uint_eq(cmd.slot, 31);
		ck_assert_uint_eq(cmd.du_size, 1u << du_bits[i]);
		ck_assert_ptr_eq(cmd.key, buf + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_BYTES);
		ck_assert_uint_eq(cmd.key_len, 64);
	}
	/* dun_bytes 1 to 8 */
	for (i = 1; i <= 8; i++) {
		cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 0);
		put32(buf + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_DUN_BYTES, i);
		ck_assert_uint_eq(expect_ok(buf).slot, 0);
	}
}
END_TEST

START_TEST(test_program_refused)
{
	static const struct {
		unsigned int off;
		uint32_t v;
		const char *what;
	} bad[] = {
		{ ICE_V4_KD_SLOT, 32, "slot max_slots" },
		{ ICE_V4_KD_SLOT, 0xffffffff, "slot 2^32-1" },
		{ ICE_V4_KD_SLOT, 0x100, "slot 256" },
		{ ICE_V4_KD_CRYPTO_MODE, 0, "crypto mode 0" },
		{ ICE_V4_KD_CRYPTO_MODE, 2, "crypto mode 2" },
		{ ICE_V4_KD_KEY_TYPE, 0, "key type 0" },
		{ ICE_V4_KD_KEY_TYPE, ICE_V4_KEY_TYPE_HW_WRAPPED, "hw-wrapped key, not offered" },
		{ ICE_V4_KD_KEY_TYPE, 3, "key type 3" },
		{ ICE_V4_KD_DU_BITS, 8, "256-byte data units" },
		{ ICE_V4_KD_DU_BITS, 13, "8 KiB data units" },
		{ ICE_V4_KD_DU_BITS, 31, "2^31-byte data units" },
		{ ICE_V4_KD_DU_BITS, 32, "data unit bits 32" },
		{ ICE_V4_KD_DU_BITS, 41, "data unit bits 41 (shift wraps to 9)" },
		{ ICE_V4_KD_DU_BITS, 0xffffffff, "data unit bits 2^32-1" },
		{ ICE_V4_KD_DUN_BYTES, 0, "dun_bytes 0" },
		{ ICE_V4_KD_DUN_BYTES, 9, "dun_bytes 9" },
		{ ICE_V4_KD_DUN_BYTES, 32, "dun_bytes 32" },
		{ ICE_V4_KD_KEY_SIZE, 0, "key_size 0" },
		{ ICE_V4_KD_KEY_SIZE, 32, "key_size 32" },
		{ ICE_V4_KD_KEY_SIZE, 63, "key_size 63" },
		{ ICE_V4_KD_KEY_SIZE, 65, "key_size 65" },
		{ ICE_V4_KD_KEY_SIZE, 128, "key_size 128" },
		{ ICE_V4_KD_KEY_SIZE, 129, "key_size 129" },
	};
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 1);
		put32(buf + ICE_V4_OUTHDR_SIZE + bad[i].off, bad[i].v);
		expect_refused(buf, ICE_V4_S_IOERR, bad[i].what);
	}
}
END_TEST

/* Every byte a PROGRAM does not use, one at a time: the header's, and the key's tail. */
START_TEST(test_program_unused_bytes)
{
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE];
	unsigned int i;

	for (i = 4; i < ICE_V4_OUTHDR_SIZE; i++) {
		cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 1);
		buf[i] = 0x01;
		expect_refused(buf, ICE_V4_S_IOERR, "header byte");
	}
	for (i = ICE_V4_RAW_KEY_SIZE; i < ICE_V4_KEY_MAX; i++) {
		cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 1);
		buf[ICE_V4_OUTHDR_SIZE + ICE_V4_KD_BYTES + i] = 0x80;
		expect_refused(buf, ICE_V4_S_IOERR, "key byte after key_size");
	}
	/* The bytes of each le32 field above its value matter too. */
	for (i = 1; i < 4; i++) {
		cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 1);
		buf[ICE_V4_OUTHDR_SIZE + ICE_V4_KD_CRYPTO_MODE + i] = 0x01;
		expect_refused(buf, ICE_V4_S_IOERR, "crypto mode high byte");
		cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 1);
		buf[ICE_V4_OUTHDR_SIZE + ICE_V4_KD_KEY_TYPE + i] = 0x01;
		expect_refused(buf, ICE_V4_S_IOERR, "key type high byte");
		cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 1);
		buf[ICE_V4_OUTHDR_SIZE + ICE_V4_KD_KEY_SIZE + i] = 0x01;
		expect_refused(buf, ICE_V4_S_IOERR, "key size high byte");
	}
}
END_TEST

START_TEST(test_program_equal_halves)
{
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE], *key = buf + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_BYTES;

	/*
	 * Equal halves pass the command check: the store refuses them as it
	 * loads the slot, the one place that rule lives (test_blk_v4's
	 * refusal_equal_halves gets IOERR from the device).
	 */
	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 2);
	memcpy(key + 32, key, 32);
	ck_assert_uint_eq(expect_ok(buf).key_len, 64);
	/* Halves that differ in their last byte only, or their first, are a good key. */
	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 2);
	memcpy(key + 32, key, 32);
	key[63] ^= 1;
	ck_assert_uint_eq(expect_ok(buf).key_len, 64);
	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 2);
	memcpy(key + 32, key, 32);
	key[32] ^= 0x80;
	ck_assert_uint_eq(expect_ok(buf).key_len, 64);
}
END_TEST

START_TEST(test_evict)
{
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE];
	struct ice_v4_cmd cmd;

	/* Only the slot is read: a whole key descriptor, key included, is fine. */
	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT, 31);
	cmd = expect_ok(buf);
	ck_assert_uint_eq(cmd.type, VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT);
	ck_assert_uint_eq(cmd.slot, 31);
	ck_assert_ptr_null(cmd.key);
	ck_assert_uint_eq(cmd.key_len, 0);
	/* and so is one with nothing but the slot, or with nonsense around it */
	memset(buf + ICE_V4_OUTHDR_SIZE, 0, ICE_V4_KEY_DESC_SIZE);
	ck_assert_uint_eq(expect_ok(buf).slot, 0);
	memset(buf + ICE_V4_OUTHDR_SIZE, 0xff, ICE_V4_KEY_DESC_SIZE);
	put32(buf + ICE_V4_OUTHDR_SIZE, 5);
	ck_assert_uint_eq(expect_ok(buf).slot, 5);

	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT, 32);
	expect_refused(buf, ICE_V4_S_IOERR, "evict slot max_slots");
	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT, 0x80000000);
	expect_refused(buf, ICE_V4_S_IOERR, "evict slot 2^31");
	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT, 3);
	buf[12] = 1; /* the header's sector */
	expect_refused(buf, ICE_V4_S_IOERR, "evict with a sector");
}
END_TEST

START_TEST(test_modes_and_config)
{
	static const uint8_t modes[ICE_V4_MODES_SIZE] = { 0, 0, 0, 0, 0x00, 0x1e, 0, 0 };
	static const uint8_t cfg[8] = { 32, 0, 8, ICE_V4_KEY_TYPES_RAW, 0, 0, 0, 0 };
	struct ice_v4_caps big = {
		.max_slots = 0x1234, .du_sizes = 0x10200, .max_dun_bytes = 4, .key_types = 3
	};
	static const uint8_t cfg_big[8] = { 0x34, 0x12, 4, 3, 0, 0, 0, 0 };
	static const uint8_t modes_big[ICE_V4_MODES_SIZE] = { 0, 0, 0, 0, 0x00, 0x02, 0x01, 0 };
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE], out[ICE_V4_MODES_SIZE];
	struct ice_v4_cmd cmd;
	unsigned int i;

	memset(out, 0xa5, sizeof(out));
	ice_v4_modes(&caps, out);
	ck_assert_mem_eq(out, modes, sizeof(modes));
	memset(out, 0xa5, sizeof(out));
	ice_v4_config(&caps, out);
	ck_assert_mem_eq(out, cfg, sizeof(cfg));
	ice_v4_config(&big, out);
	ck_assert_mem_eq(out, cfg_big, sizeof(cfg_big));
	ice_v4_modes(&big, out);
	ck_assert_mem_eq(out, modes_big, sizeof(modes_big));

	cmd_make(buf, VIRTIO_BLK_T_GET_CRYPTO_MODES, 0);
	cmd = expect_ok(buf);
	ck_assert_uint_eq(cmd.type, VIRTIO_BLK_T_GET_CRYPTO_MODES);
	for (i = 4; i < ICE_V4_OUTHDR_SIZE; i++) {
		cmd_make(buf, VIRTIO_BLK_T_GET_CRYPTO_MODES, 0);
		buf[i] = 0x40;
		expect_refused(buf, ICE_V4_S_IOERR, "GET_CRYPTO_MODES header byte");
	}
}
END_TEST

START_TEST(test_wrapped_key_commands_unsupp)
{
	static const uint32_t types[] = {
		VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET,
		VIRTIO_BLK_T_CRYPTO_GENERATE_KEY,
		VIRTIO_BLK_T_CRYPTO_IMPORT_KEY,
		VIRTIO_BLK_T_CRYPTO_PREPARE_KEY,
	};
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		cmd_make(buf, types[i], 0);
		expect_refused(buf, ICE_V4_S_UNSUPP, "a hardware-wrapped key command");
	}
}
END_TEST

/* An engine that takes hardware-wrapped keys too (devices/ice_hwkey.h). */
static const struct ice_v4_caps wcaps = {
	.max_slots = 32,
	.du_sizes = 0x1e00,
	.max_dun_bytes = 8,
	.key_types = ICE_V4_KEY_TYPES_RAW | ICE_V4_KEY_TYPES_HW_WRAPPED,
};

/* A wrapped-key PROGRAM: the descriptor of cmd_make() with a blob of size bytes. */
static void cmd_wrapped(uint8_t *buf, uint32_t slot, uint32_t size)
{
	uint8_t *kd = buf + ICE_V4_OUTHDR_SIZE;

	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, slot);
	memset(kd + ICE_V4_KD_BYTES, 0, ICE_V4_KEY_MAX);
	memset(kd + ICE_V4_KD_BYTES, 0xb7, size);
	put32(kd + ICE_V4_KD_KEY_SIZE, size);
	put32(kd + ICE_V4_KD_KEY_TYPE, ICE_V4_KEY_TYPE_HW_WRAPPED);
}

/* A key_blob command of `type` with a key of size bytes. */
static void cmd_blob(uint8_t *buf, uint32_t type, uint32_t size)
{
	uint8_t *kb = buf + ICE_V4_OUTHDR_SIZE;

	memset(buf, 0, ICE_V4_CTRL_BUF_SIZE);
	put32(buf, type);
	put32(kb + ICE_V4_KB_KEY_SIZE, size);
	memset(kb + ICE_V4_KB_KEY, 0xc3, size);
}

START_TEST(test_wrapped_program)
{
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE];
	struct ice_v4_cmd cmd;
	struct ice_v4_caps wrapped_only = wcaps;

	cmd_wrapped(buf, 7, ICE_HWKEY_BLOB_SIZE);
	ck_assert_uint_eq(ice_v4_ctrl_parse(buf, &wcaps, &cmd), ICE_V4_S_OK);
	ck_assert_uint_eq(cmd.slot, 7);
	ck_assert_uint_eq(cmd.key_type, ICE_V4_KEY_TYPE_HW_WRAPPED);
	ck_assert_ptr_eq(cmd.key, buf + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_BYTES);
	ck_assert_uint_eq(cmd.key_len, ICE_HWKEY_BLOB_SIZE);
	/* Raw keys still, on an engine that takes both */
	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 3);
	ck_assert_uint_eq(ice_v4_ctrl_parse(buf, &wcaps, &cmd), ICE_V4_S_OK);
	ck_assert_uint_eq(cmd.key_type, ICE_V4_KEY_TYPE_RAW);
	/* A blob where the engine takes no wrapped keys, and the other way round */
	cmd_wrapped(buf, 7, ICE_HWKEY_BLOB_SIZE);
	expect_refused_by(&caps, buf, ICE_V4_S_IOERR, "a wrapped key on a raw-only engine");
	wrapped_only.key_types = ICE_V4_KEY_TYPES_HW_WRAPPED;
	cmd_make(buf, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 3);
	expect_refused_by(&wrapped_only, buf, ICE_V4_S_IOERR, "a raw key on a wrapped-only engine");
	/* Another blob size; a byte after it; key types that do not exist */
	cmd_wrapped(buf, 7, ICE_HWKEY_BLOB_SIZE + 1);
	expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a blob one byte long");
	cmd_wrapped(buf, 7, ICE_HWKEY_BLOB_SIZE - 1);
	expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a blob one byte short");
	cmd_wrapped(buf, 7, ICE_V4_RAW_KEY_SIZE);
	expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a raw key's size as a blob");
	cmd_wrapped(buf, 7, ICE_HWKEY_BLOB_SIZE);
	buf[ICE_V4_OUTHDR_SIZE + ICE_V4_KD_BYTES + ICE_V4_KEY_MAX - 1] = 1;
	expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a byte after the blob");
	cmd_wrapped(buf, 7, ICE_HWKEY_BLOB_SIZE);
	put32(buf + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_KEY_TYPE, 3);
	expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "key type 3");
	cmd_wrapped(buf, 7, ICE_HWKEY_BLOB_SIZE);
	put32(buf + ICE_V4_OUTHDR_SIZE + ICE_V4_KD_KEY_TYPE, 0);
	expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "key type 0");
}
END_TEST

START_TEST(test_wrapped_key_commands)
{
	static const struct {
		uint32_t type, size;
	} ok[] = {
		{ VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET, ICE_HWKEY_BLOB_SIZE },
		{ VIRTIO_BLK_T_CRYPTO_PREPARE_KEY, ICE_HWKEY_BLOB_SIZE },
		{ VIRTIO_BLK_T_CRYPTO_IMPORT_KEY, ICE_HWKEY_RAW_SIZE },
	};
	uint8_t buf[ICE_V4_CTRL_BUF_SIZE];
	struct ice_v4_cmd cmd;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		cmd_blob(buf, ok[i].type, ok[i].size);
		ck_assert_uint_eq(ice_v4_ctrl_parse(buf, &wcaps, &cmd), ICE_V4_S_OK);
		ck_assert_uint_eq(cmd.type, ok[i].type);
		ck_assert_ptr_eq(cmd.key, buf + ICE_V4_OUTHDR_SIZE + ICE_V4_KB_KEY);
		ck_assert_uint_eq(cmd.key_len, ok[i].size);
		/* Each other size, and a byte after the key */
		cmd_blob(buf, ok[i].type, ok[i].size + 1);
		expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a key_blob one byte long");
		cmd_blob(buf, ok[i].type, ok[i].size - 1);
		expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a key_blob one byte short");
		cmd_blob(buf, ok[i].type, ICE_V4_KEY_MAX);
		expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a key_blob of 128 bytes");
		cmd_blob(buf, ok[i].type, ok[i].size);
		buf[ICE_V4_OUTHDR_SIZE + ICE_V4_KB_KEY + ok[i].size] = 1;
		expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a byte after the key");
		/* ioprio and sector must be 0, as for every control command */
		cmd_blob(buf, ok[i].type, ok[i].size);
		buf[8] = 1;
		expect_refused_by(&wcaps, buf, ICE_V4_S_IOERR, "a sector");
	}
	cmd_blob(buf, VIRTIO_BLK_T_CRYPTO_GENERATE_KEY, 0);
	ck_assert_uint_eq(ice_v4_ctrl_parse(buf, &wcaps, &cmd), ICE_V4_S_OK);
	ck_assert_uint_eq(cmd.type, VIRTIO_BLK_T_CRYPTO_GENERATE_KEY);
	ck_assert_ptr_null(cmd.key);
}
END_TEST

START_TEST(test_crypto_msg)
{
	uint8_t msg[ICE_V4_CRYPTO_MSG_SIZE];
	struct ice_v4_caps narrow = caps;
	uint64_t dun;
	uint32_t slot;
	unsigned int i;

	memset(msg, 0, sizeof(msg));
	put32(msg, 0xfffffffe);
	put64(msg + 8, 0xfedcba9876543210ULL);
	ck_assert_uint_eq(ice_v4_crypto_msg(msg, &caps, &slot, &dun), ICE_V4_S_OK);
	/* The slot is the store's to judge (an empty or missing slot: IOERR there). */
	ck_assert_uint_eq(slot, 0xfffffffe);
	ck_assert_uint_eq(dun, 0xfedcba9876543210ULL);

	/* unused[4] and dun[1..3], a byte at a time */
	for (i = 4; i < ICE_V4_CRYPTO_MSG_SIZE; i++) {
		if (i >= 8 && i < 16)
			continue;
		memset(msg, 0, sizeof(msg));
		msg[i] = 0x01;
		slot = 7;
		dun = 7;
		ck_assert_uint_eq(ice_v4_crypto_msg(msg, &caps, &slot, &dun), ICE_V4_S_IOERR);
		ck_assert_uint_eq(slot, 0);
		ck_assert_uint_eq(dun, 0);
	}

	/* A 4-byte DUN engine: DUN 2^32 - 1 is the last one. */
	narrow.max_dun_bytes = 4;
	memset(msg, 0, sizeof(msg));
	put64(msg + 8, 0xffffffffULL);
	ck_assert_uint_eq(ice_v4_crypto_msg(msg, &narrow, &slot, &dun), ICE_V4_S_OK);
	ck_assert_uint_eq(dun, 0xffffffffULL);
	put64(msg + 8, 0x100000000ULL);
	ck_assert_uint_eq(ice_v4_crypto_msg(msg, &narrow, &slot, &dun), ICE_V4_S_IOERR);
}
END_TEST

/* --- chains --- */

/*
 * "Guest memory": an arena of guard bytes. Buffers are laid out one after
 * the other with a gap of 3 guard bytes, the readable ones filled with the
 * command in order (and past it with a counting pattern).
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
	chain.head = 3;
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

/* Read the chain: want `expect` and `type`; the arena must be untouched. */
static void read_expect(enum ice_v4_chain expect, uint32_t type, uint8_t *buf, uint8_t **status,
			const char *what)
{
	uint32_t t;

	memset(buf, 0x5a, ICE_V4_CTRL_BUF_SIZE);
	ck_assert_msg(ice_v4_ctrl_read(&chain, buf, &t, status) == expect, "%s: result", what);
	ck_assert_msg(t == type, "%s: type %u", what, t);
	ck_assert_msg(!memcmp(arena, arena_copy, sizeof(arena)), "%s: guest memory written", what);
	if (expect != ICE_V4_CHAIN_OK)
		ck_assert_msg(!memcmp(buf, zero_buf, sizeof(zero_buf)), "%s: buffer not zero",
			      what);
	if (expect == ICE_V4_CHAIN_NO_STATUS)
		ck_assert_msg(*status == NULL, "%s: status", what);
	else
		ck_assert_msg(*status == last_byte(), "%s: status not the last byte", what);
}

/* Each control command in its plainest shape: header + request, reply, status. */
START_TEST(test_chain_each_type)
{
	static const uint32_t types[] = {
		VIRTIO_BLK_T_GET_CRYPTO_MODES,	   VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM,
		VIRTIO_BLK_T_CRYPTO_KEYSLOT_EVICT, VIRTIO_BLK_T_CRYPTO_DERIVE_SW_SECRET,
		VIRTIO_BLK_T_CRYPTO_GENERATE_KEY,  VIRTIO_BLK_T_CRYPTO_IMPORT_KEY,
		VIRTIO_BLK_T_CRYPTO_PREPARE_KEY,
	};
	uint8_t cmd[ICE_V4_CTRL_BUF_SIZE], buf[ICE_V4_CTRL_BUF_SIZE], *status;
	uint32_t req, reply;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		ck_assert(ice_v4_ctrl_shape(types[i], &req, &reply));
		cmd_make(cmd, types[i], 4);
		if (reply) {
			const struct seg segs[] = { { ICE_V4_OUTHDR_SIZE + req, false },
						    { reply, true },
						    { 1, true } };

			chain_build(segs, 3, cmd, ICE_V4_OUTHDR_SIZE + req);
		} else {
			const struct seg segs[] = { { ICE_V4_OUTHDR_SIZE + req, false },
						    { 1, true } };

			chain_build(segs, 2, cmd, ICE_V4_OUTHDR_SIZE + req);
		}
		read_expect(ICE_V4_CHAIN_OK, types[i], buf, &status, "plain shape");
		/* Header and request part copied; the rest of buf zero. */
		ck_assert_mem_eq(buf, cmd, ICE_V4_OUTHDR_SIZE + req);
		ck_assert_mem_eq(buf + ICE_V4_OUTHDR_SIZE + req, zero_buf,
				 ICE_V4_CTRL_BUF_SIZE - ICE_V4_OUTHDR_SIZE - req);
	}
}
END_TEST

/* ANY_LAYOUT: the same PROGRAM and GET_CRYPTO_MODES split every way. */
START_TEST(test_chain_splits)
{
	uint8_t cmd[ICE_V4_CTRL_BUF_SIZE], buf[ICE_V4_CTRL_BUF_SIZE], *status;
	struct ice_v4_cmd c;
	unsigned int cut;

	cmd_make(cmd, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 9);
	for (cut = 1; cut < ICE_V4_CTRL_BUF_SIZE; cut++) {
		const struct seg segs[] = { { cut, false },
					    { ICE_V4_CTRL_BUF_SIZE - cut, false },
					    { 1, true } };

		chain_build(segs, 3, cmd, sizeof(cmd));
		read_expect(ICE_V4_CHAIN_OK, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, buf, &status,
			    "split PROGRAM");
		ck_assert_mem_eq(buf, cmd, sizeof(cmd));
		ck_assert_uint_eq(ice_v4_ctrl_parse(buf, &caps, &c), ICE_V4_S_OK);
		ck_assert_uint_eq(c.slot, 9);
	}
	/* One byte per descriptor for the header */
	{
		struct seg segs[ICE_V4_OUTHDR_SIZE + 2];
		unsigned int i;

		for (i = 0; i < ICE_V4_OUTHDR_SIZE; i++)
			segs[i] = (struct seg){ 1, false };
		segs[i++] = (struct seg){ ICE_V4_KEY_DESC_SIZE, false };
		segs[i++] = (struct seg){ 1, true };
		chain_build(segs, i, cmd, sizeof(cmd));
		read_expect(ICE_V4_CHAIN_OK, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, buf, &status,
			    "byte-sized header");
		ck_assert_mem_eq(buf, cmd, sizeof(cmd));
	}
	/* GET_CRYPTO_MODES with its reply and status in one buffer */
	cmd_make(cmd, VIRTIO_BLK_T_GET_CRYPTO_MODES, 0);
	{
		const struct seg segs[] = { { ICE_V4_OUTHDR_SIZE, false },
					    { ICE_V4_MODES_SIZE + 1, true } };

		chain_build(segs, 2, cmd, ICE_V4_OUTHDR_SIZE);
		read_expect(ICE_V4_CHAIN_OK, VIRTIO_BLK_T_GET_CRYPTO_MODES, buf, &status,
			    "reply and status in one buffer");
	}
	/* ... or the reply split, the status apart */
	{
		const struct seg segs[] = { { ICE_V4_OUTHDR_SIZE, false },
					    { 3, true },
					    { ICE_V4_MODES_SIZE - 3, true },
					    { 1, true } };

		chain_build(segs, 4, cmd, ICE_V4_OUTHDR_SIZE);
		read_expect(ICE_V4_CHAIN_OK, VIRTIO_BLK_T_GET_CRYPTO_MODES, buf, &status,
			    "split reply");
	}
}
END_TEST

START_TEST(test_chain_malformed)
{
	static const struct {
		struct seg segs[4];
		unsigned int n;
		uint32_t type; /* what the header says, 0: no whole header */
		const char *what;
	} bad[] = {
		{ { { 15, false }, { 1, true } }, 2, 0, "15 readable bytes" },
		{ { { 1, true } }, 1, 0, "no readable bytes" },
		{ { { 167, false }, { 1, true } }, 2, 30, "PROGRAM short by one" },
		{ { { 169, false }, { 1, true } }, 2, 30, "PROGRAM long by one" },
		{ { { 100, false }, { 69, false }, { 1, true } }, 3, 30, "PROGRAM long, split" },
		{ { { 168, false }, { 2, true } }, 2, 30, "PROGRAM with a reply byte" },
		{ { { 168, false }, { 1, true }, { 1, true } }, 3, 30, "PROGRAM, two writable" },
		{ { { 16, false }, { 8, true } }, 2, 29, "GET_CRYPTO_MODES, no status byte" },
		{ { { 16, false }, { 10, true } }, 2, 29, "GET_CRYPTO_MODES, reply too long" },
		{ { { 16, false }, { 1, true } }, 2, 29, "GET_CRYPTO_MODES, no reply" },
		{ { { 17, false }, { 9, true } }, 2, 29, "GET_CRYPTO_MODES with a request byte" },
		{ { { 16, false }, { 132, true } }, 2, 33, "GENERATE, no status byte" },
		{ { { 147, false }, { 133, true } }, 2, 34, "IMPORT short by one" },
		{ { { 148, false }, { 32, true } }, 2, 32, "DERIVE, reply short by one" },
	};
	uint8_t cmd[ICE_V4_CTRL_BUF_SIZE + 8], buf[ICE_V4_CTRL_BUF_SIZE], *status;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(cmd, 0, sizeof(cmd));
		put32(cmd, bad[i].type ? bad[i].type : VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM);
		chain_build(bad[i].segs, bad[i].n, cmd, sizeof(cmd));
		read_expect(ICE_V4_CHAIN_MALFORMED, bad[i].type, buf, &status, bad[i].what);
	}
}
END_TEST

/* A type with no control shape: only its status byte is judged. */
START_TEST(test_chain_unknown_type)
{
	static const uint32_t types[] = {
		0, 1, 4, 8, VIRTIO_BLK_T_CRYPTO_OUT, VIRTIO_BLK_T_CRYPTO_IN, 36, 0xffffffff
	};
	const struct seg shapes[][3] = {
		{ { 16, false }, { 1, true } },
		{ { 16, false }, { 512, true }, { 1, true } },
		{ { 568, false }, { 1, true } },
	};
	uint8_t cmd[ICE_V4_OUTHDR_SIZE], buf[ICE_V4_CTRL_BUF_SIZE], *status;
	unsigned int i, k;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		for (k = 0; k < ARRAY_SIZE(shapes); k++) {
			memset(cmd, 0, sizeof(cmd));
			put32(cmd, types[i]);
			chain_build(shapes[k], shapes[k][2].len ? 3 : 2, cmd, sizeof(cmd));
			read_expect(ICE_V4_CHAIN_UNSUPP, types[i], buf, &status, "unknown type");
		}
	}
}
END_TEST

START_TEST(test_chain_no_status)
{
	static const struct {
		struct seg segs[3];
		unsigned int n;
		const char *what;
	} bad[] = {
		{ { { 0, false } }, 0, "an empty chain" },
		{ { { 169, false } }, 1, "169 readable, no writable byte" },
		{ { { 168, false }, { 1, true }, { 4, false } }, 3, "ends with a readable buffer" },
	};
	uint8_t cmd[ICE_V4_CTRL_BUF_SIZE + 8], buf[ICE_V4_CTRL_BUF_SIZE], *status;
	unsigned int i;

	cmd_make(cmd, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 1);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		chain_build(bad[i].segs, bad[i].n, cmd, sizeof(cmd));
		read_expect(ICE_V4_CHAIN_NO_STATUS, 0, buf, &status, bad[i].what);
	}
}
END_TEST

/* A refused PROGRAM read from a chain leaves no key byte in the caller's buffer. */
START_TEST(test_chain_refused_key_wiped)
{
	const struct seg segs[] = { { ICE_V4_CTRL_BUF_SIZE, false }, { 1, true } };
	uint8_t cmd[ICE_V4_CTRL_BUF_SIZE], buf[ICE_V4_CTRL_BUF_SIZE], *status;

	cmd_make(cmd, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, 40); /* slot out of range */
	chain_build(segs, 2, cmd, sizeof(cmd));
	read_expect(ICE_V4_CHAIN_OK, VIRTIO_BLK_T_CRYPTO_KEYSLOT_PROGRAM, buf, &status,
		    "PROGRAM, bad slot");
	expect_refused(buf, ICE_V4_S_IOERR, "PROGRAM, bad slot");
	ck_assert_msg(!memcmp(arena, arena_copy, sizeof(arena)), "guest memory written");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("ice_v4");
	TCase *tc = tcase_create("commands");

	tcase_add_test(tc, test_shapes);
	tcase_add_test(tc, test_program_ok);
	tcase_add_test(tc, test_program_refused);
	tcase_add_test(tc, test_program_unused_bytes);
	tcase_add_test(tc, test_program_equal_halves);
	tcase_add_test(tc, test_evict);
	tcase_add_test(tc, test_modes_and_config);
	tcase_add_test(tc, test_wrapped_key_commands_unsupp);
	tcase_add_test(tc, test_wrapped_program);
	tcase_add_test(tc, test_wrapped_key_commands);
	tcase_add_test(tc, test_crypto_msg);
	suite_add_tcase(s, tc);

	tc = tcase_create("chains");
	tcase_add_test(tc, test_chain_each_type);
	tcase_add_test(tc, test_chain_splits);
	tcase_add_test(tc, test_chain_malformed);
	tcase_add_test(tc, test_chain_unknown_type);
	tcase_add_test(tc, test_chain_no_status);
	tcase_add_test(tc, test_chain_refused_key_wiped);
	suite_add_tcase(s, tc);
	return s;
}
