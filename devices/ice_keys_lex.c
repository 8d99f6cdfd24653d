// SPDX-License-Identifier: GPL-2.0
/* The keys-file lexer; see ice_keys_lex.h and docs/ICE.md for the syntax. */
#include <stdlib.h>
#include <string.h>

#include "ice_keys_lex.h"

static char *rstrip(char *s, char *end)
{
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = 0;
	return s;
}

static char *lskip(char *s)
{
	return s + strspn(s, " \t");
}

struct lexer {
	keys_section_fn on_section;
	void *ctx;
	struct keys_entry *entries;
	unsigned int n;
	int section;
	bool prev_value; /* the last line not blank or a comment was name = value */
};

/* A section header, "[" name "]" (comment and white space already cut off). */
static const char *lex_section(struct lexer *lx, char *t, unsigned int line)
{
	char *end = strchr(t, ']');

	if (!end || end[1])
		return "malformed section header";
	*end = 0;
	return lx->on_section(lx->ctx, t + 1, line, &lx->section);
}

/*
 * One line, its '\n' already replaced by a NUL: records a name = value line.
 * Returns NULL, or why the line is refused.
 */
static const char *lex_line(struct lexer *lx, char *s, unsigned int line)
{
	size_t len = strlen(s);
	char *t = lskip(s), *c, *eq;

	if (len > KEYS_LINE_MAX)
		return "line is longer than the parser's limit of 198 characters";
	if (*t == ';' || *t == '#')
		return NULL; /* a comment line */
	/* A ';' after white space starts a comment. */
	for (c = s; (c = strchr(c, ';')); c++)
		if (c > s && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = 0;
			len = (size_t)(c - s);
			break;
		}
	rstrip(s, s + len);
	if (!*t)
		return NULL; /* blank */
	/* Other INI readers (libinih, Python's configparser) would join it to that value. */
	if (t > s && lx->prev_value)
		return "indented line after a value (INI readers take it for the continuation "
		       "of that value)";
	lx->prev_value = false;
	if (*t == '[')
		return lex_section(lx, t, line);
	eq = strchr(t, '=');
	if (!eq)
		return "syntax error (expected [section], name = value or a ; comment)";
	if (lx->section == KEYS_NO_SECTION)
		return "a name = value line before [ice]: [ice] must come first";
	*eq = 0;
	lx->entries[lx->n++] = (struct keys_entry){
		.line = line, .section = lx->section, .name = rstrip(t, eq), .value = lskip(eq + 1)
	};
	lx->prev_value = true;
	return NULL;
}

int keys_lex(char *text, size_t len, keys_section_fn on_section, void *ctx,
	     struct keys_entry **entries, unsigned int *n, unsigned int *line, const char **why)
{
	struct lexer lx = { .on_section = on_section, .ctx = ctx, .section = KEYS_NO_SECTION };
	char *s = text, *eol, *next;
	unsigned int lines = 1;

	*entries = NULL;
	*n = 0;
	*line = 0;
	*why = NULL;
	if (strlen(s) != len) {
		*why = "contains a NUL byte (not a text file)";
		return -1;
	}
	for (eol = s; (eol = strchr(eol, '\n')); eol++)
		lines++;
	lx.entries = calloc(lines, sizeof(*lx.entries));
	if (!lx.entries) {
		*why = "out of memory";
		return -1;
	}
	if (!strncmp(s, "\xef\xbb\xbf", 3))
		s += 3; /* a UTF-8 byte order mark */
	for (; *s && !*why; s = next) {
		eol = s + strcspn(s, "\n");
		next = *eol ? eol + 1 : eol;
		*eol = 0;
		*why = lex_line(&lx, s, ++*line);
	}
	*entries = lx.entries;
	*n = lx.n;
	if (*why)
		return -1;
	*line = 0;
	return 0;
}
