/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading key material from files: only with read(2) (no stdio buffer ever
 * holds it), only from files private to their owner (unless the user says
 * otherwise), only into locked memory.
 */
#ifndef ICEVMM_ICE_KEYREAD_H
#define ICEVMM_ICE_KEYREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ICE_KEYS_FILE_MAX (256 * 1024)

/* A keys file's text, NUL-terminated, in memory icevmm locked itself. */
struct ice_keys_text {
	char *buf;
	size_t len, map_len;
};

/*
 * Read a keys file into mlock'ed memory (not libgcrypt's pool: the text's
 * size decides how big that pool must be). Returns 0, or -1 with *why.
 */
int ice_keys_text_read(const char *path, bool allow_insecure, struct ice_keys_text *t,
		       const char **why);
/* Wipe, unlock and unmap. */
void ice_keys_text_free(struct ice_keys_text *t);
/* A key_file: its raw bytes (at most max) into libgcrypt's secure memory. */
int ice_read_key_file(const char *path, bool allow_insecure, size_t max, uint8_t **out, size_t *len,
		      const char **why);

#endif
