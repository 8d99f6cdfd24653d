/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lexer of keys files (docs/ICE.md, "Keys files"): lines, comments,
 * section headers and name = value pairs of a small INI dialect, cut out of
 * the text in place with NULs (the text holds keys: nothing is copied). What
 * the sections and names mean is ice_config.c's.
 */
#ifndef ICEVMM_ICE_KEYS_LEX_H
#define ICEVMM_ICE_KEYS_LEX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Bytes a line may have before its '\n' (a CR counts): bounds every value. */
#define KEYS_LINE_MAX 198
/* Before the first section header */
#define KEYS_NO_SECTION INT_MIN

/* A "name = value" line; name and value point into the text. */
struct keys_entry {
	unsigned int line;
	int section; /* what the section callback made of its header */
	const char *name;
	char *value;
};

/*
 * A section header's name (between the brackets) on line: the section's
 * number into *section (not KEYS_NO_SECTION), or why the header is refused.
 */
typedef const char *(*keys_section_fn)(void *ctx, const char *name, unsigned int line,
				       int *section);

/*
 * Lex text (len bytes, NUL-terminated) in place. Returns 0 with the
 * name = value lines in *entries (calloc'ed, *n of them; the caller frees
 * it), or -1 with why and its *line (0: the text as a whole).
 */
int keys_lex(char *text, size_t len, keys_section_fn on_section, void *ctx,
	     struct keys_entry **entries, unsigned int *n, unsigned int *line, const char **why);

#endif
