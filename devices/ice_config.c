// SPDX-License-Identifier: GPL-2.0
/*
 * Keys files: a small INI dialect, parsed here (docs/ICE.md has the format
 * and the rules of the syntax).
 *
 *   [ice]
 *   algorithm = aes-xts        ; aes-xts | bitlocker-aes-cbc | aes-ecb | essiv-aes-cbc
 *   key_bits = 256             ; 128 | 192 | 256 (each AES key)
 *   data_unit_sizes = 512, 4096
 *   max_slots = 32             ; 1..255 (default 32)
 *   slot_offset = 0            ; 0..255 (default 0)
 *   guest_keys = no            ; yes | no; default: yes without [slot N], else no
 *   wrapping_key = 00...1f     ; guest-programmed v4 disks: the long-term wrapping
 *                              ; key of hardware-wrapped keys (32 bytes), or
 *                              ; wrapping_key_file = PATH
 *   [slot 3]
 *   key = 0001...3f            ; or key_file = PATH (raw bytes, relative to this file)
 *   data_unit_size = 4096      ; may be left out if one size is listed
 *
 * Key text must not linger: the file is opened once and read with read(2)
 * (no stdio buffer) into memory locked with mlock(2) (ice_keyread.c), and
 * parsed there in place: names and values are cut out of the text with NULs,
 * never copied. The text is wiped and unlocked once the store is loaded.
 * Decoded keys live in libgcrypt's locked secure memory until they are set
 * into their cipher handles.
 *
 * Two steps over the one read: ice_keys_read() checks the syntax, the
 * sections and [ice], and so knows the kind of disk (host-provisioned:
 * [slot N] sections; guest-programmed: none, unless guest_keys = no) and
 * what its store may hold, which sizes libgcrypt's secure pool; the pool must
 * exist before the first key is decoded into it. ice_store_load_keys() then
 * checks the slots' values and loads them. The lexer numbers the lines, so
 * every error names its own.
 */
#include <gcrypt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/log.h"
#include "../vmm/strict_num.h"
#include "ice.h"
#include "ice_hwkey.h"
#include "ice_keyread.h"
#include "ice_keys_lex.h"

/* keys_entry.section: a slot number, or this */
#define ICE_SECTION (-1)

struct pending_slot {
	unsigned int header_line; /* 0: no such section */
	uint8_t *key;		  /* secure memory */
	size_t key_len;
	uint32_t du_size;
	bool has_key, has_du;
};

struct ice_keys {
	struct ice_store *store;
	char *path;
	bool allow_insecure;
	struct ice_keys_text text; /* locked; holds every name and value */
	struct keys_entry *entries;
	unsigned int nentries;
	unsigned int line; /* of the entry being checked */
	/* [ice], checked by ice_keys_read() */
	unsigned int ice_line;
	int alg; /* -1: not given */
	unsigned int key_bits, max_slots, slot_offset;
	uint8_t du_mask;
	int guest_keys; /* as given: -1 not given, 0 no, 1 yes */
	unsigned int guest_keys_line;
	bool guest;		    /* the outcome: a guest-programmed disk */
	unsigned int seen_ice_keys; /* bit per key: duplicates are errors */
	const char *wrap_value;	    /* wrapping_key(_file): decoded with the slots */
	unsigned int wrap_line;	    /* 0: not given */
	bool wrap_file;
	bool store_ready;
	/* [slot N] */
	struct pending_slot slots[ICE_MAX_SLOTS];
	unsigned int seen_slot_keys[ICE_MAX_SLOTS];
	unsigned int nslots;
	unsigned int first_slot, first_slot_line; /* the first [slot N] header; line 0: none */
	char key_path[PATH_MAX];  /* of a key_file: a key pasted there stays off the stack */
	char why[PATH_MAX + 160]; /* the first error; never holds key material */
	unsigned int why_line;	  /* its line; 0: the file as a whole */
};

/*
 * A value or name to quote in a message: only if it is short. Anything long
 * might be a key typed into the wrong place, and no message shows a key.
 */
static const char *shown(const char *v)
{
	return strlen(v) <= 16 ? v : "(long value not shown)";
}

static void vfail_at(struct ice_keys *p, unsigned int line, const char *fmt, va_list ap)
{
	if (p->why[0])
		return; /* report only the first error */
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	p->why_line = line;
}

/* An error about the line being checked; returns 0. */
static __attribute__((format(printf, 2, 3))) int fail(struct ice_keys *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(p, p->line, fmt, ap);
	va_end(ap);
	return 0;
}

/* An error about another line (a section header, say). */
static __attribute__((format(printf, 3, 4))) int fail_at(struct ice_keys *p, unsigned int line,
							 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(p, line, fmt, ap);
	va_end(ap);
	return 0;
}

static const char *const alg_names[] = {
	[ICE_ALG_AES_XTS] = "aes-xts",
	[ICE_ALG_BITLOCKER_AES_CBC] = "bitlocker-aes-cbc",
	[ICE_ALG_AES_ECB] = "aes-ecb",
	[ICE_ALG_ESSIV_AES_CBC] = "essiv-aes-cbc",
};

/* Split in place: v is in the locked text (a key pasted here is never copied). */
static int parse_du_list(struct ice_keys *p, char *v)
{
	char *tok, *next;
	long du;

	/* Comma-separated, white space allowed around items, no empty items. */
	for (tok = v; tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = 0;
		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = 0;
		if (!*tok)
			return fail(p, "data_unit_sizes: an empty item (expected e.g. 512, 4096)");
		du = strict_decimal(tok, ICE_MIN_DU, ICE_MAX_DU);
		if (du < 0 || (du & (du - 1)))
			return fail(p,
				    "data_unit_sizes: '%s' is not a power of two from 512 to 65536",
				    shown(tok));
		if (p->du_mask & (du / ICE_MIN_DU))
			return fail(p, "data_unit_sizes: %s is listed twice", tok);
		p->du_mask |= (uint8_t)(du / ICE_MIN_DU);
	}
	return 1;
}

static int ice_key(struct ice_keys *p, const char *name, char *v)
{
	static const char *const keys[] = { "algorithm",    "key_bits",		"data_unit_sizes",
					    "max_slots",    "slot_offset",	"guest_keys",
					    "wrapping_key", "wrapping_key_file" };
	unsigned int i, k = 0;
	long n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(name, keys[i]))
			k = 1U << i;
	if (!k)
		return fail(p, "unknown key '%s' in [ice]", shown(name));
	if (p->seen_ice_keys & k)
		return fail(p, "'%s' is given twice in [ice]", shown(name));
	p->seen_ice_keys |= k;
	switch (k) {
	case 1:
		for (i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
			if (!strcmp(v, alg_names[i]))
				p->alg = (int)i;
		if (p->alg < 0)
			return fail(p,
				    "unknown algorithm '%s' (aes-xts, bitlocker-aes-cbc, aes-ecb "
				    "or essiv-aes-cbc)",
				    shown(v));
		return 1;
	case 2:
		n = strict_decimal(v, 128, 256);
		if (n != 128 && n != 192 && n != 256)
			return fail(p, "key_bits '%s': expected 128, 192 or 256", shown(v));
		p->key_bits = (unsigned int)n;
		return 1;
	case 4:
		return parse_du_list(p, v);
	case 8:
		n = strict_decimal(v, 1, ICE_MAX_SLOTS);
		if (n < 0)
			return fail(p, "max_slots '%s': expected 1 to 255", shown(v));
		p->max_slots = (unsigned int)n;
		return 1;
	case 16:
		n = strict_decimal(v, 0, 255);
		if (n < 0)
			return fail(p, "slot_offset '%s': expected 0 to 255", shown(v));
		p->slot_offset = (unsigned int)n;
		return 1;
	case 32:
		/* Exactly yes or no: a typo must not pick a kind of disk. */
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return fail(p, "guest_keys '%s': expected yes or no", shown(v));
		p->guest_keys = !strcmp(v, "yes");
		p->guest_keys_line = p->line;
		return 1;
	default:
		/* Decoded into secure memory with the slots' keys (the pool exists then). */
		if (p->wrap_line)
			return fail(p, "[ice] takes wrapping_key or wrapping_key_file, not both");
		p->wrap_value = v;
		p->wrap_line = p->line;
		p->wrap_file = k == 128;
		return 1;
	}
}

static enum ice_key_size key_size_id(unsigned int key_bits)
{
	return key_bits == 128 ? ICE_KEY_128 : key_bits == 192 ? ICE_KEY_192 : ICE_KEY_256;
}

/* Initialise s with the engine [ice] describes: 0, or -EINVAL if the wire format forbids it. */
static int init_engine(const struct ice_keys *p, struct ice_store *s)
{
	return ice_store_init(s, (enum ice_alg)p->alg, key_size_id(p->key_bits), p->du_mask,
			      p->max_slots, p->slot_offset);
}

/*
 * [ice] as a whole, once its lines are parsed: the engine, and the kind of
 * disk. guest_keys = yes with [slot N] sections is reported at the
 * guest_keys line, the one to delete or change (the message names the first
 * slot's line too): the user asked for both kinds of disk at once.
 */
static int check_ice(struct ice_keys *p)
{
	struct ice_store engine;

	if (!p->ice_line)
		return fail_at(p, 0, "no [ice] section");
	if (p->alg < 0 || !p->key_bits || !p->du_mask)
		return fail_at(p, p->ice_line,
			       "[ice] needs algorithm, key_bits and data_unit_sizes");
	if (init_engine(p, &engine))
		return fail_at(p, p->ice_line,
			       "%s does not come with key_bits %u (AES-192 is for aes-ecb only)",
			       alg_names[p->alg], p->key_bits);
	ice_store_free(&engine); /* empty: nothing to wipe */
	if (p->nslots && p->guest_keys == 1)
		return fail_at(p, p->guest_keys_line,
			       "guest_keys = yes, but line %u has [slot %u]: a disk's keys come "
			       "from the keys file or from the guest, never both",
			       p->first_slot_line, p->first_slot);
	p->guest = !p->nslots && p->guest_keys != 0;
	/* Hardware-wrapped keys are programmed by the guest, so only such disks wrap them. */
	if (p->wrap_line && !p->guest)
		return fail_at(p, p->wrap_line,
			       "a wrapping key is for a disk whose guest programs its keys "
			       "(hardware-wrapped keys, spec=v4); this file provisions the slots");
	return 1;
}

/* The store, before its first slot is loaded (check_ice() passed). */
static int finish_ice(struct ice_keys *p)
{
	if (p->store_ready)
		return 1;
	if (init_engine(p, p->store))
		return fail_at(p, p->ice_line, "cannot set up the engine"); /* checked before */
	p->store->guest_keys = p->guest;
	p->store_ready = true;
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Check the key's length; takes ownership of key (secure memory). */
static int set_slot_key(struct ice_keys *p, struct pending_slot *ps, uint8_t *key, size_t len)
{
	size_t want = ice_key_len(p->store);

	ps->key = key;
	ps->key_len = len;
	ps->has_key = true;
	if (len != want)
		return fail(p,
			    "wrong key length: the key is %zu bytes; %s with key_bits %u takes %zu",
			    len, alg_names[p->alg], p->key_bits, want);
	return 1; /* equal XTS halves: the store refuses them (ice_slot_load()) */
}

/* The hex value of key `what` into secure memory: 1 with *key and *len, or 0. */
static int hex_key(struct ice_keys *p, const char *what, const char *v, uint8_t **key, size_t *len)
{
	size_t n = strlen(v), i;

	if (n == 0 || n % 2 || n / 2 > ICE_MAX_KEY * 2)
		return fail(p, "%s: expected an even number of hex digits", what);
	*key = gcry_malloc_secure(n / 2);
	if (!*key)
		return fail(p, "out of secure memory");
	for (i = 0; i < n; i += 2) {
		int hi = hexval(v[i]), lo = hexval(v[i + 1]);

		if (hi < 0 || lo < 0) {
			gcry_free(*key);
			*key = NULL;
			return fail(p, "%s: not a hex string", what);
		}
		(*key)[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 1;
}

/* The raw bytes of file v (relative to the keys file), at most max: 1 or 0. */
static int file_key(struct ice_keys *p, const char *what, const char *v, size_t max, uint8_t **key,
		    size_t *len)
{
	char *full = p->key_path;
	const char *slash = strrchr(p->path, '/'), *why;

	/* Relative to the keys file's directory. */
	if (v[0] == '/' || !slash)
		snprintf(full, sizeof(p->key_path), "%s", v);
	else
		snprintf(full, sizeof(p->key_path), "%.*s/%s", (int)(slash - p->path), p->path, v);
	/* The value is not echoed: a key pasted here by mistake must not be printed. */
	if (ice_read_key_file(full, p->allow_insecure, max, key, len, &why))
		return fail(p, "%s: %s", what, why);
	return 1;
}

static int slot_hex_key(struct ice_keys *p, struct pending_slot *ps, const char *v)
{
	uint8_t *key;
	size_t len;

	return hex_key(p, "key", v, &key, &len) && set_slot_key(p, ps, key, len);
}

static int slot_key_file(struct ice_keys *p, struct pending_slot *ps, const char *v)
{
	uint8_t *key;
	size_t len;

	return file_key(p, "key_file", v, ICE_MAX_KEY + 1, &key, &len) &&
	       set_slot_key(p, ps, key, len);
}

/* [ice] wrapping_key or wrapping_key_file, into the store: 1, or 0 with the error. */
static int load_wrapping_key(struct ice_keys *p)
{
	const char *what = p->wrap_file ? "wrapping_key_file" : "wrapping_key";
	uint8_t *key = NULL;
	size_t len = 0;
	int ok;

	if (!p->wrap_line)
		return 1;
	p->line = p->wrap_line;
	ok = p->wrap_file
		     ? file_key(p, what, p->wrap_value, ICE_HWKEY_WRAPPING_KEY_SIZE + 1, &key, &len)
		     : hex_key(p, what, p->wrap_value, &key, &len);
	if (ok && len != ICE_HWKEY_WRAPPING_KEY_SIZE)
		ok = fail(p, "%s: the key is %zu bytes; a wrapping key (AES-256) is %d", what, len,
			  ICE_HWKEY_WRAPPING_KEY_SIZE);
	if (!ok) {
		gcry_free(key); /* secure memory: wiped on free */
		return 0;
	}
	p->store->wrapping_key = key;
	return 1;
}

static int slot_entry(struct ice_keys *p, unsigned int slot, const char *name, const char *v)
{
	struct pending_slot *ps = &p->slots[slot];
	unsigned int k = !strcmp(name, "key")		   ? 1
			 : !strcmp(name, "key_file")	   ? 2
			 : !strcmp(name, "data_unit_size") ? 4
							   : 0;
	long du;

	if (!k)
		return fail(p, "unknown key '%s' in a [slot N] section", shown(name));
	if (!finish_ice(p))
		return 0;
	if (slot >= p->store->max_slots)
		return fail(p, "slot number is not below max_slots");
	if (p->seen_slot_keys[slot] & k)
		return fail(p, "'%s' is given twice in this slot", shown(name));
	p->seen_slot_keys[slot] |= k;
	if (k != 4 && ps->has_key)
		return fail(p, "a slot takes key or key_file, not both");
	if (k == 1)
		return slot_hex_key(p, ps, v);
	if (k == 2)
		return slot_key_file(p, ps, v);
	du = strict_decimal(v, ICE_MIN_DU, ICE_MAX_DU);
	if (du < 0 || (du & (du - 1)) || !(p->du_mask & (du / ICE_MIN_DU)))
		return fail(p, "data_unit_size '%s' is not one of [ice] data_unit_sizes", shown(v));
	ps->du_size = (uint32_t)du;
	ps->has_du = true;
	return 1;
}

/* "slot N" -> N, or -1. */
static long slot_number(const char *section)
{
	if (strncmp(section, "slot ", 5))
		return -1;
	return strict_decimal(section + 5, 0, ICE_MAX_SLOTS - 1);
}

static void report(const char *path, unsigned int line, const char *why)
{
	if (line)
		pr_err("%s:%u: %s", path, line, why);
	else
		pr_err("keys file %s: %s", path, why);
}

/* A section header's name: [ice] or [slot N] (keys_section_fn, ice_keys_lex.h). */
static const char *keys_section(void *ctx, const char *name, unsigned int line, int *section)
{
	struct ice_keys *p = ctx;
	long slot;

	if (!strcmp(name, "ice")) {
		if (p->ice_line)
			return "[ice] appears twice";
		p->ice_line = line;
		*section = ICE_SECTION;
		return NULL;
	}
	slot = slot_number(name);
	if (slot < 0)
		return "unknown section (expected [ice] or [slot N], N from 0 to 254)";
	if (!p->ice_line)
		return "a [slot N] section before [ice]: [ice] must come first";
	if (p->slots[slot].header_line)
		return "this [slot N] appears twice";
	p->slots[slot].header_line = line;
	if (!p->nslots++) {
		p->first_slot = (unsigned int)slot;
		p->first_slot_line = line;
	}
	*section = (int)slot;
	return NULL;
}

/* Lex the text into p->entries; prints the error, if any. */
static int keys_lex_text(struct ice_keys *p)
{
	unsigned int line;
	const char *why;

	if (keys_lex(p->text.buf, p->text.len, keys_section, p, &p->entries, &p->nentries, &line,
		     &why)) {
		report(p->path, line, why);
		return -1;
	}
	return 0;
}

/* Wipe every copy of key material that p holds: the text, the decoded keys. */
static void keys_wipe(struct ice_keys *p)
{
	for (unsigned int i = 0; i < ICE_MAX_SLOTS; i++) {
		gcry_free(p->slots[i].key); /* secure memory: wiped on free */
		p->slots[i].key = NULL;
	}
	ice_keys_text_free(&p->text);
	p->nentries = 0; /* their names and values were in the text */
	explicit_bzero(p->key_path, sizeof(p->key_path));
}

void ice_keys_free(struct ice_keys *p)
{
	if (!p)
		return;
	keys_wipe(p);
	free(p->entries);
	free(p->path);
	explicit_bzero(p, sizeof(*p));
	free(p);
}

/* The [ice] lines, checked once the file is lexed; prints the first error. */
static int keys_check_ice(struct ice_keys *p)
{
	for (unsigned int i = 0; i < p->nentries && !p->why[0]; i++) {
		const struct keys_entry *e = &p->entries[i];

		p->line = e->line;
		if (e->section == ICE_SECTION)
			ice_key(p, e->name, e->value);
	}
	if (p->why[0] || !check_ice(p)) {
		report(p->path, p->why_line, p->why);
		return -1;
	}
	return 0;
}

struct ice_keys *ice_keys_read(const char *path, bool allow_insecure)
{
	struct ice_keys *p = calloc(1, sizeof(*p));
	const char *why;

	if (!p || !(p->path = strdup(path))) {
		free(p);
		report(path, 0, "out of memory");
		return NULL;
	}
	p->allow_insecure = allow_insecure;
	p->alg = -1;
	p->max_slots = ICE_DEFAULT_MAX_SLOTS;
	p->guest_keys = -1;
	if (ice_keys_text_read(path, allow_insecure, &p->text, &why)) {
		report(path, 0, why);
		ice_keys_free(p);
		return NULL;
	}
	if (keys_lex_text(p) || keys_check_ice(p)) {
		ice_keys_free(p);
		return NULL;
	}
	return p;
}

unsigned int ice_keys_nslots(const struct ice_keys *p)
{
	return p->nslots;
}

unsigned int ice_keys_pool_keys(const struct ice_keys *p, unsigned int pinners)
{
	/* The default engine, and a keys file for guest programming: see ice_secmem_keys(). */
	if (!p)
		return ice_secmem_keys(ICE_DEFAULT_MAX_SLOTS, pinners);
	if (p->guest)
		return ice_secmem_keys(p->max_slots, pinners);
	/* Host-provisioned: loaded once, never replaced; guest_keys = no without slots: none. */
	return p->nslots;
}

/* After the entries: every slot complete and loaded into the store. */
static int keys_load_slots(struct ice_keys *p)
{
	struct ice_store *s = p->store;
	const char *why;
	unsigned int i;

	for (i = 0; i < ICE_MAX_SLOTS; i++) {
		struct pending_slot *ps = &p->slots[i];
		char msg[96];

		if (!ps->header_line)
			continue;
		if (i >= s->max_slots) {
			snprintf(msg, sizeof(msg), "slot %u is not below max_slots (%u)", i,
				 s->max_slots);
			return report(p->path, ps->header_line, msg), -1;
		}
		if (!ps->has_key) {
			snprintf(msg, sizeof(msg), "[slot %u] has no key or key_file", i);
			return report(p->path, ps->header_line, msg), -1;
		}
		if (!ps->has_du) {
			/* Allowed only when there is no choice. */
			if (s->du_mask & (s->du_mask - 1)) {
				snprintf(msg, sizeof(msg),
					 "[slot %u] needs data_unit_size: [ice] lists several "
					 "sizes",
					 i);
				return report(p->path, ps->header_line, msg), -1;
			}
			ps->du_size = ICE_MIN_DU * s->du_mask;
		}
		if (ice_slot_load(s, i, ps->key, ps->key_len, ps->du_size, &why))
			return report(p->path, ps->header_line, why), -1;
	}
	return 0;
}

int ice_store_load_keys(struct ice_store *s, struct ice_keys *p)
{
	unsigned int i;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (!p->text.buf)
		return -1; /* loaded once already: the text is gone */
	p->store = s;
	/*
	 * First use in this process (the offline command, not vmm/main.c): size
	 * the locked pool for this store, with no device serving requests.
	 */
	if (ice_global_init(ice_secmem_size(ice_keys_pool_keys(p, 0))))
		goto out;
	/* [ice] was checked by ice_keys_read(); the [slot N] lines come after it. */
	for (i = 0; i < p->nentries && !p->why[0]; i++) {
		const struct keys_entry *e = &p->entries[i];

		p->line = e->line;
		if (e->section != ICE_SECTION)
			slot_entry(p, (unsigned int)e->section, e->name, e->value);
	}
	if (p->why[0] || !finish_ice(p) || !load_wrapping_key(p)) {
		report(p->path, p->why_line, p->why);
		goto out;
	}
	if (!p->nslots && !p->guest)
		pr_info("keys file %s: guest_keys = no and no [slot N] sections: every slot "
			"stays empty",
			p->path);
	rc = keys_load_slots(p);
out:
	if (rc && p->store_ready)
		ice_store_free(s);
	keys_wipe(p); /* the keys are in their cipher handles now, or nowhere */
	return rc;
}

int ice_store_load_file(struct ice_store *s, const char *path, bool allow_insecure)
{
	struct ice_keys *p = ice_keys_read(path, allow_insecure);
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (p)
		rc = ice_store_load_keys(s, p);
	ice_keys_free(p);
	return rc;
}
