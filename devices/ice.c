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
#include <endian.h>
#include <errno.h>
#include <gcrypt.h>
#include <stdatomic.h>
#include <stdlib.h>
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

static int gcry_aes(unsigned int bytes)
{
	return bytes == 16   ? GCRY_CIPHER_AES128
	       : bytes == 24 ? GCRY_CIPHER_AES192
			     : GCRY_CIPHER_AES256;
}

struct ice_key {
	atomic_uint refs; /* the slot's reference + one per pin (ice.h) */
	enum ice_alg alg;
	uint32_t du_size;
	struct vmm_lock lock;	    /* use of the handles (on every request) */
	gcry_cipher_hd_t cipher;    /* XTS, CBC or ECB, keyed once at load */
	gcry_cipher_hd_t iv_cipher; /* ESSIV / BitLocker: AES-ECB that makes each IV */
};

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
	vmm_lock_init(&s->lock);
	pthread_mutex_init(&s->key_lock, NULL);
	return 0;
}

size_t ice_key_len(const struct ice_store *s)
{
	return ice_aes_key_bytes(s->key_size) * (s->alg == ICE_ALG_AES_XTS ? 2 : 1);
}

static void key_free(struct ice_key *k)
{
	/* Closing a handle opened with GCRY_CIPHER_SECURE wipes its key schedule. */
	if (k->cipher)
		gcry_cipher_close(k->cipher);
	if (k->iv_cipher)
		gcry_cipher_close(k->iv_cipher);
	free(k); /* no key bytes in it: those were in the handles */
}

struct ice_key *ice_key_pin(struct ice_store *s, unsigned int slot)
{
	struct ice_key *k;

	if (slot >= s->max_slots)
		return NULL;
	vmm_lock(&s->lock);
	k = s->slots[slot];
	/* Relaxed: the slot's reference keeps k alive while we hold the lock. */
	if (k)
		atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
	vmm_unlock(&s->lock);
	return k;
}

void ice_key_unpin(struct ice_key *k)
{
	/* Release our use of the handles; the last one acquires all of them before freeing. */
	if (k && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
		key_free(k);
}

/* Put k (NULL: empty) into the slot; drops the slot's reference to the old key. */
static void slot_swap(struct ice_store *s, unsigned int slot, struct ice_key *k)
{
	struct ice_key *old;

	vmm_lock(&s->lock);
	old = s->slots[slot];
	s->slots[slot] = k;
	vmm_unlock(&s->lock);
	ice_key_unpin(old);
}

void ice_slot_evict(struct ice_store *s, unsigned int slot)
{
	if (slot >= s->max_slots)
		return;
	pthread_mutex_lock(&s->key_lock);
	slot_swap(s, slot, NULL);
	pthread_mutex_unlock(&s->key_lock);
}

void ice_store_evict_all(struct ice_store *s)
{
	unsigned int i;

	pthread_mutex_lock(&s->key_lock);
	for (i = 0; i < s->max_slots; i++)
		slot_swap(s, i, NULL);
	pthread_mutex_unlock(&s->key_lock);
}

void ice_store_free(struct ice_store *s)
{
	ice_store_evict_all(s);
	gcry_free(s->wrapping_key); /* secure memory: wiped on free */
	s->wrapping_key = NULL;
}

uint32_t ice_slot_du(struct ice_store *s, unsigned int slot)
{
	struct ice_key *k = ice_key_pin(s, slot);
	uint32_t du = k ? k->du_size : 0;

	ice_key_unpin(k);
	return du;
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

/* Build the key's handles; nothing is shared yet. */
static int key_make(const struct ice_store *s, struct ice_key *k, const uint8_t *key,
		    size_t key_len)
{
	unsigned int kb = ice_aes_key_bytes(s->key_size);
	uint8_t *digest;

	switch (s->alg) {
	case ICE_ALG_AES_XTS:
		k->cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_XTS, key, key_len);
		return k->cipher ? 0 : -EIO;
	case ICE_ALG_AES_ECB:
		k->cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_ECB, key, key_len);
		return k->cipher ? 0 : -EIO;
	case ICE_ALG_BITLOCKER_AES_CBC:
		k->cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_CBC, key, key_len);
		k->iv_cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_ECB, key, key_len);
		return k->cipher && k->iv_cipher ? 0 : -EIO;
	case ICE_ALG_ESSIV_AES_CBC:
		/* The salt key SHA-256(K) lives in secure memory too. */
		digest = gcry_malloc_secure(32);
		if (!digest)
			return -ENOMEM;
		gcry_md_hash_buffer(GCRY_MD_SHA256, digest, key, key_len);
		k->cipher = open_keyed(gcry_aes(kb), GCRY_CIPHER_MODE_CBC, key, key_len);
		k->iv_cipher = open_keyed(GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_ECB, digest, 32);
		gcry_free(digest); /* secure memory is wiped when freed */
		return k->cipher && k->iv_cipher ? 0 : -EIO;
	}
	return -EINVAL;
}

/*
 * Load a slot; with still_valid, only if still_valid(arg) holds under
 * key_lock right before the slot changes (ice_slot_program_if()).
 */
static int slot_load(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
		     uint32_t du_size, const char **why, bool (*still_valid)(const void *arg),
		     const void *arg)
{
	struct ice_key *k;
	int err = 0;

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
	/*
	 * IEEE 1619-2018, 5.1: the two halves must differ (libgcrypt 1.10 only
	 * checks that in FIPS mode). The one check, for every key that reaches
	 * a slot: keys files, both key queues, keys derived from wrapped ones.
	 */
	if (s->alg == ICE_ALG_AES_XTS && ice_xts_halves_equal(key, key_len)) {
		*why = "the two XTS key halves are equal";
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		*why = "out of memory";
		return -ENOMEM;
	}
	atomic_init(&k->refs, 1); /* the slot's */
	k->alg = s->alg;
	k->du_size = du_size;
	vmm_lock_init(&k->lock);
	/* Built under key_lock: one key in flight per store (ice_secmem_keys()). */
	pthread_mutex_lock(&s->key_lock);
	if (key_make(s, k, key, key_len)) {
		*why = "libgcrypt refused the key, or its locked pool is full (size it with "
		       "ice_global_init() for every slot)";
		err = -EIO;
	} else if (still_valid && !still_valid(arg)) {
		*why = "the device was reset meanwhile";
		err = -ECANCELED;
	}
	if (!err)
		slot_swap(s, slot, k);
	pthread_mutex_unlock(&s->key_lock);
	if (err)
		key_free(k); /* wipes what key_make() built */
	return err;
}

int ice_slot_load(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
		  uint32_t du_size, const char **why)
{
	return slot_load(s, slot, key, key_len, du_size, why, NULL, NULL);
}

int ice_slot_program_if(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
			uint32_t du_size, bool (*still_valid)(const void *arg), const void *arg)
{
	const char *why;

	return slot_load(s, slot, key, key_len, du_size, &why, still_valid, arg);
}

int ice_slot_program(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
		     uint32_t du_size)
{
	return ice_slot_program_if(s, slot, key, key_len, du_size, NULL, NULL);
}

void *ice_secure_alloc(size_t bytes)
{
	return gcry_calloc_secure(1, bytes);
}

void ice_secure_free(void *p)
{
	gcry_free(p); /* libgcrypt wipes secure memory when it frees it */
}

uint32_t ice_key_check(const struct ice_key *k, uint64_t dun, uint64_t len)
{
	uint32_t du = k->du_size;
	uint64_t units;

	if (len == 0 || len % du)
		return 0;
	units = len / du;
	/* The last unit's DUN, dun + units - 1, must fit in 64 bits. */
	if (units - 1 > UINT64_MAX - dun)
		return 0;
	return du;
}

uint32_t ice_check(struct ice_store *s, unsigned int slot, uint64_t dun, uint64_t len)
{
	struct ice_key *k = ice_key_pin(s, slot);
	uint32_t du = k ? ice_key_check(k, dun, len) : 0;

	ice_key_unpin(k);
	return du;
}

static void put_le128(uint8_t iv[16], uint64_t lo, uint64_t hi)
{
	lo = htole64(lo);
	hi = htole64(hi);
	memcpy(iv, &lo, 8);
	memcpy(iv + 8, &hi, 8);
}

int ice_crypt(struct ice_store *s, unsigned int slot, uint64_t dun, uint8_t *buf, size_t len,
	      bool encrypt)
{
	return ice_crypt_to(s, slot, dun, buf, buf, len, encrypt);
}

int ice_crypt_to(struct ice_store *s, unsigned int slot, uint64_t dun, const uint8_t *in,
		 uint8_t *out, size_t len, bool encrypt)
{
	struct ice_key *k = ice_key_pin(s, slot);
	int err = k ? ice_key_crypt_to(k, dun, in, out, len, encrypt) : -EIO;

	ice_key_unpin(k);
	return err;
}

int ice_key_crypt_to(struct ice_key *k, uint64_t dun, const uint8_t *in, uint8_t *out, size_t len,
		     bool encrypt)
{
	gcry_error_t (*op)(gcry_cipher_hd_t, void *, size_t, const void *, size_t) =
		encrypt ? gcry_cipher_encrypt : gcry_cipher_decrypt;
	uint32_t du = k->du_size;
	uint8_t iv[16];
	int err = 0;
	size_t off;

	if (len % du)
		return -EIO;
	if (in == out) /* libgcrypt's in-place form */
		in = NULL;
	vmm_lock(&k->lock);
	if (k->alg == ICE_ALG_AES_ECB) { /* no IV: all units in one call */
		err = op(k->cipher, out, len, in, in ? len : 0) ? -EIO : 0;
		goto out;
	}
	for (off = 0; off < len && !err; off += du, dun++) {
		switch (k->alg) {
		case ICE_ALG_AES_XTS:
			put_le128(iv, dun, 0);
			break;
		case ICE_ALG_BITLOCKER_AES_CBC: {
			/* DUN x DU size as a 128-bit number: DU size is 2^k, 9 <= k <= 16. */
			unsigned int sh = (unsigned int)__builtin_ctz(du);

			put_le128(iv, dun << sh, dun >> (64 - sh));
			err = gcry_cipher_encrypt(k->iv_cipher, iv, 16, NULL, 0) ? -EIO : 0;
			break;
		}
		case ICE_ALG_ESSIV_AES_CBC:
			put_le128(iv, dun, 0);
			err = gcry_cipher_encrypt(k->iv_cipher, iv, 16, NULL, 0) ? -EIO : 0;
			break;
		default:
			err = -EIO;
			break;
		}
		if (!err && (gcry_cipher_setiv(k->cipher, iv, 16) ||
			     op(k->cipher, out + off, du, in ? in + off : NULL, in ? du : 0)))
			err = -EIO;
	}
out:
	vmm_unlock(&k->lock);
	return err;
}

int ice_store_init_default(struct ice_store *s)
{
	int rc = ice_store_init(s, ICE_DEFAULT_ALG, ICE_DEFAULT_KEY_SIZE, ICE_DEFAULT_DU_MASK,
				ICE_DEFAULT_MAX_SLOTS, ICE_DEFAULT_SLOT_OFFSET);

	s->guest_keys = !rc;
	return rc;
}

unsigned int ice_max_slots(const struct ice_store *s)
{
	return s->max_slots;
}

uint8_t ice_du_mask(const struct ice_store *s)
{
	return s->du_mask;
}

bool ice_is_aes_256_xts(const struct ice_store *s)
{
	return s->alg == ICE_ALG_AES_XTS && s->key_size == ICE_KEY_256;
}

bool ice_guest_programmed(const struct ice_store *s)
{
	return s->guest_keys;
}

const uint8_t *ice_wrapping_key(const struct ice_store *s)
{
	return s->wrapping_key;
}

uint16_t ice_slot_info(const struct ice_store *s)
{
	return (uint16_t)(s->max_slots << 8 | s->slot_offset);
}

uint32_t ice_capability(const struct ice_store *s)
{
	return (uint32_t)s->alg << 24 | (uint32_t)s->du_mask << 16 | (uint32_t)s->key_size << 8;
}
