// SPDX-License-Identifier: GPL-2.0
/*
 * The ICE engine, keys files, and VIRTIO_BLK_F_ICE requests through virtio-blk.
 *
 * Expected ciphertext comes from the IEEE 1619 vectors and the ESSIV IV in
 * docs/ICE.md (both checked against OpenSSL), and from an
 * oracle written here on libgcrypt's raw AES primitives (ECB, CBC, XTS,
 * SHA-256): it builds every IV itself, so it shares no code with devices/ice.c.
 * Keys-file errors are read back from stderr and checked for the exact
 * "FILE:LINE: reason" and for the absence of any key material.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../devices/blk.h"
#include "guest.h"
#include "unit.h"

#define BIT(n) (1ULL << (n))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct ice_store st, st2; /* large: static */

static void engine_setup(void)
{
	ck_assert_int_eq(ice_global_init(ice_secmem_size(ICE_MAX_SLOTS)), 0);
}

static void engine_teardown(void)
{
	ice_store_free(&st);
	ice_store_free(&st2);
}

/* --- small helpers --- */

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s), i;

	ck_assert_msg(n % 2 == 0, "test bug: odd hex string");
	for (i = 0; i < n / 2; i++) {
		int hi = hexdigit(s[2 * i]), lo = hexdigit(s[2 * i + 1]);

		ck_assert_msg(hi >= 0 && lo >= 0, "test bug: bad hex");
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return n / 2;
}

static void fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 101 + i * 7 + (i >> 8) * 13 + (i >> 16));
}

static void load(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t len,
		 uint32_t du)
{
	const char *why = NULL;
	int rc = ice_slot_load(s, slot, key, len, du, &why);

	ck_assert_msg(rc == 0, "slot %u: ice_slot_load failed (%d): %s", slot, rc,
		      why ? why : "(no reason)");
}

static void crypt_ok(struct ice_store *s, unsigned int slot, uint64_t dun, uint8_t *buf, size_t len,
		     bool encrypt)
{
	ck_assert_int_eq(ice_crypt(s, slot, dun, buf, len, encrypt), 0);
}

/* stderr into an unlinked temporary file, between capture_begin() and capture_end() */
static int cap_fd = -1, cap_saved = -1;

static void capture_begin(void)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	cap_fd = dup(fileno(f));
	fclose(f);
	ck_assert_int_ge(cap_fd, 0);
	fflush(stderr);
	cap_saved = dup(2);
	ck_assert_int_ge(cap_saved, 0);
	ck_assert_int_eq(dup2(cap_fd, 2), 2);
}

/* Puts back stderr; out gets what was written to it, NUL-terminated. */
static void capture_end(char *out, size_t size)
{
	ssize_t n;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	n = pread(cap_fd, out, size - 1, 0);
	close(cap_fd);
	cap_fd = cap_saved = -1;
	out[n > 0 ? n : 0] = 0;
}

/* --- the oracle: libgcrypt primitives, every IV built here --- */

static int aes_algo(size_t key_len)
{
	return key_len == 16   ? GCRY_CIPHER_AES128
	       : key_len == 24 ? GCRY_CIPHER_AES192
			       : GCRY_CIPHER_AES256;
}

static void gc_run(int algo, int mode, const uint8_t *key, size_t klen, const uint8_t *iv,
		   uint8_t *buf, size_t len)
{
	gcry_cipher_hd_t h;

	ck_assert_int_eq(gcry_cipher_open(&h, algo, mode, 0), 0);
	ck_assert_int_eq(gcry_cipher_setkey(h, key, klen), 0);
	if (iv)
		ck_assert_int_eq(gcry_cipher_setiv(h, iv, 16), 0);
	ck_assert_int_eq(gcry_cipher_encrypt(h, buf, len, NULL, 0), 0);
	gcry_cipher_close(h);
}

/* One AES block: out = AES_key(in) */
static void aes_block(const uint8_t *key, size_t klen, const uint8_t in[16], uint8_t out[16])
{
	memcpy(out, in, 16);
	gc_run(aes_algo(klen), GCRY_CIPHER_MODE_ECB, key, klen, NULL, out, 16);
}

static void le128(uint8_t out[16], unsigned __int128 v)
{
	int i;

	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/* The IV of a CBC data unit (docs: BitLocker and ESSIV rows). */
static void oracle_cbc_iv(enum ice_alg alg, const uint8_t *key, size_t klen, uint32_t du,
			  uint64_t dun, uint8_t iv[16])
{
	uint8_t salt[32], x[16];

	if (alg == ICE_ALG_BITLOCKER_AES_CBC) {
		/* the byte offset DUN x DU size, all 128 bits of it */
		le128(x, (unsigned __int128)dun * du);
		aes_block(key, klen, x, iv);
	} else {
		gcry_md_hash_buffer(GCRY_MD_SHA256, salt, key, klen);
		le128(x, dun);
		aes_block(salt, 32, x, iv);
	}
}

/* Encrypt one data unit in place as the wire format says, without the engine. */
static void oracle_unit(enum ice_alg alg, const uint8_t *key, size_t klen, uint32_t du,
			uint64_t dun, uint8_t *buf)
{
	uint8_t iv[16];

	switch (alg) {
	case ICE_ALG_AES_XTS:
		le128(iv, dun);
		gc_run(aes_algo(klen / 2), GCRY_CIPHER_MODE_XTS, key, klen, iv, buf, du);
		break;
	case ICE_ALG_AES_ECB:
		gc_run(aes_algo(klen), GCRY_CIPHER_MODE_ECB, key, klen, NULL, buf, du);
		break;
	default:
		oracle_cbc_iv(alg, key, klen, du, dun, iv);
		gc_run(aes_algo(klen), GCRY_CIPHER_MODE_CBC, key, klen, iv, buf, du);
		break;
	}
}

/* --- known answers through the engine API --- */

#define XTS_V2_CT "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0"
#define XTS_V10_KEY                                                                                \
	"2718281828459045235360287471352662497757247093699959574966967627"                         \
	"3141592653589793238462643383279502884197169399375105820974944592"
#define XTS_V10_CT_HEAD "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
#define XTS_V10_CT_TAIL "c4f36ffda9fcea70b9c6e693e148c151"
#define ESSIV_IV_DUN1 "c10509c8cf7d6eee55d7205db7845a6f"

/*
 * Vector 1's key1 = key2 = 0, which IEEE 1619-2018 5.1 no longer allows:
 * the engine refuses it for every caller (libgcrypt 1.10 would take it).
 */
START_TEST(xts_ieee1619_vector1_refused)
{
	static const uint8_t key[32];
	const char *why = NULL;

	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x01, 1, 0), 0);
	ck_assert_uint_eq(ice_key_len(&st), 32);
	ck_assert_int_eq(ice_slot_load(&st, 0, key, sizeof(key), 512, &why), -EINVAL);
	ck_assert_str_eq(why, "the two XTS key halves are equal");
	ck_assert_int_eq(ice_slot_program(&st, 0, key, sizeof(key), 512), -EINVAL);
}
END_TEST

START_TEST(xts_ieee1619_vector2)
{
	uint8_t key[32], buf[512], plain[512], want[32];

	memset(key, 0x11, 16);
	memset(key + 16, 0x22, 16);
	memset(plain, 0x44, sizeof(plain));
	memcpy(buf, plain, sizeof(buf));
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x01, 4, 0), 0);
	load(&st, 3, key, sizeof(key), 512);
	crypt_ok(&st, 3, 0x3333333333ULL, buf, sizeof(buf), true);
	unhex(XTS_V2_CT, want);
	ck_assert_mem_eq(buf, want, 32);
	crypt_ok(&st, 3, 0x3333333333ULL, buf, sizeof(buf), false);
	ck_assert_mem_eq(buf, plain, sizeof(plain));
}
END_TEST

START_TEST(xts_ieee1619_vector10)
{
	uint8_t key[64], buf[512], plain[512], head[32], tail[16];
	unsigned int i;

	ck_assert_uint_eq(unhex(XTS_V10_KEY, key), 64);
	for (i = 0; i < 512; i++)
		plain[i] = (uint8_t)i;
	memcpy(buf, plain, sizeof(buf));
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x01, 1, 0), 0);
	ck_assert_uint_eq(ice_key_len(&st), 64);
	load(&st, 0, key, sizeof(key), 512);
	crypt_ok(&st, 0, 0xff, buf, sizeof(buf), true);
	unhex(XTS_V10_CT_HEAD, head);
	unhex(XTS_V10_CT_TAIL, tail);
	ck_assert_mem_eq(buf, head, 32);
	ck_assert_mem_eq(buf + 512 - 16, tail, 16);
	crypt_ok(&st, 0, 0xff, buf, sizeof(buf), false);
	ck_assert_mem_eq(buf, plain, sizeof(plain));
}
END_TEST

START_TEST(essiv_iv_known_answer)
{
	uint8_t key[16], iv[16], plain[512], buf[512], x[16], want[16];
	unsigned int i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	fill(plain, sizeof(plain), 3);
	memcpy(buf, plain, sizeof(buf));
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_ESSIV_AES_CBC, ICE_KEY_128, 0x01, 2, 0), 0);
	load(&st, 1, key, sizeof(key), 512);
	crypt_ok(&st, 1, 1, buf, sizeof(buf), true);

	/* CBC: C0 = AES_K(P0 ^ IV) with the documented IV; C1 = AES_K(P1 ^ C0) */
	unhex(ESSIV_IV_DUN1, iv);
	for (i = 0; i < 16; i++)
		x[i] = plain[i] ^ iv[i];
	aes_block(key, 16, x, want);
	ck_assert_mem_eq(buf, want, 16);
	for (i = 0; i < 16; i++)
		x[i] = plain[16 + i] ^ buf[i];
	aes_block(key, 16, x, want);
	ck_assert_mem_eq(buf + 16, want, 16);
	/* and the oracle's own ESSIV derivation agrees with the documented IV */
	oracle_cbc_iv(ICE_ALG_ESSIV_AES_CBC, key, 16, 512, 1, x);
	ck_assert_mem_eq(x, iv, 16);

	crypt_ok(&st, 1, 1, buf, sizeof(buf), false);
	ck_assert_mem_eq(buf, plain, sizeof(plain));
}
END_TEST

/* BitLocker: IV = AES_K(LE128(DUN x DU size)) with the full 128-bit product. */
static void bitlocker_high_dun(enum ice_key_size ks, size_t klen)
{
	const uint64_t dun = UINT64_MAX - 1; /* two units: the last DUN is 2^64 - 1 */
	static uint8_t plain[2 * 4096], buf[2 * 4096];
	uint8_t key[32], x[16], iv[16], want[16];
	unsigned int u, i;

	fill(key, klen, 9);
	fill(plain, sizeof(plain), 4);
	memcpy(buf, plain, sizeof(buf));
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_BITLOCKER_AES_CBC, ks, 0x0f, 1, 0), 0);
	load(&st, 0, key, klen, 4096);
	ck_assert_uint_eq(ice_check(&st, 0, dun, sizeof(buf)), 4096);
	crypt_ok(&st, 0, dun, buf, sizeof(buf), true);
	for (u = 0; u < 2; u++) {
		unsigned __int128 off = (unsigned __int128)(dun + u) * 4096;

		/* the offset does not fit in 64 bits: its top bits must reach the IV */
		ck_assert_uint_eq((uint64_t)(off >> 64), 0xfff);
		le128(x, off);
		aes_block(key, klen, x, iv);
		for (i = 0; i < 16; i++)
			x[i] = plain[u * 4096 + i] ^ iv[i];
		aes_block(key, klen, x, want);
		ck_assert_msg(!memcmp(buf + u * 4096, want, 16),
			      "unit %u (DUN 2^64-%u): first block is not AES(P0 ^ IV)", u, 2 - u);
	}
	crypt_ok(&st, 0, dun, buf, sizeof(buf), false);
	ck_assert_mem_eq(buf, plain, sizeof(plain));
}

START_TEST(bitlocker_iv_full_128_bit_offset)
{
	bitlocker_high_dun(ICE_KEY_128, 16);
	ice_store_free(&st);
	bitlocker_high_dun(ICE_KEY_256, 32);
}
END_TEST

START_TEST(bitlocker_iv_small_offset)
{
	/* DUN 3 of 512-byte units: byte offset 1536 */
	uint8_t key[16], plain[512], buf[512], x[16], iv[16], want[16];
	unsigned int i;

	fill(key, sizeof(key), 1);
	fill(plain, sizeof(plain), 2);
	memcpy(buf, plain, sizeof(buf));
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_BITLOCKER_AES_CBC, ICE_KEY_128, 0x01, 1, 0),
			 0);
	load(&st, 0, key, sizeof(key), 512);
	crypt_ok(&st, 0, 3, buf, sizeof(buf), true);
	memset(x, 0, sizeof(x));
	x[0] = 1536 & 0xff;
	x[1] = 1536 >> 8;
	aes_block(key, 16, x, iv);
	for (i = 0; i < 16; i++)
		x[i] = plain[i] ^ iv[i];
	aes_block(key, 16, x, want);
	ck_assert_mem_eq(buf, want, 16);
}
END_TEST

/* --- round trips for every algorithm and key size the wire format allows --- */

static const struct {
	enum ice_alg alg;
	enum ice_key_size ks;
	size_t key_len;
	const char *name;
} algs[] = {
	{ ICE_ALG_AES_XTS, ICE_KEY_128, 32, "AES-128-XTS" },
	{ ICE_ALG_AES_XTS, ICE_KEY_256, 64, "AES-256-XTS" },
	{ ICE_ALG_BITLOCKER_AES_CBC, ICE_KEY_128, 16, "BitLocker AES-128-CBC" },
	{ ICE_ALG_BITLOCKER_AES_CBC, ICE_KEY_256, 32, "BitLocker AES-256-CBC" },
	{ ICE_ALG_AES_ECB, ICE_KEY_128, 16, "AES-128-ECB" },
	{ ICE_ALG_AES_ECB, ICE_KEY_192, 24, "AES-192-ECB" },
	{ ICE_ALG_AES_ECB, ICE_KEY_256, 32, "AES-256-ECB" },
	{ ICE_ALG_ESSIV_AES_CBC, ICE_KEY_128, 16, "AES-128-CBC-ESSIV" },
	{ ICE_ALG_ESSIV_AES_CBC, ICE_KEY_256, 32, "AES-256-CBC-ESSIV" },
};

static void round_trip(unsigned int a, uint32_t du, unsigned int units, uint64_t dun)
{
	size_t len = (size_t)du * units, u;
	uint8_t *plain = malloc(len), *ct = malloc(len), *one = malloc(du);
	uint8_t key[64];

	ck_assert(plain && ct && one);
	fill(key, algs[a].key_len, a + 1);
	fill(plain, len, du + a);
	load(&st, 1, key, algs[a].key_len, du);
	ck_assert_uint_eq(ice_check(&st, 1, dun, len), du);
	memcpy(ct, plain, len);
	crypt_ok(&st, 1, dun, ct, len, true);
	for (u = 0; u < units; u++) {
		/* unit u on its own, at DUN dun + u: engine and oracle */
		memcpy(one, plain + u * du, du);
		crypt_ok(&st, 1, dun + u, one, du, true);
		ck_assert_msg(!memcmp(one, ct + u * du, du),
			      "%s du %u: unit %zu of a %u-unit request differs from the unit "
			      "encrypted alone at DUN dun+%zu",
			      algs[a].name, du, u, units, u);
		memcpy(one, plain + u * du, du);
		oracle_unit(algs[a].alg, key, algs[a].key_len, du, dun + u, one);
		ck_assert_msg(!memcmp(one, ct + u * du, du),
			      "%s du %u DUN %#llx: unit %zu differs from the libgcrypt oracle",
			      algs[a].name, du, (unsigned long long)dun, u);
		ck_assert_msg(memcmp(ct + u * du, plain + u * du, du), "%s: unit %zu not encrypted",
			      algs[a].name, u);
	}
	/* the DUN matters (or, for ECB, must not) */
	memcpy(one, plain, du);
	crypt_ok(&st, 1, dun - 1, one, du, true);
	if (algs[a].alg == ICE_ALG_AES_ECB)
		ck_assert_msg(!memcmp(one, ct, du), "%s: ECB ciphertext depends on the DUN",
			      algs[a].name);
	else
		ck_assert_msg(memcmp(one, ct, du), "%s: DUN - 1 gives the same ciphertext",
			      algs[a].name);
	crypt_ok(&st, 1, dun, ct, len, false);
	ck_assert_msg(!memcmp(ct, plain, len), "%s du %u: decrypt(encrypt(x)) != x", algs[a].name,
		      du);
	free(plain);
	free(ct);
	free(one);
}

START_TEST(round_trip_every_algorithm)
{
	unsigned int a = (unsigned int)_i;

	ck_assert_int_eq(ice_store_init(&st, algs[a].alg, algs[a].ks, 0x8f, 4, 0), 0);
	ck_assert_uint_eq(ice_key_len(&st), algs[a].key_len);
	round_trip(a, 512, 4, 7);
	round_trip(a, 4096, 3, 0x0123456789abcdefULL);
	round_trip(a, 512, 3, UINT64_MAX - 2); /* the last unit has DUN 2^64 - 1 */
	round_trip(a, 65536, 2, 0x100000000ULL);
}
END_TEST

/* --- ice_check, store and slot rules --- */

START_TEST(check_rules)
{
	uint8_t key[32];

	fill(key, sizeof(key), 5);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x09, 4, 0), 0);
	load(&st, 1, key, sizeof(key), 4096);
	load(&st, 3, key, sizeof(key), 512);

	ck_assert_uint_eq(ice_check(&st, 1, 0, 4096), 4096);
	ck_assert_uint_eq(ice_check(&st, 1, 0, 3 * 4096), 4096);
	ck_assert_uint_eq(ice_check(&st, 3, 0, 512), 512);
	/* slot out of range, slot not loaded */
	ck_assert_uint_eq(ice_check(&st, 4, 0, 4096), 0);
	ck_assert_uint_eq(ice_check(&st, 255, 0, 4096), 0);
	ck_assert_uint_eq(ice_check(&st, 1000, 0, 4096), 0);
	ck_assert_uint_eq(ice_check(&st, 0, 0, 4096), 0);
	ck_assert_uint_eq(ice_check(&st, 2, 0, 512), 0);
	/* length: positive, whole units of this slot's size */
	ck_assert_uint_eq(ice_check(&st, 1, 0, 0), 0);
	ck_assert_uint_eq(ice_check(&st, 3, 0, 0), 0);
	ck_assert_uint_eq(ice_check(&st, 1, 0, 512), 0);
	ck_assert_uint_eq(ice_check(&st, 1, 0, 4096 + 512), 0);
	ck_assert_uint_eq(ice_check(&st, 1, 0, 4095), 0);
	ck_assert_uint_eq(ice_check(&st, 3, 0, 513), 0);
	/* the last DUN may be 2^64 - 1, not more */
	ck_assert_uint_eq(ice_check(&st, 1, UINT64_MAX, 4096), 4096);
	ck_assert_uint_eq(ice_check(&st, 1, UINT64_MAX, 2 * 4096), 0);
	ck_assert_uint_eq(ice_check(&st, 1, UINT64_MAX - 1, 2 * 4096), 4096);
	ck_assert_uint_eq(ice_check(&st, 1, UINT64_MAX - 1, 3 * 4096), 0);
	ck_assert_uint_eq(ice_check(&st, 3, UINT64_MAX - 7, 8 * 512), 512);
	ck_assert_uint_eq(ice_check(&st, 3, UINT64_MAX - 7, 9 * 512), 0);
	/* the largest length: 2^55 - 1 units of 512 bytes */
	ck_assert_uint_eq(ice_check(&st, 3, 0, UINT64_MAX / 512 * 512), 512);
	ck_assert_uint_eq(
		ice_check(&st, 3, UINT64_MAX - UINT64_MAX / 512 + 1, UINT64_MAX / 512 * 512), 512);
	ck_assert_uint_eq(
		ice_check(&st, 3, UINT64_MAX - UINT64_MAX / 512 + 2, UINT64_MAX / 512 * 512), 0);
}
END_TEST

START_TEST(check_ecb_dun_limit_too)
{
	uint8_t key[24];

	fill(key, sizeof(key), 6);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_ECB, ICE_KEY_192, 0x01, 1, 0), 0);
	load(&st, 0, key, sizeof(key), 512);
	ck_assert_uint_eq(ice_check(&st, 0, UINT64_MAX, 512), 512);
	ck_assert_uint_eq(ice_check(&st, 0, UINT64_MAX, 1024), 0);
}
END_TEST

START_TEST(crypt_refuses_and_leaves_buffer)
{
	uint8_t key[32], buf[1024], orig[1024];

	fill(key, sizeof(key), 7);
	fill(orig, sizeof(orig), 8);
	memcpy(buf, orig, sizeof(buf));
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x03, 2, 0), 0);
	load(&st, 0, key, sizeof(key), 1024);
	ck_assert_int_ne(ice_crypt(&st, 1, 0, buf, 1024, true), 0); /* not loaded */
	ck_assert_int_ne(ice_crypt(&st, 2, 0, buf, 1024, true), 0); /* out of range */
	ck_assert_int_ne(ice_crypt(&st, 0, 0, buf, 512, true), 0);  /* half a unit */
	ck_assert_mem_eq(buf, orig, sizeof(buf));
}
END_TEST

START_TEST(store_init_rules)
{
	/* AES-192 only for ECB */
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_192, 0x01, 1, 0), -EINVAL);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_ESSIV_AES_CBC, ICE_KEY_192, 0x01, 1, 0),
			 -EINVAL);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_BITLOCKER_AES_CBC, ICE_KEY_192, 0x01, 1, 0),
			 -EINVAL);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_ECB, ICE_KEY_192, 0x01, 1, 0), 0);
	ck_assert_uint_eq(ice_key_len(&st), 24);
	/* key size ids 0 and 4, algorithm id 4 */
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_ECB, (enum ice_key_size)0, 0x01, 1, 0),
			 -EINVAL);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, (enum ice_key_size)4, 0x01, 1, 0),
			 -EINVAL);
	ck_assert_int_eq(ice_store_init(&st, (enum ice_alg)4, ICE_KEY_128, 0x01, 1, 0), -EINVAL);
	/* an empty data unit mask; max_slots 0 and 256; slot_offset 256 */
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0, 1, 0), -EINVAL);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x01, 0, 0), -EINVAL);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x01, 256, 0), -EINVAL);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x01, 1, 256), -EINVAL);
	/* the limits themselves */
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0xff, 255, 255), 0);
	ck_assert_uint_eq(ice_slot_info(&st), 0xffff);
	ck_assert_uint_eq(ice_capability(&st), 0x00ff0300);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_ESSIV_AES_CBC, ICE_KEY_128, 0x81, 1, 7), 0);
	ck_assert_uint_eq(ice_slot_info(&st), 0x0107);
	ck_assert_uint_eq(ice_capability(&st), 0x03810100);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_BITLOCKER_AES_CBC, ICE_KEY_256, 0x08, 16, 0),
			 0);
	ck_assert_uint_eq(ice_capability(&st), 0x01080300);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_ECB, ICE_KEY_192, 0x02, 16, 0), 0);
	ck_assert_uint_eq(ice_capability(&st), 0x02020200);
}
END_TEST

static void load_refused(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t len,
			 uint32_t du, const char *reason)
{
	const char *why = NULL;

	ck_assert_int_eq(ice_slot_load(s, slot, key, len, du, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, reason), "reason '%s' does not say '%s'", why, reason);
}

START_TEST(slot_load_rules)
{
	uint8_t key[65];

	fill(key, sizeof(key), 10);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x09, 4, 0), 0);
	/* XTS-128 takes 32 bytes */
	load_refused(&st, 0, key, 16, 512, "wrong key length");
	load_refused(&st, 0, key, 31, 512, "wrong key length");
	load_refused(&st, 0, key, 33, 512, "wrong key length");
	load_refused(&st, 0, key, 64, 512, "wrong key length");
	load_refused(&st, 0, key, 0, 512, "wrong key length");
	/* mask 0x09: 512 and 4096 only */
	load_refused(&st, 0, key, 32, 1024, "data unit size");
	load_refused(&st, 0, key, 32, 2048, "data unit size");
	load_refused(&st, 0, key, 32, 8192, "data unit size");
	load_refused(&st, 0, key, 32, 4097, "data unit size");
	load_refused(&st, 0, key, 32, 256, "data unit size");
	load_refused(&st, 0, key, 32, 0, "data unit size");
	load_refused(&st, 0, key, 32, 131072, "data unit size");
	load_refused(&st, 0, key, 32, 512 + 4096, "data unit size");
	/* slot out of range */
	load_refused(&st, 4, key, 32, 512, "max_slots");
	load_refused(&st, 255, key, 32, 512, "max_slots");
	/* nothing got loaded by any of that */
	ck_assert_uint_eq(ice_check(&st, 0, 0, 512), 0);
	ck_assert_uint_eq(ice_check(&st, 0, 0, 4096), 0);

	/* other key sizes */
	ck_assert_int_eq(ice_store_init(&st2, ICE_ALG_AES_XTS, ICE_KEY_256, 0x01, 1, 0), 0);
	load_refused(&st2, 0, key, 32, 512, "wrong key length");
	load_refused(&st2, 0, key, 65, 512, "wrong key length");
	load(&st2, 0, key, 64, 512);
	ice_store_free(&st2);
	ck_assert_int_eq(ice_store_init(&st2, ICE_ALG_ESSIV_AES_CBC, ICE_KEY_128, 0x01, 1, 0), 0);
	load_refused(&st2, 0, key, 32, 512, "wrong key length");
	load_refused(&st2, 0, key, 24, 512, "wrong key length");
	load(&st2, 0, key, 16, 512);
}
END_TEST

START_TEST(failed_load_keeps_old_key)
{
	uint8_t key[32], buf[512], want[512];

	fill(key, sizeof(key), 11);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x01, 2, 0), 0);
	load(&st, 0, key, sizeof(key), 512);
	fill(want, sizeof(want), 12);
	memcpy(buf, want, sizeof(buf));
	oracle_unit(ICE_ALG_AES_XTS, key, 32, 512, 5, want);
	load_refused(&st, 0, key, 16, 512, "wrong key length");
	load_refused(&st, 0, key, 32, 1024, "data unit size");
	ck_assert_uint_eq(ice_check(&st, 0, 5, 512), 512);
	crypt_ok(&st, 0, 5, buf, sizeof(buf), true);
	ck_assert_mem_eq(buf, want, sizeof(buf));
}
END_TEST

START_TEST(reload_replaces_key_and_size)
{
	uint8_t a[32], b[32], plain[4096], buf[4096], want[4096];

	fill(a, sizeof(a), 13);
	fill(b, sizeof(b), 14);
	fill(plain, sizeof(plain), 15);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_128, 0x09, 2, 0), 0);
	load(&st, 1, a, sizeof(a), 512);
	load(&st, 1, b, sizeof(b), 4096);
	/* the new size rules */
	ck_assert_uint_eq(ice_check(&st, 1, 0, 512), 0);
	ck_assert_uint_eq(ice_check(&st, 1, 0, 4096), 4096);
	/* and the new key: one 4096-byte unit under key b */
	memcpy(buf, plain, sizeof(buf));
	crypt_ok(&st, 1, 9, buf, sizeof(buf), true);
	memcpy(want, plain, sizeof(want));
	oracle_unit(ICE_ALG_AES_XTS, b, 32, 4096, 9, want);
	ck_assert_mem_eq(buf, want, sizeof(buf));
	/* back to key a, 512-byte units */
	load(&st, 1, a, sizeof(a), 512);
	memcpy(buf, plain, sizeof(buf));
	crypt_ok(&st, 1, 9, buf, sizeof(buf), true);
	memcpy(want, plain, 512);
	oracle_unit(ICE_ALG_AES_XTS, a, 32, 512, 9, want);
	ck_assert_mem_eq(buf, want, 512);
}
END_TEST

START_TEST(evict_makes_slot_unusable)
{
	uint8_t key[16], buf[512], orig[512];

	fill(key, sizeof(key), 16);
	fill(orig, sizeof(orig), 17);
	memcpy(buf, orig, sizeof(buf));
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_ESSIV_AES_CBC, ICE_KEY_128, 0x01, 3, 0), 0);
	load(&st, 2, key, sizeof(key), 512);
	load(&st, 0, key, sizeof(key), 512);
	ck_assert_uint_eq(ice_check(&st, 2, 0, 512), 512);
	ice_slot_evict(&st, 2);
	ck_assert_uint_eq(ice_check(&st, 2, 0, 512), 0);
	ck_assert_int_ne(ice_crypt(&st, 2, 0, buf, sizeof(buf), true), 0);
	ck_assert_mem_eq(buf, orig, sizeof(buf));
	/* other slots are untouched; evicting twice or out of range is harmless */
	ck_assert_uint_eq(ice_check(&st, 0, 0, 512), 512);
	ice_slot_evict(&st, 2);
	ice_slot_evict(&st, 3);
	ice_slot_evict(&st, 255);
	ck_assert_uint_eq(ice_check(&st, 0, 0, 512), 512);
	/* and the slot can be loaded again */
	load(&st, 2, key, sizeof(key), 512);
	crypt_ok(&st, 2, 0, buf, sizeof(buf), true);
	ck_assert_mem_ne(buf, orig, sizeof(buf));
}
END_TEST

/* --- keys that change at run time (ice_slot_program, pinning) --- */

/* buf = plain under (key, du, dun) by the oracle. */
static void xts_want(const uint8_t *key, uint32_t du, uint64_t dun, const uint8_t *plain,
		     uint8_t *buf, size_t len)
{
	size_t off;

	memcpy(buf, plain, len);
	for (off = 0; off < len; off += du)
		oracle_unit(ICE_ALG_AES_XTS, key, 64, du, dun + off / du, buf + off);
}

START_TEST(program_evict_reprogram)
{
	uint8_t a[64], b[64], plain[8192], buf[8192], want[8192];
	unsigned int i;

	fill(a, sizeof(a), 40);
	fill(b, sizeof(b), 41);
	fill(plain, sizeof(plain), 42);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x09, 4, 0), 0);
	ck_assert_uint_eq(ice_slot_du(&st, 2), 0);
	ck_assert_int_eq(ice_slot_program(&st, 2, a, 64, 512), 0);
	ck_assert_uint_eq(ice_slot_du(&st, 2), 512);
	memcpy(buf, plain, sizeof(buf));
	crypt_ok(&st, 2, 7, buf, sizeof(buf), true);
	xts_want(a, 512, 7, plain, want, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(buf));
	/* reprogram: new key and data unit size, in place of the old */
	ck_assert_int_eq(ice_slot_program(&st, 2, b, 64, 4096), 0);
	ck_assert_uint_eq(ice_slot_du(&st, 2), 4096);
	ck_assert_uint_eq(ice_check(&st, 2, 0, 512), 0);
	memcpy(buf, plain, sizeof(buf));
	crypt_ok(&st, 2, 7, buf, sizeof(buf), true);
	xts_want(b, 4096, 7, plain, want, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(buf));
	/* evict: the slot refuses work, the others keep theirs */
	ck_assert_int_eq(ice_slot_program(&st, 3, a, 64, 512), 0);
	ice_slot_evict(&st, 2);
	ck_assert_uint_eq(ice_slot_du(&st, 2), 0);
	ck_assert_uint_eq(ice_check(&st, 2, 0, 4096), 0);
	memcpy(buf, plain, sizeof(buf));
	ck_assert_int_eq(ice_crypt(&st, 2, 0, buf, 4096, true), -EIO);
	ck_assert_mem_eq(buf, plain, sizeof(buf));
	ck_assert_uint_eq(ice_slot_du(&st, 3), 512);
	/* evict all: every slot empty, and each can be programmed again */
	ck_assert_int_eq(ice_slot_program(&st, 0, b, 64, 512), 0);
	ice_store_evict_all(&st);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(ice_slot_du(&st, i), 0);
	ice_store_evict_all(&st); /* twice is harmless */
	ck_assert_int_eq(ice_slot_program(&st, 2, a, 64, 4096), 0);
	memcpy(buf, plain, sizeof(buf));
	crypt_ok(&st, 2, 7, buf, sizeof(buf), true);
	xts_want(a, 4096, 7, plain, want, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(buf));
}
END_TEST

/* A refused program changes nothing: the slot keeps its key, or stays empty. */
START_TEST(program_refusals_change_nothing)
{
	uint8_t a[64], same[64], plain[4096], buf[4096], want[4096];
	char err[256];

	fill(a, sizeof(a), 43);
	fill(same, 32, 44);
	memcpy(same + 32, same, 32);
	fill(plain, sizeof(plain), 45);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x09, 4, 0), 0);
	ck_assert_int_eq(ice_slot_program(&st, 1, a, 64, 4096), 0);
	capture_begin();
	/* equal XTS halves (IEEE 1619), on a loaded slot and an empty one */
	ck_assert_int_eq(ice_slot_program(&st, 1, same, 64, 4096), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 0, same, 64, 4096), -EINVAL);
	/* halves differing in their last byte only are fine (a different slot) */
	same[63] ^= 1;
	ck_assert_int_eq(ice_slot_program(&st, 2, same, 64, 512), 0);
	/* wrong key length, data unit sizes outside the capability, slot out of range */
	ck_assert_int_eq(ice_slot_program(&st, 1, a, 32, 4096), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 1, a, 63, 4096), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 1, a, 64, 1024), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 1, a, 64, 8192), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 1, a, 64, 4095), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 1, a, 64, 0), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 0, a, 64, 1024), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 4, a, 64, 4096), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 255, a, 64, 4096), -EINVAL);
	capture_end(err, sizeof(err));
	ck_assert_str_eq(err, ""); /* a guest's refused program prints nothing */
	ck_assert_uint_eq(ice_slot_du(&st, 0), 0);
	ck_assert_uint_eq(ice_slot_du(&st, 1), 4096);
	memcpy(buf, plain, sizeof(buf));
	crypt_ok(&st, 1, 3, buf, sizeof(buf), true);
	xts_want(a, 4096, 3, plain, want, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(buf));
}
END_TEST

/* A pinned key outlives a reprogram and an evict of its slot, unchanged. */
START_TEST(pinned_key_survives_program_and_evict)
{
	uint8_t a[64], b[64], plain[4096], buf[4096], want[4096];
	struct ice_key *k, *k2;

	fill(a, sizeof(a), 46);
	fill(b, sizeof(b), 47);
	fill(plain, sizeof(plain), 48);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x09, 2, 0), 0);
	ck_assert_ptr_null(ice_key_pin(&st, 0));
	ck_assert_ptr_null(ice_key_pin(&st, 2));
	ck_assert_int_eq(ice_slot_program(&st, 0, a, 64, 512), 0);
	k = ice_key_pin(&st, 0);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(ice_slot_program(&st, 0, b, 64, 4096), 0);
	k2 = ice_key_pin(&st, 0); /* the new key */
	ice_slot_evict(&st, 0);
	ck_assert_uint_eq(ice_slot_du(&st, 0), 0);
	/* k is still key a with 512-byte units; k2 key b with 4096 */
	ck_assert_uint_eq(ice_key_check(k, 0, 1024), 512);
	ck_assert_uint_eq(ice_key_check(k2, 0, 1024), 0);
	ck_assert_int_eq(ice_key_crypt_to(k, 5, plain, buf, sizeof(buf), true), 0);
	xts_want(a, 512, 5, plain, want, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(buf));
	ck_assert_int_eq(ice_key_crypt_to(k2, 5, plain, buf, sizeof(buf), true), 0);
	xts_want(b, 4096, 5, plain, want, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(buf));
	ice_key_unpin(k); /* the last references: both keys freed (ASan/valgrind: no leak) */
	ice_key_unpin(k2);
	ice_key_unpin(NULL);
	ck_assert_ptr_null(ice_key_pin(&st, 0));
}
END_TEST

START_TEST(full_store_255_xts256_slots)
{
	uint8_t key[64], plain[512], buf[512], want[512], prev[512];
	const char *why = "";
	char err[512];
	unsigned int i;

	fill(plain, sizeof(plain), 18);
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x01, 255, 0), 0);
	capture_begin();
	for (i = 0; i < 255; i++) {
		fill(key, sizeof(key), 100 + i);
		key[0] = (uint8_t)i; /* every slot its own key */
		if (ice_slot_load(&st, i, key, sizeof(key), 512, &why))
			break;
	}
	capture_end(err, sizeof(err));
	ck_assert_msg(i == 255, "slot %u: ice_slot_load failed: %s", i, why);
	for (i = 0; i < 255; i++) {
		fill(key, sizeof(key), 100 + i);
		key[0] = (uint8_t)i;
		memcpy(buf, plain, sizeof(buf));
		crypt_ok(&st, i, i, buf, sizeof(buf), true);
		memcpy(want, plain, sizeof(want));
		oracle_unit(ICE_ALG_AES_XTS, key, 64, 512, i, want);
		ck_assert_msg(!memcmp(buf, want, sizeof(buf)), "slot %u: wrong ciphertext", i);
		ck_assert_msg(i == 0 || memcmp(buf, prev, sizeof(buf)), "slot %u = slot %u", i,
			      i - 1);
		memcpy(prev, buf, sizeof(buf));
		crypt_ok(&st, i, i, buf, sizeof(buf), false);
		ck_assert_msg(!memcmp(buf, plain, sizeof(buf)), "slot %u: no round trip", i);
	}
	ice_store_free(&st);
	for (i = 0; i < 255; i++)
		ck_assert_uint_eq(ice_check(&st, i, 0, 512), 0);
	/* everything freed: the store can be filled again */
	ck_assert_int_eq(ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x01, 255, 0), 0);
	for (i = 0; i < 255; i++) {
		fill(key, sizeof(key), 100 + i);
		key[0] = (uint8_t)i;
		load(&st, i, key, sizeof(key), 512);
	}
	/*
	 * And loading printed nothing. libgcrypt says "Warning: using insecure
	 * memory!" when its secure pool grows past the part that is mlock'ed:
	 * key schedules then live in memory that may be swapped out.
	 */
	ck_assert_msg(!err[0], "loading 255 slots printed '%s'", err);
}
END_TEST

/* --- keys files --- */

static char kdir[64];
static char kpath[128];
static char kerr[8192]; /* what the last load printed on stderr */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	return ftw->level ? remove(path) : 0; /* everything but the directory itself */
}

/*
 * One temporary directory per TCase, made and removed by the runner process
 * (unchecked fixtures), so that a test whose forked child stops at a failed
 * assertion leaves nothing behind; each test starts with it empty.
 */
static void tdir_make(void)
{
	snprintf(kdir, sizeof(kdir), "/dev/shm/icevmm-ice-test-XXXXXX");
	if (!mkdtemp(kdir)) {
		snprintf(kdir, sizeof(kdir), "/tmp/icevmm-ice-test-XXXXXX");
		if (!mkdtemp(kdir))
			abort();
	}
}

static void tdir_remove(void)
{
	nftw(kdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	rmdir(kdir);
}

static void tdir_empty(void)
{
	ck_assert_int_eq(nftw(kdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void keys_setup(void)
{
	engine_setup();
	tdir_empty();
	snprintf(kpath, sizeof(kpath), "%s/keys.conf", kdir);
	kerr[0] = 0;
}

static void keys_teardown(void)
{
	engine_teardown();
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* A file in kdir; returns its full path (static buffer). */
static const char *kfile(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[192];

	snprintf(path, sizeof(path), "%s/%s", kdir, name);
	write_file(path, data, len, mode);
	return path;
}

/* Load path into st with stderr captured into kerr[]. */
static int load_path(const char *path, bool allow_insecure)
{
	int rc;

	capture_begin();
	rc = ice_store_load_file(&st, path, allow_insecure);
	capture_end(kerr, sizeof(kerr));
	return rc;
}

static int load_text(const char *text, bool allow_insecure)
{
	write_file(kpath, text, strlen(text), 0600);
	return load_path(kpath, allow_insecure);
}

static const char *kcase = ""; /* the case being checked, for messages */

/*
 * No key material in what was printed: no run of 16 or more hex digits at all,
 * and none of the 16-digit windows of any hex run in the file text (the keys).
 */

static void no_key_material(const char *text)
{
	const char *p, *q;
	size_t run = 0;
	char win[17];

	for (p = kerr; *p; p++) {
		run = hexdigit(*p) >= 0 ? run + 1 : 0;
		ck_assert_msg(run < 16, "%s: stderr has a run of 16 hex digits: '%s'", kcase, kerr);
	}
	for (p = text; text && *p; p = q) {
		for (q = p; hexdigit(*q) >= 0; q++)
			;
		if (q - p >= 16) {
			for (; p + 16 <= q; p++) {
				memcpy(win, p, 16);
				win[16] = 0;
				ck_assert_msg(!strcasestr(kerr, win),
					      "%s: stderr shows key digits '%s': '%s'", kcase, win,
					      kerr);
			}
		}
		if (q == p)
			q++;
	}
}

/* stderr is exactly one line "icevmm: FILE:LINE: ...reason..." */
static void expect_error_at(const char *path, unsigned int line, const char *reason,
			    const char *text)
{
	char prefix[256];
	size_t n;

	snprintf(prefix, sizeof(prefix), "icevmm: %s:%u: ", path, line);
	n = strlen(prefix);
	ck_assert_msg(!strncmp(kerr, prefix, n), "%s: expected '%s<%s>', got '%s'", kcase, prefix,
		      reason, kerr);
	ck_assert_msg(strstr(kerr + n, reason), "%s: expected reason '%s', got '%s'", kcase, reason,
		      kerr);
	ck_assert_msg(strlen(kerr) > 0 && kerr[strlen(kerr) - 1] == '\n' &&
			      !memchr(kerr, '\n', strlen(kerr) - 1),
		      "expected one line, got '%s'", kerr);
	no_key_material(text);
}

#define HEX_00_0F "000102030405060708090a0b0c0d0e0f"
#define HEX_10_1F "101112131415161718191a1b1c1d1e1f"
#define HEX_20_3F "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define HEX_00_1F HEX_00_0F HEX_10_1F
#define HEX_00_3F HEX_00_1F HEX_20_3F
#define KEY_A "8f3ac1d2e4b5a6978877665544332211" /* 16 bytes */
#define KEY_B "0b1c2d3e4f5061728394a5b6c7d8e9fa"

/* Lines 1-5; a valid AES-128-XTS slot follows on lines 6-8. */
#define HDR                                                                                        \
	"[ice]\n"                                                                                  \
	"algorithm = aes-xts\n"                                                                    \
	"key_bits = 128\n"                                                                         \
	"data_unit_sizes = 512, 4096\n"                                                            \
	"max_slots = 8\n"
#define SLOT0                                                                                      \
	"[slot 0]\n"                                                                               \
	"key = " KEY_A KEY_B "\n"                                                                  \
	"data_unit_size = 4096\n"

/* Padding for long lines */
#define DOTS10 ".........."
#define DOTS50 DOTS10 DOTS10 DOTS10 DOTS10 DOTS10
#define SP10 "          "
#define SP50 SP10 SP10 SP10 SP10 SP10

static const struct keys_error {
	const char *what, *text;
	unsigned int line;
	const char *reason;
} keys_errors[] = {
	{ "unknown section", HDR SLOT0 "[keys]\nx = 1\n", 9, "unknown section" },
	{ "unknown section [slot 255]", HDR "[slot 255]\nkey = " KEY_A KEY_B "\n", 6,
	  "unknown section" },
	{ "unknown key in [ice]",
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 128\ncipher = aes\ndata_unit_sizes = 512\n", 4,
	  "unknown key 'cipher' in [ice]" },
	{ "unknown key in a slot", HDR "[slot 0]\nkey = " KEY_A KEY_B "\nivec = 5\n", 8,
	  "unknown key 'ivec' in a [slot N] section" },
	{ "bad hex", HDR "[slot 0]\nkey = " KEY_A "0b1c2d3e4f50617x8394a5b6c7d8e9fa\n", 7,
	  "not a hex string" },
	{ "odd number of hex digits",
	  HDR "[slot 0]\nkey = " KEY_A "0b1c2d3e4f5061728394a5b6c7d8e9f\n", 7,
	  "even number of hex digits" },
	{ "key too short", HDR "[slot 0]\nkey = " KEY_A "\n", 7,
	  "wrong key length: the key is 16 bytes; aes-xts with key_bits 128 takes 32" },
	{ "key too long", HDR "[slot 0]\nkey = " KEY_A KEY_B KEY_B "\n", 7,
	  "the key is 48 bytes; aes-xts with key_bits 128 takes 32" },
	/* refused by the store as it loads the slot: the slot's line */
	{ "XTS halves equal", HDR "[slot 0]\nkey = " KEY_A KEY_A "\ndata_unit_size = 512\n", 6,
	  "the two XTS key halves are equal" },
	{ "data unit size not listed",
	  HDR "[slot 0]\nkey = " KEY_A KEY_B "\ndata_unit_size = 1024\n", 8,
	  "data_unit_size '1024' is not one of" },
	{ "data unit size not a power of two",
	  HDR "[slot 0]\ndata_unit_size = 4097\nkey = " KEY_A KEY_B "\n", 7,
	  "data_unit_size '4097' is not one of" },
	{ "duplicate [slot 0]", HDR SLOT0 "[slot 0]\nkey = " KEY_B KEY_A "\n", 9, "appears twice" },
	{ "duplicate [ice]", HDR "[ice]\nslot_offset = 1\n" SLOT0, 6, "appears twice" },
	{ "duplicate key in [ice]", "[ice]\nalgorithm = aes-xts\nalgorithm = aes-ecb\n", 3,
	  "'algorithm' is given twice in [ice]" },
	{ "duplicate data_unit_size in a slot", HDR SLOT0 "data_unit_size = 512\n", 9,
	  "'data_unit_size' is given twice in this slot" },
	{ "duplicate key in a slot", HDR SLOT0 "key = " KEY_B KEY_A "\n", 9,
	  "'key' is given twice in this slot" },
	{ "slot >= max_slots", HDR "[slot 8]\nkey = " KEY_A KEY_B "\ndata_unit_size = 4096\n", 7,
	  "not below max_slots" },
	{ "empty slot >= max_slots", HDR SLOT0 "[slot 9]\n", 9,
	  "slot 9 is not below max_slots (8)" },
	{ "aes-xts with key_bits 192, no slot",
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 192\ndata_unit_sizes = 4096\n", 1,
	  "AES-192 is for aes-ecb only" },
	{ "aes-xts with key_bits 192",
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 192\ndata_unit_sizes = 4096\n"
	  "[slot 0]\nkey = " KEY_A KEY_B KEY_A "\n",
	  1, "AES-192 is for aes-ecb only" },
	{ "essiv-aes-cbc with key_bits 192",
	  "[ice]\nalgorithm = essiv-aes-cbc\nkey_bits = 192\ndata_unit_sizes = 4096\n", 1,
	  "AES-192 is for aes-ecb only" },
	{ "[ice] without algorithm",
	  "[ice]\nkey_bits = 128\ndata_unit_sizes = 4096\n[slot 0]\nkey = " KEY_A KEY_B "\n", 1,
	  "[ice] needs algorithm, key_bits and data_unit_sizes" },
	{ "unknown algorithm", "[ice]\nalgorithm = aes-gcm\n", 2, "unknown algorithm 'aes-gcm'" },
	{ "key_bits 512", "[ice]\nalgorithm = aes-xts\nkey_bits = 512\n", 3, "key_bits '512'" },
	{ "data_unit_sizes 1000", "[ice]\nalgorithm = aes-xts\ndata_unit_sizes = 512, 1000\n", 3,
	  "'1000' is not a power of two" },
	{ "duplicate max_slots", HDR "max_slots = 0\n", 6, "'max_slots' is given twice in [ice]" },
	{ "max_slots = 0",
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 128\ndata_unit_sizes = 4096\nmax_slots = 0\n", 5,
	  "max_slots '0': expected 1 to 255" },
	{ "max_slots = 256",
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 128\ndata_unit_sizes = 4096\nmax_slots = 256\n",
	  5, "max_slots '256': expected 1 to 255" },
	{ "slot_offset = 256", "[ice]\nslot_offset = 256\n", 2, "slot_offset '256'" },
	{ "a line of 199 characters",
	  HDR "; " DOTS50 DOTS50 DOTS50 DOTS10 DOTS10 DOTS10 DOTS10 ".......\n" SLOT0, 6,
	  "longer than the parser's limit of 198 characters" },
	{ "a key line of 199 characters",
	  HDR "[slot 0]\nkey = " KEY_A KEY_B SP50 SP50 SP10 SP10 "    ; 199\n"
	      "data_unit_size = 512\n",
	  7, "longer than the parser's limit of 198 characters" },
	{ "no data_unit_size, two sizes listed", HDR "[slot 0]\nkey = " KEY_A KEY_B "\n", 6,
	  "[slot 0] needs data_unit_size" },
	{ "slot without key", HDR "[slot 0]\ndata_unit_size = 4096\n", 6,
	  "[slot 0] has no key or key_file" },
	{ "empty slot", HDR SLOT0 "[slot 5]\n", 9, "[slot 5] has no key or key_file" },
	{ "key and key_file", HDR SLOT0 "key_file = k.bin\n", 9, "key or key_file, not both" },
	{ "key_file given a hex key", HDR "[slot 0]\nkey_file = " KEY_A KEY_B "\n", 7,
	  "No such file or directory" },
	{ "[slot] before [ice]",
	  "[slot 0]\nkey = " KEY_A KEY_B "\ndata_unit_size = 4096\n"
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 128\ndata_unit_sizes = 512, 4096\n",
	  1, "a [slot N] section before [ice]: [ice] must come first" },
	{ "no [ice] section", "[slot 0]\nkey = " KEY_A KEY_B "\ndata_unit_size = 4096\n", 1,
	  "a [slot N] section before [ice]: [ice] must come first" },
	{ "syntax error", HDR "[slot 0]\nkey = " KEY_A KEY_B "\nthis line has no equals sign\n", 8,
	  "syntax error" },
	{ "key without =", HDR "[slot 0]\nkey " KEY_A KEY_B "\ndata_unit_size = 4096\n", 7,
	  "syntax error" },
	{ "syntax error, then a bad value",
	  HDR "[slot 0]\nkey " KEY_A KEY_B "\ndata_unit_size = 1024\n", 7, "syntax error" },
	{ "unterminated section header", HDR "[slot 0\nkey = " KEY_A KEY_B "\n", 6,
	  "malformed section header" },
	{ "CRLF line ends", "[ice]\r\n; short\r\nbogus = 1\r\n", 3,
	  "unknown key 'bogus' in [ice]" },
	{ "CRLF and a 198-character line",
	  "[ice]\r\n; " DOTS50 DOTS50 DOTS50 DOTS10 DOTS10 DOTS10 DOTS10 "......\r\nbogus = 1\r\n",
	  2, "line is longer than the parser's limit of 198 characters" },
	{ "CRLF and a 197-character line",
	  "[ice]\r\n; " DOTS50 DOTS50 DOTS50 DOTS10 DOTS10 DOTS10 DOTS10 ".....\r\nbogus = 1\r\n",
	  3, "unknown key 'bogus' in [ice]" },
	/* libinih's rules, followed to the line: an inline comment before the '=' ... */
	{ "inline comment before =", "[ice]\nalgorithm ;x = aes-xts\nkey_bits = 100\n", 2,
	  "syntax error" },
	/* ... and an indented section header after a value is a continuation of it. */
	{ "indented section after a value", HDR SLOT0 "  [slot 4]\nkey = " KEY_A KEY_B "\n", 9,
	  "continuation of that value" },
	{ "empty data unit size item",
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 128\n"
	  "data_unit_sizes = 512,,4096\n",
	  4, "data_unit_sizes: an empty item" },
	{ "trailing comma in data unit sizes",
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 128\n"
	  "data_unit_sizes = 512, 4096 ,\n",
	  4, "data_unit_sizes: an empty item" },
	/* Every line counts, whatever it holds: blank, comment, indented, CRLF, after a BOM. */
	{ "line number after blank and comment lines",
	  "\n; c\n# c\n[ice]\n\n  ; indented comment\n\t\nbogus = 1\n", 8,
	  "unknown key 'bogus' in [ice]" },
	{ "line number after indented lines",
	  "  [ice]\n\talgorithm = aes-xts\n    ; a comment after a value\n  \nkey_bits = 128\n"
	  "\t; x\nbogus = 1\n",
	  7, "unknown key 'bogus' in [ice]" },
	{ "indented line after a value and a comment",
	  "[ice]\nalgorithm = aes-xts\n; c\n\n  key_bits = 128\n", 5,
	  "continuation of that value" },
	{ "line number after a BOM", "\xef\xbb\xbf[ice]\n\nbogus = 1\n", 3,
	  "unknown key 'bogus' in [ice]" },
	{ "BOM and a 198-character line",
	  "\xef\xbb\xbf; " DOTS50 DOTS50 DOTS50 DOTS10 DOTS10 DOTS10 DOTS10 "......\n"
	  "[ice]\nbogus = 1\n",
	  3, "unknown key 'bogus' in [ice]" },
	{ "CRLF after blank lines", "[ice]\r\n\r\n; c\r\n  \r\nbogus = 1\r\n", 5,
	  "unknown key 'bogus' in [ice]" },
	{ "a 199-character last line without a newline",
	  "[ice]\n\n; " DOTS50 DOTS50 DOTS50 DOTS10 DOTS10 DOTS10 DOTS10 ".......", 3,
	  "longer than the parser's limit of 198 characters" },
	/* Our own rules, stricter than libinih's: nothing after a section header ... */
	{ "text after a section header", "[ice] x\nalgorithm = aes-xts\n", 1,
	  "malformed section header" },
	/* ... '=' is the only delimiter, and every name = value line is in a section. */
	{ "':' for '='", "[ice]\nalgorithm: aes-xts\n", 2, "syntax error" },
	{ "a value before [ice]", "; c\nalgorithm = aes-xts\n[ice]\n", 2,
	  "a name = value line before [ice]" },
	/* A key pasted into the wrong field is never echoed. */
	{ "key pasted as data_unit_size",
	  HDR "[slot 0]\nkey = " KEY_A KEY_B "\n"
	      "data_unit_size = " KEY_B KEY_A "\n",
	  8, "data_unit_size '(long value not shown)' is not one of" },
	{ "key pasted as data_unit_sizes",
	  "[ice]\nalgorithm = aes-xts\nkey_bits = 128\ndata_unit_sizes = " KEY_B KEY_A "\n", 4,
	  "data_unit_sizes: '(long value not shown)' is not a power of two" },
	/* guest_keys: yes or no, once; never yes together with [slot N] sections */
	{ "guest_keys = yes with slots", HDR "guest_keys = yes\n" SLOT0, 6,
	  "guest_keys = yes, but line 7 has [slot 0]" },
	{ "guest_keys = yes, slots further down",
	  HDR "guest_keys = yes  ; the guest's\n\n"
	      "[slot 5]\nkey = " KEY_A KEY_B "\ndata_unit_size = 512\n" SLOT0,
	  6, "guest_keys = yes, but line 8 has [slot 5]" },
	{ "guest_keys = yes with an empty slot", HDR "guest_keys = yes\n[slot 2]\n", 6,
	  "guest_keys = yes, but line 7 has [slot 2]" },
	{ "guest_keys = maybe", "[ice]\nalgorithm = aes-xts\nguest_keys = maybe\n", 3,
	  "guest_keys 'maybe': expected yes or no" },
	{ "guest_keys = Yes", HDR "guest_keys = Yes\n", 6, "guest_keys 'Yes': expected yes or no" },
	{ "guest_keys empty", HDR "guest_keys =\n", 6, "guest_keys '': expected yes or no" },
	{ "guest_keys twice", HDR "guest_keys = no\nguest_keys = no\n", 7,
	  "'guest_keys' is given twice in [ice]" },
	{ "guest_keys in a slot", HDR SLOT0 "guest_keys = no\n", 9,
	  "unknown key 'guest_keys' in a [slot N] section" },
	{ "key pasted as guest_keys", HDR "guest_keys = " KEY_A KEY_B "\n", 6,
	  "guest_keys '(long value not shown)': expected yes or no" },
};

START_TEST(keys_file_errors)
{
	const struct keys_error *e = &keys_errors[_i];

	kcase = e->what;
	ck_assert_msg(load_text(e->text, false) == -1, "%s: the keys file was accepted", e->what);
	expect_error_at(kpath, e->line, e->reason, e->text);
}
END_TEST

static const struct keys_error *keys_error_named(const char *what)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(keys_errors); i++)
		if (!strcmp(keys_errors[i].what, what))
			return &keys_errors[i];
	ck_abort_msg("test bug: no case '%s'", what);
	return NULL;
}

/* Length of the line of text that starts with start, without its line end. */
static size_t line_len(const char *text, const char *start)
{
	const char *l = strstr(text, start);

	ck_assert_ptr_nonnull(l);
	return strcspn(l, "\r\n");
}

START_TEST(keys_file_line_lengths_in_table)
{
	/* the long lines of the table are as long as their names say */
	const char *t = keys_error_named("a line of 199 characters")->text;

	ck_assert_uint_eq(line_len(t, "; "), 199);
	t = keys_error_named("a key line of 199 characters")->text;
	ck_assert_uint_eq(line_len(t, "key = "), 199);
	t = keys_error_named("CRLF and a 198-character line")->text;
	ck_assert_uint_eq(line_len(t, "; "), 198);
}
END_TEST

/* The example of docs/ICE.md, verbatim: comments, inline comments, a key_file. */
static const char doc_example[] =
	"; demo keys -- never use these for anything real\n"
	"[ice]\n"
	"algorithm = aes-xts            ; aes-xts | bitlocker-aes-cbc | aes-ecb | essiv-aes-cbc\n"
	"key_bits = 256                 ; size of each AES key: 128 | 192 | 256\n"
	"data_unit_sizes = 512, 4096    ; bytes, powers of two from 512 to 65536 -> the mask\n"
	"max_slots = 32                 ; 1..255 (default 32)\n"
	"slot_offset = 0                ; 0..255 (default 0)\n"
	"\n"
	"[slot 3]\n"
	"key = " HEX_00_3F "\n"
	"data_unit_size = 4096          ; may be left out when data_unit_sizes lists one size\n"
	"\n"
	"[slot 4]\n"
	"key_file = keys/slot4.bin      ; raw key bytes instead; relative to this file\n"
	"data_unit_size = 512\n";

/* The README's shorter version */
#define README_KEY_COMMENT "        ; 64 bytes for AES-256-XTS: data key then tweak key"
static const char readme_example[] = "[ice]\n"
				     "algorithm = aes-xts\n"
				     "key_bits = 256\n"
				     "data_unit_sizes = 512, 4096\n"
				     "max_slots = 32\n"
				     "[slot 3]\n"
				     "key = " HEX_00_3F README_KEY_COMMENT "\n"
				     "data_unit_size = 4096\n";

/* The store loaded from a file encrypts exactly like the oracle with key (hex). */
static void slot_matches(unsigned int slot, enum ice_alg alg, const char *hex, uint32_t du)
{
	static uint8_t buf[2 * 65536], want[2 * 65536];
	uint8_t key[64];
	size_t klen = unhex(hex, key);

	ck_assert_uint_eq(ice_check(&st, slot, 41, 2 * du), du);
	ck_assert_uint_eq(ice_check(&st, slot, 41, du / 2 * 3), 0);
	fill(buf, 2 * du, slot);
	memcpy(want, buf, 2 * du);
	crypt_ok(&st, slot, 41, buf, 2 * du, true);
	oracle_unit(alg, key, klen, du, 41, want);
	oracle_unit(alg, key, klen, du, 42, want + du);
	ck_assert_mem_eq(buf, want, 2 * du);
}

START_TEST(keys_file_doc_example)
{
	char sub[160];
	uint8_t raw[64];
	unsigned int i;

	snprintf(sub, sizeof(sub), "%s/keys", kdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	unhex(KEY_A KEY_B KEY_B KEY_A, raw);
	kfile("keys/slot4.bin", raw, sizeof(raw), 0600);
	ck_assert_msg(load_text(doc_example, false) == 0, "refused: %s", kerr);
	ck_assert_str_eq(kerr, "");
	ck_assert_uint_eq(ice_slot_info(&st), 32 << 8);
	ck_assert_uint_eq(ice_capability(&st), 0x00090300);
	slot_matches(3, ICE_ALG_AES_XTS, HEX_00_3F, 4096);
	slot_matches(4, ICE_ALG_AES_XTS, KEY_A KEY_B KEY_B KEY_A, 512);
	for (i = 0; i < 32; i++)
		ck_assert_uint_eq(ice_check(&st, i, 0, 4096), i == 3 ? 4096 : i == 4 ? 512 : 0);
}
END_TEST

START_TEST(keys_file_readme_example)
{
	unsigned int i;

	ck_assert_msg(load_text(readme_example, false) == 0, "refused: %s", kerr);
	ck_assert_str_eq(kerr, "");
	ck_assert_uint_eq(ice_slot_info(&st), 32 << 8);
	ck_assert_uint_eq(ice_capability(&st), 0x00090300);
	slot_matches(3, ICE_ALG_AES_XTS, HEX_00_3F, 4096);
	for (i = 0; i < 32; i++)
		ck_assert_uint_eq(ice_check(&st, i, 0, 4096), i == 3 ? 4096 : 0);
}
END_TEST

START_TEST(keys_file_every_algorithm)
{
	static const struct {
		const char *text;
		uint16_t slot_info;
		uint32_t cap;
		enum ice_alg alg;
		const char *key;
		uint32_t du;
	} ok[] = {
		{ "[ice]\nalgorithm = bitlocker-aes-cbc\nkey_bits = 256\ndata_unit_sizes = 4096\n"
		  "slot_offset = 17\nmax_slots = 2\n[slot 1]\nkey = " HEX_20_3F "\n",
		  0x0211, 0x01080300, ICE_ALG_BITLOCKER_AES_CBC, HEX_20_3F, 4096 },
		{ "[ice]\nalgorithm = aes-ecb\nkey_bits = 192\ndata_unit_sizes = 65536\n"
		  "[slot 0]\nkey = " HEX_00_0F "0001020304050607\n",
		  0x2000, 0x02800200, ICE_ALG_AES_ECB, HEX_00_0F "0001020304050607", 65536 },
		{ "[ice]\nalgorithm = essiv-aes-cbc\nkey_bits = 128\ndata_unit_sizes = 1024, 512\n"
		  "max_slots = 255\n[slot 254]\ndata_unit_size = 1024\nkey = "
		  "8F3AC1D2E4B5A6978877665544332211\n",
		  0xff00, 0x03030100, ICE_ALG_ESSIV_AES_CBC, KEY_A, 1024 },
		{ "  [ice]  \n\talgorithm=aes-xts\nkey_bits   =   128\n# comment\n; comment\n"
		  "data_unit_sizes = 512,4096\n\n[slot 7]\nkey = " KEY_B KEY_A "\n"
		  "data_unit_size=512\n",
		  0x2000, 0x00090100, ICE_ALG_AES_XTS, KEY_B KEY_A, 512 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		const char *p = strstr(ok[i].text, "[slot ");

		ck_assert_msg(load_text(ok[i].text, false) == 0, "case %u refused: %s", i, kerr);
		ck_assert_str_eq(kerr, "");
		ck_assert_uint_eq(ice_slot_info(&st), ok[i].slot_info);
		ck_assert_uint_eq(ice_capability(&st), ok[i].cap);
		slot_matches((unsigned int)strtoul(p + 6, NULL, 10), ok[i].alg, ok[i].key,
			     ok[i].du);
		ice_store_free(&st);
	}
}
END_TEST

START_TEST(keys_file_du_omitted_with_one_size)
{
	ck_assert_msg(load_text("[ice]\nalgorithm = aes-xts\nkey_bits = 128\ndata_unit_sizes = "
				"4096\n"
				"[slot 2]\nkey = " KEY_A KEY_B "\n",
				false) == 0,
		      "refused: %s", kerr);
	slot_matches(2, ICE_ALG_AES_XTS, KEY_A KEY_B, 4096);
}
END_TEST

START_TEST(keys_file_198_character_line_is_one_line)
{
	/* a key line of exactly 198 characters: splitting it would lose the key */
	static const char text[] = HDR "[slot 0]\nkey = " KEY_A KEY_B SP50 SP50 SP10 SP10
				       "   ; 198\ndata_unit_size = 512\n";

	ck_assert_uint_eq(line_len(text, "key = "), 198);
	ck_assert_msg(load_text(text, false) == 0, "refused: %s", kerr);
	slot_matches(0, ICE_ALG_AES_XTS, KEY_A KEY_B, 512);
}
END_TEST

START_TEST(keys_file_key_file_relative)
{
	uint8_t raw[32];

	unhex(KEY_B KEY_A, raw);
	kfile("slot1.key", raw, sizeof(raw), 0600);
	ck_assert_msg(load_text(HDR "[slot 1]\nkey_file = slot1.key   ; raw bytes\n"
				    "data_unit_size = 512\n",
				false) == 0,
		      "refused: %s", kerr);
	slot_matches(1, ICE_ALG_AES_XTS, KEY_B KEY_A, 512);
	ice_store_free(&st);
	/* an absolute path works as well */
	{
		char text[512];

		snprintf(text, sizeof(text),
			 HDR "[slot 4]\nkey_file = %s/slot1.key\ndata_unit_size = 4096\n", kdir);
		ck_assert_msg(load_text(text, false) == 0, "refused: %s", kerr);
		slot_matches(4, ICE_ALG_AES_XTS, KEY_B KEY_A, 4096);
	}
}
END_TEST

START_TEST(keys_file_key_file_errors)
{
	static const char text[] = HDR "[slot 1]\nkey_file = slot1.key\ndata_unit_size = 512\n";
	char want[256];
	uint8_t raw[33];

	/* missing */
	ck_assert_int_eq(load_text(text, false), -1);
	/* The value is not echoed (it might be a key pasted in the wrong place). */
	snprintf(want, sizeof(want), "key_file: No such file or directory");
	expect_error_at(kpath, 7, want, text);
	/* equal halves, read from a file */
	memset(raw, 0x5c, sizeof(raw));
	kfile("slot1.key", raw, 32, 0600);
	ck_assert_int_eq(load_text(text, false), -1);
	expect_error_at(kpath, 6, "the two XTS key halves are equal", text);
	/* 33 bytes (a key with a newline after it) */
	unhex(KEY_A KEY_B, raw);
	raw[32] = '\n';
	kfile("slot1.key", raw, 33, 0600);
	ck_assert_int_eq(load_text(text, false), -1);
	expect_error_at(kpath, 7, "wrong key length: the key is 33 bytes", text);
	/* readable by others: refused unless allowed */
	kfile("slot1.key", raw, 32, 0644);
	ck_assert_int_eq(load_text(text, false), -1);
	snprintf(want, sizeof(want), "key_file: readable by group or others");
	expect_error_at(kpath, 7, want, text);
	ck_assert_msg(load_text(text, true) == 0, "refused: %s", kerr);
	slot_matches(1, ICE_ALG_AES_XTS, KEY_A KEY_B, 512);
	ice_store_free(&st);
	kfile("slot1.key", raw, 32, 0640);
	ck_assert_int_eq(load_text(text, false), -1);
	expect_error_at(kpath, 7, "readable by group or others", text);
	/* a directory */
	ck_assert_int_eq(load_text(HDR "[slot 1]\nkey_file = .\ndata_unit_size = 512\n", false),
			 -1);
	expect_error_at(kpath, 7, "not a regular file", NULL);
}
END_TEST

START_TEST(keys_file_permissions)
{
	char want[256];

	write_file(kpath, readme_example, strlen(readme_example), 0644);
	ck_assert_int_eq(load_path(kpath, false), -1);
	snprintf(want, sizeof(want), "icevmm: keys file %s: readable by group or others", kpath);
	ck_assert_msg(!strncmp(kerr, want, strlen(want)), "got '%s'", kerr);
	no_key_material(readme_example);
	ck_assert_msg(load_path(kpath, true) == 0, "refused with allow_insecure: %s", kerr);
	slot_matches(3, ICE_ALG_AES_XTS, HEX_00_3F, 4096);
	ice_store_free(&st);
	write_file(kpath, readme_example, strlen(readme_example), 0604);
	ck_assert_int_eq(load_path(kpath, false), -1);
	ck_assert_msg(strstr(kerr, "readable by group or others"), "got '%s'", kerr);
	/* missing file */
	snprintf(want, sizeof(want), "%s/none.conf", kdir);
	ck_assert_int_eq(load_path(want, false), -1);
	ck_assert_msg(strstr(kerr, "none.conf: No such file or directory"), "got '%s'", kerr);
}
END_TEST

START_TEST(keys_file_comment_only_names_a_real_line)
{
	/* a file without [ice] and without slots: the error still names a line of it */
	ck_assert_int_eq(load_text("; nothing here\n; really\n", false), -1);
	ck_assert_msg(strstr(kerr, "no [ice] section"), "got '%s'", kerr);
	ck_assert_msg(!strstr(kerr, ":0: "), "the error names line 0: '%s'", kerr);
}
END_TEST

START_TEST(keys_file_utf8_bom)
{
	/* libinih skips a UTF-8 byte order mark; so must the line pre-scan */
	ck_assert_msg(load_text("\xef\xbb\xbf"
				"[ice]\nalgorithm = aes-xts\nkey_bits = 128\n"
				"data_unit_sizes = 512\n[slot 0]\nkey = " KEY_A KEY_B "\n",
				false) == 0,
		      "a keys file with a BOM was refused: %s", kerr);
	slot_matches(0, ICE_ALG_AES_XTS, KEY_A KEY_B, 512);
}
END_TEST

/* Text with every "\n" made "\r\n" (static buffer). */
static const char *crlf(const char *text)
{
	static char buf[4096];
	size_t n = 0;

	for (; *text; text++) {
		ck_assert_uint_lt(n + 2, sizeof(buf));
		if (*text == '\n')
			buf[n++] = '\r';
		buf[n++] = *text;
	}
	buf[n] = 0;
	return buf;
}

START_TEST(keys_file_crlf_loads)
{
	/* no CR may stay at the end of a value: the key would be refused, or worse */
	ck_assert_msg(load_text(crlf(readme_example), false) == 0, "refused: %s", kerr);
	ck_assert_str_eq(kerr, "");
	slot_matches(3, ICE_ALG_AES_XTS, HEX_00_3F, 4096);
	ice_store_free(&st);
	ck_assert_msg(load_text(crlf(HDR SLOT0), false) == 0, "refused: %s", kerr);
	slot_matches(0, ICE_ALG_AES_XTS, KEY_A KEY_B, 4096);
}
END_TEST

START_TEST(keys_file_very_long_line)
{
	/* one error at the long line's own number; nothing after it is misnumbered */
	static char text[8192];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "[ice]\n\n; c\n; ");
	memset(text + n, 'x', 5000);
	snprintf(text + n + 5000, sizeof(text) - n - 5000, "\nbogus = 1\n");
	ck_assert_int_eq(load_text(text, false), -1);
	kcase = "5002-character line";
	expect_error_at(kpath, 4, "longer than the parser's limit of 198 characters", NULL);
	/* the same as a key: not split into lines, not echoed */
	n = (size_t)snprintf(text, sizeof(text), HDR "[slot 0]\nkey = ");
	for (size_t i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", KEY_A KEY_B);
	snprintf(text + n, sizeof(text) - n, "\ndata_unit_size = 512\n");
	ck_assert_int_eq(load_text(text, false), -1);
	kcase = "a long key line";
	expect_error_at(kpath, 7, "longer than the parser's limit of 198 characters", text);
}
END_TEST

/* The opens of path while fn(path) runs, seen by inotify (no wrapping of open needed). */
static unsigned int opens_during(int (*fn)(const char *), const char *path, int *rc)
{
	union {
		struct inotify_event ev;
		char buf[4096];
	} u;
	unsigned int opens = 0;
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ssize_t len;

	ck_assert_int_ge(in, 0);
	/* with the closes too: inotify merges an event into an identical one before it */
	ck_assert_int_ge(inotify_add_watch(in, path, IN_OPEN | IN_CLOSE), 0);
	*rc = fn(path);
	while ((len = read(in, u.buf, sizeof(u.buf))) > 0)
		for (char *p = u.buf; p < u.buf + len;
		     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len)
			opens += !!(((struct inotify_event *)p)->mask & IN_OPEN);
	close(in);
	return opens;
}

/* What vmm/main.c does with a keys file: count its slots, size the pool, load it. */
static int load_like_main(const char *path)
{
	struct ice_keys *k;
	int rc = -1;

	capture_begin();
	k = ice_keys_read(path, false);
	if (k && !ice_global_init(ice_secmem_size(ice_keys_nslots(k))))
		rc = ice_store_load_keys(&st, k);
	ice_keys_free(k);
	capture_end(kerr, sizeof(kerr));
	return rc;
}

START_TEST(keys_file_read_once)
{
	int rc;

	write_file(kpath, readme_example, strlen(readme_example), 0600);
	ck_assert_uint_eq(opens_during(load_like_main, kpath, &rc), 1);
	ck_assert_msg(rc == 0, "refused: %s", kerr);
	slot_matches(3, ICE_ALG_AES_XTS, HEX_00_3F, 4096);
}
END_TEST

START_TEST(keys_file_loads_what_was_read)
{
	struct ice_keys *k;
	int rc;

	write_file(kpath, readme_example, strlen(readme_example), 0600);
	capture_begin();
	k = ice_keys_read(kpath, false);
	capture_end(kerr, sizeof(kerr));
	ck_assert_msg(k != NULL, "refused: %s", kerr);
	ck_assert_uint_eq(ice_keys_nslots(k), 1);
	/* the file changes after it was counted: the load uses what was counted */
	write_file(kpath, HDR SLOT0 "[slot 1]\n[slot 2]\n", strlen(HDR SLOT0) + 18, 0600);
	capture_begin();
	rc = ice_store_load_keys(&st, k);
	capture_end(kerr, sizeof(kerr));
	ice_keys_free(k);
	ck_assert_msg(rc == 0, "refused: %s", kerr);
	ck_assert_uint_eq(ice_slot_info(&st), 32 << 8);
	slot_matches(3, ICE_ALG_AES_XTS, HEX_00_3F, 4096);
	ck_assert_uint_eq(ice_check(&st, 0, 0, 4096), 0);
	/* and the count counts every [slot N], an empty one too */
	capture_begin();
	k = ice_keys_read(kpath, false);
	capture_end(kerr, sizeof(kerr));
	ck_assert_msg(k != NULL, "refused: %s", kerr);
	ck_assert_uint_eq(ice_keys_nslots(k), 3);
	ice_keys_free(k);
}
END_TEST

START_TEST(keys_file_failed_load_leaves_no_slot)
{
	/* slot 0 is fine, slot 1 is not: nothing may stay loaded */
	ck_assert_int_eq(load_text(HDR SLOT0 "[slot 1]\nkey = " KEY_A KEY_B "\n", false), -1);
	expect_error_at(kpath, 9, "[slot 1] needs data_unit_size", NULL);
	ck_assert_uint_eq(ice_check(&st, 0, 0, 4096), 0);
}
END_TEST

/* --- the two kinds of ICE disk --- */

/* An engine for the guest: 512 to 4096, 8 slots at offset 2, no [slot N] */
#define GUEST_ICE                                                                                  \
	"[ice]\n"                                                                                  \
	"algorithm = aes-xts\n"                                                                    \
	"key_bits = 256\n"                                                                         \
	"data_unit_sizes = 512, 1024, 2048, 4096\n"                                                \
	"max_slots = 8\n"                                                                          \
	"slot_offset = 2\n"

static void every_slot_empty(unsigned int max_slots)
{
	for (unsigned int i = 0; i < ICE_MAX_SLOTS; i++) {
		ck_assert_msg(ice_slot_du(&st, i) == 0, "slot %u is not empty", i);
		ck_assert_uint_eq(ice_check(&st, i, 0, 4096), 0);
	}
	ck_assert_uint_eq(st.max_slots, max_slots);
}

/* Program slot with key (hex) and data unit du as the key queue does, then use it. */
static void guest_programs(unsigned int slot, const char *hex, uint32_t du)
{
	uint8_t key[64];
	size_t klen = unhex(hex, key);

	ck_assert_int_eq(ice_slot_program(&st, slot, key, klen, du), 0);
	slot_matches(slot, st.alg, hex, du);
}

START_TEST(keys_file_without_slots_is_guest_programmed)
{
	ck_assert_msg(load_text(GUEST_ICE, false) == 0, "refused: %s", kerr);
	ck_assert_str_eq(kerr, ""); /* the normal case: nothing to say */
	ck_assert(st.guest_keys);
	ck_assert_uint_eq(ice_slot_info(&st), 0x0802);
	ck_assert_uint_eq(ice_capability(&st), 0x000f0300);
	every_slot_empty(8);
	guest_programs(7, HEX_00_3F, 2048);
	ck_assert_int_eq(ice_slot_program(&st, 8, (const uint8_t *)HEX_00_3F, 64, 4096), -EINVAL);
	ice_store_free(&st);

	/* said explicitly: the same */
	ck_assert_msg(load_text(GUEST_ICE "guest_keys = yes\n", false) == 0, "refused: %s", kerr);
	ck_assert_str_eq(kerr, "");
	ck_assert(st.guest_keys);
	every_slot_empty(8);
	ice_store_free(&st);

	/* another engine, e.g. ESSIV for Linux's AES-128-CBC-ESSIV; max_slots by default 32 */
	ck_assert_msg(load_text("[ice]\nalgorithm = essiv-aes-cbc\nkey_bits = 128\n"
				"data_unit_sizes = 4096\n",
				false) == 0,
		      "refused: %s", kerr);
	ck_assert_str_eq(kerr, "");
	ck_assert(st.guest_keys);
	ck_assert_uint_eq(ice_slot_info(&st), 0x2000);
	ck_assert_uint_eq(ice_capability(&st), 0x03080100);
	every_slot_empty(32);
	guest_programs(31, KEY_A, 4096);
}
END_TEST

/* [ice] wrapping_key and wrapping_key_file: 32 bytes into the store's secure memory. */
START_TEST(keys_file_wrapping_key)
{
	uint8_t raw[33], want[32];
	char text[512];

	unhex(HEX_00_1F, want);
	ck_assert_msg(load_text(GUEST_ICE "wrapping_key = " HEX_00_1F "\n", false) == 0,
		      "refused: %s", kerr);
	ck_assert_str_eq(kerr, "");
	ck_assert_ptr_nonnull(st.wrapping_key);
	ck_assert_mem_eq(st.wrapping_key, want, 32);
	ice_store_free(&st);
	ck_assert_ptr_null(st.wrapping_key);
	/* None given: none in the store (the device makes one per run) */
	ck_assert_int_eq(load_text(GUEST_ICE, false), 0);
	ck_assert_ptr_null(st.wrapping_key);
	ice_store_free(&st);
	/* From a file, relative to the keys file */
	kfile("wrap.key", want, 32, 0600);
	ck_assert_msg(load_text(GUEST_ICE "wrapping_key_file = wrap.key\n", false) == 0,
		      "refused: %s", kerr);
	ck_assert_mem_eq(st.wrapping_key, want, 32);
	ice_store_free(&st);

	kcase = "wrapping key errors";
	/* line 7 in each: GUEST_ICE is lines 1-6 */
	ck_assert_int_eq(load_text(GUEST_ICE "wrapping_key = " HEX_00_0F "\n", false), -1);
	expect_error_at(kpath, 7,
			"wrapping_key: the key is 16 bytes; a wrapping key (AES-256) is 32",
			GUEST_ICE "wrapping_key = " HEX_00_0F "\n");
	ck_assert_int_eq(load_text(GUEST_ICE "wrapping_key = " HEX_00_1F "0\n", false), -1);
	expect_error_at(kpath, 7, "wrapping_key: expected an even number of hex digits", NULL);
	ck_assert_int_eq(load_text(GUEST_ICE "wrapping_key = xy" HEX_00_1F "\n", false), -1);
	expect_error_at(kpath, 7, "wrapping_key: not a hex string", NULL);
	memcpy(raw, want, 32);
	raw[32] = '\n';
	kfile("wrap.key", raw, 33, 0600);
	ck_assert_int_eq(load_text(GUEST_ICE "wrapping_key_file = wrap.key\n", false), -1);
	expect_error_at(kpath, 7, "wrapping_key_file: the key is 33 bytes", NULL);
	kfile("wrap.key", want, 32, 0644);
	ck_assert_int_eq(load_text(GUEST_ICE "wrapping_key_file = wrap.key\n", false), -1);
	expect_error_at(kpath, 7, "wrapping_key_file: readable by group or others", NULL);
	ck_assert_int_eq(load_text(GUEST_ICE "wrapping_key_file = none.key\n", false), -1);
	expect_error_at(kpath, 7, "wrapping_key_file: No such file or directory", NULL);
	snprintf(text, sizeof(text), GUEST_ICE "wrapping_key = %s\nwrapping_key_file = w\n",
		 HEX_00_1F);
	ck_assert_int_eq(load_text(text, false), -1);
	expect_error_at(kpath, 8, "[ice] takes wrapping_key or wrapping_key_file, not both", text);
	snprintf(text, sizeof(text), GUEST_ICE "wrapping_key = %s\nwrapping_key = %s\n", HEX_00_1F,
		 HEX_00_1F);
	ck_assert_int_eq(load_text(text, false), -1);
	expect_error_at(kpath, 8, "'wrapping_key' is given twice in [ice]", NULL);
	/* Host-provisioned slots: no guest programs wrapped keys there */
	ck_assert_int_eq(load_text(HDR "wrapping_key = " HEX_00_1F "\n" SLOT0, false), -1);
	expect_error_at(kpath, 6, "a wrapping key is for a disk whose guest programs its keys",
			NULL);
	ck_assert_int_eq(
		load_text(GUEST_ICE "guest_keys = no\nwrapping_key = " HEX_00_1F "\n", false), -1);
	expect_error_at(kpath, 8, "a wrapping key is for a disk whose guest programs its keys",
			NULL);
}
END_TEST

START_TEST(keys_file_guest_keys_no)
{
	char want[256];

	/* no slots and no key queue: ICE with every slot empty, for good; said once */
	ck_assert_msg(load_text(GUEST_ICE "guest_keys = no\n", false) == 0, "refused: %s", kerr);
	snprintf(want, sizeof(want),
		 "icevmm: keys file %s: guest_keys = no and no [slot N] sections: every slot "
		 "stays empty\n",
		 kpath);
	ck_assert_str_eq(kerr, want);
	ck_assert(!st.guest_keys);
	ck_assert_uint_eq(ice_slot_info(&st), 0x0802);
	ck_assert_uint_eq(ice_capability(&st), 0x000f0300);
	every_slot_empty(8);
	ice_store_free(&st);

	/* with slots it says what the slots say already: host-provisioned */
	ck_assert_msg(load_text(HDR "guest_keys = no\n" SLOT0, false) == 0, "refused: %s", kerr);
	ck_assert_str_eq(kerr, "");
	ck_assert(!st.guest_keys);
	slot_matches(0, ICE_ALG_AES_XTS, KEY_A KEY_B, 4096);
	ice_store_free(&st);

	/* and slots without a guest_keys line: host-provisioned, as ever */
	ck_assert_msg(load_text(HDR SLOT0, false) == 0, "refused: %s", kerr);
	ck_assert_str_eq(kerr, "");
	ck_assert(!st.guest_keys);
	slot_matches(0, ICE_ALG_AES_XTS, KEY_A KEY_B, 4096);
}
END_TEST

START_TEST(keys_file_guest_keys_with_slots_exact_message)
{
	/* the whole line, byte for byte: it names the guest_keys line and the slot's */
	static const char text[] = HDR "guest_keys = yes\n\n; the disk's keys\n" SLOT0;
	char want[512];

	ck_assert_int_eq(load_text(text, false), -1);
	snprintf(want, sizeof(want),
		 "icevmm: %s:6: guest_keys = yes, but line 9 has [slot 0]: a disk's keys come "
		 "from the keys file or from the guest, never both\n",
		 kpath);
	ck_assert_str_eq(kerr, want);
	no_key_material(text);
	/* refused when the file is read, before any key is decoded */
	capture_begin();
	ck_assert_ptr_null(ice_keys_read(kpath, false));
	capture_end(kerr, sizeof(kerr));
	ck_assert_str_eq(kerr, want);
}
END_TEST

START_TEST(default_engine)
{
	ck_assert_int_eq(ice_store_init_default(&st), 0);
	ck_assert(st.guest_keys);
	/* AES-256-XTS (algorithm 0, key size id 3), data units 512-4096, 32 slots at 0 */
	ck_assert_uint_eq(ice_capability(&st), 0x000f0300);
	ck_assert_uint_eq(ice_slot_info(&st), 0x2000);
	ck_assert_uint_eq(ice_key_len(&st), 64);
	every_slot_empty(32);
	guest_programs(0, HEX_00_3F, 512);
	guest_programs(31, KEY_A KEY_B KEY_B KEY_A, 4096);
	ck_assert_int_eq(ice_slot_program(&st, 1, (const uint8_t *)HEX_00_3F, 64, 8192), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 32, (const uint8_t *)HEX_00_3F, 64, 512), -EINVAL);
	ck_assert_int_eq(ice_slot_program(&st, 1, (const uint8_t *)HEX_00_3F, 32, 512), -EINVAL);
}
END_TEST

/* ice_keys_pool_keys() of a keys file text */
static unsigned int pool_keys_of(const char *text)
{
	struct ice_keys *k;
	unsigned int n;

	write_file(kpath, text, strlen(text), 0600);
	capture_begin();
	k = ice_keys_read(kpath, false);
	capture_end(kerr, sizeof(kerr));
	ck_assert_msg(k != NULL, "refused: %s", kerr);
	n = ice_keys_pool_keys(k, 1);
	ice_keys_free(k);
	return n;
}

START_TEST(secure_pool_size_for_a_config)
{
	/*
	 * docs/ICE.md "Two kinds of ICE disk": a host-provisioned disk needs its
	 * slots; a guest-programmed one every slot, one key being built and one
	 * replaced key still pinned by the request in flight (max_slots + 2);
	 * the pool is 32 KiB + 4 KiB per key.
	 */
	unsigned int def = ice_keys_pool_keys(NULL, 1);
	unsigned int host = pool_keys_of(HDR SLOT0 "[slot 3]\nkey = " KEY_B KEY_A "\n"
						   "data_unit_size = 512\n");
	unsigned int guest = pool_keys_of(GUEST_ICE);
	unsigned int essiv = pool_keys_of("[ice]\nalgorithm = essiv-aes-cbc\nkey_bits = 128\n"
					  "data_unit_sizes = 4096\nmax_slots = 255\n");
	unsigned int off = pool_keys_of(GUEST_ICE "guest_keys = no\n");

	ck_assert_uint_eq(def, 34);
	ck_assert_uint_eq(host, 2);
	ck_assert_uint_eq(guest, 10);
	ck_assert_uint_eq(essiv, 257);
	ck_assert_uint_eq(off, 0);
	ck_assert_uint_eq(ice_secmem_keys(ICE_DEFAULT_MAX_SLOTS, 1), 34);
	/* a device that served 4 requests at once: 3 more replaced keys may be pinned */
	ck_assert_uint_eq(ice_keys_pool_keys(NULL, 4), 37);
	/* --disk a,ice --disk b,ice=host --disk c,ice=guest --disk d,ice=off: 46 keys */
	ck_assert_uint_eq(ice_secmem_size(def + host + guest + off), 32768 + 46 * 4096);
	/* eight default disks, the most a VM has: 1120 KiB */
	ck_assert_uint_eq(ice_secmem_size(8 * def), 1120 * 1024);
}
END_TEST

/* --- ICE through the virtio-blk request path --- */

#define IMG_SECTORS 2048 /* 1 MiB */
#define IMG_BYTES (IMG_SECTORS * VIRTIO_BLK_SECTOR)
#define QSIZE 256
#define GUARD 16
#define GUARD_BYTE 0xee
#define POISON 0xa5
#define MAX_DESCS 64
#define MAX_STREAM (256 * 1024 + 64)
#define NSLOTS 8
#define SLOT_OFFSET 3

static struct test_guest g;
static struct blk_dev dev;
static struct virtio_mmio transport;
static char img[128];
static uint8_t expect[IMG_BYTES];
static uint8_t in_data[MAX_STREAM];
static uint8_t key0[64], key1[64], key5[64];

/* st: AES-256-XTS, 512 and 4096, 8 slots at offset 3; slot 0: 512, slots 1 and 5: 4096. */
static void make_store(void)
{
	fill(key0, 64, 21);
	fill(key1, 64, 22);
	fill(key5, 64, 23);
	ck_assert_int_eq(
		ice_store_init(&st, ICE_ALG_AES_XTS, ICE_KEY_256, 0x09, NSLOTS, SLOT_OFFSET), 0);
	load(&st, 0, key0, 64, 512);
	load(&st, 1, key1, 64, 4096);
	load(&st, 5, key5, 64, 4096);
}

static uint64_t offered(void)
{
	uint64_t f;

	tg_write32(&transport, 0x014, 1);
	f = (uint64_t)tg_read32(&transport, 0x010) << 32;
	tg_write32(&transport, 0x014, 0);
	return f | tg_read32(&transport, 0x010);
}

static void open_disk(struct ice_store *s, uint64_t features)
{
	struct blk_opts o = { .path = img, .serial = "ice-disk", .ice = s };

	ck_assert_int_eq(tg_blk_open(&g, &dev, &transport, &o), 0);
	ck_assert_uint_eq(tg_driver_init(&g, &transport, features, QSIZE), 0xf);
}

static void reopen(struct ice_store *s, uint64_t features)
{
	blk_close(&dev);
	open_disk(s, features);
}

static void blk_setup(void)
{
	engine_setup();
	dev.disk.fd = -1;
	tg_init(&g);
	fill(expect, IMG_BYTES, 99);
	tdir_empty();
	snprintf(img, sizeof(img), "%s/disk.img", kdir);
	write_file(img, expect, IMG_BYTES, 0600);
	make_store();
	open_disk(&st, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_ICE));
}

static void blk_teardown(void)
{
	blk_close(&dev);
	tg_fini(&g);
	engine_teardown();
}

static void check_image(void)
{
	long long d = tg_image_diff(img, expect, IMG_BYTES);

	ck_assert_msg(d == -1, "image differs from the expected bytes at offset %lld (sector %lld)",
		      d, d / VIRTIO_BLK_SECTOR);
}

static uint64_t cfg(uint32_t off, uint32_t len)
{
	uint64_t v = 0;

	virtio_mmio_read(&transport, VIRTIO_MMIO_CONFIG_OFFSET + off, &v, len);
	return v;
}

struct ireq {
	uint32_t type;
	uint64_t sector;
	uint8_t slot, activate;
	uint64_t dun;
	bool short_hdr;	 /* only the plain 16-byte header */
	const void *out; /* device-readable data after the header */
	uint32_t out_len;
	uint32_t in_len;	 /* device-writable data before the status */
	const uint32_t *rd, *wr; /* descriptor lengths, 0-terminated, or NULL */
	/* results */
	uint32_t used_len;
	uint8_t status;
};

static unsigned int carve(const uint32_t *split, uint32_t a, uint32_t b, uint32_t *lens)
{
	uint64_t sum = 0;
	unsigned int n = 0;

	if (!split) {
		if (a)
			lens[n++] = a;
		if (b)
			lens[n++] = b;
		return n;
	}
	for (; split[n]; n++) {
		ck_assert_uint_lt(n, MAX_DESCS);
		lens[n] = split[n];
		sum += split[n];
	}
	ck_assert_msg(sum == (uint64_t)a + b, "test bug: split sums to %llu, not %u",
		      (unsigned long long)sum, a + b);
	return n;
}

static uint64_t guarded(uint32_t len)
{
	uint64_t gpa = tg_alloc(&g, len + 2 * GUARD, 16);

	memset(tg_ptr(&g, gpa), GUARD_BYTE, len + 2 * GUARD);
	return gpa + GUARD;
}

/*
 * One request: guest memory outside the writable buffers and the used ring
 * must come back unchanged (so the data of a write is never modified).
 * Leaves the writable bytes in in_data[].
 */
static void do_req(struct ireq *r)
{
	static uint8_t rbytes[MAX_STREAM];
	static uint32_t rd_len[MAX_DESCS], wr_len[MAX_DESCS];
	static struct tg_buf bufs[2 * MAX_DESCS];
	uint32_t hdr_len = r->short_hdr ? 16 : 32, wlen = r->in_len + 1, off, id, len;
	uint16_t reserved1 = 0xbeef;
	uint32_t reserved2 = 0xdeadbeef;
	unsigned int nrd, nwr, i, n = 0;
	uint64_t diff;
	uint8_t *snap;
	uint16_t head;

	ck_assert(hdr_len + r->out_len <= MAX_STREAM && wlen <= MAX_STREAM);
	memset(rbytes, 0, 32);
	memcpy(rbytes, &r->type, 4);
	memcpy(rbytes + 8, &r->sector, 8);
	/* payload; the reserved fields are junk the device must ignore */
	rbytes[16] = r->slot;
	rbytes[17] = r->activate;
	memcpy(rbytes + 18, &reserved1, 2);
	memcpy(rbytes + 20, &reserved2, 4);
	memcpy(rbytes + 24, &r->dun, 8);
	if (r->out_len)
		memcpy(rbytes + hdr_len, r->out, r->out_len);
	nrd = carve(r->rd, hdr_len, r->out_len, rd_len);
	nwr = carve(r->wr, r->in_len, 1, wr_len);
	for (off = 0, i = 0; i < nrd; off += rd_len[i], i++, n++) {
		bufs[n] = (struct tg_buf){ .gpa = guarded(rd_len[i]), .len = rd_len[i] };
		memcpy(tg_ptr(&g, bufs[n].gpa), rbytes + off, rd_len[i]);
	}
	for (i = 0; i < nwr; i++, n++) {
		bufs[n] = (struct tg_buf){ .gpa = guarded(wr_len[i]),
					   .len = wr_len[i],
					   .writable = true };
		memset(tg_ptr(&g, bufs[n].gpa), POISON, wr_len[i]);
	}
	head = tg_add(&g, bufs, n);
	snap = tg_snapshot(&g);
	tg_kick(&transport);

	ck_assert_msg(tg_get_used(&g, &id, &r->used_len), "the request was not completed");
	ck_assert_uint_eq(id, head);
	ck_assert_msg(!tg_get_used(&g, &id, &len), "one request, two used elements");
	for (off = 0, i = nrd; i < n; i++) {
		memcpy(in_data + off, tg_ptr(&g, bufs[i].gpa), bufs[i].len);
		tg_snapshot_accept(&g, snap, bufs[i].gpa, bufs[i].len);
		off += bufs[i].len;
	}
	r->status = in_data[wlen - 1];
	tg_snapshot_accept_used(&g, snap);
	diff = tg_snapshot_diff(&g, snap);
	free(snap);
	ck_assert_msg(diff == 0, "device wrote guest memory outside the writable buffers at 0x%llx",
		      (unsigned long long)diff);
}

/* A rejected request: IOERR, used.len 1, no data written, image unchanged. */
static void ioerr(struct ireq r)
{
	uint32_t i;

	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(r.used_len, 1);
	for (i = 0; i < r.in_len; i++)
		ck_assert_msg(in_data[i] == POISON, "rejected request wrote data byte %u", i);
	check_image();
}

/* What the engine makes of len bytes at (slot, dun). */
static void engine(unsigned int slot, uint64_t dun, const uint8_t *in, uint8_t *out, size_t len,
		   bool encrypt)
{
	memcpy(out, in, len);
	crypt_ok(&st, slot, dun, out, len, encrypt);
}

/* An encrypting write: the image gets exactly the engine's ciphertext. */
static void write_enc(struct ireq r)
{
	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, 1);
	engine(r.slot, r.dun, r.out, expect + r.sector * 512, r.out_len, true);
	check_image();
}

/* A decrypting read: the guest gets the engine's plaintext of the image bytes. */
static void read_dec(struct ireq r)
{
	static uint8_t want[MAX_STREAM];

	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, r.in_len + 1);
	if (r.activate)
		engine(r.slot, r.dun, expect + r.sector * 512, want, r.in_len, false);
	else
		memcpy(want, expect + r.sector * 512, r.in_len);
	ck_assert_mem_eq(in_data, want, r.in_len);
	check_image();
}

START_TEST(blk_config_space)
{
	static const uint8_t bytes[8] = { SLOT_OFFSET, NSLOTS, 0, 0, 0x00, 0x03, 0x09, 0x00 };
	unsigned int i;

	ck_assert(offered() & BIT(VIRTIO_BLK_F_ICE));
	ck_assert(virtio_mmio_has_feature(&transport, VIRTIO_BLK_F_ICE));
	ck_assert_uint_eq(cfg(0x60, 2), NSLOTS << 8 | SLOT_OFFSET); /* slot_info */
	ck_assert_uint_eq(cfg(0x62, 2), 0);			    /* reserved */
	ck_assert_uint_eq(cfg(0x64, 4), 0x00090300);		    /* capability */
	for (i = 0; i < 8; i++)
		ck_assert_msg(cfg(0x60 + i, 1) == bytes[i], "config byte 0x%x: %#llx, want %#x",
			      0x60 + i, (unsigned long long)cfg(0x60 + i, 1), bytes[i]);
	ck_assert_uint_eq(cfg(0x60, 4), 0x00000803);
	ck_assert_uint_eq(cfg(0x60, 8), 0x0009030000000803ULL);
	ck_assert_uint_eq(cfg(0x66, 2), 0x0009);
	/* nothing after the crypto fields, also for a read that straddles the end */
	ck_assert_uint_eq(cfg(0x68, 4), 0);
	ck_assert_uint_eq(cfg(0x68, 1), 0);
	ck_assert_uint_eq(cfg(0x6c, 4), 0);
	ck_assert_uint_eq(cfg(0xfc, 4), 0);
	ck_assert_uint_eq(cfg(0x66, 4), 0x0009);
	ck_assert_uint_eq(cfg(0x64, 8), 0x00090300);
	/* the upstream fields are still there; blk_size is the largest data unit (mask 0x09) */
	ck_assert_uint_eq(cfg(0x00, 8), IMG_SECTORS);
	ck_assert_uint_eq(cfg(0x14, 4), 4096);
}
END_TEST

START_TEST(blk_config_space_other_capability)
{
	uint8_t key[16];

	ice_store_free(&st);
	blk_close(&dev);
	fill(key, sizeof(key), 31);
	ck_assert_int_eq(ice_store_init(&st2, ICE_ALG_ESSIV_AES_CBC, ICE_KEY_128, 0x81, 255, 0), 0);
	load(&st2, 254, key, 16, 65536);
	open_disk(&st2, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_ICE));
	ck_assert_uint_eq(cfg(0x60, 2), 0xff00);
	ck_assert_uint_eq(cfg(0x64, 4), 0x03810100);
	ck_assert_uint_eq(cfg(0x64, 1), 0x00);
	ck_assert_uint_eq(cfg(0x65, 1), 0x01);
	ck_assert_uint_eq(cfg(0x66, 1), 0x81);
	ck_assert_uint_eq(cfg(0x67, 1), 0x03);
	ck_assert_uint_eq(cfg(0x61, 1), 0xff);
	ck_assert_uint_eq(cfg(0x60, 1), 0x00);
	ck_assert_uint_eq(cfg(0x14, 4), 65536); /* mask 0x81: 512 and 65536 */
}
END_TEST

START_TEST(blk_plain_disk_has_no_crypto_config)
{
	unsigned int i;

	reopen(NULL, BIT(VIRTIO_F_VERSION_1));
	ck_assert(!(offered() & BIT(VIRTIO_BLK_F_ICE)));
	for (i = 0x60; i < 0x70; i++)
		ck_assert_msg(cfg(i, 1) == 0, "plain disk: config byte 0x%x is nonzero", i);
	ck_assert_uint_eq(cfg(0x60, 2), 0);
	ck_assert_uint_eq(cfg(0x64, 4), 0);
	ck_assert_uint_eq(cfg(0x5c, 8), 0);
	ck_assert_uint_eq(cfg(0x14, 4), 512);
	/* and a driver cannot negotiate the bit */
	ck_assert_uint_ne(tg_driver_init(&g, &transport,
					 BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_ICE), QSIZE),
			  0xf);
}
END_TEST

START_TEST(blk_write_stores_engine_ciphertext)
{
	static uint8_t data[3 * 4096], copy[3 * 4096];

	fill(data, sizeof(data), 41);
	memcpy(copy, data, sizeof(copy));
	/* slot 1: 4096-byte units; sector and DUN unrelated */
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 24,
				 .slot = 1,
				 .activate = 1,
				 .dun = 0xabcdef0123ULL,
				 .out = data,
				 .out_len = sizeof(data) });
	ck_assert_mem_eq(data, copy, sizeof(data));
	ck_assert_mem_ne(expect + 24 * 512, data, 4096);
	/* slot 0: 512-byte units, 3 sectors at an odd place */
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 1001,
				 .slot = 0,
				 .activate = 1,
				 .dun = 5,
				 .out = data,
				 .out_len = 3 * 512 });
	/* slot 5 has its own key */
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 200,
				 .slot = 5,
				 .activate = 1,
				 .dun = 0xabcdef0123ULL,
				 .out = data,
				 .out_len = 4096 });
	ck_assert_mem_ne(expect + 200 * 512, expect + 24 * 512, 4096);
	/* the last DUN may be 2^64 - 1 */
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 64,
				 .slot = 1,
				 .activate = 1,
				 .dun = UINT64_MAX - 1,
				 .out = data,
				 .out_len = 2 * 4096 });
	/* the engine is right too: the oracle says the same */
	{
		uint8_t want[4096];

		memcpy(want, data + 4096, sizeof(want));
		oracle_unit(ICE_ALG_AES_XTS, key1, 64, 4096, UINT64_MAX, want);
		ck_assert_mem_eq(expect + 64 * 512 + 4096, want, 4096);
	}
}
END_TEST

START_TEST(blk_read_decrypts_or_returns_raw)
{
	static uint8_t data[2 * 4096];

	fill(data, sizeof(data), 42);
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 16,
				 .slot = 1,
				 .activate = 1,
				 .dun = 77,
				 .out = data,
				 .out_len = sizeof(data) });
	/* activate=1: the plaintext */
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 16,
				.slot = 1,
				.activate = 1,
				.dun = 77,
				.in_len = sizeof(data) });
	ck_assert_mem_eq(in_data, data, sizeof(data));
	/* activate=0: the raw ciphertext, whatever slot and DUN say */
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 16,
				.slot = 200,
				.activate = 0,
				.dun = UINT64_MAX,
				.in_len = sizeof(data) });
	ck_assert_mem_ne(in_data, data, 4096);
	ck_assert_mem_eq(in_data, expect + 16 * 512, sizeof(data));
	/* the second unit alone, at its own DUN */
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 24,
				.slot = 1,
				.activate = 1,
				.dun = 78,
				.in_len = 4096 });
	ck_assert_mem_eq(in_data, data + 4096, 4096);
	/* decrypting plain sectors just gives the engine's decryption of them */
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 300,
				.slot = 0,
				.activate = 1,
				.dun = 3,
				.in_len = 1024 });
}
END_TEST

START_TEST(blk_plain_io_with_activate_0)
{
	static uint8_t data[1024];

	fill(data, sizeof(data), 43);
	/* stale slot and DUN are ignored */
	do_req(&(struct ireq){ .type = VIRTIO_BLK_T_OUT,
			       .sector = 10,
			       .slot = 250,
			       .activate = 0,
			       .dun = UINT64_MAX,
			       .out = data,
			       .out_len = sizeof(data) });
	memcpy(expect + 10 * 512, data, sizeof(data));
	check_image();
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN, .sector = 10, .slot = 2, .in_len = 1024 });
	ck_assert_mem_eq(in_data, data, sizeof(data));
}
END_TEST

START_TEST(blk_unit_split_across_descriptors)
{
	static uint8_t data[2 * 4096];
	/* the header in three pieces, the data at odd byte boundaries */
	static const uint32_t rd1[] = { 5, 11, 16, 1, 1000, 3095, 0 };
	static const uint32_t rd2[] = { 32 + 1, 1000, 3095 + 4096, 0 };
	static const uint32_t rd3[] = { 20, 12 + 7, 4089, 4096, 0 };
	static const uint32_t wr1[] = { 1, 1000, 3095, 1, 0 };
	static const uint32_t wr2[] = { 4095, 4096 + 1, 1, 0 };
	static const uint32_t wr3[] = { 4096, 4095, 1 + 1, 0 }; /* status shares a buffer */

	fill(data, sizeof(data), 44);
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 40,
				 .slot = 1,
				 .activate = 1,
				 .dun = 1234,
				 .out = data,
				 .out_len = 4096,
				 .rd = rd1 });
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 48,
				 .slot = 1,
				 .activate = 1,
				 .dun = 1235,
				 .out = data + 4096,
				 .out_len = 4096 });
	/* the same two units as one request, split differently: same bytes */
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 56,
				 .slot = 1,
				 .activate = 1,
				 .dun = 1234,
				 .out = data,
				 .out_len = sizeof(data),
				 .rd = rd2 });
	ck_assert_mem_eq(expect + 56 * 512, expect + 40 * 512, sizeof(data));
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 72,
				 .slot = 1,
				 .activate = 1,
				 .dun = 1234,
				 .out = data,
				 .out_len = sizeof(data),
				 .rd = rd3 });
	ck_assert_mem_eq(expect + 72 * 512, expect + 40 * 512, sizeof(data));
	/* and read back through odd splits */
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 40,
				.slot = 1,
				.activate = 1,
				.dun = 1234,
				.in_len = 4096,
				.wr = wr1 });
	ck_assert_mem_eq(in_data, data, 4096);
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 56,
				.slot = 1,
				.activate = 1,
				.dun = 1234,
				.in_len = sizeof(data),
				.wr = wr2 });
	ck_assert_mem_eq(in_data, data, sizeof(data));
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 56,
				.slot = 1,
				.activate = 1,
				.dun = 1234,
				.in_len = sizeof(data),
				.wr = wr3,
				.rd = (const uint32_t[]){ 7, 25, 0 } });
	ck_assert_mem_eq(in_data, data, sizeof(data));
}
END_TEST

START_TEST(blk_request_larger_than_bounce)
{
	static uint8_t data[256 * 1024];
	static const uint32_t wr[] = { 100000, 100000, 62144 + 1, 0 };

	ck_assert_uint_gt(sizeof(data), BLK_ICE_BOUNCE);
	fill(data, sizeof(data), 45);
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 512,
				 .slot = 1,
				 .activate = 1,
				 .dun = 1000,
				 .out = data,
				 .out_len = sizeof(data) });
	/* unit 40 (past the first bounce chunk) used DUN 1040 */
	{
		uint8_t want[4096];

		memcpy(want, data + 40 * 4096, 4096);
		oracle_unit(ICE_ALG_AES_XTS, key1, 64, 4096, 1040, want);
		ck_assert_mem_eq(expect + 512 * 512 + 40 * 4096, want, 4096);
	}
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 512,
				.slot = 1,
				.activate = 1,
				.dun = 1000,
				.in_len = sizeof(data),
				.wr = wr });
	ck_assert_mem_eq(in_data, data, sizeof(data));
	/* 512-byte units: 512 of them */
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 1024,
				 .slot = 0,
				 .activate = 1,
				 .dun = UINT64_MAX - 511,
				 .out = data,
				 .out_len = sizeof(data) });
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 1024,
				.slot = 0,
				.activate = 1,
				.dun = UINT64_MAX - 511,
				.in_len = sizeof(data) });
	ck_assert_mem_eq(in_data, data, sizeof(data));
}
END_TEST

START_TEST(blk_rejects_bad_activate)
{
	static uint8_t data[4096];
	static const uint8_t bad[] = { 2, 3, 0x80, 255 };
	unsigned int i;

	fill(data, sizeof(data), 46);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				     .sector = 8,
				     .slot = 1,
				     .activate = bad[i],
				     .out = data,
				     .out_len = 4096 });
		ioerr((struct ireq){ .type = VIRTIO_BLK_T_IN,
				     .sector = 8,
				     .slot = 1,
				     .activate = bad[i],
				     .in_len = 4096 });
		ioerr((struct ireq){ .type = VIRTIO_BLK_T_FLUSH, .activate = bad[i] });
	}
}
END_TEST

START_TEST(blk_rejects_bad_slot)
{
	static uint8_t data[4096];
	static const uint8_t bad[] = {
		NSLOTS, NSLOTS + 1, 254, 255, /* not loaded: */ 2, 3, 4, 6, 7
	};
	unsigned int i;

	fill(data, sizeof(data), 47);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				     .sector = 8,
				     .slot = bad[i],
				     .activate = 1,
				     .out = data,
				     .out_len = 4096 });
		ioerr((struct ireq){ .type = VIRTIO_BLK_T_IN,
				     .sector = 8,
				     .slot = bad[i],
				     .activate = 1,
				     .in_len = 4096 });
	}
	/* a slot evicted at run time */
	ice_slot_evict(&st, 5);
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .slot = 5,
			     .activate = 1,
			     .out = data,
			     .out_len = 4096 });
	ioerr((struct ireq){
		.type = VIRTIO_BLK_T_IN, .sector = 8, .slot = 5, .activate = 1, .in_len = 4096 });
}
END_TEST

START_TEST(blk_rejects_partial_units)
{
	static uint8_t data[3 * 4096];

	fill(data, sizeof(data), 48);
	/* slot 1 takes 4096-byte units */
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .slot = 1,
			     .activate = 1,
			     .out = data,
			     .out_len = 512 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .slot = 1,
			     .activate = 1,
			     .out = data,
			     .out_len = 4096 + 512 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .slot = 1,
			     .activate = 1,
			     .out = data,
			     .out_len = 3 * 4096 - 512 });
	ioerr((struct ireq){
		.type = VIRTIO_BLK_T_IN, .sector = 8, .slot = 1, .activate = 1, .in_len = 2048 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_IN,
			     .sector = 8,
			     .slot = 1,
			     .activate = 1,
			     .in_len = 8192 + 1024 });
	/* no data at all */
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT, .sector = 8, .slot = 0, .activate = 1 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_IN, .sector = 8, .slot = 0, .activate = 1 });
}
END_TEST

START_TEST(blk_rejects_dun_overflow)
{
	static uint8_t data[2 * 4096];

	fill(data, sizeof(data), 49);
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .slot = 1,
			     .activate = 1,
			     .dun = UINT64_MAX,
			     .out = data,
			     .out_len = 2 * 4096 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_IN,
			     .sector = 8,
			     .slot = 1,
			     .activate = 1,
			     .dun = UINT64_MAX,
			     .in_len = 2 * 4096 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .slot = 0,
			     .activate = 1,
			     .dun = UINT64_MAX - 14,
			     .out = data,
			     .out_len = 16 * 512 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_IN,
			     .sector = 8,
			     .slot = 0,
			     .activate = 1,
			     .dun = UINT64_MAX - 14,
			     .in_len = 16 * 512 });
	/* one unit less is fine */
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 8,
				 .slot = 0,
				 .activate = 1,
				 .dun = UINT64_MAX - 14,
				 .out = data,
				 .out_len = 15 * 512 });
}
END_TEST

START_TEST(blk_rejects_16_byte_header)
{
	static uint8_t data[512];

	memset(data, 0, sizeof(data)); /* the device would read activate 0 from here */
	/* IN: only 16 readable bytes */
	ioerr((struct ireq){
		.type = VIRTIO_BLK_T_IN, .sector = 8, .short_hdr = true, .in_len = 512 });
	ioerr((struct ireq){
		.type = VIRTIO_BLK_T_IN, .sector = 8, .short_hdr = true, .in_len = 4096 });
	/* OUT: 16 header bytes, then the data is taken for the payload: 496 bytes remain */
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .short_hdr = true,
			     .out = data,
			     .out_len = 512 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .short_hdr = true,
			     .out = data,
			     .out_len = 8 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT, .sector = 8, .short_hdr = true });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_FLUSH, .short_hdr = true });
	/* other types keep the 16-byte header */
	do_req(&(struct ireq){ .type = VIRTIO_BLK_T_GET_ID, .short_hdr = true, .in_len = 20 });
	ck_assert_mem_eq(in_data, "ice-disk\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	ck_assert_uint_eq(in_data[20], VIRTIO_BLK_S_OK);
	{
		/* WRITE_ZEROES: { le64 sector; le32 num_sectors; le32 flags; } after 16 bytes */
		uint8_t seg[16] = { 100, 0, 0, 0, 0, 0, 0, 0, 2 };
		struct ireq r = { .type = VIRTIO_BLK_T_WRITE_ZEROES,
				  .short_hdr = true,
				  .out = seg,
				  .out_len = sizeof(seg) };

		do_req(&r);
		ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
		memset(expect + 100 * 512, 0, 2 * 512);
		check_image();
	}
}
END_TEST

START_TEST(blk_flush_with_activate)
{
	struct ireq r = { .type = VIRTIO_BLK_T_FLUSH, .slot = 1, .activate = 1, .dun = 3 };

	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(r.used_len, 1);
	/* slot and DUN are ignored: unloaded, out of range, overflowing */
	r = (struct ireq){
		.type = VIRTIO_BLK_T_FLUSH, .slot = 250, .activate = 1, .dun = UINT64_MAX
	};
	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	r = (struct ireq){ .type = VIRTIO_BLK_T_FLUSH, .slot = 2, .activate = 0 };
	do_req(&r);
	ck_assert_uint_eq(r.status, VIRTIO_BLK_S_OK);
	check_image();
}
END_TEST

/* A slot evicted and reprogrammed while the disk runs. */
START_TEST(blk_evicted_slot_ioerr_then_reprogram)
{
	static uint8_t data[8192];
	uint8_t b[64];

	fill(data, sizeof(data), 50);
	fill(b, sizeof(b), 51);
	ice_slot_evict(&st, 1);
	ioerr((struct ireq){
		.type = VIRTIO_BLK_T_IN, .sector = 8, .slot = 1, .activate = 1, .in_len = 4096 });
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 8,
			     .slot = 1,
			     .activate = 1,
			     .out = data,
			     .out_len = 4096 });
	ck_assert_int_eq(ice_slot_program(&st, 1, b, 64, 4096), 0);
	write_enc((struct ireq){ .type = VIRTIO_BLK_T_OUT,
				 .sector = 8,
				 .slot = 1,
				 .activate = 1,
				 .dun = 3,
				 .out = data,
				 .out_len = sizeof(data) });
	read_dec((struct ireq){ .type = VIRTIO_BLK_T_IN,
				.sector = 8,
				.slot = 1,
				.activate = 1,
				.dun = 3,
				.in_len = sizeof(data) });
	ck_assert_mem_eq(in_data, data, sizeof(data));
	ice_store_evict_all(&st);
	ioerr((struct ireq){
		.type = VIRTIO_BLK_T_IN, .sector = 0, .slot = 0, .activate = 1, .in_len = 512 });
	ioerr((struct ireq){
		.type = VIRTIO_BLK_T_IN, .sector = 8, .slot = 5, .activate = 1, .in_len = 4096 });
}
END_TEST

/*
 * The issue's race: one thread programs slot 1 with key A, then B, then
 * evicts it, in a loop; this one writes and reads through slot 1, each
 * request split over 8 descriptors (so the engine runs 8 times per request).
 * Every completed request is entirely under A or entirely under B; a request
 * on the empty slot gets IOERR and touches nothing. Run under TSan by make tsan.
 */
#define RACE_LEN (64 * 1024)
#define RACE_SECTOR 64
#define RACE_DUN 1000

static uint8_t race_a[64], race_b[64];
static atomic_bool race_stop;
static atomic_uint race_programs;

static void *race_programmer(void *arg)
{
	(void)arg;
	while (!atomic_load(&race_stop)) {
		if (ice_slot_program(&st, 1, race_a, 64, 4096) ||
		    ice_slot_program(&st, 1, race_b, 64, 4096))
			return (void *)1;
		ice_slot_evict(&st, 1);
		atomic_fetch_add(&race_programs, 1);
	}
	return NULL;
}

/* The image's bytes at the race range. */
static void race_image(uint8_t *buf)
{
	int fd = open(img, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, RACE_LEN, RACE_SECTOR * 512), RACE_LEN);
	close(fd);
}

/* out = in under key (slot 0 of st2: A, slot 1: B), 4096-byte units from RACE_DUN. */
static void race_engine(unsigned int key, const uint8_t *in, uint8_t *out, bool encrypt)
{
	memcpy(out, in, RACE_LEN);
	ck_assert_int_eq(ice_crypt(&st2, key, RACE_DUN, out, RACE_LEN, encrypt), 0);
}

/*
 * One request of the race through slot 1 at RACE_SECTOR/RACE_DUN, its data
 * in 8 descriptors (8 engine calls); buffers at fixed guest addresses
 * (lean: no snapshot). Returns the status; a read's data is in data.
 */
static uint8_t race_req(bool write, uint64_t base, uint8_t *data)
{
	struct tg_buf bufs[10];
	uint8_t *hdr = tg_ptr(&g, base), *status = tg_ptr(&g, base + 64);
	uint32_t type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, id, len;
	uint64_t sector = RACE_SECTOR, dun = RACE_DUN, gpa = base + 128;
	unsigned int i;

	memset(hdr, 0, 32);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	hdr[16] = 1; /* slot */
	hdr[17] = 1; /* activate */
	memcpy(hdr + 24, &dun, 8);
	*status = POISON;
	bufs[0] = (struct tg_buf){ .gpa = base, .len = 32 };
	for (i = 0; i < 8; i++, gpa += RACE_LEN / 8) {
		bufs[1 + i] =
			(struct tg_buf){ .gpa = gpa, .len = RACE_LEN / 8, .writable = !write };
		if (write)
			memcpy(tg_ptr(&g, gpa), data + i * (RACE_LEN / 8), RACE_LEN / 8);
		else
			memset(tg_ptr(&g, gpa), POISON, RACE_LEN / 8);
	}
	bufs[9] = (struct tg_buf){ .gpa = base + 64, .len = 1, .writable = true };
	tg_add(&g, bufs, 10);
	tg_kick(&transport);
	ck_assert_msg(tg_get_used(&g, &id, &len), "the request was not completed");
	if (!write)
		memcpy(data, tg_ptr(&g, base + 128), RACE_LEN);
	return *status;
}

START_TEST(blk_program_evict_race)
{
	static uint8_t plain[RACE_LEN], ct[2][RACE_LEN], other[2][RACE_LEN], cur[RACE_LEN],
		got[RACE_LEN], poison[RACE_LEN];
	unsigned int i, seen[3] = { 0 }, which, cur_key;
	uint64_t base = tg_alloc(&g, RACE_LEN + 128, 64);
	uint8_t status;
	pthread_t t;
	void *ret;

	fill(race_a, 64, 52);
	fill(race_b, 64, 53);
	fill(plain, RACE_LEN, 54);
	memset(poison, POISON, RACE_LEN);
	ck_assert_int_eq(ice_store_init(&st2, ICE_ALG_AES_XTS, ICE_KEY_256, 0x08, 2, 0), 0);
	load(&st2, 0, race_a, 64, 4096);
	load(&st2, 1, race_b, 64, 4096);
	race_engine(0, plain, ct[0], true);
	race_engine(1, plain, ct[1], true);
	/* what a read returns of A's ciphertext under B, and of B's under A */
	race_engine(1, ct[0], other[0], false);
	race_engine(0, ct[1], other[1], false);

	/* the range starts as plain under A */
	ck_assert_int_eq(ice_slot_program(&st, 1, race_a, 64, 4096), 0);
	ck_assert_uint_eq(race_req(true, base, plain), VIRTIO_BLK_S_OK);
	race_image(cur);
	ck_assert_mem_eq(cur, ct[0], RACE_LEN);
	cur_key = 0;
	atomic_store(&race_stop, false);
	atomic_store(&race_programs, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, race_programmer, NULL), 0);
	for (i = 0; i < 5000 || (i < 20000 && (!seen[0] || !seen[1] || !seen[2])); i++) {
		status = race_req(true, base, plain);
		race_image(cur);
		if (status == VIRTIO_BLK_S_OK) {
			which = !memcmp(cur, ct[0], RACE_LEN)	? 0
				: !memcmp(cur, ct[1], RACE_LEN) ? 1
								: 2;
			ck_assert_msg(which < 2, "write %u: the image is neither all A nor all B",
				      i);
			cur_key = which;
			seen[which]++;
		} else {
			ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
			ck_assert_mem_eq(cur, ct[cur_key], RACE_LEN); /* untouched */
			seen[2]++;
		}
		status = race_req(false, base, got);
		if (status == VIRTIO_BLK_S_OK) {
			/* under the key it was written with: plain; under the other: other[] */
			ck_assert_msg(!memcmp(got, plain, RACE_LEN) ||
					      !memcmp(got, other[cur_key], RACE_LEN),
				      "read %u: neither all A nor all B", i);
		} else {
			ck_assert_uint_eq(status, VIRTIO_BLK_S_IOERR);
			ck_assert_mem_eq(got, poison, RACE_LEN); /* no data written */
		}
	}
	atomic_store(&race_stop, true);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_ptr_null(ret);
	fprintf(stderr, "race: %u requests; writes under A %u, B %u, IOERR %u; %u cycles\n", 2 * i,
		seen[0], seen[1], seen[2], atomic_load(&race_programs));
	ck_assert_uint_gt(seen[0] + seen[1], 0);
}
END_TEST

START_TEST(blk_not_negotiated_is_plain)
{
	static uint8_t data[4096];

	reopen(&st, BIT(VIRTIO_F_VERSION_1));
	ck_assert(offered() & BIT(VIRTIO_BLK_F_ICE));
	ck_assert(!virtio_mmio_has_feature(&transport, VIRTIO_BLK_F_ICE));
	fill(data, sizeof(data), 50);
	/* a 16-byte header, then data: written as is */
	do_req(&(struct ireq){ .type = VIRTIO_BLK_T_OUT,
			       .sector = 30,
			       .short_hdr = true,
			       .out = data,
			       .out_len = sizeof(data) });
	memcpy(expect + 30 * 512, data, sizeof(data));
	check_image();
	read_dec((struct ireq){
		.type = VIRTIO_BLK_T_IN, .sector = 30, .short_hdr = true, .in_len = sizeof(data) });
	ck_assert_mem_eq(in_data, data, sizeof(data));
	/* a 32-byte header is just 16 bytes of data too many: not whole sectors */
	ioerr((struct ireq){ .type = VIRTIO_BLK_T_OUT,
			     .sector = 30,
			     .slot = 1,
			     .activate = 1,
			     .out = data,
			     .out_len = sizeof(data) });
	{
		struct ireq f = { .type = VIRTIO_BLK_T_FLUSH, .short_hdr = true };

		do_req(&f);
		ck_assert_uint_eq(f.status, VIRTIO_BLK_S_OK);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("ice");
	TCase *kat = tcase_create("known-answers");
	TCase *rt = tcase_create("round-trips");
	TCase *rules = tcase_create("engine-rules");
	TCase *keys = tcase_create("keys-file");
	TCase *blk = tcase_create("virtio-blk");

	TCase *all[] = { kat, rt, rules, keys, blk };
	unsigned int i;

	tcase_add_checked_fixture(kat, engine_setup, engine_teardown);
	tcase_add_checked_fixture(rt, engine_setup, engine_teardown);
	tcase_add_checked_fixture(rules, engine_setup, engine_teardown);
	tcase_add_unchecked_fixture(keys, tdir_make, tdir_remove);
	tcase_add_checked_fixture(keys, keys_setup, keys_teardown);
	tcase_add_unchecked_fixture(blk, tdir_make, tdir_remove);
	tcase_add_checked_fixture(blk, blk_setup, blk_teardown);
	for (i = 0; i < ARRAY_SIZE(all); i++) {
		tcase_set_timeout(all[i], 60); /* valgrind, qemu-user */
		suite_add_tcase(s, all[i]);
	}

	tcase_add_test(kat, xts_ieee1619_vector1_refused);
	tcase_add_test(kat, xts_ieee1619_vector2);
	tcase_add_test(kat, xts_ieee1619_vector10);
	tcase_add_test(kat, essiv_iv_known_answer);
	tcase_add_test(kat, bitlocker_iv_full_128_bit_offset);
	tcase_add_test(kat, bitlocker_iv_small_offset);

	tcase_add_loop_test(rt, round_trip_every_algorithm, 0, (int)ARRAY_SIZE(algs));

	tcase_add_test(rules, check_rules);
	tcase_add_test(rules, check_ecb_dun_limit_too);
	tcase_add_test(rules, crypt_refuses_and_leaves_buffer);
	tcase_add_test(rules, store_init_rules);
	tcase_add_test(rules, slot_load_rules);
	tcase_add_test(rules, failed_load_keeps_old_key);
	tcase_add_test(rules, reload_replaces_key_and_size);
	tcase_add_test(rules, evict_makes_slot_unusable);
	tcase_add_test(rules, program_evict_reprogram);
	tcase_add_test(rules, program_refusals_change_nothing);
	tcase_add_test(rules, pinned_key_survives_program_and_evict);
	tcase_add_test(rules, full_store_255_xts256_slots);

	tcase_add_loop_test(keys, keys_file_errors, 0, (int)ARRAY_SIZE(keys_errors));
	tcase_add_test(keys, keys_file_line_lengths_in_table);
	tcase_add_test(keys, keys_file_doc_example);
	tcase_add_test(keys, keys_file_readme_example);
	tcase_add_test(keys, keys_file_every_algorithm);
	tcase_add_test(keys, keys_file_du_omitted_with_one_size);
	tcase_add_test(keys, keys_file_198_character_line_is_one_line);
	tcase_add_test(keys, keys_file_key_file_relative);
	tcase_add_test(keys, keys_file_key_file_errors);
	tcase_add_test(keys, keys_file_permissions);
	tcase_add_test(keys, keys_file_comment_only_names_a_real_line);
	tcase_add_test(keys, keys_file_utf8_bom);
	tcase_add_test(keys, keys_file_failed_load_leaves_no_slot);
	tcase_add_test(keys, keys_file_crlf_loads);
	tcase_add_test(keys, keys_file_very_long_line);
	tcase_add_test(keys, keys_file_read_once);
	tcase_add_test(keys, keys_file_loads_what_was_read);
	tcase_add_test(keys, keys_file_without_slots_is_guest_programmed);
	tcase_add_test(keys, keys_file_wrapping_key);
	tcase_add_test(keys, keys_file_guest_keys_no);
	tcase_add_test(keys, keys_file_guest_keys_with_slots_exact_message);
	tcase_add_test(keys, default_engine);
	tcase_add_test(keys, secure_pool_size_for_a_config);

	tcase_add_test(blk, blk_config_space);
	tcase_add_test(blk, blk_config_space_other_capability);
	tcase_add_test(blk, blk_plain_disk_has_no_crypto_config);
	tcase_add_test(blk, blk_write_stores_engine_ciphertext);
	tcase_add_test(blk, blk_read_decrypts_or_returns_raw);
	tcase_add_test(blk, blk_plain_io_with_activate_0);
	tcase_add_test(blk, blk_unit_split_across_descriptors);
	tcase_add_test(blk, blk_request_larger_than_bounce);
	tcase_add_test(blk, blk_rejects_bad_activate);
	tcase_add_test(blk, blk_rejects_bad_slot);
	tcase_add_test(blk, blk_rejects_partial_units);
	tcase_add_test(blk, blk_rejects_dun_overflow);
	tcase_add_test(blk, blk_rejects_16_byte_header);
	tcase_add_test(blk, blk_flush_with_activate);
	tcase_add_test(blk, blk_not_negotiated_is_plain);
	tcase_add_test(blk, blk_evicted_slot_ioerr_then_reprogram);
	tcase_add_test(blk, blk_program_evict_race);
	return s;
}
