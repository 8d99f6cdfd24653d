/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal flattened device tree reader (no libfdt). */
#ifndef ICE_SELFTEST_FDT_H
#define ICE_SELFTEST_FDT_H

#include <stdint.h>

struct fdt_reg {
	uint64_t base;
	uint64_t size;
};

/*
 * Find the first node (in structure-block order) whose "compatible" list
 * contains compat, and decode the first (address, size) pair of its "reg"
 * with its parent's #address-cells / #size-cells. Returns 0, or a negative
 * number naming what went wrong (see fdt.c).
 */
int fdt_find_compatible(const void *fdt, const char *compat, struct fdt_reg *reg);

#endif
