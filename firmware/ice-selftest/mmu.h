/* SPDX-License-Identifier: GPL-2.0 */
/* Stage 1 identity map at EL1, MMU and caches on. */
#ifndef ICE_SELFTEST_MMU_H
#define ICE_SELFTEST_MMU_H

#include <stdbool.h>

/* Called once from start.S, MMU off, BSS zeroed, on the boot stack. */
void mmu_enable(void);

/* SCTLR_EL1 has M, C and I set. */
bool mmu_is_on(void);

#endif
