/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The inline crypto engine (ICE): a keyslot store and per-data-unit
 * encryption, like the crypto engine of a UFS/eMMC host controller. No virtio
 * knowledge: the virtio-blk device, the offline `icevmm ice` command and the
 * tests all use this one implementation. Wire format and decisions:
 * docs/ICE.md (from the VIRTIO_BLK_F_ICE draft).
 *
 * Keys live only in libgcrypt's locked secure memory (inside the cipher
 * handles), are wiped when a slot is evicted, replaced or the store freed
 * (once no request pins them), and are never printed.
 */
#ifndef ICEVMM_ICE_H
#define ICEVMM_ICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/lock.h"

/* Algorithm ids of the capability word */
enum ice_alg {
	ICE_ALG_AES_XTS = 0,
	ICE_ALG_BITLOCKER_AES_CBC = 1,
	ICE_ALG_AES_ECB = 2,
	ICE_ALG_ESSIV_AES_CBC = 3,
};

/* Key size ids: the size of each AES key (for XTS, of each half) */
enum ice_key_size { ICE_KEY_128 = 1, ICE_KEY_192 = 2, ICE_KEY_256 = 3 };

/* Bytes of one AES key of size k (the capability's key size id). */
static inline unsigned int ice_aes_key_bytes(enum ice_key_size k)
{
	return k == ICE_KEY_128 ? 16 : k == ICE_KEY_192 ? 24 : 32;
}

#define ICE_MAX_SLOTS 255
#define ICE_MIN_DU 512
#define ICE_MAX_DU 65536
#define ICE_MAX_KEY 64 /* AES-256-XTS: two 32-byte keys */

/*
 * Keys change while the VM runs (a guest programs its own, docs/ICE.md), so
 * a request pins the key it starts with. Locking model:
 *
 *   struct ice_key  one loaded key: its cipher handles (in secure memory) and
 *               data unit size, fixed once built. Reference counted (refs,
 *               atomic): the slot that holds it is one reference, each
 *               request that pinned it another. The last ice_key_unpin()
 *               closes the handles (which wipes the key schedules) and frees
 *               it, on whichever thread drops it. A replaced or evicted key
 *               thus lives on until the request that pinned it completes:
 *               PROGRAM and EVICT never wait for request I/O (nor does a
 *               reset, which runs under the transport's register lock).
 *   key->lock   serialises use of the key's handles: libgcrypt handles are
 *               not thread-safe (setiv then en/decrypt), and two requests
 *               on different vCPUs may pin the same key. Held for one
 *               en/decrypt call (a run of data units), never across I/O.
 *   s->lock     the pin lock: guards slots[] (each pointer and the slot's
 *               reference). Held for a pointer load and a reference
 *               increment (pin), or a pointer swap (program, evict); never
 *               while building, closing or using a key.
 *   s->key_lock serialises programming and eviction of the store, so at most
 *               one key is being built (or dropped) at a time: the secure
 *               pool's worst case is ice_secmem_keys(). Held for one key
 *               schedule at most; never waits for I/O.
 *
 * Lock order: key_lock, then lock; key->lock is never held with either.
 */
struct ice_key;

struct ice_store {
	enum ice_alg alg;
	enum ice_key_size key_size;
	uint8_t du_mask; /* bit j: data units of 512 << j bytes */
	uint8_t max_slots;
	uint8_t slot_offset;
	/*
	 * Guest-programmed (docs/ICE.md "Two kinds of ICE disk"): the store
	 * starts empty and the guest loads keys through the key queue
	 * (VIRTIO_BLK_F_ICE_KEYQ). False: host-provisioned from a keys file,
	 * or guest_keys = no; the device offers no key queue.
	 */
	bool guest_keys;
	/*
	 * The long-term wrapping key of hardware-wrapped keys (devices/
	 * ice_hwkey.h): a keys file's wrapping_key, ICE_HWKEY_WRAPPING_KEY_SIZE
	 * bytes of libgcrypt's secure memory, wiped by ice_store_free(); NULL:
	 * none given (the device then makes one per run).
	 */
	uint8_t *wrapping_key;
	struct vmm_lock lock;		      /* the pin lock: slots[] (on every request) */
	pthread_mutex_t key_lock;	      /* one program or evict at a time */
	struct ice_key *slots[ICE_MAX_SLOTS]; /* NULL: empty */
};

/*
 * Once per process, before cipher handles exist: libgcrypt with a locked
 * secure-memory pool of secmem_bytes (ice_secmem_size() of every slot the
 * process will load; the pool does not grow: growth would not be locked).
 * Later calls are no-ops. Returns 0 or prints why.
 */
int ice_global_init(size_t secmem_bytes);
/* Secure memory for nslots keys of any algorithm, and parsing. */
size_t ice_secmem_size(unsigned int nslots);
/*
 * Keys a store whose keys change at run time can hold at once, worst case
 * (pass the sum over stores to ice_secmem_size()): every slot, one key being
 * built by a program (key_lock), and one replaced or evicted key per request
 * that still pins it (pinners: requests its device serves at once, which
 * the device states: BLK_KEY_PINNERS, devices/blk.h). A store loaded once
 * from a keys file needs only its slots.
 */
static inline unsigned int ice_secmem_keys(unsigned int max_slots, unsigned int pinners)
{
	return max_slots + 1 + pinners;
}

/* An empty store with this capability; -EINVAL if the wire format forbids it. */
int ice_store_init(struct ice_store *s, enum ice_alg alg, enum ice_key_size key_size,
		   uint8_t du_mask, unsigned int max_slots, unsigned int slot_offset);
void ice_store_free(struct ice_store *s); /* evicts (wipes) every slot */

/* Key bytes a slot of this store takes (XTS: both halves). */
size_t ice_key_len(const struct ice_store *s);

/*
 * Load a slot: checks the key length, the data unit size and that XTS
 * halves differ (IEEE 1619-2018, 5.1: the one place that rule is checked,
 * for keys files and guests alike); sets the key once (the key bytes go
 * straight into libgcrypt's secure memory; key is not kept). Replaces the
 * slot's key atomically for requests: one that pinned the old key finishes
 * with it. Safe while other threads do I/O. Returns 0, or -EINVAL / -EIO with
 * *why set (no key bytes in it); on failure the slot keeps what it held.
 */
int ice_slot_load(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
		  uint32_t du_size, const char **why);
/*
 * A guest's PROGRAM: ice_slot_load() with nothing printed. Returns 0,
 * -EINVAL (slot, length, data unit size, equal XTS halves) or -EIO
 * (libgcrypt refused the key); a refused program changes nothing: the slot
 * keeps its previous key, or stays empty.
 */
int ice_slot_program(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
		     uint32_t du_size);
/*
 * The same, committed only if still_valid(arg) holds when the slot is about
 * to change (called under key_lock): else -ECANCELED, and nothing changed.
 * A device passes "is the command's queue still the one it came from"
 * (virtio_chain_still_current(), virtio/device.h) and evicts every slot
 * under key_lock on reset, after the transport moved the queue's generation
 * on: so a PROGRAM that raced with a reset either lands before the reset
 * (and is wiped by it) or not at all, never in the fresh device. The engine
 * knows nothing of queues: only this answer.
 */
int ice_slot_program_if(struct ice_store *s, unsigned int slot, const uint8_t *key, size_t key_len,
			uint32_t du_size, bool (*still_valid)(const void *arg), const void *arg);
/*
 * Empty one slot (out of range or empty: nothing happens) or every slot. The
 * key is wiped now, or when the request that pinned it completes; neither
 * call waits for I/O (ice_store_evict_all() is what a device reset calls).
 */
void ice_slot_evict(struct ice_store *s, unsigned int slot);
void ice_store_evict_all(struct ice_store *s);
/* The data unit size of the slot's key, 0 if the slot is empty or out of range. */
uint32_t ice_slot_du(struct ice_store *s, unsigned int slot);

/*
 * Pin the slot's current key for one request: NULL if the slot is empty or
 * out of range. The key stays usable (its handles open, its data unit size
 * fixed) until ice_key_unpin(), whatever programs or evictions happen
 * meanwhile. Cheap: the pin lock and an atomic increment.
 */
struct ice_key *ice_key_pin(struct ice_store *s, unsigned int slot);
void ice_key_unpin(struct ice_key *k); /* NULL is fine */
/* ice_check() and ice_crypt_to() on a pinned key. */
uint32_t ice_key_check(const struct ice_key *k, uint64_t dun, uint64_t len);
int ice_key_crypt_to(struct ice_key *k, uint64_t dun, const uint8_t *in, uint8_t *out, size_t len,
		     bool encrypt);

/*
 * One-shot forms that pin the slot's key for the call (the offline command,
 * tests). Check that a request (slot, first DUN, length) is one the engine can do:
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

/*
 * Zeroed bytes in libgcrypt's locked pool (after ice_global_init()), e.g. a
 * key-queue command buffer; NULL if the pool is full. Freed with
 * ice_secure_free(), which wipes them (NULL is fine).
 */
void *ice_secure_alloc(size_t bytes);
void ice_secure_free(void *p);

/*
 * Equal XTS halves (IEEE 1619-2018, 5.1, forbids them), compared without an
 * early exit like every look at key bytes: ice_slot_load()'s check.
 */
static inline bool ice_xts_halves_equal(const uint8_t *key, size_t len)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < len / 2; i++)
		acc |= key[i] ^ key[len / 2 + i];
	return !acc;
}

/* OR of bytes [from, to) of buf: zero iff they all are (command fields that must be 0). */
static inline uint8_t ice_bytes_or(const uint8_t *buf, size_t from, size_t to)
{
	uint8_t acc = 0;

	for (; from < to; from++)
		acc |= buf[from];
	return acc;
}

/* Config-space words (docs/ICE.md): slot_info and capability. */
uint16_t ice_slot_info(const struct ice_store *s);
uint32_t ice_capability(const struct ice_store *s);

/*
 * What devices and the offline command read of a store (its fields are the
 * engine's): the slot count, the data unit sizes (bit j: 512 << j bytes),
 * whether the engine is AES-256-XTS (v4's one crypto mode), whether its
 * guest programs it, and the keys file's wrapping key (NULL: none).
 */
unsigned int ice_max_slots(const struct ice_store *s);
uint8_t ice_du_mask(const struct ice_store *s);
bool ice_is_aes_256_xts(const struct ice_store *s);
bool ice_guest_programmed(const struct ice_store *s);
const uint8_t *ice_wrapping_key(const struct ice_store *s);

/*
 * Configuration: the two kinds of ICE disk (docs/ICE.md "Two kinds of ICE
 * disk"). A host-provisioned disk's keys come from a keys file's [slot N]
 * sections, loaded once at start-up; the device offers no key queue. A
 * guest-programmed disk (guest_keys) starts with every slot empty and its
 * guest loads keys through the key queue: `--disk PATH,ice` (the default
 * engine below), or a keys file without [slot N] sections, which describes
 * the engine. Never both: `guest_keys = yes` with [slot N] sections is an
 * error; `guest_keys = no` turns the key queue off.
 */
#define ICE_DEFAULT_ALG ICE_ALG_AES_XTS
#define ICE_DEFAULT_KEY_SIZE ICE_KEY_256
#define ICE_DEFAULT_DU_MASK 0x0f /* 512, 1024, 2048, 4096 */
#define ICE_DEFAULT_MAX_SLOTS 32 /* also a keys file's default max_slots */
#define ICE_DEFAULT_SLOT_OFFSET 0

/* The default engine of `--disk PATH,ice`: every slot empty, guest_keys. */
int ice_store_init_default(struct ice_store *s);

/*
 * Keys files (INI, see docs/ICE.md). Errors are printed as "FILE:LINE: reason"
 * (never with key material). A file readable by group or others is refused
 * unless allow_insecure. Each file is read once:
 *
 * ice_keys_read() reads it into locked memory, checks its syntax, its
 * sections and the values of [ice] (so the engine, and whether the guest
 * programs it, is known): NULL if it is refused (printed).
 * ice_keys_nslots() is how many [slot N] sections it has.
 * ice_keys_pool_keys() is how many keys its store may hold at once, worst
 * case, when its device serves up to pinners requests at once (the device
 * says: BLK_KEY_PINNERS): what libgcrypt's secure pool needs for the disk
 * (sum it over the ICE disks and pass the sum to ice_secmem_size(); k NULL:
 * the default engine).
 * ice_store_load_keys() checks the slots' values and loads them into s, once:
 * 0, or -1 (printed; s is left empty); either way it wipes the text and the
 * decoded keys from k. ice_keys_free() wipes and frees k (NULL is fine).
 * ice_store_load_file() does all of it.
 */
struct ice_keys;
struct ice_keys *ice_keys_read(const char *path, bool allow_insecure);
unsigned int ice_keys_nslots(const struct ice_keys *k);
unsigned int ice_keys_pool_keys(const struct ice_keys *k, unsigned int pinners);
int ice_store_load_keys(struct ice_store *s, struct ice_keys *k);
void ice_keys_free(struct ice_keys *k);
int ice_store_load_file(struct ice_store *s, const char *path, bool allow_insecure);

#endif
