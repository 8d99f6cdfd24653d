// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware-wrapped keys (devices/ice_hwkey.h): the KDF against known answers
 * computed with an independent implementation (Python's cryptography, CMAC
 * over the documented input; tests/oracle), and icevmm's blobs: round trips,
 * and every way a blob can be refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../devices/ice.h"
#include "../../devices/ice_hwkey.h"
#include "unit.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	unsigned int b;

	ck_assert_uint_eq(strlen(s), 2 * n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

static void setup(void)
{
	ck_assert_int_eq(ice_global_init(ice_secmem_size(ice_secmem_keys(4, 1))), 0);
}

/* Two keys, both outputs: Python's cryptography gives the same bytes. */
START_TEST(kdf_known_answers)
{
	static const struct {
		const char *key, *inline_key, *sw_secret;
	} kat[] = {
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		  "16317c8fe3133e7aef46bdede2b39f09a81e9fbe0c095f906c5c1341da6eaf17"
		  "f151e2982f4f14a5495f78761066cafa5ebb995997d3fb5c8678bb394b6b57dc",
		  "48b69fb100fda3d600b75d7f25e2b8f1cf95e5de1bd624b9273d537519270c65" },
		{ "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0",
		  "a4fbddf8d4dd99847ef9f8a4dff9bfa303f7b04f516caa97a2cd3a9789edfcdb"
		  "1e7ea161c77e77bf4a6e8712265e1de66f8ecb1a69076e9e01e8072e7a1c18a8",
		  "9bc836e0abb20b409e88ee36aa1a91d307b7b697a0582e9bfd9a072b2f1a9201" },
	};
	uint8_t key[32], want[64], got[64];
	size_t i;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		unhex(kat[i].key, key, 32);
		unhex(kat[i].inline_key, want, 64);
		ck_assert_int_eq(ice_hwkey_inline_key(key, got), 0);
		ck_assert_mem_eq(got, want, 64);
		unhex(kat[i].sw_secret, want, 32);
		ck_assert_int_eq(ice_hwkey_sw_secret(key, got), 0);
		ck_assert_mem_eq(got, want, 32);
	}
}
END_TEST

/* Output lengths the KDF does not produce: refused, out wiped or untouched. */
START_TEST(kdf_refuses_lengths)
{
	static const size_t bad[] = { 0, 8, 17, 80 };
	uint8_t key[32] = { 1 }, out[80];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(ice_hwkey_kdf(key, (const uint8_t *)"x", 1, out, bad[i]), -1);
	/* The first block does not depend on L alone: 16 bytes are not 32's first half. */
	ck_assert_int_eq(ice_hwkey_kdf(key, (const uint8_t *)"x", 1, out, 16), 0);
	ck_assert_int_eq(ice_hwkey_kdf(key, (const uint8_t *)"x", 1, out + 16, 32), 0);
	ck_assert(memcmp(out, out + 16, 16));
}
END_TEST

static const uint8_t wk_long[32] = { 0x11, 0x22, 0x33 }, wk_eph[32] = { 0x44, 0x55, 0x66 };

START_TEST(blob_round_trip)
{
	uint8_t raw[32], back[32], blob[ICE_HWKEY_BLOB_SIZE], blob2[ICE_HWKEY_BLOB_SIZE];
	unsigned int i;

	ck_assert_uint_le(ICE_HWKEY_BLOB_SIZE, 128); /* the wire's key_blob */
	for (i = 0; i < 32; i++)
		raw[i] = (uint8_t)(7 * i + 3);
	ck_assert_int_eq(ice_hwkey_wrap(wk_long, ICE_HWKEY_LONG_TERM, raw, blob), 0);
	ck_assert_uint_eq(blob[0], ICE_HWKEY_VERSION);
	ck_assert_uint_eq(blob[1], ICE_HWKEY_LONG_TERM);
	ck_assert(!memmem(blob, sizeof(blob), raw, 8)); /* wrapped, not copied */
	ck_assert_int_eq(ice_hwkey_unwrap(wk_long, ICE_HWKEY_LONG_TERM, blob, sizeof(blob), back),
			 0);
	ck_assert_mem_eq(back, raw, 32);
	/* A fresh nonce each time: the same key never gives the same blob. */
	ck_assert_int_eq(ice_hwkey_wrap(wk_long, ICE_HWKEY_LONG_TERM, raw, blob2), 0);
	ck_assert(memcmp(blob, blob2, sizeof(blob)));
	ck_assert_int_eq(ice_hwkey_wrap(wk_eph, ICE_HWKEY_EPHEMERAL, raw, blob), 0);
	ck_assert_uint_eq(blob[1], ICE_HWKEY_EPHEMERAL);
	ck_assert_int_eq(ice_hwkey_unwrap(wk_eph, ICE_HWKEY_EPHEMERAL, blob, sizeof(blob), back),
			 0);
	ck_assert_mem_eq(back, raw, 32);
}
END_TEST

/* Refused, with the output wiped. */
static void refused(const uint8_t *wkey, enum ice_hwkey_kind kind, const uint8_t *blob, size_t len)
{
	static const uint8_t zero[32];
	uint8_t out[32];

	memset(out, 0xa5, sizeof(out));
	ck_assert_int_eq(ice_hwkey_unwrap(wkey, kind, blob, len, out), -1);
	ck_assert_mem_eq(out, zero, 32);
}

START_TEST(blob_refusals)
{
	uint8_t raw[32] = { 9, 8, 7 }, blob[128], flipped[ICE_HWKEY_BLOB_SIZE];
	unsigned int i, bit;

	ck_assert_int_eq(ice_hwkey_wrap(wk_long, ICE_HWKEY_LONG_TERM, raw, blob), 0);
	/* The other kind: by its kind byte, and under its own wrapping key. */
	refused(wk_long, ICE_HWKEY_EPHEMERAL, blob, ICE_HWKEY_BLOB_SIZE);
	refused(wk_eph, ICE_HWKEY_EPHEMERAL, blob, ICE_HWKEY_BLOB_SIZE);
	/* Another wrapping key (another disk's keys file) */
	refused(wk_eph, ICE_HWKEY_LONG_TERM, blob, ICE_HWKEY_BLOB_SIZE);
	/* Any other size */
	refused(wk_long, ICE_HWKEY_LONG_TERM, blob, 0);
	refused(wk_long, ICE_HWKEY_LONG_TERM, blob, ICE_HWKEY_BLOB_SIZE - 1);
	refused(wk_long, ICE_HWKEY_LONG_TERM, blob, ICE_HWKEY_BLOB_SIZE + 1);
	refused(wk_long, ICE_HWKEY_LONG_TERM, blob, 128);
	/* Every bit of every byte: version, kind, nonce, key, tag */
	for (i = 0; i < ICE_HWKEY_BLOB_SIZE; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(flipped, blob, sizeof(flipped));
			flipped[i] ^= (uint8_t)(1u << bit);
			refused(wk_long, ICE_HWKEY_LONG_TERM, flipped, sizeof(flipped));
		}
	}
	/* An ephemeral blob is not a long-term one either. */
	ck_assert_int_eq(ice_hwkey_wrap(wk_eph, ICE_HWKEY_EPHEMERAL, raw, blob), 0);
	refused(wk_eph, ICE_HWKEY_LONG_TERM, blob, ICE_HWKEY_BLOB_SIZE);
	refused(wk_long, ICE_HWKEY_LONG_TERM, blob, ICE_HWKEY_BLOB_SIZE);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("ice_hwkey");
	TCase *tc = tcase_create("hwkey");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, kdf_known_answers);
	tcase_add_test(tc, kdf_refuses_lengths);
	tcase_add_test(tc, blob_round_trip);
	tcase_add_test(tc, blob_refusals);
	suite_add_tcase(s, tc);
	return s;
}
