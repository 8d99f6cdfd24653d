/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal flattened device tree reader (no libfdt). */
#ifndef ICE_SELFTEST_FDT_H
#define ICE_SELFTEST_FDT_H

#include <stdint.h>

enum {
	FDT_ERR_HEADER = -1,
	FDT_ERR_TRUNCATED = -2,
	FDT_ERR_BADTOKEN = -3,
	FDT_ERR_DEPTH = -4,
	FDT_ERR_BADREG = -5,
	FDT_ERR_NOTFOUND = -6,
};

struct fdt_reg {
	uint64_t base;
	uint64_t size;
};

/*
 * Find the node (in structure-block order) whose "compatible" list contains
 * compat, after skipping the first `skip` such nodes that have a "reg", and
 * decode the first (address, size) pair of its "reg" with its parent's
 * #address-cells / #size-cells. Returns 0, or a negative number naming what
 * went wrong (see fdt.c; FDT_ERR_NOTFOUND: no more such nodes).
 */
int fdt_find_compatible(const void *fdt, const char *compat, unsigned int skip,
			struct fdt_reg *reg);

#endif
