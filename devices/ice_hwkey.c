// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware-wrapped keys: the KDF Linux documents and icevmm's blobs
 * (ice_hwkey.h). libgcrypt does the cryptography: AES-256-CMAC for the KDF,
 * AES-256-GCM for the blobs; the kernel's generator gives nonces and keys.
 */
#include <errno.h>
#include <gcrypt.h>
#include <string.h>
#include <sys/random.h>

#include "ice_hwkey.h"

/*
 * Documentation/block/inline-encryption.rst, "Hardware-wrapped keys": the
 * label, and the contexts of the inline-encryption key and of the software
 * secret (their text, then fixed bytes).
 */
static const uint8_t kdf_label[11] = "\x00\x00\x40\x00\x00\x00\x00\x00\x00\x00\x20";
static const uint8_t ctx_inline_key[36] = "inline encryption key"
					  "\x00\x00\x00\x00\x00\x00\x02\x43\x00\x82\x50\x00\x00\x00"
					  "\x00";
static const uint8_t ctx_sw_secret[28] = "raw secret"
					 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x17\x00\x80\x50"
					 "\x00\x00\x00\x00";

#define CMAC_BLOCK 16
#define KDF_MAX_OUT 64
#define KDF_MAX_CONTEXT 64

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int ice_hwkey_kdf(const uint8_t key[ICE_HWKEY_RAW_SIZE], const uint8_t *context, size_t context_len,
		  uint8_t *out, size_t out_len)
{
	/* BE32(i) || label || 0x00 || context || BE32(L), built once: one write a block */
	uint8_t msg[4 + sizeof(kdf_label) + 1 + KDF_MAX_CONTEXT + 4];
	size_t msg_len = 4 + sizeof(kdf_label) + 1 + context_len + 4, done, n;
	gcry_mac_hd_t mac;
	int err = 0;

	if (!out_len || out_len % CMAC_BLOCK || out_len > KDF_MAX_OUT ||
	    context_len > KDF_MAX_CONTEXT)
		return -1;
	memcpy(msg + 4, kdf_label, sizeof(kdf_label));
	msg[4 + sizeof(kdf_label)] = 0x00;
	memcpy(msg + 4 + sizeof(kdf_label) + 1, context, context_len);
	put_be32(msg + msg_len - 4, (uint32_t)(out_len * 8));
	if (gcry_mac_open(&mac, GCRY_MAC_CMAC_AES, GCRY_MAC_FLAG_SECURE, NULL))
		return -1;
	err = gcry_mac_setkey(mac, key, ICE_HWKEY_RAW_SIZE) ? -1 : 0;
	for (done = 0; !err && done < out_len; done += CMAC_BLOCK) {
		put_be32(msg, (uint32_t)(done / CMAC_BLOCK + 1));
		n = CMAC_BLOCK;
		if (gcry_mac_reset(mac) || gcry_mac_write(mac, msg, msg_len) ||
		    gcry_mac_read(mac, out + done, &n) || n != CMAC_BLOCK)
			err = -1;
	}
	gcry_mac_close(mac);
	if (err)
		explicit_bzero(out, out_len);
	return err;
}

int ice_hwkey_inline_key(const uint8_t raw[ICE_HWKEY_RAW_SIZE],
			 uint8_t out[ICE_HWKEY_INLINE_KEY_SIZE])
{
	return ice_hwkey_kdf(raw, ctx_inline_key, sizeof(ctx_inline_key), out,
			     ICE_HWKEY_INLINE_KEY_SIZE);
}

int ice_hwkey_sw_secret(const uint8_t raw[ICE_HWKEY_RAW_SIZE],
			uint8_t out[ICE_HWKEY_SW_SECRET_SIZE])
{
	return ice_hwkey_kdf(raw, ctx_sw_secret, sizeof(ctx_sw_secret), out,
			     ICE_HWKEY_SW_SECRET_SIZE);
}

/* Offsets in a blob (ice_hwkey.h) */
#define BLOB_VERSION 0
#define BLOB_KIND 1
#define BLOB_NONCE 2
#define BLOB_KEY (BLOB_NONCE + ICE_HWKEY_NONCE_SIZE)
#define BLOB_TAG (BLOB_KEY + ICE_HWKEY_RAW_SIZE)

/* What the tag covers besides the key: this text, the version, the kind. */
#define ICE_HWKEY_AAD "icevmm hw-wrapped key"

/* A GCM handle keyed with wkey, its nonce and AAD given: NULL on failure. */
static gcry_cipher_hd_t blob_cipher(const uint8_t *wkey, const uint8_t *blob)
{
	static const char aad[] = ICE_HWKEY_AAD;
	gcry_cipher_hd_t h;

	if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, GCRY_CIPHER_SECURE))
		return NULL;
	if (gcry_cipher_setkey(h, wkey, ICE_HWKEY_WRAPPING_KEY_SIZE) ||
	    gcry_cipher_setiv(h, blob + BLOB_NONCE, ICE_HWKEY_NONCE_SIZE) ||
	    gcry_cipher_authenticate(h, aad, sizeof(aad) - 1) ||
	    gcry_cipher_authenticate(h, blob, BLOB_NONCE)) {
		gcry_cipher_close(h);
		return NULL;
	}
	return h;
}

int ice_hwkey_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ice_hwkey_wrap(const uint8_t wkey[ICE_HWKEY_WRAPPING_KEY_SIZE], enum ice_hwkey_kind kind,
		   const uint8_t raw[ICE_HWKEY_RAW_SIZE], uint8_t blob[ICE_HWKEY_BLOB_SIZE])
{
	gcry_cipher_hd_t h;
	int err;

	blob[BLOB_VERSION] = ICE_HWKEY_VERSION;
	blob[BLOB_KIND] = (uint8_t)kind;
	if (ice_hwkey_random(blob + BLOB_NONCE, ICE_HWKEY_NONCE_SIZE))
		return -1;
	h = blob_cipher(wkey, blob);
	if (!h)
		return -1;
	err = gcry_cipher_encrypt(h, blob + BLOB_KEY, ICE_HWKEY_RAW_SIZE, raw,
				  ICE_HWKEY_RAW_SIZE) ||
	      gcry_cipher_gettag(h, blob + BLOB_TAG, ICE_HWKEY_TAG_SIZE);
	gcry_cipher_close(h);
	if (err)
		explicit_bzero(blob, ICE_HWKEY_BLOB_SIZE);
	return err ? -1 : 0;
}

int ice_hwkey_unwrap(const uint8_t wkey[ICE_HWKEY_WRAPPING_KEY_SIZE], enum ice_hwkey_kind kind,
		     const uint8_t *blob, size_t len, uint8_t raw[ICE_HWKEY_RAW_SIZE])
{
	gcry_cipher_hd_t h;
	int err;

	if (len != ICE_HWKEY_BLOB_SIZE || blob[BLOB_VERSION] != ICE_HWKEY_VERSION ||
	    blob[BLOB_KIND] != kind)
		goto refuse;
	h = blob_cipher(wkey, blob);
	if (!h)
		goto refuse;
	/* Into raw (locked memory), and wiped there unless the tag verifies. */
	err = gcry_cipher_decrypt(h, raw, ICE_HWKEY_RAW_SIZE, blob + BLOB_KEY,
				  ICE_HWKEY_RAW_SIZE) ||
	      gcry_cipher_checktag(h, blob + BLOB_TAG, ICE_HWKEY_TAG_SIZE);
	gcry_cipher_close(h);
	if (!err)
		return 0;
refuse:
	explicit_bzero(raw, ICE_HWKEY_RAW_SIZE);
	return -1;
}
