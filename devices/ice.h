/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The inline crypto engine (ICE): a keyslot store and per-data-unit
 * encryption, like the crypto engine of a UFS/eMMC host controller. No virtio
 * knowledge: the virtio-blk device, the offline `icevmm ice` command and the
 * tests all use this one implementation. Wire format and decisions:
 * docs/ICE.md (from the VIRTIO_BLK_F_ICE draft).
 *
 * Keys live only in libgcrypt's locked secure memory (inside the cipher
 * handles), are wiped when a slot is evicted or the store freed, and are
 * never printed.
 */
#ifndef ICEVMM_ICE_H
#define ICEVMM_ICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Algorithm ids of the capability word */
enum ice_alg {
	ICE_ALG_AES_XTS = 0,
	ICE_ALG_BITLOCKER_AES_CBC = 1,
	ICE_ALG_AES_ECB = 2,
	ICE_ALG_ESSIV_AES_CBC = 3,
};

/* Key size ids: the size of each AES key (for XTS, of each half) */
enum ice_key_size { ICE_KEY_128 = 1, ICE_KEY_192 = 2, ICE_KEY_256 = 3 };

#define ICE_MAX_SLOTS 255
#define ICE_MIN_DU 512
#define ICE_MAX_DU 65536
#define ICE_MAX_KEY 64 /* AES-256-XTS: two 32-byte keys */

struct ice_slot {
	bool loaded;
	uint32_t du_size;
	void *cipher;	 /* gcry_cipher_hd_t: XTS, CBC or ECB, keyed once at load */
	void *iv_cipher; /* ESSIV / BitLocker: AES-ECB that makes each IV */
};

struct ice_store {
	enum ice_alg alg;
	enum ice_key_size key_size;
	uint8_t du_mask; /* bit j: data units of 512 << j bytes */
	uint8_t max_slots;
	uint8_t slot_offset;
	/*
	 * Held while a slot is used, loaded or evicted: cipher handles are not
	 * thread-safe, and slots must stay loadable at run time.
	 */
	pthread_mutex_t lock;
	struct ice_slot slots[ICE_MAX_SLOTS];
};

/*
 * Once per process, before cipher handles exist: libgcrypt with a locked
 * secure-memory pool of secmem_bytes (ice_secmem_size() of every slot the
 * process will load; the pool does not grow: growth would not be locked).
 * Later calls are no-ops. Returns 0 or prints why.
 */
int ice_global_init(size_t secmem_bytes);
/* Secure memory for nslots slots of any algorithm, and parsing. */
size_t ice_secmem_size(unsigned int nslots);

/* An empty store with this capability; -EINVAL if the wire format forbids it. */
int ice_store_init(struct ice_store *s, enum ice_alg alg, enum ice_key_size key_size,
		   uint8_t du_mask, unsigned int max_slots, unsigned int slot_offset);
void ice_store_free(struct ice_store *s); /* evicts (wipes) every slot */

/* Key bytes a slot of this store takes (XTS: both halves). */
size_t ice_key_len(const struct ice_store *s);

/*
 * Program a slot: checks the key length, XTS halves, data unit size; sets
 * the key once. Returns 0, or -EINVAL with *why set (no key bytes in it).
 */
int ice_slot_load(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
		  uint32_t du_size, const char **why);
void ice_slot_evict(struct ice_store *s, unsigned int slot);

/*
 * Check that a request (slot, first DUN, length) is one the engine can do:
 * slot in range and loaded, len a positive multiple of its data unit size,
 * last DUN <= 2^64 - 1. Returns the slot's data unit size, or 0.
 */
uint32_t ice_check(struct ice_store *s, unsigned int slot, uint64_t dun, uint64_t len);

/*
 * En/decrypt len bytes in place: whole data units, unit i with DUN dun + i.
 * Call ice_check() first. Returns 0 or -EIO.
 */
int ice_crypt(struct ice_store *s, unsigned int slot, uint64_t dun, uint8_t *buf, size_t len,
	      bool encrypt);
/* The same from in to out (distinct, non-overlapping buffers, or in == out). */
int ice_crypt_to(struct ice_store *s, unsigned int slot, uint64_t dun, const uint8_t *in,
		 uint8_t *out, size_t len, bool encrypt);

/* Config-space words (docs/ICE.md): slot_info and capability. */
uint16_t ice_slot_info(const struct ice_store *s);
uint32_t ice_capability(const struct ice_store *s);

/*
 * Keys files (INI, see docs/ICE.md). Errors are printed as "FILE:LINE: reason"
 * (never with key material). A file readable by group or others is refused
 * unless allow_insecure. Each file is read once:
 *
 * ice_keys_read() reads it into locked memory and checks its syntax and
 * sections: NULL if it is refused (printed). ice_keys_nslots() is how many
 * [slot N] sections it has (to size ice_global_init). ice_store_load_keys()
 * checks the values and loads them into s, once: 0, or -1 (printed; s is left
 * empty); either way it wipes the text and the decoded keys from k.
 * ice_keys_free() wipes and frees k (NULL is fine). ice_store_load_file() does
 * all of it.
 */
struct ice_keys;
struct ice_keys *ice_keys_read(const char *path, bool allow_insecure);
unsigned int ice_keys_nslots(const struct ice_keys *k);
int ice_store_load_keys(struct ice_store *s, struct ice_keys *k);
void ice_keys_free(struct ice_keys *k);
int ice_store_load_file(struct ice_store *s, const char *path, bool allow_insecure);

#endif
