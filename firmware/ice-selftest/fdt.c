// SPDX-License-Identifier: GPL-2.0
/*
 * Flattened device tree walker, written from the Devicetree Specification
 * v0.4, chapter 5 ("Flattened Devicetree (DTB) Format"): a big-endian header,
 * then a structure block of 32-bit tokens
 *   FDT_BEGIN_NODE name\0 (padded to 4)   FDT_END_NODE
 *   FDT_PROP u32 len, u32 nameoff, value (padded to 4)
 *   FDT_NOP   FDT_END
 * and a strings block that property names point into. Properties of a node
 * precede its subnodes, so by the time a node's "reg" is decoded its
 * parent's #address-cells / #size-cells are known (defaults 2 and 1, 2.3.5).
 * Every offset is bounds-checked: the tree comes from outside.
 */
#include <stdbool.h>
#include <stddef.h>

#include "fdt.h"

#define FDT_MAGIC 0xd00dfeedU
#define FDT_BEGIN_NODE 1U
#define FDT_END_NODE 2U
#define FDT_PROP 3U
#define FDT_NOP 4U
#define FDT_END 9U
#define FDT_MAX_DEPTH 16
#define FDT_MAX_SIZE (2U << 20) /* icevmm gives the tree a 2 MiB block */

struct fdt_node {
	uint32_t addr_cells, size_cells; /* for this node's children */
	bool match;
	const uint8_t *reg;
	uint32_t reg_len;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Is want one of the NUL-separated strings in [p, p + len)? */
static bool stringlist_has(const uint8_t *p, uint32_t len, const char *want)
{
	uint32_t i = 0, start;

	while (i < len) {
		start = i;
		while (i < len && p[i])
			i++;
		if (i == len)
			return false; /* not NUL-terminated */
		if (str_eq((const char *)p + start, want))
			return true;
		i++;
	}
	return false;
}

/* A property name: NUL-terminated inside the strings block. */
static const char *prop_name(const uint8_t *strs, uint32_t strs_len, uint32_t off)
{
	uint32_t i;

	for (i = off; i < strs_len; i++)
		if (!strs[i])
			return (const char *)strs + off;
	return NULL;
}

static uint64_t read_cells(const uint8_t *p, uint32_t cells)
{
	uint64_t v = 0;

	while (cells--) {
		v = v << 32 | be32(p);
		p += 4;
	}
	return v;
}

static int decode_reg(const struct fdt_node *parent, const struct fdt_node *n, struct fdt_reg *reg)
{
	uint32_t ac = parent->addr_cells, sc = parent->size_cells;

	if (ac < 1 || ac > 2 || sc > 2 || n->reg_len < 4 * (ac + sc))
		return FDT_ERR_BADREG;
	reg->base = read_cells(n->reg, ac);
	reg->size = read_cells(n->reg + 4 * ac, sc);
	return 0;
}

int fdt_find_compatible(const void *fdt, const char *compat, unsigned int skip, struct fdt_reg *reg)
{
	struct fdt_node nodes[FDT_MAX_DEPTH + 1];
	const uint8_t *h = fdt, *st, *strs;
	uint32_t total, st_off, st_len, strs_off, strs_len, pos = 0, tok;
	int depth = 0;

	/* Header: magic, totalsize, off_dt_struct, off_dt_strings, ..., size_dt_strings, size_dt_struct */
	if (be32(h) != FDT_MAGIC)
		return FDT_ERR_HEADER;
	total = be32(h + 4);
	st_off = be32(h + 8);
	strs_off = be32(h + 12);
	strs_len = be32(h + 32);
	st_len = be32(h + 36);
	if (total > FDT_MAX_SIZE || st_off > total || st_len > total - st_off || strs_off > total ||
	    strs_len > total - strs_off || st_off % 4)
		return FDT_ERR_HEADER;
	st = h + st_off;
	strs = h + strs_off;
	/* Index 0 plays the root's parent: the spec's default cell counts. */
	nodes[0] = (struct fdt_node){ .addr_cells = 2, .size_cells = 1 };

	for (;;) {
		/* pos may have been rounded up past the end by the padding */
		if (pos > st_len || st_len - pos < 4)
			return FDT_ERR_TRUNCATED;
		tok = be32(st + pos);
		pos += 4;
		switch (tok) {
		case FDT_BEGIN_NODE:
			if (++depth > FDT_MAX_DEPTH)
				return FDT_ERR_DEPTH;
			nodes[depth] = (struct fdt_node){ .addr_cells = 2, .size_cells = 1 };
			/* Skip the name and its padding. */
			while (pos < st_len && st[pos])
				pos++;
			if (pos >= st_len)
				return FDT_ERR_TRUNCATED;
			pos = (pos + 4) & ~3U;
			break;
		case FDT_END_NODE: {
			struct fdt_node *n = &nodes[depth];

			if (depth == 0)
				return FDT_ERR_BADTOKEN;
			if (n->match && n->reg && skip-- == 0)
				return decode_reg(&nodes[depth - 1], n, reg);
			depth--;
			break;
		}
		case FDT_PROP: {
			struct fdt_node *n = &nodes[depth];
			uint32_t len, nameoff;
			const uint8_t *val;
			const char *name;

			if (st_len - pos < 8 || depth == 0)
				return FDT_ERR_TRUNCATED;
			len = be32(st + pos);
			nameoff = be32(st + pos + 4);
			pos += 8;
			if (len > st_len - pos)
				return FDT_ERR_TRUNCATED;
			val = st + pos;
			pos = (pos + len + 3) & ~3U;
			name = prop_name(strs, strs_len, nameoff);
			if (!name)
				return FDT_ERR_TRUNCATED;
			if (str_eq(name, "#address-cells") && len == 4)
				n->addr_cells = be32(val);
			else if (str_eq(name, "#size-cells") && len == 4)
				n->size_cells = be32(val);
			else if (str_eq(name, "compatible"))
				n->match = stringlist_has(val, len, compat);
			else if (str_eq(name, "reg")) {
				n->reg = val;
				n->reg_len = len;
			}
			break;
		}
		case FDT_NOP:
			break;
		case FDT_END:
			return FDT_ERR_NOTFOUND;
		default:
			return FDT_ERR_BADTOKEN;
		}
	}
}
