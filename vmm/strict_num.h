/* SPDX-License-Identifier: GPL-2.0 */
/* Strict number parsing for everything a user types: the CLI and the keys files. */
#ifndef ICEVMM_STRICT_NUM_H
#define ICEVMM_STRICT_NUM_H

#include <errno.h>
#include <stdlib.h>

/*
 * An unsigned decimal in [min, max] and nothing else (no sign, no spaces, no
 * trailing text, no hex); -1 otherwise.
 */
static inline long strict_decimal(const char *s, long min, long max)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	return v;
}

#endif
