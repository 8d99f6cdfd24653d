/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ICEVMM_TESTS_UNIT_H
#define ICEVMM_TESTS_UNIT_H

#include <check.h>

/* Each test binary defines its suite. */
Suite *unit_suite(void);

#endif
