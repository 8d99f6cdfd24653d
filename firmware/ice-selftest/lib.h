/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The four functions a freestanding GCC may emit calls to (GCC manual,
 * "C Dialect Options", -ffreestanding), plus nothing else.
 */
#ifndef ICE_SELFTEST_LIB_H
#define ICE_SELFTEST_LIB_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
