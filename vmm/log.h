/* SPDX-License-Identifier: GPL-2.0 */
/* One-line messages to stderr, prefixed with the program name. Never pass key material. */
#ifndef ICEVMM_LOG_H
#define ICEVMM_LOG_H

#include <stdio.h>

#define pr_err(fmt, ...) fprintf(stderr, "icevmm: " fmt "\n", ##__VA_ARGS__)
#define pr_info(fmt, ...) fprintf(stderr, "icevmm: " fmt "\n", ##__VA_ARGS__)

#endif
