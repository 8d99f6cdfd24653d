/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ICE_SELFTEST_SELFTEST_H
#define ICE_SELFTEST_SELFTEST_H

#include <stdint.h>

/* Entered from start.S with the MMU on; x0 = the FDT address. Never returns. */
void selftest_main(uintptr_t fdt) __attribute__((noreturn));

#endif
