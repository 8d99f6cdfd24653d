// SPDX-License-Identifier: GPL-2.0
/*
 * ICE engine on libgcrypt. Per data unit (docs/ICE.md, "Algorithm ids"):
 *   AES-XTS            tweak = LE128(DUN); key = data key || tweak key
 *   BitLocker AES-CBC  IV = AES-ECB_K(LE128(DUN * DU size)), 128-bit product
 *   AES-ECB            no IV, DUN ignored
 *   ESSIV AES-CBC      IV = AES-256-ECB_{SHA-256(K)}(LE128(DUN))
 * XTS and ESSIV match Linux's blk-crypto-fallback / fscrypt / dm-crypt
 * byte for byte. Keys are set once per slot at load time (the key schedule is
 * the expensive part); per data unit only the IV changes.
 */
#include <errno.h>
#include <gcrypt.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../vmm/log.h"
#include "ice.h"

/*
 * libgcrypt's secure pool (mlock'ed; its 16 KiB default holds 5 slots). A
 * handle costs ~2 KiB (CBC, ECB) to ~3 KiB (XTS, two key schedules); ESSIV and
 * BitLocker take two handles. Plus room for decoding keys while parsing.
 */
#define ICE_SECMEM_PER_SLOT (4 * 1024)
#define ICE_SECMEM_BASE (32 * 1024)

static pthread_mutex_t ice_init_lock = PTHREAD_MUTEX_INITIALIZER;
static int ice_init_state; /* 0: not yet, 1: done, -1: failed */

size_t ice_secmem_size(unsigned int nslots)
{
	return ICE_SECMEM_BASE + (size_t)nslots * ICE_SECMEM_PER_SLOT;
}

/*
 * Can this process lock that much memory? libgcrypt only warns and carries
 * on with unlocked memory when mlock fails, so try it first, for real: root
 * without CAP_IPC_LOCK (a container) is bound by RLIMIT_MEMLOCK too.
 */
static int ice_check_memlock(size_t bytes)
{
	struct rlimit rl;
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err = p == MAP_FAILED ? -1 : mlock(p, bytes);

	if (p != MAP_FAILED)
		munmap(p, bytes);
	if (!err)
		return 0;
	getrlimit(RLIMIT_MEMLOCK, &rl);
	pr_err("keys need %zu KiB of locked memory and mlock failed (RLIMIT_MEMLOCK %llu KiB, "
	       "no CAP_IPC_LOCK?): raise it (ulimit -l)",
	       bytes / 1024, (unsigned long long)rl.rlim_cur / 1024);
	return -1;
}

int ice_global_init(size_t secmem_bytes)
{
	pthread_mutex_lock(&ice_init_lock);
	if (ice_init_state)
		goto out;
	ice_init_state = -1;
	/* XTS arrived in libgcrypt 1.8. */
	if (!gcry_check_version("1.8.0")) {
		pr_err("libgcrypt %s is too old: ICE needs 1.8 or later", gcry_check_version(NULL));
		goto out;
	}
	if (ice_check_memlock(secmem_bytes))
		goto out;
	/* A fixed pool: libgcrypt would not lock the pools it adds when it grows. */
	gcry_control(GCRYCTL_INIT_SECMEM, secmem_bytes, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	ice_init_state = 1;
out:
	pthread_mutex_unlock(&ice_init_lock);
	return ice_init_state == 1 ? 0 : -1;
}

static unsigned int key_size_bytes(enum ice_key_size k)
{
	return k == ICE_KEY_128 ? 16 : k == ICE_KEY_192 ? 24 : 32;
}

static int gcry_aes(unsigned int bytes)
{
	return bytes == 16   ? GCRY_CIPHER_AES128
	       : bytes == 24 ? GCRY_CIPHER_AES192
			     : GCRY_CIPHER_AES256;
}

int ice_store_init(struct ice_store *s, enum ice_alg alg, enum ice_key_size key_size,
		   uint8_t du_mask, unsigned int max_slots, unsigned int slot_offset)
{
	memset(s, 0, sizeof(*s));
	/* The key sizes each algorithm allows (docs/ICE.md); AES-192 only for ECB. */
	if (alg > ICE_ALG_ESSIV_AES_CBC || key_size < ICE_KEY_128 || key_size > ICE_KEY_256 ||
	    (key_size == ICE_KEY_192 && alg != ICE_ALG_AES_ECB))
		return -EINVAL;
	if (!du_mask || max_slots < 1 || max_slots > ICE_MAX_SLOTS || slot_offset > 255)
		return -EINVAL;
	s->alg = alg;
	s->key_size = key_size;
	s->du_mask = du_mask;
	s->max_slots = (uint8_t)max_slots;
	s->slot_offset = (uint8_t)slot_offset;
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

size_t ice_key_len(const struct ice_store *s)
{
	return key_size_bytes(s->key_size) * (s->alg == ICE_ALG_AES_XTS ? 2 : 1);
}

static void slot_clear(struct ice_slot *sl)
{
	/* Closing a handle opened with GCRY_CIPHER_SECURE wipes its key schedule. */
	if (sl->cipher)
		gcry_cipher_close(sl->cipher);
	if (sl->iv_cipher)
		gcry_cipher_close(sl->iv_cipher);
	memset(sl, 0, sizeof(*sl));
}

void ice_slot_evict(struct ice_store *s, unsigned int slot)
{
	if (slot >= s->max_slots)
		return;
	pthread_mutex_lock(&s->lock);
	slot_clear(&s->slots[slot]);
	pthread_mutex_unlock(&s->lock);
}

void ice_store_free(struct ice_store *s)
{
	unsigned int i;

	for (i = 0; i < s->max_slots; i++)
		ice_slot_evict(s, i);
}

static gcry_cipher_hd_t open_keyed(int algo, int mode, const void *key, size_t len)
{
	gcry_cipher_hd_t h;

	if (gcry_cipher_open(&h, algo, mode, GCRY_CIPHER_SECURE))
		return NULL;
	if (gcry_cipher_setkey(h, key, len)) {
		gcry_cipher_close(h);
		return NULL;
	}
	return h;
}

/* Build the slot's handles from key; the caller holds no lock, nothing is shared yet. */
static int slot_make(const struct ice_store *s, struct ice_slot *sl, const uint8_t *key,
		     size_t key_len)
{
	unsigned int kb = key_size_bytes(s->key_size);
	uint8_t *digest;

	switch (s->alg) {
	case ICE_ALG_AES_XTS:
		sl->cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_XTS, key, key_len);
		return sl->cipher ? 0 : -EIO;
	case ICE_ALG_AES_ECB:
		sl->cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_ECB, key, key_len);
		return sl->cipher ? 0 : -EIO;
	case ICE_ALG_BITLOCKER_AES_CBC:
		sl->cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_CBC, key, key_len);
		sl->iv_cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_ECB, key, key_len);
		return sl->cipher && sl->iv_cipher ? 0 : -EIO;
	case ICE_ALG_ESSIV_AES_CBC:
		/* The salt key SHA-256(K) lives in secure memory too. */
		digest = gcry_malloc_secure(32);
		if (!digest)
			return -ENOMEM;
		gcry_md_hash_buffer(GCRY_MD_SHA256, digest, key, key_len);
		sl->cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_CBC, key, key_len);
		sl->iv_cipher = open_keyed(GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_ECB, digest, 32);
		gcry_free(digest); /* secure memory is wiped when freed */
		return sl->cipher && sl->iv_cipher ? 0 : -EIO;
	}
	return -EINVAL;
}

int ice_slot_load(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
		  uint32_t du_size, const char **why)
{
	struct ice_slot fresh = { .loaded = true, .du_size = du_size };

	if (slot >= s->max_slots) {
		*why = "slot number is not below max_slots";
		return -EINVAL;
	}
	if (key_len != ice_key_len(s)) {
		*why = s->alg == ICE_ALG_AES_XTS ? "wrong key length: XTS takes two AES keys "
						   "(data key then tweak key) of key_bits each"
						 : "wrong key length for key_bits";
		return -EINVAL;
	}
	if (du_size < ICE_MIN_DU || du_size > ICE_MAX_DU || (du_size & (du_size - 1)) ||
	    !(s->du_mask & (du_size / ICE_MIN_DU))) {
		*why = "data unit size is not one of the store's data_unit_sizes";
		return -EINVAL;
	}
	if (slot_make(s, &fresh, key, key_len)) {
		slot_clear(&fresh);
		*why = "libgcrypt refused the key, or its locked pool is full (size it with "
		       "ice_global_init() for every slot)";
		return -EIO;
	}
	pthread_mutex_lock(&s->lock);
	slot_clear(&s->slots[slot]);
	s->slots[slot] = fresh;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

uint32_t ice_check(struct ice_store *s, unsigned int slot, uint64_t dun, uint64_t len)
{
	uint32_t du;
	uint64_t units;

	if (slot >= s->max_slots)
		return 0;
	pthread_mutex_lock(&s->lock);
	du = s->slots[slot].loaded ? s->slots[slot].du_size : 0;
	pthread_mutex_unlock(&s->lock);
	if (!du || len == 0 || len % du)
		return 0;
	units = len / du;
	/* The last unit's DUN, dun + units - 1, must fit in 64 bits. */
	if (units - 1 > UINT64_MAX - dun)
		return 0;
	return du;
}

static void put_le128(uint8_t iv[16], uint64_t lo, uint64_t hi)
{
	for (int i = 0; i < 8; i++) {
		iv[i] = (uint8_t)(lo >> (8 * i));
		iv[8 + i] = (uint8_t)(hi >> (8 * i));
	}
}

int ice_crypt(struct ice_store *s, unsigned int slot, uint64_t dun, uint8_t *buf, size_t len,
	      bool encrypt)
{
	return ice_crypt_to(s, slot, dun, buf, buf, len, encrypt);
}

int ice_crypt_to(struct ice_store *s, unsigned int slot, uint64_t dun, const uint8_t *in,
		 uint8_t *out, size_t len, bool encrypt)
{
	gcry_error_t (*op)(gcry_cipher_hd_t, void *, size_t, const void *, size_t) =
		encrypt ? gcry_cipher_encrypt : gcry_cipher_decrypt;
	struct ice_slot *sl;
	uint8_t iv[16];
	int err = 0;
	size_t off;

	if (slot >= s->max_slots)
		return -EIO;
	pthread_mutex_lock(&s->lock);
	sl = &s->slots[slot];
	if (!sl->loaded || len % sl->du_size) {
		err = -EIO;
		goto out;
	}
	if (in == out) /* libgcrypt's in-place form */
		in = NULL;
	if (s->alg == ICE_ALG_AES_ECB) { /* no IV: all units in one call */
		err = op(sl->cipher, out, len, in, in ? len : 0) ? -EIO : 0;
		goto out;
	}
	for (off = 0; off < len && !err; off += sl->du_size, dun++) {
		switch (s->alg) {
		case ICE_ALG_AES_XTS:
			put_le128(iv, dun, 0);
			break;
		case ICE_ALG_BITLOCKER_AES_CBC: {
			/* DUN x DU size as a 128-bit number: DU size is 2^k, 9 <= k <= 16. */
			unsigned int k = (unsigned int)__builtin_ctz(sl->du_size);

			put_le128(iv, dun << k, dun >> (64 - k));
			err = gcry_cipher_encrypt(sl->iv_cipher, iv, 16, NULL, 0) ? -EIO : 0;
			break;
		}
		case ICE_ALG_ESSIV_AES_CBC:
			put_le128(iv, dun, 0);
			err = gcry_cipher_encrypt(sl->iv_cipher, iv, 16, NULL, 0) ? -EIO : 0;
			break;
		default:
			err = -EIO;
			break;
		}
		if (!err && (gcry_cipher_setiv(sl->cipher, iv, 16) ||
			     op(sl->cipher, out + off, sl->du_size, in ? in + off : NULL,
				in ? sl->du_size : 0)))
			err = -EIO;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

uint16_t ice_slot_info(const struct ice_store *s)
{
	return (uint16_t)(s->max_slots << 8 | s->slot_offset);
}

uint32_t ice_capability(const struct ice_store *s)
{
	return (uint32_t)s->alg << 24 | (uint32_t)s->du_mask << 16 | (uint32_t)s->key_size << 8;
}
