// SPDX-License-Identifier: GPL-2.0
/*
 * Keys files: INI parsed by libinih (docs/ICE.md has the format).
 *
 *   [ice]
 *   algorithm = aes-xts        ; aes-xts | bitlocker-aes-cbc | aes-ecb | essiv-aes-cbc
 *   key_bits = 256             ; 128 | 192 | 256 (each AES key)
 *   data_unit_sizes = 512, 4096
 *   max_slots = 32             ; 1..255 (default 32)
 *   slot_offset = 0            ; 0..255 (default 0)
 *   [slot 3]
 *   key = 0001...3f            ; or key_file = PATH (raw bytes, relative to this file)
 *   data_unit_size = 4096      ; may be left out if one size is listed
 *
 * Key text must not linger: the file is read with read(2) (no stdio buffer)
 * into memory locked with mlock(2) (ice_keyread.c), checked line by line
 * (prescan), parsed
 * from there with ini_parse_string(), then wiped and unlocked. Decoded keys
 * live in libgcrypt's locked secure memory until they are set into their
 * cipher handles. libinih copies each line into a stack buffer, so the stack
 * is scrubbed after parsing too.
 *
 * Errors name the exact line. libinih calls the handler without a line
 * number, once per "name = value" line, in order; the prescan lists those
 * lines, so the n-th handler call belongs to the n-th of them. The prescan
 * also refuses what libinih would silently misread: over-long lines (split),
 * indented lines (continuations of the previous value).
 */
#include <gcrypt.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "../vmm/log.h"
#include "../vmm/strict_num.h"
#include "ice.h"
#include "ice_keyread.h"

/* libinih's line buffer is INI_MAX_LINE bytes: the line with its CR/LF, and a NUL. */
#define KEYS_LINE_MAX (INI_MAX_LINE - 2)

struct pending_slot {
	unsigned int header_line; /* 0: no such section */
	uint8_t *key;		  /* secure memory */
	size_t key_len;
	uint32_t du_size;
	bool has_key, has_du;
};

struct keys_parse {
	struct ice_store *store;
	const char *path;
	bool allow_insecure;
	/* [ice] */
	unsigned int ice_line;
	int alg; /* -1: not given */
	unsigned int key_bits, max_slots, slot_offset;
	uint8_t du_mask;
	unsigned int seen_ice_keys; /* bit per key: duplicates are errors */
	bool store_ready;
	/* [slot N] */
	struct pending_slot slots[ICE_MAX_SLOTS];
	unsigned int seen_slot_keys[ICE_MAX_SLOTS];
	unsigned int nslots;
	/* Line numbers of the "name = value" lines, in order (the prescan) */
	unsigned int *key_lines, nkey_lines, handler_calls;
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

static void vfail_at(struct keys_parse *p, unsigned int line, const char *fmt, va_list ap)
{
	if (p->why[0])
		return; /* report only the first error */
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	p->why_line = line;
}

/* An error about the line being parsed. */
static __attribute__((format(printf, 2, 3))) int fail(struct keys_parse *p, const char *fmt, ...)
{
	unsigned int n = p->handler_calls;
	va_list ap;

	va_start(ap, fmt);
	vfail_at(p, n && n <= p->nkey_lines ? p->key_lines[n - 1] : 0, fmt, ap);
	va_end(ap);
	return 0; /* libinih: this line is an error */
}

/* An error about another line (a section header, say). */
static __attribute__((format(printf, 3, 4))) int fail_at(struct keys_parse *p, unsigned int line,
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

static int parse_du_list(struct keys_parse *p, const char *v)
{
	char buf[128], *tok, *next;
	long du;

	if (strlen(v) >= sizeof(buf))
		return fail(p, "data_unit_sizes is too long");
	strcpy(buf, v);
	/* Comma-separated, white space allowed around items, no empty items. */
	for (tok = buf; tok; tok = next) {
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

static int ice_key(struct keys_parse *p, const char *name, const char *v)
{
	static const char *const keys[] = { "algorithm", "key_bits", "data_unit_sizes", "max_slots",
					    "slot_offset" };
	unsigned int i, k = 0;
	long n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(name, keys[i]))
			k = 1U << i;
	if (!k)
		return fail(p, "unknown key '%s' in [ice]", shown(name));
	if (p->store_ready)
		return fail(p, "[ice] must come before the [slot N] sections");
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
	default:
		n = strict_decimal(v, 0, 255);
		if (n < 0)
			return fail(p, "slot_offset '%s': expected 0 to 255", shown(v));
		p->slot_offset = (unsigned int)n;
		return 1;
	}
}

/* [ice] is complete once the first slot key arrives (or at the end). */
static int finish_ice(struct keys_parse *p)
{
	static const enum ice_key_size ids[] = { [128 / 64] = ICE_KEY_128,
						 [192 / 64] = ICE_KEY_192,
						 [256 / 64] = ICE_KEY_256 };

	if (p->store_ready)
		return 1;
	if (!p->ice_line)
		return fail_at(p, 0, "no [ice] section");
	if (p->alg < 0 || !p->key_bits || !p->du_mask)
		return fail_at(p, p->ice_line,
			       "[ice] needs algorithm, key_bits and data_unit_sizes");
	if (ice_store_init(p->store, (enum ice_alg)p->alg, ids[p->key_bits / 64], p->du_mask,
			   p->max_slots, p->slot_offset))
		return fail_at(p, p->ice_line,
			       "%s does not come with key_bits %u (AES-192 is for aes-ecb only)",
			       alg_names[p->alg], p->key_bits);
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

/* Check the key's length and halves; takes ownership of key (secure memory). */
static int set_slot_key(struct keys_parse *p, struct pending_slot *ps, uint8_t *key, size_t len)
{
	size_t want = ice_key_len(p->store);

	ps->key = key;
	ps->key_len = len;
	ps->has_key = true;
	if (len != want)
		return fail(p,
			    "wrong key length: the key is %zu bytes; %s with key_bits %u takes %zu",
			    len, alg_names[p->alg], p->key_bits, want);
	/* IEEE 1619 requires distinct XTS keys; equal halves make XTS degenerate. */
	if (p->alg == ICE_ALG_AES_XTS && !memcmp(key, key + len / 2, len / 2))
		return fail(p, "the two XTS key halves are equal");
	return 1;
}

static int slot_hex_key(struct keys_parse *p, struct pending_slot *ps, const char *v)
{
	size_t n = strlen(v), i;
	uint8_t *key;

	if (n == 0 || n % 2 || n / 2 > ICE_MAX_KEY * 2)
		return fail(p, "key: expected an even number of hex digits");
	key = gcry_malloc_secure(n / 2);
	if (!key)
		return fail(p, "out of secure memory");
	for (i = 0; i < n; i += 2) {
		int hi = hexval(v[i]), lo = hexval(v[i + 1]);

		if (hi < 0 || lo < 0) {
			gcry_free(key);
			return fail(p, "key: not a hex string");
		}
		key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return set_slot_key(p, ps, key, n / 2);
}

static int slot_key_file(struct keys_parse *p, struct pending_slot *ps, const char *v)
{
	char full[PATH_MAX];
	const char *slash = strrchr(p->path, '/'), *why;
	uint8_t *key;
	size_t len;

	/* Relative to the keys file's directory. */
	if (v[0] == '/' || !slash)
		snprintf(full, sizeof(full), "%s", v);
	else
		snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - p->path), p->path, v);
	/* The value is not echoed: a key pasted here by mistake must not be printed. */
	if (ice_read_key_file(full, p->allow_insecure, ICE_MAX_KEY + 1, &key, &len, &why))
		return fail(p, "key_file: %s", why);
	return set_slot_key(p, ps, key, len);
}

static int slot_entry(struct keys_parse *p, unsigned int slot, const char *name, const char *v)
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

static int keys_handler(void *user, const char *section, const char *name, const char *value)
{
	struct keys_parse *p = user;
	long slot;

	p->handler_calls++;
	if (p->why[0])
		return 0; /* report only the first error */
	if (!strcmp(section, "ice"))
		return ice_key(p, name, value);
	slot = slot_number(section);
	if (slot < 0)
		return fail(p, "unknown section [%s]", section);
	return slot_entry(p, (unsigned int)slot, name, value);
}

/* Where a line starts, after an optional UTF-8 byte order mark (libinih skips it too). */
static const char *skip_bom(const char *s)
{
	return !strncmp(s, "\xef\xbb\xbf", 3) ? s + 3 : s;
}

/*
 * Does a "name = value" line have its '=' (or ':') before any inline
 * comment (a ';' after white space)? libinih's rule for a valid line.
 */
static bool has_delimiter(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '=' || t[i] == ':')
			return true;
		if (t[i] == ';' && i && (t[i - 1] == ' ' || t[i - 1] == '\t'))
			return false;
	}
	return false;
}

/* Check one section header line; records where each section starts. */
static const char *prescan_section(struct keys_parse *p, const char *t, size_t len,
				   unsigned int line)
{
	const char *end = memchr(t, ']', len);
	size_t n = end ? (size_t)(end - t - 1) : 0;
	char name[40];
	long slot;

	if (!end || n >= sizeof(name))
		return "malformed section header";
	memcpy(name, t + 1, n);
	name[n] = 0;
	slot = slot_number(name);
	if (!strcmp(name, "ice")) {
		if (p->ice_line)
			return "[ice] appears twice";
		p->ice_line = line;
		return NULL;
	}
	if (slot < 0)
		return "unknown section (expected [ice] or [slot N], N from 0 to 254)";
	if (!p->ice_line)
		return "a [slot N] section before [ice]: [ice] must come first";
	if (p->slots[slot].header_line)
		return "this [slot N] appears twice";
	p->slots[slot].header_line = line;
	p->nslots++;
	return NULL;
}

/*
 * Before libinih sees the text: check every line, note where each section
 * starts and which lines are "name = value" lines. Returns the line of the
 * first problem (with *why), or 0.
 */
static unsigned int prescan(struct keys_parse *p, const char *text, const char **why)
{
	unsigned int line = 0, lines = 1;
	const char *s = skip_bom(text), *c;
	bool prev_key = false;

	for (c = s; *c; c++)
		lines += *c == '\n';
	p->key_lines = calloc(lines, sizeof(*p->key_lines));
	if (!p->key_lines) {
		*why = "out of memory";
		return 1;
	}
	while (*s) {
		const char *eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) : strlen(s), body = len;
		const char *t = s;

		line++;
		/* libinih's buffer holds the CR too: count it against the limit. */
		if (len > KEYS_LINE_MAX) {
			*why = "line is longer than the parser's limit of 198 characters";
			return line;
		}
		if (body && s[body - 1] == '\r')
			body--;
		while (t < s + body && (*t == ' ' || *t == '\t'))
			t++;
		/* The same order of tests as libinih's ini_parse_stream(). */
		if (t == s + body || *t == ';' || *t == '#') {
			/* blank or comment */
		} else if (t > s && prev_key) {
			/* Indented after a value means "continue that value" to libinih. */
			*why = "indented line after a value (libinih would read it as the "
			       "continuation of that value)";
			return line;
		} else if (*t == '[') {
			*why = prescan_section(p, t, (size_t)(s + body - t), line);
			if (*why)
				return line;
			prev_key = false;
		} else if (!has_delimiter(t, (size_t)(s + body - t))) {
			*why = "syntax error (expected [section], name = value or a ; comment)";
			return line;
		} else {
			p->key_lines[p->nkey_lines++] = line;
			prev_key = true;
		}
		s = eol ? eol + 1 : s + len;
	}
	return 0;
}

/* libinih's line buffer sits on the stack: wipe what the parse left there. */
static __attribute__((noinline)) void scrub_stack(void)
{
	volatile uint8_t pad[4 * INI_MAX_LINE + 4096];

	memset((uint8_t *)pad, 0, sizeof(pad));
	__asm__ volatile("" : : "r"(pad) : "memory");
}

static void wipe_pending(struct keys_parse *p)
{
	for (unsigned int i = 0; i < ICE_MAX_SLOTS; i++)
		if (p->slots[i].key)
			gcry_free(p->slots[i].key); /* secure memory: wiped on free */
}

static void report(const char *path, unsigned int line, const char *why)
{
	if (line)
		pr_err("%s:%u: %s", path, line, why);
	else
		pr_err("keys file %s: %s", path, why);
}

/* Read the file into locked memory and prescan it; prints the error, if any. */
static int keys_open(struct keys_parse *p, struct ice_keys_text *t)
{
	const char *why = NULL;
	unsigned int line;

	/*
	 * From here on this process holds key material: no core dumps (the AES
	 * key schedules would be in them), no ptrace by other processes.
	 */
	prctl(PR_SET_DUMPABLE, 0);

	if (ice_keys_text_read(p->path, p->allow_insecure, t, &why)) {
		report(p->path, 0, why);
		return -1;
	}
	if (strlen(t->buf) != t->len) {
		report(p->path, 0, "contains a NUL byte (not a text file)");
		return -1;
	}
	line = prescan(p, t->buf, &why);
	if (line) {
		report(p->path, line, why);
		return -1;
	}
	return 0;
}

static struct keys_parse *keys_parse_new(struct ice_store *s, const char *path, bool insecure)
{
	struct keys_parse *p = calloc(1, sizeof(*p));

	if (!p) {
		report(path, 0, "out of memory");
		return NULL;
	}
	*p = (struct keys_parse){
		.store = s, .path = path, .allow_insecure = insecure, .alg = -1, .max_slots = 32
	};
	return p;
}

static void keys_parse_free(struct keys_parse *p)
{
	wipe_pending(p);
	free(p->key_lines);
	explicit_bzero(p, sizeof(*p));
	free(p);
}

int ice_keys_count_slots(const char *path, bool allow_insecure)
{
	struct keys_parse *p = keys_parse_new(NULL, path, allow_insecure);
	struct ice_keys_text t = { 0 };
	int n = -1;

	if (p && !keys_open(p, &t))
		n = (int)p->nslots;
	ice_keys_text_free(&t);
	if (p)
		keys_parse_free(p);
	return n;
}

/* After parsing: every slot complete and loaded into the store. */
static int keys_load_slots(struct keys_parse *p)
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

int ice_store_load_file(struct ice_store *s, const char *path, bool allow_insecure)
{
	struct keys_parse *p = keys_parse_new(s, path, allow_insecure);
	struct ice_keys_text t = { 0 };
	int rc = -1, line;

	memset(s, 0, sizeof(*s));
	if (!p || keys_open(p, &t))
		goto out;
	/* First use in this process: size the locked pool for these slots. */
	if (ice_global_init(ice_secmem_size(p->nslots)))
		goto out;
	line = ini_parse_string(t.buf, keys_handler, p);
	scrub_stack();
	/* libinih saw a problem the prescan let through, before ours: report that one. */
	if (line > 0 && (!p->why[0] || (unsigned int)line < p->why_line)) {
		report(path, (unsigned int)line, "syntax error");
		goto out;
	}
	if (p->why[0] || !finish_ice(p)) {
		report(path, p->why_line, p->why);
		goto out;
	}
	if (!p->nslots)
		pr_info("keys file %s: no [slot N] sections: the disk offers ICE with no keys "
			"loaded",
			path);
	rc = keys_load_slots(p);
out:
	if (rc && p && p->store_ready)
		ice_store_free(s);
	ice_keys_text_free(&t);
	if (p)
		keys_parse_free(p);
	return rc;
}
