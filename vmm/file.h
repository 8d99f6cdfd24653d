/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ICEVMM_FILE_H
#define ICEVMM_FILE_H

#include <stddef.h>

/*
 * Read a whole regular file (at most max bytes) into a malloc'd buffer.
 * On error prints "icevmm: <what> <path>: <reason>" and returns -1.
 */
int file_read_all(const char *path, const char *what, size_t max, void **buf, size_t *len);

#endif
